//! `kiln scan SBOM --vuln-db PATH`: an SBOM (CycloneDX or SPDX JSON, as the `sbom` provisioner
//! writes them) matched against an offline OSV database. Exit status 1 when a finding at or
//! above `--fail-on` is not allowed, 2 when the inputs cannot be read.

use clap::Args;
use kiln_sbom::osv::{self, Database, Finding, Severity};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// The SBOM: CycloneDX 1.6 or SPDX 2.3 JSON.
    sbom: PathBuf,
    /// The OSV database: a directory of OSV JSON files, or osv.dev's zip (default: KILN_VULN_DB).
    #[arg(long = "vuln-db")]
    vuln_db: Option<PathBuf>,
    /// Fail (exit 1) on findings of this severity or above: critical, high, medium, low.
    #[arg(long = "fail-on", default_value = "high")]
    fail_on: String,
    /// An allow list (YAML: a list of {id, reason, expires}).
    #[arg(long = "allow-list")]
    allow_list: Option<PathBuf>,
    /// Output: table, json or sarif.
    #[arg(long, default_value = "table")]
    format: String,
}

fn table(findings: &[Finding]) -> String {
    let mut rows = vec![
        ["SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED", "ALIASES"]
            .map(String::from)
            .to_vec(),
    ];
    for f in findings {
        rows.push(vec![
            f.severity.as_str().to_string(),
            f.id.clone(),
            f.package.clone(),
            f.installed.clone(),
            f.fixed.clone().unwrap_or_else(|| "-".into()),
            match &f.allowed {
                Some(r) => format!("{} (allowed: {r})", f.aliases.join(",")),
                None => f.aliases.join(","),
            },
        ]);
    }
    crate::images::table(&rows)
}

/// SARIF 2.1.0: one result per finding, located at the SBOM.
fn sarif(findings: &[Finding], sbom: &str) -> serde_json::Value {
    let level = |s: Severity| match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    };
    let mut rules: Vec<serde_json::Value> = Vec::new();
    for f in findings {
        if !rules.iter().any(|r| r["id"] == f.id.as_str()) {
            rules.push(serde_json::json!({
                "id": f.id,
                "shortDescription": {"text": if f.summary.is_empty() { f.id.clone() } else { f.summary.clone() }},
                "properties": {"security-severity": f.severity.as_str()},
            }));
        }
    }
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kiln", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": findings.iter().map(|f| serde_json::json!({
                "ruleId": f.id,
                "level": level(f.severity),
                "message": {"text": format!("{} {} is affected by {} ({}); fixed in {}", f.package, f.installed, f.id, f.severity.as_str(), f.fixed.as_deref().unwrap_or("no fixed version yet"))},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": sbom}}}],
                "suppressions": f.allowed.as_ref().map(|r| vec![serde_json::json!({"kind": "external", "justification": r})]).unwrap_or_default(),
            })).collect::<Vec<_>>(),
        }],
    })
}

/// Runs `kiln scan`; returns the exit status.
pub fn run(a: &ScanArgs) -> i32 {
    match scan(a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e}");
            2
        }
    }
}

/// The database `--vuln-db` names, else `KILN_VULN_DB`.
pub(crate) fn load_db(path: Option<&PathBuf>) -> Result<(Database, PathBuf), String> {
    let p = path
        .cloned()
        .or_else(|| std::env::var_os("KILN_VULN_DB").map(PathBuf::from))
        .ok_or("no vulnerability database: give --vuln-db PATH or set KILN_VULN_DB (a directory of OSV JSON files, or osv.dev's zip, e.g. https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip)")?;
    let db = Database::load(&p).map_err(|e| e.to_string())?;
    Ok((db, p))
}

/// The allow list at `path`, if one is given.
pub(crate) fn allow_list(path: Option<&PathBuf>) -> Result<Vec<osv::Allowed>, String> {
    let Some(p) = path else {
        return Ok(Vec::new());
    };
    let t = std::fs::read_to_string(p)
        .map_err(|e| format!("cannot read the allow list {}: {e}", p.display()))?;
    osv::parse_allow_list(&p.display().to_string(), &t)
}

/// Parses `--fail-on`.
pub(crate) fn threshold(s: &str, flag: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .filter(|s| *s != Severity::Unknown)
        .ok_or_else(|| format!("{flag} {s:?} is not a severity: use critical, high, medium or low"))
}

/// The findings of an SBOM's text (`name` for errors) in `db`, allow list applied.
pub(crate) fn findings_of(
    name: &str,
    text: &str,
    db: &Database,
    allow: &[osv::Allowed],
) -> Result<(usize, Vec<Finding>), String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{name}:{}:{}: not JSON: {}",
            e.line(),
            e.column(),
            e.to_string().split(" at line ").next().unwrap_or_default()
        )
    })?;
    let inv = kiln_sbom::formats::read_sbom(&doc).map_err(|e| format!("{name}: {e}"))?;
    if !inv.packages.is_empty() && !osv::covered(&inv) {
        return Err(format!(
            "{name}: its OS ({} {}) is not one the OSV databases cover here (Debian, Ubuntu, Alpine, Rocky Linux, AlmaLinux), so none of its packages could be matched",
            inv.os.id, inv.os.version_id
        ));
    }
    let mut findings = osv::scan(&inv, db);
    osv::apply_allow_list(&mut findings, allow, time::OffsetDateTime::now_utc());
    Ok((inv.packages.len(), findings))
}

fn scan(a: &ScanArgs) -> Result<i32, String> {
    let threshold = threshold(&a.fail_on, "--fail-on")?;
    if !["table", "json", "sarif"].contains(&a.format.as_str()) {
        return Err(format!(
            "--format {:?} is not one of table, json, sarif",
            a.format
        ));
    }
    let text = std::fs::read_to_string(&a.sbom)
        .map_err(|e| format!("cannot read the SBOM {}: {e}", a.sbom.display()))?;
    let (db, _) = load_db(a.vuln_db.as_ref())?;
    let allow = allow_list(a.allow_list.as_ref())?;
    let (packages, findings) = findings_of(&a.sbom.display().to_string(), &text, &db, &allow)?;
    let out = match a.format.as_str() {
        "json" => serde_json::to_string_pretty(&findings).unwrap_or_default() + "\n",
        "sarif" => {
            serde_json::to_string_pretty(&sarif(&findings, &a.sbom.display().to_string()))
                .unwrap_or_default()
                + "\n"
        }
        _ if findings.is_empty() => format!(
            "No known vulnerabilities in {} packages ({} records).\n",
            packages,
            db.len()
        ),
        _ => table(&findings),
    };
    print!("{out}");
    Ok(i32::from(!osv::gate(&findings, threshold).is_empty()))
}

//! An offline vulnerability database in OSV format (a directory of OSV JSON files, or the
//! `all.zip` osv.dev publishes per ecosystem), and matching an [`Inventory`] against it.
//!
//! Matching is exact, as OSV defines it for distributions: Debian's records name *source*
//! packages in the ecosystem `Debian:RELEASE` (`Debian:12`), so a binary package matches through
//! its source package and version; Alpine's are `Alpine:vMAJOR.MINOR` by origin; versions
//! compare by the ecosystem's own order ([`crate::version`]: dpkg, RPM, apk). Severity comes from the record's
//! CVSS v3 or v4 vector, scored; else from its `database_specific.severity`; else Debian's
//! urgency.

use crate::inventory::{Inventory, Manager, Package};
use crate::version::{apk_cmp, dpkg_cmp, rpm_cmp};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::Path;

/// Why a database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OsvError {
    /// Reading it failed.
    #[error("cannot read the vulnerability database {path}: {message}")]
    Read {
        /// The file or directory.
        path: String,
        /// What failed.
        message: String,
    },
    /// A record is not OSV JSON.
    #[error("{path}:{line}:{column}: not an OSV record: {message}")]
    Record {
        /// The file (inside a zip: `ZIP!NAME`).
        path: String,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// The parts of an OSV record that matching reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// `DSA-5678-1`, `DEBIAN-CVE-2024-1234`, `CVE-...`.
    pub id: String,
    /// Other ids of the same vulnerability.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Ids it was derived from (Debian's DSA/DLA records list their CVEs here).
    #[serde(default)]
    pub upstream: Vec<String>,
    /// One line.
    #[serde(default)]
    pub summary: String,
    /// Severity scores.
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    /// What it affects.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Withdrawn records match nothing.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// `{"severity": "HIGH"}` in some databases.
    #[serde(default)]
    pub database_specific: serde_json::Value,
}

/// One `severity` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct SeverityScore {
    /// `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector (for CVSS types) or a word.
    pub score: String,
}

/// One `affected` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Affected {
    /// The package.
    pub package: Option<AffectedPackage>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Versions listed one by one.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Per-package severity, e.g. Debian's `urgency`.
    #[serde(default)]
    pub ecosystem_specific: serde_json::Value,
    /// Per-package details.
    #[serde(default)]
    pub database_specific: serde_json::Value,
    /// Per-package severity.
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
}

/// A package in an ecosystem.
#[derive(Debug, Clone, Deserialize)]
pub struct AffectedPackage {
    /// `Debian:12`, `Alpine:v3.19`.
    pub ecosystem: String,
    /// The (source) package's name.
    pub name: String,
}

/// One range of affected versions.
#[derive(Debug, Clone, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`; only `ECOSYSTEM` ranges are matched.
    #[serde(rename = "type")]
    pub kind: String,
    /// `introduced`, `fixed`, `last_affected`, `limit` events.
    #[serde(default)]
    pub events: Vec<HashMap<String, String>>,
}

/// Severity, from none to critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No rating known.
    Unknown,
    /// CVSS 0.1-3.9.
    Low,
    /// 4.0-6.9.
    Medium,
    /// 7.0-8.9.
    High,
    /// 9.0-10.0.
    Critical,
}

impl Severity {
    /// Parses `low`, `medium`, `high`, `critical` (any case; `moderate` is medium).
    #[must_use]
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "low" | "negligible" | "unimportant" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" | "important" => Severity::High,
            "critical" => Severity::Critical,
            "unknown" | "not yet assigned" | "" => Severity::Unknown,
            _ => return None,
        })
    }

    /// The word.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    fn of_score(s: f64) -> Severity {
        if s >= 9.0 {
            Severity::Critical
        } else if s >= 7.0 {
            Severity::High
        } else if s >= 4.0 {
            Severity::Medium
        } else if s > 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }
}

/// The database: records by ecosystem and package name.
#[derive(Debug, Default)]
pub struct Database {
    by_package: HashMap<(String, String), Vec<usize>>,
    records: Vec<Record>,
}

fn located(path: &str, text: &str, e: &serde_json::Error) -> OsvError {
    let _ = text;
    OsvError::Record {
        path: path.to_string(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

impl Database {
    /// Loads a directory of OSV JSON files (recursively) or an osv.dev zip.
    ///
    /// # Errors
    /// When it cannot be read, or a record is not OSV JSON (located).
    pub fn load(path: &Path) -> Result<Database, OsvError> {
        let read_err = |m: String| OsvError::Read {
            path: path.display().to_string(),
            message: m,
        };
        let mut db = Database::default();
        let meta = std::fs::metadata(path).map_err(|e| read_err(e.to_string()))?;
        if meta.is_dir() {
            let mut stack = vec![path.to_path_buf()];
            while let Some(d) = stack.pop() {
                let mut entries: Vec<_> = std::fs::read_dir(&d)
                    .map_err(|e| read_err(e.to_string()))?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .collect();
                entries.sort();
                for p in entries {
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "json") {
                        let text = std::fs::read_to_string(&p).map_err(|e| OsvError::Read {
                            path: p.display().to_string(),
                            message: e.to_string(),
                        })?;
                        db.add(&p.display().to_string(), &text)?;
                    }
                }
            }
        } else {
            let f = std::fs::File::open(path).map_err(|e| read_err(e.to_string()))?;
            let mut z = zip::ZipArchive::new(f).map_err(|e| {
                read_err(format!(
                    "{e} (expected a directory of OSV JSON files or a zip of them)"
                ))
            })?;
            for i in 0..z.len() {
                let mut entry = z.by_index(i).map_err(|e| read_err(e.to_string()))?;
                if !entry.name().ends_with(".json") {
                    continue;
                }
                let name = format!("{}!{}", path.display(), entry.name());
                let mut text = String::new();
                std::io::Read::read_to_string(&mut entry, &mut text)
                    .map_err(|e| read_err(format!("{name}: {e}")))?;
                db.add(&name, &text)?;
            }
        }
        Ok(db)
    }

    /// Adds one record (the text of one OSV JSON file).
    ///
    /// # Errors
    /// When it is not an OSV record.
    pub fn add(&mut self, path: &str, text: &str) -> Result<(), OsvError> {
        let r: Record = serde_json::from_str(text).map_err(|e| located(path, text, &e))?;
        if r.withdrawn.is_some() {
            return Ok(());
        }
        let i = self.records.len();
        for a in &r.affected {
            if let Some(p) = &a.package {
                self.by_package
                    .entry((p.ecosystem.clone(), p.name.clone()))
                    .or_default()
                    .push(i);
            }
        }
        self.records.push(r);
        Ok(())
    }

    /// How many records it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// One vulnerability found in one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The record's id.
    pub id: String,
    /// Its aliases and upstream ids (CVEs).
    pub aliases: Vec<String>,
    /// The installed (binary) package.
    pub package: String,
    /// Its installed version.
    pub installed: String,
    /// The source package the record names.
    pub source: String,
    /// The first fixed version, when the record has one.
    pub fixed: Option<String>,
    /// How severe.
    pub severity: Severity,
    /// The record's summary.
    pub summary: String,
    /// Set when an allow-list entry allows it: its reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
}

/// The OSV ecosystems the inventory's packages of `m` belong to, e.g. `Debian:12`; Ubuntu's
/// releases are named `Ubuntu:22.04:LTS` (or `Ubuntu:Pro:...`) as well as `Ubuntu:23.10`. Empty
/// for an OS the OSV databases do not cover.
#[must_use]
pub fn ecosystems(inv: &Inventory, m: Manager) -> Vec<String> {
    let v = &inv.os.version_id;
    let major = v.split('.').next().unwrap_or(v);
    match (m, inv.os.id.as_str()) {
        (Manager::Deb, "debian") => vec![format!("Debian:{major}")],
        (Manager::Deb, "ubuntu") => vec![
            format!("Ubuntu:{v}"),
            format!("Ubuntu:{v}:LTS"),
            format!("Ubuntu:Pro:{v}:LTS"),
        ],
        (Manager::Apk, "alpine") => {
            let mm: Vec<&str> = v.split('.').take(2).collect();
            vec![format!("Alpine:v{}", mm.join("."))]
        }
        (Manager::Rpm, "rocky") => vec![format!("Rocky Linux:{major}")],
        (Manager::Rpm, "almalinux") => vec![format!("AlmaLinux:{major}")],
        _ => Vec::new(),
    }
}

/// Whether OSV covers the inventory's OS (some package has an ecosystem).
#[must_use]
pub fn covered(inv: &Inventory) -> bool {
    inv.packages
        .iter()
        .any(|p| !ecosystems(inv, p.manager).is_empty())
}

fn compare(m: Manager, a: &str, b: &str) -> Ordering {
    match m {
        Manager::Deb => dpkg_cmp(a, b),
        Manager::Rpm => rpm_cmp(a, b),
        Manager::Apk => apk_cmp(a, b),
    }
}

/// Whether `v` is in `r` (events in order: introduced, then fixed / last_affected / limit).
fn in_range(m: Manager, r: &Range, v: &str) -> (bool, Option<String>) {
    let mut affected = false;
    let mut fixed = None;
    let mut introduced: Option<&str> = None;
    for e in &r.events {
        if let Some(i) = e.get("introduced") {
            introduced = Some(i);
        }
        let after_start = |i: &str| i == "0" || compare(m, v, i) != Ordering::Less;
        if let Some(f) = e.get("fixed") {
            if let Some(i) = introduced.take() {
                if after_start(i) && compare(m, v, f) == Ordering::Less {
                    affected = true;
                    fixed = Some(f.clone());
                }
            }
        } else if let Some(l) = e.get("last_affected") {
            if let Some(i) = introduced.take() {
                if after_start(i) && compare(m, v, l) != Ordering::Greater {
                    affected = true;
                }
            }
        } else if let Some(l) = e.get("limit") {
            if let Some(i) = introduced.take() {
                if after_start(i) && compare(m, v, l) == Ordering::Less {
                    affected = true;
                }
            }
        }
    }
    // An introduced event with nothing after it: every later version.
    if let Some(i) = introduced {
        if i == "0" || compare(m, v, i) != Ordering::Less {
            affected = true;
        }
    }
    (affected, fixed)
}

fn severity(r: &Record, a: &Affected) -> Severity {
    let mut best = Severity::Unknown;
    for s in a.severity.iter().chain(&r.severity) {
        if s.kind.starts_with("CVSS_V") {
            if let Ok(c) = s.score.parse::<cvss::Cvss>() {
                best = best.max(Severity::of_score(c.score()));
            }
        } else if let Some(x) = Severity::parse(&s.score) {
            best = best.max(x);
        }
    }
    if best != Severity::Unknown {
        return best;
    }
    for v in [
        &a.database_specific,
        &r.database_specific,
        &a.ecosystem_specific,
    ] {
        for k in ["severity", "urgency"] {
            if let Some(x) = v.get(k).and_then(|s| s.as_str()).and_then(Severity::parse) {
                best = best.max(x);
            }
        }
    }
    best
}

/// Every finding for `inv` in `db`, most severe first.
#[must_use]
pub fn scan(inv: &Inventory, db: &Database) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in &inv.packages {
        for eco in ecosystems(inv, p.manager) {
            let Some(ids) = db.by_package.get(&(eco.clone(), p.source_name.clone())) else {
                continue;
            };
            for &i in ids {
                let r = &db.records[i];
                if out
                    .iter()
                    .any(|f: &Finding| f.id == r.id && f.package == p.name)
                {
                    continue;
                }
                for a in &r.affected {
                    if !a
                        .package
                        .as_ref()
                        .is_some_and(|x| x.ecosystem == eco && x.name == p.source_name)
                    {
                        continue;
                    }
                    let (hit, fixed) = affects(p, a);
                    if hit {
                        let mut aliases: Vec<String> =
                            r.aliases.iter().chain(&r.upstream).cloned().collect();
                        aliases.sort();
                        aliases.dedup();
                        out.push(Finding {
                            id: r.id.clone(),
                            aliases,
                            package: p.name.clone(),
                            installed: p.version.clone(),
                            source: p.source_name.clone(),
                            fixed,
                            severity: severity(r, a),
                            summary: r.summary.clone(),
                            allowed: None,
                        });
                        break;
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
    });
    out
}

fn affects(p: &Package, a: &Affected) -> (bool, Option<String>) {
    let v = &p.source_version;
    if a.versions.iter().any(|x| x == v) {
        return (true, None);
    }
    for r in a.ranges.iter().filter(|r| r.kind == "ECOSYSTEM") {
        let (hit, fixed) = in_range(p.manager, r, v);
        if hit {
            return (true, fixed);
        }
    }
    (false, None)
}

/// One entry of an allow list: `{id, reason, expires}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowed {
    /// The record id or one of its aliases.
    pub id: String,
    /// Why it is allowed.
    pub reason: String,
    /// From this date (`YYYY-MM-DD` or RFC 3339) on, it no longer allows.
    #[serde(default)]
    pub expires: Option<String>,
}

/// Parses an allow list (YAML: a list of [`Allowed`]).
///
/// # Errors
/// A located message when it is not one.
pub fn parse_allow_list(path: &str, text: &str) -> Result<Vec<Allowed>, String> {
    let list: Vec<Allowed> = serde_yaml::from_str(text).map_err(|e| match e.location() {
        Some(l) => {
            let m = e.to_string();
            let m = m.split(" at line ").next().unwrap_or_default();
            // serde_yaml names the entry (`.[0]: ...`); the line says where it is.
            let m = m
                .strip_prefix('.')
                .and_then(|m| m.split_once(": "))
                .map_or(m, |(_, rest)| rest);
            format!("{path}:{}:{}: {m}", l.line(), l.column())
        }
        None => format!("{path}: {e}"),
    })?;
    for a in &list {
        if let Some(x) = &a.expires {
            if expiry(x).is_none() {
                return Err(format!(
                    "{path}: allow-list entry {}: expires {x:?} is not a date (YYYY-MM-DD or RFC 3339)",
                    a.id
                ));
            }
        }
    }
    Ok(list)
}

fn expiry(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| {
            let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
                .ok()?;
            Some(d.midnight().assume_utc())
        })
}

/// Marks the findings an unexpired entry of `allow` allows.
pub fn apply_allow_list(findings: &mut [Finding], allow: &[Allowed], now: time::OffsetDateTime) {
    for f in findings {
        if let Some(a) = allow.iter().find(|a| {
            (a.id == f.id || f.aliases.contains(&a.id))
                && a.expires
                    .as_deref()
                    .and_then(expiry)
                    .is_none_or(|t| t > now)
        }) {
            f.allowed = Some(a.reason.clone());
        }
    }
}

/// The findings at or above `threshold` that nothing allows.
#[must_use]
pub fn gate(findings: &[Finding], threshold: Severity) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| {
            f.allowed.is_none() && f.severity >= threshold && f.severity != Severity::Unknown
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::OsRelease;

    fn pkg(name: &str, version: &str, source: &str, sv: &str) -> Package {
        Package {
            manager: Manager::Deb,
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            source_name: source.into(),
            source_version: sv.into(),
            licenses: Vec::new(),
        }
    }

    fn record(id: &str, name: &str, events: &str, severity: &str) -> String {
        format!(
            r#"{{"schema_version": "1.6.0", "id": "{id}", "modified": "2026-11-01T00:00:00Z", "summary": "{id} in {name}",
              "aliases": ["CVE-{id}"], {severity}
              "affected": [{{"package": {{"ecosystem": "Debian:12", "name": "{name}"}},
                             "ranges": [{{"type": "ECOSYSTEM", "events": {events}}}]}}]}}"#
        )
    }

    #[test]
    fn source_packages_and_dpkg_order_decide() {
        let inv = Inventory {
            os: OsRelease {
                id: "debian".into(),
                version_id: "12".into(),
                ..OsRelease::default()
            },
            packages: vec![
                pkg("libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4"),
                pkg(
                    "openssh-client",
                    "1:9.2p1-2+deb12u3",
                    "openssh",
                    "1:9.2p1-2+deb12u3",
                ),
                pkg("libfoo1", "1.2-3+b1", "foo", "1.2-3"),
            ],
        };
        let mut db = Database::default();
        let cvss = r#""severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"#;
        for (id, name, events, sev) in [
            // Fixed just above: affected.
            (
                "A-1",
                "glibc",
                r#"[{"introduced": "0"}, {"fixed": "2.36-9+deb12u5"}]"#,
                cvss,
            ),
            // Fixed at the installed version: not affected.
            (
                "A-2",
                "glibc",
                r#"[{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}]"#,
                "",
            ),
            // Fixed below, through a `~` backport: not affected.
            (
                "A-3",
                "glibc",
                r#"[{"introduced": "0"}, {"fixed": "2.36-9~deb12u1"}]"#,
                "",
            ),
            // The epoch puts 9.2p1 after 9.9: the fix 9.9 (epoch 0) is older.
            (
                "A-4",
                "openssh",
                r#"[{"introduced": "0"}, {"fixed": "9.9-1"}]"#,
                "",
            ),
            (
                "A-5",
                "openssh",
                r#"[{"introduced": "0"}, {"fixed": "1:9.2p1-2+deb12u4"}]"#,
                r#""database_specific": {"severity": "medium"},"#,
            ),
            // By source version, not the binNMU's.
            (
                "A-6",
                "foo",
                r#"[{"introduced": "0"}, {"fixed": "1.2-3+b1"}]"#,
                "",
            ),
            // The binary name matches nothing.
            (
                "A-7",
                "libc6",
                r#"[{"introduced": "0"}, {"fixed": "9"}]"#,
                "",
            ),
        ] {
            db.add(id, &record(id, name, events, sev)).unwrap();
        }
        let f = scan(&inv, &db);
        let got: Vec<(&str, &str, Option<&str>, Severity)> = f
            .iter()
            .map(|f| {
                (
                    f.id.as_str(),
                    f.package.as_str(),
                    f.fixed.as_deref(),
                    f.severity,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("A-1", "libc6", Some("2.36-9+deb12u5"), Severity::Critical),
                (
                    "A-5",
                    "openssh-client",
                    Some("1:9.2p1-2+deb12u4"),
                    Severity::Medium
                ),
                ("A-6", "libfoo1", Some("1.2-3+b1"), Severity::Unknown),
            ]
        );
        let mut f = f;
        let allow = parse_allow_list(
            "allow.yaml",
            "- id: CVE-A-1\n  reason: not reachable\n  expires: 2027-01-01\n",
        )
        .unwrap();
        apply_allow_list(&mut f, &allow, time::macros::datetime!(2026-12-01 0:00 UTC));
        assert_eq!(f[0].allowed.as_deref(), Some("not reachable"));
        assert_eq!(gate(&f, Severity::Medium).len(), 1);
        let mut f2 = scan(&inv, &db);
        apply_allow_list(
            &mut f2,
            &allow,
            time::macros::datetime!(2027-01-02 0:00 UTC),
        );
        assert!(f2[0].allowed.is_none(), "an expired entry no longer allows");
    }

    #[test]
    fn ecosystems_by_os() {
        let inv = |id: &str, v: &str, m: Manager| {
            let mut p = pkg("x", "1", "x", "1");
            p.manager = m;
            Inventory {
                os: OsRelease {
                    id: id.into(),
                    version_id: v.into(),
                    ..OsRelease::default()
                },
                packages: vec![p],
            }
        };
        let i = inv("ubuntu", "22.04", Manager::Deb);
        assert_eq!(
            ecosystems(&i, Manager::Deb),
            ["Ubuntu:22.04", "Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS"]
        );
        assert_eq!(
            ecosystems(&inv("alpine", "3.19.1", Manager::Apk), Manager::Apk),
            ["Alpine:v3.19"]
        );
        assert!(covered(&i));
        assert!(!covered(&inv("fedora", "40", Manager::Rpm)));
    }

    #[test]
    fn bad_input_is_located() {
        let mut db = Database::default();
        let e = db.add("x.json", "{\n  \"id\": 3\n}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.json:2:9: not an OSV record: invalid type: integer `3`, expected a string"
        );
        assert_eq!(
            parse_allow_list("a.yaml", "- id: X\n  reson: typo\n").unwrap_err(),
            "a.yaml:2:3: unknown field `reson`, expected one of `id`, `reason`, `expires`"
        );
    }
}

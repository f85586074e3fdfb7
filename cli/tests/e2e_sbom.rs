//! The `sbom` provisioner and `kiln scan` against a real machine: the local OpenSSH sshd's host,
//! whose dpkg database is real, with OSV records written around its installed versions.

use kiln_tests::{run, Sshd};
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, text: &str) {
    if let Some(p) = dir.join(name).parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(dir.join(name), text).unwrap();
}

/// `dpkg-query`'s answer for `pkg` on this host: (version, arch, source name, source version).
fn installed(pkg: &str) -> (String, String, String, String) {
    let out = std::process::Command::new("dpkg-query")
        .args([
            "-W",
            "-f=${Version}\t${Architecture}\t${source:Package}\t${source:Version}",
            pkg,
        ])
        .output()
        .expect("dpkg-query (this test reads the host's dpkg database: run it on Debian)");
    let s = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = s.split('\t').collect();
    (f[0].into(), f[1].into(), f[2].into(), f[3].into())
}

fn os_release(key: &str) -> String {
    std::fs::read_to_string("/etc/os-release")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

fn encode(v: &str) -> String {
    v.replace('+', "%2B")
}

/// An OSV record for the Debian source package `name` with one ECOSYSTEM range.
fn record(id: &str, name: &str, events: &str, vector: &str) -> String {
    format!(
        r#"{{"schema_version": "1.6.0", "id": "{id}", "modified": "2026-11-01T00:00:00Z",
  "summary": "test record {id}", "upstream": ["CVE-2026-{id}"],
  "severity": [{{"type": "CVSS_V3", "score": "{vector}"}}],
  "affected": [{{"package": {{"ecosystem": "Debian:{}", "name": "{name}"}},
                 "ranges": [{{"type": "ECOSYSTEM", "events": {events}}}]}}]}}
"#,
        os_release("VERSION_ID")
    )
}

/// Validates `file` against the published schema of `kind` (tests/schemas/validate.py).
fn assert_valid(kind: &str, file: &Path) {
    let venv = std::env::var_os("KILN_MOTO_VENV").map_or_else(
        || Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/kiln/moto"),
        std::path::PathBuf::from,
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/schemas/validate.py");
    let out = std::process::Command::new(venv.join("bin/python"))
        .arg(&script)
        .arg(kind)
        .arg(file)
        .output()
        .expect("python with jsonschema (scripts/deps --tests installs it into the moto venv)");
    assert!(
        out.status.success(),
        "{} is not valid {kind}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
const MEDIUM: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N";

#[test]
fn the_sbom_lists_the_machines_packages_and_the_gate_fails_on_known_vulnerabilities() {
    assert_eq!(
        os_release("ID"),
        "debian",
        "this test reads a Debian host's dpkg database"
    );
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (bash_v, bash_arch, bash_src, bash_src_v) = installed("bash");
    let (libc_v, libc_arch, libc_src, libc_src_v) = installed("libc6");
    assert_eq!(libc_src, "glibc");
    // bash: fixed just above what is installed (affected); glibc: fixed at it (not affected),
    // and a medium one fixed above through a `~` version that sorts below (not affected).
    write(
        d,
        "osv/bash.json",
        &record(
            "KILN-1",
            &bash_src,
            &format!(r#"[{{"introduced": "0"}}, {{"fixed": "{bash_src_v}+kiln1"}}]"#),
            CRITICAL,
        ),
    );
    write(
        d,
        "osv/glibc.json",
        &record(
            "KILN-2",
            "glibc",
            &format!(r#"[{{"introduced": "0"}}, {{"fixed": "{libc_src_v}"}}]"#),
            CRITICAL,
        ),
    );
    write(
        d,
        "osv/nested/glibc-3.json",
        &record(
            "KILN-3",
            "glibc",
            &format!(r#"[{{"introduced": "0"}}, {{"fixed": "{libc_src_v}~kiln1"}}]"#),
            MEDIUM,
        ),
    );
    // A record for the binary package's name matches nothing: Debian's records name sources.
    write(
        d,
        "osv/libc6.json",
        &record("KILN-4", "libc6", r#"[{"introduced": "0"}]"#, CRITICAL),
    );
    let tpl = format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"sbom\" {{\n    output = \"sbom\"\n  }}\n  provisioner \"sbom\" {{\n    formats = [\"cyclonedx\"]\n    output  = \"gated.cdx.json\"\n    vuln_db = \"osv\"\n    report  = \"findings.json\"\n  }}\n}}\n",
        sshd.null_source("")
    );
    write(d, "t.pkr.hcl", &tpl);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let dist = format!("debian-{}", os_release("VERSION_ID"));
    for line in [
        "1 vulnerability at high or above (fail_on = \"high\"); fix them, or allow them in an allow_list with a reason:".to_string(),
        format!("critical KILN-1: bash {bash_v} (fixed in {bash_src_v}+kiln1) [CVE-2026-KILN-1]"),
    ] {
        assert!(r.all().contains(&line), "{line:?} in:\n{}", r.all());
    }
    // The SBOMs: every installed package, with its purl and source package.
    let cdx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("sbom/null.remote.cdx.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cdx["bomFormat"], "CycloneDX");
    assert_eq!(cdx["specVersion"], "1.6");
    assert_eq!(cdx["metadata"]["component"]["type"], "operating-system");
    let comps = cdx["components"].as_array().unwrap();
    let dpkg_count = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}\n"])
        .output()
        .unwrap();
    let installed_count = String::from_utf8(dpkg_count.stdout)
        .unwrap()
        .lines()
        .filter(|l| *l == "installed")
        .count();
    assert_eq!(comps.len(), installed_count);
    let find = |name: &str| {
        comps
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} is in the SBOM"))
    };
    let bash = find("bash");
    assert_eq!(bash["version"], bash_v.as_str());
    // A binNMU (`+b8`) names its source version.
    let upstream = match (bash_src == "bash", bash_src_v == bash_v) {
        (true, true) => String::new(),
        (_, true) => format!("&upstream={bash_src}"),
        _ => format!("&upstream={bash_src}%40{}", encode(&bash_src_v)),
    };
    assert_eq!(
        bash["purl"],
        format!(
            "pkg:deb/debian/bash@{}?arch={bash_arch}&distro={dist}{upstream}",
            encode(&bash_v)
        )
    );
    let libc = find("libc6");
    assert_eq!(
        libc["purl"],
        format!(
            "pkg:deb/debian/libc6@{}?arch={libc_arch}&distro={dist}&upstream=glibc",
            encode(&libc_v)
        )
    );
    assert!(
        libc["properties"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"name": "kiln:source-name", "value": "glibc"})),
        "{libc}"
    );
    let spdx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("sbom/null.remote.spdx.json")).unwrap(),
    )
    .unwrap();
    assert_valid("cyclonedx", &d.join("sbom/null.remote.cdx.json"));
    assert_valid("spdx", &d.join("sbom/null.remote.spdx.json"));
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(
        spdx["packages"].as_array().unwrap().len(),
        installed_count + 1
    );
    let spdx_bash = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bash")
        .unwrap();
    assert_eq!(
        spdx_bash["externalRefs"][0]["referenceLocator"],
        bash["purl"]
    );
    // The report lists what was found; nothing half-written is left.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("findings.json")).unwrap()).unwrap();
    let ids: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["KILN-1"]);
    assert!(!d.join("gated.cdx.json.partial").exists());

    // An allow list lets it through; an expired entry does not.
    write(
        d,
        "allow.yaml",
        "- id: CVE-2026-KILN-1\n  reason: bash is not reachable in this image\n  expires: 2999-01-01\n",
    );
    let allowed = tpl.replace(
        "report  = \"findings.json\"",
        "report  = \"findings.json\"\n    allow_list = \"allow.yaml\"",
    );
    write(d, "t.pkr.hcl", &allowed);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    write(
        d,
        "allow.yaml",
        "- id: CVE-2026-KILN-1\n  reason: bash is not reachable in this image\n  expires: 2020-01-01\n",
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());

    // `kiln scan` of the SBOM finds the same, in a table or JSON, and gates with --fail-on.
    let r = run(
        KILN,
        d,
        &[
            "scan",
            "sbom/null.remote.cdx.json",
            "--vuln-db",
            "osv",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let fixed = format!("{bash_src_v}+kiln1");
    assert_eq!(
        rows,
        [
            vec!["SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED", "ALIASES"],
            vec![
                "critical",
                "KILN-1",
                "bash",
                bash_v.as_str(),
                fixed.as_str(),
                "CVE-2026-KILN-1"
            ],
        ],
        "{}",
        r.stdout
    );
    let r = run(
        KILN,
        d,
        &[
            "scan",
            "sbom/null.remote.spdx.json",
            "--vuln-db",
            "osv",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j[0]["id"], "KILN-1");
    assert_eq!(j[0]["severity"], "critical");
    let r = run(
        KILN,
        d,
        &["scan", "sbom/null.remote.cdx.json", "--vuln-db", "missing"],
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "Error: cannot read the vulnerability database missing: No such file or directory (os error 2)\n"
        )
    );
    write(d, "osv/bad.json", "{\"id\": \"X\", \"affected\": 3}\n");
    let r = run(
        KILN,
        d,
        &["scan", "sbom/null.remote.cdx.json", "--vuln-db", "osv"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.starts_with("Error: osv/bad.json:1:")
            && r.stderr
                .contains(": not an OSV record: invalid type: integer `3`, expected a sequence"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_catalog_keeps_the_sbom_and_a_rescan_finds_what_a_newer_database_knows() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (bash_v, _, bash_src, bash_src_v) = installed("bash");
    let (_, _, _, libc_src_v) = installed("libc6");
    write(
        d,
        "osv/glibc.json",
        &record(
            "KILN-2",
            "glibc",
            &format!(r#"[{{"introduced": "0"}}, {{"fixed": "{libc_src_v}"}}]"#),
            CRITICAL,
        ),
    );
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  hcp_packer_registry {{\n    bucket_name = \"base\"\n  }}\n  sources = [\"source.null.remote\"]\n  provisioner \"sbom\" {{\n    output = \"sbom\"\n  }}\n}}\n",
            sshd.null_source("")
        ),
    );
    let db = d.join("catalog.db");
    let env = [("KILN_CATALOG", db.to_str().unwrap())];
    let kiln = |args: &[&str]| kiln_tests::run_with_env(KILN, d, args, &env);
    let r = kiln(&["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // The database of the day knows nothing that affects the image.
    let r = kiln(&["images", "scan", "base", "--vuln-db", "osv"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[1],
        ["base", "v1", "none", "0", "0", "0", "0"],
        "{}",
        r.stdout
    );
    // A newer one does: the same version, rescanned, fails the gate and shows as outdated.
    write(
        d,
        "osv/bash.json",
        &record(
            "KILN-1",
            &bash_src,
            &format!(r#"[{{"introduced": "0"}}, {{"fixed": "{bash_src_v}+kiln1"}}]"#),
            CRITICAL,
        ),
    );
    let r = kiln(&["images", "scan", "--vuln-db", "osv"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[1],
        ["base", "v1", "critical", "1", "0", "0", "0", "KILN-1", "(bash)"],
        "{}",
        r.stdout
    );
    let r = kiln(&["images", "outdated"]);
    assert!(
        r.stdout.contains("BUCKET  VERSION  VULNERABLE"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("base    v1       critical (1 critical, 0 high)"),
        "{}",
        r.stdout
    );
    let r = kiln(&["images", "outdated", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j[0]["vulnerable"], "critical");
    let r = kiln(&["images", "scan", "base", "1", "--vuln-db", "osv", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j[0]["findings"][0]["id"], "KILN-1");
    assert_eq!(j[0]["findings"][0]["installed"], bash_v.as_str());
    assert_eq!(j[0]["seq"], 3);
    // Allowed with a reason, it passes the gate.
    write(
        d,
        "allow.yaml",
        "- id: KILN-1\n  reason: patched in place\n",
    );
    let r = kiln(&[
        "images",
        "scan",
        "base",
        "--vuln-db",
        "osv",
        "--allow-list",
        "allow.yaml",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let log = kiln(&["images", "audit", "--json"]);
    let log: serde_json::Value = serde_json::from_str(&log.stdout).unwrap();
    let scans = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "scan")
        .count();
    assert_eq!(scans, 4);
    assert_eq!(kiln(&["images", "audit", "verify"]).code, 0);
}

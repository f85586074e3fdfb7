//! Real-world templates with the `ansible` and `ansible-local` provisioners
//! (`tests/differential/ansible/`, sources in its REPORT.md), validated by Kiln and by Debian's
//! Packer 1.6.6 side by side: the verdicts must agree, except for the cases listed in KNOWN
//! (options newer than Packer 1.6.6), where Kiln must accept what the current plugin accepts.

use std::path::Path;
use std::process::Command;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn validate(program: &str, dir: &Path, args: &[&str]) -> (bool, String) {
    let o = Command::new(program)
        .arg("validate")
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("PACKER_CACHE_DIR", std::env::temp_dir().join("kiln-ansible-diff"))
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} cannot run ({e}); the differential needs Debian's packer: apt-get install packer (scripts/deps --tests)")
        });
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn kiln_and_packer_agree_on_real_ansible_templates() {
    kiln_tests::require_ansible();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/ansible");
    let known: Vec<String> = std::fs::read_to_string(root.join("KNOWN"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("invoke").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut bad = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        for invoke in ["invoke", "invoke2"] {
            let Ok(text) = std::fs::read_to_string(case.join(invoke)) else {
                continue;
            };
            let mut lines = text.lines();
            let dir = case.join(lines.next().unwrap_or("."));
            let args: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
            let (k, kout) = validate(KILN, &dir, &args);
            let (p, pout) = validate("packer", &dir, &args);
            let expected = if known.contains(&name) { true } else { p };
            if k != expected {
                bad.push(format!(
                    "{name} ({invoke}): kiln valid={k}, packer valid={p}\n--- kiln:\n{kout}\n--- packer:\n{pout}"
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

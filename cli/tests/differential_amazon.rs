//! The amazon-ebs differential: every template in `tests/differential/amazon/` is built by
//! Debian's packer (1.6.6, amazon-ebs built in) and by Kiln, each against a fresh moto server
//! with moto's default AMIs, with `communicator = "none"`; afterwards both accounts must hold
//! the same things (tests/moto/state.py: AMIs, names, tags, regions, launch permissions, block
//! devices, snapshots, instances, volumes, key pairs, security groups), and both tools must exit
//! alike and report the same AMIs per region.
//!
//! Two things moto ignores and Packer relies on are checked another way: an AMI's description
//! (Packer sets it with ModifyImageAttribute; state.py leaves it out) and snapshot permissions
//! (Packer 1.6.6 sends ModifySnapshotAttribute in a form moto does not apply): Kiln's snapshots
//! must carry the permissions Packer asked for.
//!
//! A template's first lines may say `// kiln-differential: runs=2` (it is built twice) and
//! `// kiln-differs: artifact: REASON`: the artifacts must differ, for the reason given (a
//! deliberate difference, listed in the README).
#![cfg(feature = "amazon")]
#![allow(clippy::print_stderr)]

use kiln_tests::moto::Moto;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");
const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1"];

/// What one tool's builds of one template left.
struct Outcome {
    codes: Vec<i32>,
    state: Value,
    calls: Vec<Value>,
    amis: Vec<String>,
    output: String,
}

fn packer() -> String {
    let ok = Command::new("packer")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "packer is not installed; the amazon differential runs Debian's packer 1.6.6: apt-get install packer (scripts/deps --tests does)"
    );
    "packer".into()
}

/// The value of `// KEY VALUE` in a template's first lines.
fn header(template: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(template).unwrap();
    text.lines()
        .take(4)
        .find_map(|l| Some(l.split_once(key)?.1.trim().to_string()))
}

fn runs(template: &Path) -> usize {
    header(template, "kiln-differential: runs=").map_or(1, |n| n.parse().unwrap())
}

/// The `region: ami-…` lines of the artifact, with the ids left out.
fn artifact_lines(output: &str) -> Vec<String> {
    let mut out: Vec<String> = output
        .lines()
        .filter_map(|l| {
            let (region, id) = l.split_once(": ami-")?;
            (REGIONS.contains(&region) && id.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| format!("{region}: <ami>"))
        })
        .collect();
    out.sort();
    out
}

fn build(tool: &str, template: &Path) -> Outcome {
    let moto = Moto::start_with_default_amis();
    let work = tempfile::tempdir().unwrap();
    let baseline = work.path().join("baseline.json");
    std::fs::write(&baseline, moto.baseline(REGIONS)).unwrap();
    let mut codes = Vec::new();
    let mut output = String::new();
    for _ in 0..runs(template) {
        let out = kiln_tests::isolated(tool)
            .current_dir(work.path())
            .args(["build", "-var"])
            .arg(format!("endpoint={}", moto.endpoint()))
            .arg(template)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CHECKPOINT_DISABLE", "1")
            .env("PACKER_NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .output()
            .unwrap();
        codes.push(out.status.code().unwrap_or(-1));
        output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let state = serde_json::from_str(&moto.state(REGIONS, Some(&baseline))).unwrap();
    Outcome {
        codes,
        state,
        calls: moto.calls(),
        amis: artifact_lines(&output),
        output,
    }
}

/// The user ids asked for in ModifySnapshotAttribute calls, by region (both of the call's forms).
fn requested_snapshot_users(calls: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in calls
        .iter()
        .filter(|c| c["action"] == "ModifySnapshotAttribute")
    {
        let region = c["region"].as_str().unwrap_or_default().to_string();
        if let Some(params) = c["params"].as_object() {
            for (k, v) in params {
                let add = k.starts_with("CreateVolumePermission.Add.") && k.ends_with(".UserId");
                if add || k.starts_with("UserId.") {
                    out.entry(region.clone())
                        .or_default()
                        .insert(v.as_str().unwrap_or_default().to_string());
                }
            }
        }
    }
    out
}

/// The snapshot permissions in a state, by region; removed from it.
fn take_snapshot_users(state: &mut Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (region, r) in state.as_object_mut().unwrap() {
        for image in r["images"].as_array_mut().unwrap() {
            for snap in image["snapshots"].as_array_mut().unwrap() {
                let perms = snap
                    .as_object_mut()
                    .unwrap()
                    .remove("create_volume_permissions")
                    .unwrap_or_default();
                for p in perms.as_array().into_iter().flatten() {
                    if let Some(u) = p["UserId"].as_str() {
                        out.entry(region.clone()).or_default().insert(u.to_string());
                    }
                }
            }
        }
    }
    out
}

/// The descriptions asked for, by region: CreateImage/CopyImage's or ModifyImageAttribute's.
fn requested_descriptions(calls: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in calls {
        let p = &c["params"];
        let d = match c["action"].as_str() {
            Some("CreateImage" | "CopyImage") => p["Description"].as_str(),
            Some("ModifyImageAttribute") => p["Description.Value"].as_str(),
            _ => None,
        };
        if let Some(d) = d.filter(|d| !d.is_empty()) {
            out.entry(c["region"].as_str().unwrap_or_default().to_string())
                .or_default()
                .insert(d.to_string());
        }
    }
    out
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

#[test]
fn kiln_leaves_the_ec2_state_packer_leaves() {
    let packer = packer();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/amazon");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "hcl" || x == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "cases in {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let mut p = build(&packer, case);
        let mut k = build(KILN, case);
        let mut why = Vec::new();
        if p.codes != k.codes {
            why.push(format!(
                "exit codes: packer {:?}, kiln {:?}",
                p.codes, k.codes
            ));
        }
        match header(case, "kiln-differs: artifact:") {
            None if p.amis != k.amis => {
                why.push(format!("artifacts: packer {:?}, kiln {:?}", p.amis, k.amis));
            }
            Some(reason) if p.amis == k.amis => why.push(format!(
                "artifacts are the same ({:?}), but the case says they differ: {reason}",
                k.amis
            )),
            _ => {}
        }
        let asked = requested_snapshot_users(&p.calls);
        let _ = take_snapshot_users(&mut p.state);
        let kiln_perms = take_snapshot_users(&mut k.state);
        if asked != kiln_perms {
            why.push(format!(
                "snapshot permissions: packer asked for {asked:?}, kiln's snapshots have {kiln_perms:?}"
            ));
        }
        let (pd, kd) = (
            requested_descriptions(&p.calls),
            requested_descriptions(&k.calls),
        );
        if pd != kd {
            why.push(format!("descriptions: packer set {pd:?}, kiln {kd:?}"));
        }
        if p.state != k.state {
            why.push(format!(
                "EC2 state differs:\n--- packer\n{}\n--- kiln\n{}",
                pretty(&p.state),
                pretty(&k.state)
            ));
        }
        if why.is_empty() {
            eprintln!(
                "{name}: same ({} build(s), exit {:?})",
                p.codes.len(),
                k.codes
            );
        } else {
            failures.push(format!(
                "{name}:\n{}\n--- packer's output\n{}\n--- kiln's output\n{}",
                why.join("\n"),
                p.output,
                k.output
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

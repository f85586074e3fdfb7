//! The build-output differential suite: every case in `tests/differential/build/` is built with
//! kiln, and the files the build leaves behind must be, byte for byte, the ones Packer wrote
//! (recorded by `scripts/differential-build --record` from Debian's packer 1.6.6, or written by
//! hand where 1.6.6 lacks the feature; each case's `from` says which). The normalisation is the
//! script's: the work directory's path, UUIDs and manifest build times.

#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");
const META: &[&str] = &["expected", "status", "from", "args", "env", "differs"];

fn files(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(root, &p, out);
        } else if let Ok(bytes) = std::fs::read(&p) {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, bytes);
        }
    }
}

fn copy_inputs(from: &Path, to: &Path, top: bool) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if top && META.contains(&name.as_str()) {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_inputs(&src, &dst, false);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// As the script's `normalise`: text files get the work directory, UUIDs and build times
/// replaced; other files are only checked to exist.
fn normalise(bytes: &[u8], work: &str) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return b"@BINARY@\n".to_vec();
    };
    if text.contains('\0') {
        return b"@BINARY@\n".to_vec();
    }
    let uuid = regex_lite(text.replace(work, "@DIR@"));
    uuid.into_bytes()
}

/// UUIDs to `@UUID@` and `"build_time": N` to 0, without a regex dependency.
fn regex_lite(text: String) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    'outer: while i < b.len() {
        if i + 36 <= b.len() {
            let groups = [8, 4, 4, 4, 12];
            let mut j = i;
            let mut ok = true;
            for (g, n) in groups.iter().enumerate() {
                if !b[j..j + n].iter().all(|&c| is_hex(c)) {
                    ok = false;
                    break;
                }
                j += n;
                if g < 4 {
                    if b[j] != b'-' {
                        ok = false;
                        break;
                    }
                    j += 1;
                }
            }
            if ok {
                out.push_str("@UUID@");
                i = j;
                continue 'outer;
            }
        }
        for key in ["\"build_time\": ", "\"build_time\":"] {
            if text[i..].starts_with(key) {
                let digits = text[i + key.len()..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                if digits > 0 {
                    out.push_str("\"build_time\": 0");
                    i += key.len() + digits;
                    continue 'outer;
                }
            }
        }
        let c = text[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn run_case(case: &Path) -> Result<(), String> {
    let work = tempfile::Builder::new()
        .prefix("kiln-diff.")
        .tempdir()
        .unwrap();
    let wd = work.path();
    copy_inputs(case, wd, true);
    let mut before = BTreeMap::new();
    files(wd, wd, &mut before);
    let args: Vec<String> = match std::fs::read_to_string(case.join("args")) {
        Ok(a) => a.lines().map(String::from).collect(),
        Err(_) => ["template.pkr.hcl", "template.pkr.json", "template.json"]
            .iter()
            .find(|t| case.join(t).exists())
            .map(|t| vec![(*t).to_string()])
            .unwrap_or_default(),
    };
    let mut cmd = kiln_tests::isolated(KILN);
    cmd.arg("build")
        .args(&args)
        .current_dir(wd)
        .stdin(Stdio::null())
        .env("CHECKPOINT_DISABLE", "1");
    if let Ok(env) = std::fs::read_to_string(case.join("env")) {
        for l in env.lines() {
            if let Some((k, v)) = l.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    let out = cmd.output().unwrap();
    let status = i32::from(!out.status.success());
    let want_status: i32 = std::fs::read_to_string(case.join("status"))
        .map_err(|e| format!("no status file: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("bad status file: {e}"))?;
    let mut after = BTreeMap::new();
    files(wd, wd, &mut after);
    let work_path = wd.to_string_lossy().into_owned();
    let got: BTreeMap<String, Vec<u8>> = after
        .into_iter()
        .filter(|(k, _)| !before.contains_key(k))
        .map(|(k, v)| {
            let n = normalise(&v, &work_path);
            (k, n)
        })
        .collect();
    let mut want = BTreeMap::new();
    let exp = case.join("expected");
    files(&exp, &exp, &mut want);
    want.remove(".empty");
    let mut problems = Vec::new();
    if status != want_status {
        problems.push(format!("exit status {status}, Packer's {want_status}"));
    }
    for (k, v) in &want {
        match got.get(k) {
            None => problems.push(format!("{k}: not written")),
            Some(g) if g != v => problems.push(format!(
                "{k} differs:\n      want: {:?}\n      got:  {:?}",
                String::from_utf8_lossy(v),
                String::from_utf8_lossy(g)
            )),
            Some(_) => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("{k}: written, Packer does not"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let log = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        let log: String = log
            .lines()
            .take(8)
            .map(|l| format!("      | {l}\n"))
            .collect();
        Err(format!("{}\n{log}", problems.join("\n    ")))
    }
}

#[test]
fn builds_write_what_packer_writes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/build");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    // A case with a `differs` file is a known, documented difference (README, "Deliberate
    // differences"): it must still differ, so that the list stays true.
    let mut failures = Vec::new();
    let mut known = 0;
    for c in &cases {
        let name = c
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let differs = std::fs::read_to_string(c.join("differs")).ok();
        match (run_case(c), differs) {
            (Ok(()), None) => {}
            (Err(e), None) => failures.push(format!("{name}: {e}")),
            (Err(_), Some(_)) => known += 1,
            (Ok(()), Some(why)) => failures.push(format!(
                "{name}: now agrees with Packer; remove its `differs` file ({})",
                why.trim()
            )),
        }
    }
    eprintln!("{} cases, {known} known differences", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Packer:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

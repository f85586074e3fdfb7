//! Bad input through the binary, as a user (or a fuzzer) gives it: random bytes, token soup,
//! every template of the differential corpus cut short, huge and deeply nested values, UTF-16 and
//! byte-order marks, NUL bytes, and bad command lines. Each must end with a clear error (exit 1
//! and a message on standard error) or succeed: never a panic, a crash, a hang, or a flood of
//! output.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

/// A small deterministic generator (xorshift), so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs kiln with `args` in `d`, killing it (and failing) after 30 s.
fn kiln(d: &Path, args: &[&str]) -> Outcome {
    let mut child = kiln_tests::isolated(KILN)
        .args(args)
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let o = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kiln {args:?} hung (killed after 30 s)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let code = status.code().unwrap_or_else(|| {
        panic!("kiln {args:?} died of a signal: {status:?}");
    });
    Outcome {
        code,
        stdout: String::from_utf8_lossy(&o.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&e.join().unwrap()).into_owned(),
    }
}

/// Checks one run: a success, or exit 1 (3 for `fmt -check`) with a message; no panic; no line
/// of output longer than a source-line window.
fn check(what: &str, args: &[&str], r: &Outcome) {
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        !all.contains("panicked") && !all.contains("RUST_BACKTRACE"),
        "{what}: kiln {args:?} panicked:\n{all}"
    );
    let fmt_check = args.first() == Some(&"fmt");
    assert!(
        r.code == 0 || r.code == 1 || (fmt_check && r.code == 3),
        "{what}: kiln {args:?} exited {}:\n{all}",
        r.code
    );
    if r.code == 1 {
        assert!(
            !r.stderr.trim().is_empty(),
            "{what}: kiln {args:?} failed without saying why:\n{all}"
        );
    }
    // Quoted source lines (`12 | ...`) and their underlines are windows of a long line.
    let quoted = |l: &str| {
        l.split_once(" | ")
            .is_some_and(|(n, _)| n.trim().chars().all(|c| c.is_ascii_digit()))
    };
    let longest = all
        .lines()
        .filter(|l| quoted(l))
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    assert!(
        longest <= 400,
        "{what}: kiln {args:?} quoted a {longest}-character source line"
    );
    assert!(
        all.len() < 4 << 20 || args.first() == Some(&"inspect") && r.code == 0,
        "{what}: kiln {args:?} printed {} bytes",
        all.len()
    );
}

/// Runs `validate`, `inspect`, `fmt -check` (HCL) on `bytes` saved as `name`, and `validate`
/// with it as a var file.
fn try_input(d: &Path, what: &str, name: &str, bytes: &[u8]) {
    let path = d.join(name);
    std::fs::write(&path, bytes).unwrap();
    let mut runs: Vec<Vec<&str>> = vec![vec!["validate", name], vec!["inspect", name]];
    if name.ends_with(".pkr.hcl") {
        runs.push(vec!["fmt", "-check", name]);
        runs.push(vec!["validate", "-syntax-only", name]);
    }
    let var_file = format!("-var-file={name}");
    if name.ends_with(".pkrvars.hcl") || name.ends_with(".json") {
        runs.push(vec!["validate", &var_file, "ok.pkr.hcl"]);
    }
    for args in &runs {
        let r = kiln(d, args);
        check(what, args, &r);
    }
    let _ = std::fs::remove_file(path);
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.pkr.hcl"),
        "variable \"v\" {\n  type    = string\n  default = \"x\"\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n",
    )
    .unwrap();
    dir
}

const TOKENS: &[&str] = &[
    "source",
    "build",
    "variable",
    "locals",
    "packer",
    "data",
    " ",
    "\n",
    "{",
    "}",
    "\"",
    "=",
    "${",
    "%{",
    "[",
    "]",
    "(",
    ")",
    "var.v",
    "local.y",
    "source.null.a",
    "<<EOF\n",
    "EOF\n",
    "<<-X\n",
    "1e309",
    "-",
    "?",
    ":",
    "for",
    "in",
    "if",
    "endfor",
    "...",
    "null",
    "true",
    ",",
    "#",
    "//",
    "/*",
    "*/",
    "\\",
    "é",
    "\u{0}",
    "\u{feff}",
    "0x",
    "9999999999999999999999",
    ".",
    "*",
    "type",
    "default",
    "sensitive",
    "provisioner",
    "shell",
    "inline",
    "dynamic",
    "content",
    "{{",
    "}}",
    "user `v`",
    "\t",
    "\r\n",
    "=>",
    "&&",
    "!",
    "<",
    ">",
    "%",
    "[*]",
    "[0]",
];

#[test]
fn random_bytes_and_token_soup_get_clear_errors() {
    let dir = workspace();
    let d = dir.path();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for i in 0..25 {
        let len = rng.below(1500);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xff) as u8).collect();
        let name = if i % 2 == 0 { "g.pkr.hcl" } else { "g.json" };
        try_input(d, &format!("random bytes #{i}"), name, &bytes);
    }
    for i in 0..40 {
        let n = 1 + rng.below(120);
        let text: String = (0..n).map(|_| TOKENS[rng.below(TOKENS.len())]).collect();
        let name = if i % 3 == 0 {
            "s.pkrvars.hcl"
        } else {
            "s.pkr.hcl"
        };
        try_input(
            d,
            &format!("token soup #{i}: {text:?}"),
            name,
            text.as_bytes(),
        );
    }
}

fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let n = p.to_string_lossy();
                if n.ends_with(".pkr.hcl") || n.ends_with(".json") && !n.ends_with("manifest.json")
                {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_corpus_template_cut_short_gets_a_clear_error() {
    let dir = workspace();
    let d = dir.path();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let files = corpus();
    assert!(files.len() > 100, "the differential corpus is missing");
    // Every fourth template (so that the test stays quick), each cut at a random point.
    for f in files.iter().step_by(4) {
        let text = std::fs::read(f).unwrap();
        if text.len() < 2 {
            continue;
        }
        let cut = 1 + rng.below(text.len() - 1);
        let name = if f.to_string_lossy().ends_with(".json") {
            "c.json"
        } else {
            "c.pkr.hcl"
        };
        try_input(
            d,
            &format!("{} cut at byte {cut}", f.display()),
            name,
            &text[..cut],
        );
    }
}

#[test]
fn huge_deep_and_oddly_encoded_inputs_get_clear_errors() {
    let dir = workspace();
    let d = dir.path();
    let deep = |open: &str, close: &str, n: usize| {
        format!(
            "locals {{\n  x = {}1{}\n}}\n",
            open.repeat(n),
            close.repeat(n)
        )
    };
    let utf16 = |text: &str, le: bool| -> Vec<u8> {
        let mut b = if le {
            vec![0xff, 0xfe]
        } else {
            vec![0xfe, 0xff]
        };
        for u in text.encode_utf16() {
            b.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        b
    };
    let ok = std::fs::read_to_string(d.join("ok.pkr.hcl")).unwrap();
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("100,000 nested lists", "h.pkr.hcl", deep("[", "]", 100_000).into()),
        ("100,000 nested parentheses", "h.pkr.hcl", deep("(", ")", 100_000).into()),
        ("100,000 nested objects", "h.pkr.hcl", deep("{a=", "}", 100_000).into()),
        (
            "100,000 nested templates",
            "h.pkr.hcl",
            format!("locals {{\n  x = \"{}{}\"\n}}\n", "${\"".repeat(100_000), "\"}".repeat(100_000)).into(),
        ),
        (
            "100,000 nested JSON arrays",
            "h.json",
            format!("{{\"variables\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000)).into(),
        ),
        (
            "a 5 MB line",
            "h.pkr.hcl",
            format!("locals {{\n  x = \"{}\" +\n}}\n", "a".repeat(5 << 20)).into(),
        ),
        ("a number past f64", "h.pkr.hcl", b"locals {\n  x = 1e999999999\n}\n".to_vec()),
        (
            "a JSON number past f64",
            "h.json",
            format!("{{\"variables\": {{\"n\": {}}}, \"builders\": [{{\"type\": \"null\", \"communicator\": \"none\"}}]}}", "9".repeat(400)).into(),
        ),
        (
            "a 100,000-character name",
            "h.pkr.hcl",
            format!("variable \"{}\" {{\n}}\n", "v".repeat(100_000)).into(),
        ),
        ("UTF-16 LE with a BOM", "h.pkr.hcl", utf16(&ok, true)),
        ("UTF-16 BE with a BOM", "h.pkr.hcl", utf16(&ok, false)),
        ("UTF-16 LE JSON", "h.json", utf16("{\"builders\": []}", true)),
        ("NUL bytes", "h.pkr.hcl", ok.replace("source", "sou\0rce").into()),
        ("invalid UTF-8", "h.pkr.hcl", [ok.as_bytes(), &[0xc3, 0x28, 0xff]].concat()),
        ("CRLF line ends", "h.pkr.hcl", ok.replace('\n', "\r\n").into()),
        ("a lone CR", "h.pkr.hcl", ok.replace('\n', "\r").into()),
        ("a var file of garbage", "h.pkrvars.hcl", b"v = \x00\x01\x02 {{{".to_vec()),
        ("a var file with a huge value", "h.pkrvars.hcl", format!("v = \"{}\"\n", "x".repeat(1 << 20)).into()),
    ];
    for (what, name, bytes) in cases {
        try_input(d, what, name, &bytes);
    }
}

#[test]
fn bad_command_lines_get_clear_errors() {
    let dir = workspace();
    let d = dir.path();
    for args in [
        &["build", "-var", "novalue", "ok.pkr.hcl"][..],
        &["build", "-var", "=x", "ok.pkr.hcl"],
        &["build", "-only=[", "ok.pkr.hcl"],
        &["build", "-except={a", "ok.pkr.hcl"],
        &["build", "-parallel-builds=many", "ok.pkr.hcl"],
        &["build", "-var-file=/nonexistent.pkrvars.hcl", "ok.pkr.hcl"],
        &["build", "-var-file=/dev/zero", "ok.pkr.hcl"],
        &["build", "-var-file=.", "ok.pkr.hcl"],
        &["build"],
        &["build", "/nonexistent"],
        &["build", "-on-error=maybe", "ok.pkr.hcl"],
        &["build", "-color=sometimes", "ok.pkr.hcl"],
        &["validate", "/dev/zero"],
        &["validate", "/"],
        &["inspect", "/nonexistent"],
        &["fmt", "/nonexistent"],
        &["console", "/nonexistent"],
        &["frobnicate"],
        &["build", "--no-such-flag", "ok.pkr.hcl"],
    ] {
        let r = kiln(d, args);
        check("a bad command line", args, &r);
        assert_ne!(
            r.code, 0,
            "kiln {args:?} succeeded:\n{}{}",
            r.stdout, r.stderr
        );
    }
}

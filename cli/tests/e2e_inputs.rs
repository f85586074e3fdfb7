//! Bad and unusual input through the binary: byte-order marks, UTF-16, devices instead of
//! files, an empty template, values Packer rejects, and `-parallel-builds` below one. Each is
//! a clear error or Packer's behaviour, never a hang or a silent default.

use kiln_tests::run;
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

const TEMPLATE: &str = r#"variable "x" {
  default = "default"
}
source "null" "n" {
  communicator = "none"
}
build {
  sources = ["source.null.n"]
  provisioner "shell-local" {
    inline      = ["echo x=${var.x}"]
    max_retries = RETRIES
  }
}
"#;

#[test]
fn a_utf8_byte_order_mark_is_accepted_in_templates_and_var_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = format!("\u{feff}{}", TEMPLATE.replace("RETRIES", "\"2\""));
    write(d, "t.pkr.hcl", t.as_bytes());
    write(d, "v.pkrvars.hcl", "\u{feff}x = \"from-file\"\n".as_bytes());
    write(d, "v.json", "\u{feff}{\"x\": \"from-json\"}".as_bytes());
    let r = run(
        KILN,
        d,
        &["build", "-var-file", "v.pkrvars.hcl", "t.pkr.hcl"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("    null.n: x=from-file\n"),
        "{}",
        r.all()
    );
    let r = run(KILN, d, &["build", "-var-file", "v.json", "t.pkr.hcl"]);
    assert!(
        r.stdout.contains("    null.n: x=from-json\n"),
        "{}",
        r.all()
    );
    // A legacy JSON template with a BOM, too.
    write(
        d,
        "l.json",
        "\u{feff}{\"builders\": [{\"type\": \"null\", \"communicator\": \"none\"}]}".as_bytes(),
    );
    let r = run(KILN, d, &["validate", "l.json"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "The configuration is valid.\n"),
        "{}",
        r.all()
    );
}

#[test]
fn utf16_devices_and_directories_are_named_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.pkr.hcl", TEMPLATE.replace("RETRIES", "1").as_bytes());
    write(d, "u16.pkr.json", b"\xff\xfe{\0}\0");
    let r = run(KILN, d, &["validate", "u16.pkr.json"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error: Cannot read template\n\nReading u16.pkr.json: it is encoded in UTF-16; save it as UTF-8.\n\n"
    );
    // A device would be read forever: it is refused before a byte is read.
    let started = std::time::Instant::now();
    let r = run(KILN, d, &["validate", "-var-file=/dev/zero", "t.pkr.hcl"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error: Cannot read var file\n\nReading /dev/zero: it is a device, not a file; templates and variable files are read from files, pipes, or standard input with `-`.\n\n"
    );
    let r = run(KILN, d, &["validate", "/dev/zero"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("Reading /dev/zero: it is a device, not a file"),
        "{}",
        r.all()
    );
}

#[test]
fn max_retries_must_be_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        TEMPLATE.replace("RETRIES", "\"many\"").as_bytes(),
    );
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error: Unsuitable value type\n  --> t.pkr.hcl:11:19\n   |\n11 |     max_retries = \"many\"\n   |                   ^^^^^^\n\n`max_retries` must be a number, such as 3.\n\n"
    );
    write(
        d,
        "t.pkr.hcl",
        TEMPLATE.replace("RETRIES", "1.5").as_bytes(),
    );
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert!(
        r.stderr.contains("`max_retries` must be a whole number."),
        "{}",
        r.all()
    );
}

#[test]
fn an_empty_template_says_it_defines_no_builds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "empty.pkr.hcl", b"");
    let r = run(KILN, d, &["build", "empty.pkr.hcl"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stderr,
        "Error: the template defines no builds: a `build` block with `sources` (or, in JSON, `builders`) says what to build.\n"
    );
}

#[test]
fn parallel_builds_below_one_means_no_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.pkr.hcl", TEMPLATE.replace("RETRIES", "0").as_bytes());
    for n in ["-1", "0"] {
        let r = run(
            KILN,
            d,
            &["build", &format!("-parallel-builds={n}"), "t.pkr.hcl"],
        );
        assert_eq!(r.code, 0, "{n}: {}", r.all());
        assert!(r.stdout.contains("Build 'null.n' finished"), "{}", r.all());
    }
}

/// Three `kiln build` processes, each with 20 builds, append to one manifest at once: every
/// entry is there, the file is valid JSON, and no lock or staging file is left.
#[test]
fn concurrent_kiln_processes_appending_to_one_manifest_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut t = String::new();
    let names: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
    for n in &names {
        t.push_str(&format!(
            "source \"null\" \"{n}\" {{\n  communicator = \"none\"\n}}\n"
        ));
    }
    t.push_str(&format!(
        "build {{\n  sources = [{}]\n  post-processor \"manifest\" {{\n    output = \"m.json\"\n  }}\n}}\n",
        names
            .iter()
            .map(|n| format!("\"source.null.{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    write(d, "t.pkr.hcl", t.as_bytes());
    let children: Vec<_> = (0..3)
        .map(|_| {
            kiln_tests::isolated(KILN)
                .args(["build", "t.pkr.hcl"])
                .current_dir(d)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m.json")).unwrap()).unwrap();
    assert_eq!(doc["builds"].as_array().unwrap().len(), 60);
    let mut files: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["m.json", "t.pkr.hcl"]);
}

/// `--json`: every line of standard output is one versioned JSON object, in order from
/// `run_started` to `run_finished`, with command output, failures and artifacts, and a
/// sensitive value masked as in the human output.
#[test]
fn json_events_are_one_object_per_line_with_secrets_masked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        br#"variable "pw" {
  default   = "hunter2-kiln-secret"
  sensitive = true
}
source "null" "ok" {
  communicator = "none"
}
source "null" "bad" {
  communicator = "none"
}
build {
  sources = ["source.null.ok", "source.null.bad"]
  provisioner "shell-local" {
    inline = ["echo pw=${var.pw}", "echo to-stderr >&2", "test ${source.name} = ok"]
  }
}
"#,
    );
    let r = run(
        KILN,
        d,
        &["build", "-json", "-parallel-builds=1", "t.pkr.hcl"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.all().contains("hunter2-kiln-secret"), "{}", r.all());
    let events: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for e in &events {
        assert_eq!(e["v"], 1);
        assert!(e["time"].as_str().unwrap().ends_with('Z'));
    }
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["build"].as_str().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds.first(), Some(&("", "run_started")));
    assert_eq!(kinds.last(), Some(&("", "run_finished")));
    assert_eq!(
        events[0]["builds"],
        serde_json::json!(["null.ok", "null.bad"])
    );
    let out: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "output")
        .map(|e| {
            (
                e["build"].as_str().unwrap(),
                e["stream"].as_str().unwrap(),
                e["line"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        out.contains(&("null.ok", "stdout", "pw=<sensitive>")),
        "{out:?}"
    );
    assert!(
        out.contains(&("null.bad", "stderr", "to-stderr")),
        "{out:?}"
    );
    let finished = |b: &str| {
        events
            .iter()
            .find(|e| e["type"] == "build_finished" && e["build"] == b)
            .unwrap()
            .clone()
    };
    assert_eq!(finished("null.ok")["error"], serde_json::Value::Null);
    assert_eq!(
        finished("null.ok")["artifacts"][0]["builder_id"],
        "fnoeding.null"
    );
    assert!(finished("null.bad")["error"]
        .as_str()
        .unwrap()
        .contains("exit code 1"));
    let last = events.last().unwrap();
    assert_eq!(last["succeeded"], serde_json::json!(["null.ok"]));
    assert!(last["failed"]["null.bad"].is_string(), "{last}");
}

/// A var file from a pipe (`-var-file=<(vault ...)` in a shell) is read, as Packer reads it.
#[test]
fn a_var_file_from_a_pipe_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.pkr.hcl", TEMPLATE.replace("RETRIES", "0").as_bytes());
    let fifo = d.join("vars.pkrvars.hcl");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let f2 = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(f2, "x = \"from-pipe\"\n").unwrap());
    let r = run(
        KILN,
        d,
        &["build", "-var-file", "vars.pkrvars.hcl", "t.pkr.hcl"],
    );
    writer.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("    null.n: x=from-pipe\n"),
        "{}",
        r.all()
    );
}

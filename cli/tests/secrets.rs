//! Sensitive values never reach a message before the build runs: type errors, function errors,
//! plugin configuration errors, `console` and `inspect`, for HCL2 and legacy JSON templates and
//! for values from defaults, -var, -var-file and PKR_VAR_.

use kiln_tests::{run, run_with_input};
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

const HCL: &str = r#"variable "secret" {
  type      = string
  sensitive = true
  default   = "hunter2-default"
}
variable "port" {
  type      = number
  sensitive = true
  default   = 22
}
locals {
  derived = "prefix-${var.secret}"
  shouted = upper(var.secret)
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    script = "/nonexistent/${var.secret}.sh"
  }
}
"#;

const BAD_LOCALS: &str = r#"variable "secret" {
  type      = string
  sensitive = true
}
variable "n" {
  type      = number
  sensitive = true
  default   = 1
}
locals {
  f = file("/x/${var.secret}")
  j = jsondecode(var.secret)
}
source "null" "a" { communicator = "none" }
build { sources = ["source.null.a"] }
"#;

const JSON: &str = r#"{
  "variables": {"pw": "hunter2-json"},
  "sensitive-variables": ["pw"],
  "builders": [{"type": "null", "communicator": "none"}],
  "provisioners": [{"type": "shell-local", "script": "/nonexistent/{{user `pw`}}.sh"}]
}"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.pkr.hcl"), HCL).unwrap();
    std::fs::create_dir(d.join("bad")).unwrap();
    std::fs::write(d.join("bad/bad.pkr.hcl"), BAD_LOCALS).unwrap();
    std::fs::write(d.join("l.json"), JSON).unwrap();
    std::fs::write(
        d.join("v.pkrvars.hcl"),
        "secret = \"hunter7-file\"\nn = \"hunter6-typed\"\n",
    )
    .unwrap();
    dir
}

fn assert_hidden(what: &str, out: &str) {
    assert!(
        !out.contains("hunter") && !out.contains("HUNTER"),
        "{what} shows a secret:\n{out}"
    );
}

#[test]
fn secrets_stay_hidden_in_every_message() {
    let dir = setup();
    let d: &Path = dir.path();
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_ne!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("<sensitive>"), "{}", r.all());
    assert_hidden("a plugin configuration error", &r.all());

    let r = run(KILN, d, &["inspect", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("local.derived: \"<sensitive>\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("local.shouted: \"<sensitive>\""),
        "{}",
        r.stdout
    );
    assert_hidden("inspect", &r.all());

    let r = run_with_input(
        KILN,
        d,
        &["console", "t.pkr.hcl"],
        b"var.secret\nlocal.derived\nupper(var.secret)\nvar\nlocal\nvar.port\n",
    );
    assert_hidden("console", &r.all());
    assert!(
        r.stdout.contains("\"secret\" = \"<sensitive>\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\"port\" = \"<sensitive>\""),
        "{}",
        r.stdout
    );

    for args in [
        vec!["validate", "-var", "secret=hunter9-cli", "bad"],
        vec!["validate", "-var-file", "v.pkrvars.hcl", "bad"],
    ] {
        let r = run(KILN, d, &args);
        assert_ne!(r.code, 0, "{}", r.all());
        assert_hidden(&format!("{args:?}"), &r.all());
    }
    let out = kiln_tests::isolated(KILN)
        .args(["validate", "bad"])
        .current_dir(d)
        .env("PKR_VAR_secret", "hunter8-env")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_hidden("PKR_VAR_ errors", &text);

    let r = run(KILN, d, &["validate", "l.json"]);
    assert_hidden("a legacy plugin error", &r.all());
    let r = run_with_input(KILN, d, &["console", "l.json"], b"{{user `pw`}}\n");
    assert_hidden("legacy console", &r.all());
    assert!(r.stdout.contains("<sensitive>"), "{}", r.stdout);
}

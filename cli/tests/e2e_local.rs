//! End-to-end tests of the `kiln` binary that need no SSH server: the file builder, local
//! provisioning, post-processor outputs, and template diagnostics (snapshotted).

use kiln_tests::{normalize, run, run_with_input};
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn file_builder_with_manifest_checksum_and_compress() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        r#"
variable "who" {
  type    = string
  default = "world"
}
source "file" "hello" {
  content = "hello ${var.who}\n"
  target  = "out/hello.txt"
}
build {
  sources = ["source.file.hello"]
  post-processor "manifest" {
    output      = "out/manifest.json"
    strip_path  = true
    strip_time  = true
    custom_data = { team = "infra" }
  }
  post-processor "checksum" {
    checksum_types = ["md5", "sha256"]
    output         = "out/{{.BuildName}}_{{.ChecksumType}}.checksum"
  }
  post-processors {
    post-processor "compress" {
      output              = "out/hello.tar.gz"
      keep_input_artifact = true
    }
  }
  post-processor "shell-local" {
    inline = ["echo artifact=$PACKER_ARTIFACT_ID build=$PACKER_BUILD_NAME"]
  }
}
"#,
    );
    let r = run(KILN, d, &["build", "-var", "who=kiln", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(d.join("out/hello.txt")).unwrap(),
        "hello kiln\n"
    );
    assert!(
        r.stdout
            .contains("    file.hello: artifact=File build=hello\n"),
        "{}",
        r.stdout
    );
    // The manifest in Packer's exact layout (strip_time drops build_time).
    let m = std::fs::read_to_string(d.join("out/manifest.json")).unwrap();
    let uuid = serde_json::from_str::<serde_json::Value>(&m).unwrap()["last_run_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(m, format!("{{\n  \"builds\": [\n    {{\n      \"name\": \"hello\",\n      \"builder_type\": \"file\",\n      \"files\": [\n        {{\n          \"name\": \"hello.txt\",\n          \"size\": 11\n        }}\n      ],\n      \"artifact_id\": \"File\",\n      \"packer_run_uuid\": \"{uuid}\",\n      \"custom_data\": {{\n        \"team\": \"infra\"\n      }}\n    }}\n  ],\n  \"last_run_uuid\": \"{uuid}\"\n}}"));
    assert_eq!(
        std::fs::read_to_string(d.join("out/hello_md5.checksum")).unwrap(),
        "e95290e64e07a611174fd59a8df5db6e\thello.txt\n"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("out/hello_sha256.checksum")).unwrap(),
        format!("{}\thello.txt\n", hex_sha256(b"hello kiln\n"))
    );
    // The archive holds the file.
    let f = std::fs::File::open(d.join("out/hello.tar.gz")).unwrap();
    let mut a = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let names: Vec<String> = a
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["hello.txt"]);
    // A second run appends to the manifest.
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["builds"].as_array().unwrap().len(), 2);
}

fn hex_sha256(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

fn diagnostics(name: &str, tpl: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.pkr.hcl", tpl);
    let mut a = vec!["validate"];
    a.extend_from_slice(args);
    a.push("t.pkr.hcl");
    let r = run(KILN, dir.path(), &a);
    assert_eq!(r.code, 1, "{name}: {}", r.all());
    normalize(&r.stderr, dir.path())
}

#[test]
fn unknown_attribute_is_located_with_a_suggestion() {
    let out = diagnostics("unknown", "source \"null\" \"a\" {\n  communicator = \"none\"\n  ssh_usrname  = \"root\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n", &[]);
    insta::assert_snapshot!("unknown_attribute", out);
}

#[test]
fn undefined_variable_is_located_with_a_suggestion() {
    let out = diagnostics("undefined", "variable \"image_name\" {\n  default = \"x\"\n}\nsource \"file\" \"a\" {\n  content = var.image_nme\n  target  = \"out.txt\"\n}\nbuild {\n  sources = [\"source.file.a\"]\n}\n", &[]);
    insta::assert_snapshot!("undefined_variable", out);
}

#[test]
fn type_errors_are_located() {
    let out = diagnostics("type", "variable \"count\" {\n  type    = number\n  default = \"three\"\n}\nsource \"file\" \"a\" {\n  content = \"x\"\n  target  = [\"not\", \"a\", \"string\"]\n}\nbuild {\n  sources = [\"source.file.a\"]\n}\n", &[]);
    insta::assert_snapshot!("type_error_default", out);
    let out = diagnostics("type2", "source \"file\" \"a\" {\n  content = \"x\"\n  target  = [\"not\", \"a\", \"string\"]\n}\nbuild {\n  sources = [\"source.file.a\"]\n}\n", &[]);
    insta::assert_snapshot!("type_error_attribute", out);
}

#[test]
fn several_errors_are_reported_together() {
    let out = diagnostics("several", "source \"file\" \"a\" {\n  content = \"x\"\n  target  = \"t\"\n  colour  = \"red\"\n}\nbuild {\n  sources = [\"source.file.a\", \"source.file.b\"]\n  provisoner \"shell\" {}\n}\n", &[]);
    insta::assert_snapshot!("several_errors", out);
}

#[test]
fn syntax_errors_are_located() {
    let out = diagnostics(
        "syntax",
        "source \"file\" \"a\" {\n  content = \"x\n}\n",
        &[],
    );
    insta::assert_snapshot!("syntax_error", out);
}

#[test]
fn validate_and_inspect_a_good_template() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.pkr.hcl", "packer {\n  required_version = \">= 1.7.0\"\n}\nvariable \"pw\" {\n  type = string\n  default = \"sekrit-pw\"\n  sensitive = true\n}\nvariable \"n\" {\n  type = number\n  default = 2\n  validation {\n    condition = var.n > 1\n    error_message = \"The n value must be more than 1.\"\n  }\n}\nlocals {\n  doubled = var.n * 2\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  name = \"main\"\n  sources = [\"source.null.a\"]\n  provisioner \"shell-local\" {\n    inline = [\"echo ${local.doubled}\"]\n  }\n  post-processor \"manifest\" {}\n}\n");
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "The configuration is valid.\n"),
        "{}",
        r.all()
    );
    let r = run(KILN, d, &["validate", "-var", "n=1", "t.pkr.hcl"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("The n value must be more than 1."),
        "{}",
        r.stderr
    );
    let r = run(KILN, d, &["inspect", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("inspect", r.stdout);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("==> main.null.a: Running local shell script: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("    main.null.a: 4\n"), "{}", r.stdout);
}

#[test]
fn qemu_options_are_checked_and_located() {
    let tpl = r#"source "qemu" "vm" {
  iso_url          = "disk.qcow2"
  iso_checksum     = "sha256:abc"
  disk_image       = false
  use_backing_file = true
  format           = "vmdk"
  floppy_files     = ["a.ps1"]
  shutdown_comand  = "poweroff"
  ssh_username     = "root"
}
build {
  sources = ["source.qemu.vm"]
}
"#;
    let out = diagnostics("qemu", tpl, &[]);
    insta::assert_snapshot!("qemu_options", out);
}

const LEGACY: &str = r#"{
  "_comment": "a legacy JSON template",
  "variables": {
    "greeting": "hello",
    "home": "{{env `KILN_TEST_HOME`}}",
    "secret": "s3cr3t-value",
    "full": "{{user `greeting`}} from {{user `home`}}"
  },
  "sensitive-variables": ["secret"],
  "builders": [
    {"type": "null", "name": "first", "communicator": "none"},
    {"type": "null", "communicator": "none"}
  ],
  "provisioners": [
    {
      "type": "shell-local",
      "inline": ["echo {{user `full`}} in {{build_name}} of type {{build_type}} secret={{user `secret`}}"],
      "override": {"first": {"inline": ["echo overridden for {{build_name}}"]}}
    },
    {"type": "shell-local", "only": ["null"], "inline": ["echo only on {{build_name}} {{upper `x`}} {{split `a,b` `,` 1}}"]}
  ],
  "post-processors": [
    {"type": "manifest", "output": "manifest.json"},
    [{"type": "shell-local", "inline": ["echo chained for {{build_name}}"]}]
  ]
}
"#;

#[test]
fn legacy_json_template_builds_with_packer_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.json", LEGACY);
    let out = kiln_tests::isolated(KILN)
        .args(["build", "-var", "greeting=hi", "t.json"])
        .current_dir(d)
        .env("KILN_TEST_HOME", "the-env")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "    null: hi from the-env in null of type null secret=<sensitive>\n",
        "    first: overridden for first\n",
        "    null: only on null X b\n",
        "    first: chained for first\n",
        "    null: chained for null\n",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("only on first"), "{stdout}");
    assert!(!stdout.contains("s3cr3t"), "{stdout}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = m["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(
        names.contains(&"first") && names.contains(&"null"),
        "{names:?}"
    );
}

#[test]
fn legacy_json_inspect_matches_packer() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.json", LEGACY);
    let r = run(KILN, dir.path(), &["inspect", "t.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("legacy_inspect", r.stdout);
}

#[test]
fn legacy_json_errors_are_located() {
    let tpl = r#"{
  "variables": {"region": null},
  "builder": [],
  "builders": [{"type": "null", "communicator": "none"}],
  "provisioners": [{"type": "shell-local", "only": ["nul"], "inline": ["echo {{isotim}}"]}]
}
"#;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.json", tpl);
    let r = run(KILN, dir.path(), &["validate", "t.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    insta::assert_snapshot!("legacy_errors", normalize(&r.stderr, dir.path()));
}

#[test]
fn undeclared_var_file_entries_warn_hide_or_fail_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.pkr.hcl", "variable \"region\" {}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n");
    write(d, "v.pkrvars.hcl", "region = \"eu\"\nregoin = \"typo\"\n");
    let r = run(
        KILN,
        d,
        &["validate", "-var-file", "v.pkrvars.hcl", "t.pkr.hcl"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr
            .contains("Warning: Undefined variable\n --> v.pkrvars.hcl:2:10"),
        "{}",
        r.stderr
    );
    let r = run(
        KILN,
        d,
        &[
            "validate",
            "-no-warn-undeclared-var",
            "-var-file",
            "v.pkrvars.hcl",
            "t.pkr.hcl",
        ],
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let r = run(
        KILN,
        d,
        &[
            "validate",
            "--strict",
            "-var-file",
            "v.pkrvars.hcl",
            "t.pkr.hcl",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    insta::assert_snapshot!("strict_undeclared", normalize(&r.stderr, d));
}

#[test]
fn data_source_errors_are_located() {
    let out = diagnostics(
        "data",
        "data \"htpp\" \"x\" {\n  url = \"http://127.0.0.1:1/\"\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n",
        &[],
    );
    insta::assert_snapshot!("data_unknown_type", out);
}

#[test]
fn console_evaluates_expressions_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t.pkr.hcl", "variable \"zones\" {\n  default = [\"a\", \"b\"]\n}\nlocals {\n  first = upper(var.zones[0])\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n");
    let out = run_with_input(KILN, d, &["console", "t.pkr.hcl"], b"local.first\nvar.zones\n{ for z in var.zones : z => length(z) }\ncidrsubnet(\"10.0.0.0/16\", 8, 2)\nvar.zone\n");
    assert_eq!(out.code, 1);
    insta::assert_snapshot!("console", format!("{}---\n{}", out.stdout, out.stderr));
}

/// `file()` in the console reads relative to the template's directory, as in the template.
#[test]
fn console_file_functions_read_beside_the_template() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).unwrap();
    write(&d.join("sub"), "x.txt", "beside\n");
    write(d, "x.txt", "cwd\n");
    write(&d.join("sub"), "t.pkr.hcl", "locals {\n  x = file(\"x.txt\")\n}\nsource \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n");
    for path in ["sub", "sub/t.pkr.hcl"] {
        let out = run_with_input(
            KILN,
            d,
            &["console", path],
            b"file(\"x.txt\")\nlocal.x\nfileexists(\"t.pkr.hcl\")\n",
        );
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, "\"beside\\n\"\n\"beside\\n\"\ntrue\n"),
            "{path}: {}",
            out.stderr
        );
    }
}

#[test]
fn fmt_check_diff_write_and_recursive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let messy = "source \"null\"   \"a\"{\ncommunicator=\"none\"\n  x = [1,2]\n}\n";
    let tidy = "source \"null\" \"a\" {\n  communicator = \"none\"\n  x            = [1, 2]\n}\n";
    write(d, "a.pkr.hcl", messy);
    std::fs::create_dir(d.join("sub")).unwrap();
    write(&d.join("sub"), "b.pkr.hcl", messy);
    write(d, "ok.pkr.hcl", tidy);
    // -check: exit 3, names the file, writes nothing.
    let r = run(KILN, d, &["fmt", "-check", "."]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (3, "a.pkr.hcl\n"),
        "{}",
        r.all()
    );
    assert_eq!(std::fs::read_to_string(d.join("a.pkr.hcl")).unwrap(), messy);
    // -diff -write=false: shows the change, still writes nothing.
    let r = run(KILN, d, &["fmt", "-diff", "-write=false", "a.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("fmt_diff", r.stdout);
    assert_eq!(std::fs::read_to_string(d.join("a.pkr.hcl")).unwrap(), messy);
    // -recursive writes both; a second run finds nothing to do.
    let r = run(KILN, d, &["fmt", "-recursive", "."]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "a.pkr.hcl\nsub/b.pkr.hcl\n"),
        "{}",
        r.all()
    );
    assert_eq!(
        std::fs::read_to_string(d.join("sub/b.pkr.hcl")).unwrap(),
        tidy
    );
    let r = run(KILN, d, &["fmt", "-check", "-recursive", "."]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    // A syntax error is reported, located, with exit 1.
    write(d, "bad.pkr.hcl", "source \"null\" \"a\" {\n");
    let r = run(KILN, d, &["fmt", "bad.pkr.hcl"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(" --> bad.pkr.hcl:"), "{}", r.stderr);
}

#[test]
fn hcl2_upgrade_writes_a_template_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/legacy-full.json"),
    )
    .unwrap();
    write(d, "legacy-full.json", &src);
    let r = run(KILN, d, &["hcl2_upgrade", "legacy-full.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "Successfully created legacy-full.json.pkr.hcl\n");
    let hcl = std::fs::read_to_string(d.join("legacy-full.json.pkr.hcl")).unwrap();
    insta::assert_snapshot!("hcl2_upgrade", hcl);
    let r = run(KILN, d, &["validate", "legacy-full.json.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Already formatted.
    let r = run(KILN, d, &["fmt", "-check", "legacy-full.json.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// A legacy JSON template need not be named `*.json` (real repositories have `template.js`,
/// `packer.tpl` ...): as Packer, only `*.pkr.hcl` / `*.pkr.json` (and `*.hcl`) are HCL2.
#[test]
fn a_legacy_json_template_under_another_name_is_read_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "template.js",
        r#"{"builders": [{"type": "file", "content": "from js\n", "target": "out.txt"}]}"#,
    );
    for args in [
        &["validate", "template.js"][..],
        &["validate", "-syntax-only", "template.js"][..],
    ] {
        let r = run(KILN, d, args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.all());
    }
    let r = run(KILN, d, &["build", "template.js"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(d.join("out.txt")).unwrap(),
        "from js\n"
    );
    // An HCL2 file under such a name is still HCL2.
    write(d, "other.tpl", "source \"file\" \"x\" {\n  content = \"x\"\n  target = \"x.txt\"\n}\nbuild {\n  sources = [\"source.file.x\"]\n}\n");
    let r = run(KILN, d, &["validate", "other.tpl"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

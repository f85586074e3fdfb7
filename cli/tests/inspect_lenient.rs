//! `kiln inspect` shows what it can, as Packer's inspect does: errors after parsing (an unset
//! variable, a data source type Kiln does not provide) are left out.

use kiln_tests::run;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

#[test]
fn inspect_ignores_unset_variables_and_unknown_data_sources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        r#"variable "region" {
  type = string
}
data "amazon-parameterstore" "base" {
  region = var.region
}
locals {
  x   = "a"
  m   = { a = { sku = "x" } }
  os  = ""
  sku = local.m[local.os].sku
  n   = null
}
source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    name   = "first"
    inline = ["true"]
  }
}
"#,
    )
    .unwrap();
    let r = run(KILN, d, &["inspect", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("var.region: \"<unknown>\"\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("local.x: \"a\"\n"), "{}", r.stdout);
    // A local that fails has no value to show (as Packer); a null one has.
    assert!(!r.stdout.contains("local.sku"), "{}", r.stdout);
    assert!(r.stdout.contains("local.n: \"null\"\n"), "{}", r.stdout);
    assert!(r.stdout.contains("      null.a\n"), "{}", r.stdout);
    // A provisioner's name shows, as Packer's printBuilds has it.
    assert!(
        r.stdout.contains("      shell-local.first\n"),
        "{}",
        r.stdout
    );
    // validate still refuses both.
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.all().contains("Unset variable"), "{}", r.all());
    assert!(r.all().contains("Unknown data source type"), "{}", r.all());
}

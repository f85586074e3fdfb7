//! `kiln init` and `kiln plugins`, as Packer's in a pipeline: the template's required plugins
//! are checked against the ones Kiln has built in; nothing is installed.

use kiln_tests::run;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

const BUILD: &str =
    "source \"null\" \"n\" { communicator = \"none\" }\nbuild { sources = [\"source.null.n\"] }\n";

fn plugins(entries: &str) -> String {
    format!("packer {{\n  required_plugins {{\n{entries}  }}\n}}\n{BUILD}")
}

#[test]
fn built_in_plugins_need_nothing_and_others_fail_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        plugins(
            "    qemu = {\n      version = \">= 1.0.0\"\n      source  = \"github.com/hashicorp/qemu\"\n    }\n    goss = {\n      version = \"3.2.0\"\n      source  = \"github.com/YaleUniversity/goss\"\n    }\n",
        ),
    )
    .unwrap();
    let r = run(KILN, d, &["init", "-upgrade", "t.pkr.hcl"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            0,
            "Plugin github.com/YaleUniversity/goss (goss) is built into Kiln: the goss provisioner; nothing to install.\nPlugin github.com/hashicorp/qemu (qemu) is built into Kiln: the qemu builder; nothing to install.\n",
            ""
        )
    );
    std::fs::write(
        d.join("more.pkr.hcl"),
        "packer {\n  required_plugins {\n    vsphere = {\n      source = \"github.com/hashicorp/vsphere\"\n    }\n  }\n}\n",
    )
    .unwrap();
    let r = run(KILN, d, &["init", "."]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.starts_with("Error: Kiln does not provide the plugin github.com/hashicorp/vsphere required as \"vsphere\" (./more.pkr.hcl:3), and it does not install plugins.\n"),
        "{}",
        r.all()
    );
}

#[test]
fn no_requirements_legacy_json_and_bad_entries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.pkr.hcl"), BUILD).unwrap();
    let r = run(KILN, d, &["init", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.starts_with("No plugins requirement found"),
        "{}",
        r.all()
    );
    std::fs::write(
        d.join("l.json"),
        "{\"builders\": [{\"type\": \"null\", \"communicator\": \"none\"}]}",
    )
    .unwrap();
    let r = run(KILN, d, &["init", "l.json"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(
            "Error: Packer plugins currently only works with HCL2 configuration templates"
        ),
        "{}",
        r.all()
    );
    std::fs::write(
        d.join("t.pkr.hcl"),
        plugins("    qemu = {\n      version = \">= 1.0.0\"\n    }\n"),
    )
    .unwrap();
    let r = run(KILN, d, &["init", "t.pkr.hcl"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Error: Invalid required_plugins entry")
            && r.stderr.contains(" --> t.pkr.hcl:3:5"),
        "{}",
        r.all()
    );
}

#[test]
fn plugins_installed_required_and_install() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = run(KILN, d, &["plugins", "installed"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("github.com/hashicorp/qemu (built in: the qemu builder)\n"),
        "{}",
        r.all()
    );
    std::fs::write(
        d.join("t.pkr.hcl"),
        plugins("    qemu = {\n      version = \">= 1.0.0\"\n      source  = \"github.com/hashicorp/qemu\"\n    }\n    vsphere = {\n      source  = \"github.com/hashicorp/vsphere\"\n    }\n"),
    )
    .unwrap();
    let r = run(KILN, d, &["plugins", "required", "t.pkr.hcl"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            0,
            "qemu github.com/hashicorp/qemu \">= 1.0.0\" (built into Kiln)\nvsphere github.com/hashicorp/vsphere \"\" (not provided by Kiln)\n"
        ),
        "{}",
        r.all()
    );
    let r = run(
        KILN,
        d,
        &[
            "plugins",
            "install",
            "github.com/hashicorp/ansible",
            "v1.1.1",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run(
        KILN,
        d,
        &["plugins", "install", "github.com/hashicorp/vsphere"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("Error: Kiln does not provide the plugin github.com/hashicorp/vsphere,"),
        "{}",
        r.all()
    );
}

//! Data sources that need no network: `host-info` reports the machine Kiln runs on.

use kiln_tests::run;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

#[test]
fn host_info_reports_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        r#"data "host-info" "here" {}
source "file" "out" {
  content = "${data.host-info.here.os_type} ${data.host-info.here.architecture} ${data.host-info.here.platform} ${data.host-info.here.family} ${data.host-info.here.version}\n"
  target  = "out.txt"
}
build { sources = ["source.file.out"] }
"#,
    )
    .unwrap();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = std::fs::read_to_string(d.join("out.txt")).unwrap();
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let id = release
        .lines()
        .find_map(|l| l.strip_prefix("ID="))
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    assert!(
        out.starts_with(&format!("linux {arch} {id} ")),
        "{out:?} (os-release ID {id:?})"
    );
    if id == "debian" {
        let v = std::fs::read_to_string("/etc/debian_version").unwrap();
        assert_eq!(out, format!("linux {arch} debian debian {}\n", v.trim()));
    }
}

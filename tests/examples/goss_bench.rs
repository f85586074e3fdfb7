//! The goss benchmark (run by `bench/goss`): a spec of 100 assertions over 10 resource types,
//! run by `kiln build` against a local OpenSSH sshd, 5 times. Prints one JSON line: the median
//! time goss took (its own `total-duration`), the whole build's wall time, and the number of
//! remote commands the provisioner ran (one).
#![allow(clippy::print_stdout)]

use std::time::Instant;

fn main() {
    let kiln =
        std::fs::canonicalize(std::env::args().nth(1).expect("usage: goss_bench KILN")).unwrap();
    let sshd = kiln_tests::Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut spec = String::from("file:\n");
    for i in 0..29 {
        spec.push_str(&format!(
            "  /etc/kiln-bench-absent-{i}:\n    exists: false\n"
        ));
    }
    spec.push_str("  /etc/passwd:\n    exists: true\n    mode: \"0644\"\n    owner: root\n    filetype: file\n    contents: [root, \"/^root:/\", \"!kiln-nobody\"]\n");
    spec.push_str("package:\n");
    for p in ["bash", "coreutils", "dpkg", "libc6", "openssh-server"] {
        spec.push_str(&format!("  {p}:\n    installed: true\n"));
    }
    for i in 0..10 {
        spec.push_str(&format!("  kiln-absent-{i}:\n    installed: false\n"));
    }
    spec.push_str("command:\n");
    for i in 0..15 {
        spec.push_str(&format!(
            "  echo {i}:\n    exit-status: 0\n    stdout: [\"{i}\"]\n"
        ));
    }
    spec.push_str("user:\n  root:\n    exists: true\n    uid: 0\n    gid: 0\n    home: /root\n");
    spec.push_str("group:\n  root:\n    exists: true\n    gid: 0\n");
    spec.push_str(&format!(
        "port:\n  tcp:{}:\n    listening: true\n",
        sshd.port
    ));
    spec.push_str("process:\n  sshd:\n    running: true\n");
    spec.push_str("kernel-param:\n  kernel.ostype:\n    value: Linux\n");
    spec.push_str("mount:\n  /:\n    exists: true\n");
    spec.push_str("interface:\n  lo:\n    exists: true\n");
    spec.push_str("service:\n");
    for i in 0..5 {
        spec.push_str(&format!(
            "  kiln-absent-{i}:\n    enabled: false\n    running: false\n"
        ));
    }
    std::fs::write(d.join("goss.yaml"), &spec).unwrap();
    std::fs::write(
        d.join("t.pkr.hcl"),
        format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"goss\" {{\n    tests = [\"goss.yaml\"]\n    format = \"json\"\n    output_file = \"r.json\"\n  }}\n}}\n",
            sshd.null_source("")
        ),
    )
    .unwrap();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = kiln_tests::isolated(kiln.to_str().unwrap())
            .args(["build", "t.pkr.hcl"])
            .current_dir(d)
            .output()
            .unwrap();
        let wall = t.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
        let n = r["summary"]["test-count"].as_u64().unwrap();
        let goss = r["summary"]["total-duration"].as_u64().unwrap() as f64 / 1e9;
        runs.push((goss, wall, n));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let m = runs[runs.len() / 2];
    println!(
        "{}",
        serde_json::json!({"assertions": m.2, "goss_s_median": m.0, "build_wall_s_median": m.1, "remote_commands": 1})
    );
}

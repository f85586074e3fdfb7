//! The `goss` provisioner, evaluated natively, against a real machine: the local OpenSSH sshd's
//! host. Every resource type, with passing and failing assertions.

use kiln_tests::{run, FileServer, Sshd};
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn dpkg_version(pkg: &str) -> String {
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", pkg])
        .output()
        .expect("dpkg-query (this test reads a Debian host)");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_resource_type_passes_and_fails_as_goss_would() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let www = d.join("www");
    std::fs::create_dir(&www).unwrap();
    write(&www, "health", "ok from kiln\n");
    let web = FileServer::start(&www);
    let probe = d.join("probe.txt");
    write(d, "probe.txt", "line one\nkiln was here\n");
    let bash = dpkg_version("bash");
    write(d, "vars.yaml", "marker: kiln was here\n");
    let spec = format!(
        r#"gossfile:
  more*.yaml: {{}}
file:
  {probe}:
    exists: true
    mode: "0644"
    filetype: file
    contents: ["{{{{ .Vars.marker }}}}", "/^line/", "!absent"]
  /etc/kiln-absent:
    exists: false
  /etc/hostname:
    contains: ["/./"]
package:
  bash:
    installed: true
    versions: ["{bash}"]
  kiln-no-such-package:
    installed: false
service:
  kiln-no-such-service:
    enabled: false
    running: false
command:
  echo-both:
    exec: "echo out; echo err >&2; exit 3"
    exit-status: 3
    stdout: [out]
    stderr: ["/^err$/"]
    timeout: 5000
user:
  root:
    exists: true
    uid: 0
    home: /root
group:
  root:
    exists: true
    gid: 0
port:
  tcp:{port}:
    listening: true
    ip: [127.0.0.1]
process:
  sshd:
    running: true
kernel-param:
  kernel.ostype:
    value: Linux
mount:
  /:
    exists: true
    opts: [rw]
interface:
  lo:
    exists: true
    mtu: {{gt: 1000}}
dns:
  localhost:
    resolvable: true
addr:
  tcp://127.0.0.1:{port}:
    reachable: true
http:
  http://127.0.0.1:{web}/health:
    method: GET
    request-headers: ["X-Kiln: 1"]
    status: 200
    body: [ok from kiln]
matching:
  semver:
    content: [{bash_semver}]
    matches: {{semver-constraint: ">1.0.0"}}
"#,
        probe = probe.display(),
        port = sshd.port,
        web = web.port,
        bash_semver = bash.split('-').next().unwrap(),
    );
    write(d, "goss.yaml", &spec);
    write(d, "more.yaml", "command:\n  true:\n    exit-status: 0\n");
    let tpl = format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"goss\" {{\n    tests       = [\"goss.yaml\", \"more.yaml\"]\n    vars_file   = \"vars.yaml\"\n    format      = \"documentation\"\n    output_file = \"results.txt\"\n    version     = \"0.4.2\"\n  }}\n}}\n",
        sshd.null_source("")
    );
    write(d, "t.pkr.hcl", &tpl);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert!(
        v.all().contains("goss: version only concern(s) the goss binary, which Kiln does not use (it evaluates the spec itself): ignored"),
        "{}",
        v.all()
    );
    let results = std::fs::read_to_string(d.join("results.txt")).unwrap();
    for line in [
        format!(
            "File: {}: contents: matches expectation: [\"kiln was here\",\"/^line/\",\"!absent\"]",
            probe.display()
        ),
        format!("Package: bash: versions: matches expectation: [\"{bash}\"]"),
        "Command: echo-both: exit-status: matches expectation: 3".to_string(),
        format!(
            "Port: tcp:{}: listening: matches expectation: true",
            sshd.port
        ),
        "Command: true: exit-status: matches expectation: 0".to_string(),
        "Matching: semver: matches: matches expectation: {\"semver-constraint\":\">1.0.0\"}"
            .to_string(),
    ] {
        assert!(results.contains(&line), "{line:?} in:\n{results}");
    }
    assert!(
        results.contains("Count: 33, Failed: 0, Skipped: 0\n"),
        "{results}"
    );

    // Failing assertions fail the build before the image, each with what was found.
    write(
        d,
        "goss.yaml",
        &format!(
            "file:\n  {}:\n    mode: \"0600\"\n    contents: [nowhere]\npackage:\n  bash:\n    installed: false\nuser:\n  root:\n    shell: /bin/kiln\nport:\n  tcp:1:\n    listening: true\n",
            probe.display()
        ),
    );
    let tpl = tpl.replace("\"goss.yaml\", \"more.yaml\"", "\"goss.yaml\"");
    write(
        d,
        "t.pkr.hcl",
        &tpl.replace("format      = \"documentation\"", "format      = \"tap\""),
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let all = r.all();
    for line in [
        "5 of 5 goss tests failed:".to_string(),
        format!("File: {}: mode:", probe.display()),
        "Expected".into(),
        "\"0644\"".into(),
        "to match".into(),
        "\"0600\"".into(),
        format!(
            "File: {}: contents: patterns not found: [nowhere]",
            probe.display()
        ),
        "Package: bash: installed:".into(),
        "Port: tcp:1: listening:".into(),
    ] {
        assert!(all.contains(&line), "{line:?} in:\n{all}");
    }
    let tap = std::fs::read_to_string(d.join("results.txt")).unwrap();
    assert!(tap.starts_with("1..5\nnot ok 1 - File: "), "{tap}");

    // The failure output, for a spec whose facts are the same on every Debian machine.
    write(
        d,
        "goss.yaml",
        "file:\n  /etc/passwd:\n    mode: \"0600\"\n    filetype: directory\n    contents: [\"/^root:/\", \"!/^root:/\"]\npackage:\n  kiln-absent:\n    installed: true\ncommand:\n  exit 2:\n    exit-status: 0\n    stdout: \"\"\nuser:\n  root:\n    uid: {lt: 0}\nkernel-param:\n  kernel.ostype:\n    value: {have-prefix: Win}\n",
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let all = r.all();
    let start = all.find("goss tests failed:").expect("the failure message");
    let block: String = all[all[..start].rfind('\n').map_or(0, |i| i + 1)..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    // The build's time varies: "errored after 337 milliseconds".
    let block = match (block.find("errored after "), block.find(": ")) {
        (Some(a), Some(b)) if a < b => {
            format!("{}errored after <time>{}", &block[..a], &block[b..])
        }
        _ => block,
    };
    insta::assert_snapshot!("goss_failures", block);

    // A bad spec is a located error at validate time.
    write(d, "goss.yaml", "file:\n  /x:\n    exist: true\n");
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_ne!(r.code, 0);
    assert!(
        r.all().contains(
            "goss.yaml: file \"/x\": unknown attribute \"exist\"; a file has path, exists, mode"
        ),
        "{}",
        r.all()
    );
}

#[test]
fn the_catalog_keeps_test_results_and_promotion_can_require_them() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tpl = |spec_ok: bool| {
        let spec = if spec_ok {
            "user:\n  root:\n    exists: true\n"
        } else {
            "user:\n  root:\n    exists: true\n  kiln-nobody-here:\n    exists: true\n"
        };
        write(d, "goss.yaml", spec);
        write(
            d,
            "t.pkr.hcl",
            &format!(
                "{}build {{\n  hcp_packer_registry {{\n    bucket_name = \"web\"\n  }}\n  sources = [\"source.null.remote\"]\n  provisioner \"goss\" {{\n    tests   = [\"goss.yaml\"]\n    inspect = true\n  }}\n}}\n",
                sshd.null_source("")
            ),
        );
    };
    let db = d.join("catalog.db");
    let env = [("KILN_CATALOG", db.to_str().unwrap())];
    let kiln = |args: &[&str]| kiln_tests::run_with_env(KILN, d, args, &env);
    tpl(true);
    assert_eq!(kiln(&["build", "t.pkr.hcl"]).code, 0);
    // inspect = true: the failure is reported, the build goes on and is recorded.
    tpl(false);
    let r = kiln(&["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("1 of 2 goss tests failed:"), "{}", r.all());
    assert!(
        r.all().contains("(inspect = true: the build goes on)"),
        "{}",
        r.all()
    );
    let show = kiln(&["images", "show", "web", "1"]);
    assert!(
        show.stdout
            .lines()
            .any(|l| l.starts_with("tests ") && l.ends_with(" 1 passed, 0 failed, 0 skipped")),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("goss-results "), "{}", show.stdout);
    let r = kiln(&[
        "images",
        "promote",
        "web",
        "1",
        "--channel",
        "prod",
        "--require-tests",
    ]);
    assert_eq!(r.stdout, "web: prod -> v1\n", "{}", r.all());
    let r = kiln(&[
        "images",
        "promote",
        "web",
        "2",
        "--channel",
        "prod",
        "--require-tests",
    ]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "Error: cannot promote to prod: web v2 failed 1 of its 2 tests\n"
        )
    );
    assert_eq!(
        kiln(&["images", "promote", "web", "2", "--channel", "prod"]).code,
        0,
        "without --require-tests the results are not asked for"
    );
}

#[test]
fn a_spec_larger_than_a_command_line_travels_on_standard_input() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut spec = String::from("package:\n");
    for i in 0..400 {
        spec.push_str(&format!(
            "  kiln-absent-package-with-a-long-name-{i:04}:\n    installed: false\n"
        ));
    }
    write(d, "goss.yaml", &spec);
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"goss\" {{\n    tests  = [\"goss.yaml\"]\n    format = \"nagios\"\n  }}\n}}\n",
            sshd.null_source("")
        ),
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("GOSS OK - Count: 400, Failed: 0, Skipped: 0"),
        "{}",
        r.stdout
    );
}

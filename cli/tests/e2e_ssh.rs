//! End-to-end tests of the `kiln` binary against a real OpenSSH sshd on loopback.

use kiln_tests::{run, Sshd};
use sha2::Digest;
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn sha(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn shell_inline_and_scripts_with_environment() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = d.join("remote");
    std::fs::create_dir(&remote).unwrap();
    write(d, "s1.sh", "#!/bin/sh\necho \"script one FOO=$FOO\"\n");
    write(d, "s2.sh", "#!/bin/sh\necho \"script two BAR=$BAR name=$PACKER_BUILD_NAME type=$PACKER_BUILDER_TYPE\"\necho to-stderr >&2\n");
    let tpl = format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"shell\" {{\n    environment_vars = [\"FOO=it's here\"]\n    inline = [\"echo inline FOO=$FOO\", \"echo host=${{build.Host}} user=${{build.User}}\", \"echo made > {}/marker\"]\n  }}\n  provisioner \"shell\" {{\n    env = {{ BAR = \"bar-value\" }}\n    environment_vars = [\"FOO=scripted\"]\n    scripts = [\"s1.sh\", \"s2.sh\"]\n  }}\n}}\n",
        sshd.null_source(""),
        remote.display()
    );
    write(d, "t.pkr.hcl", &tpl);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("    null.remote: inline FOO=it's here\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "    null.remote: host=127.0.0.1 user={}\n",
            sshd.user
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("    null.remote: script one FOO=scripted\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("    null.remote: script two BAR=bar-value name=remote type=null\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("    null.remote: to-stderr\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("==> null.remote: Provisioning with shell script: s1.sh\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("--> null.remote: Did not export anything. This is the null builder\n"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(remote.join("marker")).unwrap(),
        "made\n"
    );
}

#[test]
fn failing_provisioner_fails_the_build_and_runs_error_cleanup() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tpl = format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"shell\" {{\n    inline = [\"echo before\", \"exit 3\"]\n  }}\n  provisioner \"shell\" {{\n    inline = [\"echo never-runs\"]\n  }}\n  error-cleanup-provisioner \"shell-local\" {{\n    inline = [\"echo cleaned > {}/cleanup-ran\"]\n  }}\n  post-processor \"manifest\" {{\n    output = \"{}/manifest.json\"\n  }}\n}}\n",
        sshd.null_source(""),
        d.display(),
        d.display()
    );
    write(d, "t.pkr.hcl", &tpl);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("Build 'null.remote' errored after "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Script exited with non-zero exit status: 3. Allowed exit codes are: [0]"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("--> null.remote: Script exited with non-zero exit status: 3. Allowed exit codes are: [0]"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("==> Builds finished but no artifacts were created."),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("never-runs"), "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(d.join("cleanup-ran")).unwrap(),
        "cleaned\n"
    );
    assert!(
        !d.join("manifest.json").exists(),
        "no artifact may be recorded for a failed build"
    );
}

#[test]
fn unreachable_host_fails_after_ssh_timeout_naming_host_and_port() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = kiln_tests::free_port();
    let tpl = format!("source \"null\" \"gone\" {{\n  ssh_host = \"127.0.0.1\"\n  ssh_port = {port}\n  ssh_username = \"nobody\"\n  ssh_password = \"pw\"\n  ssh_timeout = \"2s\"\n}}\nbuild {{\n  sources = [\"source.null.gone\"]\n  provisioner \"shell\" {{\n    inline = [\"true\"]\n  }}\n}}\n");
    write(d, "t.pkr.hcl", &tpl);
    let start = std::time::Instant::now();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(start.elapsed() < std::time::Duration::from_secs(15));
    assert!(
        r.stdout
            .contains("==> null.gone: Waiting for SSH to become available..."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "failed to connect to 127.0.0.1:{port}: timeout waiting for SSH after 2 seconds"
        )),
        "{}",
        r.stdout
    );
}

/// A server that sends its banner and then says nothing more (a hung sshd, a half-dead proxy)
/// is given `ssh_timeout` in all, not a handshake timeout on top of it.
#[test]
fn a_server_that_sends_its_banner_and_stalls_fails_at_ssh_timeout() {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut c in listener.incoming().flatten() {
            let _ = c.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
            held.push(c);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tpl = format!("source \"null\" \"stalled\" {{\n  ssh_host = \"127.0.0.1\"\n  ssh_port = {port}\n  ssh_username = \"nobody\"\n  ssh_password = \"pw\"\n  ssh_timeout = \"3s\"\n}}\nbuild {{\n  sources = [\"source.null.stalled\"]\n  provisioner \"shell\" {{\n    inline = [\"true\"]\n  }}\n}}\n");
    write(d, "t.pkr.hcl", &tpl);
    let start = std::time::Instant::now();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    let took = start.elapsed();
    assert_eq!(r.code, 1, "{}", r.all());
    // Before: 30 s (one handshake timeout). Now 3 s and the process's own start and finish.
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    assert!(
        r.stdout.contains(&format!(
            "failed to connect to 127.0.0.1:{port}: timeout waiting for SSH after 3 seconds (last error: handshake timed out)"
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn file_upload_and_download_of_a_large_file_and_a_tree() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 50 MB of non-repeating data.
    let mut data = Vec::with_capacity(50 << 20);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while data.len() < 50 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(d.join("big.bin"), &data).unwrap();
    for (p, c) in [
        ("tree/a.txt", "A"),
        ("tree/sub/b.txt", "B"),
        ("tree/sub/deeper/c.txt", "C"),
    ] {
        std::fs::create_dir_all(d.join(p).parent().unwrap()).unwrap();
        std::fs::write(d.join(p), c).unwrap();
    }
    // A link and an executable travel as such, both ways.
    std::os::unix::fs::symlink("a.txt", d.join("tree/link")).unwrap();
    std::fs::write(
        d.join("tree/sub/run.sh"),
        "#!/bin/sh
",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            d.join("tree/sub/run.sh"),
            std::fs::Permissions::from_mode(0o750),
        )
        .unwrap();
    }
    let remote = d.join("remote");
    std::fs::create_dir(&remote).unwrap();
    let r = remote.display();
    for method in ["scp", "sftp"] {
        let tpl = format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"file\" {{\n    source = \"big.bin\"\n    destination = \"{r}/{method}-big.bin\"\n  }}\n  provisioner \"file\" {{\n    source = \"tree\"\n    destination = \"{r}/{method}-up/\"\n  }}\n  provisioner \"file\" {{\n    source = \"tree/\"\n    destination = \"{r}/{method}-contents\"\n  }}\n  provisioner \"file\" {{\n    direction = \"download\"\n    source = \"{r}/{method}-big.bin\"\n    destination = \"down/{method}/\"\n  }}\n  provisioner \"file\" {{\n    direction = \"download\"\n    source = \"{r}/{method}-up/tree\"\n    destination = \"down/{method}-tree\"\n  }}\n}}\n",
            sshd.null_source(&format!("  ssh_file_transfer_method = \"{method}\"\n"))
        );
        write(d, "t.pkr.hcl", &tpl);
        let out = run(KILN, d, &["build", "t.pkr.hcl"]);
        assert_eq!(out.code, 0, "{method}: {}", out.all());
        let want = sha(&d.join("big.bin"));
        assert_eq!(
            sha(&remote.join(format!("{method}-big.bin"))),
            want,
            "{method} upload"
        );
        assert_eq!(
            sha(&d.join(format!("down/{method}/{method}-big.bin"))),
            want,
            "{method} download"
        );
        assert_eq!(
            std::fs::read_to_string(remote.join(format!("{method}-up/tree/sub/deeper/c.txt")))
                .unwrap(),
            "C"
        );
        assert_eq!(
            std::fs::read_to_string(remote.join(format!("{method}-contents/sub/b.txt"))).unwrap(),
            "B"
        );
        assert_eq!(
            std::fs::read_to_string(d.join(format!("down/{method}-tree/tree/a.txt"))).unwrap(),
            "A"
        );
        let down = d.join(format!("down/{method}-tree/tree"));
        assert_eq!(
            std::fs::read_link(down.join("link")).unwrap(),
            Path::new("a.txt")
        );
        assert_eq!(std::fs::read_to_string(down.join("link")).unwrap(), "A");
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(down.join("sub/run.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o750, "{method}");
        }
    }
}

#[test]
fn sensitive_values_never_appear_in_output() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tpl = format!(
        "variable \"token\" {{\n  type = string\n  sensitive = true\n}}\n{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"shell\" {{\n    environment_vars = [\"TOKEN=${{var.token}}\"]\n    inline = [\"echo token is $TOKEN\", \"echo ${{var.token}} >&2\"]\n  }}\n  provisioner \"shell-local\" {{\n    inline = [\"echo local ${{var.token}}\"]\n  }}\n}}\n",
        sshd.null_source("")
    );
    write(d, "t.pkr.hcl", &tpl);
    for args in [
        vec!["build", "-var", "token=hunter2-s3cret", "t.pkr.hcl"],
        vec![
            "build",
            "-machine-readable",
            "-var",
            "token=hunter2-s3cret",
            "t.pkr.hcl",
        ],
        vec!["inspect", "-var", "token=hunter2-s3cret", "t.pkr.hcl"],
    ] {
        let r = run(KILN, d, &args);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(
            !r.all().contains("hunter2-s3cret"),
            "secret leaked: {}",
            r.all()
        );
    }
    let r = run(
        KILN,
        d,
        &["build", "-var", "token=hunter2-s3cret", "t.pkr.hcl"],
    );
    assert!(
        r.stdout.contains("    null.remote: token is <sensitive>"),
        "{}",
        r.stdout
    );

    // A build that fails in a provisioner whose command line holds the secret: not in stdout,
    // stderr, the JSON events, the debug log (every SSH command is logged) or the catalog.
    let failing = tpl.replace(
        "inline = [\"echo local ${var.token}\"]",
        "inline = [\"echo local ${var.token}\"]\n  }\n  provisioner \"shell\" {\n    inline = [\"false ${var.token}\"]",
    );
    assert_ne!(failing, tpl);
    write(d, "fail.pkr.hcl", &failing);
    let log = d.join("debug.log");
    let catalog = d.join("catalog.db");
    for json in [false, true] {
        let mut args = vec!["build", "-var", "token=hunter2-s3cret"];
        if json {
            args.push("-json");
        }
        args.push("fail.pkr.hcl");
        let r = kiln_tests::run_with_env(
            KILN,
            d,
            &args,
            &[
                ("PACKER_LOG", "1"),
                ("PACKER_LOG_PATH", log.to_str().unwrap()),
                ("KILN_CATALOG", catalog.to_str().unwrap()),
            ],
        );
        assert_eq!(r.code, 1, "{}", r.all());
        assert!(
            !r.all().contains("hunter2-s3cret"),
            "secret leaked: {}",
            r.all()
        );
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("ssh exec"), "{logged}");
    assert!(logged.contains("<sensitive>"), "{logged}");
    assert!(
        !logged.contains("hunter2-s3cret"),
        "secret in the log: {logged}"
    );
    let mut stored = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("catalog.db") {
            stored.extend(std::fs::read(e.path()).unwrap());
        }
    }
    assert!(!stored.is_empty(), "the catalog recorded the failed builds");
    assert!(
        !String::from_utf8_lossy(&stored).contains("hunter2-s3cret"),
        "secret in the catalog"
    );
}

#[test]
fn only_except_and_parallel_builds() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = d.join("remote");
    std::fs::create_dir(&remote).unwrap();
    // Each build leaves a marker, then waits up to var.polls x 0.1 s for the other's: builds
    // that run at once each see the other's marker however loaded the machine is, and builds
    // run one after the other never can.
    let tpl = format!(
        r#"variable "polls" {{
  type    = number
  default = 10
}}
{}build {{
  source "source.null.remote" {{
    name = "one"
  }}
  source "source.null.remote" {{
    name = "two"
  }}
  provisioner "shell" {{
    inline = [
      "touch {r}/${{source.name}}.here",
      "i=0; while [ ! -e {r}/${{source.name == "one" ? "two" : "one"}}.here ] && [ $i -lt ${{var.polls}} ]; do sleep 0.1; i=$((i+1)); done",
      "if [ -e {r}/${{source.name == "one" ? "two" : "one"}}.here ]; then echo saw-other; else echo alone; fi",
    ]
  }}
}}
"#,
        sshd.null_source(""),
        r = remote.display()
    );
    write(d, "t.pkr.hcl", &tpl);
    let clear = || {
        for f in ["one.here", "two.here"] {
            let _ = std::fs::remove_file(remote.join(f));
        }
    };
    let out = run(KILN, d, &["build", "-only=null.one", "t.pkr.hcl"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout.contains("Build 'null.one' finished") && !out.stdout.contains("null.two"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("    null.one: alone\n"),
        "{}",
        out.stdout
    );
    clear();
    let out = run(KILN, d, &["build", "-except=null.one", "t.pkr.hcl"]);
    assert!(
        out.stdout.contains("Build 'null.two' finished") && !out.stdout.contains("null.one:"),
        "{}",
        out.stdout
    );
    clear();
    // Both builds ran at once: each saw the other's marker (up to 60 s to appear).
    let out = run(KILN, d, &["build", "-var", "polls=600", "t.pkr.hcl"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for n in ["one", "two"] {
        assert!(
            out.stdout.contains(&format!("    null.{n}: saw-other\n")),
            "builds did not overlap:\n{}",
            out.stdout
        );
    }
    clear();
    let out = run(KILN, d, &["build", "-parallel-builds=1", "t.pkr.hcl"]);
    assert_eq!(out.code, 0, "{}", out.all());
    // One after the other: the first never saw the second's marker.
    let first = if out.stdout.find("null.one: ") < out.stdout.find("null.two: ") {
        "one"
    } else {
        "two"
    };
    assert!(
        out.stdout.contains(&format!("    null.{first}: alone\n")),
        "-parallel-builds=1 must serialise:\n{}",
        out.stdout
    );
}

#[test]
fn legacy_json_template_over_ssh_with_build_values() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tpl = format!(
        r#"{{
  "variables": {{"user": "{}"}},
  "builders": [{{
    "type": "null",
    "ssh_host": "127.0.0.1",
    "ssh_port": {},
    "ssh_username": "{{{{user `user`}}}}",
    "ssh_private_key_file": "{}"
  }}],
  "provisioners": [
    {{"type": "shell", "inline": ["echo remote host={{{{build `Host`}}}} user={{{{build `User`}}}} name=$PACKER_BUILD_NAME"]}}
  ]
}}
"#,
        sshd.user,
        sshd.port,
        sshd.key_path().display()
    );
    write(d, "t.json", &tpl);
    let r = run(KILN, d, &["build", "t.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains(&format!(
            "    null: remote host=127.0.0.1 user={} name=null\n",
            sshd.user
        )),
        "{}",
        r.stdout
    );
}

#[test]
fn ctrl_c_during_a_download_leaves_neither_the_file_nor_a_partial_one() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = d.join("remote");
    std::fs::create_dir(&remote).unwrap();
    // 64 GiB, sparse on the server: far longer to move than the test waits.
    let huge = std::fs::File::create(remote.join("huge.img")).unwrap();
    huge.set_len(64 << 30).unwrap();
    std::fs::create_dir(d.join("down")).unwrap();
    let tpl = format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"file\" {{\n    direction = \"download\"\n    source = \"{}\"\n    destination = \"down/huge.img\"\n  }}\n}}\n",
        sshd.null_source(""),
        remote.join("huge.img").display()
    );
    write(d, "t.pkr.hcl", &tpl);
    let mut child = kiln_tests::isolated(KILN)
        .args(["build", "t.pkr.hcl"])
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Signal once the download is under way: its partial file beside the target has data.
    let partial_len = || {
        std::fs::read_dir(d.join("down"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("huge.img.kiln-tmp")
            })
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum::<u64>()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while partial_len() == 0 {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let left: Vec<_> = std::fs::read_dir(d.join("down"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Runs kiln with a deadline: a transfer whose remote side gave up must fail, not hang.
fn run_within(d: &Path, args: &[&str], limit: std::time::Duration) -> (i32, String) {
    use std::process::Stdio;
    let log = d.join("kiln-output.log");
    let f = std::fs::File::create(&log).unwrap();
    let mut child = kiln_tests::isolated(KILN)
        .args(args)
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "kiln still running after {limit:?}:\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    (code, std::fs::read_to_string(&log).unwrap())
}

#[test]
fn uploads_the_remote_side_refuses_fail_with_its_reason_and_do_not_hang() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = d.join("remote");
    std::fs::create_dir(&remote).unwrap();
    // A regular file where a directory is needed: refused even for root.
    std::fs::write(remote.join("a-file"), "").unwrap();
    // More than OpenSSH's 2 MB channel window, so the sender must notice the closed channel.
    std::fs::create_dir_all(d.join("tree/sub")).unwrap();
    std::fs::write(d.join("tree/sub/big.bin"), vec![7u8; 5 << 20]).unwrap();
    for (source, what) in [("tree/", "directory"), ("tree/sub/big.bin", "file")] {
        let tpl = format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"file\" {{\n    source = \"{source}\"\n    destination = \"{}/a-file/x/y\"\n  }}\n}}\n",
            sshd.null_source(""),
            remote.display()
        );
        write(d, "t.pkr.hcl", &tpl);
        let (code, out) = run_within(
            d,
            &["build", "t.pkr.hcl"],
            std::time::Duration::from_secs(60),
        );
        assert_eq!(code, 1, "{what}: {out}");
        let reason = if what == "directory" {
            "the remote command exited with status 1: mkdir: cannot create directory"
        } else {
            "Not a directory"
        };
        assert!(out.contains(reason), "{what}: {out}");
    }
}

/// Each script is uploaded, run and removed in one SSH session (a login shell's rc file is paid
/// once per script), with Packer's `remote_path`, `execute_command`, `skip_clean`,
/// `valid_exit_codes`, environment and `expect_disconnect` semantics.
#[test]
fn shell_scripts_run_in_one_session_each_with_packers_semantics() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = d.join("remote");
    std::fs::create_dir(&remote).unwrap();
    let r = remote.display();
    let tpl = format!(
        r#"{src}build {{
  sources = ["source.null.remote"]
  provisioner "shell" {{
    remote_path = "{r}/custom.sh"
    inline      = ["echo running=$0", "ls -l {r}/custom.sh | cut -c1-10", "read -r line || echo stdin-at-eof"]
  }}
  provisioner "shell" {{
    remote_path = "{r}/kept.sh"
    skip_clean  = true
    inline      = ["echo kept"]
  }}
  provisioner "shell" {{
    environment_vars = ["BAR=b a'r"]
    execute_command  = "FOO=from-exec {{{{.Vars}}}} sh {{{{.Path}}}}"
    inline           = ["echo FOO=$FOO BAR=$BAR"]
  }}
  provisioner "shell" {{
    remote_path      = "{r}/exits.sh"
    execute_command  = "{{{{.Vars}}}} {{{{.Path}}}}; exit 3"
    valid_exit_codes = [3]
    inline           = ["echo before-exit"]
  }}
  provisioner "shell" {{
    valid_exit_codes = [0, 7]
    inline           = ["exit 7"]
  }}
}}
"#,
        src = sshd.null_source("")
    );
    write(d, "t.pkr.hcl", &tpl);
    let before = sshd.sessions();
    let out = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(out.code, 0, "{}", out.all());
    for line in [
        format!("    null.remote: running={r}/custom.sh\n"),
        "    null.remote: -rwxr-xr-x\n".to_string(),
        "    null.remote: stdin-at-eof\n".to_string(),
        "    null.remote: kept\n".to_string(),
        "    null.remote: FOO=from-exec BAR=b a'r\n".to_string(),
        "    null.remote: before-exit\n".to_string(),
    ] {
        assert!(
            out.stdout.contains(&line),
            "{line:?} missing:\n{}",
            out.stdout
        );
    }
    assert!(!out.all().contains("kiln-upload-failed"), "{}", out.all());
    // One session per script, nothing else.
    assert_eq!(sshd.sessions() - before, 5, "{}", out.all());
    // Removed after running (also when execute_command exits), except with skip_clean.
    let mut left: Vec<String> = std::fs::read_dir(&remote)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["kept.sh"]);
    assert!(std::fs::read_to_string(remote.join("kept.sh"))
        .unwrap()
        .contains("echo kept"));

    // An exit code outside valid_exit_codes, a remote_path that cannot be written, and a
    // script that drops its own connection without and with expect_disconnect.
    let fail = |body: &str| {
        let tpl = format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"shell\" {{\n{body}\n  }}\n}}\n",
            sshd.null_source("")
        );
        write(d, "f.pkr.hcl", &tpl);
        run(KILN, d, &["build", "f.pkr.hcl"])
    };
    let o = fail("    inline = [\"exit 7\"]");
    assert_eq!(o.code, 1);
    assert!(
        o.all()
            .contains("Script exited with non-zero exit status: 7. Allowed exit codes are: [0]"),
        "{}",
        o.all()
    );
    let o = fail(&format!(
        "    remote_path = \"{r}/missing/x.sh\"\n    inline = [\"echo never\"]"
    ));
    assert_eq!(o.code, 1);
    assert!(o.all().contains("Error uploading script: "), "{}", o.all());
    assert!(
        o.all().contains(&format!("{r}/missing/x.sh")),
        "{}",
        o.all()
    );
    assert!(
        !o.all().contains("never") && !o.all().contains("kiln-upload-failed"),
        "{}",
        o.all()
    );
    // Kill this session's sshd process: the connection ends without an exit status.
    let drop_conn = "kill -9 $(ps -o ppid= -p $PPID)";
    let o = fail(&format!("    inline = [\"{drop_conn}\"]"));
    assert_eq!(o.code, 1);
    assert!(
        o.all().contains("Script disconnected unexpectedly."),
        "{}",
        o.all()
    );
    let o = fail(&format!(
        "    expect_disconnect = true\n    inline = [\"{drop_conn}\"]"
    ));
    assert_eq!(o.code, 0, "{}", o.all());
    assert!(
        o.stdout
            .contains("Remote end disconnected as expected (expect_disconnect = true)"),
        "{}",
        o.stdout
    );
}

/// The fault rows "sshd killed mid-upload" and "mid-command": the session's server process
/// dies (a crash, an OOM kill); the build fails within a bounded time, saying the connection
/// was lost, and leaves nothing local behind.
#[test]
fn sshd_killed_mid_upload_or_mid_command_fails_at_once_saying_the_connection_was_lost() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let remote = d.join("remote");
    std::fs::create_dir(&remote).unwrap();
    // 64 GiB, sparse here: the upload lasts far longer than the test waits.
    std::fs::File::create(d.join("huge.img"))
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    let marker = remote.join("started");
    for (name, provisioner, started, cause) in [
        (
            "upload",
            format!(
                "provisioner \"file\" {{\n    source = \"huge.img\"\n    destination = \"{}\"\n  }}",
                remote.join("huge.img").display()
            ),
            remote.join("huge.img"),
            "connection to the machine was lost",
        ),
        (
            "command",
            format!(
                "provisioner \"shell\" {{\n    inline = [\"echo x > {}\", \"sleep 60\"]\n  }}",
                marker.display()
            ),
            marker.clone(),
            // Packer's words for a script whose connection ends.
            "Script disconnected unexpectedly",
        ),
    ] {
        let tpl = format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  {provisioner}\n}}\n",
            sshd.null_source("")
        );
        write(d, "t.pkr.hcl", &tpl);
        let log = d.join(format!("{name}.log"));
        let f = std::fs::File::create(&log).unwrap();
        let mut child = kiln_tests::isolated(KILN)
            .args(["build", "t.pkr.hcl"])
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::metadata(&started).map_or(0, |m| m.len()) == 0 {
            assert!(Instant::now() < deadline, "{name}: never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(sshd.kill_sessions() >= 1, "{name}: no session to kill");
        let killed = Instant::now();
        let code = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st.code();
            }
            if killed.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name}: kiln still running 20 s after sshd died");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = std::fs::read_to_string(&log).unwrap();
        assert_eq!(code, Some(1), "{name}:\n{out}");
        assert!(
            out.contains(cause),
            "{name}: the cause is not named:\n{out}"
        );
        assert!(!out.contains("is scp installed"), "{name}:\n{out}");
        let _ = std::fs::remove_file(&started);
    }
    // Nothing local is left: no journal, no temp files beside the template.
    let mut left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "command.log",
            "huge.img",
            "remote",
            "t.pkr.hcl",
            "upload.log"
        ]
    );
}

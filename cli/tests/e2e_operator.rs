//! The operator's controls, end to end through the binary against a real sshd on loopback:
//! `-on-error=ask` (answered on a pseudo-terminal, as a person would), `-debug`'s pauses,
//! `-on-error=abort` and `run-cleanup-provisioner`, provisioner retries, and `-log-dir`.

use kiln_tests::{run, run_on_terminal, run_with_input, Sshd};
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

/// A build whose first provisioner fails until `d/fixed` exists (each failure counts itself in
/// `d/tries`), a second one that marks `d/second`, and an error-cleanup-provisioner that marks
/// `d/cleaned`.
fn template(sshd: &Sshd, d: &Path, fails_first: bool) -> String {
    let d = d.display();
    let first = if fails_first {
        format!("echo try >> {d}/tries; test -f {d}/fixed || {{ touch {d}/fixed; exit 3; }}")
    } else {
        format!("echo try >> {d}/tries; exit 3")
    };
    format!(
        "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"shell\" {{\n    inline = [\"{first}\"]\n  }}\n  provisioner \"shell\" {{\n    inline = [\"touch {d}/second\"]\n  }}\n  error-cleanup-provisioner \"shell\" {{\n    inline = [\"touch {d}/cleaned\"]\n  }}\n}}\n",
        sshd.null_source(""),
    )
}

fn tries(d: &Path) -> usize {
    std::fs::read_to_string(d.join("tries"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn ask_retry_runs_the_failed_provisioner_again_and_the_build_goes_on() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.pkr.hcl"), template(&sshd, d, true)).unwrap();
    // A nonsense answer is asked again; "r" retries.
    let r = run_on_terminal(
        KILN,
        d,
        &["build", "-on-error=ask", "t.pkr.hcl"],
        b"what\nr\n",
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    for want in [
        "==> null.remote: Provisioner 'shell' failed\n",
        &format!(
            "==> null.remote: The machine is still running; log in with: ssh -p {} -i {} {}@127.0.0.1\n",
            sshd.port,
            sshd.key_path().display(),
            sshd.user
        ),
        "==> null.remote: [c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?\n",
        "==> null.remote: Incorrect input: \"what\"\n",
        "==> null.remote: Retrying provisioner 'shell'\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{}", r.all());
    }
    assert!(
        r.all()
            .contains("Script exited with non-zero exit status: 3"),
        "{}",
        r.all()
    );
    assert_eq!(tries(d), 2);
    assert!(
        d.join("second").exists(),
        "the next provisioner did not run"
    );
    assert!(
        !d.join("cleaned").exists(),
        "no error cleanup after a retry that worked"
    );
    assert!(
        !d.join("null.remote.pem").exists(),
        "the template's own key file is named, not copied"
    );
}

#[test]
fn ask_abort_keeps_the_machine_names_its_key_file_and_cleanup_runs_the_error_cleanup() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.pkr.hcl"), template(&sshd, d, false)).unwrap();

    let r = run_on_terminal(KILN, d, &["build", "-on-error=ask", "t.pkr.hcl"], b"a\n");
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(tries(d), 1);
    assert!(
        !d.join("cleaned").exists(),
        "abort must not run the error cleanup"
    );
    // The machine is reached with the template's own key file: no copy of it is written.
    assert!(
        r.stdout.contains(&format!(
            "log in with: ssh -p {} -i {} {}@127.0.0.1\n",
            sshd.port,
            sshd.key_path().display(),
            sshd.user
        )),
        "{}",
        r.all()
    );
    let key = d.join("null.remote.pem");
    assert!(!key.exists());

    let r = run_on_terminal(KILN, d, &["build", "-on-error=ask", "t.pkr.hcl"], b"C\n");
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        d.join("cleaned").exists(),
        "cleanup runs the error-cleanup-provisioner"
    );
    assert!(!key.exists());
    assert!(!d.join("second").exists());
}

#[test]
fn ask_without_a_terminal_cleans_up_and_says_why() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.pkr.hcl"), template(&sshd, d, false)).unwrap();
    let r = run(KILN, d, &["build", "-on-error=ask", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("==> null.remote: There is no one to answer (no terminal): cleaning up.\n"),
        "{}",
        r.all()
    );
    assert!(d.join("cleaned").exists());
    assert!(!d.join("null.remote.pem").exists());
}

#[test]
fn abort_and_run_cleanup_provisioner_as_packer() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("t.pkr.hcl"), template(&sshd, d, false)).unwrap();
    let r = run(KILN, d, &["build", "-on-error=abort", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!d.join("cleaned").exists(), "abort runs no error cleanup");
    let r = run(
        KILN,
        d,
        &["build", "-on-error=run-cleanup-provisioner", "t.pkr.hcl"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(d.join("cleaned").exists());
    let r = run(KILN, d, &["build", "-on-error=sometimes", "t.pkr.hcl"]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            1,
            "Error: -on-error=sometimes is not one of cleanup, abort, ask, run-cleanup-provisioner.\n"
        )
    );
}

#[test]
fn debug_pauses_before_each_provisioner_until_enter() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"shell\" {{\n    inline = [\"echo one\"]\n  }}\n  provisioner \"shell\" {{\n    inline = [\"echo two\"]\n  }}\n}}\n",
            sshd.null_source("")
        ),
    )
    .unwrap();
    let r = run_with_input(KILN, d, &["build", "-debug", "t.pkr.hcl"], b"\n\n");
    assert_eq!(r.code, 0, "{}", r.all());
    let out = &r.stdout;
    assert!(
        out.starts_with("Debug mode enabled. Builds will not be parallelized.\n"),
        "{out}"
    );
    let pause = "==> null.remote: Pausing before the next provisioner. Press enter to continue.\n";
    assert_eq!(out.matches(pause).count(), 2, "{out}");
    // Each pause comes before its provisioner's output.
    let first = out.find(pause).unwrap();
    let one = out.find("null.remote: one").unwrap();
    let second = out.rfind(pause).unwrap();
    let two = out.find("null.remote: two").unwrap();
    assert!(first < one && one < second && second < two, "{out}");
}

#[test]
fn max_retries_backs_off_and_says_when_the_limit_is_reached() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dd = d.display();
    std::fs::write(
        d.join("t.pkr.hcl"),
        format!(
            "{}build {{\n  sources = [\"source.null.remote\"]\n  provisioner \"shell\" {{\n    max_retries = 2\n    inline = [\"echo try >> {dd}/tries; exit 4\"]\n  }}\n}}\n",
            sshd.null_source("")
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(tries(d), 3);
    let out = &r.stdout;
    assert!(
        out.contains("==> null.remote: Provisioner failed with \"Script exited with non-zero exit status: 4. Allowed exit codes are: [0]\", retrying with 2 trie(s) left (in "),
        "{out}"
    );
    assert!(out.contains("retrying with 1 trie(s) left (in "), "{out}");
    assert!(
        out.contains("==> null.remote: retry limit reached.\n"),
        "{out}"
    );
    // 1-2 s, then 2-4 s.
    assert!(took >= std::time::Duration::from_secs(3), "{took:?}");
}

#[test]
fn log_dir_keeps_one_log_per_parallel_build_with_its_output_and_ssh_commands() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        format!(
            "variable \"token\" {{\n  type      = string\n  sensitive = true\n}}\n{}build {{\n  source \"source.null.remote\" {{\n    name = \"one\"\n  }}\n  source \"source.null.remote\" {{\n    name = \"two\"\n  }}\n  provisioner \"shell\" {{\n    inline = [\"echo said-by-${{source.name}} ${{var.token}}\"]\n  }}\n}}\n",
            sshd.null_source("")
        ),
    )
    .unwrap();
    let r = run(
        KILN,
        d,
        &[
            "build",
            "-log-dir",
            "logs",
            "-var",
            "token=hunter2-s3cret",
            "t.pkr.hcl",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let mut names: Vec<String> = std::fs::read_dir(d.join("logs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["null.one.log", "null.two.log"]);
    for (me, other) in [("one", "two"), ("two", "one")] {
        let log = std::fs::read_to_string(d.join("logs").join(format!("null.{me}.log"))).unwrap();
        assert!(log.contains("build started"), "{log}");
        assert!(
            log.contains(&format!("    [stdout] said-by-{me} <sensitive>")),
            "{log}"
        );
        assert!(
            log.contains("DEBUG kiln_communicator::ssh: ssh exec"),
            "{log}"
        );
        assert!(log.contains("build finished in "), "{log}");
        assert!(!log.contains(&format!("said-by-{other}")), "{log}");
        assert!(!log.contains("hunter2"), "secret in the log: {log}");
        // Every line is timestamped, or continues the one before.
        assert!(
            log.lines()
                .all(|l| l.starts_with("    | ")
                    || (l.starts_with("20") && l.as_bytes()[10] == b'T')),
            "{log}"
        );
    }
}

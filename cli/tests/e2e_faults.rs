//! The fault matrix, end to end through the binary: signals sent to Kiln's PID alone (as
//! `timeout`, CI runners and `kill` send them), a `SIGKILL` in the middle of a build, and
//! `kiln cleanup` removing exactly what the killed run left, from its journal. Each test checks
//! the process table and the file system for leaks.

use kiln_tests::qemu::{base_image, processes_with};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn token() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

/// `kiln ARGS` in `d` with its journals in `d/state`.
fn kiln(d: &Path, args: &[&str]) -> Command {
    let mut c = kiln_tests::isolated(KILN);
    c.args(args)
        .current_dir(d)
        .env("KILN_STATE_DIR", d.join("state"))
        .stdin(Stdio::null());
    c
}

fn output(mut c: Command) -> (i32, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

use kiln_tests::start_until;

fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success());
}

fn wait_gone(needle: &str, within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left = processes_with(needle);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `shell-local` whose script starts a child that would write a file 3 s later: a signal to
/// Kiln's PID alone must stop that child too (it runs in the command's own process group), and
/// SIGHUP is handled as SIGTERM and SIGINT are.
#[test]
fn a_signal_to_kiln_alone_stops_shell_locals_children() {
    for sig in ["TERM", "HUP", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let t = token();
        let late = d.join("late");
        write(
            d,
            "t.pkr.hcl",
            &format!(
                "source \"null\" \"n\" {{\n  communicator = \"none\"\n}}\nbuild {{\n  sources = [\"source.null.n\"]\n  provisioner \"shell-local\" {{\n    inline = [\"sh -c 'sleep 3; echo late > {late}' {t} &\", \"echo ready-{t}\", \"sleep 300\"]\n  }}\n}}\n",
                late = late.display()
            ),
        );
        let (mut child, mut seen, lines) =
            start_until(kiln(d, &["build", "t.pkr.hcl"]), &format!("ready-{t}"));
        // The background child may start a moment after the script's next line printed.
        let deadline = Instant::now() + Duration::from_secs(5);
        while processes_with(&t).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // (Two for a moment, while the child forks its `sleep`.)
        assert!(
            !processes_with(&t).is_empty(),
            "{sig}: the script's child runs"
        );
        let sent = Instant::now();
        signal(&child, sig);
        for l in lines {
            seen.push_str(&l.unwrap());
            seen.push('\n');
        }
        let status = child.wait().unwrap();
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "{sig}: {:?}",
            sent.elapsed()
        );
        assert_eq!(status.code(), Some(1), "{sig}: {seen}");
        assert!(seen.contains("Build 'null.n' errored"), "{sig}: {seen}");
        assert!(
            wait_gone(&t, Duration::from_secs(2)).is_empty(),
            "{sig}: the child survived"
        );
        std::thread::sleep(Duration::from_secs(4));
        assert!(
            !late.exists(),
            "{sig}: a child of shell-local wrote after Kiln exited"
        );
        // The run cleaned up after itself: no journal is left.
        let journals = d.join("state/journal");
        assert_eq!(
            std::fs::read_dir(&journals).map(|r| r.count()).unwrap_or(0),
            0,
            "{sig}: a journal was left in {}",
            journals.display()
        );
    }
}

/// `SIGKILL` in the middle of a qemu build: QEMU dies with Kiln (its parent-death signal), the
/// journal holds what was left (the VM's scratch directory and the partial output), the next
/// build warns about it, `kiln cleanup --dry-run` lists it, and `kiln cleanup` removes exactly
/// that, once.
#[test]
fn sigkill_mid_build_then_kiln_cleanup_leaves_nothing() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let name = format!("kiln-sigkill-{}", token());
    write(
        d,
        "t.pkr.hcl",
        &format!(
            r#"source "qemu" "vm" {{
  iso_url          = "{}"
  iso_checksum     = "none"
  disk_image       = true
  skip_resize_disk = true
  accelerator      = "tcg"
  headless         = true
  ssh_username     = "root"
  ssh_password     = "kilnroot"
  ssh_timeout      = "120s"
  vm_name          = "{name}"
}}
build {{
  sources = ["source.qemu.vm"]
  provisioner "shell" {{
    inline = ["echo ready-for-kill", "sleep 300"]
  }}
}}
"#,
            base.display()
        ),
    );
    let mut c = kiln(d, &["build", "t.pkr.hcl"]);
    c.env("TMPDIR", &tmp);
    let (mut child, seen, _lines) = start_until(c, "ready-for-kill");
    assert_eq!(processes_with(&name).len(), 1, "QEMU runs: {seen}");
    signal(&child, "KILL");
    let _ = child.wait();
    assert!(
        wait_gone(&name, Duration::from_secs(5)).is_empty(),
        "QEMU outlived a SIGKILL of Kiln"
    );
    let partial: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("kiln-partial"))
        .collect();
    assert_eq!(
        partial.len(),
        1,
        "the partial output is there to clean: {partial:?}"
    );
    assert!(
        std::fs::read_dir(&tmp).unwrap().count() > 0,
        "the scratch directory too"
    );

    // The next build warns.
    write(
        d,
        "null.pkr.hcl",
        "source \"null\" \"n\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.n\"]\n}\n",
    );
    let (code, out) = output(kiln(d, &["build", "null.pkr.hcl"]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Warning: 4 resources left by 1 earlier run that did not finish its cleanup; `kiln cleanup` removes them.\n"),
        "{out}"
    );

    // The dry run lists them, newest first, and changes nothing.
    let (code, out) = output(kiln(d, &["cleanup", "--dry-run"]));
    assert_eq!(code, 0, "{out}");
    let listed: Vec<&str> = out.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(
        listed,
        ["temporary", "QEMU", "partial", "temporary"],
        "{out}"
    );
    assert!(
        std::fs::read_dir(&tmp).unwrap().count() > 0,
        "a dry run removes nothing"
    );

    let (code, out) = output(kiln(d, &["cleanup"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("==> Removing QEMU process "), "{out}");
    assert!(
        out.contains("==> Removing partial output directory "),
        "{out}"
    );
    assert!(out.contains("==> Removing temporary directory "), "{out}");
    assert!(out.ends_with("Removed 4 resources.\n"), "{out}");
    let scratch: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(scratch.is_empty(), "scratch left: {scratch:?}");
    let left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !["t.pkr.hcl", "null.pkr.hcl", "tmp", "state"].contains(&n.as_str()))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(
        std::fs::read_dir(d.join("state/journal")).unwrap().count(),
        0
    );

    let (code, out) = output(kiln(d, &["cleanup"]));
    assert_eq!((code, out.as_str()), (0, "Nothing to clean up.\n"));
}

/// Ctrl-C while `compress` works on a large file stops it at once and leaves no archive, and
/// Ctrl-C at a `breakpoint` (whose terminal read is still pending) ends Kiln without an Enter.
#[test]
fn ctrl_c_stops_compress_and_breakpoint_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    {
        use std::io::Read;
        let mut noise = vec![0u8; 96 << 20];
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut noise)
            .unwrap();
        std::fs::write(d.join("big.bin"), noise).unwrap();
    }
    write(
        d,
        "c.pkr.hcl",
        "source \"file\" \"big\" {\n  source = \"big.bin\"\n  target = \"out/big.bin\"\n}\nbuild {\n  sources = [\"source.file.big\"]\n  post-processor \"compress\" {\n    output            = \"out/big.tar.xz\"\n    compression_level = 9\n  }\n}\n",
    );
    let (mut child, mut seen, lines) = start_until(kiln(d, &["build", "c.pkr.hcl"]), "Compressing");
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    signal(&child, "INT");
    for l in lines {
        seen.push_str(&l.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}\n{seen}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(1), "{seen}");
    let out: Vec<String> = std::fs::read_dir(d.join("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !out.iter().any(|n| n.starts_with("big.tar.xz")),
        "a cancelled compress left {out:?}"
    );

    write(
        d,
        "b.pkr.hcl",
        "source \"null\" \"n\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.n\"]\n  provisioner \"breakpoint\" {\n    note = \"here\"\n  }\n}\n",
    );
    let mut c = kiln(d, &["build", "b.pkr.hcl"]);
    // A standard input that stays open, as a terminal's does.
    c.stdin(Stdio::piped());
    let (mut child, _seen, lines) = start_until(c, "Pausing at breakpoint");
    let sent = Instant::now();
    signal(&child, "INT");
    for l in lines {
        let _ = l;
    }
    let status = child.wait().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(1));
    drop(child.stdin.take());
}

/// An empty, random or truncated disk image with `iso_checksum = "none"` fails at once with
/// what is wrong, before a VM boots (instead of waiting the whole `ssh_timeout`), and leaves
/// nothing behind.
#[test]
fn a_broken_base_image_fails_before_booting() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.img"), b"").unwrap();
    std::fs::write(d.join("page.img"), b"<html>Not Found</html>\n".repeat(100)).unwrap();
    for (image, why) in [
        ("empty.img", "it is empty (0 bytes)"),
        ("page.img", "its first sector is no boot record"),
    ] {
        write(
            d,
            "t.pkr.hcl",
            &format!(
                "source \"qemu\" \"vm\" {{\n  iso_url = \"{image}\"\n  iso_checksum = \"none\"\n  disk_image = true\n  format = \"raw\"\n  accelerator = \"tcg\"\n  headless = true\n  ssh_username = \"root\"\n  ssh_password = \"x\"\n  ssh_timeout = \"3m\"\n}}\nbuild {{\n  sources = [\"source.qemu.vm\"]\n}}\n"
            ),
        );
        let started = Instant::now();
        let (code, out) = output(kiln(d, &["build", "t.pkr.hcl"]));
        assert!(started.elapsed() < Duration::from_secs(20), "{out}");
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!("The disk image {image} cannot be booted: {why}")),
            "{out}"
        );
        let left: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !["t.pkr.hcl", "empty.img", "page.img", "state"].contains(&n.as_str()))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

/// A guest whose SSH never answers (here: the template names a port nothing listens on in the
/// guest) fails at `ssh_timeout` with the last lines of the guest's serial console, which
/// usually say why (a kernel panic, an sshd that did not start); QEMU and the partial output
/// are gone.
#[test]
fn ssh_that_never_comes_shows_the_serial_console_tail() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = format!("kiln-nossh-{}", token());
    write(
        d,
        "t.pkr.hcl",
        &format!(
            r#"source "qemu" "vm" {{
  iso_url          = "{}"
  iso_checksum     = "none"
  disk_image       = true
  skip_resize_disk = true
  accelerator      = "tcg"
  headless         = true
  ssh_username     = "root"
  ssh_password     = "kilnroot"
  ssh_port         = 2201
  ssh_timeout      = "25s"
  vm_name          = "{name}"
}}
build {{
  sources = ["source.qemu.vm"]
}}
"#,
            base.display()
        ),
    );
    let (code, out) = output(kiln(d, &["build", "t.pkr.hcl"]));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("timeout waiting for SSH after 25 seconds"),
        "{out}"
    );
    let (_, tail) = out
        .split_once("The guest's serial console ended with:\n")
        .unwrap_or_else(|| panic!("no serial console tail:\n{out}"));
    assert!(
        tail.lines().next().is_some_and(|l| !l.trim().is_empty()),
        "an empty tail:\n{out}"
    );
    assert!(
        wait_gone(&name, Duration::from_secs(5)).is_empty(),
        "QEMU left running"
    );
    assert!(!d.join("output-vm").exists(), "the partial output is kept");
}

/// A qemu source on the test image (TCG, password login) named `name`, with `extra` lines.
fn qemu_source(base: &Path, name: &str, extra: &str) -> String {
    format!(
        r#"source "qemu" "vm" {{
  iso_url          = "{}"
  iso_checksum     = "none"
  disk_image       = true
  skip_resize_disk = true
  accelerator      = "tcg"
  headless         = true
  ssh_username     = "root"
  ssh_password     = "kilnroot"
  ssh_timeout      = "120s"
  vm_name          = "{name}"
{extra}}}
"#,
        base.display()
    )
}

/// The VM killed in the middle of a provisioner: the build fails at once saying QEMU went
/// away (not a provisioner timeout), and leaves neither QEMU nor the partial output.
#[test]
fn the_vm_killed_mid_provision_fails_at_once_naming_it() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = format!("kiln-killed-{}", token());
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.qemu.vm\"]\n  provisioner \"shell\" {{\n    inline = [\"echo provisioning-now\", \"sleep 120\"]\n  }}\n}}\n",
            qemu_source(&base, &name, "")
        ),
    );
    let (mut child, mut seen, lines) =
        start_until(kiln(d, &["build", "t.pkr.hcl"]), "provisioning-now");
    let vms = processes_with(&name);
    assert_eq!(vms.len(), 1, "one QEMU: {vms:?}");
    let killed = Instant::now();
    assert!(Command::new("kill")
        .args(["-KILL", &vms[0].to_string()])
        .status()
        .unwrap()
        .success());
    for l in lines {
        seen.push_str(&l.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    let took = killed.elapsed();
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(took < Duration::from_secs(10), "{took:?}\n{seen}");
    assert!(
        seen.contains("--> qemu.vm: QEMU exited during provisioning (signal: 9 (SIGKILL))."),
        "{seen}"
    );
    assert!(wait_gone(&name, Duration::from_secs(5)).is_empty());
    assert!(!d.join("output-vm").exists(), "the partial output is kept");
}

/// The host's file system fills up while the guest writes (the output directory on a small
/// tmpfs, in a mount namespace of its own): QEMU stops the VM with BLOCK_IO_ERROR / nospace,
/// and the build fails at once saying the host's disk is full, where, instead of a provisioner
/// hanging until a timeout.
#[test]
fn a_full_host_disk_during_provisioning_is_named_as_the_cause() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("small")).unwrap();
    let name = format!("kiln-full-{}", token());
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.qemu.vm\"]\n  provisioner \"shell\" {{\n    inline = [\"dd if=/dev/urandom of=/fill bs=1M count=48 conv=fsync\"]\n  }}\n}}\n",
            qemu_source(
                &base,
                &name,
                "  use_backing_file = true\n  output_directory = \"small/out\"\n"
            )
        ),
    );
    let c = in_small_tmpfs(d, "12m");
    let started = Instant::now();
    let (code, out) = output(c);
    assert_ne!(code, 97, "{out}");
    assert!(
        out.contains("--> qemu.vm: QEMU stopped the VM during provisioning (the host's file system is full: QEMU could not write the disk "),
        "{out}"
    );
    assert!(
        out.contains(
            "(No space left on device); free some space there or set output_directory elsewhere)."
        ),
        "{out}"
    );
    assert!(out.contains("rc=1\n"), "{out}");
    // Nothing left in the full file system: no partial output, no staging directory.
    assert!(out.trim_end().ends_with("rc=1"), "left behind: {out}");
    assert!(
        started.elapsed() < Duration::from_secs(100),
        "{:?}",
        started.elapsed()
    );
    assert!(wait_gone(&name, Duration::from_secs(5)).is_empty());
}

fn in_small_tmpfs(d: &Path, size: &str) -> Command {
    kiln_tests::in_small_tmpfs(KILN, d, size)
}

/// The output file system fills up while the disk is compacted (`qemu-img convert`): the
/// build fails with qemu-img's error and what to do, and leaves nothing in the full file
/// system.
#[test]
fn a_full_output_file_system_during_compaction_fails_cleanly() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("small")).unwrap();
    let name = format!("kiln-fullconv-{}", token());
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.qemu.vm\"]\n}}\n",
            qemu_source(
                &base,
                &name,
                "  output_directory = \"small/out\"\n  shutdown_command = \"poweroff\"\n  shutdown_timeout = \"60s\"\n"
            )
        ),
    );
    // The base image (25 MB) is copied in; its compacted copy does not fit beside it.
    let (code, out) = output(in_small_tmpfs(d, "40m"));
    assert_ne!(code, 97, "{out}");
    assert!(
        out.contains("--> qemu.vm: qemu-img convert -O qcow2 "),
        "{out}"
    );
    assert!(out.contains(": No space left on device\nThe file system it writes to is full: free some space there, or set output_directory elsewhere.\n"), "{out}");
    assert!(out.trim_end().ends_with("rc=1"), "left behind: {out}");
    assert!(wait_gone(&name, Duration::from_secs(5)).is_empty());
}

/// The download cache's file system fills up while an image downloads: the build fails with
/// the write error and what to do, before any VM starts, and leaves no partial download.
#[test]
fn a_full_file_system_during_a_download_fails_cleanly() {
    let base = base_image(false);
    let served = tempfile::tempdir().unwrap();
    std::fs::copy(&base, served.path().join("base.qcow2")).unwrap();
    let server = kiln_tests::FileServer::start(served.path());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("small")).unwrap();
    let name = format!("kiln-fulldl-{}", token());
    let url = format!("http://127.0.0.1:{}/base.qcow2", server.port);
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.qemu.vm\"]\n}}\n",
            qemu_source(Path::new(&url), &name, "")
        ),
    );
    let mut c = in_small_tmpfs(d, "8m");
    c.env("PACKER_CACHE_DIR", "small/cache");
    let (code, out) = output(c);
    assert_ne!(code, 97, "{out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(
        out.contains("free some space"),
        "no advice on what to do: {out}"
    );
    assert!(!out.contains("Starting VM"), "{out}");
    assert!(out.contains("rc=1\n"), "{out}");
    // Only the (empty) cache directory may remain.
    let left = out.rsplit("rc=1\n").next().unwrap_or("").trim();
    assert!(
        left.is_empty() || left == "cache",
        "left behind: {left:?}\n{out}"
    );
    assert!(wait_gone(&name, Duration::from_secs(5)).is_empty());
}

/// The fault matrix of a qemu build: at each of its steps (the disks made, QEMU started, the
/// wait for SSH, a provisioner, the shutdown, the compaction), a SIGKILL of Kiln, and a Ctrl-C
/// pressed twice (the second stops waiting for the cleanups), each followed by `kiln cleanup`,
/// leave no QEMU, no partial output, no scratch file and no journal.
#[test]
fn sigkill_or_two_ctrl_cs_at_every_qemu_step_then_cleanup_leave_nothing() {
    let base = base_image(false);
    let steps = [
        "Copying hard drive",
        "Starting VM",
        "Waiting for SSH",
        "ready-to-provision",
        "Gracefully halting",
        "Converting hard drive",
    ];
    for how in ["KILL", "INT twice"] {
        for step in steps {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            let tmp = d.join("tmp");
            std::fs::create_dir(&tmp).unwrap();
            let name = format!("kiln-matrix-{}", token());
            write(
                d,
                "t.pkr.hcl",
                &format!(
                    "{}build {{\n  sources = [\"source.qemu.vm\"]\n  provisioner \"shell\" {{\n    inline = [\"echo ready-to-provision\", \"sleep 2\"]\n  }}\n}}\n",
                    qemu_source(
                        &base,
                        &name,
                        "  shutdown_command = \"sleep 2; poweroff\"\n  disk_compression = true\n"
                    )
                ),
            );
            let mut c = kiln(d, &["build", "t.pkr.hcl"]);
            c.env("TMPDIR", &tmp);
            let (mut child, mut seen, lines) = start_until(c, step);
            let at = format!("{how} at {step:?}");
            if how == "KILL" {
                signal(&child, "KILL");
            } else {
                signal(&child, "INT");
                std::thread::sleep(Duration::from_millis(30));
                // The first may have ended the build already.
                let _ = Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status();
            }
            // Read what is left to read (a killed Kiln's output ends at once).
            let reader = std::thread::spawn(move || {
                let mut rest = String::new();
                for l in lines.map_while(Result::ok) {
                    rest.push_str(&l);
                    rest.push('\n');
                }
                rest
            });
            let status = child.wait().unwrap();
            seen.push_str(&reader.join().unwrap());
            if how == "KILL" {
                assert_eq!(status.code(), None, "{at}: {seen}");
            } else {
                assert!(
                    matches!(status.code(), Some(1 | 130)),
                    "{at}: {status:?}\n{seen}"
                );
            }
            assert!(
                wait_gone(&name, Duration::from_secs(5)).is_empty(),
                "{at}: QEMU outlived Kiln"
            );
            let (code, out) = output(kiln(d, &["cleanup"]));
            assert_eq!(code, 0, "{at}: {out}");
            let left: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains("kiln-partial") || n == "output-vm")
                .collect();
            assert!(left.is_empty(), "{at}: left {left:?}\n{seen}\n{out}");
            let scratch: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
            assert!(scratch.is_empty(), "{at}: scratch left {scratch:?}");
            let journals = std::fs::read_dir(d.join("state/journal"))
                .map(|r| r.count())
                .unwrap_or(0);
            assert_eq!(journals, 0, "{at}: a journal is left\n{out}");
        }
    }
}

/// `SIGKILL` of `kiln test` while its throwaway VM boots: QEMU dies with Kiln (its parent-death
/// signal), and the VM's scratch directory is in the journal, so that `kiln cleanup` removes it.
#[test]
fn sigkill_of_kiln_test_leaves_no_vm_and_cleanup_removes_its_directory() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let image = d.join(format!("kiln-test-kill-{}.qcow2", token()));
    std::fs::copy(&base, &image).unwrap();
    let name = image.file_name().unwrap().to_string_lossy().into_owned();
    let qemu = || kiln_tests::qemu::qemu_processes_with(&name);
    write(d, "goss.yaml", "file:\n  /etc/passwd:\n    exists: true\n");
    let mut c = kiln(
        d,
        &[
            "test",
            image.to_str().unwrap(),
            "--spec",
            "goss.yaml",
            "--ssh-password",
            "kilnroot",
            "--accelerator",
            "tcg",
        ],
    );
    c.env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while qemu().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(qemu().len(), 1, "the test VM runs");
    // QEMU's `-snapshot` overlay is a temporary file it unlinks once opened: a SIGKILL in
    // between leaves it, so it must be made inside the journaled directory.
    let environ = std::fs::read(format!("/proc/{}/environ", qemu()[0])).unwrap();
    let tmpdir = environ
        .split(|b| *b == 0)
        .find_map(|v| v.strip_prefix(b"TMPDIR="))
        .map(|v| PathBuf::from(String::from_utf8_lossy(v).into_owned()));
    assert!(
        tmpdir
            .as_ref()
            .is_some_and(|t| t.parent() == Some(tmp.as_path())
                && t.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("kiln-test-vm")),
        "QEMU's TMPDIR is {tmpdir:?}, not the VM's directory"
    );
    signal(&child, "KILL");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !qemu().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(qemu().is_empty(), "the test VM outlived a SIGKILL of Kiln");
    let scratch = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let left = scratch();
    assert!(
        left.len() == 1 && left[0].starts_with("kiln-test-vm"),
        "the VM's directory is left to clean: {left:?}"
    );
    let (code, out) = output(kiln(d, &["cleanup"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("==> Removing test VM directory "), "{out}");
    assert!(scratch().is_empty(), "scratch left: {:?}", scratch());
    assert_eq!(
        std::fs::read_dir(d.join("state/journal")).unwrap().count(),
        0
    );
}

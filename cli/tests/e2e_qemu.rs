//! End-to-end tests of the qemu builder: real QEMU VMs (TCG) booted from the project's tiny base
//! image, provisioned over SSH, and the resulting images booted again to check what is in them.

use kiln_tests::qemu::{base_image, processes_with, test_key, Vm};
use kiln_tests::{run, FileServer};
use sha2::Digest;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn sha256(path: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

fn token() -> String {
    format!(
        "{:x}",
        std::process::id() as u128 * 1_000_003 + Instant::now().elapsed().as_nanos()
    )
}

/// A `source "qemu"` block for the base image with the test defaults.
fn source(name: &str, image: &Path, extra: &str) -> String {
    format!(
        r#"source "qemu" "{name}" {{
{}{}  disk_image       = true
  accelerator      = "tcg"
  headless         = true
  ssh_username     = "root"
  ssh_timeout      = "120s"
  shutdown_command = "poweroff"
{extra}}}
"#,
        if extra.contains("iso_urls") {
            String::new()
        } else {
            format!("  iso_url          = \"{}\"\n", image.display())
        },
        if extra.contains("iso_checksum") {
            ""
        } else {
            "  iso_checksum     = \"none\"\n"
        }
    )
}

/// Entries of `dir` that are not `keep`.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

fn image_info(path: &Path) -> serde_json::Value {
    let o = Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn builds_a_qcow2_image_whose_changes_are_there_when_it_boots() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("www")).unwrap();
    write(&d.join("www"), "hello.txt", "hello-from-the-http-server\n");
    write(d, "payload.txt", "uploaded by the file provisioner\n");
    // A stale output directory: replaced because of -force.
    std::fs::create_dir(d.join("out")).unwrap();
    write(&d.join("out"), "stale", "old");
    // The image comes from a download site, its checksum from a SHA256SUMS file there; the
    // first URL is missing, so the builder falls back to the second.
    let site = d.join("site");
    std::fs::create_dir(&site).unwrap();
    std::fs::copy(&base, site.join("base.qcow2")).unwrap();
    let digest = sha256(&base);
    write(
        &site,
        "SHA256SUMS",
        &format!("{digest}  missing.qcow2\n{digest}  base.qcow2\n"),
    );
    let server = FileServer::start(&site);
    let url = format!("http://127.0.0.1:{}", server.port);
    let extra = format!(
        r#"  iso_urls         = ["{url}/missing.qcow2", "{url}/base.qcow2"]
  iso_checksum     = "file:{url}/SHA256SUMS"
  ssh_password     = "kilnroot"
  disk_size        = "1G"
  http_directory   = "www"
  output_directory = "out"
  vm_name          = "vm.qcow2"
"#
    );
    let build = r#"build {
  sources = ["source.qemu.vm"]
  provisioner "shell" {
    inline = [
      "echo provisioned-by-kiln > /etc/kiln-provisioned",
      "wget -q -O /root/fetched http://$PACKER_HTTP_ADDR/hello.txt",
      "echo fetched: $(cat /root/fetched)",
    ]
  }
  provisioner "file" {
    source      = "payload.txt"
    destination = "/root/payload.txt"
  }
  provisioner "goss" {
    tests  = ["goss.yaml"]
    format = "documentation"
  }
  provisioner "sbom" {
    formats = ["cyclonedx"]
    output  = "sbom.cdx.json"
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
"#;
    // goss, natively, against the VM's busybox userland (no getent, no ss).
    write(
        d,
        "goss.yaml",
        "file:\n  /etc/passwd:\n    exists: true\n    filetype: file\n    contents: [\"/^root:/\"]\n  /etc/kiln-provisioned:\n    exists: true\n    contents: [provisioned-by-kiln]\nuser:\n  root:\n    exists: true\n    uid: 0\n    home: /root\ngroup:\n  root:\n    exists: true\n    gid: 0\ncommand:\n  cat /root/fetched:\n    exit-status: 0\n    stdout: [hello-from-the-http-server]\nprocess:\n  dropbear:\n    running: true\nport:\n  tcp:22:\n    listening: true\nkernel-param:\n  kernel.ostype:\n    value: Linux\ninterface:\n  lo:\n    exists: true\n",
    );
    write(d, "t.pkr.hcl", &(source("vm", &base, &extra) + build));
    // Recorded in a catalog (outside the build's directory, whose leftovers are checked).
    let cat_dir = tempfile::tempdir().unwrap();
    let db = cat_dir.path().join("catalog.db");
    let env = [("KILN_CATALOG", db.to_str().unwrap())];
    let r = kiln_tests::run_with_env(KILN, d, &["build", "-force", "t.pkr.hcl"], &env);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("Recorded qemu.vm v1 ("), "{}", r.stderr);
    let show =
        kiln_tests::run_with_env(KILN, d, &["images", "show", "qemu.vm", "1", "--json"], &env);
    let v1: serde_json::Value =
        serde_json::from_str(&show.stdout).unwrap_or_else(|_| panic!("{}", show.all()));
    let art = &v1["artifacts"][0];
    let image = std::fs::canonicalize(d.join("out/vm.qcow2")).unwrap();
    assert_eq!(art["builder_type"], "qemu");
    assert_eq!(art["files"], serde_json::json!([image.to_str().unwrap()]));
    let size = std::fs::metadata(&image).unwrap().len();
    assert_eq!(art["size"], size);
    if size <= 64 << 20 {
        assert_eq!(art["checksum"], format!("sha256:{}", sha256(&image)));
    }
    for line in [
        format!("==> qemu.vm: Trying {url}/missing.qcow2\n"),
        format!("==> qemu.vm: Trying {url}/base.qcow2\n"),
        "==> qemu.vm: Starting VM, booting disk image\n".into(),
        "==> qemu.vm: Connected to SSH!\n".into(),
        "    qemu.vm: fetched: hello-from-the-http-server\n".into(),
        "==> qemu.vm: Gracefully halting virtual machine...\n".into(),
        "==> qemu.vm: Converting hard drive...\n".into(),
        "--> qemu.vm: VM files in directory: out\n".into(),
        "    qemu.vm: Process: dropbear: running: matches expectation: true\n".into(),
        "    qemu.vm: Count: 16, Failed: 0, Skipped: 0\n".into(),
    ] {
        assert!(
            r.stdout.contains(&line),
            "missing {line:?} in:\n{}",
            r.stdout
        );
    }
    assert!(
        !r.all().contains("kilnroot"),
        "the password leaked:\n{}",
        r.all()
    );
    assert_eq!(leftovers(&d.join("out"), &[]), vec!["vm.qcow2".to_string()]);
    let info = image_info(&d.join("out/vm.qcow2"));
    assert_eq!(info["format"], "qcow2");
    assert_eq!(info["virtual-size"], 1024 * 1024 * 1024);
    assert!(info.get("backing-filename").is_none(), "{info}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).unwrap()).unwrap();
    let b = &manifest["builds"][0];
    assert_eq!(b["builder_type"], "qemu");
    assert_eq!(b["artifact_id"], "out/vm.qcow2");
    assert_eq!(b["files"][0]["name"], "out/vm.qcow2");
    // Downloaded into Packer's default cache, named by its digest; nothing else left behind.
    assert_eq!(
        leftovers(&d.join("packer_cache"), &[]),
        vec![format!("{digest}.qcow2")]
    );
    // The SBOM lists the packages the image holds, as the host's dpkg knows them.
    let sbom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("sbom.cdx.json")).unwrap()).unwrap();
    let names: Vec<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"dropbear-bin"), "{names:?}");
    let dropbear = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dropbear-bin")
        .unwrap();
    let version = String::from_utf8(
        Command::new("dpkg-query")
            .args(["-W", "-f=${Version}", "dropbear-bin"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(dropbear["version"], version.as_str());
    assert!(
        dropbear["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/dropbear-bin@"),
        "{dropbear}"
    );
    assert_eq!(sbom["metadata"]["component"]["name"], "debian");
    let keep = [
        "www",
        "payload.txt",
        "goss.yaml",
        "sbom.cdx.json",
        "out",
        "t.pkr.hcl",
        "manifest.json",
        "site",
        "packer_cache",
    ];
    assert!(leftovers(d, &keep).is_empty(), "{:?}", leftovers(d, &[]));

    // The same spec against the built image, booted fresh, recorded with its version.
    let r = kiln_tests::run_with_env(
        KILN,
        d,
        &[
            "images",
            "test",
            "qemu.vm",
            "1",
            "--spec",
            "goss.yaml",
            "--ssh-password",
            "kilnroot",
            "--accelerator",
            "tcg",
            "--format",
            "tap",
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .starts_with("1..16\nok 1 - File: /etc/passwd: exists"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("Recorded the results with qemu.vm v1 in the catalog"),
        "{}",
        r.stderr
    );
    let show = kiln_tests::run_with_env(KILN, d, &["images", "show", "qemu.vm", "1"], &env);
    assert!(show.stdout.contains("\ntest-results "), "{}", show.stdout);
    assert!(
        show.stdout.contains(" 32 passed, 0 failed, 0 skipped\n"),
        "the build's 16 and the image's 16: {}",
        show.stdout
    );

    let vm = Vm::boot(&d.join("out/vm.qcow2"), "qcow2");
    assert_eq!(
        vm.ssh("cat /etc/kiln-provisioned"),
        (0, "provisioned-by-kiln\n".into())
    );
    assert_eq!(
        vm.ssh("cat /root/fetched"),
        (0, "hello-from-the-http-server\n".into())
    );
    assert_eq!(
        vm.ssh("cat /root/payload.txt"),
        (0, "uploaded by the file provisioner\n".into())
    );
}

#[test]
fn backing_file_with_boot_command_and_raw_with_a_cd_in_parallel() {
    let base = base_image(false);
    let prompt = base_image(true);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "extra.txt", "extra-file");
    std::fs::create_dir(d.join("seed")).unwrap();
    write(&d.join("seed"), "nested.txt", "n");
    let overlay = format!(
        r#"  ssh_private_key_file = "{}"
  use_backing_file     = true
  skip_resize_disk     = true
  machine_type         = "q35"
  boot_wait            = "1s"
  boot_key_interval    = "20ms"
  boot_command         = ["kiln kiln.typed=Yes-42<enter>"]
  output_directory     = "overlay"
  vm_name              = "overlay.qcow2"
"#,
        test_key().display()
    );
    let raw = r#"  ssh_password     = "kilnroot"
  format           = "raw"
  disk_size        = "600M"
  skip_compaction  = true
  output_directory = "raw"
  vm_name          = "raw.img"
  cd_files         = ["extra.txt", "seed"]
  cd_content       = { "user-data" = "cloud-config-here" }
  cd_label         = "cidata"
"#;
    let build = r#"build {
  sources = ["source.qemu.overlay", "source.qemu.raw"]
  provisioner "shell" {
    only   = ["qemu.overlay"]
    inline = ["grep -q kiln.typed=Yes-42 /proc/cmdline", "echo typed-ok > /root/typed"]
  }
  provisioner "shell" {
    only   = ["qemu.raw"]
    inline = [
      "echo raw-ok > /root/raw",
      "i=0; until cd=$(findfs LABEL=cidata) || [ $i -ge 100 ]; do usleep 100000; i=$((i+1)); done",
      # The guest may not have loaded iso9660 yet ("No such device") on a loaded host.
      "mkdir -p /mnt/cd; i=0; until mount -t iso9660 -o ro $cd /mnt/cd 2>/dev/null || [ $i -ge 100 ]; do usleep 100000; i=$((i+1)); done",
      "echo cd: $(cat /mnt/cd/extra.txt) $(cat /mnt/cd/user-data) $(ls /mnt/cd/seed)",
      "echo cidata-label-on: $cd",
      "umount /mnt/cd",
    ]
  }
}
"#;
    let tpl = source("overlay", &prompt, &overlay) + &source("raw", &base, raw) + build;
    write(d, "t.pkr.hcl", &tpl);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for line in [
        "==> qemu.overlay: Typing the boot command over QMP...\n",
        "    qemu.raw: cd: extra-file cloud-config-here nested.txt\n",
        "    qemu.raw: cidata-label-on: /dev/sr",
    ] {
        assert!(
            r.stdout.contains(line),
            "missing {line:?} in:\n{}",
            r.stdout
        );
    }

    let info = image_info(&d.join("overlay/overlay.qcow2"));
    assert_eq!(info["format"], "qcow2");
    assert_eq!(
        info["backing-filename"],
        std::fs::canonicalize(&prompt)
            .unwrap()
            .display()
            .to_string()
    );
    // The overlay holds only what provisioning changed.
    let size = std::fs::metadata(d.join("overlay/overlay.qcow2"))
        .unwrap()
        .len();
    assert!(size < 8 << 20, "overlay is {size} bytes");

    let info = image_info(&d.join("raw/raw.img"));
    assert_eq!(info["format"], "raw");
    assert_eq!(info["virtual-size"], 600 * 1024 * 1024);
    let vm = Vm::boot(&d.join("raw/raw.img"), "raw");
    assert_eq!(vm.ssh("cat /root/raw"), (0, "raw-ok\n".into()));
}

fn assert_nothing_left(d: &Path, tmp: &Path, name: &str, keep: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_with(name).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        processes_with(name).is_empty(),
        "QEMU is still running: {:?}",
        processes_with(name)
    );
    assert!(
        leftovers(d, keep).is_empty(),
        "left behind: {:?}",
        leftovers(d, keep)
    );
    assert!(
        leftovers(tmp, &[]).is_empty(),
        "temp files left: {:?}",
        leftovers(tmp, &[])
    );
}

#[test]
fn a_failing_provisioner_leaves_no_vm_no_temp_files_and_no_output() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let name = format!("kiln-fail-{}", token());
    let tpl = format!(
        "{}build {{\n  sources = [\"source.qemu.vm\"]\n  provisioner \"shell\" {{\n    inline = [\"echo about to fail\", \"exit 3\"]\n  }}\n}}\n",
        source(
            "vm",
            &base,
            &format!("  ssh_password = \"kilnroot\"\n  skip_resize_disk = true\n  vm_name = \"{name}\"\n  output_directory = \"build/images/out\"\n")
        )
    );
    write(d, "t.pkr.hcl", &tpl);
    let out = kiln_tests::isolated(KILN)
        .args(["build", "t.pkr.hcl"])
        .current_dir(d)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("    qemu.vm: about to fail\n"), "{all}");
    assert!(
        all.contains("Script exited with non-zero exit status: 3"),
        "{all}"
    );
    assert!(all.contains("==> qemu.vm: Stopping the VM...\n"), "{all}");
    assert_nothing_left(d, &tmp, &name, &["t.pkr.hcl", "tmp"]);
}

#[test]
fn ctrl_c_during_provisioning_stops_the_vm_and_removes_everything() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let name = format!("kiln-sigint-{}", token());
    let tpl = format!(
        "{}build {{\n  sources = [\"source.qemu.vm\"]\n  provisioner \"shell\" {{\n    inline = [\"echo ready-for-signal\", \"sleep 300\"]\n  }}\n}}\n",
        source(
            "vm",
            &base,
            &format!("  ssh_password = \"kilnroot\"\n  skip_resize_disk = true\n  vm_name = \"{name}\"\n")
        )
    );
    write(d, "t.pkr.hcl", &tpl);
    let mut child = kiln_tests::isolated(KILN)
        .args(["build", "t.pkr.hcl"])
        .current_dir(d)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("ready-for-signal") {
            break;
        }
    }
    assert!(seen.contains("ready-for-signal"), "{seen}");
    assert_eq!(processes_with(&name).len(), 1, "QEMU should be running now");
    let started = Instant::now();
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    for line in lines {
        seen.push_str(&line.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(
        seen.contains("Build was cancelled") || seen.contains("cancelled"),
        "{seen}"
    );
    assert_nothing_left(d, &tmp, &name, &["t.pkr.hcl", "tmp"]);
}

#[test]
fn an_existing_output_directory_needs_force() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("output-vm")).unwrap();
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.qemu.vm\"]\n}}\n",
            source("vm", &base, "  ssh_password = \"kilnroot\"\n")
        ),
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains("Output directory 'output-vm' already exists. It must not exist (use -force to replace it)."),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("Starting VM"), "{}", r.all());
}

#[test]
fn a_wrong_checksum_fails_before_qemu_starts() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wrong = "0".repeat(64);
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.qemu.vm\"]\n}}\n",
            source(
                "vm",
                &base,
                &format!("  iso_checksum = \"sha256:{wrong}\"\n  ssh_password = \"kilnroot\"\n")
            )
        ),
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let expect = format!(
        "Checksums did not match for {}.\nExpected: sha256:{wrong}\nGot: sha256:{}",
        base.display(),
        sha256(&base)
    );
    assert!(r.all().contains(&expect), "{}", r.all());
    assert!(!r.all().contains("Starting VM"), "{}", r.all());
    assert!(
        leftovers(d, &["t.pkr.hcl"]).is_empty(),
        "{:?}",
        leftovers(d, &[])
    );
}

/// A guest that panics (here a boot sector that writes to QEMU's pvpanic port) stops the VM
/// in QEMU's `guest-panicked` state: the build fails at once, saying so, instead of waiting
/// its whole `ssh_timeout` for SSH.
#[test]
fn a_guest_that_panics_fails_the_build_at_once() {
    let _ = base_image(false); // QEMU is installed.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // mov dx, 0x505; mov al, 1; out dx, al; hlt; jmp $-1
    let mut sector = vec![0xba, 0x05, 0x05, 0xb0, 0x01, 0xee, 0xf4, 0xeb, 0xfd];
    sector.resize(510, 0);
    sector.extend([0x55, 0xaa]);
    std::fs::write(d.join("panic.img"), &sector).unwrap();
    write(
        d,
        "t.pkr.hcl",
        &format!(
            "{}build {{\n  sources = [\"source.qemu.vm\"]\n}}\n",
            source(
                "vm",
                &d.join("panic.img"),
                "  format = \"raw\"\n  disk_interface = \"ide\"\n  ssh_password = \"kilnroot\"\n  skip_resize_disk = true\n  qemuargs = [[\"-device\", \"pvpanic\"]]\n"
            )
            .replace("ssh_timeout      = \"120s\"", "ssh_timeout      = \"10m\"")
        ),
    );
    let start = Instant::now();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}\n{}",
        start.elapsed(),
        r.all()
    );
    assert!(
        r.all()
            .contains("--> qemu.vm: The guest panicked before SSH became available (QEMU run state guest-panicked)."),
        "{}",
        r.all()
    );
    assert!(
        leftovers(d, &["t.pkr.hcl", "panic.img"]).is_empty(),
        "{:?}",
        leftovers(d, &[])
    );
}

/// With `accelerator = "kvm"` set, a KVM that cannot run the guest (the `/dev/kvm` of our
/// machines) fails the build at once with QEMU's reason and what to do; where KVM works, the
/// build succeeds. Either way the build never waits out its `ssh_timeout`.
#[test]
fn an_explicit_kvm_that_cannot_run_the_guest_fails_at_once_with_qemus_reason() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source("vm", &base, "  ssh_password = \"kilnroot\"\n")
        .replace("accelerator      = \"tcg\"", "accelerator      = \"kvm\"")
        .replace("ssh_timeout      = \"120s\"", "ssh_timeout      = \"10m\"");
    write(
        d,
        "t.pkr.hcl",
        &format!("{src}build {{\n  sources = [\"source.qemu.vm\"]\n}}\n"),
    );
    let start = Instant::now();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "{:?}",
        start.elapsed()
    );
    if r.code == 0 {
        assert!(r.all().contains("Connected to SSH!"), "{}", r.all());
        return;
    }
    let all = r.all();
    let stopped = all.contains(
        "--> qemu.vm: QEMU stopped the VM before SSH became available (internal-error: KVM internal error. Suberror: 1).\nKVM cannot run this guest here: set accelerator = \"tcg\", or leave it unset to let Kiln choose.",
    );
    let exited = all.contains("--> qemu.vm: Error launching VM: QEMU exited at once");
    assert!(stopped || exited, "{all}");
    assert!(
        !all.contains("EAX="),
        "the register dump is left out:\n{all}"
    );
    assert!(
        leftovers(d, &["t.pkr.hcl"]).is_empty(),
        "{:?}",
        leftovers(d, &[])
    );
}

#[test]
fn efi_boot_boots_under_uefi_and_keeps_or_drops_the_variables() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let uefi = |name: &str, extra: &str| {
        source(
            name,
            &base,
            &format!(
                "  ssh_password     = \"kilnroot\"\n  efi_boot         = true\n  output_directory = \"out-{name}\"\n{extra}"
            ),
        )
    };
    let tpl = format!(
        r#"{}{}build {{
  sources = ["source.qemu.kept", "source.qemu.dropped"]
  provisioner "shell" {{
    inline = [
      "mount -t sysfs sysfs /sys 2>/dev/null || true",
      "[ -d /sys/firmware/efi ] && echo booted-under-uefi",
    ]
  }}
}}
"#,
        uefi("kept", ""),
        uefi("dropped", "  efi_drop_efivars = true\n")
    );
    write(d, "t.pkr.hcl", &tpl);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for b in ["kept", "dropped"] {
        assert!(
            r.stdout
                .contains(&format!("    qemu.{b}: booted-under-uefi\n")),
            "{}",
            r.all()
        );
    }
    // As Packer: the VM's variables are part of the output unless efi_drop_efivars.
    let vars = std::fs::metadata(d.join("out-kept/efivars.fd")).expect("out-kept/efivars.fd");
    assert_eq!(
        vars.len(),
        std::fs::metadata("/usr/share/OVMF/OVMF_VARS.fd")
            .unwrap()
            .len()
    );
    assert_eq!(leftovers(&d.join("out-dropped"), &[]), ["packer-dropped"]);
    let mut kept = leftovers(&d.join("out-kept"), &[]);
    kept.sort();
    assert_eq!(kept, ["efivars.fd", "packer-kept"]);
}

#[test]
fn efi_boot_without_the_firmware_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "t.pkr.hcl",
        "source \"qemu\" \"vm\" {\n  iso_url = \"x.qcow2\"\n  iso_checksum = \"none\"\n  disk_image = true\n  ssh_username = \"root\"\n  efi_boot = true\n  efi_firmware_code = \"/nonexistent/CODE.fd\"\n}\nbuild {\n  sources = [\"source.qemu.vm\"]\n}\n",
    );
    // As Packer, validate passes (the template may be meant for another host), and says it.
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.all().contains(
            "efi_firmware_code /nonexistent/CODE.fd does not exist; install Debian's ovmf package, or set efi_firmware_code (Debian 12 also has the _4M variants in /usr/share/OVMF); the build fails unless it exists when the VM starts."
        ),
        "{}",
        r.all()
    );
}

#[test]
fn vtpm_gives_the_guest_a_tpm_of_the_version_asked_and_stops_swtpm_afterwards() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tpl = format!(
        r#"{}{}build {{
  sources = ["source.qemu.tpm2", "source.qemu.tpm1"]
  provisioner "shell" {{
    inline = [
      "mount -t sysfs sysfs /sys 2>/dev/null || true",
      "echo tpm-version-$(cat /sys/class/tpm/tpm0/tpm_version_major)",
    ]
  }}
}}
"#,
        source(
            "tpm2",
            &base,
            "  ssh_password = \"kilnroot\"\n  vtpm = true\n  tpm_device_type = \"tpm-crb\"\n  output_directory = \"out-tpm2\"\n"
        ),
        source(
            "tpm1",
            &base,
            "  ssh_password = \"kilnroot\"\n  vtpm = true\n  use_tpm1 = true\n  output_directory = \"out-tpm1\"\n"
        ),
    );
    write(d, "t.pkr.hcl", &tpl);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for (b, v) in [("tpm2", 2), ("tpm1", 1)] {
        assert!(
            r.stdout
                .contains(&format!("    qemu.{b}: tpm-version-{v}\n")),
            "{}",
            r.all()
        );
    }
    assert!(
        r.stdout
            .contains("==> qemu.tpm1: Starting the emulated TPM (TPM 1.2, tpm-tis)...\n"),
        "{}",
        r.all()
    );
    assert_eq!(processes_with("swtpm socket"), Vec::<u32>::new());
    assert_eq!(leftovers(&d.join("out-tpm2"), &[]), ["packer-tpm2"]);
}

/// Ansible against a VM: the tiny image has no Python, so the playbook uses only the `raw`
/// module; Ansible reaches the guest through Kiln's SSH proxy over the build's communicator.
#[test]
fn ansible_raw_playbook_runs_against_the_vm_through_the_proxy() {
    kiln_tests::require_ansible();
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible/raw.yml");
    let extra = "  ssh_password     = \"kilnroot\"\n  output_directory = \"out\"\n  vm_name          = \"vm.qcow2\"\n";
    let build = format!(
        "build {{\n  sources = [\"source.qemu.vm\"]\n  provisioner \"ansible\" {{\n    playbook_file = \"{}\"\n  }}\n  provisioner \"shell\" {{\n    inline = [\"echo marker: $(cat /root/ansible-raw.txt)\"]\n  }}\n}}\n",
        playbook.display()
    );
    write(d, "t.pkr.hcl", &(source("vm", &base, extra) + &build));
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("    qemu.vm: marker: raw from qemu\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("==> qemu.vm: Setting up proxy adapter for Ansible....\n"),
        "{}",
        r.stdout
    );
    assert!(!r.all().contains("kilnroot"), "the password leaked");
}

#[test]
fn kiln_test_runs_a_goss_spec_in_a_throwaway_vm_and_leaves_the_image_as_it_was() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let image = d.join("image.qcow2");
    std::fs::copy(&base, &image).unwrap();
    let before = sha256(&image);
    write(
        d,
        "goss.yaml",
        "file:\n  /etc/passwd:\n    exists: true\n  /root/written-by-a-test:\n    exists: false\nuser:\n  root:\n    uid: 0\nprocess:\n  dropbear:\n    running: true\nport:\n  tcp:22:\n    listening: true\ncommand:\n  touch /root/written-by-a-test:\n    exit-status: 0\n",
    );
    let test = |spec: &str| {
        run(
            KILN,
            d,
            &[
                "test",
                "image.qcow2",
                "--spec",
                spec,
                "--ssh-password",
                "kilnroot",
                "--accelerator",
                "tcg",
            ],
        )
    };
    let r = test("goss.yaml");
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("Process: dropbear: running: matches expectation: true\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Count: 6, Failed: 0, Skipped: 0\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("==> Removed a throwaway VM under tcg (SSH on 127.0.0.1:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("); the image was not changed\n"),
        "{}",
        r.stderr
    );
    // The file the first run wrote is gone: the VM wrote to a snapshot, not to the image.
    let r = test("goss.yaml");
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(sha256(&image), before, "the image is unchanged");
    write(d, "fail.yaml", "user:\n  root:\n    uid: 1\n");
    let r = test("fail.yaml");
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("User: root: uid:\nExpected\n    0\nto match\n    1\n"),
        "{}",
        r.stdout
    );
    let left = Command::new("pgrep")
        .args(["-f", "image.qcow2"])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "no QEMU is left: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

/// `post-processor "test"`: the built image boots fresh in a snapshot-mode VM and the spec runs
/// against it; the results go to the catalog; a failing spec fails the build and names the
/// failed assertion; no VM is left either way.
#[test]
fn test_post_processor_boots_the_built_image_and_gates_the_build() {
    let base = base_image(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // What only the built image has: the file the provisioner wrote, and no build-time marker
    // (the test VM boots the image, not the build's VM).
    write(
        d,
        "image.yaml",
        "file:\n  /etc/kiln-built:\n    exists: true\n    contents: [by-kiln]\ncommand:\n  cat /proc/cmdline:\n    exit-status: 0\n",
    );
    write(
        d,
        "wrong.yaml",
        "file:\n  /etc/kiln-built:\n    contents: [by-packer]\n",
    );
    let template = |spec: &str, out: &str| {
        source(
            "vm",
            &base,
            &format!("  ssh_password     = \"kilnroot\"\n  output_directory = \"{out}\"\n  vm_name          = \"vm.qcow2\"\n"),
        ) + &format!(
            r#"build {{
  sources = ["source.qemu.vm"]
  provisioner "shell" {{
    inline = ["echo by-kiln > /etc/kiln-built"]
  }}
  post-processor "test" {{
    tests        = ["{spec}"]
    ssh_password = "kilnroot"
    accelerator  = "tcg"
    format       = "tap"
    output_file  = "results/{out}.tap"
  }}
}}
"#
        )
    };
    let cat_dir = tempfile::tempdir().unwrap();
    let db = cat_dir.path().join("catalog.db");
    let env = [("KILN_CATALOG", db.to_str().unwrap())];
    write(d, "pass.pkr.hcl", &template("image.yaml", "out-pass"));
    let r = kiln_tests::run_with_env(KILN, d, &["build", "pass.pkr.hcl"], &env);
    assert_eq!(r.code, 0, "{}", r.all());
    for line in [
        "==> qemu.vm: Running post-processor: test\n",
        "==> qemu.vm: Booting out-pass/vm.qcow2 on a throwaway machine\n",
        "    qemu.vm: ok 1 - File: /etc/kiln-built: exists: matches expectation: true\n",
    ] {
        assert!(
            r.stdout.contains(line),
            "missing {line:?} in:\n{}",
            r.stdout
        );
    }
    assert_eq!(
        std::fs::read_to_string(d.join("results/out-pass.tap"))
            .unwrap()
            .lines()
            .next(),
        Some("1..3")
    );
    let show = kiln_tests::run_with_env(KILN, d, &["images", "show", "qemu.vm", "1"], &env);
    assert!(show.stdout.contains("\ntest-results "), "{}", show.stdout);
    assert!(
        show.stdout.contains(" 3 passed, 0 failed, 0 skipped\n"),
        "{}",
        show.stdout
    );

    write(d, "fail.pkr.hcl", &template("wrong.yaml", "out-fail"));
    let r = kiln_tests::run_with_env(KILN, d, &["build", "fail.pkr.hcl"], &env);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains(
            "Post-processor failed: the image failed its tests: 1 of 1 goss tests failed:\n  File: /etc/kiln-built: contents:"
        ),
        "{}",
        r.all()
    );
    assert!(!r.all().contains("kilnroot"), "the password leaked");
    assert_eq!(processes_with("out-pass/vm.qcow2"), Vec::<u32>::new());
    assert_eq!(processes_with("out-fail/vm.qcow2"), Vec::<u32>::new());
}

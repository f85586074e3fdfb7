//! Real QEMU virtual machines for the qemu builder's tests: the project's tiny base image (made
//! by `scripts/make-base-image`, cached) and a way to boot an image and run commands in it over
//! SSH, as a user checking a built image would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static IMAGES: Mutex<()> = Mutex::new(());

fn cache_dir() -> PathBuf {
    std::env::var_os("KILN_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/kiln")))
        .unwrap_or_else(|| PathBuf::from("/tmp/kiln-cache"))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Fails the test with an install hint when QEMU is missing.
///
/// # Panics
/// When `qemu-system-x86_64` or `qemu-img` cannot be run.
pub fn require_qemu() {
    for (bin, arg) in [
        ("qemu-system-x86_64", "--version"),
        ("qemu-img", "--version"),
    ] {
        let ok = Command::new(bin)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{bin} is not installed; the qemu builder's tests boot real VMs: \
             apt-get install --no-install-recommends qemu-system-x86 qemu-utils (see scripts/test)"
        );
    }
}

/// The private key authorized in the test base images (made once, kept in the cache).
///
/// # Panics
/// When ssh-keygen is missing.
#[must_use]
pub fn test_key() -> PathBuf {
    let _g = IMAGES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = cache_dir().join("test-key");
    let key = dir.join("id_ed25519");
    if !key.exists() {
        std::fs::create_dir_all(&dir).expect("cache dir");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "kiln-test", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen is needed by the tests: apt-get install openssh-client");
        assert!(st.success());
    }
    key
}

/// The test base image (root password `kilnroot`, [`test_key`] authorized); with `boot_prompt` the
/// bootloader waits at a `boot:` prompt for a boot command.
///
/// # Panics
/// When QEMU is missing or the image cannot be made.
#[must_use]
pub fn base_image(boot_prompt: bool) -> PathBuf {
    require_qemu();
    let key = test_key();
    let _g = IMAGES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let name = if boot_prompt {
        "prompt.qcow2"
    } else {
        "base.qcow2"
    };
    let out = cache_dir().join("test-images").join(name);
    let mut cmd = Command::new(workspace().join("scripts/make-base-image"));
    if boot_prompt {
        cmd.arg("--boot-prompt");
    }
    let o = cmd
        .arg("--authorized-key")
        .arg(key.with_extension("pub"))
        .arg(&out)
        .output()
        .expect("run scripts/make-base-image");
    assert!(
        o.status.success(),
        "scripts/make-base-image failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// A VM booted from an image, for checking what a build produced; killed on drop.
#[derive(Debug)]
pub struct Vm {
    child: Child,
    /// The forwarded SSH port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Vm {
    /// Boots `image` (on a throw-away overlay, so the image itself is not changed) and waits for
    /// SSH to answer a command.
    ///
    /// # Panics
    /// When QEMU cannot start or SSH does not come up within 60 seconds.
    #[must_use]
    pub fn boot(image: &Path, format: &str) -> Vm {
        require_qemu();
        let dir = tempfile::tempdir().expect("temp dir");
        let overlay = dir.path().join("overlay.qcow2");
        let abs = std::fs::canonicalize(image).expect("image exists");
        let st = Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2", "-F", format, "-b"])
            .arg(&abs)
            .arg(&overlay)
            .status()
            .expect("qemu-img");
        assert!(st.success(), "qemu-img create overlay on {}", abs.display());
        let port = crate::free_port();
        let child = Command::new("qemu-system-x86_64")
            .args([
                "-nodefaults",
                "-machine",
                "q35",
                "-accel",
                "tcg",
                "-smp",
                "1",
                "-m",
                "256",
                "-display",
                "none",
                "-no-reboot",
                "-serial",
            ])
            .arg(format!("file:{}", dir.path().join("serial.log").display()))
            .arg("-drive")
            .arg(format!("file={},if=virtio", overlay.display()))
            .args([
                "-netdev",
                &format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22"),
            ])
            .args(["-device", "virtio-net-pci,netdev=n0,romfile="])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qemu-system-x86_64");
        let vm = Vm {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if vm.ssh("true").0 == 0 {
                return vm;
            }
            assert!(
                Instant::now() < deadline,
                "the VM booted from {} did not answer SSH within 60 s; serial console:\n{}",
                image.display(),
                std::fs::read_to_string(vm._dir.path().join("serial.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Runs `command` in the VM as root; returns the exit code and standard output.
    ///
    /// # Panics
    /// When the OpenSSH client is missing.
    #[must_use]
    pub fn ssh(&self, command: &str) -> (i32, String) {
        let o = Command::new("ssh")
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=5",
                "-o",
                "LogLevel=ERROR",
                "-i",
            ])
            .arg(test_key())
            .args(["-p", &self.port.to_string(), "root@127.0.0.1", command])
            .stdin(Stdio::null())
            .output()
            .expect("ssh is needed by the tests: apt-get install openssh-client");
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The QEMU processes whose command line holds `needle` (Kiln's own may name the same image).
#[must_use]
pub fn qemu_processes_with(needle: &str) -> Vec<u32> {
    processes_with(needle)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("qemu-system"))
        })
        .collect()
}

/// PIDs of running processes whose command line contains `needle` (checks for leaked VMs).
#[must_use]
pub fn processes_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) && !cmd.contains("cargo") {
                out.push(pid);
            }
        }
    }
    out
}

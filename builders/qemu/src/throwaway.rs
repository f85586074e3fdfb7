//! A throwaway VM for post-image tests (`kiln test`): the image booted in QEMU's snapshot mode
//! (every write goes to a temporary file QEMU removes, so the image is never changed), with user
//! networking forwarding SSH to a free local port, under KVM when it runs guests here, else TCG.
//! Dropping it kills QEMU. QEMU dies with Kiln (even by `SIGKILL`), and both it and its scratch
//! directory are in the run's cleanup journal while they exist.

use kiln_core::journal::{Entry, Held, Journal, Resource};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// How to boot it.
#[derive(Debug, Clone)]
pub struct Options {
    /// The QEMU binary.
    pub qemu: String,
    /// `kvm`, `tcg`, or `None` to use KVM when it runs guest code here.
    pub accelerator: Option<String>,
    /// Memory, MiB.
    pub memory_mib: u32,
    /// Virtual CPUs.
    pub cpus: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            qemu: "qemu-system-x86_64".into(),
            accelerator: None,
            memory_mib: 512,
            cpus: 1,
        }
    }
}

/// A running throwaway VM.
#[derive(Debug)]
pub struct Throwaway {
    child: tokio::process::Child,
    /// The local port forwarded to the guest's port 22.
    pub port: u16,
    /// The accelerator it runs under.
    pub accelerator: String,
    /// QEMU's entry in the cleanup journal.
    journaled: Option<Entry>,
    journal: Journal,
    // Last, so that QEMU is killed before its directory is removed.
    dir: Held<tempfile::TempDir>,
}

impl Throwaway {
    /// What the guest printed on its serial console so far.
    #[must_use]
    pub fn serial(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serial.log")).unwrap_or_default()
    }

    /// Waits until QEMU exits by itself; says how, with what it printed.
    pub async fn exited(&mut self) -> String {
        let status = self.child.wait().await;
        let log = std::fs::read_to_string(self.dir.path().join("qemu.log")).unwrap_or_default();
        format!(
            "QEMU stopped ({}): {}",
            status.map_or_else(|e| e.to_string(), |s| s.to_string()),
            log.trim()
        )
    }

    /// Stops QEMU and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        if let Some(e) = self.journaled.take() {
            e.done();
        }
    }

    /// Starts QEMU under `accelerator`, in the journal while it runs.
    fn start(&mut self, image: &Path, o: &Options) -> Result<(), String> {
        self.child = start(image, o, &self.accelerator, self.dir.path(), self.port)?;
        if let Some(e) = self.journaled.take() {
            e.done();
        }
        if let Some(pid) = self.child.id() {
            self.journaled = Some(
                self.journal
                    .record(Resource::process(pid, "QEMU (test VM)"))
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl kiln_core::launch::Machine for Throwaway {
    fn ssh_address(&self) -> (String, u16) {
        ("127.0.0.1".into(), self.port)
    }
    fn describe(&self) -> String {
        format!(
            "a throwaway VM under {} (SSH on 127.0.0.1:{})",
            self.accelerator, self.port
        )
    }
    fn console(&self) -> String {
        self.serial()
    }
    async fn exited(&mut self) -> String {
        Throwaway::exited(self).await
    }
    async fn stop(self: Box<Self>) -> Result<(), String> {
        Throwaway::stop(*self).await;
        Ok(())
    }
}

/// Boots `image` for [`kiln_core::Artifact::launch`]: the launch options a VM reads
/// (accelerator, memory) over [`Options::default`]; QEMU and its directory are recorded in
/// `journal`.
///
/// # Errors
/// As [`boot`].
pub async fn launch(
    image: &Path,
    o: &kiln_core::launch::LaunchOptions,
    journal: &Journal,
) -> Result<Box<dyn kiln_core::launch::Machine>, String> {
    let defaults = Options::default();
    let opts = Options {
        accelerator: o.accelerator.clone(),
        memory_mib: o.memory_mib.unwrap_or(defaults.memory_mib),
        ..defaults
    };
    Ok(Box::new(boot(image, &opts, journal).await?))
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if let Some(e) = self.journaled.take() {
            e.done();
        }
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free local port: {e}"))
}

/// How long a VM started under the KVM Kiln chose is watched for KVM's failures (an internal
/// error in the bootloader, an abort at start) before it is trusted; they show within
/// milliseconds.
const KVM_WATCH: std::time::Duration = std::time::Duration::from_secs(3);

/// Boots `image` (qcow2 or raw, as QEMU detects it). Without an accelerator named, it runs
/// under KVM when a probe runs guest code under it, and again under TCG when the VM fails under
/// KVM at once (the probe cannot catch every way a KVM fails). QEMU and its scratch directory
/// are recorded in `journal` (the default journal records nothing).
///
/// # Errors
/// When the image does not exist, QEMU cannot be started, or the journal cannot be written.
pub async fn boot(image: &Path, o: &Options, journal: &Journal) -> Result<Throwaway, String> {
    let image: PathBuf =
        std::fs::canonicalize(image).map_err(|e| format!("{}: {e}", image.display()))?;
    let accelerator = match o.accelerator.as_deref() {
        Some(a) => a.to_string(),
        None if crate::kvm::probe(&o.qemu, None).await.is_ok() => "kvm".into(),
        None => "tcg".into(),
    };
    let dir = tempfile::Builder::new()
        .prefix("kiln-test-vm")
        .tempdir()
        .map_err(|e| format!("making a scratch directory: {e}"))?;
    let path = dir.path().to_path_buf();
    let dir = journal
        .hold(dir, &path, "test VM directory")
        .map_err(|e| e.to_string())?;
    let port = free_port()?;
    let mut vm = Throwaway {
        child: start(&image, o, &accelerator, dir.path(), port)?,
        port,
        accelerator,
        journaled: None,
        journal: journal.clone(),
        dir,
    };
    if let Some(pid) = vm.child.id() {
        vm.journaled = Some(
            journal
                .record(Resource::process(pid, "QEMU (test VM)"))
                .map_err(|e| e.to_string())?,
        );
    }
    if o.accelerator.is_none() && vm.accelerator == "kvm" {
        let deadline = std::time::Instant::now() + KVM_WATCH;
        while std::time::Instant::now() < deadline {
            let log = std::fs::read_to_string(vm.dir.path().join("qemu.log")).unwrap_or_default();
            let exited = vm.child.try_wait().ok().flatten().is_some();
            if exited || log.contains("KVM internal error") {
                let _ = vm.child.kill().await;
                vm.accelerator = "tcg".into();
                vm.start(&image, o)?;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    Ok(vm)
}

/// Starts QEMU on `image` under `accelerator`, its serial console and messages in `dir`.
fn start(
    image: &Path,
    o: &Options,
    accelerator: &str,
    dir: &Path,
    port: u16,
) -> Result<tokio::process::Child, String> {
    if !on_path(&o.qemu) {
        return Err(format!(
            "cannot start {}: not found (on Debian: apt-get install qemu-system-x86)",
            o.qemu
        ));
    }
    let mut cmd = crate::dies_with_kiln(&o.qemu);
    cmd.args([
        "-nodefaults",
        "-snapshot",
        "-machine",
        "q35",
        "-accel",
        accelerator,
    ])
    .args(["-smp", &o.cpus.to_string(), "-m", &o.memory_mib.to_string()])
    .args(["-display", "none", "-no-reboot", "-serial"])
    .arg(format!("file:{}", dir.join("serial.log").display()))
    .arg("-drive")
    .arg(format!(
        "file={},if=virtio",
        image.display().to_string().replace(',', ",,")
    ))
    .args([
        "-netdev",
        &format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22"),
    ])
    .args(["-device", "virtio-net-pci,netdev=n0,romfile="])
    // `-snapshot` keeps its overlay in a temporary file that QEMU removes only when it exits
    // cleanly: in the journaled directory, `kiln cleanup` removes it after a SIGKILL too.
    .env("TMPDIR", dir)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(
        std::fs::File::create(dir.join("qemu.log"))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null()),
    )
    .kill_on_drop(true);
    if accelerator == "kvm" {
        cmd.args(["-cpu", "host"]);
    } else if let Some(cpu) = crate::tcg_cpu(&o.qemu, accelerator) {
        cmd.args(["-cpu", &cpu]);
    }
    cmd.spawn().map_err(|e| {
        format!(
            "cannot start {}: {e} (on Debian: apt-get install qemu-system-x86)",
            o.qemu
        )
    })
}

/// Whether `program` (a path, or a name looked up in `PATH`) exists: QEMU is started through
/// `setpriv`, which would report a missing program only by its exit status.
fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).exists();
    }
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

//! `vtpm`: an emulated TPM for the VM, served by `swtpm` (Debian's `swtpm` package) on a
//! private Unix socket for as long as the build runs. Its state lives in the build's scratch
//! directory and goes with it.

use crate::steps::State;
use async_trait::async_trait;
use kiln_core::step::{Outcome, Step};
use kiln_core::{BuildContext, BuildError};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// A running `swtpm`.
#[derive(Debug)]
pub struct Swtpm {
    child: Child,
    /// The control socket QEMU's `-chardev socket` connects to.
    pub socket: PathBuf,
}

impl Swtpm {
    /// Starts `swtpm socket` with its state in `dir`, and waits for its socket.
    pub async fn start(dir: &Path, tpm1: bool) -> Result<Swtpm, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the vTPM state directory: {e}"))?;
        let socket = dir.join("vtpm.sock");
        let mut cmd = Command::new("swtpm");
        cmd.arg("socket")
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.display()))
            .arg("--ctrl")
            .arg(format!("type=unixio,path={}", socket.display()));
        if !tpm1 {
            cmd.arg("--tpm2");
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| {
            format!("vtpm needs swtpm, which cannot be run ({e}); install it (on Debian: apt-get install swtpm)")
        })?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err).await;
                }
                return Err(format!(
                    "swtpm exited at once ({status}): {}",
                    err.trim().lines().last().unwrap_or("no message")
                ));
            }
            if socket.exists() {
                return Ok(Swtpm { child, socket });
            }
            if Instant::now() > deadline {
                return Err("swtpm did not open its socket within 10 seconds".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

/// QEMU's arguments for the TPM: the backend and the device the guest sees.
pub(crate) fn qemu_args(socket: &Path, device: &str) -> [(&'static str, String); 3] {
    [
        (
            "-chardev",
            format!("socket,id=vtpm,path={}", socket.display()),
        ),
        ("-tpmdev", "emulator,id=tpm0,chardev=vtpm".to_string()),
        ("-device", format!("{device},tpmdev=tpm0")),
    ]
}

/// Starts `swtpm` when `vtpm` is set, before QEMU; stops it when the build ends.
pub struct StartTpm;

#[async_trait]
impl<'h> Step<State<'h>> for StartTpm {
    fn name(&self) -> &'static str {
        "vtpm"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let Some(v) = s.cfg.vtpm.clone() else {
            return Ok(());
        };
        ctx.ui.say(format!(
            "Starting the emulated TPM ({}, {})...",
            if v.tpm1 { "TPM 1.2" } else { "TPM 2.0" },
            v.device
        ));
        let dir = s.tmp().join("vtpm");
        let tpm = Swtpm::start(&dir, v.tpm1)
            .await
            .map_err(|e| BuildError::step(format!("Error starting the vTPM: {e}")))?;
        s.swtpm = Some(tpm);
        Ok(())
    }
    async fn cleanup(&self, _ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        if let Some(t) = s.swtpm.take() {
            t.stop().await;
        }
    }
}

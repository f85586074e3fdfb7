//! Kiln's `qemu` builder: boots a temporary QEMU virtual machine from an ISO or a disk image,
//! provisions it over SSH, shuts it down and hands over its disk, as Packer's qemu builder does.
//!
//! Boot commands are typed through QMP (QEMU's machine protocol) rather than VNC; everything else
//! follows Packer's options and defaults. See `steps` for the sequence.

pub mod cd;
pub mod config;
pub mod download;
pub mod http;
pub mod image_check;
pub mod keys;
mod kvm;
pub mod qmp;
pub mod steps;
pub mod throwaway;
pub mod vtpm;

use async_trait::async_trait;
use config::QemuConfig;
use kiln_communicator::SshConfig;
use kiln_core::step::{run_steps, Step};
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Builder, Config, Diagnostics, Hook, Registry,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use steps::State;

/// Packer's builder id for the qemu builder, kept so that tools reading manifests agree.
pub const BUILDER_ID: &str = "transcend.qemu";

/// The CPU Kiln gives an x86 guest under TCG when `cpu_model` is unset: QEMU's default
/// (`qemu64`) plus RDRAND. Without a hardware random number source a Linux guest waits for its
/// entropy pool (about a second under TCG, longer for sshd's first host keys) before services that
/// read random numbers start; TCG emulates RDRAND from the host's random source. `None` for other
/// accelerators (KVM passes its own CPU) and other emulators.
pub(crate) fn tcg_cpu(qemu_binary: &str, accelerator: &str) -> Option<String> {
    let name = Path::new(qemu_binary).file_name()?.to_str()?;
    (accelerator == "tcg" && name.ends_with("x86_64")).then(|| "qemu64,+rdrand".to_string())
}

/// A command for `program` that the kernel kills when Kiln dies, even by `SIGKILL`: started
/// through util-linux's `setpriv --pdeathsig KILL` where it is installed (it sets the signal and
/// execs the program, keeping its PID). A Kiln that dies before the signal is set would never
/// send it, so a shell between them checks that its parent is still Kiln (and otherwise exits
/// with 125) before it execs the program. Exit status 127 means the program was not found.
pub(crate) fn dies_with_kiln(program: &str) -> tokio::process::Command {
    const SETPRIV: &str = "/usr/bin/setpriv";
    const SH: &str = "/bin/sh";
    if Path::new(SETPRIV).exists() && Path::new(SH).exists() {
        let mut c = tokio::process::Command::new(SETPRIV);
        c.args([
            "--pdeathsig",
            "KILL",
            "--",
            SH,
            "-c",
            "[ \"$PPID\" = \"$0\" ] || exit 125; exec \"$@\"",
        ])
        .arg(std::process::id().to_string())
        .arg(program);
        c
    } else {
        tokio::process::Command::new(program)
    }
}

/// Registers `qemu`.
pub fn register(r: &mut Registry) {
    r.builder("qemu", || Box::new(QemuBuilder::default()));
}

/// `source "qemu"`.
#[derive(Debug, Default)]
pub struct QemuBuilder {
    cfg: Option<Arc<QemuConfig>>,
    ssh: SshConfig,
}

#[async_trait]
impl Builder for QemuBuilder {
    fn prepare(&mut self, config: &Config, info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        let mut diags = Diagnostics::default();
        if let Err(d) = config.check_fields(&[
            config::FIELDS,
            config::IGNORED,
            config::UNSUPPORTED,
            kiln_communicator::config::FIELDS,
            kiln_communicator::config::WINRM_FIELDS,
        ]) {
            diags.extend(d);
        }
        let qemu = QemuConfig::decode(config, info);
        let ssh = SshConfig::decode(config);
        let (qemu, warnings) = match qemu {
            Ok(q) => (Some(q.0), q.1),
            Err(d) => {
                diags.extend(d);
                (None, Vec::new())
            }
        };
        match ssh {
            Ok(mut s) => {
                if s.ssh_timeout.is_none() {
                    if let Some(w) = config
                        .value
                        .get("ssh_wait_timeout")
                        .and_then(|v| v.as_str())
                    {
                        s.ssh_timeout = kiln_core::duration::parse(w).ok();
                    }
                }
                let skip_nat = qemu.as_ref().is_some_and(|q| q.skip_nat_mapping);
                for (k, m) in s.validate(skip_nat) {
                    if k == "ssh_password" {
                        continue; // a temporary key pair is made when neither is given
                    }
                    diags.push(config.error_at(k, "Invalid communicator configuration", m));
                }
                self.ssh = s;
            }
            Err(d) => diags.extend(d),
        }
        if diags.has_errors() {
            return Err(diags);
        }
        self.cfg = qemu.map(Arc::new);
        Ok(warnings)
    }

    fn generated_names(&self) -> Vec<String> {
        [
            "HTTPIP",
            "HTTPPort",
            "HTTPDir",
            "OutputDir",
            "Name",
            "SSHHostPort",
        ]
        .map(String::from)
        .to_vec()
    }

    async fn run(
        &self,
        ctx: &BuildContext,
        hook: &dyn Hook,
    ) -> Result<Option<Arc<dyn Artifact>>, BuildError> {
        let cfg = self
            .cfg
            .clone()
            .ok_or_else(|| BuildError::step("the qemu builder was not prepared"))?;
        let mut ssh = self.ssh.clone();
        if let Some(pw) = &ssh.ssh_password {
            ctx.ui.add_secret(pw);
        }
        if ssh.communicator == "ssh"
            && ssh.ssh_password.is_none()
            && ssh.ssh_private_key_file.is_none()
        {
            ctx.ui.say("Creating temporary SSH key for instance...");
            let kind = ssh.temporary_key_pair_type.clone().unwrap_or_default();
            let kp = kiln_communicator::keys::generate(&kind, ssh.temporary_key_pair_bits, "kiln")
                .map_err(BuildError::step)?;
            ctx.ui.add_secret(&kp.private_openssh);
            ssh.private_key = Some(kp.private_openssh);
        }
        let steps: Vec<Box<dyn Step<State<'_>>>> = vec![
            Box::new(steps::Download),
            Box::new(steps::PrepareOutputDir),
            Box::new(steps::CreateCd),
            Box::new(steps::CreateDisks),
            Box::new(steps::HttpServe),
            Box::new(steps::PortForward),
            Box::new(vtpm::StartTpm),
            Box::new(steps::RunQemu),
            Box::new(steps::BootCommand),
            Box::new(steps::Provision),
            Box::new(steps::Shutdown),
            Box::new(steps::ConvertDisk),
            Box::new(steps::Finish),
        ];
        let mut state = State::new(cfg.clone(), ssh, hook);
        state.start_kvm_probe();
        let result = run_steps(ctx, &steps, &mut state).await;
        if result.is_err() && !matches!(result, Err(BuildError::Cancelled)) && ctx.operator.kept() {
            state.keep_for_debugging(ctx);
        }
        result?;
        let main = state.output.first().cloned().unwrap_or_default();
        Ok(Some(Arc::new(QemuArtifact {
            dir: cfg.output_directory.clone(),
            files: state.output.clone(),
            id: main,
            format: cfg.format.clone(),
            disk_size: cfg.disk_size.clone(),
            accelerator: state.accelerator.clone(),
        })))
    }
}

/// The disk image(s) a qemu build produced.
#[derive(Debug)]
pub struct QemuArtifact {
    dir: PathBuf,
    files: Vec<String>,
    id: String,
    format: String,
    disk_size: String,
    accelerator: String,
}

#[async_trait]
impl Artifact for QemuArtifact {
    fn builder_id(&self) -> String {
        BUILDER_ID.into()
    }
    fn id(&self) -> String {
        self.id.clone()
    }
    fn files(&self) -> Vec<String> {
        self.files.clone()
    }
    fn string(&self) -> String {
        format!("VM files in directory: {}", self.dir.display())
    }
    fn state(&self, name: &str) -> Option<serde_json::Value> {
        Some(match name {
            "diskName" => serde_json::Value::String(
                Path::new(&self.id)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            "diskPaths" => serde_json::json!(self.files),
            "diskType" => serde_json::Value::String(self.format.clone()),
            "diskSize" => serde_json::Value::String(self.disk_size.clone()),
            "domainType" => serde_json::Value::String(self.accelerator.clone()),
            _ => return None,
        })
    }
    /// A throwaway VM of its disk, in snapshot mode: the image is not changed. It runs under
    /// the accelerator the build ran under unless `opts` names one.
    async fn launch(
        &self,
        ctx: &kiln_core::BuildContext,
        opts: &kiln_core::launch::LaunchOptions,
    ) -> Option<Result<Box<dyn kiln_core::launch::Machine>, String>> {
        let mut opts = opts.clone();
        if opts.accelerator.is_none() && !self.accelerator.is_empty() {
            opts.accelerator = Some(self.accelerator.clone());
        }
        Some(throwaway::launch(Path::new(&self.id), &opts, &ctx.journal).await)
    }
    async fn destroy(&self) -> std::io::Result<()> {
        match tokio::fs::remove_dir_all(&self.dir).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The format `qemu-img info` reports for an image.
pub async fn image_format(path: &Path) -> Option<String> {
    let out = tokio::process::Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(path)
        .output()
        .await
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get("format").and_then(|f| f.as_str()).map(String::from)
}

//! The qemu builder's steps. Each creates one thing and its cleanup removes it again, so a failed
//! or cancelled build leaves no QEMU process, temporary file or partial output directory.

use crate::config::QemuConfig;
use crate::download;
use crate::http::{self, HttpServer};
use crate::keys::{self, Action};
use crate::qmp::Qmp;
use async_trait::async_trait;
use kiln_communicator::{ssh, SshConfig};
use kiln_core::journal::{Entry, Resource};
use kiln_core::step::{Outcome, Step};
use kiln_core::{
    gotemplate, BuildContext, BuildError, Communicator, GeneratedData, Hook, OutputStream,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// The guest's view of the host under QEMU's user-mode networking.
pub const HTTP_IP: &str = "10.0.2.2";

/// What the steps share.
pub struct State<'h> {
    pub(crate) cfg: Arc<QemuConfig>,
    pub(crate) ssh: SshConfig,
    pub(crate) hook: &'h dyn Hook,
    /// Private scratch space: QMP socket, serial log, CD image.
    pub(crate) tmp: Option<tempfile::TempDir>,
    /// The ISO or source disk image, verified.
    pub(crate) source: Option<PathBuf>,
    /// Where the output is assembled before it is moved to `output_directory`.
    pub(crate) staging: Option<PathBuf>,
    /// Directories made for `output_directory`'s parent, deepest first.
    pub(crate) created_dirs: Vec<PathBuf>,
    /// The disks, in staging; the first is the main one.
    pub(crate) disks: Vec<PathBuf>,
    /// The VM's copy of the UEFI variables (`efivars.fd`), with `efi_boot`.
    pub(crate) efivars: Option<PathBuf>,
    /// The emulated TPM, with `vtpm`.
    pub(crate) swtpm: Option<crate::vtpm::Swtpm>,
    pub(crate) cd: Option<PathBuf>,
    pub(crate) http: Option<HttpServer>,
    pub(crate) host_port: u16,
    pub(crate) accelerator: String,
    /// KVM was chosen because `accelerator` was unset: a VM that fails under it boots again
    /// under TCG.
    pub(crate) kvm_auto: bool,
    /// Whether KVM runs guest code, asked at the start of the build so the answer is ready when
    /// QEMU starts.
    pub(crate) kvm_probe: Option<crate::kvm::Probe>,
    pub(crate) qemu: Option<Child>,
    pub(crate) qemu_started: Option<Instant>,
    pub(crate) qemu_stderr: Arc<Mutex<String>>,
    pub(crate) qmp: Option<Qmp>,
    pub(crate) comm: Option<Arc<ssh::SshCommunicator>>,
    /// The final output files, once moved into place.
    pub(crate) output: Vec<String>,
    /// The cleanup journal's entries for `tmp`, `staging` and `qemu`.
    pub(crate) journaled: Journaled,
}

/// What the qemu builder has in the run's cleanup journal.
#[derive(Default)]
pub(crate) struct Journaled {
    tmp: Option<Entry>,
    staging: Option<Entry>,
    qemu: Option<Entry>,
}

/// Marks a journal entry done, if there is one.
fn done(e: &mut Option<Entry>) {
    if let Some(e) = e.take() {
        e.done();
    }
}

impl<'h> State<'h> {
    pub(crate) fn new(cfg: Arc<QemuConfig>, ssh: SshConfig, hook: &'h dyn Hook) -> Self {
        State {
            cfg,
            ssh,
            hook,
            tmp: None,
            source: None,
            staging: None,
            created_dirs: Vec::new(),
            disks: Vec::new(),
            efivars: None,
            swtpm: None,
            cd: None,
            http: None,
            host_port: 0,
            accelerator: String::new(),
            kvm_auto: false,
            kvm_probe: None,
            qemu: None,
            qemu_started: None,
            qemu_stderr: Arc::default(),
            qmp: None,
            comm: None,
            output: Vec::new(),
            journaled: Journaled::default(),
        }
    }

    /// Starts the KVM probe when `accelerator` is unset and `/dev/kvm` can be opened.
    pub(crate) fn start_kvm_probe(&mut self) {
        let cfg = &self.cfg;
        if (cfg.accelerator.is_empty() || cfg.accelerator == "none") && kvm_device_opens() {
            self.kvm_probe = Some(crate::kvm::Probe::start(
                &cfg.qemu_binary,
                cfg.cpu_model.as_deref(),
            ));
        }
    }

    /// `-on-error=abort`: leave the VM running and its files in place, and say where.
    pub(crate) fn keep_for_debugging(&mut self, ctx: &BuildContext) {
        if let Some(child) = self.qemu.take() {
            ctx.ui.message(format!(
                "Leaving QEMU running for debugging (pid {}, SSH on 127.0.0.1:{}).",
                child.id().unwrap_or_default(),
                self.host_port
            ));
            // Dropping the handle would kill it.
            std::mem::forget(child);
        }
        if let Some(t) = self.tmp.take() {
            ctx.ui
                .message(format!("Serial log and QMP socket: {}", t.keep().display()));
        }
        if let Some(st) = self.staging.take() {
            ctx.ui.message(format!("Disks: {}", st.display()));
        }
    }

    pub(crate) fn tmp(&self) -> &Path {
        self.tmp
            .as_ref()
            .map_or(Path::new("/tmp"), tempfile::TempDir::path)
    }

    fn serial_log(&self) -> PathBuf {
        self.tmp().join("serial.log")
    }

    fn qmp_path(&self) -> PathBuf {
        self.cfg
            .qmp_socket_path
            .clone()
            .unwrap_or_else(|| self.tmp().join("qmp.sock"))
    }

    /// The last lines QEMU and the guest's serial console printed, for error messages.
    fn diagnostics(&self) -> String {
        let mut out = String::new();
        let err = self
            .qemu_stderr
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        if !err.trim().is_empty() {
            let said: String = err
                .lines()
                .filter(|l| !is_register_dump(l))
                .map(|l| format!("{l}\n"))
                .collect();
            out.push_str(&format!("\nQEMU said:\n{}", tail(&said, 10)));
        }
        if let Ok(serial) = std::fs::read(self.serial_log()) {
            let s = String::from_utf8_lossy(&serial);
            if !s.trim().is_empty() {
                out.push_str(&format!(
                    "\nThe guest's serial console ended with:\n{}",
                    tail(&s, 10)
                ));
            }
        }
        out
    }

    fn template_data(&self) -> BTreeMap<&'static str, String> {
        let mut d = BTreeMap::new();
        d.insert("HTTPIP", HTTP_IP.to_string());
        d.insert(
            "HTTPPort",
            self.http.as_ref().map_or(0, |h| h.port).to_string(),
        );
        d.insert(
            "HTTPDir",
            self.cfg
                .http_directory
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        );
        d.insert("OutputDir", self.cfg.output_directory.display().to_string());
        d.insert("Name", self.cfg.vm_name.clone());
        d.insert("SSHHostPort", self.host_port.to_string());
        d
    }
}

/// A line of the CPU state QEMU dumps after a KVM internal error (`EAX=...`, `CS =0000 ...`,
/// `Code=...`, `extra data[0]: ...`): no help to a reader of the build's error.
fn is_register_dump(line: &str) -> bool {
    let l = line.trim();
    if l.starts_with("extra data[") {
        return true;
    }
    match l.split_once('=') {
        Some((name, _)) => {
            let name = name.trim_end();
            !name.is_empty()
                && name.len() <= 6
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                || name.ends_with("Code")
        }
        None => false,
    }
}

fn tail(text: &str, n: usize) -> String {
    let text = printable(text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {}", l.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` without terminal escape sequences (`ESC [ ... letter`: a console's cursor queries and
/// colours) and other control characters but tabs and line ends, so that a console tail does
/// not drive the user's terminal.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    // Parameters and intermediates, then one final byte.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

async fn run_tool(ctx: &BuildContext, program: &str, args: &[String]) -> Result<(), BuildError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| {
        BuildError::step(format!(
            "Cannot run {program}: {e}. Install it (on Debian: apt-get install qemu-utils qemu-system-x86)."
        ))
    })?;
    let out = tokio::select! {
        o = child.wait_with_output() => o.map_err(|e| BuildError::io(format!("running {program}"), e))?,
        () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
    };
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let hint = if said.contains("No space left on device") {
            "\nThe file system it writes to is full: free some space there, or set output_directory elsewhere."
        } else {
            ""
        };
        return Err(BuildError::step(format!(
            "{program} {} failed ({}): {}{hint}",
            args.join(" "),
            out.status,
            said.trim()
        )));
    }
    Ok(())
}

/// Finds, downloads and verifies the ISO or disk image.
pub struct Download;

#[async_trait]
impl<'h> Step<State<'h>> for Download {
    fn name(&self) -> &'static str {
        "download"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        ctx.ui.say("Retrieving ISO");
        let mut last = String::new();
        for url in &s.cfg.iso_urls {
            ctx.ui.say(format!("Trying {url}"));
            let want = {
                let (c, u) = (s.cfg.iso_checksum.clone(), url.clone());
                tokio::task::spawn_blocking(move || download::expected(&c, &u))
                    .await
                    .map_err(|e| BuildError::step(e.to_string()))?
                    .map_err(BuildError::step)?
            };
            // A cached download that already matched its digest is not hashed a second time.
            let mut verified = false;
            let path = if let Some(p) = download::local_path(url) {
                if !p.is_file() {
                    last = format!("{} does not exist or is not a file", p.display());
                    ctx.ui.error(format!("Error retrieving {url}: {last}"));
                    continue;
                }
                p
            } else {
                let key = match &want {
                    Some((_, hex)) => hex.clone(),
                    None => download::digest_str(url),
                };
                let ext = url
                    .rsplit('/')
                    .next()
                    .and_then(|n| n.rsplit_once('.'))
                    .map_or("iso", |x| x.1);
                let dest = s
                    .cfg
                    .iso_target_path
                    .clone()
                    .unwrap_or_else(|| ctx.info.cache_dir.join(format!("{key}.{ext}")));
                let cached = dest.is_file()
                    && want.is_some()
                    && download::verify(&dest, want.as_ref()).await.is_ok();
                verified = cached;
                if !cached {
                    if let Err(e) = download::download(ctx, url, &dest).await {
                        if matches!(e, BuildError::Cancelled) {
                            return Err(e);
                        }
                        last = e.to_string();
                        ctx.ui.error(last.clone());
                        continue;
                    }
                }
                dest
            };
            if !verified {
                download::verify(&path, want.as_ref()).await?;
            }
            ctx.ui.say(format!("{url} => {}", path.display()));
            s.source = Some(path);
            return Ok(());
        }
        Err(BuildError::step(format!(
            "Error downloading ISO: none of iso_urls could be retrieved (last error: {last})"
        )))
    }
}

/// Makes the scratch directory and the staging directory beside `output_directory`.
pub struct PrepareOutputDir;

#[async_trait]
impl<'h> Step<State<'h>> for PrepareOutputDir {
    fn name(&self) -> &'static str {
        "output directory"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let out = &s.cfg.output_directory;
        if out.exists() && !ctx.info.force {
            return Err(BuildError::step(format!(
                "Output directory '{}' already exists. It must not exist (use -force to replace it).",
                out.display()
            )));
        }
        let tmp = tempfile::Builder::new()
            .prefix("kiln-qemu-")
            .tempdir()
            .map_err(|e| BuildError::io("creating a temporary directory", e))?;
        s.journaled.tmp = Some(
            ctx.journal
                .record(Resource::path(tmp.path(), "temporary directory"))?,
        );
        s.tmp = Some(tmp);
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Remember the directories made here, to remove them again if the build fails.
        let mut missing = Vec::new();
        let mut p = parent.to_path_buf();
        while !p.as_os_str().is_empty() && !p.exists() {
            missing.push(p.clone());
            p = p.parent().map(Path::to_path_buf).unwrap_or_default();
        }
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| BuildError::io(format!("creating {}", parent.display()), e))?;
        s.created_dirs = missing;
        let name = out
            .file_name()
            .map_or("output".into(), |n| n.to_string_lossy().into_owned());
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.kiln-partial-"))
            .tempdir_in(parent)
            .map_err(|e| {
                BuildError::io(format!("creating a directory in {}", parent.display()), e)
            })?
            .keep();
        s.journaled.staging = Some(
            ctx.journal
                .record(Resource::path(&staging, "partial output directory"))?,
        );
        s.staging = Some(staging);
        Ok(())
    }
    async fn cleanup(&self, _ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        if let Some(st) = s.staging.take() {
            if tokio::fs::remove_dir_all(&st).await.is_ok() {
                done(&mut s.journaled.staging);
            }
            // Parents made for the output, deepest first, if still empty.
            for d in std::mem::take(&mut s.created_dirs) {
                let _ = tokio::fs::remove_dir(&d).await;
            }
        }
        if let Some(t) = s.tmp.take() {
            if t.close().is_ok() {
                done(&mut s.journaled.tmp);
            }
        }
    }
}

/// Builds the `cd_files` / `cd_content` ISO image with xorriso, mkisofs or genisoimage.
pub struct CreateCd;

#[async_trait]
impl<'h> Step<State<'h>> for CreateCd {
    fn name(&self) -> &'static str {
        "cd"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if s.cfg.cd_files.is_empty() && s.cfg.cd_content.is_empty() {
            return Ok(());
        }
        ctx.ui.say("Creating CD disk...");
        let root = s.tmp().join("cd-root");
        let iso = s.tmp().join("cd.iso");
        let (cfg, r) = (s.cfg.clone(), root.clone());
        tokio::task::spawn_blocking(move || crate::cd::stage(&cfg.cd_files, &cfg.cd_content, &r))
            .await
            .map_err(|e| BuildError::step(e.to_string()))?
            .map_err(BuildError::step)?;
        let mut tool = None;
        for t in ["xorriso", "mkisofs", "genisoimage"] {
            let probe = Command::new(t)
                .arg("-version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
            if probe.is_ok() {
                tool = Some(t);
                break;
            }
        }
        let tool = tool
            .ok_or_else(|| BuildError::step("cd_files / cd_content need one of xorriso, mkisofs or genisoimage on the PATH (on Debian: apt-get install xorriso)"))?;
        let mut args: Vec<String> = Vec::new();
        if tool == "xorriso" {
            args.extend(["-as", "genisoimage"].map(String::from));
        }
        args.extend(["-quiet", "-rock", "-joliet"].map(String::from));
        if let Some(l) = &s.cfg.cd_label {
            args.extend(["-volid".to_string(), l.clone()]);
        }
        args.extend([
            "-o".to_string(),
            iso.display().to_string(),
            root.display().to_string(),
        ]);
        run_tool(ctx, tool, &args).await?;
        ctx.ui.message(format!(
            "Done copying paths from CD_dirs: {}",
            s.cfg.cd_files.join(", ")
        ));
        s.cd = Some(iso);
        Ok(())
    }
}

/// Creates the main disk (a copy of or overlay on the disk image, or a blank disk for an ISO
/// install), the additional disks, and resizes.
pub struct CreateDisks;

#[async_trait]
impl<'h> Step<State<'h>> for CreateDisks {
    fn name(&self) -> &'static str {
        "disks"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let cfg = s.cfg.clone();
        let staging = s.staging.clone().unwrap_or_default();
        let main = staging.join(&cfg.vm_name);
        let source = s.source.clone().unwrap_or_default();
        let img = |v: &[String]| v.to_vec();
        if cfg.disk_image {
            let direct_boot = cfg
                .qemuargs
                .iter()
                .any(|a| a.first().is_some_and(|x| x == "-kernel"));
            if let Some(why) = crate::image_check::problem(&source, direct_boot).await {
                return Err(BuildError::step(format!(
                    "The disk image {} cannot be booted: {why}.",
                    source.display()
                )));
            }
        }
        if cfg.disk_image && cfg.use_backing_file {
            ctx.ui.say("Creating required virtual machine disks");
            let abs = std::fs::canonicalize(&source)
                .map_err(|e| BuildError::io(format!("resolving {}", source.display()), e))?;
            let fmt = crate::image_format(&abs)
                .await
                .unwrap_or_else(|| "qcow2".into());
            let mut args = vec!["create".to_string(), "-f".into(), "qcow2".into()];
            args.extend(img(&cfg.qemu_img_args.create));
            args.extend([
                "-b".into(),
                abs.display().to_string(),
                "-F".into(),
                fmt,
                main.display().to_string(),
            ]);
            run_tool(ctx, "qemu-img", &args).await?;
        } else if cfg.disk_image {
            ctx.ui.say("Copying hard drive...");
            let mut args = vec!["convert".to_string()];
            args.extend(img(&cfg.qemu_img_args.convert));
            args.extend([
                "-O".into(),
                cfg.format.clone(),
                source.display().to_string(),
                main.display().to_string(),
            ]);
            run_tool(ctx, "qemu-img", &args).await?;
        } else {
            ctx.ui.say("Creating required virtual machine disks");
            let mut args = vec!["create".to_string(), "-f".into(), cfg.format.clone()];
            args.extend(img(&cfg.qemu_img_args.create));
            args.extend([main.display().to_string(), cfg.disk_size.clone()]);
            run_tool(ctx, "qemu-img", &args).await?;
        }
        s.disks.push(main.clone());
        if cfg.disk_image && !cfg.skip_resize_disk {
            ctx.ui
                .say(format!("Resizing hard drive to {}...", cfg.disk_size));
            let mut args = vec!["resize".to_string(), "-f".into(), cfg.format.clone()];
            args.extend(img(&cfg.qemu_img_args.resize));
            args.extend([main.display().to_string(), cfg.disk_size.clone()]);
            if let Err(e) = run_tool(ctx, "qemu-img", &args).await {
                return Err(BuildError::step(format!(
                    "{e}\n(disk_size {} must not be smaller than the disk image; set a larger disk_size or skip_resize_disk = true)",
                    cfg.disk_size
                )));
            }
        }
        if let Some(efi) = &cfg.efi {
            for (key, p) in [
                ("efi_firmware_code", &efi.code),
                ("efi_firmware_vars", &efi.vars),
            ] {
                if let Some(m) = crate::config::missing_firmware(key, p) {
                    return Err(BuildError::step(m));
                }
            }
            // As Packer: the VM writes its own copy of the variables, efivars.fd, kept in the
            // output directory unless efi_drop_efivars.
            let dir = if efi.drop_vars {
                s.tmp
                    .as_ref()
                    .map_or_else(|| staging.clone(), |t| t.path().to_path_buf())
            } else {
                staging.clone()
            };
            let dest = dir.join("efivars.fd");
            tokio::fs::copy(&efi.vars, &dest)
                .await
                .map_err(|e| BuildError::io(format!("copying {}", efi.vars.display()), e))?;
            s.efivars = Some(dest);
        }
        for (i, size) in cfg.disk_additional_size.iter().enumerate() {
            let path = staging.join(format!("{}-{}", cfg.vm_name, i + 1));
            let mut args = vec!["create".to_string(), "-f".into(), cfg.format.clone()];
            args.extend(img(&cfg.qemu_img_args.create));
            args.extend([path.display().to_string(), size.clone()]);
            run_tool(ctx, "qemu-img", &args).await?;
            s.disks.push(path);
        }
        Ok(())
    }
}

/// Serves `http_directory` / `http_content`.
pub struct HttpServe;

#[async_trait]
impl<'h> Step<State<'h>> for HttpServe {
    fn name(&self) -> &'static str {
        "http"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let content = match (&s.cfg.http_directory, s.cfg.http_content.is_empty()) {
            (Some(d), _) => http::Content::Dir(d.clone()),
            (None, false) => http::Content::Map(s.cfg.http_content.clone()),
            (None, true) => return Ok(()),
        };
        let server = http::start(content, &s.cfg.http_bind_address, s.cfg.http_ports)
            .await
            .map_err(BuildError::step)?;
        ctx.ui
            .say(format!("Starting HTTP server on port {}", server.port));
        s.http = Some(server);
        Ok(())
    }
    async fn cleanup(&self, _ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        s.http = None;
    }
}

/// Picks the host port forwarded to the guest's SSH port.
pub struct PortForward;

#[async_trait]
impl<'h> Step<State<'h>> for PortForward {
    fn name(&self) -> &'static str {
        "port forward"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if s.ssh.communicator == "none" || s.cfg.skip_nat_mapping {
            return Ok(());
        }
        let (min, max) = s.cfg.host_ports;
        ctx.ui.say(format!(
            "Looking for available communicator (SSH, WinRM, etc) port between {min} and {max}"
        ));
        for port in http::ports_from_random(min, max) {
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                ctx.ui.say(format!(
                    "Found port for communicator (SSH, WinRM, etc): {port}."
                ));
                s.host_port = port;
                return Ok(());
            }
        }
        Err(BuildError::step(format!(
            "No free port between {min} and {max} for the SSH port forward; change host_port_min / host_port_max"
        )))
    }
}

/// Starts QEMU with Packer's default arguments merged with `qemuargs`, then connects to QMP.
pub struct RunQemu;

impl RunQemu {
    /// The full argument list, in a stable order.
    pub(crate) fn args(s: &State<'_>) -> Vec<String> {
        let cfg = &s.cfg;
        let mut defaults: Vec<(String, Vec<String>)> = Vec::new();
        let mut put = |k: &str, v: Vec<String>| defaults.push((k.to_string(), v));
        put("-name", vec![cfg.vm_name.clone()]);
        put(
            "-machine",
            vec![format!("type={},accel={}", cfg.machine_type, s.accelerator)],
        );
        if let Some(c) = cfg
            .cpu_model
            .clone()
            .or_else(|| crate::tcg_cpu(&cfg.qemu_binary, &s.accelerator))
        {
            put("-cpu", vec![c]);
        }
        put("-m", vec![format!("{}M", cfg.memory)]);
        if let Some(smp) = cfg.smp_arg() {
            put("-smp", vec![smp]);
        }
        put(
            "-boot",
            vec![if cfg.disk_image { "c" } else { "once=d" }.to_string()],
        );
        if let Some(f) = &cfg.firmware {
            put("-bios", vec![f.clone()]);
        }
        let mut efi_drives = Vec::new();
        if let Some(efi) = &cfg.efi {
            if efi.pflash {
                efi_drives.push(format!(
                    "file={},if=pflash,unit=0,format=raw,readonly=on",
                    efi.code.display()
                ));
                if let Some(v) = &s.efivars {
                    efi_drives.push(format!("file={},if=pflash,unit=1,format=raw", v.display()));
                }
            } else {
                put("-bios", vec![efi.code.display().to_string()]);
            }
        }
        let mut netdev = "user,id=user.0".to_string();
        if s.host_port != 0 {
            netdev.push_str(&format!(
                ",hostfwd=tcp:127.0.0.1:{}-:{}",
                s.host_port, s.ssh.ssh_port
            ));
        }
        put("-netdev", vec![netdev]);
        let mut devices = Vec::new();
        let mut drives = efi_drives;
        let mut scsi = false;
        for (i, d) in s.disks.iter().enumerate() {
            let mut drive = if cfg.disk_interface == "virtio-scsi" {
                if !scsi {
                    devices.push("virtio-scsi-pci,id=scsi0".to_string());
                    scsi = true;
                }
                devices.push(format!("scsi-hd,bus=scsi0.0,drive=drive{i}"));
                format!(
                    "if=none,file={},id=drive{i},cache={},discard={},format={}",
                    d.display(),
                    cfg.disk_cache,
                    cfg.disk_discard,
                    cfg.format
                )
            } else {
                format!(
                    "file={},if={},cache={},discard={},format={}",
                    d.display(),
                    cfg.disk_interface,
                    cfg.disk_cache,
                    cfg.disk_discard,
                    cfg.format
                )
            };
            if cfg.disk_detect_zeroes != "off" {
                drive.push_str(&format!(",detect-zeroes={}", cfg.disk_detect_zeroes));
            }
            drives.push(drive);
        }
        devices.push(format!("{},netdev=user.0", cfg.net_device));
        if let (Some(v), Some(t)) = (&cfg.vtpm, &s.swtpm) {
            for (switch, value) in crate::vtpm::qemu_args(&t.socket, &v.device) {
                if switch == "-device" {
                    devices.push(value);
                } else {
                    put(switch, vec![value]);
                }
            }
        }
        let mut cds = Vec::new();
        if !cfg.disk_image {
            if let Some(iso) = &s.source {
                cds.push(iso.clone());
            }
        }
        if let Some(cd) = &s.cd {
            cds.push(cd.clone());
        }
        for (i, cd) in cds.iter().enumerate() {
            match cfg.cdrom_interface.as_deref() {
                None | Some("") => drives.push(format!("file={},media=cdrom", cd.display())),
                Some(ifc) => drives.push(format!(
                    "file={},if={ifc},index={i},id=cdrom{i},media=cdrom",
                    cd.display()
                )),
            }
        }
        put("-device", devices);
        put("-drive", drives);
        if !cfg.headless {
            match cfg.display.as_deref() {
                Some(d) if !d.is_empty() && d != "none" => put("-display", vec![d.to_string()]),
                _ if cfg.use_default_display => {}
                _ => put("-display", vec!["gtk".into()]),
            }
        } else if let Some(d) = cfg.display.as_deref().filter(|d| !d.is_empty()) {
            put("-display", vec![d.to_string()]);
        } else {
            put("-display", vec!["none".into()]);
        }
        if let Some(v) = &cfg.vga {
            put("-vga", vec![v.clone()]);
        }
        // Kiln's own: the QMP socket (boot commands, power-down) and a serial log for diagnostics.
        put(
            "-qmp",
            vec![format!(
                "unix:{},server=on,wait=off",
                s.qmp_path().display()
            )],
        );
        put(
            "-serial",
            vec![format!("file:{}", s.serial_log().display())],
        );

        // Packer's rule: a switch given in qemuargs replaces all default values of that switch.
        let data = s.template_data();
        let mut user: Vec<(String, Vec<String>)> = Vec::new();
        for row in &cfg.qemuargs {
            let rendered: Vec<String> = row
                .iter()
                .map(|a| gotemplate::render(a, &data).unwrap_or_else(|_| a.clone()))
                .collect();
            let key = rendered[0].clone();
            let val = rendered[1..].concat();
            match user.iter_mut().find(|(k, _)| *k == key) {
                Some((_, vals)) => {
                    if !val.is_empty() {
                        vals.push(val);
                    }
                }
                None => user.push((key, if val.is_empty() { vec![] } else { vec![val] })),
            }
        }
        let nographic = user.iter().any(|(k, _)| k == "-nographic");
        let mut out = Vec::new();
        for (k, vals) in &defaults {
            if user.iter().any(|(u, _)| u == k) {
                continue;
            }
            if nographic && (k == "-serial" || k == "-display") {
                continue;
            }
            for v in vals {
                out.push(k.clone());
                out.push(v.clone());
            }
        }
        for (k, vals) in &user {
            let mut vals = vals.clone();
            if k == "-device" && !vals.concat().contains(&cfg.net_device) {
                vals.push(format!("{},netdev=user.0", cfg.net_device));
            }
            if vals.is_empty() {
                out.push(k.clone());
            }
            for v in vals {
                out.push(k.clone());
                out.push(v);
            }
        }
        out
    }

    /// The accelerator to use: the configured one, or (when unset) KVM if it really runs guest
    /// code here, else TCG. Sets `s.kvm_auto` when KVM was chosen for the user.
    async fn accelerator(ctx: &BuildContext, s: &mut State<'_>) -> String {
        let cfg = s.cfg.clone();
        s.kvm_auto = false;
        if !cfg.accelerator.is_empty() && cfg.accelerator != "none" {
            return cfg.accelerator.clone();
        }
        if !kvm_device_opens() {
            ctx.ui.message(
                "KVM is not available here; using TCG (software emulation), which is slower.",
            );
            return "tcg".into();
        }
        let probe = s.kvm_probe.take().unwrap_or_else(|| {
            crate::kvm::Probe::start(&cfg.qemu_binary, cfg.cpu_model.as_deref())
        });
        match probe.answer().await {
            Ok(()) => {
                s.kvm_auto = true;
                "kvm".into()
            }
            Err(why) => {
                ctx.ui.message(format!(
                    "KVM is present but cannot run guest code ({why}); using TCG (software emulation), which is slower."
                ));
                "tcg".into()
            }
        }
    }

    /// Starts QEMU with [`RunQemu::args`] and connects to its QMP socket. `Err` when QEMU
    /// exited at once (the message carries QEMU's last words).
    async fn launch(ctx: &BuildContext, s: &mut State<'_>) -> Result<(), BuildError> {
        let args = Self::args(s);
        if let Ok(mut b) = s.qemu_stderr.lock() {
            b.clear();
        }
        let qmp_path = s.qmp_path();
        let _ = std::fs::remove_file(&qmp_path);
        let mut cmd = crate::dies_with_kiln(&s.cfg.qemu_binary);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| {
            BuildError::step(format!(
                "Error launching VM: cannot run {}: {e}. Install QEMU (on Debian: apt-get install qemu-system-x86 qemu-utils) or set qemu_binary.",
                s.cfg.qemu_binary
            ))
        })?;
        if let Some(mut err) = child.stderr.take() {
            let buf = s.qemu_stderr.clone();
            tokio::spawn(async move {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = err.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut b) = buf.lock() {
                        b.push_str(&String::from_utf8_lossy(&chunk[..n]));
                        if b.len() > 64 * 1024 {
                            let cut = b.len() - 32 * 1024;
                            b.drain(..cut);
                        }
                    }
                }
            });
        }
        if let Some(pid) = child.id() {
            s.journaled.qemu = Some(ctx.journal.record(Resource::process(pid, "QEMU"))?);
        }
        s.qemu = Some(child);
        s.qemu_started = Some(Instant::now());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = s.qemu.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                // Give the stderr reader a moment to collect QEMU's last words.
                tokio::time::sleep(Duration::from_millis(100)).await;
                done(&mut s.journaled.qemu);
                let not_found = st.code() == Some(127)
                    && s.qemu_stderr
                        .lock()
                        .is_ok_and(|e| e.contains("failed to execute"));
                if not_found {
                    return Err(BuildError::step(format!(
                        "Error launching VM: cannot run {}: No such file or directory. Install QEMU (on Debian: apt-get install qemu-system-x86 qemu-utils) or set qemu_binary.",
                        s.cfg.qemu_binary
                    )));
                }
                return Err(BuildError::step(format!(
                    "Error launching VM: QEMU exited at once ({st}).{}{}",
                    s.diagnostics(),
                    if s.cfg.headless {
                        ""
                    } else {
                        "\n(headless = false needs a display; set headless = true on a machine without one)"
                    }
                )));
            }
            if qmp_path.exists() {
                match Qmp::connect(&qmp_path, Duration::from_secs(5)).await {
                    Ok(q) => {
                        s.qmp = Some(q);
                        break;
                    }
                    Err(e) if Instant::now() > deadline => {
                        return Err(BuildError::step(format!(
                            "Error connecting to QEMU's QMP socket: {e}"
                        )))
                    }
                    Err(_) => {}
                }
            } else if Instant::now() > deadline {
                // qemuargs replaced -qmp: run without QMP.
                break;
            }
            ctx.sleep(Duration::from_millis(20)).await?;
        }
        Ok(())
    }

    /// Stops the VM that failed under the KVM chosen for the user, says so in one line, and
    /// starts it again under TCG (the caller types the boot command again). When KVM was not
    /// our choice, the failure is the build's error.
    async fn restart_under_tcg(
        ctx: &BuildContext,
        s: &mut State<'_>,
        failure: VmFailure,
    ) -> Result<(), BuildError> {
        if !s.kvm_auto {
            return Err(failure.into_error(s, "before SSH became available"));
        }
        ctx.ui.message(format!(
            "The VM failed under KVM ({}); booting it again under TCG (software emulation), which is slower.",
            failure.reason(s)
        ));
        s.kvm_auto = false;
        s.accelerator = "tcg".into();
        s.qmp = None;
        if let Some(mut c) = s.qemu.take() {
            let _ = c.kill().await;
            let _ = c.wait().await;
            done(&mut s.journaled.qemu);
        }
        Self::launch(ctx, s).await
    }
}

fn kvm_device_opens() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

/// How a running VM stopped making progress.
#[derive(Debug)]
pub(crate) enum VmFailure {
    /// The QEMU process ended.
    Exited(std::process::ExitStatus),
    /// QEMU stopped the VM in this run state (`internal-error`, `guest-panicked`, `io-error`).
    Stopped(String),
}

impl VmFailure {
    /// QEMU's own words for it, in one line.
    fn reason(&self, s: &State<'_>) -> String {
        if let VmFailure::Stopped(st) = self {
            if st == "io-error" {
                if let Some(r) = s.qmp.as_ref().and_then(|q| io_error_reason(q, s)) {
                    return r;
                }
            }
        }
        let said = s.qemu_stderr.lock().ok().and_then(|e| qemu_reason(&e));
        match (self, said) {
            (VmFailure::Stopped(st), Some(r)) => format!("{st}: {r}"),
            (VmFailure::Stopped(st), None) => format!("QEMU run state {st}"),
            (VmFailure::Exited(code), Some(r)) => format!("{code}: {r}"),
            (VmFailure::Exited(code), None) => code.to_string(),
        }
    }

    /// The build's error: what happened `when` ("before SSH became available", "during
    /// provisioning"), QEMU's reason, and the console's last lines.
    fn into_error(self, s: &State<'_>, when: &str) -> BuildError {
        let what = match &self {
            VmFailure::Stopped(st) if st == "guest-panicked" => "The guest panicked".to_string(),
            VmFailure::Stopped(_) => "QEMU stopped the VM".to_string(),
            VmFailure::Exited(_) => "QEMU exited".to_string(),
        };
        let hint = if s.accelerator == "kvm"
            && matches!(&self, VmFailure::Stopped(st) if st == "internal-error")
        {
            "\nKVM cannot run this guest here: set accelerator = \"tcg\", or leave it unset to let Kiln choose."
        } else {
            ""
        };
        BuildError::step(format!(
            "{what} {when} ({}).{hint}{}",
            self.reason(s),
            s.diagnostics()
        ))
    }
}

/// What QEMU's last `BLOCK_IO_ERROR` says, in words: a full host file system is named as such,
/// with the directory the disks are in.
fn io_error_reason(q: &Qmp, s: &State<'_>) -> Option<String> {
    let e = q.last_block_io_error()?;
    let field = |k: &str| e.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
    let device = [field("device"), field("node-name")]
        .into_iter()
        .find(|d| !d.is_empty())
        .unwrap_or("a disk");
    let reason = Some(field("reason"))
        .filter(|r| !r.is_empty())
        .unwrap_or("I/O error");
    let op = Some(field("operation"))
        .filter(|o| !o.is_empty())
        .unwrap_or("access");
    let dir = s
        .staging
        .as_deref()
        .unwrap_or(s.cfg.output_directory.as_path())
        .display()
        .to_string();
    Some(
        if e.get("nospace").and_then(serde_json::Value::as_bool) == Some(true) {
            format!(
                "the host's file system is full: QEMU could not {op} the disk {device} in {dir} ({reason}); free some space there or set output_directory elsewhere"
            )
        } else {
            format!("QEMU could not {op} the disk {device} in {dir}: {reason}")
        },
    )
}

/// The first line of QEMU's stderr that says what went wrong (warnings skipped), without the
/// program-name prefix.
pub(crate) fn qemu_reason(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.contains("warning:") && !l.contains("terminating on signal")
        })
        .map(|l| {
            let l = l.strip_prefix("qemu-system-x86_64: ").unwrap_or(l);
            l.strip_prefix("error: ").unwrap_or(l).to_string()
        })
        .next()
}

/// Resolves when the VM stops making progress: its QEMU exits, or QMP's `query-status` shows a
/// run state the guest cannot leave by itself. Polls every 200 ms; pending forever without a
/// process to watch.
pub(crate) async fn vm_failure(qemu: Option<&mut Child>, mut qmp: Option<&mut Qmp>) -> VmFailure {
    let Some(child) = qemu else {
        return std::future::pending().await;
    };
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            // QEMU's default panic action powers the VM off: its QMP event tells why.
            if let Some(q) = qmp.as_deref_mut() {
                if q.saw_event("GUEST_PANICKED", Duration::from_millis(200))
                    .await
                {
                    return VmFailure::Stopped("guest-panicked".into());
                }
            }
            return VmFailure::Exited(st);
        }
        if let Some(q) = qmp.as_deref_mut() {
            if let Ok(v) = q.execute("query-status", None).await {
                let st = v
                    .get("status")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("");
                if matches!(st, "internal-error" | "guest-panicked" | "io-error") {
                    return VmFailure::Stopped(st.to_string());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[async_trait]
impl<'h> Step<State<'h>> for RunQemu {
    fn name(&self) -> &'static str {
        "run"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        s.accelerator = Self::accelerator(ctx, s).await;
        if !s.cfg.qemuargs.is_empty() {
            ctx.ui
                .say("Overriding default Qemu arguments with qemuargs template option...");
        }
        ctx.ui.say(if s.cfg.disk_image {
            "Starting VM, booting disk image"
        } else {
            "Starting VM, booting from CD-ROM"
        });
        match Self::launch(ctx, s).await {
            // QEMU exited at once under the KVM Kiln chose: the same as failing later.
            Err(e) if s.kvm_auto && !matches!(e, BuildError::Cancelled) => {
                match s.qemu.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                    Some(st) => Self::restart_under_tcg(ctx, s, VmFailure::Exited(st)).await,
                    None => Err(e),
                }
            }
            r => r,
        }
    }
    async fn cleanup(&self, ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        s.qmp = None;
        if let Some(mut c) = s.qemu.take() {
            if c.try_wait().ok().flatten().is_none() {
                ctx.ui.say("Stopping the VM...");
                let _ = c.kill().await;
            }
            if c.wait().await.is_ok() {
                done(&mut s.journaled.qemu);
            }
        }
    }
}

/// Waits `boot_wait`, then types `boot_command` through QMP.
pub struct BootCommand;

#[async_trait]
impl<'h> Step<State<'h>> for BootCommand {
    fn name(&self) -> &'static str {
        "boot command"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        Self::type_command(ctx, s).await
    }
}

impl BootCommand {
    /// Waits `boot_wait` (watching the VM: one that fails under the KVM Kiln chose starts again
    /// under TCG), then types the boot command.
    async fn type_command(ctx: &BuildContext, s: &mut State<'_>) -> Result<(), BuildError> {
        if !s.cfg.boot_wait.is_zero() {
            ctx.ui.say(format!(
                "Waiting {} for boot...",
                kiln_core::duration::human(s.cfg.boot_wait)
            ));
            let wait = s.cfg.boot_wait;
            loop {
                let failure = tokio::select! {
                    r = ctx.sleep(wait) => { r?; break; }
                    f = vm_failure(s.qemu.as_mut(), s.qmp.as_mut()) => f,
                };
                RunQemu::restart_under_tcg(ctx, s, failure).await?;
            }
        }
        if s.cfg.boot_steps.is_empty() {
            return Ok(());
        }
        let data = s.template_data();
        let interval = s.cfg.boot_key_interval;
        let steps = s.cfg.boot_steps.clone();
        let qmp = s.qmp.as_mut().ok_or_else(|| {
            BuildError::step("boot_command needs QEMU's QMP socket, but qemuargs replaced -qmp")
        })?;
        ctx.ui.say("Typing the boot command over QMP...");
        for (text, desc) in steps {
            if let Some(d) = desc {
                ctx.ui.say(format!("Typing boot step: {d}"));
            }
            let text = gotemplate::render(&text, &data).map_err(BuildError::step)?;
            let actions = keys::parse(&text).map_err(BuildError::step)?;
            for a in actions {
                let r = match a {
                    Action::Wait(d) => {
                        ctx.sleep(d).await?;
                        Ok(())
                    }
                    Action::Down(k) => qmp.key(k, true).await,
                    Action::Up(k) => qmp.key(k, false).await,
                    Action::Tap { mods, key } => {
                        let mut r = Ok(());
                        for m in &mods {
                            r = r.and(qmp.key(m, true).await);
                        }
                        r = r.and(qmp.key(key, true).await);
                        r = r.and(qmp.key(key, false).await);
                        for m in mods.iter().rev() {
                            r = r.and(qmp.key(m, false).await);
                        }
                        ctx.sleep(interval).await?;
                        r
                    }
                };
                r.map_err(|e| BuildError::step(format!("Error sending the boot command: {e}")))?;
            }
        }
        Ok(())
    }
}

/// Waits for the guest's SSH server (its banner, not just an open port) and runs the provisioners.
pub struct Provision;

#[async_trait]
impl<'h> Step<State<'h>> for Provision {
    fn name(&self) -> &'static str {
        "provision"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let mut data = GeneratedData::new();
        data.insert("PackerRunUUID".into(), ctx.info.run_uuid.clone());
        data.insert("ID".into(), String::new());
        for (k, v) in s.template_data() {
            data.insert(k.into(), v);
        }
        if let Some(h) = &s.http {
            data.insert("PackerHTTPIP".into(), HTTP_IP.into());
            data.insert("PackerHTTPPort".into(), h.port.to_string());
            data.insert("PackerHTTPAddr".into(), format!("{HTTP_IP}:{}", h.port));
        }
        if s.ssh.communicator == "none" {
            data.insert("ConnType".into(), "none".into());
            return s
                .hook
                .provision(
                    ctx,
                    Arc::new(kiln_communicator::none::NoneCommunicator),
                    &data,
                )
                .await;
        }
        let mut ssh = s.ssh.clone();
        if !s.cfg.skip_nat_mapping {
            if ssh.ssh_host.is_empty() {
                ssh.ssh_host = "127.0.0.1".into();
            }
            ssh.ssh_port = s.host_port;
        }
        ctx.ui.say(format!(
            "Using SSH communicator to connect: {}",
            ssh.ssh_host
        ));
        let comm = loop {
            let failure = tokio::select! {
                c = ssh::connect(ctx, &ssh) => break c,
                f = vm_failure(s.qemu.as_mut(), s.qmp.as_mut()) => f,
            };
            RunQemu::restart_under_tcg(ctx, s, failure).await?;
            BootCommand::type_command(ctx, s).await?;
        };
        let comm = match comm {
            Ok(c) => Arc::new(c),
            Err(e) => {
                return Err(BuildError::step(format!("{e}{}", s.diagnostics())));
            }
        };
        if let Some(t) = s.qemu_started {
            ctx.ui.message(format!(
                "SSH became available {:.1} s after QEMU started.",
                t.elapsed().as_secs_f64()
            ));
        }
        s.comm = Some(comm.clone());
        ssh.insert_generated(&mut data);
        // A VM that dies or stops (a full disk on the host) ends provisioning at once, with
        // QEMU's reason, instead of when a provisioner's connection times out.
        let hook = s.hook;
        let ended = tokio::select! {
            r = hook.provision(ctx, comm, &data) => Ok(r),
            f = vm_failure(s.qemu.as_mut(), s.qmp.as_mut()) => Err(f),
        };
        let failure = match ended {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(BuildError::Cancelled)) => return Err(BuildError::Cancelled),
            // The connection may have dropped because the VM went away: then that is the cause.
            Ok(Err(e)) => match tokio::time::timeout(
                Duration::from_millis(600),
                vm_failure(s.qemu.as_mut(), s.qmp.as_mut()),
            )
            .await
            {
                Ok(f) => f,
                Err(_) => return Err(e),
            },
            Err(f) => f,
        };
        if let VmFailure::Stopped(_) = failure {
            // Read what QEMU said with it (BLOCK_IO_ERROR comes before the STOP).
            if let Some(q) = s.qmp.as_mut() {
                let _ = q
                    .saw_event("BLOCK_IO_ERROR", Duration::from_millis(200))
                    .await;
            }
        }
        s.comm = None;
        Err(failure.into_error(s, "during provisioning"))
    }
    async fn cleanup(&self, _ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        s.comm = None;
    }
}

/// Stops the guest: `shutdown_command` over SSH, else an ACPI power-down through QMP; QEMU is
/// killed if it has not exited after `shutdown_timeout`.
pub struct Shutdown;

#[async_trait]
impl<'h> Step<State<'h>> for Shutdown {
    fn name(&self) -> &'static str {
        "shutdown"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let timeout = s.cfg.shutdown_timeout;
        match (&s.cfg.shutdown_command, &s.comm) {
            (Some(cmd), Some(comm)) => {
                ctx.ui.say("Gracefully halting virtual machine...");
                let ui = ctx.ui.clone();
                let mut sink = move |stream: OutputStream, line: &str| ui.output(stream, line);
                // The connection may drop as the guest goes down; that is expected.
                let r = tokio::time::timeout(timeout, comm.exec(cmd, &mut sink)).await;
                if let Ok(Err(e)) = r {
                    if !e.to_string().contains("disconnect") {
                        ctx.ui.message(format!("Shutdown command: {e}"));
                    }
                }
            }
            _ => {
                if s.ssh.communicator == "none" {
                    ctx.ui.say("Waiting for shutdown...");
                } else {
                    ctx.ui
                        .say("Halting the virtual machine (ACPI power-down)...");
                    if let Some(q) = s.qmp.as_mut() {
                        let _ = q.execute("system_powerdown", None).await;
                    }
                }
            }
        }
        s.comm = None;
        let Some(child) = s.qemu.as_mut() else {
            return Ok(());
        };
        let waited = tokio::select! {
            r = tokio::time::timeout(timeout, child.wait()) => r,
            () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
        };
        match waited {
            Ok(_) => {
                s.qemu = None;
                done(&mut s.journaled.qemu);
                s.qmp = None;
                Ok(())
            }
            Err(_) => Err(BuildError::step(format!(
                "Timeout while waiting for machine to shut down (shutdown_timeout {}).{}",
                kiln_core::duration::human(timeout),
                if s.cfg.shutdown_command.is_none() {
                    " The guest ignored the ACPI power button; set shutdown_command (e.g. \"sudo poweroff\")."
                } else {
                    ""
                }
            ))),
        }
    }
}

/// Compacts (and optionally compresses) a qcow2 disk with `qemu-img convert`.
pub struct ConvertDisk;

#[async_trait]
impl<'h> Step<State<'h>> for ConvertDisk {
    fn name(&self) -> &'static str {
        "convert"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if s.cfg.skip_compaction {
            return Ok(());
        }
        ctx.ui.say("Converting hard drive...");
        for d in s.disks.clone() {
            let tmp = d.with_extension("convert");
            let mut args = vec!["convert".to_string()];
            args.extend(s.cfg.qemu_img_args.convert.iter().cloned());
            args.extend(["-O".into(), s.cfg.format.clone()]);
            if s.cfg.disk_compression {
                args.push("-c".into());
            }
            args.extend([d.display().to_string(), tmp.display().to_string()]);
            let r = run_tool(ctx, "qemu-img", &args).await;
            if r.is_err() {
                let _ = tokio::fs::remove_file(&tmp).await;
            }
            r?;
            tokio::fs::rename(&tmp, &d)
                .await
                .map_err(|e| BuildError::io(format!("replacing {}", d.display()), e))?;
        }
        Ok(())
    }
}

/// Moves the staging directory to `output_directory` (replacing an old one under `-force`).
pub struct Finish;

#[async_trait]
impl<'h> Step<State<'h>> for Finish {
    fn name(&self) -> &'static str {
        "finish"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let out = s.cfg.output_directory.clone();
        let Some(staging) = s.staging.clone() else {
            return Ok(());
        };
        if out.exists() {
            if !ctx.info.force {
                return Err(BuildError::step(format!(
                    "Output directory '{}' already exists. It must not exist (use -force to replace it).",
                    out.display()
                )));
            }
            ctx.ui.say(format!(
                "Deleting previous output directory {}...",
                out.display()
            ));
            tokio::fs::remove_dir_all(&out)
                .await
                .map_err(|e| BuildError::io(format!("removing {}", out.display()), e))?;
        }
        tokio::fs::rename(&staging, &out)
            .await
            .map_err(|e| BuildError::io(format!("moving the image into {}", out.display()), e))?;
        s.staging = None;
        // The user's now.
        done(&mut s.journaled.staging);
        let mut files = Vec::new();
        for d in &s.disks {
            if let Some(n) = d.file_name() {
                files.push(out.join(n).display().to_string());
            }
        }
        s.output = files;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_tails_lose_escape_sequences_and_control_characters() {
        assert_eq!(
            printable("/ # \u{1b}[6n\r\nok \u{1b}[1;32mgreen\u{1b}[0m\tx\u{7}\n"),
            "/ # \nok green\tx\n"
        );
        assert_eq!(tail("a\n\u{1b}[6n\nb\n", 10), "    a\n    b");
    }
    use kiln_core::{Config, Diagnostics};

    struct NoHook;

    #[async_trait]
    impl Hook for NoHook {
        async fn provision(
            &self,
            _ctx: &BuildContext,
            _comm: Arc<dyn Communicator>,
            _data: &GeneratedData,
        ) -> Result<(), BuildError> {
            Ok(())
        }
    }

    fn cfg(extra: serde_json::Value) -> Result<QemuConfig, Diagnostics> {
        let mut v = serde_json::json!({
            "iso_url": "disk.qcow2", "iso_checksum": "none", "disk_image": true,
            "ssh_username": "root", "output_directory": "/nonexistent/out"
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        let info = kiln_core::BuildInfo {
            source_name: "vm".into(),
            ..Default::default()
        };
        QemuConfig::decode(&Config::from_value("source \"qemu\"", v), &info).map(|c| c.0)
    }

    fn args(extra: serde_json::Value) -> Vec<String> {
        let hook = NoHook;
        let mut s = State::new(Arc::new(cfg(extra).unwrap()), SshConfig::default(), &hook);
        s.host_port = 3333;
        s.accelerator = "tcg".into();
        s.disks.push("/out/packer-vm".into());
        RunQemu::args(&s)
    }

    fn values<'a>(args: &'a [String], switch: &str) -> Vec<&'a str> {
        args.windows(2)
            .filter(|w| w[0] == switch)
            .map(|w| w[1].as_str())
            .collect()
    }

    /// The KVM Kiln chose for the user fails on machines of our kind (a `/dev/kvm` that cannot
    /// run guests): the VM is noticed in QEMU's `internal-error` state during the boot wait,
    /// said so in one line, and started again under TCG, where it runs. Elsewhere the same test
    /// sees KVM run the VM, or (no KVM at all) QEMU exit at once and TCG take over.
    #[tokio::test]
    async fn a_vm_that_fails_under_the_chosen_kvm_runs_again_under_tcg() {
        let base = kiln_tests::qemu::base_image(false);
        let work = tempfile::tempdir().unwrap();
        let disk = work.path().join("disk.qcow2");
        std::fs::copy(&base, &disk).unwrap();
        let hook = NoHook;
        // A boot wait long enough that KVM's failure falls inside it even on a loaded machine
        // (under a full test run it came after 8 s once: the SSH wait, not run here, would
        // have caught it then).
        let c =
            cfg(serde_json::json!({"headless": true, "boot_wait": "20s", "memory": 256})).unwrap();
        let mut s = State::new(Arc::new(c), SshConfig::default(), &hook);
        s.tmp = Some(tempfile::tempdir().unwrap());
        s.disks.push(disk);
        // As if the probe had said yes.
        s.kvm_probe = Some(crate::kvm::Probe(tokio::spawn(async { Ok(()) })));
        let (events, mut rx) = kiln_core::Events::channel();
        let ctx = BuildContext {
            info: Arc::default(),
            ui: events.ui("qemu.vm"),
            cancel: tokio_util::sync::CancellationToken::new(),
            journal: Default::default(),
            operator: Default::default(),
        };
        RunQemu.run(&ctx, &mut s).await.unwrap();
        BootCommand.run(&ctx, &mut s).await.unwrap();
        let status = s
            .qmp
            .as_mut()
            .unwrap()
            .execute("query-status", None)
            .await
            .unwrap();
        assert_eq!(status["status"], "running", "{status}");
        let mut said = Vec::new();
        while let Ok(e) = rx.try_recv() {
            said.push(format!("{:?}", e.kind));
        }
        let said = said.join("\n");
        let failed = said.contains("The VM failed under KVM");
        if s.accelerator == "tcg" {
            assert!(failed, "{said}");
            assert!(
                said.contains("KVM internal error") || said.contains("QEMU exited"),
                "{said}"
            );
        } else {
            assert_eq!(s.accelerator, "kvm");
            assert!(!failed, "{said}");
        }
        RunQemu.cleanup(&ctx, &mut s, Outcome::Success).await;
    }

    #[test]
    fn qemus_reason_skips_warnings_and_the_register_dump_is_left_out() {
        let err = "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\nKVM internal error. Suberror: 1\nextra data[0]: 0x0000000000000001\nemulation failure\nEAX=00000000 EBX=00000000 ECX=00000000 EDX=00000663\nES =0000 00000000 0000ffff 00009300\nCR0=00000011 CR2=00000000 CR3=00000000 CR4=00000000\nCode=eb de ff 0d <cf> c3 90\n";
        assert_eq!(
            qemu_reason(err).as_deref(),
            Some("KVM internal error. Suberror: 1")
        );
        assert_eq!(
            qemu_reason("qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n").as_deref(),
            Some("failed to set MSR 0x10a to 0x69")
        );
        assert_eq!(
            qemu_reason("qemu-system-x86_64: terminating on signal 15 from pid 1\n"),
            None
        );
        let kept: Vec<&str> = err.lines().filter(|l| !is_register_dump(l)).collect();
        assert_eq!(
            kept,
            [
                "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]",
                "KVM internal error. Suberror: 1",
                "emulation failure"
            ]
        );
    }

    #[test]
    fn packer_defaults() {
        let a = args(serde_json::json!({}));
        assert_eq!(values(&a, "-machine"), ["type=pc,accel=tcg"]);
        assert_eq!(values(&a, "-m"), ["512M"]);
        assert_eq!(values(&a, "-name"), ["packer-vm"]);
        assert_eq!(values(&a, "-boot"), ["c"]);
        assert_eq!(values(&a, "-display"), ["gtk"]);
        assert_eq!(
            values(&a, "-netdev"),
            ["user,id=user.0,hostfwd=tcp:127.0.0.1:3333-:22"]
        );
        assert_eq!(values(&a, "-device"), ["virtio-net,netdev=user.0"]);
        assert_eq!(
            values(&a, "-drive"),
            ["file=/out/packer-vm,if=virtio,cache=writeback,discard=ignore,format=qcow2"]
        );
    }

    /// Under TCG an x86 guest gets RDRAND unless a CPU is chosen (see `tcg_cpu`); `cpu_model`
    /// and a `-cpu` in `qemuargs` choose it, and QEMU's own default stays for other emulators.
    #[test]
    fn under_tcg_the_guest_cpu_has_rdrand_unless_one_is_chosen() {
        assert_eq!(
            values(&args(serde_json::json!({})), "-cpu"),
            ["qemu64,+rdrand"]
        );
        assert_eq!(
            values(&args(serde_json::json!({"cpu_model": "max"})), "-cpu"),
            ["max"]
        );
        assert_eq!(
            values(
                &args(serde_json::json!({"qemuargs": [["-cpu", "Skylake-Client"]]})),
                "-cpu"
            ),
            ["Skylake-Client"]
        );
        let other = args(serde_json::json!({"qemu_binary": "qemu-system-aarch64"}));
        assert!(values(&other, "-cpu").is_empty(), "{other:?}");
        assert_eq!(crate::tcg_cpu("/usr/bin/qemu-system-x86_64", "kvm"), None);
    }

    #[test]
    fn vtpm_is_a_tpm_2_on_tpm_tis_unless_asked_otherwise() {
        use crate::config::Vtpm;
        assert_eq!(cfg(serde_json::json!({})).unwrap().vtpm, None);
        assert_eq!(
            cfg(serde_json::json!({"vtpm": true})).unwrap().vtpm,
            Some(Vtpm {
                tpm1: false,
                device: "tpm-tis".into()
            })
        );
        assert_eq!(
            cfg(serde_json::json!({"vtpm": true, "use_tpm1": true, "tpm_device_type": "tpm-crb"}))
                .unwrap()
                .vtpm,
            Some(Vtpm {
                tpm1: true,
                device: "tpm-crb".into()
            })
        );
        let a: Vec<String> = crate::vtpm::qemu_args(Path::new("/t/vtpm.sock"), "tpm-tis")
            .into_iter()
            .flat_map(|(k, v)| [k.to_string(), v])
            .collect();
        assert_eq!(
            a,
            [
                "-chardev",
                "socket,id=vtpm,path=/t/vtpm.sock",
                "-tpmdev",
                "emulator,id=tpm0,chardev=vtpm",
                "-device",
                "tpm-tis,tpmdev=tpm0"
            ]
        );
    }

    #[test]
    fn qemuargs_replace_a_switch_and_add_others() {
        let a = args(serde_json::json!({
            "headless": true,
            "qemuargs": [
                ["-m", "1024M"],
                ["-netdev", "user,id=user.0,hostfwd=tcp::{{ .SSHHostPort }}-:22"],
                ["-device", "e1000,netdev=user.0"],
                ["-no-reboot"],
            ]
        }));
        assert_eq!(values(&a, "-m"), ["1024M"]);
        assert_eq!(
            values(&a, "-netdev"),
            ["user,id=user.0,hostfwd=tcp::3333-:22"]
        );
        // Packer adds the net device back when the user's -device list lacks it.
        assert_eq!(
            values(&a, "-device"),
            ["e1000,netdev=user.0", "virtio-net,netdev=user.0"]
        );
        assert_eq!(values(&a, "-display"), ["none"]);
        assert_eq!(a.last().map(String::as_str), Some("-no-reboot"));
    }

    #[test]
    fn invalid_options_are_reported_together() {
        let e = cfg(serde_json::json!({
            "format": "vmdk", "use_backing_file": true, "disk_image": false,
            "disk_size": "ten", "accelerator": "fast", "boot_command": ["é"]
        }))
        .unwrap_err()
        .to_string();
        for m in [
            "invalid format \"vmdk\", only 'qcow2' or 'raw' are allowed",
            "use_backing_file can only be enabled for QCOW2 images and when disk_image is true",
            "Invalid disk size \"ten\"",
            "invalid accelerator \"fast\"",
            "the character 'é' cannot be typed",
        ] {
            assert!(e.contains(m), "missing {m:?} in {e}");
        }
    }
}

//! `kiln test IMAGE --spec goss.yaml`: boots a built image on a throwaway machine, runs the goss
//! spec against it natively over SSH, prints the results and removes the machine. A qemu disk
//! boots in a VM in snapshot mode (the image is not changed); an AMI (`ami-...` or
//! `REGION:ami-...`) as an instance that is terminated afterwards, with its temporary key pair
//! and security group. Exit status 0 when every test passed, 1 when one failed, 2 when the
//! machine could not be booted or reached. `kiln images test BUCKET VERSION` does the same for
//! a catalog version's image and records the results with it.

use clap::Args;
use kiln_core::launch::{LaunchOptions, Machine};
use kiln_core::lifecycle::StoredArtifact;
use kiln_core::{BuildContext, BuildInfo, EventKind, Events};
use kiln_goss as goss;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The image: a qemu build's disk (qcow2 or raw), or an AMI (`ami-...`, `REGION:ami-...`).
    image: String,
    #[command(flatten)]
    opts: TestOptions,
}

/// How to boot the image and what to run: shared by `kiln test` and `kiln images test`.
#[derive(Args, Debug, Clone)]
pub struct TestOptions {
    /// The goss spec (its gossfile includes are followed).
    #[arg(long)]
    pub spec: PathBuf,
    /// YAML or JSON values for {{ .Vars }} in the spec.
    #[arg(long = "vars-file")]
    vars_file: Option<PathBuf>,
    /// The guest user to log in as.
    #[arg(long = "ssh-username", default_value = "root")]
    ssh_username: String,
    /// Its password (default: KILN_SSH_PASSWORD).
    #[arg(long = "ssh-password")]
    ssh_password: Option<String>,
    /// Its private key.
    #[arg(long = "ssh-private-key-file")]
    ssh_private_key_file: Option<PathBuf>,
    /// How long to wait for SSH.
    #[arg(long = "ssh-timeout", default_value = "5m")]
    ssh_timeout: String,
    /// rspecish, documentation, tap, junit, json, nagios or silent.
    #[arg(long, default_value = "documentation")]
    format: String,
    /// Run the probe through `sudo -n` (for a non-root --ssh-username).
    #[arg(long)]
    sudo: bool,
    /// kvm or tcg (default: KVM when it runs guests here).
    #[arg(long)]
    accelerator: Option<String>,
    /// Guest memory, MiB.
    #[arg(long, default_value_t = 512)]
    memory: u32,
    /// AMIs: the region to launch in (default: the image's first, or AWS_REGION for a bare id).
    #[arg(long)]
    region: Option<String>,
    /// AMIs: the instance type (default t3.micro).
    #[arg(long = "instance-type")]
    instance_type: Option<String>,
    /// AMIs: the subnet to launch into.
    #[arg(long = "subnet-id")]
    subnet_id: Option<String>,
    /// AMIs: a security group (repeatable; default: a temporary one admitting SSH).
    #[arg(long = "security-group-id")]
    security_group_ids: Vec<String>,
    /// Connect here instead of the address the machine reports (as Packer's ssh_host).
    #[arg(long = "ssh-host")]
    ssh_host: Option<String>,
    /// The SSH port (default 22; a local VM's is forwarded).
    #[arg(long = "ssh-port")]
    ssh_port: Option<u16>,
}

/// What `kiln test` boots.
#[derive(Debug, Clone)]
pub enum Target {
    /// A local disk image, booted in a snapshot-mode VM.
    Disk(PathBuf),
    /// A catalogued or named cloud image, launched through its lifecycle.
    Cloud(StoredArtifact),
}

impl Target {
    /// `kiln test`'s argument: a file, else an AMI id.
    fn parse(arg: &str, region: Option<&str>) -> Result<Target, String> {
        let p = Path::new(arg);
        if p.exists() {
            return Ok(Target::Disk(p.to_path_buf()));
        }
        let ami = |s: &str| s.starts_with("ami-");
        let id = match arg.split_once(':') {
            Some((r, a)) if ami(a) => format!("{r}:{a}"),
            None if ami(arg) => {
                let region = region
                    .map(String::from)
                    .or_else(|| std::env::var("AWS_REGION").ok())
                    .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
                    .ok_or_else(|| {
                        format!("{arg}: which region? Give --region, AWS_REGION, or REGION:{arg}")
                    })?;
                format!("{region}:{arg}")
            }
            _ => {
                return Err(format!(
                    "{arg}: no such image file, and not an AMI id (ami-... or REGION:ami-...)"
                ))
            }
        };
        Ok(Target::Cloud(StoredArtifact {
            builder_id: "mitchellh.amazonebs".into(),
            id,
            files: Vec::new(),
            state: serde_json::Value::Null,
        }))
    }

    /// A catalog version's image: its cloud artifact when this kiln can launch one, else its
    /// disk file.
    ///
    /// # Errors
    /// The version has nothing to boot, or its disk is gone.
    pub fn of_version(v: &kiln_catalog::model::Version) -> Result<Target, String> {
        let cloud = crate::catalog::lifecycles();
        if let Some(a) = v
            .artifacts
            .iter()
            .find(|a| cloud.iter().any(|l| l.handles(&a.builder_id)))
        {
            return Ok(Target::Cloud(a.stored()));
        }
        let files = || v.artifacts.iter().flat_map(|a| a.files.iter());
        let Some(image) = files()
            .find(|f| f.ends_with(".qcow2") || f.ends_with(".raw") || f.ends_with(".img"))
            .or_else(|| files().next())
        else {
            return Err(format!(
                "{} {} has no image to boot: neither a disk file nor a cloud image",
                v.bucket,
                v.label()
            ));
        };
        if !Path::new(image).exists() {
            return Err(format!(
                "{} {}: its image {image} is not there ({}); restore it first",
                v.bucket,
                v.label(),
                v.state.as_str()
            ));
        }
        Ok(Target::Disk(PathBuf::from(image)))
    }

    fn describe(&self) -> String {
        match self {
            Target::Disk(p) => p.display().to_string(),
            Target::Cloud(a) => a.id.clone(),
        }
    }

    async fn launch(
        &self,
        ctx: &BuildContext,
        o: &LaunchOptions,
    ) -> Result<Box<dyn Machine>, String> {
        match self {
            Target::Disk(p) => kiln_builder_qemu::throwaway::launch(p, o, &ctx.journal).await,
            Target::Cloud(a) => {
                for l in crate::catalog::lifecycles() {
                    if l.handles(&a.builder_id) {
                        if let Some(r) = l.launch(ctx, a, o).await {
                            return r;
                        }
                    }
                }
                Err(format!(
                    "{} artifacts cannot be booted by this kiln (built without that cloud's feature?)",
                    a.builder_id
                ))
            }
        }
    }
}

/// A finished run: the results as asked for, as goss's JSON, and whether one failed.
pub struct Tested {
    /// In `--format`.
    pub shown: String,
    /// goss's JSON, for the catalog.
    pub json: String,
    /// Whether a test failed.
    pub failed: bool,
}

/// Runs `kiln test`; returns the exit status.
pub fn run(a: TestArgs) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let target = match Target::parse(&a.image, a.opts.region.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Error: {e}");
            return 2;
        }
    };
    rt.block_on(async {
        match test(&target, &a.opts).await {
            Ok(t) => {
                print!("{}", t.shown);
                i32::from(t.failed)
            }
            Err(code) => code,
        }
    })
}

/// Boots `target`, runs the spec, removes the machine. Progress goes to standard error; `Err`
/// is the exit status of a run that could not test (its reason printed).
pub async fn test(target: &Target, a: &TestOptions) -> Result<Tested, i32> {
    if !goss::report::FORMATS.contains(&a.format.as_str()) {
        eprintln!(
            "Error: --format {:?} is not one of {}",
            a.format,
            goss::report::FORMATS.join(", ")
        );
        return Err(2);
    }
    let resources = goss::load_spec(&a.spec, a.vars_file.as_deref()).map_err(|e| {
        eprintln!("Error: {e}");
        2
    })?;
    let timeout = kiln_core::duration::parse(&a.ssh_timeout).map_err(|e| {
        eprintln!("Error: --ssh-timeout: {e}");
        2
    })?;
    let launch = LaunchOptions {
        accelerator: a.accelerator.clone(),
        memory_mib: Some(a.memory),
        instance_type: a.instance_type.clone(),
        region: a.region.clone(),
        subnet_id: a.subnet_id.clone(),
        security_group_ids: a.security_group_ids.clone(),
        ssh_host: a.ssh_host.clone(),
        ssh_port: a.ssh_port,
        ssh_username: Some(a.ssh_username.clone()),
    };
    let (events, mut rx) = Events::channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    let ctx = BuildContext {
        info: Arc::new(BuildInfo {
            name: "test".into(),
            ..BuildInfo::default()
        }),
        ui: events.ui("test"),
        cancel: cancel.clone(),
        // The test machine is in a journal of its own run: `kiln cleanup` removes it if this
        // process is killed.
        journal: crate::cleanup::open(&uuid::Uuid::new_v4().to_string()),
        operator: Default::default(),
    };
    // Messages from the launch and the communicator, shown as a build's would be.
    let printer = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if let EventKind::Say(t) | EventKind::Message(t) | EventKind::Error(t) = ev.kind {
                eprintln!("    {t}");
            }
        }
    });
    let interrupt = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("Interrupted: removing the test machine");
            interrupt.cancel();
        }
    });
    eprintln!("==> Booting {} on a throwaway machine", target.describe());
    let outcome = match target.launch(&ctx, &launch).await {
        Err(e) => {
            eprintln!("Error: {e}");
            Err(if cancel.is_cancelled() { 130 } else { 2 })
        }
        Ok(mut machine) => {
            eprintln!("==> Testing {}", machine.describe());
            let ssh = kiln_communicator::SshConfig {
                ssh_username: a.ssh_username.clone(),
                ssh_password: a
                    .ssh_password
                    .clone()
                    .or_else(|| std::env::var("KILN_SSH_PASSWORD").ok()),
                ssh_private_key_file: a
                    .ssh_private_key_file
                    .as_ref()
                    .map(|p| p.display().to_string()),
                ssh_timeout: Some(timeout),
                ..Default::default()
            };
            let opts = goss::RunOptions {
                use_sudo: a.sudo,
                ..Default::default()
            };
            let ran = goss::test_machine(&ctx, machine.as_mut(), &ssh, &resources, &opts).await;
            let described = machine.describe();
            match machine.stop().await {
                Ok(()) => eprintln!("==> Removed {described}; the image was not changed"),
                Err(e) => eprintln!("Error: removing {described}: {e}"),
            }
            match ran {
                Ok(run) => Ok(Tested {
                    shown: run.render(&a.format),
                    json: run.render("json"),
                    failed: run.failed(),
                }),
                Err(kiln_core::BuildError::Cancelled) => Err(130),
                Err(e) => {
                    eprintln!("Error: {e}");
                    Err(2)
                }
            }
        }
    };
    watcher.abort();
    let journal = ctx.journal.clone();
    drop(ctx);
    drop(events);
    let _ = printer.await;
    crate::cleanup::say_left(&journal.finish());
    outcome
}

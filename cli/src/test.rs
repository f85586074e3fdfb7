//! `kiln test IMAGE --spec goss.yaml`: boots a built qemu image in a throwaway VM (snapshot mode:
//! the image is not changed), runs the goss spec against it natively over SSH, prints the results
//! and stops the VM. Exit status 0 when every test passed, 1 when one failed, 2 when the VM could
//! not be booted or reached. `kiln images test BUCKET VERSION` does the same for a catalog
//! version's image and records the results with it.

use clap::Args;
use kiln_core::{BuildContext, BuildInfo, EventKind, Events};
use kiln_provisioners::goss;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The image: a qemu build's disk (qcow2 or raw).
    image: PathBuf,
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
    rt.block_on(async {
        match test(&a.image, &a.opts).await {
            Ok(t) => {
                print!("{}", t.shown);
                i32::from(t.failed)
            }
            Err(code) => code,
        }
    })
}

/// Boots `image`, runs the spec, stops the VM. Progress goes to standard error; `Err` is the
/// exit status of a run that could not test (its reason printed).
pub async fn test(image: &Path, a: &TestOptions) -> Result<Tested, i32> {
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
    let opts = kiln_builder_qemu::throwaway::Options {
        accelerator: a.accelerator.clone(),
        memory_mib: a.memory,
        ..Default::default()
    };
    eprintln!(
        "==> Booting {} in a throwaway VM (snapshot mode)",
        image.display()
    );
    let mut vm = kiln_builder_qemu::throwaway::boot(image, &opts)
        .await
        .map_err(|e| {
            eprintln!("Error: {e}");
            2
        })?;
    eprintln!(
        "==> Under {}, waiting for SSH on 127.0.0.1:{}",
        vm.accelerator, vm.port
    );
    let (events, mut rx) = Events::channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    let ctx = BuildContext {
        info: Arc::new(BuildInfo {
            name: "test".into(),
            ..BuildInfo::default()
        }),
        ui: events.ui("test"),
        cancel: cancel.clone(),
    };
    // Messages from the communicator, shown as a build's would be.
    let printer = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if let EventKind::Say(t) | EventKind::Message(t) | EventKind::Error(t) = ev.kind {
                eprintln!("    {t}");
            }
        }
    });
    let cfg = kiln_communicator::SshConfig {
        ssh_host: "127.0.0.1".into(),
        ssh_port: vm.port,
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
    let outcome = tokio::select! {
        c = kiln_communicator::ssh::connect(&ctx, &cfg) => match c {
            Ok(comm) => {
                let start = std::time::Instant::now();
                match goss::run(&ctx, &comm, &resources, &goss::RunOptions { use_sudo: a.sudo, ..Default::default() }).await {
                    Ok(results) => {
                        let now = time::OffsetDateTime::now_utc()
                            .format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default();
                        let took = start.elapsed();
                        Ok(Tested {
                            shown: goss::report::render(&a.format, &results, took, &now),
                            json: goss::report::render("json", &results, took, &now),
                            failed: results.iter().any(|o| o.result == goss::probe::Verdict::Fail),
                        })
                    }
                    Err(e) => {
                        eprintln!("Error: {e}");
                        Err(2)
                    }
                }
            }
            Err(e) => {
                eprintln!("Error: {e}\nThe guest's console:\n{}", vm.serial());
                Err(2)
            }
        },
        why = vm.exited() => {
            eprintln!("Error: {why}");
            Err(2)
        },
        _ = tokio::signal::ctrl_c() => {
            cancel.cancel();
            eprintln!("Interrupted: stopping the VM");
            Err(130)
        }
    };
    vm.stop().await;
    drop(ctx);
    drop(events);
    let _ = printer.await;
    eprintln!("==> The VM is stopped; {} was not changed", image.display());
    outcome
}

//! `post-processor "test"`: boots the image the build just made on a throwaway machine (a qemu
//! disk in a snapshot-mode VM, so the image is not changed; an AMI as an instance, terminated
//! afterwards) and runs a goss spec against it over SSH, with [`kiln_goss`]. A failing test fails
//! the build; the results go to the catalog with the version either way. Its spec options are
//! the goss provisioner's (`tests`, `goss_file`, `vars_file`, `vars_inline`, `vars_env`,
//! `format`, `output_file`, `use_sudo`, `retry_timeout`, `sleep`); the rest say how to boot and
//! reach the machine.

use async_trait::async_trait;
use kiln_core::launch::LaunchOptions;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, OutputStream,
    PostProcessed, PostProcessor,
};
use kiln_goss::{report, spec, RunOptions, Tests};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TestConfig {
    tests: Vec<String>,
    goss_file: String,
    vars_file: String,
    vars_inline: BTreeMap<String, String>,
    vars_env: BTreeMap<String, String>,
    format: String,
    output_file: String,
    use_sudo: bool,
    retry_timeout: String,
    sleep: String,
    ssh_username: String,
    ssh_password: Option<String>,
    ssh_private_key_file: Option<String>,
    ssh_timeout: String,
    ssh_host: Option<String>,
    ssh_port: Option<u16>,
    accelerator: Option<String>,
    memory: Option<u32>,
    instance_type: Option<String>,
    region: Option<String>,
    subnet_id: Option<String>,
    security_group_ids: Vec<String>,
}

/// `post-processor "test"`.
#[derive(Debug, Default)]
pub struct Test {
    cfg: TestConfig,
    resources: Vec<spec::Resource>,
    entry: PathBuf,
    retry: Duration,
    sleep: Duration,
    ssh_timeout: Duration,
}

fn failed(message: impl Into<String>) -> BuildError {
    BuildError::PostProcessor {
        kind: "test".into(),
        message: message.into(),
    }
}

#[async_trait]
impl PostProcessor for Test {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        let c = &self.cfg;
        let invalid = |key: &str, m: String| config.error_at(key, "Invalid test configuration", m);
        let mut diags = Diagnostics::default();
        if !c.format.is_empty() && !report::FORMATS.contains(&c.format.as_str()) {
            diags.push(invalid(
                "format",
                format!(
                    "unknown format {:?}; use one of {}",
                    c.format,
                    report::FORMATS.join(", ")
                ),
            ));
        }
        for (key, v, default) in [
            ("retry_timeout", &c.retry_timeout, "0s"),
            ("sleep", &c.sleep, "1s"),
            ("ssh_timeout", &c.ssh_timeout, "5m"),
        ] {
            let text = if v.is_empty() { default } else { v.as_str() };
            match kiln_core::duration::parse(text) {
                Ok(d) => match key {
                    "retry_timeout" => self.retry = d,
                    "sleep" => self.sleep = d,
                    _ => self.ssh_timeout = d,
                },
                Err(e) => diags.push(invalid(key, e)),
            }
        }
        if let Some(a) = c.accelerator.as_deref() {
            if !["kvm", "tcg"].contains(&a) {
                diags.push(invalid(
                    "accelerator",
                    format!("accelerator {a:?}: use kvm or tcg (or leave it out: KVM when it runs guests here)"),
                ));
            }
        }
        let tests = Tests {
            tests: c.tests.clone(),
            goss_file: c.goss_file.clone(),
            vars_file: c.vars_file.clone(),
            vars_inline: c.vars_inline.clone(),
            vars_env: c.vars_env.clone(),
        };
        match tests.load() {
            Ok((entry, resources)) => {
                self.entry = entry;
                self.resources = resources;
            }
            Err(e) => diags.push(invalid(e.key, e.message)),
        }
        if diags.0.is_empty() {
            Ok(Vec::new())
        } else {
            Err(diags)
        }
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let c = &self.cfg;
        let username = if c.ssh_username.is_empty() {
            "root".to_string()
        } else {
            c.ssh_username.clone()
        };
        let opts = LaunchOptions {
            accelerator: c.accelerator.clone(),
            memory_mib: c.memory,
            instance_type: c.instance_type.clone(),
            region: c.region.clone(),
            subnet_id: c.subnet_id.clone(),
            security_group_ids: c.security_group_ids.clone(),
            ssh_host: c.ssh_host.clone(),
            ssh_port: c.ssh_port,
            ssh_username: Some(username.clone()),
        };
        ctx.ui
            .say(format!("Booting {} on a throwaway machine", artifact.id()));
        // A launch cut short by cancellation removes what it made, and says so.
        let mut machine = match artifact.launch(ctx, &opts).await {
            None => {
                return Err(failed(format!(
                    "the artifact of {} ({}) cannot be booted for a test: put the test post-processor right after a qemu or amazon-ebs build",
                    artifact.builder_id(),
                    artifact.id()
                )))
            }
            Some(Err(e)) => return Err(failed(e)),
            Some(Ok(m)) => m,
        };
        ctx.ui.say(format!(
            "Running {} goss assertions against {}",
            self.resources
                .iter()
                .map(|r| r.asserts.len())
                .sum::<usize>(),
            machine.describe()
        ));
        let ssh = kiln_communicator::SshConfig {
            ssh_username: username,
            ssh_password: c.ssh_password.clone(),
            ssh_private_key_file: c.ssh_private_key_file.clone(),
            ssh_timeout: Some(self.ssh_timeout),
            ..Default::default()
        };
        let run_opts = RunOptions {
            env: c.vars_env.clone(),
            use_sudo: c.use_sudo,
            retry: self.retry,
            sleep: self.sleep,
        };
        let ran =
            kiln_goss::test_machine(ctx, machine.as_mut(), &ssh, &self.resources, &run_opts).await;
        let described = machine.describe();
        let stopped = machine.stop().await;
        match &stopped {
            Ok(()) => ctx.ui.say(format!("Stopped {described}")),
            Err(e) => ctx.ui.error(format!("Stopping {described}: {e}")),
        }
        let run = ran.map_err(|e| match e {
            BuildError::Cancelled => e,
            e => failed(e.to_string()),
        })?;
        stopped.map_err(failed)?;
        let format = if c.format.is_empty() {
            "rspecish"
        } else {
            c.format.as_str()
        };
        let text = run.render(format);
        ctx.ui.document(
            "test-results",
            self.entry.display().to_string(),
            run.render("json"),
        );
        for l in text.lines() {
            ctx.ui.output(OutputStream::Stdout, l);
        }
        if !c.output_file.is_empty() {
            crate::ensure_parent("test", &c.output_file)?;
            std::fs::write(&c.output_file, &text)
                .map_err(|e| crate::io_err("test", &format!("writing {}", c.output_file), e))?;
        }
        if run.failed() {
            return Err(failed(format!(
                "the image failed its tests: {}",
                run.failures()
            )));
        }
        Ok(PostProcessed {
            artifact,
            keep_input: true,
            force_keep: false,
        })
    }
}

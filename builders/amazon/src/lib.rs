//! Kiln's `amazon-ebs` builder and `amazon-ami` data source, on the official AWS SDK for Rust.
//!
//! The builder launches an instance from a source AMI, provisions it over SSH, stops it and
//! makes an EBS-backed AMI of it, copied to `ami_regions`, shared, tagged and deprecated as
//! asked, with Packer's options and defaults. See `steps` for the sequence and what each step's
//! cleanup undoes.

pub mod cleaner;
pub mod client;
pub mod config;
pub mod data;
pub mod launch;
pub mod lifecycle;
pub mod poll;
pub mod steps;

pub use aws_sdk_ec2 as sdk;

use async_trait::async_trait;
use config::AmazonConfig;
use kiln_communicator::SshConfig;
use kiln_core::step::{run_steps, Step};
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Builder, Config, Diagnostics, Hook, Registry,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use steps::State;

/// Packer's builder id for amazon-ebs, kept so that tools reading manifests agree.
pub const BUILDER_ID: &str = "mitchellh.amazonebs";

/// Registers `amazon-ebs`, the `amazon-ami` data source and the journal's AWS cleaner.
pub fn register(r: &mut Registry) {
    r.builder("amazon-ebs", || Box::new(EbsBuilder::default()));
    r.cleaner(cleaner::PROVIDER, Arc::new(cleaner::AwsCleaner));
    data::register(r);
}

/// `source "amazon-ebs"`.
#[derive(Debug, Default)]
pub struct EbsBuilder {
    cfg: Option<Arc<AmazonConfig>>,
    ssh: SshConfig,
}

#[async_trait]
impl Builder for EbsBuilder {
    fn prepare(&mut self, config: &Config, info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        let mut diags = Diagnostics::default();
        if let Err(d) = config.check_fields(&[
            config::ACCESS,
            config::FIELDS,
            config::UNSUPPORTED,
            kiln_communicator::config::FIELDS,
            kiln_communicator::config::WINRM_FIELDS,
        ]) {
            diags.extend(d);
        }
        let ssh = SshConfig::decode(config);
        let comm = ssh
            .as_ref()
            .map_or_else(|_| "ssh".to_string(), |s| s.communicator.clone());
        let cfg = match AmazonConfig::decode(config, &comm) {
            // `-force` deregisters an AMI of the same name, as force_deregister (Packer's rule).
            Ok(mut c) => {
                c.force_deregister |= info.force;
                Some(c)
            }
            Err(d) => {
                diags.extend(d);
                None
            }
        };
        match ssh {
            Ok(s) => {
                for (k, m) in s.validate(false) {
                    // A temporary key pair is made when neither is given.
                    if k == "ssh_password" || k == "ssh_private_key_file" {
                        continue;
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
        self.cfg = cfg.map(Arc::new);
        Ok(Vec::new())
    }

    fn generated_names(&self) -> Vec<String> {
        [
            "SourceAMIName",
            "BuildRegion",
            "SourceAMI",
            "SourceAMICreationDate",
            "SourceAMIOwner",
            "SourceAMIOwnerName",
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
            .ok_or_else(|| BuildError::step("the amazon-ebs builder was not prepared"))?;
        for s in [&cfg.secret_key, &cfg.token, &self.ssh.ssh_password]
            .into_iter()
            .flatten()
        {
            ctx.ui.add_secret(s);
        }
        let access = client::Access::load(&cfg).await;
        let Some(region) = access.region() else {
            return Err(BuildError::step(
                "No region: set region in the template, AWS_REGION, or a region in the AWS config file's profile",
            ));
        };
        let steps: Vec<Box<dyn Step<State<'_>>>> = vec![
            Box::new(steps::PreValidate),
            Box::new(steps::SourceAmi),
            Box::new(steps::NetworkInfo),
            Box::new(steps::KeyPair),
            Box::new(steps::SecurityGroup),
            Box::new(steps::RunInstance),
            Box::new(steps::Provision),
            Box::new(steps::StopInstance),
            Box::new(steps::DeregisterOld),
            Box::new(steps::CreateAmi),
            Box::new(steps::CopyToRegions),
            Box::new(steps::Finish),
        ];
        let mut state = State::new(cfg.clone(), self.ssh.clone(), hook, access.clone(), region);
        state.start_key_generation(true);
        run_steps(ctx, &steps, &mut state).await?;
        if state.amis.is_empty() {
            // skip_create_ami: nothing was made.
            return Ok(None);
        }
        Ok(Some(Arc::new(AmiArtifact {
            amis: state.amis.clone(),
            snapshots: state.snapshots.clone(),
            access,
        })))
    }
}

/// The AMIs a build made, by region.
#[derive(Debug)]
pub struct AmiArtifact {
    /// `region -> ami-id`.
    pub amis: BTreeMap<String, String>,
    /// `region -> snapshot ids`.
    pub snapshots: BTreeMap<String, Vec<String>>,
    access: client::Access,
}

#[async_trait]
impl Artifact for AmiArtifact {
    fn builder_id(&self) -> String {
        BUILDER_ID.into()
    }
    /// Packer's form: `region:ami-id` pairs, sorted, joined by commas.
    fn id(&self) -> String {
        let mut parts: Vec<String> = self.amis.iter().map(|(r, a)| format!("{r}:{a}")).collect();
        parts.sort();
        parts.join(",")
    }
    fn files(&self) -> Vec<String> {
        Vec::new()
    }
    fn string(&self) -> String {
        let mut lines: Vec<String> = self.amis.iter().map(|(r, a)| format!("{r}: {a}")).collect();
        lines.sort();
        format!("AMIs were created:\n{}\n", lines.join("\n"))
    }
    fn state(&self, name: &str) -> Option<serde_json::Value> {
        match name {
            "amis" => Some(serde_json::json!(self.amis)),
            // What the catalog needs to deprecate, disable and delete the images later.
            "catalog" => Some(serde_json::json!({
                "amis": self.amis,
                "snapshots": self.snapshots,
                "endpoint": self.access.endpoint(),
            })),
            _ => None,
        }
    }
    /// A test instance of the AMI (in `opts.region`, else the first region).
    async fn launch(
        &self,
        ctx: &BuildContext,
        opts: &kiln_core::launch::LaunchOptions,
    ) -> Option<Result<Box<dyn kiln_core::launch::Machine>, String>> {
        Some(launch::launch(ctx, &self.access, &self.amis, opts).await)
    }
    async fn destroy(&self) -> std::io::Result<()> {
        let mut errors = Vec::new();
        for (region, ami) in &self.amis {
            let ec2 = self.access.ec2(region);
            let snaps = self.snapshots.get(region).cloned().unwrap_or_default();
            if let Err(e) = ec2.deregister_image().image_id(ami).send().await {
                errors.push(format!("{region}: {ami}: {}", client::describe(&e)));
                continue;
            }
            for s in snaps {
                if let Err(e) = ec2.delete_snapshot().snapshot_id(&s).send().await {
                    errors.push(format!("{region}: {s}: {}", client::describe(&e)));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(std::io::Error::other(errors.join("; ")))
        }
    }
}

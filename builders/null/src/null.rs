//! The `null` builder: connect to an existing machine and provision it.

use async_trait::async_trait;
use kiln_communicator::{none::NoneCommunicator, ssh, SshConfig};
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Builder, Config, Diagnostics, GeneratedData,
    Hook,
};
use std::sync::Arc;

/// Packer's builder id for the null builder, kept so that tools reading manifests agree.
pub const BUILDER_ID: &str = "fnoeding.null";

/// `source "null"`.
#[derive(Debug, Default)]
pub struct NullBuilder {
    ssh: SshConfig,
}

#[async_trait]
impl Builder for NullBuilder {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        config.check_fields(&[
            kiln_communicator::config::FIELDS,
            kiln_communicator::config::WINRM_FIELDS,
        ])?;
        self.ssh = SshConfig::decode(config)?;
        let errs = self.ssh.validate(true);
        if !errs.is_empty() {
            return Err(Diagnostics(
                errs.into_iter()
                    .map(|(k, m)| config.error_at(k, "Invalid communicator configuration", m))
                    .collect(),
            ));
        }
        Ok(Vec::new())
    }

    async fn run(
        &self,
        ctx: &BuildContext,
        hook: &dyn Hook,
    ) -> Result<Option<Arc<dyn Artifact>>, BuildError> {
        let mut data = GeneratedData::new();
        // As Packer's null builder: its instance id is "Null".
        data.insert("ID".into(), "Null".into());
        data.insert("PackerRunUUID".into(), ctx.info.run_uuid.clone());
        if self.ssh.communicator == "none" {
            data.insert("ConnType".into(), "none".into());
            hook.provision(ctx, Arc::new(NoneCommunicator), &data)
                .await?;
        } else {
            if let Some(pw) = &self.ssh.ssh_password {
                ctx.ui.add_secret(pw);
            }
            let comm = Arc::new(ssh::connect(ctx, &self.ssh).await?);
            self.ssh.insert_generated(&mut data);
            hook.provision(ctx, comm, &data).await?;
        }
        Ok(Some(Arc::new(NullArtifact)))
    }
}

/// The null builder's artifact: nothing.
#[derive(Debug)]
pub struct NullArtifact;

#[async_trait]
impl Artifact for NullArtifact {
    fn builder_id(&self) -> String {
        BUILDER_ID.into()
    }
    fn id(&self) -> String {
        "Null".into()
    }
    fn files(&self) -> Vec<String> {
        Vec::new()
    }
    fn string(&self) -> String {
        "Did not export anything. This is the null builder".into()
    }
    async fn destroy(&self) -> std::io::Result<()> {
        Ok(())
    }
}

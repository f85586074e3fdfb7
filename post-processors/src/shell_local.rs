//! The `shell-local` post-processor: run local commands after a build, with the artifact's
//! details in the environment.

use async_trait::async_trait;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, PostProcessed,
    PostProcessor,
};
use kiln_provisioners::local::{self, LocalConfig};
use std::sync::Arc;

/// `post-processor "shell-local"`.
#[derive(Debug, Default)]
pub struct ShellLocal {
    cfg: LocalConfig,
}

#[async_trait]
impl PostProcessor for ShellLocal {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        self.cfg
            .validate()
            .map_err(|(k, m)| config.error_at(k, "Invalid shell-local configuration", m))?;
        Ok(Vec::new())
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let mut extra = std::collections::BTreeMap::new();
        extra.insert("PACKER_ARTIFACT_ID".to_string(), artifact.id());
        extra.insert(
            "PACKER_ARTIFACT_FILES".to_string(),
            artifact.files().join(" "),
        );
        local::run(ctx, &self.cfg, &extra).await?;
        Ok(PostProcessed {
            artifact,
            keep_input: true,
            force_keep: false,
        })
    }
}

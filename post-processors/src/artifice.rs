//! The `artifice` post-processor: replaces the artifact with a given list of files, for example
//! files a provisioner downloaded.

use async_trait::async_trait;
use kiln_core::artifact::FileArtifact;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, PostProcessed,
    PostProcessor,
};
use serde::Deserialize;
use std::sync::Arc;

/// The post-processor's artifact id.
pub const BUILDER_ID: &str = "packer.post-processor.artifice";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ArtificeConfig {
    files: Vec<String>,
    keep_input_artifact: Option<bool>,
}

/// `post-processor "artifice"`.
#[derive(Debug, Default)]
pub struct Artifice {
    cfg: ArtificeConfig,
}

#[async_trait]
impl PostProcessor for Artifice {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        if self.cfg.files.is_empty() {
            return Err(config
                .error_at(
                    "files",
                    "Invalid artifice configuration",
                    "No files specified in artifice configuration",
                )
                .into());
        }
        Ok(Vec::new())
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        _artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        // As Packer: each entry is a glob (a plain name is one), and what it matches is the
        // artifact; an entry that matches nothing adds nothing.
        let mut files: Vec<String> = Vec::new();
        for pattern in &self.cfg.files {
            let matched: Vec<String> = glob::glob(pattern)
                .map(|paths| {
                    paths
                        .flatten()
                        .map(|p| p.to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            for m in matched {
                if !files.contains(&m) {
                    files.push(m);
                }
            }
        }
        ctx.ui
            .say(format!("Using these artifice files: {}", files.join(", ")));
        let new = FileArtifact {
            builder_id: BUILDER_ID.into(),
            id: String::new(),
            description: format!("Created artifact from files: {}", files.join(", ")),
            files,
        };
        Ok(PostProcessed {
            artifact: Arc::new(new),
            keep_input: true,
            force_keep: false,
        })
    }
}

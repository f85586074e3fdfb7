//! The `file` builder: an artifact made from a string or a copy of a file, with no machine.

use async_trait::async_trait;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Builder, Config, Diagnostics, Hook,
};
use serde::Deserialize;
use std::sync::Arc;

/// Packer's builder id for the file builder.
pub const BUILDER_ID: &str = "packer.file";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    content: Option<String>,
    target: String,
}

/// `source "file"`.
#[derive(Debug, Default)]
pub struct FileBuilder {
    cfg: FileConfig,
}

#[async_trait]
impl Builder for FileBuilder {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        let mut warnings = Vec::new();
        match (&self.cfg.source, &self.cfg.content) {
            (Some(_), Some(_)) => {
                return Err(config
                    .error_at(
                        "content",
                        "Invalid file builder configuration",
                        "Only one of source or content may be set.",
                    )
                    .into())
            }
            (None, None) => warnings.push(
                "Both source file and contents are blank; target will have no content".to_string(),
            ),
            _ => {}
        }
        if let Some(s) = &self.cfg.source {
            if let Err(e) = std::fs::metadata(s) {
                return Err(config
                    .error_at(
                        "source",
                        "Invalid file builder configuration",
                        format!("Unable to read source file {s}: {e}"),
                    )
                    .into());
            }
        }
        Ok(warnings)
    }

    async fn run(
        &self,
        ctx: &BuildContext,
        hook: &dyn Hook,
    ) -> Result<Option<Arc<dyn Artifact>>, BuildError> {
        let target = &self.cfg.target;
        if let Some(parent) = std::path::Path::new(target)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| BuildError::io(format!("creating {}", parent.display()), e))?;
        }
        // Write beside the target and rename, so a failure never leaves half a file.
        let staged = kiln_core::staged::StagedFile::new(target);
        let r = match &self.cfg.source {
            Some(src) => {
                ctx.ui.say(format!("Copying {src} to {target}"));
                tokio::fs::copy(src, staged.path())
                    .await
                    .map(|n| ctx.ui.say(format!("Copied {n} bytes")))
            }
            None => {
                ctx.ui.say(format!("Writing content to {target}"));
                write_private(
                    staged.path(),
                    self.cfg.content.as_deref().unwrap_or_default(),
                )
                .await
            }
        };
        r.and_then(|()| staged.commit())
            .map_err(|e| BuildError::io(format!("writing {target}"), e))?;
        // Provisioners run as in Packer, with no machine to talk to: local ones (shell-local)
        // work, remote ones fail with "no communicator".
        let mut data = kiln_core::GeneratedData::new();
        data.insert("ConnType".into(), "none".into());
        data.insert("PackerRunUUID".into(), ctx.info.run_uuid.clone());
        hook.provision(
            ctx,
            Arc::new(kiln_communicator::none::NoneCommunicator),
            &data,
        )
        .await?;
        Ok(Some(Arc::new(FileArtifact {
            source: self.cfg.source.clone().unwrap_or_default(),
            filename: target.clone(),
        })))
    }
}

/// The file builder's artifact.
#[derive(Debug)]
pub struct FileArtifact {
    /// Where the content came from.
    pub source: String,
    /// The file written.
    pub filename: String,
}

#[async_trait]
impl Artifact for FileArtifact {
    fn builder_id(&self) -> String {
        BUILDER_ID.into()
    }
    fn id(&self) -> String {
        "File".into()
    }
    fn files(&self) -> Vec<String> {
        vec![self.filename.clone()]
    }
    fn string(&self) -> String {
        format!("Stored file: {}", self.filename)
    }
    async fn destroy(&self) -> std::io::Result<()> {
        tokio::fs::remove_file(&self.filename).await
    }
}

/// Writes `content` with mode 0600, as Packer's file builder does.
async fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).await?;
    f.write_all(content.as_bytes()).await?;
    f.flush().await
}

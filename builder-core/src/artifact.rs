//! What a build or post-processor produces, and how to remove it again.

use async_trait::async_trait;
use std::fmt::Debug;

/// A build result: files, an image, anything. Artifacts know how to destroy themselves, so
/// post-processors, `-force` and the catalog can delete what a build made.
#[async_trait]
pub trait Artifact: Send + Sync + Debug {
    /// The id of the builder or post-processor that made it, e.g. `kiln.file`.
    fn builder_id(&self) -> String;
    /// Its id: an image path, `region:ami-...`, or a fixed string.
    fn id(&self) -> String;
    /// The local files that make it up.
    fn files(&self) -> Vec<String>;
    /// A human description, shown at the end of `kiln build`.
    fn string(&self) -> String;
    /// Builder-specific state by name (Packer's `State`), if any.
    fn state(&self, _name: &str) -> Option<serde_json::Value> {
        None
    }
    /// Removes what the artifact is made of.
    async fn destroy(&self) -> std::io::Result<()>;
    /// Boots a throwaway machine from it, for post-image tests; `None` when this kind of
    /// artifact cannot boot (files, checksums, manifests).
    async fn launch(
        &self,
        _ctx: &crate::plugin::BuildContext,
        _opts: &crate::launch::LaunchOptions,
    ) -> Option<Result<Box<dyn crate::launch::Machine>, String>> {
        None
    }
}

/// An artifact made of local files (used by several builders and post-processors).
#[derive(Debug, Clone)]
pub struct FileArtifact {
    /// The maker's id.
    pub builder_id: String,
    /// Its id (empty for the artifacts of checksum, compress and artifice, as in Packer).
    pub id: String,
    /// The files.
    pub files: Vec<String>,
    /// The description.
    pub description: String,
}

#[async_trait]
impl Artifact for FileArtifact {
    fn builder_id(&self) -> String {
        self.builder_id.clone()
    }
    fn id(&self) -> String {
        self.id.clone()
    }
    fn files(&self) -> Vec<String> {
        self.files.clone()
    }
    fn string(&self) -> String {
        self.description.clone()
    }
    async fn destroy(&self) -> std::io::Result<()> {
        for f in &self.files {
            match tokio::fs::remove_file(f).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

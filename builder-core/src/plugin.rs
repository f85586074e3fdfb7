//! The plugin contracts: builders, provisioners and post-processors.

use crate::artifact::Artifact;
use crate::communicator::Communicator;
use crate::config::{Config, Diagnostics};
use crate::error::BuildError;
use crate::event::Ui;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What to do when a build fails (`-on-error`), decided at config time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Run every cleanup (the default).
    #[default]
    Cleanup,
    /// Leave everything as it is, for debugging.
    Abort,
    /// Run the error-cleanup-provisioner, then clean up.
    RunCleanupProvisioner,
    /// Ask the operator: clean up, abort, or retry the failed step (see [`crate::operator`]).
    Ask,
}

/// Facts about one build that plugins may need.
#[derive(Debug, Clone, Default)]
pub struct BuildInfo {
    /// The build's full name, `type.name` (or `build.type.name` for a named build block).
    pub name: String,
    /// The source (builder) type, e.g. `null`.
    pub source_type: String,
    /// The source name, e.g. `example`.
    pub source_name: String,
    /// The build block's name, if any.
    pub build_block_name: Option<String>,
    /// The UUID of this `kiln build` run (Packer's `PackerRunUUID`).
    pub run_uuid: String,
    /// What to do on error.
    pub on_error: OnError,
    /// `-force`: replace existing outputs.
    pub force: bool,
    /// `-debug`: pause for the operator after each step, before each cleanup and before each
    /// provisioner.
    pub debug: bool,
    /// The directory of the template (`path.root`).
    pub template_dir: std::path::PathBuf,
    /// Where downloads are cached (`PACKER_CACHE_DIR`, chosen by the caller).
    pub cache_dir: std::path::PathBuf,
    /// The names the builder adds to `build.*` ([`Builder::generated_names`]:
    /// `SourceAMIName`, `ImageSha256` ...), set once it is prepared: provisioners and
    /// post-processors may use them.
    pub generated_names: Vec<String>,
    /// What post-processors see of them: the builder artifact's `generated_data`.
    pub generated: GeneratedData,
}

/// Values a builder generates for provisioners (`build.Host`, `build.ID` ...).
pub type GeneratedData = BTreeMap<String, String>;

/// What every running plugin gets: who it works for, where to report, and when to stop.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// Facts about the build.
    pub info: Arc<BuildInfo>,
    /// The build's event handle.
    pub ui: Ui,
    /// Cancelled on Ctrl-C; every wait selects on it.
    pub cancel: CancellationToken,
    /// The run's cleanup journal: record what you create before (or as) you create it, and
    /// mark it done when it is removed or handed over (see [`crate::journal`]).
    pub journal: crate::journal::Journal,
    /// The operator watching the build (unattended unless the embedding program attaches one).
    pub operator: crate::operator::OperatorLink,
}

impl BuildContext {
    /// Sleeps, or returns [`BuildError::Cancelled`] early.
    ///
    /// # Errors
    /// When the build is cancelled during the sleep.
    pub async fn sleep(&self, d: std::time::Duration) -> Result<(), BuildError> {
        tokio::select! {
            () = tokio::time::sleep(d) => Ok(()),
            () = self.cancel.cancelled() => Err(BuildError::Cancelled),
        }
    }
}

/// Called by a builder once the machine is reachable: runs the build's provisioners.
#[async_trait]
pub trait Hook: Send + Sync {
    /// Provisions the machine over `comm`; `data` holds the builder's generated values.
    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError>;
}

/// Creates a machine, calls the hook to provision it, and turns it into an artifact.
#[async_trait]
pub trait Builder: Send + Sync {
    /// Decodes and validates the source's configuration; returns warnings.
    ///
    /// # Errors
    /// Every problem found, located in the template.
    fn prepare(&mut self, config: &Config, info: &BuildInfo) -> Result<Vec<String>, Diagnostics>;

    /// Names of the values [`Builder::run`] will generate, beyond the standard ones.
    fn generated_names(&self) -> Vec<String> {
        Vec::new()
    }

    /// Runs the build. `None` means the build produced nothing (like Packer's null builder
    /// without post-processors it still reports an artifact, so most return `Some`).
    async fn run(
        &self,
        ctx: &BuildContext,
        hook: &dyn Hook,
    ) -> Result<Option<Arc<dyn Artifact>>, BuildError>;
}

/// Changes the machine over a communicator.
#[async_trait]
pub trait Provisioner: Send + Sync {
    /// Decodes and validates the configuration; returns warnings.
    ///
    /// # Errors
    /// Every problem found, located in the template.
    fn prepare(&mut self, config: &Config, info: &BuildInfo) -> Result<Vec<String>, Diagnostics>;

    /// Runs against the machine.
    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError>;
}

/// The result of a post-processor.
#[derive(Debug)]
pub struct PostProcessed {
    /// The new artifact.
    pub artifact: Arc<dyn Artifact>,
    /// Whether the input artifact must be kept.
    pub keep_input: bool,
    /// Whether `keep` overrides the template's `keep_input_artifact` (Packer's forceOverride).
    pub force_keep: bool,
}

/// Turns an artifact into another one (compress it, checksum it, record it ...).
#[async_trait]
pub trait PostProcessor: Send + Sync {
    /// Decodes and validates the configuration; returns warnings.
    ///
    /// # Errors
    /// Every problem found, located in the template.
    fn configure(&mut self, config: &Config, info: &BuildInfo) -> Result<Vec<String>, Diagnostics>;

    /// Processes `artifact`.
    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError>;
}

//! The typed build plan the template front end produces and the orchestrator runs.

use crate::config::{Config, Diagnostics, Location};
use crate::plugin::{BuildInfo, GeneratedData};
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A plugin body that can be evaluated, possibly more than once: at validate time without the
/// builder's generated values (`build.Host` ...), and again just before the plugin runs, with
/// them. This is how late-bound values reach provisioners.
pub trait Body: Send + Sync + Debug {
    /// Evaluates the body for one build. `generated` is `None` at validate time.
    ///
    /// # Errors
    /// Evaluation errors, located in the template.
    fn evaluate(
        &self,
        info: &BuildInfo,
        generated: Option<&GeneratedData>,
    ) -> Result<Config, Diagnostics>;
}

/// A body that is already a value (for library users who build plans in code).
#[derive(Debug, Clone)]
pub struct StaticBody(pub Config);

impl Body for StaticBody {
    fn evaluate(&self, _: &BuildInfo, _: Option<&GeneratedData>) -> Result<Config, Diagnostics> {
        Ok(self.0.clone())
    }
}

/// A plugin instance in the plan: its type and its body.
#[derive(Debug, Clone)]
pub struct PluginSpec {
    /// The plugin type, e.g. `shell`.
    pub kind: String,
    /// Its configuration.
    pub body: Arc<dyn Body>,
    /// Where the block is, for errors.
    pub location: Option<Location>,
}

/// A provisioner with its meta-arguments.
#[derive(Debug, Clone)]
pub struct ProvisionerSpec {
    /// The plugin.
    pub plugin: PluginSpec,
    /// Optional `name` label.
    pub name: Option<String>,
    /// Run only for these builds (source names `type.name`).
    pub only: Vec<String>,
    /// Skip these builds.
    pub except: Vec<String>,
    /// Wait before running.
    pub pause_before: Option<Duration>,
    /// Retries after a failure.
    pub max_retries: u32,
    /// Fail when a run takes longer.
    pub timeout: Option<Duration>,
    /// A failure (after the retries) is reported and the build goes on (Packer 1.16).
    pub continue_on_error: bool,
}

/// A post-processor with its meta-arguments.
#[derive(Debug, Clone)]
pub struct PostProcessorSpec {
    /// The plugin.
    pub plugin: PluginSpec,
    /// Optional `name`.
    pub name: Option<String>,
    /// Run only for these builds.
    pub only: Vec<String>,
    /// Skip these builds.
    pub except: Vec<String>,
    /// Overrides whether the input artifact is kept.
    pub keep_input_artifact: Option<bool>,
}

/// One build: a source inside a build block.
#[derive(Debug, Clone)]
pub struct PlannedBuild {
    /// The full name shown in output: `type.name`, or `build.type.name` for named build blocks.
    pub name: String,
    /// The source type (builder type).
    pub source_type: String,
    /// The source's name (its second label, or the `name` given in the build block).
    pub source_name: String,
    /// The build block's name.
    pub build_block_name: Option<String>,
    /// The build block's position among the template's build blocks (for `inspect`).
    pub build_block: usize,
    /// The build block's `description`.
    pub build_description: Option<String>,
    /// The builder.
    pub builder: PluginSpec,
    /// Provisioners in order.
    pub provisioners: Vec<ProvisionerSpec>,
    /// Runs when a provisioner fails.
    pub error_cleanup: Option<ProvisionerSpec>,
    /// Post-processor chains.
    pub post_processors: Vec<Vec<PostProcessorSpec>>,
    /// The build block's `hcp_packer_registry`: where the catalog records it.
    pub registry: Option<RegistrySpec>,
}

/// A build block's `hcp_packer_registry` block, which names the catalog bucket its images go to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrySpec {
    /// `bucket_name` (default: the build block's name).
    pub bucket_name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `bucket_labels`.
    pub bucket_labels: Vec<(String, String)>,
    /// `build_labels`.
    pub build_labels: Vec<(String, String)>,
}

impl PlannedBuild {
    /// `type.name`, the name `-only`, `-except` and meta-arguments match.
    #[must_use]
    pub fn source_ref(&self) -> String {
        format!("{}.{}", self.source_type, self.source_name)
    }
}

/// Everything a run will do.
#[derive(Debug, Clone, Default)]
pub struct BuildPlan {
    /// The builds, in template order.
    pub builds: Vec<PlannedBuild>,
    /// Values to scrub from all output (sensitive variables).
    pub secrets: Vec<String>,
    /// `path.root`.
    pub template_dir: PathBuf,
}

//! Lifecycle effects on artifacts the catalog keeps: a builder that makes images somewhere other
//! than local files (a cloud) registers an [`ImageLifecycle`] so that `kiln images deprecate`,
//! `disable`, `restore` and `delete` happen where the image lives, and so that a channel can be
//! published where deployment tools read image ids (AWS SSM Parameter Store for AMIs).

use async_trait::async_trait;
use time::OffsetDateTime;

/// What the catalog remembers of one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredArtifact {
    /// The id of the builder that made it, e.g. `mitchellh.amazonebs`.
    pub builder_id: String,
    /// Its id, e.g. `us-east-1:ami-0abc,us-west-2:ami-0def`.
    pub id: String,
    /// Its local files.
    pub files: Vec<String>,
    /// What the builder asked the catalog to keep (its `state("catalog")`).
    pub state: serde_json::Value,
}

/// A change of an image's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Deprecate at this time (EC2 EnableImageDeprecation).
    Deprecate(OffsetDateTime),
    /// Undo a deprecation.
    Undeprecate,
    /// Make it unusable for new instances (EC2 DisableImage).
    Disable,
    /// Undo a disable (EC2 EnableImage).
    Enable,
    /// Remove it for good (EC2 DeregisterImage and DeleteSnapshot in every region).
    Delete,
}

/// A parameter that holds a channel's image id for deployment tools, e.g. the SSM parameter
/// `/images/web/production` that Terraform's `aws_ssm_parameter` data source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The parameter's name.
    pub parameter: String,
    /// The regions to write it in; empty for every region the artifact is in.
    pub regions: Vec<String>,
}

/// Carries out lifecycle transitions for the artifacts of some builders.
#[async_trait]
pub trait ImageLifecycle: Send + Sync {
    /// Whether this handles artifacts of `builder_id`.
    fn handles(&self, builder_id: &str) -> bool;
    /// Carries out `t`, pushing one line per call made onto `calls` as it is made (for the audit
    /// log, which keeps them when a later call fails); returns what failed.
    async fn apply(
        &self,
        a: &StoredArtifact,
        t: &Transition,
        calls: &mut Vec<String>,
    ) -> Result<(), String>;
    /// When an instance was last launched from it, where the platform reports that.
    async fn last_launched(&self, _a: &StoredArtifact) -> Result<Option<OffsetDateTime>, String> {
        Ok(None)
    }
    /// Writes the artifact's id to the parameter `p` (in each of its regions), pushing one line
    /// per call made onto `calls` as [`ImageLifecycle::apply`] does; returns what failed.
    async fn publish(
        &self,
        a: &StoredArtifact,
        _p: &Publication,
        _calls: &mut Vec<String>,
    ) -> Result<(), String> {
        Err(format!(
            "{} artifacts cannot be published to a parameter store",
            a.builder_id
        ))
    }
    /// Boots a throwaway machine from the artifact for a post-image test (`kiln images test`),
    /// as [`crate::Artifact::launch`] does; `None` when this kind cannot boot.
    async fn launch(
        &self,
        _ctx: &crate::plugin::BuildContext,
        _a: &StoredArtifact,
        _opts: &crate::launch::LaunchOptions,
    ) -> Option<Result<Box<dyn crate::launch::Machine>, String>> {
        None
    }
}

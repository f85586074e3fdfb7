//! What the catalog holds: buckets, versions, their artifacts, channels and the audit log.

use serde::Serialize;
use time::OffsetDateTime;

/// A version's lifecycle state. `active -> deprecated -> disabled -> deleted`; `restore` goes
/// back to `active` from `deprecated` or `disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Usable.
    Active,
    /// Deprecated (from `deprecate_at`, which may be in the future).
    Deprecated,
    /// Not usable for new machines; can be restored.
    Disabled,
    /// Gone: its artifacts were removed.
    Deleted,
}

impl State {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Deprecated => "deprecated",
            State::Disabled => "disabled",
            State::Deleted => "deleted",
        }
    }
    pub(crate) fn parse(s: &str) -> State {
        match s {
            "deprecated" => State::Deprecated,
            "disabled" => State::Disabled,
            "deleted" => State::Deleted,
            _ => State::Active,
        }
    }
}

/// How the build that made a version ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    /// It made its artifacts; the version has a number.
    Succeeded,
    /// It failed; the version has no number and holds the error.
    Failed,
    /// It was interrupted.
    Cancelled,
}

impl BuildStatus {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Succeeded => "succeeded",
            BuildStatus::Failed => "failed",
            BuildStatus::Cancelled => "cancelled",
        }
    }
    pub(crate) fn parse(s: &str) -> BuildStatus {
        match s {
            "failed" => BuildStatus::Failed,
            "cancelled" => BuildStatus::Cancelled,
            _ => BuildStatus::Succeeded,
        }
    }
}

/// A revocation: from `at` (now or scheduled), with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// From when.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Why.
    pub reason: String,
    /// Set when the revocation is inherited: the ancestor that is revoked (`bucket/vN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherited_from: Option<String>,
}

/// The version a build's `kiln-image` data source resolved: its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parent {
    /// The parent's bucket.
    pub bucket: String,
    /// The parent's fingerprint.
    pub fingerprint: String,
    /// The channel it was resolved through, if any.
    pub channel: Option<String>,
}

/// One artifact of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactRecord {
    /// The build (`type.name`) that made it.
    pub build_name: String,
    /// The builder type (`amazon-ebs`, `qemu`, `file` ...).
    pub builder_type: String,
    /// The builder id (`mitchellh.amazonebs` ...).
    pub builder_id: String,
    /// The artifact id.
    pub id: String,
    /// The regions it lives in (clouds), empty for local files.
    pub regions: Vec<String>,
    /// Its local files.
    pub files: Vec<String>,
    /// The total size of its files in bytes, when known.
    pub size: Option<i64>,
    /// `sha256:...` of its files (one file) when it was cheap to compute.
    pub checksum: Option<String>,
    /// What the builder asked the catalog to keep.
    pub state: serde_json::Value,
}

impl ArtifactRecord {
    /// What a lifecycle implementation is given of it.
    #[must_use]
    pub fn stored(&self) -> kiln_core::lifecycle::StoredArtifact {
        kiln_core::lifecycle::StoredArtifact {
            builder_id: self.builder_id.clone(),
            id: self.id.clone(),
            files: self.files.clone(),
            state: self.state.clone(),
        }
    }
}

/// One version of a bucket (or one failed build of it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    /// The bucket.
    pub bucket: String,
    /// Increasing per bucket; `None` for a failed or cancelled build.
    pub number: Option<i64>,
    /// A ULID, unique across catalogs.
    pub fingerprint: String,
    /// How its build ended.
    pub status: BuildStatus,
    /// Its lifecycle state.
    pub state: State,
    /// When it is (or was) deprecated.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deprecate_at: Option<OffsetDateTime>,
    /// Its own revocation (see [`Version::revocation`] for the effective one).
    pub revoked: Option<Revocation>,
    /// Deletion and disabling are refused while set.
    pub protected: bool,
    /// The build's error, when it failed.
    pub error: Option<String>,
    /// The builds that made it.
    pub build_names: Vec<String>,
    /// When its build started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When its build ended.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The image it was built from, when it came from the catalog.
    pub parent: Option<Parent>,
    /// Build labels.
    pub labels: serde_json::Value,
    /// Template, variables, kiln version, git commit, user, host, source image.
    pub metadata: serde_json::Value,
    /// Its artifacts.
    pub artifacts: Vec<ArtifactRecord>,
    /// The channels pointing at it now.
    pub channels: Vec<String>,
}

/// A version as a listing shows it: what tells it from its neighbours, without its metadata.
/// [`crate::Catalog::list`] reads only these columns, so a bucket of 10,000 versions lists in
/// milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionSummary {
    /// The bucket.
    pub bucket: String,
    /// Increasing per bucket; `None` for a failed or cancelled build.
    pub number: Option<i64>,
    /// A ULID, unique across catalogs.
    pub fingerprint: String,
    /// How its build ended.
    pub status: BuildStatus,
    /// Its lifecycle state.
    pub state: State,
    /// When it is (or was) deprecated.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deprecate_at: Option<OffsetDateTime>,
    /// Its own revocation.
    pub revoked: Option<Revocation>,
    /// Deletion and disabling are refused while set.
    pub protected: bool,
    /// When its build ended.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// Its artifacts' ids, in build order.
    pub artifact_ids: Vec<String>,
    /// The channels pointing at it now.
    pub channels: Vec<String>,
}

impl VersionSummary {
    /// `v3`, or the fingerprint for a failed build.
    #[must_use]
    pub fn label(&self) -> String {
        match self.number {
            Some(n) => format!("v{n}"),
            None => self.fingerprint.clone(),
        }
    }
}

impl Version {
    /// `v3`, or the start of the fingerprint for a failed build.
    #[must_use]
    pub fn label(&self) -> String {
        match self.number {
            Some(n) => format!("v{n}"),
            None => self.fingerprint.clone(),
        }
    }

    /// What a listing shows of it.
    #[must_use]
    pub fn summary(&self) -> VersionSummary {
        VersionSummary {
            bucket: self.bucket.clone(),
            number: self.number,
            fingerprint: self.fingerprint.clone(),
            status: self.status,
            state: self.state,
            deprecate_at: self.deprecate_at,
            revoked: self.revoked.clone(),
            protected: self.protected,
            finished_at: self.finished_at,
            artifact_ids: self.artifacts.iter().map(|a| a.id.clone()).collect(),
            channels: self.channels.clone(),
        }
    }

    /// Whether it is deprecated at `now`.
    #[must_use]
    pub fn deprecated_at(&self, now: OffsetDateTime) -> bool {
        self.state == State::Deprecated && self.deprecate_at.is_none_or(|t| t <= now)
    }

    /// Its own revocation if it is in effect at `now`.
    #[must_use]
    pub fn revoked_at(&self, now: OffsetDateTime) -> Option<&Revocation> {
        self.revoked.as_ref().filter(|r| r.at <= now)
    }
}

/// One assignment of a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// The bucket.
    pub bucket: String,
    /// The channel.
    pub channel: String,
    /// Its position in the channel's history, from 1.
    pub seq: i64,
    /// The version's number.
    pub version: i64,
    /// The version's fingerprint.
    pub fingerprint: String,
    /// `promote` or `rollback`.
    pub action: String,
    /// Who.
    pub actor: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The calls that wrote the channel's new image to its publications (after a promotion or
    /// rollback; empty in a channel's history).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<String>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its position, from 1.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who (the user).
    pub actor: String,
    /// From where (the host).
    pub host: String,
    /// What: `build`, `promote`, `rollback`, `deprecate`, `cloud` ...
    pub action: String,
    /// The bucket.
    pub bucket: String,
    /// The version (`v3`), empty when none.
    pub version: String,
    /// Details, as JSON text.
    pub detail: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// A bucket with a summary of its versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketSummary {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its labels.
    pub labels: serde_json::Value,
    /// How many versions it has (successful builds).
    pub versions: i64,
    /// The newest version's number.
    pub latest: Option<i64>,
    /// Its channels and the version each points at.
    pub channels: Vec<(String, i64)>,
}

//! # kiln-catalog: every image Kiln built, and its life after the build
//!
//! A [`Catalog`] records each build as a *version* of a *bucket* (the build's
//! `hcp_packer_registry` bucket, else its name) with its artifacts and metadata, and moves
//! versions through one lifecycle: `active -> deprecated -> disabled -> deleted`, with
//! *revoked* and *protected* as flags. *Channels* (`dev`, `production` ...) point at versions and
//! keep their whole history, so a rollback is one call. Every change is appended to a
//! hash-chained audit log that [`Catalog::verify_audit`] checks.
//!
//! Storage is embedded SQLite (one file, the default) or PostgreSQL (a team's CI runners share
//! one), behind one interface ([`store`]); both pass the same test suite.
//!
//! - [`model`]: the types the catalog returns.
//! - [`store`]: the two backends and the schema migrations.
//! - [`record`]: recording a build.
//! - [`lifecycle`]: the state machine and its effects where artifacts live.
//! - [`channels`]: promotion and rollback.
//! - [`audit`]: the hash-chained log.
//!
//! Library code here never prints and never reads the environment: the caller passes the
//! catalog's location, who is acting, and the clock's reading through [`Options`].

pub mod audit;
pub mod channels;
pub mod documents;
pub mod lifecycle;
pub mod model;
pub mod publish;
pub mod record;
pub mod retention;
pub mod store;
mod ulid;

use kiln_core::lifecycle::ImageLifecycle;
pub use kiln_core::lifecycle::Publication;
pub use model::*;
pub use publish::ChannelPublication;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
pub use store::StoreError;
use store::{Backend, Tx, Val};
use time::OffsetDateTime;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such bucket, version or channel.
    #[error("{0}")]
    NotFound(String),
    /// The operation is not allowed in the version's state.
    #[error("{0}")]
    Refused(String),
    /// Carrying out a transition where the artifact lives failed.
    #[error("{0}")]
    Effect(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

/// Who is acting, recorded in the audit log and channel history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user: String,
    /// The host.
    pub host: String,
}

/// Where the catalog is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user@host:port/db`).
    Postgres(String),
}

impl Location {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; anything else is a file path.
    #[must_use]
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres(s.to_string())
        } else {
            Location::Sqlite(s.strip_prefix("sqlite://").unwrap_or(s).into())
        }
    }
}

/// How to open a catalog.
#[derive(Clone)]
pub struct Options {
    /// Where it is.
    pub location: Location,
    /// Who is acting.
    pub actor: Actor,
    /// Where disabled local artifacts are moved.
    pub archive_dir: PathBuf,
    /// How long a writer waits for another process's write (SQLite).
    pub busy_timeout: Duration,
    /// Effects for artifacts that do not live in local files.
    pub lifecycles: Vec<Arc<dyn ImageLifecycle>>,
}

/// An open catalog.
pub struct Catalog {
    backend: Box<dyn Backend>,
    opts: Options,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("location", &self.backend.describe())
            .finish()
    }
}

/// The time format of every stored time: fixed width, so text order is time order.
const STORED: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

pub(crate) fn stored_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_default()
}

pub(crate) fn parse_time(s: &str) -> OffsetDateTime {
    time::PrimitiveDateTime::parse(s, STORED)
        .map(time::PrimitiveDateTime::assume_utc)
        .or_else(|_| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Parses `--at` values: RFC 3339.
///
/// # Errors
/// When `s` is not an RFC 3339 time.
pub fn parse_rfc3339(s: &str) -> Result<OffsetDateTime, CatalogError> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|e| {
        CatalogError::Invalid(format!(
            "{s:?} is not an RFC 3339 time ({e}); write it like 2027-01-31T00:00:00Z"
        ))
    })
}

impl Catalog {
    /// Opens the catalog, creating or upgrading its schema.
    ///
    /// # Errors
    /// When it cannot be reached, is not a catalog, or has a newer schema than this build knows.
    pub async fn open(opts: Options) -> Result<Catalog, CatalogError> {
        let backend: Box<dyn Backend> = match &opts.location {
            Location::Sqlite(p) => Box::new(store::sqlite::Sqlite::open(p, opts.busy_timeout)?),
            Location::Postgres(url) => Box::new(store::postgres::Postgres::connect(url).await?),
        };
        store::migrate(backend.as_ref()).await?;
        Ok(Catalog { backend, opts })
    }

    /// Where it is (a path, or a URL without its password).
    #[must_use]
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    pub(crate) async fn read(&self) -> Result<Box<dyn Tx>, CatalogError> {
        Ok(self.backend.begin(false).await?)
    }

    pub(crate) async fn write(&self) -> Result<Box<dyn Tx>, CatalogError> {
        Ok(self.backend.begin(true).await?)
    }

    /// Who acts on it (recorded in its audit log and with the builds it records).
    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.opts.actor
    }

    pub(crate) fn options(&self) -> &Options {
        &self.opts
    }

    /// The lifecycle implementation for artifacts of `builder_id`; `None` for local files.
    pub(crate) fn lifecycle_of(&self, builder_id: &str) -> Option<&Arc<dyn ImageLifecycle>> {
        self.opts.lifecycles.iter().find(|l| l.handles(builder_id))
    }

    /// Every bucket with a summary.
    ///
    /// # Errors
    /// On storage errors.
    pub async fn buckets(&self) -> Result<Vec<BucketSummary>, CatalogError> {
        let mut tx = self.read().await?;
        let rows = tx
            .query(
                "SELECT b.name, b.description, b.labels, \
                 (SELECT count(*) FROM versions v WHERE v.bucket = b.name AND v.number IS NOT NULL), \
                 (SELECT max(number) FROM versions v WHERE v.bucket = b.name) \
                 FROM buckets b ORDER BY b.name",
                &[],
            )
            .await?;
        let chans = tx
            .query(
                "SELECT c.bucket, c.channel, v.number FROM channels c JOIN versions v ON v.bucket = c.bucket AND v.fingerprint = c.fingerprint ORDER BY c.bucket, c.channel",
                &[],
            )
            .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| {
                let name = r.text(0);
                BucketSummary {
                    channels: chans
                        .iter()
                        .filter(|c| c.text(0) == name)
                        .map(|c| (c.text(1), c.int(2)))
                        .collect(),
                    name,
                    description: r.opt_text(1),
                    labels: json(&r.text(2)),
                    versions: r.int(3),
                    latest: r.opt_int(4),
                }
            })
            .collect())
    }

    /// The versions of `bucket`, newest first; failed builds too when `all`.
    ///
    /// # Errors
    /// When the bucket does not exist, or on storage errors.
    pub async fn versions(&self, bucket: &str, all: bool) -> Result<Vec<Version>, CatalogError> {
        let mut tx = self.read().await?;
        require_bucket(tx.as_mut(), bucket).await?;
        let filter = if all { "" } else { " AND number IS NOT NULL" };
        let rows = tx
            .query(
                &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = $1{filter} ORDER BY finished_at DESC, fingerprint DESC"),
                &[bucket.into()],
            )
            .await?;
        let arts = tx
            .query(
                &format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE bucket = $1 ORDER BY fingerprint, idx"),
                &[bucket.into()],
            )
            .await?;
        let chans = tx
            .query(
                "SELECT fingerprint, channel FROM channels WHERE bucket = $1 ORDER BY channel",
                &[bucket.into()],
            )
            .await?;
        tx.commit().await?;
        let mut by_fp: std::collections::HashMap<String, Vec<ArtifactRecord>> =
            std::collections::HashMap::new();
        for a in &arts {
            by_fp.entry(a.text(0)).or_default().push(artifact_of(a));
        }
        let mut channels = group(&chans);
        let mut out: Vec<Version> = rows.iter().map(version_of).collect();
        for v in &mut out {
            v.artifacts = by_fp.remove(&v.fingerprint).unwrap_or_default();
            v.channels = channels.remove(&v.fingerprint).unwrap_or_default();
        }
        Ok(out)
    }

    /// The versions of `bucket` as a listing shows them, newest first; failed builds too when
    /// `all`. Reads only the listed columns (see [`Catalog::versions`] for whole versions).
    ///
    /// # Errors
    /// When the bucket does not exist, or on storage errors.
    pub async fn list(&self, bucket: &str, all: bool) -> Result<Vec<VersionSummary>, CatalogError> {
        let mut tx = self.read().await?;
        require_bucket(tx.as_mut(), bucket).await?;
        let filter = if all { "" } else { " AND number IS NOT NULL" };
        let rows = tx
            .query(
                &format!("SELECT bucket, fingerprint, number, status, state, deprecate_at, revoked_at, revoke_reason, protected, finished_at FROM versions WHERE bucket = $1{filter} ORDER BY finished_at DESC, fingerprint DESC"),
                &[bucket.into()],
            )
            .await?;
        let arts = tx
            .query(
                "SELECT fingerprint, artifact_id FROM artifacts WHERE bucket = $1 ORDER BY fingerprint, idx",
                &[bucket.into()],
            )
            .await?;
        let chans = tx
            .query(
                "SELECT fingerprint, channel FROM channels WHERE bucket = $1 ORDER BY channel",
                &[bucket.into()],
            )
            .await?;
        tx.commit().await?;
        let mut ids = group(&arts);
        let mut channels = group(&chans);
        Ok(rows
            .iter()
            .map(|r| {
                let fingerprint = r.text(1);
                VersionSummary {
                    bucket: r.text(0),
                    number: r.opt_int(2),
                    status: BuildStatus::parse(&r.text(3)),
                    state: State::parse(&r.text(4)),
                    deprecate_at: r.opt_text(5).map(|t| parse_time(&t)),
                    revoked: r.opt_text(6).map(|t| Revocation {
                        at: parse_time(&t),
                        reason: r.text(7),
                        inherited_from: None,
                    }),
                    protected: r.int(8) != 0,
                    finished_at: parse_time(&r.text(9)),
                    artifact_ids: ids.remove(&fingerprint).unwrap_or_default(),
                    channels: channels.remove(&fingerprint).unwrap_or_default(),
                    fingerprint,
                }
            })
            .collect())
    }

    /// One version: by number (`3` or `v3`), `latest`, or fingerprint.
    ///
    /// # Errors
    /// When there is no such version, or on storage errors.
    pub async fn version(&self, bucket: &str, selector: &str) -> Result<Version, CatalogError> {
        let mut tx = self.read().await?;
        let v = load_version(tx.as_mut(), bucket, selector).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// The revocation in effect for `v` at `now`: its own, or the nearest revoked ancestor's.
    ///
    /// # Errors
    /// On storage errors.
    pub async fn revocation(
        &self,
        v: &Version,
        now: OffsetDateTime,
    ) -> Result<Option<Revocation>, CatalogError> {
        if let Some(r) = v.revoked_at(now) {
            return Ok(Some(r.clone()));
        }
        let mut tx = self.read().await?;
        let mut parent = v.parent.clone();
        let mut seen = 0;
        while let Some(p) = parent {
            seen += 1;
            if seen > 64 {
                break;
            }
            let Ok(pv) = load_version(tx.as_mut(), &p.bucket, &p.fingerprint).await else {
                break;
            };
            if let Some(r) = pv.revoked_at(now) {
                tx.commit().await?;
                return Ok(Some(Revocation {
                    at: r.at,
                    reason: r.reason.clone(),
                    inherited_from: Some(format!("{}/{}", pv.bucket, pv.label())),
                }));
            }
            parent = pv.parent;
        }
        tx.commit().await?;
        Ok(None)
    }

    /// The versions built from `v`, and from those, recursively (breadth first).
    ///
    /// # Errors
    /// On storage errors.
    pub async fn children(&self, v: &Version) -> Result<Vec<Version>, CatalogError> {
        let mut tx = self.read().await?;
        let mut out = Vec::new();
        let mut queue = vec![(v.bucket.clone(), v.fingerprint.clone())];
        while let Some((b, fp)) = queue.pop() {
            let rows = tx
                .query(
                    "SELECT bucket, fingerprint FROM versions WHERE parent_bucket = $1 AND parent_fingerprint = $2 ORDER BY finished_at",
                    &[b.into(), fp.into()],
                )
                .await?;
            for r in rows {
                let c = load_version(tx.as_mut(), &r.text(0), &r.text(1)).await?;
                queue.insert(0, (c.bucket.clone(), c.fingerprint.clone()));
                out.push(c);
            }
            if out.len() > 100_000 {
                break;
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Versions whose parent came through a channel that now points elsewhere: what to rebuild
    /// after a base image moved on. Each with the channel's current version.
    ///
    /// # Errors
    /// On storage errors.
    pub async fn outdated(&self) -> Result<Vec<(Version, Version)>, CatalogError> {
        let mut tx = self.read().await?;
        let rows = tx
            .query(
                "SELECT v.bucket, v.fingerprint, c.fingerprint FROM versions v \
                 JOIN channels c ON c.bucket = v.parent_bucket AND c.channel = v.parent_channel \
                 WHERE v.number IS NOT NULL AND v.state <> 'deleted' AND c.fingerprint <> v.parent_fingerprint \
                 AND v.number = (SELECT max(number) FROM versions w WHERE w.bucket = v.bucket AND w.state <> 'deleted') \
                 ORDER BY v.bucket",
                &[],
            )
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let v = load_version(tx.as_mut(), &r.text(0), &r.text(1)).await?;
            let p = v.parent.clone().expect("joined on the parent");
            let now = load_version(tx.as_mut(), &p.bucket, &r.text(2)).await?;
            out.push((v, now));
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// Two-column rows grouped by their first column, the second's values in row order.
fn group(rows: &[store::Row]) -> std::collections::HashMap<String, Vec<String>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for r in rows {
        out.entry(r.text(0)).or_default().push(r.text(1));
    }
    out
}

pub(crate) fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
}

pub(crate) const VERSION_COLUMNS: &str = "bucket, fingerprint, number, status, state, deprecate_at, revoked_at, revoke_reason, protected, error, build_names, started_at, finished_at, parent_bucket, parent_fingerprint, parent_channel, labels, metadata";

pub(crate) const ARTIFACT_COLUMNS: &str = "fingerprint, build_name, builder_type, builder_id, artifact_id, regions, files, size, checksum, state";

pub(crate) fn version_of(r: &store::Row) -> Version {
    Version {
        bucket: r.text(0),
        fingerprint: r.text(1),
        number: r.opt_int(2),
        status: BuildStatus::parse(&r.text(3)),
        state: State::parse(&r.text(4)),
        deprecate_at: r.opt_text(5).map(|t| parse_time(&t)),
        revoked: r.opt_text(6).map(|t| Revocation {
            at: parse_time(&t),
            reason: r.text(7),
            inherited_from: None,
        }),
        protected: r.int(8) != 0,
        error: r.opt_text(9),
        build_names: serde_json::from_str(&r.text(10)).unwrap_or_default(),
        started_at: parse_time(&r.text(11)),
        finished_at: parse_time(&r.text(12)),
        parent: r.opt_text(13).map(|b| Parent {
            bucket: b,
            fingerprint: r.text(14),
            channel: r.opt_text(15),
        }),
        labels: json(&r.text(16)),
        metadata: json(&r.text(17)),
        artifacts: Vec::new(),
        channels: Vec::new(),
    }
}

pub(crate) fn artifact_of(r: &store::Row) -> ArtifactRecord {
    ArtifactRecord {
        build_name: r.text(1),
        builder_type: r.text(2),
        builder_id: r.text(3),
        id: r.text(4),
        regions: serde_json::from_str(&r.text(5)).unwrap_or_default(),
        files: serde_json::from_str(&r.text(6)).unwrap_or_default(),
        size: r.opt_int(7),
        checksum: r.opt_text(8),
        state: json(&r.text(9)),
    }
}

pub(crate) async fn require_bucket(tx: &mut dyn Tx, bucket: &str) -> Result<(), CatalogError> {
    let rows = tx
        .query("SELECT name FROM buckets WHERE name = $1", &[bucket.into()])
        .await?;
    if rows.is_empty() {
        let names = tx
            .query("SELECT name FROM buckets ORDER BY name", &[])
            .await?;
        let names: Vec<String> = names.iter().map(|r| r.text(0)).collect();
        return Err(CatalogError::NotFound(if names.is_empty() {
            format!("no bucket {bucket:?}: the catalog is empty (a successful kiln build records its images)")
        } else {
            format!(
                "no bucket {bucket:?}; the catalog has: {}",
                names.join(", ")
            )
        }));
    }
    Ok(())
}

pub(crate) async fn load_version(
    tx: &mut dyn Tx,
    bucket: &str,
    selector: &str,
) -> Result<Version, CatalogError> {
    require_bucket(tx, bucket).await?;
    let sel = selector.strip_prefix('v').unwrap_or(selector);
    let rows = if selector == "latest" {
        tx.query(
            &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = $1 AND number = (SELECT max(number) FROM versions WHERE bucket = $1)"),
            &[bucket.into()],
        )
        .await?
    } else if let Ok(n) = sel.parse::<i64>() {
        tx.query(
            &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = $1 AND number = $2"),
            &[bucket.into(), Val::Int(n)],
        )
        .await?
    } else {
        tx.query(
            &format!(
                "SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = $1 AND fingerprint = $2"
            ),
            &[bucket.into(), selector.to_ascii_uppercase().into()],
        )
        .await?
    };
    let Some(r) = rows.first() else {
        let latest = tx
            .query(
                "SELECT max(number) FROM versions WHERE bucket = $1",
                &[bucket.into()],
            )
            .await?;
        let hint = match latest.first().and_then(|r| r.opt_int(0)) {
            Some(n) => format!("its versions are v1 to v{n}"),
            None => "it has no successful version yet".to_string(),
        };
        return Err(CatalogError::NotFound(format!(
            "bucket {bucket:?} has no version {selector:?}; {hint}"
        )));
    };
    let mut v = version_of(r);
    let arts = tx
        .query(
            &format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE bucket = $1 AND fingerprint = $2 ORDER BY idx"),
            &[bucket.into(), (&v.fingerprint).into()],
        )
        .await?;
    v.artifacts = arts.iter().map(artifact_of).collect();
    let chans = tx
        .query(
            "SELECT channel FROM channels WHERE bucket = $1 AND fingerprint = $2 ORDER BY channel",
            &[bucket.into(), (&v.fingerprint).into()],
        )
        .await?;
    v.channels = chans.iter().map(|c| c.text(0)).collect();
    Ok(v)
}

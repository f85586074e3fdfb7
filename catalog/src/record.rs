//! Recording a build: one version per bucket and build run, numbered in its bucket inside the
//! write transaction (so concurrent recorders never collide), with one record per artifact.

use crate::audit::{append, Change};
use crate::store::Val;
use crate::{BuildStatus, Catalog, CatalogError, Parent, Version};
use std::io::Read;
use time::OffsetDateTime;

/// Files up to this size are hashed when recorded; bigger ones only when a checksum
/// post-processor already did it (its file is read).
pub const HASH_LIMIT: u64 = 64 << 20;

/// One artifact of a build to record.
#[derive(Debug, Clone)]
pub struct NewArtifact {
    /// The build (`type.name`).
    pub build_name: String,
    /// The builder type.
    pub builder_type: String,
    /// The builder id.
    pub builder_id: String,
    /// The artifact id.
    pub id: String,
    /// Its files.
    pub files: Vec<String>,
    /// What the builder asked the catalog to keep (`state("catalog")`), or null.
    pub state: serde_json::Value,
}

/// A finished build (or the builds of one bucket in one run) to record.
#[derive(Debug, Clone)]
pub struct NewBuild {
    /// The bucket.
    pub bucket: String,
    /// The bucket's description (`hcp_packer_registry.description`).
    pub bucket_description: Option<String>,
    /// `bucket_labels`.
    pub bucket_labels: serde_json::Value,
    /// `build_labels`.
    pub build_labels: serde_json::Value,
    /// The builds.
    pub build_names: Vec<String>,
    /// How it ended.
    pub status: BuildStatus,
    /// The error, when it failed.
    pub error: Option<String>,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it ended.
    pub finished_at: OffsetDateTime,
    /// Its artifacts.
    pub artifacts: Vec<NewArtifact>,
    /// The catalog image it was built from.
    pub parent: Option<Parent>,
    /// Template path and hash, variables (sensitive ones left out), kiln version, git commit, user,
    /// host, source image, tags.
    pub metadata: serde_json::Value,
    /// Documents about the image (SBOMs, test results), kept with the version; one over
    /// [`HASH_LIMIT`] bytes is left out.
    pub documents: Vec<crate::documents::NewDocument>,
}

/// The size of `files` and, for one file under [`HASH_LIMIT`], its SHA-256.
fn size_and_checksum(files: &[String]) -> (Option<i64>, Option<String>) {
    use sha2::{Digest, Sha256};
    if files.is_empty() {
        return (None, None);
    }
    let mut size = 0u64;
    for f in files {
        match std::fs::metadata(f) {
            Ok(m) if m.is_file() => size += m.len(),
            _ => return (None, None),
        }
    }
    let checksum = (files.len() == 1 && size <= HASH_LIMIT)
        .then(|| {
            let mut h = Sha256::new();
            let mut f = std::fs::File::open(&files[0]).ok()?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = f.read(&mut buf).ok()?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Some(format!("sha256:{}", hex::encode(h.finalize())))
        })
        .flatten();
    (i64::try_from(size).ok(), checksum)
}

/// The regions of an artifact whose builder kept an `amis` map (region to image).
fn regions(state: &serde_json::Value) -> Vec<String> {
    state
        .get("amis")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

impl Catalog {
    /// Records a build; a successful one gets the bucket's next version number.
    ///
    /// # Errors
    /// On storage errors.
    pub async fn record(&self, b: NewBuild) -> Result<Version, CatalogError> {
        if b.bucket.trim().is_empty() {
            return Err(CatalogError::Invalid(
                "a bucket name cannot be empty".into(),
            ));
        }
        // File sizes and checksums before the write lock is taken.
        let files: Vec<Vec<String>> = b.artifacts.iter().map(|a| a.files.clone()).collect();
        let sums = tokio::task::spawn_blocking(move || {
            files
                .iter()
                .map(|f| size_and_checksum(f))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        let docs = crate::documents::prepare(b.documents.clone());
        let fingerprint = crate::ulid::new(b.finished_at);
        let now = b.finished_at;
        let mut tx = self.write().await?;
        tx.execute(
            "INSERT INTO buckets (name, description, labels, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
            &[(&b.bucket).into(), b.bucket_description.clone().into(), b.bucket_labels.to_string().into(), crate::stored_time(now).into()],
        )
        .await?;
        if b.bucket_description.is_some() || !b.bucket_labels.is_null() {
            tx.execute(
                "UPDATE buckets SET description = coalesce($2, description), labels = $3 WHERE name = $1",
                &[(&b.bucket).into(), b.bucket_description.clone().into(), b.bucket_labels.to_string().into()],
            )
            .await?;
        }
        let number = if b.status == BuildStatus::Succeeded {
            let rows = tx
                .query(
                    "SELECT coalesce(max(number), 0) FROM versions WHERE bucket = $1",
                    &[(&b.bucket).into()],
                )
                .await?;
            Some(rows.first().map_or(0, |r| r.int(0)) + 1)
        } else {
            None
        };
        let (pb, pf, pc) = match &b.parent {
            Some(p) => (
                Val::from(&p.bucket),
                Val::from(&p.fingerprint),
                Val::from(p.channel.clone()),
            ),
            None => (Val::Null, Val::Null, Val::Null),
        };
        tx.execute(
            &format!("INSERT INTO versions ({}) VALUES ($1, $2, $3, $4, 'active', NULL, NULL, NULL, 0, $5, $6, $7, $8, $9, $10, $11, $12, $13)", crate::VERSION_COLUMNS),
            &[
                (&b.bucket).into(),
                (&fingerprint).into(),
                number.into(),
                b.status.as_str().into(),
                b.error.clone().into(),
                serde_json::json!(b.build_names).to_string().into(),
                crate::stored_time(b.started_at).into(),
                crate::stored_time(b.finished_at).into(),
                pb,
                pf,
                pc,
                b.build_labels.to_string().into(),
                b.metadata.to_string().into(),
            ],
        )
        .await?;
        for (i, a) in b.artifacts.iter().enumerate() {
            let (size, checksum) = sums.get(i).cloned().unwrap_or((None, None));
            tx.execute(
                &format!("INSERT INTO artifacts (bucket, idx, {}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", crate::ARTIFACT_COLUMNS),
                &[
                    (&b.bucket).into(),
                    Val::Int(i as i64),
                    (&fingerprint).into(),
                    (&a.build_name).into(),
                    (&a.builder_type).into(),
                    (&a.builder_id).into(),
                    (&a.id).into(),
                    serde_json::json!(regions(&a.state)).to_string().into(),
                    serde_json::json!(a.files).to_string().into(),
                    size.into(),
                    checksum.into(),
                    a.state.to_string().into(),
                ],
            )
            .await?;
        }
        crate::documents::insert(tx.as_mut(), &b.bucket, &fingerprint, &docs).await?;
        let label = number.map_or_else(|| fingerprint.clone(), |n| format!("v{n}"));
        append(
            tx.as_mut(),
            self,
            now,
            Change {
                action: "build",
                bucket: &b.bucket,
                version: label,
                detail: serde_json::json!({
                    "status": b.status.as_str(),
                    "fingerprint": fingerprint,
                    "builds": b.build_names,
                    "artifacts": b.artifacts.iter().map(|a| &a.id).collect::<Vec<_>>(),
                    "error": b.error,
                }),
            },
        )
        .await?;
        let v = crate::load_version(tx.as_mut(), &b.bucket, &fingerprint).await?;
        tx.commit().await?;
        Ok(v)
    }
}

/// The SHA-256 of the template files under `paths` (files, or the `*.pkr.hcl` / `*.pkr.json`
/// of directories, in name order) and the git commit checked out where the first one lives.
#[must_use]
pub fn provenance(paths: &[std::path::PathBuf]) -> (Option<String>, Option<String>) {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut in_dir: Vec<_> = std::fs::read_dir(p)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|f| {
                    let n = f.to_string_lossy();
                    n.ends_with(".pkr.hcl") || n.ends_with(".pkr.json")
                })
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(p.clone());
        }
    }
    let mut h = Sha256::new();
    let mut any = false;
    for f in &files {
        if let Ok(bytes) = std::fs::read(f) {
            h.update(bytes);
            any = true;
        }
    }
    let hash = any.then(|| hex::encode(h.finalize()));
    let start = paths.first().map(|p| {
        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        if p.is_dir() {
            p
        } else {
            p.parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default()
        }
    });
    (hash, start.and_then(|d| git_commit(&d)))
}

/// The commit `HEAD` names in the repository holding `dir`, read from `.git` directly.
fn git_commit(dir: &std::path::Path) -> Option<String> {
    let mut d = Some(dir);
    while let Some(here) = d {
        let dot = here.join(".git");
        let git = if dot.is_file() {
            let text = std::fs::read_to_string(&dot).ok()?;
            let p = std::path::PathBuf::from(text.strip_prefix("gitdir:")?.trim());
            if p.is_absolute() {
                p
            } else {
                here.join(p)
            }
        } else if dot.is_dir() {
            dot
        } else {
            d = here.parent();
            continue;
        };
        let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
        let head = head.trim();
        let Some(r) = head.strip_prefix("ref:") else {
            return Some(head.to_string());
        };
        let r = r.trim();
        // Worktrees keep refs in the common directory.
        let common = std::fs::read_to_string(git.join("commondir"))
            .map(|c| git.join(c.trim()))
            .unwrap_or_else(|_| git.clone());
        for base in [&git, &common] {
            if let Ok(c) = std::fs::read_to_string(base.join(r)) {
                return Some(c.trim().to_string());
            }
        }
        let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
        return packed
            .lines()
            .filter_map(|l| l.split_once(' '))
            .find(|(_, name)| *name == r)
            .map(|(c, _)| c.to_string());
    }
    None
}

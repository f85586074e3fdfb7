//! What the catalog keeps about a version beyond its artifacts: documents its build wrote (SBOMs,
//! by kind: `sbom-cyclonedx`, `sbom-spdx`) and the vulnerability scans run against them later
//! (`kiln images scan`), each scan in the audit log.

use crate::audit::{append, Change};
use crate::store::{Tx, Val};
use crate::{Catalog, CatalogError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// A document to keep with a version being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// What it is, e.g. `sbom-cyclonedx`, `goss-results`.
    pub kind: String,
    /// Where it came from (a file name).
    pub name: String,
    /// Its text.
    pub content: String,
}

/// A document kept with a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// What it is.
    pub kind: String,
    /// The file it was read from.
    pub name: String,
    /// `sha256:HEX` of its content.
    pub sha256: String,
    /// Its text.
    #[serde(skip)]
    pub content: String,
}

/// The goss results kept with a version, summed over its builds' goss provisioners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TestSummary {
    /// Assertions run.
    pub tests: u64,
    /// Of which failed.
    pub failed: u64,
    /// Of which skipped.
    pub skipped: u64,
}

/// A scan's result, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scan {
    /// The bucket.
    pub bucket: String,
    /// The version's fingerprint.
    pub fingerprint: String,
    /// The version's number.
    pub version: Option<i64>,
    /// Its position among the version's scans, from 1.
    pub seq: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The database it was matched against.
    pub source: String,
    /// The worst severity found (`none` when nothing was).
    pub worst: String,
    /// Findings by severity.
    pub counts: serde_json::Value,
    /// The findings.
    pub findings: serde_json::Value,
}

/// The documents to store: hashed; those over [`crate::record::HASH_LIMIT`] bytes are left out.
pub(crate) fn prepare(docs: Vec<NewDocument>) -> Vec<Document> {
    docs.into_iter()
        .filter(|d| d.content.len() as u64 <= crate::record::HASH_LIMIT)
        .map(|d| Document {
            sha256: format!(
                "sha256:{}",
                hex::encode(Sha256::digest(d.content.as_bytes()))
            ),
            kind: d.kind,
            name: d.name,
            content: d.content,
        })
        .collect()
}

pub(crate) async fn insert(
    tx: &mut dyn Tx,
    bucket: &str,
    fingerprint: &str,
    docs: &[Document],
) -> Result<(), CatalogError> {
    for d in docs {
        tx.execute(
            "INSERT INTO documents (bucket, fingerprint, kind, name, sha256, content) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (bucket, fingerprint, kind, name) DO UPDATE SET sha256 = excluded.sha256, content = excluded.content",
            &[bucket.into(), fingerprint.into(), (&d.kind).into(), (&d.name).into(), (&d.sha256).into(), (&d.content).into()],
        )
        .await?;
    }
    Ok(())
}

impl Catalog {
    /// The documents kept with a version (a number, `vN`, `latest` or a fingerprint).
    ///
    /// # Errors
    /// When there is no such version.
    pub async fn documents(
        &self,
        bucket: &str,
        selector: &str,
    ) -> Result<Vec<Document>, CatalogError> {
        let mut tx = self.read().await?;
        let v = crate::load_version(tx.as_mut(), bucket, selector).await?;
        let rows = tx
            .query(
                "SELECT kind, name, sha256, content FROM documents WHERE bucket = $1 AND fingerprint = $2 ORDER BY kind, name",
                &[bucket.into(), (&v.fingerprint).into()],
            )
            .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| Document {
                kind: r.text(0),
                name: r.text(1),
                sha256: r.text(2),
                content: r.text(3),
            })
            .collect())
    }

    /// Keeps `doc` with a version (replacing one of the same kind and name) and appends `action`
    /// to the audit log.
    ///
    /// # Errors
    /// When there is no such version.
    pub async fn add_document(
        &self,
        bucket: &str,
        selector: &str,
        doc: NewDocument,
        action: &str,
        now: OffsetDateTime,
    ) -> Result<(), CatalogError> {
        let docs = prepare(vec![doc]);
        let mut tx = self.write().await?;
        let v = crate::load_version(tx.as_mut(), bucket, selector).await?;
        insert(tx.as_mut(), bucket, &v.fingerprint, &docs).await?;
        for d in &docs {
            append(
                tx.as_mut(),
                self,
                now,
                Change {
                    action,
                    bucket,
                    version: v.label(),
                    detail: serde_json::json!({"kind": d.kind, "name": d.name, "sha256": d.sha256}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The test results kept with a version (`goss-results` from its build, `test-results` from
    /// `kiln images test`), if it has any.
    ///
    /// # Errors
    /// When there is no such version.
    pub async fn test_results(
        &self,
        bucket: &str,
        selector: &str,
    ) -> Result<Option<TestSummary>, CatalogError> {
        let docs = self.documents(bucket, selector).await?;
        let mut sum: Option<TestSummary> = None;
        for d in docs
            .iter()
            .filter(|d| d.kind == "goss-results" || d.kind == "test-results")
        {
            let j: serde_json::Value = serde_json::from_str(&d.content).unwrap_or_default();
            let n = |k: &str| j["summary"][k].as_u64().unwrap_or(0);
            let s = sum.get_or_insert(TestSummary {
                tests: 0,
                failed: 0,
                skipped: 0,
            });
            s.tests += n("test-count");
            s.failed += n("failed-count");
            s.skipped += n("skipped-count");
        }
        Ok(sum)
    }

    /// Records a scan of a version: its findings (a JSON list), the worst severity and the
    /// counts by severity; appended to the audit log.
    ///
    /// # Errors
    /// When there is no such version.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_scan(
        &self,
        bucket: &str,
        fingerprint: &str,
        source: &str,
        worst: &str,
        counts: serde_json::Value,
        findings: serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<Scan, CatalogError> {
        let mut tx = self.write().await?;
        let v = crate::load_version(tx.as_mut(), bucket, fingerprint).await?;
        let rows = tx
            .query(
                "SELECT coalesce(max(seq), 0) FROM scans WHERE bucket = $1 AND fingerprint = $2",
                &[bucket.into(), fingerprint.into()],
            )
            .await?;
        let seq = rows.first().map_or(0, |r| r.int(0)) + 1;
        tx.execute(
            "INSERT INTO scans (bucket, fingerprint, seq, at, source, worst, counts, findings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[bucket.into(), fingerprint.into(), Val::Int(seq), crate::stored_time(now).into(), source.into(), worst.into(), counts.to_string().into(), findings.to_string().into()],
        )
        .await?;
        append(
            tx.as_mut(),
            self,
            now,
            Change {
                action: "scan",
                bucket,
                version: v.label(),
                detail: serde_json::json!({"source": source, "worst": worst, "counts": counts}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Scan {
            bucket: bucket.to_string(),
            fingerprint: fingerprint.to_string(),
            version: v.number,
            seq,
            at: now,
            source: source.to_string(),
            worst: worst.to_string(),
            counts,
            findings,
        })
    }

    /// The newest scan of every version that has one (of `bucket` when given), by bucket and
    /// version.
    ///
    /// # Errors
    /// On storage errors.
    pub async fn latest_scans(&self, bucket: Option<&str>) -> Result<Vec<Scan>, CatalogError> {
        let mut tx = self.read().await?;
        let rows = tx
            .query(
                "SELECT s.bucket, s.fingerprint, v.number, s.seq, s.at, s.source, s.worst, s.counts, s.findings FROM scans s JOIN versions v ON v.bucket = s.bucket AND v.fingerprint = s.fingerprint WHERE ($1 = '' OR s.bucket = $1) AND s.seq = (SELECT max(seq) FROM scans t WHERE t.bucket = s.bucket AND t.fingerprint = s.fingerprint) ORDER BY s.bucket, v.number",
                &[bucket.unwrap_or_default().into()],
            )
            .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| Scan {
                bucket: r.text(0),
                fingerprint: r.text(1),
                version: r.opt_int(2),
                seq: r.int(3),
                at: crate::parse_time(&r.text(4)),
                source: r.text(5),
                worst: r.text(6),
                counts: crate::json(&r.text(7)),
                findings: crate::json(&r.text(8)),
            })
            .collect())
    }
}

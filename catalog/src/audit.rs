//! The audit log: every state change, promotion and cloud call, appended in the same transaction
//! as the change. Each entry holds the hash of the one before it, and the catalog keeps the
//! newest entry's position and hash, so an edited, removed or reordered entry (even the last)
//! breaks the chain at a position [`Catalog::verify_audit`] reports.

use crate::store::{Tx, Val};
use crate::{AuditEntry, Catalog, CatalogError};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// What an entry says, before it is chained.
#[derive(Debug, Clone)]
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub bucket: &'a str,
    pub version: String,
    pub detail: serde_json::Value,
}

fn digest(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    for part in [
        e.seq.to_string().as_str(),
        &e.at,
        &e.actor,
        &e.host,
        &e.action,
        &e.bucket,
        &e.version,
        &e.detail,
        &e.prev_hash,
    ] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

async fn head(tx: &mut dyn Tx) -> Result<(i64, String), CatalogError> {
    let rows = tx
        .query("SELECT value FROM kiln_meta WHERE key = 'audit_head'", &[])
        .await?;
    let v = rows.first().map(|r| r.text(0)).unwrap_or_default();
    let (seq, hash) = v.split_once(':').unwrap_or(("0", ""));
    Ok((seq.parse().unwrap_or(0), hash.to_string()))
}

/// Appends `c` (inside the caller's write transaction).
pub(crate) async fn append(
    tx: &mut dyn Tx,
    cat: &Catalog,
    now: OffsetDateTime,
    c: Change<'_>,
) -> Result<(), CatalogError> {
    let (seq, prev) = head(tx).await?;
    let mut e = AuditEntry {
        seq: seq + 1,
        at: crate::stored_time(now),
        actor: cat.actor().user.clone(),
        host: cat.actor().host.clone(),
        action: c.action.to_string(),
        bucket: c.bucket.to_string(),
        version: c.version,
        detail: c.detail.to_string(),
        prev_hash: prev,
        hash: String::new(),
    };
    e.hash = digest(&e);
    tx.execute(
        "INSERT INTO audit (seq, at, actor, host, action, bucket, version, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Val::Int(e.seq),
            (&e.at).into(),
            (&e.actor).into(),
            (&e.host).into(),
            (&e.action).into(),
            (&e.bucket).into(),
            (&e.version).into(),
            (&e.detail).into(),
            (&e.prev_hash).into(),
            (&e.hash).into(),
        ],
    )
    .await?;
    tx.execute(
        "UPDATE kiln_meta SET value = $1 WHERE key = 'audit_head'",
        &[format!("{}:{}", e.seq, e.hash).into()],
    )
    .await?;
    Ok(())
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Break {
    /// The position (1-based) of the first entry that does not fit.
    pub position: i64,
    /// What is wrong there.
    pub problem: String,
}

impl Catalog {
    /// The audit log, oldest first; only `bucket`'s entries when given.
    ///
    /// # Errors
    /// On storage errors.
    pub async fn audit(&self, bucket: Option<&str>) -> Result<Vec<AuditEntry>, CatalogError> {
        let mut tx = self.read().await?;
        let cols = "seq, at, actor, host, action, bucket, version, detail, prev_hash, hash";
        let rows = match bucket {
            Some(b) => {
                tx.query(
                    &format!("SELECT {cols} FROM audit WHERE bucket = $1 ORDER BY seq"),
                    &[b.into()],
                )
                .await?
            }
            None => {
                tx.query(&format!("SELECT {cols} FROM audit ORDER BY seq"), &[])
                    .await?
            }
        };
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                seq: r.int(0),
                at: r.text(1),
                actor: r.text(2),
                host: r.text(3),
                action: r.text(4),
                bucket: r.text(5),
                version: r.text(6),
                detail: r.text(7),
                prev_hash: r.text(8),
                hash: r.text(9),
            })
            .collect())
    }

    /// Checks the whole chain; returns the number of entries, or the first break.
    ///
    /// # Errors
    /// On storage errors.
    pub async fn verify_audit(&self) -> Result<Result<i64, Break>, CatalogError> {
        let entries = self.audit(None).await?;
        let (head_seq, head_hash) = {
            let mut tx = self.read().await?;
            let h = head(tx.as_mut()).await?;
            tx.commit().await?;
            h
        };
        Ok(check(&entries, head_seq, &head_hash))
    }
}

fn check(entries: &[AuditEntry], head_seq: i64, head_hash: &str) -> Result<i64, Break> {
    let mut prev = String::new();
    for (i, e) in entries.iter().enumerate() {
        let position = i as i64 + 1;
        if e.seq != position {
            return Err(Break {
                position,
                problem: format!(
                    "entry {position} carries sequence number {}: an entry before it was removed, or entries were reordered",
                    e.seq
                ),
            });
        }
        if e.prev_hash != prev {
            return Err(Break {
                position,
                problem: format!(
                    "entry {position} does not follow entry {}: its previous-hash does not match (an entry was removed, reordered or replaced)",
                    position - 1
                ),
            });
        }
        if digest(e) != e.hash {
            return Err(Break {
                position,
                problem: format!("entry {position} was edited: its contents do not match its hash"),
            });
        }
        prev.clone_from(&e.hash);
    }
    let n = entries.len() as i64;
    if n != head_seq || prev != head_hash {
        return Err(Break {
            position: n + 1,
            problem: format!(
                "the log ends at entry {n}, but the catalog's last write was entry {head_seq}: entries at the end were removed or replaced"
            ),
        });
    }
    Ok(n)
}

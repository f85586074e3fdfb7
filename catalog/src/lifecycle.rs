//! The lifecycle state machine. `active -> deprecated -> disabled -> deleted`; `restore` brings
//! a deprecated or disabled version back to `active` and lifts a revocation; `revoked` and
//! `protected` are flags. Each transition is checked first, then carried out where the
//! artifact lives (a registered [`ImageLifecycle`] for clouds; local files are moved to the
//! archive directory or removed), then stored with its audit entries in one transaction.

use crate::audit::{append, Change};
use crate::store::Val;
use crate::{Catalog, CatalogError, State, Version};
use kiln_core::lifecycle::Transition;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// A lifecycle operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Deprecate at a time (now when `None`).
    Deprecate(Option<OffsetDateTime>),
    /// Disable.
    Disable,
    /// Back to active; lifts a revocation.
    Restore,
    /// Delete the artifacts.
    Delete,
    /// Revoke from a time (now when `None`) with a reason.
    Revoke(Option<OffsetDateTime>, String),
    /// Set or clear the protected flag.
    Protect(bool),
}

impl Op {
    /// The command's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Op::Deprecate(_) => "deprecate",
            Op::Disable => "disable",
            Op::Restore => "restore",
            Op::Delete => "delete",
            Op::Revoke(..) => "revoke",
            Op::Protect(true) => "protect",
            Op::Protect(false) => "unprotect",
        }
    }
}

/// Why `op` may not be applied to `v`, if it may not.
#[must_use]
pub fn refusal(v: &Version, op: &Op) -> Option<String> {
    let who = format!("{} {}", v.bucket, v.label());
    if v.number.is_none() && !matches!(op, Op::Protect(_)) {
        return Some(format!(
            "{who} is a {} build: it has no image to {}",
            v.status.as_str(),
            op.name()
        ));
    }
    if v.state == State::Deleted && !matches!(op, Op::Protect(false)) {
        return Some(format!(
            "{who} is deleted: its artifacts are gone, nothing can {} it",
            op.name()
        ));
    }
    let assigned = || {
        (!v.channels.is_empty()).then(|| {
            format!(
                "{who} is assigned to channel {}; promote another version there first",
                v.channels.join(", ")
            )
        })
    };
    match op {
        Op::Deprecate(_) if v.state == State::Disabled => Some(format!(
            "{who} is disabled, which is past deprecated; restore it first"
        )),
        Op::Disable | Op::Delete if v.protected => Some(format!(
            "{who} is protected; unprotect it first (kiln images protect {} {} --off)",
            v.bucket,
            v.label()
        )),
        Op::Disable if v.state == State::Disabled => Some(format!("{who} is already disabled")),
        Op::Disable | Op::Delete | Op::Revoke(..) => assigned(),
        Op::Restore
            if v.state == State::Active && v.revoked.is_none() && v.deprecate_at.is_none() =>
        {
            Some(format!(
                "{who} is active and not revoked: there is nothing to restore"
            ))
        }
        _ => None,
    }
}

/// The archive path of a local file of `v`.
fn archived(archive: &Path, v: &Version, file: &str) -> PathBuf {
    let name = Path::new(file).file_name().map_or_else(
        || file.replace('/', "_"),
        |n| n.to_string_lossy().into_owned(),
    );
    archive.join(&v.bucket).join(v.label()).join(name)
}

fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(d) = to.parent() {
        std::fs::create_dir_all(d)?;
    }
    match std::fs::rename(from, to) {
        Err(e) if e.raw_os_error() == Some(18) => {
            // Across file systems: copy, then remove.
            std::fs::copy(from, to)?;
            std::fs::remove_file(from)
        }
        r => r,
    }
}

impl Catalog {
    /// The transitions `op` needs where the artifacts live.
    fn transitions(v: &Version, op: &Op, now: OffsetDateTime) -> Vec<Transition> {
        match op {
            Op::Deprecate(at) => vec![Transition::Deprecate(at.unwrap_or(now))],
            Op::Disable => vec![Transition::Disable],
            Op::Restore => {
                let mut t = Vec::new();
                if v.state == State::Disabled {
                    t.push(Transition::Enable);
                }
                if v.deprecate_at.is_some() {
                    t.push(Transition::Undeprecate);
                }
                t
            }
            Op::Delete => vec![Transition::Delete],
            Op::Revoke(..) | Op::Protect(_) => Vec::new(),
        }
    }

    /// Carries out `t` on every artifact of `v`, pushing the calls made onto `calls`.
    async fn effect(
        &self,
        v: &Version,
        t: &Transition,
        calls: &mut Vec<String>,
    ) -> Result<(), CatalogError> {
        for a in &v.artifacts {
            if let Some(l) = self.lifecycle_of(&a.builder_id) {
                l.apply(&a.stored(), t, calls).await.map_err(|e| {
                    CatalogError::Effect(format!("{} {}: {}: {e}", v.bucket, v.label(), a.id))
                })?;
                continue;
            }
            // Local files.
            let archive = &self.options().archive_dir;
            for f in &a.files {
                let here = Path::new(f);
                let there = archived(archive, v, f);
                let r = match t {
                    Transition::Disable => move_file(here, &there)
                        .map(|()| format!("moved {} to {}", here.display(), there.display())),
                    Transition::Enable => move_file(&there, here)
                        .map(|()| format!("moved {} back to {}", there.display(), here.display())),
                    Transition::Delete => {
                        let from = if v.state == State::Disabled {
                            there.clone()
                        } else {
                            here.to_path_buf()
                        };
                        match std::fs::remove_file(&from) {
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                                Ok(format!("{} was already gone", from.display()))
                            }
                            r => r.map(|()| format!("removed {}", from.display())),
                        }
                    }
                    Transition::Deprecate(_) | Transition::Undeprecate => continue,
                };
                calls.push(r.map_err(|e| {
                    CatalogError::Effect(format!(
                        "{} {}: {}: {e}",
                        v.bucket,
                        v.label(),
                        here.display()
                    ))
                })?);
            }
        }
        Ok(())
    }

    /// Records the calls an operation made before it failed (`ACTION-failed`, with the error),
    /// so that the audit log has every cloud call; nothing when it made none.
    pub(crate) async fn audit_failure(
        &self,
        action: &str,
        v: &Version,
        mut detail: serde_json::Value,
        calls: &[String],
        e: &CatalogError,
        now: OffsetDateTime,
    ) -> Result<(), CatalogError> {
        if calls.is_empty() {
            return Ok(());
        }
        detail["calls"] = serde_json::json!(calls);
        detail["error"] = e.to_string().into();
        let mut tx = self.write().await?;
        append(
            tx.as_mut(),
            self,
            now,
            Change {
                action: &format!("{action}-failed"),
                bucket: &v.bucket,
                version: v.label(),
                detail,
            },
        )
        .await?;
        Ok(tx.commit().await?)
    }

    /// Applies `op` to a version: checks it, carries it out where the artifacts live, stores it.
    ///
    /// # Errors
    /// `Refused` with the reason for an illegal transition; `Effect` when the cloud or the file
    /// system refused; `NotFound` for an unknown bucket or version.
    pub async fn apply(
        &self,
        bucket: &str,
        selector: &str,
        op: Op,
        now: OffsetDateTime,
    ) -> Result<Version, CatalogError> {
        let v = self.version(bucket, selector).await?;
        if let Some(why) = refusal(&v, &op) {
            return Err(CatalogError::Refused(format!(
                "cannot {} {bucket} {}: {why}",
                op.name(),
                v.label()
            )));
        }
        let mut calls = Vec::new();
        for t in Self::transitions(&v, &op, now) {
            if let Err(e) = self.effect(&v, &t, &mut calls).await {
                self.audit_failure(op.name(), &v, serde_json::json!({}), &calls, &e, now)
                    .await?;
                return Err(e);
            }
        }
        let mut tx = self.write().await?;
        let again = crate::load_version(tx.as_mut(), bucket, &v.fingerprint).await?;
        if again.state != v.state || again.channels != v.channels {
            return Err(CatalogError::Refused(format!(
                "{bucket} {} changed while it was being changed; check it with kiln images show {bucket} {} and run the command again",
                v.label(),
                v.label()
            )));
        }
        let fp: Val = (&v.fingerprint).into();
        let b: Val = bucket.into();
        let (sql, params): (&str, Vec<Val>) = match &op {
            Op::Deprecate(at) => (
                "UPDATE versions SET state = 'deprecated', deprecate_at = $3 WHERE bucket = $1 AND fingerprint = $2",
                vec![b, fp, crate::stored_time(at.unwrap_or(now)).into()],
            ),
            Op::Disable => (
                "UPDATE versions SET state = 'disabled' WHERE bucket = $1 AND fingerprint = $2",
                vec![b, fp],
            ),
            Op::Restore => (
                "UPDATE versions SET state = 'active', deprecate_at = NULL, revoked_at = NULL, revoke_reason = NULL WHERE bucket = $1 AND fingerprint = $2",
                vec![b, fp],
            ),
            Op::Delete => (
                "UPDATE versions SET state = 'deleted' WHERE bucket = $1 AND fingerprint = $2",
                vec![b, fp],
            ),
            Op::Revoke(at, reason) => (
                "UPDATE versions SET revoked_at = $3, revoke_reason = $4 WHERE bucket = $1 AND fingerprint = $2",
                vec![b, fp, crate::stored_time(at.unwrap_or(now)).into(), reason.into()],
            ),
            Op::Protect(on) => (
                "UPDATE versions SET protected = $3 WHERE bucket = $1 AND fingerprint = $2",
                vec![b, fp, Val::Int(i64::from(*on))],
            ),
        };
        tx.execute(sql, &params).await?;
        let detail = match &op {
            Op::Deprecate(at) => serde_json::json!({"at": crate::stored_time(at.unwrap_or(now))}),
            Op::Revoke(at, reason) => {
                serde_json::json!({"at": crate::stored_time(at.unwrap_or(now)), "reason": reason})
            }
            _ => serde_json::json!({}),
        };
        let mut detail = detail;
        detail["from"] = v.state.as_str().into();
        if !calls.is_empty() {
            detail["calls"] = serde_json::json!(calls);
        }
        append(
            tx.as_mut(),
            self,
            now,
            Change {
                action: op.name(),
                bucket,
                version: v.label(),
                detail,
            },
        )
        .await?;
        let out = crate::load_version(tx.as_mut(), bucket, &v.fingerprint).await?;
        tx.commit().await?;
        Ok(out)
    }
}

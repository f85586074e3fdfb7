//! Channels: named pointers per bucket with their whole assignment history. Promotion refuses
//! versions that must not be deployed; rollback moves a channel back to the assignment before
//! the current one (and again, further back).

use crate::audit::{append, Change};
use crate::store::{Tx, Val};
use crate::{Assignment, BuildStatus, Catalog, CatalogError, State, Version};
use time::OffsetDateTime;

/// Channel names: letters, digits, `-`, `_`, `.`.
fn check_name(channel: &str) -> Result<(), CatalogError> {
    if channel.is_empty()
        || !channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(CatalogError::Invalid(format!(
            "{channel:?} is not a channel name: use letters, digits, '-', '_' and '.'"
        )));
    }
    Ok(())
}

async fn current(
    tx: &mut dyn Tx,
    bucket: &str,
    channel: &str,
) -> Result<Option<(i64, String)>, CatalogError> {
    let rows = tx
        .query(
            "SELECT seq, fingerprint FROM channels WHERE bucket = $1 AND channel = $2",
            &[bucket.into(), channel.into()],
        )
        .await?;
    Ok(rows.first().map(|r| (r.int(0), r.text(1))))
}

async fn previous_of(
    tx: &mut dyn Tx,
    bucket: &str,
    channel: &str,
    seq: i64,
) -> Result<Option<(i64, String, Option<i64>)>, CatalogError> {
    let rows = tx
        .query(
            "SELECT h.previous_seq, p.fingerprint, p.previous_seq FROM channel_history h JOIN channel_history p ON p.bucket = h.bucket AND p.channel = h.channel AND p.seq = h.previous_seq WHERE h.bucket = $1 AND h.channel = $2 AND h.seq = $3",
            &[bucket.into(), channel.into(), Val::Int(seq)],
        )
        .await?;
    Ok(rows.first().map(|r| (r.int(0), r.text(1), r.opt_int(2))))
}

impl Catalog {
    /// Why `v` may not be deployed now, if it may not.
    async fn undeployable(
        &self,
        v: &Version,
        now: OffsetDateTime,
    ) -> Result<Option<String>, CatalogError> {
        let who = format!("{} {}", v.bucket, v.label());
        if v.status != BuildStatus::Succeeded {
            return Ok(Some(format!(
                "{who} is a {} build, not an image",
                v.status.as_str()
            )));
        }
        match v.state {
            State::Disabled => {
                return Ok(Some(format!(
                    "{who} is disabled; restore it first (kiln images restore {} {})",
                    v.bucket,
                    v.label()
                )))
            }
            State::Deleted => return Ok(Some(format!("{who} is deleted"))),
            _ => {}
        }
        if let Some(r) = self.revocation(v, now).await? {
            return Ok(Some(match &r.inherited_from {
                Some(a) => format!(
                    "{who} is revoked: it was built from {a}, which is revoked: {}",
                    r.reason
                ),
                None => format!("{who} is revoked: {}", r.reason),
            }));
        }
        Ok(None)
    }

    /// Points `channel` of `bucket` at a version.
    ///
    /// # Errors
    /// When the version is not deployable (failed, disabled, deleted, revoked), or does not exist.
    pub async fn promote(
        &self,
        bucket: &str,
        selector: &str,
        channel: &str,
        now: OffsetDateTime,
    ) -> Result<Assignment, CatalogError> {
        check_name(channel)?;
        let v = self.version(bucket, selector).await?;
        if let Some(why) = self.undeployable(&v, now).await? {
            return Err(CatalogError::Refused(format!(
                "cannot promote to {channel}: {why}"
            )));
        }
        let mut tx = self.write().await?;
        let again = crate::load_version(tx.as_mut(), bucket, &v.fingerprint).await?;
        if again.state != v.state || again.revoked != v.revoked {
            return Err(CatalogError::Refused(format!(
                "{bucket} {} changed while it was being promoted; run the command again",
                v.label()
            )));
        }
        let cur = current(tx.as_mut(), bucket, channel).await?;
        let previous = cur.as_ref().map(|c| c.0);
        self.move_channel(tx, channel, &v, previous, cur.map(|c| c.1), "promote", now)
            .await
    }

    /// Points `channel` at `v` in `tx` (its history entry's previous position is `previous`),
    /// records `action` in the audit log, commits, then writes `v` to the channel's
    /// publications.
    #[allow(clippy::too_many_arguments)]
    async fn move_channel(
        &self,
        mut tx: Box<dyn Tx>,
        channel: &str,
        v: &Version,
        previous: Option<i64>,
        from: Option<String>,
        action: &str,
        now: OffsetDateTime,
    ) -> Result<Assignment, CatalogError> {
        let bucket = v.bucket.as_str();
        let mut a = assign(tx.as_mut(), self, bucket, channel, v, previous, action, now).await?;
        append(
            tx.as_mut(),
            self,
            now,
            Change {
                action,
                bucket,
                version: v.label(),
                detail: serde_json::json!({"channel": channel, "fingerprint": v.fingerprint, "from": from}),
            },
        )
        .await?;
        tx.commit().await?;
        a.published = self.republish(channel, v, now).await?;
        Ok(a)
    }

    /// Moves `channel` back to the assignment before its current one.
    ///
    /// # Errors
    /// When the channel does not exist or has no earlier assignment, or that version may no
    /// longer be deployed.
    pub async fn rollback(
        &self,
        bucket: &str,
        channel: &str,
        now: OffsetDateTime,
    ) -> Result<Assignment, CatalogError> {
        let (target_fp, cur_seq) = {
            let mut tx = self.read().await?;
            crate::require_bucket(tx.as_mut(), bucket).await?;
            let Some((seq, _)) = current(tx.as_mut(), bucket, channel).await? else {
                return Err(no_channel(bucket, channel));
            };
            let Some((_, fp, _)) = previous_of(tx.as_mut(), bucket, channel, seq).await? else {
                return Err(CatalogError::Refused(format!(
                    "channel {channel} of {bucket} has no earlier assignment to roll back to"
                )));
            };
            tx.commit().await?;
            (fp, seq)
        };
        let target = self.version(bucket, &target_fp).await?;
        if let Some(why) = self.undeployable(&target, now).await? {
            return Err(CatalogError::Refused(format!(
                "cannot roll {channel} back: {why}"
            )));
        }
        let mut tx = self.write().await?;
        let cur = current(tx.as_mut(), bucket, channel).await?;
        if cur.as_ref().map(|c| c.0) != Some(cur_seq) {
            return Err(CatalogError::Refused(format!(
                "channel {channel} of {bucket} moved while it was being rolled back; run the command again"
            )));
        }
        let (_, _, before) = previous_of(tx.as_mut(), bucket, channel, cur_seq)
            .await?
            .expect("checked above under the same channel position");
        self.move_channel(
            tx,
            channel,
            &target,
            before,
            cur.map(|c| c.1),
            "rollback",
            now,
        )
        .await
    }

    /// The version `channel` points at.
    ///
    /// # Errors
    /// When the bucket or channel does not exist.
    pub async fn channel(&self, bucket: &str, channel: &str) -> Result<Version, CatalogError> {
        let mut tx = self.read().await?;
        crate::require_bucket(tx.as_mut(), bucket).await?;
        let Some((_, fp)) = current(tx.as_mut(), bucket, channel).await? else {
            return Err(no_channel_in(tx.as_mut(), bucket, channel).await);
        };
        let v = crate::load_version(tx.as_mut(), bucket, &fp).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Every assignment of `channel` (all channels of the bucket when `None`), oldest first.
    ///
    /// # Errors
    /// When the bucket does not exist.
    pub async fn channel_history(
        &self,
        bucket: &str,
        channel: Option<&str>,
    ) -> Result<Vec<Assignment>, CatalogError> {
        let mut tx = self.read().await?;
        crate::require_bucket(tx.as_mut(), bucket).await?;
        let rows = tx
            .query(
                "SELECT h.channel, h.seq, v.number, h.fingerprint, h.action, h.actor, h.at FROM channel_history h JOIN versions v ON v.bucket = h.bucket AND v.fingerprint = h.fingerprint WHERE h.bucket = $1 AND ($2 = '' OR h.channel = $2) ORDER BY h.at, h.channel, h.seq",
                &[bucket.into(), channel.unwrap_or_default().into()],
            )
            .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| Assignment {
                bucket: bucket.to_string(),
                channel: r.text(0),
                seq: r.int(1),
                version: r.int(2),
                fingerprint: r.text(3),
                action: r.text(4),
                actor: r.text(5),
                at: crate::parse_time(&r.text(6)),
                published: Vec::new(),
            })
            .collect())
    }
}

fn no_channel(bucket: &str, channel: &str) -> CatalogError {
    CatalogError::NotFound(format!(
        "bucket {bucket:?} has no channel {channel:?}; promote a version to create it (kiln images promote {bucket} VERSION --channel {channel})"
    ))
}

async fn no_channel_in(tx: &mut dyn Tx, bucket: &str, channel: &str) -> CatalogError {
    let names = tx
        .query(
            "SELECT channel FROM channels WHERE bucket = $1 ORDER BY channel",
            &[bucket.into()],
        )
        .await
        .unwrap_or_default();
    if names.is_empty() {
        return no_channel(bucket, channel);
    }
    let names: Vec<String> = names.iter().map(|r| r.text(0)).collect();
    CatalogError::NotFound(format!(
        "bucket {bucket:?} has no channel {channel:?}; its channels are: {}",
        names.join(", ")
    ))
}

#[allow(clippy::too_many_arguments)]
async fn assign(
    tx: &mut dyn Tx,
    cat: &Catalog,
    bucket: &str,
    channel: &str,
    v: &Version,
    previous: Option<i64>,
    action: &str,
    now: OffsetDateTime,
) -> Result<Assignment, CatalogError> {
    let rows = tx
        .query(
            "SELECT coalesce(max(seq), 0) FROM channel_history WHERE bucket = $1 AND channel = $2",
            &[bucket.into(), channel.into()],
        )
        .await?;
    let seq = rows.first().map_or(0, |r| r.int(0)) + 1;
    let actor = format!("{}@{}", cat.actor().user, cat.actor().host);
    tx.execute(
        "INSERT INTO channel_history (bucket, channel, seq, fingerprint, previous_seq, action, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[bucket.into(), channel.into(), Val::Int(seq), (&v.fingerprint).into(), previous.into(), action.into(), (&actor).into(), crate::stored_time(now).into()],
    )
    .await?;
    tx.execute(
        "INSERT INTO channels (bucket, channel, seq, fingerprint) VALUES ($1, $2, $3, $4) ON CONFLICT (bucket, channel) DO UPDATE SET seq = excluded.seq, fingerprint = excluded.fingerprint",
        &[bucket.into(), channel.into(), Val::Int(seq), (&v.fingerprint).into()],
    )
    .await?;
    Ok(Assignment {
        bucket: bucket.to_string(),
        channel: channel.to_string(),
        seq,
        version: v.number.unwrap_or_default(),
        fingerprint: v.fingerprint.clone(),
        action: action.to_string(),
        actor,
        at: now,
        published: Vec::new(),
    })
}

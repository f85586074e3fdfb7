//! Publishing channels where deployment tools read image ids: a channel's image is written to a
//! parameter (for AMIs an SSM parameter of type `aws:ec2:image`, one per region, which
//! Terraform's `aws_ssm_parameter` data source and CloudFormation's
//! `AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>` read), and written again every time the
//! channel is promoted or rolled back. Every write is in the audit log.

use crate::audit::{append, Change};
use crate::{Catalog, CatalogError, Version};
use kiln_core::lifecycle::Publication;
use serde::Serialize;
use time::OffsetDateTime;

/// A channel's publication, as [`Catalog::publications`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelPublication {
    /// The channel.
    pub channel: String,
    /// The parameter's name.
    pub parameter: String,
    /// The regions it is written in; empty for every region of the image.
    pub regions: Vec<String>,
    /// Who added it.
    pub actor: String,
}

impl Catalog {
    /// Writes the image each of `v`'s artifacts holds to `p`, pushing the calls made onto
    /// `calls`.
    async fn write_publication(
        &self,
        v: &Version,
        p: &Publication,
        calls: &mut Vec<String>,
    ) -> Result<(), CatalogError> {
        let mut publishable = false;
        for a in &v.artifacts {
            let Some(l) = self.lifecycle_of(&a.builder_id) else {
                continue;
            };
            publishable = true;
            if let Some(r) = p.regions.iter().find(|r| !a.regions.contains(r)) {
                return Err(CatalogError::Refused(format!(
                    "cannot publish {} {} to {}: it has no image in {r} (its regions: {})",
                    v.bucket,
                    v.label(),
                    p.parameter,
                    a.regions.join(", ")
                )));
            }
            l.publish(&a.stored(), p, calls).await.map_err(|e| {
                CatalogError::Effect(format!(
                    "cannot publish {} {} to {}: {e}",
                    v.bucket,
                    v.label(),
                    p.parameter
                ))
            })?;
        }
        if !publishable {
            return Err(CatalogError::Refused(format!(
                "cannot publish {} {} to {}: none of its artifacts ({}) lives where a parameter store can point at it; only AMIs (amazon-ebs) can be published",
                v.bucket,
                v.label(),
                p.parameter,
                v.artifacts
                    .iter()
                    .map(|a| a.builder_type.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }

    /// Writes `v` to `p` on behalf of `channel`; a failure after some calls is audited.
    async fn write_audited(
        &self,
        channel: &str,
        v: &Version,
        p: &Publication,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, CatalogError> {
        let mut calls = Vec::new();
        if let Err(e) = self.write_publication(v, p, &mut calls).await {
            let detail = serde_json::json!({"channel": channel, "parameter": p.parameter});
            self.audit_failure("publish", v, detail, &calls, &e, now)
                .await?;
            return Err(e);
        }
        Ok(calls)
    }

    /// Publishes `channel` of `bucket` to `p`: writes the image it points at now, and keeps
    /// writing it there whenever the channel moves. Returns the calls made.
    ///
    /// # Errors
    /// When the channel does not exist, its image cannot be published (not an AMI, or not in a
    /// region `p` names), or the parameter store refused.
    pub async fn publish(
        &self,
        bucket: &str,
        channel: &str,
        p: &Publication,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, CatalogError> {
        if p.parameter.trim().is_empty() {
            return Err(CatalogError::Invalid(
                "the parameter name is empty: give one such as /images/web/production".into(),
            ));
        }
        let v = self.channel(bucket, channel).await?;
        let calls = self.write_audited(channel, &v, p, now).await?;
        let mut tx = self.write().await?;
        tx.execute(
            "DELETE FROM publications WHERE bucket = $1 AND channel = $2 AND parameter = $3",
            &[bucket.into(), channel.into(), (&p.parameter).into()],
        )
        .await?;
        tx.execute(
            "INSERT INTO publications (bucket, channel, parameter, regions, actor, added_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                bucket.into(),
                channel.into(),
                (&p.parameter).into(),
                serde_json::json!(p.regions).to_string().into(),
                format!("{}@{}", self.actor().user, self.actor().host).into(),
                crate::stored_time(now).into(),
            ],
        )
        .await?;
        append(
            tx.as_mut(),
            self,
            now,
            Change {
                action: "publish",
                bucket,
                version: v.label(),
                detail: serde_json::json!({"channel": channel, "parameter": p.parameter, "regions": p.regions, "calls": calls}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(calls)
    }

    /// Stops publishing `channel` of `bucket` to `parameter` (the parameter itself is left as
    /// it is).
    ///
    /// # Errors
    /// When the channel is not published there.
    pub async fn unpublish(
        &self,
        bucket: &str,
        channel: &str,
        parameter: &str,
        now: OffsetDateTime,
    ) -> Result<(), CatalogError> {
        let mut tx = self.write().await?;
        crate::require_bucket(tx.as_mut(), bucket).await?;
        let n = tx
            .execute(
                "DELETE FROM publications WHERE bucket = $1 AND channel = $2 AND parameter = $3",
                &[bucket.into(), channel.into(), parameter.into()],
            )
            .await?;
        if n == 0 {
            return Err(CatalogError::NotFound(format!(
                "channel {channel} of {bucket} is not published to {parameter}"
            )));
        }
        append(
            tx.as_mut(),
            self,
            now,
            Change {
                action: "unpublish",
                bucket,
                version: String::new(),
                detail: serde_json::json!({"channel": channel, "parameter": parameter}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The publications of `bucket`'s channels (of one channel when given), by channel and
    /// parameter.
    ///
    /// # Errors
    /// When the bucket does not exist.
    pub async fn publications(
        &self,
        bucket: &str,
        channel: Option<&str>,
    ) -> Result<Vec<ChannelPublication>, CatalogError> {
        let mut tx = self.read().await?;
        crate::require_bucket(tx.as_mut(), bucket).await?;
        let rows = match channel {
            Some(c) => tx
                .query(
                    "SELECT channel, parameter, regions, actor FROM publications WHERE bucket = $1 AND channel = $2 ORDER BY parameter",
                    &[bucket.into(), c.into()],
                )
                .await?,
            None => tx
                .query(
                    "SELECT channel, parameter, regions, actor FROM publications WHERE bucket = $1 ORDER BY channel, parameter",
                    &[bucket.into()],
                )
                .await?,
        };
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| ChannelPublication {
                channel: r.text(0),
                parameter: r.text(1),
                regions: serde_json::from_str(&r.text(2)).unwrap_or_default(),
                actor: r.text(3),
            })
            .collect())
    }

    /// After `channel` moved to `v`: writes `v` to each of the channel's publications and
    /// records the calls. Returns them.
    pub(crate) async fn republish(
        &self,
        channel: &str,
        v: &Version,
        now: OffsetDateTime,
    ) -> Result<Vec<String>, CatalogError> {
        let pubs = self.publications(&v.bucket, Some(channel)).await?;
        let mut all = Vec::new();
        for p in pubs {
            let publication = Publication {
                parameter: p.parameter.clone(),
                regions: p.regions.clone(),
            };
            let calls = self
                .write_audited(channel, v, &publication, now)
                .await
                .map_err(|e| {
                CatalogError::Effect(format!(
                    "channel {channel} of {} now points at {}, but {e}; fix that and run kiln images channel publish {} {channel} --ssm {} again",
                    v.bucket,
                    v.label(),
                    v.bucket,
                    p.parameter
                ))
            })?;
            let mut tx = self.write().await?;
            append(
                tx.as_mut(),
                self,
                now,
                Change {
                    action: "publish",
                    bucket: &v.bucket,
                    version: v.label(),
                    detail: serde_json::json!({"channel": channel, "parameter": p.parameter, "regions": p.regions, "calls": calls}),
                },
            )
            .await?;
            tx.commit().await?;
            all.extend(calls);
        }
        Ok(all)
    }
}

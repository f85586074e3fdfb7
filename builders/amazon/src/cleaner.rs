//! `kiln cleanup` for AWS: removes the instances, key pairs, security groups and unfinished AMIs
//! that a killed build recorded in its journal. Credentials come from the SDK's standard chain
//! (as in the catalog's lifecycle); the endpoint is the one the build used. Every removal counts
//! a resource that is already gone as removed, so a cleanup can be run again.

use crate::client::{code, describe, Access};
use async_trait::async_trait;
use aws_sdk_ec2::Client;
use kiln_core::journal::{Cleaner, CloudResource};
use std::time::Duration;

/// The provider name AWS resources carry in journals.
pub const PROVIDER: &str = "aws";

/// The tag a build's instance or AMI carries, while it is made, with the token it was recorded
/// by before it existed (taken off once it is recorded by its id).
pub const JOURNAL_TAG: &str = "kiln-journal";

/// How long after it was recorded a resource made by an in-flight call may take to be listed
/// (EC2's lists are eventually consistent): a cleanup that finds nothing sooner looks again
/// until then.
const SETTLE: u64 = 30;

/// `what` with the time it is recorded at: `what@<unix seconds>`.
#[must_use]
pub fn recorded_now(what: &str) -> String {
    format!("{what}@{}", unix_now())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Splits `what@<unix seconds>` (a record without a time has 0).
fn split_recorded(id: &str) -> (&str, u64) {
    match id.rsplit_once('@') {
        Some((w, t)) => (w, t.parse().unwrap_or(0)),
        None => (id, 0),
    }
}

/// Finds what a record made at `at` refers to: `find` again every 3 s while nothing is listed
/// and the record is younger than [`SETTLE`] (what an interrupted call made may not be listed
/// yet; after that, nothing was made).
async fn settled<F, Fut>(at: u64, find: F) -> Result<Vec<String>, String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<String>, String>>,
{
    loop {
        let found = find().await?;
        if !found.is_empty() || at == 0 || unix_now() >= at + SETTLE {
            return Ok(found);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

const POLL: Duration = Duration::from_secs(2);
/// About ten minutes of polling: an instance terminating, an AMI leaving `pending`.
const ATTEMPTS: u32 = 300;

/// The journal's cleaner for AWS.
#[derive(Debug, Default)]
pub struct AwsCleaner;

/// The journal entry for an AWS resource made through `access`.
#[must_use]
pub fn resource(access: &Access, region: &str, kind: &str, id: &str) -> CloudResource {
    CloudResource {
        provider: PROVIDER.into(),
        region: region.into(),
        kind: kind.into(),
        id: id.into(),
        endpoint: access.endpoint().map(String::from),
    }
}

#[async_trait]
impl Cleaner for AwsCleaner {
    async fn remove(&self, r: &CloudResource) -> Result<(), String> {
        let ec2 = Access::standard(r.endpoint.clone()).await.ec2(&r.region);
        match r.kind.as_str() {
            "instance" => terminate(&ec2, &r.id).await,
            "key-pair" => delete_key_pair(&ec2, &r.id).await,
            "security-group" => delete_security_group(&ec2, &r.id).await,
            "image" => delete_image(&ec2, &r.id).await,
            // Recorded before the creating call, found by what the build chose for them.
            "instance-tag" => {
                let (token, at) = split_recorded(&r.id);
                for id in settled(at, || tagged_instances(&ec2, token)).await? {
                    terminate(&ec2, &id).await?;
                }
                Ok(())
            }
            "security-group-name" => {
                let (vpc, name) = r.id.split_once('/').unwrap_or(("", &r.id));
                for id in groups_named(&ec2, vpc, name).await? {
                    delete_security_group(&ec2, &id).await?;
                }
                Ok(())
            }
            "image-name" => {
                let (what, at) = split_recorded(&r.id);
                let (token, name) = what.split_once('|').unwrap_or(("", what));
                for id in settled(at, || images_made_by(&ec2, name, token, at)).await? {
                    delete_image(&ec2, &id).await?;
                }
                Ok(())
            }
            other => Err(format!("unknown AWS resource kind {other:?}")),
        }
    }
}

/// The instances (not terminated) tagged with `token`.
async fn tagged_instances(ec2: &Client, token: &str) -> Result<Vec<String>, String> {
    let out = ec2
        .describe_instances()
        .filters(filter(format!("tag:{JOURNAL_TAG}"), token))
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated"))
        .filter_map(|i| i.instance_id().map(String::from))
        .collect())
}

/// An EC2 filter: `name` is `value`.
fn filter(name: impl Into<String>, value: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(name)
        .values(value)
        .build()
}

/// The security groups named `name` (in `vpc`, when given).
async fn groups_named(ec2: &Client, vpc: &str, name: &str) -> Result<Vec<String>, String> {
    let mut req = ec2
        .describe_security_groups()
        .filters(filter("group-name", name));
    if !vpc.is_empty() {
        req = req.filters(filter("vpc-id", vpc));
    }
    let out = req.send().await.map_err(|e| describe(&e))?;
    Ok(out
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(String::from))
        .collect())
}

/// This account's AMIs named `name` that the recorded call made: tagged with `token`, or
/// (the tag is not kept by every API: copies) untagged and created within a few minutes of the
/// record at `at`. A later build's AMI of the same name is never one of them.
async fn images_made_by(
    ec2: &Client,
    name: &str,
    token: &str,
    at: u64,
) -> Result<Vec<String>, String> {
    let out = ec2
        .describe_images()
        .owners("self")
        .include_disabled(true)
        .filters(filter("name", name))
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(out
        .images()
        .iter()
        .filter(|i| {
            let tag = i
                .tags()
                .iter()
                .find(|t| t.key() == Some(JOURNAL_TAG))
                .and_then(|t| t.value());
            made_by(tag, i.creation_date(), token, at)
        })
        .filter_map(|i| i.image_id().map(String::from))
        .collect())
}

/// Whether an AMI (its journal tag, its `CreationDate`) is the one a call recorded with `token`
/// at `at` made.
fn made_by(tag: Option<&str>, created: Option<&str>, token: &str, at: u64) -> bool {
    match tag {
        Some(t) => t == token,
        None => created
            .and_then(|d| {
                time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).ok()
            })
            .and_then(|d| u64::try_from(d.unix_timestamp()).ok())
            .is_some_and(|c| at > 0 && c + 120 >= at && c <= at + 180),
    }
}

/// Terminates an instance and waits until it is terminated.
///
/// # Errors
/// The API's error, or an instance still not terminated after about ten minutes.
pub async fn terminate(ec2: &Client, id: &str) -> Result<(), String> {
    match ec2.terminate_instances().instance_ids(id).send().await {
        Ok(_) => {}
        Err(e) if code(&e) == Some("InvalidInstanceID.NotFound") => return Ok(()),
        Err(e) => return Err(describe(&e)),
    }
    let mut state = String::new();
    for _ in 0..ATTEMPTS {
        match ec2.describe_instances().instance_ids(id).send().await {
            Ok(out) => {
                state = out
                    .reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .next()
                    .and_then(|i| i.state())
                    .and_then(|s| s.name())
                    .map_or("terminated".into(), |n| n.as_str().to_string());
                if state == "terminated" {
                    return Ok(());
                }
            }
            Err(e) if code(&e) == Some("InvalidInstanceID.NotFound") => return Ok(()),
            Err(e) => return Err(describe(&e)),
        }
        tokio::time::sleep(POLL).await;
    }
    Err(format!("instance {id} was still {state} after ten minutes"))
}

/// Deletes a key pair by name (EC2 answers success for a name it does not know).
///
/// # Errors
/// The API's error.
pub async fn delete_key_pair(ec2: &Client, name: &str) -> Result<(), String> {
    match ec2.delete_key_pair().key_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some("InvalidKeyPair.NotFound") => Ok(()),
        Err(e) => Err(describe(&e)),
    }
}

/// Deletes a security group, waiting while an instance that is terminating still uses it.
///
/// # Errors
/// The API's error, or a group still in use after about a minute.
pub async fn delete_security_group(ec2: &Client, id: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..30 {
        match ec2.delete_security_group().group_id(id).send().await {
            Ok(_) => return Ok(()),
            Err(e) if code(&e) == Some("InvalidGroup.NotFound") => return Ok(()),
            Err(e) if code(&e) == Some("DependencyViolation") => {
                last = describe(&e);
                tokio::time::sleep(POLL).await;
            }
            Err(e) => return Err(describe(&e)),
        }
    }
    Err(last)
}

/// Deregisters an AMI (waiting while it is still `pending`, so that its snapshots are known)
/// and deletes the snapshots behind it.
///
/// # Errors
/// The API's error.
pub async fn delete_image(ec2: &Client, ami: &str) -> Result<(), String> {
    let mut snapshots = Vec::new();
    for _ in 0..ATTEMPTS {
        let out = match ec2
            .describe_images()
            .image_ids(ami)
            .include_disabled(true)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if matches!(
                    code(&e),
                    Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable")
                ) =>
            {
                return Ok(());
            }
            Err(e) => return Err(describe(&e)),
        };
        let Some(img) = out.images().first() else {
            return Ok(());
        };
        snapshots = img
            .block_device_mappings()
            .iter()
            .filter_map(|b| b.ebs().and_then(|e| e.snapshot_id()).map(String::from))
            .collect();
        if img.state().is_none_or(|s| s.as_str() != "pending") {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    match ec2.deregister_image().image_id(ami).send().await {
        Ok(_) => {}
        Err(e)
            if matches!(
                code(&e),
                Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable")
            ) => {}
        Err(e) => return Err(describe(&e)),
    }
    for s in snapshots {
        match ec2.delete_snapshot().snapshot_id(&s).send().await {
            Ok(_) => {}
            Err(e) if code(&e) == Some("InvalidSnapshot.NotFound") => {}
            Err(e) => return Err(format!("DeleteSnapshot {s}: {}", describe(&e))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_recorded_call_made_is_removed() {
        // 2026-12-04T18:00:00Z
        let at = 1_796_407_200;
        assert!(made_by(Some("tok"), None, "tok", at));
        assert!(!made_by(
            Some("other"),
            Some("2026-12-04T18:00:01.000Z"),
            "tok",
            at
        ));
        assert!(made_by(None, Some("2026-12-04T18:00:05.000Z"), "tok", at));
        // A later build's AMI of the same name (its tag taken off) is not it.
        assert!(!made_by(None, Some("2026-12-04T18:10:00.000Z"), "tok", at));
        assert!(!made_by(None, Some("2026-12-04T17:50:00.000Z"), "tok", at));
        assert!(!made_by(None, None, "tok", at));
        assert_eq!(split_recorded("a|b@12"), ("a|b", 12));
        assert_eq!(split_recorded("plain"), ("plain", 0));
    }
}

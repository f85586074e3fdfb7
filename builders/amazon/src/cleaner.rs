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

/// The tag a build's instance carries with the token it was recorded by before it existed.
pub const JOURNAL_TAG: &str = "kiln-journal";

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
                for id in tagged_instances(&ec2, &r.id).await? {
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
                for id in images_named(&ec2, &r.id).await? {
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
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name(format!("tag:{JOURNAL_TAG}"))
                .values(token)
                .build(),
        )
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

/// The security groups named `name` (in `vpc`, when given).
async fn groups_named(ec2: &Client, vpc: &str, name: &str) -> Result<Vec<String>, String> {
    let f = |k: &str, v: &str| {
        aws_sdk_ec2::types::Filter::builder()
            .name(k)
            .values(v)
            .build()
    };
    let mut req = ec2
        .describe_security_groups()
        .filters(f("group-name", name));
    if !vpc.is_empty() {
        req = req.filters(f("vpc-id", vpc));
    }
    let out = req.send().await.map_err(|e| describe(&e))?;
    Ok(out
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(String::from))
        .collect())
}

/// This account's AMIs named `name` (unique per region).
async fn images_named(ec2: &Client, name: &str) -> Result<Vec<String>, String> {
    let out = ec2
        .describe_images()
        .owners("self")
        .include_disabled(true)
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("name")
                .values(name)
                .build(),
        )
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(out
        .images()
        .iter()
        .filter_map(|i| i.image_id().map(String::from))
        .collect())
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

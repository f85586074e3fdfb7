//! The catalog's lifecycle transitions for AMIs, in every region the artifact has: deprecation
//! (EnableImageDeprecation / DisableImageDeprecation), DisableImage / EnableImage, and deletion
//! (DeregisterImage, then DeleteSnapshot of each snapshot behind it). Credentials come from the
//! SDK's standard chain; the endpoint from the build's `custom_endpoint_ec2` when it had one.
//! Channels are published to SSM Parameter Store as `aws:ec2:image` parameters, one per region,
//! as EC2 Image Builder hands AMIs to Terraform and CloudFormation.

use crate::client::{code, describe, describe_for, Access};
use async_trait::async_trait;
use aws_sdk_ec2::types::ImageAttributeName;
use aws_sdk_ssm::types::ParameterType;
use kiln_core::lifecycle::{ImageLifecycle, Publication, StoredArtifact, Transition};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Lifecycle effects for `amazon-ebs` (and other EBS-backed) AMIs.
#[derive(Debug, Default, Clone, Copy)]
pub struct AmazonLifecycle;

fn amis(a: &StoredArtifact) -> BTreeMap<String, String> {
    let from_state = a
        .state
        .get("amis")
        .and_then(|m| serde_json::from_value::<BTreeMap<String, String>>(m.clone()).ok());
    from_state.unwrap_or_else(|| {
        a.id.split(',')
            .filter_map(|p| p.split_once(':'))
            .map(|(r, i)| (r.to_string(), i.to_string()))
            .collect()
    })
}

async fn access(a: &StoredArtifact) -> Access {
    let endpoint = a
        .state
        .get("endpoint")
        .and_then(serde_json::Value::as_str)
        .map(String::from);
    Access::standard(endpoint).await
}

#[async_trait]
impl ImageLifecycle for AmazonLifecycle {
    fn handles(&self, builder_id: &str) -> bool {
        builder_id == crate::BUILDER_ID
    }

    async fn launch(
        &self,
        ctx: &kiln_core::BuildContext,
        a: &StoredArtifact,
        opts: &kiln_core::launch::LaunchOptions,
    ) -> Option<Result<Box<dyn kiln_core::launch::Machine>, String>> {
        Some(crate::launch::launch(ctx, &access(a).await, &amis(a), opts).await)
    }

    async fn apply(
        &self,
        a: &StoredArtifact,
        t: &Transition,
        calls: &mut Vec<String>,
    ) -> Result<(), String> {
        let access = access(a).await;
        for (region, ami) in amis(a) {
            let ec2 = access.ec2(&region);
            let fail = |call: &str, e: String| format!("{call} {ami} in {region}: {e}");
            match t {
                Transition::Deprecate(at) => {
                    let when = aws_smithy_types::DateTime::from_secs(at.unix_timestamp());
                    ec2.enable_image_deprecation()
                        .image_id(&ami)
                        .deprecate_at(when)
                        .send()
                        .await
                        .map_err(|e| fail("EnableImageDeprecation", describe(&e)))?;
                    calls.push(format!(
                        "ec2:EnableImageDeprecation {region} {ami} DeprecateAt={}",
                        at.format(&time::format_description::well_known::Rfc3339)
                            .unwrap_or_default()
                    ));
                }
                Transition::Undeprecate => {
                    ec2.disable_image_deprecation()
                        .image_id(&ami)
                        .send()
                        .await
                        .map_err(|e| fail("DisableImageDeprecation", describe(&e)))?;
                    calls.push(format!("ec2:DisableImageDeprecation {region} {ami}"));
                }
                Transition::Disable => {
                    ec2.disable_image()
                        .image_id(&ami)
                        .send()
                        .await
                        .map_err(|e| fail("DisableImage", describe(&e)))?;
                    calls.push(format!("ec2:DisableImage {region} {ami}"));
                }
                Transition::Enable => {
                    ec2.enable_image()
                        .image_id(&ami)
                        .send()
                        .await
                        .map_err(|e| fail("EnableImage", describe(&e)))?;
                    calls.push(format!("ec2:EnableImage {region} {ami}"));
                }
                Transition::Delete => {
                    // The snapshots behind the image: from EC2 when it still knows it, else
                    // those the build recorded.
                    let mut snaps: Vec<String> = a
                        .state
                        .get("snapshots")
                        .and_then(|s| s.get(&region))
                        .and_then(|s| serde_json::from_value(s.clone()).ok())
                        .unwrap_or_default();
                    if let Ok(d) = ec2
                        .describe_images()
                        .image_ids(&ami)
                        .include_disabled(true)
                        .send()
                        .await
                    {
                        for img in d.images() {
                            for m in img.block_device_mappings() {
                                if let Some(s) = m.ebs().and_then(|e| e.snapshot_id()) {
                                    if !snaps.iter().any(|x| x == s) {
                                        snaps.push(s.to_string());
                                    }
                                }
                            }
                        }
                    }
                    match ec2.deregister_image().image_id(&ami).send().await {
                        Ok(_) => calls.push(format!("ec2:DeregisterImage {region} {ami}")),
                        // A deregistered image is Unavailable for a while, then NotFound.
                        Err(e)
                            if matches!(
                                code(&e),
                                Some("InvalidAMIID.NotFound" | "InvalidAMIID.Unavailable")
                            ) =>
                        {
                            calls
                                .push(format!("ec2:DeregisterImage {region} {ami} (already gone)"));
                        }
                        Err(e) => return Err(fail("DeregisterImage", describe(&e))),
                    }
                    for s in snaps {
                        match ec2.delete_snapshot().snapshot_id(&s).send().await {
                            Ok(_) => calls.push(format!("ec2:DeleteSnapshot {region} {s}")),
                            Err(e) if code(&e) == Some("InvalidSnapshot.NotFound") => {
                                calls.push(format!(
                                    "ec2:DeleteSnapshot {region} {s} (already gone)"
                                ));
                            }
                            Err(e) => {
                                return Err(format!(
                                    "DeleteSnapshot {s} in {region}: {}",
                                    describe(&e)
                                ))
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn last_launched(&self, a: &StoredArtifact) -> Result<Option<OffsetDateTime>, String> {
        let access = access(a).await;
        let mut newest = None;
        for (region, ami) in amis(a) {
            let out = access
                .ec2(&region)
                .describe_image_attribute()
                .image_id(&ami)
                .attribute(ImageAttributeName::LastLaunchedTime)
                .send()
                .await;
            let Ok(out) = out else { continue };
            let Some(t) = out.last_launched_time().and_then(|v| v.value()) else {
                continue;
            };
            if let Ok(t) = OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            {
                newest = newest.max(Some(t));
            }
        }
        Ok(newest)
    }

    async fn publish(
        &self,
        a: &StoredArtifact,
        p: &Publication,
        calls: &mut Vec<String>,
    ) -> Result<(), String> {
        let amis = amis(a);
        if let Some(r) = p.regions.iter().find(|r| !amis.contains_key(*r)) {
            return Err(format!(
                "it has no AMI in {r} (its regions: {})",
                amis.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        let access = access(a).await;
        for (region, ami) in amis {
            if !p.regions.is_empty() && !p.regions.contains(&region) {
                continue;
            }
            access
                .ssm(&region)
                .put_parameter()
                .name(&p.parameter)
                .value(&ami)
                .r#type(ParameterType::String)
                .data_type("aws:ec2:image")
                .overwrite(true)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "PutParameter {} in {region}: {}",
                        p.parameter,
                        describe_for("SSM", &e)
                    )
                })?;
            calls.push(format!("ssm:PutParameter {region} {}={ami}", p.parameter));
        }
        Ok(())
    }
}

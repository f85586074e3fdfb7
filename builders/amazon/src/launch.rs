//! A throwaway instance of an AMI, for post-image tests (the `test` post-processor, `kiln test
//! ami-...`, `kiln images test`). The launch imports a temporary ed25519 key pair, makes a
//! temporary security group admitting SSH unless groups are given, runs one instance and waits
//! for it to run; [`Machine::stop`] terminates it, waits for the termination, then deletes the
//! group and the key pair. Everything made is recorded as it is made, so a launch that fails or
//! is cancelled part way removes exactly that before it returns.

use crate::client::{code, describe, Access};
use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;
use kiln_core::launch::{LaunchOptions, Machine};
use kiln_core::BuildContext;
use std::collections::BTreeMap;
use std::time::Duration;

/// The instance type of a test machine when none is given.
pub const DEFAULT_INSTANCE_TYPE: &str = "t3.micro";

/// How often the instance's state is polled, and how many times.
const POLL: Duration = Duration::from_secs(2);
const POLL_ATTEMPTS: u32 = 300;

/// A running test instance and what was made for it.
#[derive(Debug)]
pub struct TestInstance {
    ec2: Client,
    region: String,
    instance: Option<String>,
    group: Option<String>,
    key_name: Option<String>,
    private_key: Option<String>,
    host: String,
    port: u16,
}

impl TestInstance {
    /// Removes what was made, newest first; returns what could not be removed.
    async fn remove(&mut self) -> Result<(), String> {
        let mut left = Vec::new();
        if let Some(id) = self.instance.take() {
            match self
                .ec2
                .terminate_instances()
                .instance_ids(&id)
                .send()
                .await
            {
                Ok(_) => {
                    if let Err(e) = self.wait_state(&id, "terminated", None).await {
                        left.push(format!("instance {id} may still be terminating: {e}"));
                    }
                }
                Err(e) => left.push(format!("instance {id}: {}", describe(&e))),
            }
        }
        if let Some(g) = self.group.take() {
            // The group stays in use for a moment after the instance terminated.
            let mut last = String::new();
            let mut gone = false;
            for _ in 0..30 {
                match self.ec2.delete_security_group().group_id(&g).send().await {
                    Ok(_) => {
                        gone = true;
                        break;
                    }
                    Err(e) if code(&e) == Some("DependencyViolation") => {
                        last = describe(&e);
                        tokio::time::sleep(POLL).await;
                    }
                    Err(e) => {
                        last = describe(&e);
                        break;
                    }
                }
            }
            if !gone {
                left.push(format!("security group {g}: {last}"));
            }
        }
        if let Some(k) = self.key_name.take() {
            if let Err(e) = self.ec2.delete_key_pair().key_name(&k).send().await {
                left.push(format!("key pair {k}: {}", describe(&e)));
            }
        }
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "delete by hand in {}: {}",
                self.region,
                left.join("; ")
            ))
        }
    }

    /// Polls the instance until it is in `want`; returns its description then. With `ctx`, a
    /// cancellation stops the wait.
    async fn wait_state(
        &self,
        id: &str,
        want: &str,
        ctx: Option<&BuildContext>,
    ) -> Result<aws_sdk_ec2::types::Instance, String> {
        let mut seen = String::from("not visible yet");
        for _ in 0..POLL_ATTEMPTS {
            match self.ec2.describe_instances().instance_ids(id).send().await {
                Ok(out) => {
                    if let Some(i) = out.reservations().iter().flat_map(|r| r.instances()).next() {
                        let state = i
                            .state()
                            .and_then(|s| s.name())
                            .map(|n| n.as_str().to_string())
                            .unwrap_or_default();
                        if state == want {
                            return Ok(i.clone());
                        }
                        if want == "running"
                            && matches!(state.as_str(), "terminated" | "shutting-down")
                        {
                            return Err(format!("instance {id} is {state}"));
                        }
                        seen = state;
                    }
                }
                Err(e) if code(&e) == Some("InvalidInstanceID.NotFound") => {}
                Err(e) => return Err(describe(&e)),
            }
            match ctx {
                Some(ctx) => tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    () = ctx.cancel.cancelled() => return Err("cancelled".into()),
                },
                None => tokio::time::sleep(POLL).await,
            }
        }
        Err(format!(
            "instance {id} was still {seen} after {} s",
            POLL.as_secs() * u64::from(POLL_ATTEMPTS)
        ))
    }
}

#[async_trait]
impl Machine for TestInstance {
    fn ssh_address(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }
    fn ssh_private_key(&self) -> Option<String> {
        self.private_key.clone()
    }
    fn describe(&self) -> String {
        format!(
            "instance {} in {} (SSH on {}:{})",
            self.instance.as_deref().unwrap_or("-"),
            self.region,
            self.host,
            self.port
        )
    }
    async fn stop(mut self: Box<Self>) -> Result<(), String> {
        self.remove().await
    }
}

fn tags(kind: ResourceType) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value("Kiln test").build())
        .build()
}

/// Launches a test instance of one of `amis` (`region -> ami-id`): the one in `o.region`, else
/// the first.
///
/// # Errors
/// The image is not in the region asked for, or a call failed (what was made is removed first).
pub async fn launch(
    ctx: &BuildContext,
    access: &Access,
    amis: &BTreeMap<String, String>,
    o: &LaunchOptions,
) -> Result<Box<dyn Machine>, String> {
    let (region, ami) = match &o.region {
        Some(r) => match amis.get(r) {
            Some(a) => (r.clone(), a.clone()),
            None => {
                return Err(format!(
                    "the image is not in {r}; it is in {}",
                    amis.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            }
        },
        None => match amis.iter().next() {
            Some((r, a)) => (r.clone(), a.clone()),
            None => return Err("the artifact names no AMI".into()),
        },
    };
    let mut t = TestInstance {
        ec2: access.ec2(&region),
        region,
        instance: None,
        group: None,
        key_name: None,
        private_key: None,
        host: String::new(),
        port: o.ssh_port.unwrap_or(22),
    };
    let made = tokio::select! {
        r = start(ctx, &mut t, &ami, o) => r,
        () = ctx.cancel.cancelled() => Err("cancelled".into()),
    };
    match made {
        Ok(()) => Ok(Box::new(t)),
        Err(e) => {
            let removed = t.remove().await;
            Err(match removed {
                Ok(()) => format!("launching a test instance of {ami}: {e}"),
                Err(left) => format!("launching a test instance of {ami}: {e}; {left}"),
            })
        }
    }
}

async fn start(
    ctx: &BuildContext,
    t: &mut TestInstance,
    ami: &str,
    o: &LaunchOptions,
) -> Result<(), String> {
    let suffix = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let name = format!("kiln_test_{suffix}");
    let comment = name.clone();
    let kp = tokio::task::spawn_blocking(move || {
        kiln_communicator::keys::generate("ed25519", None, &comment)
    })
    .await
    .map_err(|e| format!("generating the temporary key: {e}"))??;
    ctx.ui.add_secret(&kp.private_openssh);
    t.ec2
        .import_key_pair()
        .key_name(&name)
        .public_key_material(aws_smithy_types::Blob::new(kp.public_openssh.as_bytes()))
        .send()
        .await
        .map_err(|e| format!("ImportKeyPair: {}", describe(&e)))?;
    t.key_name = Some(name.clone());
    t.private_key = Some(kp.private_openssh);
    let mut groups = o.security_group_ids.clone();
    if groups.is_empty() {
        let vpc = match &o.subnet_id {
            Some(s) => t
                .ec2
                .describe_subnets()
                .subnet_ids(s)
                .send()
                .await
                .map_err(|e| format!("DescribeSubnets {s}: {}", describe(&e)))?
                .subnets()
                .first()
                .and_then(|s| s.vpc_id())
                .map(String::from),
            None => None,
        };
        let out = t
            .ec2
            .create_security_group()
            .group_name(&name)
            .description("Temporary group for a Kiln image test")
            .set_vpc_id(vpc)
            .send()
            .await
            .map_err(|e| format!("CreateSecurityGroup: {}", describe(&e)))?;
        let id = out.group_id().unwrap_or_default().to_string();
        t.group = Some(id.clone());
        let port = i32::from(t.port);
        t.ec2
            .authorize_security_group_ingress()
            .group_id(&id)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(port)
                    .to_port(port)
                    .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("AuthorizeSecurityGroupIngress {id}: {}", describe(&e)))?;
        groups.push(id);
    }
    let out = t
        .ec2
        .run_instances()
        .image_id(ami)
        .instance_type(
            o.instance_type
                .as_deref()
                .unwrap_or(DEFAULT_INSTANCE_TYPE)
                .into(),
        )
        .min_count(1)
        .max_count(1)
        .key_name(&name)
        .set_subnet_id(o.subnet_id.clone())
        .set_security_group_ids(Some(groups))
        .instance_initiated_shutdown_behavior("terminate".into())
        .tag_specifications(tags(ResourceType::Instance))
        .send()
        .await
        .map_err(|e| format!("RunInstances: {}", describe(&e)))?;
    let id = out
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .unwrap_or_default()
        .to_string();
    t.instance = Some(id.clone());
    ctx.ui.say(format!(
        "Launched test instance {id} in {}; waiting for it to run",
        t.region
    ));
    let i = t.wait_state(&id, "running", Some(ctx)).await?;
    t.host = match &o.ssh_host {
        Some(h) => h.clone(),
        None => [i.public_ip_address(), i.private_ip_address()]
            .into_iter()
            .flatten()
            .find(|a| !a.is_empty())
            .map(String::from)
            .ok_or_else(|| format!("instance {id} has no IP address"))?,
    };
    Ok(())
}

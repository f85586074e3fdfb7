//! The amazon-ebs steps, in Packer's order: prevalidate the AMI name, find the source AMI and
//! the subnet, make a temporary key pair and security group, run the instance, connect and
//! provision, stop it, (force-)deregister an old AMI, create the AMI, copy it to `ami_regions`,
//! set launch permissions, tag, deprecate. Each step's cleanup undoes what it made: the
//! instance is terminated, the temporary key pair and security group deleted, and AMIs of a
//! build that did not finish are deregistered with their snapshots.

use crate::client::{code, describe, Access};
use crate::config::{AmazonConfig, AmiFilter, BlockDevice};
use crate::poll::{wait, Poll};
use async_trait::async_trait;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, IamInstanceProfileSpecification, Image,
    InstanceMetadataOptionsRequest, InstanceNetworkInterfaceSpecification, IpPermission, IpRange,
    LaunchPermission, LaunchPermissionModifications, OperationType, PermissionGroup, Placement,
    ResourceType, Tag, TagSpecification,
};
use aws_sdk_ec2::Client;
use kiln_communicator::{ssh, SshConfig};
use kiln_core::step::{Outcome, Step};
use kiln_core::{BuildContext, BuildError, GeneratedData, Hook};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The source AMI, as `DescribeImages` reported it.
#[derive(Debug, Clone, Default)]
pub struct SourceImage {
    /// `ami-...`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The owner's account id.
    pub owner: String,
    /// The owner's alias (`amazon`, ...), or the id.
    pub owner_name: String,
    /// `CreationDate`.
    pub creation_date: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// A Windows image (EC2 takes no ed25519 key pairs for those).
    pub windows: bool,
}

/// The running instance's addresses.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    /// `i-...`.
    pub id: String,
    /// Addresses by `ssh_interface` name.
    pub public_ip: String,
    /// Private IP.
    pub private_ip: String,
    /// Public DNS name.
    pub public_dns: String,
    /// Private DNS name.
    pub private_dns: String,
}

/// What the steps share.
pub struct State<'h> {
    pub(crate) cfg: Arc<AmazonConfig>,
    pub(crate) ssh: SshConfig,
    pub(crate) hook: &'h dyn Hook,
    pub(crate) access: Access,
    pub(crate) region: String,
    pub(crate) ec2: Client,
    pub(crate) source: SourceImage,
    pub(crate) subnet_id: Option<String>,
    pub(crate) vpc_id: Option<String>,
    pub(crate) key_name: Option<String>,
    pub(crate) temp_key: Option<String>,
    pub(crate) sg_ids: Vec<String>,
    pub(crate) temp_sg: Option<String>,
    pub(crate) instance: Option<Instance>,
    /// AMIs made so far, by region.
    pub(crate) amis: BTreeMap<String, String>,
    /// Their snapshots, by region.
    pub(crate) snapshots: BTreeMap<String, Vec<String>>,
    /// The temporary AMI (and its snapshots) that copies are made from, with `encrypt_boot` or
    /// `skip_save_build_region`; removed once they are made.
    pub(crate) intermediary: Option<(String, Vec<String>)>,
    /// The temporary key pair's name and its key being generated.
    #[allow(clippy::type_complexity)]
    pub(crate) key_gen: Option<(
        String,
        tokio::task::JoinHandle<Result<kiln_communicator::keys::KeyPair, String>>,
    )>,
    /// The whole build finished: its AMIs are the artifact, not leftovers.
    pub(crate) done: bool,
    /// The cleanup journal's entries for what this build made, by `"kind id"`.
    pub(crate) journaled: BTreeMap<String, kiln_core::journal::Entry>,
}

impl<'h> State<'h> {
    pub(crate) fn new(
        cfg: Arc<AmazonConfig>,
        ssh: SshConfig,
        hook: &'h dyn Hook,
        access: Access,
        region: String,
    ) -> Self {
        let ec2 = access.ec2(&region);
        State {
            cfg,
            ssh,
            hook,
            access,
            region,
            ec2,
            source: SourceImage::default(),
            subnet_id: None,
            vpc_id: None,
            key_name: None,
            temp_key: None,
            sg_ids: Vec::new(),
            temp_sg: None,
            instance: None,
            amis: BTreeMap::new(),
            snapshots: BTreeMap::new(),
            intermediary: None,
            key_gen: None,
            done: false,
            journaled: BTreeMap::new(),
        }
    }

    /// Records a resource in the run's cleanup journal before (or as) it is made.
    fn journal(
        &mut self,
        ctx: &BuildContext,
        region: &str,
        kind: &str,
        id: &str,
    ) -> Result<(), BuildError> {
        let r = crate::cleaner::resource(&self.access, region, kind, id);
        let e = ctx.journal.record(kiln_core::journal::Resource::Cloud(r))?;
        self.journaled.insert(format!("{region} {kind} {id}"), e);
        Ok(())
    }

    /// Records a resource that exists already: a journal that cannot be written now must not
    /// fail the step before its state holds the resource (its cleanup would miss it).
    fn journal_created(&mut self, ctx: &BuildContext, region: &str, kind: &str, id: &str) {
        if let Err(e) = self.journal(ctx, region, kind, id) {
            ctx.ui.error(format!(
                "Could not record {kind} {id} in the cleanup journal ({e}); a crash now would leave it unrecorded."
            ));
        }
    }

    /// Marks a journaled resource removed (or kept as the artifact).
    fn unjournal(&mut self, kind: &str, id: &str) {
        let key = self
            .journaled
            .keys()
            .find(|k| {
                k.split_once(' ')
                    .is_some_and(|(_, rest)| rest == format!("{kind} {id}"))
            })
            .cloned();
        if let Some(e) = key.and_then(|k| self.journaled.remove(&k)) {
            e.done();
        }
    }

    /// As [`State::unjournal`], for the entry of `region` only.
    fn unjournal_in(&mut self, region: &str, kind: &str, id: &str) {
        if let Some(e) = self.journaled.remove(&format!("{region} {kind} {id}")) {
            e.done();
        }
    }

    /// Marks a resource recorded before its creating call done when the service refused the
    /// call (nothing was made); after a timeout or a lost connection it may exist, and stays
    /// recorded for `kiln cleanup`.
    fn unjournal_if_refused<E, R>(
        &mut self,
        region: &str,
        kind: &str,
        id: &str,
        e: &aws_sdk_ec2::error::SdkError<E, R>,
    ) where
        E: aws_sdk_ec2::error::ProvideErrorMetadata,
    {
        // A "duplicate" after the SDK's retry may mean that an earlier attempt made it.
        let duplicate = code(e).is_some_and(|c| c.ends_with(".Duplicate"));
        if matches!(e, aws_sdk_ec2::error::SdkError::ServiceError(_)) && !duplicate {
            self.unjournal_in(region, kind, id);
        }
    }

    /// Takes the journal's tag off a resource once it is recorded by its id (best effort: the
    /// resources end as Packer leaves them).
    async fn untag_journal(&self, ec2: &aws_sdk_ec2::Client, id: &str) {
        let _ = ec2
            .delete_tags()
            .resources(id)
            .tags(Tag::builder().key(crate::cleaner::JOURNAL_TAG).build())
            .send()
            .await;
    }

    /// Whether the build makes a temporary key pair: not with `ssh_keypair_name`,
    /// `ssh_private_key_file` or `ssh_password` (as Packer, also with `communicator = "none"`).
    fn needs_temporary_key(&self) -> bool {
        self.cfg
            .ssh_keypair_name
            .as_deref()
            .is_none_or(str::is_empty)
            && self.ssh.ssh_private_key_file.is_none()
            && self.ssh.ssh_password.is_none()
    }

    /// `temporary_key_pair_type`, `rsa` by default as in Packer. With `communicator = "none"`
    /// nothing ever uses the key, so unless the type is set or the source is a Windows image
    /// (which EC2 gives RSA keys only) it is an ed25519 key: generated in microseconds rather
    /// than the tens of milliseconds of an RSA key.
    fn temporary_key_type(&self) -> String {
        match &self.ssh.temporary_key_pair_type {
            Some(t) => t.clone(),
            None if self.ssh.communicator == "none" && !self.source.windows => "ed25519".into(),
            None => "rsa".into(),
        }
    }

    /// Starts generating the temporary key on a blocking thread (an RSA key takes tens of
    /// milliseconds), so that it overlaps the API calls made before the key pair step. `early`:
    /// at the start of the build, where with communicator none it waits for the key pair step
    /// (the key's type depends on the source image).
    pub(crate) fn start_key_generation(&mut self, early: bool) {
        if !self.needs_temporary_key() || (early && self.ssh.communicator == "none") {
            return;
        }
        let name = self
            .cfg
            .temporary_key_pair_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("packer_{}", uuid_like()));
        let kind = self.temporary_key_type();
        // EC2's CreateKeyPair, which Packer uses, makes 2048-bit RSA keys: the same size here
        // unless temporary_key_pair_bits says otherwise.
        let bits = self
            .ssh
            .temporary_key_pair_bits
            .or((kind == "rsa").then_some(2048));
        let comment = name.clone();
        let job = tokio::task::spawn_blocking(move || {
            kiln_communicator::keys::generate(&kind, bits, &comment)
        });
        self.key_gen = Some((name, job));
    }

    /// The values `{{ .SourceAMI }}`, `{{ .BuildRegion }}` ... stand for in names and tags.
    pub(crate) fn template_data(&self) -> BTreeMap<&'static str, String> {
        let mut d = BTreeMap::new();
        d.insert("BuildRegion", self.region.clone());
        d.insert("SourceAMI", self.source.id.clone());
        d.insert("SourceAMIName", self.source.name.clone());
        d.insert("SourceAMIOwner", self.source.owner.clone());
        d.insert("SourceAMIOwnerName", self.source.owner_name.clone());
        d.insert("SourceAMICreationDate", self.source.creation_date.clone());
        d
    }

    fn render(&self, text: &str) -> String {
        kiln_core::gotemplate::render(text, &self.template_data()).unwrap_or_else(|_| text.into())
    }

    fn tags(&self, tags: &BTreeMap<String, String>) -> Vec<Tag> {
        tags.iter()
            .map(|(k, v)| {
                Tag::builder()
                    .key(self.render(k))
                    .value(self.render(v))
                    .build()
            })
            .collect()
    }

    fn tag_spec(&self, kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(self.tags(tags)))
            .build()
    }
}

fn step_err<E, R>(what: &str, e: &aws_sdk_ec2::error::SdkError<E, R>) -> BuildError
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut m = format!("{what}: {}", describe(e));
    if matches!(
        code(e),
        Some(
            "AuthFailure"
                | "UnauthorizedOperation"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
        )
    ) {
        m.push_str(" (check the credentials: access_key/secret_key, profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)");
    }
    BuildError::step(m)
}

fn filters(f: &BTreeMap<String, String>) -> Vec<Filter> {
    f.iter()
        .map(|(k, v)| Filter::builder().name(k).values(v).build())
        .collect()
}

fn image_tags(i: &Image) -> BTreeMap<String, String> {
    i.tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Finds the one AMI `filter` names, as Packer's `source_ami_filter` and `amazon-ami` do.
///
/// # Errors
/// No match, several without `most_recent`, or the API's error.
pub async fn find_image(ec2: &Client, filter: &AmiFilter) -> Result<Image, String> {
    let mut req = ec2
        .describe_images()
        .set_filters(Some(filters(&filter.filters)))
        .set_owners(Some(filter.owners.clone()));
    if filter.include_deprecated {
        req = req.include_deprecated(true);
    }
    let out = req.send().await.map_err(|e| describe(&e))?;
    let mut images: Vec<Image> = out.images().to_vec();
    let shown = || {
        let mut s = filter
            .filters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>();
        s.push(format!("owners={}", filter.owners.join(",")));
        s.join(", ")
    };
    if images.is_empty() {
        return Err(format!("No AMI was found matching filters: {}", shown()));
    }
    if images.len() > 1 && !filter.most_recent {
        return Err(format!("Your query returned more than one result. Please try a more specific search, or set most_recent to true. Search filters: {}", shown()));
    }
    images.sort_by(|a, b| a.creation_date().cmp(&b.creation_date()));
    Ok(images.pop().expect("one image"))
}

fn block_devices(list: &[BlockDevice]) -> Vec<BlockDeviceMapping> {
    list.iter()
        .map(|b| {
            let mut m = BlockDeviceMapping::builder()
                .device_name(&b.device_name)
                .set_virtual_name(b.virtual_name.clone());
            if b.no_device {
                m = m.no_device("");
            } else if b.virtual_name.is_none() {
                m = m.ebs(
                    EbsBlockDevice::builder()
                        .set_volume_type(b.volume_type.as_deref().map(Into::into))
                        .set_volume_size(b.volume_size)
                        .set_iops(b.iops)
                        .set_throughput(b.throughput)
                        .delete_on_termination(b.delete_on_termination)
                        .set_encrypted(b.encrypted)
                        .set_kms_key_id(b.kms_key_id.clone())
                        .set_snapshot_id(b.snapshot_id.clone())
                        .build(),
                );
            }
            m.build()
        })
        .collect()
}

/// `ami_name` must not be taken yet (unless `force_deregister`).
pub struct PreValidate;

#[async_trait]
impl<'h> Step<State<'h>> for PreValidate {
    fn name(&self) -> &'static str {
        "prevalidate"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if s.cfg.force_deregister {
            ctx.ui
                .say("Force Deregister flag found, skipping prevalidating AMI Name");
            return Ok(());
        }
        if s.cfg.skip_create_ami {
            ctx.ui
                .say("skip_create_ami was set; not prevalidating AMI name");
            return Ok(());
        }
        let name = s.render(&s.cfg.ami_name);
        ctx.ui.say(format!("Prevalidating AMI Name: {name}"));
        let out = s
            .ec2
            .describe_images()
            .owners("self")
            .filters(Filter::builder().name("name").values(&name).build())
            .send()
            .await
            .map_err(|e| step_err("Error querying AMI", &e))?;
        if let Some(i) = out.images().first() {
            return Err(BuildError::step(format!(
                "Error: AMI Name: '{}' is used by an existing AMI: {}",
                i.name().unwrap_or_default(),
                i.image_id().unwrap_or_default()
            )));
        }
        Ok(())
    }
}

/// `source_ami` or `source_ami_filter` to one image.
pub struct SourceAmi;

#[async_trait]
impl<'h> Step<State<'h>> for SourceAmi {
    fn name(&self) -> &'static str {
        "source_ami"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let image = match s.cfg.source_ami.as_deref().filter(|a| !a.is_empty()) {
            Some(id) => {
                let out = s
                    .ec2
                    .describe_images()
                    .image_ids(id)
                    .send()
                    .await
                    .map_err(|e| step_err("Error querying source AMI", &e))?;
                out.images().first().cloned().ok_or_else(|| {
                    BuildError::step(format!("Error querying source AMI: {id} was not found"))
                })?
            }
            None => find_image(&s.ec2, &s.cfg.source_ami_filter)
                .await
                .map_err(|e| BuildError::step(format!("Error querying source AMI: {e}")))?,
        };
        let id = image.image_id().unwrap_or_default().to_string();
        ctx.ui.message(format!("Found Image ID: {id}"));
        // As Packer: an EBS-backed AMI can only be made from an EBS-backed source.
        if let Some(t) = image
            .root_device_type()
            .filter(|t| t.as_str() == "instance-store")
        {
            return Err(BuildError::step(format!(
                "The provided source AMI has an invalid root device type. Expected 'ebs', got '{}'.",
                t.as_str()
            )));
        }
        let owner = image.owner_id().unwrap_or_default().to_string();
        s.source = SourceImage {
            name: image.name().unwrap_or_default().to_string(),
            owner_name: image
                .image_owner_alias()
                .map_or_else(|| owner.clone(), String::from),
            owner,
            creation_date: image.creation_date().unwrap_or_default().to_string(),
            tags: image_tags(&image),
            windows: image.platform() == Some(&aws_sdk_ec2::types::PlatformValues::Windows),
            id,
        };
        Ok(())
    }
}

/// `subnet_id` / `subnet_filter` and the VPC they are in.
pub struct NetworkInfo;

#[async_trait]
impl<'h> Step<State<'h>> for NetworkInfo {
    fn name(&self) -> &'static str {
        "network"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        s.vpc_id = s.cfg.vpc_id.clone().filter(|v| !v.is_empty());
        s.subnet_id = s.cfg.subnet_id.clone().filter(|v| !v.is_empty());
        if s.subnet_id.is_none() && !s.cfg.subnet_filter.filters.is_empty() {
            let mut f = s.cfg.subnet_filter.filters.clone();
            if let Some(v) = &s.vpc_id {
                f.insert("vpc-id".into(), v.clone());
            }
            let out = s
                .ec2
                .describe_subnets()
                .set_filters(Some(filters(&f)))
                .send()
                .await
                .map_err(|e| step_err("Error querying subnets", &e))?;
            let mut subnets = out.subnets().to_vec();
            if subnets.is_empty() {
                return Err(BuildError::step(
                    "No Subnets found matching the subnet_filter",
                ));
            }
            if subnets.len() > 1 && !s.cfg.subnet_filter.most_free && !s.cfg.subnet_filter.random {
                return Err(BuildError::step(format!("Your filter matched {} Subnets. Please try a more specific search, or set random or most_free to true.", subnets.len())));
            }
            let chosen = if s.cfg.subnet_filter.most_free {
                subnets.sort_by_key(|n| n.available_ip_address_count().unwrap_or_default());
                subnets.pop()
            } else if s.cfg.subnet_filter.random {
                let i = usize::try_from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos()),
                )
                .unwrap_or(0)
                    % subnets.len();
                Some(subnets.swap_remove(i))
            } else {
                subnets.pop()
            }
            .expect("a subnet");
            let id = chosen.subnet_id().unwrap_or_default().to_string();
            ctx.ui.message(format!("Found Subnet ID: {id}"));
            s.subnet_id = Some(id);
            if s.vpc_id.is_none() {
                s.vpc_id = chosen.vpc_id().map(String::from);
            }
        } else if let (Some(sub), None) = (&s.subnet_id, &s.vpc_id) {
            let out = s
                .ec2
                .describe_subnets()
                .subnet_ids(sub)
                .send()
                .await
                .map_err(|e| step_err("Error querying subnet", &e))?;
            s.vpc_id = out
                .subnets()
                .first()
                .and_then(|n| n.vpc_id())
                .map(String::from);
        }
        Ok(())
    }
}

/// The key pair: `ssh_keypair_name`, or a temporary one made from a key generated here (the
/// private key never leaves this machine).
pub struct KeyPair;

#[async_trait]
impl<'h> Step<State<'h>> for KeyPair {
    fn name(&self) -> &'static str {
        "key_pair"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if let Some(k) = s.cfg.ssh_keypair_name.clone().filter(|k| !k.is_empty()) {
            ctx.ui.say(format!("Using existing key pair {k}"));
            s.key_name = Some(k);
            return Ok(());
        }
        // As Packer, a temporary key pair is made even with `communicator = "none"`.
        if s.ssh.ssh_private_key_file.is_some() {
            ctx.ui.say("Using existing SSH private key");
            return Ok(());
        }
        if s.ssh.ssh_password.is_some() {
            ctx.ui.say("Not using temporary keypair");
            return Ok(());
        }
        if s.key_gen.is_none() {
            s.start_key_generation(false);
        }
        let Some((name, job)) = s.key_gen.take() else {
            return Ok(());
        };
        ctx.ui.say(format!("Creating temporary keypair: {name}"));
        let kp = job
            .await
            .map_err(|e| BuildError::step(format!("generating the temporary key: {e}")))?
            .map_err(BuildError::step)?;
        ctx.ui.add_secret(&kp.private_openssh);
        // Named here, so recorded before it exists.
        let region = s.region.clone();
        s.journal(ctx, &region, "key-pair", &name)?;
        let mut req = s
            .ec2
            .import_key_pair()
            .key_name(&name)
            .public_key_material(aws_smithy_types::Blob::new(kp.public_openssh.as_bytes()));
        if !s.cfg.run_tags.is_empty() {
            req = req.tag_specifications(s.tag_spec(ResourceType::KeyPair, &s.cfg.run_tags));
        }
        if let Err(e) = req.send().await {
            s.unjournal("key-pair", &name);
            return Err(step_err("Error creating temporary keypair", &e));
        }
        s.temp_key = Some(name.clone());
        s.key_name = Some(name);
        s.ssh.private_key = Some(kp.private_openssh);
        Ok(())
    }
    async fn cleanup(&self, ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        if let Some(name) = s.temp_key.take() {
            ctx.ui.say("Deleting temporary keypair...");
            match s.ec2.delete_key_pair().key_name(&name).send().await {
                Ok(_) => s.unjournal("key-pair", &name),
                Err(e) => ctx.ui.error(format!(
                    "Error cleaning up keypair. Please delete the key manually: {name}: {}",
                    describe(&e)
                )),
            }
        }
    }
}

/// A time-ordered unique suffix, as Packer's `packer_<uuid>` names use.
fn uuid_like() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let n = now.as_nanos();
    let pid = u128::from(std::process::id());
    let x = format!("{:032x}", n ^ (pid << 96));
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// `n` random letters and digits, for the temporary AMI's name (as Packer's).
fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ (u64::from(std::process::id()) << 32);
    (0..n)
        .map(|_| {
            // splitmix64
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            char::from(ALPHABET[(z % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

/// `security_group_ids`, or a temporary group open on the SSH port to
/// `temporary_security_group_source_cidrs`.
pub struct SecurityGroup;

#[async_trait]
impl<'h> Step<State<'h>> for SecurityGroup {
    fn name(&self) -> &'static str {
        "security_group"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if !s.cfg.security_group_ids.is_empty() {
            ctx.ui.message(format!(
                "Using Security Group(s): {}",
                s.cfg.security_group_ids.join(", ")
            ));
            s.sg_ids = s.cfg.security_group_ids.clone();
            return Ok(());
        }
        let name = format!("packer_{}", uuid_like());
        ctx.ui.say(format!(
            "Creating temporary security group for this instance: {name}"
        ));
        let mut req = s
            .ec2
            .create_security_group()
            .group_name(&name)
            .description("Temporary group for Packer")
            .set_vpc_id(s.vpc_id.clone());
        if !s.cfg.run_tags.is_empty() {
            req = req.tag_specifications(s.tag_spec(ResourceType::SecurityGroup, &s.cfg.run_tags));
        }
        // Recorded by name before it exists: a kill while the call is in flight leaves a group
        // that `kiln cleanup` finds by that name.
        let region = s.region.clone();
        let by_name = format!("{}/{name}", s.vpc_id.clone().unwrap_or_default());
        s.journal(ctx, &region, "security-group-name", &by_name)?;
        let out = req.send().await.map_err(|e| {
            s.unjournal_if_refused(&region, "security-group-name", &by_name, &e);
            step_err("Error creating temporary security group", &e)
        })?;
        let id = out.group_id().unwrap_or_default().to_string();
        s.journal_created(ctx, &region, "security-group", &id);
        s.unjournal_in(&region, "security-group-name", &by_name);
        s.temp_sg = Some(id.clone());
        s.sg_ids = vec![id.clone()];
        if s.ssh.communicator != "none" {
            let port = i32::from(s.ssh.ssh_port);
            let ranges: Vec<IpRange> = s
                .cfg
                .temporary_security_group_source_cidrs
                .iter()
                .map(|c| IpRange::builder().cidr_ip(c).build())
                .collect();
            ctx.ui.say(format!(
                "Authorizing access to port {port} from {} in the temporary security groups...",
                s.cfg.temporary_security_group_source_cidrs.join(", ")
            ));
            s.ec2
                .authorize_security_group_ingress()
                .group_id(&id)
                .ip_permissions(
                    IpPermission::builder()
                        .ip_protocol("tcp")
                        .from_port(port)
                        .to_port(port)
                        .set_ip_ranges(Some(ranges))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| step_err("Error authorizing temporary security group", &e))?;
        }
        Ok(())
    }
    async fn cleanup(&self, ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        let Some(id) = s.temp_sg.take() else {
            return;
        };
        ctx.ui.say("Deleting temporary security group...");
        // The group may still be in use for a moment after the instance terminated.
        let mut last = String::new();
        for _ in 0..30 {
            match s.ec2.delete_security_group().group_id(&id).send().await {
                Ok(_) => {
                    s.unjournal("security-group", &id);
                    return;
                }
                Err(e) if code(&e) == Some("DependencyViolation") => {
                    last = describe(&e);
                    tokio::time::sleep(s.cfg.poll_delay()).await;
                }
                Err(e) => {
                    last = describe(&e);
                    break;
                }
            }
        }
        ctx.ui.error(format!(
            "Error cleaning up security group. Please delete the group manually: {id}: {last}"
        ));
    }
}

/// Launches the instance and waits for it to run.
pub struct RunInstance;

async fn describe_instance(
    ec2: &Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::Instance>, String> {
    match ec2.describe_instances().instance_ids(id).send().await {
        Ok(out) => Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .cloned()),
        // Eventual consistency: a new instance may not be visible yet.
        Err(e) if code(&e) == Some("InvalidInstanceID.NotFound") => Ok(None),
        Err(e) => Err(describe(&e)),
    }
}

/// Polls the instance until its state is `want`; returns it as last described.
async fn wait_instance(
    ctx: &BuildContext,
    s: &State<'_>,
    id: &str,
    want: &str,
) -> Result<aws_sdk_ec2::types::Instance, BuildError> {
    let what = format!("instance {id} to be {want}");
    wait(
        ctx,
        &what,
        s.cfg.poll_delay(),
        s.cfg.poll_attempts(),
        || async {
            match describe_instance(&s.ec2, id).await {
                Ok(Some(i)) => {
                    let state = i
                        .state()
                        .and_then(|st| st.name())
                        .map(|n| n.as_str().to_string())
                        .unwrap_or_default();
                    if state == want {
                        Poll::Done(i)
                    } else if want == "running"
                        && matches!(state.as_str(), "terminated" | "shutting-down")
                    {
                        Poll::Failed(format!("the instance is {state}"))
                    } else {
                        Poll::Pending(state)
                    }
                }
                Ok(None) => Poll::Pending("not visible yet".into()),
                Err(e) => Poll::Failed(e),
            }
        },
    )
    .await
}

#[async_trait]
impl<'h> Step<State<'h>> for RunInstance {
    fn name(&self) -> &'static str {
        "run_instance"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        ctx.ui.say("Launching a source AWS instance...");
        let c = s.cfg.clone();
        let user_data = match (&c.user_data, &c.user_data_file) {
            (Some(d), _) => Some(d.clone()),
            (None, Some(f)) => Some(
                std::fs::read_to_string(f)
                    .map_err(|e| BuildError::io(format!("reading user_data_file {f}"), e))?,
            ),
            _ => None,
        };
        let mut run_tags = c.run_tags.clone();
        run_tags
            .entry("Name".into())
            .or_insert_with(|| "Packer Builder".into());
        // Recorded by a tag of its own before it exists: a kill while the call is in flight
        // leaves an instance that `kiln cleanup` finds by that tag.
        let token = uuid_like();
        run_tags.insert(crate::cleaner::JOURNAL_TAG.into(), token.clone());
        let region = s.region.clone();
        let by_tag = crate::cleaner::recorded_now(&token);
        s.journal(ctx, &region, "instance-tag", &by_tag)?;
        let mut req = s
            .ec2
            .run_instances()
            .image_id(&s.source.id)
            .instance_type(c.instance_type.as_str().into())
            .min_count(1)
            .max_count(1)
            .set_key_name(s.key_name.clone())
            .set_user_data(
                user_data
                    .map(|d| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d)),
            )
            .instance_initiated_shutdown_behavior(
                c.shutdown_behavior.as_deref().unwrap_or("stop").into(),
            )
            .tag_specifications(s.tag_spec(ResourceType::Instance, &run_tags));
        if !c.run_volume_tags.is_empty() {
            req = req.tag_specifications(s.tag_spec(ResourceType::Volume, &c.run_volume_tags));
        }
        if c.ebs_optimized {
            req = req.ebs_optimized(true);
        }
        if c.metadata_options.is_set() {
            let md = &c.metadata_options;
            let given = |v: &Option<String>, default: &str| {
                v.as_deref()
                    .filter(|v| !v.is_empty())
                    .unwrap_or(default)
                    .to_string()
            };
            let mut o = InstanceMetadataOptionsRequest::builder()
                .http_endpoint(given(&md.http_endpoint, "enabled").as_str().into())
                .http_tokens(given(&md.http_tokens, "optional").as_str().into())
                .http_put_response_hop_limit(md.http_put_response_hop_limit.unwrap_or(1));
            if let Some(t) = md
                .instance_metadata_tags
                .as_deref()
                .filter(|t| !t.is_empty())
            {
                o = o.instance_metadata_tags(t.into());
            }
            req = req.metadata_options(o.build());
        }
        if let Some(p) = c.iam_instance_profile.as_deref().filter(|p| !p.is_empty()) {
            req = req
                .iam_instance_profile(IamInstanceProfileSpecification::builder().name(p).build());
        }
        if !c.launch_block_device_mappings.is_empty() {
            req =
                req.set_block_device_mappings(Some(block_devices(&c.launch_block_device_mappings)));
        }
        if let Some(az) = c.availability_zone.as_deref().filter(|a| !a.is_empty()) {
            req = req.placement(Placement::builder().availability_zone(az).build());
        }
        if let Some(public) = c.associate_public_ip_address {
            let mut ni = InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .associate_public_ip_address(public)
                .delete_on_termination(true)
                .set_subnet_id(s.subnet_id.clone());
            for g in &s.sg_ids {
                ni = ni.groups(g);
            }
            req = req.network_interfaces(ni.build());
        } else {
            req = req
                .set_subnet_id(s.subnet_id.clone())
                .set_security_group_ids(Some(s.sg_ids.clone()));
        }
        let out = req.send().await.map_err(|e| {
            s.unjournal_if_refused(&region, "instance-tag", &by_tag, &e);
            step_err("Error launching source instance", &e)
        })?;
        let id = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .unwrap_or_default()
            .to_string();
        s.journal_created(ctx, &region, "instance", &id);
        s.unjournal_in(&region, "instance-tag", &by_tag);
        let ec2 = s.ec2.clone();
        s.untag_journal(&ec2, &id).await;
        ctx.ui.message(format!("Instance ID: {id}"));
        s.instance = Some(Instance {
            id: id.clone(),
            ..Instance::default()
        });
        ctx.ui
            .say(format!("Waiting for instance ({id}) to become ready..."));
        let i = wait_instance(ctx, s, &id, "running").await?;
        let inst = Instance {
            id,
            public_ip: i.public_ip_address().unwrap_or_default().into(),
            private_ip: i.private_ip_address().unwrap_or_default().into(),
            public_dns: i.public_dns_name().unwrap_or_default().into(),
            private_dns: i.private_dns_name().unwrap_or_default().into(),
        };
        if !inst.public_dns.is_empty() {
            ctx.ui.message(format!("Public DNS: {}", inst.public_dns));
        }
        if !inst.public_ip.is_empty() {
            ctx.ui.message(format!("Public IP: {}", inst.public_ip));
        }
        ctx.ui.message(format!("Private IP: {}", inst.private_ip));
        s.instance = Some(inst);
        Ok(())
    }
    async fn cleanup(&self, ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        let Some(inst) = s.instance.take() else {
            return;
        };
        ctx.ui.say("Terminating the source AWS instance...");
        if let Err(e) = s
            .ec2
            .terminate_instances()
            .instance_ids(&inst.id)
            .send()
            .await
        {
            ctx.ui.error(format!(
                "Error terminating instance, may still be around: {}: {}",
                inst.id,
                describe(&e)
            ));
            return;
        }
        // Cleanup runs after Ctrl-C too: wait without the build's cancellation.
        let quiet = BuildContext {
            cancel: tokio_util::sync::CancellationToken::new(),
            ..ctx.clone()
        };
        match wait_instance(&quiet, s, &inst.id, "terminated").await {
            Ok(_) => s.unjournal("instance", &inst.id),
            Err(e) => ctx.ui.error(format!(
                "Error waiting for instance {} to terminate: {e}",
                inst.id
            )),
        }
    }
}

/// Connects (the instance's address by `ssh_interface`, or `ssh_host`) and runs the provisioners.
pub struct Provision;

#[async_trait]
impl<'h> Step<State<'h>> for Provision {
    fn name(&self) -> &'static str {
        "provision"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let inst = s.instance.clone().unwrap_or_default();
        let mut data = GeneratedData::new();
        data.insert("PackerRunUUID".into(), ctx.info.run_uuid.clone());
        data.insert("ID".into(), inst.id.clone());
        for (k, v) in s.template_data() {
            data.insert(k.into(), v);
        }
        if s.ssh.communicator == "none" {
            data.insert("ConnType".into(), "none".into());
            return s
                .hook
                .provision(
                    ctx,
                    Arc::new(kiln_communicator::none::NoneCommunicator),
                    &data,
                )
                .await;
        }
        let mut ssh = s.ssh.clone();
        if ssh.ssh_host.is_empty() {
            ssh.ssh_host = match s.cfg.ssh_interface.as_deref().unwrap_or_default() {
                "private_ip" => inst.private_ip.clone(),
                "public_dns" => inst.public_dns.clone(),
                "private_dns" => inst.private_dns.clone(),
                "public_ip" => inst.public_ip.clone(),
                // Packer's default: the public address when there is one, else the private.
                _ => [&inst.public_dns, &inst.public_ip, &inst.private_ip]
                    .into_iter()
                    .find(|a| !a.is_empty())
                    .cloned()
                    .unwrap_or_default(),
            };
        }
        if ssh.ssh_host.is_empty() {
            return Err(BuildError::step("The instance has no address to connect to for this ssh_interface; set ssh_interface or ssh_host"));
        }
        ctx.ui.say(format!(
            "Using SSH communicator to connect: {}",
            ssh.ssh_host
        ));
        let comm = ssh::connect(ctx, &ssh)
            .await
            .map_err(|e| BuildError::step(e.to_string()))?;
        ssh.insert_generated(&mut data);
        s.hook.provision(ctx, Arc::new(comm), &data).await
    }
}

/// Stops the instance (unless `disable_stop_instance`) and sets ENA / SR-IOV support.
pub struct StopInstance;

#[async_trait]
impl<'h> Step<State<'h>> for StopInstance {
    fn name(&self) -> &'static str {
        "stop"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let id = s
            .instance
            .as_ref()
            .map(|i| i.id.clone())
            .unwrap_or_default();
        if s.cfg.disable_stop_instance {
            ctx.ui
                .say("Automatic instance stop disabled. Please stop instance manually.");
        } else {
            ctx.ui.say("Stopping the source instance...");
            s.ec2
                .stop_instances()
                .instance_ids(&id)
                .send()
                .await
                .map_err(|e| step_err("Error stopping instance", &e))?;
            ctx.ui.say("Waiting for the instance to stop...");
        }
        wait_instance(ctx, s, &id, "stopped").await?;
        if let Some(ena) = s.cfg.ena_support {
            ctx.ui.say(format!(
                "{} enhanced networking (ENA)...",
                if ena { "Enabling" } else { "Disabling" }
            ));
            s.ec2
                .modify_instance_attribute()
                .instance_id(&id)
                .ena_support(
                    aws_sdk_ec2::types::AttributeBooleanValue::builder()
                        .value(ena)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| step_err("Error setting ena_support", &e))?;
        }
        if s.cfg.sriov_support {
            ctx.ui.say("Enabling Enhanced Networking (SR-IOV)...");
            s.ec2
                .modify_instance_attribute()
                .instance_id(&id)
                .sriov_net_support(
                    aws_sdk_ec2::types::AttributeValue::builder()
                        .value("simple")
                        .build(),
                )
                .send()
                .await
                .map_err(|e| step_err("Error setting sriov_support", &e))?;
        }
        Ok(())
    }
}

/// The AMIs named `ami_name` that this account owns in `ec2`'s region.
async fn images_named(ec2: &Client, name: &str) -> Result<Vec<Image>, String> {
    let out = ec2
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("name").values(name).build())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(out.images().to_vec())
}

fn snapshots_of(i: &Image) -> Vec<String> {
    i.block_device_mappings()
        .iter()
        .filter_map(|b| b.ebs().and_then(|e| e.snapshot_id()).map(String::from))
        .collect()
}

/// Deregisters an AMI and deletes its snapshots.
async fn remove_image(ec2: &Client, ami: &str, snapshots: &[String]) -> Result<(), String> {
    ec2.deregister_image()
        .image_id(ami)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    for snap in snapshots {
        ec2.delete_snapshot()
            .snapshot_id(snap)
            .send()
            .await
            .map_err(|e| describe(&e))?;
    }
    Ok(())
}

/// `force_deregister`: removes AMIs already named `ami_name` in every target region (and their
/// snapshots with `force_delete_snapshot`).
pub struct DeregisterOld;

#[async_trait]
impl<'h> Step<State<'h>> for DeregisterOld {
    fn name(&self) -> &'static str {
        "deregister"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if !s.cfg.force_deregister || s.cfg.skip_create_ami {
            return Ok(());
        }
        let name = s.render(&s.cfg.ami_name);
        let mut regions = vec![s.region.clone()];
        regions.extend(s.cfg.copy_regions(&s.region));
        regions.dedup();
        for r in regions {
            let ec2 = s.access.ec2(&r);
            let images = images_named(&ec2, &name)
                .await
                .map_err(|e| BuildError::step(format!("Error describing AMI: {e}")))?;
            for i in images {
                let id = i.image_id().unwrap_or_default().to_string();
                let snaps = if s.cfg.force_delete_snapshot {
                    snapshots_of(&i)
                } else {
                    Vec::new()
                };
                remove_image(&ec2, &id, &snaps).await.map_err(|e| {
                    BuildError::step(format!("Error deregistering existing AMI: {e}"))
                })?;
                ctx.ui.say(format!("Deregistered AMI id: {id}"));
                for snap in snaps {
                    ctx.ui.say(format!("Deleted snapshot: {snap}"));
                }
            }
        }
        Ok(())
    }
}

/// The state of an AMI in `ec2`'s region (None while it is not visible yet).
async fn image_state(ec2: &Client, ami: &str) -> Result<Option<Image>, String> {
    match ec2.describe_images().image_ids(ami).send().await {
        Ok(out) => Ok(out.images().first().cloned()),
        Err(e) if code(&e) == Some("InvalidAMIID.NotFound") => Ok(None),
        Err(e) => Err(describe(&e)),
    }
}

/// Polls an AMI until it is `available`; returns its snapshots.
async fn wait_image(
    ctx: &BuildContext,
    s: &State<'_>,
    ec2: &Client,
    region: &str,
    ami: &str,
) -> Result<Vec<String>, BuildError> {
    let what = format!("AMI {ami} in {region}");
    wait(
        ctx,
        &what,
        s.cfg.poll_delay(),
        s.cfg.poll_attempts(),
        || async {
            match image_state(ec2, ami).await {
                Ok(None) => Poll::Pending("not visible yet".into()),
                Ok(Some(i)) => {
                    let state = i
                        .state()
                        .map(|st| st.as_str().to_string())
                        .unwrap_or_default();
                    match state.as_str() {
                        "available" => Poll::Done(snapshots_of(&i)),
                        "failed" | "error" | "invalid" | "deregistered" => Poll::Failed(format!(
                            "the AMI is {state}{}",
                            i.state_reason()
                                .and_then(|r| r.message())
                                .map(|m| format!(": {m}"))
                                .unwrap_or_default()
                        )),
                        _ => Poll::Pending(state),
                    }
                }
                Err(e) => Poll::Failed(e),
            }
        },
    )
    .await
}

/// Creates the AMI from the stopped instance and waits for it.
pub struct CreateAmi;

#[async_trait]
impl<'h> Step<State<'h>> for CreateAmi {
    fn name(&self) -> &'static str {
        "create_ami"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if s.cfg.skip_create_ami {
            ctx.ui.say("Skipping AMI creation...");
            return Ok(());
        }
        let id = s
            .instance
            .as_ref()
            .map(|i| i.id.clone())
            .unwrap_or_default();
        // A temporary AMI gets a random name: the kept copies take `ami_name`.
        let name = if s.cfg.intermediary_image() {
            random_alnum(7)
        } else {
            s.render(&s.cfg.ami_name)
        };
        ctx.ui
            .say(format!("Creating AMI {name} from instance {id}"));
        let mut req = s
            .ec2
            .create_image()
            .instance_id(&id)
            .name(&name)
            .set_description(s.cfg.ami_description.as_deref().map(|d| s.render(d)));
        if !s.cfg.ami_block_device_mappings.is_empty() {
            req = req
                .set_block_device_mappings(Some(block_devices(&s.cfg.ami_block_device_mappings)));
        }
        // Recorded by name before it exists (a name is unique per region): a kill while the
        // call is in flight leaves an AMI that `kiln cleanup` finds by that name.
        let region = s.region.clone();
        let token = uuid_like();
        req = req.tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Image)
                .tags(
                    Tag::builder()
                        .key(crate::cleaner::JOURNAL_TAG)
                        .value(&token)
                        .build(),
                )
                .build(),
        );
        let by_name = crate::cleaner::recorded_now(&format!("{token}|{name}"));
        s.journal(ctx, &region, "image-name", &by_name)?;
        let out = req.send().await.map_err(|e| {
            s.unjournal_if_refused(&region, "image-name", &by_name, &e);
            step_err("Error creating AMI", &e)
        })?;
        let ami = out.image_id().unwrap_or_default().to_string();
        s.journal_created(ctx, &region, "image", &ami);
        s.unjournal_in(&region, "image-name", &by_name);
        let ec2 = s.ec2.clone();
        s.untag_journal(&ec2, &ami).await;
        ctx.ui.message(format!("AMI: {ami}"));
        if s.cfg.intermediary_image() {
            s.intermediary = Some((ami.clone(), Vec::new()));
        } else {
            s.amis.insert(s.region.clone(), ami.clone());
        }
        ctx.ui.say("Waiting for AMI to become ready...");
        let ec2 = s.ec2.clone();
        let region = s.region.clone();
        let snaps = wait_image(ctx, s, &ec2, &region, &ami).await?;
        match &mut s.intermediary {
            Some((_, v)) => *v = snaps,
            None => {
                s.snapshots.insert(region, snaps);
            }
        }
        Ok(())
    }
    async fn cleanup(&self, ctx: &BuildContext, s: &mut State<'h>, _o: Outcome) {
        if let Some((ami, snaps)) = s.intermediary.take() {
            ctx.ui.say(format!(
                "Deregistering the temporary AMI {ami} and deleting its snapshots..."
            ));
            match remove_image(&s.ec2, &ami, &snaps).await {
                Ok(()) => s.unjournal("image", &ami),
                Err(e) => ctx.ui.error(format!(
                    "Error deregistering AMI {ami} in {}, please delete it manually: {e}",
                    s.region
                )),
            }
        }
        if s.done {
            return;
        }
        for (region, ami) in std::mem::take(&mut s.amis) {
            ctx.ui.say(format!("Deregistering the AMI and deleting associated snapshots because of cancellation, or error... ({region}: {ami})"));
            let snaps = s.snapshots.remove(&region).unwrap_or_default();
            let ec2 = s.access.ec2(&region);
            // A copy may still be pending: its snapshots show once it is described again.
            let snaps = match ec2.describe_images().image_ids(&ami).send().await {
                Ok(out) => out
                    .images()
                    .first()
                    .map(snapshots_of)
                    .filter(|v| !v.is_empty())
                    .unwrap_or(snaps),
                Err(_) => snaps,
            };
            match remove_image(&ec2, &ami, &snaps).await {
                Ok(()) => s.unjournal("image", &ami),
                Err(e) => ctx.ui.error(format!(
                    "Error deregistering AMI {ami} in {region}, please delete it manually: {e}"
                )),
            }
        }
    }
}

/// Copies the AMI to `ami_regions`, in parallel, and waits for every copy.
pub struct CopyToRegions;

#[async_trait]
impl<'h> Step<State<'h>> for CopyToRegions {
    fn name(&self) -> &'static str {
        "region_copy"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let regions = s.cfg.copy_regions(&s.region);
        let source = match &s.intermediary {
            Some((ami, _)) => ami.clone(),
            None => match s.amis.get(&s.region) {
                Some(ami) => ami.clone(),
                None => return Ok(()),
            },
        };
        if regions.is_empty() {
            return Ok(());
        }
        ctx.ui.say(format!(
            "Copying/Encrypting AMI ({source}) to other regions..."
        ));
        let name = s.render(&s.cfg.ami_name);
        let description = s.cfg.ami_description.as_deref().map(|d| s.render(d));
        // Start every copy first (so a failure leaves its AMI id for cleanup), then wait for all.
        let mut started = Vec::new();
        let mut errors = Vec::new();
        for r in &regions {
            ctx.ui.message(format!("Copying to: {r}"));
            let ec2 = s.access.ec2(r);
            let kms = s.cfg.copy_kms_key(r, &s.region);
            let token = uuid_like();
            let by_name = crate::cleaner::recorded_now(&format!("{token}|{name}"));
            s.journal(ctx, r, "image-name", &by_name)?;
            let res = ec2
                .copy_image()
                .source_region(&s.region)
                .source_image_id(&source)
                .name(&name)
                .set_description(description.clone())
                .set_encrypted(s.cfg.encrypt_boot)
                .set_kms_key_id(kms)
                .send()
                .await;
            match res {
                Ok(out) => {
                    let ami = out.image_id().unwrap_or_default().to_string();
                    s.journal_created(ctx, r, "image", &ami);
                    s.unjournal_in(r, "image-name", &by_name);
                    s.amis.insert(r.clone(), ami.clone());
                    started.push((r.clone(), ec2, ami));
                }
                Err(e) => {
                    s.unjournal_if_refused(r, "image-name", &by_name, &e);
                    errors.push(format!("{r}: {}", describe(&e)));
                }
            }
        }
        ctx.ui.message("Waiting for all copies to complete...");
        let shared: &State<'_> = s;
        let waits = started.iter().map(|(r, ec2, ami)| async move {
            (r.clone(), wait_image(ctx, shared, ec2, r, ami).await)
        });
        let results = futures::future::join_all(waits).await;
        for (r, res) in results {
            match res {
                Ok(snaps) => {
                    ctx.ui.message(format!(
                        "{r}: {} copied",
                        s.amis.get(&r).cloned().unwrap_or_default()
                    ));
                    s.snapshots.insert(r, snaps);
                }
                Err(BuildError::Cancelled) => return Err(BuildError::Cancelled),
                Err(e) => errors.push(format!("{r}: {e}")),
            }
        }
        if !errors.is_empty() {
            return Err(BuildError::step(format!(
                "Error copying the AMI to {} of {} regions:\n{}",
                errors.len(),
                regions.len(),
                errors.join("\n")
            )));
        }
        if let Some((ami, snaps)) = s.intermediary.take() {
            ctx.ui
                .say("Deregistering the AMI and deleting unencrypted temporary AMIs and snapshots");
            remove_image(&s.ec2, &ami, &snaps).await.map_err(|e| {
                BuildError::step(format!("Error deregistering the temporary AMI {ami}: {e}"))
            })?;
            s.unjournal("image", &ami);
        }
        Ok(())
    }
}

/// Launch permissions (`ami_users`, `ami_groups`), snapshot permissions, `imds_support`, tags
/// and `deprecate_at`, in every region.
pub struct Finish;

#[async_trait]
impl<'h> Step<State<'h>> for Finish {
    fn name(&self) -> &'static str {
        "modify_ami"
    }
    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let c = s.cfg.clone();
        let deprecate = match c.deprecate_at.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Some(
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| BuildError::step(format!("deprecate_at: {e}")))?
                    .unix_timestamp(),
            ),
            None => None,
        };
        for (region, ami) in s.amis.clone() {
            let ec2 = s.access.ec2(&region);
            let snaps = s.snapshots.get(&region).cloned().unwrap_or_default();
            if !c.ami_users.is_empty() || !c.ami_groups.is_empty() {
                ctx.ui
                    .say(format!("Modifying attributes on AMI ({ami})..."));
                let mut add = Vec::new();
                for u in &c.ami_users {
                    add.push(LaunchPermission::builder().user_id(u).build());
                }
                for g in &c.ami_groups {
                    add.push(
                        LaunchPermission::builder()
                            .group(PermissionGroup::from(g.as_str()))
                            .build(),
                    );
                }
                ec2.modify_image_attribute()
                    .image_id(&ami)
                    .launch_permission(
                        LaunchPermissionModifications::builder()
                            .set_add(Some(add))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| {
                        step_err(&format!("Error modifying AMI attributes in {region}"), &e)
                    })?;
            }
            if !c.snapshot_users.is_empty() || !c.snapshot_groups.is_empty() {
                for snap in &snaps {
                    ctx.ui
                        .say(format!("Modifying attributes on snapshot ({snap})..."));
                    ec2.modify_snapshot_attribute()
                        .snapshot_id(snap)
                        .attribute(
                            aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission,
                        )
                        .operation_type(OperationType::Add)
                        .set_user_ids(
                            (!c.snapshot_users.is_empty()).then(|| c.snapshot_users.clone()),
                        )
                        .set_group_names(
                            (!c.snapshot_groups.is_empty()).then(|| c.snapshot_groups.clone()),
                        )
                        .send()
                        .await
                        .map_err(|e| {
                            step_err(
                                &format!("Error modifying snapshot attributes in {region}"),
                                &e,
                            )
                        })?;
                }
            }
            if c.imds_support.as_deref() == Some("v2.0") {
                ec2.modify_image_attribute()
                    .image_id(&ami)
                    .imds_support(
                        aws_sdk_ec2::types::AttributeValue::builder()
                            .value("v2.0")
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| {
                        step_err(&format!("Error setting imds_support in {region}"), &e)
                    })?;
            }
            if !c.tags.is_empty() {
                ctx.ui.say(format!("Adding tags to AMI ({ami})..."));
                for (k, v) in &c.tags {
                    ctx.ui.message(format!(
                        "Adding tag: \"{}\": \"{}\"",
                        s.render(k),
                        s.render(v)
                    ));
                }
                ec2.create_tags()
                    .resources(&ami)
                    .set_tags(Some(s.tags(&c.tags)))
                    .send()
                    .await
                    .map_err(|e| step_err(&format!("Error adding tags to AMI ({ami})"), &e))?;
            }
            let mut snap_tags = c.tags.clone();
            snap_tags.extend(c.snapshot_tags.clone());
            if !snap_tags.is_empty() && !snaps.is_empty() {
                for snap in &snaps {
                    ctx.ui.message(format!("Tagging snapshot: {snap}"));
                }
                ec2.create_tags()
                    .set_resources(Some(snaps.clone()))
                    .set_tags(Some(s.tags(&snap_tags)))
                    .send()
                    .await
                    .map_err(|e| step_err("Error adding tags to snapshots", &e))?;
            }
            if let Some(at) = deprecate {
                ctx.ui.say(format!(
                    "Enabling deprecation on AMI ({ami}) in region {region:?} ..."
                ));
                ec2.enable_image_deprecation()
                    .image_id(&ami)
                    .deprecate_at(aws_smithy_types::DateTime::from_secs(at))
                    .send()
                    .await
                    .map_err(|e| {
                        step_err(&format!("Error enabling deprecation on AMI ({ami})"), &e)
                    })?;
            }
        }
        s.done = true;
        // The AMIs are the artifact now.
        for ami in s.amis.values().cloned().collect::<Vec<_>>() {
            s.unjournal("image", &ami);
        }
        Ok(())
    }
}

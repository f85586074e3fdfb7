//! `source "amazon-ebs"`: Packer's options, defaults and checks (access, AMI, run and block
//! device configuration).

use kiln_core::{Config, Diagnostics};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// The access options (credentials, region, endpoint, retries), shared by the builder and the
/// `amazon-ami` data source.
pub const ACCESS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "profile",
    "region",
    "custom_endpoint_ec2",
    "max_retries",
    "skip_credential_validation",
    "skip_metadata_api_check",
    "skip_region_validation",
    "insecure_skip_tls_verify",
    "shared_credentials_file",
    // Skips a check of the named profile that the SDK makes anyway.
    "skip_profile_validation",
];

/// Every other option the builder reads.
pub const FIELDS: &[&str] = &[
    "aws_polling",
    // AMI.
    "ami_name",
    "ami_description",
    "ami_virtualization_type",
    "ami_users",
    "ami_groups",
    "ami_regions",
    "region_kms_key_ids",
    "encrypt_boot",
    "kms_key_id",
    "force_deregister",
    "force_delete_snapshot",
    "tags",
    "tag",
    "snapshot_tags",
    "snapshot_tag",
    "snapshot_users",
    "snapshot_groups",
    "ena_support",
    "sriov_support",
    "imds_support",
    "deprecate_at",
    "skip_create_ami",
    "skip_save_build_region",
    "launch_block_device_mappings",
    "ami_block_device_mappings",
    // Run.
    "source_ami",
    "source_ami_filter",
    "instance_type",
    "availability_zone",
    "subnet_id",
    "subnet_filter",
    "vpc_id",
    "security_group_id",
    "security_group_ids",
    "temporary_security_group_source_cidrs",
    "associate_public_ip_address",
    "ssh_interface",
    "ssh_keypair_name",
    "temporary_key_pair_name",
    "user_data",
    "user_data_file",
    "iam_instance_profile",
    "shutdown_behavior",
    "run_tags",
    "run_tag",
    "run_volume_tags",
    "run_volume_tag",
    "ebs_optimized",
    "disable_stop_instance",
    "metadata_options",
];

/// Packer options this builder does not implement; refused, because ignoring them would build
/// something else than asked (spot instances, SSM tunnels, fast launch ...).
pub const UNSUPPORTED: &[&str] = &[
    "ami_product_codes",
    "spot_price",
    "spot_instance_types",
    "spot_tags",
    "spot_tag",
    "spot_allocation_strategy",
    "block_duration_minutes",
    "fleet_tags",
    "security_group_filter",
    "vpc_filter",
    "temporary_security_group_source_public_ip",
    "temporary_iam_instance_profile_policy_document",
    "session_manager_port",
    "pause_before_ssm",
    "fast_launch",
    "ami_org_arns",
    "ami_ou_arns",
    "deregistration_protection",
    "placement",
    "tenancy",
    "enable_unlimited_credits",
    "enable_t2_unlimited",
    "capacity_reservation_id",
    "capacity_reservation_group_arn",
    "capacity_reservation_preference",
    "vault_aws_engine",
    "assume_role",
    "windows_password_timeout",
    "ssh_bastion_host",
];

/// `source_ami_filter` and the `amazon-ami` data source's arguments.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AmiFilter {
    /// `filters`: EC2 filter names to a value (a `*` pattern).
    pub filters: BTreeMap<String, String>,
    /// `owners`: account ids, `self`, `amazon`, `aws-marketplace` ...
    pub owners: Vec<String>,
    /// `most_recent`: the newest of several matches.
    pub most_recent: bool,
    /// `include_deprecated`.
    pub include_deprecated: bool,
}

impl AmiFilter {
    /// No filter and no owner given.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty() && self.owners.is_empty()
    }
}

/// `subnet_filter`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SubnetFilter {
    /// `filters`.
    pub filters: BTreeMap<String, String>,
    /// `most_free`: the subnet with the most free addresses.
    pub most_free: bool,
    /// `random`.
    pub random: bool,
}

/// One of `launch_block_device_mappings` / `ami_block_device_mappings`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct BlockDevice {
    /// `device_name`.
    pub device_name: String,
    /// `volume_type`.
    pub volume_type: Option<String>,
    /// `volume_size` in GiB.
    pub volume_size: Option<i32>,
    /// `iops`.
    pub iops: Option<i32>,
    /// `throughput`.
    pub throughput: Option<i32>,
    /// `delete_on_termination`.
    pub delete_on_termination: bool,
    /// `encrypted`.
    pub encrypted: Option<bool>,
    /// `kms_key_id`.
    pub kms_key_id: Option<String>,
    /// `snapshot_id`.
    pub snapshot_id: Option<String>,
    /// `virtual_name`.
    pub virtual_name: Option<String>,
    /// `no_device`.
    pub no_device: bool,
}

/// What Packer's amazon plugins refuse in a block device mapping (`BlockDevice.Prepare`).
fn block_device_problem(b: &BlockDevice) -> Option<String> {
    let name = &b.device_name;
    if name.is_empty() {
        return Some(
            "The `device_name` must be specified for every device in the block device mapping."
                .into(),
        );
    }
    if b.kms_key_id.as_deref().is_some_and(|k| !k.is_empty()) && b.encrypted == Some(false) {
        return Some(format!(
            "The device {name}, must also have `encrypted: true` when setting a kms_key_id."
        ));
    }
    let kind = b.volume_type.as_deref().unwrap_or("");
    let size = i64::from(b.volume_size.unwrap_or(0));
    let ratio = match kind {
        "io1" => Some(50),
        "io2" => Some(500),
        _ => None,
    };
    if let (Some(ratio), true, Some(iops)) = (ratio, size != 0, b.iops.map(i64::from)) {
        if iops / size > ratio {
            return Some(format!("{name}: the maximum ratio of provisioned IOPS to requested volume size (in GiB) is {ratio}:1 for {kind} volumes"));
        }
        if !(100..=64000).contains(&iops) {
            return Some(format!(
                "IOPS must be between 100 and 64000 for device {name}"
            ));
        }
    }
    if kind == "gp3" {
        if b.throughput.is_some_and(|t| !(125..=1000).contains(&t)) {
            return Some(format!(
                "Throughput must be between 125 and 1000 for device {name}"
            ));
        }
        if b.iops.is_some_and(|i| !(3000..=16000).contains(&i)) {
            return Some(format!(
                "IOPS must be between 3000 and 16000 for device {name}"
            ));
        }
    } else if b.throughput.is_some() {
        return Some(format!(
            "Throughput is only valid for gp3 volumes, {name:?} is of type {kind}"
        ));
    }
    None
}

/// The decoded configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct AmazonConfig {
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub custom_endpoint_ec2: Option<String>,
    pub max_retries: Option<u32>,
    pub skip_credential_validation: bool,
    pub skip_metadata_api_check: bool,
    pub skip_region_validation: bool,
    pub skip_profile_validation: bool,
    pub insecure_skip_tls_verify: bool,
    pub shared_credentials_file: Option<String>,
    #[serde(deserialize_with = "one_block")]
    pub aws_polling: Polling,

    pub ami_name: String,
    pub ami_description: Option<String>,
    pub ami_virtualization_type: Option<String>,
    pub ami_users: Vec<String>,
    pub ami_groups: Vec<String>,
    pub ami_regions: Vec<String>,
    pub region_kms_key_ids: BTreeMap<String, String>,
    pub encrypt_boot: Option<bool>,
    pub kms_key_id: Option<String>,
    pub force_deregister: bool,
    pub force_delete_snapshot: bool,
    pub tags: BTreeMap<String, String>,
    #[serde(deserialize_with = "tag_blocks")]
    pub tag: Vec<(String, String)>,
    pub snapshot_tags: BTreeMap<String, String>,
    #[serde(deserialize_with = "tag_blocks")]
    pub snapshot_tag: Vec<(String, String)>,
    pub snapshot_users: Vec<String>,
    pub snapshot_groups: Vec<String>,
    pub ena_support: Option<bool>,
    pub sriov_support: bool,
    pub imds_support: Option<String>,
    pub deprecate_at: Option<String>,
    pub skip_create_ami: bool,
    /// `skip_save_build_region`: the AMI is made in the build region only to be copied to
    /// `ami_regions`, then removed.
    pub skip_save_build_region: bool,
    pub launch_block_device_mappings: Vec<BlockDevice>,
    pub ami_block_device_mappings: Vec<BlockDevice>,

    pub source_ami: Option<String>,
    #[serde(deserialize_with = "one_block")]
    pub source_ami_filter: AmiFilter,
    pub instance_type: String,
    pub availability_zone: Option<String>,
    pub subnet_id: Option<String>,
    #[serde(deserialize_with = "one_block")]
    pub subnet_filter: SubnetFilter,
    pub vpc_id: Option<String>,
    pub security_group_id: Option<String>,
    pub security_group_ids: Vec<String>,
    pub temporary_security_group_source_cidrs: Vec<String>,
    pub associate_public_ip_address: Option<bool>,
    pub ssh_interface: Option<String>,
    pub ssh_keypair_name: Option<String>,
    pub temporary_key_pair_name: Option<String>,
    pub user_data: Option<String>,
    pub user_data_file: Option<String>,
    pub iam_instance_profile: Option<String>,
    pub shutdown_behavior: Option<String>,
    pub run_tags: BTreeMap<String, String>,
    #[serde(deserialize_with = "tag_blocks")]
    pub run_tag: Vec<(String, String)>,
    pub run_volume_tags: BTreeMap<String, String>,
    #[serde(deserialize_with = "tag_blocks")]
    pub run_volume_tag: Vec<(String, String)>,
    pub ebs_optimized: bool,
    pub disable_stop_instance: bool,
    /// `metadata_options { ... }`: the build instance's metadata service (IMDS).
    #[serde(deserialize_with = "one_block")]
    pub metadata_options: MetadataOptions,
}

/// `metadata_options`, as the build instance's `MetadataOptions` (sent only when the block is
/// given; Packer's defaults fill what it leaves out).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataOptions {
    /// `http_endpoint`: `enabled` (default) or `disabled`.
    pub http_endpoint: Option<String>,
    /// `http_tokens`: `optional` (default) or `required` (IMDSv2 only).
    pub http_tokens: Option<String>,
    /// `http_put_response_hop_limit`: 1 (default) to 64.
    pub http_put_response_hop_limit: Option<i32>,
    /// `instance_metadata_tags`: `enabled` or `disabled`.
    pub instance_metadata_tags: Option<String>,
}

impl MetadataOptions {
    /// Whether the template gave the block (with anything in it).
    #[must_use]
    pub fn is_set(&self) -> bool {
        *self != MetadataOptions::default()
    }
}

/// `aws_polling { delay_seconds, max_attempts }`: how waits poll (Packer's defaults: the SDK
/// waiters', 15 s and 40 attempts for most; `AWS_POLL_DELAY_SECONDS` is not read by the library).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Polling {
    /// `delay_seconds`.
    pub delay_seconds: Option<u64>,
    /// `max_attempts`.
    pub max_attempts: Option<u32>,
}

/// A block given once: an object, or (as HCL2 blocks arrive) a list holding one.
fn one_block<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    let v = match v {
        serde_json::Value::Array(mut a) if a.len() <= 1 => a.pop().unwrap_or_default(),
        serde_json::Value::Array(_) => {
            return Err(serde::de::Error::custom(
                "this block may be given only once",
            ))
        }
        serde_json::Value::Null => return Ok(T::default()),
        other => other,
    };
    serde_json::from_value(v).map_err(serde::de::Error::custom)
}

/// Applies legacy JSON's weak typing to the fields of `source_ami_filter` and `subnet_filter`,
/// which are decoded as blocks of their own.
fn weak_filters(v: &mut serde_json::Value) {
    use serde_json::Value as J;
    let go_bool = |s: &str| match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    };
    for (block, lists, bools) in [
        (
            "source_ami_filter",
            &["owners"][..],
            &["most_recent", "include_deprecated"][..],
        ),
        ("subnet_filter", &[][..], &["most_free", "random"][..]),
    ] {
        let Some(b) = v.get_mut(block) else { continue };
        let blocks: Vec<&mut J> = match b {
            J::Array(items) => items.iter_mut().collect(),
            other => vec![other],
        };
        for o in blocks.into_iter().filter_map(J::as_object_mut) {
            for k in lists {
                // Split at commas, "" an empty list (Packer's StringToSliceHookFunc(",")).
                if let Some(x) = o.get_mut(*k) {
                    if let Some(t) = x.as_str() {
                        *x = J::Array(if t.is_empty() {
                            Vec::new()
                        } else {
                            t.split(',').map(|p| J::String(p.to_string())).collect()
                        });
                    }
                }
            }
            for k in bools {
                if let Some(x) = o.get_mut(*k) {
                    if let Some(b) = x.as_str().and_then(go_bool) {
                        *x = J::Bool(b);
                    }
                }
            }
        }
    }
}

/// `tag { key = "..." value = "..." }` blocks.
fn tag_blocks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    struct Tag {
        key: String,
        value: String,
    }
    let v = serde_json::Value::deserialize(d)?;
    let tags: Vec<Tag> = match v {
        serde_json::Value::Array(_) => {
            serde_json::from_value(v).map_err(serde::de::Error::custom)?
        }
        serde_json::Value::Null => Vec::new(),
        other => vec![serde_json::from_value(other).map_err(serde::de::Error::custom)?],
    };
    Ok(tags.into_iter().map(|t| (t.key, t.value)).collect())
}

/// Packer's rule for AMI names.
fn clean_ami_name(name: &str) -> bool {
    name.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '(' | ')' | '[' | ']' | ' ' | '.' | '/' | '-' | '\'' | '@' | '_'
            )
    })
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    match (ip.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128,
        _ => false,
    }
}

impl AmazonConfig {
    /// Decodes the source's options and checks them as Packer does; every problem is reported.
    ///
    /// # Errors
    /// The problems found, located in the template.
    pub fn decode(config: &Config, comm_type: &str) -> Result<AmazonConfig, Diagnostics> {
        let mut errs = Diagnostics::default();
        // A bad value is reported, and the checks below still run on the rest, so that one
        // validate shows every problem (as Packer's does).
        // Legacy JSON's weak typing inside the filter blocks too (mapstructure's, at any
        // depth): `"owners": "099720109477"` is a list of one, `"most_recent": "true"` a bool.
        let weakened;
        let config = if config.weak {
            let mut c = config.clone();
            weak_filters(&mut c.value);
            weakened = c;
            &weakened
        } else {
            config
        };
        let mut c: AmazonConfig = match config.decode() {
            Ok(c) => c,
            Err(d) => {
                errs.extend(d);
                let mut rest = config.clone();
                if let serde_json::Value::Object(m) = &mut rest.value {
                    m.retain(|k, v| {
                        let mut one = config.clone();
                        one.value = serde_json::json!({ k.clone(): v.clone() });
                        one.decode::<AmazonConfig>().is_ok()
                    });
                }
                rest.decode().unwrap_or_default()
            }
        };
        // Packer's settings are Go strings, unset when empty (`user_data = ""` beside a
        // `user_data_file` is no conflict).
        for f in [
            &mut c.access_key,
            &mut c.secret_key,
            &mut c.token,
            &mut c.profile,
            &mut c.region,
            &mut c.custom_endpoint_ec2,
            &mut c.shared_credentials_file,
            &mut c.ami_description,
            &mut c.ami_virtualization_type,
            &mut c.kms_key_id,
            &mut c.imds_support,
            &mut c.deprecate_at,
            &mut c.source_ami,
            &mut c.availability_zone,
            &mut c.subnet_id,
            &mut c.vpc_id,
            &mut c.security_group_id,
            &mut c.ssh_interface,
            &mut c.ssh_keypair_name,
            &mut c.temporary_key_pair_name,
            &mut c.user_data,
            &mut c.user_data_file,
            &mut c.iam_instance_profile,
            &mut c.shutdown_behavior,
        ] {
            if f.as_deref() == Some("") {
                *f = None;
            }
        }
        let mut err = |key: &str, msg: String| {
            errs.push(config.error_at(key, "Invalid amazon-ebs configuration", msg));
        };
        if let serde_json::Value::Object(m) = &config.value {
            for (key, v) in m {
                if kiln_core::convert::is_unset(v) {
                    continue;
                }
                if UNSUPPORTED.contains(&key.as_str()) && !kiln_core::convert::is_inert(v) {
                    err(key, format!("{key} is not supported by Kiln's amazon-ebs builder yet; remove it or build this image with Packer."));
                }
            }
        }
        for (k, v) in std::mem::take(&mut c.tag) {
            c.tags.insert(k, v);
        }
        for (k, v) in std::mem::take(&mut c.snapshot_tag) {
            c.snapshot_tags.insert(k, v);
        }
        for (k, v) in std::mem::take(&mut c.run_tag) {
            c.run_tags.insert(k, v);
        }
        for (k, v) in std::mem::take(&mut c.run_volume_tag) {
            c.run_volume_tags.insert(k, v);
        }
        // Access.
        if let Some(r) = &c.region {
            if r.is_empty() {
                c.region = None;
            }
        }
        if c.access_key.is_some() != c.secret_key.is_some() {
            err(
                if c.access_key.is_some() {
                    "secret_key"
                } else {
                    "access_key"
                },
                "access_key and secret_key must be given together".into(),
            );
        }
        if let Some(e) = &c.custom_endpoint_ec2 {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                err(
                    "custom_endpoint_ec2",
                    format!("custom_endpoint_ec2 {e:?} must be an http:// or https:// URL"),
                );
            }
        }
        // AMI.
        if c.ami_name.is_empty() && config.value.get("ami_name").is_some_and(|v| !v.is_string()) {
            // Reported above as a bad value.
        } else if c.ami_name.is_empty() {
            err("ami_name", "ami_name must be specified".into());
        } else {
            if c.ami_name.len() < 3 || c.ami_name.len() > 128 {
                err(
                    "ami_name",
                    "ami_name must be between 3 and 128 characters long".into(),
                );
            }
            if !clean_ami_name(&c.ami_name) && !c.ami_name.contains("{{") {
                err("ami_name", "AMIName should only contain alphanumeric characters, parentheses (()), square brackets ([]), spaces ( ), periods (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or underscores(_). You can use the `clean_resource_name` template filter to automatically clean your ami name.".into());
            }
        }
        for r in c.region_kms_key_ids.keys() {
            if !c.ami_regions.contains(r) {
                err(
                    "region_kms_key_ids",
                    format!("Region {r} is in region_kms_key_ids but not in ami_regions"),
                );
            }
        }
        let encrypt = c.encrypt_boot == Some(true);
        let has_kms = c.kms_key_id.as_deref().is_some_and(|k| !k.is_empty())
            || c.region_kms_key_ids.values().any(|k| !k.is_empty());
        if has_kms && !encrypt {
            err("encrypt_boot", "If you have set either region_kms_key_ids or kms_key_id, encrypt_boot must also be true.".into());
        }
        if !c.ami_users.is_empty() && encrypt && !has_kms {
            err(
                "ami_users",
                "Cannot share AMI encrypted with default KMS key".into(),
            );
        }
        if !c.snapshot_users.is_empty() && encrypt && !has_kms {
            err("snapshot_users", "Cannot share snapshot encrypted with default KMS key, see https://www.packer.io/docs/builders/amazon-ebs#region_kms_key_ids for more information".into());
        }
        if let Some(i) = &c.imds_support {
            if !i.is_empty() && i != "v2.0" {
                err(
                    "imds_support",
                    "The only valid imds_support values are \"v2.0\" or the empty string".into(),
                );
            }
        }
        if let Some(t) = c.deprecate_at.as_deref().filter(|t| !t.is_empty()) {
            if time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .is_err()
            {
                err("deprecate_at", format!("deprecate_at is not a valid time: {t:?}. Expect time format: YYYY-MM-DDTHH:MM:SSZ"));
            }
        }
        // Run.
        let source_ami = c.source_ami.as_deref().unwrap_or_default();
        if source_ami.is_empty() && c.source_ami_filter.is_empty() {
            err(
                "source_ami",
                "A source_ami or source_ami_filter must be specified".into(),
            );
        } else if source_ami.is_empty() && c.source_ami_filter.owners.is_empty() {
            err(
                "source_ami_filter",
                "For security reasons, your source AMI filter must declare an owner.".into(),
            );
        }
        // (A bad value given is reported above, not again as missing; spot_instance_types,
        // refused above, would stand for it.)
        if c.instance_type.is_empty()
            && config
                .value
                .get("instance_type")
                .is_none_or(|v| v.as_str() == Some(""))
            && config
                .value
                .get("spot_instance_types")
                .is_none_or(kiln_core::convert::is_unset)
        {
            err(
                "instance_type",
                "either instance_type or spot_instance_types must be specified".into(),
            );
        }
        if c.user_data.is_some() && c.user_data_file.is_some() {
            err(
                "user_data_file",
                "Only one of user_data or user_data_file can be specified.".into(),
            );
        } else if let Some(f) = &c.user_data_file {
            if std::fs::metadata(f).is_err() {
                err("user_data_file", format!("user_data_file not found: {f}"));
            }
        }
        if let Some(id) = c.security_group_id.take().filter(|s| !s.is_empty()) {
            if c.security_group_ids.is_empty() {
                c.security_group_ids = vec![id];
            } else {
                err(
                    "security_group_id",
                    "Only one of security_group_id or security_group_ids can be specified.".into(),
                );
            }
        }
        if c.temporary_security_group_source_cidrs.is_empty() {
            c.temporary_security_group_source_cidrs = vec!["0.0.0.0/0".into()];
        }
        for cidr in &c.temporary_security_group_source_cidrs {
            if !is_cidr(cidr) {
                err("temporary_security_group_source_cidrs", format!("Error parsing CIDR in temporary_security_group_source_cidrs: invalid CIDR address: {cidr}"));
            }
        }
        match c.shutdown_behavior.as_deref() {
            None | Some("") => c.shutdown_behavior = Some("stop".into()),
            Some("stop" | "terminate") => {}
            Some(_) => err(
                "shutdown_behavior",
                "shutdown_behavior only accepts 'stop' or 'terminate' values.".into(),
            ),
        }
        let md = &c.metadata_options;
        for (name, value, allowed) in [
            ("http_endpoint", &md.http_endpoint, ["disabled", "enabled"]),
            ("http_tokens", &md.http_tokens, ["optional", "required"]),
            (
                "instance_metadata_tags",
                &md.instance_metadata_tags,
                ["disabled", "enabled"],
            ),
        ] {
            if value
                .as_deref()
                .is_some_and(|v| !v.is_empty() && !allowed.contains(&v))
            {
                let [x, y] = allowed;
                err(
                    "metadata_options",
                    format!("{name} requires either {x} or {y} as its value"),
                );
            }
        }
        if md
            .http_put_response_hop_limit
            .is_some_and(|n| !(1..=64).contains(&n))
        {
            err(
                "metadata_options",
                "http_put_response_hop_limit requires a number between 1 and 64".into(),
            );
        }
        match c.ssh_interface.as_deref() {
            None | Some("" | "public_ip" | "private_ip" | "public_dns" | "private_dns") => {}
            Some(other @ ("ipv6" | "session_manager")) => err(
                "ssh_interface",
                format!("ssh_interface \"{other}\" is valid in Packer but not supported by Kiln's amazon-ebs builder yet; use public_ip, private_ip, public_dns or private_dns"),
            ),
            Some(other) => err("ssh_interface", format!("Unknown interface type: {other}")),
        }
        if c.ssh_keypair_name.as_deref().is_some_and(|k| !k.is_empty())
            && comm_type == "ssh"
            && config
                .value
                .get("ssh_private_key_file")
                .is_none_or(serde_json::Value::is_null)
        {
            err("ssh_keypair_name", "ssh_private_key_file must be provided or ssh_agent_auth enabled when ssh_keypair_name is specified.".into());
        }
        // As Packer's BlockDevice.Prepare (AMI mappings first): the first problem of each device.
        for (key, list) in [
            ("ami_block_device_mappings", &c.ami_block_device_mappings),
            (
                "launch_block_device_mappings",
                &c.launch_block_device_mappings,
            ),
        ] {
            for b in list {
                if let Some(m) = block_device_problem(b) {
                    err(key, m);
                }
            }
        }
        if errs.has_errors() {
            return Err(errs);
        }
        Ok(c)
    }

    /// The delay between polls of a wait.
    #[must_use]
    pub fn poll_delay(&self) -> Duration {
        Duration::from_secs(self.aws_polling.delay_seconds.unwrap_or(2).max(1))
    }

    /// How many polls a wait makes before it gives up.
    #[must_use]
    pub fn poll_attempts(&self) -> u32 {
        self.aws_polling.max_attempts.unwrap_or(600)
    }

    /// The regions the AMI is copied to: `ami_regions` without the build region and without
    /// duplicates; with an [intermediary image](Self::intermediary_image), the build region
    /// first (unless `skip_save_build_region`).
    #[must_use]
    pub fn copy_regions(&self, build_region: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if self.intermediary_image() && !self.skip_save_build_region {
            // The image made in the build region is temporary: its kept copy is made there too.
            out.push(build_region.to_string());
        }
        for r in &self.ami_regions {
            if r != build_region && !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }

    /// Whether the AMI made from the instance is temporary, as Packer's: with `encrypt_boot`
    /// (an encrypted copy replaces it) or `skip_save_build_region`.
    #[must_use]
    pub fn intermediary_image(&self) -> bool {
        self.encrypt_boot == Some(true) || self.skip_save_build_region
    }

    /// The KMS key a copy into `region` is encrypted with: only with `encrypt_boot`, from
    /// `region_kms_key_ids`, and `kms_key_id` for the build region. `None`: the default key.
    #[must_use]
    pub fn copy_kms_key(&self, region: &str, build_region: &str) -> Option<String> {
        if self.encrypt_boot != Some(true) {
            return None;
        }
        let key = self.region_kms_key_ids.get(region).cloned();
        let key = if region == build_region {
            key.or_else(|| self.kms_key_id.clone())
        } else {
            key
        };
        key.filter(|k| !k.is_empty())
    }
}

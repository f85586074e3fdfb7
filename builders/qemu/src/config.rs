//! The `qemu` source's options, with Packer's names, defaults and checks.

use kiln_core::{duration, BuildInfo, Config, Diagnostic, Diagnostics};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Options this builder implements.
pub const FIELDS: &[&str] = &[
    "iso_url",
    "iso_urls",
    "iso_checksum",
    "iso_target_path",
    "iso_skip_cache",
    "disk_image",
    "use_backing_file",
    "format",
    "disk_size",
    "disk_additional_size",
    "disk_interface",
    "disk_cache",
    "disk_discard",
    "disk_detect_zeroes",
    "disk_compression",
    "skip_compaction",
    "skip_resize_disk",
    "accelerator",
    "machine_type",
    "cpus",
    "sockets",
    "cores",
    "threads",
    "memory",
    "cpu_model",
    "headless",
    "display",
    "use_default_display",
    "vga",
    "firmware",
    "efi_boot",
    "efi_firmware_code",
    "efi_firmware_vars",
    "efi_drop_efivars",
    "use_pflash",
    "vtpm",
    "use_tpm1",
    "tpm_device_type",
    "qemuargs",
    "qemu_binary",
    "qemu_img_args",
    "output_directory",
    "vm_name",
    "shutdown_command",
    "shutdown_timeout",
    "host_port_min",
    "host_port_max",
    "ssh_host_port_min",
    "ssh_host_port_max",
    "skip_nat_mapping",
    "net_device",
    "cdrom_interface",
    "boot_wait",
    "boot_command",
    "boot_steps",
    "boot_key_interval",
    "http_directory",
    "http_content",
    "http_port_min",
    "http_port_max",
    "http_bind_address",
    "cd_files",
    "cd_content",
    "cd_label",
    "qmp_enable",
    "qmp_socket_path",
    "ssh_wait_timeout",
    "disable_vnc",
];

/// Packer options that are accepted, have no effect here, and are reported as warnings.
pub const IGNORED: &[&str] = &[
    "vnc_bind_address",
    "vnc_port_min",
    "vnc_port_max",
    "vnc_use_password",
    "vnc_password",
    "boot_keygroup_interval",
    "http_interface",
    "http_network_protocol",
    "iso_target_extension",
    "run_once",
    "ssh_keypair_name",
    "temporary_key_pair_name",
    "ssh_ciphers",
    "ssh_key_exchange_algorithms",
    "ssh_certificate_file",
];

/// Why an [`IGNORED`] option makes no difference here.
fn ignored_because(key: &str) -> &'static str {
    match key {
        k if k.starts_with("vnc_") || k == "boot_keygroup_interval" => {
            "boot commands are typed through QMP, not VNC"
        }
        "iso_target_extension" => {
            "it only names Packer's cached download; Kiln's cache names its files itself"
        }
        "http_interface" | "http_network_protocol" => {
            "the HTTP server listens where http_bind_address says"
        }
        "run_once" => "the machine is built once",
        _ => "Kiln's SSH communicator makes and chooses its own keys and algorithms",
    }
}

/// Packer options this builder does not implement; a template using them is refused, because
/// ignoring them would build a different machine than the one asked for.
pub const UNSUPPORTED: &[&str] = &[
    "floppy_files",
    "floppy_dirs",
    "floppy_content",
    "floppy_label",
    "net_bridge",
    "ssh_bastion_host",
    "ssh_bastion_port",
    "ssh_bastion_agent_auth",
    "ssh_bastion_username",
    "ssh_bastion_password",
    "ssh_bastion_interactive",
    "ssh_bastion_private_key_file",
    "ssh_bastion_certificate_file",
    "ssh_proxy_host",
    "ssh_proxy_port",
    "ssh_proxy_username",
    "ssh_proxy_password",
    "ssh_public_key",
    "ssh_private_key",
];

/// A number or a string in the template (`disk_size = 5000` or `"5G"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NumOrString {
    /// A number.
    N(u64),
    /// A string.
    S(String),
}

impl NumOrString {
    fn text(&self) -> String {
        match self {
            NumOrString::N(n) => n.to_string(),
            NumOrString::S(s) => s.clone(),
        }
    }
}

/// `qemu_img_args`: extra arguments for each `qemu-img` call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QemuImgArgs {
    /// Before the positional arguments of `qemu-img convert`.
    pub convert: Vec<String>,
    /// Of `qemu-img create`.
    pub create: Vec<String>,
    /// Of `qemu-img resize`.
    pub resize: Vec<String>,
}

/// UEFI boot (`efi_boot`): the firmware and what becomes of its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Efi {
    /// `efi_firmware_code` (default Packer's, `/usr/share/OVMF/OVMF_CODE.fd`).
    pub code: PathBuf,
    /// `efi_firmware_vars`: copied for the VM to write (`efivars.fd`).
    pub vars: PathBuf,
    /// `efi_drop_efivars`: keep `efivars.fd` out of the output directory.
    pub drop_vars: bool,
    /// `use_pflash` (default true): the firmware as pflash drives; otherwise `-bios`.
    pub pflash: bool,
}

/// An emulated TPM (`vtpm`), served by `swtpm` for the VM's lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vtpm {
    /// `use_tpm1`: TPM 1.2 instead of 2.0.
    pub tpm1: bool,
    /// `tpm_device_type` (default `tpm-tis`): the QEMU device the guest sees.
    pub device: String,
}

/// One `boot_steps` entry: `[keys]` or `[keys, description]`.
pub type BootStep = Vec<String>;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Raw {
    iso_url: Option<String>,
    iso_urls: Vec<String>,
    iso_checksum: Option<String>,
    iso_target_path: Option<String>,
    iso_skip_cache: bool,
    disk_image: bool,
    use_backing_file: bool,
    format: Option<String>,
    disk_size: Option<NumOrString>,
    disk_additional_size: Vec<NumOrString>,
    disk_interface: Option<String>,
    disk_cache: Option<String>,
    disk_discard: Option<String>,
    disk_detect_zeroes: Option<String>,
    disk_compression: bool,
    skip_compaction: bool,
    skip_resize_disk: bool,
    accelerator: Option<String>,
    machine_type: Option<String>,
    cpus: Option<u32>,
    sockets: Option<u32>,
    cores: Option<u32>,
    threads: Option<u32>,
    memory: Option<u64>,
    cpu_model: Option<String>,
    headless: bool,
    display: Option<String>,
    use_default_display: bool,
    vga: Option<String>,
    firmware: Option<String>,
    efi_boot: bool,
    efi_firmware_code: Option<String>,
    efi_firmware_vars: Option<String>,
    efi_drop_efivars: bool,
    use_pflash: Option<bool>,
    vtpm: bool,
    use_tpm1: bool,
    tpm_device_type: Option<String>,
    qemuargs: Vec<Vec<String>>,
    qemu_binary: Option<String>,
    qemu_img_args: QemuImgArgs,
    output_directory: Option<String>,
    vm_name: Option<String>,
    shutdown_command: Option<String>,
    #[serde(deserialize_with = "duration::serde_opt::deserialize")]
    shutdown_timeout: Option<Duration>,
    host_port_min: Option<u16>,
    host_port_max: Option<u16>,
    ssh_host_port_min: Option<u16>,
    ssh_host_port_max: Option<u16>,
    skip_nat_mapping: bool,
    net_device: Option<String>,
    cdrom_interface: Option<String>,
    #[serde(deserialize_with = "duration::serde_opt::deserialize")]
    boot_wait: Option<Duration>,
    boot_command: Vec<String>,
    boot_steps: Vec<BootStep>,
    #[serde(deserialize_with = "duration::serde_opt::deserialize")]
    boot_key_interval: Option<Duration>,
    http_directory: Option<String>,
    http_content: BTreeMap<String, String>,
    http_port_min: Option<u16>,
    http_port_max: Option<u16>,
    http_bind_address: Option<String>,
    cd_files: Vec<String>,
    cd_content: BTreeMap<String, String>,
    cd_label: Option<String>,
    qmp_enable: bool,
    qmp_socket_path: Option<String>,
    disable_vnc: bool,
}

/// How the ISO or disk image is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// `none`: not checked.
    None,
    /// `algo:hex` (md5, sha1, sha256, sha512), or a bare hex digest whose length names the algorithm.
    Digest {
        /// `md5`, `sha1`, `sha256` or `sha512`.
        algo: String,
        /// Lower-case hex.
        hex: String,
    },
    /// `file:URL` or `algo:file:URL`: the digest is looked up in a checksum file.
    File {
        /// The algorithm, if given.
        algo: Option<String>,
        /// Where the checksum file is.
        url: String,
    },
}

/// Parses Packer's `iso_checksum` forms.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_checksum(text: &str) -> Result<Checksum, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") {
        return Ok(Checksum::None);
    }
    let algo_of_len = |n: usize| match n {
        32 => Some("md5"),
        40 => Some("sha1"),
        64 => Some("sha256"),
        128 => Some("sha512"),
        _ => None,
    };
    let (algo, rest) = match t.split_once(':') {
        Some((a, r))
            if ["md5", "sha1", "sha256", "sha512"].contains(&a.to_lowercase().as_str()) =>
        {
            (Some(a.to_lowercase()), r)
        }
        Some(("file", _)) => (None, t),
        Some((a, _)) if !a.contains('/') && a.len() < 10 => {
            return Err(format!(
                "unsupported checksum type {a:?}; use md5, sha1, sha256, sha512, file:URL or none"
            ))
        }
        _ => (None, t),
    };
    if let Some(url) = rest.strip_prefix("file:") {
        // `file:./SHA256SUMS` and `file:https://...` keep their scheme-less or full form.
        let url = if url.starts_with("//") { rest } else { url };
        return Ok(Checksum::File {
            algo,
            url: url.to_string(),
        });
    }
    if rest.contains("://") {
        return Ok(Checksum::File {
            algo,
            url: rest.to_string(),
        });
    }
    if !rest.chars().all(|c| c.is_ascii_hexdigit()) || rest.is_empty() {
        return Err(format!("{text:?} is not a hex digest"));
    }
    let algo = match algo {
        Some(a) => a,
        None => algo_of_len(rest.len())
            .ok_or_else(|| format!("cannot tell the checksum type of {text:?} from its length; write it as sha256:<hex>"))?
            .to_string(),
    };
    let want = match algo.as_str() {
        "md5" => 32,
        "sha1" => 40,
        "sha256" => 64,
        _ => 128,
    };
    if rest.len() != want {
        return Err(format!(
            "a {algo} digest has {want} hex digits, {text:?} has {}",
            rest.len()
        ));
    }
    Ok(Checksum::Digest {
        algo,
        hex: rest.to_lowercase(),
    })
}

/// The validated configuration with Packer's defaults applied.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    /// `iso_urls` (or `iso_url`), in order of preference.
    pub iso_urls: Vec<String>,
    /// `iso_checksum`.
    pub iso_checksum: Checksum,
    /// `iso_target_path`.
    pub iso_target_path: Option<PathBuf>,
    /// `disk_image`.
    pub disk_image: bool,
    /// `use_backing_file`.
    pub use_backing_file: bool,
    /// `format`: `qcow2` or `raw`.
    pub format: String,
    /// `disk_size` in qemu-img's syntax (`40960M`).
    pub disk_size: String,
    /// `disk_additional_size`.
    pub disk_additional_size: Vec<String>,
    /// `disk_interface`.
    pub disk_interface: String,
    /// `disk_cache`.
    pub disk_cache: String,
    /// `disk_discard`.
    pub disk_discard: String,
    /// `disk_detect_zeroes`.
    pub disk_detect_zeroes: String,
    /// `disk_compression`.
    pub disk_compression: bool,
    /// `skip_compaction`.
    pub skip_compaction: bool,
    /// `skip_resize_disk`.
    pub skip_resize_disk: bool,
    /// `accelerator` as written; empty or `none` means: KVM if it works, else TCG.
    pub accelerator: String,
    /// `machine_type`.
    pub machine_type: String,
    /// `cpus`, `sockets`, `cores`, `threads`.
    pub smp: (Option<u32>, Option<u32>, Option<u32>, Option<u32>),
    /// `memory` in MiB.
    pub memory: u64,
    /// `cpu_model`.
    pub cpu_model: Option<String>,
    /// `headless`.
    pub headless: bool,
    /// `display`.
    pub display: Option<String>,
    /// `use_default_display`.
    pub use_default_display: bool,
    /// `vga`.
    pub vga: Option<String>,
    /// `firmware`.
    pub firmware: Option<String>,
    /// `efi_boot` and its firmware, when the VM boots in UEFI mode.
    pub efi: Option<Efi>,
    /// `vtpm`, `use_tpm1` and `tpm_device_type`, when the VM has an emulated TPM.
    pub vtpm: Option<Vtpm>,
    /// `qemuargs`, not yet expanded.
    pub qemuargs: Vec<Vec<String>>,
    /// `qemu_binary`.
    pub qemu_binary: String,
    /// `qemu_img_args`.
    pub qemu_img_args: QemuImgArgs,
    /// `output_directory`.
    pub output_directory: PathBuf,
    /// `vm_name`.
    pub vm_name: String,
    /// `shutdown_command`.
    pub shutdown_command: Option<String>,
    /// `shutdown_timeout`.
    pub shutdown_timeout: Duration,
    /// Host port range for the forward to the guest's SSH port.
    pub host_ports: (u16, u16),
    /// `skip_nat_mapping`.
    pub skip_nat_mapping: bool,
    /// `net_device`.
    pub net_device: String,
    /// `cdrom_interface`.
    pub cdrom_interface: Option<String>,
    /// `boot_wait`: 10s by default when there is a boot command, else no wait unless set.
    pub boot_wait: Duration,
    /// `boot_command` (or `boot_steps`), with a description per group.
    pub boot_steps: Vec<(String, Option<String>)>,
    /// `boot_key_interval`.
    pub boot_key_interval: Duration,
    /// `http_directory`.
    pub http_directory: Option<PathBuf>,
    /// `http_content`.
    pub http_content: BTreeMap<String, String>,
    /// HTTP port range.
    pub http_ports: (u16, u16),
    /// `http_bind_address`.
    pub http_bind_address: String,
    /// `cd_files`.
    pub cd_files: Vec<String>,
    /// `cd_content`.
    pub cd_content: BTreeMap<String, String>,
    /// `cd_label`.
    pub cd_label: Option<String>,
    /// `qmp_socket_path`, when the template asks for a fixed one.
    pub qmp_socket_path: Option<PathBuf>,
}

/// What is wrong with the UEFI firmware file `p` given as `key`, if it is missing.
pub(crate) fn missing_firmware(key: &str, p: &std::path::Path) -> Option<String> {
    (!p.is_file()).then(|| {
        format!(
            "{key} {} does not exist; install Debian's ovmf package, or set {key} (Debian 12 also has the _4M variants in /usr/share/OVMF)",
            p.display()
        )
    })
}

fn parse_disk_size(text: &str) -> Option<String> {
    let t = text.trim().to_lowercase();
    if t.is_empty() || t == "0" {
        return Some("40960M".into());
    }
    let digits = t.trim_end_matches(['b', 'k', 'm', 'g', 't']);
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
        || t.len() - digits.len() > 1
    {
        return None;
    }
    if digits.len() == t.len() {
        Some(format!("{t}M"))
    } else {
        Some(text.trim().to_string())
    }
}

impl QemuConfig {
    /// Decodes and checks `config` for the build `info`; returns the config and warnings.
    ///
    /// # Errors
    /// Every problem found, each at its attribute.
    pub fn decode(
        config: &Config,
        info: &BuildInfo,
    ) -> Result<(QemuConfig, Vec<String>), Diagnostics> {
        let raw: Raw = config.decode()?;
        let mut errs = Diagnostics::default();
        let mut warnings = Vec::new();
        let mut err = |key: &str, msg: String| {
            errs.push(config.error_at(key, "Invalid qemu configuration", msg))
        };
        if let serde_json::Value::Object(m) = &config.value {
            for (key, v) in m {
                // A setting left at its zero value (null, "", []) is not set.
                if kiln_core::convert::is_unset(v) {
                    continue;
                }
                if IGNORED.contains(&key.as_str()) {
                    warnings.push(format!(
                        "{key} has no effect in Kiln's qemu builder ({}); it is ignored.",
                        ignored_because(key)
                    ));
                } else if UNSUPPORTED.contains(&key.as_str()) && !kiln_core::convert::is_inert(v) {
                    err(key, format!("{key} is not supported by Kiln's qemu builder yet; remove it or build this image with Packer."));
                }
            }
        }
        let efi = if raw.efi_boot {
            let code = PathBuf::from(
                raw.efi_firmware_code
                    .clone()
                    .unwrap_or_else(|| "/usr/share/OVMF/OVMF_CODE.fd".into()),
            );
            let vars = PathBuf::from(
                raw.efi_firmware_vars
                    .clone()
                    .unwrap_or_else(|| "/usr/share/OVMF/OVMF_VARS.fd".into()),
            );
            // Said now, but (as Packer) only an error when the VM starts: the template may be
            // meant for another host (Homebrew's firmware paths on a Mac).
            for (key, p) in [("efi_firmware_code", &code), ("efi_firmware_vars", &vars)] {
                if let Some(m) = missing_firmware(key, p) {
                    warnings.push(format!(
                        "{m}; the build fails unless it exists when the VM starts."
                    ));
                }
            }
            if raw.firmware.is_some() {
                err(
                    "firmware",
                    "firmware cannot be used with efi_boot; use efi_firmware_code".into(),
                );
            }
            Some(Efi {
                code,
                vars,
                drop_vars: raw.efi_drop_efivars,
                pflash: raw.use_pflash.unwrap_or(true),
            })
        } else {
            None
        };
        let vtpm = raw.vtpm.then(|| Vtpm {
            tpm1: raw.use_tpm1,
            device: raw
                .tpm_device_type
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "tpm-tis".into()),
        });
        let mut iso_urls = raw.iso_urls.clone();
        // As Packer: an empty iso_url (say from a variable defaulting to "") is not set.
        if let Some(u) = raw.iso_url.as_ref().filter(|u| !u.is_empty()) {
            if !iso_urls.is_empty() {
                err(
                    "iso_url",
                    "Only one of iso_url or iso_urls can be specified.".into(),
                );
            }
            iso_urls = vec![u.clone()];
        }
        if iso_urls.is_empty() {
            err(
                "iso_url",
                "One of iso_url or iso_urls must be specified.".into(),
            );
        }
        let iso_checksum = if raw.iso_skip_cache {
            Checksum::None
        } else {
            match raw.iso_checksum.as_deref() {
                None | Some("") => {
                    err("iso_checksum", "An iso_checksum must be specified (a digest such as \"sha256:...\", \"file:URL\", or \"none\").".into());
                    Checksum::None
                }
                Some(c) => match parse_checksum(c) {
                    Ok(Checksum::None) => {
                        warnings.push("A checksum of 'none' was specified. Since ISO files are so big, a checksum is highly recommended.".into());
                        Checksum::None
                    }
                    Ok(c) => c,
                    Err(m) => {
                        err("iso_checksum", m);
                        Checksum::None
                    }
                },
            }
        };
        let format = raw.format.clone().unwrap_or_else(|| "qcow2".into());
        if format != "qcow2" && format != "raw" {
            err(
                "format",
                format!("invalid format {format:?}, only 'qcow2' or 'raw' are allowed"),
            );
        }
        let size_text = raw
            .disk_size
            .as_ref()
            .map(NumOrString::text)
            .unwrap_or_default();
        let disk_size = parse_disk_size(&size_text).unwrap_or_else(|| {
            err("disk_size", format!("Invalid disk size {size_text:?}: use a number of megabytes or a size such as \"10G\"."));
            String::new()
        });
        let mut disk_additional_size = Vec::new();
        for (i, s) in raw.disk_additional_size.iter().enumerate() {
            match parse_disk_size(&s.text()) {
                Some(v) if s.text() != "0" && !s.text().is_empty() => disk_additional_size.push(v),
                _ => err(
                    &format!("disk_additional_size[{i}]"),
                    format!("Invalid disk size {:?}.", s.text()),
                ),
            }
        }
        let one_of = |key: &str,
                      v: &Option<String>,
                      def: &str,
                      allowed: &[&str],
                      errs: &mut Vec<(String, String)>| {
            let v = v.clone().unwrap_or_else(|| def.to_string());
            if !allowed.contains(&v.as_str()) {
                errs.push((
                    key.to_string(),
                    format!(
                        "unrecognized {} {v:?}; use one of: {}",
                        key.replace('_', " "),
                        allowed.join(", ")
                    ),
                ));
            }
            v
        };
        let mut more = Vec::new();
        let disk_interface = one_of(
            "disk_interface",
            &raw.disk_interface,
            "virtio",
            &["ide", "sata", "scsi", "virtio", "virtio-scsi", "nvme", "sd"],
            &mut more,
        );
        let disk_cache = one_of(
            "disk_cache",
            &raw.disk_cache,
            "writeback",
            &["writethrough", "writeback", "none", "unsafe", "directsync"],
            &mut more,
        );
        let disk_discard = one_of(
            "disk_discard",
            &raw.disk_discard,
            "ignore",
            &["unmap", "ignore"],
            &mut more,
        );
        let disk_detect_zeroes = one_of(
            "disk_detect_zeroes",
            &raw.disk_detect_zeroes,
            "off",
            &["unmap", "on", "off"],
            &mut more,
        );
        let accelerator = raw.accelerator.clone().unwrap_or_default();
        if !["", "none", "kvm", "tcg", "xen", "hax", "hvf", "whpx"].contains(&accelerator.as_str())
        {
            more.push(("accelerator".into(), format!("invalid accelerator {accelerator:?}, only 'kvm', 'tcg', 'xen', 'hax', 'hvf', 'whpx', or 'none' are allowed")));
        }
        for (k, m) in more {
            err(&k, m);
        }
        let mut skip_compaction = raw.skip_compaction;
        let mut disk_compression = raw.disk_compression;
        if format != "qcow2" {
            skip_compaction = true;
            disk_compression = false;
        }
        if raw.use_backing_file {
            skip_compaction = true;
            if !(raw.disk_image && format == "qcow2") {
                err("use_backing_file", "use_backing_file can only be enabled for QCOW2 images and when disk_image is true".into());
            }
        }
        if raw.skip_resize_disk && !raw.disk_image {
            err(
                "skip_resize_disk",
                "skip_resize_disk can only be used when disk_image is true".into(),
            );
        }
        if !raw.boot_command.is_empty() && !raw.boot_steps.is_empty() {
            err(
                "boot_steps",
                "boot_command and boot_steps cannot be used together".into(),
            );
        }
        let host_ports = (
            raw.host_port_min.or(raw.ssh_host_port_min).unwrap_or(2222),
            raw.host_port_max.or(raw.ssh_host_port_max).unwrap_or(4444),
        );
        if host_ports.0 > host_ports.1 {
            err(
                "host_port_min",
                "host_port_min must be less than host_port_max".into(),
            );
        }
        let http_ports = (
            raw.http_port_min.unwrap_or(8000),
            raw.http_port_max.unwrap_or(9000),
        );
        if http_ports.0 > http_ports.1 {
            err(
                "http_port_min",
                "http_port_min must be less than http_port_max".into(),
            );
        }
        if raw.http_directory.is_some() && !raw.http_content.is_empty() {
            err(
                "http_content",
                "http_directory and http_content cannot both be set".into(),
            );
        }
        // Like Packer, http_directory is not checked here: it may be made before the build,
        // and serving it fails clearly if it is missing then.
        for (i, f) in raw.cd_files.iter().enumerate() {
            let has_glob = f.contains(['*', '?', '[']);
            if !has_glob && std::fs::metadata(f).is_err() {
                err(
                    &format!("cd_files[{i}]"),
                    format!("cd_files: {f:?} does not exist"),
                );
            }
        }
        for (i, row) in raw.qemuargs.iter().enumerate() {
            if row.is_empty() || !row[0].starts_with('-') {
                err(
                    &format!("qemuargs[{i}]"),
                    "each qemuargs entry is a list whose first element is a switch such as \"-m\""
                        .into(),
                );
            }
        }
        for (i, s) in raw.boot_steps.iter().enumerate() {
            if s.is_empty() || s.len() > 2 {
                err(
                    &format!("boot_steps[{i}]"),
                    "each boot_steps entry is [keys] or [keys, description]".into(),
                );
            }
        }
        let vm_name = raw
            .vm_name
            .clone()
            .unwrap_or_else(|| format!("packer-{}", info.source_name));
        let output_directory = PathBuf::from(
            raw.output_directory
                .clone()
                .unwrap_or_else(|| format!("output-{}", info.source_name)),
        );
        if !info.force && output_directory.exists() {
            err("output_directory", format!("Output directory '{}' already exists. It must not exist (use -force to replace it).", output_directory.display()));
        }
        let boot_steps: Vec<(String, Option<String>)> = if raw.boot_steps.is_empty() {
            raw.boot_command.iter().map(|c| (c.clone(), None)).collect()
        } else {
            raw.boot_steps
                .iter()
                .map(|s| (s.first().cloned().unwrap_or_default(), s.get(1).cloned()))
                .collect()
        };
        for (i, (keys, _)) in boot_steps.iter().enumerate() {
            if let Err(m) = crate::keys::parse(keys) {
                let key = if raw.boot_steps.is_empty() {
                    format!("boot_command[{i}]")
                } else {
                    format!("boot_steps[{i}]")
                };
                err(&key, m);
            }
        }
        if errs.has_errors() {
            return Err(errs);
        }
        Ok((
            QemuConfig {
                iso_urls,
                iso_checksum,
                iso_target_path: raw.iso_target_path.map(PathBuf::from),
                disk_image: raw.disk_image,
                use_backing_file: raw.use_backing_file,
                format,
                disk_size,
                disk_additional_size,
                disk_interface,
                disk_cache,
                disk_discard,
                disk_detect_zeroes,
                disk_compression,
                skip_compaction,
                skip_resize_disk: raw.skip_resize_disk,
                accelerator,
                machine_type: raw.machine_type.unwrap_or_else(|| "pc".into()),
                smp: (raw.cpus, raw.sockets, raw.cores, raw.threads),
                memory: raw.memory.filter(|m| *m >= 10).unwrap_or(512),
                cpu_model: raw.cpu_model,
                headless: raw.headless,
                display: raw.display,
                use_default_display: raw.use_default_display,
                vga: raw.vga,
                firmware: raw.firmware,
                efi,
                vtpm,
                qemuargs: raw.qemuargs,
                qemu_binary: raw
                    .qemu_binary
                    .unwrap_or_else(|| "qemu-system-x86_64".into()),
                qemu_img_args: raw.qemu_img_args,
                output_directory,
                vm_name,
                shutdown_command: raw.shutdown_command.filter(|s| !s.is_empty()),
                shutdown_timeout: raw.shutdown_timeout.unwrap_or(Duration::from_secs(300)),
                host_ports,
                skip_nat_mapping: raw.skip_nat_mapping,
                net_device: raw.net_device.unwrap_or_else(|| "virtio-net".into()),
                cdrom_interface: raw.cdrom_interface,
                boot_wait: raw.boot_wait.unwrap_or(if boot_steps.is_empty() {
                    Duration::ZERO
                } else {
                    Duration::from_secs(10)
                }),
                // `disable_vnc` skips the boot command in Packer, which types it over VNC.
                boot_steps: if raw.disable_vnc {
                    Vec::new()
                } else {
                    boot_steps
                },
                boot_key_interval: raw.boot_key_interval.unwrap_or(Duration::from_millis(100)),
                http_directory: raw.http_directory.map(PathBuf::from),
                http_content: raw.http_content,
                http_ports,
                http_bind_address: raw.http_bind_address.unwrap_or_else(|| "0.0.0.0".into()),
                cd_files: raw.cd_files,
                cd_content: raw.cd_content,
                cd_label: raw.cd_label,
                qmp_socket_path: raw
                    .qmp_enable
                    .then_some(())
                    .and(raw.qmp_socket_path.map(PathBuf::from)),
            },
            warnings,
        ))
    }

    /// The `-smp` value Packer would pass, if any.
    #[must_use]
    pub fn smp_arg(&self) -> Option<String> {
        let (cpus, sockets, cores, threads) = self.smp;
        let mut parts = Vec::new();
        let topo = sockets.unwrap_or(1) * cores.unwrap_or(1) * threads.unwrap_or(1);
        let cpus = cpus.or(
            if sockets.is_some() || cores.is_some() || threads.is_some() {
                Some(topo)
            } else {
                None
            },
        );
        if let Some(c) = cpus {
            parts.push(c.to_string());
        } else {
            parts.push("1".into());
        }
        if let Some(s) = sockets {
            parts.push(format!("sockets={s}"));
        }
        if let Some(c) = cores {
            parts.push(format!("cores={c}"));
        }
        if let Some(t) = threads {
            parts.push(format!("threads={t}"));
        }
        Some(parts.join(","))
    }
}

/// An error for `key` (used by steps that check at run time).
#[must_use]
pub fn located(config: &Config, key: &str, msg: String) -> Diagnostic {
    config.error_at(key, "Invalid qemu configuration", msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_in_packer_forms() {
        let h = "a".repeat(64);
        assert_eq!(
            parse_checksum(&format!("sha256:{h}")).unwrap(),
            Checksum::Digest {
                algo: "sha256".into(),
                hex: h.clone()
            }
        );
        assert_eq!(
            parse_checksum(&h.to_uppercase()).unwrap(),
            Checksum::Digest {
                algo: "sha256".into(),
                hex: h.clone()
            }
        );
        assert_eq!(parse_checksum("none").unwrap(), Checksum::None);
        assert_eq!(
            parse_checksum("file:https://example.com/SHA256SUMS").unwrap(),
            Checksum::File {
                algo: None,
                url: "https://example.com/SHA256SUMS".into()
            }
        );
        assert_eq!(
            parse_checksum("sha256:file:./SUMS").unwrap(),
            Checksum::File {
                algo: Some("sha256".into()),
                url: "./SUMS".into()
            }
        );
        assert!(parse_checksum("sha256:abc")
            .unwrap_err()
            .contains("64 hex digits"));
        assert!(parse_checksum("crc32:abcd")
            .unwrap_err()
            .contains("unsupported checksum type"));
    }

    #[test]
    fn disk_sizes_default_to_megabytes() {
        assert_eq!(parse_disk_size("").as_deref(), Some("40960M"));
        assert_eq!(parse_disk_size("5000").as_deref(), Some("5000M"));
        assert_eq!(parse_disk_size("10G").as_deref(), Some("10G"));
        assert_eq!(parse_disk_size("10GB"), None);
        assert_eq!(parse_disk_size("ten"), None);
    }
}

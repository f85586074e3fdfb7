//! The communicator options shared by every builder that connects over SSH.

use kiln_core::duration;
use serde::Deserialize;
use std::time::Duration;

/// How files are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferMethod {
    /// The SCP protocol (`scp -t` / `scp -f` on the remote), Packer's default.
    #[default]
    Scp,
    /// The SFTP subsystem.
    Sftp,
}

/// The `communicator` and `ssh_*` options of a source, as Packer documents them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SshConfig {
    /// `communicator`: `ssh` or `none`.
    pub communicator: String,
    /// `ssh_host`.
    pub ssh_host: String,
    /// `ssh_port` (22).
    pub ssh_port: u16,
    /// `ssh_username`.
    pub ssh_username: String,
    /// `ssh_password`.
    pub ssh_password: Option<String>,
    /// `ssh_private_key_file`.
    pub ssh_private_key_file: Option<String>,
    /// `ssh_timeout` (5m).
    #[serde(deserialize_with = "duration::serde_opt::deserialize")]
    pub ssh_timeout: Option<Duration>,
    /// `ssh_handshake_attempts` (10).
    pub ssh_handshake_attempts: u32,
    /// `ssh_keep_alive_interval` (5s); `0s`/`-1s` disables.
    #[serde(deserialize_with = "keepalive")]
    pub ssh_keep_alive_interval: Option<Duration>,
    /// `ssh_pty`.
    pub ssh_pty: bool,
    /// `ssh_file_transfer_method`.
    pub ssh_file_transfer_method: TransferMethod,
    /// `ssh_disable_agent_forwarding`: accepted, agents are never forwarded.
    pub ssh_disable_agent_forwarding: bool,
    /// `ssh_clear_authorized_keys`: accepted for compatibility.
    pub ssh_clear_authorized_keys: bool,
    /// `temporary_key_pair_type`: `ed25519` (default here) or `rsa`.
    pub temporary_key_pair_type: Option<String>,
    /// `temporary_key_pair_bits`.
    pub temporary_key_pair_bits: Option<u32>,
    /// `pause_before_connecting`.
    #[serde(deserialize_with = "duration::serde_opt::deserialize")]
    pub pause_before_connecting: Option<Duration>,
    /// The private key in PEM/OpenSSH form, when a builder generated one. Not a template field.
    #[serde(skip)]
    pub private_key: Option<String>,
}

fn keepalive<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        N(f64),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => Some(Duration::from_secs(5)),
        Some(Raw::S(s)) if s.trim_start().starts_with('-') => None,
        Some(Raw::S(s)) => duration::parse(&s)
            .map_err(serde::de::Error::custom)
            .map(|d| (!d.is_zero()).then_some(d))?,
        Some(Raw::N(n)) if n <= 0.0 => None,
        Some(Raw::N(n)) => Some(Duration::from_secs_f64(n)),
    })
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            communicator: "ssh".into(),
            ssh_host: String::new(),
            ssh_port: 22,
            ssh_username: String::new(),
            ssh_password: None,
            ssh_private_key_file: None,
            ssh_timeout: None,
            ssh_handshake_attempts: 10,
            ssh_keep_alive_interval: Some(Duration::from_secs(5)),
            ssh_pty: false,
            ssh_file_transfer_method: TransferMethod::Scp,
            ssh_disable_agent_forwarding: false,
            ssh_clear_authorized_keys: false,
            temporary_key_pair_type: None,
            temporary_key_pair_bits: None,
            pause_before_connecting: None,
            private_key: None,
        }
    }
}

impl SshConfig {
    /// Packer's generated values for a connected SSH communicator: `ConnType`, `Host`, `Port`,
    /// `User`, `Password` and `SSHPrivateKey` (the generated key, or `ssh_private_key_file`'s).
    pub fn insert_generated(&self, data: &mut kiln_core::GeneratedData) {
        data.insert("ConnType".into(), "ssh".into());
        data.insert("Host".into(), self.ssh_host.clone());
        data.insert("Port".into(), self.ssh_port.to_string());
        data.insert("User".into(), self.ssh_username.clone());
        data.insert(
            "Password".into(),
            self.ssh_password.clone().unwrap_or_default(),
        );
        let key = self.private_key.clone().or_else(|| {
            self.ssh_private_key_file
                .as_ref()
                .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        });
        if let Some(k) = key {
            data.insert("SSHPrivateKey".into(), k);
        }
        // The template's own key file, for an operator told how to log in (not a copy of it).
        if self.private_key.is_none() {
            if let Some(f) = &self.ssh_private_key_file {
                let path = std::path::Path::new(f);
                let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
                data.insert("SSHPrivateKeyFile".into(), abs.display().to_string());
            }
        }
    }

    /// The effective `ssh_timeout`.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.ssh_timeout.unwrap_or(Duration::from_secs(300))
    }

    /// Checks what can be checked before connecting; returns errors as `(attribute, message)`.
    #[must_use]
    pub fn validate(&self, needs_host: bool) -> Vec<(&'static str, String)> {
        let mut errs = Vec::new();
        match self.communicator.as_str() {
            "none" => return errs,
            "ssh" => {}
            // The ssh_* checks below would only add noise for another communicator.
            "winrm" => {
                errs.push((
                    "communicator",
                    "the winrm communicator is not supported by Kiln yet; use \"ssh\" or \"none\""
                        .into(),
                ));
                return errs;
            }
            other => {
                errs.push((
                    "communicator",
                    format!("unknown communicator {other:?}; use \"ssh\" or \"none\""),
                ));
                return errs;
            }
        }
        if needs_host && self.ssh_host.is_empty() {
            errs.push(("ssh_host", "ssh_host must be specified".into()));
        }
        if self.ssh_username.is_empty() {
            errs.push(("ssh_username", "An ssh_username must be specified".into()));
        }
        if needs_host
            && self.ssh_password.is_none()
            && self.ssh_private_key_file.is_none()
            && self.private_key.is_none()
        {
            errs.push((
                "ssh_password",
                "One of ssh_password or ssh_private_key_file must be specified".into(),
            ));
        }
        if let Some(f) = &self.ssh_private_key_file {
            if let Err(e) = std::fs::metadata(f) {
                errs.push((
                    "ssh_private_key_file",
                    format!("ssh_private_key_file is invalid: {f}: {e}"),
                ));
            }
        }
        errs
    }
}

/// The WinRM communicator's options: accepted (and unused) while another communicator is in
/// use, as Packer reads only the settings of the communicator it uses; `communicator =
/// "winrm"` itself is refused.
pub const WINRM_FIELDS: &[&str] = &[
    "winrm_username",
    "winrm_password",
    "winrm_host",
    "winrm_no_proxy",
    "winrm_port",
    "winrm_timeout",
    "winrm_use_ssl",
    "winrm_insecure",
    "winrm_use_ntlm",
];

/// Every template attribute [`SshConfig`] reads, for unknown-attribute checks.
pub const FIELDS: &[&str] = &[
    "communicator",
    "ssh_host",
    "ssh_port",
    "ssh_username",
    "ssh_password",
    "ssh_private_key_file",
    "ssh_timeout",
    "ssh_handshake_attempts",
    "ssh_keep_alive_interval",
    "ssh_pty",
    "ssh_file_transfer_method",
    "ssh_disable_agent_forwarding",
    "ssh_clear_authorized_keys",
    "temporary_key_pair_type",
    "temporary_key_pair_bits",
    "pause_before_connecting",
    "ssh_agent_auth",
    "ssh_read_write_timeout",
    "ssh_remote_tunnels",
    "ssh_local_tunnels",
];

impl SshConfig {
    /// Decodes the communicator options from a source's config, located errors included.
    ///
    /// # Errors
    /// Invalid values, at their attribute.
    pub fn decode(cfg: &kiln_core::Config) -> Result<SshConfig, kiln_core::Diagnostics> {
        let mut only = serde_json::Map::new();
        if let serde_json::Value::Object(m) = &cfg.value {
            for (k, v) in m {
                if FIELDS.contains(&k.as_str())
                    && ![
                        "ssh_agent_auth",
                        "ssh_read_write_timeout",
                        "ssh_remote_tunnels",
                        "ssh_local_tunnels",
                    ]
                    .contains(&k.as_str())
                {
                    only.insert(k.clone(), v.clone());
                }
            }
        }
        let sub = kiln_core::Config {
            value: serde_json::Value::Object(only),
            ..cfg.clone()
        };
        sub.decode::<SshConfig>()
    }
}

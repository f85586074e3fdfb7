//! The `ansible` provisioner's options, Packer's defaults and checks.

use kiln_core::{Config, Diagnostics};
use serde::Deserialize;

/// `provisioner "ansible"` as written in the template.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct AnsibleConfig {
    pub command: Option<String>,
    pub extra_arguments: Vec<String>,
    pub ansible_env_vars: Vec<String>,
    pub playbook_file: String,
    pub ansible_ssh_extra_args: Vec<String>,
    pub groups: Vec<String>,
    pub empty_groups: Vec<String>,
    pub host_alias: Option<String>,
    pub user: Option<String>,
    pub local_port: Option<u32>,
    pub ssh_host_key_file: Option<String>,
    pub ssh_authorized_key_file: Option<String>,
    pub ansible_proxy_key_type: Option<String>,
    pub sftp_command: Option<String>,
    pub skip_version_check: bool,
    pub use_sftp: bool,
    pub inventory_directory: Option<String>,
    pub inventory_file_template: Option<String>,
    pub inventory_file: Option<String>,
    pub keep_inventory_file: bool,
    pub galaxy_file: Option<String>,
    pub galaxy_command: Option<String>,
    pub galaxy_force_install: bool,
    pub galaxy_force_with_deps: bool,
    pub roles_path: Option<String>,
    pub collections_path: Option<String>,
    pub use_proxy: Option<bool>,
    pub ansible_winrm_use_http: bool,
}

/// The options with Packer's defaults applied, checked.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub raw: AnsibleConfig,
    /// Problems worth a warning, not an error.
    pub warnings: Vec<String>,
    pub command: String,
    pub galaxy_command: String,
    pub host_alias: String,
    /// `user`, or the local user when it was left unset (then, without the proxy, the
    /// communicator's user).
    pub user: String,
    pub user_was_empty: bool,
    /// Environment for Ansible: `ansible_env_vars` and what Packer adds to them.
    pub env: Vec<(String, String)>,
    /// `ansible_proxy_key_type`: `ecdsa` (default) or `rsa`.
    pub proxy_key_type: &'static str,
    /// Ansible's version, when checked.
    pub version: Option<super::command::Version>,
}

/// `-e` arguments Packer adds when `ansible_winrm_use_http` is set.
const WINRM_HTTP: [&str; 2] = ["-e", "ansible_winrm_scheme=http"];

/// Decodes and checks the options: every problem found, located.
pub(crate) fn prepare(config: &Config) -> Result<Settings, Diagnostics> {
    let raw: AnsibleConfig = config.decode()?;
    let mut diags = Diagnostics::default();
    let mut err = |key: &str, m: String| {
        diags.push(config.error_at(key, "Invalid ansible provisioner configuration", m));
    };
    if raw.playbook_file.is_empty() {
        err("playbook_file", "playbook_file must be specified.".into());
    } else if let Some(m) = super::path_problem("playbook_file", &raw.playbook_file, false) {
        err("playbook_file", m);
    }
    for (key, value) in [
        ("galaxy_file", &raw.galaxy_file),
        ("ssh_authorized_key_file", &raw.ssh_authorized_key_file),
        ("ssh_host_key_file", &raw.ssh_host_key_file),
    ] {
        if let Some(m) = value
            .as_deref()
            .filter(|v| !v.is_empty())
            .and_then(|v| super::path_problem(key, v, false))
        {
            err(key, m);
        }
    }
    if let Some(p) = raw.local_port.filter(|p| *p > 65535) {
        err(
            "local_port",
            format!("local_port: {p} must be a valid port"),
        );
    }
    if let Some(d) = raw.inventory_directory.as_deref().filter(|d| !d.is_empty()) {
        if let Some(m) = super::path_problem("inventory_directory", d, true) {
            err("inventory_directory", m);
        }
    }
    let proxy_key_type = match raw
        .ansible_proxy_key_type
        .as_deref()
        .unwrap_or("ECDSA")
        .to_ascii_uppercase()
        .as_str()
    {
        "ECDSA" => "ecdsa",
        "RSA" => "rsa",
        other => {
            err(
                "ansible_proxy_key_type",
                format!(
                    "Invalid value for ansible_proxy_key_type: {other:?}. Supported values are ECDSA or RSA."
                ),
            );
            "ecdsa"
        }
    };
    let mut env = Vec::new();
    let mut warnings = Vec::new();
    for kv in &raw.ansible_env_vars {
        match kv.split_once('=') {
            Some((k, v)) => env.push((k.to_string(), v.to_string())),
            // Packer passes it on as it is, and Ansible never sees a variable without `=`.
            None => warnings.push(format!(
                "ansible_env_vars: {kv:?} has no \"=\" and is ignored; write {kv}=VALUE"
            )),
        }
    }
    // As Packer: without a host key of its own the proxy's key cannot be known in advance, and
    // Ansible's scp transfer unless SFTP is asked for.
    if raw.ssh_host_key_file.as_deref().unwrap_or("").is_empty() {
        env.push(("ANSIBLE_HOST_KEY_CHECKING".into(), "False".into()));
    }
    if !raw.use_sftp {
        env.push(("ANSIBLE_SCP_IF_SSH".into(), "True".into()));
    }
    let command = non_empty(&raw.command)
        .unwrap_or("ansible-playbook")
        .to_string();
    let version = if raw.skip_version_check {
        None
    } else {
        match super::command::version(&command) {
            Ok(v) => Some(v),
            Err(m) => {
                err("command", m);
                None
            }
        }
    };
    let (user, user_was_empty) = match non_empty(&raw.user) {
        Some(u) => (u.to_string(), false),
        None => match local_user() {
            Some(u) => (u, true),
            None => {
                err(
                    "user",
                    "user: could not determine the current user; set user".into(),
                );
                (String::new(), true)
            }
        },
    };
    if !diags.0.is_empty() {
        return Err(diags);
    }
    let mut raw = raw;
    if raw.ansible_winrm_use_http
        && !raw
            .extra_arguments
            .iter()
            .any(|a| a.starts_with("ansible_winrm_scheme"))
    {
        raw.extra_arguments
            .extend(WINRM_HTTP.iter().map(ToString::to_string));
    }
    Ok(Settings {
        warnings,
        command,
        galaxy_command: non_empty(&raw.galaxy_command)
            .unwrap_or("ansible-galaxy")
            .to_string(),
        host_alias: non_empty(&raw.host_alias).unwrap_or("default").to_string(),
        user,
        user_was_empty,
        env,
        proxy_key_type,
        version,
        raw,
    })
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The name of the user running Kiln, from the system's user database.
fn local_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}

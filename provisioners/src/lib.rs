//! # kiln-provisioners: shell, file, shell-local, breakpoint, ansible, ansible-local, sbom, goss
//!
//! One module per provisioner. [`local`] holds what the `shell-local` provisioner and
//! post-processor share, `process` the one runner of local commands (in a process group of
//! their own), and [`gotemplate`] the small subset of Go's template
//! syntax (`{{.Path}}`, `{{ .Vars }}`) that plugin fields expand at run time.

pub mod ansible;
pub mod ansible_local;
pub mod breakpoint;
pub mod file;
pub mod goss;
pub use kiln_core::gotemplate;
pub mod local;
mod process;
pub mod sbom;
pub mod shell;
pub mod shell_local;

use kiln_core::Registry;

/// Registers every provisioner of this crate.
pub fn register(r: &mut Registry) {
    r.provisioner("shell", || Box::new(shell::Shell::default()));
    r.provisioner("file", || Box::new(file::FileProvisioner::default()));
    r.provisioner("shell-local", || {
        Box::new(shell_local::ShellLocal::default())
    });
    r.provisioner("ansible", || Box::new(ansible::Ansible::default()));
    r.provisioner("ansible-local", || {
        Box::new(ansible_local::AnsibleLocal::default())
    });
    r.provisioner("breakpoint", || Box::new(breakpoint::Breakpoint::default()));
    r.provisioner("sbom", || Box::new(sbom::Sbom::default()));
    r.provisioner("goss", || Box::new(goss::Goss::default()));
}

/// Formats environment variables as Packer does: sorted `KEY='value' ` pairs, with single quotes
/// in values escaped for the shell.
#[must_use]
pub fn flatten_env(vars: &std::collections::BTreeMap<String, String>, format: &str) -> String {
    vars.iter()
        .map(|(k, v)| {
            let v = v.replace('\'', "'\"'\"'");
            format.replacen("%s", k, 1).replacen("%s", &v, 1)
        })
        .collect()
}

/// Collects `environment_vars` (`K=V` strings) and `env` (a map) over Packer's own variables.
///
/// # Errors
/// An `environment_vars` entry without `=`.
pub fn env_map(
    info: &kiln_core::BuildInfo,
    environment_vars: &[String],
    env: &std::collections::BTreeMap<String, String>,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut m = std::collections::BTreeMap::new();
    m.insert("PACKER_BUILD_NAME".to_string(), info.source_name.clone());
    m.insert("PACKER_BUILDER_TYPE".to_string(), info.source_type.clone());
    for kv in environment_vars {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("Environment variable not in format 'key=value': {kv}"))?;
        m.insert(k.to_string(), v.to_string());
    }
    for (k, v) in env {
        m.insert(k.clone(), v.clone());
    }
    Ok(m)
}

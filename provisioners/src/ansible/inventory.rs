//! The inventory Kiln writes for Ansible: one host line, then each group with the host in it,
//! then the empty groups.

use super::command::Version;
use super::config::Settings;
use kiln_core::{BuildError, GeneratedData};
use std::collections::BTreeMap;

/// Packer's host line for Ansible 2 and newer.
const HOST_LINE: &str =
    "{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} ansible_port={{ .Port }}\n";
/// And for Ansible 1.
const HOST_LINE_V1: &str = "{{ .HostAlias }} ansible_ssh_host={{ .Host }} ansible_ssh_user={{ .User }} ansible_ssh_port={{ .Port }}\n";

/// The inventory's text: `inventory_file_template` (or Packer's host line) rendered with the
/// build's values and `HostAlias`, `Host`, `User`, `Port`, then the groups.
pub(crate) fn render(
    s: &Settings,
    data: &GeneratedData,
    host: &str,
    port: &str,
    version: Option<&Version>,
) -> Result<String, String> {
    let template = match s.raw.inventory_file_template.as_deref() {
        Some(t) if !t.is_empty() => t,
        _ if version.is_some_and(|v| v.major < 2) => HOST_LINE_V1,
        _ => HOST_LINE,
    };
    let mut map: BTreeMap<&str, String> =
        data.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    map.insert("HostAlias", s.host_alias.clone());
    map.insert("User", s.user.clone());
    map.insert("Host", host.to_string());
    map.insert("Port", port.to_string());
    let line = kiln_core::gotemplate::render(template, &map)
        .map_err(|e| format!("Error generating inventory file from template: {e}"))?;
    let mut text = line.clone();
    for g in &s.raw.groups {
        text.push_str(&format!("[{g}]\n{line}"));
    }
    for g in &s.raw.empty_groups {
        text.push_str(&format!("[{g}]\n"));
    }
    Ok(text)
}

/// Writes the inventory into `inventory_directory` (or the temporary directory); the file is
/// removed when dropped unless kept.
pub(crate) fn write(s: &Settings, text: &str) -> Result<tempfile::NamedTempFile, BuildError> {
    let mut b = tempfile::Builder::new();
    b.prefix("packer-provisioner-ansible");
    let f = match s
        .raw
        .inventory_directory
        .as_deref()
        .filter(|d| !d.is_empty())
    {
        Some(d) => b.tempfile_in(d),
        None => b.tempfile(),
    };
    let mut f = f.map_err(|e| BuildError::io("Error preparing inventory file", e))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .map_err(|e| BuildError::io("Error preparing inventory file", e))?;
    Ok(f)
}

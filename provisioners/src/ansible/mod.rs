//! The `ansible` provisioner: runs `ansible-playbook` on the machine running Kiln against the
//! build's machine, as Packer's ansible plugin does.
//!
//! Two ways to reach the machine. With the proxy (`use_proxy`, the default) Kiln serves an SSH
//! endpoint on 127.0.0.1 ([`kiln_communicator::proxy`]) that accepts a one-time key and relays
//! Ansible's sessions to the build's communicator; the inventory points there. Without it, the
//! inventory points at the machine's own SSH address with the build's key.
//!
//! `config.rs` holds the options and their checks, `command.rs` runs Ansible's commands,
//! `inventory.rs` writes the inventory.

mod command;
mod config;
mod inventory;

use async_trait::async_trait;
pub(crate) use command::INSTALL;
use kiln_communicator::proxy::{Proxy, ProxyOptions};
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, GeneratedData,
    Provisioner,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `provisioner "ansible"`.
#[derive(Debug, Default)]
pub struct Ansible {
    settings: Option<config::Settings>,
}

fn fail(message: impl Into<String>) -> BuildError {
    BuildError::Provisioner {
        kind: "ansible".into(),
        message: message.into(),
    }
}

#[async_trait]
impl Provisioner for Ansible {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        let s = config::prepare(config)?;
        let warnings = s.warnings.clone();
        self.settings = Some(s);
        Ok(warnings)
    }

    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError> {
        let mut s = self
            .settings
            .clone()
            .ok_or_else(|| fail("the provisioner was not prepared"))?;
        ctx.ui.say("Provisioning with Ansible...");
        // Packer renders these once more with the build's values (`{{ .WinRMPassword }}` ...).
        for (_, v) in &mut s.env {
            *v = late_render(v, data);
        }
        for a in &mut s.raw.extra_arguments {
            *a = late_render(a, data);
        }
        let conn_type = data.get("ConnType").map_or("", String::as_str);
        if conn_type == "none" {
            return Err(fail(
                "Ansible needs a connection to the machine, and this build has communicator = \"none\": set communicator = \"ssh\"",
            ));
        }
        let mut use_proxy = s.raw.use_proxy.unwrap_or(true);
        if !use_proxy {
            if data.get("Host").is_none_or(String::is_empty) {
                ctx.ui.error(
                    "Warning: use_proxy is false, but instance does not have an IP address to \
                     give to Ansible. Falling back to use localhost proxy.",
                );
                use_proxy = true;
            } else if conn_type != "ssh" && conn_type != "winrm" {
                ctx.ui.error(
                    "Warning: use_proxy is false, but communicator is neither ssh nor winrm, so \
                     without the proxy ansible will not function. Falling back to localhost proxy.",
                );
                use_proxy = true;
            }
        }

        // Files that live as long as the run: keys and the generated inventory.
        let mut key_file: Option<String> = None;
        let mut _temp_key = None;
        let mut proxy = None;
        let (host, port);
        if use_proxy {
            ctx.ui.say("Setting up proxy adapter for Ansible....");
            let (client_key, private) = client_key(&s)?;
            if let Some(private) = private {
                let f = write_private(ctx, &private)?;
                key_file = Some(f.path().to_string_lossy().into_owned());
                _temp_key = Some(f);
            }
            let p = Proxy::start(
                ProxyOptions {
                    user: s.user.clone(),
                    client_key,
                    host_key: host_key(&s)?,
                    local_port: s.raw.local_port.and_then(|p| u16::try_from(p).ok()),
                    sftp_command: s.raw.sftp_command.clone().filter(|c| !c.is_empty()),
                },
                comm.clone(),
                ctx.ui.clone(),
            )
            .await
            .map_err(fail)?;
            host = "127.0.0.1".to_string();
            port = p.port().to_string();
            proxy = Some(p);
        } else {
            host = data.get("Host").cloned().unwrap_or_default();
            port = data.get("Port").cloned().unwrap_or_else(|| "22".into());
            if conn_type == "ssh" {
                ctx.ui.say(
                    "Not using Proxy adapter for Ansible run:\n\tUsing ssh keys from Packer communicator...",
                );
                if let Some(k) = data.get("SSHPrivateKey").filter(|k| !k.is_empty()) {
                    let f = write_private(ctx, k)?;
                    key_file = Some(f.path().to_string_lossy().into_owned());
                    _temp_key = Some(f);
                }
                if s.user_was_empty {
                    s.user = data.get("User").cloned().unwrap_or_default();
                }
            }
        }

        let mut _inventory = None;
        let inventory_path = match s.raw.inventory_file.clone().filter(|f| !f.is_empty()) {
            Some(f) => f,
            None => {
                let text =
                    inventory::render(&s, data, &host, &port, s.version.as_ref()).map_err(fail)?;
                let f = inventory::write(&s, &text)?;
                let path = f.path().to_string_lossy().into_owned();
                if s.raw.keep_inventory_file {
                    f.keep()
                        .map_err(|e| fail(format!("keeping the inventory file: {e}")))?;
                } else {
                    // Removed when dropped, and by `kiln cleanup` after a killed run.
                    let p = f.path().to_path_buf();
                    _inventory = Some(ctx.journal.hold(f, &p, "temporary inventory file")?);
                }
                path
            }
        };

        if let Some(g) = s.raw.galaxy_file.clone().filter(|g| !g.is_empty()) {
            galaxy(ctx, &s, &g).await?;
        }
        let one_time_host_key =
            use_proxy && s.raw.ssh_host_key_file.as_deref().unwrap_or("").is_empty();
        let args = arguments(
            ctx,
            &s,
            data,
            conn_type,
            key_file.as_deref(),
            &inventory_path,
            one_time_host_key,
        );
        let mut env = s.env.clone();
        env.push(("PACKER_BUILD_NAME".into(), ctx.info.source_name.clone()));
        env.push(("PACKER_BUILDER_TYPE".into(), ctx.info.source_type.clone()));
        ctx.ui.say(format!(
            "Executing Ansible: {}",
            sanitized(&s, data, &s.command, &args)
        ));
        let r = command::run(ctx, &s.command, &args, &env).await;
        if let Some(p) = proxy {
            p.shutdown().await;
        }
        let finished = match r {
            Ok(f) => f,
            Err(_) if ctx.cancel.is_cancelled() => return Err(BuildError::Cancelled),
            Err(e) => return Err(fail(format!("Error executing Ansible: {e}"))),
        };
        if finished.code != 0 {
            return Err(command::failed("ansible", "Ansible", &finished));
        }
        Ok(())
    }
}

/// Renders `{{ .Key }}` placeholders with the build's values; text without them, or with
/// unknown ones, is left as it is.
fn late_render(text: &str, data: &GeneratedData) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    let map: BTreeMap<&str, String> = data.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    kiln_core::gotemplate::render(text, &map).unwrap_or_else(|_| text.to_string())
}

/// The key Ansible logs in to the proxy with: `ssh_authorized_key_file`'s public key (the user
/// brings the private one), or a one-time pair (then its private key in OpenSSH format).
fn client_key(s: &config::Settings) -> Result<(String, Option<String>), BuildError> {
    if let Some(f) = s
        .raw
        .ssh_authorized_key_file
        .as_deref()
        .filter(|f| !f.is_empty())
    {
        let text = std::fs::read_to_string(f)
            .map_err(|e| fail(format!("ssh_authorized_key_file {f}: {e}")))?;
        return Ok((text, None));
    }
    let pair = kiln_communicator::keys::generate(s.proxy_key_type, Some(2048), "kiln-ansible")
        .map_err(fail)?;
    Ok((pair.public_openssh, Some(pair.private_openssh)))
}

/// The proxy's host key: `ssh_host_key_file`, or a one-time one.
fn host_key(s: &config::Settings) -> Result<String, BuildError> {
    Ok(
        match s.raw.ssh_host_key_file.as_deref().filter(|f| !f.is_empty()) {
            Some(f) => std::fs::read_to_string(f)
                .map_err(|e| fail(format!("Failed to load private host key {f}: {e}")))?,
            None => {
                kiln_communicator::keys::generate(s.proxy_key_type, Some(2048), "kiln-ansible-host")
                    .map_err(fail)?
                    .private_openssh
            }
        },
    )
}

/// A private key in a file only its owner can read, removed when dropped (and by
/// `kiln cleanup` after a killed run).
fn write_private(
    ctx: &BuildContext,
    key: &str,
) -> Result<kiln_core::journal::Held<tempfile::NamedTempFile>, BuildError> {
    let f = tempfile::Builder::new()
        .prefix("ansible-key")
        .tempfile()
        .map_err(|e| BuildError::io("creating the key file for Ansible", e))?;
    let path = f.path().to_path_buf();
    let mut f = ctx.journal.hold(f, &path, "temporary key file")?;
    std::io::Write::write_all(&mut *f, key.as_bytes())
        .map_err(|e| BuildError::io("writing the key file for Ansible", e))?;
    if !key.ends_with('\n') {
        std::io::Write::write_all(&mut *f, b"\n")
            .map_err(|e| BuildError::io("writing the key file for Ansible", e))?;
    }
    Ok(f)
}

/// Whether `name` appears in `args`, alone or on either side of an `=`.
fn has_arg(name: &str, args: &[String]) -> bool {
    args.iter().any(|a| a.split('=').any(|p| p == name))
}

/// `ansible-playbook`'s arguments, in Packer's order.
fn arguments(
    ctx: &BuildContext,
    s: &config::Settings,
    data: &GeneratedData,
    conn_type: &str,
    key_file: Option<&str>,
    inventory: &str,
    one_time_host_key: bool,
) -> Vec<String> {
    let mut args = Vec::new();
    if !ctx.info.source_name.is_empty() {
        args.push("-e".into());
        args.push(format!("packer_build_name={:?}", ctx.info.source_name));
    }
    args.push("-e".into());
    args.push(format!("packer_builder_type={}", ctx.info.source_type));
    if let Some(a) = data.get("PackerHTTPAddr").filter(|a| !a.is_empty()) {
        args.push("-e".into());
        args.push(format!("packer_http_addr={a}"));
    }
    if conn_type == "ssh" && key_file.is_some() {
        // One quoted word: ansible-playbook strips the outer quotes and splits the rest like
        // a shell. (Packer quotes each entry, which Ansible mangles when there are several.)
        let mut extra = if s.raw.ansible_ssh_extra_args.is_empty() {
            vec!["-o IdentitiesOnly=yes".to_string()]
        } else {
            s.raw.ansible_ssh_extra_args.clone()
        };
        if s.raw.ansible_ssh_extra_args.is_empty() && one_time_host_key {
            // The proxy's host key is new each run: recording it in the user's known_hosts
            // (under a port that changes too) would only leave stale entries behind.
            extra.push("-o UserKnownHostsFile=/dev/null".into());
        }
        args.push("--ssh-extra-args".into());
        args.push(format!("'{}'", extra.join(" ")));
    }
    args.extend(s.raw.extra_arguments.iter().cloned());
    if !has_arg("ansible_password", &args) {
        if let Some(k) = key_file {
            args.push("-e".into());
            args.push(format!("ansible_ssh_private_key_file={k}"));
        }
    }
    if has_arg("ansible_password", &args)
        && conn_type == "ssh"
        && !has_arg("ansible_host_key_checking", &args)
        && !s.env.iter().any(|(k, _)| k == "ANSIBLE_HOST_KEY_CHECKING")
    {
        args.push("-e".into());
        args.push("ansible_host_key_checking=False".into());
    }
    let playbook = std::path::absolute(&s.raw.playbook_file).map_or_else(
        |_| s.raw.playbook_file.clone(),
        |p| p.to_string_lossy().into_owned(),
    );
    args.push("-i".into());
    args.push(inventory.to_string());
    args.push(playbook);
    args
}

/// The command line as shown: values of `extra_arguments` whose name says password or secret,
/// and the build's passwords, hidden (the event stream hides registered secrets too).
fn sanitized(s: &config::Settings, data: &GeneratedData, program: &str, args: &[String]) -> String {
    let mut line = hide_secrets(
        &format!("{program} {}", args.join(" ")),
        &s.raw.extra_arguments,
    );
    for key in ["WinRMPassword", "Password"] {
        if let Some(p) = data.get(key).filter(|p| !p.is_empty()) {
            line = line.replace(p.as_str(), "*****");
        }
    }
    line
}

/// `line` with the values of the `NAME=value` arguments in `args` (whole, or a word of one,
/// as in `--extra-vars "a=1 db_password=x"`) whose name says password or secret replaced by
/// `*****`, as Packer shows its Ansible command. Shared with ansible-local.
pub(crate) fn hide_secrets(line: &str, args: &[String]) -> String {
    let mut line = line.to_string();
    for a in args {
        for pair in std::iter::once(a.as_str()).chain(a.split_whitespace()) {
            if let Some((k, v)) = pair.split_once('=') {
                let k = k.to_ascii_lowercase();
                let v = v.trim_matches(|c| c == '\'' || c == '"');
                if (k.contains("password") || k.contains("secret")) && !v.is_empty() {
                    line = line.replace(v, "*****");
                }
            }
        }
    }
    line
}

/// Which top-level keys a galaxy requirements file has, as Packer reads it: (`roles:`,
/// `collections:`). Roles are installed when it has `roles:` or no `collections:` (an
/// old-style list of roles).
pub(crate) fn galaxy_kinds(text: &str) -> (bool, bool) {
    let starts = |key: &str| text.lines().any(|l| l.starts_with(key));
    (starts("roles:"), starts("collections:"))
}

/// Packer's check of a path option: it exists and is a directory (`dir`) or not one.
pub(crate) fn path_problem(key: &str, path: &str, dir: bool) -> Option<String> {
    match std::fs::metadata(path) {
        Err(e) => Some(format!("{key}: {path} is invalid: {e}")),
        Ok(m) if m.is_dir() && !dir => Some(format!("{key}: {path} must point to a file")),
        Ok(m) if !m.is_dir() && dir => Some(format!("{key}: {path} must point to a directory")),
        Ok(_) => None,
    }
}

/// Installs `galaxy_file`'s roles and collections, as Packer decides from its contents.
async fn galaxy(ctx: &BuildContext, s: &config::Settings, file: &str) -> Result<(), BuildError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| fail(format!("Error executing Ansible Galaxy: {file}: {e}")))?;
    let (has_roles, has_collections) = galaxy_kinds(&text);
    let mut runs = Vec::new();
    if has_roles || !has_collections {
        let mut a: Vec<String> = vec!["install".into(), "-r".into(), file.into()];
        force(s, &mut a);
        if let Some(p) = s.raw.roles_path.as_ref().filter(|p| !p.is_empty()) {
            a.extend(["-p".into(), p.clone()]);
        }
        runs.push(a);
    }
    if has_collections {
        let mut a: Vec<String> = vec![
            "collection".into(),
            "install".into(),
            "-r".into(),
            file.into(),
        ];
        force(s, &mut a);
        if let Some(p) = s.raw.collections_path.as_ref().filter(|p| !p.is_empty()) {
            a.extend(["-p".into(), p.clone()]);
        }
        runs.push(a);
    }
    for a in runs {
        ctx.ui.say("Executing Ansible Galaxy");
        let f = command::run(ctx, &s.galaxy_command, &a, &s.env)
            .await
            .map_err(|e| {
                if ctx.cancel.is_cancelled() {
                    BuildError::Cancelled
                } else {
                    fail(format!(
                        "Error executing Ansible: Error executing Ansible Galaxy: {e}"
                    ))
                }
            })?;
        if f.code != 0 {
            return Err(command::failed(
                "ansible",
                "Ansible: Error executing Ansible Galaxy",
                &f,
            ));
        }
    }
    Ok(())
}

fn force(s: &config::Settings, a: &mut Vec<String>) {
    if s.raw.galaxy_force_install {
        a.push("-f".into());
    }
    if s.raw.galaxy_force_with_deps {
        a.push("--force-with-deps".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_hidden_whole_or_inside_extra_vars() {
        let args = vec![
            "--extra-vars".to_string(),
            "region=eu db_password='p1 x' api_secret=s2".to_string(),
            "winrm_password=p3".to_string(),
        ];
        assert_eq!(
            hide_secrets(
                "ansible-playbook --extra-vars region=eu db_password='p1 x' api_secret=s2 winrm_password=p3",
                &args
            ),
            "ansible-playbook --extra-vars region=eu db_password='***** x' api_secret=***** winrm_password=*****"
        );
    }

    #[test]
    fn galaxy_files_and_path_options_are_read_as_packer_does() {
        assert_eq!(galaxy_kinds("- src: x\n"), (false, false));
        assert_eq!(
            galaxy_kinds("roles:\n  - x\ncollections:\n  - y\n"),
            (true, true)
        );
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, "").unwrap();
        let (d, f) = (d.path().to_str().unwrap(), f.to_str().unwrap());
        assert_eq!(path_problem("k", f, false), None);
        assert_eq!(path_problem("k", d, true), None);
        assert_eq!(
            path_problem("k", d, false),
            Some(format!("k: {d} must point to a file"))
        );
        assert_eq!(
            path_problem("k", f, true),
            Some(format!("k: {f} must point to a directory"))
        );
    }
}

//! The `shell` provisioner: run scripts on the machine over the communicator.

use crate::gotemplate;
use async_trait::async_trait;
use kiln_communicator::shell_quote;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, ExitStatus,
    GeneratedData, OutputStream, Provisioner,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ShellConfig {
    inline: Option<Vec<String>>,
    script: Option<String>,
    scripts: Option<Vec<String>>,
    environment_vars: Vec<String>,
    env: BTreeMap<String, String>,
    execute_command: Option<String>,
    inline_shebang: Option<String>,
    remote_folder: Option<String>,
    remote_file: Option<String>,
    remote_path: Option<String>,
    expect_disconnect: bool,
    valid_exit_codes: Option<Vec<i32>>,
    skip_clean: bool,
    #[serde(deserialize_with = "kiln_core::duration::serde_opt::deserialize")]
    pause_after: Option<Duration>,
    #[serde(deserialize_with = "kiln_core::duration::serde_opt::deserialize")]
    start_retry_timeout: Option<Duration>,
    env_var_format: Option<String>,
    use_env_var_file: bool,
    binary: bool,
}

/// `provisioner "shell"`.
#[derive(Debug, Default)]
pub struct Shell {
    cfg: ShellConfig,
}

fn fail(message: impl Into<String>) -> BuildError {
    BuildError::Provisioner {
        kind: "shell".into(),
        message: message.into(),
    }
}

#[async_trait]
impl Provisioner for Shell {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        let c = &self.cfg;
        let n = [c.inline.is_some(), c.script.is_some(), c.scripts.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        let err = |k: &str, m: String| -> Diagnostics {
            config
                .error_at(k, "Invalid shell provisioner configuration", m)
                .into()
        };
        if n == 0 {
            return Err(err(
                "inline",
                "Either a script file or inline script must be specified.".into(),
            ));
        }
        if n > 1 {
            return Err(err(
                "inline",
                "Only one of script, scripts or inline can be specified.".into(),
            ));
        }
        for (i, s) in c
            .script
            .iter()
            .chain(c.scripts.iter().flatten())
            .enumerate()
        {
            if let Err(e) = std::fs::metadata(s) {
                let path = if c.script.is_some() {
                    "script".to_string()
                } else {
                    format!("scripts[{i}]")
                };
                return Err(err(&path, format!("Bad script '{s}': {e}")));
            }
        }
        for (i, kv) in c.environment_vars.iter().enumerate() {
            if !kv.contains('=') {
                return Err(err(
                    &format!("environment_vars[{i}]"),
                    format!("Environment variable not in format 'key=value': {kv}"),
                ));
            }
        }
        Ok(Vec::new())
    }

    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError> {
        let c = &self.cfg;
        let mut env = crate::env_map(&ctx.info, &c.environment_vars, &c.env).map_err(fail)?;
        if let (Some(ip), Some(port)) = (data.get("PackerHTTPIP"), data.get("PackerHTTPPort")) {
            if !ip.is_empty() {
                env.insert("PACKER_HTTP_ADDR".into(), format!("{ip}:{port}"));
                env.insert("PACKER_HTTP_IP".into(), ip.clone());
                env.insert("PACKER_HTTP_PORT".into(), port.clone());
            }
        }
        let remote_folder = c.remote_folder.clone().unwrap_or_else(|| "/tmp".into());
        let remote_file = c
            .remote_file
            .clone()
            .unwrap_or_else(|| format!("script_{}.sh", rand::random_range(1000..100_000_000)));
        let remote_path = c
            .remote_path
            .clone()
            .unwrap_or_else(|| format!("{}/{remote_file}", remote_folder.trim_end_matches('/')));
        let exec_tpl = c
            .execute_command
            .clone()
            .unwrap_or_else(|| "chmod +x {{.Path}}; {{.Vars}} {{.Path}}".into());
        let valid = c.valid_exit_codes.clone().unwrap_or_else(|| vec![0]);

        // Inline commands become one script, like Packer: one upload, one shell.
        let mut temp = None;
        let scripts: Vec<std::path::PathBuf> = if let Some(lines) = &c.inline {
            let f = tempfile::Builder::new()
                .prefix("packer-shell")
                .tempfile()
                .map_err(|e| BuildError::io("creating a temp file", e))?;
            let path = f.path().to_path_buf();
            let mut f = ctx.journal.hold(f, &path, "temporary file")?;
            // As Packer 1.13+: inline commands that start with their own `#!` keep it, unless
            // `inline_shebang` is set.
            let own =
                c.inline_shebang.is_none() && lines.first().is_some_and(|l| l.starts_with("#!"));
            let mut text = if own {
                String::new()
            } else {
                format!(
                    "#!{}\n",
                    c.inline_shebang.as_deref().unwrap_or("/bin/sh -e")
                )
            };
            for l in lines {
                text.push_str(l);
                text.push('\n');
            }
            std::io::Write::write_all(&mut *f, text.as_bytes())
                .map_err(|e| BuildError::io("writing the inline script", e))?;
            let p = f.path().to_path_buf();
            temp = Some(f);
            vec![p]
        } else {
            c.script
                .iter()
                .chain(c.scripts.iter().flatten())
                .map(std::path::PathBuf::from)
                .collect()
        };

        for script in &scripts {
            ctx.ui.say(format!(
                "Provisioning with shell script: {}",
                script.display()
            ));
            let mut file = tokio::fs::File::open(script)
                .await
                .map_err(|e| BuildError::io(format!("opening {}", script.display()), e))?;
            let size = file.metadata().await.ok().map(|m| m.len());
            let mut vars =
                crate::flatten_env(&env, c.env_var_format.as_deref().unwrap_or("%s='%s' "));
            if c.use_env_var_file {
                let env_path = format!(
                    "{}/varfile_{}.sh",
                    remote_folder.trim_end_matches('/'),
                    rand::random_range(1000..100_000_000)
                );
                let text: String = env
                    .iter()
                    .map(|(k, v)| format!("export {k}={}\n", shell_quote(v)))
                    .collect();
                comm.upload(
                    &env_path,
                    &mut text.as_bytes(),
                    Some(text.len() as u64),
                    Some(0o600),
                )
                .await?;
                vars = format!(". {env_path} && ");
            }
            let mut tdata = BTreeMap::new();
            tdata.insert("Vars", vars);
            tdata.insert("Path", remote_path.clone());
            for (k, v) in data {
                tdata.insert(k.as_str(), v.clone());
            }
            let command = gotemplate::render(&exec_tpl, &tdata)
                .map_err(|e| fail(format!("Error processing execute_command: {e}")))?;
            let ui = ctx.ui.clone();
            let mut sink = move |s: OutputStream, l: &str| ui.output(s, l);
            // One remote command uploads, runs and removes the script where the communicator
            // can pass it input: each SSH session costs the login shell's start-up (rc files).
            let one = match size {
                Some(n) if n <= ONE_SHOT_MAX => {
                    let mut text = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
                    file.read_to_end(&mut text)
                        .await
                        .map_err(|e| BuildError::io(format!("reading {}", script.display()), e))?;
                    let r = tokio::select! {
                        r = run_uploaded(&*comm, &remote_path, &command, &text, !c.skip_clean, &mut sink) => r,
                        () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
                    };
                    match r {
                        Err(kiln_core::communicator::CommError::Unsupported(_)) => {
                            file = tokio::fs::File::open(script).await.map_err(|e| {
                                BuildError::io(format!("opening {}", script.display()), e)
                            })?;
                            None
                        }
                        r => Some(r?),
                    }
                }
                _ => None,
            };
            let (status, cleaned) = if let Some(r) = one {
                match r {
                    OneShot::Ran(status) => (status, !c.skip_clean),
                    OneShot::UploadFailed(why) => {
                        return Err(fail(format!("Error uploading script: {why}")));
                    }
                }
            } else {
                comm.upload(&remote_path, &mut file, size, Some(0o755))
                    .await
                    .map_err(|e| fail(format!("Error uploading script: {e}")))?;
                let status = tokio::select! {
                    r = comm.exec(&command, &mut sink) => r?,
                    () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
                };
                (status, false)
            };
            match status {
                ExitStatus::Disconnected if c.expect_disconnect => {
                    ctx.ui
                        .say("Remote end disconnected as expected (expect_disconnect = true)");
                }
                ExitStatus::Disconnected => {
                    return Err(fail("Script disconnected unexpectedly. If you expected your script to disconnect, i.e. from a restart, you can try adding `\"expect_disconnect\": true` or `\"valid_exit_codes\": [0, 2300218]` to the shell provisioner parameters."));
                }
                ExitStatus::Code(code) if !valid.contains(&code) => {
                    return Err(fail(format!("Script exited with non-zero exit status: {code}. Allowed exit codes are: {valid:?}")));
                }
                ExitStatus::Code(_) => {}
            }
            // A disconnect (a reboot) ends the remote command before it removes the script.
            let cleaned = cleaned && status != ExitStatus::Disconnected;
            if !c.skip_clean && !cleaned {
                let mut quiet = |_: OutputStream, _: &str| {};
                let cleanup = format!("rm -f {}", shell_quote(&remote_path));
                match comm.exec(&cleanup, &mut quiet).await {
                    Ok(s) if s.success() => {}
                    _ if c.expect_disconnect => {}
                    Ok(s) => {
                        return Err(fail(format!(
                            "Error removing temporary script at {remote_path}: {s:?}"
                        )))
                    }
                    Err(e) => {
                        return Err(fail(format!(
                            "Error removing temporary script at {remote_path}: {e}"
                        )))
                    }
                }
            }
        }
        drop(temp);
        if let Some(p) = c.pause_after.filter(|p| !p.is_zero()) {
            ctx.ui.say(format!(
                "Pausing {} after this provisioner...",
                kiln_core::duration::human(p)
            ));
            ctx.sleep(p).await?;
        }
        Ok(())
    }
}

/// Scripts up to this size go up in the command that runs them; larger ones are uploaded first.
const ONE_SHOT_MAX: u64 = 8 << 20;

/// How [`run_uploaded`] went.
enum OneShot {
    /// The script was written and ran (to this status).
    Ran(ExitStatus),
    /// The remote shell could not write the script: its words.
    UploadFailed(String),
}

/// Writes `script` (sent on standard input) to `remote_path`, makes it executable, runs
/// `command` (the rendered `execute_command`) and, with `clean`, removes the script again: one
/// remote command, run by the login shell as a separate `execute_command` would be. An EXIT trap
/// removes the script even when `command` calls `exit`. A unique line on stderr tells a failed
/// write apart from the script's own exit status; it is not shown.
async fn run_uploaded(
    comm: &dyn Communicator,
    remote_path: &str,
    command: &str,
    script: &[u8],
    clean: bool,
    sink: &mut (dyn FnMut(OutputStream, &str) + Send),
) -> Result<OneShot, kiln_core::communicator::CommError> {
    let path = shell_quote(remote_path);
    let token = format!("kiln-upload-failed-{:016x}", rand::random::<u64>());
    let mut remote = String::new();
    if clean {
        remote.push_str(&format!(
            "trap 'rm -f {}' EXIT\n",
            path.replace('\'', "'\\''")
        ));
    }
    remote.push_str(&format!(
        "{{ cat > {path} && chmod 0755 {path}; }} || {{ echo {token} >&2; exit 1; }}\n{command}\n"
    ));
    let mut failed = false;
    let mut last_err = String::new();
    let status = {
        let mut watch = |s: OutputStream, l: &str| {
            if s == OutputStream::Stderr && l == token {
                failed = true;
                return;
            }
            if s == OutputStream::Stderr && !failed {
                last_err = l.to_string();
            }
            sink(s, l);
        };
        comm.exec_with_input(&remote, script, &mut watch).await?
    };
    Ok(if failed {
        OneShot::UploadFailed(if last_err.is_empty() {
            format!("the remote shell could not write {remote_path}")
        } else {
            last_err
        })
    } else {
        OneShot::Ran(status)
    })
}

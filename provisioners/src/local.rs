//! Runs commands on the machine running Kiln, streaming their output as events. Shared by the
//! `shell-local` provisioner and post-processor.

use kiln_core::{BuildContext, BuildError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The options `shell-local` takes, in both its provisioner and post-processor forms.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalConfig {
    /// `command`: one command.
    pub command: Option<String>,
    /// `inline`: commands, run as one script.
    pub inline: Option<Vec<String>>,
    /// `script`: a local script.
    pub script: Option<String>,
    /// `scripts`: local scripts, in order.
    pub scripts: Option<Vec<String>>,
    /// `environment_vars`: `K=V` strings.
    pub environment_vars: Vec<String>,
    /// `env`: a map of variables.
    pub env: BTreeMap<String, String>,
    /// `execute_command`: argv with `{{.Vars}}` and `{{.Script}}`.
    pub execute_command: Option<Vec<String>>,
    /// `inline_shebang` (`/bin/sh -e`).
    pub inline_shebang: Option<String>,
    /// `env_var_format`.
    pub env_var_format: Option<String>,
    /// `only_on`: OS names (`linux`, `darwin` ...) to run on.
    pub only_on: Vec<String>,
    /// `valid_exit_codes` ([0]).
    pub valid_exit_codes: Option<Vec<i32>>,
    /// `use_linux_pathing`: accepted (Windows only in Packer).
    pub use_linux_pathing: bool,
    /// `tempfile_extension`.
    pub tempfile_extension: Option<String>,
    /// `keep_input_artifact`: read by the orchestrator for post-processors.
    pub keep_input_artifact: Option<bool>,
}

impl LocalConfig {
    /// Checks the combination of options.
    ///
    /// # Errors
    /// The attribute at fault and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let n = [
            self.command.is_some(),
            self.inline.is_some(),
            self.script.is_some(),
            self.scripts.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n == 0 {
            return Err((
                "command",
                "Command, Inline, Script and Scripts options cannot all be empty.".into(),
            ));
        }
        if n > 1 {
            return Err((
                "command",
                "Only one of command, inline, script or scripts can be specified.".into(),
            ));
        }
        for s in self.script.iter().chain(self.scripts.iter().flatten()) {
            if let Err(e) = std::fs::metadata(s) {
                return Err(("script", format!("Bad script '{s}': {e}")));
            }
        }
        for kv in &self.environment_vars {
            if !kv.contains('=') {
                return Err((
                    "environment_vars",
                    format!("Environment variable not in format 'key=value': {kv}"),
                ));
            }
        }
        Ok(())
    }
}

/// Runs the configured local commands.
///
/// # Errors
/// A command that cannot start or exits with a code not in `valid_exit_codes`.
pub async fn run(
    ctx: &BuildContext,
    cfg: &LocalConfig,
    extra_env: &BTreeMap<String, String>,
) -> Result<(), BuildError> {
    if !cfg.only_on.is_empty() && !cfg.only_on.iter().any(|os| os == std::env::consts::OS) {
        ctx.ui.say(format!(
            "Skipping shell-local due to runtime OS {}",
            std::env::consts::OS
        ));
        return Ok(());
    }
    let fail = |m: String| BuildError::Provisioner {
        kind: "shell-local".into(),
        message: m,
    };
    let mut env = crate::env_map(&ctx.info, &cfg.environment_vars, &cfg.env).map_err(fail)?;
    env.extend(extra_env.iter().map(|(k, v)| (k.clone(), v.clone())));
    // `command` and `inline` both become one temporary, executable script.
    let lines: Option<Vec<String>> = match (&cfg.command, &cfg.inline) {
        (Some(c), _) => Some(vec![c.clone()]),
        (None, Some(l)) => Some(l.clone()),
        (None, None) => None,
    };
    let mut tmp = None;
    let scripts: Vec<String> = if let Some(lines) = lines {
        let dir = tempfile::Builder::new()
            .prefix("kiln-shell-local")
            .tempdir()
            .map_err(|e| BuildError::io("creating a temp dir", e))?;
        let path = dir.path().to_path_buf();
        let dir = ctx.journal.hold(dir, &path, "temporary directory")?;
        let p = dir.path().join(format!(
            "script{}",
            cfg.tempfile_extension.as_deref().unwrap_or(".sh")
        ));
        let mut text = format!(
            "#!{}\n",
            cfg.inline_shebang.as_deref().unwrap_or("/bin/sh -e")
        );
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        {
            let _no_fork = crate::process::SCRIPT_FILES
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::fs::write(&p, text).map_err(|e| BuildError::io("writing the script", e))?;
        }
        make_executable(&p)?;
        let s = p.to_string_lossy().to_string();
        tmp = Some(dir);
        vec![s]
    } else {
        // As Packer, a script is run by its absolute path: `setup.sh` is the file, not a
        // command the shell looks up in PATH.
        cfg.script
            .iter()
            .chain(cfg.scripts.iter().flatten())
            .map(|s| {
                std::path::absolute(s).map_or_else(|_| s.clone(), |p| p.to_string_lossy().into())
            })
            .collect()
    };
    let exec = cfg.execute_command.clone().unwrap_or_else(|| {
        vec![
            "/bin/sh".into(),
            "-c".into(),
            "{{.Vars}} {{.Script}}".into(),
        ]
    });
    let valid = cfg.valid_exit_codes.clone().unwrap_or_else(|| vec![0]);
    let vars = crate::flatten_env(&env, cfg.env_var_format.as_deref().unwrap_or("%s='%s' "));
    let env: Vec<(String, String)> = env.into_iter().collect();
    for script in scripts {
        ctx.ui.say(format!("Running local shell script: {script}"));
        let mut data = BTreeMap::new();
        data.insert("Vars", vars.clone());
        data.insert("Script", script.clone());
        data.insert("Command", script.clone());
        let argv: Vec<String> = exec
            .iter()
            .map(|a| crate::gotemplate::render(a, &data))
            .collect::<Result<_, _>>()
            .map_err(fail)?;
        let (prog, args) = argv
            .split_first()
            .ok_or_else(|| fail("execute_command is empty".into()))?;
        let code = match crate::process::run(ctx, prog, args, &env, &|_| {}).await {
            Ok(code) => code,
            Err(crate::process::RunError::Cancelled) => return Err(BuildError::Cancelled),
            Err(crate::process::RunError::Spawn(e)) => {
                return Err(fail(format!("Error running local command {prog}: {e}")))
            }
            Err(crate::process::RunError::Wait(e)) => return Err(fail(e.to_string())),
        };
        if !valid.contains(&code) {
            return Err(fail(format!("Erroneous exit code {code} while executing script: {script}\n\nPlease see output above for more information.")));
        }
    }
    drop(tmp);
    Ok(())
}

fn make_executable(p: &std::path::Path) -> Result<(), BuildError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| BuildError::io("making the script executable", e))?;
    }
    Ok(())
}

//! # kiln-goss: goss specs, evaluated natively
//!
//! goss's YAML specs are read here (with `{{.Vars}}` templating and `gossfile` includes), the
//! facts of every resource are gathered in one remote POSIX shell command, and goss's matchers
//! are evaluated locally. No goss binary is downloaded or uploaded. Three callers share it: the
//! `goss` provisioner (inside the build), the `test` post-processor and `kiln test` (against a
//! throwaway machine booted from the built image, see [`test_machine`]).
//!
//! [`spec`] parses specs, [`probe`] writes the shell probe and evaluates its facts, [`matcher`]
//! is goss's matchers, [`report`] its output formats.

pub mod matcher;
pub mod probe;
pub mod report;
pub mod spec;

use kiln_core::communicator::capture;
use kiln_core::launch::Machine;
use kiln_core::{BuildContext, BuildError, Communicator};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where a spec comes from: the goss provisioner plugin's options of that name.
#[derive(Debug, Clone, Default)]
pub struct Tests {
    /// goss files, or directories of them.
    pub tests: Vec<String>,
    /// The file to start from among them (default goss.yaml).
    pub goss_file: String,
    /// YAML or JSON values for `{{.Vars}}`.
    pub vars_file: String,
    /// More values, over those of `vars_file`.
    pub vars_inline: BTreeMap<String, String>,
    /// Environment for `{{.Env}}` and the probe.
    pub vars_env: BTreeMap<String, String>,
}

/// A spec problem, with the option it concerns (for a located configuration error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The option: `tests`, `goss_file` or `vars_file`.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

impl Tests {
    /// Reads the spec: the entry file with its includes, templated with the vars.
    ///
    /// # Errors
    /// A missing file, unreadable vars, or a spec error (located in its file).
    pub fn load(&self) -> Result<(PathBuf, Vec<spec::Resource>), SpecError> {
        let err = |key, message| SpecError { key, message };
        if self.tests.is_empty() {
            return Err(err(
                "tests",
                "tests must be specified: the goss files (or directories of them) to run".into(),
            ));
        }
        if let Some(t) = self.tests.iter().find(|t| !Path::new(t).exists()) {
            return Err(err("tests", format!("{t} does not exist")));
        }
        let mut vars = serde_yaml::Value::Null;
        if !self.vars_file.is_empty() {
            let t = std::fs::read_to_string(&self.vars_file)
                .map_err(|e| err("vars_file", format!("cannot read {}: {e}", self.vars_file)))?;
            vars = serde_yaml::from_str(&t)
                .map_err(|e| err("vars_file", format!("{}: {e}", self.vars_file)))?;
        }
        if !self.vars_inline.is_empty() {
            if !vars.is_mapping() {
                vars = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
            }
            if let Some(m) = vars.as_mapping_mut() {
                for (k, v) in &self.vars_inline {
                    m.insert(k.clone().into(), v.clone().into());
                }
            }
        }
        let entry = entry(&self.tests, &self.goss_file).map_err(|m| err("goss_file", m))?;
        let resources = spec::load(&entry, &vars, &self.vars_env).map_err(|m| err("tests", m))?;
        Ok((entry, resources))
    }
}

/// The file goss would start from: `goss_file` among the tests (a file of that name, or in a
/// directory of them), else a test named goss.yaml, else the first file (`DIR/goss.yaml` for a
/// directory).
fn entry(tests: &[String], goss_file: &str) -> Result<PathBuf, String> {
    let want = if goss_file.is_empty() {
        "goss.yaml"
    } else {
        goss_file
    };
    // As Packer's goss provisioner lays them out in remote_path: a file test by its name, a
    // directory test as that directory (`goss_file = "goss/goss.yaml"` for tests/goss).
    for t in tests {
        let p = Path::new(t);
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if let Some(inner) = Path::new(want)
            .strip_prefix(name)
            .ok()
            .filter(|_| p.is_dir())
        {
            if !inner.as_os_str().is_empty() && p.join(inner).is_file() {
                return Ok(p.join(inner));
            }
        }
    }
    for t in tests {
        let p = Path::new(t);
        if p.is_dir() && p.join(want).is_file() {
            return Ok(p.join(want));
        }
        if p.file_name().and_then(|n| n.to_str()) == Some(want) {
            return Ok(p.to_path_buf());
        }
    }
    if !goss_file.is_empty() {
        return Err(format!(
            "goss_file {goss_file:?} is not among the tests ({})",
            tests.join(", ")
        ));
    }
    tests
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no goss file among the tests ({})", tests.join(", ")))
}

/// How [`run`] runs a spec.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Environment variables for the probe (`vars_env`).
    pub env: BTreeMap<String, String>,
    /// Run it through `sudo -n`.
    pub use_sudo: bool,
    /// Re-run while something fails, until this much time has passed.
    pub retry: Duration,
    /// Between runs.
    pub sleep: Duration,
}

/// Loads a spec: `spec` with its includes, `{{.Vars}}` from `vars_file` (YAML or JSON).
///
/// # Errors
/// A file that cannot be read, or a spec error (located).
pub fn load_spec(spec: &Path, vars_file: Option<&Path>) -> Result<Vec<spec::Resource>, String> {
    let tests = Tests {
        tests: vec![spec.display().to_string()],
        goss_file: spec
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        vars_file: vars_file
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        ..Tests::default()
    };
    tests.load().map(|(_, r)| r).map_err(|e| e.message)
}

/// Runs `resources` on the machine behind `comm`: one probe command per attempt.
///
/// # Errors
/// The machine could not be reached, the probe was cut short, or a matcher in the spec is bad.
pub async fn run(
    ctx: &BuildContext,
    comm: &dyn Communicator,
    resources: &[spec::Resource],
    opts: &RunOptions,
) -> Result<Vec<probe::Outcome>, BuildError> {
    let script = probe::script(resources);
    let env: String = opts
        .env
        .iter()
        .map(|(k, v)| format!("{k}='{}' ", v.replace('\'', "'\"'\"'")))
        .collect();
    // The script travels on standard input (a spec of hundreds of resources is larger than one
    // command-line argument may be); as an argument where the communicator has no input.
    let sudo = if opts.use_sudo { "sudo -n -E " } else { "" };
    let on_stdin = format!("{env}{sudo}sh -s");
    let as_argument = format!("{env}{sudo}sh -c '{}'", script.replace('\'', "'\"'\"'"));
    let start = Instant::now();
    loop {
        let attempt = async {
            match capture(comm, &on_stdin, Some(script.as_bytes())).await {
                Err(kiln_core::communicator::CommError::Unsupported(_)) => {
                    capture(comm, &as_argument, None).await
                }
                r => r,
            }
        };
        let ran = tokio::select! {
            r = attempt => r?,
            () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
        };
        let facts = probe::parse(&ran.stdout);
        if !facts.complete {
            return Err(failed(format!(
                "the goss probe did not run to its end: {}",
                ran.stderr.trim()
            )));
        }
        let results = probe::evaluate(resources, &facts).map_err(failed)?;
        let failing = results.iter().any(|o| o.result == probe::Verdict::Fail);
        if !failing || start.elapsed() + opts.sleep > opts.retry {
            return Ok(results);
        }
        ctx.sleep(opts.sleep).await?;
    }
}

fn failed(message: String) -> BuildError {
    BuildError::Provisioner {
        kind: "goss".into(),
        message,
    }
}

/// A finished run of a spec: its results and how long it took.
#[derive(Debug, Clone)]
pub struct Run {
    /// One per assertion.
    pub results: Vec<probe::Outcome>,
    /// The time the run took.
    pub took: Duration,
    /// When it ended (RFC 3339), for the reports.
    pub ended: String,
}

impl Run {
    /// Whether an assertion failed.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.results
            .iter()
            .any(|o| o.result == probe::Verdict::Fail)
    }

    /// The results in one of [`report::FORMATS`].
    #[must_use]
    pub fn render(&self, format: &str) -> String {
        report::render(format, &self.results, self.took, &self.ended)
    }

    /// The failed assertions, one paragraph each, under a count: the message a failing build
    /// ends with.
    #[must_use]
    pub fn failures(&self) -> String {
        let bad: Vec<&probe::Outcome> = self
            .results
            .iter()
            .filter(|o| o.result == probe::Verdict::Fail)
            .collect();
        let mut msg = format!("{} of {} goss tests failed:", bad.len(), self.results.len());
        for o in &bad {
            msg.push_str("\n  ");
            msg.push_str(&report::line(o).replace('\n', "\n    "));
        }
        msg
    }
}

/// [`run`], timed, as a [`Run`].
///
/// # Errors
/// As [`run`].
pub async fn run_timed(
    ctx: &BuildContext,
    comm: &dyn Communicator,
    resources: &[spec::Resource],
    opts: &RunOptions,
) -> Result<Run, BuildError> {
    let start = Instant::now();
    let results = run(ctx, comm, resources, opts).await?;
    Ok(Run {
        results,
        took: start.elapsed(),
        ended: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    })
}

/// Connects to a throwaway machine over SSH (`ssh` says how to log in; its host and port are
/// the machine's, and a key the launch made is used when `ssh` names none) and runs the spec.
/// The caller stops the machine afterwards, whatever this returns.
///
/// # Errors
/// SSH never answered (with the machine's console), the machine stopped by itself, the run was
/// cancelled, or [`run`] failed.
pub async fn test_machine(
    ctx: &BuildContext,
    machine: &mut dyn Machine,
    ssh: &kiln_communicator::SshConfig,
    resources: &[spec::Resource],
    opts: &RunOptions,
) -> Result<Run, BuildError> {
    let (host, port) = machine.ssh_address();
    let mut cfg = ssh.clone();
    cfg.ssh_host = host;
    cfg.ssh_port = port;
    if cfg.ssh_password.is_none() && cfg.ssh_private_key_file.is_none() && cfg.private_key.is_none()
    {
        cfg.private_key = machine.ssh_private_key();
    }
    let connected = tokio::select! {
        c = kiln_communicator::ssh::connect(ctx, &cfg) => c,
        why = machine.exited() => return Err(BuildError::step(why)),
        () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
    };
    let comm = match connected {
        Ok(c) => c,
        Err(e) => {
            let console = machine.console();
            return Err(BuildError::step(if console.trim().is_empty() {
                format!("{}: {e}", machine.describe())
            } else {
                format!(
                    "{}: {e}\nIts console:\n{}",
                    machine.describe(),
                    console.trim_end()
                )
            }));
        }
    };
    run_timed(ctx, &comm, resources, opts).await
}

#[cfg(test)]
mod tests {
    use super::entry;

    #[test]
    fn goss_file_names_a_file_as_the_provisioner_uploads_the_tests() {
        let dir = tempfile::tempdir().unwrap();
        let tests = dir.path().join("tests/goss");
        std::fs::create_dir_all(&tests).unwrap();
        std::fs::write(tests.join("goss.yaml"), "file: {}\n").unwrap();
        let t = vec![tests.display().to_string()];
        // A directory test is uploaded as that directory: its files are under its name.
        assert_eq!(
            entry(&t, "goss/goss.yaml").unwrap(),
            tests.join("goss.yaml")
        );
        assert_eq!(entry(&t, "goss.yaml").unwrap(), tests.join("goss.yaml"));
        assert!(entry(&t, "goss/other.yaml")
            .unwrap_err()
            .starts_with("goss_file \"goss/other.yaml\" is not among the tests"));
    }
}

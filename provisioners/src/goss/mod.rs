//! The `goss` provisioner, run natively: it takes the options of the goss provisioner plugin
//! (YaleUniversity/packer-plugin-goss), reads the goss spec locally (with `{{.Vars}}`
//! templating and `gossfile` includes), gathers the facts of every resource in one remote
//! POSIX shell command, and evaluates goss's matchers here. No goss binary is downloaded or
//! uploaded; the options that only concern that binary are accepted and ignored with a warning.
//! A failing test fails the build before the image is made, listing each failed assertion with
//! what was expected and what was found.
//!
//! [`spec`] parses specs, [`probe`] writes the shell probe and evaluates its facts, [`matcher`]
//! is goss's matchers, [`report`] its output formats.

pub mod matcher;
pub mod probe;
pub mod report;
pub mod spec;

use async_trait::async_trait;
use kiln_core::communicator::capture;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, GeneratedData,
    OutputStream, Provisioner,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct GossConfig {
    tests: Vec<String>,
    goss_file: String,
    vars_file: String,
    vars_inline: BTreeMap<String, String>,
    vars_env: BTreeMap<String, String>,
    format: String,
    format_options: String,
    retry_timeout: String,
    sleep: String,
    use_sudo: bool,
    inspect: bool,
    /// Kiln's addition: the formatted results are also written here.
    output_file: String,
    // Options of the goss binary's installation: accepted, not needed.
    version: Option<String>,
    arch: Option<String>,
    url: Option<String>,
    download_path: Option<String>,
    username: Option<String>,
    password: Option<String>,
    skip_install: Option<bool>,
    skip_ssl: Option<bool>,
    skip_download: Option<bool>,
    target_os: Option<String>,
    remote_folder: Option<String>,
    remote_path: Option<String>,
}

/// `provisioner "goss"`.
#[derive(Debug, Default)]
pub struct Goss {
    cfg: GossConfig,
    resources: Vec<spec::Resource>,
    entry: PathBuf,
    retry: Duration,
    sleep: Duration,
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
    let vars = match vars_file {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_yaml::from_str(&t).map_err(|e| format!("{}: {e}", p.display()))?
        }
        None => serde_yaml::Value::Null,
    };
    spec::load(spec, &vars, &BTreeMap::new())
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

#[async_trait]
impl Provisioner for Goss {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        let c = &self.cfg;
        let invalid = |key: &str, m: String| config.error_at(key, "Invalid goss configuration", m);
        let mut diags = Diagnostics::default();
        let mut warnings = Vec::new();
        if c.tests.is_empty() {
            diags.push(invalid(
                "tests",
                "tests must be specified: the goss files (or directories of them) to run".into(),
            ));
        }
        for t in &c.tests {
            if !Path::new(t).exists() {
                diags.push(invalid("tests", format!("{t} does not exist")));
            }
        }
        if !c.format.is_empty() && !report::FORMATS.contains(&c.format.as_str()) {
            diags.push(invalid(
                "format",
                format!(
                    "unknown format {:?}; use one of {}",
                    c.format,
                    report::FORMATS.join(", ")
                ),
            ));
        }
        for (key, v, default) in [
            ("retry_timeout", &c.retry_timeout, "0s"),
            ("sleep", &c.sleep, "1s"),
        ] {
            let text = if v.is_empty() { default } else { v.as_str() };
            match kiln_core::duration::parse(text) {
                Ok(d) if key == "sleep" => self.sleep = d,
                Ok(d) => self.retry = d,
                Err(e) => diags.push(invalid(key, e)),
            }
        }
        let ignored: Vec<&str> = [
            ("version", c.version.is_some()),
            ("arch", c.arch.is_some()),
            ("url", c.url.is_some()),
            ("download_path", c.download_path.is_some()),
            ("username", c.username.is_some()),
            ("password", c.password.is_some()),
            ("skip_install", c.skip_install.is_some()),
            ("skip_ssl", c.skip_ssl.is_some()),
            ("skip_download", c.skip_download.is_some()),
            ("remote_folder", c.remote_folder.is_some()),
            ("remote_path", c.remote_path.is_some()),
            ("format_options", !c.format_options.is_empty()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if !ignored.is_empty() {
            warnings.push(format!(
                "goss: {} only concern(s) the goss binary, which Kiln does not use (it evaluates the spec itself): ignored",
                ignored.join(", ")
            ));
        }
        if c.target_os
            .as_deref()
            .is_some_and(|o| !o.eq_ignore_ascii_case("linux"))
        {
            diags.push(invalid(
                "target_os",
                format!(
                    "target_os {:?}: Kiln's goss runs against Linux (POSIX shell) machines only",
                    c.target_os.as_deref().unwrap_or_default()
                ),
            ));
        }
        if diags.0.is_empty() && !c.tests.is_empty() {
            // The spec, read now so that `kiln validate` reports its errors.
            let mut vars = serde_yaml::Value::Null;
            if !c.vars_file.is_empty() {
                match std::fs::read_to_string(&c.vars_file) {
                    Ok(t) => match serde_yaml::from_str(&t) {
                        Ok(v) => vars = v,
                        Err(e) => diags.push(invalid("vars_file", format!("{}: {e}", c.vars_file))),
                    },
                    Err(e) => diags.push(invalid(
                        "vars_file",
                        format!("cannot read {}: {e}", c.vars_file),
                    )),
                }
            }
            if !c.vars_inline.is_empty() {
                if !vars.is_mapping() {
                    vars = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
                }
                if let Some(m) = vars.as_mapping_mut() {
                    for (k, v) in &c.vars_inline {
                        m.insert(k.clone().into(), v.clone().into());
                    }
                }
            }
            match entry(&c.tests, &c.goss_file) {
                Ok(e) => match spec::load(&e, &vars, &c.vars_env) {
                    Ok(r) => {
                        self.resources = r;
                        self.entry = e;
                    }
                    Err(m) => diags.push(invalid("tests", m)),
                },
                Err(m) => diags.push(invalid("goss_file", m)),
            }
        }
        if diags.0.is_empty() {
            Ok(warnings)
        } else {
            Err(diags)
        }
    }

    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        _data: &GeneratedData,
    ) -> Result<(), BuildError> {
        ctx.ui.say(format!(
            "Running goss tests natively: {} assertions on {} resources",
            self.resources
                .iter()
                .map(|r| r.asserts.len())
                .sum::<usize>(),
            self.resources.len()
        ));
        let start = Instant::now();
        let opts = RunOptions {
            env: self.cfg.vars_env.clone(),
            use_sudo: self.cfg.use_sudo,
            retry: self.retry,
            sleep: self.sleep,
        };
        let results = run(ctx, comm.as_ref(), &self.resources, &opts).await?;
        let format = if self.cfg.format.is_empty() {
            "rspecish"
        } else {
            self.cfg.format.as_str()
        };
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let text = report::render(format, &results, start.elapsed(), &now);
        // The results for the catalog, in goss's JSON whatever the format shown.
        ctx.ui.document(
            "goss-results",
            self.entry.display().to_string(),
            report::render("json", &results, start.elapsed(), &now),
        );
        for l in text.lines() {
            ctx.ui.output(OutputStream::Stdout, l);
        }
        if !self.cfg.output_file.is_empty() {
            std::fs::write(&self.cfg.output_file, &text)
                .map_err(|e| failed(format!("writing {}: {e}", self.cfg.output_file)))?;
        }
        let bad: Vec<&probe::Outcome> = results
            .iter()
            .filter(|o| o.result == probe::Verdict::Fail)
            .collect();
        if bad.is_empty() {
            return Ok(());
        }
        let mut msg = format!("{} of {} goss tests failed:", bad.len(), results.len());
        for o in &bad {
            msg.push_str("\n  ");
            msg.push_str(&report::line(o).replace('\n', "\n    "));
        }
        if self.cfg.inspect {
            ctx.ui
                .error(format!("{msg}\n(inspect = true: the build goes on)"));
            return Ok(());
        }
        Err(failed(msg))
    }
}

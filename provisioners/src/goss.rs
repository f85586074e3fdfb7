//! The `goss` provisioner: it takes the options of the goss provisioner plugin
//! (YaleUniversity/packer-plugin-goss) and runs the spec natively with [`kiln_goss`]: no goss
//! binary is downloaded or uploaded, and the options that only concern that binary are accepted
//! and ignored with a warning. A failing test fails the build before the image is made, listing
//! each failed assertion with what was expected and what was found.

use async_trait::async_trait;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, GeneratedData,
    OutputStream, Provisioner,
};
use kiln_goss::{report, spec, RunOptions, Tests};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
        let tests = Tests {
            tests: c.tests.clone(),
            goss_file: c.goss_file.clone(),
            vars_file: c.vars_file.clone(),
            vars_inline: c.vars_inline.clone(),
            vars_env: c.vars_env.clone(),
        };
        // The spec, read now so that `kiln validate` reports its errors.
        match tests.load() {
            Ok((entry, resources)) => {
                self.entry = entry;
                self.resources = resources;
            }
            Err(e) => diags.push(invalid(e.key, e.message)),
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
        let opts = RunOptions {
            env: self.cfg.vars_env.clone(),
            use_sudo: self.cfg.use_sudo,
            retry: self.retry,
            sleep: self.sleep,
        };
        let run = kiln_goss::run_timed(ctx, comm.as_ref(), &self.resources, &opts).await?;
        let format = if self.cfg.format.is_empty() {
            "rspecish"
        } else {
            self.cfg.format.as_str()
        };
        let text = run.render(format);
        // The results for the catalog, in goss's JSON whatever the format shown.
        ctx.ui.document(
            "goss-results",
            self.entry.display().to_string(),
            run.render("json"),
        );
        for l in text.lines() {
            ctx.ui.output(OutputStream::Stdout, l);
        }
        if !self.cfg.output_file.is_empty() {
            std::fs::write(&self.cfg.output_file, &text)
                .map_err(|e| failed(format!("writing {}: {e}", self.cfg.output_file)))?;
        }
        if !run.failed() {
            return Ok(());
        }
        let msg = run.failures();
        if self.cfg.inspect {
            ctx.ui
                .error(format!("{msg}\n(inspect = true: the build goes on)"));
            return Ok(());
        }
        Err(failed(msg))
    }
}

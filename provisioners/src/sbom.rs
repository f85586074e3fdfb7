//! The `sbom` provisioner: reads the machine's package databases in one remote command, writes
//! CycloneDX 1.6 and SPDX 2.3 JSON, and, with `vuln_db`, gates the build on the vulnerabilities
//! an offline OSV database knows of, before the image is made.
//!
//! ```hcl
//! provisioner "sbom" {
//!   formats    = ["cyclonedx", "spdx"]   # the default
//!   output     = "sbom/"                 # a directory, or a file for one format
//!   vuln_db    = "osv/Debian-all.zip"    # a directory of OSV JSON files, or osv.dev's zip
//!   fail_on    = "high"                  # critical | high | medium | low
//!   allow_list = "allow.yaml"            # [{id, reason, expires}]
//!   report     = "findings.json"
//! }
//! ```

use async_trait::async_trait;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, GeneratedData,
    Provisioner,
};
use kiln_sbom::osv::{self, Database, Severity};
use kiln_sbom::{formats, inventory};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SbomConfig {
    formats: Vec<String>,
    output: String,
    vuln_db: String,
    fail_on: String,
    allow_list: String,
    report: String,
}

impl Default for SbomConfig {
    fn default() -> Self {
        SbomConfig {
            formats: vec!["cyclonedx".into(), "spdx".into()],
            output: String::new(),
            vuln_db: String::new(),
            fail_on: "high".into(),
            allow_list: String::new(),
            report: String::new(),
        }
    }
}

/// `provisioner "sbom"`.
#[derive(Debug, Default)]
pub struct Sbom {
    cfg: SbomConfig,
    build: String,
    threshold: Option<Severity>,
}

/// Where the document in `format` goes: `output` itself when it names a `.json` file (one
/// format), else `output/BUILD.cdx.json` or `output/BUILD.spdx.json` (`output` defaults to the
/// working directory).
fn target(output: &str, build: &str, format: &str) -> PathBuf {
    let ext = if format == "spdx" {
        "spdx.json"
    } else {
        "cdx.json"
    };
    if output.ends_with(".json") {
        return PathBuf::from(output);
    }
    let dir = if output.is_empty() { "." } else { output };
    Path::new(dir).join(format!("{build}.{ext}"))
}

/// Writes `text` to `path` whole or not at all.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("json.partial");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

fn failed(message: String) -> BuildError {
    BuildError::Provisioner {
        kind: "sbom".into(),
        message,
    }
}

#[async_trait]
impl Provisioner for Sbom {
    fn prepare(&mut self, config: &Config, info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        self.build = info.name.clone();
        let mut diags = Diagnostics::default();
        if self.cfg.formats.is_empty() {
            diags.push(config.error_at(
                "formats",
                "Invalid sbom configuration",
                "formats is empty: give \"cyclonedx\", \"spdx\" or both",
            ));
        }
        for f in &self.cfg.formats {
            if f != "cyclonedx" && f != "spdx" {
                diags.push(config.error_at(
                    "formats",
                    "Invalid sbom configuration",
                    format!("unknown format {f:?}: the formats are \"cyclonedx\" (1.6) and \"spdx\" (2.3)"),
                ));
            }
        }
        if self.cfg.output.ends_with(".json") && self.cfg.formats.len() > 1 {
            diags.push(config.error_at(
                "output",
                "Invalid sbom configuration",
                format!(
                    "output {:?} is one file, but {} formats are asked for: give a directory, or one format",
                    self.cfg.output,
                    self.cfg.formats.len()
                ),
            ));
        }
        match Severity::parse(&self.cfg.fail_on) {
            Some(s) if s != Severity::Unknown => self.threshold = Some(s),
            _ => diags.push(config.error_at(
                "fail_on",
                "Invalid sbom configuration",
                format!(
                    "fail_on {:?} is not a severity: use \"critical\", \"high\", \"medium\" or \"low\"",
                    self.cfg.fail_on
                ),
            )),
        }
        for (key, v) in [
            ("allow_list", &self.cfg.allow_list),
            ("report", &self.cfg.report),
        ] {
            if !v.is_empty() && self.cfg.vuln_db.is_empty() {
                diags.push(config.error_at(
                    key,
                    "Invalid sbom configuration",
                    format!("{key} needs vuln_db: the database the image is checked against"),
                ));
            }
        }
        if !self.cfg.allow_list.is_empty() {
            match std::fs::read_to_string(&self.cfg.allow_list) {
                Ok(t) => {
                    if let Err(e) = osv::parse_allow_list(&self.cfg.allow_list, &t) {
                        diags.push(config.error_at("allow_list", "Invalid allow list", e));
                    }
                }
                Err(e) => diags.push(config.error_at(
                    "allow_list",
                    "Invalid sbom configuration",
                    format!("cannot read the allow list {}: {e}", self.cfg.allow_list),
                )),
            }
        }
        if !self.cfg.vuln_db.is_empty() && !Path::new(&self.cfg.vuln_db).exists() {
            diags.push(config.error_at(
                "vuln_db",
                "Invalid sbom configuration",
                format!(
                    "the vulnerability database {} does not exist: give a directory of OSV JSON files or an osv.dev zip (e.g. https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip)",
                    self.cfg.vuln_db
                ),
            ));
        }
        if diags.0.is_empty() {
            Ok(Vec::new())
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
        ctx.ui.say("Reading the package databases for the SBOM...");
        let probe = tokio::select! {
            r = kiln_core::communicator::capture(comm.as_ref(), inventory::PROBE, None) => r?,
            () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
        };
        if !probe.status.success() {
            return Err(failed(format!(
                "reading the package databases failed ({:?}): {}",
                probe.status,
                probe.stderr.trim()
            )));
        }
        let inv = inventory::Inventory::from_probe(&probe.stdout).map_err(failed)?;
        if inv.packages.is_empty() {
            ctx.ui.error(
                "Warning: no package database found on the machine (dpkg, rpm, apk); the SBOM lists no packages",
            );
        }
        let now = time::OffsetDateTime::now_utc();
        for f in &self.cfg.formats {
            let doc = if f == "spdx" {
                formats::spdx(&inv, &self.build, now)
            } else {
                formats::cyclonedx(&inv, &self.build, now)
            };
            let path = target(&self.cfg.output, &self.build, f);
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
            write_atomically(&path, &text)
                .map_err(|e| failed(format!("writing {}: {e}", path.display())))?;
            ctx.ui.document(
                if f == "spdx" {
                    "sbom-spdx"
                } else {
                    "sbom-cyclonedx"
                },
                std::path::absolute(&path)
                    .unwrap_or_else(|_| path.clone())
                    .display()
                    .to_string(),
                text,
            );
            ctx.ui.say(format!(
                "SBOM ({}, {} packages): {}",
                if f == "spdx" {
                    "SPDX 2.3"
                } else {
                    "CycloneDX 1.6"
                },
                inv.packages.len(),
                path.display()
            ));
        }
        if self.cfg.vuln_db.is_empty() {
            return Ok(());
        }
        let db_path = PathBuf::from(&self.cfg.vuln_db);
        let db = tokio::task::spawn_blocking(move || Database::load(&db_path))
            .await
            .map_err(|e| failed(e.to_string()))?
            .map_err(|e| failed(e.to_string()))?;
        if !inv.packages.is_empty() && !osv::covered(&inv) {
            return Err(failed(format!(
                "vuln_db: the machine's OS ({} {}) is not one the OSV databases cover here (Debian, Ubuntu, Alpine, Rocky Linux, AlmaLinux), so none of its packages could be matched; remove vuln_db to write the SBOM only",
                inv.os.id, inv.os.version_id
            )));
        }
        let mut findings = osv::scan(&inv, &db);
        if !self.cfg.allow_list.is_empty() {
            let text = std::fs::read_to_string(&self.cfg.allow_list)
                .map_err(|e| failed(format!("reading {}: {e}", self.cfg.allow_list)))?;
            let allow = osv::parse_allow_list(&self.cfg.allow_list, &text).map_err(failed)?;
            osv::apply_allow_list(&mut findings, &allow, now);
        }
        if !self.cfg.report.is_empty() {
            let text = serde_json::to_string_pretty(&findings).unwrap_or_default() + "\n";
            write_atomically(Path::new(&self.cfg.report), &text)
                .map_err(|e| failed(format!("writing {}: {e}", self.cfg.report)))?;
        }
        let threshold = self.threshold.unwrap_or(Severity::High);
        let blocking = osv::gate(&findings, threshold);
        ctx.ui.say(format!(
            "Vulnerabilities: {} found in {} packages against {} records ({} allowed, {} at {} or above)",
            findings.len(),
            inv.packages.len(),
            db.len(),
            findings.iter().filter(|f| f.allowed.is_some()).count(),
            blocking.len(),
            threshold.as_str()
        ));
        if blocking.is_empty() {
            return Ok(());
        }
        let mut msg = format!(
            "{} {} at {} or above (fail_on = {:?}); fix them, or allow them in an allow_list with a reason:",
            blocking.len(),
            if blocking.len() == 1 {
                "vulnerability"
            } else {
                "vulnerabilities"
            },
            threshold.as_str(),
            self.cfg.fail_on
        );
        for f in &blocking {
            msg.push_str(&format!(
                "\n  {} {}: {} {} (fixed in {}){}",
                f.severity.as_str(),
                f.id,
                f.package,
                f.installed,
                f.fixed.as_deref().unwrap_or("no fixed version yet"),
                if f.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", f.aliases.join(", "))
                }
            ));
        }
        Err(failed(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            target("", "qemu.vm", "spdx"),
            Path::new("./qemu.vm.spdx.json")
        );
        assert_eq!(
            target("out", "qemu.vm", "cyclonedx"),
            Path::new("out/qemu.vm.cdx.json")
        );
        assert_eq!(
            target("bom.json", "qemu.vm", "cyclonedx"),
            Path::new("bom.json")
        );
    }
}

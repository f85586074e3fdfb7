//! The `manifest` post-processor: records every build of every run in a JSON file, in Packer's
//! exact format, appending across runs.

use async_trait::async_trait;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, PostProcessed,
    PostProcessor,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ManifestConfig {
    output: Option<String>,
    strip_path: bool,
    strip_time: bool,
    custom_data: Option<BTreeMap<String, String>>,
}

/// One build in the manifest (field order is Packer's).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestBuild {
    /// The build's (source) name.
    pub name: String,
    /// The builder type.
    pub builder_type: String,
    /// Unix time of the build; omitted with `strip_time`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub build_time: i64,
    /// The artifact's files, or null.
    pub files: Option<Vec<ManifestFile>>,
    /// The artifact id.
    pub artifact_id: String,
    /// The run's UUID.
    pub packer_run_uuid: String,
    /// `custom_data`, or null.
    pub custom_data: Option<BTreeMap<String, String>>,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A file entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Its path (or base name with `strip_path`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The whole manifest file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ManifestDoc {
    /// Every build recorded so far.
    pub builds: Vec<ManifestBuild>,
    /// The UUID of the last run that wrote to it.
    pub last_run_uuid: String,
}

/// `post-processor "manifest"`.
#[derive(Debug, Default)]
pub struct Manifest {
    cfg: ManifestConfig,
}

/// Encodes JSON as Go's `json.MarshalIndent(v, "", "  ")` does (HTML characters escaped).
#[must_use]
pub fn go_json(v: &impl Serialize) -> String {
    let s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An exclusive lock on a file beside a shared output, held by one process at a time and
/// removed on release (a waiter that then holds the removed file sees it and takes the new one).
struct FileLock {
    path: std::path::PathBuf,
    _file: std::fs::File,
}

impl FileLock {
    async fn acquire(path: String) -> std::io::Result<FileLock> {
        let p = std::path::PathBuf::from(path);
        tokio::task::spawn_blocking(move || loop {
            use std::os::unix::fs::MetadataExt;
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&p)?;
            f.lock()?;
            // Still the file at that path (not one a previous holder removed meanwhile)?
            match std::fs::metadata(&p) {
                Ok(m) if m.ino() == f.metadata()?.ino() => {
                    return Ok(FileLock { path: p, _file: f });
                }
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still held, so no other process can lock this file and then lose it.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[async_trait]
impl PostProcessor for Manifest {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        Ok(Vec::new())
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let output = self
            .cfg
            .output
            .clone()
            .unwrap_or_else(|| "packer-manifest.json".into());
        let output = crate::render_output("manifest", &output, &ctx.info, &[])?;
        let mut files = Vec::new();
        for f in artifact.files() {
            let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            let name = if self.cfg.strip_path {
                std::path::Path::new(&f)
                    .file_name()
                    .map_or(f.clone(), |n| n.to_string_lossy().to_string())
            } else {
                f
            };
            files.push(ManifestFile { name, size });
        }
        let build_time = if self.cfg.strip_time {
            0
        } else {
            time::OffsetDateTime::now_utc().unix_timestamp()
        };
        let entry = ManifestBuild {
            name: ctx.info.source_name.clone(),
            builder_type: ctx.info.source_type.clone(),
            build_time,
            files: (!files.is_empty()).then_some(files),
            artifact_id: artifact.id(),
            packer_run_uuid: ctx.info.run_uuid.clone(),
            custom_data: self.cfg.custom_data.clone(),
        };
        // Parallel builds append to the same file: serialise the read-modify-write, within
        // this process and, through `<output>.lock`, with other Kiln processes.
        let _guard = LOCK.lock().await;
        // (As Packer, the directory is not made: a manifest into one that does not exist fails.)
        let lock = FileLock::acquire(format!("{output}.lock"))
            .await
            .map_err(|e| crate::io_err("manifest", &format!("locking {output}.lock"), e))?;
        let mut doc: ManifestDoc = match std::fs::read_to_string(&output) {
            Ok(text) if !text.trim().is_empty() => serde_json::from_str(&text).map_err(|e| BuildError::PostProcessor {
                kind: "manifest".into(),
                message: format!("{output} exists but is not a manifest ({e}); move it away or choose another output"),
            })?,
            _ => ManifestDoc::default(),
        };
        doc.builds.push(entry);
        doc.last_run_uuid.clone_from(&ctx.info.run_uuid);
        let staged = kiln_core::staged::StagedFile::new(&output);
        std::fs::write(staged.path(), go_json(&doc))
            .and_then(|()| staged.commit())
            .map_err(|e| crate::io_err("manifest", &format!("writing {output}"), e))?;
        drop(lock);
        Ok(PostProcessed {
            artifact,
            keep_input: true,
            force_keep: true,
        })
    }
}

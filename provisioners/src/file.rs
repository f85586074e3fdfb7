//! The `file` provisioner: upload files and directories to the machine, or download them from it,
//! with Packer's trailing-slash rules:
//!
//! - a source directory ending in `/` copies its contents into the destination; without the slash
//!   the directory itself is created inside the destination;
//! - a destination ending in `/` is a directory the file goes into, keeping its name.

use async_trait::async_trait;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, GeneratedData,
    Provisioner,
};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FileConfig {
    source: Option<String>,
    sources: Option<Vec<String>>,
    content: Option<String>,
    destination: String,
    direction: Option<String>,
    generated: bool,
}

/// `provisioner "file"`.
#[derive(Debug, Default)]
pub struct FileProvisioner {
    cfg: FileConfig,
}

fn fail(message: impl Into<String>) -> BuildError {
    BuildError::Provisioner {
        kind: "file".into(),
        message: message.into(),
    }
}

fn base(p: &str) -> String {
    Path::new(p.trim_end_matches('/'))
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default()
}

#[async_trait]
impl Provisioner for FileProvisioner {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        let c = &self.cfg;
        let err = |k: &str, m: &str| -> Diagnostics {
            config
                .error_at(k, "Invalid file provisioner configuration", m)
                .into()
        };
        let direction = c.direction.as_deref().unwrap_or("upload");
        if direction != "upload" && direction != "download" {
            return Err(err(
                "direction",
                "Direction must be one of: download, upload.",
            ));
        }
        if c.destination.is_empty() {
            return Err(err("destination", "Destination must be specified."));
        }
        let n = [c.source.is_some(), c.sources.is_some(), c.content.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if n == 0 {
            return Err(err("source", "Source must be specified."));
        }
        if n > 1 {
            return Err(err(
                "source",
                "Only one of source, sources or content can be specified.",
            ));
        }
        if direction == "download" && c.content.is_some() {
            return Err(err("content", "content is only valid for uploads."));
        }
        if direction == "upload" && !c.generated {
            for (i, s) in c
                .source
                .iter()
                .chain(c.sources.iter().flatten())
                .enumerate()
            {
                if let Err(e) = std::fs::metadata(s) {
                    let path = if c.source.is_some() {
                        "source".into()
                    } else {
                        format!("sources[{i}]")
                    };
                    return Err(err(&path, &format!("Bad source '{s}': {e}")));
                }
            }
        }
        Ok(Vec::new())
    }

    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        _data: &GeneratedData,
    ) -> Result<(), BuildError> {
        let c = &self.cfg;
        let cancelled = || async { ctx.cancel.cancelled().await };
        if c.direction.as_deref() == Some("download") {
            for src in c.source.iter().chain(c.sources.iter().flatten()) {
                tokio::select! {
                    r = download(ctx, &*comm, src, &c.destination) => r?,
                    () = cancelled() => return Err(BuildError::Cancelled),
                }
            }
            return Ok(());
        }
        if let Some(content) = &c.content {
            ctx.ui
                .say(format!("Uploading content => {}", c.destination));
            comm.upload(
                &c.destination,
                &mut content.as_bytes(),
                Some(content.len() as u64),
                None,
            )
            .await
            .map_err(|e| fail(e.to_string()))?;
            return Ok(());
        }
        // Several sources go into the destination as a directory, as current Packer does,
        // whether or not it ends in "/".
        let dest =
            if c.sources.as_ref().is_some_and(|s| s.len() > 1) && !c.destination.ends_with('/') {
                format!("{}/", c.destination)
            } else {
                c.destination.clone()
            };
        for src in c.source.iter().chain(c.sources.iter().flatten()) {
            tokio::select! {
                r = upload(ctx, &*comm, src, &dest) => r?,
                () = cancelled() => return Err(BuildError::Cancelled),
            }
        }
        Ok(())
    }
}

async fn upload(
    ctx: &BuildContext,
    comm: &dyn Communicator,
    src: &str,
    dst: &str,
) -> Result<(), BuildError> {
    let meta = tokio::fs::metadata(src)
        .await
        .map_err(|e| fail(format!("Bad source '{src}': {e}")))?;
    if meta.is_dir() {
        let target = if src.ends_with('/') {
            dst.trim_end_matches('/').to_string()
        } else {
            format!("{}/{}", dst.trim_end_matches('/'), base(src))
        };
        let target = if target.is_empty() {
            "/".to_string()
        } else {
            target
        };
        ctx.ui.say(format!("Uploading {src} => {dst}"));
        return comm
            .upload_dir(&target, Path::new(src))
            .await
            .map_err(|e| fail(e.to_string()));
    }
    let target = if dst.ends_with('/') {
        format!("{dst}{}", base(src))
    } else {
        dst.to_string()
    };
    ctx.ui.say(format!("Uploading {src} => {target}"));
    let mut f = tokio::fs::File::open(src)
        .await
        .map_err(|e| BuildError::io(format!("opening {src}"), e))?;
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        Some(meta.permissions().mode() & 0o7777)
    };
    #[cfg(not(unix))]
    let mode = None;
    let label = target.clone();
    let mut reader = Progress {
        inner: &mut f,
        ui: ctx.ui.clone(),
        label: label.clone(),
        done: 0,
        total: meta.len(),
        last: 0,
    };
    let r = comm
        .upload(&target, &mut reader, Some(meta.len()), mode)
        .await;
    ctx.ui.progress_done(&label);
    r.map_err(|e| fail(e.to_string()))
}

async fn download(
    ctx: &BuildContext,
    comm: &dyn Communicator,
    src: &str,
    dst: &str,
) -> Result<(), BuildError> {
    let is_dir = src.ends_with('/') || comm.is_dir(src).await.unwrap_or(false);
    ctx.ui.say(format!("Downloading {src} => {dst}"));
    if is_dir {
        let target = if src.ends_with('/') {
            dst.trim_end_matches('/').to_string()
        } else {
            format!("{}/{}", dst.trim_end_matches('/'), base(src))
        };
        return comm
            .download_dir(src, Path::new(&target))
            .await
            .map_err(|e| fail(e.to_string()));
    }
    let target = if dst.ends_with('/') || Path::new(dst).is_dir() {
        format!("{}/{}", dst.trim_end_matches('/'), base(src))
    } else {
        dst.to_string()
    };
    if let Some(parent) = Path::new(&target)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| BuildError::io(format!("creating {}", parent.display()), e))?;
    }
    // Download beside the target and rename, so a failed or cancelled transfer (this future
    // dropped) leaves no partial file.
    let staged = kiln_core::staged::StagedFile::new(&target);
    let f = tokio::fs::File::create(staged.path())
        .await
        .map_err(|e| BuildError::io(format!("creating {}", staged.path().display()), e))?;
    // Large writes: each write to a tokio File is a trip to the blocking pool.
    let mut f = tokio::io::BufWriter::with_capacity(1 << 20, f);
    let r = comm.download(src, &mut f).await;
    drop(f);
    r.map_err(|e| fail(e.to_string()))?;
    staged
        .commit()
        .map_err(|e| BuildError::io(format!("moving the download into {target}"), e))
}

/// Reports read progress as events, at most every 4 MiB.
struct Progress<'a> {
    inner: &'a mut tokio::fs::File,
    ui: kiln_core::Ui,
    label: String,
    done: u64,
    total: u64,
    last: u64,
}

impl tokio::io::AsyncRead for Progress<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut *self.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.done += n;
        if self.done - self.last >= 4 << 20 || (n > 0 && self.done == self.total) {
            self.last = self.done;
            self.ui.progress(&self.label, self.done, Some(self.total));
        }
        r
    }
}

//! The `compress` post-processor: archives and compresses an artifact's files, choosing the
//! format from the output's extension (`.tar.gz`/`.tgz`, `.gz`, `.zip`, `.tar.zst`, `.tar.xz`,
//! `.xz`, `.tar`).

use async_trait::async_trait;
use kiln_core::artifact::FileArtifact;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, PostProcessed,
    PostProcessor,
};
use serde::Deserialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The post-processor's artifact id.
pub const BUILDER_ID: &str = "packer.post-processor.compress";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CompressConfig {
    output: Option<String>,
    compression_level: Option<i32>,
    format: Option<String>,
    keep_input_artifact: Option<bool>,
}

/// The archive format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.tar.gz`, `.tgz`.
    TarGz,
    /// `.gz` (one file).
    Gz,
    /// `.zip`.
    Zip,
    /// `.tar.zst`.
    TarZst,
    /// `.tar.xz`.
    TarXz,
    /// `.xz` (one file).
    Xz,
    /// `.tar`.
    Tar,
    /// `.tar.lz4`.
    TarLz4,
    /// `.lz4` (one file).
    Lz4,
}

/// The format Packer's compress post-processor reads from `output` (and `format`, which is
/// added to it as one more extension): of the `.ext` parts (`[a-z0-9]+`) anywhere in it, the
/// last is `zip`, `tar` or a compressor (`gz`, `xz`, `lz4`; `zst` is Kiln's), and one before it of `tar`
/// makes a compressed tar; anything else, or no extension, is a gzipped tar.
///
/// # Errors
/// A compressor Packer has and Kiln does not (`bgzf`, `bzip2`).
pub fn detect(output: &str, format: Option<&str>) -> Result<Format, String> {
    let text = match format.filter(|f| !f.is_empty()) {
        Some(f) => format!("{output}.{f}"),
        None => output.to_string(),
    };
    let exts: Vec<&str> = text
        .split('.')
        .skip(1)
        .filter_map(|part| {
            let n = part
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                .count();
            (n > 0).then(|| &part[..n])
        })
        .collect();
    let last = exts.last().copied().unwrap_or("");
    let tar = exts.len() >= 2 && exts[exts.len() - 2] == "tar";
    Ok(match last {
        "zip" => Format::Zip,
        "tar" => Format::Tar,
        "gz" if tar => Format::TarGz,
        "gz" => Format::Gz,
        "xz" if tar => Format::TarXz,
        "xz" => Format::Xz,
        "zst" if tar => Format::TarZst,
        "lz4" if tar => Format::TarLz4,
        "lz4" => Format::Lz4,
        "bgzf" | "bzip2" => {
            return Err(format!(
                "{last} compression is not supported by Kiln's compress post-processor yet; use .tar.gz, .tar.xz, .tar.lz4, .tar.zst or .zip"
            ))
        }
        _ => Format::TarGz,
    })
}

/// `post-processor "compress"`.
#[derive(Debug, Default)]
pub struct Compress {
    cfg: CompressConfig,
}

fn tar_into<W: Write>(w: W, files: &[String]) -> std::io::Result<W> {
    let mut b = tar::Builder::new(w);
    for f in files {
        let name = Path::new(f)
            .file_name()
            .map_or_else(|| f.clone(), |n| n.to_string_lossy().to_string());
        if Path::new(f).is_dir() {
            b.append_dir_all(&name, f)?;
        } else {
            b.append_path_with_name(f, &name)?;
        }
    }
    b.into_inner()
}

/// A writer that fails once `stop` is set: what the compressor is fed goes through it, so a
/// cancelled build stops compressing within one buffer.
struct Stoppable<W> {
    inner: W,
    stop: Arc<AtomicBool>,
}

impl<W> Stoppable<W> {
    fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Stoppable<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            // Not `Interrupted`, which `io::copy` and `write_all` retry.
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_archive(
    format: Format,
    level: i32,
    files: &[String],
    out: &Path,
    stop: &Arc<AtomicBool>,
) -> std::io::Result<()> {
    let w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let stoppable = |inner| Stoppable {
        inner,
        stop: stop.clone(),
    };
    let level_u = u32::try_from(level.clamp(0, 9)).unwrap_or(6);
    let single = || -> std::io::Result<&String> {
        match files {
            [one] => Ok(one),
            _ => Err(std::io::Error::other(format!("the {format:?} format holds exactly one file, but the artifact has {}; use .tar.gz or .zip", files.len()))),
        }
    };
    match format {
        Format::Tar => tar_into(stoppable(w), files)?.into_inner().flush()?,
        Format::TarGz => tar_into(
            Stoppable {
                inner: flate2::write::GzEncoder::new(w, flate2::Compression::new(level_u)),
                stop: stop.clone(),
            },
            files,
        )?
        .into_inner()
        .finish()?
        .flush()?,
        Format::TarZst => tar_into(
            Stoppable {
                inner: zstd::Encoder::new(w, level.clamp(1, 22))?,
                stop: stop.clone(),
            },
            files,
        )?
        .into_inner()
        .finish()?
        .flush()?,
        Format::TarXz => tar_into(
            Stoppable {
                inner: xz2::write::XzEncoder::new(w, level_u),
                stop: stop.clone(),
            },
            files,
        )?
        .into_inner()
        .finish()?
        .flush()?,
        Format::TarLz4 => tar_into(
            Stoppable {
                inner: lz4_flex::frame::FrameEncoder::new(w),
                stop: stop.clone(),
            },
            files,
        )?
        .into_inner()
        .finish()
        .map_err(std::io::Error::other)?
        .flush()?,
        Format::Lz4 => {
            let mut e = Stoppable {
                inner: lz4_flex::frame::FrameEncoder::new(w),
                stop: stop.clone(),
            };
            std::io::copy(&mut File::open(single()?)?, &mut e)?;
            e.into_inner()
                .finish()
                .map_err(std::io::Error::other)?
                .flush()?;
        }
        Format::Gz => {
            let mut e = Stoppable {
                inner: flate2::write::GzEncoder::new(w, flate2::Compression::new(level_u)),
                stop: stop.clone(),
            };
            std::io::copy(&mut File::open(single()?)?, &mut e)?;
            e.into_inner().finish()?.flush()?;
        }
        Format::Xz => {
            let mut e = Stoppable {
                inner: xz2::write::XzEncoder::new(w, level_u),
                stop: stop.clone(),
            };
            std::io::copy(&mut File::open(single()?)?, &mut e)?;
            e.into_inner().finish()?.flush()?;
        }
        Format::Zip => {
            let mut z = zip::ZipWriter::new(w);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(i64::from(level.clamp(0, 9))));
            for f in files {
                let name = Path::new(f)
                    .file_name()
                    .map_or_else(|| f.clone(), |n| n.to_string_lossy().to_string());
                z.start_file(name, opts).map_err(std::io::Error::other)?;
                std::io::copy(
                    &mut File::open(f)?,
                    &mut Stoppable {
                        inner: &mut z,
                        stop: stop.clone(),
                    },
                )?;
            }
            z.finish().map_err(std::io::Error::other)?.flush()?;
        }
    }
    Ok(())
}

#[async_trait]
impl PostProcessor for Compress {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        if let Some(l) = self.cfg.compression_level {
            if !(-1..=22).contains(&l) {
                return Err(config
                    .error_at(
                        "compression_level",
                        "Invalid compress configuration",
                        "compression_level must be between 0 and 9 (up to 22 for .tar.zst).",
                    )
                    .into());
            }
        }
        Ok(Vec::new())
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let tpl = self
            .cfg
            .output
            .clone()
            .unwrap_or_else(|| "packer_{{.BuildName}}_{{.BuilderType}}".into());
        // As Packer: the format comes from the extension (and `format`), and is a gzipped tar
        // without one.
        let out = crate::render_output("compress", &tpl, &ctx.info, &[])?;
        let format =
            detect(&out, self.cfg.format.as_deref()).map_err(|m| BuildError::PostProcessor {
                kind: "compress".into(),
                message: m,
            })?;
        let level = match self.cfg.compression_level {
            None | Some(-1) => 6,
            Some(l) => l,
        };
        let files = artifact.files();
        if files.is_empty() {
            return Err(BuildError::PostProcessor {
                kind: "compress".into(),
                message: "the artifact has no files to compress".into(),
            });
        }
        ctx.ui.say(format!(
            "Compressing {} file(s) into {out} ({format:?}, level {level})",
            files.len()
        ));
        crate::ensure_parent("compress", &out)?;
        let staged = kiln_core::staged::StagedFile::new(&out);
        let (tmp, files2) = (staged.path().to_path_buf(), files.clone());
        // Set when the build is cancelled or this future dropped: the compressor stops.
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_drop = StopOnDrop(stop.clone());
        let s2 = stop.clone();
        let task =
            tokio::task::spawn_blocking(move || write_archive(format, level, &files2, &tmp, &s2));
        let written = tokio::select! {
            r = task => r,
            () = ctx.cancel.cancelled() => {
                stop.store(true, Ordering::Relaxed);
                // The staged file is removed when `staged` drops, after the writer let go.
                return Err(BuildError::Cancelled);
            }
        };
        let written = written.map_err(|e| BuildError::step(e.to_string()))?;
        if ctx.cancel.is_cancelled() {
            // A cancelled build keeps no output, even one that was complete.
            return Err(BuildError::Cancelled);
        }
        written
            .and_then(|()| staged.commit())
            .map_err(|e| crate::io_err("compress", &format!("writing {out}"), e))?;
        let new = FileArtifact {
            builder_id: BUILDER_ID.into(),
            // Packer's compress artifact has no id.
            id: String::new(),
            description: format!("compressed artifacts in: {out}"),
            files: vec![out],
        };
        Ok(PostProcessed {
            artifact: Arc::new(new),
            keep_input: false,
            force_keep: false,
        })
    }
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension() {
        let f = |o: &str| detect(o, None).unwrap();
        assert_eq!(f("a.tar.gz"), Format::TarGz);
        assert_eq!(f("a.tgz"), Format::TarGz);
        assert_eq!(f("a.gz"), Format::Gz);
        assert_eq!(f("a.tar.zst"), Format::TarZst);
        assert_eq!(f("a.zip"), Format::Zip);
        assert_eq!(f("a.tar"), Format::Tar);
        assert_eq!(f("a.qcow2"), Format::TarGz);
        assert_eq!(f("out.v2/bundle"), Format::TarGz);
        assert_eq!(f("a.TAR"), Format::TarGz);
        assert_eq!(detect("bundle", Some("tar")).unwrap(), Format::Tar);
        assert_eq!(detect("bundle.tar", Some("gz")).unwrap(), Format::TarGz);
        assert_eq!(f("a.tar.lz4"), Format::TarLz4);
        assert!(detect("a.tar.bzip2", None)
            .unwrap_err()
            .contains("bzip2 compression"));
    }
}

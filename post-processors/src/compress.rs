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
}

/// The format an output path asks for.
#[must_use]
pub fn format_of(path: &str) -> Option<Format> {
    let p = path.to_ascii_lowercase();
    [
        (".tar.gz", Format::TarGz),
        (".tgz", Format::TarGz),
        (".tar.zst", Format::TarZst),
        (".tar.xz", Format::TarXz),
        (".zip", Format::Zip),
        (".gz", Format::Gz),
        (".xz", Format::Xz),
        (".tar", Format::Tar),
    ]
    .into_iter()
    .find(|(ext, _)| p.ends_with(ext))
    .map(|(_, f)| f)
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

fn write_archive(format: Format, level: i32, files: &[String], out: &Path) -> std::io::Result<()> {
    let w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let level_u = u32::try_from(level.clamp(0, 9)).unwrap_or(6);
    let single = || -> std::io::Result<&String> {
        match files {
            [one] => Ok(one),
            _ => Err(std::io::Error::other(format!("the {format:?} format holds exactly one file, but the artifact has {}; use .tar.gz or .zip", files.len()))),
        }
    };
    match format {
        Format::Tar => tar_into(w, files)?.flush()?,
        Format::TarGz => tar_into(
            flate2::write::GzEncoder::new(w, flate2::Compression::new(level_u)),
            files,
        )?
        .finish()?
        .flush()?,
        Format::TarZst => tar_into(zstd::Encoder::new(w, level.clamp(1, 22))?, files)?
            .finish()?
            .flush()?,
        Format::TarXz => tar_into(xz2::write::XzEncoder::new(w, level_u), files)?
            .finish()?
            .flush()?,
        Format::Gz => {
            let mut e = flate2::write::GzEncoder::new(w, flate2::Compression::new(level_u));
            std::io::copy(&mut File::open(single()?)?, &mut e)?;
            e.finish()?.flush()?;
        }
        Format::Xz => {
            let mut e = xz2::write::XzEncoder::new(w, level_u);
            std::io::copy(&mut File::open(single()?)?, &mut e)?;
            e.finish()?.flush()?;
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
                std::io::copy(&mut File::open(f)?, &mut z)?;
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
        // As Packer: the format comes from the extension, and is a gzipped tar without one.
        let out = crate::render_output("compress", &tpl, &ctx.info, &[])?;
        let format = format_of(&out).unwrap_or(Format::TarGz);
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
        tokio::task::spawn_blocking(move || write_archive(format, level, &files2, &tmp))
            .await
            .map_err(|e| BuildError::step(e.to_string()))?
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension() {
        assert_eq!(format_of("a.tar.gz"), Some(Format::TarGz));
        assert_eq!(format_of("a.gz"), Some(Format::Gz));
        assert_eq!(format_of("a.tar.zst"), Some(Format::TarZst));
        assert_eq!(format_of("a.zip"), Some(Format::Zip));
        assert_eq!(format_of("a.qcow2"), None);
    }
}

//! The `checksum` post-processor: `<hex digest>\t<file name>` lines, appended to one file per
//! checksum type, as Packer writes them.

use async_trait::async_trait;
use kiln_core::artifact::FileArtifact;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, PostProcessed,
    PostProcessor,
};
use serde::Deserialize;
use sha2::Digest;
use std::io::{Read, Write};
use std::sync::Arc;

/// The post-processor's artifact id.
pub const BUILDER_ID: &str = "packer.post-processor.checksum";
const TYPES: &[&str] = &["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ChecksumConfig {
    checksum_types: Option<Vec<String>>,
    output: Option<String>,
}

/// `post-processor "checksum"`.
#[derive(Debug, Default)]
pub struct Checksum {
    cfg: ChecksumConfig,
}

fn digest(kind: &str, path: &str) -> std::io::Result<String> {
    fn run<D: Digest>(mut d: D, path: &str) -> std::io::Result<String> {
        let mut f = std::fs::File::open(path)?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            d.update(&buf[..n]);
        }
        Ok(hex::encode(d.finalize()))
    }
    match kind {
        "md5" => run(md5::Md5::new(), path),
        "sha1" => run(sha1::Sha1::new(), path),
        "sha224" => run(sha2::Sha224::new(), path),
        "sha256" => run(sha2::Sha256::new(), path),
        "sha384" => run(sha2::Sha384::new(), path),
        _ => run(sha2::Sha512::new(), path),
    }
}

#[async_trait]
impl PostProcessor for Checksum {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        for (i, t) in self.cfg.checksum_types.iter().flatten().enumerate() {
            if !TYPES.contains(&t.as_str()) {
                return Err(config
                    .error_at(
                        &format!("checksum_types[{i}]"),
                        "Invalid checksum configuration",
                        format!(
                            "Unrecognized checksum type: {t}. Use one of {}.",
                            TYPES.join(", ")
                        ),
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
        let types = self
            .cfg
            .checksum_types
            .clone()
            .unwrap_or_else(|| vec!["md5".into()]);
        let tpl = self.cfg.output.clone().unwrap_or_else(|| {
            "packer_{{.BuildName}}_{{.BuilderType}}_{{.ChecksumType}}.checksum".into()
        });
        let inputs = artifact.files();
        let mut files = inputs.clone();
        for t in &types {
            let out =
                crate::render_output("checksum", &tpl, &ctx.info, &[("ChecksumType", t.clone())])?;
            for f in &inputs {
                if !std::path::Path::new(&out).exists() {
                    files.push(out.clone());
                }
                let (t2, f2) = (t.clone(), f.clone());
                let sum = tokio::task::spawn_blocking(move || digest(&t2, &f2))
                    .await
                    .map_err(|e| BuildError::step(e.to_string()))?
                    .map_err(|e| {
                        crate::io_err(
                            "checksum",
                            &format!("unable to compute {t} hash for {f}"),
                            e,
                        )
                    })?;
                crate::ensure_parent("checksum", &out)?;
                let name = std::path::Path::new(f)
                    .file_name()
                    .map_or(f.clone(), |n| n.to_string_lossy().to_string());
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&out)
                    .and_then(|mut w| w.write_all(format!("{sum}\t{name}\n").as_bytes()))
                    .map_err(|e| crate::io_err("checksum", &format!("unable to write {out}"), e))?;
            }
        }
        files.dedup();
        let new = FileArtifact {
            builder_id: BUILDER_ID.into(),
            id: String::new(),
            description: format!("Created artifact from files: {}", files.join(", ")),
            files,
        };
        Ok(PostProcessed {
            artifact: Arc::new(new),
            keep_input: true,
            force_keep: true,
        })
    }
}

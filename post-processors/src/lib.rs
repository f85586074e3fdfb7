//! # kiln-post-processors: manifest, checksum, compress, shell-local, artifice, vagrant, test
//!
//! One module per post-processor. Each writes its outputs beside their final name and renames
//! them into place, so that a failure never leaves a half-written file.

pub mod artifice;
pub mod checksum;
pub mod compress;
pub mod manifest;
pub mod shell_local;
pub mod test;
pub mod vagrant;

use kiln_core::{BuildError, BuildInfo, Registry};
use std::collections::BTreeMap;

/// Registers every post-processor of this crate.
pub fn register(r: &mut Registry) {
    r.post_processor("manifest", || Box::new(manifest::Manifest::default()));
    r.post_processor("checksum", || Box::new(checksum::Checksum::default()));
    r.post_processor("compress", || Box::new(compress::Compress::default()));
    r.post_processor("shell-local", || {
        Box::new(shell_local::ShellLocal::default())
    });
    r.post_processor("artifice", || Box::new(artifice::Artifice::default()));
    r.post_processor("vagrant", || Box::new(vagrant::Vagrant::default()));
    r.post_processor("test", || Box::new(test::Test::default()));
}

/// Renders `{{.BuildName}}`, `{{.BuilderType}}` (and `{{ build_name }}`, `{{ build_type }}`)
/// plus `extra` in an output path.
pub(crate) fn render_output(
    kind: &str,
    tpl: &str,
    info: &BuildInfo,
    extra: &[(&'static str, String)],
) -> Result<String, BuildError> {
    let mut d = BTreeMap::new();
    d.insert("BuildName", info.source_name.clone());
    d.insert("BuilderType", info.source_type.clone());
    d.insert("build_name", info.source_name.clone());
    d.insert("build_type", info.source_type.clone());
    for (k, v) in extra {
        d.insert(*k, v.clone());
    }
    kiln_provisioners::gotemplate::render(tpl, &d).map_err(|m| BuildError::PostProcessor {
        kind: kind.into(),
        message: m,
    })
}

pub(crate) fn io_err(kind: &str, what: &str, e: std::io::Error) -> BuildError {
    BuildError::PostProcessor {
        kind: kind.into(),
        message: format!("{what}: {e}"),
    }
}

/// Creates the directory that will hold `output`, if it has one.
pub(crate) fn ensure_parent(kind: &str, output: &str) -> Result<(), BuildError> {
    match std::path::Path::new(output)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        Some(parent) => std::fs::create_dir_all(parent)
            .map_err(|e| io_err(kind, &format!("creating {}", parent.display()), e)),
        None => Ok(()),
    }
}

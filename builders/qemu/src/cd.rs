//! Staging the files of a `cd_files` / `cd_content` CD image.

use std::collections::BTreeMap;
use std::path::Path;

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    // Symlinks are followed: the CD gets what they point to, as Packer does.
    if std::fs::metadata(src)?.is_dir() {
        std::fs::create_dir_all(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_tree(&e.path(), &dst.join(e.file_name()))?;
        }
    } else {
        if let Some(p) = dst.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::copy(src, dst)?;
    }
    Ok(())
}

/// Copies `files` (paths, directories or globs; a directory keeps its name) and writes `content`
/// (path on the CD to text) under `root`.
///
/// # Errors
/// A path that does not exist, a bad glob, or an I/O error.
pub fn stage(
    files: &[String],
    content: &BTreeMap<String, String>,
    root: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    for f in files {
        let matches: Vec<std::path::PathBuf> = if f.contains(['*', '?', '[']) {
            glob::glob(f)
                .map_err(|e| format!("cd_files: bad pattern {f:?}: {e}"))?
                .filter_map(Result::ok)
                .collect()
        } else {
            vec![f.into()]
        };
        if matches.is_empty() {
            return Err(format!("cd_files: {f:?} matches no file"));
        }
        for m in matches {
            let name = m
                .file_name()
                .ok_or_else(|| format!("cd_files: {} has no file name", m.display()))?;
            copy_tree(&m, &root.join(name))
                .map_err(|e| format!("cd_files: copying {}: {e}", m.display()))?;
        }
    }
    for (path, text) in content {
        let dst = root.join(path.trim_start_matches('/'));
        if let Some(p) = dst.parent() {
            std::fs::create_dir_all(p).map_err(|e| format!("cd_content: {e}"))?;
        }
        std::fs::write(&dst, text).map_err(|e| format!("cd_content: writing {path}: {e}"))?;
    }
    Ok(())
}

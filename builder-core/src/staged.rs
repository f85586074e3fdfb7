//! Files written beside their final path and renamed into place, so that a failure, an error or
//! a cancellation never leaves half a file where the finished one belongs.

use std::io;
use std::path::{Path, PathBuf};

/// A temporary path beside `target` (`<target>.kiln-tmp`, same directory, so the final rename is
/// atomic). [`StagedFile::commit`] renames it over the target; dropping it uncommitted, as when
/// a cancelled future is dropped mid-write, removes whatever was written.
#[derive(Debug)]
pub struct StagedFile {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl StagedFile {
    /// Stages a write of `target`. Nothing is created until the caller writes to [`Self::path`].
    #[must_use]
    pub fn new(target: impl Into<PathBuf>) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let target = target.into();
        let mut tmp = target.clone().into_os_string();
        // Unique per writer, so that two builds writing the same file do not share it.
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tmp.push(format!(".kiln-tmp-{}-{n}", std::process::id()));
        StagedFile {
            tmp: PathBuf::from(tmp),
            target,
            committed: false,
        }
    }

    /// Where to write.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The final path.
    #[must_use]
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the written file into place.
    ///
    /// # Errors
    /// The rename failed; the temporary file is removed.
    pub fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.tmp, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_the_target_and_leaves_nothing_beside_it() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("out.json");
        std::fs::write(&target, "old").unwrap();
        let s = StagedFile::new(&target);
        assert_eq!(s.path().parent(), Some(d.path()));
        let name = s.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("out.json.kiln-tmp-"), "{name}");
        assert_ne!(
            StagedFile::new(&target).path(),
            s.path(),
            "each writer has its own"
        );
        std::fs::write(s.path(), "new").unwrap();
        s.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropping_uncommitted_keeps_the_old_target_and_removes_the_partial_file() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("image.qcow2");
        std::fs::write(&target, "old").unwrap();
        {
            let s = StagedFile::new(&target);
            std::fs::write(s.path(), "half").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_commit_removes_the_partial_file() {
        let d = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: a file cannot be renamed over it.
        let target = d.path().join("dir");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), "").unwrap();
        let s = StagedFile::new(&target);
        std::fs::write(s.path(), "data").unwrap();
        assert!(s.commit().is_err());
        assert!(!d.path().join("dir.kiln-tmp").exists());
    }
}

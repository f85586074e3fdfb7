//! Finding the ISO or disk image: a local path, `file://`, or `http(s)://` downloaded into the
//! cache, and checking its digest.

use crate::config::Checksum;
use kiln_core::{BuildContext, BuildError};
use sha2::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A local file for `url`, or `None` when it must be downloaded.
#[must_use]
pub fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(p) = url.strip_prefix("file://") {
        return Some(PathBuf::from(p));
    }
    if url.contains("://") {
        return None;
    }
    Some(PathBuf::from(url))
}

/// Feeds chunks (`Some`) and returns the hex digest at the end (`None`).
type Hasher = Box<dyn FnMut(Option<&[u8]>) -> Option<String> + Send>;

fn hasher(algo: &str) -> Hasher {
    macro_rules! h {
        ($t:ty) => {{
            let mut h = Some(<$t>::new());
            Box::new(move |chunk: Option<&[u8]>| match chunk {
                Some(c) => {
                    if let Some(h) = h.as_mut() {
                        h.update(c);
                    }
                    None
                }
                None => h.take().map(|h| hex::encode(h.finalize())),
            })
        }};
    }
    match algo {
        "md5" => h!(md5::Md5),
        "sha1" => h!(sha1::Sha1),
        "sha512" => h!(sha2::Sha512),
        _ => h!(sha2::Sha256),
    }
}

/// The SHA-256 of a string, for cache file names.
#[must_use]
pub fn digest_str(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The hex digest of a file.
///
/// # Errors
/// Reading the file failed.
pub fn digest_file(path: &Path, algo: &str) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = hasher(algo);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h(Some(&buf[..n]));
    }
    Ok(h(None).unwrap_or_default())
}

fn fetch_text(url: &str) -> Result<String, String> {
    if let Some(p) = local_path(url) {
        return std::fs::read_to_string(&p).map_err(|e| format!("reading {}: {e}", p.display()));
    }
    let resp = ureq::get(url)
        .call()
        .map_err(|e| format!("downloading {url}: {e}"))?;
    resp.into_body()
        .read_to_string()
        .map_err(|e| format!("downloading {url}: {e}"))
}

/// The expected `(algorithm, digest)` for `target` (a URL or path), looking into checksum files.
///
/// # Errors
/// The checksum file cannot be read or does not list the file.
pub fn expected(checksum: &Checksum, target: &str) -> Result<Option<(String, String)>, String> {
    match checksum {
        Checksum::None => Ok(None),
        Checksum::Digest { algo, hex } => Ok(Some((algo.clone(), hex.clone()))),
        Checksum::File { algo, url } => {
            let text = fetch_text(url)?;
            let name = target.rsplit('/').next().unwrap_or(target);
            for line in text.lines() {
                // GNU style `<hex>  <name>` (name maybe `*name` or `./name`) or BSD style
                // `SHA256 (name) = <hex>`.
                let (hex, file) = if let Some((l, r)) = line.split_once(") = ") {
                    (r.trim(), l.split_once('(').map_or("", |x| x.1))
                } else {
                    let mut it = line.split_whitespace();
                    let (Some(h), Some(f)) = (it.next(), it.next()) else {
                        continue;
                    };
                    (h, f.trim_start_matches('*'))
                };
                let file = file.trim_start_matches("./");
                if file == name || file.rsplit('/').next() == Some(name) {
                    let algo = algo.clone().unwrap_or_else(|| {
                        match hex.len() {
                            32 => "md5",
                            40 => "sha1",
                            128 => "sha512",
                            _ => "sha256",
                        }
                        .to_string()
                    });
                    return Ok(Some((algo, hex.to_lowercase())));
                }
            }
            Err(format!("no checksum for {name:?} found in {url}"))
        }
    }
}

/// Checks `path` against the expected digest.
///
/// # Errors
/// A mismatch naming both digests, or an I/O error.
pub async fn verify(path: &Path, want: Option<&(String, String)>) -> Result<(), BuildError> {
    let Some((algo, hex)) = want else {
        return Ok(());
    };
    let p = path.to_path_buf();
    let a = algo.clone();
    let got = tokio::task::spawn_blocking(move || digest_file(&p, &a))
        .await
        .map_err(|e| BuildError::step(e.to_string()))?
        .map_err(|e| BuildError::io(format!("reading {}", path.display()), e))?;
    if &got != hex {
        return Err(BuildError::step(format!(
            "Checksums did not match for {}.\nExpected: {algo}:{hex}\nGot: {algo}:{got}",
            path.display()
        )));
    }
    Ok(())
}

/// Downloads `url` to `dest` (through a file beside it, renamed when complete), reporting
/// progress.
///
/// # Errors
/// The download failed or was cancelled; the partial file is removed.
pub async fn download(ctx: &BuildContext, url: &str, dest: &Path) -> Result<(), BuildError> {
    let staged = kiln_core::staged::StagedFile::new(dest);
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| BuildError::io(format!("creating {}", parent.display()), e))?;
    }
    let (u, p, ui) = (url.to_string(), staged.path().to_path_buf(), ctx.ui.clone());
    let cancel = ctx.cancel.clone();
    let label = format!("Downloading {}", url.rsplit('/').next().unwrap_or(url));
    let l2 = label.clone();
    let r = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let resp = ureq::get(&u).call().map_err(|e| e.to_string())?;
        let total = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut body = resp.into_body();
        let mut reader = body.as_reader();
        let mut f = std::fs::File::create(&p).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 1 << 20];
        let mut done = 0u64;
        loop {
            if cancel.is_cancelled() {
                return Err("cancelled".into());
            }
            let n = reader.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            std::io::Write::write_all(&mut f, &buf[..n]).map_err(|e| {
                if e.raw_os_error() == Some(28) {
                    let dir = p.parent().unwrap_or(Path::new("."));
                    format!(
                        "{e}: the file system of the download cache {} is full; free some space there, or set PACKER_CACHE_DIR elsewhere",
                        dir.display()
                    )
                } else {
                    e.to_string()
                }
            })?;
            done += n as u64;
            ui.progress(&l2, done, total);
        }
        f.sync_all().map_err(|e| e.to_string())?;
        Ok(())
    })
    .await
    .map_err(|e| BuildError::step(e.to_string()))?;
    ctx.ui.progress_done(&label);
    match r {
        Ok(()) => staged
            .commit()
            .map_err(|e| BuildError::io(format!("moving {} into place", dest.display()), e)),
        Err(m) => {
            drop(staged);
            if ctx.cancel.is_cancelled() {
                Err(BuildError::Cancelled)
            } else {
                Err(BuildError::step(format!("Error downloading {url}: {m}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_files_in_gnu_and_bsd_form() {
        let dir = tempfile::tempdir().unwrap();
        let sums = dir.path().join("SHA256SUMS");
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        std::fs::write(
            &sums,
            format!("{a} *other.iso\n{b}  ./disk.img\nSHA256 (x.iso) = {a}\n"),
        )
        .unwrap();
        let c = Checksum::File {
            algo: None,
            url: sums.display().to_string(),
        };
        assert_eq!(
            expected(&c, "https://example.com/disk.img").unwrap(),
            Some(("sha256".into(), b))
        );
        assert_eq!(expected(&c, "x.iso").unwrap(), Some(("sha256".into(), a)));
        assert!(expected(&c, "nope.iso")
            .unwrap_err()
            .contains("no checksum for \"nope.iso\""));
    }
}

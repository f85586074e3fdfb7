//! A look at a disk image before a VM boots it: an empty, truncated, corrupt or non-bootable
//! file (a failed download with `iso_checksum = "none"`, an HTML error page) would otherwise
//! boot nothing and wait the whole `ssh_timeout`.

use std::io::Read;
use std::path::Path;

/// Why `path` cannot be a bootable disk, in a sentence; `None` when it looks like one.
/// `direct_boot` (a `-kernel` in `qemuargs`) lifts the boot-record check for raw images.
pub async fn problem(path: &Path, direct_boot: bool) -> Option<String> {
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => return Some(format!("it cannot be read: {e}")),
    };
    if len == 0 {
        return Some("it is empty (0 bytes)".into());
    }
    let info = tokio::process::Command::new("qemu-img")
        .args(["info", "-U", "--output=json"])
        .arg(path)
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    if !info.status.success() {
        return Some(format!(
            "qemu-img cannot read it: {}",
            first_line(&info.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).ok()?;
    match v.get("format").and_then(|f| f.as_str()) {
        Some("qcow2") => {
            let out = tokio::process::Command::new("qemu-img")
                .args(["check", "-U", "-q"])
                .arg(path)
                .kill_on_drop(true)
                .output()
                .await
                .ok()?;
            // 0: clean; 3: leaked clusters only (harmless). 2: corrupt; 1: not checkable.
            match out.status.code() {
                Some(0 | 3) => None,
                _ => Some(format!(
                    "qemu-img check finds it damaged: {}",
                    first_line(&out.stderr)
                )),
            }
        }
        Some("raw") if !direct_boot => {
            let mut first = [0u8; 512];
            let f = std::fs::File::open(path).ok()?;
            let n = f.take(512).read(&mut first).ok()?;
            if n < 512 {
                Some(format!(
                    "it is {len} bytes, less than one disk sector; is it a complete disk image?"
                ))
            } else if first[510..] != [0x55, 0xAA] {
                Some("its first sector is no boot record (it does not end in 55 AA), so the VM would boot nothing; is it a disk image? (an ISO needs `disk_image = false`)".into())
            } else {
                None
            }
        }
        _ => None,
    }
}

fn first_line(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no message)")
        .trim()
        .trim_start_matches("qemu-img: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn empty_random_and_truncated_images_are_named() {
        if which("qemu-img").is_none() {
            panic!("qemu-img is needed: apt-get install qemu-utils");
        }
        let d = tempfile::tempdir().unwrap();
        let empty = d.path().join("empty.img");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(
            problem(&empty, false).await.as_deref(),
            Some("it is empty (0 bytes)")
        );
        let page = d.path().join("page.img");
        std::fs::write(&page, b"<html>404 Not Found</html>\n".repeat(40)).unwrap();
        assert!(problem(&page, false)
            .await
            .unwrap()
            .starts_with("its first sector is no boot record"));
        assert_eq!(problem(&page, true).await, None, "-kernel boots it anyway");
        let mut mbr = vec![0u8; 4096];
        mbr[510] = 0x55;
        mbr[511] = 0xAA;
        let ok = d.path().join("mbr.img");
        std::fs::write(&ok, &mbr).unwrap();
        assert_eq!(problem(&ok, false).await, None);
        // A qcow2 cut in the middle.
        let q = d.path().join("q.qcow2");
        assert!(std::process::Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&q)
            .arg("64M")
            .status()
            .unwrap()
            .success());
        let bytes = std::fs::read(&q).unwrap();
        std::fs::write(&q, &bytes[..bytes.len() / 3]).unwrap();
        let p = problem(&q, false).await.unwrap();
        assert!(
            p.starts_with("qemu-img cannot read it")
                || p.starts_with("qemu-img check finds it damaged"),
            "{p}"
        );
    }

    fn which(p: &str) -> Option<std::path::PathBuf> {
        std::env::var_os("PATH")?
            .to_str()?
            .split(':')
            .map(|d| Path::new(d).join(p))
            .find(|c| c.exists())
    }
}

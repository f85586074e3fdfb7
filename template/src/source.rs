//! Reading template and variable files: files and pipes, not devices (`/dev/zero` would be read
//! forever), at most [`MAX_BYTES`], UTF-8 with an optional byte-order mark (which Packer
//! accepts too), and a UTF-16 file named as such instead of reported as bad syntax.

use std::io::Read;
use std::path::Path;

/// The largest template or variable file read: far beyond any real one.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The text of `path`, without a leading UTF-8 byte-order mark.
///
/// # Errors
/// A sentence saying why the file cannot be read, without the path (callers add it).
pub fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory".into());
    }
    // A pipe (`-var-file=<(vault ...)`, `/dev/stdin`) is read up to the cap, as Packer reads
    // it; a device such as `/dev/zero` or a disk is refused before a byte is read.
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() || t.is_block_device() {
            return Err("it is a device, not a file; templates and variable files are read from files, pipes, or standard input with `-`".into());
        }
    }
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(format!(
            "it is larger than {} MiB, the most Kiln reads from a template or variable file",
            MAX_BYTES / 1024 / 1024
        ));
    }
    decode(bytes)
}

/// `bytes` as text, without a leading UTF-8 byte-order mark.
///
/// # Errors
/// UTF-16 (by its byte-order mark) and other non-UTF-8 content.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, String> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("it is encoded in UTF-16; save it as UTF-8".into());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_is_dropped_and_utf16_and_devices_are_named() {
        assert_eq!(decode(b"\xEF\xBB\xBFa = 1\n".to_vec()).unwrap(), "a = 1\n");
        assert_eq!(
            decode(b"\xFF\xFEa\0".to_vec()).unwrap_err(),
            "it is encoded in UTF-16; save it as UTF-8"
        );
        assert_eq!(
            decode(b"a\xFFb".to_vec()).unwrap_err(),
            "it is not UTF-8 text (invalid byte at offset 1); save it as UTF-8"
        );
        assert!(read_text(Path::new("/dev/zero"))
            .unwrap_err()
            .starts_with("it is a device, not a file"));
        assert_eq!(read_text(Path::new("/")).unwrap_err(), "it is a directory");
    }
}

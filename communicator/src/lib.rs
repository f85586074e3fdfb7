//! # kiln-communicator: SSH over russh
//!
//! One connection per build, reused by every provisioner; each command or transfer opens its own
//! channel on it. Files stream in large chunks and are never held whole in memory. Directories
//! travel as one tar stream, which is far faster than a file-by-file protocol for many small files.
//!
//! [`ssh::connect`] retries with backoff until `ssh_timeout`, selecting on cancellation, and waits
//! for a real SSH handshake, not just an open port. A command whose channel closes without an
//! exit status is reported as [`kiln_core::ExitStatus::Disconnected`], never as success.

pub mod config;
pub mod keys;
pub mod none;
pub mod proxy;
pub mod ssh;
mod untar;

pub use config::{SshConfig, TransferMethod};
pub use ssh::SshCommunicator;

/// Appends `data` to `pending` and hands each complete line to `sink` (without its `\n` or a
/// `\r` before it), keeping the rest for the next call. Communicators stream output with it.
pub fn output_lines(
    pending: &mut Vec<u8>,
    data: &[u8],
    stream: kiln_core::OutputStream,
    sink: &mut (dyn FnMut(kiln_core::OutputStream, &str) + Send),
) {
    pending.extend_from_slice(data);
    while let Some(i) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=i).collect();
        let text = String::from_utf8_lossy(&line[..line.len() - 1]);
        sink(stream, text.trim_end_matches('\r'));
    }
}

/// Hands what is left in `pending` (a last line without `\n`) to `sink`.
pub fn flush_output(
    pending: &mut Vec<u8>,
    stream: kiln_core::OutputStream,
    sink: &mut (dyn FnMut(kiln_core::OutputStream, &str) + Send),
) {
    if !pending.is_empty() {
        sink(
            stream,
            String::from_utf8_lossy(pending).trim_end_matches('\r'),
        );
        pending.clear();
    }
}

/// Quotes `s` for a POSIX shell.
#[must_use]
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

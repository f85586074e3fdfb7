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

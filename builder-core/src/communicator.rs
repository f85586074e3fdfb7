//! The contract between provisioners and the machine being built.

use async_trait::async_trait;
use std::path::Path;
use tokio::io::{AsyncRead, AsyncWrite};

/// Which stream a line of command output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// How a remote command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command exited with this code.
    Code(i32),
    /// The connection ended without an exit status (e.g. the machine rebooted). Never a success.
    Disconnected,
}

impl ExitStatus {
    /// True only for an exit code of zero.
    #[must_use]
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }
}

/// An error from a communicator, with what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum CommError {
    /// Could not connect.
    #[error("failed to connect to {target}: {message}")]
    Connect {
        /// `host:port`.
        target: String,
        /// Why.
        message: String,
    },
    /// A transfer failed.
    #[error("{op} {path}: {message}")]
    Transfer {
        /// "upload" or "download".
        op: &'static str,
        /// The remote path.
        path: String,
        /// Why.
        message: String,
    },
    /// Running a command failed before it could report an exit status.
    #[error("running the remote command failed: {0}")]
    Exec(String),
    /// A local I/O error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// This communicator cannot do that (`communicator = "none"`).
    #[error("the communicator does not support {0}; set `communicator = \"ssh\"`")]
    Unsupported(&'static str),
    /// The build was cancelled while talking to the machine.
    #[error("cancelled")]
    Cancelled,
}

/// A callback that receives command output lines as they arrive.
pub type OutputSink<'a> = &'a mut (dyn FnMut(OutputStream, &str) + Send);

/// A connection to the machine being built: exec, upload, download.
#[async_trait]
pub trait Communicator: Send + Sync {
    /// Runs `command` through the remote shell, streaming output lines to `output`.
    async fn exec(&self, command: &str, output: OutputSink<'_>) -> Result<ExitStatus, CommError>;

    /// Like [`Communicator::exec`], with `input` on the command's standard input (then end of
    /// file). Lets a provisioner upload, run and remove a script in one remote command.
    /// Communicators that cannot do it binary-safe (a pty echoes and translates) say
    /// [`CommError::Unsupported`], and the caller does it in separate steps.
    async fn exec_with_input(
        &self,
        command: &str,
        input: &[u8],
        output: OutputSink<'_>,
    ) -> Result<ExitStatus, CommError> {
        let _ = (command, input, output);
        Err(CommError::Unsupported("commands with input"))
    }

    /// Runs `command` with its standard streams as raw bytes: `stdin` is copied to the command
    /// until it ends (then end of file), the command's output to `stdout` and `stderr` as it
    /// arrives. Lets a local SSH endpoint relay another client's sessions (the ansible
    /// provisioner's proxy: Ansible's commands, an `sftp-server`). Returns when the command has
    /// exited, whether or not `stdin` has ended.
    async fn exec_stream(
        &self,
        command: &str,
        stdin: &mut (dyn AsyncRead + Send + Unpin),
        stdout: &mut (dyn AsyncWrite + Send + Unpin),
        stderr: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<ExitStatus, CommError> {
        let _ = (command, stdin, stdout, stderr);
        Err(CommError::Unsupported("commands with streamed input"))
    }

    /// Streams `src` to the remote file `dst` (created or truncated), with `mode` when given.
    async fn upload(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        size: Option<u64>,
        mode: Option<u32>,
    ) -> Result<(), CommError>;

    /// Uploads the local directory `src` into the remote directory `dst` (created if missing),
    /// keeping the tree below `src`.
    async fn upload_dir(&self, dst: &str, src: &Path) -> Result<(), CommError>;

    /// Streams the remote file `src` into `dst`.
    async fn download(
        &self,
        src: &str,
        dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError>;

    /// Downloads the remote directory `src` into the local directory `dst`.
    async fn download_dir(&self, src: &str, dst: &Path) -> Result<(), CommError>;

    /// Whether the remote path is a directory (for Packer's download rules).
    async fn is_dir(&self, path: &str) -> Result<bool, CommError>;
}

/// What a command printed, line by line, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard output, each line ending in `\n`.
    pub stdout: String,
    /// Its standard error, the same way.
    pub stderr: String,
}

/// Runs `command` (with `input` on its standard input when given) and keeps what it prints:
/// for probes whose output is parsed rather than shown.
///
/// # Errors
/// As [`Communicator::exec`] and [`Communicator::exec_with_input`].
pub async fn capture(
    comm: &dyn Communicator,
    command: &str,
    input: Option<&[u8]>,
) -> Result<Captured, CommError> {
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut sink = |s: OutputStream, line: &str| {
        let buf = if s == OutputStream::Stdout {
            &mut stdout
        } else {
            &mut stderr
        };
        buf.push_str(line);
        buf.push('\n');
    };
    let status = match input {
        Some(i) => comm.exec_with_input(command, i, &mut sink).await?,
        None => comm.exec(command, &mut sink).await?,
    };
    Ok(Captured {
        status,
        stdout,
        stderr,
    })
}

//! The docker communicator: commands through the Engine's exec API, files through its archive
//! API. Transfers are tar streams built and read while they travel: nothing is staged on the
//! host or in the container, however large the file.

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::{DownloadFromContainerOptions, UploadToContainerOptions};
use bollard::Docker;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use kiln_communicator::{flush_output, output_lines, shell_quote};
use kiln_core::communicator::{CommError, OutputSink};
use kiln_core::{Communicator, ExitStatus, OutputStream};
use std::path::Path;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const CHUNK: usize = 256 * 1024;

/// A running container, talked to through the Docker engine.
#[derive(Debug, Clone)]
pub struct DockerCommunicator {
    docker: Docker,
    container: String,
    user: Option<String>,
    fix_upload_owner: bool,
    owner: Option<String>,
}

/// The user helper commands (ownership, directories) run as, whatever `exec_user` is.
const ROOT: &str = "0";

impl DockerCommunicator {
    /// Commands run in `container` as `user` (`exec_user`; the image's user when `None`).
    /// With `fix_upload_owner`, uploads are given to that user.
    #[must_use]
    pub fn new(
        docker: Docker,
        container: &str,
        user: Option<String>,
        fix_upload_owner: bool,
    ) -> Self {
        DockerCommunicator {
            docker,
            container: container.to_string(),
            user: user.filter(|u| !u.is_empty()),
            fix_upload_owner,
            owner: None,
        }
    }

    /// Uploads are given to `owner` (the container's configured user, as Packer does) when
    /// `fix_upload_owner` is set; root or none leaves them as the engine makes them (root's).
    #[must_use]
    pub fn with_owner(mut self, owner: Option<String>) -> Self {
        self.owner = owner.filter(|o| !o.is_empty() && o != "root" && o != "0" && o != "0:0");
        self
    }

    fn exec_error(e: &bollard::errors::Error) -> CommError {
        CommError::Exec(crate::engine_message(e))
    }

    /// Creates and starts an exec of `argv` as `user`, attached.
    async fn start(
        &self,
        argv: Vec<String>,
        user: Option<String>,
        stdin: bool,
    ) -> Result<Started, CommError> {
        let exec = self
            .docker
            .create_exec(
                &self.container,
                CreateExecOptions::<String> {
                    cmd: Some(argv),
                    attach_stdin: Some(stdin),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    user,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| Self::exec_error(&e))?;
        match self
            .docker
            .start_exec(&exec.id, None)
            .await
            .map_err(|e| Self::exec_error(&e))?
        {
            StartExecResults::Attached { output, input } => Ok(Started {
                id: exec.id,
                output,
                input,
            }),
            StartExecResults::Detached => Err(CommError::Exec(
                "the engine started the command detached".into(),
            )),
        }
    }

    /// Why the container stopped, when it is no longer running: a command that failed because
    /// its container died says so, not just its exit status.
    async fn container_gone(&self) -> Option<String> {
        let c = self
            .docker
            .inspect_container(
                &self.container,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await;
        let state = match c {
            Ok(c) => c.state?,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Some(format!("the container {} was removed", self.container)),
            Err(_) => return None,
        };
        if state.running == Some(true) {
            return None;
        }
        let mut why = format!(
            "the container {} stopped (exit code {})",
            self.container,
            state.exit_code.unwrap_or(-1)
        );
        if state.oom_killed == Some(true) {
            why.push_str(": it ran out of memory (OOM-killed)");
        }
        Some(why)
    }

    /// The exit status of a finished exec.
    async fn exit_status(&self, id: &str) -> Result<ExitStatus, CommError> {
        let status = self.exec_status(id).await?;
        if status.success() {
            return Ok(status);
        }
        // A command killed by a signal (or cut off) may have died with its container, whose
        // state the engine updates a moment after the command's: look a few times.
        let signalled = matches!(status, ExitStatus::Disconnected)
            || matches!(status, ExitStatus::Code(c) if c >= 128);
        let looks = if signalled { 40 } else { 1 };
        for i in 0..looks {
            if let Some(why) = self.container_gone().await {
                return Err(CommError::Exec(why));
            }
            if i + 1 < looks {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        Ok(status)
    }

    async fn exec_status(&self, id: &str) -> Result<ExitStatus, CommError> {
        // The output ends as the process exits; the engine records the code a moment later.
        for _ in 0..50 {
            let inspected = self
                .docker
                .inspect_exec(id)
                .await
                .map_err(|e| Self::exec_error(&e))?;
            match (inspected.running, inspected.exit_code) {
                (Some(true), _) => {}
                (_, Some(c)) => return Ok(ExitStatus::Code(i32::try_from(c).unwrap_or(255))),
                (_, None) => return Ok(ExitStatus::Disconnected),
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(ExitStatus::Disconnected)
    }

    /// Runs `argv` as `user` with `input` (when given) on its standard input, streaming output
    /// lines.
    async fn run(
        &self,
        argv: Vec<String>,
        user: Option<String>,
        input: Option<&[u8]>,
        output: OutputSink<'_>,
    ) -> Result<ExitStatus, CommError> {
        let Started {
            id,
            output: mut out,
            input: mut stdin,
        } = self.start(argv, user, input.is_some()).await?;
        let feed = async {
            if let Some(data) = input {
                stdin.write_all(data).await?;
            }
            stdin.shutdown().await
        };
        let drain = async {
            let (mut o, mut e) = (Vec::new(), Vec::new());
            while let Some(item) = out.next().await {
                match item {
                    Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                        output_lines(&mut o, &message, OutputStream::Stdout, output);
                    }
                    Ok(LogOutput::StdErr { message }) => {
                        output_lines(&mut e, &message, OutputStream::Stderr, output);
                    }
                    Ok(LogOutput::StdIn { .. }) => {}
                    Err(err) => return Err(Self::exec_error(&err)),
                }
            }
            flush_output(&mut o, OutputStream::Stdout, output);
            flush_output(&mut e, OutputStream::Stderr, output);
            Ok(())
        };
        let (fed, drained) = tokio::join!(feed, drain);
        drained?;
        if let Err(e) = fed {
            // A command that exits without reading its input closes the stream under us.
            tracing::debug!(error = %e, "docker exec: sending the command's input");
        }
        self.exit_status(&id).await
    }

    async fn shell(&self, command: &str, output: OutputSink<'_>) -> Result<ExitStatus, CommError> {
        self.run(sh(command), self.user.clone(), None, output).await
    }

    /// Runs `command`, failing unless it exits 0; its output goes into the error.
    async fn must(&self, op: &'static str, path: &str, command: &str) -> Result<(), CommError> {
        let mut said = String::new();
        let status = self
            .run(sh(command), Some(ROOT.into()), None, &mut |_, line| {
                said.push_str(line);
                said.push('\n');
            })
            .await?;
        if status.success() {
            return Ok(());
        }
        Err(CommError::Transfer {
            op,
            path: path.to_string(),
            message: format!("`{command}` failed: {}", said.trim_end()),
        })
    }

    async fn put_archive(
        &self,
        dir: &str,
        body: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> Result<(), bollard::errors::Error> {
        self.docker
            .upload_to_container(
                &self.container,
                Some(UploadToContainerOptions {
                    path: dir.to_string(),
                    // As `docker cp`: a file never replaces a directory (the engine would
                    // remove the directory, and all below it, to put the file there).
                    no_overwrite_dir_non_dir: Some("true".into()),
                    ..Default::default()
                }),
                bollard::body_try_stream(body),
            )
            .await
    }

    async fn give_to_user(&self, op: &'static str, path: &str) -> Result<(), CommError> {
        match (&self.owner, self.fix_upload_owner) {
            (Some(owner), true) => {
                self.must(
                    op,
                    path,
                    &format!("chown -R {} {}", shell_quote(owner), shell_quote(path)),
                )
                .await
            }
            _ => Ok(()),
        }
    }

    /// The archive of `path` in the container, as a byte stream.
    fn archive(&self, path: &str) -> impl AsyncRead + Send + Unpin + 'static {
        let stream = self
            .docker
            .download_from_container(
                &self.container,
                Some(DownloadFromContainerOptions {
                    path: path.to_string(),
                }),
            )
            .map_err(|e| std::io::Error::other(crate::engine_message(&e)));
        tokio_util::io::StreamReader::new(Box::pin(stream))
    }
}

/// A started exec: its id, output and input.
struct Started {
    id: String,
    output: std::pin::Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>,
    input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
}

/// `/bin/sh -c COMMAND`.
fn sh(command: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), command.to_string()]
}

/// The tar header (with a GNU long-name entry before it when the name needs one) for one
/// regular file of `size` bytes; its data follows.
fn file_header(name: &str, size: u64, mode: u32) -> std::io::Result<Vec<u8>> {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(mode);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    // The builder writes the long-name entry and the header; the data is not its to write
    // (an empty reader), and what it appends when dropped goes to a buffer left behind.
    let mut b = tar::Builder::new(Vec::new());
    b.append_data(&mut h, name, std::io::empty())?;
    Ok(std::mem::take(b.get_mut()))
}

/// A single-file tar stream: the header, `size` bytes of `body`, padding and the end blocks.
fn single_file_tar<R: AsyncRead + Send + Unpin + 'static>(
    header: Vec<u8>,
    mut body: R,
    size: u64,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let send = |b: Result<Bytes, std::io::Error>| {
            let tx = tx.clone();
            async move { tx.send(b).await.is_ok() }
        };
        if !send(Ok(Bytes::from(header))).await {
            return;
        }
        let mut left = size;
        let mut buf = vec![0u8; CHUNK];
        while left > 0 {
            let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
            match body.read(&mut buf[..want]).await {
                Ok(0) => {
                    let _ = send(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the source ended {left} bytes short of its size"),
                    )))
                    .await;
                    return;
                }
                Ok(n) => {
                    left -= n as u64;
                    if !send(Ok(Bytes::copy_from_slice(&buf[..n]))).await {
                        return;
                    }
                }
                Err(e) => {
                    let _ = send(Err(e)).await;
                    return;
                }
            }
        }
        let pad = (512 - (size % 512) as usize) % 512;
        let _ = send(Ok(Bytes::from(vec![0u8; pad + 1024]))).await;
    });
    tokio_stream_from(rx)
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl Stream<Item = T> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// `dst`'s directory and file name.
fn split_remote(dst: &str) -> (String, String) {
    let trimmed = dst.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some(("", name)) => ("/".into(), name.into()),
        Some((dir, name)) => (dir.into(), name.into()),
        None => (".".into(), trimmed.into()),
    }
}

/// The entry's path below its first component (the archived file or directory itself), refusing
/// paths that climb out.
fn below_top(path: &Path) -> Option<std::path::PathBuf> {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components().skip(1) {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

#[async_trait]
impl Communicator for DockerCommunicator {
    async fn exec(&self, command: &str, output: OutputSink<'_>) -> Result<ExitStatus, CommError> {
        let t = std::time::Instant::now();
        let r = self.shell(command, output).await;
        tracing::debug!(
            command = %command,
            elapsed_ms = t.elapsed().as_millis(),
            ok = r.is_ok(),
            "docker exec"
        );
        r
    }

    async fn exec_with_input(
        &self,
        command: &str,
        input: &[u8],
        output: OutputSink<'_>,
    ) -> Result<ExitStatus, CommError> {
        self.run(sh(command), self.user.clone(), Some(input), output)
            .await
    }

    async fn exec_stream(
        &self,
        command: &str,
        stdin: &mut (dyn AsyncRead + Send + Unpin),
        stdout: &mut (dyn AsyncWrite + Send + Unpin),
        stderr: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<ExitStatus, CommError> {
        let Started {
            id,
            output: mut out,
            input: mut to_command,
        } = self.start(sh(command), self.user.clone(), true).await?;
        let feed = async {
            tokio::io::copy(stdin, &mut to_command).await?;
            to_command.shutdown().await
        };
        let pump = async {
            while let Some(item) = out.next().await {
                match item.map_err(|e| std::io::Error::other(crate::engine_message(&e)))? {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        stdout.write_all(&message).await?;
                        stdout.flush().await?;
                    }
                    LogOutput::StdErr { message } => {
                        stderr.write_all(&message).await?;
                        stderr.flush().await?;
                    }
                    LogOutput::StdIn { .. } => {}
                }
            }
            Ok::<(), std::io::Error>(())
        };
        tokio::pin!(feed, pump);
        let mut fed = false;
        // Done when the command's output ends (it exited), whether or not its input has.
        loop {
            tokio::select! {
                r = &mut feed, if !fed => {
                    fed = true;
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "docker exec: the command's input");
                    }
                }
                r = &mut pump => {
                    r.map_err(|e| CommError::Exec(e.to_string()))?;
                    break;
                }
            }
        }
        self.exit_status(&id).await
    }

    async fn upload(
        &self,
        dst: &str,
        src: &mut (dyn AsyncRead + Send + Unpin),
        size: Option<u64>,
        mode: Option<u32>,
    ) -> Result<(), CommError> {
        let err = |message: String| CommError::Transfer {
            op: "upload",
            path: dst.to_string(),
            message,
        };
        // A tar header needs the size first: a stream of unknown length is read whole (these
        // are small: rendered content, not files).
        let mut whole = Vec::new();
        let (src, n): (&mut (dyn AsyncRead + Send + Unpin), u64) = match size {
            Some(n) => (src, n),
            None => {
                src.read_to_end(&mut whole)
                    .await
                    .map_err(|e| err(e.to_string()))?;
                let n = whole.len() as u64;
                (&mut &whole[..], n)
            }
        };
        // Relay the borrowed reader through a pipe the 'static tar stream can own.
        let (mut w, r) = tokio::io::duplex(CHUNK);
        let (dir, name) = split_remote(dst);
        let header =
            file_header(&name, n, mode.unwrap_or(0o644)).map_err(|e| err(e.to_string()))?;
        let put = self.put_archive(&dir, single_file_tar(header, r, n));
        let copy = async {
            let r = tokio::io::copy(&mut src.take(n), &mut w).await;
            drop(w);
            r
        };
        let (put, copied) = tokio::join!(put, copy);
        // The local side first: a read error there is why the engine saw the body end.
        copied.map_err(|e| err(format!("reading the source: {e}")))?;
        put.map_err(|e| err(crate::engine_message(&e)))?;
        self.give_to_user("upload", dst).await
    }

    async fn upload_dir(&self, dst: &str, src: &Path) -> Result<(), CommError> {
        let err = |message: String| CommError::Transfer {
            op: "upload",
            path: dst.to_string(),
            message,
        };
        self.must("upload", dst, &format!("mkdir -p {}", shell_quote(dst)))
            .await?;
        let (pipe_r, pipe_w) = tokio::io::duplex(CHUNK);
        let src = src.to_path_buf();
        let producer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let w = tokio_util::io::SyncIoBridge::new(pipe_w);
            let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(CHUNK, w));
            b.follow_symlinks(false);
            b.append_dir_all(".", &src)?;
            b.into_inner()?
                .into_inner()
                .map_err(|e| e.into_error())?
                .shutdown()?;
            Ok(())
        });
        let body = tokio_util::io::ReaderStream::with_capacity(pipe_r, CHUNK);
        let put = self.put_archive(dst, body).await;
        let produced = producer.await.map_err(|e| err(e.to_string()))?;
        produced.map_err(|e| err(format!("reading the local directory: {e}")))?;
        put.map_err(|e| err(crate::engine_message(&e)))?;
        self.give_to_user("upload", dst).await
    }

    async fn download(
        &self,
        src: &str,
        dst: &mut (dyn AsyncWrite + Send + Unpin),
    ) -> Result<(), CommError> {
        let err = |message: String| CommError::Transfer {
            op: "download",
            path: src.to_string(),
            message,
        };
        let archive = self.archive(src);
        let (mut pipe_r, pipe_w) = tokio::io::duplex(CHUNK);
        let reader = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let r = tokio_util::io::SyncIoBridge::new(archive);
            let mut a = tar::Archive::new(std::io::BufReader::with_capacity(CHUNK, r));
            let mut w = tokio_util::io::SyncIoBridge::new(pipe_w);
            let mut entries = a.entries()?;
            let Some(entry) = entries.next() else {
                return Err(std::io::Error::other("the engine sent an empty archive"));
            };
            let mut entry = entry?;
            if entry.header().entry_type().is_dir() {
                return Err(std::io::Error::other("it is a directory"));
            }
            std::io::copy(&mut entry, &mut w)?;
            std::io::Write::flush(&mut w)?;
            w.shutdown()
        });
        let copied = tokio::io::copy(&mut pipe_r, dst).await;
        // The reader thread must not wait on a pipe nobody reads any more (dst failed).
        drop(pipe_r);
        reader
            .await
            .map_err(|e| err(e.to_string()))?
            .map_err(|e| err(e.to_string()))?;
        copied.map_err(|e| err(e.to_string()))?;
        dst.flush().await.map_err(|e| err(e.to_string()))
    }

    async fn download_dir(&self, src: &str, dst: &Path) -> Result<(), CommError> {
        let err = |message: String| CommError::Transfer {
            op: "download",
            path: src.to_string(),
            message,
        };
        std::fs::create_dir_all(dst).map_err(|e| CommError::Io {
            context: format!("creating {}", dst.display()),
            source: e,
        })?;
        let archive = self.archive(src);
        let dst = dst.to_path_buf();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let r = tokio_util::io::SyncIoBridge::new(archive);
            let mut a = tar::Archive::new(std::io::BufReader::with_capacity(CHUNK, r));
            let root = std::fs::canonicalize(&dst)?;
            for entry in a.entries()? {
                let mut entry = entry?;
                let path = entry.path()?.into_owned();
                let outside = |p: &Path| {
                    std::io::Error::other(format!(
                        "the archive names a path outside the directory: {}",
                        p.display()
                    ))
                };
                let rel = below_top(&path).ok_or_else(|| outside(&path))?;
                if rel.as_os_str().is_empty() {
                    continue;
                }
                let target = dst.join(&rel);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                    // No earlier entry (a symbolic link) may lead a later one out of `dst`.
                    if !std::fs::canonicalize(parent)?.starts_with(&root) {
                        return Err(outside(&path));
                    }
                }
                if entry.header().entry_type().is_hard_link() {
                    // A hard link names another entry of the archive, by its archived path.
                    let link = entry
                        .link_name()?
                        .ok_or_else(|| outside(&path))?
                        .into_owned();
                    let to = below_top(&link).ok_or_else(|| outside(&link))?;
                    let _ = std::fs::remove_file(&target);
                    std::fs::hard_link(dst.join(to), &target)?;
                    continue;
                }
                entry.unpack(&target)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| err(e.to_string()))?
        .map_err(|e| err(e.to_string()))
    }

    async fn is_dir(&self, path: &str) -> Result<bool, CommError> {
        let status = self
            .shell(&format!("test -d {}", shell_quote(path)), &mut |_, _| {})
            .await?;
        Ok(status.success())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_split_into_directory_and_name() {
        assert_eq!(split_remote("/tmp/a.txt"), ("/tmp".into(), "a.txt".into()));
        assert_eq!(split_remote("/a.txt"), ("/".into(), "a.txt".into()));
        assert_eq!(split_remote("a.txt"), (".".into(), "a.txt".into()));
    }

    #[test]
    fn archive_entries_are_taken_below_the_top_and_never_above_it() {
        assert_eq!(below_top(Path::new("dir/a/b")), Some("a/b".into()));
        assert_eq!(below_top(Path::new("dir")), Some("".into()));
        assert_eq!(below_top(Path::new("dir/../../etc")), None);
    }
}

//! The remote side of the scp protocol (`scp -t` receives, `scp -f` sends), served by Kiln
//! through the communicator's uploads and downloads, so an scp client reaches a machine whose
//! communicator is not SSH, or that has no `scp` of its own.
//!
//! The protocol: the receiving side acknowledges every message with a zero byte; messages are
//! `C<mode> <size> <name>\n` (a file, then its bytes, then a zero byte), `D<mode> 0 <name>\n` /
//! `E\n` (enter / leave a directory), `T<mtime> 0 <atime> 0\n` (times for the next entry);
//! `\x01` (warning) or `\x02` (error) and a line report a problem.

use kiln_core::Communicator;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// An `scp` command Kiln serves itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScpArgs {
    /// `-t`: receive files (an upload); otherwise `-f`: send one.
    upload: bool,
    /// `-d`: the target is a directory.
    target_is_dir: bool,
    /// The remote path.
    path: String,
}

/// The scp request in `command`, if it is one (`scp` with `-t` or `-f`).
pub(super) fn serves(command: &str) -> Option<ScpArgs> {
    let words = shell_words::split(command).ok()?;
    let (prog, rest) = words.split_first()?;
    if prog != "scp" {
        return None;
    }
    let mut opts = String::new();
    let mut path = None;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        if w == "--" {
            path = it.next().cloned();
            break;
        }
        match w.strip_prefix('-') {
            Some(o) if !o.is_empty() => opts.push_str(o),
            _ => {
                path = Some(w.clone());
                break;
            }
        }
    }
    let upload = opts.contains('t');
    if !upload && !opts.contains('f') {
        return None;
    }
    Some(ScpArgs {
        upload,
        target_is_dir: opts.contains('d'),
        path: path.unwrap_or_default(),
    })
}

/// Serves the request on the channel's input and output; returns the exit status for the
/// client.
pub(super) async fn serve<R, W>(
    comm: &dyn Communicator,
    args: &ScpArgs,
    input: &mut R,
    output: &mut W,
) -> u32
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    let mut input = BufReader::new(input);
    let r = if args.path.is_empty() {
        Err("no scp path given".to_string())
    } else if args.upload {
        receive(comm, args, &mut input, output).await
    } else {
        send(comm, &args.path, &mut input, output).await
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            let _ = output
                .write_all(format!("\x02scp: {}: {e}\n", args.path).as_bytes())
                .await;
            1
        }
    }
}

async fn ok<W: AsyncWrite + Unpin>(w: &mut W) -> Result<(), String> {
    w.write_all(b"\0").await.map_err(|e| e.to_string())?;
    w.flush().await.map_err(|e| e.to_string())
}

async fn line<R: AsyncBufReadExt + Unpin>(r: &mut R) -> Result<String, String> {
    let mut buf = Vec::new();
    r.read_until(b'\n', &mut buf)
        .await
        .map_err(|e| e.to_string())?;
    if buf.last() != Some(&b'\n') {
        return Err("the scp client ended in the middle of a message".into());
    }
    buf.pop();
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Reads the other side's answer: zero, or a warning / error with its message.
async fn answer<R: AsyncBufReadExt + Unpin>(r: &mut R) -> Result<(), String> {
    match r.read_u8().await.map_err(|e| e.to_string())? {
        0 => Ok(()),
        1 | 2 => Err(line(r).await.unwrap_or_default()),
        b => Err(format!("unexpected scp answer byte {b}")),
    }
}

/// `C0644 12 name` or `D0755 0 name`: mode, size, name.
fn entry(header: &str) -> Result<(u32, u64, String), String> {
    let bad = || format!("malformed scp message {header:?}");
    let mut parts = header.splitn(3, ' ');
    let mode = u32::from_str_radix(parts.next().ok_or_else(bad)?, 8).map_err(|_| bad())?;
    let size = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let name = parts.next().ok_or_else(bad)?.to_string();
    if name.is_empty() || name == ".." || name.contains('/') {
        return Err(format!("refusing the scp file name {name:?}"));
    }
    Ok((mode & 0o7777, size, name))
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// `scp -t PATH`: files (and directories, with `-r`) from the client, uploaded.
async fn receive<R, W>(
    comm: &dyn Communicator,
    args: &ScpArgs,
    input: &mut BufReader<R>,
    output: &mut W,
) -> Result<(), String>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    // Directories entered so far (`D` ... `E`), below the target.
    let mut dirs: Vec<String> = Vec::new();
    ok(output).await?;
    loop {
        let kind = match input.read_u8().await {
            Ok(b) => b,
            // The client ends the session when it has sent everything.
            Err(_) => return Ok(()),
        };
        match kind {
            b'T' => {
                line(input).await?;
                ok(output).await?;
            }
            b'C' => {
                let (mode, size, name) = entry(&line(input).await?)?;
                let dest = match dirs.last() {
                    Some(d) => join(d, &name),
                    None if args.target_is_dir => join(&args.path, &name),
                    None => args.path.clone(),
                };
                ok(output).await?;
                let mut body = (&mut *input).take(size);
                comm.upload(&dest, &mut body, Some(size), Some(mode))
                    .await
                    .map_err(|e| e.to_string())?;
                if body.limit() > 0 {
                    return Err("the scp client ended in the middle of a file".into());
                }
                answer(input).await?;
                ok(output).await?;
            }
            b'D' => {
                let (mode, _, name) = entry(&line(input).await?)?;
                let parent = dirs.last().cloned().unwrap_or_else(|| args.path.clone());
                let dir = join(&parent, &name);
                // An empty directory of the record's mode, which the upload carries over.
                let empty = tempfile::tempdir().map_err(|e| e.to_string())?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(empty.path(), std::fs::Permissions::from_mode(mode))
                        .map_err(|e| e.to_string())?;
                }
                comm.upload_dir(&dir, empty.path())
                    .await
                    .map_err(|e| e.to_string())?;
                dirs.push(dir);
                ok(output).await?;
            }
            b'E' => {
                line(input).await?;
                dirs.pop();
                ok(output).await?;
            }
            // A warning (a source file the client could not read): it goes on with the rest.
            1 => {
                line(input).await?;
            }
            2 => return Err(line(input).await.unwrap_or_default()),
            b => return Err(format!("unexpected scp message byte {b}")),
        }
    }
}

/// `scp -f PATH`: one remote file, downloaded and sent to the client.
async fn send<R, W>(
    comm: &dyn Communicator,
    path: &str,
    input: &mut BufReader<R>,
    output: &mut W,
) -> Result<(), String>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    answer(input).await?;
    if comm.is_dir(path).await.map_err(|e| e.to_string())? {
        return Err("not a regular file (directories are not sent)".into());
    }
    // The size comes first in the protocol: the file is fetched whole before it is sent.
    let spool = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let mut f = tokio::fs::File::create(spool.path())
        .await
        .map_err(|e| e.to_string())?;
    comm.download(path, &mut f)
        .await
        .map_err(|e| e.to_string())?;
    f.flush().await.map_err(|e| e.to_string())?;
    drop(f);
    let size = std::fs::metadata(spool.path())
        .map_err(|e| e.to_string())?
        .len();
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    output
        .write_all(format!("C0644 {size} {name}\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    answer(input).await?;
    let mut f = tokio::fs::File::open(spool.path())
        .await
        .map_err(|e| e.to_string())?;
    tokio::io::copy(&mut f, output)
        .await
        .map_err(|e| e.to_string())?;
    ok(output).await?;
    answer(input).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scp_commands_are_recognised_with_their_options_and_path() {
        assert_eq!(
            serves("scp -t /tmp/x"),
            Some(ScpArgs {
                upload: true,
                target_is_dir: false,
                path: "/tmp/x".into()
            })
        );
        assert_eq!(
            serves("scp -v -d -t -- '/tmp/a b/'"),
            Some(ScpArgs {
                upload: true,
                target_is_dir: true,
                path: "/tmp/a b/".into()
            })
        );
        assert_eq!(
            serves("scp -f /etc/hostname"),
            Some(ScpArgs {
                upload: false,
                target_is_dir: false,
                path: "/etc/hostname".into()
            })
        );
        assert_eq!(serves("scp /a /b"), None);
        assert_eq!(serves("/bin/sh -c 'scp -t x'"), None);
    }

    #[test]
    fn entries_parse_and_unsafe_names_are_refused() {
        assert_eq!(entry("0644 12 a.txt").unwrap(), (0o644, 12, "a.txt".into()));
        assert_eq!(
            entry("0755 0 with space").unwrap(),
            (0o755, 0, "with space".into())
        );
        assert!(entry("0644 12 ../x").is_err());
        assert!(entry("0644 12 ..").is_err());
        assert!(entry("x 1 a").is_err());
    }
}

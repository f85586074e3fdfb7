//! The build's HTTP server for `http_directory` / `http_content` (preseed, kickstart, cloud-init
//! files): GET and HEAD over HTTP/1.1, one response per connection.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the server serves.
#[derive(Debug, Clone)]
pub enum Content {
    /// Files under a directory.
    Dir(PathBuf),
    /// Fixed paths (with or without a leading slash) to contents.
    Map(BTreeMap<String, String>),
}

/// A running server; stopped when dropped.
#[derive(Debug)]
pub struct HttpServer {
    /// The port it listens on.
    pub port: u16,
    task: JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts serving `content` on `bind` at the first free port in `ports`, starting at a random one.
///
/// # Errors
/// No port in the range could be bound.
pub async fn start(content: Content, bind: &str, ports: (u16, u16)) -> Result<HttpServer, String> {
    let listener = bind_in_range(bind, ports).await?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let content = Arc::new(content);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let content = content.clone();
            tokio::spawn(async move {
                let _ = serve(stream, &content).await;
            });
        }
    });
    Ok(HttpServer { port, task })
}

/// Every port of `min..=max` once, starting at a random one (as Packer picks ports).
pub fn ports_from_random(min: u16, max: u16) -> impl Iterator<Item = u16> {
    let span = u32::from(max.saturating_sub(min)) + 1;
    let start = rand::random::<u32>() % span;
    (0..span).map(move |i| min + u16::try_from((start + i) % span).unwrap_or(0))
}

async fn bind_in_range(bind: &str, (min, max): (u16, u16)) -> Result<TcpListener, String> {
    for port in ports_from_random(min, max) {
        if let Ok(l) = TcpListener::bind((bind, port)).await {
            return Ok(l);
        }
    }
    Err(format!(
        "no free port for the HTTP server on {bind} between {min} and {max}"
    ))
}

fn decode_path(raw: &str) -> String {
    let path = raw.split(['?', '#']).next().unwrap_or_default();
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&path[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves a request path under `root`, refusing anything that climbs out of it.
fn under(root: &Path, path: &str) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    for c in Path::new(path.trim_start_matches('/')).components() {
        match c {
            Component::Normal(n) => p.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(p)
}

async fn serve(stream: TcpStream, content: &Content) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    let mut request = String::new();
    reader.read_line(&mut request).await?;
    // Drain the headers.
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).await? == 0 || h.trim().is_empty() {
            break;
        }
    }
    let mut parts = request.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = decode_path(parts.next().unwrap_or("/"));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut w,
            "405 Method Not Allowed",
            b"method not allowed\n",
            true,
        )
        .await;
    }
    let body: Option<Vec<u8>> = match content {
        Content::Map(m) => m
            .get(&path)
            .or_else(|| m.get(path.trim_start_matches('/')))
            .map(|s| s.clone().into_bytes()),
        Content::Dir(root) => match under(root, &path) {
            Some(mut p) => {
                if p.is_dir() {
                    p.push("index.html");
                }
                tokio::fs::read(&p).await.ok()
            }
            None => None,
        },
    };
    match body {
        Some(b) => respond(&mut w, "200 OK", &b, method == "GET").await,
        None => respond(&mut w, "404 Not Found", b"404 page not found\n", true).await,
    }
}

async fn respond(
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    status: &str,
    body: &[u8],
    send_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    w.write_all(head.as_bytes()).await?;
    if send_body {
        w.write_all(body).await?;
    }
    w.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let root = Path::new("/srv");
        assert_eq!(under(root, "/a/b.txt"), Some(PathBuf::from("/srv/a/b.txt")));
        assert_eq!(under(root, "/../etc/passwd"), None);
        assert_eq!(decode_path("/a%20b?x=1"), "/a b");
    }
}

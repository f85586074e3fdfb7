//! A small QMP (QEMU Machine Protocol) client over QEMU's unix socket: enough to type keys, ask
//! the guest to power down, and quit.

use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// A connected QMP session in command mode.
pub struct Qmp {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// The asynchronous events read so far (`STOP`, `GUEST_PANICKED`, `BLOCK_IO_ERROR` ...).
    events: Vec<Value>,
    /// The id of the last command sent: answers carry their command's id, so that the answer
    /// to a command whose caller was cancelled while it waited is never taken for another's.
    last_id: u64,
    /// What has been read of a line not yet complete (kept across a cancelled read:
    /// `read_until` appends to it as it reads).
    partial: Vec<u8>,
}

impl std::fmt::Debug for Qmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Qmp")
    }
}

impl Qmp {
    /// Connects to `path`, retrying until QEMU has created the socket (up to `timeout`).
    ///
    /// # Errors
    /// The socket never appeared, or the handshake failed.
    pub async fn connect(path: &Path, timeout: Duration) -> Result<Qmp, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        let stream = loop {
            match UnixStream::connect(path).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    return Err(format!("connecting to QMP socket {}: {e}", path.display()))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let (r, w) = stream.into_split();
        let mut q = Qmp {
            reader: BufReader::new(r),
            writer: w,
            events: Vec::new(),
            last_id: 0,
            partial: Vec::new(),
        };
        let greeting = q.read().await?;
        if greeting.get("QMP").is_none() {
            return Err(format!("unexpected QMP greeting: {greeting}"));
        }
        q.execute("qmp_capabilities", None).await?;
        Ok(q)
    }

    async fn read(&mut self) -> Result<Value, String> {
        let n = self
            .reader
            .read_until(b'\n', &mut self.partial)
            .await
            .map_err(|e| format!("reading from QMP: {e}"))?;
        if n == 0 || self.partial.last() != Some(&b'\n') {
            return Err("QEMU closed the QMP connection".into());
        }
        let line = std::mem::take(&mut self.partial);
        serde_json::from_slice(&line)
            .map_err(|e| format!("bad QMP message {:?}: {e}", String::from_utf8_lossy(&line)))
    }

    /// Runs a command and returns its `return` value, skipping asynchronous events.
    ///
    /// # Errors
    /// QEMU's error description, or a broken connection.
    pub async fn execute(&mut self, command: &str, args: Option<Value>) -> Result<Value, String> {
        self.last_id += 1;
        let id = self.last_id;
        let mut msg = json!({ "execute": command, "id": id });
        if let Some(a) = args {
            msg["arguments"] = a;
        }
        let mut text = msg.to_string();
        text.push('\n');
        self.writer
            .write_all(text.as_bytes())
            .await
            .map_err(|e| format!("writing to QMP: {e}"))?;
        loop {
            let v = self.read().await?;
            if v.get("event").is_some() {
                self.events.push(v);
                continue;
            }
            // The answer to an earlier, abandoned command (or to none: the greeting).
            if v.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(r) = v.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = v.get("error") {
                return Err(format!(
                    "QMP {command}: {}",
                    e.get("desc").and_then(Value::as_str).unwrap_or("error")
                ));
            }
        }
    }

    /// Whether QEMU has sent `event`, reading what it sent and has not been read yet (QEMU
    /// may have exited since: what it wrote before is still there to read) for up to `wait`.
    pub async fn saw_event(&mut self, event: &str, wait: Duration) -> bool {
        let _ = tokio::time::timeout(wait, async {
            while let Ok(v) = self.read().await {
                if v.get("event").is_some() {
                    self.events.push(v);
                }
            }
        })
        .await;
        self.events
            .iter()
            .any(|e| e.get("event").and_then(Value::as_str) == Some(event))
    }

    /// The data of the last `BLOCK_IO_ERROR` event read (`device`, `operation`, `nospace`,
    /// `reason` ...).
    #[must_use]
    pub fn last_block_io_error(&self) -> Option<&Value> {
        self.events
            .iter()
            .rev()
            .find(|e| e.get("event").and_then(Value::as_str) == Some("BLOCK_IO_ERROR"))
            .and_then(|e| e.get("data"))
    }

    /// Presses (`down`) or releases a key given as a qcode.
    ///
    /// # Errors
    /// As [`Qmp::execute`].
    pub async fn key(&mut self, qcode: &str, down: bool) -> Result<(), String> {
        self.execute(
            "input-send-event",
            Some(json!({ "events": [{
                "type": "key",
                "data": { "down": down, "key": { "type": "qcode", "data": qcode } }
            }] })),
        )
        .await
        .map(|_| ())
    }
}

//! A local SSH endpoint that relays sessions to any [`Communicator`].
//!
//! Tools that only speak SSH (Ansible) reach the build's machine through it: it listens on
//! 127.0.0.1, accepts one user with one public key, and serves each session channel by running
//! its request on the communicator: `exec` requests as commands with their input and output
//! streamed both ways, `scp -t` / `scp -f` by Kiln itself through the communicator's uploads
//! and downloads ([`scp`]), and the `sftp` subsystem by an `sftp-server` started on the machine.
//! A pty request is accepted and ignored (Ansible asks for one; commands run without it), as
//! Packer's adapter does.

mod scp;

use kiln_core::{Communicator, ExitStatus, Ui};
use russh::keys::ssh_key::{PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelMsg, MethodKind, MethodSet};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What the endpoint accepts and how it serves.
#[derive(Clone)]
pub struct ProxyOptions {
    /// The only user name accepted.
    pub user: String,
    /// The only client key accepted: one `authorized_keys` line.
    pub client_key: String,
    /// The endpoint's host key, OpenSSH or PEM format.
    pub host_key: String,
    /// The first port to try (then the nine after it); a free port chosen by the system when
    /// `None` (Packer's `local_port`).
    pub local_port: Option<u16>,
    /// The command that serves the `sftp` subsystem on the machine (Packer's `sftp_command`).
    /// When unset, the first `sftp-server` found in the usual places is started.
    pub sftp_command: Option<String>,
}

impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("user", &self.user)
            .field("local_port", &self.local_port)
            .field("sftp_command", &self.sftp_command)
            .finish_non_exhaustive()
    }
}

/// Where `sftp-server` lives on common systems: Packer's default first, then Debian's and
/// Ubuntu's, Red Hat's and SUSE's, Arch's, Alpine's.
const SFTP_SERVERS: [&str; 5] = [
    "/usr/lib/sftp-server",
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/lib/ssh/sftp-server",
    "/usr/libexec/sftp-server",
];

/// The default `sftp_command`: the first `sftp-server` found, logging to standard error.
/// Run by `/bin/sh` whatever the user's login shell (fish, csh ...) is.
fn default_sftp_command() -> String {
    format!(
        "exec /bin/sh -c 'for p in {}; do if [ -x \"$p\" ]; then exec \"$p\" -e; fi; done; \
         echo \"no sftp-server on the machine; set sftp_command\" >&2; exit 127'",
        SFTP_SERVERS.join(" ")
    )
}

/// A running endpoint. [`Proxy::shutdown`] stops it and every session it serves; dropping it
/// does the same without waiting.
pub struct Proxy {
    port: u16,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("port", &self.port).finish()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

struct Shared {
    opts: ProxyOptions,
    client_key: PublicKey,
    comm: Arc<dyn Communicator>,
    ui: Ui,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Proxy {
    /// Listens on 127.0.0.1 and serves sessions until shut down.
    ///
    /// # Errors
    /// A key that does not parse, or no port could be bound.
    pub async fn start(
        opts: ProxyOptions,
        comm: Arc<dyn Communicator>,
        ui: Ui,
    ) -> Result<Proxy, String> {
        let client_key = authorized_key(&opts.client_key)?;
        let host_key: PrivateKey = russh::keys::decode_secret_key(&opts.host_key, None)
            .map_err(|e| format!("Failed to parse private host key: {e}"))?;
        let listener = bind(opts.local_port).await?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("the SSH proxy's address: {e}"))?
            .port();
        let config = Arc::new(russh::server::Config {
            keys: vec![host_key],
            methods: MethodSet::from(&[MethodKind::PublicKey][..]),
            auth_rejection_time: Duration::from_millis(100),
            auth_rejection_time_initial: Some(Duration::ZERO),
            inactivity_timeout: None,
            nodelay: true,
            // Ansible's default `-C` would compress what is mostly zipped module payloads on
            // loopback: CPU spent on both ends for nothing.
            preferred: russh::Preferred {
                compression: std::borrow::Cow::Borrowed(&[russh::compression::NONE]),
                ..russh::Preferred::DEFAULT
            },
            ..Default::default()
        });
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let shared = Arc::new(Shared {
            opts,
            client_key,
            comm,
            ui,
            stop: stop.clone(),
            tasks: tasks.clone(),
        });
        let t = tasks.clone();
        tasks.spawn(async move {
            loop {
                let sock = tokio::select! {
                    () = shared.stop.cancelled() => break,
                    r = listener.accept() => match r {
                        Ok((sock, _)) => sock,
                        Err(e) => {
                            shared.ui.error(format!("SSH proxy: accepting a connection: {e}"));
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let _ = sock.set_nodelay(true);
                let conn = Conn {
                    shared: shared.clone(),
                    closed: HashMap::new(),
                };
                let (config, shared) = (config.clone(), shared.clone());
                t.spawn(async move {
                    // A client that connects and says nothing must not hold up the shutdown.
                    let started = tokio::select! {
                        r = russh::server::run_stream(config, sock, conn) => r,
                        () = shared.stop.cancelled() => return,
                    };
                    match started {
                        Ok(session) => {
                            let handle = session.handle();
                            tokio::select! {
                                _ = session => {}
                                () = shared.stop.cancelled() => {
                                    // The session runs in a task of its own: end the connection,
                                    // so that a client keeping it (Ansible's ControlPersist
                                    // master) does not reuse a proxy that is gone.
                                    let _ = handle
                                        .disconnect(
                                            russh::Disconnect::ByApplication,
                                            "the build's SSH proxy stopped".into(),
                                            String::new(),
                                        )
                                        .await;
                                }
                            }
                        }
                        Err(e) => shared.ui.error(format!("SSH proxy: handshake failed: {e}")),
                    }
                });
            }
        });
        Ok(Proxy { port, stop, tasks })
    }

    /// The port the endpoint listens on, on 127.0.0.1.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops listening, ends every session and waits for their tasks.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// The first key of an `authorized_keys` text: comment lines skipped, options before the key
/// type (`from="..." ssh-ed25519 AAAA...`) ignored, as OpenSSH reads it.
fn authorized_key(text: &str) -> Result<PublicKey, String> {
    let mut last = "no key in it".to_string();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The key starts at its type: options come first and may contain quoted spaces.
        let starts = line
            .char_indices()
            .filter(|(i, _)| *i == 0 || line.as_bytes()[i - 1] == b' ')
            .map(|(i, _)| i);
        for i in starts {
            match PublicKey::from_openssh(&line[i..]) {
                Ok(k) => return Ok(k),
                Err(e) => last = e.to_string(),
            }
        }
    }
    Err(format!("Failed to parse authorized key: {last}"))
}

/// Binds `start` or one of the nine ports after it (as Packer), or a port the system picks.
async fn bind(start: Option<u16>) -> Result<tokio::net::TcpListener, String> {
    let Some(first) = start.filter(|p| *p != 0) else {
        return tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("listening on 127.0.0.1 for the SSH proxy: {e}"));
    };
    let mut last = String::new();
    for port in (first..=u16::MAX).take(10) {
        match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return Ok(l),
            Err(e) => last = format!("127.0.0.1:{port}: {e}"),
        }
    }
    Err(format!(
        "no free port for the SSH proxy among the ten from local_port {first} ({last})"
    ))
}

/// One client connection.
struct Conn {
    shared: Arc<Shared>,
    /// Per open channel, cancelled when the client closes it.
    closed: HashMap<ChannelId, CancellationToken>,
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.allowed(user, offer.public_key))
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(self.allowed(user, key.public_key))
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.shared.stop.is_cancelled() {
            reply
                .reject(russh::ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        reply.accept().await;
        let shared = self.shared.clone();
        let closed = CancellationToken::new();
        self.closed.insert(channel.id(), closed.clone());
        self.shared.tasks.spawn(async move {
            // Dropping the relay (client gone, proxy stopped) closes the machine's side.
            tokio::select! {
                () = serve_channel(&shared, channel) => {}
                () = closed.cancelled() => {}
                () = shared.stop.cancelled() => {}
            }
        });
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(t) = self.closed.remove(&channel) {
            t.cancel();
        }
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if data.is_empty() {
            session.channel_failure(channel)
        } else {
            session.channel_success(channel)
        }
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "sftp" {
            session.channel_success(channel)
        } else {
            self.shared.ui.error(format!(
                "SSH proxy: unsupported subsystem requested: {name}"
            ));
            session.channel_failure(channel)
        }
    }
}

impl Conn {
    fn allowed(&self, user: &str, key: &PublicKey) -> Auth {
        if user == self.shared.opts.user && key.key_data() == self.shared.client_key.key_data() {
            Auth::Accept
        } else {
            Auth::reject()
        }
    }
}

/// Serves one session channel: waits for its `exec` or `sftp` request and relays it.
async fn serve_channel(shared: &Shared, channel: Channel<Msg>) {
    let (mut rx, tx) = channel.split();
    let command = loop {
        match rx.wait().await {
            Some(ChannelMsg::Exec { command, .. }) if !command.is_empty() => {
                break String::from_utf8_lossy(&command).into_owned();
            }
            Some(ChannelMsg::RequestSubsystem { name, .. }) if name == "sftp" => {
                break shared
                    .opts
                    .sftp_command
                    .clone()
                    .unwrap_or_else(default_sftp_command);
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return,
            Some(_) => {}
        }
    };
    let mut stdout = tx.make_writer();
    let mut stderr = tx.make_writer_ext(Some(1));
    let status = {
        let mut stdin = rx.make_reader();
        if let Some(args) = scp::serves(&command) {
            scp::serve(&*shared.comm, &args, &mut stdin, &mut stdout).await
        } else {
            match shared
                .comm
                .exec_stream(&command, &mut stdin, &mut stdout, &mut stderr)
                .await
            {
                Ok(ExitStatus::Code(c)) => u32::try_from(c).unwrap_or(255),
                Ok(ExitStatus::Disconnected) => 255,
                Err(e) => {
                    let _ = stderr.write_all(format!("kiln: {e}\n").as_bytes()).await;
                    255
                }
            }
        }
    };
    let _ = stdout.flush().await;
    let _ = stderr.flush().await;
    drop((stdout, stderr));
    let _ = tx.exit_status(status).await;
    let _ = tx.eof().await;
    let _ = tx.close().await;
}

#[cfg(test)]
mod tests {
    use super::authorized_key;

    #[test]
    fn an_authorized_keys_text_gives_its_first_key_past_comments_and_options() {
        let pair = crate::keys::generate("ed25519", None, "me@host").unwrap();
        let line = pair.public_openssh.trim();
        let want = authorized_key(line).unwrap();
        let text = format!(
            "# the proxy's user\n\nfrom=\"127.0.0.1,::1\",no-pty {line}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther other\n"
        );
        assert_eq!(authorized_key(&text).unwrap(), want);
        assert!(authorized_key("# nothing\n")
            .unwrap_err()
            .starts_with("Failed to parse authorized key: "));
    }
}

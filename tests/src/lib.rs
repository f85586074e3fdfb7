//! # kiln-tests: real components for Kiln's tests
//!
//! [`Sshd`] starts a real OpenSSH server on 127.0.0.1 at a free port, with a fresh host key, its
//! own `sshd_config` and an authorized test key, and stops it on drop. When `sshd` is missing the
//! test fails with the command that installs it; it never silently passes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD_CANDIDATES: &[&str] = &["/usr/sbin/sshd", "/usr/local/sbin/sshd"];

/// A running OpenSSH server for one test.
#[derive(Debug)]
pub struct Sshd {
    child: Child,
    dir: tempfile::TempDir,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The user to log in as.
    pub user: String,
}

/// A free TCP port on 127.0.0.1.
///
/// # Panics
/// When no port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local addr")
        .port()
}

fn keygen(kind: &str, path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-C", "kiln-test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen is needed by the tests: apt-get install openssh-client");
    assert!(st.success(), "ssh-keygen -t {kind} failed");
}

impl Sshd {
    /// Starts sshd and waits for its SSH banner.
    ///
    /// # Panics
    /// When OpenSSH's server is not installed (the message says how to install it) or does not
    /// start within 10 seconds.
    #[must_use]
    pub fn start() -> Sshd {
        let bin = SSHD_CANDIDATES.iter().find(|p| Path::new(p).exists()).unwrap_or_else(|| {
            panic!("OpenSSH's sshd is not installed; the end-to-end tests need a real SSH server: apt-get install openssh-server")
        });
        let dir = tempfile::Builder::new()
            .prefix("kiln-sshd")
            .tempdir()
            .expect("temp dir");
        let d = dir.path();
        keygen("ed25519", &d.join("host_ed25519"));
        keygen("ed25519", &d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys"))
            .expect("authorized_keys");
        let _ = std::fs::create_dir_all("/run/sshd");
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| {
                String::from_utf8_lossy(
                    &Command::new("id")
                        .arg("-un")
                        .output()
                        .expect("id -un")
                        .stdout,
                )
                .trim()
                .to_string()
            });
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config = format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nSubsystem sftp /usr/lib/openssh/sftp-server\nMaxStartups 100\nMaxSessions 100\nLogLevel VERBOSE\n",
                d = d.display()
            );
            std::fs::write(d.join("sshd_config"), config).expect("sshd_config");
            let mut child = Command::new(bin)
                .arg("-D")
                .arg("-E")
                .arg(d.join("sshd.log"))
                .arg("-f")
                .arg(d.join("sshd_config"))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start sshd");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(st)) = child.try_wait() {
                    let mut e = std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default();
                    if let Some(mut s) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut s, &mut e);
                    }
                    last_err = format!("sshd exited with {st}: {e}");
                    break;
                }
                if banner(port) {
                    return Sshd {
                        child,
                        dir,
                        port,
                        user,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("sshd did not start: {last_err}");
    }

    /// How many sessions (commands, subsystems, shells) clients have started so far, from
    /// sshd's log (`LogLevel VERBOSE`): each costs the login shell's start-up.
    #[must_use]
    pub fn sessions(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("sshd.log"))
            .unwrap_or_default()
            .matches("Starting session: ")
            .count()
    }

    /// A `source "null" "remote"` block that connects to this server as [`Sshd::user`] with
    /// the authorized key (`ssh_timeout` 20 s), with `extra` lines inside it.
    #[must_use]
    pub fn null_source(&self, extra: &str) -> String {
        format!(
            "source \"null\" \"remote\" {{\n  ssh_host = \"127.0.0.1\"\n  ssh_port = {}\n  ssh_username = \"{}\"\n  ssh_private_key_file = \"{}\"\n  ssh_timeout = \"20s\"\n{extra}}}\n",
            self.port,
            self.user,
            self.key_path().display()
        )
    }

    /// Kills the per-connection servers (as a crash or an OOM kill of sshd's session process
    /// would), dropping every client's connection; returns how many there were.
    pub fn kill_sessions(&self) -> usize {
        let pids = children_of(self.child.id());
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        pids.len()
    }

    /// Authorizes one more public key (an `authorized_keys` line) for logins.
    ///
    /// # Panics
    /// When the server's `authorized_keys` cannot be written.
    pub fn authorize(&self, public_key: &str) {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.path().join("authorized_keys"))
            .expect("open authorized_keys");
        writeln!(f, "{}", public_key.trim()).expect("write authorized_keys");
    }

    /// The authorized private key's path.
    #[must_use]
    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }
}

fn banner(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).is_ok() && &buf == b"SSH-"
}

/// The pids whose parent is `parent`, from `/proc`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = s.rsplit_once(')')?.1.to_string();
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // The per-connection servers too: a client that keeps its connection (Ansible's
        // ControlPersist master) would otherwise keep one of them alive after the test.
        for pid in children_of(self.child.id()) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The result of running `kiln`.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both streams, for greps.
    #[must_use]
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `bin` with `args` in `dir`, with `PKR_VAR_*` and colours cleared from the environment.
///
/// # Panics
/// When the binary cannot be started.
#[must_use]
pub fn run(bin: &str, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = command(bin, dir, args);
    cmd.stdin(Stdio::null());
    finished(cmd.output().expect("run kiln"))
}

/// Like [`run`], with extra environment variables (`KILN_CATALOG=...` to record builds).
///
/// # Panics
/// When the binary cannot be started.
#[must_use]
pub fn run_with_env(bin: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(bin, dir, args);
    cmd.stdin(Stdio::null()).envs(env.iter().copied());
    finished(cmd.output().expect("run kiln"))
}

/// Like [`run`], with `input` on standard input (`kiln build -`, `kiln console`).
///
/// # Panics
/// When the binary cannot be started or its input cannot be written.
#[must_use]
pub fn run_with_input(bin: &str, dir: &Path, args: &[&str], input: &[u8]) -> Run {
    use std::io::Write;
    let mut cmd = command(bin, dir, args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run kiln");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write kiln's input");
    finished(child.wait_with_output().expect("run kiln"))
}

/// `bin` (kiln, or packer beside it) as a test runs it: builds are not recorded in the user's
/// catalog (`KILN_CATALOG=off`; the catalog's own tests choose one), their cleanup journals go
/// to the tests' own state directory, not the user's (`KILN_STATE_DIR`; the journal's tests
/// choose one), and the `PKR_VAR_` variables of the environment the tests run in do not reach
/// templates.
#[must_use]
pub fn isolated(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env("KILN_CATALOG", "off").env(
        "KILN_STATE_DIR",
        // One per test binary: a journal a test leaves shows as a warning in that binary's
        // other tests (a leak found), not in unrelated ones.
        std::env::temp_dir()
            .join("kiln-tests-state")
            .join(std::process::id().to_string()),
    );
    for (k, _) in std::env::vars() {
        if k.starts_with("PKR_VAR_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn command(bin: &str, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = isolated(bin);
    cmd.args(args).current_dir(dir);
    cmd
}

/// A finished command's exit code and output.
#[must_use]
pub fn finished(out: std::process::Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// Replaces run-specific text (temp paths, timings, UUIDs) so output can be snapshotted.
#[must_use]
pub fn normalize(text: &str, dir: &Path) -> String {
    let mut s = text.replace(&dir.display().to_string(), "[DIR]");
    for (pat, rep) in [("millisecond", "ms"), ("milliseconds", "ms")] {
        s = s.replace(pat, rep);
    }
    let mut out = String::new();
    for line in s.lines() {
        let line = if let Some(i) = line.find(" after ") {
            let rest = &line[i + 7..];
            let end = rest.find([':', '.']).map_or(rest.len(), |j| j);
            let tail = &rest[end..];
            let tail = if tail.starts_with('.')
                && tail.len() > 1
                && tail[1..].starts_with(|c: char| c.is_ascii_digit())
            {
                ""
            } else {
                tail
            };
            format!("{} after [TIME]{tail}", &line[..i])
        } else {
            line.to_string()
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

pub mod docker;
pub mod moto;
pub mod postgres;
pub mod qemu;

pub use postgres::Postgres;

/// A static file server on 127.0.0.1 (GET only), standing in for a download site in tests.
#[derive(Debug)]
pub struct FileServer {
    /// The port it listens on.
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FileServer {
    /// Serves the files under `root`.
    ///
    /// # Panics
    /// When no port can be bound.
    #[must_use]
    pub fn start(root: &Path) -> FileServer {
        use std::io::{BufRead, BufReader, Write};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (root, flag) = (root.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let root = root.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                    }
                    let path = line.split_whitespace().nth(1).unwrap_or("/");
                    let file = root.join(path.trim_start_matches('/'));
                    let _ = match std::fs::read(&file) {
                        Ok(body) if !path.contains("..") => conn
                            .write_all(
                                format!(
                                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                    body.len()
                                )
                                .as_bytes(),
                            )
                            .and_then(|()| conn.write_all(&body)),
                        _ => conn.write_all(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        ),
                    };
                });
            }
        });
        FileServer { port, stop }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Fails the test, saying what to install, when Ansible's `ansible-playbook` is not on `PATH`.
///
/// # Panics
/// When `ansible-playbook --version` cannot run.
pub fn require_ansible() {
    let ok = Command::new("ansible-playbook")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "ansible-playbook is not installed; the ansible tests need a real Ansible: apt-get install ansible-core (or run scripts/deps --tests)"
    );
}

/// Like [`run_with_input`], with standard input a terminal (a pseudo-terminal whose other end
/// types `input`), as a person running Kiln has: what `-on-error=ask` needs to ask. Standard
/// output and error stay pipes.
///
/// # Panics
/// When no pseudo-terminal can be opened or the binary cannot be started.
#[must_use]
pub fn run_on_terminal(bin: &str, dir: &Path, args: &[&str], input: &[u8]) -> Run {
    run_on_terminal_with_env(bin, dir, args, input, &[])
}

/// [`run_on_terminal`] with `env` set for the binary.
///
/// # Panics
/// As [`run_on_terminal`].
#[must_use]
pub fn run_on_terminal_with_env(
    bin: &str,
    dir: &Path,
    args: &[&str],
    input: &[u8],
    env: &[(&str, &str)],
) -> Run {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    use std::io::Write;
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("open a pseudo-terminal");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_string_lossy().as_ref())
        .expect("open the terminal's end");
    let mut master = std::fs::File::from(master);
    let mut cmd = command(bin, dir, args);
    cmd.envs(env.iter().copied());
    cmd.stdin(Stdio::from(slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("run kiln");
    // The terminal holds typed lines until they are read, one line per read, as a person's.
    master.write_all(input).expect("type kiln's input");
    // Its echo of what was typed is read and dropped, so that it never fills up.
    let drain = std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut master, &mut sink);
    });
    let out = child.wait_with_output().expect("run kiln");
    drop(drain);
    finished(out)
}

/// `BIN build t.pkr.hcl` in `d`, with `d/small` a tmpfs of `size` in a mount namespace of its
/// own (root mounts there directly, anyone else maps themselves to root in a user namespace
/// first); it prints `rc=N` and then what is left in `small` (exit 97: no tmpfs could be
/// mounted). `KILN_STATE_DIR` is `d/state`.
#[must_use]
pub fn in_small_tmpfs(bin: &str, d: &Path, size: &str) -> Command {
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let mut c = isolated("unshare");
    c.args(if root { vec!["-m"] } else { vec!["-r", "-m"] })
        .args([
            "sh",
            "-c",
            &format!("mount -t tmpfs -o size={size} tmpfs small || {{ echo 'this test mounts a small tmpfs in a mount namespace: it needs root, or user namespaces (unshare -r)'; exit 97; }}; \"$0\" build t.pkr.hcl; echo \"rc=$?\"; ls -A small"),
            bin,
        ])
        .current_dir(d)
        .env("KILN_STATE_DIR", d.join("state"))
        .stdin(std::process::Stdio::null());
    c
}

/// Starts `c` with its standard output piped and reads until a line contains `marker`; returns
/// the child, what it printed so far, and the rest of its lines.
///
/// # Panics
/// When it cannot start, or ends without printing `marker` (it is killed then).
pub fn start_until(
    mut c: Command,
    marker: &str,
) -> (
    Child,
    String,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains(marker) {
            return (child, seen, lines);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the build never said {marker:?}:\n{seen}");
}

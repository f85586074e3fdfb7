//! [`Postgres`]: a private PostgreSQL server for one test (Debian's `postgresql` package,
//! installed by `scripts/deps --tests`), on 127.0.0.1 at a free port, with a fresh data directory
//! in a temp dir, trust authentication for the user `kiln`, and a database `kiln`. It is stopped
//! and its files are removed on drop.
//!
//! initdb and the server refuse to run as root: when the tests run as root, both run as the
//! `postgres` system user (made by Debian's package), else as `nobody`.

use std::fs::File;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const MISSING: &str = "PostgreSQL is not installed; the catalog's PostgreSQL tests need it: run scripts/deps --tests (apt-get install postgresql)";

/// The user the server runs as (and owns the temp dir), when the tests run as root.
#[derive(Debug, Clone, Copy)]
struct Account {
    uid: u32,
    gid: u32,
}

/// A running PostgreSQL server for one test.
#[derive(Debug)]
pub struct Postgres {
    child: Child,
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

/// The directory holding `initdb` and `postgres`: the highest version under
/// `/usr/lib/postgresql/*/bin/`, else the one on `PATH` that has both.
fn bin_dir() -> Option<PathBuf> {
    let complete = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    let mut versions: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let version = name
                .split('.')
                .map(|n| n.parse::<u64>().ok())
                .collect::<Option<Vec<_>>>()?;
            let bin = e.path().join("bin");
            complete(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|d| complete(d))
}

/// The effective uid, from `/proc/self/status` (else `id -u`).
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2)?.parse().ok()
        })
        .or_else(|| id(&["-u"]))
        .expect("the effective uid (/proc/self/status or id -u)")
}

/// The number `id ARGS` prints, if it succeeds.
fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Who runs initdb and the server: `None` (the current user) unless that is root, then
/// `postgres` if it exists, else `nobody`.
fn account() -> Option<Account> {
    if euid() != 0 {
        return None;
    }
    let account = ["postgres", "nobody"].iter().find_map(|user| {
        Some(Account {
            uid: id(&["-u", user])?,
            gid: id(&["-g", user])?,
        })
    });
    Some(account.expect(
        "the tests run as root and initdb refuses to: neither a postgres nor a nobody user exists",
    ))
}

/// A command for `program`, as `account` when there is one, in `dir` (which that user can
/// enter), with libpq's environment cleared so it cannot redirect the client.
fn command(program: &Path, account: Option<Account>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).stdin(Stdio::null());
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("PG")) {
            cmd.env_remove(k);
        }
    }
    if let Some(a) = account {
        // std drops the supplementary groups too when it changes the uid of a root process.
        cmd.uid(a.uid).gid(a.gid);
    }
    cmd
}

fn output(mut cmd: Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run {what}: {e}"))
}

fn describe(out: &Output) -> String {
    format!(
        "{}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Sends `signal` to `pid` with kill(1).
fn signal(signal: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A client program from the server's bin dir, else from `PATH`.
fn client(bin: &Path, name: &str) -> PathBuf {
    let p = bin.join(name);
    if p.is_file() {
        p
    } else {
        PathBuf::from(name)
    }
}

/// Runs `sql` with psql (no `~/.psqlrc`, stopping at the first error) in `database`.
fn run_psql(bin: &Path, dir: &Path, port: u16, database: &str, sql: &str) -> Output {
    let mut cmd = command(&client(bin, "psql"), None, dir);
    cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-U", "kiln", "-d", database])
        .args(["-At", "-c", sql]);
    output(cmd, "psql")
}

/// Whether the server at `port` accepts connections (`pg_isready`, else a TCP connect and
/// `psql`).
fn ready(bin: &Path, dir: &Path, port: u16) -> bool {
    let isready = client(bin, "pg_isready");
    if isready.is_file() {
        let mut cmd = command(&isready, None, dir);
        cmd.args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-U", "kiln", "-d", "postgres", "-t", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        return cmd.status().is_ok_and(|s| s.success());
    }
    TcpStream::connect(("127.0.0.1", port)).is_ok()
        && run_psql(bin, dir, port, "postgres", "select 1")
            .status
            .success()
}

impl Postgres {
    /// Makes a data directory (initdb), starts the server on 127.0.0.1 at a free port, waits
    /// until it accepts connections and creates the database `kiln`.
    ///
    /// # Panics
    /// When PostgreSQL is not installed (the message says how to install it), initdb fails, or
    /// the server does not accept connections within 30 seconds (the message has its log).
    #[must_use]
    pub fn start() -> Postgres {
        let bin = bin_dir().unwrap_or_else(|| panic!("{MISSING}"));
        let account = account();
        let dir = tempfile::Builder::new()
            .prefix("kiln-postgres")
            .tempdir()
            .expect("temp dir");
        let d = dir.path();
        let (data, sockets) = (d.join("data"), d.join("sockets"));
        std::fs::create_dir(&sockets).expect("socket dir");
        if let Some(a) = account {
            for p in [d, &sockets] {
                std::os::unix::fs::chown(p, Some(a.uid), Some(a.gid))
                    .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
            }
        }
        let mut initdb = command(&bin.join("initdb"), account, d);
        initdb
            .args(["-A", "trust", "-U", "kiln", "--no-sync", "-E", "UTF8"])
            .args(["--no-locale", "-D"])
            .arg(&data);
        let out = output(initdb, "initdb");
        assert!(
            out.status.success(),
            "initdb failed with {}",
            describe(&out)
        );

        let log = d.join("postgres.log");
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = crate::free_port();
            let log_file = File::create(&log).expect("postgres.log");
            let mut server = command(&bin.join("postgres"), account, d);
            server
                .arg("-D")
                .arg(&data)
                .args([
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-k",
                ])
                .arg(&sockets)
                .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off"])
                .stdout(log_file.try_clone().expect("postgres.log"))
                .stderr(log_file);
            let mut child = server.spawn().unwrap_or_else(|e| {
                panic!("could not start {}: {e}", bin.join("postgres").display())
            });
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(st)) = child.try_wait() {
                    // Most likely another process took the port between free_port and the
                    // bind: try another one.
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    last_err = format!("postgres exited with {st}; its log:\n{text}");
                    break;
                }
                if ready(&bin, d, port) {
                    let pg = Postgres {
                        child,
                        bin,
                        dir,
                        port,
                    };
                    pg.create_database("kiln");
                    return pg;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    panic!(
                        "PostgreSQL did not accept connections on 127.0.0.1:{port} within 30 seconds; its log:\n{text}"
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("PostgreSQL did not start: {last_err}");
    }

    fn create_database(&self, name: &str) {
        let mut cmd = command(&client(&self.bin, "createdb"), None, self.dir.path());
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "kiln",
            name,
        ]);
        let out = output(cmd, "createdb");
        assert!(
            out.status.success(),
            "createdb {name} failed with {}",
            describe(&out)
        );
    }

    /// The URL of the database `kiln`: `postgres://kiln@127.0.0.1:PORT/kiln` (no password:
    /// the server trusts every local connection).
    #[must_use]
    pub fn url(&self) -> String {
        format!("postgres://kiln@127.0.0.1:{}/kiln", self.port)
    }

    /// The server's port on 127.0.0.1.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `sql` in the database `kiln` with `psql -At` (unaligned, tuples only: one row a
    /// line, columns separated by `|`) and returns its standard output.
    ///
    /// # Panics
    /// When psql fails (the message has its standard error).
    pub fn psql(&self, sql: &str) -> String {
        let out = run_psql(&self.bin, self.dir.path(), self.port, "kiln", sql);
        assert!(
            out.status.success(),
            "psql -c {sql:?} failed with {}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into()
    }

    /// Creates another database, `name`, on this server and returns its URL
    /// (`postgres://kiln@127.0.0.1:PORT/NAME`), so several tests can share one server.
    ///
    /// # Panics
    /// When `name` is not made of ASCII letters, digits, `_` and `-` (it goes into the URL as
    /// it is), or createdb fails (for one, when the database exists).
    #[must_use]
    pub fn database(&self, name: &str) -> String {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "database name {name:?}: use ASCII letters, digits, _ and -"
        );
        self.create_database(name);
        format!("postgres://kiln@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: it disconnects the clients (a pool a test keeps
        // open would hold up SIGTERM's smart shutdown) and stops cleanly.
        signal("-INT", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_answers_and_stops() {
        let pg = Postgres::start();
        let port = pg.port();
        assert_eq!(pg.url(), format!("postgres://kiln@127.0.0.1:{port}/kiln"));
        assert_eq!(pg.psql("select 1+1").trim(), "2");
        let other = pg.database("other_db");
        assert_eq!(other, format!("postgres://kiln@127.0.0.1:{port}/other_db"));
        pg.psql("create table t (id int primary key, name text)");
        pg.psql("insert into t values (1, 'a'), (2, 'b')");
        assert_eq!(pg.psql("select id, name from t order by id"), "1|a\n2|b\n");
        let dir = pg.dir.path().to_path_buf();
        drop(pg);
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still accepts connections after drop"
        );
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }
}

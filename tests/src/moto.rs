//! [`Moto`]: moto's EC2 server (PyPI `moto[server]`, installed by `scripts/deps --tests` into
//! `~/.cache/kiln/moto`) on 127.0.0.1 at a free port, behind the thin test layer of
//! `tests/moto/server.py` (call log, injected faults, and the two deprecation calls moto lacks).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server for one test.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// The virtualenv's Python: `KILN_MOTO_VENV`, else `~/.cache/kiln/moto`.
fn python() -> PathBuf {
    let venv = std::env::var_os("KILN_MOTO_VENV").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/kiln/moto"),
        PathBuf::from,
    );
    venv.join("bin/python")
}

impl Moto {
    /// Starts the server (moto's default AMIs are not loaded: tests register their own) and
    /// waits until it answers.
    ///
    /// # Panics
    /// When moto is not installed (the message says how to install it) or does not answer within
    /// 30 seconds.
    #[must_use]
    pub fn start() -> Moto {
        let py = python();
        assert!(
            py.exists(),
            "moto is not installed at {}; the amazon tests need moto's EC2 server: run scripts/deps --tests (it makes a virtualenv with pip install 'moto[server]')",
            py.display()
        );
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto/server.py");
        let port = crate::free_port();
        let mut child = Command::new(&py)
            .arg(&script)
            .arg(port.to_string())
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .env("MOTO_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                panic!(
                    "moto exited with {st}; run {} {} {port} to see why",
                    py.display(),
                    script.display()
                );
            }
            if request(port, "GET", "/__kiln/calls", "").is_some() {
                return Moto { child, port };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("moto did not answer within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Its endpoint URL, for `custom_endpoint_ec2`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn request(&self, method: &str, path: &str, body: &str) -> Option<String> {
        request(self.port, method, path, body)
    }

    fn get(&self, path: &str) -> Option<String> {
        self.request("GET", path, "")
    }

    /// Every EC2 call so far: `[{action, region, params}]`.
    ///
    /// # Panics
    /// When the server does not answer.
    #[must_use]
    pub fn calls(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.get("/__kiln/calls").expect("moto answers")).expect("json")
    }

    /// The names of the calls so far, in order.
    #[must_use]
    pub fn actions(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|c| c["action"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The deprecation times set through EnableImageDeprecation, by `region/ami-id`.
    ///
    /// # Panics
    /// When the server does not answer.
    #[must_use]
    pub fn deprecations(&self) -> serde_json::Value {
        serde_json::from_str(&self.get("/__kiln/deprecations").expect("moto answers"))
            .expect("json")
    }

    /// Makes the next calls fail: `[{"action", "status", "code", "count"}]` (`count` -1: all).
    ///
    /// # Panics
    /// When the server does not take them.
    pub fn faults(&self, faults: &serde_json::Value) {
        self.request("POST", "/__kiln/faults", &faults.to_string())
            .expect("moto takes the faults");
    }
}

/// One HTTP/1.0 request to the test layer's control paths; the body of a 200 answer.
fn request(port: u16, method: &str, path: &str, body: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, rest) = out.split_once("\r\n\r\n")?;
    (head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200")).then(|| rest.to_string())
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

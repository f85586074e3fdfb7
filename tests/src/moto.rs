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
        Moto::launch(false)
    }

    /// Starts the server with moto's default AMIs (about 1,300 public images of Amazon, Ubuntu
    /// ... with EBS roots, as Packer wants of a source AMI); starting takes a few seconds more.
    ///
    /// # Panics
    /// As [`Moto::start`].
    #[must_use]
    pub fn start_with_default_amis() -> Moto {
        Moto::launch(true)
    }

    fn launch(default_amis: bool) -> Moto {
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
            .env(
                "MOTO_EC2_LOAD_DEFAULT_AMIS",
                if default_amis { "true" } else { "false" },
            )
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

    /// What the account holds in `regions` (tests/moto/state.py): its AMIs with their snapshots,
    /// instances, volumes, key pairs and security groups, the ids of what was made replaced by
    /// placeholders. Snapshots listed in `baseline` (from [`Moto::baseline`]) are left out.
    ///
    /// # Panics
    /// When the script fails.
    #[must_use]
    pub fn state(&self, regions: &[&str], baseline: Option<&std::path::Path>) -> String {
        let mut cmd = self.state_script(regions);
        if let Some(b) = baseline {
            cmd.env("BASELINE", b);
        }
        run_script(cmd)
    }

    /// The ids of the snapshots the account holds in `regions` now, as JSON, for
    /// [`Moto::state`]'s `baseline`.
    ///
    /// # Panics
    /// When the script fails.
    #[must_use]
    pub fn baseline(&self, regions: &[&str]) -> String {
        let mut cmd = self.state_script(regions);
        cmd.arg("--baseline");
        run_script(cmd)
    }

    /// The SSM parameters the account holds in `region` (tests/moto/ssm.py): `{name: {value,
    /// data_type, type, version}}`.
    ///
    /// # Panics
    /// When the script fails.
    #[must_use]
    pub fn ssm_parameters(&self, region: &str) -> serde_json::Value {
        let mut cmd = Command::new(python());
        cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto/ssm.py"))
            .arg(self.port.to_string())
            .arg(region);
        serde_json::from_str(&run_script(cmd)).expect("ssm.py prints JSON")
    }

    fn state_script(&self, regions: &[&str]) -> Command {
        let mut cmd = Command::new(python());
        cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto/state.py"));
        cmd.env_remove("BASELINE");
        cmd.arg(self.port.to_string()).args(regions);
        cmd
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

fn run_script(mut cmd: Command) -> String {
    let out = cmd.output().expect("run a tests/moto script");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
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

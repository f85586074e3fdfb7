//! [`Dockerd`]: a Docker engine of the test's own (Debian's `docker.io`), on a private socket,
//! data root and exec root, with no bridge and no iptables rules; and base images made from
//! Debian's `busybox-static` (no registry is reachable from the tests).

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running dockerd for one test, stopped (and its files removed) when dropped.
#[derive(Debug)]
pub struct Dockerd {
    child: Child,
    dir: tempfile::TempDir,
    /// `unix:///…/d.sock`: what `DOCKER_HOST` is set to for the binary under test.
    pub host: String,
}

/// The static busybox that base images are made of.
const BUSYBOX: &str = "/bin/busybox";

impl Dockerd {
    /// Starts dockerd and waits (up to 60 s) until it answers.
    ///
    /// # Panics
    /// When dockerd or the docker CLI is not installed, or it does not start (the message says
    /// what to install, and the end of dockerd's log).
    #[must_use]
    pub fn start() -> Dockerd {
        Dockerd::start_with(&[])
    }

    /// Starts dockerd pulling Docker Hub's images from `mirror` (a registry on loopback, e.g.
    /// [`DockerRegistry`]): `debian:12` then comes from `MIRROR/library/debian:12`.
    ///
    /// # Panics
    /// As [`Dockerd::start`].
    #[must_use]
    pub fn start_with_mirror(mirror: &str) -> Dockerd {
        Dockerd::start_with(&["--registry-mirror", &format!("http://{mirror}")])
    }

    fn start_with(extra: &[&str]) -> Dockerd {
        for (tool, package) in [("dockerd", "docker.io"), ("docker", "docker.io")] {
            assert!(
                which(tool),
                "{tool} is not installed; the docker tests run their own Docker engine: apt-get install {package} (scripts/deps --tests does)"
            );
        }
        // Under /tmp directly: a unix socket's path must stay short.
        let dir = tempfile::Builder::new()
            .prefix("kd")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path();
        let sock = d.join("d.sock");
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("x"))
            .arg("--host")
            .arg(format!("unix://{}", sock.display()))
            .arg("--pidfile")
            .arg(d.join("d.pid"))
            .args(["--bridge", "none", "--iptables=false", "--ip6tables=false"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut dockerd = Dockerd {
            child,
            host: format!("unix://{}", sock.display()),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if dockerd.docker(&["version"]).status.success() {
                return dockerd;
            }
            if let Ok(Some(status)) = dockerd.child.try_wait() {
                panic!(
                    "dockerd exited ({status}) before it answered; it runs as root here. Its log:\n{}",
                    dockerd.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer within 60 s. Its log:\n{}",
                dockerd.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The end of dockerd's log.
    #[must_use]
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Runs the docker CLI against this engine.
    #[must_use]
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", self.dir.path().join("cli"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs the docker CLI and returns its standard output, trimmed; panics unless it succeeds.
    #[must_use]
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Imports a base image `name` made of the static busybox with its applets linked in
    /// `/bin`, `/tmp`, and a `/etc/passwd` with `root` and `kiln` (uid 1000).
    ///
    /// # Panics
    /// When `busybox-static` is not installed or the import fails.
    pub fn import_busybox(&self, name: &str) {
        let root = self
            .dir
            .path()
            .join(format!("rootfs-{}", name.replace(['/', ':'], "-")));
        make_busybox_root(&root);
        let mut tar = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["-c", "."])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Command::new("docker")
            .env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", self.dir.path().join("cli"))
            .args(["import", "-", name])
            .stdin(tar.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(
            tar.wait().unwrap().success(),
            "tar of the base image's root"
        );
        assert!(
            out.status.success(),
            "docker import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Names of all containers, running or not.
    #[must_use]
    pub fn containers(&self) -> Vec<String> {
        self.docker_ok(&["ps", "-a", "--format", "{{.Names}}"])
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The docker CLI's configuration directory for this engine (`DOCKER_CONFIG`): where
    /// `docker login` stores what it logs in with.
    #[must_use]
    pub fn cli_config(&self) -> std::path::PathBuf {
        self.dir.path().join("cli")
    }

    /// The directory this engine's files live in.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A root file system of the static busybox: its applets as links in `/bin`.
///
/// # Panics
/// When `busybox-static` is not installed.
pub fn make_busybox_root(root: &Path) {
    let static_ok = Command::new("sh")
        .arg("-c")
        .arg(format!("ldd {BUSYBOX} 2>&1 | grep -q 'not a dynamic'"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        Path::new(BUSYBOX).exists() && static_ok,
        "{BUSYBOX} is missing or not static; the docker tests make base images of it: apt-get install busybox-static (scripts/deps --tests does)"
    );
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for d in ["tmp", "etc", "root", "home/kiln"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // /tmp as on any system: everyone may write there (sticky).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::copy(BUSYBOX, bin.join("busybox")).unwrap();
    let list = Command::new(BUSYBOX).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet.is_empty() || applet == "busybox" {
            continue;
        }
        let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nkiln:x:1000:1000:kiln:/home/kiln:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\nkiln:x:1000:\nnogroup:x:65534:\n",
    )
    .unwrap();
}

/// Debian's `docker-registry` (the distribution registry) on 127.0.0.1 at a free port, storing
/// in a temporary directory; stopped when dropped. Docker pushes to a loopback registry over
/// plain HTTP without configuration.
#[derive(Debug)]
pub struct DockerRegistry {
    child: Child,
    _dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl DockerRegistry {
    /// Starts the registry and waits (up to 30 s) until it answers.
    ///
    /// # Panics
    /// When `docker-registry` is not installed or does not answer.
    #[must_use]
    pub fn start() -> DockerRegistry {
        DockerRegistry::launch(None)
    }

    /// Starts a registry that takes only `user` with `password` (HTTP basic authentication;
    /// a bcrypt htpasswd file made with Python's `crypt`).
    ///
    /// # Panics
    /// As [`DockerRegistry::start`], or when no bcrypt hash can be made.
    #[must_use]
    pub fn start_with_login(user: &str, password: &str) -> DockerRegistry {
        DockerRegistry::launch(Some((user, password)))
    }

    fn launch(login: Option<(&str, &str)>) -> DockerRegistry {
        assert!(
            which("docker-registry"),
            "docker-registry is not installed; the docker-push tests run a registry of their own: apt-get install docker-registry (scripts/deps --tests does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = crate::free_port();
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let mut text = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        if let Some((user, password)) = login {
            let out = Command::new("python3")
                .args([
                    "-W",
                    "ignore",
                    "-c",
                    "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
                    password,
                ])
                .output()
                .unwrap();
            let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(
                out.status.success() && hash.starts_with("$2"),
                "no bcrypt hash for the registry's htpasswd file (python3's crypt module): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
            text.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kiln-tests\n    path: {}\n",
                htpasswd.display()
            ));
        }
        std::fs::write(&config, text).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "docker-registry exited ({status}): {}",
                    std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen on {addr} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        DockerRegistry {
            child,
            _dir: dir,
            addr,
        }
    }
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // dockerd leaves mounts below its roots (the host network namespace, overlay layers).
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "grep -o ' {d}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l",
                d = self.dir.path().display()
            ))
            .status();
    }
}

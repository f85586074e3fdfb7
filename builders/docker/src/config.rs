//! The `docker` source's options, with Packer's names, defaults and checks.

use kiln_core::{Config, Diagnostics};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Options this builder implements.
pub const FIELDS: &[&str] = &[
    "image",
    "pull",
    "commit",
    "export_path",
    "discard",
    "changes",
    "author",
    "message",
    "run_command",
    "volumes",
    "privileged",
    "cap_add",
    "cap_drop",
    "tmpfs",
    "device",
    "container_dir",
    "exec_user",
    "fix_upload_owner",
    "platform",
    "login",
    "login_server",
    "login_username",
    "login_password",
    "communicator",
    "pause_before_connecting",
    "runtime",
];

/// Packer options that are accepted and have no effect here (Linux containers only).
pub const IGNORED: &[&str] = &["windows_container", "docker_path"];

/// Packer options this builder does not implement; a template using them is refused.
pub const UNSUPPORTED: &[&str] = &[
    "build",
    "ecr_login",
    "aws_access_key",
    "aws_secret_key",
    "aws_token",
    "aws_profile",
];

/// The instructions `changes` may hold: what `docker commit --change` applies.
pub const CHANGE_INSTRUCTIONS: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "HEALTHCHECK",
    "LABEL",
    "ONBUILD",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// What becomes of the container once provisioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `commit = true`: an image in the engine.
    Commit,
    /// `export_path`: the container's file system as a tarball.
    Export(String),
    /// `discard = true`: nothing.
    Discard,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Raw {
    image: Option<String>,
    pull: Option<bool>,
    commit: bool,
    export_path: Option<String>,
    discard: bool,
    changes: Vec<String>,
    author: Option<String>,
    message: Option<String>,
    run_command: Option<Vec<String>>,
    volumes: BTreeMap<String, String>,
    privileged: bool,
    cap_add: Vec<String>,
    cap_drop: Vec<String>,
    tmpfs: Vec<String>,
    device: Vec<String>,
    container_dir: Option<String>,
    exec_user: Option<String>,
    fix_upload_owner: Option<bool>,
    platform: Option<String>,
    login: bool,
    login_server: Option<String>,
    login_username: Option<String>,
    login_password: Option<String>,
    communicator: Option<String>,
    pause_before_connecting: Option<String>,
    runtime: Option<String>,
    windows_container: Option<bool>,
    docker_path: Option<String>,
}

/// The decoded, checked configuration.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    /// `image`: the base image.
    pub image: String,
    /// `pull` (default true): pull the image before running it.
    pub pull: bool,
    /// What is kept.
    pub outcome: Outcome,
    /// `changes`, applied at commit.
    pub changes: Vec<String>,
    /// `author`, of the commit.
    pub author: Option<String>,
    /// `message`, of the commit.
    pub message: Option<String>,
    /// `run_command`, parsed.
    pub run: RunCommand,
    /// `volumes`: host path to container path.
    pub volumes: BTreeMap<String, String>,
    /// `privileged`.
    pub privileged: bool,
    /// `cap_add`.
    pub cap_add: Vec<String>,
    /// `cap_drop`.
    pub cap_drop: Vec<String>,
    /// `tmpfs`: `PATH[:OPTIONS]`.
    pub tmpfs: Vec<String>,
    /// `device`: `HOST[:CONTAINER[:PERMISSIONS]]`.
    pub device: Vec<String>,
    /// `container_dir` (default `/packer-files`): where uploads are staged.
    pub container_dir: String,
    /// `exec_user`: the user commands run as.
    pub exec_user: Option<String>,
    /// `fix_upload_owner` (default true): uploads belong to the container's configured user.
    pub fix_upload_owner: bool,
    /// `platform`, e.g. `linux/amd64`.
    pub platform: Option<String>,
    /// `login`: log in to `login_server` before pulling.
    pub login: Option<Login>,
    /// `communicator`: `docker` (default) or `none`.
    pub communicator: String,
    /// `pause_before_connecting`.
    pub pause_before_connecting: Option<std::time::Duration>,
    /// `runtime`: the OCI runtime the container runs under (`runc`, `runsc`, ...).
    pub runtime: Option<String>,
}

/// Registry credentials for pulling (`login = true`).
#[derive(Clone)]
pub struct Login {
    /// `login_server`.
    pub server: Option<String>,
    /// `login_username`.
    pub username: Option<String>,
    /// `login_password`.
    pub password: Option<String>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<sensitive>"))
            .finish()
    }
}

/// `run_command`, read as `docker run`'s arguments: the flags Kiln understands and the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunCommand {
    /// `--entrypoint`.
    pub entrypoint: Option<String>,
    /// `-t` / `--tty`.
    pub tty: bool,
    /// `-i` / `--interactive`.
    pub interactive: bool,
    /// `-e` / `--env`.
    pub env: Vec<String>,
    /// `-v` / `--volume`.
    pub volumes: Vec<String>,
    /// `-u` / `--user`.
    pub user: Option<String>,
    /// `-w` / `--workdir`.
    pub workdir: Option<String>,
    /// `-h` / `--hostname`.
    pub hostname: Option<String>,
    /// `--network` / `--net`.
    pub network: Option<String>,
    /// `--privileged`.
    pub privileged: bool,
    /// `--cap-add`.
    pub cap_add: Vec<String>,
    /// `--cap-drop`.
    pub cap_drop: Vec<String>,
    /// `--tmpfs`.
    pub tmpfs: Vec<String>,
    /// `--device`.
    pub device: Vec<String>,
    /// `-l` / `--label`.
    pub labels: Vec<String>,
    /// `--platform`.
    pub platform: Option<String>,
    /// `-m` / `--memory`, `--memory-swap`, `--shm-size`, in bytes.
    pub memory: Option<i64>,
    /// `--memory-swap`.
    pub memory_swap: Option<i64>,
    /// `--shm-size`.
    pub shm_size: Option<i64>,
    /// `--cpus`, in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    /// `-c` / `--cpu-shares`.
    pub cpu_shares: Option<i64>,
    /// `-p` / `--publish`: `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`.
    pub publish: Vec<String>,
    /// `--add-host`.
    pub add_host: Vec<String>,
    /// `--dns`.
    pub dns: Vec<String>,
    /// `--security-opt`.
    pub security_opt: Vec<String>,
    /// `--ulimit`: `NAME=SOFT[:HARD]`.
    pub ulimit: Vec<String>,
    /// `--sysctl`: `KEY=VALUE`.
    pub sysctl: Vec<String>,
    /// `--group-add`.
    pub group_add: Vec<String>,
    /// `--pid`, `--ipc`, `--userns`.
    pub pid: Option<String>,
    /// `--ipc`.
    pub ipc: Option<String>,
    /// `--userns`.
    pub userns: Option<String>,
    /// `--name`: the container's name (default: Kiln's, from the run and the build).
    pub name: Option<String>,
    /// `--init`.
    pub init: bool,
    /// `--read-only`.
    pub read_only: bool,
    /// `--mount`: `type=bind|volume|tmpfs,source=…,target=…[,readonly]`.
    pub mounts: Vec<String>,
    /// `--runtime`.
    pub runtime: Option<String>,
    /// `--env-file`: files of `KEY=VALUE` lines, read on the host.
    pub env_files: Vec<String>,
    /// The arguments as given, `{{.Image}}` filled in (for the log).
    pub args: Vec<String>,
    /// The image (after `{{.Image}}` is filled in).
    pub image: String,
    /// The command and its arguments after the image.
    pub cmd: Vec<String>,
}

/// A `--env-file`'s variables: `KEY=VALUE` lines; blank lines and `#` comments skipped.
fn read_env_file(path: &str) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("run_command: --env-file {path}: {e}"))?;
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.contains('=') {
            return Err(format!(
                "run_command: --env-file {path}:{}: {line:?} needs a value (KEY=VALUE): Kiln does not pass its own environment into containers",
                n + 1
            ));
        }
        vars.push(line.to_string());
    }
    Ok(vars)
}

/// A `--mount` value as the engine takes it.
///
/// # Errors
/// A key or type the docker CLI would not take, or no target.
pub fn parse_mount(spec: &str) -> Result<bollard::models::Mount, String> {
    use bollard::models::{Mount, MountType};
    let mut m = Mount {
        typ: Some(MountType::VOLUME),
        ..Mount::default()
    };
    for part in spec.split(',') {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match k {
            "type" => {
                m.typ = Some(match v {
                    "bind" => MountType::BIND,
                    "volume" => MountType::VOLUME,
                    "tmpfs" => MountType::TMPFS,
                    other => {
                        return Err(format!(
                            "run_command: --mount {spec:?}: type {other:?} is not bind, volume or tmpfs"
                        ))
                    }
                });
            }
            "source" | "src" => m.source = Some(v.to_string()),
            "target" | "destination" | "dst" => m.target = Some(v.to_string()),
            "readonly" | "ro" => m.read_only = Some(v.is_empty() || v == "true" || v == "1"),
            other => {
                return Err(format!(
                    "run_command: --mount {spec:?}: {other:?} is not supported (type, source, target, readonly)"
                ))
            }
        }
    }
    if m.target.is_none() {
        return Err(format!("run_command: --mount {spec:?} has no target"));
    }
    Ok(m)
}

/// The `docker run` flags `run_command` may use.
pub const SUPPORTED_FLAGS: &str = "-d, -i, -t, --entrypoint, -e, --env-file, -v, --mount, -u, -w, -h, --network, --privileged, --cap-add, --cap-drop, --tmpfs, --device, -l, --platform, --runtime, -m/--memory, --memory-swap, --shm-size, --cpus, --cpu-shares, -p, --add-host, --dns, --security-opt, --ulimit, --sysctl, --group-add, --pid, --ipc, --userns, --name, --init, --read-only, --rm, --restart, --log-driver, --log-opt, --stop-signal, --stop-timeout";

/// A size as the docker CLI reads it: a number with an optional unit (`b`, `k`, `m`, `g`, `t`,
/// each with an optional `b`; powers of 1024).
fn bytes(flag: &str, value: &str) -> Result<i64, String> {
    let v = value.trim().to_ascii_lowercase();
    let v = v
        .strip_suffix('b')
        .filter(|r| !r.is_empty() && !r.ends_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(&v);
    let (num, mult) = match v.chars().last() {
        Some('k') => (&v[..v.len() - 1], 1i64 << 10),
        Some('m') => (&v[..v.len() - 1], 1 << 20),
        Some('g') => (&v[..v.len() - 1], 1 << 30),
        Some('t') => (&v[..v.len() - 1], 1 << 40),
        Some('b') => (&v[..v.len() - 1], 1),
        _ => (v, 1),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("run_command: {flag} {value:?} is not a size (e.g. 512m, 2g)"))?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    Ok((n * mult as f64) as i64)
}

/// Packer's default `run_command`.
pub const DEFAULT_RUN_COMMAND: &[&str] =
    &["-d", "-i", "-t", "--entrypoint=/bin/sh", "--", "{{.Image}}"];

impl RunCommand {
    /// Parses `docker run`'s arguments, `{{.Image}}` replaced by `image`.
    ///
    /// # Errors
    /// A flag Kiln does not understand, or one missing its value, or no image.
    pub fn parse(args: &[String], image: &str) -> Result<RunCommand, String> {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.replace("{{.Image}}", image)
                    .replace("{{ .Image }}", image)
            })
            .collect();
        let mut rc = RunCommand::default();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            if arg == "--" {
                break;
            }
            if !arg.starts_with('-') || arg == "-" {
                i -= 1;
                break;
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            // A short flag with its value attached: `-uroot`, `-eKEY=VALUE`.
            let (flag, inline) = match (flag.len() > 2 && !flag.starts_with("--"), inline) {
                (true, None)
                    if "eviuwhplmc".contains(&flag[1..2])
                        && !flag[1..].chars().all(|c| "dit".contains(c)) =>
                {
                    (flag[..2].to_string(), Some(arg[2..].to_string()))
                }
                (_, inline) => (flag, inline),
            };
            // Bundled short flags without values: `-dit`.
            if !flag.starts_with("--")
                && flag.len() > 2
                && flag[1..].chars().all(|c| "dit".contains(c))
            {
                for c in flag[1..].chars() {
                    match c {
                        'i' => rc.interactive = true,
                        't' => rc.tty = true,
                        _ => {}
                    }
                }
                continue;
            }
            match flag.as_str() {
                "-d" | "--detach" => continue,
                "-i" | "--interactive" => {
                    rc.interactive = true;
                    continue;
                }
                "-t" | "--tty" => {
                    rc.tty = true;
                    continue;
                }
                "--privileged" => {
                    rc.privileged = true;
                    continue;
                }
                "--init" => {
                    rc.init = true;
                    continue;
                }
                "--read-only" => {
                    rc.read_only = true;
                    continue;
                }
                // Kiln removes the container itself, whatever happens.
                "--rm" => continue,
                _ => {}
            }
            let value = match inline {
                Some(v) => v,
                None => {
                    let Some(v) = args.get(i) else {
                        return Err(format!("run_command: {flag} needs a value"));
                    };
                    i += 1;
                    v.clone()
                }
            };
            match flag.as_str() {
                "--entrypoint" => rc.entrypoint = Some(value),
                "-e" | "--env" => rc.env.push(value),
                "-v" | "--volume" => rc.volumes.push(value),
                "-u" | "--user" => rc.user = Some(value),
                "-w" | "--workdir" => rc.workdir = Some(value),
                "-h" | "--hostname" => rc.hostname = Some(value),
                "--network" | "--net" => rc.network = Some(value),
                "--cap-add" => rc.cap_add.push(value),
                "--cap-drop" => rc.cap_drop.push(value),
                "--tmpfs" => rc.tmpfs.push(value),
                "--device" => rc.device.push(value),
                "-l" | "--label" => rc.labels.push(value),
                "--platform" => rc.platform = Some(value),
                "--mount" => rc.mounts.push(value),
                "--runtime" => rc.runtime = Some(value),
                "--env-file" => rc.env_files.push(value),
                "-m" | "--memory" => rc.memory = Some(bytes(&flag, &value)?),
                "--memory-swap" => {
                    rc.memory_swap = Some(if value == "-1" { -1 } else { bytes(&flag, &value)? });
                }
                "--shm-size" => rc.shm_size = Some(bytes(&flag, &value)?),
                "--cpus" => {
                    let cpus: f64 = value
                        .parse()
                        .map_err(|_| format!("run_command: --cpus {value:?} is not a number"))?;
                    #[allow(clippy::cast_possible_truncation)]
                    let nano = (cpus * 1e9).round() as i64;
                    rc.nano_cpus = Some(nano);
                }
                "-c" | "--cpu-shares" => {
                    rc.cpu_shares = Some(value.parse().map_err(|_| {
                        format!("run_command: {flag} {value:?} is not a number")
                    })?);
                }
                "-p" | "--publish" => rc.publish.push(value),
                "--add-host" => rc.add_host.push(value),
                "--dns" => rc.dns.push(value),
                "--security-opt" => rc.security_opt.push(value),
                "--ulimit" => {
                    let ok = value.split_once('=').is_some_and(|(_, l)| {
                        l.split(':').all(|n| n.parse::<i64>().is_ok())
                    });
                    if !ok {
                        return Err(format!(
                            "run_command: --ulimit {value:?} is not NAME=SOFT[:HARD] (e.g. nofile=1024:2048)"
                        ));
                    }
                    rc.ulimit.push(value);
                }
                "--sysctl" => {
                    if !value.contains('=') {
                        return Err(format!(
                            "run_command: --sysctl {value:?} is not KEY=VALUE"
                        ));
                    }
                    rc.sysctl.push(value);
                }
                "--group-add" => rc.group_add.push(value),
                "--pid" => rc.pid = Some(value),
                "--ipc" => rc.ipc = Some(value),
                "--userns" => rc.userns = Some(value),
                // Accepted and without effect on a build's temporary container.
                "--restart" | "--log-driver" | "--log-opt" | "--stop-signal" | "--stop-timeout" => {}
                "--name" => rc.name = Some(value),
                other => {
                    return Err(format!(
                        "run_command: the docker run flag {other} is not supported by Kiln's docker builder (supported: {SUPPORTED_FLAGS})"
                    ))
                }
            }
        }
        let Some(img) = args.get(i) else {
            return Err(
                "run_command: no image to run (it must name one, usually \"{{.Image}}\")".into(),
            );
        };
        rc.image = img.clone();
        rc.args = args.clone();
        rc.cmd = args[i + 1..].to_vec();
        Ok(rc)
    }
}

impl DockerConfig {
    /// Decodes and checks the source block.
    ///
    /// # Errors
    /// Every problem, each at its attribute.
    pub fn decode(config: &Config) -> Result<(DockerConfig, Vec<String>), Diagnostics> {
        let mut diags = Diagnostics::default();
        if let Err(d) = config.check_fields(&[
            FIELDS,
            IGNORED,
            UNSUPPORTED,
            kiln_communicator::config::FIELDS,
            kiln_communicator::config::WINRM_FIELDS,
        ]) {
            diags.extend(d);
        }
        let value = config.value.as_object().cloned().unwrap_or_default();
        let ours: serde_json::Map<String, serde_json::Value> = value
            .into_iter()
            .filter(|(k, _)| FIELDS.contains(&k.as_str()) || IGNORED.contains(&k.as_str()))
            .collect();
        let part = Config {
            value: serde_json::Value::Object(ours),
            ..config.clone()
        };
        let raw: Raw = match part.decode() {
            Ok(r) => r,
            Err(d) => {
                diags.extend(d);
                return Err(diags);
            }
        };
        let bad = |diags: &mut Diagnostics, key: &str, m: String| {
            diags.push(config.error_at(key, "Invalid docker builder configuration", m));
        };
        if config.value.get("build").is_some() {
            bad(
                &mut diags,
                "build",
                "build: building the base image from a Dockerfile is not supported by Kiln's docker builder yet; build it first (docker build -t NAME .) and set image = \"NAME\" with pull = false".into(),
            );
        }
        for key in UNSUPPORTED.iter().filter(|k| **k != "build") {
            if config.value.get(*key).is_some() {
                bad(
                    &mut diags,
                    key,
                    format!("{key}: Amazon ECR login is not supported by Kiln's docker builder yet; log in with login_server, login_username and login_password (an ECR password from `aws ecr get-login-password`)"),
                );
            }
        }
        let image = raw.image.clone().unwrap_or_default();
        // (With a `build` block, refused above, Packer needs no image.)
        if image.is_empty() && config.value.get("build").is_none() {
            bad(&mut diags, "image", "Image must be specified".into());
        }
        let export_path = raw.export_path.clone().filter(|p| !p.is_empty());
        let chosen = [raw.commit, export_path.is_some(), raw.discard]
            .iter()
            .filter(|b| **b)
            .count();
        let outcome = match chosen {
            0 => {
                bad(
                    &mut diags,
                    "commit",
                    "No instructions given for handling the artifact; expected commit, discard, or export_path".into(),
                );
                Outcome::Discard
            }
            1 if raw.commit => Outcome::Commit,
            1 if raw.discard => Outcome::Discard,
            1 => Outcome::Export(export_path.clone().unwrap_or_default()),
            _ => {
                bad(
                    &mut diags,
                    if export_path.is_some() {
                        "export_path"
                    } else {
                        "discard"
                    },
                    "Cannot specify more than one of commit, discard, and export_path".into(),
                );
                Outcome::Discard
            }
        };
        if let Outcome::Export(p) = &outcome {
            if std::fs::metadata(p).is_ok_and(|m| m.is_dir()) {
                bad(
                    &mut diags,
                    "export_path",
                    "export_path must be a file, not a directory".into(),
                );
            }
        }
        for (i, change) in raw.changes.iter().enumerate() {
            let word = change
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            if !CHANGE_INSTRUCTIONS.contains(&word.as_str()) {
                bad(
                    &mut diags,
                    &format!("changes[{i}]"),
                    format!(
                        "changes: {change:?} is not an instruction docker commit applies; use one of {}",
                        CHANGE_INSTRUCTIONS.join(", ")
                    ),
                );
            }
        }
        let run_args: Vec<String> = raw.run_command.clone().unwrap_or_else(|| {
            DEFAULT_RUN_COMMAND
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        });
        let run = match RunCommand::parse(&run_args, &image) {
            Ok(r) => r,
            Err(m) => {
                bad(&mut diags, "run_command", m);
                RunCommand::default()
            }
        };
        let mut run = run;
        for file in run.env_files.clone() {
            match read_env_file(&file) {
                Ok(vars) => run.env.extend(vars),
                Err(m) => bad(&mut diags, "run_command", m),
            }
        }
        for m in &run.mounts {
            if let Err(e) = parse_mount(m) {
                bad(&mut diags, "run_command", e);
            }
        }
        let runtime = raw.runtime.clone().or_else(|| run.runtime.clone());
        let communicator = raw.communicator.clone().unwrap_or_else(|| "docker".into());
        if !["docker", "none"].contains(&communicator.as_str()) {
            bad(
                &mut diags,
                "communicator",
                format!("communicator {communicator:?}: Kiln's docker builder talks to its container through the Docker engine (\"docker\", the default) or not at all (\"none\")"),
            );
        }
        let login = raw.login.then(|| Login {
            server: raw.login_server.clone(),
            username: raw.login_username.clone(),
            password: raw.login_password.clone(),
        });
        let pause_before_connecting = match &raw.pause_before_connecting {
            Some(s) => match kiln_core::duration::parse(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    bad(
                        &mut diags,
                        "pause_before_connecting",
                        format!("pause_before_connecting: {e}"),
                    );
                    None
                }
            },
            None => None,
        };
        let mut warnings = Vec::new();
        if raw.windows_container == Some(true) {
            bad(
                &mut diags,
                "windows_container",
                "Windows containers are not supported by Kiln's docker builder".into(),
            );
        }
        if !raw.changes.is_empty() && !matches!(outcome, Outcome::Commit) {
            warnings.push(
                "changes are applied only when committing (commit = true); they are not used"
                    .into(),
            );
        }
        if raw.docker_path.is_some() {
            warnings.push(
                "docker_path: Kiln talks to the engine's API, not through the docker CLI: ignored"
                    .into(),
            );
        }
        if raw.login_password.is_some() && !raw.login {
            warnings.push("login_password is set but login is false: it is not used".into());
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok((
            DockerConfig {
                image,
                pull: raw.pull.unwrap_or(true),
                outcome,
                changes: raw.changes,
                author: raw.author,
                message: raw.message,
                run,
                volumes: raw.volumes,
                privileged: raw.privileged,
                cap_add: raw.cap_add,
                cap_drop: raw.cap_drop,
                tmpfs: raw.tmpfs,
                device: raw.device,
                container_dir: raw.container_dir.unwrap_or_else(|| "/packer-files".into()),
                exec_user: raw.exec_user,
                fix_upload_owner: raw.fix_upload_owner.unwrap_or(true),
                platform: raw.platform,
                login,
                communicator,
                pause_before_connecting,
                runtime,
            },
            warnings,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_string()).collect()
    }

    #[test]
    fn the_default_run_command_runs_a_shell_on_a_terminal() {
        let rc = RunCommand::parse(&s(DEFAULT_RUN_COMMAND), "debian:12").unwrap();
        assert_eq!(rc.entrypoint.as_deref(), Some("/bin/sh"));
        assert!(rc.tty && rc.interactive);
        assert_eq!(rc.image, "debian:12");
        assert!(rc.cmd.is_empty());
    }

    #[test]
    fn run_command_flags_values_and_the_command_after_the_image() {
        let rc = RunCommand::parse(
            &s(&[
                "-dit",
                "-e",
                "A=1",
                "--env=B=2",
                "-v",
                "/h:/c",
                "-u",
                "0",
                "--name",
                "packer-builder",
                "{{.Image}}",
                "sleep",
                "60",
            ]),
            "img",
        )
        .unwrap();
        assert_eq!(rc.name.as_deref(), Some("packer-builder"));
        assert_eq!(rc.env, s(&["A=1", "B=2"]));
        assert_eq!(rc.volumes, s(&["/h:/c"]));
        assert_eq!(rc.user.as_deref(), Some("0"));
        assert_eq!(rc.cmd, s(&["sleep", "60"]));
        assert_eq!(
            RunCommand::parse(&s(&["--oom-kill-disable", "img"]), "x").unwrap_err(),
            format!("run_command: the docker run flag --oom-kill-disable is not supported by Kiln's docker builder (supported: {SUPPORTED_FLAGS})")
        );
        assert_eq!(
            RunCommand::parse(&s(&["-d", "-e"]), "x").unwrap_err(),
            "run_command: -e needs a value"
        );
    }

    #[test]
    fn sizes_and_cpus_read_as_the_docker_cli_reads_them() {
        let rc = RunCommand::parse(
            &s(&[
                "-m",
                "1g",
                "--shm-size=512m",
                "--cpus",
                "1.5",
                "--memory-swap",
                "-1",
                "img",
            ]),
            "x",
        )
        .unwrap();
        assert_eq!(rc.memory, Some(1 << 30));
        assert_eq!(rc.shm_size, Some(512 << 20));
        assert_eq!(rc.nano_cpus, Some(1_500_000_000));
        assert_eq!(rc.memory_swap, Some(-1));
        let rc = RunCommand::parse(&s(&["-uroot", "-eA=1", "-dit", "-w/srv", "img"]), "x").unwrap();
        assert_eq!(rc.user.as_deref(), Some("root"));
        assert_eq!(rc.env, s(&["A=1"]));
        assert_eq!(rc.workdir.as_deref(), Some("/srv"));
        assert!(rc.tty && rc.interactive);
        assert_eq!(bytes("-m", "2GB").unwrap(), 2 << 30);
        assert_eq!(bytes("-m", "100").unwrap(), 100);
        assert_eq!(
            bytes("-m", "lots").unwrap_err(),
            "run_command: -m \"lots\" is not a size (e.g. 512m, 2g)"
        );
    }
}

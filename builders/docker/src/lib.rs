//! # kiln-builder-docker: the `docker` builder on the Docker Engine API
//!
//! Packer's docker builder, with its options and messages: pull the image, run a container from
//! it, provision it through the [docker communicator](communicator::DockerCommunicator) (exec
//! and archive APIs, streamed), then commit it to an image, export its file system to a tarball,
//! or discard it; the container is removed on success, failure and cancellation. The
//! container's name is journaled before it is created, so `kiln cleanup` removes it after a
//! crash. The post-processors `docker-tag`, `docker-push`, `docker-save` and `docker-import`
//! live in [`post`].
//!
//! The engine is found as the Docker CLI finds it: `DOCKER_HOST` (`unix://` or `tcp://`), else
//! `/var/run/docker.sock`; the API version is negotiated, so engines from 20.10 on work.

use async_trait::async_trait;
use bollard::Docker;
use futures::StreamExt;
use kiln_core::journal::{CloudResource, Entry, Resource};
use kiln_core::step::{run_steps, Outcome as StepOutcome, Step};
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Builder, Config, Diagnostics, Hook, Registry,
};
use std::sync::Arc;

pub mod auth;
pub mod communicator;
pub mod config;
pub mod lifecycle;
pub mod post;

pub use auth::{Settings, StoredAuth};
pub use communicator::DockerCommunicator;
pub use config::DockerConfig;

/// Packer's builder id for the docker builder's exported tarballs (a committed image carries
/// [`post::IMPORT_ID`], as in Packer).
pub const BUILDER_ID: &str = "packer.docker";

/// The journal's provider name for what this builder creates.
pub const PROVIDER: &str = "docker";

/// Registers the `docker` builder, the docker post-processors and the container cleaner.
pub fn register(r: &mut Registry) {
    register_with(r, Settings::default());
}

/// Registers them with what the caller knows: stored registry credentials (`docker login`'s),
/// used where a template gives no `login_*` options.
pub fn register_with(r: &mut Registry, settings: Settings) {
    let settings = Arc::new(settings);
    let s = settings.clone();
    r.builder("docker", move || {
        Box::new(DockerBuilder {
            cfg: None,
            settings: s.clone(),
        })
    });
    post::register(r, &settings);
    r.cleaner(PROVIDER, Arc::new(ContainerCleaner));
}

/// Connects to the engine (`DOCKER_HOST`, else the local socket) and agrees on an API version.
///
/// # Errors
/// When no engine answers, with what to check.
pub async fn connect() -> Result<Docker, BuildError> {
    let unreachable = |e: &bollard::errors::Error| {
        BuildError::step(format!(
            "Cannot connect to the Docker engine ({}). Is dockerd running, and DOCKER_HOST right?",
            engine_message(e)
        ))
    };
    let docker = Docker::connect_with_defaults().map_err(|e| unreachable(&e))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| unreachable(&e))
}

/// An engine error in the engine's words.
#[must_use]
pub fn engine_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        bollard::errors::Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

/// `source "docker"`.
#[derive(Debug, Default)]
pub struct DockerBuilder {
    cfg: Option<Arc<DockerConfig>>,
    settings: Arc<Settings>,
}

#[async_trait]
impl Builder for DockerBuilder {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        let (cfg, warnings) = DockerConfig::decode(config)?;
        self.cfg = Some(Arc::new(cfg));
        Ok(warnings)
    }

    fn generated_names(&self) -> Vec<String> {
        vec!["ImageSha256".into()]
    }

    async fn run(
        &self,
        ctx: &BuildContext,
        hook: &dyn Hook,
    ) -> Result<Option<Arc<dyn Artifact>>, BuildError> {
        let cfg = self
            .cfg
            .clone()
            .ok_or_else(|| BuildError::step("the docker builder was not prepared"))?;
        if let Some(pw) = cfg.login.as_ref().and_then(|l| l.password.as_deref()) {
            ctx.ui.add_secret(pw);
        }
        for secret in self.settings.secrets() {
            ctx.ui.add_secret(secret);
        }
        let docker = connect().await?;
        let steps: Vec<Box<dyn Step<State<'_>>>> = vec![
            Box::new(Pull),
            Box::new(RunContainer),
            Box::new(Provision),
            Box::new(Keep),
        ];
        let mut state = State {
            settings: self.settings.clone(),
            cfg: cfg.clone(),
            docker: docker.clone(),
            hook,
            container: None,
            container_id: None,
            entry: None,
            kept: None,
        };
        run_steps(ctx, &steps, &mut state).await?;
        Ok(match state.kept.take() {
            Some(Kept::Image(id)) => Some(Arc::new(ImageArtifact {
                name: id.clone(),
                description: format!("Imported Docker image: {id}"),
                id,
                docker,
                // Packer's: a committed image is known by docker-import's id, so that the
                // post-processors that take images (tag, push, save) take it.
                builder_id: post::IMPORT_ID.into(),
                tags: Vec::new(),
            })),
            Some(Kept::Export(path)) => Some(Arc::new(ExportArtifact { path })),
            None => None,
        })
    }
}

enum Kept {
    Image(String),
    Export(String),
}

struct State<'a> {
    settings: Arc<Settings>,
    cfg: Arc<DockerConfig>,
    docker: Docker,
    hook: &'a dyn Hook,
    /// The container's name (chosen by Kiln, journaled before it is created).
    container: Option<String>,
    /// Its id, once created.
    container_id: Option<String>,
    entry: Option<Entry>,
    kept: Option<Kept>,
}

struct Pull;

#[async_trait]
impl<'h> Step<State<'h>> for Pull {
    fn name(&self) -> &'static str {
        "pull"
    }

    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        if s.cfg.pull {
            pull_image(ctx, &s.docker, &s.cfg, &s.settings).await?;
        }
        Ok(())
    }
}

/// Pulls the configured image with `login_*` credentials (for their own registry only), else
/// the credentials stored for its registry.
async fn pull_image(
    ctx: &BuildContext,
    docker: &Docker,
    cfg: &DockerConfig,
    settings: &Settings,
) -> Result<(), BuildError> {
    let image = &cfg.image;
    let credentials = match &cfg.login {
        Some(l) => credentials_for(
            image,
            l.server.as_deref(),
            l.username.as_deref(),
            l.password.as_deref(),
        ),
        None => settings.credentials_for(image),
    };
    ctx.ui.say(format!("Pulling Docker image: {image}"));
    let (from, tag) = name_and_tag(image);
    let mut pull = docker.create_image(
        Some(bollard::query_parameters::CreateImageOptions {
            from_image: Some(from.to_string()),
            tag: tag.map(str::to_string),
            platform: cfg.platform.clone().unwrap_or_default(),
            ..Default::default()
        }),
        None,
        credentials,
    );
    while let Some(item) = pull.next().await {
        let info = item.map_err(|e| {
            BuildError::step(format!(
                "Error pulling Docker image: {}",
                engine_message(&e)
            ))
        })?;
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            return Err(BuildError::step(format!("Error pulling Docker image: {e}")));
        }
        if let Some(status) = info.status {
            tracing::debug!(status = %status, id = ?info.id, "docker pull");
        }
    }
    Ok(())
}

/// `repo[:tag]`, with a registry's port not taken for a tag; a digest stays with the name.
fn split_tag(image: &str) -> (&str, Option<&str>) {
    if image.contains('@') {
        return (image, None);
    }
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (image, None),
    }
}

/// `repo` and its tag, `latest` when none is given (as the docker CLI pulls and pushes; the
/// Engine API alone would take every tag of the repository).
fn name_and_tag(image: &str) -> (&str, Option<&str>) {
    match split_tag(image) {
        (name, None) if !name.contains('@') => (name, Some("latest")),
        other => other,
    }
}

/// The registry an image name lives in, as the docker CLI reads it: the first component when
/// it has a `.` or `:` or is `localhost`, else Docker Hub.
fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// `login_server` as a registry host: without scheme and path; Docker Hub's names as one.
fn server_host(server: &str) -> &str {
    let s = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = s.split('/').next().unwrap_or(s);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io",
        h => h,
    }
}

/// Credentials for `image`'s registry: only when it is `server` (Docker Hub when none), so that
/// a private registry's password is never sent to another one.
pub(crate) fn credentials_for(
    image: &str,
    server: Option<&str>,
    username: Option<&str>,
    password: Option<&str>,
) -> Option<bollard::auth::DockerCredentials> {
    let host = server.map_or("docker.io", server_host);
    if registry_of(image) != host {
        tracing::debug!(
            image,
            server = host,
            "login credentials not sent: the image is in another registry"
        );
        return None;
    }
    Some(bollard::auth::DockerCredentials {
        username: username.map(str::to_string),
        password: password.map(str::to_string),
        serveraddress: server.map(str::to_string),
        ..Default::default()
    })
}

struct RunContainer;

impl RunContainer {
    fn body(cfg: &DockerConfig) -> bollard::models::ContainerCreateBody {
        use bollard::models::{ContainerCreateBody, DeviceMapping, HostConfig};
        let rc = &cfg.run;
        let mut binds: Vec<String> = cfg
            .volumes
            .iter()
            .map(|(host, container)| format!("{host}:{container}"))
            .collect();
        binds.extend(rc.volumes.iter().cloned());
        let tmpfs: std::collections::HashMap<String, String> = cfg
            .tmpfs
            .iter()
            .chain(&rc.tmpfs)
            .map(|t| match t.split_once(':') {
                Some((p, o)) => (p.to_string(), o.to_string()),
                None => (t.clone(), String::new()),
            })
            .collect();
        let devices: Vec<DeviceMapping> = cfg
            .device
            .iter()
            .chain(&rc.device)
            .map(|d| {
                let mut parts = d.splitn(3, ':');
                let host = parts.next().unwrap_or_default().to_string();
                let inside = parts.next().map_or_else(|| host.clone(), str::to_string);
                DeviceMapping {
                    path_on_host: Some(host),
                    path_in_container: Some(inside),
                    cgroup_permissions: Some(parts.next().unwrap_or("rwm").to_string()),
                }
            })
            .collect();
        let labels: std::collections::HashMap<String, String> = rc
            .labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (l.clone(), String::new()),
            })
            .collect();
        let (ports, exposed) = publish(&rc.publish);
        let ulimits: Vec<bollard::models::ResourcesUlimits> = rc
            .ulimit
            .iter()
            .filter_map(|u| {
                let (name, limits) = u.split_once('=')?;
                let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
                Some(bollard::models::ResourcesUlimits {
                    name: Some(name.to_string()),
                    soft: soft.parse().ok(),
                    hard: hard.parse().ok(),
                })
            })
            .collect();
        let sysctls: std::collections::HashMap<String, String> = rc
            .sysctl
            .iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        let list = |a: &[String], b: &[String]| -> Option<Vec<String>> {
            let v: Vec<String> = a.iter().chain(b).cloned().collect();
            (!v.is_empty()).then_some(v)
        };
        ContainerCreateBody {
            image: Some(rc.image.clone()),
            entrypoint: rc.entrypoint.as_ref().map(|e| {
                if e.is_empty() {
                    Vec::new()
                } else {
                    vec![e.clone()]
                }
            }),
            cmd: (!rc.cmd.is_empty()).then(|| rc.cmd.clone()),
            tty: Some(rc.tty),
            open_stdin: Some(rc.interactive),
            attach_stdin: Some(false),
            env: (!rc.env.is_empty()).then(|| rc.env.clone()),
            user: rc.user.clone(),
            working_dir: rc.workdir.clone(),
            hostname: rc.hostname.clone(),
            labels: (!labels.is_empty()).then_some(labels),
            host_config: Some(HostConfig {
                binds: (!binds.is_empty()).then_some(binds),
                privileged: Some(cfg.privileged || rc.privileged),
                cap_add: list(&cfg.cap_add, &rc.cap_add),
                cap_drop: list(&cfg.cap_drop, &rc.cap_drop),
                tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
                devices: (!devices.is_empty()).then_some(devices),
                network_mode: rc.network.clone(),
                memory: rc.memory,
                memory_swap: rc.memory_swap,
                shm_size: rc.shm_size,
                nano_cpus: rc.nano_cpus,
                cpu_shares: rc.cpu_shares,
                port_bindings: (!ports.is_empty()).then_some(ports),
                extra_hosts: (!rc.add_host.is_empty()).then(|| rc.add_host.clone()),
                dns: (!rc.dns.is_empty()).then(|| rc.dns.clone()),
                security_opt: (!rc.security_opt.is_empty()).then(|| rc.security_opt.clone()),
                ulimits: (!ulimits.is_empty()).then_some(ulimits),
                sysctls: (!sysctls.is_empty()).then_some(sysctls),
                group_add: (!rc.group_add.is_empty()).then(|| rc.group_add.clone()),
                pid_mode: rc.pid.clone(),
                ipc_mode: rc.ipc.clone(),
                userns_mode: rc.userns.clone(),
                init: rc.init.then_some(true),
                mounts: {
                    let m: Vec<bollard::models::Mount> = rc
                        .mounts
                        .iter()
                        .filter_map(|m| config::parse_mount(m).ok())
                        .collect();
                    (!m.is_empty()).then_some(m)
                },
                runtime: cfg.runtime.clone(),
                readonly_rootfs: rc.read_only.then_some(true),
                ..Default::default()
            }),
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            ..Default::default()
        }
    }
}

#[async_trait]
impl<'h> Step<State<'h>> for RunContainer {
    fn name(&self) -> &'static str {
        "run container"
    }

    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        ctx.ui.say("Starting docker container...");
        ctx.ui
            .message(format!("Run command: {}", run_command_line(&s.cfg)));
        let run = ctx.info.run_uuid.split('-').next().unwrap_or("run");
        // The journal keeps the name, so that `kiln cleanup` finds the container either way.
        let name = s.cfg.run.name.clone().unwrap_or_else(|| {
            format!(
                "kiln-{run}-{}",
                kiln_core::operator::file_safe(&ctx.info.name)
            )
        });
        let entry = ctx.journal.record(Resource::Cloud(CloudResource {
            provider: PROVIDER.into(),
            region: "local".into(),
            kind: "container".into(),
            id: name.clone(),
            endpoint: None,
        }))?;
        s.entry = Some(entry);
        s.container = Some(name.clone());
        let platform = s
            .cfg
            .platform
            .clone()
            .or_else(|| s.cfg.run.platform.clone())
            .unwrap_or_default();
        let create = || {
            s.docker.create_container(
                Some(bollard::query_parameters::CreateContainerOptions {
                    name: Some(name.clone()),
                    platform: platform.clone(),
                }),
                Self::body(&s.cfg),
            )
        };
        let created = match create().await {
            // As `docker run`: an image that is not there is pulled, even with pull = false.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                message,
            }) if message.contains("No such image") && !s.cfg.pull => {
                ctx.ui
                    .message(format!("Unable to find image '{}' locally", s.cfg.image));
                pull_image(ctx, &s.docker, &s.cfg, &s.settings).await?;
                create().await
            }
            other => other,
        }
        .map_err(|e| {
            BuildError::step(format!("Error running container: {}", engine_message(&e)))
        })?;
        s.docker
            .start_container(
                &name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(|e| {
                BuildError::step(format!("Error running container: {}", engine_message(&e)))
            })?;
        ctx.ui.message(format!("Container ID: {}", created.id));
        s.container_id = Some(created.id);
        Ok(())
    }

    async fn cleanup(&self, ctx: &BuildContext, s: &mut State<'h>, _o: StepOutcome) {
        let Some(name) = s.container.take() else {
            return;
        };
        let id = s.container_id.take().unwrap_or_else(|| name.clone());
        ctx.ui.say(format!("Killing the container: {id}"));
        match remove_container(&s.docker, &name).await {
            Ok(()) => {
                if let Some(e) = s.entry.take() {
                    e.done();
                }
            }
            Err(e) => ctx.ui.error(format!(
                "Error removing container {name}: {e} (`kiln cleanup` removes it later)"
            )),
        }
    }
}

/// `-p` values as the engine wants them: bindings per `PORT/PROTOCOL`, and the exposed ports.
fn publish(values: &[String]) -> (bollard::models::PortMap, Vec<String>) {
    let mut map = bollard::models::PortMap::new();
    let mut exposed = Vec::new();
    for v in values {
        let (spec, proto) = v.rsplit_once('/').unwrap_or((v.as_str(), "tcp"));
        let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
        let (container, host_port, host_ip) = match parts.as_slice() {
            [c] => (*c, "", ""),
            [c, h] => (*c, *h, ""),
            [c, h, ip] => (*c, *h, *ip),
            _ => continue,
        };
        let key = format!("{container}/{proto}");
        map.entry(key.clone())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(bollard::models::PortBinding {
                host_ip: (!host_ip.is_empty()).then(|| host_ip.to_string()),
                host_port: Some(host_port.to_string()),
            });
        if !exposed.contains(&key) {
            exposed.push(key);
        }
    }
    (map, exposed)
}

/// `docker run` with the arguments the container is made with, for the log (Packer shows the
/// command it runs; Kiln makes the same container through the API).
fn run_command_line(cfg: &DockerConfig) -> String {
    let mut words = vec!["docker".to_string(), "run".to_string()];
    for (host, inside) in &cfg.volumes {
        words.push("-v".into());
        words.push(format!("{host}:{inside}"));
    }
    if cfg.privileged {
        words.push("--privileged".into());
    }
    for (flag, values) in [
        ("--cap-add", &cfg.cap_add),
        ("--cap-drop", &cfg.cap_drop),
        ("--tmpfs", &cfg.tmpfs),
        ("--device", &cfg.device),
    ] {
        for v in values {
            words.push(flag.into());
            words.push(v.clone());
        }
    }
    words.extend(cfg.run.args.iter().cloned());
    words.join(" ")
}

/// The container's address on its first network (empty without one, as Packer shows it) and
/// its configured user, from one inspection.
async fn address_and_user(docker: &Docker, name: &str) -> (String, Option<String>) {
    let Ok(c) = docker
        .inspect_container(
            name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
    else {
        return (String::new(), None);
    };
    let ip = c
        .network_settings
        .and_then(|n| n.networks)
        .and_then(|n| {
            n.into_values()
                .find_map(|e| e.ip_address.filter(|a| !a.is_empty()))
        })
        .unwrap_or_default();
    (ip, c.config.and_then(|c| c.user))
}

/// Removes a container, running or not; one that is gone already is a success.
async fn remove_container(docker: &Docker, name: &str) -> Result<(), String> {
    match docker
        .remove_container(
            name,
            Some(bollard::query_parameters::RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(engine_message(&e)),
    }
}

struct Provision;

#[async_trait]
impl<'h> Step<State<'h>> for Provision {
    fn name(&self) -> &'static str {
        "provision"
    }

    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let name = s.container.clone().unwrap_or_default();
        if let Some(d) = s.cfg.pause_before_connecting {
            ctx.ui.say(format!(
                "Waiting {} before connecting...",
                kiln_core::duration::human(d)
            ));
            ctx.sleep(d).await?;
        }
        let mut data = kiln_core::GeneratedData::new();
        data.insert("PackerRunUUID".into(), ctx.info.run_uuid.clone());
        data.insert("ConnType".into(), s.cfg.communicator.clone());
        data.insert(
            "ID".into(),
            s.container_id.clone().unwrap_or_else(|| name.clone()),
        );
        let comm: Arc<dyn kiln_core::Communicator> = if s.cfg.communicator == "none" {
            Arc::new(kiln_communicator::none::NoneCommunicator)
        } else {
            let (ip, owner) = address_and_user(&s.docker, &name).await;
            ctx.ui
                .say(format!("Using docker communicator to connect: {ip}"));
            Arc::new(
                DockerCommunicator::new(
                    s.docker.clone(),
                    &name,
                    s.cfg.exec_user.clone(),
                    s.cfg.fix_upload_owner,
                )
                .with_owner(owner),
            )
        };
        s.hook.provision(ctx, comm, &data).await
    }
}

/// Commits, exports or discards the container.
struct Keep;

#[async_trait]
impl<'h> Step<State<'h>> for Keep {
    fn name(&self) -> &'static str {
        "commit or export"
    }

    async fn run(&self, ctx: &BuildContext, s: &mut State<'h>) -> Result<(), BuildError> {
        let name = s.container.clone().unwrap_or_default();
        match &s.cfg.outcome {
            config::Outcome::Discard => {}
            config::Outcome::Commit => {
                ctx.ui.say("Committing the container");
                let changes = (!s.cfg.changes.is_empty()).then(|| s.cfg.changes.join("\n"));
                let id = s
                    .docker
                    .commit_container(
                        bollard::query_parameters::CommitContainerOptions {
                            container: Some(name.clone()),
                            author: s.cfg.author.clone(),
                            comment: s.cfg.message.clone(),
                            changes,
                            pause: true,
                            ..Default::default()
                        },
                        bollard::models::ContainerConfig::default(),
                    )
                    .await
                    .map_err(|e| {
                        BuildError::step(format!(
                            "Error committing container: {}",
                            engine_message(&e)
                        ))
                    })?
                    .id;
                ctx.ui.message(format!("Image ID: {id}"));
                s.kept = Some(Kept::Image(id));
            }
            config::Outcome::Export(path) => {
                ctx.ui.say("Exporting the container");
                export(ctx, &s.docker, &name, path).await?;
                s.kept = Some(Kept::Export(path.clone()));
            }
        }
        Ok(())
    }
}

/// Streams the container's file system into `path`.
async fn export(
    ctx: &BuildContext,
    docker: &Docker,
    container: &str,
    path: &str,
) -> Result<(), BuildError> {
    let stream = docker
        .export_container(container)
        .map(|c| c.map_err(|e| format!("Error exporting container: {}", engine_message(&e))));
    write_atomically(ctx, path, "partial export", stream)
        .await
        .map_err(BuildError::step)
}

/// Writes a stream of chunks to `path`: beside it first (journaled, so a crash leaves nothing
/// `kiln cleanup` does not know of), renamed into place once complete and synced. On an error
/// or cancellation the partial file is removed. Errors are ready for the user.
pub(crate) async fn write_atomically(
    ctx: &BuildContext,
    path: &str,
    what: &str,
    mut stream: impl futures::Stream<Item = Result<bytes::Bytes, String>> + Unpin,
) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let staged = kiln_core::staged::StagedFile::new(path);
    let entry = ctx
        .journal
        .record(Resource::path(staged.path(), what))
        .map_err(|e| e.to_string())?;
    let result = async {
        let io = |e: std::io::Error| {
            if e.raw_os_error() == Some(28) {
                let dir = std::path::Path::new(path)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."));
                format!(
                    "writing {path}: {e}: the file system of {} is full; free some space there, or write the file elsewhere",
                    dir.display()
                )
            } else {
                format!("writing {path}: {e}")
            }
        };
        let mut file = tokio::fs::File::create(staged.path()).await.map_err(io)?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
            ctx.ui.progress(what, written, None);
        }
        ctx.ui.progress_done(what);
        file.sync_all().await.map_err(io)?;
        drop(file);
        staged.commit().map_err(io)
    }
    .await;
    // Renamed into place, or removed with the staged file: either way nothing is left over.
    entry.done();
    result
}

/// An image in the engine: what `commit = true`, `docker-tag` and `docker-import` produce.
#[derive(Debug)]
pub struct ImageArtifact {
    /// The image id (`sha256:…`).
    pub id: String,
    /// The engine it is in.
    pub docker: Docker,
    /// Whose artifact it is.
    pub builder_id: String,
    /// What it is known by (the artifact's id): the image id, or `repository:tag`.
    pub name: String,
    /// `repository:tag` names given to it.
    pub tags: Vec<String>,
    /// Its description, in Packer's words.
    pub description: String,
}

#[async_trait]
impl Artifact for ImageArtifact {
    fn builder_id(&self) -> String {
        self.builder_id.clone()
    }
    fn id(&self) -> String {
        self.name.clone()
    }
    fn files(&self) -> Vec<String> {
        Vec::new()
    }
    fn string(&self) -> String {
        self.description.clone()
    }
    fn state(&self, name: &str) -> Option<serde_json::Value> {
        match name {
            "ImageSha256" | "image_id" => Some(self.id.clone().into()),
            "catalog" => Some(lifecycle::catalog_state(&self.id, &self.tags)),
            "generated_data" => Some(serde_json::json!({ "ImageSha256": self.id })),
            "tags" => Some(self.tags.clone().into()),
            _ => None,
        }
    }
    async fn destroy(&self) -> std::io::Result<()> {
        let names: Vec<&str> = if self.tags.is_empty() {
            vec![self.id.as_str()]
        } else {
            self.tags.iter().map(String::as_str).collect()
        };
        for n in names {
            match self
                .docker
                .remove_image(
                    n,
                    None::<bollard::query_parameters::RemoveImageOptions>,
                    None,
                )
                .await
            {
                Ok(_)
                | Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => {}
                Err(e) => return Err(std::io::Error::other(engine_message(&e))),
            }
        }
        Ok(())
    }
}

/// A container's file system exported to a tarball (`export_path`).
#[derive(Debug)]
pub struct ExportArtifact {
    /// The tarball.
    pub path: String,
}

#[async_trait]
impl Artifact for ExportArtifact {
    fn builder_id(&self) -> String {
        BUILDER_ID.into()
    }
    fn id(&self) -> String {
        "Container".into()
    }
    fn files(&self) -> Vec<String> {
        vec![self.path.clone()]
    }
    fn string(&self) -> String {
        format!("Exported Docker file: {}", self.path)
    }
    async fn destroy(&self) -> std::io::Result<()> {
        match tokio::fs::remove_file(&self.path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Removes journaled containers for `kiln cleanup`.
#[derive(Debug)]
struct ContainerCleaner;

#[async_trait]
impl kiln_core::journal::Cleaner for ContainerCleaner {
    async fn remove(&self, r: &CloudResource) -> Result<(), String> {
        let docker = connect().await.map_err(|e| e.to_string())?;
        match r.kind.as_str() {
            "container" => remove_container(&docker, &r.id).await,
            other => Err(format!("unknown docker resource kind {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_off_but_registry_ports_and_digests_stay() {
        assert_eq!(split_tag("debian:12"), ("debian", Some("12")));
        assert_eq!(
            split_tag("localhost:5000/app"),
            ("localhost:5000/app", None)
        );
        assert_eq!(
            split_tag("localhost:5000/app:v1"),
            ("localhost:5000/app", Some("v1"))
        );
        assert_eq!(split_tag("app@sha256:abc"), ("app@sha256:abc", None));
        assert_eq!(name_and_tag("ubuntu"), ("ubuntu", Some("latest")));
        assert_eq!(name_and_tag("app@sha256:abc"), ("app@sha256:abc", None));
    }

    #[test]
    fn credentials_go_only_to_their_own_registry() {
        let c = |image, server| credentials_for(image, server, Some("u"), Some("p")).is_some();
        assert!(c(
            "registry.example.com/app:1",
            Some("registry.example.com")
        ));
        assert!(c(
            "registry.example.com/app:1",
            Some("https://registry.example.com/v2/")
        ));
        assert!(!c("debian:12", Some("registry.example.com")));
        assert!(c("debian:12", None));
        assert!(c("library/debian:12", Some("https://index.docker.io/v1/")));
        assert!(!c("localhost:5000/app", Some("registry.example.com")));
        assert!(c("127.0.0.1:5000/app", Some("127.0.0.1:5000")));
    }
}

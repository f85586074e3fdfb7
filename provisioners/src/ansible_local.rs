//! The `ansible-local` provisioner: uploads the playbook and what it needs (`playbook_dir`,
//! roles, collections, group and host vars, the inventory, a galaxy file) into a staging
//! directory on the machine and runs `ansible-playbook` there, against the machine itself
//! (`-c local`), as Packer's does.

use crate::ansible::{galaxy_kinds, hide_secrets, path_problem, INSTALL};
use async_trait::async_trait;
use kiln_communicator::shell_quote;
use kiln_core::{
    BuildContext, BuildError, BuildInfo, Communicator, Config, Diagnostics, ExitStatus,
    GeneratedData, OutputStream, Provisioner,
};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;

/// Packer's staging root; each run stages into a fresh directory below it.
const STAGING_ROOT: &str = "/tmp/packer-provisioner-ansible-local";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LocalConfig {
    command: Option<String>,
    extra_arguments: Vec<String>,
    group_vars: Option<String>,
    host_vars: Option<String>,
    playbook_dir: Option<String>,
    playbook_file: Option<String>,
    playbook_files: Vec<String>,
    playbook_paths: Vec<String>,
    role_paths: Vec<String>,
    collection_paths: Vec<String>,
    staging_directory: Option<String>,
    clean_staging_directory: bool,
    inventory_file: Option<String>,
    inventory_groups: Vec<String>,
    galaxy_file: Option<String>,
    galaxy_command: Option<String>,
    galaxy_force_install: bool,
    galaxy_roles_path: Option<String>,
    galaxy_collections_path: Option<String>,
}

/// `provisioner "ansible-local"`.
#[derive(Debug, Default)]
pub struct AnsibleLocal {
    cfg: LocalConfig,
    staging: String,
    /// `playbook_files`: absolute, or (true) relative to `playbook_dir` when inside it, since
    /// that directory is uploaded whole.
    playbooks: Vec<(String, bool)>,
}

fn fail(message: impl Into<String>) -> BuildError {
    BuildError::Provisioner {
        kind: "ansible-local".into(),
        message: message.into(),
    }
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The last component of a local path (`roles/web/` → `web`).
fn base(p: &str) -> String {
    Path::new(p.trim_end_matches('/'))
        .file_name()
        .map_or_else(|| p.to_string(), |n| n.to_string_lossy().into_owned())
}

fn remote_join(dir: &str, name: &str) -> String {
    format!(
        "{}/{}",
        dir.trim_end_matches('/'),
        name.trim_start_matches('/')
    )
}

#[async_trait]
impl Provisioner for AnsibleLocal {
    fn prepare(&mut self, config: &Config, _info: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        let c: LocalConfig = config.decode()?;
        let mut diags = Diagnostics::default();
        let mut err = |key: &str, m: String| {
            diags.push(config.error_at(key, "Invalid ansible-local provisioner configuration", m));
        };
        let file = |key: &str, p: &str| path_problem(key, p, false);
        let dir = |key: &str, p: &str| path_problem(key, p, true);
        match (set(&c.playbook_file), c.playbook_files.is_empty()) {
            (Some(_), false) => err(
                "playbook_files",
                "Either playbook_file or playbook_files can be specified, not both".into(),
            ),
            (None, true) => err(
                "playbook_file",
                "Either playbook_file or playbook_files must be specified".into(),
            ),
            _ => {}
        }
        if let Some(m) = set(&c.playbook_file).and_then(|p| file("playbook_file", p)) {
            err("playbook_file", m);
        }
        let mut playbooks = Vec::new();
        for p in &c.playbook_files {
            match file("playbook_files", p) {
                Some(m) => err("playbook_files", m),
                None => playbooks.push((
                    std::path::absolute(p)
                        .map_or_else(|_| p.clone(), |a| a.to_string_lossy().into_owned()),
                    false,
                )),
            }
        }
        for (key, v) in [
            ("inventory_file", &c.inventory_file),
            ("galaxy_file", &c.galaxy_file),
        ] {
            if let Some(m) = set(v).and_then(|p| file(key, p)) {
                err(key, m);
            }
        }
        for (key, v) in [
            ("playbook_dir", &c.playbook_dir),
            ("group_vars", &c.group_vars),
            ("host_vars", &c.host_vars),
        ] {
            if let Some(m) = set(v).and_then(|p| dir(key, p)) {
                err(key, m);
            }
        }
        for (key, list) in [
            ("playbook_paths", &c.playbook_paths),
            ("role_paths", &c.role_paths),
            ("collection_paths", &c.collection_paths),
        ] {
            for p in list {
                if let Some(m) = dir(key, p) {
                    err(key, m);
                }
            }
        }
        if !diags.0.is_empty() {
            return Err(diags);
        }
        // Files inside `playbook_dir` are already uploaded with it: they run from there.
        if let Some(d) = set(&c.playbook_dir) {
            let d = std::path::absolute(d)
                .map_or_else(|_| d.to_string(), |a| a.to_string_lossy().into_owned());
            for (p, inside) in &mut playbooks {
                if let Ok(rel) = Path::new(p.as_str()).strip_prefix(&d) {
                    *p = rel.to_string_lossy().into_owned();
                    *inside = true;
                }
            }
        }
        self.staging = set(&c.staging_directory).map_or_else(
            || format!("{STAGING_ROOT}/{}", time_ordered_id()),
            ToString::to_string,
        );
        self.playbooks = playbooks;
        self.cfg = c;
        Ok(Vec::new())
    }

    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError> {
        let c = &self.cfg;
        let staging = self.staging.as_str();
        let run = Remote {
            ctx,
            comm: comm.as_ref(),
        };
        ctx.ui.say("Provisioning with Ansible...");
        if let Some(d) = set(&c.playbook_dir) {
            ctx.ui
                .say("Uploading Playbook directory to Ansible staging directory...");
            run.upload_dir(staging, d)
                .await
                .map_err(|e| fail(format!("Error uploading playbook_dir directory: {e}")))?;
        } else {
            ctx.ui.say("Creating Ansible staging directory...");
            run.mkdir(staging)
                .await
                .map_err(|e| fail(format!("Error creating staging directory: {e}")))?;
        }
        if let Some(p) = set(&c.playbook_file) {
            ctx.ui.say("Uploading main Playbook file...");
            run.upload(&remote_join(staging, &base(p)), p)
                .await
                .map_err(|e| fail(format!("Error uploading main playbook: {e}")))?;
        } else {
            for (p, inside) in &self.playbooks {
                if *inside {
                    continue;
                }
                ctx.ui.say(format!("Uploading playbook file: {p}"));
                let remote = remote_join(staging, p);
                let parent = remote.rsplit_once('/').map_or(staging, |(d, _)| d);
                run.mkdir(parent)
                    .await
                    .map_err(|e| fail(format!("Error uploading playbook file: {p} [{e}]")))?;
                run.upload(&remote, p)
                    .await
                    .map_err(|e| fail(format!("Error uploading playbook: {p} [{e}]")))?;
            }
        }
        // The inventory: the user's, or the machine itself in `inventory_groups`.
        let mut _generated = None;
        let inventory_local = match set(&c.inventory_file) {
            Some(f) => f.to_string(),
            None => {
                let text = if c.inventory_groups.is_empty() {
                    "127.0.0.1".to_string()
                } else {
                    c.inventory_groups
                        .iter()
                        .map(|g| format!("[{g}]\n127.0.0.1\n"))
                        .collect()
                };
                let f = tempfile::Builder::new()
                    .prefix("packer-provisioner-ansible-local")
                    .tempfile()
                    .map_err(|e| BuildError::io("Error preparing inventory file", e))?;
                let path = f.path().to_path_buf();
                let mut f = ctx.journal.hold(f, &path, "temporary file")?;
                std::io::Write::write_all(&mut *f, text.as_bytes())
                    .map_err(|e| BuildError::io("Error preparing inventory file", e))?;
                let p = f.path().to_string_lossy().into_owned();
                _generated = Some(f);
                p
            }
        };
        if let Some(g) = set(&c.galaxy_file) {
            ctx.ui.say("Uploading galaxy file...");
            run.upload(&remote_join(staging, &base(g)), g)
                .await
                .map_err(|e| fail(format!("Error uploading galaxy file: {e}")))?;
        }
        ctx.ui.say("Uploading inventory file...");
        let inventory = remote_join(staging, &base(&inventory_local));
        run.upload(&inventory, &inventory_local)
            .await
            .map_err(|e| fail(format!("Error uploading inventory file: {e}")))?;
        for (what, v, name) in [
            ("group_vars", &c.group_vars, "group_vars"),
            ("host_vars", &c.host_vars, "host_vars"),
        ] {
            if let Some(d) = set(v) {
                ctx.ui.say(format!("Uploading {what} directory..."));
                run.upload_dir(&remote_join(staging, name), d)
                    .await
                    .map_err(|e| fail(format!("Error uploading {what} directory: {e}")))?;
            }
        }
        for (list, dir, what) in [
            (&c.role_paths, "roles", "role"),
            (&c.collection_paths, "collections", "collection"),
        ] {
            if !list.is_empty() {
                ctx.ui.say(format!("Uploading {what} directories..."));
            }
            for src in list {
                run.upload_dir(&remote_join(&remote_join(staging, dir), &base(src)), src)
                    .await
                    .map_err(|e| fail(format!("Error uploading {dir}: {e}")))?;
            }
        }
        if !c.playbook_paths.is_empty() {
            ctx.ui.say("Uploading additional Playbooks...");
            let dir = remote_join(staging, "playbooks");
            run.mkdir(&dir)
                .await
                .map_err(|e| fail(format!("Error creating playbooks directory: {e}")))?;
            for src in &c.playbook_paths {
                run.upload_dir(&remote_join(&dir, &base(src)), src)
                    .await
                    .map_err(|e| fail(format!("Error uploading playbooks: {e}")))?;
            }
        }
        self.execute(&run, data, &inventory)
            .await
            .map_err(|e| match e {
                BuildError::Provisioner { message, .. } => {
                    fail(format!("Error executing Ansible: {message}"))
                }
                e => e,
            })?;
        if c.clean_staging_directory {
            ctx.ui.say("Removing staging directory...");
            run.exec(
                &format!("rm -rf {}", shell_quote(staging)),
                "removing the staging directory",
            )
            .await
            .map_err(|e| fail(format!("Error removing staging directory: {e}")))?;
        }
        Ok(())
    }
}

impl AnsibleLocal {
    async fn execute(
        &self,
        run: &Remote<'_>,
        data: &GeneratedData,
        inventory: &str,
    ) -> Result<(), BuildError> {
        let c = &self.cfg;
        let staging = self.staging.as_str();
        let galaxy_text = match set(&c.galaxy_file) {
            Some(g) => Some(
                std::fs::read_to_string(g).map_err(|e| fail(format!("galaxy_file {g}: {e}")))?,
            ),
            None => None,
        };
        let (has_roles, has_collections) =
            galaxy_text.as_deref().map_or((false, false), galaxy_kinds);
        let roles_path = set(&c.galaxy_roles_path)
            .map_or_else(|| remote_join(staging, "galaxy_roles"), ToString::to_string);
        let collections_path = set(&c.galaxy_collections_path).map_or_else(
            || remote_join(staging, "galaxy_collections"),
            ToString::to_string,
        );
        let galaxy = set(&c.galaxy_command).unwrap_or("ansible-galaxy");
        if let Some(g) = set(&c.galaxy_file) {
            let file = remote_join(staging, &base(g));
            let force = if c.galaxy_force_install { " -f" } else { "" };
            let mut runs = Vec::new();
            if has_roles || !has_collections {
                runs.push(format!("install -r {file} -p {roles_path}{force}"));
            }
            if has_collections {
                runs.push(format!(
                    "collection install -r {file} -p {collections_path}{force}"
                ));
            }
            for args in runs {
                let command = format!("cd {staging} && {galaxy} {args}");
                run.ctx
                    .ui
                    .say(format!("Executing Ansible Galaxy: {command}"));
                let code = run.stream(&command).await?;
                if code != ExitStatus::Code(0) {
                    return Err(fail(format!(
                        "Error executing Ansible Galaxy: Non-zero exit status: {}",
                        code_text(code)
                    )));
                }
            }
        }
        let mut env = String::new();
        let mut collections = Vec::new();
        if has_collections {
            collections.push(collections_path);
        }
        if !c.collection_paths.is_empty() {
            collections.push(remote_join(staging, "collections"));
        }
        if !collections.is_empty() {
            env.push_str(&format!(
                " ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH:{}",
                collections.join(":")
            ));
        }
        if has_roles {
            env.push_str(&format!(
                " ANSIBLE_ROLES_PATH=$ANSIBLE_ROLES_PATH:{roles_path}"
            ));
        }
        let command =
            set(&c.command).unwrap_or("ANSIBLE_FORCE_COLOR=1 PYTHONUNBUFFERED=1 ansible-playbook");
        let mut extra = format!(
            " --extra-vars \"packer_build_name={} packer_builder_type={} packer_http_addr={}\" ",
            run.ctx.info.source_name,
            run.ctx.info.source_type,
            data.get("PackerHTTPAddr").map_or("", String::as_str)
        );
        extra.push_str(&c.extra_arguments.join(" "));
        let playbooks: Vec<String> = match set(&c.playbook_file) {
            Some(p) => vec![remote_join(staging, &base(p))],
            None => self
                .playbooks
                .iter()
                .map(|(p, _)| remote_join(staging, p))
                .collect(),
        };
        for playbook in playbooks {
            let line = format!(
                "cd {staging} && {env} {command} {playbook}{extra} -c local -i {inventory}"
            );
            run.ctx.ui.say(format!(
                "Executing Ansible: {}",
                hide_secrets(&line, &c.extra_arguments)
            ));
            let code = run.stream(&line).await?;
            match code {
                ExitStatus::Code(0) => {}
                ExitStatus::Code(127) => {
                    return Err(fail(format!(
                        "{command} could not be found. Verify that it is available on the\n\
                         PATH after connecting to the machine; {INSTALL} there."
                    )))
                }
                other => return Err(fail(format!("Non-zero exit status: {}", code_text(other)))),
            }
        }
        Ok(())
    }
}

fn code_text(s: ExitStatus) -> String {
    match s {
        ExitStatus::Code(c) => c.to_string(),
        ExitStatus::Disconnected => "the connection ended without one".into(),
    }
}

/// Remote operations with the build's events.
struct Remote<'a> {
    ctx: &'a BuildContext,
    comm: &'a dyn Communicator,
}

impl Remote<'_> {
    /// Runs `command`, its output streamed as events.
    async fn stream(&self, command: &str) -> Result<ExitStatus, BuildError> {
        let ui = self.ctx.ui.clone();
        let mut sink = move |s: OutputStream, l: &str| ui.output(s, l.to_string());
        tokio::select! {
            r = self.comm.exec(command, &mut sink) => Ok(r?),
            () = self.ctx.cancel.cancelled() => Err(BuildError::Cancelled),
        }
    }

    async fn exec(&self, command: &str, what: &str) -> Result<(), String> {
        match self.stream(command).await {
            Ok(ExitStatus::Code(0)) => Ok(()),
            Ok(s) => Err(format!(
                "{what}: non-zero exit status {}. See output above for more information.",
                code_text(s)
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn mkdir(&self, dir: &str) -> Result<(), String> {
        self.ctx.ui.say(format!("Creating directory: {dir}"));
        self.exec(
            &format!("mkdir -p {}", shell_quote(dir)),
            "creating the directory",
        )
        .await
    }

    async fn upload(&self, dst: &str, src: &str) -> Result<(), String> {
        let mut f = tokio::fs::File::open(src)
            .await
            .map_err(|e| format!("Error opening: {e}"))?;
        let size = f.metadata().await.ok().map(|m| m.len());
        self.comm
            .upload(dst, &mut f, size, None)
            .await
            .map_err(|e| format!("Error uploading {src}: {e}"))
    }

    async fn upload_dir(&self, dst: &str, src: &str) -> Result<(), String> {
        self.mkdir(dst).await?;
        self.comm
            .upload_dir(dst, Path::new(src))
            .await
            .map_err(|e| e.to_string())
    }
}

/// A fresh, time-ordered name for the staging directory (as Packer's time-ordered UUIDs).
fn time_ordered_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:016x}-{:08x}",
        now.as_nanos() as u64,
        rand::random::<u32>()
    )
}

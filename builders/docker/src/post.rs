//! The docker post-processors, as Packer's: `docker-tag` names an image, `docker-push` sends a
//! named image to its registry, `docker-save` writes an image to a tarball (`docker save`),
//! `docker-import` makes an image from an exported file system (`docker import`).

use crate::{connect, engine_message, ImageArtifact, BUILDER_ID};

/// The artifacts that are images in the engine: committed (docker-import's id, as in Packer),
/// tagged or imported.
const IMAGES: &[&str] = &[IMPORT_ID, TAG_ID];
use async_trait::async_trait;
use futures::StreamExt;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, PostProcessed,
    PostProcessor, Registry,
};
use serde::Deserialize;
use std::sync::Arc;

/// `docker-tag`'s artifact builder id.
pub const TAG_ID: &str = "packer.post-processor.docker-tag";
/// `docker-import`'s artifact builder id.
pub const IMPORT_ID: &str = "packer.post-processor.docker-import";
/// `docker-push`'s artifact builder id.
pub const PUSH_ID: &str = "packer.post-processor.docker-push";

pub(crate) fn register(r: &mut Registry, settings: &Arc<crate::Settings>) {
    r.post_processor("docker-tag", || Box::new(Tag::default()));
    let s = settings.clone();
    r.post_processor("docker-push", move || {
        Box::new(Push {
            cfg: PushConfig::default(),
            settings: s.clone(),
        })
    });
    r.post_processor("docker-save", || Box::new(Save::default()));
    r.post_processor("docker-import", || Box::new(Import::default()));
}

fn failed(kind: &str, message: impl Into<String>) -> BuildError {
    BuildError::PostProcessor {
        kind: kind.into(),
        message: message.into(),
    }
}

/// The image an artifact names: its id (`sha256:…`) or `repository:tag`.
fn image_of(artifact: &dyn Artifact) -> String {
    artifact
        .state("ImageSha256")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| artifact.id())
}

/// One string or a list of them (`tag`: a string in Packer's JSON templates and older docs, a
/// list in Packer 1.6's HCL2 schema).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `repository` and `tags` (or the older `tag`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TagConfig {
    repository: String,
    tag: Option<OneOrMany>,
    tags: Vec<String>,
    force: bool,
    /// The docker CLI's path: Kiln uses the engine's API (accepted, unused).
    docker_path: Option<String>,
}

impl TagConfig {
    /// `tags`, then `tag`'s (Packer's order: the last one names the artifact).
    fn tag_list(&self) -> Vec<String> {
        let old: Vec<String> = match &self.tag {
            Some(OneOrMany::One(t)) => vec![t.clone()],
            Some(OneOrMany::Many(v)) => v.clone(),
            None => Vec::new(),
        };
        let mut tags = self.tags.clone();
        for t in old {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        tags.retain(|t| !t.is_empty());
        tags
    }

    fn names(&self) -> Vec<String> {
        let tags = self.tag_list();
        if tags.is_empty() {
            return vec![self.repository.clone()];
        }
        tags.iter()
            .map(|t| format!("{}:{t}", self.repository))
            .collect()
    }
}

/// An error at `key` unless `value` is set.
fn required(config: &Config, what: &str, key: &str, value: &str) -> Result<(), Diagnostics> {
    if value.is_empty() {
        return Err(config
            .error_at(
                key,
                &format!("Invalid {what} configuration"),
                format!("{key} must be specified"),
            )
            .into());
    }
    Ok(())
}

/// `post-processor "docker-tag"`.
#[derive(Debug, Default)]
pub struct Tag {
    cfg: TagConfig,
}

#[async_trait]
impl PostProcessor for Tag {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        required(config, "docker-tag", "repository", &self.cfg.repository)?;
        let mut warnings = Vec::new();
        if self.cfg.tag.is_some() {
            warnings.push(
                "docker-tag: `tag` is the old name of `tags`; it is read as `tags` (rename it when convenient)".into(),
            );
        }
        Ok(warnings)
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let from = artifact.builder_id();
        if !IMAGES.contains(&from.as_str()) {
            return Err(failed(
                "docker-tag",
                format!(
                    "Unknown artifact type: {from}\nCan only tag from Docker builder artifacts."
                ),
            ));
        }
        let docker = connect().await?;
        let image = image_of(artifact.as_ref());
        let names = self.cfg.names();
        let last = names.last().cloned().unwrap_or_default();
        for name in &names {
            ctx.ui.message(format!("Tagging image: {image}"));
            ctx.ui.message(format!("Repository: {name}"));
            let (repo, tag) = crate::split_tag(name);
            docker
                .tag_image(
                    &image,
                    Some(bollard::query_parameters::TagImageOptions {
                        repo: Some(repo.to_string()),
                        tag: tag.map(str::to_string),
                    }),
                )
                .await
                .map_err(|e| {
                    failed(
                        "docker-tag",
                        format!("Error tagging image: {}", engine_message(&e)),
                    )
                })?;
        }
        Ok(PostProcessed {
            artifact: Arc::new(ImageArtifact {
                id: image,
                docker,
                builder_id: TAG_ID.into(),
                description: if self.cfg.tag_list().is_empty() {
                    format!("Imported Docker image: {last}")
                } else {
                    format!(
                        "Imported Docker image: {last} with tags {}",
                        names.join(" ")
                    )
                },
                name: last,
                tags: names,
            }),
            keep_input: true,
            force_keep: true,
        })
    }
}

#[derive(Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PushConfig {
    login: bool,
    login_server: Option<String>,
    login_username: Option<String>,
    login_password: Option<String>,
    platform: Option<String>,
    docker_path: Option<String>,
    ecr_login: Option<bool>,
    aws_access_key: Option<String>,
    aws_secret_key: Option<String>,
    aws_token: Option<String>,
    aws_profile: Option<String>,
    aws_force_use_public_ecr: Option<bool>,
}

impl std::fmt::Debug for PushConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConfig")
            .field("login", &self.login)
            .field("login_server", &self.login_server)
            .field("login_username", &self.login_username)
            .field(
                "login_password",
                &self.login_password.as_ref().map(|_| "<sensitive>"),
            )
            .finish()
    }
}

/// `post-processor "docker-push"`.
#[derive(Debug, Default)]
pub struct Push {
    cfg: PushConfig,
    settings: Arc<crate::Settings>,
}

#[async_trait]
impl PostProcessor for Push {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        let ecr = [
            ("ecr_login", self.cfg.ecr_login.is_some()),
            ("aws_access_key", self.cfg.aws_access_key.is_some()),
            ("aws_secret_key", self.cfg.aws_secret_key.is_some()),
            ("aws_token", self.cfg.aws_token.is_some()),
            ("aws_profile", self.cfg.aws_profile.is_some()),
            (
                "aws_force_use_public_ecr",
                self.cfg.aws_force_use_public_ecr.is_some(),
            ),
        ];
        if let Some((key, _)) = ecr.iter().find(|(_, set)| *set) {
            return Err(config
                .error_at(
                    key,
                    "Invalid docker-push configuration",
                    format!("{key}: Amazon ECR login is not supported by Kiln's docker-push yet; log in with login = true, login_server, login_username = \"AWS\" and login_password (the output of `aws ecr get-login-password`)"),
                )
                .into());
        }
        Ok(Vec::new())
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let from = artifact.builder_id();
        if !IMAGES.contains(&from.as_str()) {
            return Err(failed(
                "docker-push",
                format!("Unknown artifact type: {from}\nCan only import from docker-import and docker-tag artifacts."),
            ));
        }
        if let Some(pw) = &self.cfg.login_password {
            ctx.ui.add_secret(pw);
        }
        let docker = connect().await?;
        for secret in self.settings.secrets() {
            ctx.ui.add_secret(secret);
        }
        let credentials = |name: &str| {
            if !self.cfg.login {
                return self.settings.credentials_for(name);
            }
            crate::credentials_for(
                name,
                self.cfg.login_server.as_deref(),
                self.cfg.login_username.as_deref(),
                self.cfg.login_password.as_deref(),
            )
        };
        let names: Vec<String> = artifact
            .state("tags")
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_else(|| vec![artifact.id()]);
        for name in &names {
            ctx.ui.message(format!("Pushing: {name}"));
            let (repo, tag) = crate::name_and_tag(name);
            let mut push = docker.push_image(
                repo,
                Some(bollard::query_parameters::PushImageOptions {
                    tag: tag.map(str::to_string),
                    platform: self.cfg.platform.clone(),
                }),
                credentials(name),
            );
            while let Some(item) = push.next().await {
                let info = item.map_err(|e| {
                    failed(
                        "docker-push",
                        format!("Error pushing: {}", engine_message(&e)),
                    )
                })?;
                if let Some(m) = info.error_detail.and_then(|d| d.message) {
                    return Err(failed("docker-push", format!("Error pushing: {m}")));
                }
                if let Some(s) = info
                    .status
                    .filter(|s| s.starts_with("latest:") || s.contains("digest:"))
                {
                    ctx.ui.message(s);
                }
            }
        }
        Ok(PostProcessed {
            artifact,
            keep_input: true,
            force_keep: false,
        })
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SaveConfig {
    path: String,
    docker_path: Option<String>,
}

/// `post-processor "docker-save"`.
#[derive(Debug, Default)]
pub struct Save {
    cfg: SaveConfig,
}

#[async_trait]
impl PostProcessor for Save {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        required(config, "docker-save", "path", &self.cfg.path)?;
        Ok(Vec::new())
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let from = artifact.builder_id();
        if !IMAGES.contains(&from.as_str()) || artifact.state("ImageSha256").is_none() {
            return Err(failed(
                "docker-save",
                format!("Unknown artifact type: {from}\nCan only save Docker builder artifacts."),
            ));
        }
        let docker = connect().await?;
        // As Packer's: the artifact's id, the image's id or its last tag.
        let names = [artifact.id()];
        let path = &self.cfg.path;
        ctx.ui
            .message(format!("Saving image: {}", names.join(", ")));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let stream = docker
            .export_images(&refs)
            .map(|c| c.map_err(|e| format!("Error saving image: {}", engine_message(&e))));
        crate::write_atomically(ctx, path, "partial docker-save tarball", stream)
            .await
            .map_err(|m| failed("docker-save", m))?;
        ctx.ui.message(format!("Saved to: {path}"));
        // As Packer's: the image goes on down the chain (docker-tag, docker-push after it).
        Ok(PostProcessed {
            artifact,
            keep_input: true,
            force_keep: false,
        })
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ImportConfig {
    repository: String,
    tag: Option<String>,
    changes: Vec<String>,
    platform: Option<String>,
    docker_path: Option<String>,
}

/// `post-processor "docker-import"`.
#[derive(Debug, Default)]
pub struct Import {
    cfg: ImportConfig,
}

#[async_trait]
impl PostProcessor for Import {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        required(config, "docker-import", "repository", &self.cfg.repository)?;
        Ok(Vec::new())
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let files = artifact.files();
        let from = artifact.builder_id();
        let Some(tarball) = files
            .first()
            .filter(|_| from == BUILDER_ID || from == "packer.post-processor.artifice")
        else {
            return Err(failed(
                "docker-import",
                format!("Unknown artifact type: {from}\nCan only import from Docker builder and Artifice post-processor artifacts. If you are getting this error after having run the docker builder, it may be because you set commit: true in your Docker builder, so the image is already imported. "),
            ));
        };
        let name = match &self.cfg.tag {
            Some(t) if !t.is_empty() => format!("{}:{t}", self.cfg.repository),
            _ => self.cfg.repository.clone(),
        };
        ctx.ui
            .message(format!("Importing image: {}", artifact.id()));
        ctx.ui.message(format!("Repository: {name}"));
        let docker = connect().await?;
        let (repo, tag) = crate::split_tag(&name);
        let file = tokio::fs::File::open(tarball)
            .await
            .map_err(|e| failed("docker-import", format!("opening {tarball}: {e}")))?;
        let body = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
        let mut stream = docker.create_image(
            Some(bollard::query_parameters::CreateImageOptions {
                from_src: Some("-".into()),
                repo: Some(repo.to_string()),
                tag: tag.map(str::to_string),
                changes: self.cfg.changes.clone(),
                platform: self.cfg.platform.clone().unwrap_or_default(),
                ..Default::default()
            }),
            Some(bollard::body_try_stream(body)),
            None,
        );
        let mut id = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| {
                failed(
                    "docker-import",
                    format!("Error importing container: {}", engine_message(&e)),
                )
            })?;
            if let Some(m) = info.error_detail.and_then(|d| d.message) {
                return Err(failed(
                    "docker-import",
                    format!("Error importing container: {m}"),
                ));
            }
            if let Some(s) = info.status.filter(|s| s.starts_with("sha256:")) {
                id = Some(s);
            }
        }
        let id = id.unwrap_or_else(|| name.clone());
        ctx.ui.message(format!("Imported ID: {id}"));
        Ok(PostProcessed {
            artifact: Arc::new(ImageArtifact {
                id,
                docker,
                builder_id: IMPORT_ID.into(),
                description: format!("Imported Docker image: {name}"),
                tags: vec![name.clone()],
                name,
            }),
            keep_input: false,
            force_keep: false,
        })
    }
}

//! Recording a run's builds in the image catalog: one version per bucket (the build's
//! `hcp_packer_registry` `bucket_name`, else its build block's name when it has a registry
//! block, else the build's name), with its artifacts, documents (SBOMs, test reports), the
//! template's provenance and the non-sensitive variables. The `kiln` command and
//! [`crate::Run::finish`] both record through [`record`].

use kiln_catalog::record::{NewArtifact, NewBuild};
use kiln_catalog::{Actor, BuildStatus, Catalog, CatalogError, Parent, Version};
use kiln_core::plan::RegistrySpec;
use kiln_template::Template;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One finished build, as the catalog records it.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The build's name (`type.name`).
    pub name: String,
    /// Its source type (`qemu`).
    pub source_type: String,
    /// When it started and ended.
    pub started: SystemTime,
    /// When it ended.
    pub finished: SystemTime,
    /// Its artifacts, or its error (already free of secrets).
    pub result: Result<Vec<kiln_core::event::ArtifactInfo>, String>,
    /// Documents the build handed over about its image (`EventKind::Document`).
    pub documents: Vec<kiln_catalog::documents::NewDocument>,
}

impl Finished {
    /// Keeps a [`kiln_core::EventKind::Document`] event's document for the build it came from.
    pub fn document(&mut self, kind: &str, name: &str, content: &str) {
        self.documents.push(kiln_catalog::documents::NewDocument {
            kind: kind.to_string(),
            name: name.to_string(),
            content: content.to_string(),
        });
    }
}

/// What the catalog records of a template: its non-sensitive variables, and each build's
/// registry settings (bucket, labels, description).
#[derive(Debug, Clone)]
pub struct Subject {
    variables: serde_json::Map<String, serde_json::Value>,
    /// Build name → (its `hcp_packer_registry`, its build block's name).
    builds: Vec<(String, Option<RegistrySpec>, Option<String>)>,
}

impl Subject {
    /// What `t` tells the catalog.
    #[must_use]
    pub fn of(t: &Template) -> Self {
        Subject {
            variables: t
                .variables
                .values()
                .filter(|v| !v.sensitive)
                .map(|v| {
                    (
                        v.name.clone(),
                        v.value
                            .as_ref()
                            .and_then(|x| serde_json::to_value(x).ok())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            builds: t
                .plan
                .builds
                .iter()
                .map(|b| {
                    (
                        b.name.clone(),
                        b.registry.clone(),
                        b.build_block_name.clone(),
                    )
                })
                .collect(),
        }
    }
}

/// Who records, and where the run's relative paths are from.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// The template paths as given (hashed, and the git commit of their repository found).
    pub paths: Vec<PathBuf>,
    /// The directory relative artifact files are relative to.
    pub cwd: PathBuf,
    /// The user and host recorded as the actor.
    pub actor: Actor,
    /// The version this build was made from (a `kiln-image` data source's), if any.
    pub parent: Option<Parent>,
}

/// Records `builds` of `t`: one version per bucket, in the order first seen. A run that was
/// cancelled records its failures as cancelled.
///
/// # Errors
/// The catalog's, at the first version it could not record.
pub async fn record(
    cat: &Catalog,
    t: &Subject,
    builds: Vec<Finished>,
    cancelled: bool,
    p: &Provenance,
) -> Result<Vec<(String, Version)>, CatalogError> {
    let (template_hash, git_commit) = kiln_catalog::record::provenance(&p.paths);
    let variables = &t.variables;
    let mut groups: Vec<(String, Vec<Finished>)> = Vec::new();
    let mut specs = std::collections::HashMap::new();
    for b in builds {
        let pb = t.builds.iter().find(|x| x.0 == b.name);
        let reg = pb.and_then(|x| x.1.clone());
        let bucket = reg
            .as_ref()
            .and_then(|r| r.bucket_name.clone())
            .or_else(|| reg.as_ref().and(pb.and_then(|x| x.2.clone())))
            .unwrap_or_else(|| b.name.clone());
        specs.entry(bucket.clone()).or_insert(reg);
        match groups.iter_mut().find(|(k, _)| *k == bucket) {
            Some((_, v)) => v.push(b),
            None => groups.push((bucket, vec![b])),
        }
    }
    let mut recorded = Vec::new();
    for (bucket, builds) in groups {
        let reg = specs.remove(&bucket).flatten().unwrap_or_default();
        let labels = |l: &[(String, String)]| {
            if l.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::Value::Object(
                    l.iter()
                        .map(|(k, v)| (k.clone(), v.clone().into()))
                        .collect(),
                )
            }
        };
        let errors: Vec<String> = builds
            .iter()
            .filter_map(|b| b.result.as_ref().err().map(|e| format!("{}: {e}", b.name)))
            .collect();
        let status = if errors.is_empty() {
            BuildStatus::Succeeded
        } else if cancelled {
            BuildStatus::Cancelled
        } else {
            BuildStatus::Failed
        };
        // An artifact a post-processor passes through (manifest) is listed again, as Packer
        // lists it; the catalog keeps it once.
        let artifacts: Vec<NewArtifact> = builds
            .iter()
            .flat_map(|b| {
                let list = b.result.as_ref().ok().into_iter().flatten();
                list.enumerate()
                    .filter(|(i, a)| !b.result.as_ref().is_ok_and(|all| all[..*i].contains(a)))
                    .map(|(_, a)| NewArtifact {
                        build_name: b.name.clone(),
                        builder_type: b.source_type.clone(),
                        builder_id: a.builder_id.clone(),
                        id: a.id.clone(),
                        files: a.files.iter().map(|f| absolute(&p.cwd, f)).collect(),
                        state: a.catalog.clone(),
                    })
            })
            .collect();
        let nb = NewBuild {
            bucket: bucket.clone(),
            bucket_description: reg.description.clone(),
            bucket_labels: labels(&reg.bucket_labels),
            build_labels: labels(&reg.build_labels),
            build_names: builds.iter().map(|b| b.name.clone()).collect(),
            status,
            error: (!errors.is_empty()).then(|| errors.join("\n")),
            started_at: builds
                .iter()
                .map(|b| b.started)
                .min()
                .unwrap_or_else(SystemTime::now)
                .into(),
            finished_at: builds
                .iter()
                .map(|b| b.finished)
                .max()
                .unwrap_or_else(SystemTime::now)
                .into(),
            artifacts,
            parent: p.parent.clone(),
            metadata: serde_json::json!({
                "template": p.paths.iter().map(|x| x.display().to_string()).collect::<Vec<_>>(),
                "template_sha256": template_hash,
                "git_commit": git_commit,
                "variables": variables,
                "kiln_version": kiln_core::VERSION,
                "user": p.actor.user,
                "host": p.actor.host,
            }),
            documents: builds
                .iter()
                .flat_map(|b| b.documents.iter().cloned())
                .collect(),
        };
        let v = cat.record(nb).await?;
        recorded.push((bucket, v));
    }
    Ok(recorded)
}

/// `f` relative to `cwd` made absolute, so that the catalog can find it from anywhere later.
fn absolute(cwd: &Path, f: &str) -> String {
    let p = Path::new(f);
    if p.is_absolute() {
        f.to_string()
    } else {
        cwd.join(p).display().to_string()
    }
}

/// The line that says where a version was recorded.
#[must_use]
pub fn describe(cat: &Catalog, bucket: &str, v: &Version) -> String {
    match v.number {
        Some(n) => format!(
            "Recorded {bucket} v{n} ({}) in the catalog {}",
            v.fingerprint,
            cat.describe()
        ),
        None => format!(
            "Recorded the {} build of {bucket} ({}) in the catalog {}",
            v.status.as_str(),
            v.fingerprint,
            cat.describe()
        ),
    }
}

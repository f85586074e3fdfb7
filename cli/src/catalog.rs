//! The catalog as the CLI uses it: where it is (`--catalog`, `KILN_CATALOG`, else
//! `$XDG_DATA_HOME/kiln/catalog.db`), who is acting, recording a finished `kiln build`, and the
//! `kiln-image` data source.

use kiln_catalog::record::{NewArtifact, NewBuild};
use kiln_catalog::{Actor, BuildStatus, Catalog, Location, Options, Parent};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The user's data directory for Kiln: `$XDG_DATA_HOME/kiln`, else `~/.local/share/kiln`.
fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share")
        })
        .join("kiln")
}

/// Where the catalog is, or `None` when recording is off (`--no-catalog`, `KILN_CATALOG=off`).
pub fn location(flag: Option<&str>) -> Option<Location> {
    let spec = flag
        .map(String::from)
        .or_else(|| std::env::var("KILN_CATALOG").ok())
        .filter(|s| !s.is_empty());
    match spec.as_deref() {
        Some("off" | "none") => None,
        Some(s) => Some(Location::parse(s)),
        None => Some(Location::Sqlite(data_dir().join("catalog.db"))),
    }
}

fn actor() -> Actor {
    let user = ["KILN_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    Actor { user, host }
}

/// The effects of cloud artifacts built into this binary.
pub(crate) fn lifecycles() -> Vec<Arc<dyn kiln_core::lifecycle::ImageLifecycle>> {
    vec![
        #[cfg(feature = "amazon")]
        Arc::new(kiln_builder_amazon::lifecycle::AmazonLifecycle),
    ]
}

/// Opens the catalog at `loc`.
pub async fn open(loc: Location) -> Result<Catalog, kiln_catalog::CatalogError> {
    let archive_dir = match &loc {
        Location::Sqlite(p) => p
            .parent()
            .map_or_else(|| PathBuf::from("archive"), |d| d.join("archive")),
        Location::Postgres(_) => data_dir().join("archive"),
    };
    Catalog::open(Options {
        location: loc,
        actor: actor(),
        archive_dir,
        busy_timeout: Duration::from_secs(30),
        lifecycles: lifecycles(),
    })
    .await
}

/// Parents the `kiln-image` data source resolved while the template loaded.
pub static PARENTS: Mutex<Vec<Parent>> = Mutex::new(Vec::new());

/// The `kiln-image` data source: `bucket`, and `channel` or `version`, to the image's id
/// (`region` picks one region of a multi-region artifact).
pub fn data_source(
    loc: Option<Location>,
) -> impl Fn(&serde_json::Value) -> Result<serde_json::Value, String> + Send + Sync + 'static {
    move |args| {
        let loc = loc.clone().ok_or("the catalog is off (--no-catalog or KILN_CATALOG=off), so kiln-image cannot resolve anything")?;
        let s = |k: &str| {
            args.get(k)
                .and_then(serde_json::Value::as_str)
                .map(String::from)
        };
        let bucket = s("bucket").ok_or("kiln-image needs bucket = \"NAME\"")?;
        let channel = s("channel");
        let version = s("version").or_else(|| {
            args.get("version")
                .and_then(serde_json::Value::as_i64)
                .map(|n| n.to_string())
        });
        let region = s("region");
        if channel.is_some() == version.is_some() {
            return Err("kiln-image needs one of channel = \"NAME\" or version = N".into());
        }
        // Templates load inside `kiln build`'s runtime: resolve on a thread of our own.
        std::thread::scope(|scope| {
            scope
                .spawn(|| resolve(loc, bucket, channel, version, region))
                .join()
                .unwrap_or_else(|_| Err("the kiln-image lookup failed".into()))
        })
    }
}

fn resolve(
    loc: Location,
    bucket: String,
    channel: Option<String>,
    version: Option<String>,
    region: Option<String>,
) -> Result<serde_json::Value, String> {
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let cat = open(loc).await.map_err(|e| e.to_string())?;
            let v = match &channel {
                Some(c) => cat.channel(&bucket, c).await,
                None => cat.version(&bucket, version.as_deref().unwrap_or_default()).await,
            }
            .map_err(|e| e.to_string())?;
            let now = time::OffsetDateTime::now_utc();
            if let Some(r) = cat.revocation(&v, now).await.map_err(|e| e.to_string())? {
                return Err(match r.inherited_from {
                    Some(a) => format!("{bucket} {} is revoked (it was built from {a}, which is revoked): {}; build from another version", v.label(), r.reason),
                    None => format!("{bucket} {} is revoked: {}; build from another version", v.label(), r.reason),
                });
            }
            if matches!(v.state, kiln_catalog::State::Disabled | kiln_catalog::State::Deleted) {
                return Err(format!("{bucket} {} is {}; build from another version", v.label(), v.state.as_str()));
            }
            let a = v.artifacts.first().ok_or_else(|| format!("{bucket} {} has no artifact", v.label()))?;
            let id = image_id(a, region.as_deref())?;
            PARENTS.lock().expect("parents").push(Parent {
                bucket: bucket.clone(),
                fingerprint: v.fingerprint.clone(),
                channel: channel.clone(),
            });
            Ok(serde_json::json!({
                "id": id,
                "artifact_id": a.id,
                "builder_id": a.builder_id,
                "files": a.files,
                "version": v.number,
                "fingerprint": v.fingerprint,
                "bucket": bucket,
                "channel": channel,
                "labels": v.labels,
            }))
        })
    }
}

/// The image id of an artifact: one region's AMI for a cloud artifact (the only region when
/// `region` is not given), else the artifact id.
pub fn image_id(a: &kiln_catalog::ArtifactRecord, region: Option<&str>) -> Result<String, String> {
    let amis = a.state.get("amis").and_then(serde_json::Value::as_object);
    match (amis, region) {
        (Some(m), Some(r)) => m
            .get(r)
            .and_then(serde_json::Value::as_str)
            .map(String::from)
            .ok_or_else(|| {
                format!(
                    "{} has no image in region {r}; it has: {}",
                    a.id,
                    m.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            }),
        (Some(m), None) if m.len() == 1 => Ok(m
            .values()
            .next()
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()),
        (Some(m), None) => Err(format!(
            "{} is in several regions ({}); choose one with --region / region",
            a.id,
            m.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        (None, Some(r)) => Err(format!(
            "{} is not a cloud image, it has no region {r}",
            a.id
        )),
        // Local images: the file, when the id is not already one of them (the file builder's id
        // is the word "File").
        (None, None) if a.files.is_empty() || a.files.contains(&a.id) => Ok(a.id.clone()),
        (None, None) => Ok(a.files[0].clone()),
    }
}

/// `f` relative to the working directory made absolute, so that the catalog can find it from
/// anywhere later.
fn absolute(f: &str) -> String {
    let p = std::path::Path::new(f);
    if p.is_absolute() {
        return f.to_string();
    }
    std::env::current_dir().map_or_else(|_| f.to_string(), |d| d.join(p).display().to_string())
}

/// What the CLI knows of one finished build.
pub struct Finished {
    pub name: String,
    pub source_type: String,
    pub started: SystemTime,
    pub finished: SystemTime,
    pub result: Result<Vec<kiln_core::event::ArtifactInfo>, String>,
    /// Documents the build handed over about its image (`EventKind::Document`).
    pub documents: Vec<kiln_catalog::documents::NewDocument>,
}

/// Records the run's builds: one version per bucket. Returns lines to print.
pub async fn record(
    loc: Location,
    t: &kiln_template::Template,
    paths: &[PathBuf],
    builds: Vec<Finished>,
    cancelled: bool,
) -> Result<Vec<String>, String> {
    let cat = open(loc).await.map_err(|e| e.to_string())?;
    let (template_hash, git_commit) = kiln_catalog::record::provenance(paths);
    let variables: serde_json::Map<String, serde_json::Value> = t
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
        .collect();
    let actor = actor();
    let parent = PARENTS.lock().expect("parents").first().cloned();
    let mut groups: indexmap::IndexMap<String, Vec<Finished>> = indexmap::IndexMap::new();
    let mut specs = std::collections::HashMap::new();
    for b in builds {
        let pb = t.plan.builds.iter().find(|p| p.name == b.name);
        let reg = pb.and_then(|p| p.registry.clone());
        let bucket = reg
            .as_ref()
            .and_then(|r| r.bucket_name.clone())
            .or_else(|| {
                reg.as_ref()
                    .and(pb.and_then(|p| p.build_block_name.clone()))
            })
            .unwrap_or_else(|| b.name.clone());
        specs.entry(bucket.clone()).or_insert(reg);
        groups.entry(bucket).or_default().push(b);
    }
    let mut lines = Vec::new();
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
        let artifacts: Vec<NewArtifact> = builds
            .iter()
            .flat_map(|b| {
                b.result
                    .as_ref()
                    .ok()
                    .into_iter()
                    .flatten()
                    .map(|a| NewArtifact {
                        build_name: b.name.clone(),
                        builder_type: b.source_type.clone(),
                        builder_id: a.builder_id.clone(),
                        id: a.id.clone(),
                        files: a.files.iter().map(|f| absolute(f)).collect(),
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
            parent: parent.clone(),
            metadata: serde_json::json!({
                "template": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "template_sha256": template_hash,
                "git_commit": git_commit,
                "variables": variables,
                "kiln_version": kiln_core::VERSION,
                "user": actor.user,
                "host": actor.host,
            }),
            documents: builds
                .iter()
                .flat_map(|b| b.documents.iter().cloned())
                .collect(),
        };
        let v = cat.record(nb).await.map_err(|e| e.to_string())?;
        lines.push(match v.number {
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
        });
    }
    Ok(lines)
}

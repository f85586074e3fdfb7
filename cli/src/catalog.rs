//! The catalog as the CLI uses it: where it is (`--catalog`, `KILN_CATALOG`, else
//! `$XDG_DATA_HOME/kiln/catalog.db`), who is acting, recording a finished `kiln build`, and the
//! `kiln-image` data source.

use kiln_catalog::{Actor, Catalog, Location, Options, Parent};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
        #[cfg(feature = "docker")]
        Arc::new(kiln_builder_docker::lifecycle::DockerLifecycle),
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

/// What the CLI knows of one finished build.
pub use kiln_engine::record::Finished;

/// Records the run's builds (through the engine's [`kiln_engine::record::record`]): one
/// version per bucket. Returns lines to print.
pub async fn record(
    loc: Location,
    t: &kiln_template::Template,
    paths: &[PathBuf],
    builds: Vec<Finished>,
    cancelled: bool,
) -> Result<Vec<String>, String> {
    let cat = open(loc).await.map_err(|e| e.to_string())?;
    let provenance = kiln_engine::record::Provenance {
        paths: paths.to_vec(),
        cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        actor: actor(),
        parent: PARENTS.lock().expect("parents").first().cloned(),
    };
    let subject = kiln_engine::record::Subject::of(t);
    let recorded = kiln_engine::record::record(&cat, &subject, builds, cancelled, &provenance)
        .await
        .map_err(|e| e.to_string())?;
    Ok(recorded
        .iter()
        .map(|(bucket, v)| kiln_engine::record::describe(&cat, bucket, v))
        .collect())
}

//! The catalog's behaviour, run once against embedded SQLite and once against a real PostgreSQL
//! server (started by the test; `scripts/deps --tests` installs it).

use kiln_catalog::lifecycle::Op;
use kiln_catalog::record::{NewArtifact, NewBuild};
use kiln_catalog::{Actor, BuildStatus, Catalog, CatalogError, Location, Options, Parent, State};
use kiln_core::lifecycle::{ImageLifecycle, Publication, StoredArtifact, Transition};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;

/// One backend under test, with a way to change its rows behind the catalog's back.
enum Fixture {
    Sqlite(tempfile::TempDir),
    Postgres(tempfile::TempDir, kiln_tests::Postgres),
}

impl Fixture {
    fn sqlite() -> Fixture {
        Fixture::Sqlite(tempfile::tempdir().unwrap())
    }
    fn postgres() -> Fixture {
        Fixture::Postgres(tempfile::tempdir().unwrap(), kiln_tests::Postgres::start())
    }
    fn dir(&self) -> &Path {
        match self {
            Fixture::Sqlite(d) | Fixture::Postgres(d, _) => d.path(),
        }
    }
    fn location(&self) -> Location {
        match self {
            Fixture::Sqlite(d) => Location::Sqlite(d.path().join("catalog.db")),
            Fixture::Postgres(_, pg) => Location::Postgres(pg.url()),
        }
    }
    fn options(&self, user: &str) -> Options {
        Options {
            location: self.location(),
            actor: Actor {
                user: user.into(),
                host: "ci-1".into(),
            },
            archive_dir: self.dir().join("archive"),
            busy_timeout: Duration::from_secs(10),
            lifecycles: Vec::new(),
        }
    }
    async fn open(&self) -> Catalog {
        Catalog::open(self.options("alice")).await.unwrap()
    }
    async fn open_with(&self, cloud: Arc<Cloud>) -> Catalog {
        let mut o = self.options("alice");
        o.lifecycles.push(cloud);
        Catalog::open(o).await.unwrap()
    }
    /// Runs SQL directly on the storage.
    fn sql(&self, sql: &str) {
        match self {
            Fixture::Sqlite(d) => {
                let c = rusqlite::Connection::open(d.path().join("catalog.db")).unwrap();
                c.execute_batch(sql).unwrap();
            }
            Fixture::Postgres(_, pg) => {
                pg.psql(sql);
            }
        }
    }
}

fn t(minute: u8) -> OffsetDateTime {
    datetime!(2026-12-01 10:00 UTC) + time::Duration::minutes(i64::from(minute))
}

fn build(bucket: &str, minute: u8, file: Option<PathBuf>) -> NewBuild {
    NewBuild {
        bucket: bucket.into(),
        bucket_description: None,
        bucket_labels: serde_json::Value::Null,
        build_labels: serde_json::json!({"os": "debian"}),
        build_names: vec![format!("file.{bucket}")],
        status: BuildStatus::Succeeded,
        error: None,
        started_at: t(minute),
        finished_at: t(minute) + time::Duration::seconds(5),
        artifacts: vec![NewArtifact {
            build_name: format!("file.{bucket}"),
            builder_type: "file".into(),
            builder_id: "packer.file".into(),
            id: file
                .as_ref()
                .map_or_else(|| "none".into(), |f| f.display().to_string()),
            files: file.iter().map(|f| f.display().to_string()).collect(),
            state: serde_json::Value::Null,
        }],
        parent: None,
        metadata: serde_json::json!({"template": "web.pkr.hcl"}),
        documents: Vec::new(),
    }
}

/// A stand-in for a cloud, for what moto cannot show: it reports when images were last launched
/// (moto answers DescribeImageAttribute lastLaunchedTime with a 500) and keeps its parameters.
#[derive(Default)]
struct Cloud {
    launched: Vec<(String, OffsetDateTime)>,
    parameters: Mutex<Vec<(String, String)>>,
    /// The next transition fails in the second region, after the first was done.
    fail_once: Mutex<bool>,
}

#[async_trait::async_trait]
impl ImageLifecycle for Cloud {
    fn handles(&self, builder_id: &str) -> bool {
        builder_id == "test.cloud"
    }
    async fn apply(
        &self,
        a: &StoredArtifact,
        t: &Transition,
        calls: &mut Vec<String>,
    ) -> Result<(), String> {
        let amis: std::collections::BTreeMap<String, String> =
            serde_json::from_value(a.state["amis"].clone()).unwrap_or_default();
        for (region, id) in amis {
            if region == "r2" && std::mem::take(&mut *self.fail_once.lock().unwrap()) {
                return Err(format!("{region}: the cloud refused"));
            }
            calls.push(format!("cloud:{t:?} {region} {id}"));
        }
        Ok(())
    }
    async fn last_launched(&self, a: &StoredArtifact) -> Result<Option<OffsetDateTime>, String> {
        Ok(self.launched.iter().find(|l| l.0 == a.id).map(|l| l.1))
    }
    async fn publish(
        &self,
        a: &StoredArtifact,
        p: &Publication,
        calls: &mut Vec<String>,
    ) -> Result<(), String> {
        let amis: std::collections::BTreeMap<String, String> =
            serde_json::from_value(a.state["amis"].clone()).unwrap();
        for (region, id) in amis {
            if p.regions.is_empty() || p.regions.contains(&region) {
                self.parameters
                    .lock()
                    .unwrap()
                    .push((format!("{region}:{}", p.parameter), id.clone()));
                calls.push(format!("cloud:put {region} {}={id}", p.parameter));
            }
        }
        Ok(())
    }
}

/// A build of images in two regions of the stand-in cloud: `img-N-r1` and `img-N-r2`.
fn cloud_build(bucket: &str, minute: u8) -> NewBuild {
    let mut b = build(bucket, minute, None);
    let id = format!("img-{minute}");
    b.artifacts[0].builder_id = "test.cloud".into();
    b.artifacts[0].builder_type = "cloud".into();
    b.artifacts[0].id = format!("r1:{id}-r1,r2:{id}-r2");
    b.artifacts[0].state =
        serde_json::json!({"amis": {"r1": format!("{id}-r1"), "r2": format!("{id}-r2")}});
    b
}

async fn publications_follow_their_channel(f: Fixture) {
    let cloud = Arc::new(Cloud::default());
    let c = f.open_with(cloud.clone()).await;
    for m in 1..=2 {
        c.record(cloud_build("web", m)).await.unwrap();
    }
    c.record(build("web", 3, None)).await.unwrap();
    let p = |name: &str, regions: &[&str]| Publication {
        parameter: name.into(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
    };
    assert_eq!(
        err(c.publish("web", "prod", &p("/web", &[]), t(4)).await.unwrap_err()),
        "bucket \"web\" has no channel \"prod\"; promote a version to create it (kiln images promote web VERSION --channel prod)"
    );
    c.promote("web", "1", "prod", t(4)).await.unwrap();
    let calls = c
        .publish("web", "prod", &p("/web", &[]), t(5))
        .await
        .unwrap();
    assert_eq!(
        calls,
        ["cloud:put r1 /web=img-1-r1", "cloud:put r2 /web=img-1-r2"]
    );
    c.publish("web", "prod", &p("/web-r2", &["r2"]), t(5))
        .await
        .unwrap();
    assert_eq!(
        err(c
            .publish("web", "prod", &p("/x", &["r3"]), t(5))
            .await
            .unwrap_err()),
        "cannot publish web v1 to /x: it has no image in r3 (its regions: r1, r2)"
    );
    let a = c.promote("web", "2", "prod", t(6)).await.unwrap();
    assert_eq!(
        a.published,
        [
            "cloud:put r1 /web=img-2-r1",
            "cloud:put r2 /web=img-2-r2",
            "cloud:put r2 /web-r2=img-2-r2"
        ]
    );
    let a = c.rollback("web", "prod", t(7)).await.unwrap();
    assert_eq!(a.published.len(), 3);
    assert_eq!(
        cloud.parameters.lock().unwrap().last().unwrap(),
        &("r2:/web-r2".to_string(), "img-1-r2".to_string())
    );
    let listed: Vec<(String, Vec<String>)> = c
        .publications("web", None)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.parameter, p.regions))
        .collect();
    assert_eq!(
        listed,
        [
            ("/web".into(), vec![]),
            ("/web-r2".into(), vec!["r2".to_string()])
        ]
    );
    c.unpublish("web", "prod", "/web-r2", t(8)).await.unwrap();
    assert_eq!(
        err(c
            .unpublish("web", "prod", "/web-r2", t(8))
            .await
            .unwrap_err()),
        "channel prod of web is not published to /web-r2"
    );
    // A channel of local files has nothing a parameter store could point at.
    c.promote("web", "3", "dev", t(9)).await.unwrap();
    assert_eq!(
        err(c.publish("web", "dev", &p("/dev", &[]), t(9)).await.unwrap_err()),
        "cannot publish web v3 to /dev: none of its artifacts (file) lives where a parameter store can point at it; only AMIs (amazon-ebs) can be published"
    );
    // 3 records, a promotion, 2 publications, a promotion and a rollback with 2 publishes
    // each, an unpublish and a promotion to dev.
    assert_eq!(
        c.verify_audit().await.unwrap(),
        Ok(3 + 1 + 2 + 3 + 3 + 1 + 1)
    );
}

async fn retention_spares_images_launched_recently(f: Fixture) {
    let day = time::Duration::days(1);
    let now = t(0) + day * 100;
    // img-2 was launched from yesterday: the cloud still uses it.
    let cloud = Arc::new(Cloud {
        launched: vec![("r1:img-2-r1,r2:img-2-r2".into(), now - day)],
        ..Cloud::default()
    });
    let c = f.open_with(cloud).await;
    for m in 1..=3u8 {
        let mut b = cloud_build("web", m);
        b.finished_at = t(0) + day * i32::from(m);
        c.record(b).await.unwrap();
    }
    let policy = kiln_catalog::retention::Policy::parse(
        "retention.hcl",
        "bucket \"web\" {\n  keep_newest     = 1\n  delete_after    = \"90d\"\n}\n",
    )
    .unwrap();
    let plan = c.prune_plan(&policy, now).await.unwrap();
    let shown: Vec<String> = plan
        .iter()
        .map(|s| format!("v{}: {}", s.version, s.action))
        .collect();
    assert_eq!(shown, ["v1: delete"]);
    let done = c.prune(&plan, now).await.unwrap();
    assert_eq!(done[0].state, State::Deleted);
    let log = c.audit(None).await.unwrap();
    assert!(
        log.last()
            .unwrap()
            .detail
            .contains("cloud:Delete r2 img-1-r2"),
        "{:?}",
        log.last()
    );
}

async fn a_transition_cut_short_keeps_the_version_and_audits_the_calls_made(f: Fixture) {
    let cloud = Arc::new(Cloud::default());
    let c = f.open_with(cloud.clone()).await;
    c.record(cloud_build("web", 1)).await.unwrap();
    *cloud.fail_once.lock().unwrap() = true;
    assert_eq!(
        err(c.apply("web", "1", Op::Delete, t(2)).await.unwrap_err()),
        "web v1: r1:img-1-r1,r2:img-1-r2: r2: the cloud refused"
    );
    assert_eq!(c.version("web", "1").await.unwrap().state, State::Active);
    let log = c.audit(None).await.unwrap();
    let last = log.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.version.as_str()),
        ("delete-failed", "v1")
    );
    let detail: serde_json::Value = serde_json::from_str(&last.detail).unwrap();
    assert_eq!(
        detail["calls"],
        serde_json::json!(["cloud:Delete r1 img-1-r1"])
    );
    assert_eq!(
        detail["error"],
        "web v1: r1:img-1-r1,r2:img-1-r2: r2: the cloud refused"
    );
    // Running it again finishes it.
    let v = c.apply("web", "1", Op::Delete, t(3)).await.unwrap();
    assert_eq!(v.state, State::Deleted);
    assert_eq!(c.verify_audit().await.unwrap(), Ok(3));
}

fn err(e: CatalogError) -> String {
    e.to_string()
}

async fn records_versions_in_order(f: Fixture) {
    let c = f.open().await;
    let img = f.dir().join("disk.img");
    std::fs::write(&img, b"image bytes").unwrap();
    let v1 = c.record(build("web", 1, Some(img.clone()))).await.unwrap();
    let mut failed = build("web", 2, None);
    failed.status = BuildStatus::Failed;
    failed.error = Some("provisioner failed".into());
    let f2 = c.record(failed).await.unwrap();
    let v2 = c.record(build("web", 3, None)).await.unwrap();
    assert_eq!((v1.number, f2.number, v2.number), (Some(1), None, Some(2)));
    assert_eq!(f2.error.as_deref(), Some("provisioner failed"));
    assert_eq!(v1.fingerprint.len(), 26);
    let a = &v1.artifacts[0];
    assert_eq!(a.size, Some(11));
    assert_eq!(
        a.checksum.as_deref(),
        Some("sha256:de7030234493a8bea844dbe1d8676e68a2c1a4b014c721f0425a22b6df66faec")
    );
    let listed: Vec<Option<i64>> = c
        .versions("web", false)
        .await
        .unwrap()
        .iter()
        .map(|v| v.number)
        .collect();
    assert_eq!(listed, vec![Some(2), Some(1)]);
    assert_eq!(c.versions("web", true).await.unwrap().len(), 3);
    assert_eq!(c.version("web", "latest").await.unwrap().number, Some(2));
    assert_eq!(
        c.version("web", &v1.fingerprint.to_lowercase())
            .await
            .unwrap()
            .number,
        Some(1)
    );
    assert_eq!(
        err(c.version("web", "7").await.unwrap_err()),
        "bucket \"web\" has no version \"7\"; its versions are v1 to v2"
    );
    assert_eq!(
        err(c.version("api", "1").await.unwrap_err()),
        "no bucket \"api\"; the catalog has: web"
    );
    let b = c.buckets().await.unwrap();
    assert_eq!(
        (b[0].name.as_str(), b[0].versions, b[0].latest),
        ("web", 2, Some(2))
    );
}

async fn channels_promote_and_roll_back(f: Fixture) {
    let c = f.open().await;
    for m in 1..=3 {
        c.record(build("web", m, None)).await.unwrap();
    }
    for v in ["1", "2", "3"] {
        c.promote("web", v, "production", t(10)).await.unwrap();
    }
    assert_eq!(
        c.channel("web", "production").await.unwrap().number,
        Some(3)
    );
    assert_eq!(
        c.rollback("web", "production", t(11))
            .await
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        c.rollback("web", "production", t(12))
            .await
            .unwrap()
            .version,
        1
    );
    assert_eq!(
        err(c.rollback("web", "production", t(13)).await.unwrap_err()),
        "channel production of web has no earlier assignment to roll back to"
    );
    let h: Vec<(i64, String)> = c
        .channel_history("web", Some("production"))
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.version, a.action))
        .collect();
    assert_eq!(
        h,
        [
            (1, "promote"),
            (2, "promote"),
            (3, "promote"),
            (2, "rollback"),
            (1, "rollback")
        ]
        .map(|(v, a)| (v, a.to_string()))
    );
    assert_eq!(
        err(c.channel("web", "staging").await.unwrap_err()),
        "bucket \"web\" has no channel \"staging\"; its channels are: production"
    );
    assert_eq!(
        c.version("web", "1").await.unwrap().channels,
        ["production"]
    );
}

async fn promotion_refuses_what_must_not_ship(f: Fixture) {
    let c = f.open().await;
    for m in 1..=3 {
        c.record(build("web", m, None)).await.unwrap();
    }
    let mut failed = build("web", 4, None);
    failed.status = BuildStatus::Failed;
    let failed = c.record(failed).await.unwrap();
    c.apply("web", "1", Op::Revoke(None, "CVE-2026-1234".into()), t(20))
        .await
        .unwrap();
    c.apply("web", "2", Op::Disable, t(20)).await.unwrap();
    assert_eq!(
        err(c.promote("web", "1", "prod", t(21)).await.unwrap_err()),
        "cannot promote to prod: web v1 is revoked: CVE-2026-1234"
    );
    assert_eq!(
        err(c.promote("web", "2", "prod", t(21)).await.unwrap_err()),
        "cannot promote to prod: web v2 is disabled; restore it first (kiln images restore web v2)"
    );
    assert_eq!(
        err(c
            .promote("web", &failed.fingerprint, "prod", t(21))
            .await
            .unwrap_err()),
        format!(
            "cannot promote to prod: web {} is a failed build, not an image",
            failed.fingerprint
        )
    );
    // A scheduled revocation does not stop promotion before its time.
    c.apply(
        "web",
        "3",
        Op::Revoke(Some(t(40)), "end of support".into()),
        t(21),
    )
    .await
    .unwrap();
    c.promote("web", "3", "prod", t(22)).await.unwrap();
    assert_eq!(
        err(c.apply("web", "3", Op::Delete, t(23)).await.unwrap_err()),
        "cannot delete web v3: web v3 is assigned to channel prod; promote another version there first"
    );
}

async fn lifecycle_moves_local_files(f: Fixture) {
    let c = f.open().await;
    let img = f.dir().join("web.qcow2");
    std::fs::write(&img, b"qcow").unwrap();
    c.record(build("web", 1, Some(img.clone()))).await.unwrap();
    let v = c
        .apply("web", "1", Op::Deprecate(Some(t(30))), t(2))
        .await
        .unwrap();
    assert_eq!((v.state, v.deprecate_at), (State::Deprecated, Some(t(30))));
    assert!(!v.deprecated_at(t(29)) && v.deprecated_at(t(30)));
    let v = c.apply("web", "1", Op::Disable, t(3)).await.unwrap();
    assert_eq!(v.state, State::Disabled);
    let archived = f.dir().join("archive/web/v1/web.qcow2");
    assert!(!img.exists() && archived.exists());
    assert_eq!(
        err(c
            .apply("web", "1", Op::Deprecate(None), t(4))
            .await
            .unwrap_err()),
        "cannot deprecate web v1: web v1 is disabled, which is past deprecated; restore it first"
    );
    let v = c.apply("web", "1", Op::Restore, t(4)).await.unwrap();
    assert_eq!((v.state, v.deprecate_at), (State::Active, None));
    assert!(img.exists() && !archived.exists());
    c.apply("web", "1", Op::Protect(true), t(5)).await.unwrap();
    assert_eq!(
        err(c.apply("web", "1", Op::Delete, t(6)).await.unwrap_err()),
        "cannot delete web v1: web v1 is protected; unprotect it first (kiln images protect web v1 --off)"
    );
    c.apply("web", "1", Op::Protect(false), t(6)).await.unwrap();
    let v = c.apply("web", "1", Op::Delete, t(7)).await.unwrap();
    assert_eq!(v.state, State::Deleted);
    assert!(!img.exists());
    assert_eq!(
        err(c.apply("web", "1", Op::Restore, t(8)).await.unwrap_err()),
        "cannot restore web v1: web v1 is deleted: its artifacts are gone, nothing can restore it"
    );
}

async fn revocation_is_inherited_and_ancestry_is_kept(f: Fixture) {
    let c = f.open().await;
    let base1 = c.record(build("base", 1, None)).await.unwrap();
    c.promote("base", "1", "stable", t(2)).await.unwrap();
    let mut child = build("web", 3, None);
    child.parent = Some(Parent {
        bucket: "base".into(),
        fingerprint: base1.fingerprint.clone(),
        channel: Some("stable".into()),
    });
    c.record(child.clone()).await.unwrap();
    let kids = c.children(&base1).await.unwrap();
    assert_eq!(
        kids.iter()
            .map(|k| (k.bucket.as_str(), k.number))
            .collect::<Vec<_>>(),
        [("web", Some(1))]
    );
    assert!(c.outdated().await.unwrap().is_empty());
    c.record(build("base", 4, None)).await.unwrap();
    c.promote("base", "2", "stable", t(5)).await.unwrap();
    let out = c.outdated().await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].0.bucket.as_str(), out[0].1.number),
        ("web", Some(2))
    );
    c.apply("base", "1", Op::Revoke(None, "openssl".into()), t(6))
        .await
        .unwrap();
    assert_eq!(
        err(c.promote("web", "1", "prod", t(7)).await.unwrap_err()),
        "cannot promote to prod: web v1 is revoked: it was built from base/v1, which is revoked: openssl"
    );
    c.apply("base", "1", Op::Restore, t(8)).await.unwrap();
    c.promote("web", "1", "prod", t(9)).await.unwrap();
}

async fn audit_chain_detects_tampering(f: Fixture) {
    let c = f.open().await;
    for m in 1..=3 {
        c.record(build("web", m, None)).await.unwrap();
    }
    c.promote("web", "1", "prod", t(5)).await.unwrap();
    c.apply("web", "2", Op::Deprecate(None), t(6))
        .await
        .unwrap();
    assert_eq!(c.verify_audit().await.unwrap(), Ok(5));
    let log = c.audit(None).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["build", "build", "build", "promote", "deprecate"]
    );
    assert_eq!(
        (
            log[3].actor.as_str(),
            log[3].host.as_str(),
            log[3].version.as_str()
        ),
        ("alice", "ci-1", "v1")
    );
    drop(c);
    // Edited.
    f.sql("UPDATE audit SET actor = 'mallory' WHERE seq = 4");
    let c = f.open().await;
    let b = c.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(
        (b.position, b.problem.as_str()),
        (4, "entry 4 was edited: its contents do not match its hash")
    );
    drop(c);
    f.sql("UPDATE audit SET actor = 'alice' WHERE seq = 4");
    assert_eq!(f.open().await.verify_audit().await.unwrap(), Ok(5));
    // Removed (and the rest renumbered to hide it).
    f.sql("DELETE FROM audit WHERE seq = 2; UPDATE audit SET seq = 1 - seq WHERE seq > 2; UPDATE audit SET seq = -seq WHERE seq < 0");
    let b = f.open().await.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(b.position, 2, "{}", b.problem);
    assert!(
        b.problem.contains("does not follow entry 1"),
        "{}",
        b.problem
    );
}

async fn audit_chain_detects_reordering_and_a_removed_last_entry(f: Fixture) {
    let c = f.open().await;
    for m in 1..=4 {
        c.record(build("web", m, None)).await.unwrap();
    }
    drop(c);
    f.sql("UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 100");
    let b = f.open().await.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(b.position, 2, "{}", b.problem);
    f.sql("UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 100");
    assert_eq!(f.open().await.verify_audit().await.unwrap(), Ok(4));
    f.sql("DELETE FROM audit WHERE seq = 4");
    let b = f.open().await.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(
        (b.position, b.problem.as_str()),
        (4, "the log ends at entry 3, but the catalog's last write was entry 4: entries at the end were removed or replaced")
    );
}

async fn concurrent_writers_stay_consistent(f: Fixture) {
    // Eight builds finishing at once, each on its own connection, as separate processes would.
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let opts = f.options(&format!("runner{i}"));
        tasks.push(tokio::spawn(async move {
            let c = Catalog::open(opts).await.unwrap();
            c.record(build("web", i, None))
                .await
                .unwrap()
                .number
                .unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    // Two promoters racing on one channel: every promotion lands in the history, in order.
    let mut tasks = Vec::new();
    for i in 0..2u8 {
        let opts = f.options(&format!("promoter{i}"));
        tasks.push(tokio::spawn(async move {
            let c = Catalog::open(opts).await.unwrap();
            for v in 1..=8 {
                c.promote("web", &v.to_string(), "prod", t(30 + i))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let c = f.open().await;
    let h = c.channel_history("web", Some("prod")).await.unwrap();
    let mut seqs: Vec<i64> = h.iter().map(|a| a.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=16).collect::<Vec<_>>());
    let last = h.iter().max_by_key(|a| a.seq).unwrap();
    assert_eq!(
        c.channel("web", "prod").await.unwrap().fingerprint,
        last.fingerprint
    );
    assert_eq!(c.verify_audit().await.unwrap(), Ok(8 + 16));
}

async fn an_older_schema_is_migrated_and_keeps_its_data(f: Fixture) {
    let c = f.open().await;
    c.record(build("web", 1, None)).await.unwrap();
    drop(c);
    // What a catalog of the first schema looks like.
    f.sql("DROP TABLE publications; DROP TABLE documents; DROP TABLE scans; UPDATE kiln_meta SET value = '1' WHERE key = 'schema_version'");
    let c = f.open().await;
    assert_eq!(c.version("web", "1").await.unwrap().number, Some(1));
    assert!(c.publications("web", None).await.unwrap().is_empty());
    assert_eq!(c.verify_audit().await.unwrap(), Ok(1));
}

async fn newer_schema_is_refused_unchanged(f: Fixture) {
    drop(f.open().await);
    f.sql("UPDATE kiln_meta SET value = '99' WHERE key = 'schema_version'");
    let e = Catalog::open(f.options("alice")).await.unwrap_err();
    let shown = match f.location() {
        Location::Sqlite(p) => p.display().to_string(),
        Location::Postgres(u) => u,
    };
    assert_eq!(
        e.to_string(),
        format!("the catalog {shown} has schema version 99, newer than this kiln knows (3); it was written by a newer Kiln: upgrade kiln to use it (the catalog was not changed)")
    );
}

async fn retention_plans_exactly_and_carries_out_the_plan(f: Fixture) {
    let c = f.open().await;
    let day = time::Duration::days(1);
    for i in 0..6u8 {
        let mut b = build("web", 0, None);
        b.finished_at = t(0) + day * i32::from(i);
        c.record(b).await.unwrap();
    }
    c.apply("web", "1", Op::Protect(true), t(1)).await.unwrap();
    c.promote("web", "2", "prod", t(1)).await.unwrap();
    let policy = kiln_catalog::retention::Policy::parse(
        "retention.hcl",
        "bucket \"web\" {\n  keep_newest     = 2\n  retain_at_least = 5\n  deprecate_after = \"30d\"\n  delete_after    = \"90d\"\n}\n",
    )
    .unwrap();
    let now = t(0) + day * 95;
    let plan = c.prune_plan(&policy, now).await.unwrap();
    let shown: Vec<String> = plan
        .iter()
        .map(|s| format!("{} v{}: {} ({})", s.bucket, s.version, s.action, s.reason))
        .collect();
    assert_eq!(
        shown,
        [
            "web v3: delete (older than delete_after = 90d)",
            "web v4: deprecate (older than deprecate_after = 30d)"
        ]
    );
    // Planning changed nothing.
    let states: Vec<State> = c
        .versions("web", false)
        .await
        .unwrap()
        .iter()
        .map(|v| v.state)
        .collect();
    assert!(states.iter().all(|s| *s == State::Active), "{states:?}");
    let done = c.prune(&plan, now).await.unwrap();
    assert_eq!(
        done.iter().map(|v| (v.number, v.state)).collect::<Vec<_>>(),
        [(Some(3), State::Deleted), (Some(4), State::Deprecated)]
    );
    let states: Vec<(Option<i64>, State)> = c
        .versions("web", false)
        .await
        .unwrap()
        .iter()
        .map(|v| (v.number, v.state))
        .collect();
    assert_eq!(
        states,
        [
            (Some(6), State::Active),
            (Some(5), State::Active),
            (Some(4), State::Deprecated),
            (Some(3), State::Deleted),
            (Some(2), State::Active),
            (Some(1), State::Active)
        ]
    );
    // A second run has nothing left to do but what the first could not.
    assert!(c.prune_plan(&policy, now).await.unwrap().is_empty());
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Fixture::sqlite()).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Fixture::postgres()).await })*
        }
    };
}

both!(
    records_versions_in_order,
    channels_promote_and_roll_back,
    promotion_refuses_what_must_not_ship,
    lifecycle_moves_local_files,
    revocation_is_inherited_and_ancestry_is_kept,
    audit_chain_detects_tampering,
    audit_chain_detects_reordering_and_a_removed_last_entry,
    concurrent_writers_stay_consistent,
    newer_schema_is_refused_unchanged,
    an_older_schema_is_migrated_and_keeps_its_data,
    retention_plans_exactly_and_carries_out_the_plan,
    retention_spares_images_launched_recently,
    publications_follow_their_channel,
    a_transition_cut_short_keeps_the_version_and_audits_the_calls_made,
);

#[tokio::test]
async fn a_file_that_is_not_a_catalog_is_refused_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("catalog.db");
    std::fs::write(&p, b"this is not a database, it is a shopping list\n").unwrap();
    let f = Fixture::Sqlite(d);
    let e = Catalog::open(f.options("alice")).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{} is not a Kiln catalog (file is not a database); it was not changed. Move it away, or point --catalog / KILN_CATALOG elsewhere", p.display())
    );
    assert_eq!(
        std::fs::read(&p).unwrap(),
        b"this is not a database, it is a shopping list\n"
    );
    assert!(!f.dir().join("catalog.db-wal").exists());
}

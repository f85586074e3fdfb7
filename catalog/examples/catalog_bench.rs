//! The catalog's speed targets, measured (run by `bench/catalog`, reported in BENCHMARKS.md):
//! what recording adds to a `kiln build`, and how fast `kiln images list` answers for a bucket
//! of 10,000 versions, on SQLite and on a real PostgreSQL server started here.
//!
//! `cargo run --release -p kiln-catalog --example catalog_bench -- KILN_BINARY [VERSIONS]`
#![allow(clippy::print_stdout)]

use kiln_catalog::record::{NewArtifact, NewBuild};
use kiln_catalog::{Actor, BuildStatus, Catalog, Location, Options};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn options(loc: Location, dir: &Path) -> Options {
    Options {
        location: loc,
        actor: Actor {
            user: "bench".into(),
            host: "bench".into(),
        },
        archive_dir: dir.join("archive"),
        busy_timeout: Duration::from_secs(30),
        lifecycles: Vec::new(),
    }
}

fn build(bucket: &str) -> NewBuild {
    let now = time::OffsetDateTime::now_utc();
    NewBuild {
        bucket: bucket.into(),
        bucket_description: None,
        bucket_labels: serde_json::Value::Null,
        build_labels: serde_json::json!({"os": "debian"}),
        build_names: vec!["amazon-ebs.web".into()],
        status: BuildStatus::Succeeded,
        error: None,
        started_at: now,
        finished_at: now,
        artifacts: vec![NewArtifact {
            build_name: "amazon-ebs.web".into(),
            builder_type: "amazon-ebs".into(),
            builder_id: "mitchellh.amazonebs".into(),
            id: "us-east-1:ami-0123456789abcdef0,us-west-2:ami-0fedcba9876543210".into(),
            files: Vec::new(),
            state: serde_json::json!({"amis": {"us-east-1": "ami-0123456789abcdef0", "us-west-2": "ami-0fedcba9876543210"}}),
        }],
        parent: None,
        metadata: serde_json::json!({"template": ["web.pkr.hcl"], "kiln_version": "0.1.0", "variables": {"region": "us-east-1"}}),
        documents: Vec::new(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Wall time of one run of `kiln args` with `KILN_CATALOG=catalog`.
fn kiln(bin: &str, dir: &Path, catalog: &str, args: &[&str]) -> f64 {
    let t = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("KILN_CATALOG", catalog)
        .output()
        .unwrap();
    let e = ms(t.elapsed());
    assert!(
        out.status.success(),
        "kiln {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    e
}

async fn measure(
    name: &str,
    loc: Location,
    catalog: &str,
    bin: &str,
    versions: usize,
    dir: &Path,
) -> serde_json::Value {
    // What a build pays: open (schema check) + record, on a catalog that already has versions.
    let c = Catalog::open(options(loc.clone(), dir)).await.unwrap();
    for _ in 0..20 {
        c.record(build("warm")).await.unwrap();
    }
    drop(c);
    let mut record = Vec::new();
    for _ in 0..40 {
        let t = Instant::now();
        let c = Catalog::open(options(loc.clone(), dir)).await.unwrap();
        c.record(build("warm")).await.unwrap();
        record.push(ms(t.elapsed()));
    }
    // A bucket of `versions` versions.
    let c = Catalog::open(options(loc.clone(), dir)).await.unwrap();
    let t = Instant::now();
    for _ in 0..versions {
        c.record(build("web")).await.unwrap();
    }
    let fill = t.elapsed();
    let mut list_lib = Vec::new();
    let mut versions_lib = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let v = c.list("web", false).await.unwrap();
        assert_eq!(v.len(), versions);
        list_lib.push(ms(t.elapsed()));
        let t = Instant::now();
        let v = c.versions("web", false).await.unwrap();
        assert_eq!(v.len(), versions);
        versions_lib.push(ms(t.elapsed()));
    }
    drop(c);
    let list_cli: Vec<f64> = (0..10)
        .map(|_| kiln(bin, dir, catalog, &["images", "list", "web"]))
        .collect();
    let list_json: Vec<f64> = (0..10)
        .map(|_| kiln(bin, dir, catalog, &["images", "list", "web", "--json"]))
        .collect();
    // `kiln build` of a file template, with and without recording, alternately.
    std::fs::write(dir.join("t.pkr.hcl"), "source \"file\" \"x\" {\n  content = \"x\"\n  target  = \"x.img\"\n}\nbuild {\n  sources = [\"source.file.x\"]\n}\n").unwrap();
    let (mut off, mut on) = (Vec::new(), Vec::new());
    kiln(bin, dir, catalog, &["build", "t.pkr.hcl"]);
    for _ in 0..15 {
        off.push(kiln(bin, dir, "off", &["build", "t.pkr.hcl"]));
        on.push(kiln(bin, dir, catalog, &["build", "t.pkr.hcl"]));
    }
    let r = serde_json::json!({
        "backend": name,
        "record_ms_median": median(record),
        "fill_versions": versions,
        "fill_s": fill.as_secs_f64(),
        "list_library_ms_median": median(list_lib),
        "versions_library_ms_median": median(versions_lib),
        "list_cli_table_ms_median": median(list_cli),
        "list_cli_json_ms_median": median(list_json),
        "build_without_catalog_ms_median": median(off.clone()),
        "build_with_catalog_ms_median": median(on.clone()),
        "build_added_ms_median_of_pairs": median(on.iter().zip(&off).map(|(a, b)| a - b).collect()),
    });
    println!("{}", serde_json::to_string(&r).unwrap());
    r
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = std::fs::canonicalize(
        args.get(1)
            .expect("usage: catalog_bench KILN_BINARY [VERSIONS]"),
    )
    .unwrap();
    let bin = bin.to_str().unwrap();
    let versions: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("catalog.db");
    measure(
        "sqlite",
        Location::Sqlite(db.clone()),
        db.to_str().unwrap(),
        bin,
        versions,
        d.path(),
    )
    .await;
    let pg = kiln_tests::Postgres::start();
    let pd = tempfile::tempdir().unwrap();
    measure(
        "postgres",
        Location::Postgres(pg.url()),
        &pg.url(),
        bin,
        versions,
        pd.path(),
    )
    .await;
}

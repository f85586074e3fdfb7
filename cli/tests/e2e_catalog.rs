//! The catalog through the binary: builds land in it (SQLite and a real PostgreSQL), the whole
//! lifecycle runs through `kiln images`, ancestry flows through the `kiln-image` data source,
//! concurrent and killed writers leave it consistent, and tampering with the audit log is found.

use kiln_tests::{run_with_env, Run};
use std::path::Path;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

struct Cat<'a> {
    dir: &'a Path,
    url: String,
}

impl Cat<'_> {
    fn run(&self, args: &[&str]) -> Run {
        run_with_env(
            KILN,
            self.dir,
            args,
            &[("KILN_CATALOG", &self.url), ("USER", "alice")],
        )
    }
    fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "kiln {args:?} failed:\n{}", r.all());
        r.stdout
    }
    fn refused(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 1, "kiln {args:?} should fail:\n{}", r.all());
        r.stderr
    }
    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
}

const WEB: &str = r#"variable "target" {
  default = "web.img"
}
variable "api_token" {
  default   = "tok-5ecret-Value"
  sensitive = true
}
source "file" "web" {
  content = "web image"
  target  = var.target
}
build {
  name = "webapp"
  hcp_packer_registry {
    bucket_name  = "web"
    description  = "The web tier"
    build_labels = { os = "debian" }
  }
  sources = ["source.file.web"]
}
"#;

#[test]
fn a_build_is_recorded_and_walks_through_the_whole_lifecycle() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("web.pkr.hcl"), WEB).unwrap();
    let db = dir.join("catalog.db");
    let c = Cat {
        dir,
        url: db.display().to_string(),
    };
    for t in ["a.img", "b.img"] {
        let r = c.run(&["build", "-var", &format!("target={t}"), "web.pkr.hcl"]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert!(r.stderr.contains("Recorded web v"), "{}", r.stderr);
    }
    let v2 = c.json(&["images", "show", "web", "2"]);
    assert_eq!(v2["number"], 2);
    assert_eq!(v2["status"], "succeeded");
    assert_eq!(v2["labels"], serde_json::json!({"os": "debian"}));
    assert_eq!(
        v2["metadata"]["variables"],
        serde_json::json!({"target": "b.img"})
    );
    assert_eq!(v2["metadata"]["user"], "alice");
    assert_eq!(
        v2["artifacts"][0]["files"][0],
        dir.join("b.img").display().to_string()
    );
    assert_eq!(v2["artifacts"][0]["size"], 9);
    assert_eq!(
        c.ok(&["images", "list"]),
        "BUCKET  VERSIONS  LATEST  CHANNELS\nweb     2         v2\n"
    );
    assert_eq!(
        c.ok(&["images", "promote", "web", "1", "--channel", "prod"]),
        "web: prod -> v1\n"
    );
    assert_eq!(
        c.ok(&["images", "promote", "web", "2", "--channel", "prod"]),
        "web: prod -> v2\n"
    );
    assert_eq!(
        c.ok(&["images", "rollback", "web", "--channel", "prod"]),
        "web: prod -> v1 (rolled back)\n"
    );
    assert_eq!(
        c.ok(&["images", "channel", "get", "web", "prod"]),
        format!("{}\n", dir.join("a.img").display())
    );
    assert_eq!(
        c.ok(&[
            "images",
            "deprecate",
            "web",
            "2",
            "--at",
            "2030-01-01T00:00:00Z"
        ]),
        "web v2: deprecates 2030-01-01T00:00:00Z\n"
    );
    assert_eq!(
        c.refused(&["images", "disable", "web", "1"]),
        "Error: cannot disable web v1: web v1 is assigned to channel prod; promote another version there first\n"
    );
    assert_eq!(
        c.ok(&["images", "disable", "web", "2"]),
        "web v2: disabled\n"
    );
    assert!(!dir.join("b.img").exists());
    assert!(dir.join("archive/web/v2/b.img").exists());
    assert_eq!(
        c.refused(&["images", "promote", "web", "2", "--channel", "prod"]),
        "Error: cannot promote to prod: web v2 is disabled; restore it first (kiln images restore web v2)\n"
    );
    assert_eq!(c.ok(&["images", "restore", "web", "2"]), "web v2: active\n");
    assert!(dir.join("b.img").exists());
    assert_eq!(
        c.ok(&["images", "protect", "web", "2"]),
        "web v2: active, protected\n"
    );
    assert_eq!(
        c.refused(&["images", "delete", "web", "2"]),
        "Error: cannot delete web v2: web v2 is protected; unprotect it first (kiln images protect web v2 --off)\n"
    );
    c.ok(&["images", "protect", "web", "2", "--off"]);
    assert_eq!(c.ok(&["images", "delete", "web", "2"]), "web v2: deleted\n");
    assert!(!dir.join("b.img").exists());
    assert_eq!(
        c.refused(&["images", "revoke", "web", "2", "--reason", "x"]),
        "Error: cannot revoke web v2: web v2 is deleted: its artifacts are gone, nothing can revoke it\n"
    );
    let list = c.ok(&["images", "list", "web"]);
    assert!(list.starts_with("VERSION  STATE"), "{list}");
    assert!(list.contains("v2       deleted"), "{list}");
    let log = c.json(&["images", "audit"]);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "build",
            "build",
            "promote",
            "promote",
            "rollback",
            "deprecate",
            "disable",
            "restore",
            "protect",
            "unprotect",
            "delete"
        ]
    );
    assert_eq!(log[6]["actor"], "alice");
    assert_eq!(
        c.ok(&["images", "audit", "verify"]),
        "The audit log is intact: 11 entries.\n"
    );
    // Bad input.
    assert_eq!(
        c.refused(&["images", "show", "nope", "1"]),
        "Error: no bucket \"nope\"; the catalog has: web\n"
    );
    assert_eq!(
        c.refused(&["images", "show", "web", "9"]),
        "Error: bucket \"web\" has no version \"9\"; its versions are v1 to v2\n"
    );
    assert_eq!(
        c.refused(&["images", "deprecate", "web", "1", "--at", "tomorrow"]),
        "Error: \"tomorrow\" is not an RFC 3339 time (the 'year' component could not be parsed); write it like 2027-01-31T00:00:00Z\n"
    );
    // The sensitive variable is nowhere: not in the output, not in the file.
    let shown = c.ok(&["images", "show", "web", "1", "--json"]);
    assert!(!shown.contains("5ecret"), "{shown}");
    let bytes = std::fs::read(&db).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("5ecret"));
    // Tampering: one edited entry is found at its position.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 7", [])
        .unwrap();
    drop(conn);
    assert_eq!(
        c.refused(&["images", "audit", "verify"]),
        "Error: the audit log was tampered with at entry 7: entry 7 was edited: its contents do not match its hash\n"
    );
}

#[test]
fn a_failed_build_is_recorded_with_its_error_and_no_catalog_records_nothing() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(
        dir.join("fail.pkr.hcl"),
        "source \"null\" \"x\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.x\"]\n  provisioner \"shell-local\" {\n    inline = [\"exit 3\"]\n  }\n}\n",
    )
    .unwrap();
    let c = Cat {
        dir,
        url: dir.join("c.db").display().to_string(),
    };
    let r = c.run(&["build", "fail.pkr.hcl"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("Recorded the failed build of null.x ("),
        "{}",
        r.stderr
    );
    let h = c.json(&["images", "history", "null.x"]);
    assert_eq!(h["builds"][0]["status"], "failed");
    assert_eq!(h["builds"][0]["number"], serde_json::Value::Null);
    assert!(
        h["builds"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("null.x: "),
        "{h}"
    );
    let r = c.run(&["build", "--no-catalog", "fail.pkr.hcl"]);
    assert!(!r.stderr.contains("Recorded"), "{}", r.stderr);
    assert_eq!(
        c.json(&["images", "history", "null.x"])["builds"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

const BASE: &str = r#"source "file" "base" {
  content = "base"
  target  = "base-${uuidv4()}.img"
}
build {
  hcp_packer_registry {
    bucket_name = "base"
  }
  sources = ["source.file.base"]
}
"#;

const APP: &str = r#"data "kiln-image" "base" {
  bucket  = "base"
  channel = "stable"
}
source "file" "app" {
  content = "built from ${data.kiln-image.base.id} (v${data.kiln-image.base.version})"
  target  = "app.img"
}
build {
  sources = ["source.file.app"]
}
"#;

#[test]
fn ancestry_flows_through_the_kiln_image_data_source() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::create_dir(dir.join("base")).unwrap();
    std::fs::create_dir(dir.join("app")).unwrap();
    std::fs::write(dir.join("base/base.pkr.hcl"), BASE).unwrap();
    std::fs::write(dir.join("app/app.pkr.hcl"), APP).unwrap();
    let c = Cat {
        dir,
        url: dir.join("c.db").display().to_string(),
    };
    c.ok(&["build", "base/base.pkr.hcl"]);
    let r = c.run(&["build", "app/app.pkr.hcl"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("bucket \\\"base\\\" has no channel \\\"stable\\\"")
            || r.stderr.contains("has no channel"),
        "{}",
        r.stderr
    );
    c.ok(&["images", "promote", "base", "1", "--channel", "stable"]);
    c.ok(&["build", "app/app.pkr.hcl"]);
    let base1 = c.json(&["images", "show", "base", "1"]);
    let base_file = base1["artifacts"][0]["files"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        std::fs::read_to_string(dir.join("app.img")).unwrap(),
        format!("built from {base_file} (v1)")
    );
    let app = c.json(&["images", "show", "file.app", "1"]);
    assert_eq!(app["parent"]["bucket"], "base");
    assert_eq!(app["parent"]["fingerprint"], base1["fingerprint"]);
    assert_eq!(app["parent"]["channel"], "stable");
    let kids = c.json(&["images", "children", "base", "1"]);
    assert_eq!(kids[0]["bucket"], "file.app");
    assert_eq!(
        c.ok(&["images", "outdated"]),
        "BUCKET  VERSION  BUILT FROM  CHANNEL NOW\n"
    );
    c.ok(&["build", "base/base.pkr.hcl"]);
    c.ok(&["images", "promote", "base", "2", "--channel", "stable"]);
    assert_eq!(
        c.ok(&["images", "outdated"]),
        "BUCKET    VERSION  BUILT FROM            CHANNEL NOW\nfile.app  v1       base v1 (stable)  v2\n"
            .replace("BUILT FROM            CHANNEL", "BUILT FROM        CHANNEL")
    );
    assert_eq!(
        c.refused(&["images", "revoke", "base", "2", "--reason", "CVE-2026-0001 in openssl"]),
        "Error: cannot revoke base v2: base v2 is assigned to channel stable; promote another version there first\n"
    );
    c.ok(&["images", "rollback", "base", "--channel", "stable"]);
    c.ok(&[
        "images",
        "revoke",
        "base",
        "2",
        "--reason",
        "CVE-2026-0001 in openssl",
    ]);
    std::fs::write(
        dir.join("app/app.pkr.hcl"),
        APP.replace("channel = \"stable\"", "version = 2"),
    )
    .unwrap();
    let r = c.run(&["build", "app/app.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr
            .contains("base v2 is revoked: CVE-2026-0001 in openssl; build from another version"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_writer_killed_mid_write_leaves_the_catalog_consistent() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("web.pkr.hcl"), WEB).unwrap();
    let c = Cat {
        dir,
        url: dir.join("c.db").display().to_string(),
    };
    c.ok(&["build", "web.pkr.hcl"]);
    c.ok(&["build", "web.pkr.hcl"]);
    // Promotions killed at every point of their run.
    for i in 0..24u64 {
        let mut child = std::process::Command::new(KILN)
            .args([
                "images",
                "promote",
                "web",
                if i % 2 == 0 { "1" } else { "2" },
                "--channel",
                "prod",
            ])
            .env("KILN_CATALOG", &c.url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(i * 2));
        let _ = child.kill();
        let _ = child.wait();
    }
    let verify = c.ok(&["images", "audit", "verify"]);
    assert!(verify.starts_with("The audit log is intact"), "{verify}");
    let log = c.json(&["images", "audit"]);
    let promotions = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "promote")
        .count();
    let history = match c.run(&["images", "channel", "history", "web", "prod", "--json"]) {
        r if r.code == 0 => serde_json::from_str::<serde_json::Value>(&r.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        _ => 0,
    };
    assert_eq!(
        promotions, history,
        "every promotion in the audit log is in the channel's history and back"
    );
}

#[test]
fn eight_builds_finishing_at_once_all_land_in_one_postgresql_catalog() {
    let pg = kiln_tests::Postgres::start();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("web.pkr.hcl"), WEB).unwrap();
    let c = Cat { dir, url: pg.url() };
    let children: Vec<_> = (0..8)
        .map(|i| {
            std::process::Command::new(KILN)
                .args(["build", "-var", &format!("target=w{i}.img"), "web.pkr.hcl"])
                .current_dir(dir)
                .env("KILN_CATALOG", pg.url())
                .output_async()
        })
        .collect();
    for ch in children {
        let out = ch.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let list = c.json(&["images", "list", "web"]);
    let mut numbers: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    c.ok(&["images", "promote", "web", "8", "--channel", "prod"]);
    assert_eq!(
        c.ok(&["images", "audit", "verify"]),
        "The audit log is intact: 9 entries.\n"
    );
}

trait Spawn {
    fn output_async(&mut self) -> std::process::Child;
}
impl Spawn for std::process::Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn prune_prints_its_plan_and_carries_out_exactly_that() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::write(dir.join("web.pkr.hcl"), WEB).unwrap();
    let c = Cat {
        dir,
        url: dir.join("c.db").display().to_string(),
    };
    for t in ["a.img", "b.img", "c.img"] {
        c.ok(&["build", "-var", &format!("target={t}"), "web.pkr.hcl"]);
    }
    c.ok(&["images", "promote", "web", "1", "--channel", "prod"]);
    std::fs::write(
        dir.join("retention.hcl"),
        "bucket \"web\" {\n  keep_newest     = 1\n  retain_at_least = 1\n  deprecate_after = \"0d\"\n  delete_after    = \"0d\"\n}\n",
    )
    .unwrap();
    let plan = "web v2: delete (older than delete_after = 0d)\n";
    assert_eq!(
        c.ok(&["images", "prune", "--policy", "retention.hcl", "--dry-run"]),
        format!("{plan}Dry run: nothing was changed.\n")
    );
    assert!(dir.join("b.img").exists());
    assert_eq!(
        c.ok(&["images", "prune", "--policy", "retention.hcl"]),
        format!("{plan}Done: 1 versions changed.\n")
    );
    assert!(
        !dir.join("b.img").exists() && dir.join("a.img").exists() && dir.join("c.img").exists()
    );
    assert_eq!(
        c.ok(&["images", "prune", "--policy", "retention.hcl"]),
        "Nothing to prune.\n"
    );
    std::fs::write(
        dir.join("bad.hcl"),
        "bucket \"web\" {\n  keep_newest = \"two\"\n}\n",
    )
    .unwrap();
    let e = c.refused(&["images", "prune", "--policy", "bad.hcl"]);
    assert!(
        e.contains("bad.hcl:2:17") && e.contains("keep_newest must be a whole number such as 3."),
        "{e}"
    );
}

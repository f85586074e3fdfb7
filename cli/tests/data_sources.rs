//! Data sources that need no network: `host-info` reports the machine Kiln runs on, the `git-*`
//! ones a local repository (made here with git).

use kiln_tests::run;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

#[test]
fn host_info_reports_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        r#"data "host-info" "here" {}
source "file" "out" {
  content = "${data.host-info.here.os_type} ${data.host-info.here.architecture} ${data.host-info.here.platform} ${data.host-info.here.family} ${data.host-info.here.version}\n"
  target  = "out.txt"
}
build { sources = ["source.file.out"] }
"#,
    )
    .unwrap();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out = std::fs::read_to_string(d.join("out.txt")).unwrap();
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let id = release
        .lines()
        .find_map(|l| l.strip_prefix("ID="))
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    assert!(
        out.starts_with(&format!("linux {arch} {id} ")),
        "{out:?} (os-release ID {id:?})"
    );
    if id == "debian" {
        let v = std::fs::read_to_string("/etc/debian_version").unwrap();
        assert_eq!(out, format!("linux {arch} debian debian {}\n", v.trim()));
    }
}

/// Runs git in `dir` with a fixed identity and dates; returns its standard output.
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let o = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "A U Thor")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-02T10:38:19+01:00")
        .env("GIT_COMMITTER_NAME", "C O Mitter")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_COMMITTER_DATE", "2024-01-03T04:05:06-05:00")
        .output()
        .expect("git runs (on Debian: apt-get install git)");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn git_data_sources_report_the_repository_a_commit_and_its_tree() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("a")).unwrap();
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    for (f, text) in [
        ("a.txt", "1"),
        ("a-b.txt", "2"),
        ("a/c.txt", "3"),
        ("a0.txt", "4"),
        ("sub/d.txt", "5"),
        (".gitignore", "*.log\n"),
    ] {
        std::fs::write(repo.join(f), text).unwrap();
    }
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["tag", "v1"]);
    git(&repo, &["branch", "old"]);
    let first = git(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    // A signed commit, made by hand (no gpg needed): the signature is a multi-line header.
    let tree = git(&repo, &["write-tree"]).trim().to_string();
    let raw = format!(
        "tree {tree}\nparent {first}\nauthor A U Thor <author@example.com> 1704188299 +0100\ncommitter C O Mitter <committer@example.com> 1704272706 -0500\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsecond\n\nwith a body\n"
    );
    let raw_path = dir.path().join("commit.raw");
    std::fs::write(&raw_path, raw).unwrap();
    let second = git(
        &repo,
        &[
            "hash-object",
            "-t",
            "commit",
            "-w",
            raw_path.to_str().unwrap(),
        ],
    )
    .trim()
    .to_string();
    git(&repo, &["update-ref", "refs/heads/main", &second]);
    git(&repo, &["branch", "other"]);
    git(&repo, &["tag", "-a", "-m", "two", "v2"]);
    std::fs::write(repo.join("ignored.log"), "not tracked, ignored").unwrap();

    let d = dir.path();
    let template = format!(
        r#"data "git-repository" "r" {{
  path = "{repo}/sub"
}}
data "git-commit" "head" {{
  path = "{repo}"
}}
data "git-commit" "v1" {{
  path       = "{repo}/a"
  commit_ish = "v1"
}}
data "git-tree" "t" {{
  path = "{repo}"
}}
source "file" "out" {{
  content = jsonencode({{ repo = data.git-repository.r, head = data.git-commit.head, v1 = data.git-commit.v1, tree = data.git-tree.t }})
  target  = "out.json"
}}
build {{ sources = ["source.file.out"] }}
"#,
        repo = repo.display()
    );
    std::fs::write(d.join("t.pkr.hcl"), template).unwrap();
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap()).unwrap();
    assert_eq!(
        out["repo"],
        serde_json::json!({
            "head": "main",
            "branches": ["main", "old", "other"],
            "tags": ["v1", "v2"],
            "is_clean": true,
        })
    );
    assert_eq!(
        out["head"],
        serde_json::json!({
            "hash": second,
            "branches": ["main", "other"],
            "author": "A U Thor <author@example.com>",
            "committer": "C O Mitter <committer@example.com>",
            "timestamp": "2024-01-03T09:05:06Z",
            "pgp_signature": "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n",
            "message": "second\n\nwith a body\n",
            "tree_hash": tree,
            "parent_hashes": [first],
        })
    );
    assert_eq!(out["v1"]["hash"], serde_json::json!(first));
    assert_eq!(out["v1"]["branches"], serde_json::json!(["old"]));
    assert_eq!(out["v1"]["message"], serde_json::json!("first\n"));
    assert_eq!(out["v1"]["pgp_signature"], serde_json::json!(""));
    assert_eq!(out["v1"]["parent_hashes"], serde_json::json!([]));
    let ls: Vec<String> = git(&repo, &["ls-tree", "-r", "--name-only", "HEAD"])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        ls,
        [
            ".gitignore",
            "a-b.txt",
            "a.txt",
            "a/c.txt",
            "a0.txt",
            "sub/d.txt"
        ]
    );
    assert_eq!(
        out["tree"],
        serde_json::json!({ "hash": second, "files": ls })
    );

    // An untracked file, a modified one or a detached HEAD show in git-repository.
    std::fs::write(repo.join("new.txt"), "untracked").unwrap();
    let r = run(KILN, d, &["build", "-force", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap()).unwrap();
    assert_eq!(out["repo"]["is_clean"], serde_json::json!(false));
    std::fs::remove_file(repo.join("new.txt")).unwrap();
    std::fs::write(repo.join("a.txt"), "changed").unwrap();
    git(&repo, &["checkout", "-q", "--detach", "HEAD"]);
    let r = run(KILN, d, &["build", "-force", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let out: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap()).unwrap();
    assert_eq!(out["repo"]["is_clean"], serde_json::json!(false));
    assert_eq!(out["repo"]["head"], serde_json::json!("HEAD"));
}

#[test]
fn a_git_data_source_outside_a_repository_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "data \"git-commit\" \"c\" {\n  commit_ish = \"HEAD\"\n}\nsource \"null\" \"n\" { communicator = \"none\" }\nbuild { sources = [\"source.null.n\"] }\n",
    )
    .unwrap();
    let r = run(KILN, d, &["validate", "-evaluate-datasources", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("t.pkr.hcl:1:1")
            && r.stderr.contains("data.git-commit.c: no git repository at"),
        "{}",
        r.all()
    );
}

/// A one-file HTTP server on 127.0.0.1 answering every request with `body`; counts requests.
fn http_server(body: &'static str) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, hits)
}

/// As Packer since 1.8.5: `validate` does not run data sources (they may call paid or
/// unreachable services) unless `-evaluate-datasources`; what is computed from their outputs is
/// unknown there, and not an error. Other errors are still reported; `build` runs them.
#[test]
fn validate_runs_data_sources_only_when_asked() {
    use std::sync::atomic::Ordering::SeqCst;
    let (port, hits) = http_server(r#"{"version": "1.2"}"#);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let template = format!(
        r#"data "http" "meta" {{
  url = "http://127.0.0.1:{port}/meta.json"
}}
locals {{
  meta    = jsondecode(data.http.meta.body)
  version = local.meta.version
  major   = split(".", local.version)[0]
}}
source "file" "out" {{
  content = "v${{local.version}} ${{local.major}}\n"
  target  = "out.txt"
}}
build {{ sources = ["source.file.out"] }}
"#
    );
    std::fs::write(d.join("t.pkr.hcl"), &template).unwrap();
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "The configuration is valid.\n"),
        "{}",
        r.all()
    );
    assert_eq!(hits.load(SeqCst), 0, "validate ran the data source");
    let r = run(KILN, d, &["validate", "-evaluate-datasources", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(hits.load(SeqCst), 1);
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(d.join("out.txt")).unwrap(),
        "v1.2 1\n"
    );
    // An error that owes nothing to the data source is still one.
    std::fs::write(
        d.join("t.pkr.hcl"),
        template.replace("  major ", "  typo    = var.nope\n  major "),
    )
    .unwrap();
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("Error: Undefined variable"),
        "{}",
        r.all()
    );
    assert!(!r.stderr.contains("jsondecode"), "{}", r.all());
    assert_eq!(hits.load(SeqCst), 2);
}

/// `data "sshkey"` makes a key pair once, keeps it in the cache directory, and the SSH
/// communicator logs in with it (a real sshd that authorizes its public keys).
#[test]
fn sshkey_makes_keys_once_that_ssh_logs_in_with() {
    let sshd = kiln_tests::Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = d.join("cache");
    let env = [("PACKER_CACHE_DIR", cache.to_str().unwrap())];
    let keys = r#"data "sshkey" "ed" {
  type = "ed25519"
}
data "sshkey" "rsa" {
  name = "web/rsa"
}
"#;
    std::fs::write(
        d.join("keys.pkr.hcl"),
        format!(
            r#"{keys}source "file" "out" {{
  content = "${{data.sshkey.ed.public_key}}\n${{data.sshkey.rsa.public_key}}\n${{data.sshkey.ed.private_key_path}}\n${{data.sshkey.rsa.private_key_path}}\n"
  target  = "out.txt"
}}
build {{ sources = ["source.file.out"] }}
"#
        ),
    )
    .unwrap();
    let r = kiln_tests::run_with_env(KILN, d, &["build", "keys.pkr.hcl"], &env);
    assert_eq!(r.code, 0, "{}", r.all());
    let first = std::fs::read_to_string(d.join("out.txt")).unwrap();
    let lines: Vec<&str> = first.lines().collect();
    assert!(
        lines[0].starts_with("ssh-ed25519 AAAA") && lines[0].ends_with(" packer"),
        "{first}"
    );
    assert!(
        lines[1].starts_with("ssh-rsa AAAA") && lines[1].ends_with(" web_rsa"),
        "{first}"
    );
    let ed_path = cache.join("ssh_private_key_packer_ed25519.pem");
    let rsa_path = cache.join("ssh_private_key_web_rsa_rsa.pem");
    assert_eq!(lines[2], ed_path.to_str().unwrap());
    assert_eq!(lines[3], rsa_path.to_str().unwrap());
    // Kept: a second run gives the same keys.
    let r = kiln_tests::run_with_env(KILN, d, &["build", "-force", "keys.pkr.hcl"], &env);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(std::fs::read_to_string(d.join("out.txt")).unwrap(), first);
    sshd.authorize(lines[0]);
    sshd.authorize(lines[1]);
    std::fs::remove_file(d.join("keys.pkr.hcl")).unwrap();
    let source = |name: &str, key: &str| {
        format!(
            "source \"null\" \"{name}\" {{\n  ssh_host = \"127.0.0.1\"\n  ssh_port = {}\n  ssh_username = \"{}\"\n  ssh_private_key_file = data.sshkey.{key}.private_key_path\n  ssh_timeout = \"20s\"\n}}\n",
            sshd.port, sshd.user
        )
    };
    std::fs::write(
        d.join("login.pkr.hcl"),
        format!(
            "{keys}{}{}build {{\n  sources = [\"source.null.ed\", \"source.null.rsa\"]\n  provisioner \"shell\" {{\n    inline = [\"echo logged in as $(id -un)\"]\n  }}\n}}\n",
            source("ed", "ed"),
            source("rsa", "rsa")
        ),
    )
    .unwrap();
    let r = kiln_tests::run_with_env(KILN, d, &["build", "login.pkr.hcl"], &env);
    assert_eq!(r.code, 0, "{}", r.all());
    for name in ["ed", "rsa"] {
        let line = format!("    null.{name}: logged in as {}\n", sshd.user);
        assert!(r.stdout.contains(&line), "{line:?} in\n{}", r.stdout);
    }
}

/// At validate, with data sources not run, what is computed from their outputs is unknown (as
/// cty's unknowns), in locals and in plugin settings alike: no error from decoding or indexing
/// a placeholder.
#[test]
fn validate_treats_values_computed_from_data_sources_as_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        r#"data "http" "feed" {
  url = "https://example.invalid/current.json"
}
locals {
  packages = jsondecode(data.http.feed.body).syspkgs
  ver      = try(jsondecode(data.http.feed.body).version, "fallback")
}
source "file" "x" {
  content = "${local.packages["caddy"].version} ${local.ver} ${jsondecode(data.http.feed.body).x[0]}"
  target  = "out.txt"
}
build {
  sources = ["source.file.x"]
}
"#,
    )
    .unwrap();
    let r = run(KILN, d, &["validate", "."]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "The configuration is valid.\n");
    // A mistake that has nothing to do with the unknowns is still one.
    std::fs::write(
        d.join("u.pkr.hcl"),
        "source \"file\" \"y\" {\n  content = \"${local.packages[0] + local.nope}\"\n  target = \"y.txt\"\n}\nbuild {\n  sources = [\"source.file.y\"]\n}\n",
    )
    .unwrap();
    let r = run(KILN, d, &["validate", "."]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("local.nope"), "{}", r.stderr);
}

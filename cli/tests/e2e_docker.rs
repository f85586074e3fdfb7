//! The docker builder end to end through the binary, against a real dockerd each test starts on
//! a private socket (Debian's `docker.io`), with base images made from `busybox-static`.
#![cfg(feature = "docker")]

use kiln_tests::docker::Dockerd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn kiln(dockerd: &Dockerd, dir: &Path, args: &[&str]) -> Command {
    let mut c = kiln_tests::isolated(KILN);
    c.args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", &dockerd.host)
        .env("KILN_STATE_DIR", dir.join("state"));
    c
}

fn run(dockerd: &Dockerd, dir: &Path, args: &[&str]) -> kiln_tests::Run {
    let out = kiln(dockerd, dir, args).output().unwrap();
    kiln_tests::finished(out)
}

fn setup() -> (Dockerd, tempfile::TempDir) {
    let dockerd = Dockerd::start();
    dockerd.import_busybox("kiln-base:1");
    (dockerd, tempfile::tempdir().unwrap())
}

#[test]
fn commit_with_changes_after_shell_and_file_provisioners_then_tag() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::create_dir_all(d.join("site/sub")).unwrap();
    std::fs::write(d.join("site/index.html"), "<h1>kiln</h1>\n").unwrap();
    std::fs::write(d.join("site/sub/deep.txt"), "deep\n").unwrap();
    // 3 MiB of varied bytes: the upload crosses many chunks.
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(d.join("big.bin"), &big).unwrap();
    std::fs::write(
        d.join("t.pkr.hcl"),
        r#"
source "docker" "app" {
  image   = "kiln-base:1"
  pull    = false
  commit  = true
  author  = "Kiln Tests"
  message = "built by kiln"
  run_command = ["-d", "-i", "-t", "-e", "FROM_RUN=yes", "-h", "kilnhost", "-m", "256m", "--entrypoint=/bin/sh", "--", "{{.Image}}"]
  changes = [
    "ENV GREETING=hello",
    "LABEL org.example.app=kiln",
    "WORKDIR /srv",
    "EXPOSE 8080",
    "USER kiln",
    "ENTRYPOINT [\"/bin/sh\", \"-c\"]",
    "CMD [\"cat /srv/site/index.html\"]",
  ]
}

build {
  sources = ["source.docker.app"]

  provisioner "shell" {
    inline = ["echo built-in-$(cat /etc/hostname | wc -c) > /built.txt", "mkdir -p /srv", "echo to-stderr >&2"]
  }
  provisioner "file" {
    source      = "site"
    destination = "/srv"
  }
  provisioner "file" {
    source      = "big.bin"
    destination = "/tmp/big.bin"
  }
  provisioner "shell" {
    inline = ["sha256sum /tmp/big.bin", "ls -ln /tmp/big.bin", "echo run-env=$FROM_RUN host=$(hostname)"]
  }
  provisioner "file" {
    direction   = "download"
    source      = "/srv/site/sub/deep.txt"
    destination = "back/deep.txt"
  }
  provisioner "file" {
    direction   = "download"
    source      = "/srv/site"
    destination = "back"
  }

  post-processor "docker-tag" {
    repository = "kiln/app"
    tags       = ["v1", "latest"]
  }
}
"#,
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    let all = r.all();
    assert_eq!(r.code, 0, "{all}");
    for want in [
        "==> docker.app: Starting docker container...",
        "==> docker.app: Committing the container",
        "docker.app: to-stderr",
        "==> docker.app: Killing the container: ",
        "--> docker.app: Imported Docker image: kiln/app:latest with tags kiln/app:v1 kiln/app:latest\n",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
    let sum = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&big))
    };
    assert!(all.contains(&format!("{sum}  /tmp/big.bin")), "{all}");
    assert!(
        all.contains(" 0        0 "),
        "uploads belong to root: {all}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("back/deep.txt")).unwrap(),
        "deep\n"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("back/site/sub/deep.txt")).unwrap(),
        "deep\n"
    );
    // The image: its config, and its files seen by a container run from it.
    let inspect: serde_json::Value =
        serde_json::from_str(&dockerd.docker_ok(&["image", "inspect", "kiln/app:v1"])).unwrap();
    let img = &inspect[0];
    assert_eq!(img["Author"], "Kiln Tests");
    assert_eq!(img["Comment"], "built by kiln");
    let c = &img["Config"];
    assert!(
        c["Env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "GREETING=hello"),
        "{c}"
    );
    assert_eq!(c["Labels"]["org.example.app"], "kiln");
    assert_eq!(c["WorkingDir"], "/srv");
    assert_eq!(c["User"], "kiln");
    assert!(c["ExposedPorts"].get("8080/tcp").is_some(), "{c}");
    assert_eq!(c["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(
        dockerd.docker_ok(&["run", "--rm", "--network", "none", "kiln/app:v1"]),
        "<h1>kiln</h1>"
    );
    assert_eq!(
        dockerd.docker_ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "kiln/app:latest",
            "cat /built.txt; whoami"
        ]),
        "built-in-9\nkiln"
    );
    assert_eq!(
        dockerd.containers(),
        Vec::<String>::new(),
        "no container is left"
    );
}

#[test]
fn export_path_writes_the_file_system_as_a_tarball_and_docker_import_makes_an_image_of_it() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        r#"
source "docker" "fs" {
  image       = "kiln-base:1"
  pull        = false
  export_path = "out/fs.tar"
}

build {
  sources = ["source.docker.fs"]
  provisioner "shell" {
    inline = ["echo exported > /marker"]
  }
  post-processors {
    post-processor "docker-import" {
      repository = "kiln/imported"
      tag        = "1.0"
      changes    = ["CMD [\"cat\", \"/marker\"]"]
    }
  }
}
"#,
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    let all = r.all();
    assert_eq!(r.code, 0, "{all}");
    assert!(
        all.contains("==> docker.fs: Exporting the container"),
        "{all}"
    );
    assert!(
        all.contains("--> docker.fs: Imported Docker image: kiln/imported:1.0"),
        "{all}"
    );
    // docker-import does not keep its input: the tarball is removed once imported.
    assert!(!d.join("out/fs.tar").exists(), "{all}");
    assert_eq!(
        dockerd.docker_ok(&["run", "--rm", "--network", "none", "kiln/imported:1.0"]),
        "exported"
    );
    assert_eq!(dockerd.containers().len(), 0);
    // Without the post-processor the tarball stays, with the container's files in it.
    let t = std::fs::read_to_string(d.join("t.pkr.hcl")).unwrap();
    let cut = t.find("  post-processors").unwrap();
    std::fs::write(d.join("t.pkr.hcl"), format!("{}}}\n", &t[..cut])).unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.all()
            .contains("--> docker.fs: Exported Docker file: out/fs.tar"),
        "{}",
        r.all()
    );
    let list = Command::new("tar")
        .args(["-tf"])
        .arg(d.join("out/fs.tar"))
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&list.stdout);
    assert!(names.lines().any(|l| l == "marker"), "{names}");
    assert!(names.lines().any(|l| l == "bin/busybox"), "{names}");
    // docker-tag takes images, not tarballs: Packer's words.
    std::fs::write(
        d.join("t.pkr.hcl"),
        format!(
            "{}  post-processor \"docker-tag\" {{\n    repository = \"kiln/x\"\n  }}\n}}\n",
            &t[..cut]
        ),
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains(
            "Unknown artifact type: packer.docker\nCan only tag from Docker builder artifacts."
        ),
        "{}",
        r.all()
    );
}

#[test]
fn a_failing_provisioner_fails_the_build_and_leaves_no_container() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"f\" {\n  image  = \"kiln-base:1\"\n  pull   = false\n  commit = true\n}\nbuild {\n  sources = [\"source.docker.f\"]\n  provisioner \"shell\" {\n    inline = [\"echo about to fail\", \"exit 3\"]\n  }\n}\n",
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    let all = r.all();
    assert_eq!(r.code, 1, "{all}");
    assert!(
        all.contains("Script exited with non-zero exit status: 3"),
        "{all}"
    );
    assert_eq!(dockerd.containers(), Vec::<String>::new());
    assert!(
        dockerd
            .docker_ok(&["images", "-q", "--filter", "dangling=true"])
            .is_empty(),
        "no image was committed"
    );
    // A base image that is not there, with pull = false: pulled, as `docker run` does; here
    // from a registry that is not there either, which says so.
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"f\" {\n  image  = \"127.0.0.1:9/kiln-missing:1\"\n  pull   = false\n  discard = true\n}\nbuild {\n  sources = [\"source.docker.f\"]\n}\n",
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all()
            .contains("Unable to find image '127.0.0.1:9/kiln-missing:1' locally")
            && r.all()
                .contains("==> docker.f: Pulling Docker image: 127.0.0.1:9/kiln-missing:1\n")
            && r.all().contains("Error pulling Docker image: "),
        "{}",
        r.all()
    );
    assert_eq!(dockerd.containers(), Vec::<String>::new());
}

#[test]
fn ctrl_c_while_provisioning_removes_the_container() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"c\" {\n  image  = \"kiln-base:1\"\n  pull   = false\n  commit = true\n}\nbuild {\n  sources = [\"source.docker.c\"]\n  provisioner \"shell\" {\n    inline = [\"echo provisioning-now\", \"sleep 300\"]\n  }\n}\n",
    )
    .unwrap();
    let (mut child, mut seen, lines) = kiln_tests::start_until(
        kiln(&dockerd, d, &["build", "t.pkr.hcl"]),
        "provisioning-now",
    );
    assert_eq!(dockerd.containers().len(), 1, "the build's container runs");
    let sent = Instant::now();
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    for l in lines {
        seen.push_str(&l.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(20),
        "{:?}",
        sent.elapsed()
    );
    assert!(!status.success(), "{seen}");
    assert!(seen.contains("Killing the container"), "{seen}");
    assert_eq!(dockerd.containers(), Vec::<String>::new(), "{seen}");
}

#[test]
fn validation_names_the_attribute_in_packers_words() {
    let dockerd = Dockerd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (body, want) in [
        ("  pull = false\n", "Image must be specified"),
        (
            "  image = \"x\"\n",
            "No instructions given for handling the artifact; expected commit, discard, or export_path",
        ),
        (
            "  image = \"x\"\n  commit = true\n  discard = true\n",
            "Cannot specify more than one of commit, discard, and export_path",
        ),
        (
            "  image = \"x\"\n  commit = true\n  changes = [\"RUN apt-get update\"]\n",
            "changes: \"RUN apt-get update\" is not an instruction docker commit applies; use one of CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR",
        ),
        (
            "  image = \"x\"\n  commit = true\n  run_command = [\"--oom-kill-disable\", \"{{.Image}}\"]\n",
            "run_command: the docker run flag --oom-kill-disable is not supported",
        ),
    ] {
        std::fs::write(
            d.join("t.pkr.hcl"),
            format!("source \"docker\" \"v\" {{\n{body}}}\nbuild {{\n  sources = [\"source.docker.v\"]\n}}\n"),
        )
        .unwrap();
        let r = run(&dockerd, d, &["validate", "t.pkr.hcl"]);
        assert_eq!(r.code, 1, "{body}: {}", r.all());
        assert!(r.all().contains(want), "{body}: want {want:?} in {}", r.all());
        assert!(r.all().contains("t.pkr.hcl:"), "located: {}", r.all());
    }
}

/// SIGKILL leaves the container running; `kiln cleanup` finds it in the journal (by the name
/// recorded before it was created) and removes it, and a second cleanup has nothing to do.
#[test]
fn sigkill_while_provisioning_then_kiln_cleanup_removes_the_container() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"k\" {\n  image  = \"kiln-base:1\"\n  pull   = false\n  discard = true\n}\nbuild {\n  sources = [\"source.docker.k\"]\n  provisioner \"shell\" {\n    inline = [\"echo provisioning-now\", \"sleep 300\"]\n  }\n}\n",
    )
    .unwrap();
    let (mut child, _seen, _lines) = kiln_tests::start_until(
        kiln(&dockerd, d, &["build", "t.pkr.hcl"]),
        "provisioning-now",
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let left = dockerd.containers();
    assert_eq!(left.len(), 1, "SIGKILL leaves the container: {left:?}");
    assert!(
        left[0].starts_with("kiln-") && left[0].ends_with("-docker.k"),
        "{left:?}"
    );
    let out = run(&dockerd, d, &["cleanup"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.all().contains(&format!(
            "==> Removing docker container {} in local\n",
            left[0]
        )),
        "{}",
        out.all()
    );
    // (and the shell provisioner's script file on the host)
    assert!(
        out.all().ends_with("Removed 2 resources.\n"),
        "{}",
        out.all()
    );
    assert_eq!(dockerd.containers(), Vec::<String>::new());
    let again = run(&dockerd, d, &["cleanup"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(!again.all().contains("Removed"), "{}", again.all());
}

/// docker-tag then docker-push to a real registry (Debian's docker-registry on loopback); the
/// image pulled back from the registry has the digest the push reported, and docker-save writes
/// an image archive.
#[test]
fn tag_push_to_a_registry_pull_back_and_save() {
    let registry = kiln_tests::docker::DockerRegistry::start();
    let (dockerd, dir) = setup();
    let d = dir.path();
    let repo = format!("{}/kiln/pushed", registry.addr);
    std::fs::write(
        d.join("t.pkr.hcl"),
        format!(
            r#"
source "docker" "p" {{
  image  = "kiln-base:1"
  pull   = false
  commit = true
}}
build {{
  sources = ["source.docker.p"]
  provisioner "shell" {{
    inline = ["echo pushed > /pushed.txt"]
  }}
  post-processors {{
    post-processor "docker-tag" {{
      repository = "{repo}"
      tags       = ["v1"]
    }}
    post-processor "docker-push" {{}}
  }}
  post-processors {{
    post-processor "docker-save" {{
      path = "out/saved.tar"
    }}
  }}
}}
"#
        ),
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    let all = r.all();
    assert_eq!(r.code, 0, "{all}");
    assert!(
        all.contains(&format!("    docker.p: Pushing: {repo}:v1\n")),
        "{all}"
    );
    let digest = all
        .split("digest: ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("the push reported no digest: {all}"))
        .to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");
    // Pulled back into an engine that never had it.
    let other = Dockerd::start();
    let pulled = other.docker_ok(&["pull", &format!("{repo}:v1")]);
    assert!(pulled.contains(&format!("Digest: {digest}")), "{pulled}");
    assert_eq!(
        other.docker_ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            &format!("{repo}:v1"),
            "-c",
            "cat /pushed.txt"
        ]),
        "pushed"
    );
    // docker-save: an image archive with its manifest.
    let list = Command::new("tar")
        .arg("-tf")
        .arg(d.join("out/saved.tar"))
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&list.stdout);
    assert!(names.lines().any(|l| l == "manifest.json"), "{names}");
    assert!(all.contains("Saved to: out/saved.tar"), "{all}");
}

/// A legacy JSON template, as Packer's docs wrote them: `tag` a string, `changes` applied.
#[test]
fn a_legacy_json_template_builds_commits_and_tags() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.json"),
        r#"{
  "builders": [{
    "type": "docker",
    "image": "kiln-base:1",
    "pull": false,
    "commit": true,
    "changes": ["LABEL built=json"]
  }],
  "provisioners": [{"type": "shell", "inline": ["touch /from-json"]}],
  "post-processors": [{"type": "docker-tag", "repository": "kiln/json", "tag": "0.1"}]
}
"#,
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.json"]);
    let all = r.all();
    assert_eq!(r.code, 0, "{all}");
    assert!(
        all.contains("--> docker: Imported Docker image: kiln/json:0.1 with tags kiln/json:0.1\n"),
        "{all}"
    );
    let v = run(&dockerd, d, &["validate", "t.json"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.all().contains("`tag` is the old name of `tags`"),
        "{}",
        v.all()
    );
    assert_eq!(
        dockerd.docker_ok(&[
            "image",
            "inspect",
            "-f",
            "{{.Config.Labels.built}}",
            "kiln/json:0.1"
        ]),
        "json"
    );
    assert_eq!(
        dockerd.docker_ok(&[
            "run",
            "--rm",
            "--network",
            "none",
            "kiln/json:0.1",
            "-c",
            "ls /from-json"
        ]),
        "/from-json"
    );
}

/// The catalog records the committed and tagged image like any artifact; `kiln images delete`
/// removes it from the engine (its tags and the image), and says so in the audit log.
#[test]
fn the_catalog_records_container_images_and_delete_removes_them_from_the_engine() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        r#"
source "docker" "web" {
  image  = "kiln-base:1"
  pull   = false
  commit = true
}
build {
  hcp_packer_registry {
    bucket_name = "web"
  }
  sources = ["source.docker.web"]
  post-processor "docker-tag" {
    repository = "kiln/web"
    tags       = ["1"]
  }
}
"#,
    )
    .unwrap();
    let db = d.join("catalog.db");
    let kiln_c = |args: &[&str]| {
        let out = kiln(&dockerd, d, args)
            .env("KILN_CATALOG", &db)
            .env("KILN_USER", "ci")
            .output()
            .unwrap();
        kiln_tests::finished(out)
    };
    let r = kiln_c(&["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let id = dockerd.docker_ok(&["image", "inspect", "-f", "{{.Id}}", "kiln/web:1"]);
    let show = kiln_c(&["images", "show", "web", "1", "--json"]);
    assert_eq!(show.code, 0, "{}", show.all());
    assert!(
        show.stdout.contains(&id),
        "the catalog has the image id: {}",
        show.stdout
    );
    let r = kiln_c(&["images", "delete", "web", "1"]);
    assert_eq!(r.stdout, "web v1: deleted\n", "{}", r.all());
    assert!(
        !dockerd.docker(&["image", "inspect", &id]).status.success(),
        "the image is gone from the engine"
    );
    let log = kiln_c(&["images", "audit", "--bucket", "web"]);
    assert!(log.all().contains("docker:ImageDelete"), "{}", log.all());
}

// --- The fault matrix's docker rows -----------------------------------------------------------

/// The container is killed from outside while a provisioner runs: the build fails at once,
/// saying the container stopped (not only the command's exit status), and leaves nothing.
#[test]
fn the_container_killed_during_provisioning_fails_the_build_with_why() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"k\" {\n  image  = \"kiln-base:1\"\n  pull   = false\n  commit = true\n}\nbuild {\n  sources = [\"source.docker.k\"]\n  provisioner \"shell\" {\n    inline = [\"echo provisioning-now\", \"sleep 300\"]\n  }\n}\n",
    )
    .unwrap();
    let (mut child, mut seen, lines) = kiln_tests::start_until(
        kiln(&dockerd, d, &["build", "t.pkr.hcl"]),
        "provisioning-now",
    );
    let name = dockerd.containers().pop().expect("the build's container");
    let killed = Instant::now();
    let _ = dockerd.docker_ok(&["kill", &name]);
    for l in lines {
        seen.push_str(&l.unwrap());
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(
        killed.elapsed() < Duration::from_secs(15),
        "{:?}",
        killed.elapsed()
    );
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(
        seen.contains(&format!("the container {name} stopped (exit code 137)")),
        "{seen}"
    );
    assert_eq!(dockerd.containers(), Vec::<String>::new(), "{seen}");
}

/// No engine where DOCKER_HOST points: one line saying so and what to check.
#[test]
fn no_engine_at_docker_host_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"n\" {\n  image  = \"kiln-base:1\"\n  discard = true\n}\nbuild {\n  sources = [\"source.docker.n\"]\n}\n",
    )
    .unwrap();
    let sock = d.join("nothing.sock");
    let out = kiln_tests::isolated(KILN)
        .args(["build", "t.pkr.hcl"])
        .current_dir(d)
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .env("KILN_STATE_DIR", d.join("state"))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("Build 'docker.n' errored after ")
            && all.contains("Cannot connect to the Docker engine (")
            && all.contains("). Is dockerd running, and DOCKER_HOST right?"),
        "{all}"
    );
    assert!(!all.contains("panicked"), "{all}");
}

/// The file system of export_path fills up: the build fails naming it, and neither the
/// tarball nor a partial file is left in it; the container is removed.
#[test]
fn a_full_file_system_during_export_fails_cleanly() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::create_dir(d.join("small")).unwrap();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"x\" {\n  image       = \"kiln-base:1\"\n  pull        = false\n  export_path = \"small/fs.tar\"\n}\nbuild {\n  sources = [\"source.docker.x\"]\n  provisioner \"shell\" {\n    inline = [\"dd if=/dev/zero of=/filler bs=1M count=8 2>/dev/null\"]\n  }\n}\n",
    )
    .unwrap();
    let out = kiln_tests::in_small_tmpfs(KILN, d, "2m")
        .env("DOCKER_HOST", &dockerd.host)
        .output()
        .unwrap();
    let all = String::from_utf8_lossy(&out.stdout).to_string();
    assert_ne!(out.status.code(), Some(97), "{all}");
    assert!(all.contains("rc=1\n"), "{all}");
    assert!(
        all.contains("writing small/fs.tar: No space left on device (os error 28): the file system of small is full; free some space there, or write the file elsewhere"),
        "{all}"
    );
    assert!(
        all.ends_with("rc=1\n"),
        "nothing is left in the full file system: {all}"
    );
    assert_eq!(dockerd.containers(), Vec::<String>::new(), "{all}");
}

/// The README's docker example, taken from the README itself, builds as written: `debian:12`
/// is pulled (the engine's Docker Hub is a local registry mirror holding a busybox stand-in
/// under that name), provisioned, committed with the changes and tagged.
#[test]
fn the_readmes_docker_example_builds_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = &readme[readme
        .find("### The docker builder")
        .expect("the README's docker section")..];
    let start = section.find("```hcl\n").unwrap() + "```hcl\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    assert!(example.contains("image   = \"debian:12\""), "{example}");
    // The stand-in for Docker Hub: a registry with library/debian:12 in it.
    let registry = kiln_tests::docker::DockerRegistry::start();
    {
        let seeder = Dockerd::start();
        seeder.import_busybox("stand-in:1");
        let hub = format!("{}/library/debian:12", registry.addr);
        let _ = seeder.docker_ok(&["tag", "stand-in:1", &hub]);
        let _ = seeder.docker_ok(&["push", &hub]);
    }
    let dockerd = Dockerd::start_with_mirror(&registry.addr);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("site")).unwrap();
    std::fs::write(d.join("site/index.html"), "<h1>example</h1>\n").unwrap();
    std::fs::write(d.join("app.pkr.hcl"), example).unwrap();
    let r = run(&dockerd, d, &["build", "app.pkr.hcl"]);
    let all = r.all();
    assert_eq!(r.code, 0, "{all}");
    assert!(
        all.contains("==> docker.app: Pulling Docker image: debian:12\n"),
        "{all}"
    );
    assert!(
        all.contains("--> docker.app: Imported Docker image: example/app:latest with tags example/app:1.0 example/app:latest\n"),
        "{all}"
    );
    assert_eq!(
        dockerd.docker_ok(&["run", "--rm", "--network", "none", "example/app:1.0"]),
        "<h1>example</h1>"
    );
    assert_eq!(
        dockerd.docker_ok(&[
            "image",
            "inspect",
            "-f",
            "{{.Config.User}} {{.Config.WorkingDir}} {{.Config.Env}}",
            "example/app:latest"
        ]),
        "nobody /srv [APP_ENV=production]"
    );
}

/// goss evaluates its spec over the docker communicator as over SSH.
#[test]
fn goss_tests_run_over_the_docker_communicator() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("goss.yaml"),
        "file:\n  /etc/passwd:\n    exists: true\n    contains: [kiln]\n  /missing:\n    exists: false\ncommand:\n  echo-hi:\n    exec: echo hi\n    exit-status: 0\n    stdout: [hi]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"g\" {\n  image   = \"kiln-base:1\"\n  pull    = false\n  discard = true\n}\nbuild {\n  sources = [\"source.docker.g\"]\n  provisioner \"goss\" {\n    tests = [\"goss.yaml\"]\n  }\n}\n",
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.all().contains("Count: 5, Failed: 0, Skipped: 0"),
        "{}",
        r.all()
    );
}

/// `build.ImageSha256` in a post-processor is the committed image's id, as Packer documents.
#[test]
fn post_processors_see_the_image_sha256() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"s\" {\n  image  = \"kiln-base:1\"\n  pull   = false\n  commit = true\n}\nbuild {\n  sources = [\"source.docker.s\"]\n  post-processor \"shell-local\" {\n    inline = [\"echo image=${build.ImageSha256}\"]\n  }\n}\n",
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let id = r
        .all()
        .split("Image ID: ")
        .nth(1)
        .and_then(|t| t.lines().next())
        .unwrap_or_default()
        .to_string();
    assert!(id.starts_with("sha256:"), "{}", r.all());
    assert!(r.all().contains(&format!("image={id}\n")), "{}", r.all());
}

/// Logins stored by `docker login` (the docker CLI's config.json, where DOCKER_CONFIG points)
/// are used to pull a private base image and to push, with no `login_*` in the template; the
/// password appears nowhere; without them the registry's refusal is the error.
#[test]
fn docker_logins_stored_by_the_cli_pull_and_push_private_images() {
    let password = "kiln-registry-pw-5x7";
    let registry = kiln_tests::docker::DockerRegistry::start_with_login("ci", password);
    let base = format!("{}/private/base:1", registry.addr);
    let dockerd = Dockerd::start();
    dockerd.import_busybox("local-base:1");
    let login = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf %s '{password}' | docker login -u ci --password-stdin {}",
            registry.addr
        ))
        .env("DOCKER_HOST", &dockerd.host)
        .env("DOCKER_CONFIG", dockerd.cli_config())
        .output()
        .unwrap();
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let _ = dockerd.docker_ok(&["tag", "local-base:1", &base]);
    let _ = dockerd.docker_ok(&["push", &base]);
    let _ = dockerd.docker_ok(&["rmi", &base]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out_repo = format!("{}/private/out", registry.addr);
    std::fs::write(
        d.join("t.pkr.hcl"),
        format!(
            "source \"docker\" \"p\" {{\n  image  = \"{base}\"\n  commit = true\n}}\nbuild {{\n  sources = [\"source.docker.p\"]\n  post-processors {{\n    post-processor \"docker-tag\" {{\n      repository = \"{out_repo}\"\n      tags       = [\"1\"]\n    }}\n    post-processor \"docker-push\" {{}}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let r = {
        let out = kiln(&dockerd, d, &["build", "t.pkr.hcl"])
            .env("DOCKER_CONFIG", dockerd.cli_config())
            .output()
            .unwrap();
        kiln_tests::finished(out)
    };
    let all = r.all();
    assert_eq!(r.code, 0, "{all}");
    assert!(
        all.contains(&format!("Pulling Docker image: {base}\n")),
        "{all}"
    );
    assert!(all.contains(&format!("Pushing: {out_repo}:1\n")), "{all}");
    assert!(!all.contains(password), "{all}");
    // Without the stored login: the registry refuses, and the build says so.
    let _ = dockerd.docker_ok(&["rmi", &base]);
    let empty = tempfile::tempdir().unwrap();
    let out = kiln(&dockerd, d, &["build", "t.pkr.hcl"])
        .env("DOCKER_CONFIG", empty.path())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("Error pulling Docker image: "), "{all}");
    assert!(
        all.contains("no basic auth credentials") || all.contains("unauthorized"),
        "{all}"
    );
}

/// `-on-error=ask` on a terminal: the operator is told how to enter the container; "a" keeps
/// it (abort), and `kiln cleanup` removes it afterwards.
#[test]
fn on_error_ask_shows_docker_exec_and_abort_keeps_the_container_for_cleanup() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"a\" {\n  image  = \"kiln-base:1\"\n  pull   = false\n  commit = true\n}\nbuild {\n  sources = [\"source.docker.a\"]\n  provisioner \"shell\" {\n    inline = [\"exit 4\"]\n  }\n}\n",
    )
    .unwrap();
    let state = d.join("state");
    let env = [
        ("DOCKER_HOST", dockerd.host.as_str()),
        ("KILN_STATE_DIR", state.to_str().unwrap()),
    ];
    let r = kiln_tests::run_on_terminal_with_env(
        KILN,
        d,
        &["build", "-on-error=ask", "t.pkr.hcl"],
        b"a\n",
        &env,
    );
    assert_eq!(r.code, 1, "{}", r.all());
    let id = r
        .all()
        .split("Container ID: ")
        .nth(1)
        .and_then(|t| t.lines().next())
        .unwrap_or_default()
        .to_string();
    assert!(
        r.stdout.contains(&format!(
            "==> docker.a: The container is still running; enter it with: docker exec -it {id} /bin/sh\n"
        )),
        "{}",
        r.all()
    );
    assert_eq!(dockerd.containers().len(), 1, "abort keeps it: {}", r.all());
    let c = run(&dockerd, d, &["cleanup"]);
    assert_eq!(c.code, 0, "{}", c.all());
    assert_eq!(dockerd.containers(), Vec::<String>::new(), "{}", c.all());
}

/// `exec_user`: commands run as that user; uploads go to the image's user (root here), as in
/// Packer.
#[test]
fn exec_user_runs_commands_as_that_user() {
    let (dockerd, dir) = setup();
    let d = dir.path();
    std::fs::write(d.join("f.txt"), "x\n").unwrap();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"docker\" \"u\" {\n  image     = \"kiln-base:1\"\n  pull      = false\n  discard   = true\n  exec_user = \"kiln\"\n}\nbuild {\n  sources = [\"source.docker.u\"]\n  provisioner \"file\" {\n    source      = \"f.txt\"\n    destination = \"/tmp/f.txt\"\n  }\n  provisioner \"shell\" {\n    inline = [\"echo uid=$(id -u) owner=$(stat -c %u /tmp/f.txt)\"]\n  }\n}\n",
    )
    .unwrap();
    let r = run(&dockerd, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("uid=1000 owner=0\n"), "{}", r.all());
}

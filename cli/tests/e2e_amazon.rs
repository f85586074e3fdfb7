//! End-to-end tests of amazon-ebs and amazon-ami through the binary, against moto's EC2 server
//! (tests/moto/server.py) and a real sshd on loopback standing in for the instance: moto's
//! instances have addresses where nothing listens, so the template gives `ssh_host`/`ssh_port`.
//! Afterwards the EC2 API is asked what was left: AMIs, tags, permissions, and no instance, key
//! pair or security group.
#![cfg(feature = "amazon")]

use base64::Engine as _;
use kiln_builder_amazon::client::Access;
use kiln_builder_amazon::config::AmazonConfig;
use kiln_builder_amazon::sdk::types::Filter;
use kiln_builder_amazon::sdk::Client;
use kiln_tests::moto::Moto;
use kiln_tests::{run, Sshd};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ec2(moto: &Moto, region: &str) -> Client {
    let cfg = AmazonConfig {
        access_key: Some("test".into()),
        secret_key: Some("test".into()),
        region: Some(region.into()),
        custom_endpoint_ec2: Some(moto.endpoint()),
        ..AmazonConfig::default()
    };
    rt().block_on(Access::load(&cfg)).ec2(region)
}

/// Registers a source image named `name` in us-east-1; returns its id.
fn register_base(moto: &Moto, name: &str) -> String {
    let c = ec2(moto, "us-east-1");
    rt().block_on(async {
        c.register_image()
            .name(name)
            .root_device_name("/dev/sda1")
            .architecture("x86_64".into())
            .virtualization_type("hvm")
            .send()
            .await
            .unwrap()
            .image_id()
            .unwrap()
            .to_string()
    })
}

/// Copies every public key Kiln imports into moto to the sshd's authorized keys, as EC2 would
/// install it on the instance. Stops when the returned flag is set.
fn authorize_imported_keys(moto: &Moto, sshd: &Sshd) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let port = moto.port;
    let keys = sshd.key_path().parent().unwrap().join("authorized_keys");
    std::thread::spawn(move || {
        let m = MotoPort(port);
        let mut done = std::collections::BTreeSet::new();
        while !flag.load(Ordering::Relaxed) {
            for c in m.calls() {
                if c["action"] == "ImportKeyPair" {
                    let material = c["params"]["PublicKeyMaterial"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    if done.insert(material.clone()) {
                        let key = base64::engine::general_purpose::STANDARD
                            .decode(material)
                            .unwrap();
                        let mut text = std::fs::read_to_string(&keys).unwrap();
                        text.push_str(&String::from_utf8(key).unwrap());
                        text.push('\n');
                        std::fs::write(&keys, text).unwrap();
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    });
    stop
}

/// The call log of a moto server by port (for the thread above).
struct MotoPort(u16);
impl MotoPort {
    fn calls(&self) -> Vec<serde_json::Value> {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.0)) else {
            return Vec::new();
        };
        let _ = write!(s, "GET /__kiln/calls HTTP/1.0\r\nHost: x\r\n\r\n");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.split_once("\r\n\r\n")
            .and_then(|(_, b)| serde_json::from_str(b).ok())
            .unwrap_or_default()
    }
}

/// What the account holds in `region`: AMIs by name with their tags, running instances, key
/// pairs and non-default security groups.
#[derive(Debug, Default)]
struct Leftovers {
    running: Vec<String>,
    key_pairs: Vec<String>,
    groups: Vec<String>,
}

fn leftovers(moto: &Moto, region: &str) -> Leftovers {
    let c = ec2(moto, region);
    rt().block_on(async {
        let inst = c.describe_instances().send().await.unwrap();
        let running = inst
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) != Some("terminated"))
            .map(|i| i.instance_id().unwrap_or_default().to_string())
            .collect();
        let key_pairs = c
            .describe_key_pairs()
            .send()
            .await
            .unwrap()
            .key_pairs()
            .iter()
            .map(|k| k.key_name().unwrap_or_default().to_string())
            .collect();
        let groups = c
            .describe_security_groups()
            .send()
            .await
            .unwrap()
            .security_groups()
            .iter()
            .filter(|g| g.group_name() != Some("default"))
            .map(|g| g.group_name().unwrap_or_default().to_string())
            .collect();
        Leftovers {
            running,
            key_pairs,
            groups,
        }
    })
}

fn assert_nothing_left(moto: &Moto, out: &str) {
    let l = leftovers(moto, "us-east-1");
    assert!(
        l.running.is_empty() && l.key_pairs.is_empty() && l.groups.is_empty(),
        "left behind: {l:?}\n{out}"
    );
}

fn images_named(
    moto: &Moto,
    region: &str,
    name: &str,
) -> Vec<kiln_builder_amazon::sdk::types::Image> {
    let c = ec2(moto, region);
    rt().block_on(async {
        c.describe_images()
            .owners("self")
            .filters(Filter::builder().name("name").values(name).build())
            .send()
            .await
            .unwrap()
            .images()
            .to_vec()
    })
}

fn tags_of(i: &kiln_builder_amazon::sdk::types::Image) -> BTreeMap<String, String> {
    i.tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

fn template(moto: &Moto, sshd: &Sshd, extra: &str, provisioner: &str) -> String {
    format!(
        r#"source "amazon-ebs" "web" {{
  region              = "us-east-1"
  access_key          = "test"
  secret_key          = "kiln-moto-secret"
  custom_endpoint_ec2 = "{endpoint}"
  instance_type       = "t3.micro"
  source_ami_filter {{
    filters     = {{ name = "kiln-base-*" }}
    owners      = ["self"]
    most_recent = true
  }}
  ssh_username            = "{user}"
  ssh_host                = "127.0.0.1"
  ssh_port                = {port}
  ssh_timeout             = "30s"
  temporary_key_pair_type = "ed25519"
{extra}}}
build {{
  sources = ["source.amazon-ebs.web"]
{provisioner}}}
"#,
        endpoint = moto.endpoint(),
        user = sshd.user,
        port = sshd.port,
    )
}

/// A template whose build waits for SSH (5 minutes) on a port where nothing listens, until
/// it is interrupted or killed.
fn waiting_for_ssh(moto: &Moto, ami_name: &str) -> String {
    let closed = kiln_tests::free_port();
    let sshd = Sshd::start();
    template(moto, &sshd, &format!("  ami_name = \"{ami_name}\"\n"), "")
        .replace(
            &format!("ssh_port                = {}", sshd.port),
            &format!("ssh_port                = {closed}"),
        )
        .replace(
            "ssh_timeout             = \"30s\"",
            "ssh_timeout             = \"5m\"",
        )
}

fn write(d: &Path, text: &str) {
    std::fs::write(d.join("t.pkr.hcl"), text).unwrap();
}

#[test]
fn builds_an_ami_in_three_regions_with_tags_permissions_and_deprecation_and_leaves_nothing() {
    let moto = Moto::start();
    let sshd = Sshd::start();
    let stop = authorize_imported_keys(&moto, &sshd);
    register_base(&moto, "kiln-base-2023");
    let newest = register_base(&moto, "kiln-base-2024");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        &template(
            &moto,
            &sshd,
            r#"  ami_name        = "kiln-web-1"
  ami_description = "from {{ .SourceAMI }}"
  ami_regions     = ["us-west-2", "eu-west-1"]
  ami_users       = ["111122223333"]
  deprecate_at    = "2030-01-01T00:00:00Z"
  tags = {
    Name   = "web"
    Base   = "{{ .SourceAMIName }}"
    Region = "{{ .BuildRegion }}"
  }
  snapshot_tags = { Kind = "snapshot" }
  run_tags      = { Purpose = "build" }
  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
"#,
            "  provisioner \"shell\" {\n    inline = [\"echo provisioned-$((20 + 22))\"]\n  }\n",
        ),
    );
    let r = run(KILN, d, &["build", "-machine-readable", "t.pkr.hcl"]);
    stop.store(true, Ordering::Relaxed);
    let out = r.all();
    assert_eq!(r.code, 0, "{out}");
    assert!(out.contains("provisioned-42"), "{out}");
    let mut ids = BTreeMap::new();
    for region in ["us-east-1", "us-west-2", "eu-west-1"] {
        let images = images_named(&moto, region, "kiln-web-1");
        assert_eq!(images.len(), 1, "{region}: {images:?}\n{out}");
        let i = &images[0];
        assert_eq!(
            i.description(),
            Some(format!("from {newest}").as_str()),
            "{region}"
        );
        assert_eq!(
            tags_of(i),
            BTreeMap::from([
                ("Name".to_string(), "web".to_string()),
                ("Base".to_string(), "kiln-base-2024".to_string()),
                ("Region".to_string(), "us-east-1".to_string()),
            ]),
            "{region}"
        );
        let c = ec2(&moto, region);
        let ami = i.image_id().unwrap().to_string();
        let perms = rt().block_on(async {
            c.describe_image_attribute()
                .image_id(&ami)
                .attribute("launchPermission".into())
                .send()
                .await
                .unwrap()
                .launch_permissions()
                .iter()
                .map(|p| p.user_id().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        });
        assert_eq!(perms, ["111122223333"], "{region}");
        let snap = i.block_device_mappings()[0]
            .ebs()
            .unwrap()
            .snapshot_id()
            .unwrap()
            .to_string();
        let snap_tags: BTreeMap<String, String> = rt().block_on(async {
            c.describe_snapshots()
                .snapshot_ids(&snap)
                .send()
                .await
                .unwrap()
                .snapshots()[0]
                .tags()
                .iter()
                .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
                .collect()
        });
        assert_eq!(
            snap_tags.get("Kind").map(String::as_str),
            Some("snapshot"),
            "{region}"
        );
        assert_eq!(
            snap_tags.get("Name").map(String::as_str),
            Some("web"),
            "{region}"
        );
        ids.insert(region, ami);
    }
    // Packer's artifact id: region:ami pairs, sorted.
    let id = format!(
        "eu-west-1:{},us-east-1:{},us-west-2:{}",
        ids["eu-west-1"], ids["us-east-1"], ids["us-west-2"]
    );
    // (-machine-readable escapes its commas as Packer does.)
    assert!(
        out.contains(&format!(
            ",artifact,0,id,{}",
            id.replace(',', "%!(PACKER_COMMA)")
        )),
        "{out}"
    );
    // EnableImageDeprecation is answered by the test layer (moto lacks it): check the requests.
    let deprecations = moto.deprecations();
    for (region, ami) in &ids {
        assert_eq!(
            deprecations[format!("{region}/{ami}")],
            "2030-01-01T00:00:00Z",
            "{deprecations}"
        );
    }
    assert_nothing_left(&moto, &out);
    // The instance ran with the run tags, and the temporary key pair was imported, not created.
    let actions = moto.actions();
    assert!(
        actions.contains(&"ImportKeyPair".to_string()),
        "{actions:?}"
    );
    assert!(
        !actions.contains(&"CreateKeyPair".to_string()),
        "{actions:?}"
    );
    let run_call = moto
        .calls()
        .into_iter()
        .find(|c| c["action"] == "RunInstances")
        .unwrap();
    let params = run_call["params"].to_string();
    assert!(
        params.contains("Purpose") && params.contains("Packer Builder"),
        "{params}"
    );
    // metadata_options, with Packer's default for what it leaves out.
    let p = &run_call["params"];
    assert_eq!(
        (
            p["MetadataOptions.HttpTokens"].as_str(),
            p["MetadataOptions.HttpPutResponseHopLimit"].as_str(),
            p["MetadataOptions.HttpEndpoint"].as_str(),
        ),
        (Some("required"), Some("2"), Some("enabled")),
        "{params}"
    );
}

#[test]
fn a_failing_provisioner_terminates_the_instance_and_deletes_key_pair_group_and_ami() {
    let moto = Moto::start();
    let sshd = Sshd::start();
    let stop = authorize_imported_keys(&moto, &sshd);
    register_base(&moto, "kiln-base-1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        &template(
            &moto,
            &sshd,
            "  ami_name = \"kiln-fail\"\n",
            "  provisioner \"shell\" {\n    inline = [\"exit 3\"]\n  }\n",
        ),
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    stop.store(true, Ordering::Relaxed);
    let out = r.all();
    assert_eq!(r.code, 1, "{out}");
    assert!(
        out.contains("Script exited with non-zero exit status: 3"),
        "{out}"
    );
    assert!(
        images_named(&moto, "us-east-1", "kiln-fail").is_empty(),
        "{out}"
    );
    assert_nothing_left(&moto, &out);
}

#[test]
fn an_ami_name_in_use_fails_before_anything_is_launched_unless_force_deregister() {
    let moto = Moto::start();
    let base = register_base(&moto, "kiln-base-1");
    let _ = base;
    // An AMI that already has the name.
    register_base(&moto, "kiln-taken");
    let old = images_named(&moto, "us-east-1", "kiln-taken")[0]
        .image_id()
        .unwrap()
        .to_string();
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = |extra: &str| {
        template(
            &moto,
            &sshd,
            &format!("  ami_name = \"kiln-taken\"\n  communicator = \"none\"\n{extra}"),
            "",
        )
        .replace(
            "  source_ami_filter {\n    filters     = { name = \"kiln-base-*\" }",
            "  source_ami_filter {\n    filters     = { name = \"kiln-base-1\" }",
        )
    };
    write(d, &body(""));
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.all().contains(&format!(
            "Error: AMI Name: 'kiln-taken' is used by an existing AMI: {old}"
        )),
        "{}",
        r.all()
    );
    assert!(!moto.actions().contains(&"RunInstances".to_string()));
    write(
        d,
        &body("  force_deregister = true\n  force_delete_snapshot = true\n"),
    );
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let now = images_named(&moto, "us-east-1", "kiln-taken");
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].image_id().unwrap(), old);
    assert!(
        r.all().contains(&format!("Deregistered AMI id: {old}")),
        "{}",
        r.all()
    );
    assert_nothing_left(&moto, &r.all());
}

#[test]
fn throttling_and_5xx_are_retried_and_persistent_ones_fail_clearly() {
    let moto = Moto::start();
    register_base(&moto, "kiln-base-1");
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        &template(
            &moto,
            &sshd,
            "  ami_name = \"kiln-retry\"\n  communicator = \"none\"\n",
            "",
        ),
    );
    moto.faults(&serde_json::json!([
        {"action": "RunInstances", "status": 503, "code": "RequestLimitExceeded", "count": 2},
        {"action": "CreateImage", "status": 500, "code": "InternalError", "count": 1},
    ]));
    let log = d.join("debug.log");
    let r = kiln_tests::run_with_env(
        KILN,
        d,
        &["build", "t.pkr.hcl"],
        &[
            ("PACKER_LOG", "1"),
            ("PACKER_LOG_PATH", log.to_str().unwrap()),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // The debug log has every API call, with its attempts, status and duration.
    let logged = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = logged.lines().filter(|l| l.contains("api call")).collect();
    assert!(
        calls.iter().any(|l| l.contains("RunInstances")
            && l.contains("attempts=3")
            && l.contains("status=200")
            && l.contains("elapsed_ms=")),
        "{logged}"
    );
    assert!(calls.iter().any(|l| l.contains("CreateImage")), "{logged}");
    assert_eq!(
        logged
            .lines()
            .filter(|l| l.contains("api attempt failed")
                && l.contains("RunInstances")
                && l.contains("status=503"))
            .count(),
        2,
        "{logged}"
    );
    let actions = moto.actions();
    assert_eq!(
        actions.iter().filter(|a| *a == "RunInstances").count(),
        3,
        "{actions:?}"
    );
    assert_eq!(images_named(&moto, "us-east-1", "kiln-retry").len(), 1);

    write(
        d,
        &template(
            &moto,
            &sshd,
            "  ami_name = \"kiln-retry-2\"\n  communicator = \"none\"\n  max_retries = 3\n",
            "",
        ),
    );
    moto.faults(&serde_json::json!([
        {"action": "CreateImage", "status": 503, "code": "RequestLimitExceeded", "count": -1},
    ]));
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    let out = r.all();
    assert_eq!(r.code, 1, "{out}");
    assert!(
        out.contains("Error creating AMI: RequestLimitExceeded: injected by the test"),
        "{out}"
    );
    moto.faults(&serde_json::json!([]));
    assert_nothing_left(&moto, &out);
}

#[test]
fn rejected_credentials_are_a_clear_error() {
    let moto = Moto::start();
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        &template(
            &moto,
            &sshd,
            "  ami_name = \"kiln-auth\"\n  communicator = \"none\"\n",
            "",
        ),
    );
    moto.faults(&serde_json::json!([
        {"action": "*", "status": 401, "code": "AuthFailure", "count": -1},
    ]));
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    let out = r.all();
    assert_eq!(r.code, 1, "{out}");
    assert!(
        out.contains("Error querying AMI: AuthFailure: injected by the test (check the credentials: access_key/secret_key, profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"),
        "{out}"
    );
}

#[test]
fn ctrl_c_while_waiting_for_ssh_cleans_everything_up() {
    let moto = Moto::start();
    register_base(&moto, "kiln-base-1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &waiting_for_ssh(&moto, "kiln-cancel"));
    let child = kiln_tests::isolated(KILN)
        .args(["build", "t.pkr.hcl"])
        .current_dir(d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !moto.actions().contains(&"RunInstances".to_string()) {
        assert!(std::time::Instant::now() < deadline, "no RunInstances");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let pid = i32::try_from(child.id()).unwrap();
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Terminating the source AWS instance..."),
        "{text}"
    );
    assert_nothing_left(&moto, &text);
}

#[test]
fn the_amazon_ami_data_source_finds_the_newest_match_or_says_why_not() {
    let moto = Moto::start();
    register_base(&moto, "kiln-base-2023");
    let newest = register_base(&moto, "kiln-base-2024");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tpl = |extra: &str| {
        format!(
            r#"data "amazon-ami" "base" {{
  region              = "us-east-1"
  access_key          = "test"
  secret_key          = "kiln-moto-secret"
  custom_endpoint_ec2 = "{}"
  filters             = {{ name = "kiln-base-*" }}
  owners              = ["self"]
{extra}}}
source "file" "out" {{
  content = "${{data.amazon-ami.base.id}} ${{data.amazon-ami.base.name}} ${{data.amazon-ami.base.owner}}"
  target  = "out.txt"
}}
build {{ sources = ["source.file.out"] }}
"#,
            moto.endpoint()
        )
    };
    write(d, &tpl("  most_recent = true\n"));
    let r = run(KILN, d, &["build", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(d.join("out.txt")).unwrap(),
        format!("{newest} kiln-base-2024 123456789012")
    );
    write(d, &tpl(""));
    // validate runs data sources only when asked (Packer >= 1.8.5).
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = run(KILN, d, &["validate", "-evaluate-datasources", "t.pkr.hcl"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("t.pkr.hcl:1:1")
            && r.stderr.contains("data.amazon-ami.base: Your query returned more than one result. Please try a more specific search, or set most_recent to true."),
        "{}",
        r.all()
    );
}

#[test]
fn bad_options_are_located_errors_at_validate_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        r#"source "amazon-ebs" "bad" {
  region        = "us-east-1"
  instance_type = ["t3.micro"]
  source_ami_filter {
    filters = { name = "x-*" }
  }
  ami_nmae      = "x"
  ssh_username  = "root"
}
build { sources = ["source.amazon-ebs.bad"] }
"#,
    );
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    let out = r.all();
    assert_eq!(r.code, 1, "{out}");
    insta::assert_snapshot!("amazon_bad_options", kiln_tests::normalize(&out, d));
}

/// The snapshot ids behind `ami` in `region`.
fn snapshots_of(moto: &Moto, region: &str, ami: &str) -> Vec<String> {
    let c = ec2(moto, region);
    rt().block_on(async {
        let d = c.describe_images().image_ids(ami).send().await.unwrap();
        d.images()
            .iter()
            .flat_map(|i| i.block_device_mappings())
            .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(String::from))
            .collect()
    })
}

fn snapshot_exists(moto: &Moto, region: &str, id: &str) -> bool {
    let c = ec2(moto, region);
    rt().block_on(async {
        c.describe_snapshots()
            .snapshot_ids(id)
            .send()
            .await
            .map(|d| !d.snapshots().is_empty())
            .unwrap_or(false)
    })
}

fn image_state(moto: &Moto, region: &str, ami: &str) -> Option<String> {
    let c = ec2(moto, region);
    rt().block_on(async {
        let d = c.describe_images().image_ids(ami).send().await.ok()?;
        d.images()
            .first()
            .and_then(|i| i.state())
            .map(|s| s.as_str().to_string())
    })
}

#[test]
fn the_catalog_deprecates_disables_restores_and_deletes_amis_in_every_region() {
    let moto = Moto::start();
    register_base(&moto, "kiln-base-2024");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        &format!(
            r#"source "amazon-ebs" "web" {{
  region              = "us-east-1"
  access_key          = "test"
  secret_key          = "kiln-moto-secret"
  custom_endpoint_ec2 = "{}"
  instance_type       = "t3.micro"
  source_ami_filter {{
    filters     = {{ name = "kiln-base-*" }}
    owners      = ["self"]
    most_recent = true
  }}
  communicator = "none"
  ami_name     = "kiln-web-${{uuidv4()}}"
  ami_regions  = ["us-west-2"]
}}
build {{
  hcp_packer_registry {{
    bucket_name = "web"
  }}
  sources = ["source.amazon-ebs.web"]
}}
"#,
            moto.endpoint()
        ),
    );
    let db = d.join("catalog.db");
    let endpoint = moto.endpoint();
    let env = [
        ("KILN_CATALOG", db.to_str().unwrap()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        // SSM's endpoint is the SDK's own setting (the template's is EC2's only).
        ("AWS_ENDPOINT_URL_SSM", endpoint.as_str()),
        ("KILN_USER", "ci"),
    ];
    let kiln = |args: &[&str]| kiln_tests::run_with_env(KILN, d, args, &env);
    for _ in 0..2 {
        let r = kiln(&["build", "t.pkr.hcl"]);
        assert_eq!(r.code, 0, "{}", r.all());
    }
    let show = kiln(&["images", "show", "web", "2", "--json"]);
    let v2: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    let amis: BTreeMap<String, String> =
        serde_json::from_value(v2["artifacts"][0]["state"]["amis"].clone()).unwrap();
    assert_eq!(amis.keys().collect::<Vec<_>>(), ["us-east-1", "us-west-2"]);
    assert_eq!(
        v2["artifacts"][0]["regions"],
        serde_json::json!(["us-east-1", "us-west-2"])
    );
    kiln(&["images", "promote", "web", "2", "--channel", "prod"]);
    let r = kiln(&[
        "images",
        "channel",
        "get",
        "web",
        "prod",
        "--region",
        "us-west-2",
    ]);
    assert_eq!(r.stdout, format!("{}\n", amis["us-west-2"]), "{}", r.all());
    let r = kiln(&["images", "channel", "get", "web", "prod"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("is in several regions (us-east-1, us-west-2); choose one with --region"),
        "{}",
        r.stderr
    );
    // Publishing the channel to SSM: now, and again whenever it moves.
    let r = kiln(&[
        "images",
        "channel",
        "publish",
        "web",
        "prod",
        "--ssm",
        "/images/web/prod",
    ]);
    assert_eq!(
        r.stdout,
        format!(
            "web: prod is published to /images/web/prod (again after every promote and rollback)\n  ssm:PutParameter us-east-1 /images/web/prod={}\n  ssm:PutParameter us-west-2 /images/web/prod={}\n",
            amis["us-east-1"], amis["us-west-2"]
        ),
        "{}",
        r.all()
    );
    let r = kiln(&[
        "images",
        "channel",
        "publish",
        "web",
        "prod",
        "--ssm",
        "/images/web/prod-west",
        "--region",
        "us-west-2",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = kiln(&[
        "images",
        "channel",
        "publish",
        "web",
        "prod",
        "--ssm",
        "/x",
        "--region",
        "eu-west-1",
    ]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (1, "Error: cannot publish web v2 to /x: it has no image in eu-west-1 (its regions: us-east-1, us-west-2)\n"),
    );
    let param = |region: &str, name: &str| {
        let p = moto.ssm_parameters(region);
        assert_eq!(p[name]["data_type"], "aws:ec2:image", "{p}");
        p[name]["value"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(param("us-east-1", "/images/web/prod"), amis["us-east-1"]);
    assert_eq!(param("us-west-2", "/images/web/prod"), amis["us-west-2"]);
    assert_eq!(
        param("us-west-2", "/images/web/prod-west"),
        amis["us-west-2"]
    );
    assert!(moto.ssm_parameters("us-east-1")["/images/web/prod-west"].is_null());
    let r = kiln(&["images", "channel", "publish", "web", "prod"]);
    assert_eq!(
        r.stdout,
        "PARAMETER              REGIONS    BY\n/images/web/prod       all        root@kiln-test\n/images/web/prod-west  us-west-2  root@kiln-test\n"
            .replace(
                "root@kiln-test",
                &format!(
                    "ci@{}",
                    std::fs::read_to_string("/proc/sys/kernel/hostname")
                        .unwrap()
                        .trim()
                )
            ),
        "{}",
        r.all()
    );
    let show1 = kiln(&["images", "show", "web", "1", "--json"]);
    let v1: serde_json::Value = serde_json::from_str(&show1.stdout).unwrap();
    let amis1: BTreeMap<String, String> =
        serde_json::from_value(v1["artifacts"][0]["state"]["amis"].clone()).unwrap();
    let r = kiln(&["images", "promote", "web", "1", "--channel", "prod"]);
    assert_eq!(
        r.stdout,
        format!(
            "web: prod -> v1\n  ssm:PutParameter us-east-1 /images/web/prod={}\n  ssm:PutParameter us-west-2 /images/web/prod={}\n  ssm:PutParameter us-west-2 /images/web/prod-west={}\n",
            amis1["us-east-1"], amis1["us-west-2"], amis1["us-west-2"]
        ),
        "{}",
        r.all()
    );
    assert_eq!(param("us-east-1", "/images/web/prod"), amis1["us-east-1"]);
    assert_eq!(
        param("us-west-2", "/images/web/prod-west"),
        amis1["us-west-2"]
    );
    let r = kiln(&["images", "rollback", "web", "--channel", "prod"]);
    assert!(
        r.stdout.starts_with("web: prod -> v2 (rolled back)\n"),
        "{}",
        r.all()
    );
    assert_eq!(param("us-east-1", "/images/web/prod"), amis["us-east-1"]);
    let r = kiln(&[
        "images",
        "channel",
        "publish",
        "web",
        "prod",
        "--ssm",
        "/images/web/prod-west",
        "--off",
    ]);
    assert_eq!(
        r.stdout,
        "web: prod is no longer published to /images/web/prod-west\n",
        "{}",
        r.all()
    );
    let r = kiln(&["images", "promote", "web", "1", "--channel", "prod"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(param("us-east-1", "/images/web/prod"), amis1["us-east-1"]);
    assert_eq!(
        param("us-west-2", "/images/web/prod-west"),
        amis["us-west-2"],
        "no longer published"
    );

    let r = kiln(&[
        "images",
        "deprecate",
        "web",
        "2",
        "--at",
        "2030-01-01T00:00:00Z",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let dep = moto.deprecations();
    for (region, ami) in &amis {
        assert!(
            dep[format!("{region}/{ami}")]
                .as_str()
                .unwrap_or_default()
                .starts_with("2030-01-01T00:00:00"),
            "{dep}"
        );
    }
    let r = kiln(&["images", "disable", "web", "2"]);
    assert_eq!(r.stdout, "web v2: disabled\n", "{}", r.all());
    for (region, ami) in &amis {
        assert_eq!(image_state(&moto, region, ami).as_deref(), Some("disabled"));
    }
    let r = kiln(&["images", "restore", "web", "2"]);
    assert_eq!(r.stdout, "web v2: active\n", "{}", r.all());
    for (region, ami) in &amis {
        assert_eq!(
            image_state(&moto, region, ami).as_deref(),
            Some("available")
        );
    }
    let snaps: Vec<(String, String)> = amis
        .iter()
        .flat_map(|(r, a)| {
            snapshots_of(&moto, r, a)
                .into_iter()
                .map(move |s| (r.clone(), s))
        })
        .collect();
    assert_eq!(snaps.len(), 2, "one snapshot per region: {snaps:?}");
    // Cut short after the first region's image is gone: the catalog keeps v2 as it was and
    // audits the call made; running delete again finishes it.
    moto.faults(&serde_json::json!([
        {"action": "DeleteSnapshot", "status": 400, "code": "InvalidSnapshot.InUse", "count": 1},
    ]));
    let r = kiln(&["images", "delete", "web", "2"]);
    moto.faults(&serde_json::json!([]));
    assert_eq!(r.code, 2, "{}", r.all());
    let first = snaps.iter().find(|s| s.0 == "us-east-1").unwrap();
    assert!(
        r.stderr.contains(&format!(
            "DeleteSnapshot {} in us-east-1: InvalidSnapshot.InUse: injected by the test",
            first.1
        )),
        "{}",
        r.stderr
    );
    let again = kiln(&["images", "show", "web", "2", "--json"]);
    let v2: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(v2["state"], "active");
    assert_eq!(image_state(&moto, "us-east-1", &amis["us-east-1"]), None);
    assert_eq!(
        image_state(&moto, "us-west-2", &amis["us-west-2"]).as_deref(),
        Some("available")
    );
    let r = kiln(&["images", "delete", "web", "2"]);
    assert_eq!(r.stdout, "web v2: deleted\n", "{}", r.all());
    for (region, ami) in &amis {
        assert_eq!(
            image_state(&moto, region, ami),
            None,
            "{ami} in {region} is gone"
        );
    }
    for (region, s) in &snaps {
        assert!(
            !snapshot_exists(&moto, region, s),
            "{s} in {region} is gone"
        );
    }
    let audit = kiln(&["images", "audit", "--json"]);
    let log: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    let calls: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(e["detail"].as_str()?).ok())
        .flat_map(|d| d["calls"].as_array().cloned().unwrap_or_default())
        .map(|c| {
            c.as_str()
                .unwrap()
                .split(' ')
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        calls,
        [
            // publish, publish --region us-west-2, then promote 1, rollback and promote 1.
            "ssm:PutParameter us-east-1",
            "ssm:PutParameter us-west-2",
            "ssm:PutParameter us-west-2",
            "ssm:PutParameter us-east-1",
            "ssm:PutParameter us-west-2",
            "ssm:PutParameter us-west-2",
            "ssm:PutParameter us-east-1",
            "ssm:PutParameter us-west-2",
            "ssm:PutParameter us-west-2",
            "ssm:PutParameter us-east-1",
            "ssm:PutParameter us-west-2",
            "ec2:EnableImageDeprecation us-east-1",
            "ec2:EnableImageDeprecation us-west-2",
            "ec2:DisableImage us-east-1",
            "ec2:DisableImage us-west-2",
            "ec2:EnableImage us-east-1",
            "ec2:EnableImage us-west-2",
            "ec2:DisableImageDeprecation us-east-1",
            "ec2:DisableImageDeprecation us-west-2",
            // The delete cut short, then the one that finished it.
            "ec2:DeregisterImage us-east-1",
            "ec2:DeregisterImage us-east-1",
            "ec2:DeleteSnapshot us-east-1",
            "ec2:DeregisterImage us-west-2",
            "ec2:DeleteSnapshot us-west-2",
        ]
    );
    assert_eq!(kiln(&["images", "audit", "verify"]).code, 0);
}

/// Post-image tests of an AMI: the `test` post-processor and `kiln test REGION:AMI` each launch
/// an instance of the new AMI (the local sshd stands in for it, as for the build's instance)
/// with a temporary key pair and security group, run the spec, and remove all three.
#[test]
fn the_test_post_processor_and_kiln_test_launch_the_ami_and_leave_nothing() {
    let moto = Moto::start();
    let sshd = Sshd::start();
    let stop = authorize_imported_keys(&moto, &sshd);
    register_base(&moto, "kiln-base-1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("goss.yaml"),
        "file:\n  /etc/passwd:\n    exists: true\ncommand:\n  echo tested:\n    exit-status: 0\n    stdout: [tested]\n",
    )
    .unwrap();
    let pp = format!(
        "  post-processor \"test\" {{\n    tests        = [\"goss.yaml\"]\n    ssh_username = \"{user}\"\n    ssh_host     = \"127.0.0.1\"\n    ssh_port     = {port}\n    format       = \"tap\"\n  }}\n",
        user = sshd.user,
        port = sshd.port
    );
    write(
        d,
        &template(
            &moto,
            &sshd,
            "  ami_name = \"kiln-tested-{{timestamp}}\"\n",
            &pp,
        ),
    );
    let endpoint = moto.endpoint();
    let env = [
        ("KILN_CATALOG", "none"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL_EC2", endpoint.as_str()),
    ];
    let r = kiln_tests::run_with_env(KILN, d, &["build", "t.pkr.hcl"], &env);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("    amazon-ebs.web: ok 2 - Command: echo tested: exit-status: matches expectation: 0\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("==> amazon-ebs.web: Stopped instance i-"),
        "{}",
        r.stdout
    );
    let ami = r
        .stdout
        .lines()
        .find_map(|l| {
            l.split_once("us-east-1: ami-")
                .map(|(_, id)| format!("ami-{id}"))
        })
        .unwrap_or_else(|| panic!("no AMI in {}", r.stdout));
    let port = sshd.port.to_string();
    let test = |spec: &str| {
        kiln_tests::run_with_env(
            KILN,
            d,
            &[
                "test",
                &format!("us-east-1:{ami}"),
                "--spec",
                spec,
                "--ssh-username",
                &sshd.user,
                "--ssh-host",
                "127.0.0.1",
                "--ssh-port",
                &port,
            ],
            &env,
        )
    };
    let r = test("goss.yaml");
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Count: 3, Failed: 0, Skipped: 0\n"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("==> Removed instance i-"), "{}", r.stderr);
    std::fs::write(
        d.join("fail.yaml"),
        "file:\n  /no/such/file:\n    exists: true\n",
    )
    .unwrap();
    let r = test("fail.yaml");
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("File: /no/such/file: exists:\nExpected\n    false\nto match\n    true\n"),
        "{}",
        r.stdout
    );
    let launched = moto
        .actions()
        .iter()
        .filter(|a| a.as_str() == "RunInstances")
        .count();
    assert_eq!(launched, 4, "the build's instance and three test instances");
    stop.store(true, Ordering::Relaxed);
    assert_nothing_left(&moto, &r.all());
}

/// `SIGKILL` while the build waits for SSH: the instance, key pair and security group stay in
/// the account, recorded in the run's journal; `kiln cleanup` (credentials from the SDK's
/// standard chain, the endpoint the build used) removes exactly those, and a second cleanup
/// finds nothing.
#[test]
fn sigkill_while_waiting_for_ssh_then_kiln_cleanup_removes_instance_key_pair_and_group() {
    let moto = Moto::start();
    register_base(&moto, "kiln-base-1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, &waiting_for_ssh(&moto, "kiln-killed"));
    let state = d.join("state");
    let kiln = |args: &[&str]| {
        let mut c = kiln_tests::isolated(KILN);
        c.args(args)
            .current_dir(d)
            .env("KILN_STATE_DIR", &state)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "kiln-moto-secret")
            .env("AWS_REGION", "us-east-1");
        c
    };
    let mut child = kiln(&["build", "t.pkr.hcl"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !moto.actions().contains(&"RunInstances".to_string()) {
        assert!(std::time::Instant::now() < deadline, "no RunInstances");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(1000));
    child.kill().unwrap();
    child.wait().unwrap();
    let l = leftovers(&moto, "us-east-1");
    assert_eq!(
        (l.running.len(), l.key_pairs.len(), l.groups.len()),
        (1, 1, 1),
        "a SIGKILL leaves the instance, key pair and group: {l:?}"
    );

    let out = kiln(&["cleanup", "--dry-run"]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let kinds: Vec<&str> = listed
        .lines()
        .map(|l| l.split(" in us-east-1").next().unwrap_or(l))
        .map(|l| l.rsplit_once(' ').map_or(l, |(k, _)| k))
        .collect();
    assert_eq!(
        kinds,
        ["aws instance", "aws security group", "aws key pair"],
        "{listed}"
    );
    assert!(listed.contains(&l.running[0]), "{listed}");

    let out = kiln(&["cleanup"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.ends_with("Removed 3 resources.\n"), "{text}");
    assert_nothing_left(&moto, &text);
    let again = kiln(&["cleanup"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "Nothing to clean up.\n"
    );
}

/// The fault matrix of an amazon-ebs build against moto: while each of the calls that make
/// something is in flight (held 3 s by the fault proxy), Kiln is killed (SIGKILL), or
/// interrupted twice (the second Ctrl-C stops waiting for the cleanups); `kiln cleanup` then
/// removes everything, including what the in-flight call made after Kiln was gone: it was
/// recorded before the call, by the name or tag the build chose for it.
#[test]
fn sigkill_or_two_ctrl_cs_while_each_creating_call_is_in_flight_then_cleanup_leave_nothing() {
    let moto = Moto::start();
    register_base(&moto, "kiln-base-1");
    let sshd = Sshd::start();
    let stop = authorize_imported_keys(&moto, &sshd);
    let calls = [
        "ImportKeyPair",
        "CreateSecurityGroup",
        "RunInstances",
        "CreateImage",
        "CopyImage",
    ];
    for how in ["KILL", "INT twice"] {
        for (i, call) in calls.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            let ami = format!("kiln-matrix-{}-{i}", how.len());
            write(
                d,
                &template(
                    &moto,
                    &sshd,
                    &format!("  ami_name    = \"{ami}\"\n  ami_regions = [\"us-west-2\"]\n"),
                    "  provisioner \"shell\" {\n    inline = [\"true\"]\n  }\n",
                ),
            );
            let state = d.join("state");
            let kiln = |args: &[&str]| {
                let mut c = kiln_tests::isolated(KILN);
                c.args(args)
                    .current_dir(d)
                    .env("KILN_STATE_DIR", &state)
                    .env("AWS_ACCESS_KEY_ID", "test")
                    .env("AWS_SECRET_ACCESS_KEY", "kiln-moto-secret")
                    .env("AWS_REGION", "us-east-1");
                c
            };
            let before = moto.actions().len();
            moto.faults(&serde_json::json!([{ "action": call, "delay": 3, "count": 1 }]));
            let log = std::fs::File::create(d.join("build.log")).unwrap();
            let mut child = kiln(&["build", "t.pkr.hcl"])
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            let at = format!("{how} during {call}");
            let said = || std::fs::read_to_string(d.join("build.log")).unwrap_or_default();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !moto.actions()[before..].iter().any(|a| a == call) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{at}: the build never called it: {:?}",
                    &moto.actions()[before..]
                );
                assert!(
                    child.try_wait().unwrap().is_none(),
                    "{at}: the build ended:\n{}",
                    said()
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let pid = child.id().to_string();
            if how == "KILL" {
                child.kill().unwrap();
            } else {
                let int = || {
                    std::process::Command::new("kill")
                        .args(["-INT", &pid])
                        .stderr(std::process::Stdio::null())
                        .status()
                        .unwrap()
                };
                int();
                std::thread::sleep(std::time::Duration::from_millis(200));
                int();
            }
            let status = child.wait().unwrap();
            if how != "KILL" {
                assert!(matches!(status.code(), Some(1 | 130)), "{at}: {status:?}");
            }
            // The held call goes through now, with no one left to see its answer.
            std::thread::sleep(std::time::Duration::from_millis(3500));
            moto.faults(&serde_json::json!([]));
            let out = kiln(&["cleanup"]).output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(0), "{at}: {text}");
            assert_nothing_left(&moto, &format!("{at}: {}\n{text}", said()));
            for region in ["us-east-1", "us-west-2"] {
                let images = images_named(&moto, region, &ami);
                assert!(
                    images.is_empty(),
                    "{at}: an AMI is left in {region}\n{text}"
                );
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
}

/// What the builder adds to `build.*` (SourceAMIName ...) may be used by provisioners and
/// post-processors: the template validates, as in Packer.
#[test]
fn builder_generated_names_validate_in_provisioners_and_post_processors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.pkr.hcl"),
        "source \"amazon-ebs\" \"a\" {\n  region        = \"us-east-1\"\n  source_ami    = \"ami-123\"\n  instance_type = \"t3.micro\"\n  ami_name      = \"kiln-names\"\n  communicator  = \"none\"\n}\nbuild {\n  sources = [\"source.amazon-ebs.a\"]\n  provisioner \"shell-local\" {\n    inline = [\"echo ${build.SourceAMIName} ${build.BuildRegion}\"]\n  }\n  post-processor \"shell-local\" {\n    inline = [\"echo ${build.SourceAMI}\"]\n  }\n}\n",
    )
    .unwrap();
    let r = kiln_tests::run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(
        (r.code, r.all().as_str()),
        (0, "The configuration is valid.\n")
    );
}

/// `metadata_options` values are checked at validate time, with Packer's messages.
#[test]
fn metadata_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        r#"source "amazon-ebs" "a" {
  region        = "us-east-1"
  source_ami    = "ami-123"
  instance_type = "t3.micro"
  ami_name      = "kiln-md"
  communicator  = "none"
  metadata_options {
    http_tokens                 = "maybe"
    http_put_response_hop_limit = 65
  }
}
build { sources = ["source.amazon-ebs.a"] }
"#,
    );
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    let out = r.all();
    assert_eq!(r.code, 1, "{out}");
    assert!(
        out.contains("http_tokens requires either optional or required as its value")
            && out.contains("http_put_response_hop_limit requires a number between 1 and 64"),
        "{out}"
    );
    write(
        d,
        &std::fs::read_to_string(d.join("t.pkr.hcl"))
            .unwrap()
            .replace("\"maybe\"", "\"required\"")
            .replace("65", "3"),
    );
    let r = run(KILN, d, &["validate", "t.pkr.hcl"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// Block device mappings are checked as Packer's `BlockDevice.Prepare` checks them, and options
/// Kiln lacks are accepted when set to their "off" value.
#[test]
fn block_devices_are_checked_and_off_values_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("t.json"),
        r#"{"builders": [{
  "type": "amazon-ebs", "region": "us-east-1", "source_ami": "ami-12345678",
  "instance_type": "t3.micro", "ssh_username": "ubuntu", "ami_name": "x-image",
  "enable_t2_unlimited": false,
  "launch_block_device_mappings": [
    {"device_name": "/dev/sda1", "volume_type": "gp3", "volume_size": 10, "throughput": 5},
    {"device_name": "/dev/sdb", "volume_type": "gp2", "volume_size": 10, "throughput": 200},
    {"device_name": "/dev/sdc", "volume_type": "io1", "volume_size": 10, "iops": 5000},
    {"device_name": "/dev/sdd", "volume_type": "gp2", "kms_key_id": "alias/k", "encrypted": false}
  ]
}]}"#,
    )
    .unwrap();
    let r = run(KILN, d, &["validate", "t.json"]);
    let out = r.all();
    assert_eq!(r.code, 1, "{out}");
    for m in [
        "Throughput must be between 125 and 1000 for device /dev/sda1",
        "Throughput is only valid for gp3 volumes, \"/dev/sdb\" is of type gp2",
        "/dev/sdc: the maximum ratio of provisioned IOPS to requested volume size (in GiB) is 50:1 for io1 volumes",
        "The device /dev/sdd, must also have `encrypted: true` when setting a kms_key_id.",
    ] {
        assert!(out.contains(m), "{m:?} in\n{out}");
    }
    assert!(!out.contains("enable_t2_unlimited"), "{out}");
}

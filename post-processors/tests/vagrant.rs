//! The `vagrant` post-processor against real qcow2 disks (made with `qemu-img`): the members of
//! the box, `metadata.json` byte for byte, the Vagrantfile, compression, `output`, `include`,
//! `vagrantfile_template`, overrides, `keep_input_artifact` through the orchestrator, errors.

use async_trait::async_trait;
use kiln_core::artifact::FileArtifact;
use kiln_core::orchestrator::{Orchestrator, RunOptions};
use kiln_core::plan::{BuildPlan, PlannedBuild, PluginSpec, PostProcessorSpec, StaticBody};
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Builder, Config, Diagnostics, EventKind, Events,
    Hook, PostProcessor, Registry,
};
use kiln_post_processors::vagrant::{host_architecture, Vagrant, BUILDER_ID};
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const LIBVIRT_VAGRANTFILE: &str = "
# The contents below were provided by the Packer Vagrant post-processor

Vagrant.configure(\"2\") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = \"kvm\"
  end
end


# The contents below (if any) are custom contents provided by the
# Packer template during image build.

";

/// Makes a small qcow2 disk with `qemu-img`.
fn qcow2(path: &Path) -> Vec<u8> {
    let out = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(path)
        .arg("1M")
        .output()
        .unwrap_or_else(|e| {
            panic!("qemu-img could not be run ({e}): install qemu-utils (apt-get install qemu-utils) to run these tests")
        });
    assert!(out.status.success(), "qemu-img create failed: {out:?}");
    std::fs::read(path).unwrap()
}

/// A qemu builder's artifact, with the state Kiln's qemu builder reports.
#[derive(Debug)]
struct FakeQemu {
    dir: PathBuf,
    files: Vec<String>,
    id: String,
    disk_name: String,
    domain: String,
}

impl FakeQemu {
    /// An output directory `dir` with the disks `names` (the first is the main one).
    fn new(dir: &Path, names: &[&str]) -> FakeQemu {
        std::fs::create_dir_all(dir).unwrap();
        let files: Vec<String> = names
            .iter()
            .map(|n| {
                let p = dir.join(n);
                qcow2(&p);
                p.display().to_string()
            })
            .collect();
        FakeQemu {
            dir: dir.to_path_buf(),
            id: names[0].to_string(),
            files,
            disk_name: names[0].to_string(),
            domain: "kvm".into(),
        }
    }
}

#[async_trait]
impl Artifact for FakeQemu {
    fn builder_id(&self) -> String {
        "transcend.qemu".into()
    }
    fn id(&self) -> String {
        self.id.clone()
    }
    fn files(&self) -> Vec<String> {
        self.files.clone()
    }
    fn string(&self) -> String {
        format!("VM files in directory: {}", self.dir.display())
    }
    fn state(&self, name: &str) -> Option<serde_json::Value> {
        Some(match name {
            "diskName" => json!(self.disk_name),
            "diskType" => json!("qcow2"),
            "diskSize" => json!("1M"),
            "domainType" => json!(self.domain),
            _ => return None,
        })
    }
    async fn destroy(&self) -> std::io::Result<()> {
        std::fs::remove_dir_all(&self.dir)
    }
}

fn info() -> BuildInfo {
    BuildInfo {
        name: "qemu.example".into(),
        source_type: "qemu".into(),
        source_name: "example".into(),
        ..BuildInfo::default()
    }
}

fn ctx() -> (
    BuildContext,
    tokio::sync::mpsc::UnboundedReceiver<kiln_core::Event>,
) {
    let (events, rx) = Events::channel();
    (
        BuildContext {
            info: Arc::new(info()),
            ui: events.ui("qemu.example"),
            cancel: CancellationToken::new(),
            journal: Default::default(),
            operator: Default::default(),
        },
        rx,
    )
}

fn configure(v: serde_json::Value) -> Result<Vagrant, Diagnostics> {
    let mut pp = Vagrant::default();
    pp.configure(
        &Config::from_value("post-processor \"vagrant\"", v),
        &info(),
    )?;
    Ok(pp)
}

async fn run(
    v: serde_json::Value,
    artifact: Arc<dyn Artifact>,
) -> Result<kiln_core::PostProcessed, BuildError> {
    let pp = configure(v).unwrap();
    pp.post_process(&ctx().0, artifact).await
}

/// The members of a box, in archive order, and whether it was gzip-compressed.
fn open_box(path: &Path) -> (Vec<(String, Vec<u8>)>, bool) {
    let bytes = std::fs::read(path).unwrap();
    let gz = bytes.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(&bytes[..]))
    } else {
        Box::new(&bytes[..])
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = Vec::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        assert!(e.header().entry_type().is_file());
        assert_eq!(e.header().mode().unwrap(), 0o644);
        let name = e.path().unwrap().display().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    (out, gz)
}

fn names(members: &[(String, Vec<u8>)]) -> Vec<&str> {
    members.iter().map(|(n, _)| n.as_str()).collect()
}

fn member<'a>(members: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &members.iter().find(|(n, _)| n == name).unwrap().1
}

fn text(members: &[(String, Vec<u8>)], name: &str) -> String {
    String::from_utf8(member(members, name).to_vec()).unwrap()
}

#[tokio::test]
async fn a_qemu_artifact_becomes_a_libvirt_box() {
    let d = tempfile::tempdir().unwrap();
    let art = FakeQemu::new(&d.path().join("output-example"), &["disk.qcow2"]);
    let disk = std::fs::read(&art.files[0]).unwrap();
    let out = d.path().join("boxes/example.box");
    let (ctx, mut rx) = ctx();
    let pp = configure(json!({"output": out, "architecture": "amd64"})).unwrap();
    let res = pp.post_process(&ctx, Arc::new(art)).await.unwrap();

    assert_eq!(res.artifact.builder_id(), BUILDER_ID);
    assert_eq!(res.artifact.id(), "libvirt");
    assert_eq!(res.artifact.files(), vec![out.display().to_string()]);
    assert_eq!(
        res.artifact.string(),
        format!("'libvirt' provider box: {}", out.display())
    );
    assert_eq!((res.keep_input, res.force_keep), (false, true));

    let (members, gz) = open_box(&out);
    assert!(gz, "compressed by default");
    assert_eq!(
        names(&members),
        ["Vagrantfile", "box_0.img", "metadata.json"]
    );
    assert_eq!(
        text(&members, "metadata.json"),
        "{\"architecture\":\"amd64\",\"disks\":[{\"format\":\"qcow2\",\"path\":\"box_0.img\"}],\"provider\":\"libvirt\"}\n"
    );
    assert_eq!(text(&members, "Vagrantfile"), LIBVIRT_VAGRANTFILE);
    assert_eq!(member(&members, "box_0.img"), &disk[..]);
    // Nothing is left beside the box.
    let left: Vec<_> = std::fs::read_dir(d.path().join("boxes"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["example.box"]);

    let mut said = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let EventKind::Say(t) | EventKind::Message(t) = e.kind {
            said.push(t);
        }
    }
    assert_eq!(said[0], "Creating Vagrant box for 'libvirt' provider");
    assert!(
        said.iter().any(|s| s == "Compressing: box_0.img"),
        "{said:?}"
    );
}

#[tokio::test]
async fn every_disk_of_the_vm_is_packed_and_tcg_uses_the_qemu_driver() {
    let d = tempfile::tempdir().unwrap();
    let mut art = FakeQemu::new(&d.path().join("out"), &["vm", "vm-1", "other.qcow2"]);
    art.domain = "tcg".into();
    let out = d.path().join("vm.box");
    run(json!({"output": out}), Arc::new(art)).await.unwrap();
    let (members, _) = open_box(&out);
    assert_eq!(
        names(&members),
        ["Vagrantfile", "box_0.img", "box_1.img", "metadata.json"]
    );
    let arch = host_architecture();
    assert_eq!(
        text(&members, "metadata.json"),
        format!("{{\"architecture\":\"{arch}\",\"disks\":[{{\"format\":\"qcow2\",\"path\":\"box_0.img\"}},{{\"format\":\"qcow2\",\"path\":\"box_1.img\"}}],\"provider\":\"libvirt\"}}\n")
    );
    assert!(text(&members, "Vagrantfile").contains("    libvirt.driver = \"qemu\"\n"));
}

#[tokio::test]
async fn compression_level_zero_writes_a_plain_tar() {
    let d = tempfile::tempdir().unwrap();
    let art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    let out = d.path().join("plain.box");
    run(
        json!({"output": out, "compression_level": 0}),
        Arc::new(art),
    )
    .await
    .unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[257..262], b"ustar", "a tar header first");
    let (members, gz) = open_box(&out);
    assert!(!gz);
    assert_eq!(
        names(&members),
        ["Vagrantfile", "box_0.img", "metadata.json"]
    );

    // Level 9 is gzip, and smaller than the plain tar.
    let art = FakeQemu::new(&d.path().join("out2"), &["disk"]);
    let best = d.path().join("best.box");
    run(
        json!({"output": best, "compression_level": 9}),
        Arc::new(art),
    )
    .await
    .unwrap();
    let (members9, gz) = open_box(&best);
    assert!(gz);
    assert_eq!(members9, members);
    assert!(std::fs::metadata(&best).unwrap().len() < bytes.len() as u64);
}

#[tokio::test]
async fn override_changes_settings_for_its_provider_only() {
    let d = tempfile::tempdir().unwrap();
    let art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    let out = d.path().join("o.box");
    run(
        json!({
            "output": d.path().join("ignored.box"),
            "compression_level": 9,
            "override": {
                "libvirt": {"compression_level": 0, "output": out},
                "virtualbox": {"compression_level": 1}
            }
        }),
        Arc::new(art),
    )
    .await
    .unwrap();
    assert!(!d.path().join("ignored.box").exists());
    assert!(!open_box(&out).1);
}

#[tokio::test]
async fn output_is_a_template() {
    let d = tempfile::tempdir().unwrap();
    let mut art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    art.id = "vm-42".into();
    let tpl = format!(
        "{}/{{{{.BuildName}}}}_{{{{ .Provider }}}}_{{{{.BuilderType}}}}_{{{{.ArtifactId}}}}_{{{{.Architecture}}}}.box",
        d.path().display()
    );
    let res = run(
        json!({"output": tpl, "architecture": "arm64"}),
        Arc::new(art),
    )
    .await
    .unwrap();
    let want = d.path().join("example_libvirt_qemu_vm-42_arm64.box");
    assert_eq!(res.artifact.files(), vec![want.display().to_string()]);
    assert!(want.exists());
    let (members, _) = open_box(&want);
    assert!(text(&members, "metadata.json").starts_with("{\"architecture\":\"arm64\","));

    let err = run(
        json!({"output": d.path().join("{{.Nope}}.box")}),
        Arc::new(FakeQemu::new(&d.path().join("out2"), &["disk"])),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("\"Nope\""), "{err}");
}

#[tokio::test]
async fn the_default_output_is_packers() {
    let d = tempfile::tempdir().unwrap();
    let art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    // The only test that uses a relative path: the default output is in the working directory.
    std::env::set_current_dir(d.path()).unwrap();
    let res = run(json!({}), Arc::new(art)).await.unwrap();
    let name = format!("packer_example_libvirt_{}.box", host_architecture());
    assert_eq!(res.artifact.files(), vec![name.clone()]);
    assert!(d.path().join(&name).exists());
}

#[tokio::test]
async fn include_files_go_to_the_top_of_the_box() {
    let d = tempfile::tempdir().unwrap();
    let art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    std::fs::create_dir_all(d.path().join("files/nested")).unwrap();
    let (a, b) = (
        d.path().join("files/nested/info.json"),
        d.path().join("files/README"),
    );
    std::fs::write(&a, "{\"a\":1}").unwrap();
    std::fs::write(&b, "read me\n").unwrap();
    let out = d.path().join("inc.box");
    run(json!({"output": out, "include": [a, b]}), Arc::new(art))
        .await
        .unwrap();
    let (members, _) = open_box(&out);
    assert_eq!(
        names(&members),
        [
            "README",
            "Vagrantfile",
            "box_0.img",
            "info.json",
            "metadata.json"
        ]
    );
    assert_eq!(text(&members, "info.json"), "{\"a\":1}");
    assert_eq!(text(&members, "README"), "read me\n");

    // An included metadata.json is kept instead of the generated one, as in Packer.
    let art = FakeQemu::new(&d.path().join("out2"), &["disk"]);
    let meta = d.path().join("files/metadata.json");
    std::fs::write(&meta, "{\"provider\":\"libvirt\",\"mine\":true}").unwrap();
    let out = d.path().join("meta.box");
    run(json!({"output": out, "include": [meta]}), Arc::new(art))
        .await
        .unwrap();
    let (members, _) = open_box(&out);
    assert_eq!(
        text(&members, "metadata.json"),
        "{\"provider\":\"libvirt\",\"mine\":true}"
    );

    let art = FakeQemu::new(&d.path().join("out3"), &["disk"]);
    let out = d.path().join("missing.box");
    let err = run(
        json!({"output": out, "include": [d.path().join("nope.txt")]}),
        Arc::new(art),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("Error copying include file"), "{err}");
    assert!(!out.exists());
}

#[tokio::test]
async fn vagrantfile_template_is_rendered_after_the_providers_part() {
    let d = tempfile::tempdir().unwrap();
    let art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    let tpl = d.path().join("Vagrantfile.tpl");
    std::fs::write(
        &tpl,
        "Vagrant.configure(\"2\") do |config|\n  config.vm.box = \"{{ .BuildName }}-{{.Provider}}\"\nend\n",
    )
    .unwrap();
    let out = d.path().join("t.box");
    run(
        json!({"output": out, "vagrantfile_template": tpl}),
        Arc::new(art),
    )
    .await
    .unwrap();
    let (members, _) = open_box(&out);
    let want = format!(
        "{}Vagrant.configure(\"2\") do |config|\n  config.vm.box = \"example-libvirt\"\nend\n\n",
        LIBVIRT_VAGRANTFILE.trim_end_matches('\n').to_string() + "\n"
    );
    assert_eq!(text(&members, "Vagrantfile"), want);
}

#[tokio::test]
async fn a_missing_vagrantfile_template_is_a_config_error_unless_generated() {
    let d = tempfile::tempdir().unwrap();
    let tpl = d.path().join("later.tpl");
    let err = configure(json!({"vagrantfile_template": tpl}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "vagrantfile_template '{}' does not exist",
            tpl.display()
        )),
        "{err}"
    );

    // Generated during the build: not checked at configure time, read when the box is made.
    let pp = configure(json!({
        "vagrantfile_template": tpl,
        "vagrantfile_template_generated": true,
        "output": d.path().join("g.box"),
    }))
    .unwrap();
    std::fs::write(&tpl, "# generated\n").unwrap();
    let art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    pp.post_process(&ctx().0, Arc::new(art)).await.unwrap();
    let (members, _) = open_box(&d.path().join("g.box"));
    assert!(text(&members, "Vagrantfile").ends_with("image build.\n# generated\n\n"));
}

#[tokio::test]
async fn config_errors_are_located_and_explained() {
    let e = configure(json!({"compression_level": 12}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Expected an integer from -1 to 9"), "{e}");
    let e = configure(json!({"override": {"libvirt": {"compression_level": 10}}}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Expected an integer from -1 to 9"), "{e}");
    let e = configure(json!({"provider_override": "qemu"}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("The given provider_override qemu is not valid. Please choose from one of aws, azure, digitalocean, docker, file, google, hyperv, libvirt, lxc, parallels, scaleway, virtualbox, vmware"),
        "{e}"
    );
    let e = configure(json!({"provider_override": "aws"}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Kiln cannot build Vagrant boxes for the \"aws\" provider"),
        "{e}"
    );
    let e = configure(json!({"compresion_level": 1}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("Did you mean \"compression_level\"?"), "{e}");
    let e = configure(json!({"override": {"libvirt": {"vagrantfile_template": "/nonexistent/V"}}}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("vagrantfile_template '/nonexistent/V' does not exist"),
        "{e}"
    );
    let mut pp = Vagrant::default();
    let warnings = pp
        .configure(
            &Config::from_value("v", json!({"override": {"qemu": {}}})),
            &info(),
        )
        .unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

#[tokio::test]
async fn unsupported_artifacts_are_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("null.box");
    let null = FileArtifact {
        builder_id: "fnoeding.null".into(),
        id: "Did not export anything. This is the null builder".into(),
        files: vec![],
        description: String::new(),
    };
    let err = run(json!({"output": out}), Arc::new(null))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Unknown artifact type, can't build box: fnoeding.null"),
        "{err}"
    );
    assert!(
        err.contains("qemu builder") && err.contains("provider_override"),
        "{err}"
    );
    assert!(!out.exists());

    // libvirt for an artifact without a qemu builder's state.
    let art = FileArtifact {
        builder_id: "packer.post-processor.artifice".into(),
        id: String::new(),
        files: vec![],
        description: String::new(),
    };
    let err = run(
        json!({"output": out, "provider_override": "libvirt"}),
        Arc::new(art),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("\"diskType\""), "{err}");

    let mut art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    art.domain = "xen".into();
    let err = run(json!({"output": out}), Arc::new(art))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Unknown libvirt domain type: xen"), "{err}");
    assert!(!out.exists());
}

#[tokio::test]
async fn a_file_builder_artifact_becomes_a_file_box() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("hello.txt");
    std::fs::write(&f, "hello\n").unwrap();
    let art = FileArtifact {
        builder_id: "packer.file".into(),
        id: String::new(),
        files: vec![f.display().to_string()],
        description: String::new(),
    };
    let out = d.path().join("file.box");
    let res = run(
        json!({"output": out, "architecture": "amd64"}),
        Arc::new(art),
    )
    .await
    .unwrap();
    assert_eq!(res.artifact.id(), "file");
    let (members, _) = open_box(&out);
    assert_eq!(
        names(&members),
        ["Vagrantfile", "hello.txt", "metadata.json"]
    );
    assert_eq!(
        text(&members, "metadata.json"),
        "{\"architecture\":\"amd64\",\"provider\":\"file\"}\n"
    );
    assert_eq!(text(&members, "hello.txt"), "hello\n");
    assert!(text(&members, "Vagrantfile").starts_with(
        "\n# The contents below were provided by the Packer Vagrant post-processor\n\n\n#"
    ));
}

#[tokio::test]
async fn artifice_files_make_a_virtualbox_box_with_provider_override() {
    let d = tempfile::tempdir().unwrap();
    let ovf = d.path().join("vbox-example.ovf");
    std::fs::write(
        &ovf,
        "<Envelope>\n  <Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027A1B2C3\" type=\"82540EM\"/>\n</Envelope>\n",
    )
    .unwrap();
    let vmdk = d.path().join("vbox-example-disk001.vmdk");
    std::fs::write(&vmdk, "disk").unwrap();
    let art = FileArtifact {
        builder_id: "packer.post-processor.artifice".into(),
        id: String::new(),
        files: vec![vmdk.display().to_string(), ovf.display().to_string()],
        description: String::new(),
    };
    let out = d.path().join("vb.box");
    run(
        json!({"output": out, "provider_override": "virtualbox", "architecture": "amd64"}),
        Arc::new(art),
    )
    .await
    .unwrap();
    let (members, _) = open_box(&out);
    assert_eq!(
        names(&members),
        [
            "Vagrantfile",
            "box.ovf",
            "metadata.json",
            "vbox-example-disk001.vmdk"
        ]
    );
    assert_eq!(
        text(&members, "metadata.json"),
        "{\"architecture\":\"amd64\",\"provider\":\"virtualbox\"}\n"
    );
    assert!(text(&members, "Vagrantfile").contains(
        "\nVagrant.configure(\"2\") do |config|\n  config.vm.base_mac = \"080027A1B2C3\"\nend\n"
    ));
}

#[tokio::test]
async fn a_cancelled_write_leaves_no_box_and_keeps_an_old_one() {
    let d = tempfile::tempdir().unwrap();
    let art = FakeQemu::new(&d.path().join("out"), &["disk"]);
    let out = d.path().join("c.box");
    std::fs::write(&out, "old box").unwrap();
    let pp = configure(json!({"output": out})).unwrap();
    let (ctx, _rx) = ctx();
    ctx.cancel.cancel();
    let err = pp.post_process(&ctx, Arc::new(art)).await.unwrap_err();
    assert!(matches!(err, BuildError::Cancelled), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old box");
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!left.iter().any(|n| n.contains("kiln-tmp")), "{left:?}");
}

/// A builder whose artifact is a `FakeQemu` in `dir`.
struct FakeBuilder(PathBuf);

#[async_trait]
impl Builder for FakeBuilder {
    fn prepare(&mut self, _: &Config, _: &BuildInfo) -> Result<Vec<String>, Diagnostics> {
        Ok(Vec::new())
    }
    async fn run(
        &self,
        _: &BuildContext,
        _: &dyn Hook,
    ) -> Result<Option<Arc<dyn Artifact>>, BuildError> {
        Ok(Some(Arc::new(FakeQemu::new(&self.0, &["disk"]))))
    }
}

/// Builds with the fake qemu builder and one vagrant post-processor; the kept artifacts' ids.
async fn build(dir: &Path, out: &Path, keep: Option<bool>) -> Vec<String> {
    let mut reg = Registry::new();
    let vm_dir = dir.to_path_buf();
    reg.builder("qemu", move || Box::new(FakeBuilder(vm_dir.clone())));
    kiln_post_processors::register(&mut reg);
    let spec = |kind: &str, v: serde_json::Value| PluginSpec {
        kind: kind.into(),
        body: Arc::new(StaticBody(Config::from_value(kind, v))),
        location: None,
    };
    let mut pp = json!({"output": out});
    if let Some(k) = keep {
        pp["keep_input_artifact"] = json!(k);
    }
    let plan = BuildPlan {
        builds: vec![PlannedBuild {
            name: "qemu.example".into(),
            source_type: "qemu".into(),
            source_name: "example".into(),
            build_block_name: None,
            build_block: 0,
            build_description: None,
            builder: spec("qemu", json!({})),
            provisioners: vec![],
            error_cleanup: None,
            post_processors: vec![vec![PostProcessorSpec {
                plugin: spec("vagrant", pp),
                name: None,
                only: vec![],
                except: vec![],
                keep_input_artifact: keep,
            }]],
            registry: None,
        }],
        ..BuildPlan::default()
    };
    let (events, _rx) = Events::channel();
    let outcomes = Orchestrator::new(reg, events)
        .run(
            Arc::new(plan),
            &RunOptions::default(),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    outcomes
        .into_iter()
        .next()
        .unwrap()
        .result
        .unwrap()
        .iter()
        .map(|a| a.id())
        .collect()
}

#[tokio::test]
async fn the_input_artifact_is_removed_unless_kept() {
    let d = tempfile::tempdir().unwrap();
    let (vm, out) = (d.path().join("output-example"), d.path().join("a.box"));
    assert_eq!(build(&vm, &out, None).await, ["libvirt"]);
    assert!(out.exists());
    assert!(!vm.exists(), "the qemu output is deleted by default");

    let out = d.path().join("b.box");
    assert_eq!(build(&vm, &out, Some(true)).await, ["disk", "libvirt"]);
    assert!(out.exists());
    assert!(
        vm.join("disk").exists(),
        "keep_input_artifact = true keeps it"
    );

    std::fs::remove_dir_all(&vm).unwrap();
    let out = d.path().join("c.box");
    build(&vm, &out, Some(false)).await;
    assert!(!vm.exists());
}

//! The `vagrant` post-processor: packs a builder's artifact into a Vagrant `.box`, a tar archive
//! (gzip-compressed unless `compression_level` is 0) holding `metadata.json`, a `Vagrantfile`,
//! the `include` files and the provider's files.
//!
//! The provider follows from the artifact's builder id as in Packer (`transcend.qemu` is
//! `libvirt`, `packer.file` is `file`), or from `provider_override`. Kiln builds boxes for the
//! `libvirt`, `file` and `virtualbox` providers. Members are streamed from where they are (the
//! disks are not copied to a scratch directory first) into a file beside the output, which is
//! renamed into place once complete.

use async_trait::async_trait;
use kiln_core::artifact::FileArtifact;
use kiln_core::staged::StagedFile;
use kiln_core::{
    Artifact, BuildContext, BuildError, BuildInfo, Config, Diagnostics, PostProcessed,
    PostProcessor, Ui,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The post-processor's artifact id (Packer's).
pub const BUILDER_ID: &str = "mitchellh.post-processor.vagrant";

const KIND: &str = "vagrant";
const DEFAULT_OUTPUT: &str = "packer_{{ .BuildName }}_{{ .Provider }}_{{ .Architecture }}.box";

/// Builder (or post-processor) ids whose artifacts have a provider, as Packer maps them.
const BUILTINS: &[(&str, &str)] = &[
    ("mitchellh.amazonebs", "aws"),
    ("mitchellh.amazon.instance", "aws"),
    ("mitchellh.virtualbox", "virtualbox"),
    ("mitchellh.vmware", "vmware"),
    ("mitchellh.vmware-esx", "vmware"),
    ("vmware.desktop", "vmware"),
    ("pearkes.digitalocean", "digitalocean"),
    ("packer.googlecompute", "google"),
    ("hashicorp.scaleway", "scaleway"),
    ("packer.parallels", "parallels"),
    ("MSOpenTech.hyperv", "hyperv"),
    ("transcend.qemu", "libvirt"),
    ("ustream.lxc", "lxc"),
    ("Azure.ResourceManagement.VMImage", "azure"),
    ("packer.post-processor.docker-import", "docker"),
    ("packer.post-processor.docker-tag", "docker"),
    ("packer.post-processor.docker-push", "docker"),
    ("packer.file", "file"),
];

/// The providers Kiln can build boxes for.
const IMPLEMENTED: &[&str] = &["file", "libvirt", "virtualbox"];

/// Every provider name Packer accepts, sorted.
fn known_providers() -> Vec<&'static str> {
    let mut v: Vec<&str> = BUILTINS.iter().map(|(_, p)| *p).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Settings that `override.<provider>` may change.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    compression_level: Option<i32>,
    include: Option<Vec<String>>,
    output: Option<String>,
    vagrantfile_template: Option<String>,
    vagrantfile_template_generated: Option<bool>,
    architecture: Option<String>,
}

impl Settings {
    /// `self` with every field `over` sets replaced.
    fn overlay(&self, over: &Settings) -> Settings {
        Settings {
            compression_level: over.compression_level.or(self.compression_level),
            include: over.include.clone().or_else(|| self.include.clone()),
            output: over.output.clone().or_else(|| self.output.clone()),
            vagrantfile_template: over
                .vagrantfile_template
                .clone()
                .or_else(|| self.vagrantfile_template.clone()),
            vagrantfile_template_generated: over
                .vagrantfile_template_generated
                .or(self.vagrantfile_template_generated),
            architecture: over
                .architecture
                .clone()
                .or_else(|| self.architecture.clone()),
        }
    }

    fn template(&self) -> Option<&str> {
        self.vagrantfile_template
            .as_deref()
            .filter(|t| !t.is_empty())
    }

    /// The template, when it must exist at configure time and does not.
    fn missing_template(&self) -> Option<&str> {
        self.template().filter(|t| {
            !self.vagrantfile_template_generated.unwrap_or(false) && !Path::new(t).exists()
        })
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct VagrantConfig {
    compression_level: Option<i32>,
    include: Option<Vec<String>>,
    output: Option<String>,
    vagrantfile_template: Option<String>,
    vagrantfile_template_generated: Option<bool>,
    architecture: Option<String>,
    provider_override: Option<String>,
    #[serde(rename = "override")]
    overrides: BTreeMap<String, Settings>,
    /// Applied by the orchestrator (a meta-argument); accepted here.
    keep_input_artifact: Option<bool>,
}

impl VagrantConfig {
    fn settings(&self) -> Settings {
        Settings {
            compression_level: self.compression_level,
            include: self.include.clone(),
            output: self.output.clone(),
            vagrantfile_template: self.vagrantfile_template.clone(),
            vagrantfile_template_generated: self.vagrantfile_template_generated,
            architecture: self.architecture.clone(),
        }
    }

    /// The settings for one provider: the top level with `override.<provider>` applied.
    fn settings_for(&self, provider: &str) -> Settings {
        let base = self.settings();
        match self.overrides.get(provider) {
            Some(o) => base.overlay(o),
            None => base,
        }
    }
}

/// `post-processor "vagrant"`.
#[derive(Debug, Default)]
pub struct Vagrant {
    cfg: VagrantConfig,
}

/// The host architecture under Go's names (Packer's default `architecture`), `386` as `i386`.
#[must_use]
pub fn host_architecture() -> String {
    let little = cfg!(target_endian = "little");
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        "aarch64" => "arm64",
        "powerpc64" if little => "ppc64le",
        "powerpc64" => "ppc64",
        "mips64" if little => "mips64le",
        "mips" if little => "mipsle",
        "loongarch64" => "loong64",
        other => other,
    }
    .to_string()
}

fn pp_err(message: impl Into<String>) -> BuildError {
    BuildError::PostProcessor {
        kind: KIND.into(),
        message: message.into(),
    }
}

/// Serializes like Go's `json.Encoder.Encode`: object keys sorted, `<`, `>`, `&`, U+2028 and
/// U+2029 escaped, a newline at the end.
fn go_json(v: &serde_json::Value) -> String {
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                serde_json::Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&m[k])))
                        .collect(),
                )
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut out = String::new();
    for c in sorted(v).to_string().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

fn base_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// A scratch directory for generated members, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("kiln-vagrant-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }

    /// Writes `contents` to a new file of the scratch directory.
    fn write(&self, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
        let p = self
            .0
            .join(format!("{}-{name}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&p, contents)?;
        Ok(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The box's members: name in the archive to the file that holds its contents. A `BTreeMap`
/// gives the order Packer's directory walk gives (byte order of the names).
type Members = BTreeMap<String, PathBuf>;

/// What a provider contributes: its part of the Vagrantfile and the metadata.
struct Provided {
    vagrantfile: String,
    metadata: serde_json::Map<String, serde_json::Value>,
    keep_input: bool,
}

fn state_str(artifact: &dyn Artifact, name: &str, provider: &str) -> Result<String, BuildError> {
    match artifact.state(name) {
        Some(serde_json::Value::String(s)) => Ok(s),
        _ => Err(pp_err(format!(
            "the artifact (from {}) has no {name:?} state, which the {provider} provider needs: \
             {provider} boxes are made from qemu builder artifacts",
            artifact.builder_id()
        ))),
    }
}

fn libvirt(
    ui: &Ui,
    artifact: &dyn Artifact,
    members: &mut Members,
) -> Result<Provided, BuildError> {
    let format = state_str(artifact, "diskType", "libvirt")?;
    let disk_name = state_str(artifact, "diskName", "libvirt")?;
    let domain = state_str(artifact, "domainType", "libvirt")?;
    let driver = match domain.as_str() {
        "none" | "tcg" | "hvf" => "qemu",
        "kvm" => "kvm",
        other => return Err(pp_err(format!("Unknown libvirt domain type: {other}"))),
    };
    let mut disks = Vec::new();
    // The disks are named after the first: `name`, `name-1`, `name-2` ...
    for path in artifact.files() {
        if !base_name(&path).starts_with(&disk_name) {
            continue;
        }
        ui.message(format!("Copying from artifact: {path}"));
        let name = format!("box_{}.img", disks.len());
        let mut disk = serde_json::Map::new();
        disk.insert("format".into(), format.clone().into());
        disk.insert("path".into(), name.clone().into());
        disks.push(serde_json::Value::Object(disk));
        members.insert(name, PathBuf::from(path));
    }
    let mut metadata = serde_json::Map::new();
    metadata.insert("disks".into(), serde_json::Value::Array(disks));
    metadata.insert("provider".into(), "libvirt".into());
    Ok(Provided {
        vagrantfile: format!(
            "\nVagrant.configure(\"2\") do |config|\n  config.vm.provider :libvirt do |libvirt|\n    libvirt.driver = \"{driver}\"\n  end\nend\n"
        ),
        metadata,
        keep_input: false,
    })
}

fn file_provider(ui: &Ui, artifact: &dyn Artifact, members: &mut Members) -> Provided {
    for path in artifact.files() {
        ui.message(format!("Copying: {path}"));
        members.insert(base_name(&path), PathBuf::from(path));
    }
    let mut metadata = serde_json::Map::new();
    metadata.insert("provider".into(), "file".into());
    Provided {
        vagrantfile: String::new(),
        metadata,
        keep_input: false,
    }
}

/// Unpacks the regular files of an OVA (a tar) into `dir`, by their base names only, so that
/// no entry can reach outside it.
fn unpack_ova(ova: &Path, dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    std::fs::create_dir_all(dir)?;
    let mut archive = tar::Archive::new(File::open(ova)?);
    let mut out = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.into_owned();
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let dst = dir.join(&name);
        std::io::copy(&mut entry, &mut File::create(&dst)?)?;
        out.push((name, dst));
    }
    Ok(out)
}

/// The MAC address of the OVF's first adapter (`<Adapter slot="0" ... MACAddress="...">` on
/// one line).
fn base_mac(ovf: &str) -> Option<String> {
    const ADAPTER: &str = "<Adapter slot=\"0\"";
    const MAC: &str = "MACAddress=\"";
    let mut rest = ovf;
    while let Some(i) = rest.find(ADAPTER) {
        let after = &rest[i + ADAPTER.len()..];
        let line = &after[..after.find('\n').unwrap_or(after.len())];
        // At least one character between the two, and a non-empty address.
        if let Some(j) = line.get(1..).and_then(|l| l.find(MAC)) {
            let value = &line[1 + j + MAC.len()..];
            if let Some(k) = value.get(1..).and_then(|v| v.find('"')) {
                return Some(value[..=k].to_string());
            }
        }
        rest = after;
    }
    None
}

fn virtualbox(
    ui: &Ui,
    artifact: &dyn Artifact,
    members: &mut Members,
    scratch: &Scratch,
) -> Result<Provided, BuildError> {
    for (i, path) in artifact.files().into_iter().enumerate() {
        if Path::new(&path).extension().is_some_and(|e| e == "ova") {
            ui.message(format!("Unpacking OVA: {path}"));
            let dir = scratch.0.join(format!("ova-{i}"));
            for (name, p) in unpack_ova(Path::new(&path), &dir)
                .map_err(|e| pp_err(format!("unpacking {path}: {e}")))?
            {
                members.insert(name, p);
            }
        } else {
            ui.message(format!("Copying from artifact: {path}"));
            members.insert(base_name(&path), PathBuf::from(path));
        }
    }
    ui.message("Renaming the OVF to box.ovf...");
    let ovfs: Vec<String> = members
        .keys()
        .filter(|n| n.ends_with(".ovf"))
        .cloned()
        .collect();
    let ovf = match ovfs.as_slice() {
        [one] => one.clone(),
        [] => return Err(pp_err("ovf file couldn't be found")),
        _ => return Err(pp_err("More than one OVF file in VirtualBox artifact.")),
    };
    let path = members.remove(&ovf).unwrap_or_default();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| pp_err(format!("reading {}: {e}", path.display())))?;
    members.insert("box.ovf".into(), path);
    let mac = base_mac(&text).ok_or_else(|| pp_err("can't find base mac address in OVF"))?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("provider".into(), "virtualbox".into());
    Ok(Provided {
        vagrantfile: format!(
            "\nVagrant.configure(\"2\") do |config|\n  config.vm.base_mac = \"{mac}\"\nend\n"
        ),
        metadata,
        keep_input: false,
    })
}

/// The whole Vagrantfile: the provider's part, then the template's.
fn vagrantfile(provider: &str, custom: &str) -> String {
    format!(
        "\n# The contents below were provided by the Packer Vagrant post-processor\n{provider}\n\n\
         # The contents below (if any) are custom contents provided by the\n\
         # Packer template during image build.\n{custom}\n"
    )
}

/// A reader that fails once the build is cancelled, so that a cancelled write stops early.
struct Cancellable<'a, R> {
    inner: R,
    stop: &'a dyn Fn() -> bool,
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if (self.stop)() {
            // Not `Interrupted`, which `io::copy` retries.
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

fn tar_members<W: Write>(w: W, members: &Members, stop: &dyn Fn() -> bool) -> std::io::Result<W> {
    let mut b = tar::Builder::new(w);
    for (name, src) in members {
        let f = File::open(src)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", src.display())))?;
        let meta = f.metadata()?;
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
        // Packer packs fresh copies (0666 less the umask): 0644 whatever the source's mode.
        h.set_mode(0o644);
        b.append_data(&mut h, name, Cancellable { inner: f, stop })?;
    }
    b.into_inner()
}

/// Writes the box to `out`: a plain tar at level 0, else gzip at `level` (-1 is the default, 6).
fn write_box(
    out: &Path,
    members: &Members,
    level: i32,
    stop: &dyn Fn() -> bool,
) -> std::io::Result<()> {
    let w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut f = if level == 0 {
        tar_members(w, members, stop)?
    } else {
        let level = u32::try_from(if level < 0 { 6 } else { level }).unwrap_or(6);
        tar_members(
            flate2::write::GzEncoder::new(w, flate2::Compression::new(level)),
            members,
            stop,
        )?
        .finish()?
    };
    f.flush()?;
    f.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()
}

fn level_error(config: &Config, path: &str) -> kiln_core::Diagnostic {
    config.error_at(
        path,
        "Invalid vagrant configuration",
        "Invalid compression level. Expected an integer from -1 to 9 (0 writes an uncompressed tar).",
    )
}

impl Vagrant {
    /// The provider for `artifact`: `provider_override`, else the one its builder id maps to.
    fn provider(&self, artifact: &dyn Artifact) -> Result<String, BuildError> {
        if let Some(p) = self
            .cfg
            .provider_override
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            return Ok(p.to_string());
        }
        let id = artifact.builder_id();
        match BUILTINS.iter().find(|(b, _)| *b == id) {
            Some((_, p)) if IMPLEMENTED.contains(p) => Ok((*p).to_string()),
            Some((_, p)) => Err(pp_err(format!(
                "Kiln cannot build Vagrant boxes for the {p:?} provider of {id} artifacts yet; it builds them for {}",
                IMPLEMENTED.join(", ")
            ))),
            None => Err(pp_err(format!(
                "Unknown artifact type, can't build box: {id}. Boxes are made from the artifacts of \
                 the qemu builder (provider \"libvirt\") and the file builder (provider \"file\"); \
                 for any other artifact (null builder, artifice ...) set provider_override to one \
                 of: {}",
                IMPLEMENTED.join(", ")
            ))),
        }
    }
}

#[async_trait]
impl PostProcessor for Vagrant {
    fn configure(
        &mut self,
        config: &Config,
        _info: &BuildInfo,
    ) -> Result<Vec<String>, Diagnostics> {
        self.cfg = config.decode()?;
        let mut diags = Diagnostics::default();
        let mut warnings = Vec::new();
        let known = known_providers();
        if let Some(p) = self
            .cfg
            .provider_override
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            if !known.contains(&p) {
                diags.push(config.error_at(
                    "provider_override",
                    "Invalid vagrant configuration",
                    format!(
                        "The given provider_override {p} is not valid. Please choose from one of {}",
                        known.join(", ")
                    ),
                ));
            } else if !IMPLEMENTED.contains(&p) {
                diags.push(config.error_at(
                    "provider_override",
                    "Unsupported vagrant provider",
                    format!(
                        "Kiln cannot build Vagrant boxes for the {p:?} provider yet; it builds them for {}.",
                        IMPLEMENTED.join(", ")
                    ),
                ));
            }
        }
        let bad_level = |l: Option<i32>| l.is_some_and(|l| !(-1..=9).contains(&l));
        let no_template = |at: &str, t: &str| {
            config.error_at(
                at,
                "Invalid vagrant configuration",
                format!("vagrantfile_template '{t}' does not exist"),
            )
        };
        let base = self.cfg.settings();
        if bad_level(base.compression_level) {
            diags.push(level_error(config, "compression_level"));
        }
        if let Some(t) = base.missing_template() {
            diags.push(no_template("vagrantfile_template", t));
        }
        // Each override is checked for what it sets itself.
        for (name, o) in &self.cfg.overrides {
            if !known.contains(&name.as_str()) {
                warnings.push(format!(
                    "override.{name} names no Vagrant provider; known providers: {}",
                    known.join(", ")
                ));
            }
            if bad_level(o.compression_level) {
                diags.push(level_error(
                    config,
                    &format!("override.{name}.compression_level"),
                ));
            }
            let effective = base.overlay(o);
            if let (Some(_), Some(t)) = (&o.vagrantfile_template, effective.missing_template()) {
                diags.push(no_template(
                    &format!("override.{name}.vagrantfile_template"),
                    t,
                ));
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(warnings)
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        artifact: Arc<dyn Artifact>,
    ) -> Result<PostProcessed, BuildError> {
        let name = self.provider(artifact.as_ref())?;
        let s = self.cfg.settings_for(&name);
        ctx.ui
            .say(format!("Creating Vagrant box for '{name}' provider"));
        let arch = s
            .architecture
            .clone()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(host_architecture);

        let mut data: BTreeMap<&str, String> = BTreeMap::new();
        let generated: Vec<(String, String)> = match artifact.state("generated_data") {
            Some(serde_json::Value::Object(m)) => m
                .into_iter()
                .map(|(k, v)| {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k, v)
                })
                .collect(),
            _ => Vec::new(),
        };
        for (k, v) in &generated {
            data.insert(k, v.clone());
        }
        data.insert("ArtifactId", artifact.id());
        data.insert("BuildName", ctx.info.source_name.clone());
        data.insert("BuilderType", ctx.info.source_type.clone());
        data.insert("Provider", name.clone());
        data.insert("Architecture", arch.clone());
        data.insert("build_name", ctx.info.source_name.clone());
        data.insert("build_type", ctx.info.source_type.clone());
        let render = |what: &str, text: &str| {
            kiln_core::gotemplate::render(text, &data)
                .map_err(|m| pp_err(format!("rendering {what}: {m}")))
        };
        let out = render(
            "output",
            s.output
                .as_deref()
                .filter(|o| !o.is_empty())
                .unwrap_or(DEFAULT_OUTPUT),
        )?;

        let scratch =
            Scratch::new().map_err(|e| crate::io_err(KIND, "creating a scratch directory", e))?;
        let mut members = Members::new();
        for src in s.include.iter().flatten() {
            ctx.ui.message(format!("Copying from include: {src}"));
            match std::fs::metadata(src) {
                Ok(m) if m.is_file() => {
                    members.insert(base_name(src), PathBuf::from(src));
                }
                Ok(_) => {
                    return Err(pp_err(format!(
                        "Error copying include file: {src}\n\n{src} is not a regular file"
                    )))
                }
                Err(e) => return Err(pp_err(format!("Error copying include file: {src}\n\n{e}"))),
            }
        }

        let provided = match name.as_str() {
            "libvirt" => libvirt(&ctx.ui, artifact.as_ref(), &mut members)?,
            "file" => file_provider(&ctx.ui, artifact.as_ref(), &mut members),
            "virtualbox" => virtualbox(&ctx.ui, artifact.as_ref(), &mut members, &scratch)?,
            other => {
                return Err(pp_err(format!(
                    "Kiln cannot build Vagrant boxes for the {other:?} provider yet; it builds them for {}",
                    IMPLEMENTED.join(", ")
                )))
            }
        };
        let mut metadata = provided.metadata;
        metadata.insert("architecture".into(), arch.clone().into());
        let write_scratch = |n: &str, contents: &[u8]| {
            scratch
                .write(n, contents)
                .map_err(|e| crate::io_err(KIND, &format!("writing {n}"), e))
        };
        // An included metadata.json wins over the generated one, as in Packer.
        if !members.contains_key("metadata.json") {
            let p = write_scratch(
                "metadata.json",
                go_json(&serde_json::Value::Object(metadata)).as_bytes(),
            )?;
            members.insert("metadata.json".into(), p);
        }
        let custom = match s.template() {
            Some(t) => {
                ctx.ui.message(format!("Using custom Vagrantfile: {t}"));
                let text = std::fs::read_to_string(t).map_err(|e| {
                    crate::io_err(KIND, &format!("reading vagrantfile_template {t}"), e)
                })?;
                render(&format!("vagrantfile_template {t}"), &text)?
            }
            None => String::new(),
        };
        let p = write_scratch(
            "Vagrantfile",
            vagrantfile(&provided.vagrantfile, &custom).as_bytes(),
        )?;
        members.insert("Vagrantfile".into(), p);

        for m in members.keys() {
            ctx.ui.message(format!("Compressing: {m}"));
        }
        crate::ensure_parent(KIND, &out)?;
        let level = s.compression_level.unwrap_or(-1);
        let staged = StagedFile::new(&out);
        let cancel = ctx.cancel.clone();
        // `members` may name files of `scratch`, which lives until this task has ended.
        let written = tokio::task::spawn_blocking(move || {
            let stop = || cancel.is_cancelled();
            let r = write_box(staged.path(), &members, level, &stop);
            if stop() {
                return Err(None);
            }
            r.and_then(|()| staged.commit()).map_err(Some)
        })
        .await
        .map_err(|e| BuildError::step(e.to_string()))?;
        drop(scratch);
        match written {
            Ok(()) => {}
            Err(None) => return Err(BuildError::Cancelled),
            Err(Some(e)) => return Err(crate::io_err(KIND, &format!("writing {out}"), e)),
        }
        let new = FileArtifact {
            builder_id: BUILDER_ID.into(),
            id: name.clone(),
            description: format!("'{name}' provider box: {out}"),
            files: vec![out],
        };
        Ok(PostProcessed {
            artifact: Arc::new(new),
            keep_input: provided.keep_input,
            force_keep: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_encoded_as_go_does() {
        let v = serde_json::json!({"provider": "libvirt", "a": [{"z": 1, "b": "<&>"}]});
        assert_eq!(
            go_json(&v),
            "{\"a\":[{\"b\":\"\\u003c\\u0026\\u003e\",\"z\":1}],\"provider\":\"libvirt\"}\n"
        );
    }

    #[test]
    fn base_mac_address_of_the_first_adapter() {
        let ovf = "<Machine>\n<Adapter slot=\"1\" MACAddress=\"111111111111\"/>\n  <Adapter slot=\"0\" enabled=\"true\" MACAddress=\"080027AABBCC\" type=\"82540EM\">\n";
        assert_eq!(base_mac(ovf).as_deref(), Some("080027AABBCC"));
        assert_eq!(base_mac("<Adapter slot=\"0\"\n MACAddress=\"x\""), None);
    }

    #[test]
    fn overrides_replace_only_what_they_set() {
        let cfg = VagrantConfig {
            compression_level: Some(1),
            output: Some("a.box".into()),
            overrides: BTreeMap::from([(
                "libvirt".to_string(),
                Settings {
                    compression_level: Some(0),
                    ..Settings::default()
                },
            )]),
            ..VagrantConfig::default()
        };
        let s = cfg.settings_for("libvirt");
        assert_eq!(
            (s.compression_level, s.output.as_deref()),
            (Some(0), Some("a.box"))
        );
        assert_eq!(cfg.settings_for("virtualbox").compression_level, Some(1));
    }

    #[test]
    fn architecture_uses_go_names() {
        let a = host_architecture();
        assert!(!["x86_64", "aarch64", "x86"].contains(&a.as_str()), "{a}");
    }
}

//! `kiln`: a Packer-compatible machine-image builder. This binary is thin: it parses flags
//! (Packer's single-dash style), loads templates with kiln-template, runs them with kiln-core's
//! orchestrator, and renders the event stream.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod catalog;
mod cleanup;
mod images;
mod json_events;
mod log;
mod operator;
mod plugins;
mod render;
mod scan;
mod test;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use kiln_core::orchestrator::{Orchestrator, RunOptions};
use kiln_core::plugin::OnError;
use kiln_core::{Diagnostics, Events, Registry};
use kiln_template::{LoadOptions, Template};
use render::{Renderer, Style};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "kiln",
    version,
    about = "Build machine images from Packer templates",
    disable_version_flag = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build images from a template (a file or a directory of *.pkr.hcl).
    Build(BuildArgs),
    /// Check that a template is valid.
    Validate(ValidateArgs),
    /// As `packer init`: say which of the template's required plugins Kiln has built in (it
    /// installs nothing); fails for one it does not have.
    Init(plugins::InitArgs),
    /// As `packer plugins`: the plugins Kiln has built in, and a template's requirements.
    Plugins {
        #[command(subcommand)]
        command: plugins::PluginsCommand,
    },
    /// Show a template's variables, locals, sources and builds.
    Inspect(InspectArgs),
    /// Evaluate expressions against a template's variables and locals (reads standard input
    /// when it is not a terminal).
    Console(ConsoleArgs),
    /// Rewrite templates and var files in HCL's canonical format.
    Fmt(FmtArgs),
    /// Rewrite a legacy JSON template as an HCL2 template.
    #[command(name = "hcl2_upgrade")]
    Hcl2Upgrade(UpgradeArgs),
    /// The image catalog: versions, channels, lifecycle, audit log.
    Images(images::ImagesArgs),
    /// Match an SBOM (CycloneDX or SPDX JSON) against an offline OSV vulnerability database.
    Scan(scan::ScanArgs),
    /// Boot a built qemu image in a throwaway VM and run a goss spec against it.
    Test(test::TestArgs),
    /// Remove what killed or interrupted runs left behind (VMs, temporary files, cloud
    /// instances, key pairs, security groups, unfinished images), from their journals.
    Cleanup(cleanup::CleanupArgs),
    /// Print the version.
    Version,
}

#[derive(Args, Debug)]
struct UpgradeArgs {
    /// Where to write the HCL2 template (default: TEMPLATE.pkr.hcl).
    #[arg(long = "output-file", short = 'o')]
    output_file: Option<PathBuf>,
    /// Accepted for compatibility; the output has brief comments.
    #[arg(long = "with-annotations")]
    with_annotations: bool,
    /// The JSON template.
    template: PathBuf,
}

#[derive(Args, Debug)]
struct FmtArgs {
    /// Only check: exit 3 when a file is not formatted; write nothing.
    #[arg(long)]
    check: bool,
    /// Print the changes as a diff.
    #[arg(long)]
    diff: bool,
    /// Write the result back to the files (-write=false to not).
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    write: String,
    /// Also process files in subdirectories.
    #[arg(long)]
    recursive: bool,
    /// Files or directories (default: the current directory); `-` reads standard input.
    paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct ConsoleArgs {
    /// Set a variable: -var 'name=value'.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Load variables from a file (HCL or JSON).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Accepted for compatibility: the template's own type decides (HCL2 or JSON).
    #[arg(long = "config-type")]
    config_type: Option<String>,
    /// Accepted for compatibility (Packer 1.12+): Kiln evaluates data sources, then locals.
    #[arg(long = "use-sequential-evaluation")]
    use_sequential_evaluation: bool,
    /// The template file or directory (none: functions only).
    paths: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
struct VarArgs {
    /// Set a variable: -var 'name=value'.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Load variables from a file (HCL or JSON).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Make undeclared variables and var-file entries that set no declared variable errors.
    #[arg(long)]
    strict: bool,
    /// Accepted for compatibility (Packer 1.12+): Kiln evaluates data sources, then locals.
    #[arg(long = "use-sequential-evaluation")]
    use_sequential_evaluation: bool,
    /// Template files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct InspectArgs {
    /// Accepted for compatibility, as Packer's: the whole template is shown.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Accepted for compatibility, as Packer's: the whole template is shown.
    #[arg(long, value_delimiter = ',')]
    except: Vec<String>,
    #[command(flatten)]
    common: VarArgs,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    /// Only check syntax; do not evaluate.
    #[arg(long = "syntax-only")]
    syntax_only: bool,
    /// Run data sources (they may call external services); without it their outputs are
    /// unknown, as in Packer since 1.8.5.
    #[arg(long = "evaluate-datasources")]
    evaluate_datasources: bool,
    /// Do not warn about var-file entries for undeclared variables.
    #[arg(long = "no-warn-undeclared-var")]
    no_warn_undeclared_var: bool,
    /// Build only these builds (globs, comma separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip these builds (globs, comma separated).
    #[arg(long, value_delimiter = ',')]
    except: Vec<String>,
    #[command(flatten)]
    common: VarArgs,
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// Build only these builds (globs over names like null.example, comma separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip these builds.
    #[arg(long, value_delimiter = ',')]
    except: Vec<String>,
    /// Replace existing outputs.
    #[arg(long)]
    force: bool,
    /// What to do when a build fails: cleanup, abort, ask, run-cleanup-provisioner.
    #[arg(long = "on-error", default_value = "cleanup")]
    on_error: String,
    /// How many builds run at once; 0 or less means no limit (as Packer).
    #[arg(
        long = "parallel-builds",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    parallel_builds: i64,
    /// Packer's machine-readable output.
    #[arg(long = "machine-readable")]
    machine_readable: bool,
    /// One JSON object per event on standard output (format version 1; see the README).
    #[arg(long = "json", conflicts_with = "machine_readable")]
    json: bool,
    /// Colour output (-color=false to disable).
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    color: String,
    /// Prefix output lines with timestamps.
    #[arg(long = "timestamp-ui")]
    timestamp_ui: bool,
    /// One build at a time, pausing for Enter after each step, before each provisioner and
    /// before each cleanup (as Packer).
    #[arg(long)]
    debug: bool,
    /// Warn about var-file entries for undeclared variables (silent by default, as Packer).
    #[arg(long = "warn-on-undeclared-var")]
    warn_on_undeclared_var: bool,
    /// Write one log per build, DIR/<build>.log: its output and its debug log.
    #[arg(long = "log-dir", value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// The catalog that records the build: an SQLite file or a postgres:// URL (default:
    /// KILN_CATALOG, else $XDG_DATA_HOME/kiln/catalog.db).
    #[arg(long)]
    catalog: Option<String>,
    /// Do not record the build in the catalog.
    #[arg(long = "no-catalog")]
    no_catalog: bool,
    #[command(flatten)]
    common: VarArgs,
}

/// Keeps the documents a build announces (SBOMs), for the catalog.
fn keep_document(
    docs: &mut std::collections::HashMap<String, Vec<kiln_catalog::documents::NewDocument>>,
    ev: &kiln_core::Event,
) {
    if let kiln_core::EventKind::Document {
        kind,
        name,
        content,
    } = &ev.kind
    {
        docs.entry(ev.build.clone())
            .or_default()
            .push(kiln_catalog::documents::NewDocument {
                kind: kind.clone(),
                name: name.clone(),
                content: content.clone(),
            });
    }
}

/// Notes when each build started and finished.
fn track(
    times: &mut std::collections::HashMap<String, (std::time::SystemTime, std::time::SystemTime)>,
    ev: &kiln_core::Event,
) {
    match ev.kind {
        kiln_core::EventKind::BuildStarted => {
            times.insert(ev.build.clone(), (ev.time, ev.time));
        }
        kiln_core::EventKind::BuildFinished { .. } => {
            let e = times.entry(ev.build.clone()).or_insert((ev.time, ev.time));
            e.1 = ev.time;
        }
        _ => {}
    }
}

/// Rewrites Packer's single-dash long flags (`-var`, `-only=x`) into clap's `--var` form.
fn packer_args(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest_are_paths = false;
    for a in args {
        if rest_are_paths || a == "--" {
            rest_are_paths = true;
            out.push(a);
        } else if a.len() > 2 && a.starts_with('-') && !a.starts_with("--") {
            out.push(format!("-{a}"));
        } else {
            out.push(a);
        }
    }
    out
}

/// The download cache: `KILN_CACHE_DIR`, else `PACKER_CACHE_DIR`, else `./packer_cache` as in Packer.
fn cache_dir() -> std::path::PathBuf {
    std::env::var_os("KILN_CACHE_DIR")
        .or_else(|| std::env::var_os("PACKER_CACHE_DIR"))
        .filter(|v| !v.is_empty())
        .map_or_else(|| "packer_cache".into(), Into::into)
}

fn registry() -> Registry {
    let mut r = kiln_engine::Engine::new().registry().clone();
    #[cfg(feature = "docker")]
    kiln_builder_docker::register_with(&mut r, docker_settings());
    r.data_source(
        "kiln-image",
        catalog::data_source(catalog::location(
            CATALOG_FLAG.get().and_then(Option::as_deref),
        )),
    );
    r
}

/// What `docker login` stored, as the docker CLI finds it: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`. A file that is missing or unreadable gives nothing (the template's
/// `login_*` options still work); one that is not JSON is said once on standard error.
#[cfg(feature = "docker")]
fn docker_settings() -> kiln_builder_docker::Settings {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")));
    let Some(path) = dir.map(|d| d.join("config.json")) else {
        return kiln_builder_docker::Settings::default();
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return kiln_builder_docker::Settings::default();
    };
    kiln_builder_docker::Settings::from_docker_config(&text).unwrap_or_else(|e| {
        eprintln!(
            "Warning: {}: {e}; the registry logins stored there are not used",
            path.display()
        );
        kiln_builder_docker::Settings::default()
    })
}

/// `kiln build --catalog`, for the `kiln-image` data source.
static CATALOG_FLAG: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Loads the templates; `skip_data` leaves data sources unrun (`validate`).
fn load(common: &VarArgs, allow_unset: bool, skip_data: bool) -> Result<Template, Diagnostics> {
    let mut vars = Vec::new();
    let mut diags = Diagnostics::default();
    for v in &common.vars {
        match v.split_once('=') {
            Some((k, val)) => vars.push((k.to_string(), val.to_string())),
            None => diags.push(kiln_core::Diagnostic::error("Invalid -var option", format!("The given -var option {v:?} is not correctly specified. Variables must be given as -var NAME=VALUE."))),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    // `-` reads the template from standard input (JSON, or HCL2 when it does not start with `{`).
    let mut paths = common.paths.clone();
    let mut inline = Vec::new();
    if paths.len() == 1 && paths[0].as_os_str() == "-" {
        use std::io::Read;
        let mut bytes = Vec::new();
        let read = std::io::stdin()
            .take(kiln_template::source::MAX_BYTES + 1)
            .read_to_end(&mut bytes);
        let text = match read {
            Err(e) => Err(e.to_string()),
            Ok(_) if bytes.len() as u64 > kiln_template::source::MAX_BYTES => Err(format!(
                "it is larger than {} MiB, the most Kiln reads from a template",
                kiln_template::source::MAX_BYTES / 1024 / 1024
            )),
            Ok(_) => kiln_template::source::decode(bytes),
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                return Err(kiln_core::Diagnostic::error("Cannot read standard input", e).into())
            }
        };
        let name = if text.trim_start().starts_with('{') {
            "stdin.json"
        } else {
            "stdin.pkr.hcl"
        };
        inline.push((name.to_string(), text));
        paths.clear();
    }
    kiln_template::load(&LoadOptions {
        paths,
        vars,
        var_files: common.var_files.clone(),
        env: std::env::vars().collect(),
        cwd: std::env::current_dir().unwrap_or_default(),
        allow_unset,
        inline,
        data_sources: registry().data_sources(),
        skip_data_sources: skip_data,
        cache_dir: Some(cache_dir()),
    })
}

/// Loads the templates, printing errors (and warnings) to stderr.
fn load_reporting(common: &VarArgs, undeclared_warnings: bool) -> Option<Template> {
    load_reporting_with(common, false, undeclared_warnings, false)
}

/// The summary of the warning a var file gets for setting an undeclared variable.
const UNDECLARED: &str = "Undefined variable";

fn load_reporting_with(
    common: &VarArgs,
    allow_unset: bool,
    undeclared_warnings: bool,
    skip_data: bool,
) -> Option<Template> {
    match load(common, allow_unset, skip_data) {
        Ok(mut t) => {
            for secret in &t.plan.secrets {
                SECRETS.add(secret);
            }
            if common.strict {
                let undeclared: Vec<kiln_core::Diagnostic> = t
                    .warnings
                    .0
                    .iter()
                    .filter(|w| w.summary == UNDECLARED)
                    .map(|w| {
                        let mut e = w.clone();
                        e.severity = kiln_core::config::Severity::Error;
                        e.detail.push_str(" (--strict makes this an error.)");
                        e
                    })
                    .collect();
                if !undeclared.is_empty() {
                    print_diags(&Diagnostics(undeclared));
                    return None;
                }
            }
            if !undeclared_warnings {
                t.warnings.0.retain(|w| w.summary != UNDECLARED);
            }
            print_warnings(&t);
            Some(t)
        }
        Err(d) => {
            print_diags(&d);
            None
        }
    }
}

/// The loaded template's sensitive values: no message printed may show them.
static SECRETS: std::sync::LazyLock<kiln_core::event::Secrets> =
    std::sync::LazyLock::new(kiln_core::event::Secrets::default);

fn print_diags(d: &Diagnostics) {
    let d = d.clone().scrubbed(&SECRETS);
    eprintln!("{d}\n");
}

fn print_warnings(t: &Template) {
    for w in t.warnings.warnings() {
        eprintln!("{}\n", SECRETS.scrub(&w.to_string()));
    }
}

fn main() {
    let cli = match Cli::try_parse_from(packer_args(std::env::args())) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    };
    log::init(match &cli.command {
        Command::Build(a) => a.log_dir.as_deref(),
        _ => None,
    });
    let code = match cli.command {
        Command::Console(a) => console(&a),
        Command::Fmt(a) => fmt(&a),
        Command::Hcl2Upgrade(a) => hcl2_upgrade(&a),
        Command::Version => {
            println!(
                "Kiln v{} (Packer template language {})",
                kiln_core::VERSION,
                kiln_template::PACKER_COMPAT_VERSION
            );
            0
        }
        Command::Validate(a) => validate(&a),
        Command::Init(a) => plugins::run(&a),
        Command::Plugins { command } => plugins::plugins(&command),
        Command::Scan(a) => scan::run(&a),
        Command::Test(a) => test::run(a),
        Command::Inspect(a) => inspect(&a.common),
        Command::Images(a) => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => finish(rt, images::run(a)),
            Err(e) => {
                eprintln!("Error: cannot start the async runtime: {e}");
                1
            }
        },
        Command::Cleanup(a) => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => finish(rt, cleanup::run(&a, &registry())),
            Err(e) => {
                eprintln!("Error: cannot start the async runtime: {e}");
                1
            }
        },
        Command::Build(a) => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => {
                let _ = CATALOG_FLAG.set(a.catalog.clone());
                finish(rt, build(a))
            }
            Err(e) => {
                eprintln!("Error: cannot start the async runtime: {e}");
                1
            }
        },
    };
    std::process::exit(code);
}

/// Runs `f` to its end, then leaves without waiting for blocking threads still at work: a
/// read of the terminal for a `breakpoint` interrupted by Ctrl-C would otherwise keep Kiln
/// until Enter.
fn finish(rt: tokio::runtime::Runtime, f: impl std::future::Future<Output = i32>) -> i32 {
    let code = rt.block_on(f);
    rt.shutdown_background();
    code
}

fn validate(a: &ValidateArgs) -> i32 {
    if a.syntax_only {
        let mut bad = false;
        for p in &a.common.paths {
            let files: Vec<PathBuf> = if p.is_dir() {
                let mut fs: Vec<PathBuf> = std::fs::read_dir(p)
                    .map(|rd| {
                        rd.flatten()
                            .map(|e| e.path())
                            .filter(|f| {
                                let n = f.to_string_lossy();
                                n.ends_with(".pkr.hcl") || n.ends_with(".pkr.json")
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                fs.sort();
                fs
            } else {
                vec![p.clone()]
            };
            for f in files {
                let text = match kiln_template::source::read_text(&f) {
                    Ok(text) => text,
                    Err(e) => {
                        bad = true;
                        eprintln!(
                            "Error: Cannot read template\n\nReading {}: {e}.\n",
                            f.display()
                        );
                        continue;
                    }
                };
                let name = f.display().to_string();
                if name.ends_with(".pkr.json") {
                    // HCL2 in JSON syntax: valid JSON in the template schema, then valid HCL.
                    let checked = kiln_template::hcljson::to_native(&text)
                        .map_err(|e| {
                            kiln_core::config::Diagnostics::from(
                                kiln_core::config::Diagnostic::error(
                                    "Invalid HCL JSON",
                                    format!("{name}: {e}."),
                                ),
                            )
                        })
                        .and_then(|native| kiln_template::check_syntax(&name, &native));
                    if let Err(d) = checked {
                        bad = true;
                        print_diags(&d);
                    }
                } else if kiln_template::is_legacy_json(&f, Some(&text)) {
                    // A legacy JSON template: parsed as JSON, as Packer does, never as HCL.
                    if let Err(d) = kiln_template::legacy::check_syntax(&name, &text) {
                        bad = true;
                        print_diags(&d);
                    }
                } else if let Err(d) = kiln_template::check_syntax(&name, &text) {
                    bad = true;
                    print_diags(&d);
                }
            }
        }
        if bad {
            return 1;
        }
        println!("Syntax-only check passed. Everything looks okay.");
        return 0;
    }
    let Some(t) = load_reporting_with(
        &a.common,
        false,
        !a.no_warn_undeclared_var,
        !a.evaluate_datasources,
    ) else {
        return 1;
    };
    let (events, _rx) = Events::channel();
    let orch = Orchestrator::new(registry(), events);
    let opts = RunOptions {
        only: name_patterns(&t, &a.only),
        except: name_patterns(&t, &a.except),
        ..RunOptions::default()
    };
    if t.legacy_json.is_none() {
        for d in Orchestrator::filter_warnings(&t.plan, &opts).warnings() {
            eprintln!("{}\n", SECRETS.scrub(&d.to_string()));
        }
    }
    match orch.validate(&t.plan, &opts) {
        Ok(w) => {
            for d in w.warnings() {
                eprintln!("{}\n", SECRETS.scrub(&d.to_string()));
            }
            println!("The configuration is valid.");
            0
        }
        Err(d) => {
            print_diags(&d);
            1
        }
    }
}

/// `-only` / `-except` as the template's kind reads them: globs for HCL2; exact names for
/// legacy JSON, as Packer's core compares them (so `web-*` matches only a build named so).
fn name_patterns(t: &kiln_template::Template, patterns: &[String]) -> Vec<String> {
    if t.legacy_json.is_none() {
        return patterns.to_vec();
    }
    patterns
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| match c {
                    '*' | '?' | '[' | ']' | '{' | '}' | '\\' => format!("\\{c}"),
                    c => c.to_string(),
                })
                .collect()
        })
        .collect()
}

/// A value as `packer inspect` shows it: its HCL rendering (a string as itself), quoted.
fn show(v: &hcl::Value) -> String {
    let text = match v {
        hcl::Value::String(s) => s.clone(),
        other => kiln_template::format_value(other),
    };
    serde_json::to_string(&text).unwrap_or_default()
}

fn fmt_files(dir: &std::path::Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for e in entries {
        let n = e.to_string_lossy();
        if e.is_dir() {
            if recursive {
                fmt_files(&e, recursive, out);
            }
        } else if n.ends_with(".pkr.hcl") || n.ends_with(".pkrvars.hcl") {
            out.push(e);
        }
    }
}

/// A unified diff of two texts, for `fmt -diff`.
fn unified_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("old/{name}"), &format!("new/{name}"))
        .to_string()
}

/// `kiln fmt`: exit 0, 3 when `-check` finds unformatted files, 1 on errors.
fn fmt(a: &FmtArgs) -> i32 {
    use std::io::Read;
    let write = a.write != "false" && !a.check;
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths.clone()
    };
    if paths.len() == 1 && paths[0].as_os_str() == "-" {
        let mut text = String::new();
        if std::io::stdin().read_to_string(&mut text).is_err() {
            eprintln!("Error: cannot read standard input");
            return 1;
        }
        if let Err(d) = kiln_template::check_syntax("<stdin>", &text) {
            print_diags(&d);
            return 1;
        }
        return match kiln_template::fmt::format(&text) {
            Ok(f) => {
                if a.check {
                    return if f == text { 0 } else { 3 };
                }
                print!("{f}");
                0
            }
            Err(e) => {
                eprintln!("Error: <stdin>: {e}");
                1
            }
        };
    }
    let mut files = Vec::new();
    for p in &paths {
        if p.is_dir() {
            fmt_files(p, a.recursive, &mut files);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            eprintln!("Error: {} does not exist", p.display());
            return 1;
        }
    }
    let (mut changed, mut failed) = (false, false);
    for f in files {
        // As Go's filepath.Join prints it: `./a.pkr.hcl` is `a.pkr.hcl`.
        let shown = f.display().to_string();
        let name = shown.strip_prefix("./").unwrap_or(&shown).to_string();
        let text = match kiln_template::source::read_text(&f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Error: reading {name}: {e}");
                failed = true;
                continue;
            }
        };
        if let Err(d) = kiln_template::check_syntax(&name, &text) {
            print_diags(&d);
            failed = true;
            continue;
        }
        let formatted = match kiln_template::fmt::format(&text) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("Error: {name}: {e}");
                failed = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed = true;
        println!("{name}");
        if a.diff {
            print!("{}", unified_diff(&name, &text, &formatted));
        }
        if write {
            let staged = kiln_core::staged::StagedFile::new(&f);
            let r = std::fs::write(staged.path(), &formatted).and_then(|()| staged.commit());
            if let Err(e) = r {
                eprintln!("Error: writing {name}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        1
    } else if a.check && changed {
        3
    } else {
        0
    }
}

/// `kiln hcl2_upgrade`: writes TEMPLATE.pkr.hcl (or -output-file).
fn hcl2_upgrade(a: &UpgradeArgs) -> i32 {
    let name = a.template.display().to_string();
    let text = match kiln_template::source::read_text(&a.template) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Error: reading {name}: {e}");
            return 1;
        }
    };
    let hcl = match kiln_template::upgrade::hcl2_upgrade(&name, &text) {
        Ok(h) => h,
        Err(d) => {
            print_diags(&d);
            return 1;
        }
    };
    let out = a
        .output_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{name}.pkr.hcl")));
    if let Err(e) = std::fs::write(&out, hcl) {
        eprintln!("Error: writing {}: {e}", out.display());
        return 1;
    }
    println!("Successfully created {}", out.display());
    0
}

/// `kiln console`: one expression per line; `variables`, `help` and `exit` as in Packer.
fn console(a: &ConsoleArgs) -> i32 {
    use std::io::BufRead;
    let common = VarArgs {
        vars: a.vars.clone(),
        var_files: a.var_files.clone(),
        strict: false,
        use_sequential_evaluation: a.use_sequential_evaluation,
        paths: a.paths.clone(),
    };
    let loaded = if a.paths.is_empty() {
        kiln_template::load(&LoadOptions {
            inline: vec![("console.pkr.hcl".into(), String::new())],
            cwd: std::env::current_dir().unwrap_or_default(),
            ..LoadOptions::default()
        })
    } else {
        load(&common, true, false)
    };
    let t = match loaded {
        Ok(t) => t,
        Err(d) => {
            print_diags(&d);
            return 1;
        }
    };
    let interactive = std::io::stdin().is_terminal();
    let mut failed = false;
    let prompt = || {
        if interactive {
            eprint!("> ");
        }
    };
    prompt();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let input = line.trim();
        match input {
            "" => {}
            "exit" => break,
            "help" => println!("Type an expression (var.x, local.y, upper(\"a\") ...) and press Enter to see its value.\n`variables` lists the variables; `exit` or Ctrl-D leaves."),
            "variables" => {
                for v in t.variables.values() {
                    let shown = match (&v.value, v.sensitive) {
                        (_, true) => "<sensitive>".to_string(),
                        (Some(x), false) => kiln_template::format_value(x),
                        (None, false) => "<unknown>".to_string(),
                    };
                    println!("var.{}: {shown}", v.name);
                }
            }
            expr => match t.console_eval(expr) {
                Ok(out) => println!("{out}"),
                Err(d) => {
                    failed = true;
                    eprintln!("{d}\n");
                }
            },
        }
        prompt();
    }
    i32::from(failed && !interactive)
}

/// `inspect` of a legacy JSON template, in Packer's JSON-mode layout.
fn inspect_legacy(s: &kiln_template::legacy::Summary) {
    println!("Packer Inspect: JSON mode");
    if let Some(d) = s.description.as_deref().filter(|d| !d.is_empty()) {
        println!("Description:\n\n{d}\n");
    }
    if s.variables.is_empty() {
        println!("Variables:\n\n  <No variables>");
    } else {
        let width = s.variables.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let required: Vec<&String> = s
            .variables
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
        if !required.is_empty() {
            println!("Required variables:\n");
            for k in required {
                println!("  {k}");
            }
            println!();
        }
        println!("Optional variables and their defaults:\n");
        for (k, v) in &s.variables {
            let Some(v) = v else { continue };
            let shown = if s.sensitive.contains(k) {
                "<sensitive>"
            } else {
                v.as_str()
            };
            println!("  {k:width$} = {shown}");
        }
    }
    println!("\nBuilders:\n");
    let width = s.builders.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (name, kind) in &s.builders {
        if name == kind {
            println!("  {name:width$}");
        } else {
            println!("  {name:width$} ({kind})");
        }
    }
    println!("\nProvisioners:\n");
    if s.provisioners.is_empty() {
        println!("  <No provisioners>");
    }
    for p in &s.provisioners {
        println!("  {p}");
    }
    println!("\nNote: If your build names contain user variables or template\nfunctions such as 'timestamp', these are processed at build time,\nand therefore only show in their raw form here.");
}

fn inspect(a: &VarArgs) -> i32 {
    let Some(t) = load_reporting_with(a, true, true, false) else {
        return 1;
    };
    if let Some(s) = &t.legacy_json {
        inspect_legacy(s);
        return 0;
    }
    println!("Packer Inspect: HCL2 mode\n");
    println!("> input-variables:\n");
    let mut vars: Vec<&kiln_template::Variable> = t.variables.values().collect();
    vars.sort_by(|a, b| a.name.cmp(&b.name));
    for v in vars {
        let val = match (&v.value, v.sensitive) {
            (_, true) => "\"<sensitive>\"".to_string(),
            (Some(x), false) => show(x),
            (None, false) => "\"<unknown>\"".to_string(),
        };
        println!("var.{}: {val}", v.name);
    }
    println!("\n> local-variables:\n");
    let mut locals: Vec<(&String, &hcl::Value)> = t.locals.iter().collect();
    locals.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in locals {
        let val = if t.sensitive_locals.contains(k) {
            "\"<sensitive>\"".to_string()
        } else {
            show(v)
        };
        println!("local.{k}: {val}");
    }
    println!("\n> builds:");
    // One entry per build block, in template order.
    let mut blocks: indexmap::IndexMap<usize, Vec<&kiln_core::plan::PlannedBuild>> =
        indexmap::IndexMap::new();
    for b in &t.plan.builds {
        blocks.entry(b.build_block).or_default().push(b);
    }
    let named = |kind: &str, name: &Option<String>| match name {
        Some(n) => format!("{kind}.{n}"),
        None => kind.to_string(),
    };
    for (i, builds) in blocks {
        let Some(first) = builds.first() else {
            continue;
        };
        let name = first
            .build_block_name
            .clone()
            .unwrap_or_else(|| format!("<unnamed build {i}>"));
        println!("\n  > {name}:");
        if let Some(d) = &first.build_description {
            println!("\n  > Description: {d}");
        }
        println!("\n    sources:");
        for b in &builds {
            println!("\n      {}", b.source_ref());
        }
        println!("\n    provisioners:\n");
        if first.provisioners.is_empty() {
            println!("      <no provisioner>");
        }
        for p in &first.provisioners {
            println!("      {}", named(&p.plugin.kind, &p.name));
        }
        println!("\n    post-processors:");
        if first.post_processors.is_empty() {
            println!("\n      <no post-processor>");
        }
        for (i, chain) in first.post_processors.iter().enumerate() {
            println!("\n      {i}:");
            for p in chain {
                println!("        {}", named(&p.plugin.kind, &p.name));
            }
        }
    }
    println!();
    0
}

async fn build(a: BuildArgs) -> i32 {
    let on_error = match a.on_error.as_str() {
        "cleanup" => OnError::Cleanup,
        "ask" => OnError::Ask,
        "abort" => OnError::Abort,
        "run-cleanup-provisioner" => OnError::RunCleanupProvisioner,
        other => {
            eprintln!("Error: -on-error={other} is not one of cleanup, abort, ask, run-cleanup-provisioner.");
            return 1;
        }
    };
    // A boolean flag, as Go's flag package reads one.
    let color = match a.color.as_str() {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
        "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
        other => {
            eprintln!("Error: invalid boolean value {other:?} for -color: use -color=false or -color=true.");
            return 1;
        }
    };
    let Some(t) = load_reporting(&a.common, a.warn_on_undeclared_var) else {
        return 1;
    };
    let plain = a.machine_readable || a.json;
    let style = Style {
        machine: a.machine_readable,
        json: a.json,
        color: color && std::io::stdout().is_terminal() && !plain,
        timestamps: a.timestamp_ui,
        progress: std::io::stdout().is_terminal() && !plain,
    };
    let (events, mut rx) = Events::channel();
    log::scrub_with(events.secrets().clone());
    let orch = Orchestrator::new(registry(), events.clone());
    let run_uuid = uuid::Uuid::new_v4().to_string();
    let opts = RunOptions {
        only: name_patterns(&t, &a.only),
        except: name_patterns(&t, &a.except),
        parallel_builds: usize::try_from(a.parallel_builds).unwrap_or(0),
        on_error,
        force: a.force,
        run_uuid: run_uuid.clone(),
        cache_dir: Some(cache_dir()),
        journal: cleanup::open(&run_uuid),
        debug: a.debug,
        operator: Some(std::sync::Arc::new(operator::Terminal::new())),
    };
    if a.debug {
        let note = "Debug mode enabled. Builds will not be parallelized.";
        if plain {
            eprintln!("{note}");
        } else {
            println!("{note}");
        }
    }
    cleanup::warn_leftovers();
    if t.legacy_json.is_none() {
        for d in Orchestrator::filter_warnings(&t.plan, &opts).warnings() {
            eprintln!("{}\n", SECRETS.scrub(&d.to_string()));
        }
    }
    let names: Vec<String> = match orch.select(&t.plan, &opts) {
        Ok(b) => b.iter().map(|b| b.name.clone()).collect(),
        Err(d) => {
            print_diags(&d);
            return 1;
        }
    };
    if names.is_empty() && t.plan.builds.is_empty() {
        eprintln!(
            "Error: the template defines no builds: a `build` block with `sources` (or, in JSON, `builders`) says what to build."
        );
        return 1;
    }
    if names.is_empty() {
        eprintln!(
            "Error: no builds to run: -only/-except matched none of {}",
            t.plan
                .builds
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return 1;
    }
    let mut renderer = Renderer::new(style);
    let cancel = tokio_util::sync::CancellationToken::new();
    let ev2 = events.clone();
    cleanup::on_signals(cancel.clone(), opts.journal.clone(), move || {
        ev2.emit(
            "",
            kiln_core::EventKind::Error(
                "Interrupt received. Cancelling builds and cleaning up...".into(),
            ),
        );
    });
    let plan = Arc::new(t.plan.clone());
    let t_meta = t;
    let start = Instant::now();
    let validated = orch.validate(&plan, &opts);
    if let Err(d) = validated {
        print_diags(&d);
        return 1;
    }
    renderer.start(&names);
    let run = {
        let orch = orch.clone();
        let plan = plan.clone();
        let opts = opts.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move { orch.run_validated(plan, &opts, cancel).await })
    };
    drop(events);
    drop(orch);
    let mut results = Vec::new();
    let mut times = std::collections::HashMap::new();
    let mut run = Some(run);
    let mut outcome = None;
    let mut documents: std::collections::HashMap<
        String,
        Vec<kiln_catalog::documents::NewDocument>,
    > = std::collections::HashMap::new();
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => {
                    if ev.build.is_empty() {
                        if let kiln_core::EventKind::Error(t) = &ev.kind { renderer.say(&format!("==> {t}")); }
                        continue;
                    }
                    if let kiln_core::EventKind::BuildFinished { error, artifacts, .. } = &ev.kind {
                        results.push((ev.build.clone(), match error { None => Ok(artifacts.clone()), Some(e) => Err(e.clone()) }));
                    }
                    track(&mut times, &ev);
                    keep_document(&mut documents, &ev);
                    log::build_event(&ev);
                    renderer.event(&ev);
                }
                None => break,
            },
            r = async { run.as_mut().expect("run handle").await }, if run.is_some() => {
                run = None;
                outcome = Some(r);
            }
        }
        if run.is_none() && rx.is_empty() && outcome.is_some() {
            // Drain whatever is left without blocking on senders held elsewhere.
            while let Ok(ev) = rx.try_recv() {
                if let kiln_core::EventKind::BuildFinished {
                    error, artifacts, ..
                } = &ev.kind
                {
                    results.push((
                        ev.build.clone(),
                        match error {
                            None => Ok(artifacts.clone()),
                            Some(e) => Err(e.clone()),
                        },
                    ));
                }
                track(&mut times, &ev);
                keep_document(&mut documents, &ev);
                log::build_event(&ev);
                renderer.event(&ev);
            }
            break;
        }
    }
    match outcome {
        Some(Ok(Err(d))) => {
            print_diags(&d);
            return 1;
        }
        Some(Err(e)) => {
            eprintln!("Error: the build task failed: {e}");
            return 1;
        }
        _ => {}
    }
    cleanup::say_left(&opts.journal.clone().finish());
    // Report in the order the builds were declared.
    results.sort_by_key(|(n, _)| names.iter().position(|x| x == n).unwrap_or(usize::MAX));
    let ok = renderer.summary(&results, start.elapsed());
    if !a.no_catalog {
        if let Some(loc) = catalog::location(a.catalog.as_deref()) {
            let finished = results
                .iter()
                .map(|(name, r)| {
                    let (started, finished) = times
                        .get(name)
                        .copied()
                        .unwrap_or((std::time::SystemTime::now(), std::time::SystemTime::now()));
                    catalog::Finished {
                        name: name.clone(),
                        source_type: plan
                            .builds
                            .iter()
                            .find(|b| &b.name == name)
                            .map(|b| b.source_type.clone())
                            .unwrap_or_default(),
                        started,
                        finished,
                        result: r.clone(),
                        documents: documents.remove(name).unwrap_or_default(),
                    }
                })
                .collect();
            match catalog::record(
                loc,
                &t_meta,
                &a.common.paths,
                finished,
                cancel.is_cancelled(),
            )
            .await
            {
                Ok(lines) => lines.iter().for_each(|l| eprintln!("{}", SECRETS.scrub(l))),
                Err(e) => eprintln!(
                    "Warning: the build was not recorded in the catalog: {}",
                    SECRETS.scrub(&e)
                ),
            }
        }
    }
    if ok && !cancel.is_cancelled() {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packer_style_flags() {
        let a = packer_args(
            [
                "kiln",
                "build",
                "-var",
                "a=b",
                "-only=x.*",
                "--force",
                "t.pkr.hcl",
            ]
            .map(String::from)
            .into_iter(),
        );
        assert_eq!(
            a,
            [
                "kiln",
                "build",
                "--var",
                "a=b",
                "--only=x.*",
                "--force",
                "t.pkr.hcl"
            ]
        );
    }
}

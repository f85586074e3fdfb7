//! # kiln-template: Packer templates to a typed build plan
//!
//! Reads HCL2 templates (`*.pkr.hcl`, a file, several files, or a directory with its
//! `*.auto.pkrvars.hcl`), resolves variables in Packer's precedence (default < `PKR_VAR_x` <
//! auto var files < `-var-file` < `-var`), evaluates locals, and produces a
//! [`kiln_core::plan::BuildPlan`] whose plugin bodies are re-evaluated per build, so that
//! provisioners see the builder's generated values (`build.Host` ...).
//!
//! Every error names file:line:column with the offending line; several are reported together.
//! Start at [`load`].

mod bignum;
pub mod body;
mod builds;
mod console;
pub mod data;
mod dynamic;
pub mod eval;
pub mod fmt;
pub mod functions;
pub mod functions_ext;
pub mod gofmt;
pub mod gostr;
pub mod gotmpl;
pub mod hcljson;
mod heredoc;
mod jsondec;
pub mod lazy;
pub mod legacy;
mod locals;
pub mod ops;
pub mod ordered;
pub mod plugins;
mod rsadecrypt;
pub mod source;
pub mod tmpl;
pub mod types;
pub mod upgrade;
mod variables;
mod yaml;

use body::{HclBody, Layer};
use builds::{collect_sources, plan_builds};
use eval::{loc_of, Scope};
use hcl::edit::expr::Expression as EExpr;
use hcl::edit::structure::{Block, Body as EBody, Structure};
use hcl::eval::Context;
use hcl::Value;
use indexmap::IndexMap;
use kiln_core::config::{suggest, Diagnostic, Diagnostics, Location};
use kiln_core::plan::{BuildPlan, PlannedBuild, PluginSpec, PostProcessorSpec, ProvisionerSpec};
use locals::{evaluate_locals, refs};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use types::Type;
use variables::{assign_variables, declare_variables, validate_variables};

/// The Packer version Kiln's template language matches: `packer.version` and the
/// `required_version` check use it.
pub const PACKER_COMPAT_VERSION: &str = "1.16.0";

/// A template file and its text, for locating errors.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it.
    pub name: String,
    /// The text.
    pub text: String,
}

/// What to load and with which inputs. The library reads no environment itself.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Template files or directories.
    pub paths: Vec<PathBuf>,
    /// `-var name=value`, in order.
    pub vars: Vec<(String, String)>,
    /// `-var-file`, in order.
    pub var_files: Vec<PathBuf>,
    /// The environment, for `PKR_VAR_name` and `env()` in variable defaults.
    pub env: BTreeMap<String, String>,
    /// The working directory (`path.cwd`).
    pub cwd: PathBuf,
    /// Inspecting only: required variables may stay unset (legacy JSON templates).
    pub allow_unset: bool,
    /// Templates given as text, `(file name, content)`, after those in `paths` (library users,
    /// tests, fuzzing). A name ending in `.json` is a legacy JSON template.
    pub inline: Vec<(String, String)>,
    /// Data source types from plugin crates (`amazon-ami`), beside the built-in ones.
    pub data_sources: kiln_core::registry::DataSources,
    /// Do not run data sources (`validate` without `-evaluate-datasources`): their outputs
    /// are unknown, and a local that cannot be evaluated because of one is unknown too.
    pub skip_data_sources: bool,
    /// Where data sources keep files between runs (`data "sshkey"`'s keys): Packer's
    /// `PACKER_CACHE_DIR`; default `packer_cache`. A relative path is taken from `cwd`.
    pub cache_dir: Option<PathBuf>,
}

/// A declared variable and its resolved value.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Its final value (`None` when it has no default and was not set).
    pub value: Option<Value>,
    /// Its description.
    pub description: String,
    /// Whether its value must be hidden.
    pub sensitive: bool,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// A `source` block.
#[derive(Debug, Clone)]
pub struct SourceDef {
    /// Its type (builder).
    pub kind: String,
    /// Its name.
    pub name: String,
    file: Arc<SourceFile>,
    body: EBody,
    /// Where it is declared.
    pub location: Option<Location>,
}

/// A loaded template: variables, locals, sources and builds, ready to plan.
#[derive(Debug)]
pub struct Template {
    /// Declared variables in declaration order.
    pub variables: IndexMap<String, Variable>,
    /// Locals and their values.
    pub locals: IndexMap<String, Value>,
    /// Locals marked sensitive.
    pub sensitive_locals: BTreeSet<String>,
    /// Sources by `type.name`.
    pub sources: IndexMap<String, SourceDef>,
    /// The build plan.
    pub plan: BuildPlan,
    /// Warnings found while loading.
    pub warnings: Diagnostics,
    /// What `inspect` shows of a legacy JSON template, when it came from one.
    pub legacy_json: Option<legacy::Summary>,
    /// What expressions see (`kiln console`): HCL2 values, or the legacy template engine.
    pub(crate) console: Console,
}

/// The evaluation context `kiln console` uses.
#[derive(Debug, Clone)]
pub(crate) enum Console {
    Hcl(Arc<Shared>),
    Legacy(Arc<gotmpl::Ctx>),
}

/// A value in HCL syntax, as `kiln console` and `kiln inspect` show it (strings quoted; lists and
/// maps over several lines, map keys sorted).
#[must_use]
pub fn format_value(v: &Value) -> String {
    fn quote(s: &str) -> String {
        serde_json::to_string(s).unwrap_or_default()
    }
    fn go(v: &Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent + 2);
        match v {
            Value::String(s) => out.push_str(&quote(s)),
            Value::Array(a) if a.is_empty() => out.push_str("[]"),
            Value::Array(a) => {
                out.push_str("[\n");
                for x in a {
                    out.push_str(&pad);
                    go(x, indent + 2, out);
                    out.push_str(",\n");
                }
                out.push_str(&" ".repeat(indent));
                out.push(']');
            }
            Value::Object(o) if o.is_empty() => out.push_str("{}"),
            Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                out.push_str("{\n");
                for k in keys {
                    out.push_str(&pad);
                    out.push_str(&quote(k));
                    out.push_str(" = ");
                    go(&o[k], indent + 2, out);
                    out.push('\n');
                }
                out.push_str(&" ".repeat(indent));
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    go(v, 0, &mut out);
    out
}

impl Template {
    /// Values to hide: sensitive variables and locals (and their string leaves).
    #[must_use]
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let vals = self
            .variables
            .values()
            .filter(|v| v.sensitive)
            .filter_map(|v| v.value.as_ref())
            .chain(
                self.locals
                    .iter()
                    .filter(|(k, _)| self.sensitive_locals.contains(*k))
                    .map(|(_, v)| v),
            );
        for v in vals {
            leaves(v, &mut out);
        }
        out
    }
}

fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
        _ => {}
    }
}

/// The shared evaluation inputs of every body of one template.
#[derive(Debug)]
pub struct Shared {
    pub(crate) var: Value,
    pub(crate) local: Value,
    pub(crate) path: Value,
    pub(crate) data: Value,
    pub(crate) var_names: BTreeSet<String>,
    pub(crate) local_names: BTreeSet<String>,
    /// When data sources are not run (validate): the locals computed from their outputs,
    /// whose values are unknown.
    pub(crate) unknown_locals: Option<BTreeSet<String>>,
    /// The variables and locals that are sets (`var.x`, `local.y`): see `types::yields_set`.
    pub(crate) sets: BTreeSet<String>,
}

impl Shared {
    pub(crate) fn context(&self) -> Context<'static> {
        let mut ctx = Context::new();
        functions::declare(&mut ctx, false);
        ctx.declare_var("var", self.var.clone());
        ctx.declare_var("local", self.local.clone());
        ctx.declare_var("path", self.path.clone());
        ctx.declare_var("data", self.data.clone());
        let mut packer = hcl::Map::new();
        packer.insert("version".to_string(), Value::from(PACKER_COMPAT_VERSION));
        ctx.declare_var("packer", Value::Object(packer));
        ctx
    }

    pub(crate) fn scope(&self, extra: &[(&str, Option<&[&str]>)]) -> Scope {
        let set = |v: &[&str]| Some(v.iter().map(|s| (*s).to_string()).collect());
        let mut roots = vec![
            ("var".to_string(), Some(self.var_names.clone())),
            ("local".to_string(), Some(self.local_names.clone())),
            ("path".to_string(), set(&["root", "cwd"])),
            ("packer".to_string(), set(&["version"])),
            (
                "data".to_string(),
                Some(
                    data::TYPES
                        .iter()
                        .chain(data::PLUGGED)
                        .map(|t| (*t).to_string())
                        .collect(),
                ),
            ),
        ];
        for (name, attrs) in extra {
            roots.push(((*name).to_string(), attrs.map(set).unwrap_or(None)));
        }
        Scope {
            roots,
            functions: true,
            extra_functions: vec![],
            only_extra_functions: false,
        }
    }
}

/// Whether loading stops here: on any error, except when inspecting, where (as Packer's inspect)
/// errors after parsing (an unset variable, an unknown data source type) are left out and
/// loading goes on with what could be evaluated.
fn halt(diags: &mut Diagnostics, inspecting: bool) -> bool {
    if inspecting {
        diags
            .0
            .retain(|d| d.severity != kiln_core::config::Severity::Error);
        return false;
    }
    diags.has_errors()
}

/// Checks that `text` parses as HCL (for `fmt` and `validate -syntax-only`).
///
/// # Errors
/// The syntax error, located.
pub fn check_syntax(name: &str, text: &str) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    match parse_file(name, text.to_string(), &mut diags) {
        Some(_) => Ok(()),
        None => Err(diags),
    }
}

fn parse_file(
    name: &str,
    text: String,
    diags: &mut Diagnostics,
) -> Option<(Arc<SourceFile>, EBody)> {
    match hcl::edit::parser::parse_body(&text) {
        Ok(body) => Some((
            Arc::new(SourceFile {
                name: name.to_string(),
                text,
            }),
            body,
        )),
        Err(e) => {
            let l = e.location();
            let line_text = e.line().to_string();
            diags.push(
                Diagnostic::error(
                    "Invalid HCL syntax",
                    format!("{}.", e.message().trim_end_matches('.')),
                )
                .at(Some(Location::at(
                    name,
                    &line_text,
                    l.line(),
                    l.column(),
                    1,
                ))),
            );
            None
        }
    }
}

fn read(path: &Path, diags: &mut Diagnostics) -> Option<String> {
    read_as(path, "Cannot read template", diags)
}

fn read_as(path: &Path, title: &str, diags: &mut Diagnostics) -> Option<String> {
    match source::read_text(path) {
        Ok(t) => Some(t),
        Err(e) => {
            diags.push(Diagnostic::error(
                title,
                format!("Reading {}: {e}.", path.display()),
            ));
            None
        }
    }
}

fn collect_files(
    opts: &LoadOptions,
    diags: &mut Diagnostics,
) -> (Vec<PathBuf>, Vec<PathBuf>, PathBuf) {
    let (mut templates, mut auto_vars, mut auto_json) = (Vec::new(), Vec::new(), Vec::new());
    let mut root = PathBuf::from(".");
    for (i, p) in opts.paths.iter().enumerate() {
        if p.is_dir() {
            // As Packer: a directory argument is `path.root` as written (`sub/`, `./`).
            if i == 0 {
                root = p.clone();
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            entries.sort();
            for e in entries {
                let n = e
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                if n.ends_with(".pkr.hcl") {
                    templates.push(e);
                } else if n.ends_with(".auto.pkrvars.hcl") {
                    auto_vars.push(e);
                } else if n.ends_with(".auto.pkrvars.json") {
                    // After the HCL ones, as Packer 1.13 and later load them.
                    auto_json.push(e);
                } else if n.ends_with(".pkr.json") {
                    templates.push(e);
                }
            }
        } else if p.exists() {
            // A file's directory as Go's filepath.Dir gives it: cleaned (`./sub/t.pkr.hcl`
            // is in `sub`).
            if i == 0 {
                root = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(
                        || PathBuf::from("."),
                        |d| PathBuf::from(gostr::clean(&d.to_string_lossy())),
                    );
            }
            templates.push(p.clone());
        } else {
            diags.push(Diagnostic::error(
                "Template not found",
                format!("{} does not exist.", p.display()),
            ));
        }
    }
    if templates.is_empty() && opts.inline.is_empty() && !diags.has_errors() {
        diags.push(Diagnostic::error(
            "No template files",
            "No *.pkr.hcl files were found in the given paths.",
        ));
    }
    auto_vars.append(&mut auto_json);
    (templates, auto_vars, root)
}

pub(crate) struct Parsed {
    pub(crate) files: Vec<(Arc<SourceFile>, EBody)>,
}

const TOP_BLOCKS: &[&str] = &[
    "hcp_packer_registry",
    "packer",
    "variable",
    "variables",
    "locals",
    "local",
    "source",
    "build",
    "data",
];

/// Loads templates and resolves everything that does not depend on a running build.
///
/// # Errors
/// Every problem found, located.
pub fn load(opts: &LoadOptions) -> Result<Template, Diagnostics> {
    // Sensitive values, as they become known: no message may show them (a type error in a
    // local, a function error, a bad plugin setting), so every diagnostic is scrubbed.
    let secrets = kiln_core::event::Secrets::default();
    match load_scrubbing(opts, &secrets) {
        Ok(mut t) => {
            t.warnings = t.warnings.scrubbed(&secrets);
            Ok(t)
        }
        Err(d) => Err(d.scrubbed(&secrets)),
    }
}

/// Whether the template file `path` is a legacy JSON template. As Packer: `*.pkr.hcl` and
/// `*.pkr.json` are HCL2 (and so is `*.hcl`), `*.json` is legacy JSON, and so is any other
/// name (`template.js`, `packer.tpl`) whose text is a JSON object; `text` is read from the file
/// when not given.
#[must_use]
pub fn is_legacy_json(path: &Path, text: Option<&str>) -> bool {
    let n = path.to_string_lossy();
    if n.ends_with(".pkr.hcl") || n.ends_with(".pkr.json") || n.ends_with(".hcl") {
        return false;
    }
    if n.ends_with(".json") {
        return true;
    }
    let read;
    let text = match text {
        Some(t) => t,
        None => {
            read = std::fs::read_to_string(path).unwrap_or_default();
            &read
        }
    };
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
}

/// Reads and parses the HCL2 template files of `opts` (HCL2 JSON translated first); returns
/// them with the auto-loaded var files and the template directory.
pub(crate) fn parse_templates(
    opts: &LoadOptions,
    diags: &mut Diagnostics,
) -> (Parsed, Vec<PathBuf>, PathBuf) {
    let (template_paths, auto_var_paths, root) = collect_files(opts, diags);
    let mut parsed = Parsed { files: Vec::new() };
    let mut add = |name: &str, text: String, diags: &mut Diagnostics| {
        // HCL2 in JSON syntax is translated into native syntax first.
        let text = if name.ends_with(".pkr.json") || name.ends_with(".pkrvars.json") {
            match hcljson::to_native(&text) {
                Ok(t) => t,
                Err(e) => {
                    diags.push(Diagnostic::error(
                        "Invalid HCL JSON template",
                        format!("{name}: {e}."),
                    ));
                    return;
                }
            }
        } else {
            text
        };
        if let Some(f) = parse_file(name, text, diags) {
            parsed.files.push(f);
        }
    };
    for p in &template_paths {
        if let Some(text) = read(p, diags) {
            add(&p.display().to_string(), text, diags);
        }
    }
    for (name, text) in &opts.inline {
        add(name, text.clone(), diags);
    }
    (parsed, auto_var_paths, root)
}

fn load_scrubbing(
    opts: &LoadOptions,
    secrets: &kiln_core::event::Secrets,
) -> Result<Template, Diagnostics> {
    let is_legacy = |p: &PathBuf| p.is_file() && is_legacy_json(p, None);
    if let Some(p) = opts.paths.iter().find(|p| is_legacy(p)) {
        if opts.paths.len() > 1 {
            return Err(Diagnostic::error(
                "One JSON template at a time",
                format!(
                    "{} is a legacy JSON template, which is built on its own; pass it alone.",
                    p.display()
                ),
            )
            .into());
        }
        return legacy::load(p, opts);
    }
    if let Some((name, text)) = opts
        .inline
        .iter()
        .find(|(n, _)| n.ends_with(".json") && !n.ends_with(".pkr.json"))
    {
        return legacy::load_text(name, text.clone(), Path::new("."), opts);
    }
    let mut diags = Diagnostics::default();
    let (parsed, auto_var_paths, root) = parse_templates(opts, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    // Top-level structure check.
    for (file, body) in &parsed.files {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => diags.push(
                    Diagnostic::error("Unsupported argument", format!("An argument named \"{}\" is not expected at the top level of a template; put it in a block such as `source` or `build`.", a.key.as_str()))
                        .at(loc_of(file, &a.key)),
                ),
                Structure::Block(b) if !TOP_BLOCKS.contains(&b.ident.as_str()) => {
                    let mut detail = format!("Blocks of type \"{}\" are not expected here.", b.ident.as_str());
                    if let Some(s) = suggest(b.ident.as_str(), TOP_BLOCKS.iter().copied()) {
                        detail.push_str(&format!(" Did you mean \"{s}\"?"));
                    }
                    diags.push(Diagnostic::error("Unsupported block type", detail).at(loc_of(file, &b.ident)));
                }
                Structure::Block(_) => {}
            }
        }
    }
    check_packer_blocks(&parsed, &mut diags);
    let cwd = if opts.cwd.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        opts.cwd.clone()
    };
    let mut path = hcl::Map::new();
    path.insert(
        "root".to_string(),
        Value::from(root.to_string_lossy().to_string()),
    );
    path.insert(
        "cwd".to_string(),
        Value::from(cwd.to_string_lossy().to_string()),
    );
    let path = Value::Object(path);

    let mut variables = declare_variables(&parsed, &mut diags);
    assign_variables(&mut variables, opts, &auto_var_paths, &mut diags);
    for v in variables.values().filter(|v| v.sensitive) {
        let mut leaves_out = Vec::new();
        if let Some(val) = &v.value {
            leaves(val, &mut leaves_out);
        }
        for l in leaves_out {
            secrets.add(&l);
        }
    }
    if halt(&mut diags, opts.allow_unset) {
        return Err(diags);
    }
    let var_value = Value::Object(
        variables
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone().unwrap_or(Value::Null)))
            .collect(),
    );
    validate_variables(&parsed, &variables, &var_value, &mut diags);
    for v in variables.values() {
        if v.value.is_none() {
            diags.push(Diagnostic::error("Unset variable", format!("A used variable must be set or have a default value; see https://packer.io/docs/templates/hcl_templates/syntax for details. Set \"{}\" with -var {}=..., a var file, or PKR_VAR_{}.", v.name, v.name, v.name)).at(v.location.clone()));
        }
    }
    let data_value = data::evaluate(
        &parsed,
        &opts.data_sources,
        &Shared {
            var: var_value.clone(),
            local: Value::Null,
            path: path.clone(),
            data: Value::Null,
            var_names: variables.keys().cloned().collect(),
            local_names: BTreeSet::new(),
            unknown_locals: None,
            sets: BTreeSet::new(),
        },
        &data::Run {
            skip: opts.skip_data_sources,
            cache_dir: opts
                .cwd
                .join(opts.cache_dir.as_deref().unwrap_or("packer_cache".as_ref())),
        },
        &mut diags,
    );
    if halt(&mut diags, opts.allow_unset) {
        return Err(diags);
    }
    let evaluated = evaluate_locals(
        &parsed,
        &var_value,
        &variables,
        &path,
        &locals::DataValues {
            value: &data_value,
            not_run: opts.skip_data_sources,
        },
        secrets,
        &mut diags,
    );
    if halt(&mut diags, opts.allow_unset) {
        return Err(diags);
    }
    let locals::Evaluated {
        values: locals,
        sensitive: sensitive_locals,
        unknown: unknown_locals,
        sets,
    } = evaluated;
    let shared = Arc::new(Shared {
        var: var_value,
        local: Value::Object(locals.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        path,
        data: data_value,
        var_names: variables.keys().cloned().collect(),
        local_names: locals.keys().cloned().collect(),
        unknown_locals: opts.skip_data_sources.then_some(unknown_locals),
        sets,
    });
    let sources = collect_sources(&parsed, &mut diags);
    let builds = plan_builds(&parsed, &sources, &shared, &mut diags);
    if halt(&mut diags, opts.allow_unset) {
        return Err(diags);
    }
    let warnings = Diagnostics(diags.0.into_iter().collect());
    let mut t = Template {
        variables,
        locals,
        sensitive_locals,
        sources,
        plan: BuildPlan {
            builds,
            secrets: Vec::new(),
            template_dir: root,
        },
        warnings,
        legacy_json: None,
        console: Console::Hcl(shared.clone()),
    };
    t.plan.secrets = t.secrets();
    Ok(t)
}

pub(crate) fn attr_value(
    file: &Arc<SourceFile>,
    expr: &EExpr,
    scope: &Scope,
    ctx: &Context,
    diags: &mut Diagnostics,
) -> Option<Value> {
    match eval::eval(expr, file, scope, ctx) {
        Ok(v) => Some(v),
        Err(ds) => {
            ds.into_iter().for_each(|d| diags.push(d));
            None
        }
    }
}

fn check_packer_blocks(parsed: &Parsed, diags: &mut Diagnostics) {
    for (file, body) in &parsed.files {
        for b in body.get_blocks("packer") {
            for a in b.body.attributes() {
                match a.key.as_str() {
                    "required_version" => {
                        let scope = Scope { functions: false, ..Scope::default() };
                        let Some(v) = attr_value(file, &a.value, &scope, &Context::new(), diags) else { continue };
                        let Some(req) = v.as_str() else { continue };
                        match version_req(req) {
                            Ok(r) => {
                                let have = semver::Version::parse(PACKER_COMPAT_VERSION).expect("valid version");
                                if !r.matches(&have) {
                                    diags.push(Diagnostic::error("Unsupported Packer version", format!("This template requires Packer {req}; Kiln implements the language of Packer {PACKER_COMPAT_VERSION}.")).at(loc_of(file, &a.value)));
                                }
                            }
                            Err(e) => diags.push(Diagnostic::error("Invalid version constraint", format!("{req:?}: {e}.")).at(loc_of(file, &a.value))),
                        }
                    }
                    other => diags.push(Diagnostic::error("Unsupported argument", format!("An argument named \"{other}\" is not expected in a packer block; use required_version or a required_plugins block.")).at(loc_of(file, &a.key))),
                }
            }
        }
    }
}

/// Converts a Go-style version constraint (`>= 1.7.0, ~> 1.8`) to a semver requirement.
fn version_req(req: &str) -> Result<semver::VersionReq, String> {
    let parts: Vec<String> = req
        .split(',')
        .map(|p| {
            let p = p.trim();
            if let Some(v) = p.strip_prefix("~>") {
                let v = v.trim();
                if v.split('.').count() >= 3 {
                    format!("~{v}")
                } else {
                    format!("^{v}")
                }
            } else if let Some(v) = p.strip_prefix("!=") {
                format!("<{v}, >{v}")
            } else if p.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                format!("={p}")
            } else {
                p.to_string()
            }
        })
        .collect();
    semver::VersionReq::parse(&parts.join(", ")).map_err(|e| e.to_string())
}

pub(crate) fn label(b: &Block, i: usize) -> Option<&str> {
    b.labels
        .get(i)
        .map(hcl::edit::structure::BlockLabel::as_str)
}

fn labels_exact(
    file: &Arc<SourceFile>,
    b: &Block,
    n: usize,
    names: &str,
    diags: &mut Diagnostics,
) -> bool {
    if b.labels.len() == n {
        return true;
    }
    diags.push(
        Diagnostic::error(
            "Wrong number of labels",
            format!("A {} block needs {n} label(s): {names}.", b.ident.as_str()),
        )
        .at(loc_of(file, &b.ident)),
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_version_constraints() {
        let v = semver::Version::parse(PACKER_COMPAT_VERSION).unwrap();
        assert!(version_req(">= 1.7.0").unwrap().matches(&v));
        assert!(version_req("~> 1.8").unwrap().matches(&v));
        assert!(!version_req("~> 1.8.0").unwrap().matches(&v));
        assert!(!version_req(">= 2.0.0").unwrap().matches(&v));
    }
}

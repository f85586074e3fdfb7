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

pub mod body;
pub mod data;
pub mod eval;
pub mod fmt;
pub mod functions;
pub mod functions_ext;
pub mod gofmt;
pub mod gostr;
pub mod gotmpl;
pub mod hcljson;
pub mod lazy;
pub mod legacy;
pub mod ops;
pub mod ordered;
pub mod tmpl;
pub mod types;
pub mod upgrade;

use body::{HclBody, Layer};
use eval::{loc_of, Scope};
use hcl::edit::expr::Expression as EExpr;
use hcl::edit::structure::{Block, Body as EBody, Structure};
use hcl::eval::Context;
use hcl::Value;
use indexmap::IndexMap;
use kiln_core::config::{suggest, Diagnostic, Diagnostics, Location};
use kiln_core::plan::{BuildPlan, PlannedBuild, PluginSpec, PostProcessorSpec, ProvisionerSpec};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use types::Type;

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
    /// Evaluates one `kiln console` input: an HCL2 expression against the template's variables,
    /// locals and data sources, or, for a legacy JSON template, a template-engine string.
    ///
    /// # Errors
    /// A parse or evaluation error, located in the input.
    pub fn console_eval(&self, input: &str) -> Result<String, Diagnostics> {
        match &self.console {
            Console::Legacy(ctx) => {
                let secrets = kiln_core::event::Secrets::default();
                for s in &self.plan.secrets {
                    secrets.add(s);
                }
                gotmpl::render(input, ctx)
                    .map(|out| secrets.scrub(&out))
                    .map_err(|e| {
                        Diagnostics::from(Diagnostic::error("Error in template", e))
                            .scrubbed(&secrets)
                    })
            }
            Console::Hcl(shared) => {
                let file = Arc::new(SourceFile {
                    name: "<console-input>".into(),
                    text: input.to_string(),
                });
                let expr = hcl::edit::parser::parse_expr(input).map_err(|e| {
                    Diagnostics::from(
                        Diagnostic::error("Invalid expression", format!("{}.", e.message())).at(
                            Some(Location {
                                line_start: 0,
                                file: file.name.clone(),
                                line: e.location().line(),
                                column: e.location().column(),
                                width: 1,
                                source_line: e.line().to_string(),
                            }),
                        ),
                    )
                })?;
                let ctx = shared.context();
                let secrets = kiln_core::event::Secrets::default();
                for s in self.secrets() {
                    secrets.add(&s);
                }
                // A result made from a sensitive variable or local is sensitive as a whole;
                // any other (`var`, a map holding one) shows the sensitive values masked.
                let sensitive = refs(&expr, "var")
                    .iter()
                    .any(|r| self.variables.get(r).is_some_and(|v| v.sensitive))
                    || refs(&expr, "local")
                        .iter()
                        .any(|r| self.sensitive_locals.contains(r));
                // `var` or `local` alone: the map, with each sensitive entry masked.
                if let hcl::edit::expr::Expression::Variable(root) = &expr {
                    let masked = |m: &IndexMap<String, Value>, hide: &dyn Fn(&str) -> bool| {
                        Value::Object(
                            m.iter()
                                .map(|(k, v)| {
                                    let v = if hide(k) {
                                        Value::from("<sensitive>")
                                    } else {
                                        v.clone()
                                    };
                                    (k.clone(), v)
                                })
                                .collect(),
                        )
                    };
                    match root.as_str() {
                        "var" => {
                            let vals: IndexMap<String, Value> = self
                                .variables
                                .iter()
                                .map(|(k, v)| (k.clone(), v.value.clone().unwrap_or(Value::Null)))
                                .collect();
                            let hide = |k: &str| self.variables.get(k).is_some_and(|v| v.sensitive);
                            return Ok(format_value(&masked(&vals, &hide)));
                        }
                        "local" => {
                            let hide = |k: &str| self.sensitive_locals.contains(k);
                            return Ok(format_value(&masked(&self.locals, &hide)));
                        }
                        _ => {}
                    }
                }
                eval::eval(&expr, &file, &shared.scope(&[]), &ctx)
                    .map(|v| {
                        if sensitive {
                            "<sensitive>".to_string()
                        } else {
                            secrets.scrub(&format_value(&v))
                        }
                    })
                    .map_err(|d| Diagnostics(d).scrubbed(&secrets))
            }
        }
    }
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
                Some(data::TYPES.iter().map(|t| (*t).to_string()).collect()),
            ),
        ];
        for (name, attrs) in extra {
            roots.push(((*name).to_string(), attrs.map(set).unwrap_or(None)));
        }
        Scope {
            roots,
            functions: true,
            extra_functions: vec![],
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
                .at(Some(Location {
                    line_start: 0,
                    file: name.to_string(),
                    line: l.line(),
                    column: l.column(),
                    width: 1,
                    source_line: line_text,
                })),
            );
            None
        }
    }
}

fn read(path: &Path, diags: &mut Diagnostics) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot read template",
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
            if i == 0 {
                let trimmed = p.to_string_lossy().trim_end_matches('/').to_string();
                root = if trimmed.is_empty() {
                    PathBuf::from("/")
                } else {
                    PathBuf::from(trimmed)
                };
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
            if i == 0 {
                root = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
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

fn load_scrubbing(
    opts: &LoadOptions,
    secrets: &kiln_core::event::Secrets,
) -> Result<Template, Diagnostics> {
    let is_legacy = |p: &PathBuf| {
        let n = p.to_string_lossy();
        p.is_file() && n.ends_with(".json") && !n.ends_with(".pkr.json")
    };
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
    let (template_paths, auto_var_paths, root) = collect_files(opts, &mut diags);
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
        if let Some(text) = read(p, &mut diags) {
            add(&p.display().to_string(), text, &mut diags);
        }
    }
    for (name, text) in &opts.inline {
        add(name, text.clone(), &mut diags);
    }
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
        &Shared {
            var: var_value.clone(),
            local: Value::Null,
            path: path.clone(),
            data: Value::Null,
            var_names: variables.keys().cloned().collect(),
            local_names: BTreeSet::new(),
        },
        &mut diags,
    );
    if halt(&mut diags, opts.allow_unset) {
        return Err(diags);
    }
    let (locals, sensitive_locals) = evaluate_locals(
        &parsed,
        &var_value,
        &variables,
        &path,
        &data_value,
        secrets,
        &mut diags,
    );
    if halt(&mut diags, opts.allow_unset) {
        return Err(diags);
    }
    let shared = Arc::new(Shared {
        var: var_value,
        local: Value::Object(locals.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        path,
        data: data_value,
        var_names: variables.keys().cloned().collect(),
        local_names: locals.keys().cloned().collect(),
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

fn declare_variables(parsed: &Parsed, diags: &mut Diagnostics) -> IndexMap<String, Variable> {
    let mut vars: IndexMap<String, Variable> = IndexMap::new();
    let mut ctx = Context::new();
    functions::declare(&mut ctx, true);
    let scope = Scope {
        functions: true,
        extra_functions: vec!["env"],
        ..Scope::default()
    };
    for (file, body) in &parsed.files {
        for b in body.get_blocks("variable") {
            if !labels_exact(file, b, 1, "the variable name", diags) {
                continue;
            }
            let name = label(b, 0).unwrap_or_default().to_string();
            if let Some(prev) = vars.get(&name) {
                diags.push(
                    Diagnostic::error(
                        "Duplicate variable",
                        format!(
                            "A variable named \"{name}\" was already declared at {}.",
                            prev.location
                                .as_ref()
                                .map_or_else(String::new, ToString::to_string)
                        ),
                    )
                    .at(loc_of(file, b)),
                );
                continue;
            }
            let mut v = Variable {
                name: name.clone(),
                ty: Type::Any,
                value: None,
                description: String::new(),
                sensitive: false,
                location: loc_of(file, &b.labels[0]),
            };
            let mut default = None;
            for a in b.body.attributes() {
                match a.key.as_str() {
                    "type" => match types::parse(&a.value.clone().into()) {
                        Ok(t) => v.ty = t,
                        Err(e) => diags.push(
                            Diagnostic::error("Invalid type specification", format!("{e}."))
                                .at(loc_of(file, &a.value)),
                        ),
                    },
                    "default" => {
                        default = attr_value(file, &a.value, &scope, &ctx, diags)
                            .map(|d| (d, loc_of(file, &a.value)))
                    }
                    "description" => {
                        v.description = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|d| d.as_str().map(String::from))
                            .unwrap_or_default()
                    }
                    "sensitive" => {
                        v.sensitive = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|d| d.as_bool())
                            .unwrap_or(false)
                    }
                    "nullable" => {}
                    other => {
                        let mut detail = format!(
                            "An argument named \"{other}\" is not expected in a variable block."
                        );
                        if let Some(s) = suggest(
                            other,
                            ["type", "default", "description", "sensitive", "nullable"],
                        ) {
                            detail.push_str(&format!(" Did you mean \"{s}\"?"));
                        }
                        diags.push(
                            Diagnostic::error("Unsupported argument", detail)
                                .at(loc_of(file, &a.key)),
                        );
                    }
                }
            }
            for nb in b.body.blocks() {
                if nb.ident.as_str() != "validation" {
                    diags.push(Diagnostic::error("Unsupported block type", format!("Blocks of type \"{}\" are not expected in a variable block; only validation is.", nb.ident.as_str())).at(loc_of(file, &nb.ident)));
                }
            }
            if let Some((d, loc)) = default {
                match types::convert(d, &v.ty) {
                    Ok(d) => v.value = Some(d),
                    Err(e) => diags.push(Diagnostic::error("Invalid default value for variable", format!("The \"default\" of variable \"{name}\" is not compatible with its type constraint {}: {}.", v.ty, type_error(&e, v.sensitive))).at(mask_location(loc, v.sensitive))),
                }
            }
            vars.insert(name, v);
        }
        for b in body.get_blocks("variables") {
            for a in b.body.attributes() {
                let name = a.key.as_str().to_string();
                let value = attr_value(file, &a.value, &scope, &ctx, diags);
                vars.insert(
                    name.clone(),
                    Variable {
                        name,
                        ty: Type::Any,
                        value,
                        description: String::new(),
                        sensitive: false,
                        location: loc_of(file, &a.key),
                    },
                );
            }
        }
    }
    vars
}

/// A type error about a variable's value; for a sensitive variable, without the value.
fn type_error(e: &str, sensitive: bool) -> String {
    if !sensitive {
        return e.to_string();
    }
    match e.split_once(", but ") {
        Some((what, _)) => what.to_string(),
        None if e.contains('"') => "the value does not match the type".to_string(),
        None => e.to_string(),
    }
}

/// A location that, for a sensitive value, does not quote the source line (which holds it).
fn mask_location(loc: Option<Location>, sensitive: bool) -> Option<Location> {
    loc.map(|mut l| {
        if sensitive {
            l.source_line = "<sensitive>".to_string();
            l.width = 0;
        }
        l
    })
}

fn cli_value(raw: &str, ty: &Type) -> Result<Value, String> {
    let v = match ty {
        Type::String | Type::Any => Value::from(raw),
        Type::Number | Type::Bool => Value::from(raw),
        _ => {
            let e = hcl::edit::parser::parse_expr(raw)
                .map_err(|e| format!("cannot parse {raw:?} as a value: {}", e.message()))?;
            let e: hcl::Expression = e.into();
            hcl::eval::Evaluate::evaluate(&e, &Context::new()).map_err(|e| e.to_string())?
        }
    };
    types::convert(ordered::sorted(v), ty)
}

fn assign_variables(
    vars: &mut IndexMap<String, Variable>,
    opts: &LoadOptions,
    auto: &[PathBuf],
    diags: &mut Diagnostics,
) {
    // PKR_VAR_x: only for declared variables, as Packer.
    for (k, raw) in &opts.env {
        if let Some(name) = k.strip_prefix("PKR_VAR_") {
            if let Some(v) = vars.get_mut(name) {
                match cli_value(raw, &v.ty) {
                    Ok(val) => v.value = Some(val),
                    Err(e) => diags.push(Diagnostic::error("Invalid value for variable", format!("The environment variable {k} is not a valid value for variable \"{name}\": {}.", type_error(&e, v.sensitive)))),
                }
            }
        }
    }
    let scope = Scope {
        functions: false,
        ..Scope::default()
    };
    for path in auto.iter().chain(&opts.var_files) {
        let Some(text) = read(path, diags) else {
            continue;
        };
        let name = path.display().to_string();
        if name.ends_with(".json") {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) {
                Ok(m) => {
                    for (k, jv) in m {
                        let val = hcl::to_value(jv).unwrap_or(Value::Null);
                        set_from_file(vars, &k, val, None, &name, diags);
                    }
                }
                Err(e) => diags.push(Diagnostic::error(
                    "Invalid JSON var file",
                    format!("{name}: {e}."),
                )),
            }
            continue;
        }
        let Some((file, body)) = parse_file(&name, text, diags) else {
            continue;
        };
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    if let Some(val) = attr_value(&file, &a.value, &scope, &Context::new(), diags) {
                        set_from_file(
                            vars,
                            a.key.as_str(),
                            val,
                            loc_of(&file, &a.value),
                            &name,
                            diags,
                        );
                    }
                }
                Structure::Block(b) => diags.push(
                    Diagnostic::error(
                        "Unexpected block",
                        "Var files may only contain `name = value` assignments.",
                    )
                    .at(loc_of(&file, &b.ident)),
                ),
            }
        }
    }
    for (k, raw) in &opts.vars {
        match vars.get_mut(k) {
            Some(v) => match cli_value(raw, &v.ty) {
                Ok(val) => v.value = Some(val),
                Err(e) => diags.push(Diagnostic::error("Invalid value for variable", format!("The value given with -var {k}=... is not valid for variable \"{k}\" (type {}): {}.", v.ty, type_error(&e, v.sensitive)))),
            },
            None => {
                let mut detail = format!("A \"{k}\" variable was passed in with -var but was not found in the known variables. To declare it, put a `variable \"{k}\" {{}}` block in one of your .pkr.hcl files.");
                if let Some(s) = suggest(k, vars.keys().map(String::as_str)) {
                    detail.push_str(&format!(" Did you mean \"{s}\"?"));
                }
                diags.push(Diagnostic::error("Undefined -var variable", detail));
            }
        }
    }
}

fn set_from_file(
    vars: &mut IndexMap<String, Variable>,
    k: &str,
    val: Value,
    loc: Option<Location>,
    file: &str,
    diags: &mut Diagnostics,
) {
    match vars.get_mut(k) {
        Some(v) => match types::convert(ordered::sorted(val), &v.ty) {
            Ok(val) => v.value = Some(val),
            Err(e) => diags.push(
                Diagnostic::error(
                    "Invalid value for variable",
                    format!(
                        "The value of \"{k}\" is not valid for its type {}: {}.",
                        v.ty,
                        type_error(&e, v.sensitive)
                    ),
                )
                .at(mask_location(loc, v.sensitive)),
            ),
        },
        None => {
            let mut detail = format!(
                "The variable \"{k}\" set in {file} was not declared; the value is ignored."
            );
            match suggest(k, vars.keys().map(String::as_str)) {
                Some(s) => detail.push_str(&format!(" Did you mean \"{s}\"?")),
                None => detail.push_str(&format!(
                    " Declare it with a `variable \"{k}\" {{}}` block."
                )),
            }
            diags.push(Diagnostic::warning("Undefined variable", detail).at(loc));
        }
    }
}

fn validate_variables(
    parsed: &Parsed,
    vars: &IndexMap<String, Variable>,
    var_value: &Value,
    diags: &mut Diagnostics,
) {
    let mut ctx = Context::new();
    functions::declare(&mut ctx, false);
    ctx.declare_var("var", var_value.clone());
    for (file, body) in &parsed.files {
        for b in body.get_blocks("variable") {
            let Some(name) = label(b, 0) else { continue };
            let Some(var) = vars.get(name) else { continue };
            if var.value.is_none() {
                continue;
            }
            let scope = Scope {
                roots: vec![("var".into(), Some([name.to_string()].into()))],
                functions: true,
                extra_functions: vec![],
            };
            for vb in b.body.get_blocks("validation") {
                let cond = vb.body.get_attribute("condition");
                let msg = vb.body.get_attribute("error_message");
                let (Some(cond), Some(msg)) = (cond, msg) else {
                    diags.push(
                        Diagnostic::error(
                            "Invalid validation block",
                            "A validation block needs both `condition` and `error_message`.",
                        )
                        .at(loc_of(file, &vb.ident)),
                    );
                    continue;
                };
                let Some(ok) = attr_value(file, &cond.value, &scope, &ctx, diags) else {
                    continue;
                };
                let message = attr_value(file, &msg.value, &scope, &ctx, diags)
                    .and_then(|m| m.as_str().map(String::from))
                    .unwrap_or_default();
                match ok {
                    Value::Bool(true) => {}
                    Value::Bool(false) => diags.push(
                        Diagnostic::error(
                            "Invalid value for variable",
                            format!(
                                "{message}\n\nThis was checked by the validation rule at {}.",
                                loc_of(file, &cond.value)
                                    .map_or_else(String::new, |l| l.to_string())
                            ),
                        )
                        .at(var.location.clone()),
                    ),
                    other => diags.push(
                        Diagnostic::error(
                            "Invalid validation condition",
                            format!(
                                "The condition must be a bool, not a {}.",
                                functions::type_name(&other)
                            ),
                        )
                        .at(loc_of(file, &cond.value)),
                    ),
                }
            }
        }
    }
}

fn local_refs(expr: &EExpr) -> BTreeSet<String> {
    refs(expr, "local")
}

/// The attributes of `root` (`var`, `local`) that `expr` refers to.
pub(crate) fn refs(expr: &EExpr, root_name: &str) -> BTreeSet<String> {
    use hcl::edit::visit::Visit;
    struct R<'a>(BTreeSet<String>, &'a str);
    impl Visit for R<'_> {
        fn visit_traversal(&mut self, t: &hcl::edit::expr::Traversal) {
            if let (EExpr::Variable(root), Some(first)) = (&t.expr, t.operators.first()) {
                if root.as_str() == self.1 {
                    if let hcl::edit::expr::TraversalOperator::GetAttr(a) = first.value() {
                        self.0.insert(a.as_str().to_string());
                    }
                }
            }
            hcl::edit::visit::visit_traversal(self, t);
        }
    }
    let mut r = R(BTreeSet::new(), root_name);
    r.visit_expr(expr);
    r.0
}

fn evaluate_locals(
    parsed: &Parsed,
    var_value: &Value,
    vars: &IndexMap<String, Variable>,
    path: &Value,
    data: &Value,
    secrets: &kiln_core::event::Secrets,
    diags: &mut Diagnostics,
) -> (IndexMap<String, Value>, BTreeSet<String>) {
    let mut defs: IndexMap<String, (Arc<SourceFile>, EExpr, Option<Location>)> = IndexMap::new();
    let mut sensitive = BTreeSet::new();
    for (file, body) in &parsed.files {
        for b in body.get_blocks("locals") {
            for a in b.body.attributes() {
                let name = a.key.as_str().to_string();
                if defs.contains_key(&name) {
                    diags.push(
                        Diagnostic::error(
                            "Duplicate local",
                            format!("A local named \"{name}\" was already defined."),
                        )
                        .at(loc_of(file, &a.key)),
                    );
                }
                defs.insert(name, (file.clone(), a.value.clone(), loc_of(file, &a.key)));
            }
        }
        for b in body.get_blocks("local") {
            if !labels_exact(file, b, 1, "the local name", diags) {
                continue;
            }
            let name = label(b, 0).unwrap_or_default().to_string();
            match b.body.get_attribute("expression") {
                Some(e) => {
                    defs.insert(
                        name.clone(),
                        (file.clone(), e.value.clone(), loc_of(file, &b.labels[0])),
                    );
                }
                None => diags.push(
                    Diagnostic::error(
                        "Missing required argument",
                        "A local block needs an `expression`.",
                    )
                    .at(loc_of(file, &b.ident)),
                ),
            }
            if let Some(s) = b.body.get_attribute("sensitive") {
                if matches!(&s.value, EExpr::Bool(v) if *v.value()) {
                    sensitive.insert(name);
                }
            }
        }
    }
    let names: BTreeSet<String> = defs.keys().cloned().collect();
    let shared = Shared {
        var: var_value.clone(),
        local: Value::Null,
        path: path.clone(),
        data: data.clone(),
        var_names: vars.keys().cloned().collect(),
        local_names: names,
    };
    let scope = shared.scope(&[]);
    let mut done: IndexMap<String, Value> = IndexMap::new();
    let mut pending: Vec<String> = defs.keys().cloned().collect();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|n| {
                local_refs(&defs[*n].1)
                    .iter()
                    .all(|r| done.contains_key(r) || !defs.contains_key(r))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            for n in &pending {
                diags.push(
                    Diagnostic::error(
                        "Cycle in locals",
                        format!(
                            "The local \"{n}\" depends on itself through {}.",
                            local_refs(&defs[n].1)
                                .into_iter()
                                .filter(|r| pending.contains(r))
                                .map(|r| format!("local.{r}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .at(defs[n].2.clone()),
                );
            }
            break;
        }
        for n in &ready {
            let mut ctx = shared.context();
            ctx.declare_var(
                "local",
                Value::Object(done.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            );
            let (file, expr, _) = &defs[n];
            // As cty's marks: a local made from a sensitive variable or local is sensitive.
            if refs(expr, "var")
                .iter()
                .any(|r| vars.get(r).is_some_and(|v| v.sensitive))
                || local_refs(expr).iter().any(|r| sensitive.contains(r))
            {
                sensitive.insert(n.clone());
            }
            let mut errs = Diagnostics::default();
            let v = attr_value(file, expr, &scope, &ctx, &mut errs).unwrap_or(Value::Null);
            if sensitive.contains(n) {
                let mut out = Vec::new();
                leaves(&v, &mut out);
                for l in out {
                    secrets.add(&l);
                }
            }
            diags.extend(errs);
            done.insert(n.clone(), v);
        }
        pending.retain(|n| !ready.contains(n));
    }
    // Keep declaration order.
    let ordered = defs
        .keys()
        .filter_map(|k| done.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    (ordered, sensitive)
}

fn collect_sources(parsed: &Parsed, diags: &mut Diagnostics) -> IndexMap<String, SourceDef> {
    let mut sources: IndexMap<String, SourceDef> = IndexMap::new();
    for (file, body) in &parsed.files {
        for b in body.get_blocks("source") {
            if !labels_exact(
                file,
                b,
                2,
                "the builder type and a name, e.g. source \"null\" \"example\"",
                diags,
            ) {
                continue;
            }
            let (kind, name) = (
                label(b, 0).unwrap_or_default(),
                label(b, 1).unwrap_or_default(),
            );
            let key = format!("{kind}.{name}");
            if let Some(first) = sources.get(&key) {
                let at = first
                    .location
                    .as_ref()
                    .map_or_else(String::new, |l| format!(" at {}:{}", l.file, l.line));
                diags.push(
                    Diagnostic::error(
                        "Duplicate source",
                        format!("A source named \"{key}\" was already declared{at}; give each source a unique name."),
                    )
                    .at(loc_of(file, b)),
                );
                continue;
            }
            sources.insert(
                key,
                SourceDef {
                    kind: kind.into(),
                    name: name.into(),
                    file: file.clone(),
                    body: b.body.clone(),
                    location: loc_of(file, &b.labels[0]),
                },
            );
        }
    }
    sources
}

const BUILD_BLOCKS: &[&str] = &[
    "source",
    "provisioner",
    "error-cleanup-provisioner",
    "post-processor",
    "post-processors",
    "hcp_packer_registry",
];
const BUILD_ATTRS: &[&str] = &["name", "description", "sources"];

fn source_ref(s: &str) -> String {
    s.strip_prefix("source.").unwrap_or(s).to_string()
}

fn plan_builds(
    parsed: &Parsed,
    sources: &IndexMap<String, SourceDef>,
    shared: &Arc<Shared>,
    diags: &mut Diagnostics,
) -> Vec<PlannedBuild> {
    let mut out = Vec::new();
    let mut next_block = 0;
    let scope = shared.scope(&[]);
    let ctx = shared.context();
    let unknown_source = |r: &str, loc: Option<Location>, diags: &mut Diagnostics| {
        let mut detail = format!("There is no source named \"{r}\"; declare it with `source \"TYPE\" \"NAME\" {{ ... }}`.");
        if let Some(s) = suggest(r, sources.keys().map(String::as_str)) {
            detail.push_str(&format!(" Did you mean \"source.{s}\"?"));
        }
        diags.push(Diagnostic::error("Unknown source", detail).at(loc));
    };
    for (file, body) in &parsed.files {
        for b in body.get_blocks("build") {
            let expanded = data::expand_build_dynamics(file, b, shared, diags);
            let b = &expanded;
            let block_index = next_block;
            next_block += 1;
            let mut description = None;
            let mut build_name = None;
            // (source def, addition layer, renamed)
            let mut refs: Vec<(SourceDef, Option<Layer>, Option<String>)> = Vec::new();
            for a in b.body.attributes() {
                match a.key.as_str() {
                    "name" => {
                        build_name = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|v| v.as_str().map(String::from))
                    }
                    "description" => {
                        description = attr_value(file, &a.value, &scope, &ctx, diags)
                            .and_then(|v| v.as_str().map(String::from));
                    }
                    "sources" => {
                        let items: Vec<(String, Option<Location>)> = match &a.value {
                            EExpr::Array(arr) => arr
                                .iter()
                                .filter_map(|e| {
                                    let text = match e {
                                        EExpr::String(s) => Some(s.value().to_string()),
                                        EExpr::Traversal(_) => Some(hcl::Expression::from(e.clone()).to_string()),
                                        // "source.${var.kind}.name": variables are allowed here
                                        // (Packer 1.7.9 and later).
                                        other => attr_value(file, other, &scope, &ctx, diags)
                                            .and_then(|v| v.as_str().map(String::from)),
                                    };
                                    if text.is_none() {
                                        diags.push(Diagnostic::error("Invalid source reference", "Each element of `sources` must be a reference such as \"source.null.example\".").at(loc_of(file, e)));
                                    }
                                    text.map(|t| (t, loc_of(file, e)))
                                })
                                .collect(),
                            other => match attr_value(file, other, &scope, &ctx, diags) {
                                // A computed list, e.g. [for n in local.names : "source.null.${n}"].
                                Some(Value::Array(vals)) if vals.iter().all(|v| v.as_str().is_some()) => vals
                                    .iter()
                                    .filter_map(|v| v.as_str().map(|s| (s.to_string(), loc_of(file, other))))
                                    .collect(),
                                Some(_) => {
                                    diags.push(Diagnostic::error("Invalid sources", "`sources` must be a list such as [\"source.null.example\"].").at(loc_of(file, other)));
                                    Vec::new()
                                }
                                None => Vec::new(),
                            },
                        };
                        for (r, loc) in items {
                            match sources.get(&source_ref(&r)) {
                                Some(s) => refs.push((s.clone(), None, None)),
                                None => unknown_source(&source_ref(&r), loc, diags),
                            }
                        }
                    }
                    other => {
                        let mut detail = format!(
                            "An argument named \"{other}\" is not expected in a build block."
                        );
                        if let Some(s) = suggest(other, BUILD_ATTRS.iter().copied()) {
                            detail.push_str(&format!(" Did you mean \"{s}\"?"));
                        }
                        diags.push(
                            Diagnostic::error("Unsupported argument", detail)
                                .at(loc_of(file, &a.key)),
                        );
                    }
                }
            }
            let mut provisioners = Vec::new();
            let mut error_cleanup = None;
            let mut post_processors = Vec::new();
            for nb in b.body.blocks() {
                match nb.ident.as_str() {
                    "source" => {
                        if !labels_exact(file, nb, 1, "a source reference, e.g. source \"null.example\"", diags) {
                            continue;
                        }
                        let r = source_ref(label(nb, 0).unwrap_or_default());
                        match sources.get(&r) {
                            Some(s) => {
                                let rename = nb.body.get_attribute("name").and_then(|a| attr_value(file, &a.value, &scope, &ctx, diags)).and_then(|v| v.as_str().map(String::from));
                                // As Packer (the two bodies are merged): an argument the
                                // source sets may not be set again here.
                                for a in nb.body.attributes() {
                                    let key = a.key.as_str();
                                    if key != "name" && s.body.get_attribute(key).is_some() {
                                        diags.push(Diagnostic::error("Duplicate argument", format!("The argument \"{key}\" is already set by source.{}.{} (at {}); a source block in a build may only add arguments.", s.kind, s.name, s.location.as_ref().map_or_else(String::new, |l| format!("{}:{}", l.file, l.line)))).at(loc_of(file, &a.key)));
                                    }
                                }
                                refs.push((s.clone(), Some(Layer { file: file.clone(), body: nb.body.clone() }), rename));
                            }
                            None => unknown_source(&r, loc_of(file, &nb.labels[0]), diags),
                        }
                    }
                    "provisioner" => {
                        if let Some(p) = provisioner_spec(file, nb, shared, diags) {
                            provisioners.push(p);
                        }
                    }
                    "error-cleanup-provisioner" => error_cleanup = provisioner_spec(file, nb, shared, diags),
                    "post-processor" => {
                        if let Some(p) = post_processor_spec(file, nb, shared, diags) {
                            post_processors.push(vec![p]);
                        }
                    }
                    "post-processors" => {
                        let mut chain = Vec::new();
                        for pb in nb.body.blocks() {
                            if pb.ident.as_str() == "post-processor" {
                                if let Some(p) = post_processor_spec(file, pb, shared, diags) {
                                    chain.push(p);
                                }
                            } else {
                                diags.push(Diagnostic::error("Unsupported block type", "Only post-processor blocks are expected in a post-processors block.").at(loc_of(file, &pb.ident)));
                            }
                        }
                        post_processors.push(chain);
                    }
                    "hcp_packer_registry" => diags.push(Diagnostic::warning("HCP Packer registry ignored", "Kiln does not publish to HCP Packer; the hcp_packer_registry block is ignored.").at(loc_of(file, &nb.ident))),
                    other => {
                        let mut detail = format!("Blocks of type \"{other}\" are not expected in a build block.");
                        if let Some(s) = suggest(other, BUILD_BLOCKS.iter().copied()) {
                            detail.push_str(&format!(" Did you mean \"{s}\"?"));
                        }
                        diags.push(Diagnostic::error("Unsupported block type", detail).at(loc_of(file, &nb.ident)));
                    }
                }
            }
            if refs.is_empty() {
                diags.push(Diagnostic::error("Build without sources", "A build block needs at least one source: `sources = [\"source.TYPE.NAME\"]`.").at(loc_of(file, &b.ident)));
            }
            for (src, addition, rename) in refs {
                let source_name = rename.unwrap_or_else(|| src.name.clone());
                let short = format!("{}.{}", src.kind, source_name);
                let name = match &build_name {
                    Some(bn) => format!("{bn}.{short}"),
                    None => short,
                };
                let mut layers = vec![Layer {
                    file: src.file.clone(),
                    body: src.body.clone(),
                }];
                layers.extend(addition);
                let body = HclBody::new(
                    shared.clone(),
                    layers,
                    format!("source \"{}\"", src.kind),
                    &["name"],
                    body::Kind::Source,
                    src.location.clone(),
                );
                out.push(PlannedBuild {
                    name,
                    source_type: src.kind.clone(),
                    source_name,
                    build_block_name: build_name.clone(),
                    build_block: block_index,
                    build_description: description.clone(),
                    builder: PluginSpec {
                        kind: src.kind.clone(),
                        body: Arc::new(body),
                        location: src.location.clone(),
                    },
                    provisioners: provisioners.clone(),
                    error_cleanup: error_cleanup.clone(),
                    post_processors: post_processors.clone(),
                });
            }
        }
    }
    out
}

fn meta_strings(
    file: &Arc<SourceFile>,
    b: &Block,
    key: &str,
    shared: &Shared,
    diags: &mut Diagnostics,
) -> Vec<String> {
    let Some(a) = b.body.get_attribute(key) else {
        return Vec::new();
    };
    match attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        Some(_) => {
            diags.push(
                Diagnostic::error(
                    "Invalid value",
                    format!("`{key}` must be a list of source names such as [\"null.example\"]."),
                )
                .at(loc_of(file, &a.value)),
            );
            Vec::new()
        }
        None => Vec::new(),
    }
}

fn meta_duration(
    file: &Arc<SourceFile>,
    b: &Block,
    key: &str,
    shared: &Shared,
    diags: &mut Diagnostics,
) -> Option<std::time::Duration> {
    let a = b.body.get_attribute(key)?;
    match attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags)? {
        Value::String(s) => match kiln_core::duration::parse(&s) {
            Ok(d) => Some(d),
            Err(e) => {
                diags.push(
                    Diagnostic::error("Invalid duration", format!("{e}."))
                        .at(loc_of(file, &a.value)),
                );
                None
            }
        },
        _ => {
            diags.push(
                Diagnostic::error(
                    "Invalid duration",
                    format!("`{key}` must be a duration string such as \"30s\" or \"5m\"."),
                )
                .at(loc_of(file, &a.value)),
            );
            None
        }
    }
}

fn provisioner_spec(
    file: &Arc<SourceFile>,
    b: &Block,
    shared: &Arc<Shared>,
    diags: &mut Diagnostics,
) -> Option<ProvisionerSpec> {
    if !labels_exact(
        file,
        b,
        1,
        "the provisioner type, e.g. provisioner \"shell\"",
        diags,
    ) {
        return None;
    }
    let kind = label(b, 0).unwrap_or_default().to_string();
    let max_retries = b
        .body
        .get_attribute("max_retries")
        .and_then(|a| attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags))
        .map_or(0, |v| match v {
            Value::Number(n) => n.as_u64().unwrap_or(0),
            Value::String(s) => s.parse().unwrap_or(0),
            _ => 0,
        });
    let body = HclBody::new(
        shared.clone(),
        vec![Layer {
            file: file.clone(),
            body: b.body.clone(),
        }],
        format!("provisioner \"{kind}\""),
        &[
            "only",
            "except",
            "pause_before",
            "max_retries",
            "timeout",
            "override",
            "name",
            "continue_on_error",
        ],
        body::Kind::Provisioner,
        loc_of(file, &b.labels[0]),
    );
    Some(ProvisionerSpec {
        name: None,
        only: meta_strings(file, b, "only", shared, diags),
        except: meta_strings(file, b, "except", shared, diags),
        pause_before: meta_duration(file, b, "pause_before", shared, diags),
        timeout: meta_duration(file, b, "timeout", shared, diags),
        max_retries: u32::try_from(max_retries).unwrap_or(u32::MAX),
        continue_on_error: b
            .body
            .get_attribute("continue_on_error")
            .and_then(|a| attr_value(file, &a.value, &shared.scope(&[]), &shared.context(), diags))
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true")),
        plugin: PluginSpec {
            kind,
            body: Arc::new(body),
            location: loc_of(file, &b.labels[0]),
        },
    })
}

fn post_processor_spec(
    file: &Arc<SourceFile>,
    b: &Block,
    shared: &Arc<Shared>,
    diags: &mut Diagnostics,
) -> Option<PostProcessorSpec> {
    if !labels_exact(
        file,
        b,
        1,
        "the post-processor type, e.g. post-processor \"manifest\"",
        diags,
    ) {
        return None;
    }
    let kind = label(b, 0).unwrap_or_default().to_string();
    let (scope, ctx) = (shared.scope(&[]), shared.context());
    let keep = b
        .body
        .get_attribute("keep_input_artifact")
        .and_then(|a| attr_value(file, &a.value, &scope, &ctx, diags))
        .and_then(|v| v.as_bool());
    let name = b
        .body
        .get_attribute("name")
        .and_then(|a| attr_value(file, &a.value, &scope, &ctx, diags))
        .and_then(|v| v.as_str().map(String::from));
    let body = HclBody::new(
        shared.clone(),
        vec![Layer {
            file: file.clone(),
            body: b.body.clone(),
        }],
        format!("post-processor \"{kind}\""),
        &["only", "except", "keep_input_artifact", "name"],
        body::Kind::PostProcessor,
        loc_of(file, &b.labels[0]),
    );
    Some(PostProcessorSpec {
        name,
        only: meta_strings(file, b, "only", shared, diags),
        except: meta_strings(file, b, "except", shared, diags),
        keep_input_artifact: keep,
        plugin: PluginSpec {
            kind,
            body: Arc::new(body),
            location: loc_of(file, &b.labels[0]),
        },
    })
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

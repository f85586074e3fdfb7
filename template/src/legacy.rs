//! Legacy JSON templates (`packer build template.json`): `variables`, `sensitive-variables`,
//! `builders`, `provisioners` (with `only`, `except`, `override`, `pause_before`, `max_retries`,
//! `timeout`), `post-processors` (a name, an object, or an array meaning a chain) and
//! `error-cleanup-provisioner`, with Packer's template engine in every string.

use crate::gotmpl::{self, Ctx};
use crate::types::Type;
use crate::{LoadOptions, Template, Variable};
use indexmap::IndexMap;
use kiln_core::config::{suggest, Config, Diagnostic, Diagnostics, Location};
use kiln_core::plan::{
    Body, BuildPlan, PlannedBuild, PluginSpec, PostProcessorSpec, ProvisionerSpec,
};
use kiln_core::{BuildInfo, GeneratedData};
use serde_json::{Map, Value as J};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What `inspect` shows of a legacy template, in the template's own words.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// `description`.
    pub description: Option<String>,
    /// Variables and their raw defaults (`None`: required), sorted by name.
    pub variables: Vec<(String, Option<String>)>,
    /// Sensitive variable names.
    pub sensitive: Vec<String>,
    /// Builders as `(name, type)`, sorted by name.
    pub builders: Vec<(String, String)>,
    /// Provisioner types in order.
    pub provisioners: Vec<String>,
}

/// Top-level keys of a legacy template.
const ROOT_KEYS: &[&str] = &[
    "description",
    "min_packer_version",
    "variables",
    "sensitive-variables",
    "builders",
    "provisioners",
    "post-processors",
    "error-cleanup-provisioner",
];

/// Where every value and key of a JSON document starts and ends, by path (`builders[0].type`;
/// a key's own span under `path#key`).
#[derive(Debug, Default)]
struct Spans(BTreeMap<String, std::ops::Range<usize>>);

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    spans: Spans,
    /// Keys given twice in one object, by path.
    dups: Vec<String>,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn string(&mut self) -> Option<String> {
        let start = self.i + 1;
        self.i += 1;
        while self.i < self.b.len() && self.b[self.i] != b'"' {
            if self.b[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        self.i += 1;
        serde_json::from_slice::<String>(&self.b[start - 1..self.i.min(self.b.len())]).ok()
    }
    fn value(&mut self, path: &str) {
        self.ws();
        let start = self.i;
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        self.i += 1;
                        break;
                    }
                    let kstart = self.i;
                    let key = self.string().unwrap_or_default();
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if self
                        .spans
                        .0
                        .insert(format!("{child}#key"), kstart..self.i)
                        .is_some()
                    {
                        self.dups.push(child.clone());
                    }
                    self.ws();
                    self.i += 1; // ':'
                    self.value(&child);
                    self.ws();
                    if self.b.get(self.i) == Some(&b',') {
                        self.i += 1;
                    } else {
                        self.i += 1;
                        break;
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') || self.i >= self.b.len() {
                        self.i += 1;
                        break;
                    }
                    self.value(&format!("{path}[{n}]"));
                    n += 1;
                    self.ws();
                    if self.b.get(self.i) == Some(&b',') {
                        self.i += 1;
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            _ => {
                while self.i < self.b.len() && !b",}] \t\r\n".contains(&self.b[self.i]) {
                    self.i += 1;
                }
            }
        }
        self.spans.0.insert(path.to_string(), start..self.i);
    }
}

/// Every value's and key's span in `text`, and the keys given twice.
fn scan(text: &str) -> (Spans, Vec<String>) {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
        spans: Spans::default(),
        dups: Vec::new(),
    };
    s.value("");
    (s.spans, s.dups)
}

struct Doc {
    name: String,
    text: String,
    spans: Spans,
}

impl Doc {
    fn loc(&self, path: &str) -> Option<Location> {
        let mut p = path.to_string();
        loop {
            if let Some(r) = self.spans.0.get(&p) {
                // Underline only the first line of a multi-line value.
                return Some(Location::from_span(&self.name, &self.text, r.clone()));
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return None,
            }
        }
    }
    fn key_loc(&self, path: &str) -> Option<Location> {
        self.spans
            .0
            .get(&format!("{path}#key"))
            .map(|r| Location::from_span(&self.name, &self.text, r.clone()))
            .or_else(|| self.loc(path))
    }
    fn err(&self, path: &str, summary: &str, detail: impl Into<String>) -> Diagnostic {
        Diagnostic::error(summary, detail).at(self.loc(path))
    }
}

/// A plugin body from a JSON template: a value tree whose strings go through the template engine
/// when the build is known (and again with the builder's values for `{{build `X`}}`).
#[derive(Debug)]
pub struct JsonBody {
    value: J,
    what: String,
    base: Arc<Ctx>,
    spans: BTreeMap<String, Location>,
    block: Option<Location>,
}

impl Body for JsonBody {
    fn evaluate(
        &self,
        info: &BuildInfo,
        generated: Option<&GeneratedData>,
    ) -> Result<Config, Diagnostics> {
        let mut ctx = (*self.base).clone();
        ctx.build_name = Some(info.source_name.clone());
        ctx.build_type = Some(info.source_type.clone());
        ctx.generated = generated.cloned();
        ctx.amazon = gotmpl::is_amazon_builder(&self.what);
        let mut errs = Vec::new();
        let value = gotmpl::render_tree(&self.value, &ctx, "", &mut errs);
        if !errs.is_empty() {
            return Err(Diagnostics(
                errs.into_iter()
                    .map(|(p, e)| {
                        Diagnostic::error("Error in template function", e).at(self
                            .spans
                            .get(&p)
                            .cloned()
                            .or_else(|| self.block.clone()))
                    })
                    .collect(),
            ));
        }
        Ok(Config {
            value,
            spans: self.spans.clone(),
            block: self.block.clone(),
            what: self.what.clone(),
            weak: true,
        })
    }
}

fn plugin_body(
    doc: &Doc,
    path: &str,
    obj: &Map<String, J>,
    strip: &[&str],
    what: String,
    base: &Arc<Ctx>,
) -> PluginSpec {
    let mut value = Map::new();
    for (k, v) in obj {
        // `_comments` and, as Packer's builders decode them, `packer_*` keys are not settings.
        if strip.contains(&k.as_str()) || k.starts_with('_') || k.starts_with("packer_") {
            continue;
        }
        value.insert(k.clone(), v.clone());
    }
    let mut spans = BTreeMap::new();
    let prefix = format!("{path}.");
    for (p, r) in &doc.spans.0 {
        if let Some(rel) = p.strip_prefix(&prefix) {
            spans.insert(
                rel.to_string(),
                Location::from_span(&doc.name, &doc.text, r.clone()),
            );
        }
    }
    PluginSpec {
        kind: obj
            .get("type")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_string(),
        body: Arc::new(JsonBody {
            value: J::Object(value),
            what,
            base: base.clone(),
            spans,
            block: doc
                .key_loc(&format!("{path}.type"))
                .or_else(|| doc.loc(path)),
        }),
        location: doc.loc(&format!("{path}.type")).or_else(|| doc.loc(path)),
    }
}

/// A list of strings at `path`; anything else is an error saying it should be a list of `what`.
fn strings(
    doc: &Doc,
    path: &str,
    v: Option<&J>,
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(J::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Some(_) => {
            let key = path.rsplit('.').next().unwrap_or(path);
            diags.push(doc.err(
                path,
                "Invalid value",
                format!("\"{key}\" is a list of {what}."),
            ));
            Vec::new()
        }
    }
}

fn duration(doc: &Doc, path: &str, v: Option<&J>, diags: &mut Diagnostics) -> Option<Duration> {
    match v? {
        J::String(s) => match kiln_core::duration::parse(s) {
            Ok(d) => Some(d),
            Err(e) => {
                diags.push(doc.err(path, "Invalid duration", e));
                None
            }
        },
        _ => {
            diags.push(doc.err(
                path,
                "Invalid duration",
                "A duration such as \"30s\" or \"5m\" is expected.",
            ));
            None
        }
    }
}

/// A provisioner's `override`: build name to the settings that replace its own.
type Overrides = BTreeMap<String, Map<String, J>>;

const PROVISIONER_META: &[&str] = &[
    "type",
    "only",
    "except",
    "override",
    "pause_before",
    "max_retries",
    "timeout",
];

fn provisioner(
    doc: &Doc,
    path: &str,
    v: &J,
    base: &Arc<Ctx>,
    builder_names: &[String],
    diags: &mut Diagnostics,
) -> Option<(ProvisionerSpec, Overrides)> {
    let Some(obj) = v.as_object() else {
        diags.push(doc.err(
            path,
            "Invalid provisioner",
            "Each provisioner is an object with a \"type\".",
        ));
        return None;
    };
    let Some(kind) = obj.get("type").and_then(J::as_str) else {
        diags.push(doc.err(
            path,
            "Missing provisioner type",
            "Each provisioner needs a \"type\", e.g. \"shell\".",
        ));
        return None;
    };
    // mapstructure's weak decoding: a single name is a list of one.
    let weak = |k: &str| match obj.get(k) {
        Some(J::String(s)) => Some(J::Array(vec![J::String(s.clone())])),
        other => other.cloned(),
    };
    let only = strings(
        doc,
        &format!("{path}.only"),
        weak("only").as_ref(),
        "build names",
        diags,
    );
    let except = strings(
        doc,
        &format!("{path}.except"),
        weak("except").as_ref(),
        "build names",
        diags,
    );
    if !only.is_empty() && !except.is_empty() {
        diags.push(doc.err(
            path,
            "Invalid provisioner",
            "A provisioner may have \"only\" or \"except\", not both.",
        ));
    }
    for (field, list) in [("only", &only), ("except", &except)] {
        for (i, n) in list.iter().enumerate() {
            if !builder_names.contains(n) {
                let mut d = format!("{field} references the build {n:?}, which is not defined.");
                if let Some(s) = suggest(n, builder_names.iter().map(String::as_str)) {
                    d.push_str(&format!(" Did you mean {s:?}?"));
                }
                diags.push(doc.err(&format!("{path}.{field}[{i}]"), "Unknown build name", d));
            }
        }
    }
    let max_retries = match obj.get("max_retries") {
        None => 0,
        Some(J::Number(n)) => u32::try_from(n.as_u64().unwrap_or(0)).unwrap_or(0),
        Some(J::String(s)) => s.parse().unwrap_or_else(|_| {
            diags.push(doc.err(
                &format!("{path}.max_retries"),
                "Invalid value",
                "max_retries must be a number.",
            ));
            0
        }),
        Some(_) => {
            diags.push(doc.err(
                &format!("{path}.max_retries"),
                "Invalid value",
                "max_retries must be a number.",
            ));
            0
        }
    };
    let mut overrides = BTreeMap::new();
    if let Some(o) = obj.get("override") {
        match o.as_object() {
            Some(m) => {
                for (name, fields) in m {
                    if !builder_names.contains(name) {
                        diags.push(doc.err(
                            &format!("{path}.override.{name}"),
                            "Unknown build name",
                            format!(
                                "override references the build {name:?}, which is not defined."
                            ),
                        ));
                    }
                    if let Some(f) = fields.as_object() {
                        overrides.insert(name.clone(), f.clone());
                    }
                }
            }
            None => diags.push(doc.err(
                &format!("{path}.override"),
                "Invalid value",
                "override maps build names to settings.",
            )),
        }
    }
    let spec = ProvisionerSpec {
        plugin: plugin_body(
            doc,
            path,
            obj,
            PROVISIONER_META,
            format!("provisioner \"{kind}\""),
            base,
        ),
        name: None,
        only,
        except,
        pause_before: duration(
            doc,
            &format!("{path}.pause_before"),
            obj.get("pause_before"),
            diags,
        ),
        max_retries,
        timeout: duration(doc, &format!("{path}.timeout"), obj.get("timeout"), diags),
        continue_on_error: false,
    };
    Some((spec, overrides))
}

fn post_processor(
    doc: &Doc,
    path: &str,
    v: &J,
    base: &Arc<Ctx>,
    diags: &mut Diagnostics,
) -> Option<PostProcessorSpec> {
    let obj = match v {
        J::String(s) => {
            let mut m = Map::new();
            m.insert("type".into(), J::String(s.clone()));
            m
        }
        J::Object(m) => m.clone(),
        _ => {
            diags.push(doc.err(path, "Invalid post-processor", "A post-processor is a type name, an object with a \"type\", or an array of those (a chain)."));
            return None;
        }
    };
    let Some(kind) = obj.get("type").and_then(J::as_str).map(String::from) else {
        diags.push(doc.err(
            path,
            "Missing post-processor type",
            "Each post-processor needs a \"type\".",
        ));
        return None;
    };
    let keep = match obj.get("keep_input_artifact") {
        None => None,
        Some(J::Bool(b)) => Some(*b),
        Some(_) => {
            diags.push(doc.err(
                &format!("{path}.keep_input_artifact"),
                "Invalid value",
                "keep_input_artifact must be true or false.",
            ));
            None
        }
    };
    Some(PostProcessorSpec {
        plugin: plugin_body(
            doc,
            path,
            &obj,
            &["type", "only", "except", "keep_input_artifact", "name"],
            format!("post-processor \"{kind}\""),
            base,
        ),
        name: obj.get("name").and_then(J::as_str).map(String::from),
        only: strings(
            doc,
            &format!("{path}.only"),
            obj.get("only"),
            "build names",
            diags,
        ),
        except: strings(
            doc,
            &format!("{path}.except"),
            obj.get("except"),
            "build names",
            diags,
        ),
        keep_input_artifact: keep,
    })
}

fn json_kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "list",
        J::Object(_) => "object",
    }
}

fn var_string(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        J::Bool(b) => Some(b.to_string()),
        J::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// A JSON syntax error at its line and column.
pub(crate) fn json_syntax_error(name: &str, text: &str, e: &serde_json::Error) -> Diagnostic {
    let line = e.line().max(1);
    Diagnostic::error("Invalid JSON", format!("{e}.")).at(Some(Location::at(
        name,
        text.lines().nth(line - 1).unwrap_or_default(),
        line,
        e.column().max(1),
        1,
    )))
}

/// Checks a legacy JSON template's syntax only, as `packer validate -syntax-only` does: valid
/// JSON, an object, and no unknown root key. Nothing is evaluated.
///
/// # Errors
/// The JSON syntax error, or each unknown root key, located.
pub fn check_syntax(name: &str, text: &str) -> Result<(), Diagnostics> {
    let root: J = serde_json::from_str(text).map_err(|e| json_syntax_error(name, text, &e))?;
    let (spans, dups) = scan(text);
    let doc = Doc {
        name: name.to_string(),
        text: text.to_string(),
        spans,
    };
    let Some(top) = root.as_object() else {
        return Err(doc
            .err(
                "",
                "Invalid template",
                "A JSON template is an object with \"builders\".",
            )
            .into());
    };
    let diags = root_diags(&doc, top, &dups);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

/// What is wrong at the document level: keys given twice, root keys Packer does not know,
/// root-level comments that are not strings.
fn root_diags(doc: &Doc, top: &Map<String, J>, dups: &[String]) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for d in dups {
        let key = d.rsplit('.').next().unwrap_or(d);
        diags.push(
            Diagnostic::error(
                "Duplicate key",
                format!("The key {key:?} is given twice in the same object; remove one of them."),
            )
            .at(doc.key_loc(d)),
        );
    }
    for k in top.keys() {
        if k.starts_with('_') {
            // Packer reads root-level comments as strings.
            if !top[k].is_string() {
                diags.push(doc.err(
                    k,
                    "Invalid comment",
                    format!("The root-level comment {k:?} must be a string."),
                ));
            }
            continue;
        }
        if ROOT_KEYS.contains(&k.as_str()) {
            continue;
        }
        let mut d = format!("Unknown root level key in template: {k:?}.");
        if let Some(s) = suggest(k, ROOT_KEYS.iter().copied()) {
            d.push_str(&format!(" Did you mean {s:?}?"));
        }
        diags.push(Diagnostic::error("Unknown key", d).at(doc.key_loc(k)));
    }
    diags
}

/// Loads a legacy JSON template.
///
/// # Errors
/// Every problem found, located in the file.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Template, Diagnostics> {
    let name = path.display().to_string();
    let text = crate::source::read_text(path).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read template",
            format!("Reading {name}: {e}."),
        ))
    })?;
    let root_dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| std::path::PathBuf::from("."), Path::to_path_buf);
    load_text(&name, text, &root_dir, opts)
}

/// Loads a legacy JSON template from text; `root_dir` is its directory (`template_dir`).
///
/// # Errors
/// Every problem found, located in the text.
pub fn load_text(
    name: &str,
    text: String,
    root_dir: &Path,
    opts: &LoadOptions,
) -> Result<Template, Diagnostics> {
    let name = name.to_string();
    let root: J = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Err(json_syntax_error(&name, &text, &e).into()),
    };
    let (spans, dups) = scan(&text);
    let doc = Doc {
        name: name.clone(),
        text: text.clone(),
        spans,
    };
    let mut diags = Diagnostics::default();
    let Some(top) = root.as_object() else {
        return Err(doc
            .err(
                "",
                "Invalid template",
                "A JSON template is an object with \"builders\".",
            )
            .into());
    };
    diags.extend(root_diags(&doc, top, &dups));
    if let Some(v) = top.get("min_packer_version").and_then(J::as_str) {
        // Go's version parser: one to three numbers, then an optional pre-release.
        let padded = {
            let t = v.trim_start_matches('v');
            let (core, rest) = t.find(['-', '+']).map_or((t, ""), |i| t.split_at(i));
            let mut parts: Vec<&str> = core.split('.').collect();
            while parts.len() < 3 {
                parts.push("0");
            }
            format!("{}{rest}", parts.join("."))
        };
        if semver::Version::parse(&padded).is_err() {
            diags.push(doc.err(
                "min_packer_version",
                "Invalid min_packer_version",
                format!("{v:?} is not a version; write one such as \"1.6.0\"."),
            ));
        }
        if let (Ok(min), Ok(have)) = (
            semver::Version::parse(&padded),
            semver::Version::parse(crate::PACKER_COMPAT_VERSION),
        ) {
            if min > have {
                diags.push(doc.err(
                    "min_packer_version",
                    "Template requires a newer Packer",
                    format!(
                        "This template requires Packer version {v} or higher; Kiln implements {}.",
                        crate::PACKER_COMPAT_VERSION
                    ),
                ));
            }
        }
    }
    let root_dir = root_dir.to_path_buf();
    let abs_dir = if root_dir.is_absolute() {
        root_dir.clone()
    } else {
        opts.cwd.join(&root_dir)
    };
    let mut base = Ctx {
        // As Go's filepath.Abs: cleaned (`build t.json` gives the directory, not `dir/.`).
        template_dir: crate::gostr::clean(&abs_dir.display().to_string()),
        pwd: opts.cwd.display().to_string(),
        packer_version: crate::PACKER_COMPAT_VERSION.into(),
        now: Some(time::OffsetDateTime::now_utc()),
        ..Ctx::default()
    };

    // Variables: defaults (which may use {{env}} and other variables), then -var-file, then -var.
    let mut declared: IndexMap<String, Option<String>> = IndexMap::new();
    match top.get("variables") {
        None => {}
        Some(J::Object(m)) => {
            for (k, v) in m {
                match v {
                    J::String(s) => {
                        declared.insert(k.clone(), Some(s.clone()));
                    }
                    J::Null => {
                        declared.insert(k.clone(), None);
                    }
                    // Packer decodes the section into strings: a number or bool is an error.
                    other => {
                        diags.push(doc.err(
                            &format!("variables.{k}"),
                            "Invalid variable default",
                            format!(
                                "The default of {k:?} is a {}; a legacy JSON template's variable default is a string (quote it: \"{}\") or null for a required variable.",
                                json_kind(other),
                                other.to_string().trim_matches('"')
                            ),
                        ));
                        declared.insert(k.clone(), var_string(other));
                    }
                }
            }
        }
        Some(_) => diags.push(doc.err(
            "variables",
            "Invalid variables",
            "\"variables\" maps names to default values.",
        )),
    }
    let sensitive = strings(
        &doc,
        "sensitive-variables",
        top.get("sensitive-variables"),
        "variable names",
        &mut diags,
    );
    // Names in sensitive-variables that are not declared are ignored, as Packer does.
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut overridden: BTreeMap<String, String> = BTreeMap::new();
    for f in &opts.var_files {
        let t = match crate::source::read_text(f) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "Cannot read var file",
                    format!("Reading {}: {e}.", f.display()),
                ));
                continue;
            }
        };
        // As Packer: the file's first JSON value, an object of strings; null is "" (set).
        let first = serde_json::Deserializer::from_str(&t)
            .into_iter::<Map<String, J>>()
            .next();
        match first {
            Some(Ok(m)) => {
                for (k, v) in m {
                    match v {
                        J::String(s) => {
                            overridden.insert(k, s);
                        }
                        J::Null => {
                            overridden.insert(k, String::new());
                        }
                        other => diags.push(Diagnostic::error(
                            "Invalid var file",
                            format!(
                                "{}: the value of {k:?} is a {}; a legacy JSON template's var file maps names to strings (quote it: \"{}\").",
                                f.display(),
                                json_kind(&other),
                                other.to_string().trim_matches('"')
                            ),
                        )),
                    }
                }
            }
            Some(Err(e)) => diags.push(Diagnostic::error("Invalid var file", format!("{}: a legacy JSON template takes JSON var files ({{\"name\": \"value\"}}): {e}.", f.display()))),
            None => diags.push(Diagnostic::error("Invalid var file", format!("{}: the file is empty; a legacy JSON template takes JSON var files ({{\"name\": \"value\"}}).", f.display()))),
        }
    }
    for (k, v) in &opts.vars {
        overridden.insert(k.clone(), v.clone());
    }
    // Values for variables the template does not declare are still there for {{user}}, as in
    // Packer.
    for (k, v) in &overridden {
        if !declared.contains_key(k) {
            values.insert(k.clone(), v.clone());
        }
    }
    // Resolve defaults in dependency order: retry those that use variables not yet known.
    let mut pending: Vec<(String, String)> = Vec::new();
    // A value from -var or a var file is a template too, rendered as the defaults are
    // (`{{user `a`}}-{{lower `XY`}}`).
    for (k, def) in &declared {
        if let Some(v) = overridden.get(k) {
            pending.push((k.clone(), v.clone()));
        } else if let Some(d) = def {
            pending.push((k.clone(), d.clone()));
        }
    }
    let env_ctx = |values: &BTreeMap<String, String>| Ctx {
        user: values.clone(),
        user_strict: true,
        env: Some(opts.env.clone()),
        ..base.clone()
    };
    // Packer's loop (renderVarsRecursively): up to 100 passes over the defaults not yet done,
    // in name order; a default that renders is done unless it calls `user` (then it renders
    // again each pass, and so counts as progress: a default using an undeclared variable is
    // an error only when, in the last pass, nothing rendered).
    let calls_user = regex::Regex::new(r"\{\{\s*user\s*`.*`\s*\}\}").expect("a valid pattern");
    pending.sort();
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut changed = false;
    for _ in 0..100 {
        changed = false;
        failed.clear();
        let mut retry = false;
        let mut done = Vec::new();
        for (k, d) in &pending {
            match gotmpl::render(d, &env_ctx(&values)) {
                Ok(v) => {
                    changed = true;
                    values.insert(k.clone(), v);
                    if calls_user.is_match(d) {
                        retry = true;
                    } else {
                        done.push(k.clone());
                    }
                }
                Err(e) if e.contains("variable not set: ") => {
                    retry = true;
                    failed.push((k.clone(), e));
                }
                Err(e) => {
                    failed.push((k.clone(), e));
                    changed = false;
                    retry = true;
                    break;
                }
            }
        }
        if !retry
            || failed
                .iter()
                .any(|(_, e)| !e.contains("variable not set: "))
        {
            break;
        }
        pending.retain(|(k, _)| !done.contains(k));
    }
    if !changed {
        for (k, e) in failed {
            diags.push(doc.err(&format!("variables.{k}"), "Error in variable default", e));
        }
    }
    for (k, def) in &declared {
        if def.is_none() && !values.contains_key(k) && !opts.allow_unset {
            diags.push(doc.err(
                &format!("variables.{k}"),
                "Required variable not set",
                format!("required variable not set: {k} (set it with -var {k}=... or a -var-file)"),
            ));
        }
    }
    base.user = values.clone();
    let base = Arc::new(base);

    // Builders.
    let mut builds = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut raw_names: Vec<(String, String)> = Vec::new();
    let builders = match top.get("builders") {
        Some(J::Array(a)) if !a.is_empty() => a.clone(),
        Some(J::Array(_)) | None => {
            diags.push(
                Diagnostic::error(
                    "No builders",
                    "A template needs at least one builder in \"builders\".",
                )
                .at(doc.key_loc("builders")),
            );
            Vec::new()
        }
        Some(_) => {
            diags.push(doc.err(
                "builders",
                "Invalid builders",
                "\"builders\" is a list of builder objects.",
            ));
            Vec::new()
        }
    };
    let mut builder_specs = Vec::new();
    for (i, b) in builders.iter().enumerate() {
        let path = format!("builders[{i}]");
        let Some(obj) = b.as_object() else {
            diags.push(doc.err(
                &path,
                "Invalid builder",
                "Each builder is an object with a \"type\".",
            ));
            continue;
        };
        let Some(kind) = obj.get("type").and_then(J::as_str) else {
            diags.push(doc.err(
                &path,
                "Missing builder type",
                "Each builder needs a \"type\", e.g. \"qemu\".",
            ));
            continue;
        };
        let bname = match obj.get("name") {
            Some(J::String(n)) => gotmpl::render(n, &base).unwrap_or_else(|_| n.clone()),
            // Weak decoding: a number or bool name is its text.
            Some(J::Number(n)) => n.to_string(),
            Some(J::Bool(b)) => if *b { "1" } else { "0" }.to_string(),
            _ => kind.to_string(),
        };
        if names.contains(&bname) {
            diags.push(doc.err(&path, "Duplicate builder name", format!("builder {i}: the name {bname:?} is used by another builder; give each a unique \"name\".")));
            continue;
        }
        names.push(bname.clone());
        // `inspect` shows the name as written (Packer interpolates it only for builds).
        raw_names.push((
            match obj.get("name") {
                Some(J::String(n)) => n.clone(),
                _ => bname.clone(),
            },
            kind.to_string(),
        ));
        builder_specs.push((
            bname,
            kind.to_string(),
            plugin_body(
                &doc,
                &path,
                obj,
                &["type", "name"],
                format!("builder \"{kind}\""),
                &base,
            ),
        ));
    }

    let mut provs = Vec::new();
    match top.get("provisioners") {
        None => {}
        Some(J::Array(a)) => {
            for (i, p) in a.iter().enumerate() {
                if let Some(x) = provisioner(
                    &doc,
                    &format!("provisioners[{i}]"),
                    p,
                    &base,
                    &names,
                    &mut diags,
                ) {
                    provs.push((i, x));
                }
            }
        }
        Some(_) => diags.push(doc.err(
            "provisioners",
            "Invalid provisioners",
            "\"provisioners\" is a list of provisioner objects.",
        )),
    }
    let error_cleanup = top
        .get("error-cleanup-provisioner")
        .and_then(|p| {
            provisioner(
                &doc,
                "error-cleanup-provisioner",
                p,
                &base,
                &names,
                &mut diags,
            )
        })
        .map(|x| x.0);
    let mut chains: Vec<Vec<PostProcessorSpec>> = Vec::new();
    match top.get("post-processors") {
        None => {}
        Some(J::Array(a)) => {
            for (i, p) in a.iter().enumerate() {
                let path = format!("post-processors[{i}]");
                match p {
                    J::Array(chain) => {
                        let c: Vec<_> = chain
                            .iter()
                            .enumerate()
                            .filter_map(|(j, x)| {
                                post_processor(&doc, &format!("{path}[{j}]"), x, &base, &mut diags)
                            })
                            .collect();
                        if !c.is_empty() {
                            chains.push(c);
                        }
                    }
                    other => {
                        if let Some(x) = post_processor(&doc, &path, other, &base, &mut diags) {
                            chains.push(vec![x]);
                        }
                    }
                }
            }
        }
        Some(_) => diags.push(doc.err(
            "post-processors",
            "Invalid post-processors",
            "\"post-processors\" is a list.",
        )),
    }
    for (bname, kind, spec) in builder_specs {
        let provisioners = provs
            .iter()
            .map(|(i, (p, overrides))| {
                let mut p = p.clone();
                if let Some(o) = overrides.get(&bname) {
                    let path = format!("provisioners[{i}]");
                    let mut obj = top["provisioners"][*i]
                        .as_object()
                        .cloned()
                        .unwrap_or_default();
                    for (k, v) in o {
                        obj.insert(k.clone(), v.clone());
                    }
                    p.plugin = plugin_body(
                        &doc,
                        &path,
                        &obj,
                        PROVISIONER_META,
                        format!("provisioner \"{}\"", p.plugin.kind),
                        &base,
                    );
                }
                p
            })
            .collect();
        builds.push(PlannedBuild {
            name: bname.clone(),
            source_type: kind,
            source_name: bname,
            build_block_name: None,
            build_block: 0,
            build_description: None,
            registry: None,
            builder: spec,
            provisioners,
            error_cleanup: error_cleanup.clone(),
            post_processors: chains.clone(),
        });
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let mut variables = IndexMap::new();
    for (k, def) in &declared {
        variables.insert(
            k.clone(),
            Variable {
                name: k.clone(),
                ty: Type::String,
                value: values.get(k).map(|v| hcl::Value::from(v.clone())),
                description: String::new(),
                sensitive: sensitive.contains(k),
                location: doc.key_loc(&format!("variables.{k}")),
            },
        );
        let _ = def;
    }
    let mut summary = Summary {
        description: top.get("description").and_then(J::as_str).map(String::from),
        variables: declared
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        sensitive: sensitive.clone(),
        builders: raw_names,
        provisioners: provs
            .iter()
            .map(|(_, (p, _))| p.plugin.kind.clone())
            .collect(),
    };
    summary.variables.sort();
    summary.builders.sort();
    let secrets = sensitive
        .iter()
        .filter_map(|k| values.get(k))
        .filter(|v| !v.is_empty())
        .cloned()
        .collect();
    Ok(Template {
        variables,
        locals: IndexMap::new(),
        sensitive_locals: std::collections::BTreeSet::new(),
        sources: IndexMap::new(),
        plan: BuildPlan {
            builds,
            secrets,
            template_dir: root_dir,
        },
        warnings: Diagnostics(diags.0),
        legacy_json: Some(summary),
        console: crate::Console::Legacy(base),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_keys_and_values() {
        let text =
            "{\n  \"builders\": [\n    {\"type\": \"null\", \"x\": [1, {\"y\": true}]}\n  ]\n}\n";
        let (spans, dups) = scan(text);
        assert!(dups.is_empty());
        let at = |p: &str| {
            let r = spans.0.get(p).unwrap().clone();
            &text[r]
        };
        assert_eq!(at("builders[0].type"), "\"null\"");
        assert_eq!(at("builders[0].type#key"), "\"type\"");
        assert_eq!(at("builders[0].x[1].y"), "true");
    }
}

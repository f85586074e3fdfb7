//! Plugin bodies that are evaluated per build, and again with the builder's generated values.

use crate::eval::{self, loc_of};
use crate::{Shared, SourceFile};
use hcl::edit::expr::Expression as EExpr;
use hcl::edit::structure::{Body as EBody, Structure};
use hcl::Value;
use kiln_core::config::{Config, Diagnostic, Diagnostics, Location};
use kiln_core::plan::Body;
use kiln_core::plugin::{BuildInfo, GeneratedData};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The values of `build.*` that exist before any builder ran, as placeholders.
const BUILD_KEYS: &[&str] = &[
    "ID",
    "Host",
    "Port",
    "User",
    "Password",
    "ConnType",
    "PackerRunUUID",
    "PackerHTTPIP",
    "PackerHTTPPort",
    "PackerHTTPAddr",
    "SSHPublicKey",
    "SSHPrivateKey",
    "WinRMPassword",
];

/// What kind of block a body is, which decides the names in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `source` (with its build-block additions).
    Source,
    /// A provisioner: sees `source.*` and `build.*`.
    Provisioner,
    /// A post-processor: sees `source.*` and `build.*`.
    PostProcessor,
}

/// One body in a stack of bodies; later layers override earlier ones.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The file it is in.
    pub file: Arc<SourceFile>,
    /// The body.
    pub body: EBody,
}

/// A plugin body from an HCL2 template.
#[derive(Debug)]
pub struct HclBody {
    shared: Arc<Shared>,
    layers: Vec<Layer>,
    what: String,
    skip: Vec<&'static str>,
    kind: Kind,
    block: Option<Location>,
}

impl HclBody {
    /// A body made of `layers`, ignoring the meta-arguments in `skip`.
    pub(crate) fn new(
        shared: Arc<Shared>,
        layers: Vec<Layer>,
        what: String,
        skip: &[&'static str],
        kind: Kind,
        block: Option<Location>,
    ) -> Self {
        HclBody {
            shared,
            layers,
            what,
            skip: skip.to_vec(),
            kind,
            block,
        }
    }
}

fn to_json(v: Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

struct Eval<'a> {
    scope: &'a eval::Scope,
    ctx: &'a hcl::eval::Context<'a>,
    spans: BTreeMap<String, Location>,
    diags: Diagnostics,
    /// At validate, with data sources not run: the locals whose values are unknown.
    unknown: Option<&'a BTreeSet<String>>,
    /// The variables and locals that are sets.
    sets: &'a BTreeSet<String>,
}

impl Eval<'_> {
    /// `dynamic "name" { for_each = ..., iterator = it, content { ... } }`: one `name` block per
    /// element, with `it.key` and `it.value` (the iterator defaults to the block's name).
    fn dynamic(
        &mut self,
        file: &Arc<SourceFile>,
        prefix: &str,
        b: &hcl::edit::structure::Block,
        out: &mut serde_json::Map<String, serde_json::Value>,
    ) {
        let here = loc_of(file, &b.ident);
        let err = |summary: &str, detail: String| {
            kiln_core::config::Diagnostic::error(summary, detail).at(here.clone())
        };
        let Some(name) = crate::label(b, 0).map(String::from) else {
            self.diags.push(err(
                "Missing block label",
                "A dynamic block needs the type of block it makes: `dynamic \"name\" { ... }`."
                    .into(),
            ));
            return;
        };
        let Some(for_each) = b.body.get_attribute("for_each") else {
            self.diags.push(err("Missing for_each", format!("dynamic \"{name}\" needs `for_each`, a list or map to make one block per element of.")));
            return;
        };
        let iter = match b.body.get_attribute("iterator").map(|a| &a.value) {
            None => name.clone(),
            Some(EExpr::Variable(v)) => v.as_str().to_string(),
            Some(_) => {
                self.diags.push(err(
                    "Invalid iterator",
                    "`iterator` must be a bare name, such as `iterator = disk`.".into(),
                ));
                return;
            }
        };
        let Some(content) = b.body.get_blocks("content").next() else {
            self.diags.push(err("Missing content block", format!("dynamic \"{name}\" needs a `content {{ ... }}` block: the body of each generated block.")));
            return;
        };
        let Some(coll) = self.expr(file, &format!("{prefix}{name}"), &for_each.value) else {
            return;
        };
        let is_set = crate::types::yields_set(&for_each.value, self.sets);
        let items: Vec<(Value, Value)> = match coll {
            serde_json::Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let v = hcl::to_value(v).unwrap_or(Value::Null);
                    // A set's elements are their own keys.
                    (if is_set { v.clone() } else { Value::from(i) }, v)
                })
                .collect(),
            serde_json::Value::Object(o) => o
                .into_iter()
                .map(|(k, v)| (Value::from(k), hcl::to_value(v).unwrap_or(Value::Null)))
                .collect(),
            other => {
                self.diags.push(err(
                    "Invalid for_each",
                    format!("for_each must be a list, set or map, not {other}."),
                ));
                return;
            }
        };
        let mut scope = self.scope.clone();
        scope.roots.push((
            iter.clone(),
            Some(
                ["key".to_string(), "value".to_string()]
                    .into_iter()
                    .collect(),
            ),
        ));
        for (k, v) in items {
            let mut ctx = self.ctx.clone();
            let mut it = hcl::Map::new();
            it.insert("key".to_string(), k);
            it.insert("value".to_string(), v);
            ctx.declare_var(iter.clone(), Value::Object(it));
            let mut child = Eval {
                scope: &scope,
                ctx: &ctx,
                spans: std::mem::take(&mut self.spans),
                diags: std::mem::take(&mut self.diags),
                unknown: self.unknown,
                sets: self.sets,
            };
            let list = out
                .entry(name.clone())
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            let idx = list.as_array().map_or(0, Vec::len);
            let path = format!("{prefix}{name}[{idx}]");
            if let Some(l) = here.clone() {
                child.spans.insert(path.clone(), l);
            }
            let mut inner = serde_json::Map::new();
            child.body(file, &format!("{path}."), &content.body, &[], &mut inner);
            self.spans = child.spans;
            self.diags = child.diags;
            if let Some(serde_json::Value::Array(l)) = out.get_mut(&name) {
                l.push(serde_json::Value::Object(inner));
            }
        }
    }

    fn expr(&mut self, file: &Arc<SourceFile>, path: &str, e: &EExpr) -> Option<serde_json::Value> {
        if let Some(l) = loc_of(file, e) {
            self.spans.insert(path.to_string(), l);
        }
        if let EExpr::Array(items) = e {
            for (i, item) in items.iter().enumerate() {
                if let Some(l) = loc_of(file, item) {
                    self.spans.insert(format!("{path}[{i}]"), l);
                }
            }
        }
        match eval::eval(e, file, self.scope, self.ctx) {
            Ok(v) => Some(to_json(v)),
            // As cty's unknowns: what is computed from a data source that was not run is
            // unknown, and the plugin sees Packer's placeholder, not an error.
            Err(_)
                if self.unknown.is_some_and(|u| {
                    !crate::locals::refs(e, "data").is_empty()
                        || crate::locals::local_refs(e).iter().any(|l| u.contains(l))
                }) && eval::check_references(e, file, self.scope).is_empty() =>
            {
                Some(serde_json::Value::from(crate::data::UNKNOWN))
            }
            Err(ds) => {
                ds.into_iter().for_each(|d| self.diags.push(d));
                None
            }
        }
    }

    fn body(
        &mut self,
        file: &Arc<SourceFile>,
        prefix: &str,
        body: &EBody,
        skip: &[&str],
        out: &mut serde_json::Map<String, serde_json::Value>,
    ) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if skip.contains(&key) {
                        continue;
                    }
                    let path = format!("{prefix}{key}");
                    if let Some(l) = loc_of(file, &a.key) {
                        self.spans.insert(format!("{path}#key"), l.clone());
                    }
                    if let Some(v) = self.expr(file, &path, &a.value) {
                        out.insert(key.to_string(), v);
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "dynamic" => {
                    self.dynamic(file, prefix, b, out);
                }
                Structure::Block(b) => {
                    let key = b.ident.as_str().to_string();
                    let list = out
                        .entry(key.clone())
                        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                    let idx = list.as_array().map_or(0, Vec::len);
                    let path = format!("{prefix}{key}[{idx}]");
                    if let Some(l) = loc_of(file, &b.ident) {
                        self.spans.insert(format!("{prefix}{key}"), l.clone());
                        self.spans.insert(path.clone(), l);
                    }
                    let mut inner = serde_json::Map::new();
                    self.body(file, &format!("{path}."), &b.body, &[], &mut inner);
                    if let Some(serde_json::Value::Array(l)) = out.get_mut(&key) {
                        l.push(serde_json::Value::Object(inner));
                    }
                }
            }
        }
    }
}

impl Body for HclBody {
    fn evaluate(
        &self,
        info: &BuildInfo,
        generated: Option<&GeneratedData>,
    ) -> Result<Config, Diagnostics> {
        let mut ctx = self.shared.context();
        let mut roots: Vec<(&str, Option<&[&str]>)> = Vec::new();
        if self.kind != Kind::Source {
            let mut source = hcl::Map::new();
            source.insert("name".to_string(), Value::from(info.source_name.clone()));
            source.insert("type".to_string(), Value::from(info.source_type.clone()));
            ctx.declare_var("source", Value::Object(source));
            let mut build = hcl::Map::new();
            build.insert(
                "name".to_string(),
                Value::from(info.build_block_name.clone().unwrap_or_default()),
            );
            let builder_keys = info.generated_names.iter().map(String::as_str);
            match generated {
                Some(g) => {
                    for k in BUILD_KEYS.iter().copied().chain(builder_keys) {
                        build.insert(k.to_string(), Value::from(""));
                    }
                    for (k, v) in g {
                        build.insert(k.clone(), Value::from(v.clone()));
                    }
                }
                None => {
                    for k in BUILD_KEYS.iter().copied().chain(builder_keys) {
                        build.insert(k.to_string(), Value::from(format!("{{{{ .{k} }}}}")));
                    }
                    // What the builder reported when it finished (post-processors).
                    for (k, v) in &info.generated {
                        build.insert(k.clone(), Value::from(v.clone()));
                    }
                }
            }
            ctx.declare_var("build", Value::Object(build));
            roots.push(("source", Some(&["name", "type"])));
            roots.push(("build", None));
        }
        let scope = self.shared.scope(&roots);
        let mut ev = Eval {
            unknown: self.shared.unknown_locals.as_ref(),
            sets: &self.shared.sets,
            scope: &scope,
            ctx: &ctx,
            spans: BTreeMap::new(),
            diags: Diagnostics::default(),
        };
        let mut out = serde_json::Map::new();
        let mut overrides = None;
        for layer in &self.layers {
            ev.body(&layer.file, "", &layer.body, &self.skip, &mut out);
            if self.kind == Kind::Provisioner {
                if let Some(a) = layer.body.get_attribute("override") {
                    overrides = ev.expr(&layer.file, "override", &a.value);
                }
            }
        }
        if ev.diags.has_errors() {
            return Err(ev.diags);
        }
        if let Some(serde_json::Value::Object(o)) = overrides {
            // As Packer (`Override[source.name()]`): the source's name in the build, only.
            if let Some(serde_json::Value::Object(extra)) = o.get(&info.source_name) {
                for (k, v) in extra {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        let block = self.layers.first().and_then(|l| loc_of(&l.file, &l.body));
        let mut cfg = Config {
            value: serde_json::Value::Object(out),
            spans: BTreeMap::new(),
            block,
            what: self.what.clone(),
            weak: false,
        };
        cfg.spans = ev.spans;
        if self.block.is_some() {
            cfg.block.clone_from(&self.block);
        }
        // Go-template functions in plugin fields (`{{ build_name }}`, `{{ timestamp }}`), as
        // Packer's plugins interpolate them; `{{ .Field }}` placeholders stay for the plugin.
        let path_of = |k: &str| {
            self.shared
                .path
                .as_object()
                .and_then(|o| o.get(k))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let tctx = crate::gotmpl::Ctx {
            build_name: Some(info.source_name.clone()),
            build_type: Some(info.source_type.clone()),
            template_dir: path_of("root"),
            pwd: path_of("cwd"),
            packer_version: crate::PACKER_COMPAT_VERSION.into(),
            generated: generated.cloned(),
            amazon: crate::gotmpl::is_amazon_builder(&self.what),
            ..crate::gotmpl::Ctx::default()
        };
        let mut errs = Vec::new();
        cfg.value = crate::gotmpl::render_tree(&cfg.value, &tctx, "", &mut errs);
        if !errs.is_empty() {
            return Err(Diagnostics(
                errs.into_iter()
                    .map(|(p, e)| {
                        Diagnostic::error("Error in template function", e).at(cfg.location_of(&p))
                    })
                    .collect(),
            ));
        }
        Ok(cfg)
    }
}

//! `data` blocks: Packer's `null` and `http` data sources and the community `host-info`,
//! `git-repository`, `git-commit`, `git-tree` and `sshkey`, evaluated while the template loads,
//! in dependency order, before locals (which may use them). A data source may refer to
//! variables, `path.*` and other data sources.

use crate::eval::loc_of;
use crate::{attr_value, label, Parsed, Shared, SourceFile};
use hcl::edit::expr::Expression as EExpr;
use hcl::edit::structure::Block;
use hcl::{Map, Value};
use kiln_core::config::{suggest, Diagnostic, Diagnostics, Location};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The data source types Kiln provides.
pub const TYPES: &[&str] = &[
    "null",
    "http",
    "host-info",
    "git-repository",
    "git-commit",
    "git-tree",
    "sshkey",
];

/// Data source types plugin crates provide when they are built in (`LoadOptions::data_sources`).
pub const PLUGGED: &[&str] = &["amazon-ami", "kiln-image"];

mod git;
mod host_info;
mod http;
mod sshkey;

/// How data sources run.
pub(crate) struct Run {
    /// Not at all (`validate`): their outputs are unknown.
    pub skip: bool,
    /// Packer's cache directory, absolute.
    pub cache_dir: std::path::PathBuf,
}

struct Def {
    kind: String,
    name: String,
    file: Arc<SourceFile>,
    block: Block,
    loc: Option<Location>,
}

/// `(TYPE, NAME, ATTR)` of the `data.TYPE.NAME[.ATTR]` references a walk met.
type DataRefs = BTreeSet<(String, String, Option<String>)>;

struct DataRefVisitor(DataRefs);

impl hcl::edit::visit::Visit for DataRefVisitor {
    fn visit_traversal(&mut self, t: &hcl::edit::expr::Traversal) {
        use hcl::edit::expr::TraversalOperator as Op;
        let attr = |i: usize| match t.operators.get(i).map(|o| o.value()) {
            Some(Op::GetAttr(a)) => Some(a.as_str().to_string()),
            _ => None,
        };
        if matches!(&t.expr, EExpr::Variable(root) if root.as_str() == "data") {
            if let (Some(kind), Some(name)) = (attr(0), attr(1)) {
                self.0.insert((kind, name, attr(2)));
            }
        }
        hcl::edit::visit::visit_traversal(self, t);
    }
}

/// `data.TYPE.NAME` references in an expression.
fn data_refs(e: &EExpr) -> BTreeSet<(String, String)> {
    use hcl::edit::visit::Visit;
    let mut r = DataRefVisitor(DataRefs::new());
    r.visit_expr(e);
    r.0.into_iter().map(|(k, n, _)| (k, n)).collect()
}

/// The value Packer gives every unknown at validate (its `UnknownVariableValue`): what a
/// builder's checks see where a data source's output would be.
pub const UNKNOWN: &str = "74D93920-ED26-11E3-AC10-0800200C9A66";

/// `data.TYPE.NAME.ATTR` references anywhere in the template, by `(TYPE, NAME)`: the
/// attributes a data source that is not run must still have.
fn attrs_used(parsed: &Parsed) -> std::collections::BTreeMap<(String, String), BTreeSet<String>> {
    use hcl::edit::visit::Visit;
    let mut r = DataRefVisitor(DataRefs::new());
    for (_, body) in &parsed.files {
        r.visit_body(body);
    }
    let mut used = std::collections::BTreeMap::<_, BTreeSet<String>>::new();
    for (kind, name, attr) in r.0 {
        let attrs = used.entry((kind, name)).or_default();
        attrs.extend(attr);
    }
    used
}

fn block_refs(b: &Block) -> BTreeSet<(String, String)> {
    b.body
        .attributes()
        .flat_map(|a| data_refs(&a.value))
        .collect()
}

/// Evaluates every `data` block; returns `data` as an object `{type: {name: outputs}}`.
/// With `skip` (`validate` without `-evaluate-datasources`, as Packer since 1.8.5), a data
/// source's arguments are evaluated but it is not run: each of its outputs the template uses is
/// [`UNKNOWN`].
pub(crate) fn evaluate(
    parsed: &Parsed,
    plugged: &kiln_core::registry::DataSources,
    shared: &Shared,
    run: &Run,
    diags: &mut Diagnostics,
) -> Value {
    let skip = run.skip;
    let used = if skip {
        attrs_used(parsed)
    } else {
        std::collections::BTreeMap::new()
    };
    let mut defs: Vec<Def> = Vec::new();
    for (file, body) in &parsed.files {
        for b in body.get_blocks("data") {
            let (Some(kind), Some(name)) = (label(b, 0), label(b, 1)) else {
                diags.push(
                    Diagnostic::error(
                        "Missing data source labels",
                        "A data block needs a type and a name: `data \"http\" \"example\" { ... }`.",
                    )
                    .at(loc_of(file, &b.ident)),
                );
                continue;
            };
            if !TYPES.contains(&kind) && !plugged.0.contains_key(kind) {
                let all: Vec<&str> = TYPES
                    .iter()
                    .copied()
                    .chain(plugged.0.keys().map(String::as_str))
                    .collect();
                let mut d = format!(
                    "Unknown data source type {kind:?}. Kiln provides: {}.",
                    all.join(", ")
                );
                if PLUGGED.contains(&kind) {
                    d.push_str(" This kiln was built without it: build Kiln with its default features (cargo install, or cargo build --release).");
                } else if let Some(s) = suggest(kind, all.iter().copied()) {
                    d.push_str(&format!(" Did you mean {s:?}?"));
                }
                diags.push(
                    Diagnostic::error("Unknown data source type", d).at(loc_of(file, &b.labels[0])),
                );
                continue;
            }
            if defs.iter().any(|d| d.kind == kind && d.name == name) {
                diags.push(
                    Diagnostic::error(
                        "Duplicate data source",
                        format!("data.{kind}.{name} is declared more than once."),
                    )
                    .at(loc_of(file, &b.labels[1])),
                );
                continue;
            }
            defs.push(Def {
                kind: kind.to_string(),
                name: name.to_string(),
                file: file.clone(),
                block: b.clone(),
                loc: loc_of(file, &b.ident),
            });
        }
    }
    let cwd = shared
        .path
        .as_object()
        .and_then(|p| p.get("cwd"))
        .and_then(Value::as_str)
        .map_or_else(|| std::path::PathBuf::from("."), std::path::PathBuf::from);
    let mut out: Map<String, Value> = Map::new();
    let mut pending: Vec<usize> = (0..defs.len()).collect();
    let known: BTreeSet<(String, String)> = defs
        .iter()
        .map(|d| (d.kind.clone(), d.name.clone()))
        .collect();
    let done = |out: &Map<String, Value>, k: &str, n: &str| {
        out.get(k)
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(n))
    };
    while !pending.is_empty() {
        let ready: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&i| {
                block_refs(&defs[i].block)
                    .iter()
                    .all(|(k, n)| done(&out, k, n) || !known.contains(&(k.clone(), n.clone())))
            })
            .collect();
        if ready.is_empty() {
            for &i in &pending {
                let d = &defs[i];
                diags.push(
                    Diagnostic::error(
                        "Cycle in data sources",
                        format!(
                            "data.{}.{} depends on itself through other data sources.",
                            d.kind, d.name
                        ),
                    )
                    .at(d.loc.clone()),
                );
            }
            break;
        }
        for &i in &ready {
            let d = &defs[i];
            let mut ctx = shared.context();
            ctx.declare_var("data", Value::Object(out.clone()));
            let mut scope = shared.scope(&[("data", None)]);
            // Locals are evaluated after data sources.
            scope.roots.retain(|(r, _)| r != "local");
            let mut args = Map::new();
            let mut ok = true;
            for a in d.block.body.attributes() {
                match attr_value(&d.file, &a.value, &scope, &ctx, diags) {
                    Some(v) => {
                        args.insert(a.key.as_str().to_string(), v);
                    }
                    None => ok = false,
                }
            }
            if !ok {
                continue;
            }
            let result = match d.kind.as_str() {
                _ if skip => Ok(Value::Object(
                    used.get(&(d.kind.clone(), d.name.clone()))
                        .into_iter()
                        .flatten()
                        .map(|a| (a.clone(), Value::from(UNKNOWN)))
                        .collect(),
                )),
                "null" => null_source(&args),
                "host-info" => check_args(&args, &[])
                    .map(|()| host_info::outputs(&host_info::HostFacts::read())),
                "git-repository" => git::repository(&args, &cwd),
                "git-commit" => git::commit(&args, &cwd),
                "git-tree" => git::tree(&args, &cwd),
                "http" => http::outputs(&args),
                "sshkey" => sshkey::outputs(&args, &run.cache_dir),
                other => match plugged.0.get(other) {
                    Some(f) => serde_json::to_value(&args)
                        .map_err(|e| e.to_string())
                        .and_then(|a| f(&a))
                        .and_then(|v| hcl::to_value(v).map_err(|e| e.to_string())),
                    None => Err(format!("no data source type {other}")),
                },
            };
            match result {
                Ok(v) => {
                    if let Value::Object(m) = out
                        .entry(d.kind.clone())
                        .or_insert_with(|| Value::Object(Map::new()))
                    {
                        m.insert(d.name.clone(), v);
                    }
                }
                Err(m) => diags.push(
                    Diagnostic::error(
                        format!("Error in data source \"{}\"", d.kind),
                        format!("data.{}.{}: {m}", d.kind, d.name),
                    )
                    .at(d.loc.clone()),
                ),
            }
        }
        pending.retain(|i| !ready.contains(i));
    }
    Value::Object(out)
}

fn check_args(args: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    for k in args.keys() {
        if !allowed.contains(&k.as_str()) {
            let mut m = format!("an argument named {k:?} is not expected here");
            if let Some(s) = suggest(k, allowed.iter().copied()) {
                m.push_str(&format!("; did you mean {s:?}?"));
            }
            return Err(m);
        }
    }
    Ok(())
}

/// `data "null"`: `input` comes back as `output`.
fn null_source(args: &Map<String, Value>) -> Result<Value, String> {
    check_args(args, &["input"])?;
    let input = args
        .get("input")
        .cloned()
        .ok_or("the argument \"input\" is required")?;
    let mut m = Map::new();
    m.insert("input".into(), input.clone());
    m.insert("output".into(), input);
    Ok(Value::Object(m))
}

//! `data` blocks: Packer's `null` and `http` data sources and the community `host-info`, evaluated while the template loads,
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
pub const TYPES: &[&str] = &["null", "http", "host-info"];

struct Def {
    kind: String,
    name: String,
    file: Arc<SourceFile>,
    block: Block,
    loc: Option<Location>,
}

/// `data.TYPE.NAME` references in an expression.
fn data_refs(e: &EExpr) -> BTreeSet<(String, String)> {
    use hcl::edit::expr::TraversalOperator as Op;
    use hcl::edit::visit::Visit;
    struct R(BTreeSet<(String, String)>);
    impl Visit for R {
        fn visit_traversal(&mut self, t: &hcl::edit::expr::Traversal) {
            if let (EExpr::Variable(root), Some(a), Some(b)) =
                (&t.expr, t.operators.first(), t.operators.get(1))
            {
                if root.as_str() == "data" {
                    if let (Op::GetAttr(a), Op::GetAttr(b)) = (a.value(), b.value()) {
                        self.0
                            .insert((a.as_str().to_string(), b.as_str().to_string()));
                    }
                }
            }
            hcl::edit::visit::visit_traversal(self, t);
        }
    }
    let mut r = R(BTreeSet::new());
    r.visit_expr(e);
    r.0
}

fn block_refs(b: &Block) -> BTreeSet<(String, String)> {
    b.body
        .attributes()
        .flat_map(|a| data_refs(&a.value))
        .collect()
}

/// Evaluates every `data` block; returns `data` as an object `{type: {name: outputs}}`.
pub(crate) fn evaluate(parsed: &Parsed, shared: &Shared, diags: &mut Diagnostics) -> Value {
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
            if !TYPES.contains(&kind) {
                let mut d = format!(
                    "Unknown data source type {kind:?}. Kiln provides: {}.",
                    TYPES.join(", ")
                );
                if let Some(s) = suggest(kind, TYPES.iter().copied()) {
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
                "null" => null_source(&args),
                "host-info" => check_args(&args, &[]).map(|()| host_info(&HostFacts::read())),
                _ => http_source(&args),
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

/// What the `host-info` data source reports, read from the machine Kiln runs on.
#[derive(Debug, Default)]
pub(crate) struct HostFacts {
    /// `/etc/os-release`.
    pub(crate) os_release: String,
    /// `/etc/debian_version`, where there is one.
    pub(crate) debian_version: Option<String>,
}

impl HostFacts {
    fn read() -> Self {
        HostFacts {
            os_release: std::fs::read_to_string("/etc/os-release")
                .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
                .unwrap_or_default(),
            debian_version: std::fs::read_to_string("/etc/debian_version").ok(),
        }
    }
}

/// `data "host-info"` (the community plugin's outputs): `os_type` (Go's GOOS), `architecture`
/// (GOARCH names), `platform` (the distribution), `version` (its release, Debian's point
/// release) and `family` (`debian`, `rhel`, ...).
pub(crate) fn host_info(f: &HostFacts) -> Value {
    let field = |k: &str| {
        f.os_release
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let platform = field("ID");
    let version = match (&f.debian_version, platform.as_str()) {
        (Some(v), "debian") => v.trim().to_string(),
        _ => field("VERSION_ID"),
    };
    let family = match platform.as_str() {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "pop" | "kali" => "debian",
        "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "oracle" | "scientific" | "amzn" => {
            "rhel"
        }
        "fedora" => "fedora",
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" | "sles" | "suse" => "suse",
        "arch" | "manjaro" => "arch",
        "alpine" => "alpine",
        "gentoo" => "gentoo",
        _ => "",
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        other => other,
    };
    let mut m = Map::new();
    m.insert("os_type".into(), Value::from(std::env::consts::OS));
    m.insert("architecture".into(), Value::from(arch));
    m.insert("platform".into(), Value::from(platform));
    m.insert("version".into(), Value::from(version));
    m.insert("family".into(), Value::from(family));
    Value::Object(m)
}

/// `data "http"`: fetches `url`; outputs `url`, `body`, `response_headers` and `status_code`.
fn http_source(args: &Map<String, Value>) -> Result<Value, String> {
    check_args(args, &["url", "method", "request_headers", "request_body"])?;
    let url = args
        .get("url")
        .and_then(Value::as_str)
        .ok_or("the argument \"url\" is required")?
        .to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url:?} is not an http:// or https:// URL"));
    }
    let method = args
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_uppercase();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let mut req = ureq::http::Request::builder()
        .method(method.as_str())
        .uri(&url);
    if let Some(Value::Object(h)) = args.get("request_headers") {
        for (k, v) in h {
            req = req.header(k.as_str(), v.as_str().unwrap_or_default());
        }
    }
    let body = args
        .get("request_body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let req = req.body(body).map_err(|e| e.to_string())?;
    let mut resp = agent
        .run(req)
        .map_err(|e| format!("HTTP request to {url} failed: {e}"))?;
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for (k, v) in resp.headers() {
        headers.insert(
            k.as_str().to_string(),
            Value::from(v.to_str().unwrap_or_default().to_string()),
        );
    }
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("reading the response from {url}: {e}"))?;
    if !(200..300).contains(&status) {
        return Err(format!("HTTP request error. Response code: {status}"));
    }
    let mut m = Map::new();
    m.insert("url".into(), Value::from(url));
    m.insert("body".into(), Value::from(text));
    m.insert("response_headers".into(), Value::Object(headers));
    m.insert("status_code".into(), Value::from(status));
    Ok(Value::Object(m))
}

/// Expands `dynamic "source"`, `dynamic "provisioner"`, `dynamic "post-processor"` (and the
/// like) blocks in a `build` block into the blocks they stand for: one per element of
/// `for_each`, labelled by `labels`, with `ITERATOR.key` / `ITERATOR.value` replaced by the
/// element's values in the `content` body.
pub(crate) fn expand_build_dynamics(
    file: &Arc<SourceFile>,
    block: &Block,
    shared: &Shared,
    diags: &mut Diagnostics,
) -> Block {
    let mut out = block.clone();
    out.body = expand_body(file, &block.body, shared, diags);
    out
}

fn expand_body(
    file: &Arc<SourceFile>,
    body: &hcl::edit::structure::Body,
    shared: &Shared,
    diags: &mut Diagnostics,
) -> hcl::edit::structure::Body {
    use hcl::edit::structure::{Body, Structure};
    let mut out = Body::new();
    for s in body.iter() {
        match s {
            Structure::Block(b) if b.ident.as_str() == "dynamic" => {
                for nb in expand_one(file, b, shared, diags) {
                    out.push(nb);
                }
            }
            Structure::Block(b) if b.ident.as_str() == "post-processors" => {
                let mut nb = b.clone();
                nb.body = expand_body(file, &b.body, shared, diags);
                out.push(nb);
            }
            other => out.push(other.clone()),
        }
    }
    out
}

fn expand_one(
    file: &Arc<SourceFile>,
    b: &Block,
    shared: &Shared,
    diags: &mut Diagnostics,
) -> Vec<Block> {
    let here = loc_of(file, &b.ident);
    let err = |s: &str, d: String| Diagnostic::error(s, d).at(here.clone());
    let Some(kind) = label(b, 0).map(String::from) else {
        diags.push(err(
            "Missing block label",
            "A dynamic block needs the type of block it makes: `dynamic \"provisioner\" { ... }`."
                .into(),
        ));
        return Vec::new();
    };
    let iter = match b.body.get_attribute("iterator").map(|a| &a.value) {
        None => kind.clone(),
        Some(EExpr::Variable(v)) => v.as_str().to_string(),
        Some(_) => {
            diags.push(err(
                "Invalid iterator",
                "`iterator` must be a bare name.".into(),
            ));
            return Vec::new();
        }
    };
    let (Some(for_each), Some(content)) = (
        b.body.get_attribute("for_each"),
        b.body.get_blocks("content").next(),
    ) else {
        diags.push(err(
            "Incomplete dynamic block",
            format!("dynamic \"{kind}\" needs `for_each` and a `content {{ ... }}` block."),
        ));
        return Vec::new();
    };
    let scope = shared.scope(&[]);
    let ctx = shared.context();
    let items: Vec<(Value, Value)> = match attr_value(file, &for_each.value, &scope, &ctx, diags) {
        Some(Value::Array(a)) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::from(i), v))
            .collect(),
        Some(Value::Object(o)) => o.into_iter().map(|(k, v)| (Value::from(k), v)).collect(),
        Some(other) => {
            diags.push(err(
                "Invalid for_each",
                format!(
                    "for_each must be a list, set or map, not {}.",
                    crate::functions::type_name(&other)
                ),
            ));
            return Vec::new();
        }
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    for (k, v) in items {
        let mut labels = Vec::new();
        if let Some(l) = b.body.get_attribute("labels") {
            let mut c = ctx.clone();
            let mut it = Map::new();
            it.insert("key".into(), k.clone());
            it.insert("value".into(), v.clone());
            c.declare_var(iter.clone(), Value::Object(it));
            let mut sc = scope.clone();
            sc.roots.push((iter.clone(), None));
            match attr_value(file, &substitute(&l.value, &iter, &k, &v), &sc, &c, diags) {
                Some(Value::Array(ls)) => {
                    for x in ls {
                        match x {
                            Value::String(s) => labels.push(s),
                            other => labels.push(other.to_string()),
                        }
                    }
                }
                _ => {
                    diags.push(err(
                        "Invalid labels",
                        "`labels` must be a list of strings.".into(),
                    ));
                    return out;
                }
            }
        }
        let mut nb = Block::new(hcl::edit::Ident::new(kind.clone()));
        nb.labels = labels
            .into_iter()
            .map(|l| hcl::edit::structure::BlockLabel::String(hcl::edit::Decorated::new(l)))
            .collect();
        let mut body = content.body.clone();
        substitute_body(&mut body, &iter, &k, &v);
        nb.body = body;
        out.push(nb);
    }
    out
}

/// Replaces `iter.key` / `iter.value` (and bare `iter`) in an expression by the element's values.
fn substitute(e: &EExpr, iter: &str, k: &Value, v: &Value) -> EExpr {
    let mut e = e.clone();
    let mut s = Subst { iter, k, v };
    hcl::edit::visit_mut::VisitMut::visit_expr_mut(&mut s, &mut e);
    e
}

fn substitute_body(body: &mut hcl::edit::structure::Body, iter: &str, k: &Value, v: &Value) {
    let mut s = Subst { iter, k, v };
    hcl::edit::visit_mut::VisitMut::visit_body_mut(&mut s, body);
}

struct Subst<'a> {
    iter: &'a str,
    k: &'a Value,
    v: &'a Value,
}

fn literal(v: &Value) -> EExpr {
    EExpr::from(hcl::Expression::from(v.clone()))
}

impl hcl::edit::visit_mut::VisitMut for Subst<'_> {
    fn visit_expr_mut(&mut self, node: &mut EExpr) {
        use hcl::edit::expr::TraversalOperator as Op;
        match node {
            EExpr::Variable(var) if var.as_str() == self.iter => {
                let mut m = Map::new();
                m.insert("key".into(), self.k.clone());
                m.insert("value".into(), self.v.clone());
                *node = literal(&Value::Object(m));
                return;
            }
            EExpr::Traversal(t) => {
                if let (EExpr::Variable(root), Some(first)) = (&t.expr, t.operators.first()) {
                    if root.as_str() == self.iter {
                        if let Op::GetAttr(a) = first.value() {
                            let val = match a.as_str() {
                                "key" => Some(self.k.clone()),
                                "value" => Some(self.v.clone()),
                                _ => None,
                            };
                            if let Some(val) = val {
                                let rest: Vec<_> = t.operators.iter().skip(1).cloned().collect();
                                if rest.is_empty() {
                                    *node = literal(&val);
                                } else {
                                    t.expr = literal(&val);
                                    t.operators = rest;
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        hcl::edit::visit_mut::visit_expr_mut(self, node);
    }
}

#[cfg(test)]
mod host_info_tests {
    use super::*;

    #[test]
    fn host_info_reads_os_release() {
        let f = HostFacts {
            os_release:
                "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"
                    .into(),
            debian_version: Some("12.5\n".into()),
        };
        let get = |v: &Value, k: &str| {
            v.as_object()
                .and_then(|o| o.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let v = host_info(&f);
        assert_eq!(get(&v, "platform"), Value::from("debian"));
        assert_eq!(get(&v, "version"), Value::from("12.5"));
        assert_eq!(get(&v, "family"), Value::from("debian"));
        assert_eq!(get(&v, "os_type"), Value::from("linux"));
        let f = HostFacts {
            os_release: "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n".into(),
            debian_version: None,
        };
        let v = host_info(&f);
        assert_eq!(
            (get(&v, "platform"), get(&v, "version"), get(&v, "family")),
            (
                Value::from("rocky"),
                Value::from("9.3"),
                Value::from("rhel")
            )
        );
    }
}

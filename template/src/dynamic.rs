//! `dynamic` blocks inside `build`: expanded into the blocks they stand for before the build's
//! sources, provisioners and post-processors are read.

use crate::eval::loc_of;
use crate::{attr_value, label, Shared, SourceFile};
use hcl::edit::expr::Expression as EExpr;
use hcl::edit::structure::Block;
use hcl::Map;
use hcl::Value;
use kiln_core::config::{Diagnostic, Diagnostics};
use std::sync::Arc;

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
    let is_set = crate::types::yields_set(&for_each.value, &shared.sets);
    let items: Vec<(Value, Value)> = match attr_value(file, &for_each.value, &scope, &ctx, diags) {
        Some(Value::Array(a)) => a
            .into_iter()
            .enumerate()
            // A set's elements are their own keys.
            .map(|(i, v)| (if is_set { v.clone() } else { Value::from(i) }, v))
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

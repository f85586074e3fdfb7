//! Maps and objects are ordered by key, as in Packer: cty's maps and objects have no insertion
//! order, so `keys`, `values`, `for` over a map, `merge`, `jsonencode` and `%{ for k, v in m }`
//! all see their keys in lexical (byte) order. hcl-rs keeps insertion order, so before evaluation
//! object literals are put in key order (or, when a key is computed, wrapped in a call that sorts
//! the result), `for` expressions that make objects are wrapped the same way, and every value an
//! expression produces is sorted through before it is stored.

use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::expr::{Expression, FuncCall, ObjectKey, Operation, TraversalOperator};
use hcl::{Identifier, Value};

/// The internal function that sorts a value's maps (never written by users: the name is not an
/// HCL identifier a template could reach, since reference checks run before the rewrite).
pub(crate) const SORT_FN: &str = "__kiln_sorted";

/// Declares the sorting function in `ctx`.
pub(crate) fn declare(ctx: &mut Context) {
    fn sorted_fn(args: FuncArgs) -> Result<Value, String> {
        Ok(sorted(args[0].clone()))
    }
    ctx.declare_func(
        SORT_FN,
        FuncDef::builder().param(ParamType::Any).build(sorted_fn),
    );
    crate::ops::declare(ctx);
    crate::tmpl::declare(ctx);
}

/// `v` with every map in it (at any depth) in key order, and every string in Unicode NFC, as
/// cty keeps strings.
pub fn sorted(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(nfc(s)),
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> =
                m.into_iter().map(|(k, v)| (nfc(k), sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// `s` in Unicode normalization form C.
pub fn nfc(s: String) -> String {
    use unicode_normalization::UnicodeNormalization;
    if unicode_normalization::is_nfc_quick(s.chars()) == unicode_normalization::IsNormalized::Yes {
        s
    } else {
        s.nfc().collect()
    }
}

/// `c[k]` becomes `__kiln_index(c, k)`, which converts
/// the key as HCL does (`list["1"]` is `list[1]`, `map[1]` is `map["1"]`); hcl-rs does not. An
/// index after a splat stays as it is (it applies to each element).
fn index_calls(t: hcl::expr::Traversal) -> Expression {
    let mut ops = t.operators;
    let at = ops
        .iter()
        .position(|o| matches!(o, TraversalOperator::Index(_)));
    let splat_before = |i: usize| {
        ops[..i].iter().any(|o| {
            matches!(
                o,
                TraversalOperator::AttrSplat | TraversalOperator::FullSplat
            )
        })
    };
    let Some(i) = at.filter(|&i| !splat_before(i)) else {
        return Expression::Traversal(Box::new(hcl::expr::Traversal::new(t.expr, ops)));
    };
    let rest = ops.split_off(i + 1);
    let Some(TraversalOperator::Index(key)) = ops.pop() else {
        unreachable!("position found an index");
    };
    let base = if ops.is_empty() {
        t.expr
    } else {
        Expression::Traversal(Box::new(hcl::expr::Traversal::new(t.expr, ops)))
    };
    let call = Expression::from(
        FuncCall::builder(Identifier::unchecked(crate::ops::INDEX_FN))
            .arg(base)
            .arg(key)
            .build(),
    );
    if rest.is_empty() {
        call
    } else {
        index_calls(hcl::expr::Traversal::new(call, rest))
    }
}

fn wrap(e: Expression) -> Expression {
    Expression::from(
        FuncCall::builder(Identifier::unchecked(SORT_FN))
            .arg(e)
            .build(),
    )
}

fn literal_key(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Identifier(i) => Some(i.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Rewrites `e` so that hcl-rs evaluates its objects in key order (and cty's other rules: see
/// `ops`; string literals in NFC).
pub fn rewrite(e: Expression) -> Expression {
    match e {
        Expression::String(s) => Expression::String(nfc(s)),
        Expression::TemplateExpr(t) => match crate::tmpl::to_expr(&t) {
            Some(x) => x,
            None => Expression::TemplateExpr(t),
        },
        Expression::Object(o) => {
            let mut entries: Vec<(ObjectKey, Expression)> = o
                .into_iter()
                .map(|(k, v)| {
                    let k = match k {
                        ObjectKey::Expression(x) => ObjectKey::Expression(rewrite(x)),
                        other => other,
                    };
                    (k, rewrite(v))
                })
                .collect();
            let keys: Option<Vec<String>> = entries.iter().map(|(k, _)| literal_key(k)).collect();
            match keys {
                Some(keys) => {
                    let mut order: Vec<usize> = (0..entries.len()).collect();
                    // Stable, so that of two equal keys the last still wins.
                    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
                    let mut slots: Vec<Option<(ObjectKey, Expression)>> =
                        entries.drain(..).map(Some).collect();
                    let mut out = hcl::Object::new();
                    for i in order {
                        if let Some((k, v)) = slots[i].take() {
                            out.insert(k, v);
                        }
                    }
                    Expression::Object(out)
                }
                None => wrap(Expression::Object(entries.into_iter().collect())),
            }
        }
        Expression::Array(a) => Expression::Array(a.into_iter().map(rewrite).collect()),
        Expression::Parenthesis(p) => Expression::Parenthesis(Box::new(rewrite(*p))),
        Expression::Conditional(mut c) => {
            // cty unifies the two results' types: a number or bool literal against a string
            // becomes a string (`c ? 1 : "one"` is "1" either way).
            let as_string = |e: &Expression| match e {
                Expression::Number(n) => Some(Expression::String(n.to_string())),
                Expression::Bool(b) => Some(Expression::String(b.to_string())),
                _ => None,
            };
            let is_string =
                |e: &Expression| matches!(e, Expression::String(_) | Expression::TemplateExpr(_));
            if is_string(&c.false_expr) {
                if let Some(t) = as_string(&c.true_expr) {
                    c.true_expr = t;
                }
            }
            if is_string(&c.true_expr) {
                if let Some(f) = as_string(&c.false_expr) {
                    c.false_expr = f;
                }
            }
            // The condition may be "true" or "false" (cty converts strings to bool).
            c.cond_expr = Expression::from(
                FuncCall::builder(Identifier::unchecked("__kiln_tmpl_bool"))
                    .arg(rewrite(c.cond_expr))
                    .build(),
            );
            c.true_expr = rewrite(c.true_expr);
            c.false_expr = rewrite(c.false_expr);
            Expression::Conditional(c)
        }
        Expression::Operation(op) => Expression::Operation(Box::new(match *op {
            Operation::Unary(u) => {
                return Expression::from(
                    FuncCall::builder(Identifier::unchecked(crate::ops::unary_function_for(
                        u.operator,
                    )))
                    .arg(rewrite(u.expr))
                    .build(),
                );
            }
            Operation::Binary(mut b) => {
                b.lhs_expr = rewrite(b.lhs_expr);
                b.rhs_expr = rewrite(b.rhs_expr);
                // Arithmetic and ordering as cty does them (see `ops`).
                if let Some(f) = crate::ops::function_for(b.operator) {
                    return Expression::from(
                        FuncCall::builder(Identifier::unchecked(f))
                            .arg(b.lhs_expr)
                            .arg(b.rhs_expr)
                            .build(),
                    );
                }
                Operation::Binary(b)
            }
        })),
        Expression::Traversal(mut t) => {
            t.expr = rewrite(t.expr);
            t.operators = t
                .operators
                .into_iter()
                .map(|o| match o {
                    TraversalOperator::Index(x) => TraversalOperator::Index(rewrite(x)),
                    other => other,
                })
                .collect();
            index_calls(*t)
        }
        // convert(value, type): the type is not a value, so it is passed as its text.
        Expression::FuncCall(f)
            if f.name.namespace.is_empty()
                && f.name.name.as_str() == "convert"
                && f.args.len() == 2 =>
        {
            let mut args = f.args.into_iter();
            let value = args.next().map(rewrite).unwrap_or(Expression::Null);
            let ty = args.next().map(|t| t.to_string()).unwrap_or_default();
            wrap(Expression::from(
                FuncCall::builder(Identifier::unchecked("__kiln_convert"))
                    .arg(value)
                    .arg(Expression::String(ty))
                    .build(),
            ))
        }
        Expression::FuncCall(mut f) => {
            f.args = f.args.into_iter().map(rewrite).collect();
            wrap(Expression::FuncCall(f))
        }
        Expression::ForExpr(mut f) => {
            f.collection_expr = rewrite(f.collection_expr);
            f.value_expr = rewrite(f.value_expr);
            f.key_expr = f.key_expr.map(rewrite);
            f.cond_expr = f.cond_expr.map(rewrite);
            if f.key_expr.is_some() {
                wrap(Expression::ForExpr(f))
            } else {
                Expression::ForExpr(f)
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(src: &str) -> String {
        let e: Expression = src.parse().unwrap_or_else(|e| panic!("{src}: {e}"));
        let mut ctx = Context::new();
        crate::functions::declare(&mut ctx, false);
        let e = crate::lazy::prepare(rewrite(e), &ctx).unwrap();
        let v = sorted(e.evaluate(&ctx).unwrap());
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn objects_are_in_key_order() {
        assert_eq!(
            eval("{ b = 1, a = 2, \"A\" = 3 }"),
            r#"{"A":3,"a":2,"b":1}"#
        );
        assert_eq!(eval("[for k, v in { b = 1, a = 2 } : k]"), r#"["a","b"]"#);
        assert_eq!(
            eval("{ for k in [\"z\", \"y\"] : k => upper(k) }"),
            r#"{"y":"Y","z":"Z"}"#
        );
        assert_eq!(eval("keys({ (\"z\") = 1, y = 2 })"), r#"["y","z"]"#);
        assert_eq!(eval("{ a = 1, b = 2, a = 3 }"), r#"{"a":3,"b":2}"#);
    }
}

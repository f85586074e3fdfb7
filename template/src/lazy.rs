//! `try` and `can`, which must see their arguments fail rather than fail with them. hcl-rs
//! evaluates arguments before calling a function, so before evaluation every `try(...)` and
//! `can(...)` is evaluated here, argument by argument, and replaced by its result; `for`
//! expressions that contain them are evaluated here too, so that their iteration variables are
//! known.

use hcl::eval::{Context, Evaluate};
use hcl::expr::{Expression, ObjectKey, Operation, TraversalOperator};
use hcl::{Map, Value};

fn is_lazy_call(name: &hcl::expr::FuncName) -> bool {
    name.namespace.is_empty() && matches!(name.name.as_str(), "try" | "can")
}

/// Whether `e` calls `try` or `can` anywhere.
fn has_lazy(e: &Expression) -> bool {
    match e {
        Expression::FuncCall(f) => is_lazy_call(&f.name) || f.args.iter().any(has_lazy),
        Expression::Array(a) => a.iter().any(has_lazy),
        Expression::Object(o) => o
            .iter()
            .any(|(k, v)| has_lazy(v) || matches!(k, ObjectKey::Expression(x) if has_lazy(x))),
        Expression::Parenthesis(p) => has_lazy(p),
        Expression::Conditional(c) => {
            has_lazy(&c.cond_expr) || has_lazy(&c.true_expr) || has_lazy(&c.false_expr)
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => has_lazy(&u.expr),
            Operation::Binary(b) => has_lazy(&b.lhs_expr) || has_lazy(&b.rhs_expr),
        },
        Expression::Traversal(t) => {
            has_lazy(&t.expr)
                || t.operators
                    .iter()
                    .any(|o| matches!(o, TraversalOperator::Index(x) if has_lazy(x)))
        }
        Expression::ForExpr(f) => {
            has_lazy(&f.collection_expr)
                || has_lazy(&f.value_expr)
                || f.key_expr.as_ref().is_some_and(has_lazy)
                || f.cond_expr.as_ref().is_some_and(has_lazy)
        }
        Expression::TemplateExpr(t) => {
            let s = t.to_string();
            s.contains("try(") || s.contains("can(")
        }
        _ => false,
    }
}

fn eval(e: Expression, ctx: &Context) -> Result<Value, String> {
    let e = prepare(e, ctx)?;
    e.evaluate(ctx).map_err(|err| err.kind().to_string())
}

/// Replaces the `try` / `can` calls in `e` by their values.
///
/// # Errors
/// A `try` none of whose arguments succeeded, or an error while evaluating a `for` expression
/// that contains one.
pub fn prepare(e: Expression, ctx: &Context) -> Result<Expression, String> {
    if !has_lazy(&e) {
        return Ok(e);
    }
    Ok(match e {
        Expression::FuncCall(f) if is_lazy_call(&f.name) => {
            if f.name.name.as_str() == "can" {
                if f.args.len() != 1 {
                    return Err(
                        "Call to function \"can\" failed: exactly one argument is required".into(),
                    );
                }
                let ok = f.args.into_iter().next().map(|a| eval(a, ctx).is_ok());
                Expression::Bool(ok.unwrap_or(false))
            } else {
                let mut errs = Vec::new();
                for a in f.args {
                    match eval(a, ctx) {
                        Ok(v) => return Ok(Expression::from(v)),
                        Err(m) => errs.push(m),
                    }
                }
                return Err(format!(
                    "Call to function \"try\" failed: no expression succeeded:\n{}",
                    errs.iter()
                        .map(|m| format!("- {m}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
        }
        Expression::FuncCall(mut f) => {
            f.args = f
                .args
                .into_iter()
                .map(|a| prepare(a, ctx))
                .collect::<Result<_, _>>()?;
            Expression::FuncCall(f)
        }
        Expression::Array(a) => Expression::Array(
            a.into_iter()
                .map(|x| prepare(x, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Expression::Object(o) => {
            let mut out = hcl::Object::new();
            for (k, v) in o {
                let k = match k {
                    ObjectKey::Expression(x) => ObjectKey::Expression(prepare(x, ctx)?),
                    other => other,
                };
                out.insert(k, prepare(v, ctx)?);
            }
            Expression::Object(out)
        }
        Expression::Parenthesis(p) => Expression::Parenthesis(Box::new(prepare(*p, ctx)?)),
        Expression::Conditional(mut c) => {
            c.cond_expr = prepare(c.cond_expr, ctx)?;
            // Only the branch that is taken may fail.
            match c.cond_expr.evaluate(ctx) {
                Ok(Value::Bool(true)) => c.true_expr = prepare(c.true_expr, ctx)?,
                Ok(Value::Bool(false)) => c.false_expr = prepare(c.false_expr, ctx)?,
                _ => {}
            }
            Expression::Conditional(c)
        }
        Expression::Operation(op) => Expression::Operation(Box::new(match *op {
            Operation::Unary(mut u) => {
                u.expr = prepare(u.expr, ctx)?;
                Operation::Unary(u)
            }
            Operation::Binary(mut b) => {
                b.lhs_expr = prepare(b.lhs_expr, ctx)?;
                b.rhs_expr = prepare(b.rhs_expr, ctx)?;
                Operation::Binary(b)
            }
        })),
        Expression::Traversal(mut t) => {
            t.expr = prepare(t.expr, ctx)?;
            t.operators = t
                .operators
                .into_iter()
                .map(|o| match o {
                    TraversalOperator::Index(x) => prepare(x, ctx).map(TraversalOperator::Index),
                    other => Ok(other),
                })
                .collect::<Result<_, _>>()?;
            Expression::Traversal(t)
        }
        Expression::ForExpr(f) => Expression::from(for_expr(*f, ctx)?),
        Expression::TemplateExpr(t) => {
            let mut tpl = hcl::Template::from_expr(&t).map_err(|e| e.to_string())?;
            for el in tpl.elements_mut() {
                if let hcl::template::Element::Interpolation(i) = el {
                    let x = std::mem::replace(&mut i.expr, Expression::Null);
                    i.expr = prepare(x, ctx)?;
                }
            }
            Expression::from(tpl.evaluate(ctx).map_err(|e| e.kind().to_string())?)
        }
        other => other,
    })
}

fn for_expr(f: hcl::expr::ForExpr, ctx: &Context) -> Result<Value, String> {
    let items: Vec<(Value, Value)> = match eval(f.collection_expr, ctx)? {
        Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::from(i), v))
            .collect(),
        Value::Object(o) => o.into_iter().map(|(k, v)| (Value::from(k), v)).collect(),
        other => {
            return Err(format!(
                "a for expression needs a list or map, got {}",
                crate::functions::type_name(&other)
            ))
        }
    };
    let mut list = Vec::new();
    let mut map: Map<String, Value> = Map::new();
    for (k, v) in items {
        let mut c = ctx.clone();
        if let Some(kv) = &f.key_var {
            c.declare_var(kv.clone(), k);
        }
        c.declare_var(f.value_var.clone(), v);
        if let Some(cond) = &f.cond_expr {
            match eval(cond.clone(), &c)? {
                Value::Bool(true) => {}
                Value::Bool(false) => continue,
                _ => return Err("a for expression's condition must be a bool".into()),
            }
        }
        let value = eval(f.value_expr.clone(), &c)?;
        match &f.key_expr {
            Some(ke) => {
                let key = match eval(ke.clone(), &c)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                if f.grouping {
                    if let Value::Array(a) =
                        map.entry(key).or_insert_with(|| Value::Array(Vec::new()))
                    {
                        a.push(value);
                    }
                } else if map.insert(key.clone(), value).is_some() {
                    return Err(format!(
                        "duplicate key {key:?} in a for expression; use `...` to group values"
                    ));
                }
            }
            None => list.push(value),
        }
    }
    Ok(if f.key_expr.is_some() {
        crate::ordered::sorted(Value::Object(map))
    } else {
        Value::Array(list)
    })
}

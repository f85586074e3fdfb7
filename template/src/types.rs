//! Variable types (`string`, `list(number)`, `object({...})` ...) and conversion to them, as
//! Packer (via cty) converts: strings from the command line become numbers, bools, lists.

use hcl::{Expression, Value};

/// A variable's declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// No constraint.
    Any,
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)`.
    List(Box<Type>),
    /// `set(T)`.
    Set(Box<Type>),
    /// `map(T)`.
    Map(Box<Type>),
    /// `object({ k = T, o = optional(T, default) })`.
    Object(Vec<Field>),
    /// `tuple([T, ...])`.
    Tuple(Vec<Type>),
}

/// Whether `e` makes a set: a call of a set function, or a variable or local of a set type
/// (`sets` holds their `var.x` / `local.y` names). A `dynamic` block's iterator key is then the
/// element, as for cty's sets, not its position.
pub(crate) fn yields_set(
    e: &hcl::edit::expr::Expression,
    sets: &std::collections::BTreeSet<String>,
) -> bool {
    use hcl::edit::expr::{Expression as E, TraversalOperator as Op};
    match e {
        E::Parenthesis(p) => yields_set(p.inner(), sets),
        E::FuncCall(f) => matches!(
            f.name.name.as_str(),
            "toset" | "setunion" | "setintersection" | "setproduct" | "setsubtract"
        ),
        E::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (E::Variable(root), [op]) => match op.value() {
                Op::GetAttr(a) => sets.contains(&format!("{}.{}", root.as_str(), a.as_str())),
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

/// The type cty gives a value (a string, a tuple of its elements' types, an object of its
/// attributes' types); `None` for null, whose type is not known.
#[must_use]
pub fn of_value(v: &Value) -> Option<Type> {
    Some(match v {
        Value::Null => return None,
        Value::String(_) => Type::String,
        Value::Number(_) => Type::Number,
        Value::Bool(_) => Type::Bool,
        Value::Array(a) => {
            Type::Tuple(a.iter().map(|e| of_value(e).unwrap_or(Type::Any)).collect())
        }
        Value::Object(m) => Type::Object(
            m.iter()
                .map(|(k, e)| Field {
                    name: k.clone(),
                    ty: of_value(e).unwrap_or(Type::Any),
                    optional: false,
                    default: None,
                })
                .collect(),
        ),
    })
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::Any => write!(f, "any"),
            Type::String => write!(f, "string"),
            Type::Number => write!(f, "number"),
            Type::Bool => write!(f, "bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object(fields) => {
                write!(f, "object({{")?;
                for (i, fl) in fields.iter().enumerate() {
                    let sep = if i > 0 { ", " } else { "" };
                    if fl.optional {
                        write!(f, "{sep}{}=optional({})", fl.name, fl.ty)?;
                    } else {
                        write!(f, "{sep}{}={}", fl.name, fl.ty)?;
                    }
                }
                write!(f, "}})")
            }
            Type::Tuple(ts) => {
                write!(f, "tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    write!(f, "{}{t}", if i > 0 { ", " } else { "" })?;
                }
                write!(f, "])")
            }
        }
    }
}

/// An attribute of an object type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// `optional(...)`: may be absent.
    pub optional: bool,
    /// `optional(T, default)`: the value used when absent.
    pub default: Option<Value>,
}

/// Reads a type expression.
///
/// # Errors
/// A message saying which type keywords are valid.
pub fn parse(expr: &Expression) -> Result<Type, String> {
    const HINT: &str = "expected a type: string, number, bool, any, list(T), set(T), map(T), object({...}) or tuple([...])";
    match expr {
        Expression::Variable(v) => match v.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "any" => Ok(Type::Any),
            "list" => Ok(Type::List(Box::new(Type::Any))),
            "map" => Ok(Type::Map(Box::new(Type::Any))),
            "set" => Ok(Type::Set(Box::new(Type::Any))),
            other => Err(format!("unknown type {other:?}; {HINT}")),
        },
        Expression::FuncCall(call) => {
            let arg = call
                .args
                .first()
                .ok_or_else(|| format!("{} needs an argument", call.name))?;
            match call.name.name.as_str() {
                "list" => Ok(Type::List(Box::new(parse(arg)?))),
                "set" => Ok(Type::Set(Box::new(parse(arg)?))),
                "map" => Ok(Type::Map(Box::new(parse(arg)?))),
                "object" => match arg {
                    Expression::Object(o) => o
                        .iter()
                        .map(|(k, v)| {
                            let key = match k {
                                hcl::ObjectKey::Identifier(i) => i.to_string(),
                                hcl::ObjectKey::Expression(Expression::String(s)) => s.clone(),
                                _ => return Err("object type keys must be names".to_string()),
                            };
                            let (v, optional, default) = match v {
                                Expression::FuncCall(c) if c.name.name.as_str() == "optional" => {
                                    let t = c.args.first().ok_or("optional needs a type")?;
                                    let d = match c.args.get(1) {
                                        Some(d) => Some(
                                            hcl::eval::Evaluate::evaluate(d, &hcl::eval::Context::new())
                                                .map_err(|e| format!("the default of optional attribute {key:?}: {e}"))?,
                                        ),
                                        None => None,
                                    };
                                    (t, true, d)
                                }
                                v => (v, false, None),
                            };
                            let ty = parse(v)?;
                            let default = match default {
                                Some(d) => Some(convert(d, &ty).map_err(|m| format!("the default of optional attribute {key:?}: {m}"))?),
                                None => None,
                            };
                            Ok(Field { name: key, ty, optional, default })
                        })
                        .collect::<Result<_, _>>()
                        .map(Type::Object),
                    _ => Err("object() takes an object of attribute types".into()),
                },
                "tuple" => match arg {
                    Expression::Array(a) => a
                        .iter()
                        .map(parse)
                        .collect::<Result<_, _>>()
                        .map(Type::Tuple),
                    _ => Err("tuple() takes a list of element types".into()),
                },
                other => Err(format!("unknown type constructor {other:?}; {HINT}")),
            }
        }
        _ => Err(HINT.to_string()),
    }
}

fn kind(v: &Value) -> &'static str {
    crate::functions::type_name(v)
}

/// `items` as a cty set: no duplicates, strings in lexical and numbers in numeric order.
#[must_use]
pub fn set_order(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    if out.iter().all(Value::is_string) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if out.iter().all(Value::is_boolean) {
        out.sort_by_key(|v| v.as_bool());
    } else if out.iter().all(Value::is_number) {
        out.sort_by(|a, b| {
            let f = |v: &Value| v.as_f64().unwrap_or_default();
            f(a).total_cmp(&f(b))
        });
    }
    out
}

/// Converts `v` to `t`, as cty's conversion would.
///
/// # Errors
/// What was required and what was given.
pub fn convert(v: Value, t: &Type) -> Result<Value, String> {
    if matches!(v, Value::Null) {
        return Ok(v);
    }
    match t {
        Type::Any => Ok(v),
        Type::String => match v {
            Value::String(_) => Ok(v),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(format!(
                "a string is required, but a {} was given",
                kind(&other)
            )),
        },
        Type::Number => match v {
            Value::Number(_) => Ok(v),
            // cty parses the whole string: no spaces around the number.
            Value::String(s) => s
                .parse::<f64>()
                .ok()
                .and_then(|f| {
                    if f.fract() == 0.0 && f.abs() < 9e15 {
                        #[allow(clippy::cast_possible_truncation)]
                        Some(Value::from(f as i64))
                    } else {
                        hcl::Number::from_f64(f).map(Value::Number)
                    }
                })
                .ok_or_else(|| format!("a number is required, but {s:?} is not a number")),
            other => Err(format!(
                "a number is required, but a {} was given",
                kind(&other)
            )),
        },
        Type::Bool => match v {
            Value::Bool(_) => Ok(v),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            other => Err(format!(
                "a bool is required, but {} was given",
                describe(&other)
            )),
        },
        Type::Set(e) => {
            // A cty set has no duplicates, and keeps strings in lexical and numbers in
            // numeric order.
            let Value::Array(items) = convert(v, &Type::List(e.clone()))? else {
                return Err("a set is required".into());
            };
            let out = set_order(items);
            Ok(Value::Array(out))
        }
        Type::List(e) => match v {
            Value::Array(a) => a
                .into_iter()
                .enumerate()
                .map(|(i, x)| convert(x, e).map_err(|m| format!("element {i}: {m}")))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            other => Err(format!(
                "a list is required, but a {} was given",
                kind(&other)
            )),
        },
        Type::Tuple(ts) => match v {
            Value::Array(a) if a.len() == ts.len() => a
                .into_iter()
                .zip(ts)
                .enumerate()
                .map(|(i, (x, t))| convert(x, t).map_err(|m| format!("element {i}: {m}")))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            other => Err(format!(
                "a tuple of {} elements is required, but {} was given",
                ts.len(),
                describe(&other)
            )),
        },
        Type::Map(e) => match v {
            Value::Object(o) => o
                .into_iter()
                .map(|(k, x)| {
                    convert(x, e)
                        .map(|x| (k.clone(), x))
                        .map_err(|m| format!("element {k:?}: {m}"))
                })
                .collect::<Result<_, _>>()
                .map(Value::Object),
            other => Err(format!(
                "a map is required, but a {} was given",
                kind(&other)
            )),
        },
        Type::Object(fields) => match v {
            Value::Object(mut o) => {
                let mut out = hcl::Map::new();
                for f in fields {
                    let k = &f.name;
                    let x = match o.shift_remove(k) {
                        Some(Value::Null) | None if f.default.is_some() => {
                            f.default.clone().unwrap_or(Value::Null)
                        }
                        Some(x) => x,
                        None if f.optional => Value::Null,
                        None => return Err(format!("attribute {k:?} is required")),
                    };
                    out.insert(
                        k.clone(),
                        convert(x, &f.ty).map_err(|m| format!("attribute {k:?}: {m}"))?,
                    );
                }
                Ok(Value::Object(out))
            }
            other => Err(format!(
                "an object is required, but a {} was given",
                kind(&other)
            )),
        },
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => format!("a {}", kind(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_like_cty() {
        assert_eq!(
            convert("42".into(), &Type::Number).unwrap(),
            Value::from(42)
        );
        assert_eq!(
            convert(Value::from(42), &Type::String).unwrap(),
            Value::from("42")
        );
        assert_eq!(
            convert("x".into(), &Type::Number).unwrap_err(),
            "a number is required, but \"x\" is not a number"
        );
        assert!(convert(
            Value::Array(vec!["1".into()]),
            &Type::List(Box::new(Type::Number))
        )
        .is_ok());
    }
}

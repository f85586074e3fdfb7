//! Arithmetic and ordering operators as cty defines them: operands are numbers, and a string
//! operand is converted to one (`"5" + 1` is 6, `"10" > "9"` is true); integer results stay exact
//! beyond 64 bits where they fit, and nothing overflows or panics (hcl-rs' own operators panic on
//! `2^32 * 2^32` in debug builds). Before evaluation each such operation is
//! rewritten into a call of one of the internal functions below.

use crate::bignum::{self, Big};
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::expr::BinaryOperator;
use hcl::Value;
use num_traits::Zero;

/// The internal function for `op`, if Kiln implements it.
pub(crate) fn function_for(op: BinaryOperator) -> Option<&'static str> {
    Some(match op {
        BinaryOperator::Plus => "__kiln_add",
        BinaryOperator::Minus => "__kiln_sub",
        BinaryOperator::Mul => "__kiln_mul",
        BinaryOperator::Div => "__kiln_div",
        BinaryOperator::Mod => "__kiln_mod",
        BinaryOperator::Less => "__kiln_lt",
        BinaryOperator::LessEq => "__kiln_le",
        BinaryOperator::Greater => "__kiln_gt",
        BinaryOperator::GreaterEq => "__kiln_ge",
        BinaryOperator::And => "__kiln_and",
        BinaryOperator::Or => "__kiln_or",
        _ => return None,
    })
}

/// A number operand, as cty holds it (see `bignum`): finite, or an infinity (`1/0`).
enum N {
    F(Big),
    Inf(bool),
}

fn operand(v: &Value, op: &str) -> Result<N, String> {
    match v {
        Value::Number(n) => Ok(match bignum::from_number(n) {
            Some(b) => N::F(b),
            None => N::Inf(n.as_f64().is_some_and(|f| f < 0.0)),
        }),
        Value::String(s) => {
            // cty converts a string to a number as it parses one written in a template.
            if let Some(b) = Big::parse(s, bignum::PREC) {
                return Ok(N::F(b));
            }
            Err(format!(
                "Unsuitable value for operand of `{op}`: a number is required, and {s:?} is not a number"
            ))
        }
        Value::Null => Err(format!(
            "Unsuitable value for operand of `{op}`: a number is required, not null"
        )),
        other => Err(format!(
            "Unsuitable value for operand of `{op}`: a number is required, got {}",
            crate::functions::type_name(other)
        )),
    }
}

fn to_f64(n: &N) -> f64 {
    match n {
        N::F(b) => b.to_f64(),
        N::Inf(neg) => {
            if *neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
    }
}

/// A float64 result (of arithmetic with an infinity).
fn float(f: f64) -> Result<Value, String> {
    if f.is_nan() {
        return Err("the result is not a finite number".to_string());
    }
    Ok(crate::functions::num(f))
}

fn arith(args: &FuncArgs, op: &str) -> Result<Value, String> {
    let (a, b) = (operand(&args[0], op)?, operand(&args[1], op)?);
    let (x, y) = match (&a, &b) {
        (N::F(x), N::F(y)) => (x, y),
        // With an infinity, float64 arithmetic gives Go's results.
        _ => {
            let (x, y) = (to_f64(&a), to_f64(&b));
            return float(match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "/" => x / y,
                _ => x % y,
            });
        }
    };
    match op {
        "+" => Ok(bignum::to_value(&x.add(y))),
        "-" => Ok(bignum::to_value(&x.sub(y))),
        "*" => Ok(bignum::to_value(&x.mul(y))),
        "/" => match x.quo(y) {
            Some(q) => Ok(bignum::to_value(&q)),
            None if x.is_zero() => Err("can't divide zero by zero".into()),
            // As cty (Go's big.Float): x / 0 is an infinity, written +Inf or -Inf.
            None => Ok(crate::functions::num(if x.is_neg() != y.is_neg() {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })),
        },
        _ => {
            // cty's modulo: x - y * trunc(x / y).
            let Some(ratio) = x.quo(y) else {
                return Err("can't use modulo with zero".into());
            };
            // (The quotient's integer part is a big.Int, so a zero has no sign: -0 % 5 is -0.)
            let (neg, whole) = ratio.trunc();
            let neg = neg && !whole.is_zero();
            let times = Big::from_int(neg, whole, x.prec());
            Ok(bignum::to_value(&x.sub(&y.mul(&times))))
        }
    }
}

fn compare(args: &FuncArgs, op: &str) -> Result<Value, String> {
    let (a, b) = (operand(&args[0], op)?, operand(&args[1], op)?);
    let ord = match (&a, &b) {
        (N::F(x), N::F(y)) => x.cmp(y),
        _ => to_f64(&a)
            .partial_cmp(&to_f64(&b))
            .ok_or("numbers cannot be compared")?,
    };
    Ok(Value::Bool(match op {
        "<" => ord.is_lt(),
        "<=" => ord.is_le(),
        ">" => ord.is_gt(),
        _ => ord.is_ge(),
    }))
}

fn add(a: FuncArgs) -> Result<Value, String> {
    arith(&a, "+")
}
fn sub(a: FuncArgs) -> Result<Value, String> {
    arith(&a, "-")
}
fn mul(a: FuncArgs) -> Result<Value, String> {
    arith(&a, "*")
}
fn div(a: FuncArgs) -> Result<Value, String> {
    arith(&a, "/")
}
fn rem(a: FuncArgs) -> Result<Value, String> {
    arith(&a, "%")
}
fn lt(a: FuncArgs) -> Result<Value, String> {
    compare(&a, "<")
}
fn le(a: FuncArgs) -> Result<Value, String> {
    compare(&a, "<=")
}
fn gt(a: FuncArgs) -> Result<Value, String> {
    compare(&a, ">")
}
fn ge(a: FuncArgs) -> Result<Value, String> {
    compare(&a, ">=")
}

/// A bool operand: a bool, or the string "true" or "false" (cty converts them).
fn boolean(v: &Value, op: &str) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(format!(
            "Unsuitable value for operand of `{op}`: a bool is required, got {}",
            crate::functions::type_name(other)
        )),
    }
}

fn and(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(boolean(&a[0], "&&")? && boolean(&a[1], "&&")?))
}
fn or(a: FuncArgs) -> Result<Value, String> {
    let (x, y) = (boolean(&a[0], "||")?, boolean(&a[1], "||")?);
    Ok(Value::Bool(x || y))
}
fn not(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(!boolean(&a[0], "!")?))
}
fn neg(a: FuncArgs) -> Result<Value, String> {
    match operand(&a[0], "-")? {
        N::F(b) => Ok(bignum::to_value(&b.neg())),
        N::Inf(neg) => float(if neg {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        }),
    }
}

/// The internal function for a unary operator (`-x`, `!x`).
pub(crate) fn unary_function_for(op: hcl::expr::UnaryOperator) -> &'static str {
    match op {
        hcl::expr::UnaryOperator::Neg => "__kiln_neg",
        hcl::expr::UnaryOperator::Not => "__kiln_not",
    }
}

/// Declares the operator functions in `ctx`.
/// The internal function for `collection[key]` (see `ordered::index_calls`).
pub(crate) const INDEX_FN: &str = "__kiln_index";

/// `c[k]` as HCL's `Index`: a list's key is converted to a whole number, a map's or an
/// object's to a string.
fn index(a: FuncArgs) -> Result<Value, String> {
    const MISSING: &str = "The given key does not identify an element in this collection value";
    let (c, k) = (&a[0], &a[1]);
    match c {
        Value::Array(items) => {
            let n = match k {
                Value::Number(n) => bignum::from_number(n),
                Value::String(s) => Big::parse(s, bignum::PREC),
                Value::Null => return Err("Can't use a null value as an indexing key".into()),
                _ => None,
            }
            .ok_or_else(|| format!("{MISSING}: a number is required"))?;
            let f = n.to_f64();
            if !f.is_finite() || f.fract() != 0.0 {
                return Err(format!("{MISSING}: a whole number is required"));
            }
            if f < 0.0 || f >= items.len() as f64 {
                return Err(MISSING.to_string());
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(items[f as usize].clone())
        }
        Value::Object(m) => {
            let key = match k {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => return Err("Can't use a null value as an indexing key".into()),
                _ => return Err(format!("{MISSING}: a string is required")),
            };
            m.get(&key).cloned().ok_or_else(|| MISSING.to_string())
        }
        Value::Null => Err("Can't access elements of a null value".into()),
        _ => Err("This value does not have any indices".into()),
    }
}

pub(crate) fn declare(ctx: &mut Context) {
    ctx.declare_func(
        INDEX_FN,
        FuncDef::builder()
            .param(ParamType::Any)
            .param(ParamType::Any)
            .build(index),
    );
    for (name, f) in [("__kiln_not", not as hcl::eval::Func), ("__kiln_neg", neg)] {
        ctx.declare_func(name, FuncDef::builder().param(ParamType::Any).build(f));
    }
    let funcs: [(&str, hcl::eval::Func); 11] = [
        ("__kiln_and", and),
        ("__kiln_or", or),
        ("__kiln_add", add),
        ("__kiln_sub", sub),
        ("__kiln_mul", mul),
        ("__kiln_div", div),
        ("__kiln_mod", rem),
        ("__kiln_lt", lt),
        ("__kiln_le", le),
        ("__kiln_gt", gt),
        ("__kiln_ge", ge),
    ];
    for (name, f) in funcs {
        ctx.declare_func(
            name,
            FuncDef::builder()
                .param(ParamType::Any)
                .param(ParamType::Any)
                .build(f),
        );
    }
}

#[cfg(test)]
mod tests {
    use hcl::eval::{Context, Evaluate};

    fn eval(src: &str) -> Result<String, String> {
        let e: hcl::Expression = src.parse().unwrap();
        let mut ctx = Context::new();
        crate::functions::declare(&mut ctx, false);
        let e = crate::ordered::rewrite(e);
        e.evaluate(&ctx)
            .map(|v| match v {
                hcl::Value::Number(n) => n.to_string(),
                v => serde_json::to_string(&v).unwrap(),
            })
            .map_err(|e| e.to_string())
    }

    fn eval_value(src: &str) -> hcl::Value {
        let e: hcl::Expression = src.parse().unwrap();
        let mut ctx = Context::new();
        crate::functions::declare(&mut ctx, false);
        crate::ordered::rewrite(e).evaluate(&ctx).unwrap()
    }

    #[test]
    fn operators_as_cty() {
        assert_eq!(
            eval("4294967296 * 4294967296").unwrap(),
            "18446744073709551616"
        );
        assert_eq!(
            eval("9223372036854775807 + 1").unwrap(),
            "9223372036854775808"
        );
        assert_eq!(eval("\"5\" + 1").unwrap(), "6");
        assert_eq!(eval("\"10\" > \"9\"").unwrap(), "true");
        assert_eq!(eval("10 / 4").unwrap(), "2.5");
        assert_eq!(eval("10 / 2").unwrap(), "5");
        assert_eq!(eval("-7 % 3").unwrap(), "-1");
        assert_eq!(
            hcl::format::to_string(&eval_value("1 / 0")).unwrap(),
            "+Inf"
        );
        assert!(eval("0 / 0").unwrap_err().contains("zero by zero"));
        assert!(eval("\"x\" + 1")
            .unwrap_err()
            .contains("a number is required"));
    }
}

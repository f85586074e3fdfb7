//! String templates (`"a-${x}"`, heredocs, `%{ if }` and `%{ for }` directives) turned into
//! ordinary expressions before evaluation, so that what is inside them follows the same rules as
//! any other expression (see `ordered::rewrite`: maps in key order, cty's operators, `convert`,
//! strings in NFC), and each interpolated value is made a string as cty does it.
//!
//! The whitespace stripping of `~` markers follows hcl-rs' own template evaluation: a literal
//! next to a stripping marker loses its spaces up to and including one line break.

use crate::ordered::rewrite;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::expr::{Conditional, Expression, ForExpr, FuncCall, TemplateExpr};
use hcl::template::{Directive, Element, Strip, Template};
use hcl::{Identifier, Value};

fn call(name: &str, args: Vec<Expression>) -> Expression {
    let mut b = FuncCall::builder(Identifier::unchecked(name));
    for a in args {
        b = b.arg(a);
    }
    Expression::from(b.build())
}

fn strip_literal(mut literal: &str, prev: Strip, next: Strip) -> &str {
    fn is_space(ch: char) -> bool {
        ch.is_whitespace() && ch != '\r' && ch != '\n'
    }
    if prev.strip_end() {
        let s = literal.trim_start_matches(is_space);
        literal = s
            .strip_prefix("\r\n")
            .or_else(|| s.strip_prefix('\n'))
            .unwrap_or(s);
    }
    if next.strip_start() {
        let s = literal.trim_end_matches(is_space);
        literal = s
            .strip_suffix("\r\n")
            .or_else(|| s.strip_suffix('\n'))
            .unwrap_or(s);
    }
    literal
}

fn element_strip(e: &Element) -> Strip {
    match e {
        Element::Literal(_) => Strip::None,
        Element::Interpolation(i) => i.strip,
        Element::Directive(d) => match d.as_ref() {
            Directive::If(i) => {
                // As hcl-rs: an element's strip is its opening and closing markers' sides.
                let start = i.if_strip.strip_start();
                let end = i.endif_strip.strip_end();
                Strip::from((start, end))
            }
            Directive::For(f) => {
                Strip::from((f.for_strip.strip_start(), f.endfor_strip.strip_end()))
            }
        },
    }
}

fn parts(
    t: &Template,
    prev_strip: Strip,
    next_strip: Strip,
    unescape: bool,
    out: &mut Vec<Expression>,
) {
    let elems = t.elements();
    let len = elems.len();
    // hcl-rs decodes the escapes of a quoted string's top level only; inside directives the
    // literals of a quoted template still hold them.
    let quoted = unescape;
    for (i, e) in elems.iter().enumerate() {
        let prev = if i == 0 {
            prev_strip
        } else {
            element_strip(&elems[i - 1])
        };
        let next = if i + 1 == len {
            next_strip
        } else {
            element_strip(&elems[i + 1])
        };
        match e {
            Element::Literal(l) => {
                let s = strip_literal(l, prev, next);
                if !s.is_empty() {
                    let s = if unescape {
                        unescape_quoted(s)
                    } else {
                        s.to_string()
                    };
                    out.push(Expression::String(crate::ordered::nfc(s)));
                }
            }
            Element::Interpolation(it) => out.push(call(STR, vec![rewrite(it.expr.clone())])),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(d) => {
                    let next_of_true = if d.false_template.is_some() {
                        d.else_strip
                    } else {
                        d.endif_strip
                    };
                    let t = concat(&d.true_template, d.if_strip, next_of_true, quoted);
                    let f = d.false_template.as_ref().map_or_else(
                        || Expression::String(String::new()),
                        |f| concat(f, d.else_strip, d.endif_strip, quoted),
                    );
                    out.push(Expression::from(Conditional::new(
                        call(BOOL, vec![rewrite(d.cond_expr.clone())]),
                        t,
                        f,
                    )));
                }
                Directive::For(d) => {
                    let body = concat(&d.template, d.for_strip, d.endfor_strip, quoted);
                    let mut f = ForExpr::new(
                        d.value_var.clone(),
                        rewrite(d.collection_expr.clone()),
                        body,
                    );
                    if let Some(k) = &d.key_var {
                        f = f.with_key_var(k.clone());
                    }
                    out.push(call(JOIN, vec![Expression::from(f)]));
                }
            },
        }
    }
}

fn concat(t: &Template, prev: Strip, next: Strip, quoted: bool) -> Expression {
    let mut out = Vec::new();
    parts(t, prev, next, quoted, &mut out);
    match out.len() {
        0 => Expression::String(String::new()),
        1 if matches!(out[0], Expression::String(_)) => out.remove(0),
        _ => call(CONCAT, out),
    }
}

/// The expression a template stands for; `None` if it cannot be read (left to hcl-rs then).
pub fn to_expr(t: &TemplateExpr) -> Option<Expression> {
    // Parsed here (not by `Template::from_expr`) so that its number literals get cty's exact
    // values from their text, as those outside templates do.
    let text = match t {
        TemplateExpr::QuotedString(s) => s.as_str(),
        TemplateExpr::Heredoc(h) => h.template.as_str(),
    };
    let mut edit: hcl::edit::template::Template = text.parse().ok()?;
    crate::eval::exact_numbers_in_template(&mut edit, text);
    let tpl: Template = edit.into();
    // A template that is one interpolation and nothing else is that value, not a string.
    if let [Element::Interpolation(i)] = tpl.elements() {
        return Some(rewrite(i.expr.clone()));
    }
    let quoted = matches!(t, TemplateExpr::QuotedString(_));
    let mut out = Vec::new();
    // The top level is decoded already; only directive bodies need it (see `parts`).
    parts_top(&tpl, quoted, &mut out);
    Some(match out.len() {
        0 => Expression::String(String::new()),
        1 if matches!(out[0], Expression::String(_)) => out.remove(0),
        _ => call(CONCAT, out),
    })
}

fn parts_top(tpl: &Template, quoted: bool, out: &mut Vec<Expression>) {
    // Top-level literals are not unescaped again, but directives below are.
    let elems = tpl.elements();
    let len = elems.len();
    for (i, e) in elems.iter().enumerate() {
        let one = Template::new().add_element(e.clone());
        let prev = if i == 0 {
            Strip::None
        } else {
            element_strip(&elems[i - 1])
        };
        let next = if i + 1 == len {
            Strip::None
        } else {
            element_strip(&elems[i + 1])
        };
        match e {
            Element::Literal(_) | Element::Interpolation(_) => parts(&one, prev, next, false, out),
            Element::Directive(_) => parts(&one, prev, next, quoted, out),
        }
    }
}

/// HCL's escapes in a quoted string: `\n`, `\r`, `\t`, `\"`, `\\`, `\uNNNN`, `\UNNNNNNNN`.
fn unescape_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(u @ ('u' | 'U')) => {
                let n = if u == 'u' { 4 } else { 8 };
                let hex: String = (0..n).filter_map(|_| it.next()).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(u);
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

const STR: &str = "__kiln_tmpl_str";
const CONCAT: &str = "__kiln_tmpl_concat";
const JOIN: &str = "__kiln_tmpl_join";
const BOOL: &str = "__kiln_tmpl_bool";

/// A value interpolated into a string, as cty converts it.
fn interpolated(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("Invalid template interpolation value: the expression result is null; a null value cannot be included in a string template".into()),
        other => Err(format!(
            "Invalid template interpolation value: cannot include a {} in a string template; a string is required",
            crate::functions::type_name(other)
        )),
    }
}

fn str_fn(a: FuncArgs) -> Result<Value, String> {
    interpolated(&a[0]).map(Value::from)
}

/// The values, each made a string, one after the other.
fn concat_values(items: &[Value]) -> Result<Value, String> {
    let mut s = String::new();
    for v in items {
        s.push_str(&interpolated(v)?);
    }
    Ok(Value::from(s))
}

fn concat_fn(a: FuncArgs) -> Result<Value, String> {
    concat_values(&a)
}

fn join_fn(a: FuncArgs) -> Result<Value, String> {
    match &a[0] {
        Value::Array(items) => concat_values(items),
        other => interpolated(other).map(Value::from),
    }
}

/// A `%{ if }` condition: a bool, or the strings "true" and "false" (cty converts them).
fn bool_fn(a: FuncArgs) -> Result<Value, String> {
    match &a[0] {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        other => Err(format!(
            "the condition must be a bool, got {}",
            crate::functions::type_name(other)
        )),
    }
}

/// Declares the functions templates are rewritten into.
pub(crate) fn declare(ctx: &mut Context) {
    ctx.declare_func(STR, FuncDef::builder().param(ParamType::Any).build(str_fn));
    ctx.declare_func(
        CONCAT,
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(concat_fn),
    );
    ctx.declare_func(
        JOIN,
        FuncDef::builder().param(ParamType::Any).build(join_fn),
    );
    ctx.declare_func(
        BOOL,
        FuncDef::builder().param(ParamType::Any).build(bool_fn),
    );
}

#[cfg(test)]
mod tests {
    use hcl::eval::{Context, Evaluate};

    fn eval(src: &str) -> String {
        let e: hcl::Expression = src.parse().unwrap();
        let mut ctx = Context::new();
        crate::functions::declare(&mut ctx, false);
        let v = crate::ordered::rewrite(e).evaluate(&ctx).unwrap();
        match v {
            hcl::Value::String(s) => s,
            other => format!("<{other}>"),
        }
    }

    #[test]
    fn templates_follow_expression_rules() {
        assert_eq!(eval(r#""n=${"5" + 1}""#), "n=6");
        assert_eq!(eval(r#""${1}""#), "<1>");
        assert_eq!(
            eval(r#""%{ for k, v in zipmap(["y", "x"], [1, 2]) }${k}${v}%{ endfor }""#),
            "x2y1"
        );
        assert_eq!(eval(r#""%{ if "true" }yes%{ else }no%{ endif }""#), "yes");
        assert_eq!(eval(r#""a %{~ if true ~} b %{~ endif ~} c""#), "abc");
        assert_eq!(
            eval(r#""${jsonencode({b = 1, a = 2})}""#),
            r#"{"a":2,"b":1}"#
        );
        assert_eq!(
            eval(r#""a\tb%{ for x in ["1"] }\n${x}\u00e9%{ endfor }""#),
            "a\tb\n1é"
        );
    }
}

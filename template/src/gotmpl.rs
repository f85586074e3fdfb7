//! Packer's template engine for legacy JSON templates: Go `text/template` actions with Packer's
//! functions (`{{user `name`}}`, `{{isotime "2006-01-02"}}`, `{{timestamp | clean_resource_name}}`).
//!
//! Actions that use the data dot (`{{ .Path }}`, `{{.HTTPIP}}`) belong to the plugin that renders
//! the field at run time, so they are kept verbatim.

use std::collections::BTreeMap;
use time::OffsetDateTime;

/// What the functions can see.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// User variables (`{{user `x`}}`).
    pub user: BTreeMap<String, String>,
    /// Whether `{{user `x`}}` of a variable set nowhere is an error (in variable defaults, as
    /// Packer); elsewhere it is `""`.
    pub user_strict: bool,
    /// The environment, when `{{env}}` is allowed (only in the variables section).
    pub env: Option<BTreeMap<String, String>>,
    /// The build's name and builder type, once known.
    pub build_name: Option<String>,
    /// See `build_name`.
    pub build_type: Option<String>,
    /// `{{template_dir}}`.
    pub template_dir: String,
    /// `{{pwd}}`.
    pub pwd: String,
    /// `{{packer_version}}`.
    pub packer_version: String,
    /// The builder's generated values for `{{build `Host`}}`; `None` before the build runs.
    pub generated: Option<BTreeMap<String, String>>,
    /// The run's fixed time (`timestamp`, `isotime`).
    pub now: Option<OffsetDateTime>,
    /// The fields being rendered belong to an amazon builder, whose `clean_resource_name` keeps
    /// what an AMI name may hold instead of Packer's general rule.
    pub amazon: bool,
}

/// Whether `what` (`builder "amazon-ebs"`, `source "amazon-ebs"`) names an amazon builder.
#[must_use]
pub fn is_amazon_builder(what: &str) -> bool {
    (what.starts_with("builder ") || what.starts_with("source ")) && what.contains("\"amazon-")
}

/// The amazon plugins' rule: letters, digits and `()[] ./-'@_` stay, every other byte is `-`,
/// and nothing is cut.
fn clean_ami_name(s: &str) -> String {
    const ALLOWED: &[u8] = b"()[] ./-'@_";
    let bytes: Vec<u8> = s
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || ALLOWED.contains(&b) {
                b
            } else {
                b'-'
            }
        })
        .collect();
    String::from_utf8(bytes).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Field(String),
    Str(String),
    Num(i64),
    /// A number with a fraction (`3.14`).
    Float(f64),
    Pipe,
    Open,
    Close,
    /// `$name`, or `$` alone (the template's data).
    Var(String),
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `,` between `range` variables.
    Comma,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            '$' => {
                let start = i;
                i += 1;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Var(b[start..i].iter().collect()));
            }
            ':' if b.get(i + 1) == Some(&'=') => {
                out.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '`' => {
                let end = b[i + 1..]
                    .iter()
                    .position(|&x| x == '`')
                    .ok_or("unterminated raw string")?;
                out.push(Tok::Str(b[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(&ch) = b.get(i) else {
                        return Err("unterminated quoted string".into());
                    };
                    i += 1;
                    match ch {
                        '"' => break,
                        '\\' => {
                            let e = b.get(i).copied().ok_or("unterminated quoted string")?;
                            i += 1;
                            s.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                        other => s.push(other),
                    }
                }
                out.push(Tok::Str(s));
            }
            '.' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Field(b[start..i].iter().collect()));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i + 1 < b.len() && b[i] == '.' && b[i + 1].is_ascii_digit() {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    let s: String = b[start..i].iter().collect();
                    out.push(Tok::Float(
                        s.parse().map_err(|_| format!("bad number {s:?}"))?,
                    ));
                    continue;
                }
                let s: String = b[start..i].iter().collect();
                out.push(Tok::Num(
                    s.parse().map_err(|_| format!("bad number {s:?}"))?,
                ));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(b[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    S(String),
    N(i64),
    F(f64),
    B(bool),
}

impl Val {
    /// Go's name of the value's type, for errors.
    fn go_type(&self) -> &'static str {
        match self {
            Val::S(_) => "string",
            Val::N(_) => "int",
            Val::F(_) => "float64",
            Val::B(_) => "bool",
        }
    }

    fn text(&self) -> String {
        match self {
            Val::S(s) => s.clone(),
            Val::N(n) => n.to_string(),
            Val::F(f) => crate::gofmt::format("%v", &[hcl::Value::from(*f)]).unwrap_or_default(),
            Val::B(b) => b.to_string(),
        }
    }

    /// Go's truth: false, 0 and "" are false.
    fn truthy(&self) -> bool {
        match self {
            Val::S(s) => !s.is_empty(),
            Val::N(n) => *n != 0,
            Val::F(f) => *f != 0.0,
            Val::B(b) => *b,
        }
    }
}

/// Go's `html` escaper.
fn html_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '\0' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Go's `js` escaper.
fn js_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

fn compare(a: &Val, b: &Val) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Val::N(x), Val::N(y)) => Ok(x.cmp(y)),
        (Val::S(x), Val::S(y)) => Ok(x.cmp(y)),
        _ => Err("incompatible types for comparison".into()),
    }
}

fn to_value(v: &Val) -> hcl::Value {
    match v {
        Val::S(s) => hcl::Value::from(s.clone()),
        Val::N(n) => hcl::Value::from(*n),
        Val::F(f) => hcl::Value::from(*f),
        Val::B(b) => hcl::Value::from(*b),
    }
}

/// `fmt` with each `%c` made `%s`, its operand (a number) replaced by the character.
fn chars_for_c(fmt: &str, args: &mut [hcl::Value]) -> String {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut n = 0;
    while let Some(c) = it.next() {
        out.push(c);
        if c != '%' {
            continue;
        }
        if it.peek() == Some(&'%') {
            out.push(it.next().unwrap_or('%'));
            continue;
        }
        while let Some(&f) = it.peek() {
            if f.is_ascii_digit() || "+-# .".contains(f) {
                out.push(f);
                it.next();
            } else {
                break;
            }
        }
        match it.next() {
            Some('c') => {
                if let Some(ch) = args
                    .get(n)
                    .and_then(hcl::Value::as_u64)
                    .and_then(|x| u32::try_from(x).ok())
                    .and_then(char::from_u32)
                {
                    args[n] = hcl::Value::from(ch.to_string());
                }
                out.push('s');
            }
            Some(v) => out.push(v),
            None => {}
        }
        n += 1;
    }
    out
}

/// The functions Packer's template engine knows, for "did you mean" and checks.
pub const FUNCTIONS: &[&str] = &[
    "build_name",
    "build_type",
    "env",
    "isotime",
    "strftime",
    "pwd",
    "split",
    "template_dir",
    "timestamp",
    "uuid",
    "user",
    "packer_version",
    "consul_key",
    "vault",
    "sed",
    "build",
    "aws_secretsmanager",
    "aws_secretsmanager_raw",
    "replace",
    "replace_all",
    "upper",
    "lower",
    "clean_resource_name",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "printf",
    "print",
    "println",
    "html",
    "js",
    "urlquery",
];

/// An action's pipeline as a tree: `{{ f a (g b) | h }}` is `h(f(a, g(b)))`.
#[derive(Debug, Clone)]
enum Node {
    Str(String),
    Num(i64),
    Float(f64),
    Call(String, Vec<Node>),
    /// `$x`
    Var(String),
    /// `.` inside `with` or `range`.
    Dot,
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
}

impl Parser<'_> {
    /// Parses a whole action.
    fn parse(toks: &[Tok]) -> Result<Node, String> {
        let mut p = Parser { toks, pos: 0 };
        let n = p.pipeline()?;
        match toks.get(p.pos) {
            None => Ok(n),
            Some(t) => Err(format!("unexpected {t:?}")),
        }
    }

    fn pipeline(&mut self) -> Result<Node, String> {
        let mut v = self.command(None)?;
        while self.toks.get(self.pos) == Some(&Tok::Pipe) {
            self.pos += 1;
            v = self.command(Some(v))?;
        }
        Ok(v)
    }

    fn operand(&mut self) -> Result<Option<Node>, String> {
        let Some(t) = self.toks.get(self.pos).cloned() else {
            return Ok(None);
        };
        Ok(match t {
            Tok::Str(s) => {
                self.pos += 1;
                Some(Node::Str(s))
            }
            Tok::Num(n) => {
                self.pos += 1;
                Some(Node::Num(n))
            }
            Tok::Float(f) => {
                self.pos += 1;
                Some(Node::Float(f))
            }
            Tok::Open => {
                self.pos += 1;
                let v = self.pipeline()?;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err("missing )".into());
                }
                self.pos += 1;
                Some(v)
            }
            Tok::Ident(name) => {
                // A nested function call without parentheses takes no arguments.
                self.pos += 1;
                Some(Node::Call(name, Vec::new()))
            }
            Tok::Var(v) => {
                self.pos += 1;
                Some(Node::Var(v))
            }
            Tok::Field(f) if f.is_empty() => {
                self.pos += 1;
                Some(Node::Dot)
            }
            Tok::Field(f) => return Err(format!("the data field .{f} is not available here")),
            Tok::Pipe | Tok::Close | Tok::Declare | Tok::Assign | Tok::Comma => None,
        })
    }

    fn command(&mut self, piped: Option<Node>) -> Result<Node, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                let mut args = Vec::new();
                while let Some(v) = self.operand()? {
                    args.push(v);
                }
                args.extend(piped);
                Ok(Node::Call(name, args))
            }
            _ => {
                let v = self.operand()?.ok_or("empty command")?;
                if piped.is_some() {
                    return Err("only a function can follow |".into());
                }
                Ok(v)
            }
        }
    }
}

/// Variables (`{{$x := ...}}`) and the dot of a `with` or `range`, while a template renders.
#[derive(Default)]
struct Scope {
    vars: Vec<(String, Val)>,
    dot: Option<Val>,
}

impl Scope {
    fn get(&self, name: &str) -> Result<Val, String> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("undefined variable {name:?}"))
    }
}

fn eval(n: &Node, ctx: &Ctx, sc: &Scope) -> Result<Val, String> {
    match n {
        Node::Str(s) => Ok(Val::S(s.clone())),
        Node::Num(x) => Ok(Val::N(*x)),
        Node::Float(x) => Ok(Val::F(*x)),
        Node::Var(v) if v == "$" => Err("the template's data ($) is not available here".into()),
        Node::Var(v) => sc.get(v),
        Node::Dot => sc
            .dot
            .clone()
            .ok_or_else(|| "the data dot is not available here".into()),
        Node::Call(name, args) => {
            let args = args
                .iter()
                .map(|a| eval(a, ctx, sc))
                .collect::<Result<Vec<_>, _>>()?;
            call(name, args, ctx)
        }
    }
}

fn arg(args: &[Val], i: usize, f: &str) -> Result<String, String> {
    args.get(i)
        .map(Val::text)
        .ok_or_else(|| format!("{f}: wrong number of arguments"))
}

fn call(name: &str, args: Vec<Val>, ctx: &Ctx) -> Result<Val, String> {
    let now = ctx.now.unwrap_or_else(OffsetDateTime::now_utc);
    let s = |x: String| Ok(Val::S(x));
    let two = || -> Result<(Val, Val), String> {
        match (args.first(), args.get(1)) {
            (Some(a), Some(b)) => Ok((a.clone(), b.clone())),
            _ => Err(format!("{name}: wrong number of arguments")),
        }
    };
    match name {
        "true" => Ok(Val::B(true)),
        "false" => Ok(Val::B(false)),
        // Go's text/template builtins.
        "eq" => {
            let first = args.first().ok_or("eq: missing argument")?;
            if args.len() < 2 {
                return Err("eq: missing argument for comparison".into());
            }
            Ok(Val::B(args[1..].iter().any(|b| b == first)))
        }
        "ne" => {
            let (a, b) = two()?;
            Ok(Val::B(a != b))
        }
        "lt" | "le" | "gt" | "ge" => {
            let (a, b) = two()?;
            let o = compare(&a, &b)?;
            Ok(Val::B(match name {
                "lt" => o.is_lt(),
                "le" => o.is_le(),
                "gt" => o.is_gt(),
                _ => o.is_ge(),
            }))
        }
        "and" => {
            let mut last = Val::B(true);
            for a in args {
                if !a.truthy() {
                    return Ok(a);
                }
                last = a;
            }
            Ok(last)
        }
        "or" => {
            let mut last = Val::B(false);
            for a in args {
                if a.truthy() {
                    return Ok(a);
                }
                last = a;
            }
            Ok(last)
        }
        "not" => Ok(Val::B(!args.first().ok_or("not: missing argument")?.truthy())),
        // Go's index and slice on a string: bytes.
        "index" | "slice" => {
            let x = args.first().ok_or_else(|| format!("{name}: wrong number of arguments"))?;
            let Val::S(text) = x else {
                return Err(format!("error calling {name}: can't index item of type {}", x.go_type()));
            };
            let bytes = text.as_bytes();
            let mut at = Vec::new();
            for a in &args[1..] {
                match a {
                    Val::N(n) => at.push(*n),
                    other => {
                        return Err(format!(
                            "error calling {name}: cannot index slice/array with type {}",
                            other.go_type()
                        ))
                    }
                }
            }
            let out_of_range = |n: i64| format!("error calling {name}: index out of range: {n}");
            let pos = |n: i64, max: usize| {
                usize::try_from(n)
                    .ok()
                    .filter(|&p| p <= max)
                    .ok_or_else(|| out_of_range(n))
            };
            if name == "index" {
                match at.as_slice() {
                    [] => Ok(x.clone()),
                    [n] => {
                        let p = pos(*n, bytes.len())?;
                        bytes
                            .get(p)
                            .map(|b| Val::N(i64::from(*b)))
                            .ok_or_else(|| out_of_range(*n))
                    }
                    _ => Err("error calling index: can't index item of type uint8".into()),
                }
            } else {
                let (from, to) = match at.as_slice() {
                    [] => (0, bytes.len()),
                    [a] => (pos(*a, bytes.len())?, bytes.len()),
                    [a, b] => (pos(*a, bytes.len())?, pos(*b, bytes.len())?),
                    _ => return Err("error calling slice: cannot 3-index slice a string".into()),
                };
                if from > to {
                    return Err(format!("error calling slice: invalid slice index: {from} > {to}"));
                }
                Ok(Val::S(String::from_utf8_lossy(&bytes[from..to]).into_owned()))
            }
        }
        "len" => Ok(Val::N(
            i64::try_from(arg(&args, 0, name)?.len()).unwrap_or(i64::MAX),
        )),
        "printf" => {
            let fmt = arg(&args, 0, name)?;
            let mut rest: Vec<hcl::Value> = args.iter().skip(1).map(to_value).collect();
            // Go's fmt has %c (a code point, as `index` gives a byte); cty's format, which
            // does the rest, does not: it becomes %s of the character.
            let fmt = chars_for_c(&fmt, &mut rest);
            crate::gofmt::format(&fmt, &rest).map(Val::S)
        }
        "print" | "println" => {
            // Go's fmt.Sprint: a space between operands when neither is a string.
            let mut out = String::new();
            for (i, a) in args.iter().enumerate() {
                if i > 0
                    && (name == "println"
                        || (!matches!(a, Val::S(_)) && !matches!(args[i - 1], Val::S(_))))
                {
                    out.push(' ');
                }
                out.push_str(&a.text());
            }
            if name == "println" {
                out.push('\n');
            }
            s(out)
        }
        "html" => s(html_escape(&args.iter().map(Val::text).collect::<String>())),
        "js" => s(js_escape(&args.iter().map(Val::text).collect::<String>())),
        "urlquery" => s(crate::gostr::query_escape(
            &args.iter().map(Val::text).collect::<String>(),
        )),
        "user" => {
            let k = arg(&args, 0, name)?;
            match ctx.user.get(&k) {
                Some(v) => s(v.clone()),
                None if ctx.user_strict => Err(format!("variable not set: {k}")),
                None => s(String::new()),
            }
        }
        "env" => {
            let k = arg(&args, 0, name)?;
            match &ctx.env {
                Some(env) => s(env.get(&k).cloned().unwrap_or_default()),
                None => Err("env vars are not allowed here: use {{env}} in the variables section and {{user}} elsewhere".into()),
            }
        }
        "build_name" => ctx
            .build_name
            .clone()
            .map(Val::S)
            .ok_or_else(|| "build_name not available".into()),
        "build_type" => ctx
            .build_type
            .clone()
            .map(Val::S)
            .ok_or_else(|| "build_type not available".into()),
        "template_dir" => s(ctx.template_dir.clone()),
        "pwd" => s(ctx.pwd.clone()),
        "packer_version" => s(ctx.packer_version.clone()),
        "timestamp" => s(now.unix_timestamp().to_string()),
        "uuid" => s(uuid::Uuid::new_v4().to_string()),
        "isotime" => {
            let layout = args.first().map_or_else(
                || "2006-01-02T15:04:05Z07:00".to_string(),
                Val::text,
            );
            s(go_time_format(now, &layout))
        }
        "strftime" => s(strftime(now, &arg(&args, 0, name)?)),
        "split" => {
            let (text, sep) = (arg(&args, 0, name)?, arg(&args, 1, name)?);
            let i = match args.get(2) {
                Some(Val::N(n)) => usize::try_from(*n).map_err(|_| "split: negative index")?,
                Some(Val::S(x)) => x.parse().map_err(|_| format!("split: bad index {x:?}"))?,
                Some(Val::B(_) | Val::F(_)) => {
                    return Err("split: the index must be a whole number".into())
                }
                None => return Err("split: wrong number of arguments".into()),
            };
            // Go's strings.Split: an empty separator splits after each character.
            let parts: Vec<String> = if sep.is_empty() {
                text.chars().map(String::from).collect()
            } else {
                text.split(sep.as_str()).map(String::from).collect()
            };
            parts.get(i).map(|p| Val::S(p.clone())).ok_or_else(|| {
                format!(
                    "the substring {i} was unavailable using the separator value, {sep}, only {} values were found",
                    parts.len()
                )
            })
        }
        "replace" => {
            let (old, new) = (arg(&args, 0, name)?, arg(&args, 1, name)?);
            let n = match args.get(2) {
                Some(Val::N(n)) => *n,
                Some(Val::S(x)) => x.parse().map_err(|_| format!("replace: bad count {x:?}"))?,
                Some(Val::B(_) | Val::F(_)) => {
                    return Err("replace: the count must be a whole number".into())
                }
                None => return Err("replace: wrong number of arguments".into()),
            };
            let src = arg(&args, 3, name)?;
            s(if n < 0 {
                src.replace(&old, &new)
            } else {
                src.replacen(&old, &new, usize::try_from(n).unwrap_or(0))
            })
        }
        "replace_all" => {
            let (old, new, src) = (arg(&args, 0, name)?, arg(&args, 1, name)?, arg(&args, 2, name)?);
            s(src.replace(&old, &new))
        }
        "upper" => s(crate::gostr::upper(&arg(&args, 0, name)?)),
        "lower" => s(crate::gostr::lower(&arg(&args, 0, name)?)),
        "clean_resource_name" if ctx.amazon => {
            s(clean_ami_name(&arg(&args, 0, name)?))
        }
        "clean_resource_name" => {
            let cleaned: String = arg(&args, 0, name)?
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
                .take(63)
                .collect();
            s(cleaned)
        }
        "build" => {
            let k = arg(&args, 0, name)?;
            match &ctx.generated {
                Some(g) => g
                    .get(&k)
                    .cloned()
                    .map(Val::S)
                    .ok_or_else(|| format!("the build variable {k} is not provided by this builder")),
                // Not known before the build: a placeholder the plugin will not mistake.
                None => s(format!("{{{{ .{k} }}}}")),
            }
        }
        "sed" => Err("template function `sed` is deprecated; use `replace` or `replace_all` instead".into()),
        "consul_key" | "vault" | "aws_secretsmanager" | "aws_secretsmanager_raw" => Err(format!(
            "the {name} function is not available in Kiln: no secret store is configured; pass the value with -var instead"
        )),
        other => {
            let mut m = format!("function {other:?} not defined");
            if let Some(sugg) = kiln_core::config::suggest(other, FUNCTIONS.iter().copied()) {
                m.push_str(&format!("; did you mean {sugg:?}?"));
            }
            Err(m)
        }
    }
}

/// Renders `text`. Actions that use the data dot are kept for the plugin to render.
///
/// # Errors
/// A malformed action or a failing function, with the action's text.
pub fn render(text: &str, ctx: &Ctx) -> Result<String, String> {
    let segs = segments(text)?;
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut sc = Scope::default();
    render_block(&segs, &mut i, ctx, &mut sc, &mut out, text, true)?;
    if i < segs.len() {
        return Err(format!(
            "template: unexpected {{{{{}}}}}",
            segs[i].action().unwrap_or("")
        ));
    }
    Ok(out)
}

/// A piece of a template: literal text, or an action with its source text (kept for actions
/// that belong to the plugin, such as `{{ .Path }}`).
enum Seg<'a> {
    Text(&'a str),
    Action { inner: &'a str, raw: &'a str },
}

impl Seg<'_> {
    fn action(&self) -> Option<&str> {
        match self {
            Seg::Action { inner, .. } => Some(inner.trim()),
            Seg::Text(_) => None,
        }
    }
}

/// Where the action that `after` (the text after `{{`) begins ends: the first `}}` outside a
/// quoted string (`"}}"`), a raw string (`` `}}` ``) or a character constant, as Go's lexer reads.
fn action_end(after: &str) -> Option<usize> {
    // A comment, `{{/* ... */}}` (or `{{- /* ... */ -}}`), holds anything.
    let lead = after.len() - after.trim_start_matches(['-', ' ']).len();
    if after[lead..].starts_with("/*") {
        let close = after[lead + 2..].find("*/")? + lead + 2 + 2;
        return after[close..].find("}}").map(|e| close + e);
    }
    let b = after.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits `text` into text and actions, applying `{{-` / `-}}` trimming.
fn segments(text: &str) -> Result<Vec<Seg<'_>>, String> {
    let mut segs = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = action_end(after) else {
            return Err(format!("unclosed action in {text:?}"));
        };
        let mut pre = &rest[..start];
        if trim_next {
            pre = pre.trim_start();
        }
        let mut inner = &after[..end];
        trim_next = false;
        if let Some(x) = inner
            .strip_prefix('-')
            .filter(|x| x.starts_with(char::is_whitespace))
        {
            pre = pre.trim_end();
            inner = x;
        }
        if let Some(x) = inner
            .strip_suffix('-')
            .filter(|x| x.ends_with(char::is_whitespace))
        {
            trim_next = true;
            inner = x;
        }
        segs.push(Seg::Text(pre));
        segs.push(Seg::Action {
            inner,
            raw: &rest[start..start + 2 + end + 2],
        });
        rest = &after[end + 2..];
    }
    segs.push(Seg::Text(if trim_next { rest.trim_start() } else { rest }));
    Ok(segs)
}

fn keyword(inner: &str) -> Option<(&str, &str)> {
    let t = inner.trim();
    for k in [
        "if", "else if", "else", "end", "range", "with", "define", "template", "block",
    ] {
        if let Some(rest) = t.strip_prefix(k) {
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                // "else if" is matched before "else".
                return Some((k, rest.trim()));
            }
        }
    }
    None
}

/// The value of an action's pipeline, and whether it declared or assigned a variable
/// (`{{$x := user `a`}}` renders nothing). `None`: the action uses the plugin's data
/// (`{{ .Path }}`), so it is kept for the plugin.
fn eval_action(inner: &str, ctx: &Ctx, sc: &mut Scope) -> Result<Option<(Val, bool)>, String> {
    let err = |e: String| format!("template: {{{{{inner}}}}}: {e}");
    let toks = lex(inner).map_err(err)?;
    if sc.dot.is_none() && toks.iter().any(|t| matches!(t, Tok::Field(_))) {
        return Ok(None);
    }
    if let Some(f) = toks.iter().find_map(|t| match t {
        Tok::Field(f) if !f.is_empty() => Some(f),
        _ => None,
    }) {
        let ty = sc.dot.as_ref().map_or("", Val::go_type);
        return Err(err(format!("can't evaluate field {f} in type {ty}")));
    }
    let (target, rest) = match toks.as_slice() {
        [Tok::Var(v), Tok::Declare | Tok::Assign, rest @ ..] => (Some((v, &toks[1])), rest),
        _ => (None, toks.as_slice()),
    };
    let v = Parser::parse(rest)
        .and_then(|n| eval(&n, ctx, sc))
        .map_err(err)?;
    match target {
        None => Ok(Some((v, false))),
        Some((name, Tok::Declare)) => {
            sc.vars.push((name.clone(), v.clone()));
            Ok(Some((v, true)))
        }
        Some((name, _)) => {
            let slot = sc
                .vars
                .iter_mut()
                .rev()
                .find(|(n, _)| n == name)
                .ok_or_else(|| err(format!("undefined variable {name:?}")))?;
            slot.1 = v.clone();
            Ok(Some((v, true)))
        }
    }
}

/// Renders segments from `*i` until an `else` or `end` at this level (left at `*i`), writing to
/// `out` when `emit`.
fn render_block(
    segs: &[Seg<'_>],
    i: &mut usize,
    ctx: &Ctx,
    sc: &mut Scope,
    out: &mut String,
    text: &str,
    emit: bool,
) -> Result<(), String> {
    while *i < segs.len() {
        match &segs[*i] {
            Seg::Text(t) => {
                if emit {
                    out.push_str(t);
                }
                *i += 1;
            }
            Seg::Action { inner, raw } => {
                let trimmed = inner.trim();
                if trimmed.starts_with("/*") {
                    // A comment renders as nothing.
                    *i += 1;
                    continue;
                }
                match keyword(inner) {
                    Some(("else" | "else if" | "end", _)) => return Ok(()),
                    Some((k @ ("if" | "with"), cond)) => {
                        *i += 1;
                        render_if(segs, i, ctx, sc, out, text, emit, cond, k == "with")?;
                    }
                    Some(("range", over)) => {
                        *i += 1;
                        render_range(segs, i, ctx, sc, out, text, emit, over)?;
                    }
                    Some((k, _)) => {
                        return Err(format!(
                            "template: {{{{{trimmed}}}}}: {k:?} actions are not supported by Kiln; use if/else, with or range"
                        ))
                    }
                    None => {
                        *i += 1;
                        if !emit {
                            continue;
                        }
                        match eval_action(inner, ctx, sc)? {
                            Some((_, true)) => {}
                            Some((v, false)) => out.push_str(&v.text()),
                            // `{{ .Field }}` belongs to the plugin: kept verbatim.
                            None => out.push_str(raw),
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// After a block's body: an `{{else}}` body (rendered when `rest`) and the `{{end}}`.
#[allow(clippy::too_many_arguments)]
fn render_else(
    segs: &[Seg<'_>],
    i: &mut usize,
    ctx: &Ctx,
    sc: &mut Scope,
    out: &mut String,
    text: &str,
    rest: bool,
    what: &str,
) -> Result<(), String> {
    let Some(inner) = segs.get(*i).and_then(Seg::action) else {
        return Err(format!("template: unterminated {{{{{what}}}}} in {text:?}"));
    };
    *i += 1;
    match keyword(inner) {
        Some(("end", _)) => Ok(()),
        Some(("else", "")) => {
            render_block(segs, i, ctx, sc, out, text, rest)?;
            match segs.get(*i).and_then(Seg::action).and_then(keyword) {
                Some(("end", _)) => {
                    *i += 1;
                    Ok(())
                }
                _ => Err(format!(
                    "template: expected {{{{end}}}} after {{{{else}}}} in {text:?}"
                )),
            }
        }
        _ => Err(format!("template: unexpected {{{{{inner}}}}}")),
    }
}

/// `{{if c}} ... {{else if d}} ... {{else}} ... {{end}}`, from just after the `if`; as `with`,
/// the body sees the condition's value as its dot. Variables declared inside end with it.
#[allow(clippy::too_many_arguments)]
fn render_if(
    segs: &[Seg<'_>],
    i: &mut usize,
    ctx: &Ctx,
    sc: &mut Scope,
    out: &mut String,
    text: &str,
    emit: bool,
    cond: &str,
    with: bool,
) -> Result<(), String> {
    let what = if with { "with" } else { "if" };
    let mark = sc.vars.len();
    let mut taken = false;
    let mut cond = cond.to_string();
    loop {
        let value = if emit && !taken {
            match eval_action(&cond, ctx, sc)? {
                Some((v, _)) => Some(v),
                None => {
                    return Err(format!(
                        "template: {{{{{what} {cond}}}}}: a condition on a plugin field is not supported here"
                    ))
                }
            }
        } else {
            None
        };
        let this = value.as_ref().is_some_and(Val::truthy);
        taken |= this;
        let outer = if with && this {
            Some(std::mem::replace(&mut sc.dot, value))
        } else {
            None
        };
        render_block(segs, i, ctx, sc, out, text, this)?;
        if let Some(d) = outer {
            sc.dot = d;
        }
        match segs.get(*i).and_then(Seg::action).and_then(keyword) {
            Some(("else if", c)) if !with => {
                *i += 1;
                cond = c.to_string();
            }
            _ => {
                let r = render_else(segs, i, ctx, sc, out, text, !taken && emit, what);
                sc.vars.truncate(mark);
                return r;
            }
        }
    }
}

/// `{{range [$i, $e :=] pipeline}} ... {{else}} ... {{end}}`. What can be ranged over in a
/// legacy template: an integer (0..n, as current Packer's Go), and the plugin's data when a
/// field is rendered before the build, which Packer's templates see as nil (no iterations).
#[allow(clippy::too_many_arguments)]
fn render_range(
    segs: &[Seg<'_>],
    i: &mut usize,
    ctx: &Ctx,
    sc: &mut Scope,
    out: &mut String,
    text: &str,
    emit: bool,
    over: &str,
) -> Result<(), String> {
    let err = |e: String| format!("template: {{{{range {over}}}}}: {e}");
    let toks = lex(over).map_err(err)?;
    let (names, pipe): (Vec<String>, &[Tok]) = match toks.as_slice() {
        [Tok::Var(a), Tok::Comma, Tok::Var(b), Tok::Declare, rest @ ..] => {
            (vec![a.clone(), b.clone()], rest)
        }
        [Tok::Var(a), Tok::Declare, rest @ ..] => (vec![a.clone()], rest),
        _ => (Vec::new(), toks.as_slice()),
    };
    let nil_dot = sc.dot.is_none() && pipe == [Tok::Field(String::new())];
    let count = if !emit || nil_dot {
        0
    } else {
        let (v, _) = eval_action(over.rsplit(":=").next().unwrap_or(over), ctx, sc)?
            .ok_or_else(|| err("a plugin field cannot be ranged over here".into()))?;
        match v {
            Val::N(n) => n.max(0),
            other => return Err(err(format!("range can't iterate over {}", other.text()))),
        }
    };
    let start = *i;
    let mark = sc.vars.len();
    for k in 0..count {
        *i = start;
        let outer = sc.dot.replace(Val::N(k));
        match names.as_slice() {
            [e] => sc.vars.push((e.clone(), Val::N(k))),
            [ix, e] => {
                sc.vars.push((ix.clone(), Val::N(k)));
                sc.vars.push((e.clone(), Val::N(k)));
            }
            _ => {}
        }
        let r = render_block(segs, i, ctx, sc, out, text, true);
        sc.dot = outer;
        sc.vars.truncate(mark);
        r?;
    }
    if count == 0 {
        render_block(segs, i, ctx, sc, out, text, false)?;
    }
    render_else(segs, i, ctx, sc, out, text, emit && count == 0, "range")
}

/// Renders every string in `v`; errors are collected as `(path, message)`.
pub(crate) fn render_tree(
    v: &serde_json::Value,
    ctx: &Ctx,
    path: &str,
    errs: &mut Vec<(String, String)>,
) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) => match render(s, ctx) {
            Ok(r) => serde_json::Value::String(r),
            Err(e) => {
                errs.push((path.to_string(), e));
                v.clone()
            }
        },
        serde_json::Value::Array(a) => serde_json::Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| render_tree(x, ctx, &format!("{path}[{i}]"), errs))
                .collect(),
        ),
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    (k.clone(), render_tree(x, ctx, &p, errs))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The names of the functions an action calls (for checks before a build has values).
#[must_use]
pub fn functions_used(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = action_end(after) else { break };
        if let Ok(toks) = lex(after[..end].trim_matches('-')) {
            for t in toks {
                if let Tok::Ident(n) = t {
                    out.push(n);
                }
            }
        }
        rest = &after[end + 2..];
    }
    out
}

/// Formats a time with a Go layout (`2006-01-02T15:04:05Z07:00`).
#[must_use]
pub fn go_time_format(t: OffsetDateTime, layout: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let month = usize::from(u8::from(t.month())) - 1;
    let wd = usize::from(t.weekday().number_days_from_monday());
    let h12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let off = t.offset();
    let (oh, om) = (off.whole_hours(), off.minutes_past_hour().abs());
    let sign = if off.is_negative() { '-' } else { '+' };
    let tokens: Vec<(&str, String)> = vec![
        ("January", MONTHS[month].to_string()),
        ("Monday", DAYS[wd].to_string()),
        ("2006", format!("{:04}", t.year())),
        (
            "Z07:00",
            if off.is_utc() {
                "Z".into()
            } else {
                format!("{sign}{:02}:{om:02}", oh.abs())
            },
        ),
        ("-07:00", format!("{sign}{:02}:{om:02}", oh.abs())),
        ("-0700", format!("{sign}{:02}{om:02}", oh.abs())),
        (
            "Z0700",
            if off.is_utc() {
                "Z".into()
            } else {
                format!("{sign}{:02}{om:02}", oh.abs())
            },
        ),
        ("-07", format!("{sign}{:02}", oh.abs())),
        (
            "MST",
            if off.is_utc() {
                "UTC".into()
            } else {
                format!("{sign}{:02}{om:02}", oh.abs())
            },
        ),
        ("Jan", MONTHS[month][..3].to_string()),
        ("Mon", DAYS[wd][..3].to_string()),
        (".000000000", format!(".{:09}", t.nanosecond())),
        (".000000", format!(".{:06}", t.microsecond())),
        (".000", format!(".{:03}", t.millisecond())),
        ("_2", format!("{:>2}", t.day())),
        ("01", format!("{:02}", month + 1)),
        ("02", format!("{:02}", t.day())),
        ("03", format!("{h12:02}")),
        ("04", format!("{:02}", t.minute())),
        ("05", format!("{:02}", t.second())),
        ("06", format!("{:02}", t.year() % 100)),
        ("15", format!("{:02}", t.hour())),
        (
            "PM",
            if t.hour() >= 12 {
                "PM".into()
            } else {
                "AM".into()
            },
        ),
        (
            "pm",
            if t.hour() >= 12 {
                "pm".into()
            } else {
                "am".into()
            },
        ),
        ("1", (month + 1).to_string()),
        ("2", t.day().to_string()),
        ("3", h12.to_string()),
        ("4", t.minute().to_string()),
        ("5", t.second().to_string()),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (tok, val) in &tokens {
            if let Some(r) = rest.strip_prefix(tok) {
                out.push_str(val);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// C `strftime` conversions.
#[must_use]
pub fn strftime(t: OffsetDateTime, fmt: &str) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(f) = chars.next() else {
            out.push('%');
            break;
        };
        let go = match f {
            'Y' => "2006",
            'y' => "06",
            'm' => "01",
            'd' => "02",
            'e' => "_2",
            'H' => "15",
            'I' => "03",
            'M' => "04",
            'S' => "05",
            'p' => "PM",
            'b' | 'h' => "Jan",
            'B' => "January",
            'a' => "Mon",
            'A' => "Monday",
            'z' => "-0700",
            'Z' => "MST",
            'F' => "2006-01-02",
            'T' => "15:04:05",
            'D' => "01/02/06",
            's' => {
                out.push_str(&t.unix_timestamp().to_string());
                continue;
            }
            'j' => {
                out.push_str(&format!("{:03}", t.ordinal()));
                continue;
            }
            '%' => {
                out.push('%');
                continue;
            }
            other => {
                out.push('%');
                out.push(other);
                continue;
            }
        };
        out.push_str(&go_time_format(t, go));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ctx() -> Ctx {
        let mut user = BTreeMap::new();
        user.insert("name".to_string(), "Web Server".to_string());
        user.insert("csv".to_string(), "a,b,c".to_string());
        Ctx {
            user,
            build_name: Some("base".into()),
            build_type: Some("null".into()),
            now: Some(datetime!(2024-03-05 07:08:09.123 UTC)),
            template_dir: "/t".into(),
            ..Ctx::default()
        }
    }

    #[test]
    fn packer_functions() {
        let c = ctx();
        let r = |t: &str| render(t, &c).unwrap();
        assert_eq!(r("img-{{user `name`}}"), "img-Web Server");
        assert_eq!(
            r("{{ user \"name\" | lower | clean_resource_name }}"),
            "web-server"
        );
        assert_eq!(r("{{build_name}}-{{build_type}}"), "base-null");
        assert_eq!(r("{{timestamp}}"), "1709622489");
        assert_eq!(r("{{isotime}}"), "2024-03-05T07:08:09Z");
        assert_eq!(
            r("{{isotime \"2006-01-02 03:04PM Jan Mon\"}}"),
            "2024-03-05 07:08AM Mar Tue"
        );
        assert_eq!(r("{{strftime \"%Y%m%d-%H%M\"}}"), "20240305-0708");
        assert_eq!(r("{{split (user `csv`) \",\" 1}}"), "b");
        assert_eq!(r("{{replace_all \"-\" \"_\" \"a-b-c\"}}"), "a_b_c");
        assert_eq!(r("{{replace \"-\" \"_\" 1 \"a-b-c\"}}"), "a_b-c");
        assert_eq!(r("{{upper `x`}}"), "X");
        assert_eq!(r("{{template_dir}}"), "/t");
        assert_eq!(r("{{build `Host`}}"), "{{ .Host }}");
        // The plugin's own placeholders stay.
        assert_eq!(
            r("chmod +x {{.Path}}; {{ .Vars }} {{.Path}}"),
            "chmod +x {{.Path}}; {{ .Vars }} {{.Path}}"
        );
    }

    #[test]
    fn variables_with_range_index_and_slice() {
        let c = ctx();
        let r = |t: &str| render(t, &c);
        assert_eq!(
            r("{{$x := user `name`}}{{$x}}-{{$x | upper}}").unwrap(),
            "Web Server-WEB SERVER"
        );
        assert_eq!(r("{{$x := 1}}{{$x = 2}}{{$x}}").unwrap(), "2");
        assert_eq!(
            r("{{with user `name`}}w={{.}}{{end}}|{{with user `nope`}}x{{else}}e{{end}}").unwrap(),
            "w=Web Server|e"
        );
        assert_eq!(
            r("{{with $v := user `csv`}}{{$v}}/{{.}}{{end}}").unwrap(),
            "a,b,c/a,b,c"
        );
        // A variable ends with the block that declared it.
        assert_eq!(
            r("{{if true}}{{$y := 1}}{{end}}{{$y}}").unwrap_err(),
            "template: {{$y}}: undefined variable \"$y\""
        );
        assert_eq!(r("[{{range .}}item{{else}}none{{end}}]").unwrap(), "[none]");
        assert_eq!(
            r("{{range $i := 3}}<{{$i}}{{.}}>{{end}}").unwrap(),
            "<00><11><22>"
        );
        assert_eq!(
            r("{{range user `name`}}x{{end}}").unwrap_err(),
            "template: {{range user `name`}}: range can't iterate over Web Server"
        );
        assert_eq!(r("{{index (user `name`) 1}}").unwrap(), "101");
        assert_eq!(
            r("{{slice (user `name`) 4}}|{{slice `abc` 1 2}}").unwrap(),
            "Server|b"
        );
        assert_eq!(
            r("{{index `ab` 5}}").unwrap_err(),
            "template: {{index `ab` 5}}: error calling index: index out of range: 5"
        );
        assert_eq!(
            r("{{with `s`}}{{.Foo}}{{end}}").unwrap_err(),
            "template: {{.Foo}}: can't evaluate field Foo in type string"
        );
        // Outside with/range, the dot is the plugin's: kept for it.
        assert_eq!(
            r("{{ .Path }} {{$}}").unwrap_err(),
            "template: {{$}}: the template's data ($) is not available here"
        );
        assert_eq!(r("{{ .Path }}").unwrap(), "{{ .Path }}");
    }

    #[test]
    fn errors_name_the_action() {
        let c = ctx();
        assert_eq!(render("{{user `nope`}}", &c).unwrap(), "");
        let strict = Ctx {
            user_strict: true,
            ..ctx()
        };
        assert_eq!(
            render("{{user `nope`}}", &strict).unwrap_err(),
            "template: {{user `nope`}}: variable not set: nope"
        );
        assert!(render("{{env `HOME`}}", &c)
            .unwrap_err()
            .contains("env vars are not allowed here"));
        assert!(render("{{isotim}}", &c)
            .unwrap_err()
            .contains("did you mean \"isotime\""));
        assert!(render("{{vault `a` `b`}}", &c)
            .unwrap_err()
            .contains("not available in Kiln"));
    }
}

/// Translates one template string into the body of an HCL2 quoted string for `hcl2_upgrade`:
/// `{{user `x`}}` becomes `${var.x}`, `{{timestamp}}` `${local.timestamp}` (the second value
/// says the local is needed), and so on. Actions that cannot be translated (and `{{ .Field }}`
/// placeholders, which plugins render) stay as they are.
#[must_use]
pub fn to_hcl(text: &str) -> (String, bool) {
    to_hcl_with(text, &[], false)
}

/// As [`to_hcl`], with the user variables that became locals (`{{user `x`}}` → `${local.x}`).
/// In a source block (`in_source`), `{{build_name}}` and `{{build_type}}` stay Go templates:
/// HCL2 has no `source.name` there, and Kiln expands them in plugin fields.
#[must_use]
pub fn to_hcl_with(text: &str, locals: &[String], in_source: bool) -> (String, bool) {
    let mut out = String::new();
    let mut uses_timestamp = false;
    let mut rest = text;
    let literal = |s: &str, out: &mut String| {
        let q = serde_json::to_string(s).unwrap_or_default();
        out.push_str(&q[1..q.len() - 1].replace("${", "$${").replace("%{", "%%{"));
    };
    while let Some(start) = rest.find("{{") {
        literal(&rest[..start], &mut out);
        let after = &rest[start + 2..];
        let Some(end) = action_end(after) else {
            literal(&rest[start..], &mut out);
            return (out, uses_timestamp);
        };
        let action = &rest[start..start + 2 + end + 2];
        let inner = after[..end]
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        match lex(inner).and_then(|toks| {
            let tree = Parser::parse(&toks)?;
            let mut t = Translator {
                ts: false,
                locals,
                in_source,
            };
            Ok((t.node(&tree)?, t.ts))
        }) {
            Ok((e, ts)) => {
                uses_timestamp |= ts;
                out.push_str("${");
                out.push_str(&e);
                out.push('}');
            }
            Err(_) => literal(action, &mut out),
        }
        rest = &after[end + 2..];
    }
    literal(rest, &mut out);
    (out, uses_timestamp)
}

/// Writes a pipeline tree as an HCL2 expression.
struct Translator<'a> {
    ts: bool,
    locals: &'a [String],
    in_source: bool,
}

impl Translator<'_> {
    fn node(&mut self, n: &Node) -> Result<String, String> {
        match n {
            Node::Str(s) => Ok(serde_json::to_string(s).unwrap_or_default()),
            Node::Num(x) => Ok(x.to_string()),
            Node::Float(x) => Ok(x.to_string()),
            Node::Var(_) | Node::Dot => Err("variables and the dot have no HCL2 equivalent".into()),
            Node::Call(name, args) => {
                let a = args
                    .iter()
                    .map(|x| self.node(x))
                    .collect::<Result<Vec<_>, _>>()?;
                self.call(name, &a)
            }
        }
    }

    fn call(&mut self, name: &str, a: &[String]) -> Result<String, String> {
        let arg = |i: usize| {
            a.get(i)
                .cloned()
                .ok_or_else(|| format!("{name}: missing argument"))
        };
        let bare = |s: &str| -> Result<String, String> {
            serde_json::from_str::<String>(s)
                .ok()
                .filter(|n| {
                    n.chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
                })
                .ok_or_else(|| "needs a literal name".to_string())
        };
        Ok(match name {
            "user" => {
                let n = bare(&arg(0)?)?;
                if self.locals.contains(&n) {
                    format!("local.{n}")
                } else {
                    format!("var.{n}")
                }
            }
            "build" => format!("build.{}", bare(&arg(0)?)?),
            "env" => format!("env({})", arg(0)?),
            "timestamp" => {
                self.ts = true;
                "local.timestamp".into()
            }
            "isotime" => match a.first() {
                Some(f) => format!("legacy_isotime({f})"),
                None => "legacy_isotime(\"2006-01-02T15:04:05Z07:00\")".into(),
            },
            "strftime" => format!("legacy_strftime({})", arg(0)?),
            "uuid" => "uuidv4()".into(),
            "build_name" | "build_type" if self.in_source => {
                return Err("kept for the plugin".into())
            }
            "build_name" => "source.name".into(),
            "build_type" => "source.type".into(),
            "template_dir" => "path.root".into(),
            "pwd" => "path.cwd".into(),
            "packer_version" => "packer.version".into(),
            "split" => format!("split({}, {})[{}]", arg(1)?, arg(0)?, arg(2)?),
            "replace" if a.get(2).map(String::as_str) == Some("-1") => {
                format!("replace({}, {}, {})", arg(3)?, arg(0)?, arg(1)?)
            }
            "replace_all" => format!("replace({}, {}, {})", arg(2)?, arg(0)?, arg(1)?),
            "upper" | "lower" => format!("{name}({})", arg(0)?),
            other => return Err(format!("{other} has no HCL2 equivalent")),
        })
    }
}

#[cfg(test)]
mod upgrade_tests {
    use super::to_hcl;

    #[test]
    fn template_strings_become_hcl() {
        assert_eq!(
            to_hcl("ami-{{user `name`}}-{{timestamp}}"),
            ("ami-${var.name}-${local.timestamp}".into(), true)
        );
        assert_eq!(
            to_hcl("{{isotime \"2006\" | upper}}").0,
            "${upper(legacy_isotime(\"2006\"))}"
        );
        assert_eq!(
            to_hcl("{{build_name}} {{build `Host`}} {{ .Path }}").0,
            "${source.name} ${build.Host} {{ .Path }}"
        );
        assert_eq!(to_hcl("a \"q\" ${b}").0, "a \\\"q\\\" $${b}");
        assert_eq!(
            to_hcl("{{split `a,b` `,` 1}}").0,
            "${split(\",\", \"a,b\")[1]}"
        );
        assert_eq!(
            to_hcl("{{ clean_resource_name `x` }}").0,
            "{{ clean_resource_name `x` }}"
        );
    }
}

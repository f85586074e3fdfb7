//! The function library available in HCL2 templates: Terraform's common string, collection,
//! numeric, encoding, filesystem and date functions, and Packer's own.
//!
//! hcl-rs takes functions as plain `fn` pointers, so context that a function needs (the
//! `templatefile` function table) is rebuilt on demand rather than captured.

use base64::Engine as _;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Value};
use sha2::Digest as _;

type R = Result<Value, String>;

pub(crate) fn s(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("a string is required, got null".into()),
        other => Err(format!("a string is required, got {}", type_name(other))),
    }
}

pub(crate) fn n(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| "invalid number".into()),
        Value::String(s) => s
            .parse()
            .map_err(|_| format!("a number is required, got {s:?}")),
        other => Err(format!("a number is required, got {}", type_name(other))),
    }
}

thread_local! {
    /// The directory of the template file being evaluated (see [`with_base_dir`]).
    static BASE_DIR: std::cell::RefCell<Option<std::path::PathBuf>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with the file functions (`file`, `fileexists`, `fileset`, `templatefile`, the
/// `file*` hashes) reading paths relative to `dir`, the template's directory, as Packer's do;
/// `abspath` and plugins keep the working directory. Without a directory (`kiln console`'s
/// input has no file of its own) the one already set stays.
pub(crate) fn with_base_dir<T>(dir: Option<&std::path::Path>, f: impl FnOnce() -> T) -> T {
    let dir = dir
        .filter(|d| !d.as_os_str().is_empty())
        .map(std::path::Path::to_path_buf)
        .or_else(base_dir);
    let old = BASE_DIR.with(|b| b.replace(dir));
    let out = f();
    BASE_DIR.with(|b| *b.borrow_mut() = old);
    out
}

fn base_dir() -> Option<std::path::PathBuf> {
    BASE_DIR.with(|b| b.borrow().clone())
}

/// `p` for a file function: itself when absolute, else under the template's directory.
pub(crate) fn in_base_dir(p: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(p);
    match base_dir() {
        Some(d) if path.is_relative() => d.join(path),
        _ => path.to_path_buf(),
    }
}

pub(crate) fn num(f: f64) -> Value {
    if f.is_infinite() {
        // As Go's big.Float: +Inf / -Inf (hcl's numbers are finite unless divided by zero).
        let sign = if f > 0.0 { 1 } else { -1 };
        return Value::Number(hcl::Number::from(sign) / hcl::Number::from(0));
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        Value::from(f as i64)
    } else {
        hcl::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// A short type name for messages.
#[must_use]
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

pub(crate) fn list(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Array(a) => Ok(a.clone()),
        other => Err(format!("a list is required, got {}", type_name(other))),
    }
}

pub(crate) fn obj(v: &Value) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(o) => Ok(o.clone()),
        other => Err(format!("a map is required, got {}", type_name(other))),
    }
}

macro_rules! f1 {
    ($name:ident, $p:expr, |$a:ident| $body:expr) => {
        fn $name(args: FuncArgs) -> R {
            let $a = &args[0];
            $body
        }
    };
}

f1!(upper, ParamType::String, |a| Ok(crate::gostr::upper(&s(
    a
)?)
.into()));
f1!(lower, ParamType::String, |a| Ok(crate::gostr::lower(&s(
    a
)?)
.into()));
f1!(trimspace, ParamType::String, |a| Ok(s(a)?
    .trim()
    .to_string()
    .into()));
f1!(chomp, ParamType::String, |a| Ok(s(a)?
    .trim_end_matches(['\n', '\r'])
    .to_string()
    .into()));
f1!(title, ParamType::String, |a| Ok(crate::gostr::title(&s(
    a
)?)
.into()));
f1!(strrev, ParamType::String, |a| Ok(crate::gostr::graphemes(
    &s(a)?
)
.into_iter()
.rev()
.collect::<String>()
.into()));
f1!(length, ParamType::Any, |a| Ok(Value::from(match a {
    Value::String(s) => crate::gostr::graphemes(s).len(),
    Value::Array(v) => v.len(),
    Value::Object(o) => o.len(),
    other => return Err(format!("length of {} is not defined", type_name(other))),
})));
f1!(abs, ParamType::Number, |a| match exact(a) {
    Some(b) if b.is_neg() => Ok(crate::bignum::to_value(&b.neg())),
    Some(b) => Ok(crate::bignum::to_value(&b)),
    None => Ok(num(n(a)?.abs())),
});
/// `ceil` and `floor` as cty's: exact on the number's whole value, at its precision.
fn whole(a: &Value, up: bool) -> R {
    let Some(b) = exact(a) else {
        let x = n(a)?;
        return Ok(num(if up { x.ceil() } else { x.floor() }));
    };
    let (neg, mut m) = b.trunc();
    let whole = crate::bignum::Big::from_int(neg, m.clone(), b.prec());
    // Truncation went toward zero: one more away from it where that was the wrong way.
    if whole.cmp(&b) != std::cmp::Ordering::Equal && (neg != up) {
        m += 1u32;
    }
    Ok(crate::bignum::to_value(&crate::bignum::Big::from_int(
        neg && m != num_bigint::BigUint::default(),
        m,
        b.prec(),
    )))
}
f1!(ceil, ParamType::Number, |a| whole(a, true));
f1!(floor, ParamType::Number, |a| whole(a, false));
f1!(signum, ParamType::Number, |a| {
    let x = n(a)?;
    if x.fract() != 0.0 {
        return Err(format!("invalid value {x}: a whole number is required"));
    }
    Ok(num(if x == 0.0 { 0.0 } else { x.signum() }))
});
f1!(keys, ParamType::Any, |a| Ok(Value::Array(
    sorted_keys(&obj(a)?).into_iter().map(Value::from).collect()
)));
f1!(values, ParamType::Any, |a| {
    let o = obj(a)?;
    Ok(Value::Array(
        sorted_keys(&o).iter().map(|k| o[k].clone()).collect(),
    ))
});
f1!(base64encode, ParamType::String, |a| Ok(
    base64::engine::general_purpose::STANDARD
        .encode(s(a)?)
        .into()
));
f1!(base64decode, ParamType::String, |a| {
    let b = base64::engine::general_purpose::STANDARD
        .decode(s(a)?)
        .map_err(|e| format!("invalid base64: {e}"))?;
    String::from_utf8(b)
        .map(Value::from)
        .map_err(|_| "the decoded bytes are not valid UTF-8".into())
});
f1!(jsonencode, ParamType::Any, |a| Ok(
    crate::gostr::json_value(a).into()
));
f1!(jsondecode, ParamType::String, |a| {
    crate::jsondec::decode(&s(a)?)
});
f1!(urlencode, ParamType::String, |a| Ok(
    crate::gostr::query_escape(&s(a)?).into()
));
f1!(md5, ParamType::String, |a| Ok(hex::encode(
    md5::Md5::digest(s(a)?.as_bytes())
)
.into()));
f1!(sha1, ParamType::String, |a| Ok(hex::encode(
    sha1::Sha1::digest(s(a)?.as_bytes())
)
.into()));
f1!(sha256, ParamType::String, |a| Ok(hex::encode(
    sha2::Sha256::digest(s(a)?.as_bytes())
)
.into()));
f1!(sha512, ParamType::String, |a| Ok(hex::encode(
    sha2::Sha512::digest(s(a)?.as_bytes())
)
.into()));
f1!(file, ParamType::String, |a| {
    let p = s(a)?;
    std::fs::read_to_string(in_base_dir(&p))
        .map(Value::from)
        .map_err(|e| format!("cannot read {p:?}: {e}"))
});
f1!(fileexists, ParamType::String, |a| {
    let p = s(a)?;
    match std::fs::metadata(in_base_dir(&p)) {
        Ok(m) if m.is_dir() => Err(format!("{p:?} is a directory, not a file")),
        Ok(_) => Ok(true.into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false.into()),
        Err(e) => Err(format!("cannot stat {p:?}: {e}")),
    }
});
f1!(filebase64, ParamType::String, |a| {
    let p = s(a)?;
    let b = std::fs::read(in_base_dir(&p)).map_err(|e| format!("cannot read {p:?}: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(b).into())
});
f1!(filesha256, ParamType::String, |a| {
    let p = s(a)?;
    let b = std::fs::read(in_base_dir(&p)).map_err(|e| format!("cannot read {p:?}: {e}"))?;
    Ok(hex::encode(sha2::Sha256::digest(b)).into())
});
f1!(abspath, ParamType::String, |a| {
    let p = std::path::PathBuf::from(s(a)?);
    let abs = if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map_err(|e| e.to_string())?.join(p)
    };
    Ok(normalize(&abs).into())
});
f1!(basename, ParamType::String, |a| Ok(crate::gostr::base(&s(
    a
)?)
.into()));
f1!(dirname, ParamType::String, |a| Ok(crate::gostr::dir(&s(
    a
)?)
.into()));
f1!(pathexpand, ParamType::String, |a| {
    let p = s(a)?;
    Ok(match p.strip_prefix('~') {
        Some(rest) => format!("{}{rest}", std::env::var("HOME").unwrap_or_default()),
        None => p,
    }
    .into())
});
f1!(tostring, ParamType::Any, |a| match a {
    Value::Null => Ok(Value::Null),
    v => s(v).map(Value::from),
});
f1!(tonumber, ParamType::Any, |a| match a {
    Value::Null => Ok(Value::Null),
    v => match exact(v) {
        Some(b) => Ok(crate::bignum::to_value(&b)),
        None => n(v).map(num),
    },
});

/// A number (or a string of one) as cty holds it; `None` for an infinity or a non-number.
/// A number argument's exact value (cty's, not the float64 nearest it).
pub(crate) fn exact(v: &Value) -> Option<crate::bignum::Big> {
    match v {
        Value::Number(m) => crate::bignum::from_number(m),
        Value::String(t) => crate::bignum::Big::parse(t, crate::bignum::PREC),
        _ => None,
    }
}
f1!(tobool, ParamType::Any, |a| match a {
    Value::Bool(b) => Ok((*b).into()),
    Value::String(s) if s == "true" => Ok(true.into()),
    Value::String(s) if s == "false" => Ok(false.into()),
    Value::Null => Ok(Value::Null),
    other => Err(format!("cannot convert {} to bool", type_name(other))),
});
f1!(tolist, ParamType::Any, |a| Ok(Value::Array(list(a)?)));
f1!(toset, ParamType::Any, |a| {
    let mut out: Vec<Value> = Vec::new();
    for v in list(a)? {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::Array(out))
});
f1!(tomap, ParamType::Any, |a| Ok(Value::Object(obj(a)?)));
f1!(flatten, ParamType::Any, |a| {
    fn go(v: Vec<Value>, out: &mut Vec<Value>) {
        for x in v {
            match x {
                Value::Array(inner) => go(inner, out),
                other => out.push(other),
            }
        }
    }
    let mut out = Vec::new();
    go(list(a)?, &mut out);
    Ok(Value::Array(out))
});
f1!(distinct, ParamType::Any, |a| {
    let mut out: Vec<Value> = Vec::new();
    for v in list(a)? {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::Array(out))
});
f1!(reverse, ParamType::Any, |a| Ok(Value::Array(
    list(a)?.into_iter().rev().collect()
)));
f1!(sort, ParamType::Any, |a| {
    let mut v: Vec<String> = list(a)?.iter().map(s).collect::<Result<_, _>>()?;
    v.sort();
    Ok(Value::Array(v.into_iter().map(Value::from).collect()))
});
f1!(compact, ParamType::Any, |a| Ok(Value::Array(
    list(a)?
        .into_iter()
        .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .collect()
)));
f1!(alltrue, ParamType::Any, |a| Ok(list(a)?
    .iter()
    .all(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"))
    .into()));
f1!(anytrue, ParamType::Any, |a| Ok(list(a)?
    .iter()
    .any(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"))
    .into()));
f1!(sum, ParamType::Any, |a| {
    let v = list(a)?;
    if v.is_empty() {
        return Err("cannot sum an empty list".into());
    }
    // cty adds exactly (see `bignum`), left to right.
    let mut total: Option<crate::bignum::Big> = None;
    for x in &v {
        let exact = match x {
            Value::Number(m) => crate::bignum::from_number(m),
            Value::String(t) => crate::bignum::Big::parse(t, crate::bignum::PREC),
            _ => None,
        };
        let Some(b) = exact else {
            // An infinity, or not a number (the error): float64 arithmetic.
            return Ok(num(v.iter().map(n).sum::<Result<f64, _>>()?));
        };
        total = Some(match total {
            None => b,
            Some(t) => t.add(&b),
        });
    }
    Ok(total.map_or(Value::Null, |t| crate::bignum::to_value(&t)))
});
f1!(env, ParamType::String, |a| Ok(std::env::var(s(a)?)
    .unwrap_or_default()
    .into()));

fn sorted_keys(o: &Map<String, Value>) -> Vec<String> {
    let mut k: Vec<String> = o.keys().cloned().collect();
    k.sort();
    k
}

fn normalize(p: &std::path::Path) -> String {
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.to_string_lossy().to_string()
}

fn join(args: FuncArgs) -> R {
    let sep = s(&args[0])?;
    let mut parts = Vec::new();
    for l in args.iter().skip(1) {
        for v in list(l)? {
            parts.push(s(&v)?);
        }
    }
    Ok(parts.join(&sep).into())
}
fn split(args: FuncArgs) -> R {
    let (sep, text) = (s(&args[0])?, s(&args[1])?);
    // Go's strings.Split: an empty separator splits after each character.
    if sep.is_empty() {
        return Ok(Value::Array(
            text.chars().map(|c| Value::from(c.to_string())).collect(),
        ));
    }
    Ok(Value::Array(
        text.split(sep.as_str()).map(Value::from).collect(),
    ))
}
fn replace(args: FuncArgs) -> R {
    // Packer's replace is cty's: always a literal substring (regex_replace takes patterns).
    let (text, from, to) = (s(&args[0])?, s(&args[1])?, s(&args[2])?);
    Ok(text.replace(&from, &to).into())
}
fn regex_replace(args: FuncArgs) -> R {
    let (text, pat, to) = (s(&args[0])?, s(&args[1])?, s(&args[2])?);
    let re = regex::Regex::new(&pat).map_err(|e| e.to_string())?;
    Ok(re.replace_all(&text, to.as_str()).to_string().into())
}
fn regex(args: FuncArgs) -> R {
    let (pat, text) = (s(&args[0])?, s(&args[1])?);
    let re = regex::Regex::new(&pat).map_err(|e| e.to_string())?;
    let caps = re
        .captures(&text)
        .ok_or_else(|| "pattern did not match any part of the given string".to_string())?;
    if caps.len() == 1 {
        return Ok(caps[0].to_string().into());
    }
    // As cty: named groups make an object, unnamed ones a list; both at once is an error.
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.iter().any(Option::is_some) {
        if names.iter().any(Option::is_none) {
            return Err(
                "pattern must use either only named capture groups or only unnamed capture groups"
                    .into(),
            );
        }
        return Ok(Value::Object(
            names
                .iter()
                .flatten()
                .map(|n| {
                    let v = caps.name(n).map_or(Value::Null, |m| m.as_str().into());
                    ((*n).to_string(), v)
                })
                .collect(),
        ));
    }
    Ok(Value::Array(
        caps.iter()
            .skip(1)
            .map(|m| m.map_or(Value::Null, |m| m.as_str().into()))
            .collect(),
    ))
}
fn trim(args: FuncArgs) -> R {
    let (text, chars) = (s(&args[0])?, s(&args[1])?);
    Ok(text.trim_matches(|c| chars.contains(c)).to_string().into())
}
fn trimprefix(args: FuncArgs) -> R {
    let (text, p) = (s(&args[0])?, s(&args[1])?);
    Ok(text
        .strip_prefix(p.as_str())
        .unwrap_or(&text)
        .to_string()
        .into())
}
fn trimsuffix(args: FuncArgs) -> R {
    let (text, p) = (s(&args[0])?, s(&args[1])?);
    Ok(text
        .strip_suffix(p.as_str())
        .unwrap_or(&text)
        .to_string()
        .into())
}
fn startswith(args: FuncArgs) -> R {
    Ok(s(&args[0])?.starts_with(&s(&args[1])?).into())
}
fn endswith(args: FuncArgs) -> R {
    Ok(s(&args[0])?.ends_with(&s(&args[1])?).into())
}
fn strcontains(args: FuncArgs) -> R {
    Ok(s(&args[0])?.contains(&s(&args[1])?).into())
}
fn substr(args: FuncArgs) -> R {
    let owned = s(&args[0])?;
    let text = crate::gostr::graphemes(&owned);
    let (off, len) = (n(&args[1])?, n(&args[2])?);
    if off.fract() != 0.0 || len.fract() != 0.0 {
        return Err("offset and length must be whole numbers".into());
    }
    #[allow(clippy::cast_possible_truncation)]
    let (off, len) = (off as i64, len as i64);
    let len_total = i64::try_from(text.len()).unwrap_or(i64::MAX);
    let start = if off < 0 {
        (len_total + off).max(0)
    } else {
        off.min(len_total)
    };
    let end = if len < 0 {
        len_total
    } else {
        (start + len).min(len_total)
    };
    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
    Ok(text[start as usize..end as usize].concat().into())
}
fn format(args: FuncArgs) -> R {
    let fmt = s(&args[0])?;
    let rest: Vec<Value> = args.iter().skip(1).cloned().collect();
    crate::gofmt::format(&fmt, &rest).map(Value::from)
}
fn concat(args: FuncArgs) -> R {
    if args.is_empty() {
        return Err("at least one argument is required".into());
    }
    let mut out = Vec::new();
    for l in args.iter() {
        out.extend(list(l)?);
    }
    Ok(Value::Array(out))
}
fn contains(args: FuncArgs) -> R {
    Ok(list(&args[0])?.contains(&args[1]).into())
}
fn element(args: FuncArgs) -> R {
    let l = list(&args[0])?;
    if l.is_empty() {
        return Err("cannot use element function with an empty list".into());
    }
    let i = n(&args[1])?;
    if i < 0.0 {
        return Err("cannot use element function with a negative index".into());
    }
    if i.fract() != 0.0 {
        return Err("the index must be a whole number".into());
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = i as usize;
    Ok(l[i % l.len()].clone())
}
fn index_fn(args: FuncArgs) -> R {
    list(&args[0])?
        .iter()
        .position(|v| *v == args[1])
        .map(Value::from)
        .ok_or_else(|| "item not found".into())
}
fn lookup(args: FuncArgs) -> R {
    let o = obj(&args[0])?;
    let k = s(&args[1])?;
    match (o.get(&k), args.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(d)) => Ok(d.clone()),
        (None, None) => Err(format!("the given key {k:?} does not exist in the map")),
    }
}
fn merge(args: FuncArgs) -> R {
    let mut out = Map::new();
    for o in args.iter() {
        if !matches!(o, Value::Null) {
            out.extend(obj(o)?);
        }
    }
    Ok(Value::Object(out))
}
fn coalesce(args: FuncArgs) -> R {
    args.iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty-string arguments".into())
}
fn coalescelist(args: FuncArgs) -> R {
    Ok(args
        .iter()
        .find(|v| matches!(v, Value::Array(a) if !a.is_empty()))
        .cloned()
        .unwrap_or(Value::Array(vec![])))
}
/// The least (`want` Less) or greatest of numbers compared exactly, as cty; `None` when one is
/// an infinity (float64 then).
fn extreme(args: &FuncArgs, want: std::cmp::Ordering) -> Option<Value> {
    let mut best: Option<crate::bignum::Big> = None;
    for a in args.iter() {
        let b = exact(a)?;
        best = Some(match best {
            Some(cur) if b.cmp(&cur) != want => cur,
            _ => b,
        });
    }
    best.map(|b| crate::bignum::to_value(&b))
}

fn min(args: FuncArgs) -> R {
    if args.is_empty() {
        return Err("must pass at least one number".into());
    }
    if let Some(v) = extreme(&args, std::cmp::Ordering::Less) {
        return Ok(v);
    }
    Ok(num(args
        .iter()
        .map(n)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .fold(f64::INFINITY, f64::min)))
}
fn max(args: FuncArgs) -> R {
    if args.is_empty() {
        return Err("must pass at least one number".into());
    }
    if let Some(v) = extreme(&args, std::cmp::Ordering::Greater) {
        return Ok(v);
    }
    Ok(num(args
        .iter()
        .map(n)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .fold(f64::NEG_INFINITY, f64::max)))
}
fn pow(args: FuncArgs) -> R {
    Ok(num(n(&args[0])?.powf(n(&args[1])?)))
}
fn parseint(args: FuncArgs) -> R {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let base = n(&args[1])?;
    if !(2.0..=62.0).contains(&base) || base.fract() != 0.0 {
        return Err("base must be a whole number between 2 and 62 inclusive".into());
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let base = base as u32;
    // As Go's big.Int SetString: an optional sign, then digits of the base (letters in either
    // case up to base 36; above it, a-z are 10-35 and A-Z 36-61), nothing else.
    let text = s(&args[0])?;
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let digit = |c: char| -> Option<u32> {
        let d = match c {
            '0'..='9' => u32::from(c) - u32::from('0'),
            'a'..='z' => u32::from(c) - u32::from('a') + 10,
            'A'..='Z' if base <= 36 => u32::from(c) - u32::from('A') + 10,
            'A'..='Z' => u32::from(c) - u32::from('A') + 36,
            _ => return None,
        };
        (d < base).then_some(d)
    };
    let mut m = num_bigint::BigUint::default();
    let bad = || format!("cannot parse {text:?} as a base {base} integer");
    if digits.is_empty() {
        return Err(bad());
    }
    for c in digits.chars() {
        m = m * base + digit(c).ok_or_else(bad)?;
    }
    let prec = u32::try_from(m.bits()).unwrap_or(u32::MAX).max(64);
    let zero = m == num_bigint::BigUint::default();
    Ok(crate::bignum::to_value(&crate::bignum::Big::from_int(
        neg && !zero,
        m,
        prec,
    )))
}
/// `range` as cty's: each value is the one before plus `step`, in cty's arithmetic (exact at
/// the operands' precision: `range(0, 1, 0.1)` ends in 0.9000…0001, not 0.8999999999999999).
fn range(args: FuncArgs) -> R {
    use crate::bignum::Big;
    use std::cmp::Ordering::{Greater, Less};
    let v: Vec<Big> = args
        .iter()
        .map(|a| exact(a).ok_or_else(|| "a finite number is required".to_string()))
        .collect::<Result<_, _>>()?;
    let zero = Big::from_i128(0, 64);
    let one = |neg: bool| Big::from_i128(if neg { -1 } else { 1 }, 64);
    let (start, end, step) = match v.as_slice() {
        [e] => (zero.clone(), e.clone(), one(e.cmp(&zero) == Less)),
        [s, e] => (s.clone(), e.clone(), one(e.cmp(s) == Less)),
        [s, e, st] => (s.clone(), e.clone(), st.clone()),
        _ => return Err("range takes one to three numbers".into()),
    };
    if step.is_zero() {
        return Err("step must not be zero".into());
    }
    let down = step.cmp(&zero) == Less;
    if down && end.cmp(&start) == Greater {
        return Err("step must be positive when start is less than end".into());
    }
    if !down && end.cmp(&start) == Less {
        return Err("step must be negative when start is greater than end".into());
    }
    let mut out = Vec::new();
    let mut x = start;
    while if down {
        x.cmp(&end) == Greater
    } else {
        x.cmp(&end) == Less
    } {
        if out.len() >= 1024 {
            return Err("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step".into());
        }
        out.push(crate::bignum::to_value(&x));
        x = x.add(&step);
    }
    Ok(Value::Array(out))
}
fn slice(args: FuncArgs) -> R {
    let l = list(&args[0])?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (a, b) = (n(&args[1])? as usize, n(&args[2])? as usize);
    if a > b || b > l.len() {
        return Err(format!(
            "invalid slice indexes {a}..{b} for a list of {}",
            l.len()
        ));
    }
    Ok(Value::Array(l[a..b].to_vec()))
}
fn zipmap(args: FuncArgs) -> R {
    let (k, v) = (list(&args[0])?, list(&args[1])?);
    if k.len() != v.len() {
        return Err("the keys and values lists must have the same length".into());
    }
    Ok(Value::Object(
        k.iter()
            .map(s)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .zip(v)
            .collect(),
    ))
}
fn chunklist(args: FuncArgs) -> R {
    let l = list(&args[0])?;
    let size = n(&args[1])?;
    if size < 0.0 {
        return Err("the size argument must be positive".into());
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = size as usize;
    if size == 0 {
        return Ok(Value::Array(vec![Value::Array(l)]));
    }
    Ok(Value::Array(
        l.chunks(size).map(|c| Value::Array(c.to_vec())).collect(),
    ))
}
fn setunion(args: FuncArgs) -> R {
    let mut out: Vec<Value> = Vec::new();
    for l in args.iter() {
        for v in list(l)? {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    Ok(Value::Array(crate::types::set_order(out)))
}
fn fileset(args: FuncArgs) -> R {
    // As Packer (Terraform's fileset on doublestar): the pattern is joined to `base` and
    // cleaned (so `sub/../a.txt` and `../x/*` work), globbed (`*` within a name, `**` across
    // directories, `{a,b}`, `[...]`), and each file found is given relative to `base`, sorted.
    let (base, pat) = (s(&args[0])?, s(&args[1])?);
    // `base` is relative to the template's directory; results are relative to `base`.
    let base = if base.is_empty() {
        base
    } else {
        in_base_dir(&base).to_string_lossy().into_owned()
    };
    let base = match base_dir() {
        Some(d) if base.is_empty() => d.to_string_lossy().into_owned(),
        _ => base,
    };
    let full = if base.is_empty() {
        crate::gostr::clean(&pat)
    } else {
        crate::gostr::clean(&format!("{base}/{pat}"))
    };
    let m = globset::GlobBuilder::new(&full)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("invalid pattern {pat:?}: {e}"))?
        .compile_matcher();
    // The walk starts at the pattern's literal directory prefix.
    let parts: Vec<&str> = full.split('/').collect();
    let literal = parts
        .iter()
        .take(parts.len().saturating_sub(1))
        .take_while(|c| !c.contains(['*', '?', '[', '{', '\\']))
        .count();
    let start = match parts[..literal].join("/") {
        d if d.is_empty() && full.starts_with('/') => "/".to_string(),
        d => d,
    };
    fn walk(dir: &str, m: &globset::GlobMatcher, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = match dir {
                "" => name,
                "/" => format!("/{name}"),
                d => format!("{d}/{name}"),
            };
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(&path, m, out),
                Ok(_) if m.is_match(&path) => out.push(path),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    walk(&start, &m, &mut found);
    let base = crate::gostr::clean(if base.is_empty() { "." } else { &base });
    let mut out: Vec<String> = found.iter().map(|f| go_rel(&base, f)).collect();
    out.sort();
    Ok(Value::Array(out.into_iter().map(Value::from).collect()))
}

/// Go's `filepath.Rel` for two cleaned paths of the same kind (both relative or both rooted).
fn go_rel(base: &str, target: &str) -> String {
    let split = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(String::from)
            .collect()
    };
    let (b, t) = (split(base), split(target));
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out: Vec<String> = vec!["..".to_string(); b.len() - common];
    out.extend(t[common..].iter().cloned());
    if out.is_empty() {
        ".".into()
    } else {
        out.join("/")
    }
}
fn templatefile(args: FuncArgs) -> R {
    let p = s(&args[0])?;
    let text =
        std::fs::read_to_string(in_base_dir(&p)).map_err(|e| format!("cannot read {p:?}: {e}"))?;
    let vars = obj(&args[1])?;
    let tpl: hcl::Template = text.parse().map_err(|e| format!("{p}: {e}"))?;
    let mut ctx = Context::new();
    declare(&mut ctx, false);
    for (k, v) in vars {
        ctx.declare_var(k, v);
    }
    tpl.evaluate(&ctx)
        .map(Value::from)
        .map_err(|e| format!("{p}: {e}"))
}
fn timestamp(_: FuncArgs) -> R {
    // Go's time.RFC3339: whole seconds (`2006-01-02T15:04:05Z`), as Packer writes it.
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    Ok(now
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?
        .into())
}
fn uuidv4(_: FuncArgs) -> R {
    Ok(uuid::Uuid::new_v4().to_string().into())
}
fn uuidv5(args: FuncArgs) -> R {
    let ns = match s(&args[0])?.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => {
            uuid::Uuid::parse_str(other).map_err(|e| format!("invalid namespace {other:?}: {e}"))?
        }
    };
    Ok(uuid::Uuid::new_v5(&ns, s(&args[1])?.as_bytes())
        .to_string()
        .into())
}
fn formatdate(args: FuncArgs) -> R {
    let spec = s(&args[0])?;
    let ts = s(&args[1])?;
    let t = time::OffsetDateTime::parse(&ts, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("invalid RFC 3339 timestamp {ts:?}: {e}"))?;
    let mut out = String::new();
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // A quoted literal; '' inside (or alone) is one quote.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return Err("unterminated literal '".into()),
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        out.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(&ch) => {
                        out.push(ch);
                        j += 1;
                    }
                }
            }
            i = j + 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let tok: String = chars[i..j].iter().collect();
        let month = u8::from(t.month());
        let part = match tok.as_str() {
            "YYYY" => format!("{:04}", t.year()),
            "YY" => format!("{:02}", t.year() % 100),
            "MMMM" => t.month().to_string(),
            "MMM" => t.month().to_string()[..3].to_string(),
            "MM" => format!("{month:02}"),
            "M" => month.to_string(),
            "DD" => format!("{:02}", t.day()),
            "D" => t.day().to_string(),
            "EEEE" => t.weekday().to_string(),
            "EEE" => t.weekday().to_string()[..3].to_string(),
            "hh" => format!("{:02}", t.hour()),
            "h" => t.hour().to_string(),
            "HH" => format!("{:02}", (t.hour() + 11) % 12 + 1),
            "H" => ((t.hour() + 11) % 12 + 1).to_string(),
            "mm" => format!("{:02}", t.minute()),
            "m" => t.minute().to_string(),
            "ss" => format!("{:02}", t.second()),
            "s" => t.second().to_string(),
            "AA" => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
            "aa" => if t.hour() < 12 { "am" } else { "pm" }.to_string(),
            "Z" if t.offset().is_utc() => "Z".into(),
            "Z" => format!(
                "{:+03}:{:02}",
                t.offset().whole_hours(),
                t.offset().minutes_past_hour().abs()
            ),
            "ZZZ" if t.offset().is_utc() => "UTC".into(),
            "ZZZ" => format!(
                "{:+03}{:02}",
                t.offset().whole_hours(),
                t.offset().minutes_past_hour().abs()
            ),
            "ZZZZ" => format!(
                "{:+03}{:02}",
                t.offset().whole_hours(),
                t.offset().minutes_past_hour().abs()
            ),
            "ZZZZZ" => format!(
                "{:+03}:{:02}",
                t.offset().whole_hours(),
                t.offset().minutes_past_hour().abs()
            ),
            other if other.chars().all(|c| !c.is_ascii_alphabetic()) => other.to_string(),
            other => return Err(format!("invalid date format verb {other:?}")),
        };
        out.push_str(&part);
        i = j;
    }
    Ok(out.into())
}
fn unavailable(_: FuncArgs) -> R {
    Err(
        "this function needs a service (Vault, Consul or AWS) that is not configured for this run"
            .into(),
    )
}

/// The names of every function, for "did you mean" suggestions.
pub const NAMES: &[&str] = &[
    "convert",
    "abs",
    "abspath",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "basename",
    "ceil",
    "chomp",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "dirname",
    "distinct",
    "element",
    "endswith",
    "env",
    "file",
    "filebase64",
    "fileexists",
    "fileset",
    "flatten",
    "floor",
    "format",
    "formatdate",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "md5",
    "merge",
    "min",
    "parseint",
    "pathexpand",
    "pow",
    "range",
    "regex",
    "regex_replace",
    "replace",
    "reverse",
    "setunion",
    "sha1",
    "sha256",
    "sha512",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "templatefile",
    "timestamp",
    "title",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "urlencode",
    "uuidv4",
    "uuidv5",
    "values",
    "zipmap",
    "formatdate",
];

/// Declares the function library in `ctx`. `with_env` adds `env`, which Packer allows only in
/// variable defaults.
pub fn declare(ctx: &mut Context, with_env: bool) {
    use ParamType::{Any, Number, String as Str};
    let f = |p: Vec<ParamType>, func: hcl::eval::Func| FuncDef::builder().params(p).build(func);
    let v = |p: Vec<ParamType>, rest: ParamType, func: hcl::eval::Func| {
        FuncDef::builder()
            .params(p)
            .variadic_param(rest)
            .build(func)
    };
    let one: &[(&str, ParamType, hcl::eval::Func)] = &[
        ("upper", Str, upper),
        ("lower", Str, lower),
        ("trimspace", Str, trimspace),
        ("chomp", Str, chomp),
        ("title", Str, title),
        ("strrev", Str, strrev),
        ("length", Any, length),
        ("abs", Number, abs),
        ("ceil", Number, ceil),
        ("floor", Number, floor),
        ("signum", Number, signum),
        ("keys", Any, keys),
        ("values", Any, values),
        ("base64encode", Str, base64encode),
        ("base64decode", Str, base64decode),
        ("jsonencode", Any, jsonencode),
        ("jsondecode", Str, jsondecode),
        ("urlencode", Str, urlencode),
        ("md5", Str, md5),
        ("sha1", Str, sha1),
        ("sha256", Str, sha256),
        ("sha512", Str, sha512),
        ("file", Str, file),
        ("fileexists", Str, fileexists),
        ("filebase64", Str, filebase64),
        ("filesha256", Str, filesha256),
        ("abspath", Str, abspath),
        ("basename", Str, basename),
        ("dirname", Str, dirname),
        ("pathexpand", Str, pathexpand),
        ("tostring", Any, tostring),
        ("tonumber", Any, tonumber),
        ("tobool", Any, tobool),
        ("tolist", Any, tolist),
        ("toset", Any, toset),
        ("tomap", Any, tomap),
        ("flatten", Any, flatten),
        ("distinct", Any, distinct),
        ("reverse", Any, reverse),
        ("sort", Any, sort),
        ("compact", Any, compact),
        ("alltrue", Any, alltrue),
        ("anytrue", Any, anytrue),
        ("sum", Any, sum),
    ];
    for (name, p, func) in one {
        ctx.declare_func(*name, f(vec![p.clone()], *func));
    }
    let two: &[(&str, hcl::eval::Func)] = &[
        ("split", split),
        ("trimprefix", trimprefix),
        ("trimsuffix", trimsuffix),
        ("trim", trim),
        ("startswith", startswith),
        ("endswith", endswith),
        ("strcontains", strcontains),
        ("contains", contains),
        ("element", element),
        ("index", index_fn),
        ("pow", pow),
        ("parseint", parseint),
        ("zipmap", zipmap),
        ("chunklist", chunklist),
        ("fileset", fileset),
        ("templatefile", templatefile),
        ("uuidv5", uuidv5),
        ("formatdate", formatdate),
        ("regex", regex),
    ];
    for (name, func) in two {
        ctx.declare_func(*name, f(vec![Any, Any], *func));
    }
    for (name, func) in [
        ("replace", replace as hcl::eval::Func),
        ("regex_replace", regex_replace),
        ("substr", substr),
        ("slice", slice),
    ] {
        ctx.declare_func(name, f(vec![Any, Any, Any], func));
    }
    ctx.declare_func("join", v(vec![Any], Any, join));
    ctx.declare_func("format", v(vec![Any], Any, format));
    ctx.declare_func("lookup", v(vec![Any, Any], Any, lookup));
    for (name, func) in [
        ("concat", concat as hcl::eval::Func),
        ("merge", merge),
        ("coalesce", coalesce),
        ("coalescelist", coalescelist),
        ("min", min),
        ("max", max),
        ("range", range),
        ("setunion", setunion),
    ] {
        ctx.declare_func(name, v(vec![], Any, func));
    }
    ctx.declare_func("timestamp", f(vec![], timestamp));
    ctx.declare_func("uuidv4", f(vec![], uuidv4));
    for name in [
        "vault",
        "consul_key",
        "aws_secretsmanager",
        "aws_secretsmanager_raw",
    ] {
        ctx.declare_func(name, v(vec![], Any, unavailable));
    }
    if with_env {
        ctx.declare_func("env", f(vec![Str], env));
    }
    crate::functions_ext::declare(ctx);
    crate::ordered::declare(ctx);
    ctx.declare_func("__kiln_convert", f(vec![Any, Str], convert_fn));
}

/// Terraform functions that Packer does not have: declared for Kiln's own use, but a template
/// that calls one is refused as Packer refuses it.
pub const NOT_IN_PACKER: &[&str] = &[
    "tostring",
    "tonumber",
    "tobool",
    "tolist",
    "toset",
    "tomap",
    "one",
    "setsubtract",
    "transpose",
    "matchkeys",
    "trimleft",
    "base64sha256",
    "base64sha512",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
];

/// `convert(value, type)`: the type expression arrives as its text (see `ordered::rewrite`).
fn convert_fn(args: FuncArgs) -> R {
    let text = s(&args[1])?;
    let e: hcl::Expression = text
        .parse()
        .map_err(|_| format!("{text:?} is not a type"))?;
    let ty = crate::types::parse(&e)?;
    crate::types::convert(args[0].clone(), &ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> Value {
        let mut ctx = Context::new();
        declare(&mut ctx, true);
        let e: hcl::Expression = hcl::from_str::<hcl::Body>(&format!("x = {expr}"))
            .unwrap()
            .attributes()
            .next()
            .unwrap()
            .expr()
            .clone();
        e.evaluate(&ctx).unwrap()
    }

    #[test]
    fn timestamp_is_rfc3339_in_whole_seconds() {
        let t = eval("timestamp()");
        let t = t.as_str().unwrap();
        let re = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap();
        assert!(re.is_match(t), "{t}");
    }

    #[test]
    fn documented_values() {
        assert_eq!(eval(r#"upper("hello")"#), Value::from("HELLO"));
        assert_eq!(
            eval(r#"join(", ", ["a", "b"], ["c"])"#),
            Value::from("a, b, c")
        );
        assert_eq!(
            eval(r#"format("Hello, %s!", "Ander")"#),
            Value::from("Hello, Ander!")
        );
        assert_eq!(
            eval(r#"format("There are %d lights", 4)"#),
            Value::from("There are 4 lights")
        );
        assert_eq!(eval(r#"substr("hello world", 1, 4)"#), Value::from("ello"));
        assert_eq!(
            eval(r#"replace("1 + 2 + 3", "+", "-")"#),
            Value::from("1 - 2 - 3")
        );
        assert_eq!(
            eval(r#"replace("hello world", "/w.*d/", "everybody")"#),
            Value::from("hello world")
        );
        assert_eq!(
            eval(r#"trimprefix("helloworld", "hello")"#),
            Value::from("world")
        );
        assert_eq!(eval(r#"length(split(",", "a,b,c"))"#), Value::from(3));
        assert_eq!(
            eval(r#"lookup({a="ay"}, "c", "what?")"#),
            Value::from("what?")
        );
        assert_eq!(eval("max(12, 54, 3)"), Value::from(54));
        assert_eq!(eval("sum([10, 13, 6, 4.5])"), num(33.5));
        assert_eq!(
            eval(r#"base64encode("Hello World")"#),
            Value::from("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            eval(r#"sha256("hello world")"#),
            Value::from("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            eval(r#"formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")"#),
            Value::from("02 Jan 2018 23:12 UTC")
        );
        assert_eq!(
            eval(r#"formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")"#),
            Value::from("Tuesday, 02-Jan-18 23:12:01 UTC")
        );
        assert_eq!(
            eval(r#"uuidv5("dns", "www.terraform.io")"#),
            Value::from("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert_eq!(
            eval(r#"distinct(["a", "b", "a"])"#),
            Value::Array(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            eval(r#"basename("foo/bar/baz.txt")"#),
            Value::from("baz.txt")
        );
        assert_eq!(
            eval(r#"jsonencode({"hello"="world"})"#),
            Value::from(r#"{"hello":"world"}"#)
        );
    }
}

//! More of the function library: the rest of Terraform's standard functions that Packer offers
//! (YAML and CSV, gzip, IP networks, sets, `timeadd`, `bcrypt`, file digests) and Packer's
//! `legacy_isotime` / `legacy_strftime`. `try` and `can` are in `lazy.rs`, because their
//! arguments must not be evaluated before the call.

use crate::functions::{list, n, num, obj, s, type_name};
use base64::Engine as _;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Value};
use sha2::Digest as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

type R = Result<Value, String>;

/// Names this module declares.
pub const NAMES: &[&str] = &[
    "rfc3339_parse",
    "unix_timestamp_parse",
    "indent",
    "regexall",
    "formatlist",
    "textencodebase64",
    "textdecodebase64",
    "setintersection",
    "setproduct",
    "log",
    "base64gzip",
    "csvdecode",
    "yamlencode",
    "yamldecode",
    "timeadd",
    "rsadecrypt",
    "legacy_isotime",
    "legacy_strftime",
    "bcrypt",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "try",
    "can",
    "lookup",
];

fn indent(a: FuncArgs) -> R {
    let count = n(&a[0])?;
    if !(0.0..=1024.0).contains(&count) {
        return Err(format!(
            "the number of spaces must be between 0 and 1024, got {count}"
        ));
    }
    let spaces = " ".repeat(count as usize);
    // As cty: every newline is followed by the padding, blank and last lines included.
    let text = s(&a[1])?;
    Ok(text.replace('\n', &format!("\n{spaces}")).into())
}

fn regexall(a: FuncArgs) -> R {
    let re = regex::Regex::new(&s(&a[0])?).map_err(|e| format!("invalid pattern: {e}"))?;
    let text = s(&a[1])?;
    let names: Vec<Option<&str>> = re.capture_names().collect();
    let named = names.iter().skip(1).any(Option::is_some);
    let mut out = Vec::new();
    for c in re.captures_iter(&text) {
        if re.captures_len() == 1 {
            out.push(Value::from(c.get(0).map_or("", |m| m.as_str())));
        } else if named {
            let mut m = Map::new();
            for name in names.iter().flatten() {
                m.insert(
                    (*name).to_string(),
                    Value::from(c.name(name).map_or("", |x| x.as_str())),
                );
            }
            out.push(Value::Object(m));
        } else {
            out.push(Value::Array(
                (1..re.captures_len())
                    .map(|i| Value::from(c.get(i).map_or("", |x| x.as_str())))
                    .collect(),
            ));
        }
    }
    Ok(Value::Array(out))
}

fn formatlist(a: FuncArgs) -> R {
    let fmt = s(&a[0])?;
    let rest: Vec<Value> = a.iter().skip(1).cloned().collect();
    let len = rest
        .iter()
        .filter_map(|v| match v {
            Value::Array(x) => Some(x.len()),
            _ => None,
        })
        .max()
        .unwrap_or(1);
    for v in &rest {
        if let Value::Array(x) = v {
            if x.len() != len {
                return Err("all list arguments must have the same length".into());
            }
        }
    }
    let mut out = Vec::new();
    for i in 0..len {
        let mut args = vec![Value::from(fmt.clone())];
        for v in &rest {
            args.push(match v {
                Value::Array(x) => x[i].clone(),
                other => other.clone(),
            });
        }
        let mut ctx = Context::new();
        crate::functions::declare(&mut ctx, false);
        let call = hcl::expr::FuncCall::builder("format");
        let call = args
            .into_iter()
            .fold(call, |c, v| c.arg(hcl::Expression::from(v)));
        let e = hcl::Expression::from(call.build());
        out.push(hcl::eval::Evaluate::evaluate(&e, &ctx).map_err(|e| e.to_string())?);
    }
    Ok(Value::Array(out))
}

/// windows-1252's bytes 0x80..=0x9F (0 where the code page leaves one undefined).
const CP1252_HIGH: [u16; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// The encodings textencodebase64 / textdecodebase64 take: UTF-8, UTF-16LE/BE, ISO-8859-1,
/// windows-1252.
fn encoding(name: &str) -> Result<&'static str, String> {
    match name.to_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Ok("utf-8"),
        "UTF-16LE" => Ok("utf-16le"),
        "UTF-16BE" => Ok("utf-16be"),
        "ISO-8859-1" | "LATIN1" => Ok("latin1"),
        "WINDOWS-1252" | "CP1252" => Ok("cp1252"),
        _ => Err(format!(
            "{name:?} is not a supported IANA encoding name; use UTF-8, UTF-16LE, UTF-16BE or ISO-8859-1"
        )),
    }
}

fn textencodebase64(a: FuncArgs) -> R {
    let text = s(&a[0])?;
    let bytes: Vec<u8> = match encoding(&s(&a[1])?)? {
        "utf-16le" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "utf-16be" => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        "latin1" => text
            .chars()
            .map(|c| {
                u8::try_from(u32::from(c))
                    .map_err(|_| format!("the character {c:?} cannot be encoded in ISO-8859-1"))
            })
            .collect::<Result<_, _>>()?,
        "cp1252" => text
            .chars()
            .map(|c| {
                let u = u32::from(c);
                if let Some(i) = CP1252_HIGH
                    .iter()
                    .position(|&h| h != 0 && u32::from(h) == u)
                {
                    return Ok(0x80 + u8::try_from(i).unwrap_or(0));
                }
                match u8::try_from(u) {
                    Ok(b) if !(0x80..0xA0).contains(&b) => Ok(b),
                    _ => Err(format!(
                        "the character {c:?} cannot be encoded in windows-1252"
                    )),
                }
            })
            .collect::<Result<_, _>>()?,
        _ => text.into_bytes(),
    };
    Ok(base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .into())
}

fn textdecodebase64(a: FuncArgs) -> R {
    let enc = encoding(&s(&a[1])?)?;
    let b = base64::engine::general_purpose::STANDARD
        .decode(s(&a[0])?)
        .map_err(|e| format!("invalid base64: {e}"))?;
    let units = |be: bool| -> Result<String, String> {
        if b.len() % 2 != 0 {
            return Err("the decoded bytes are not UTF-16".into());
        }
        let u: Vec<u16> = b
            .chunks(2)
            .map(|c| {
                if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&u).map_err(|_| "the decoded bytes are not UTF-16".into())
    };
    match enc {
        "utf-16le" => units(false).map(Value::from),
        "utf-16be" => units(true).map(Value::from),
        "latin1" => Ok(b.iter().map(|&x| char::from(x)).collect::<String>().into()),
        "cp1252" => Ok(b
            .iter()
            .map(|&x| match x {
                0x80..=0x9F => char::from_u32(u32::from(CP1252_HIGH[usize::from(x - 0x80)]))
                    .filter(|_| CP1252_HIGH[usize::from(x - 0x80)] != 0)
                    .unwrap_or('\u{FFFD}'),
                _ => char::from(x),
            })
            .collect::<String>()
            .into()),
        _ => String::from_utf8(b)
            .map(Value::from)
            .map_err(|_| "the decoded bytes are not UTF-8".into()),
    }
}

fn dedup(v: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

fn setintersection(a: FuncArgs) -> R {
    let mut sets = a.iter().map(list);
    let mut acc = dedup(sets.next().ok_or("at least one set is required")??);
    for s2 in sets {
        let s2 = s2?;
        acc.retain(|x| s2.contains(x));
    }
    Ok(Value::Array(crate::types::set_order(acc)))
}

fn setsubtract(a: FuncArgs) -> R {
    let b = list(&a[1])?;
    Ok(Value::Array(
        dedup(list(&a[0])?)
            .into_iter()
            .filter(|x| !b.contains(x))
            .collect(),
    ))
}

fn setproduct(a: FuncArgs) -> R {
    let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
    for l in a.iter() {
        let l = list(l)?;
        acc = acc
            .into_iter()
            .flat_map(|prefix| {
                l.iter().map(move |x| {
                    let mut p = prefix.clone();
                    p.push(x.clone());
                    p
                })
            })
            .collect();
    }
    if a.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(Value::Array(acc.into_iter().map(Value::Array).collect()))
}

fn transpose(a: FuncArgs) -> R {
    let mut out: std::collections::BTreeMap<String, Vec<Value>> = std::collections::BTreeMap::new();
    for (k, v) in obj(&a[0])? {
        for x in list(&v)? {
            out.entry(s(&x)?).or_default().push(Value::from(k.clone()));
        }
    }
    Ok(Value::Object(
        out.into_iter().map(|(k, v)| (k, Value::Array(v))).collect(),
    ))
}

fn one(a: FuncArgs) -> R {
    let l = list(&a[0])?;
    match l.len() {
        0 => Ok(Value::Null),
        1 => Ok(l[0].clone()),
        n => Err(format!(
            "must be a list, set, or tuple value with either zero or one elements, got {n}"
        )),
    }
}

fn matchkeys(a: FuncArgs) -> R {
    let (vals, keys, search) = (list(&a[0])?, list(&a[1])?, list(&a[2])?);
    if vals.len() != keys.len() {
        return Err("length of keys and values should be equal".into());
    }
    Ok(Value::Array(
        vals.into_iter()
            .zip(keys)
            .filter(|(_, k)| search.contains(k))
            .map(|(v, _)| v)
            .collect(),
    ))
}

fn log(a: FuncArgs) -> R {
    Ok(num(n(&a[0])?.ln() / n(&a[1])?.ln()))
}

fn base64gzip(a: FuncArgs) -> R {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(s(&a[0])?.as_bytes())
        .map_err(|e| e.to_string())?;
    let b = e.finish().map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(b).into())
}

/// Parses RFC 4180 CSV into rows of fields.
fn csv_rows(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            other => {
                field.push(other);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

fn csvdecode(a: FuncArgs) -> R {
    let rows = csv_rows(&s(&a[0])?)?;
    let mut it = rows.into_iter();
    let header = it.next().ok_or("missing header line")?;
    let mut out = Vec::new();
    for (i, r) in it.enumerate() {
        // Go's encoding/csv skips empty lines.
        if r.len() == 1 && r[0].is_empty() {
            continue;
        }
        if r.len() != header.len() {
            return Err(format!(
                "line {}: wrong number of fields (expected {}, got {})",
                i + 2,
                header.len(),
                r.len()
            ));
        }
        out.push(Value::Object(
            header
                .iter()
                .cloned()
                .zip(r.into_iter().map(Value::from))
                .collect(),
        ));
    }
    Ok(Value::Array(out))
}

fn yamlencode(a: FuncArgs) -> R {
    Ok(crate::yaml::encode(&a[0]).into())
}

fn yamldecode(a: FuncArgs) -> R {
    crate::yaml::decode(&s(&a[0])?)
}

fn b64<D: sha2::Digest>(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(D::digest(data))
}

fn read(a: &Value) -> Result<Vec<u8>, String> {
    let p = s(a)?;
    std::fs::read(crate::functions::in_base_dir(&p)).map_err(|e| format!("cannot read {p:?}: {e}"))
}

fn base64sha256(a: FuncArgs) -> R {
    Ok(b64::<sha2::Sha256>(s(&a[0])?.as_bytes()).into())
}
fn base64sha512(a: FuncArgs) -> R {
    Ok(b64::<sha2::Sha512>(s(&a[0])?.as_bytes()).into())
}
fn filemd5(a: FuncArgs) -> R {
    Ok(hex::encode(md5::Md5::digest(read(&a[0])?)).into())
}
fn filesha1(a: FuncArgs) -> R {
    Ok(hex::encode(sha1::Sha1::digest(read(&a[0])?)).into())
}
fn filesha512(a: FuncArgs) -> R {
    Ok(hex::encode(sha2::Sha512::digest(read(&a[0])?)).into())
}
fn filebase64sha256(a: FuncArgs) -> R {
    Ok(b64::<sha2::Sha256>(&read(&a[0])?).into())
}
fn filebase64sha512(a: FuncArgs) -> R {
    Ok(b64::<sha2::Sha512>(&read(&a[0])?).into())
}

/// Parses a Go duration that may be negative (`-1h30m`).
fn signed_duration(text: &str) -> Result<time::Duration, String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let d = kiln_core::duration::parse(body)?;
    let d = time::Duration::try_from(d).map_err(|e| e.to_string())?;
    Ok(if neg { -d } else { d })
}

fn timeadd(a: FuncArgs) -> R {
    use time::format_description::well_known::Rfc3339;
    let ts = s(&a[0])?;
    let t = time::OffsetDateTime::parse(&ts, &Rfc3339)
        .map_err(|e| format!("invalid RFC 3339 timestamp {ts:?}: {e}"))?;
    let t = t
        .checked_add(signed_duration(&s(&a[1])?)?)
        .ok_or("the resulting time is out of range")?;
    // Go's time.RFC3339: whole seconds, `Z` for UTC.
    let t = t.replace_nanosecond(0).map_err(|e| e.to_string())?;
    Ok(t.format(&Rfc3339).map_err(|e| e.to_string())?.into())
}

fn legacy_isotime(a: FuncArgs) -> R {
    let layout = s(&a[0])?;
    Ok(crate::gotmpl::go_time_format(time::OffsetDateTime::now_utc(), &layout).into())
}

fn legacy_strftime(a: FuncArgs) -> R {
    Ok(crate::gotmpl::strftime(time::OffsetDateTime::now_utc(), &s(&a[0])?).into())
}

fn bcrypt_fn(a: FuncArgs) -> R {
    let cost = match a.get(1) {
        Some(c) => n(c)? as u32,
        None => 10,
    };
    // Go's golang.org/x/crypto/bcrypt writes the `$2a$` prefix.
    bcrypt::hash_with_result(s(&a[0])?, cost)
        .map(|h| Value::from(h.format_for_version(bcrypt::Version::TwoA)))
        .map_err(|e| e.to_string())
}

/// An IP network as (address as u128, prefix length, bits in the family, is v4).
fn parse_cidr(text: &str) -> Result<(u128, u32, u32, bool), String> {
    let (addr, len) = text
        .split_once('/')
        .ok_or_else(|| format!("invalid CIDR address {text:?}"))?;
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("invalid CIDR address {text:?}"))?;
    let len: u32 = len
        .parse()
        .map_err(|_| format!("invalid CIDR address {text:?}"))?;
    let (v, bits, v4) = match ip {
        IpAddr::V4(x) => (u128::from(u32::from(x)), 32, true),
        IpAddr::V6(x) => (u128::from(x), 128, false),
    };
    if len > bits {
        return Err(format!("invalid CIDR address {text:?}: prefix too long"));
    }
    let mask = if len == 0 {
        0
    } else {
        (!0u128 << (bits - len)) & ones(bits)
    };
    Ok((v & mask, len, bits, v4))
}

fn ones(bits: u32) -> u128 {
    if bits == 128 {
        !0
    } else {
        (1u128 << bits) - 1
    }
}

fn show_ip(v: u128, v4: bool) -> String {
    if v4 {
        Ipv4Addr::from(v as u32).to_string()
    } else {
        Ipv6Addr::from(v).to_string()
    }
}

fn cidrhost(a: FuncArgs) -> R {
    let (base, len, bits, v4) = parse_cidr(&s(&a[0])?)?;
    let host = n(&a[1])? as i128;
    let size = 1i128 << (bits - len).min(126);
    let idx = if host < 0 { size + host } else { host };
    if idx < 0 || idx >= size {
        return Err(format!(
            "prefix of {len} does not accommodate a host numbered {host}"
        ));
    }
    Ok(show_ip(base + idx as u128, v4).into())
}

fn cidrnetmask(a: FuncArgs) -> R {
    let (_, len, bits, v4) = parse_cidr(&s(&a[0])?)?;
    // Go's net.IP(mask).String(): an IPv6 mask is written as an IPv6 address.
    let mask = if len == 0 {
        0
    } else {
        (!0u128 << (bits - len)) & ones(bits)
    };
    Ok(show_ip(mask, v4).into())
}

fn subnet(prefix: &str, newbits: u32, num_: u128) -> Result<String, String> {
    let (base, len, bits, v4) = parse_cidr(prefix)?;
    let new_len = len + newbits;
    if new_len > bits {
        return Err(format!(
            "insufficient address space to extend prefix of {len} by {newbits}"
        ));
    }
    if newbits < 127 && num_ >= (1u128 << newbits) {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {num_}"
        ));
    }
    let v = base | num_.checked_shl(bits - new_len).unwrap_or(0);
    Ok(format!("{}/{new_len}", show_ip(v, v4)))
}

fn cidrsubnet(a: FuncArgs) -> R {
    subnet(&s(&a[0])?, n(&a[1])? as u32, n(&a[2])? as u128).map(Value::from)
}

fn cidrsubnets(a: FuncArgs) -> R {
    let prefix = s(&a[0])?;
    let (base, len, bits, v4) = parse_cidr(&prefix)?;
    let mut next = base;
    let mut out = Vec::new();
    for nb in a.iter().skip(1) {
        let nb = n(nb)? as u32;
        let new_len = len + nb;
        if new_len > bits {
            return Err(format!(
                "would extend prefix to {new_len} bits, which is too long"
            ));
        }
        let Some(size) = 1u128.checked_shl(bits - new_len) else {
            return Err("a subnet cannot span the whole address space".into());
        };
        // Align up to the subnet size.
        let start = next
            .div_ceil(size)
            .checked_mul(size)
            .ok_or("not enough remaining address space")?;
        let last = base.saturating_add(ones(bits - len));
        if start.checked_add(size - 1).is_none_or(|end| end > last) {
            return Err(format!(
                "not enough remaining address space for a subnet with a prefix of {new_len} bits"
            ));
        }
        out.push(Value::from(format!("{}/{new_len}", show_ip(start, v4))));
        next = start.saturating_add(size);
    }
    Ok(Value::Array(out))
}

fn trimleft(a: FuncArgs) -> R {
    let cut = s(&a[1])?;
    Ok(s(&a[0])?
        .trim_start_matches(|c| cut.contains(c))
        .to_string()
        .into())
}

/// Eager stand-ins for `try` and `can`, used where `lazy.rs` cannot intercept the call (inside a
/// `for` expression): reaching them means every argument evaluated.
fn try_eager(a: FuncArgs) -> R {
    a.iter()
        .next()
        .cloned()
        .ok_or_else(|| "at least one argument is required".into())
}
fn can_eager(_: FuncArgs) -> R {
    Ok(Value::Bool(true))
}

/// The fields Packer 1.16's `rfc3339_parse` and `unix_timestamp_parse` return for a time, in its
/// own offset.
fn time_fields(t: time::OffsetDateTime) -> Map<String, Value> {
    let mut m = Map::new();
    let (iso_year, iso_week, _) = t.to_iso_week_date();
    m.insert("year".into(), Value::from(t.year()));
    m.insert("year_day".into(), Value::from(t.ordinal()));
    m.insert("day".into(), Value::from(t.day()));
    m.insert("month".into(), Value::from(u8::from(t.month())));
    m.insert("month_name".into(), Value::from(t.month().to_string()));
    m.insert(
        "weekday".into(),
        Value::from(t.weekday().number_days_from_sunday()),
    );
    m.insert("weekday_name".into(), Value::from(t.weekday().to_string()));
    m.insert("hour".into(), Value::from(t.hour()));
    m.insert("minute".into(), Value::from(t.minute()));
    m.insert("second".into(), Value::from(t.second()));
    m.insert("iso_year".into(), Value::from(iso_year));
    m.insert("iso_week".into(), Value::from(iso_week));
    m
}

fn rfc3339_parse(a: FuncArgs) -> R {
    let text = s(&a[0])?;
    let mut norm = text.clone();
    if norm.len() > 10 && norm.as_bytes()[10] == b' ' {
        norm.replace_range(10..11, "T");
    }
    let t = time::OffsetDateTime::parse(&norm, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("{text:?} is not a valid RFC3339 timestamp"))?;
    let mut m = time_fields(t);
    m.insert("unix".into(), Value::from(t.unix_timestamp()));
    Ok(Value::Object(m))
}

fn unix_timestamp_parse(a: FuncArgs) -> R {
    let secs = n(&a[0])?;
    if secs.fract() != 0.0 {
        return Err("the timestamp must be a whole number of seconds".into());
    }
    #[allow(clippy::cast_possible_truncation)]
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .map_err(|e| format!("{secs} is not a valid Unix timestamp: {e}"))?;
    let mut m = time_fields(t);
    let rfc = t
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    m.insert("rfc3339".into(), Value::from(rfc));
    Ok(Value::Object(m))
}

/// Declares this module's functions.
pub fn declare(ctx: &mut Context) {
    use ParamType::Any;
    let f = |count: usize, func: hcl::eval::Func| {
        FuncDef::builder().params(vec![Any; count]).build(func)
    };
    let v = |fixed: usize, func: hcl::eval::Func| {
        FuncDef::builder()
            .params(vec![Any; fixed])
            .variadic_param(Any)
            .build(func)
    };
    for (name, count, func) in [
        ("indent", 2, indent as hcl::eval::Func),
        ("regexall", 2, regexall),
        ("textencodebase64", 2, textencodebase64),
        ("textdecodebase64", 2, textdecodebase64),
        ("setsubtract", 2, setsubtract),
        ("transpose", 1, transpose),
        ("one", 1, one),
        ("matchkeys", 3, matchkeys),
        ("log", 2, log),
        ("base64gzip", 1, base64gzip),
        ("csvdecode", 1, csvdecode),
        ("yamlencode", 1, yamlencode),
        ("yamldecode", 1, yamldecode),
        ("base64sha256", 1, base64sha256),
        ("base64sha512", 1, base64sha512),
        ("filemd5", 1, filemd5),
        ("filesha1", 1, filesha1),
        ("filesha512", 1, filesha512),
        ("filebase64sha256", 1, filebase64sha256),
        ("filebase64sha512", 1, filebase64sha512),
        ("timeadd", 2, timeadd),
        ("rsadecrypt", 2, crate::rsadecrypt::rsadecrypt),
        ("legacy_isotime", 1, legacy_isotime),
        ("legacy_strftime", 1, legacy_strftime),
        ("cidrhost", 2, cidrhost),
        ("cidrnetmask", 1, cidrnetmask),
        ("cidrsubnet", 3, cidrsubnet),
        ("trimleft", 2, trimleft),
        ("can", 1, can_eager),
        ("rfc3339_parse", 1, rfc3339_parse),
        ("unix_timestamp_parse", 1, unix_timestamp_parse),
    ] {
        ctx.declare_func(name, f(count, func));
    }
    for (name, fixed, func) in [
        ("formatlist", 1, formatlist as hcl::eval::Func),
        ("setintersection", 1, setintersection),
        ("setproduct", 0, setproduct),
        ("bcrypt", 1, bcrypt_fn),
        ("cidrsubnets", 1, cidrsubnets),
        ("try", 0, try_eager),
    ] {
        ctx.declare_func(name, v(fixed, func));
    }
    let _ = type_name;
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use hcl::Value;

    fn eval(expr: &str) -> Value {
        let mut ctx = hcl::eval::Context::new();
        crate::functions::declare(&mut ctx, false);
        let e: hcl::Expression = expr.parse().unwrap();
        let e = crate::lazy::prepare(e, &ctx).unwrap();
        hcl::eval::Evaluate::evaluate(&e, &ctx).unwrap()
    }

    fn j(v: &Value) -> String {
        serde_json::to_string(v).unwrap()
    }

    #[test]
    fn documented_values() {
        // The examples in Packer's function documentation.
        assert_eq!(
            j(&eval(r#"indent(2, "[\n  foo,\n  bar,\n]\n")"#)),
            r#""[\n    foo,\n    bar,\n  ]\n  ""#
        );
        assert_eq!(
            j(&eval(r#"regexall("[a-z]+", "1234abcd5678efgh9")"#)),
            r#"["abcd","efgh"]"#
        );
        assert_eq!(
            j(&eval(r#"formatlist("Hello, %s!", ["Valentina", "Ander"])"#)),
            r#"["Hello, Valentina!","Hello, Ander!"]"#
        );
        assert_eq!(
            j(&eval(
                r#"setintersection(["a", "b"], ["b", "c"], ["b", "d"])"#
            )),
            r#"["b"]"#
        );
        assert_eq!(
            j(&eval(
                r#"setproduct(["development", "staging"], ["app1", "app2"])"#
            )),
            r#"[["development","app1"],["development","app2"],["staging","app1"],["staging","app2"]]"#
        );
        assert_eq!(
            j(&eval(r#"setsubtract(["a", "b", "c"], ["a", "c"])"#)),
            r#"["b"]"#
        );
        assert_eq!(
            j(&eval(r#"transpose({"a" = ["1", "2"], "b" = ["2", "3"]})"#)),
            r#"{"1":["a"],"2":["a","b"],"3":["b"]}"#
        );
        assert_eq!(j(&eval(r#"one([])"#)), "null");
        assert_eq!(j(&eval(r#"one(["hello"])"#)), r#""hello""#);
        assert_eq!(
            j(&eval(
                r#"matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"])"#
            )),
            r#"["i-abc","i-def"]"#
        );
        assert_eq!(j(&eval(r#"log(16, 2)"#)), "4");
        assert_eq!(
            j(&eval(r#"csvdecode("a,b,c\n1,2,3\n4,5,6")"#)),
            r#"[{"a":"1","b":"2","c":"3"},{"a":"4","b":"5","c":"6"}]"#
        );
        assert_eq!(
            j(&eval(r#"yamlencode({"a":"b", "c":"d"})"#)),
            r#""\"a\": \"b\"\n\"c\": \"d\"\n""#
        );
        assert_eq!(
            j(&eval(r#"yamlencode({"foo":[1, 2, 3], "bar": "baz"})"#)),
            r#""\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n""#
        );
        assert_eq!(
            j(&eval(r#"yamldecode("hello: world")"#)),
            r#"{"hello":"world"}"#
        );
        assert_eq!(j(&eval(r#"yamldecode("- a\n- b")"#)), r#"["a","b"]"#);
        assert_eq!(
            j(&eval(r#"base64sha256("hello world")"#)),
            r#""uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=""#
        );
        assert_eq!(
            j(&eval(r#"timeadd("2017-11-22T00:00:00Z", "10m")"#)),
            r#""2017-11-22T00:10:00Z""#
        );
        assert_eq!(
            j(&eval(r#"timeadd("2017-11-22T00:00:00Z", "-1h")"#)),
            r#""2017-11-21T23:00:00Z""#
        );
        assert_eq!(
            j(&eval(r#"cidrhost("10.12.112.0/20", 16)"#)),
            r#""10.12.112.16""#
        );
        assert_eq!(
            j(&eval(r#"cidrhost("10.12.112.0/20", 268)"#)),
            r#""10.12.113.12""#
        );
        assert_eq!(
            j(&eval(r#"cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)"#)),
            r#""fd00:fd12:3456:7890::22""#
        );
        assert_eq!(
            j(&eval(r#"cidrnetmask("172.16.0.0/12")"#)),
            r#""255.240.0.0""#
        );
        assert_eq!(
            j(&eval(r#"cidrsubnet("172.16.0.0/12", 4, 2)"#)),
            r#""172.18.0.0/16""#
        );
        assert_eq!(
            j(&eval(r#"cidrsubnet("10.1.2.0/24", 4, 15)"#)),
            r#""10.1.2.240/28""#
        );
        assert_eq!(
            j(&eval(r#"cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)"#)),
            r#""fd00:fd12:3456:7800:a200::/72""#
        );
        assert_eq!(
            j(&eval(r#"cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)"#)),
            r#"["10.1.0.0/20","10.1.16.0/20","10.1.32.0/24","10.1.48.0/20"]"#
        );
        assert_eq!(j(&eval(r#"try(tonumber("no"), 5)"#)), "5");
        assert_eq!(j(&eval(r#"try({a = 1}.b, "fallback")"#)), r#""fallback""#);
        assert_eq!(j(&eval(r#"can(tonumber("12"))"#)), "true");
        assert_eq!(j(&eval(r#"can(tonumber("x"))"#)), "false");
        assert_eq!(
            j(&eval(r#"[for x in ["1", "b"]: can(tonumber(x))]"#)),
            "[true,false]"
        );
        let h = eval(r#"bcrypt("hello", 4)"#);
        assert!(bcrypt::verify("hello", h.as_str().unwrap()).unwrap());
        assert_eq!(
            j(&eval(
                r#"textdecodebase64(textencodebase64("Hello", "UTF-8"), "UTF-8")"#
            )),
            r#""Hello""#
        );
        let gz = eval(r#"base64gzip("hello")"#);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(gz.as_str().unwrap())
            .unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut text)
            .unwrap();
        assert_eq!(text, "hello");
    }
}

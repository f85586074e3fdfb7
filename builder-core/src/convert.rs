//! The conversions Packer applies when it decodes a plugin body into a plugin's settings.
//!
//! In HCL2 templates, cty converts a value to the type the schema wants: the string `"2"` where a
//! number is wanted, `"true"` where a bool is, a number or bool where a string is. Legacy JSON
//! templates are decoded by mapstructure with weak typing, which converts more: `"0x10"` and `""`
//! to numbers, `"t"`/`"1"` to true, a bool to the string `"1"`, and a single value to a list of
//! one. Serde reports the first value of the wrong type with its path and the type it wanted;
//! [`coerce`] converts that value in place when Packer would, so decoding can go on.

use serde_json::Value as J;

/// One step of a path into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// The value at `path`, if any.
pub fn at<'a>(v: &'a mut J, path: &[Step]) -> Option<&'a mut J> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), J::Object(m)) => m.get_mut(k)?,
            (Step::Index(i), J::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Removes the value at `path` (its map entry, or the list holding it), so that decoding can go
/// on past a value that cannot be converted. Returns false if nothing could be removed.
pub fn remove(v: &mut J, path: &[Step]) -> bool {
    // Take out the innermost map entry on the path.
    let Some(last_key) = path.iter().rposition(|s| matches!(s, Step::Key(_))) else {
        return false;
    };
    let Some(J::Object(m)) = at(v, &path[..last_key]) else {
        return false;
    };
    match &path[last_key] {
        Step::Key(k) => m.remove(k).is_some(),
        Step::Index(_) => false,
    }
}

/// What serde said it expected, from "invalid type: ..., expected X" / "invalid value: ...".
fn expected(msg: &str) -> Option<&str> {
    if !(msg.starts_with("invalid type: ") || msg.starts_with("invalid value: ")) {
        return None;
    }
    msg.rsplit_once(", expected ").map(|(_, e)| e)
}

const INTS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

/// Go's strconv.ParseInt with base 0 (as mapstructure's weak decoding): an optional sign, then
/// `0x`, `0o`, `0b` or a leading `0` for octal, with `_` separators allowed after a prefix.
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed {
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let n = i128::from_str_radix(&digits, radix).ok()?;
    Some(if neg { -n } else { n })
}

/// A decimal number as cty reads a string: no surrounding space, no hex.
fn cty_number(s: &str) -> Option<f64> {
    if s.is_empty() || s.trim() != s || s.starts_with('+') {
        return None;
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn number(f: f64) -> Option<J> {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        #[allow(clippy::cast_possible_truncation)]
        Some(J::from(f as i64))
    } else {
        serde_json::Number::from_f64(f).map(J::Number)
    }
}

/// Go's strconv.ParseBool.
fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A number as a string, the way cty (and Go's mapstructure) writes it.
fn number_string(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// Whether a setting's value leaves it unset, as a Go zero value does: null, `""`, an empty
/// list or an empty object.
#[must_use]
pub fn is_unset(v: &J) -> bool {
    match v {
        J::Null => true,
        J::String(s) => s.is_empty(),
        J::Array(a) => a.is_empty(),
        J::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Whether `v` is a setting's "off" value: unset, `false`, `0`, or a block or list of nothing
/// but such values (`vpc_filter { filters = {} }`). An option Kiln does not implement is no
/// reason to refuse a template that sets it to this, since it does nothing in Packer either.
#[must_use]
pub fn is_inert(v: &J) -> bool {
    match v {
        J::Bool(b) => !b,
        J::Number(n) => n.as_f64() == Some(0.0),
        J::Array(a) => a.iter().all(is_inert),
        J::Object(o) => o.values().all(is_inert),
        other => is_unset(other),
    }
}

/// Converts the value at `path`, which serde refused with `msg`, to the type it wanted, when
/// Packer would (`weak`: legacy JSON's mapstructure rules; otherwise cty's). Returns whether it
/// changed anything.
pub fn coerce(root: &mut J, path: &[Step], msg: &str, weak: bool) -> bool {
    let Some(want) = expected(msg) else {
        return false;
    };
    // A nested block written once (`qemu_img_args { create = [...] }`) is a list of one object,
    // which serde reads as a struct's fields in order: the object, where a field was wanted,
    // stands for the whole block.
    if msg.starts_with("invalid type: map") {
        if let Some((Step::Index(0), parent)) = path.split_last() {
            if let Some(slot) = at(root, parent) {
                if let J::Array(items) = slot {
                    if items.len() == 1 && items[0].is_object() {
                        let only = items.remove(0);
                        *slot = only;
                        return true;
                    }
                }
            }
        }
    }
    let Some(v) = at(root, path) else {
        return false;
    };
    let new = if want.contains("sequence") {
        match &mut *v {
            J::Array(_) | J::Null => None,
            // Packer's decoding hook (mapstructure's StringToSliceHookFunc(",")): a string is
            // split at commas, and "" is an empty list.
            J::String(t) if weak && t.is_empty() => Some(J::Array(Vec::new())),
            J::String(t) if weak => Some(J::Array(
                t.split(',').map(|p| J::String(p.to_string())).collect(),
            )),
            other if weak => Some(J::Array(vec![other.take()])),
            _ => None,
        }
    } else if INTS.contains(&want) || want.contains("integer") {
        match &*v {
            J::String(s) if weak && s.is_empty() => Some(J::from(0)),
            J::String(s) if weak => go_parse_int(s)
                .map(|n| i64::try_from(n).map_or_else(|_| J::String(n.to_string()), J::from)),
            J::String(s) => cty_number(s).filter(|f| f.fract() == 0.0).and_then(number),
            J::Number(n) => n.as_f64().filter(|f| f.fract() == 0.0).and_then(number),
            J::Bool(b) if weak => Some(J::from(i64::from(*b))),
            _ => None,
        }
    } else if want == "f64" || want == "f32" || want.contains("float") {
        match &*v {
            J::String(s) if weak && s.is_empty() => Some(J::from(0.0)),
            J::String(s) if weak => s.parse::<f64>().ok().and_then(number),
            J::String(s) => cty_number(s).and_then(number),
            J::Bool(b) if weak => Some(J::from(i64::from(*b))),
            _ => None,
        }
    } else if want.contains("boolean") || want == "bool" {
        match &*v {
            J::String(s) if weak && s.is_empty() => Some(J::Bool(false)),
            J::String(s) if weak => go_parse_bool(s).map(J::Bool),
            J::String(s) => match s.as_str() {
                "true" => Some(J::Bool(true)),
                "false" => Some(J::Bool(false)),
                _ => None,
            },
            J::Number(n) if weak => Some(J::Bool(n.as_f64() != Some(0.0))),
            _ => None,
        }
    } else if want.contains("string") {
        match &*v {
            J::Number(n) => Some(J::String(number_string(n))),
            J::Bool(b) if weak => Some(J::String(if *b { "1" } else { "0" }.into())),
            J::Bool(b) => Some(J::String(b.to_string())),
            _ => None,
        }
    } else if want.contains("map") || want.contains("struct") {
        // mapstructure's weak decoding merges a list of maps into one map.
        match &mut *v {
            // A nested block written once (`qemu_img_args { ... }`) where one object is wanted.
            J::Array(items) if items.len() == 1 && items[0].is_object() => Some(items.remove(0)),
            J::Array(items) if weak && items.iter().all(J::is_object) => {
                let mut m = serde_json::Map::new();
                for it in items.drain(..) {
                    if let J::Object(o) = it {
                        m.extend(o);
                    }
                }
                Some(J::Object(m))
            }
            _ => None,
        }
    } else {
        None
    };
    match new {
        Some(n) if n != *v => {
            *v = n;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_values_are_inert() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(""),
            json!([]),
            json!([{"filters": {}}]),
            json!({"a": false, "b": [0]}),
        ] {
            assert!(is_inert(&v), "{v}");
        }
        for v in [
            json!(true),
            json!(1),
            json!("x"),
            json!([{"filters": {"a": "b"}}]),
        ] {
            assert!(!is_inert(&v), "{v}");
        }
    }
    use serde_json::json;

    fn conv(v: J, want: &str, weak: bool) -> J {
        let mut root = json!({ "x": v });
        let msg = format!("invalid type: string \"?\", expected {want}");
        coerce(&mut root, &[Step::Key("x".into())], &msg, weak);
        root["x"].take()
    }

    #[test]
    fn cty_conversions() {
        assert_eq!(conv(json!("2"), "u16", false), json!(2));
        assert_eq!(conv(json!("2.5"), "u16", false), json!("2.5"));
        assert_eq!(conv(json!("0x10"), "u16", false), json!("0x10"));
        assert_eq!(conv(json!(4.0), "u32", false), json!(4));
        assert_eq!(conv(json!("true"), "a boolean", false), json!(true));
        assert_eq!(conv(json!("1"), "a boolean", false), json!("1"));
        assert_eq!(conv(json!(8), "a string", false), json!("8"));
        assert_eq!(conv(json!(true), "a string", false), json!("true"));
        assert_eq!(conv(json!("a"), "a sequence", false), json!("a"));
    }

    #[test]
    fn a_block_written_once_is_the_struct() {
        let mut root = json!({"qemu_img_args": [{"create": ["-F", "qcow2"]}]});
        let path = [Step::Key("qemu_img_args".into()), Step::Index(0)];
        assert!(coerce(
            &mut root,
            &path,
            "invalid type: map, expected a sequence",
            false
        ));
        assert_eq!(root, json!({"qemu_img_args": {"create": ["-F", "qcow2"]}}));
    }

    #[test]
    fn mapstructure_weak_conversions() {
        assert_eq!(conv(json!("0x10"), "u16", true), json!(16));
        assert_eq!(conv(json!("010"), "u16", true), json!(8));
        assert_eq!(conv(json!(""), "u16", true), json!(0));
        assert_eq!(conv(json!("T"), "a boolean", true), json!(true));
        assert_eq!(conv(json!(0), "a boolean", true), json!(false));
        assert_eq!(conv(json!(true), "a string", true), json!("1"));
        assert_eq!(conv(json!("a.iso"), "a sequence", true), json!(["a.iso"]));
        assert_eq!(
            conv(json!([{"a": 1}]), "struct QemuImgArgs", false),
            json!({"a": 1})
        );
        assert_eq!(
            conv(json!([{"a": 1}, {"b": 2}]), "a map", true),
            json!({"a": 1, "b": 2})
        );
    }
}

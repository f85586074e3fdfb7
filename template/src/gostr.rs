//! Go's string semantics, where Packer's functions are Go's: letter case rune by rune
//! (`strings.ToUpper`, `strings.ToLower`, `strings.Title`), JSON strings as `encoding/json`
//! writes them (HTML characters escaped), `url.QueryEscape`, and `path/filepath`'s `Base` and
//! `Dir`. cty counts and slices strings by grapheme cluster (`length("👍🏽")` is 1), which
//! [`graphemes`] gives.

use unicode_segmentation::UnicodeSegmentation;

/// Go's `unicode.ToUpper` for one rune: the simple mapping, so `ß` and `ﬁ` stay as they are.
fn upper_rune(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Go's `unicode.ToLower` for one rune (`İ` is `i`).
fn lower_rune(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Go's `unicode.ToTitle` for one rune: as upper, except the digraphs that have a title form.
fn title_rune(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        other => upper_rune(other),
    }
}

/// `strings.ToUpper`.
pub fn upper(s: &str) -> String {
    s.chars().map(upper_rune).collect()
}

/// `strings.ToLower` (no final-sigma rule: `ΣΑΣ` is `σασ`).
pub fn lower(s: &str) -> String {
    s.chars().map(lower_rune).collect()
}

/// Go's word separators for `strings.Title`.
fn is_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// `strings.Title`: the first letter of each word in title case; a word starts after any
/// separator (space, punctuation such as `'` and `.`).
pub fn title(s: &str) -> String {
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_separator(prev) { title_rune(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

/// A string as Go's `encoding/json` writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped as
/// `\u003c` ..., control characters as `\n`, `\t` ... or `\u00XX`.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// JSON as Go's `json.Marshal` writes it: compact, map keys sorted, strings per
/// [`json_string`], numbers as cty writes them (positional, exact: `1/3` keeps its 155 digits).
pub fn json_value(v: &hcl::Value) -> String {
    match v {
        hcl::Value::Null => "null".into(),
        hcl::Value::Bool(b) => b.to_string(),
        hcl::Value::Number(n) => n.to_string(),
        hcl::Value::String(s) => json_string(s),
        hcl::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(json_value).collect();
            format!("[{}]", items.join(","))
        }
        hcl::Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", json_string(k), json_value(&o[k])))
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

/// Go's `url.QueryEscape`: space is `+`, and all but `A-Z a-z 0-9 - _ . ~` is `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `filepath.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Base`: trailing slashes removed; `""` is `.`, `/` is `/`.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's `filepath.Dir`: everything before the last slash, cleaned.
pub fn dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".into(),
    }
}

/// The string's grapheme clusters, as cty counts characters.
pub fn graphemes(s: &str) -> Vec<&str> {
    s.graphemes(true).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_semantics() {
        assert_eq!(upper("straße ﬁ"), "STRAßE ﬁ");
        assert_eq!(lower("ΣΑΣ İ"), "σασ i");
        assert_eq!(
            title("o'neil's a.b,c;d ǆungla ßtraße"),
            "O'Neil'S A.B,C;D ǅungla ßtraße"
        );
        assert_eq!(
            json_string("<>&\u{2028}\n"),
            r#""\u003c\u003e\u0026\u2028\n""#
        );
        assert_eq!(query_escape("a b/é"), "a+b%2F%C3%A9");
        assert_eq!(base("/"), "/");
        assert_eq!(base(""), ".");
        assert_eq!(base("a/b/"), "b");
        assert_eq!(dir("/"), "/");
        assert_eq!(dir("a/b/"), "a/b");
        assert_eq!(dir("foo"), ".");
        assert_eq!(graphemes("👍🏽ab\r\n").len(), 4);
    }
}

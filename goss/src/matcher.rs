//! goss's matchers, evaluated against what a probe found: a scalar means equality (numbers
//! compare as numbers), a list means "contains these elements", and maps name a matcher
//! (`not`, `and`, `or`, `contain-element`, `contain-elements`, `consist-of`, `equal`,
//! `have-prefix`, `have-suffix`, `contain-substring`, `match-regexp`, `gt`, `ge`, `lt`, `le`,
//! `have-len`, `semver-constraint`). Readers (`contents`, `stdout`, `stderr`) take line patterns:
//! `foo` (a line contains it), `!foo` (no line does), `/re/`, `!/re/`.

use serde_yaml::Value;

/// What a probe found for one property.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// A yes/no property (`exists`, `running`).
    Bool(bool),
    /// A number (`uid`, `exit-status`, `size`).
    Number(f64),
    /// A text (`mode`, `owner`, `value`).
    Text(String),
    /// Several texts (`groups`, `versions`, `opts`).
    List(Vec<String>),
}

impl Found {
    /// As goss prints it in a result.
    #[must_use]
    pub fn show(&self) -> String {
        match self {
            Found::Bool(b) => b.to_string(),
            Found::Number(n) => num(*n),
            Found::Text(t) => format!("{t:?}"),
            Found::List(l) => format!("{l:?}"),
        }
    }

    fn texts(&self) -> Vec<String> {
        match self {
            Found::List(l) => l.clone(),
            Found::Text(t) => vec![t.clone()],
            Found::Bool(b) => vec![b.to_string()],
            Found::Number(n) => vec![num(*n)],
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Found::Number(n) => Some(*n),
            Found::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }
}

fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// An expected value as goss's results print it.
#[must_use]
pub fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn equal(expected: &Value, found: &Found) -> bool {
    match (expected, found) {
        (Value::Bool(e), Found::Bool(f)) => e == f,
        (Value::Number(e), f) => match (e.as_f64(), f.number()) {
            (Some(e), Some(f)) => (e - f).abs() < f64::EPSILON,
            _ => false,
        },
        (Value::String(e), Found::Number(f)) => e.trim().parse::<f64>().is_ok_and(|e| e == *f),
        (Value::String(e), Found::Text(f)) => e == f,
        (Value::String(e), Found::Bool(f)) => e == &f.to_string(),
        (Value::Sequence(e), Found::List(f)) => {
            e.len() == f.len()
                && e.iter()
                    .zip(f)
                    .all(|(e, f)| scalar_text(e).as_deref() == Some(f))
        }
        _ => false,
    }
}

/// Whether `element` (a value or a matcher) matches one text.
fn element_matches(element: &Value, text: &str) -> Result<bool, String> {
    match element {
        Value::Mapping(_) => matches(element, &Found::Text(text.to_string())),
        v => Ok(scalar_text(v).as_deref() == Some(text)),
    }
}

fn regex(re: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(re).map_err(|e| format!("invalid regular expression {re:?}: {e}"))
}

/// Tolerant semver: `1.2` is `1.2.0`, a leading `v` and anything after the numbers are dropped
/// (`2.36-9+deb12u4` is `2.36.0`).
fn tolerant(v: &str) -> Option<semver::Version> {
    let v = v.trim().trim_start_matches('v');
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let mut parts: Vec<&str> = v[..end].split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return None;
    }
    parts.truncate(3);
    while parts.len() < 3 {
        parts.push("0");
    }
    semver::Version::parse(&parts.join(".")).ok()
}

/// goss's constraint syntax (`>1.0 <2.0 !=1.5`, `a || b`), every found version satisfying it.
fn semver_constraint(c: &str, found: &Found) -> Result<bool, String> {
    let alternatives: Result<Vec<Vec<(String, semver::Version)>>, String> = c
        .split("||")
        .map(|alt| {
            alt.split_whitespace()
                .map(|term| {
                    let op_end = term
                        .find(|ch: char| ch.is_ascii_digit() || ch == 'v')
                        .unwrap_or(term.len());
                    let (op, v) = term.split_at(op_end);
                    let v = tolerant(v).ok_or_else(|| {
                        format!("semver-constraint {c:?}: {term:?} is not a version")
                    })?;
                    Ok((
                        if op.is_empty() {
                            "=".to_string()
                        } else {
                            op.to_string()
                        },
                        v,
                    ))
                })
                .collect()
        })
        .collect();
    let alternatives = alternatives?;
    let ok = |v: &semver::Version| {
        alternatives.iter().any(|terms| {
            terms.iter().all(|(op, w)| match op.as_str() {
                ">" => v > w,
                ">=" => v >= w,
                "<" => v < w,
                "<=" => v <= w,
                "!=" => v != w,
                _ => v == w,
            })
        })
    };
    let texts = found.texts();
    Ok(!texts.is_empty() && texts.iter().all(|t| tolerant(t).is_some_and(|v| ok(&v))))
}

/// Evaluates `expected` (a value or a matcher) against `found`.
///
/// # Errors
/// A matcher goss does not have, or a bad argument (a regular expression that does not compile).
pub fn matches(expected: &Value, found: &Found) -> Result<bool, String> {
    match expected {
        Value::Sequence(items) => {
            let texts = found.texts();
            for item in items {
                let mut any = false;
                for t in &texts {
                    if element_matches(item, t)? {
                        any = true;
                        break;
                    }
                }
                if !any {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next().expect("one entry");
            let key = k.as_str().unwrap_or_default();
            let text = || match found {
                Found::Text(t) => t.clone(),
                other => other.texts().join("\n"),
            };
            let cmp = |f: fn(f64, f64) -> bool| -> Result<bool, String> {
                let want = arg
                    .as_f64()
                    .ok_or_else(|| format!("{key} needs a number, not {}", show(arg)))?;
                Ok(found.number().is_some_and(|n| f(n, want)))
            };
            match key {
                "not" => Ok(!matches(arg, found)?),
                "and" | "or" => {
                    let list = arg
                        .as_sequence()
                        .ok_or_else(|| format!("{key} needs a list of matchers"))?;
                    let mut all = true;
                    let mut any = false;
                    for m in list {
                        let r = matches(m, found)?;
                        all &= r;
                        any |= r;
                    }
                    Ok(if key == "and" { all } else { any })
                }
                "equal" => Ok(equal(arg, found)),
                "contain-element" => {
                    let texts = found.texts();
                    for t in &texts {
                        if element_matches(arg, t)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                "contain-elements" => matches(arg, found),
                "consist-of" => {
                    let list = arg
                        .as_sequence()
                        .ok_or("consist-of needs a list")?;
                    let texts = found.texts();
                    if list.len() != texts.len() {
                        return Ok(false);
                    }
                    let mut used = vec![false; texts.len()];
                    for item in list {
                        let mut hit = false;
                        for (i, t) in texts.iter().enumerate() {
                            if !used[i] && element_matches(item, t)? {
                                used[i] = true;
                                hit = true;
                                break;
                            }
                        }
                        if !hit {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
                "have-prefix" => Ok(text().starts_with(&scalar_text(arg).unwrap_or_default())),
                "have-suffix" => Ok(text().ends_with(&scalar_text(arg).unwrap_or_default())),
                "contain-substring" => Ok(text().contains(&scalar_text(arg).unwrap_or_default())),
                "match-regexp" => Ok(regex(&scalar_text(arg).unwrap_or_default())?.is_match(&text())),
                "gt" => cmp(|a, b| a > b),
                "ge" => cmp(|a, b| a >= b),
                "lt" => cmp(|a, b| a < b),
                "le" => cmp(|a, b| a <= b),
                "have-len" => Ok(arg
                    .as_u64()
                    .is_some_and(|n| found.texts().len() as u64 == n)),
                "semver-constraint" => {
                    semver_constraint(&scalar_text(arg).unwrap_or_default(), found)
                }
                other => Err(format!(
                    "unknown matcher {other:?}; goss's are not, and, or, equal, contain-element, contain-elements, consist-of, have-prefix, have-suffix, contain-substring, match-regexp, gt, ge, lt, le, have-len, semver-constraint"
                )),
            }
        }
        Value::Mapping(_) => Err(format!(
            "a matcher is a map of one entry, not {}",
            show(expected)
        )),
        v => Ok(equal(v, found)),
    }
}

/// Line patterns against a reader's output: `foo`, `!foo`, `/re/`, `!/re/` (`\!` for a literal
/// `!`); the patterns that fail.
///
/// # Errors
/// A regular expression that does not compile.
pub fn missing_patterns(patterns: &[String], output: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = output.lines().collect();
    let mut missing = Vec::new();
    for p in patterns {
        let (negate, pat) = match p.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (
                false,
                p.strip_prefix('\\')
                    .filter(|r| r.starts_with('!'))
                    .unwrap_or(p),
            ),
        };
        let hit = if pat.len() >= 2 && pat.starts_with('/') && pat.ends_with('/') {
            let re = regex(&pat[1..pat.len() - 1])?;
            lines.iter().any(|l| re.is_match(l))
        } else {
            lines.iter().any(|l| l.contains(pat))
        };
        if hit == negate {
            missing.push(p.clone());
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn matchers() {
        let t = |e: &str, f: Found| matches(&y(e), &f).unwrap();
        assert!(t("true", Found::Bool(true)));
        assert!(!t("false", Found::Bool(true)));
        assert!(t("0", Found::Text("0".into())));
        assert!(t("\"0644\"", Found::Text("0644".into())));
        assert!(t("[sudo]", Found::List(vec!["root".into(), "sudo".into()])));
        assert!(!t("[sudo, adm]", Found::List(vec!["sudo".into()])));
        assert!(t(
            "{not: {contain-element: adm}}",
            Found::List(vec!["sudo".into()])
        ));
        assert!(t("{have-prefix: /bin}", Found::Text("/bin/bash".into())));
        assert!(t("{match-regexp: '^5\\.'}", Found::Text("5.2.15".into())));
        assert!(t("{and: [{gt: 1}, {lt: 10}]}", Found::Number(5.0)));
        assert!(t("{or: [{equal: 1}, {equal: 5}]}", Found::Number(5.0)));
        assert!(t(
            "{semver-constraint: '>5.0.0 <6.0.0'}",
            Found::List(vec!["5.2.15-2+b8".into()])
        ));
        assert!(!t(
            "{semver-constraint: '<5.0.0 || >=6'}",
            Found::List(vec!["5.2.15".into()])
        ));
        assert!(t(
            "{consist-of: [b, a]}",
            Found::List(vec!["a".into(), "b".into()])
        ));
        assert!(t(
            "{have-len: 2}",
            Found::List(vec!["a".into(), "b".into()])
        ));
        assert_eq!(
            matches(&y("{be-shiny: 1}"), &Found::Bool(true)).unwrap_err(),
            "unknown matcher \"be-shiny\"; goss's are not, and, or, equal, contain-element, contain-elements, consist-of, have-prefix, have-suffix, contain-substring, match-regexp, gt, ge, lt, le, have-len, semver-constraint"
        );
    }

    #[test]
    fn line_patterns() {
        let out = "root:x:0:0\nkiln says hello\n";
        let p = |v: &[&str]| {
            missing_patterns(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), out).unwrap()
        };
        assert!(p(&["hello", "/^root:/", "!absent", "!/^nobody/"]).is_empty());
        assert_eq!(
            p(&["absent", "!hello", "/^x/"]),
            ["absent", "!hello", "/^x/"]
        );
    }
}

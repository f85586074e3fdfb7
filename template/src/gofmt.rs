//! `format` and `formatlist` as cty implements them, on Go's fmt verbs: `%v` (`%#v` is JSON),
//! `%t`, `%d`, `%b`, `%o`, `%x`, `%X`, `%e`, `%E`, `%f`, `%g`, `%G`, `%s`, `%q` (a JSON string),
//! `%%`; the flags `+`, `-`, `#`, `0` and space; width and precision; and `%[n]` to pick an
//! argument. A `%d` of a fraction, a missing argument and an argument left over are errors.

use hcl::Value;

struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn number(v: &Value, verb: char) -> Result<f64, String> {
    match v {
        Value::Number(n) => Ok(n.as_f64().unwrap_or_default()),
        Value::String(s) => s.parse::<f64>().map_err(|_| {
            format!("unsupported value for \"%{verb}\" at {s:?}: a number is required")
        }),
        Value::Null => Err(format!(
            "unsupported value for \"%{verb}\": null value cannot be formatted"
        )),
        other => Err(format!(
            "unsupported value for \"%{verb}\": a number is required, got {}",
            crate::functions::type_name(other)
        )),
    }
}

fn string(v: &Value, verb: char) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(format!(
            "unsupported value for \"%{verb}\": null value cannot be formatted"
        )),
        other => Err(format!(
            "unsupported value for \"%{verb}\": a string is required, got {}",
            crate::functions::type_name(other)
        )),
    }
}

fn json(v: &Value) -> String {
    crate::gostr::json_value(v)
}

/// Go's `%e` mantissa/exponent form with `prec` digits after the point.
fn exp_form(f: f64, prec: usize, upper: bool) -> String {
    let s = format!("{f:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let e = if upper { 'E' } else { 'e' };
    format!("{mant}{e}{sign}{digits:0>2}")
}

/// Go's `%g`: the shortest digits (or `prec` significant ones), in `%e` form for exponents
/// below -4 or at least the precision (21 for the shortest form, as for big.Float).
fn general(f: f64, prec: Option<usize>, upper: bool) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let (digits, exp10) = {
        let s = match prec {
            Some(p) => format!("{:.*e}", p.max(1) - 1, f.abs()),
            None => format!("{:e}", f.abs()),
        };
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        (m.replace('.', ""), e.parse::<i32>().unwrap_or(0))
    };
    let digits = digits.trim_end_matches('0').to_string();
    let digits = if digits.is_empty() {
        "0".to_string()
    } else {
        digits
    };
    let eprec = prec.map_or(21, |p| i32::try_from(p.max(1)).unwrap_or(21));
    let sign = if f < 0.0 { "-" } else { "" };
    if exp10 < -4 || exp10 >= eprec {
        let mant = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let e = if upper { 'E' } else { 'e' };
        let esign = if exp10 < 0 { '-' } else { '+' };
        return format!("{sign}{mant}{e}{esign}{:02}", exp10.abs());
    }
    let point = exp10 + 1;
    let body = if point <= 0 {
        format!(
            "0.{}{}",
            "0".repeat(usize::try_from(-point).unwrap_or(0)),
            digits
        )
    } else {
        let p = usize::try_from(point).unwrap_or(0);
        if digits.len() <= p {
            format!("{digits}{}", "0".repeat(p - digits.len()))
        } else {
            format!("{}.{}", &digits[..p], &digits[p..])
        }
    };
    format!("{sign}{body}")
}

fn pad(text: String, spec: &Spec, numeric: bool) -> String {
    let Some(w) = spec.width else {
        return text;
    };
    let len = text.chars().count();
    if len >= w {
        return text;
    }
    let fill = w - len;
    if spec.minus {
        format!("{text}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let (sign, rest) = match text.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), text[1..].to_string()),
            _ => (String::new(), text),
        };
        format!("{sign}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

fn signed(f: f64, body: String, spec: &Spec) -> String {
    if f < 0.0 || body.starts_with('-') {
        body
    } else if spec.plus {
        format!("+{body}")
    } else if spec.space {
        format!(" {body}")
    } else {
        body
    }
}

fn whole(f: f64, verb: char) -> Result<i128, String> {
    if f.fract() != 0.0 {
        return Err(format!(
            "unsupported value for \"%{verb}\": a whole number is required"
        ));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(f as i128)
}

fn one(verb: char, spec: &Spec, arg: &Value) -> Result<String, String> {
    Ok(match verb {
        'v' if spec.sharp => pad(json(arg), spec, false),
        'v' => match arg {
            Value::Null => pad("null".into(), spec, false),
            Value::Array(_) | Value::Object(_) => pad(json(arg), spec, false),
            v => pad(string(v, verb)?, spec, false),
        },
        't' => match arg {
            Value::Bool(b) => pad(b.to_string(), spec, false),
            Value::String(s) if s == "true" || s == "false" => pad(s.clone(), spec, false),
            _ => return Err("unsupported value for \"%t\": a bool is required".into()),
        },
        'd' | 'b' | 'o' | 'x' | 'X' => {
            if matches!(verb, 'x' | 'X') {
                if let Value::String(s) = arg {
                    if s.parse::<f64>().is_err() {
                        let h: String = s.bytes().map(|b| format!("{b:02x}")).collect();
                        let h = if verb == 'X' { h.to_uppercase() } else { h };
                        return Ok(pad(h, spec, false));
                    }
                }
            }
            let f = number(arg, verb)?;
            // cty formats the exact number (a big.Int), not a float64 near it.
            let (neg, mag) = match crate::functions::exact(arg) {
                Some(b) => {
                    let (neg, mag) = b.trunc();
                    let back = crate::bignum::Big::from_int(neg, mag.clone(), b.prec().max(64));
                    if back.cmp(&b) != std::cmp::Ordering::Equal {
                        return Err(format!(
                            "unsupported value for \"%{verb}\": a whole number is required"
                        ));
                    }
                    (neg && !num_traits::Zero::is_zero(&mag), mag)
                }
                None => {
                    let i = whole(f, verb)?;
                    (i < 0, num_bigint::BigUint::from(i.unsigned_abs()))
                }
            };
            let mut body = match verb {
                'd' => mag.to_str_radix(10),
                'b' => mag.to_str_radix(2),
                'o' => mag.to_str_radix(8),
                'x' => mag.to_str_radix(16),
                _ => mag.to_str_radix(16).to_uppercase(),
            };
            if let Some(p) = spec.prec {
                if body.len() < p {
                    body = format!("{}{body}", "0".repeat(p - body.len()));
                }
            }
            if spec.sharp {
                body = match verb {
                    'o' => format!("0{body}"),
                    'x' => format!("0x{body}"),
                    'X' => format!("0X{body}"),
                    _ => body,
                };
            }
            let body = if neg { format!("-{body}") } else { body };
            pad(signed(f, body, spec), spec, spec.prec.is_none())
        }
        'e' | 'E' => {
            let f = number(arg, verb)?;
            pad(
                signed(f, exp_form(f, spec.prec.unwrap_or(6), verb == 'E'), spec),
                spec,
                true,
            )
        }
        'f' | 'F' => {
            let f = number(arg, verb)?;
            let p = spec.prec.unwrap_or(6);
            pad(signed(f, format!("{f:.p$}"), spec), spec, true)
        }
        'g' | 'G' => {
            let f = number(arg, verb)?;
            // The shortest form is the number's own (at its precision); a given precision
            // rounds its float64.
            let body = match crate::functions::exact(arg).filter(|_| spec.prec.is_none()) {
                Some(b) => b.text_g(verb == 'G'),
                None => general(f, spec.prec, verb == 'G'),
            };
            pad(signed(f, body, spec), spec, true)
        }
        's' => {
            let mut t = string(arg, verb)?;
            if let Some(p) = spec.prec {
                t = t.chars().take(p).collect();
            }
            pad(t, spec, false)
        }
        'q' => pad(crate::gostr::json_string(&string(arg, verb)?), spec, false),
        other => return Err(format!("unrecognized format character {other:?}")),
    })
}

/// Formats `args` by `fmt`, as cty's `format`.
///
/// # Errors
/// An unknown verb, a value a verb cannot take, too few or too many arguments.
pub fn format(fmt: &str, args: &[Value]) -> Result<String, String> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next = 0usize;
    let mut used = vec![false; args.len()];
    let mut reordered = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut spec = Spec {
            minus: false,
            plus: false,
            sharp: false,
            zero: false,
            space: false,
            width: None,
            prec: None,
        };
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        let read_num = |i: &mut usize| -> Option<usize> {
            let start = *i;
            while chars.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            (start < *i).then(|| chars[start..*i].iter().collect::<String>().parse().ok())?
        };
        if chars.get(i) == Some(&'[') {
            i += 1;
            let n = read_num(&mut i).ok_or("invalid argument index in format string")?;
            if chars.get(i) != Some(&']') || n == 0 {
                return Err("invalid argument index in format string".into());
            }
            i += 1;
            next = n - 1;
            reordered = true;
        }
        spec.width = read_num(&mut i);
        if chars.get(i) == Some(&'.') {
            i += 1;
            spec.prec = Some(read_num(&mut i).unwrap_or(0));
        }
        let verb = *chars
            .get(i)
            .ok_or("format string ends with an incomplete verb")?;
        i += 1;
        let arg = args.get(next).ok_or_else(|| {
            format!(
                "not enough arguments for \"%{verb}\" at {}",
                out.chars().count()
            )
        })?;
        used[next] = true;
        next += 1;
        out.push_str(&one(verb, &spec, arg)?);
    }
    // As Go: arguments left over are an error unless `%[n]` picked arguments.
    if let Some(extra) = used.iter().position(|u| !u).filter(|_| !reordered) {
        return Err(format!(
            "too many arguments; no verbs left to format argument {}",
            extra + 1
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Value]) -> String {
        format(fmt, args).unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn go_verbs() {
        assert_eq!(
            f(
                "%05d|%+d|%x|%X|%o|%b",
                &[
                    42.into(),
                    42.into(),
                    255.into(),
                    255.into(),
                    8.into(),
                    5.into()
                ]
            ),
            "00042|+42|ff|FF|10|101"
        );
        assert_eq!(
            f(
                "%e|%E|%.2f|%g",
                &[
                    1234.5678.into(),
                    0.000_12.into(),
                    1.23456.into(),
                    1e21.into()
                ]
            ),
            "1.234568e+03|1.200000E-04|1.23|1e+21"
        );
        assert_eq!(f("%05.1f", &[1.into()]), "001.0");
        assert_eq!(
            f(
                "%.2s|%-5s|%5s",
                &["abcdef".into(), "ab".into(), "ab".into()]
            ),
            "ab|ab   |   ab"
        );
        assert_eq!(
            f("%q|%#v|%v", &["<".into(), "str".into(), Value::Null]),
            r#""\u003c"|"str"|null"#
        );
        assert_eq!(f("%[2]s %[1]s", &["a".into(), "b".into()]), "b a");
        assert!(f("%d", &[1.5.into()]).starts_with("ERR"));
        assert!(f("%s", &[]).starts_with("ERR"));
        assert!(f("x", &["a".into()]).starts_with("ERR"));
    }
}

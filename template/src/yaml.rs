//! `yamlencode` as Packer writes it: go-cty-yaml's events (block collections, double-quoted
//! strings, literal blocks for strings with a newline, plain numbers, booleans and null) laid out
//! by the libyaml emitter's rules: indentless sequences under mapping keys, `[]` and `{}` for
//! empty collections, double-quoted strings folded at a space past column 80, keys longer than
//! 128 bytes or spanning lines written as complex keys (`? key`), escapes for what YAML cannot
//! print (tabs, control characters, characters outside the Basic Multilingual Plane), and the
//! `...` document end after a root scalar that could otherwise be continued.
//!
//! `yamldecode` as Packer 1.6.6 reads YAML (its go-cty-yaml): YAML 1.1's booleans (`yes`, `on`,
//! `y` …) and nulls for plain scalars, quoted scalars always strings, numbers in decimal only
//! (`0x10` stays a string), dates as RFC 3339 strings, anchors and aliases, `<<` merge keys, one
//! document.

use hcl::{Map, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;

/// libyaml's preferred indentation and line width.
const INDENT: i64 = 2;
const WIDTH: usize = 80;
/// The longest key written as a simple `key: value`.
const SIMPLE_KEY_MAX: usize = 128;

/// `v` as YAML, exactly as go-cty-yaml's encoder writes it.
pub(crate) fn encode(v: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        open_ended: false,
    };
    e.node(v, Context::Root);
    // The document end, and the stream end's `...` after a scalar that could continue.
    e.write_indent();
    if e.open_ended {
        e.indicator("...", true, false, false);
        e.write_indent();
    }
    e.out
}

#[derive(Clone, Copy, PartialEq)]
enum Context {
    Root,
    Sequence,
    MappingKey { simple: bool },
    MappingValue,
}

struct Emitter {
    out: String,
    /// The column, in characters.
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    /// Whether the last thing written was white space (no separating space is needed).
    whitespace: bool,
    /// Whether only indentation has been written on this line.
    indention: bool,
    /// Whether the last scalar could be continued by what follows (a plain or `|+` root scalar).
    open_ended: bool,
}

enum Style {
    Plain,
    DoubleQuoted,
    Literal,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { INDENT } else { 0 };
        } else if !indentless {
            self.indent += INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(
        &mut self,
        s: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in s.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn node(&mut self, v: &Value, ctx: Context) {
        match v {
            Value::Array(items) if items.is_empty() => self.empty("[", "]"),
            Value::Object(map) if map.is_empty() => self.empty("{", "}"),
            Value::Array(items) => {
                let indentless = matches!(ctx, Context::MappingKey { .. } | Context::MappingValue)
                    && !self.indention;
                self.increase_indent(false, indentless);
                for item in items {
                    self.write_indent();
                    self.indicator("-", true, false, true);
                    self.node(item, Context::Sequence);
                }
                self.pop_indent();
            }
            Value::Object(map) => {
                // cty iterates a map or an object in key order.
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                self.increase_indent(false, false);
                for (k, v) in entries {
                    self.write_indent();
                    let key = Value::String(k.clone());
                    if k.len() <= SIMPLE_KEY_MAX && !has_break(k) {
                        self.node(&key, Context::MappingKey { simple: true });
                        self.indicator(":", false, false, false);
                    } else {
                        self.indicator("?", true, false, true);
                        self.node(&key, Context::MappingKey { simple: false });
                        self.write_indent();
                        self.indicator(":", true, false, true);
                    }
                    self.node(v, Context::MappingValue);
                }
                self.pop_indent();
            }
            scalar => self.scalar(scalar, ctx),
        }
    }

    /// An empty collection, in flow style.
    fn empty(&mut self, open: &str, close: &str) {
        self.indicator(open, true, true, false);
        self.indicator(close, false, false, false);
    }

    fn scalar(&mut self, v: &Value, ctx: Context) {
        let simple_key = ctx == Context::MappingKey { simple: true };
        let (text, style) = match v {
            Value::Null => ("null".to_string(), Style::Plain),
            Value::Bool(b) => (b.to_string(), Style::Plain),
            Value::Number(n) => (n.to_string(), Style::Plain),
            Value::String(s) => {
                let literal = s.contains('\n') && !simple_key && block_allowed(s);
                (
                    s.clone(),
                    if literal {
                        Style::Literal
                    } else {
                        Style::DoubleQuoted
                    },
                )
            }
            // Collections are nodes of their own.
            Value::Array(_) | Value::Object(_) => return self.node(v, ctx),
        };
        self.increase_indent(true, false);
        match style {
            Style::Plain => {
                if !self.whitespace {
                    self.put(' ');
                }
                for c in text.chars() {
                    self.put(c);
                }
                self.whitespace = false;
                self.indention = false;
                if ctx == Context::Root {
                    self.open_ended = true;
                }
            }
            Style::DoubleQuoted => self.double_quoted(&text, !simple_key),
            Style::Literal => self.literal(&text),
        }
        self.pop_indent();
    }

    fn double_quoted(&mut self, s: &str, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let mut spaces = false;
        let len = s.len();
        for (i, c) in s.char_indices() {
            if !printable(c) || is_break(c) || c == '"' || c == '\\' || c == '\u{feff}' {
                self.put('\\');
                match escape(c) {
                    Some(e) => self.put(e),
                    None => {
                        let code = u32::from(c);
                        let (letter, digits) = match code {
                            0..=0xff => ('x', 2),
                            0x100..=0xffff => ('u', 4),
                            _ => ('U', 8),
                        };
                        self.put(letter);
                        for ch in format!("{code:0digits$X}").chars() {
                            self.put(ch);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > WIDTH && i > 0 && i + 1 < len {
                    self.write_indent();
                    if s[i + 1..].starts_with(' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, s: &str) {
        self.indicator("|", true, false, false);
        let first = s.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.indicator(&INDENT.to_string(), false, false, false);
        }
        self.open_ended = false;
        let mut rev = s.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (Some(last), _) if !is_break(last) => Some('-'),
            (Some(_), None) => Some('+'),
            (Some(_), Some(prev)) if is_break(prev) => Some('+'),
            _ => None,
        };
        // (libyaml marks a `|+` block open-ended, and writing its indicator clears the mark.)
        if let Some(c) = chomp {
            self.indicator(&c.to_string(), false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in s.chars() {
            if is_break(c) {
                if c == '\n' {
                    self.put_break();
                } else {
                    self.out.push(c);
                    self.column = 0;
                }
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// libyaml's printable characters (with `unicode` on): no control characters but the line
/// feed, nothing outside the Basic Multilingual Plane, no byte order mark or non-characters.
fn printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && c != '\u{feff}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn has_break(s: &str) -> bool {
    s.chars().any(is_break)
}

fn escape(c: char) -> Option<char> {
    Some(match c {
        '\0' => '0',
        '\u{7}' => 'a',
        '\u{8}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{b}' => 'v',
        '\u{c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{a0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => return None,
    })
}

/// Whether libyaml may write `s` as a block scalar: no character it cannot print, no space at
/// the end, and no space right before a line break.
fn block_allowed(s: &str) -> bool {
    if s.is_empty() || s.ends_with(' ') || !s.chars().all(printable) {
        return false;
    }
    let mut previous_space = false;
    for c in s.chars() {
        if is_break(c) && previous_space {
            return false;
        }
        previous_space = c == ' ';
    }
    true
}

/// `src`'s one YAML document as a value, as go-cty-yaml decodes it.
pub(crate) fn decode(src: &str) -> Result<Value, String> {
    let mut d = Decoder {
        parser: Parser::new_from_str(src),
        anchors: HashMap::new(),
    };
    let (first, span) = d.next()?;
    if !matches!(first, Event::StreamStart) {
        return Err(at(span, "missing stream start token"));
    }
    let (doc, span) = d.next()?;
    if !matches!(doc, Event::DocumentStart(_)) {
        return Err(at(span, "missing start of document"));
    }
    let (ev, span) = d.next()?;
    let v = d.value(ev, span)?;
    match d.next()? {
        (Event::DocumentEnd, _) => {}
        (ev, span) => {
            return Err(at(
                span,
                &format!("unexpected extra content ({}) after value", name(&ev)),
            ))
        }
    }
    match d.next()? {
        (Event::StreamEnd, _) => Ok(v),
        (Event::DocumentStart(_), span) => Err(at(span, "only a single document is allowed")),
        (_, span) => Err(at(span, "unexpected extra content after value")),
    }
}

/// The value merged by a `<<` key.
const MERGE: &str = "<<";

struct Decoder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Anchored values; `None` while the anchored node is still being read.
    anchors: HashMap<usize, Option<Value>>,
}

fn at(span: Span, msg: &str) -> String {
    format!(
        "on line {}, column {}: {msg}",
        span.start.line(),
        span.start.col() + 1
    )
}

fn name(ev: &Event) -> &'static str {
    match ev {
        Event::Scalar(..) => "SCALAR",
        Event::SequenceStart(..) => "SEQUENCE-START",
        Event::MappingStart(..) => "MAPPING-START",
        Event::Alias(_) => "ALIAS",
        Event::DocumentStart(_) => "DOCUMENT-START",
        Event::DocumentEnd => "DOCUMENT-END",
        Event::StreamEnd => "STREAM-END",
        _ => "EVENT",
    }
}

/// A tag as go-yaml spells it (`tag:yaml.org,2002:str` for `!!str`); "" for none.
fn tag_name(tag: Option<&Tag>) -> String {
    match tag {
        None => String::new(),
        Some(t) if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" => {
            format!("tag:yaml.org,2002:{}", t.suffix)
        }
        Some(t) => format!("{}{}", t.handle, t.suffix),
    }
}

impl<'a> Decoder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), String> {
        match self.parser.next_event() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(format!(
                "on line {}, column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            )),
            None => Err("unexpected end of the YAML stream".into()),
        }
    }

    fn value(&mut self, ev: Event<'a>, span: Span) -> Result<Value, String> {
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let v =
                    resolve(&tag_name(tag.as_deref()), &text, style).map_err(|e| at(span, &e))?;
                self.anchor(anchor, &v);
                Ok(v)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(Some(v)) => Ok(v.clone()),
                Some(None) => Err(at(
                    span,
                    "cannot refer to an anchor from inside its own definition",
                )),
                None => Err(at(span, "reference to undefined anchor")),
            },
            Event::SequenceStart(anchor, tag) => {
                let tag = tag_name(tag.as_deref());
                if !tag.is_empty() && tag != "tag:yaml.org,2002:seq" {
                    return Err(at(span, &format!("can't interpret sequence as {tag}")));
                }
                self.begin(anchor);
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.value(ev, span)?);
                }
                let v = Value::Array(items);
                self.anchor(anchor, &v);
                Ok(v)
            }
            Event::MappingStart(anchor, tag) => {
                let tag = tag_name(tag.as_deref());
                if !tag.is_empty() && tag != "tag:yaml.org,2002:map" {
                    return Err(at(span, &format!("can't interpret mapping as {tag}")));
                }
                self.begin(anchor);
                let mut map = Map::new();
                loop {
                    let (ev, kspan) = self.next()?;
                    let key = match ev {
                        Event::MappingEnd => break,
                        Event::Scalar(text, style, _, tag) => {
                            let tag = tag_name(tag.as_deref());
                            if tag.is_empty() && style == ScalarStyle::Plain && text == MERGE {
                                let (ev, vspan) = self.next()?;
                                match self.value(ev, vspan)? {
                                    Value::Object(m) => {
                                        for (k, v) in m {
                                            map.insert(k, v);
                                        }
                                    }
                                    other => {
                                        return Err(at(
                                            kspan,
                                            &format!(
                                                "cannot merge {} into mapping",
                                                crate::functions::type_name(&other)
                                            ),
                                        ))
                                    }
                                }
                                continue;
                            }
                            match resolve(&tag, &text, style).map_err(|e| at(kspan, &e))? {
                                Value::Null => return Err(at(kspan, "mapping key cannot be null")),
                                Value::String(s) => s,
                                Value::Bool(b) => b.to_string(),
                                Value::Number(n) => n.to_string(),
                                _ => {
                                    return Err(at(
                                        kspan,
                                        "only strings are allowed as mapping keys",
                                    ))
                                }
                            }
                        }
                        _ => return Err(at(kspan, "only strings are allowed as mapping keys")),
                    };
                    let (ev, vspan) = self.next()?;
                    let v = self.value(ev, vspan)?;
                    map.insert(key, v);
                }
                let v = Value::Object(map);
                self.anchor(anchor, &v);
                Ok(v)
            }
            other => Err(at(
                span,
                &format!("unexpected parser event {}", name(&other)),
            )),
        }
    }

    fn begin(&mut self, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, None);
        }
    }

    fn anchor(&mut self, anchor: usize, v: &Value) {
        if anchor != 0 {
            self.anchors.insert(anchor, Some(v.clone()));
        }
    }
}

const STR: &str = "tag:yaml.org,2002:str";
const BINARY: &str = "tag:yaml.org,2002:binary";
const BOOL: &str = "tag:yaml.org,2002:bool";
const INT: &str = "tag:yaml.org,2002:int";
const FLOAT: &str = "tag:yaml.org,2002:float";
const NULL: &str = "tag:yaml.org,2002:null";
const TIMESTAMP: &str = "tag:yaml.org,2002:timestamp";

/// YAML 1.1's words for true, false and null, and the infinities.
fn word(src: &str) -> Option<Value> {
    Some(match src {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Value::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            crate::functions::num(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => crate::functions::num(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// A decimal number as cty parses one (`cty.ParseNumberVal`: Go's `big.ParseFloat` in base
/// 10 at 512 bits): digits with an optional fraction and exponent, or an infinity.
fn decimal(s: &str) -> Option<Value> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body == "Inf" || body == "inf" {
        return Some(crate::functions::num(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }));
    }
    crate::bignum::Big::parse(s, crate::bignum::PREC).map(|b| crate::bignum::to_value(&b))
}

/// A date or time in one of the forms go-cty-yaml accepts, as an RFC 3339 string.
fn timestamp(s: &str) -> Option<String> {
    let year_len = s.bytes().take_while(u8::is_ascii_digit).count();
    if year_len != 4 || s.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    let (date_text, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date_text.split('-');
    let num = |p: Option<&str>, max: usize| {
        p.filter(|p| !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
    };
    let (y, m, d) = (
        num(parts.next(), 4)?,
        num(parts.next(), 2)?,
        num(parts.next(), 2)?,
    );
    if parts.next().is_some() {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    let Some(t) = time else {
        return Some(format!("{date}T00:00:00Z"));
    };
    // hh:mm:ss[.frac], then a zone (Z or ±hh:mm) after a `T`; none after a space.
    let zone_at = t.find(['Z', '+', '-']);
    let (clock, zone) = match zone_at {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let spaced = s.as_bytes().get(date_text.len()) == Some(&b' ');
    if spaced != zone.is_empty() {
        return None;
    }
    // (RFC 3339 without fractions: they are read and dropped.)
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
        || (clock.contains('.') && frac.is_empty())
    {
        return None;
    }
    let mut hms = hms.split(':');
    let (h, mi, sec) = (
        num(hms.next(), 2)?,
        num(hms.next(), 2)?,
        num(hms.next(), 2)?,
    );
    if hms.next().is_some() || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let zone = match zone {
        "" | "Z" => "Z".to_string(),
        z => {
            let (hh, mm) = z[1..].split_once(':')?;
            if hh.len() != 2 || mm.len() != 2 {
                return None;
            }
            let (hh, mm) = (num(Some(hh), 2)?, num(Some(mm), 2)?);
            if hh == 0 && mm == 0 {
                "Z".to_string()
            } else {
                format!("{}{hh:02}:{mm:02}", &z[..1])
            }
        }
    };
    Some(format!("{date}T{h:02}:{mi:02}:{sec:02}{zone}"))
}

/// A scalar's value, as go-cty-yaml 1.0.1 (Packer 1.6.6) resolves it.
fn resolve(tag: &str, src: &str, style: ScalarStyle) -> Result<Value, String> {
    if !["", STR, BOOL, INT, FLOAT, NULL, TIMESTAMP, BINARY].contains(&tag) {
        return Err(format!("unsupported tag {tag:?}"));
    }
    let hint = src.bytes().next().map_or(Some('N'), |b| match b {
        b'+' | b'-' => Some('S'),
        b'0'..=b'9' => Some('D'),
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => Some('M'),
        b'.' => Some('.'),
        _ => None,
    });
    let mut tag = tag;
    if let Some(hint) = hint.filter(|_| tag != STR && tag != BINARY) {
        if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted) {
            return Ok(Value::String(src.into()));
        }
        if let Some(v) = word(src) {
            return Ok(v);
        }
        if tag.is_empty() && [".nan", ".NaN", ".NAN"].contains(&src) {
            return Err("floating point NaN is not supported".into());
        }
        match hint {
            '.' => {
                if let Some(v) = decimal(src) {
                    return Ok(v);
                }
            }
            'D' | 'S' => {
                if tag.is_empty() || tag == TIMESTAMP {
                    if let Some(t) = timestamp(src) {
                        return Ok(Value::String(t));
                    }
                }
                let plain = src.replace('_', "");
                if let Some(v) = decimal(&plain) {
                    return Ok(v);
                }
                if plain.starts_with("0b") || plain.starts_with("-0b") {
                    tag = INT;
                }
            }
            _ => {}
        }
    }
    match tag {
        STR | BINARY => {
            if tag == BINARY {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(src)
                    .map_err(|_| format!("cannot parse {src:?} as {tag}: not valid base64"))?;
            }
            Ok(Value::String(src.into()))
        }
        BOOL => match word(src) {
            Some(Value::Bool(b)) => Ok(Value::Bool(b)),
            _ => Err(format!("cannot parse {src:?} as {tag}")),
        },
        INT | FLOAT => {
            let plain = src.replace('_', "");
            if let Some(v) = decimal(&plain) {
                return Ok(v);
            }
            let (neg, body) = match plain.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
            };
            let parsed = if let Some(h) =
                body.strip_prefix("0x").or_else(|| body.strip_prefix("0X"))
            {
                i128::from_str_radix(h, 16).ok()
            } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
                i128::from_str_radix(b, 2).ok()
            } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
                i128::from_str_radix(o, 8).ok()
            } else if body.len() > 1 && body.starts_with('0') {
                i128::from_str_radix(&body[1..], 8).ok()
            } else {
                None
            };
            match parsed {
                #[allow(clippy::cast_precision_loss)]
                Some(n) if n <= i128::from(u64::MAX) => Ok(crate::functions::num(if neg {
                    -(n as f64)
                } else {
                    n as f64
                })),
                _ => Err(format!("cannot parse {src:?} as {tag}")),
            }
        }
        TIMESTAMP => timestamp(src)
            .map(Value::String)
            .ok_or_else(|| format!("cannot parse {src:?} as {tag}")),
        NULL => Ok(Value::Null),
        _ => Ok(Value::String(src.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};
    use hcl::Value;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn collections_nest_as_libyaml_lays_them_out() {
        let v = obj(&[
            ("b", Value::from(1)),
            ("a", Value::Array(vec![s("x"), s("y")])),
            ("c", obj(&[("d", Value::Bool(true))])),
            (
                "l",
                Value::Array(vec![
                    obj(&[("k", s("v")), ("j", Value::Array(vec![]))]),
                    Value::Array(vec![Value::from(1), Value::from(2)]),
                    Value::Null,
                ]),
            ),
        ]);
        assert_eq!(
            encode(&v),
            "\"a\":\n- \"x\"\n- \"y\"\n\"b\": 1\n\"c\":\n  \"d\": true\n\"l\":\n- \"j\": []\n  \"k\": \"v\"\n- - 1\n  - 2\n- null\n"
        );
    }

    #[test]
    fn root_scalars_and_document_ends() {
        assert_eq!(encode(&Value::from(1.5)), "1.5\n...\n");
        assert_eq!(encode(&Value::Null), "null\n...\n");
        assert_eq!(encode(&Value::Bool(true)), "true\n...\n");
        assert_eq!(encode(&s("yes")), "\"yes\"\n");
        assert_eq!(encode(&s("")), "\"\"\n");
        assert_eq!(encode(&Value::Array(vec![])), "[]\n");
        assert_eq!(encode(&obj(&[])), "{}\n");
    }

    #[test]
    fn literal_blocks_and_their_chomping() {
        assert_eq!(encode(&s("multi\nline\n")), "|\n  multi\n  line\n");
        assert_eq!(encode(&s("a\nb")), "|-\n  a\n  b\n");
        assert_eq!(encode(&s("a\n\n")), "|+\n  a\n\n");
        assert_eq!(encode(&s(" a\nb")), "|2-\n   a\n  b\n");
        assert_eq!(encode(&obj(&[("k", s("x\ny\n"))])), "\"k\": |\n  x\n  y\n");
        // What a block cannot hold goes double-quoted.
        assert_eq!(encode(&s("a\tb\n")), "\"a\\tb\\n\"\n");
        assert_eq!(encode(&s("a \nb")), "\"a \\nb\"\n");
        assert_eq!(encode(&s("a\r\nb")), "\"a\\r\\nb\"\n");
    }

    #[test]
    fn escapes_and_unicode() {
        assert_eq!(encode(&s("é ~ \u{1}")), "\"é ~ \\x01\"\n");
        assert_eq!(encode(&s("\u{1f600}")), "\"\\U0001F600\"\n");
        assert_eq!(
            encode(&s("\u{feff}\u{a0}\u{7f}\u{85}")),
            "\"\\uFEFF\u{a0}\\x7F\\N\"\n"
        );
        assert_eq!(encode(&s("q\"b\\")), "\"q\\\"b\\\\\"\n");
    }

    #[test]
    fn long_strings_fold_past_column_80() {
        let words = "word ".repeat(30);
        let out = encode(&obj(&[("k", s(words.trim_end()))]));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("\"k\": \"word word"));
        assert_eq!(lines[0].chars().count(), 85, "{out}");
        assert!(lines[1].starts_with("  word"), "{out}");
        // Two spaces at the fold keep the second one, escaped.
        let mut spaced = "x".repeat(85);
        spaced.push_str("  y");
        assert_eq!(
            encode(&s(&spaced)),
            format!("\"{}\n  \\ y\"\n", "x".repeat(85))
        );
        // A key spanning lines is a complex key (long keys: the differential case).
        assert_eq!(
            encode(&obj(&[("a\nb", Value::from(1))])),
            "? |-\n  a\n  b\n: 1\n"
        );
    }

    fn json(src: &str) -> String {
        match decode(src) {
            Ok(v) => serde_json::to_string(&v).unwrap(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn decoding_resolves_as_yaml_1_1() {
        assert_eq!(json("a: 1\nb: [x, y]\n"), r#"{"a":1,"b":["x",true]}"#);
        assert_eq!(
            json("[Y, N, yes, No, off, ON, true, False]"),
            "[true,false,true,false,false,true,true,false]"
        );
        assert_eq!(json("y: n"), r#"{"true":false}"#);
        assert_eq!(
            json("[~, null, Null, NULL, \"~\", '', ]"),
            r#"[null,null,null,null,"~",""]"#
        );
        assert_eq!(
            json("[0x10, 010, 1e3, 1_000, .5, +1, -2.5, 1.0, '1', 0b11, -x]"),
            r#"["0x10",10,1000,1000,0.5,1,-2.5,1,"1",3,"-x"]"#
        );
        assert_eq!(json("[2001-12-14, 2001-12-14T21:59:43.10+01:00, 2001-12-14 21:59:43.10, 2001-12-14t21:59:43Z]"),
            r#"["2001-12-14T00:00:00Z","2001-12-14T21:59:43+01:00","2001-12-14T21:59:43Z","2001-12-14T21:59:43Z"]"#);
        // A quoted scalar is a string whatever its tag.
        assert_eq!(
            json("[!!str 1, !!int '7', !!bool yes, !!int 7]"),
            r#"["1","7",true,7]"#
        );
        assert_eq!(
            json("a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n"),
            r#"{"a":{"b":1},"c":{"b":1},"d":{"b":1,"e":2}}"#
        );
        assert_eq!(
            json("k: |\n  line1\n  line2\n"),
            r#"{"k":"line1\nline2\n"}"#
        );
    }

    #[test]
    fn decoding_errors_say_where() {
        assert_eq!(
            json(".nan"),
            "error: on line 1, column 1: floating point NaN is not supported"
        );
        assert_eq!(
            json("a: 1\n---\nb: 2\n"),
            "error: on line 2, column 1: only a single document is allowed"
        );
        assert_eq!(
            json(""),
            "error: on line 1, column 1: missing start of document"
        );
        assert_eq!(
            json("~: 1"),
            "error: on line 1, column 1: mapping key cannot be null"
        );
        assert!(
            json("[1, 2").starts_with("error: on line "),
            "{}",
            json("[1, 2")
        );
        assert_eq!(
            json("!!set {a}"),
            "error: on line 1, column 1: can't interpret mapping as tag:yaml.org,2002:set"
        );
    }
}

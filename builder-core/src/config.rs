//! Plugin configuration as data, then types: an evaluated value tree with a side table of source
//! locations, decoded by each plugin into its own `deny_unknown_fields` struct. Decoding errors
//! become [`Diagnostic`]s that point at the attribute in the template.

use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;

/// A place in a template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as the user named it.
    pub file: String,
    /// One-based line.
    pub line: usize,
    /// One-based column (in characters).
    pub column: usize,
    /// The source line (on a very long line, a window around the column, marked with `…`).
    pub source_line: String,
    /// How many characters to underline, at least one.
    pub width: usize,
    /// How many characters of the line precede `source_line` (zero unless it was cut).
    pub line_start: usize,
}

impl Location {
    /// Locates the byte range `span` of `source` (the text of `file`).
    #[must_use]
    pub fn from_span(file: &str, source: &str, span: std::ops::Range<usize>) -> Self {
        let start = span.start.min(source.len());
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let column = source[line_start..start].chars().count() + 1;
        let end = span.end.clamp(start, line_end);
        let width = source[start..end].chars().count().max(1);
        let full = source[line_start..line_end].trim_end_matches('\r');
        Self::at(file, full, line, column, width)
    }

    /// The location of `width` characters at `line`:`column` (one-based) of `file`, whose text
    /// is `full_line`.
    #[must_use]
    pub fn at(file: &str, full_line: &str, line: usize, column: usize, width: usize) -> Self {
        // Keep a window around the column on long lines: a location is made for every element of
        // a list, and a 1,000-element list on one line must not copy that line 1,000 times (nor
        // print a 100,000-character line).
        const BEFORE: usize = 100;
        const AFTER: usize = 140;
        let full = full_line.trim_end_matches(['\r', '\n']);
        let count = full.chars().count();
        let (source_line, cut) = if count > BEFORE + AFTER {
            let from = column.saturating_sub(1).saturating_sub(BEFORE);
            let window: String = full.chars().skip(from).take(BEFORE + AFTER).collect();
            let tail = if from + BEFORE + AFTER < count {
                "…"
            } else {
                ""
            };
            if from > 0 {
                (format!("…{window}{tail}"), from)
            } else {
                (format!("{window}{tail}"), 0)
            }
        } else {
            (full.to_string(), 0)
        };
        Location {
            file: file.to_string(),
            line,
            column,
            source_line,
            width: width.max(1),
            line_start: cut,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Stops validation and builds.
    Error,
    /// Reported, but the build goes on.
    Warning,
}

/// One problem found in a template or a plugin configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short title in sentence case, e.g. "Unsupported argument".
    pub summary: String,
    /// What is wrong and what to do about it.
    pub detail: String,
    /// Where, when known.
    pub location: Option<Location>,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            location: None,
        }
    }

    /// A warning diagnostic.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(summary, detail)
        }
    }

    /// Attaches a location.
    #[must_use]
    pub fn at(mut self, location: Option<Location>) -> Self {
        if self.location.is_none() {
            self.location = location;
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        writeln!(f, "{level}: {}", self.summary)?;
        if let Some(loc) = &self.location {
            let num = loc.line.to_string();
            let pad = " ".repeat(num.len());
            writeln!(f, "{pad}--> {loc}")?;
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {}", loc.source_line)?;
            let marker = usize::from(loc.line_start > 0);
            let lead: String = loc
                .source_line
                .chars()
                .take((loc.column - 1).saturating_sub(loc.line_start) + marker)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            // Underline at most to the end of the line shown (of a window, on a long line).
            let room = loc
                .source_line
                .chars()
                .count()
                .saturating_sub(lead.chars().count())
                .max(1);
            writeln!(f, "{pad} | {lead}{}", "^".repeat(loc.width.min(room)))?;
        }
        if !self.detail.is_empty() {
            write!(f, "\n{}", self.detail)?;
        }
        Ok(())
    }
}

/// Several diagnostics, reported together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// These diagnostics with every secret in `secrets` (and every long line of a multi-line
    /// one) replaced by `<sensitive>`, in their text and in the source lines they quote.
    #[must_use]
    pub fn scrubbed(mut self, secrets: &crate::event::Secrets) -> Self {
        for d in &mut self.0 {
            d.summary = secrets.scrub(&d.summary);
            d.detail = secrets.scrub(&d.detail);
            if let Some(l) = &mut d.location {
                let scrubbed = secrets.scrub(&l.source_line);
                if scrubbed != l.source_line {
                    l.source_line = scrubbed;
                    l.width = 0;
                }
            }
        }
        self
    }

    /// True when at least one diagnostic is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Adds a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Only the warnings.
    #[must_use]
    pub fn warnings(&self) -> Vec<&Diagnostic> {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .collect()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// An evaluated plugin body: a JSON-like value tree plus where each attribute came from.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The evaluated attributes, an object.
    pub value: serde_json::Value,
    /// Attribute path (`inline`, `inline[0]`, `nested.key`) to its location.
    pub spans: BTreeMap<String, Location>,
    /// Where the block itself starts (its type label).
    pub block: Option<Location>,
    /// The block's description for messages, e.g. `provisioner "shell"`.
    pub what: String,
    /// Decode with legacy JSON's weak typing (mapstructure's): a single value where a list is
    /// wanted is a list of one, `"0x10"` is 16, `"t"` is true. Otherwise cty's conversions apply.
    pub weak: bool,
}

impl Config {
    /// A config from a bare value (library users, tests).
    #[must_use]
    pub fn from_value(what: &str, value: serde_json::Value) -> Self {
        Config {
            value,
            what: what.to_string(),
            ..Config::default()
        }
    }

    /// The location of an attribute path, falling back to its parents and then the block.
    #[must_use]
    pub fn location_of(&self, path: &str) -> Option<Location> {
        let mut p = path.to_string();
        loop {
            if let Some(l) = self.spans.get(&p) {
                return Some(l.clone());
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return self.block.clone(),
            }
        }
    }

    /// Decodes the body into a plugin's typed configuration.
    ///
    /// # Errors
    /// An "Unsupported argument" diagnostic (with a "did you mean") for unknown attributes, or an
    /// "Invalid value" diagnostic naming the expected type, each at the attribute's location.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Diagnostics> {
        use crate::convert::{coerce, remove, Step};
        let mut value = if self.value.is_null() {
            serde_json::json!({})
        } else {
            self.value.clone()
        };

        let mut diags = Diagnostics::default();
        let mut reported: Vec<String> = Vec::new();
        // Each round converts one value the way Packer would, or reports it and takes it out,
        // so that every bad value of the block is reported, not only the first.
        for _ in 0..256 {
            let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
                Ok(t) if diags.0.is_empty() => return Ok(t),
                Ok(_) => return Err(diags),
                Err(e) => e,
            };
            let path: Vec<Step> = e
                .path()
                .iter()
                .filter_map(|s| match s {
                    serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
                    serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
                    _ => None,
                })
                .collect();
            let msg = e.inner().to_string();
            // An argument set to null is not set (cty and mapstructure decode it as absent), so
            // that `use_default_display = var.b` with a null default is the plugin's default;
            // a misspelled one is still reported as unknown.
            if msg.starts_with("invalid type: null")
                && matches!(path.last(), Some(Step::Key(_)))
                && remove(&mut value, &path)
            {
                continue;
            }
            if coerce(&mut value, &path, &msg, self.weak) {
                continue;
            }
            let mut at = path.clone();
            if let Some(rest) = msg.strip_prefix("unknown field `") {
                at.push(Step::Key(rest.split('`').next().unwrap_or_default().into()));
            }
            if let Some(rest) = msg.strip_prefix("missing field `") {
                // A required field taken out above was reported already.
                let field = rest.split('`').next().unwrap_or_default();
                let mut full = path.clone();
                full.push(Step::Key(field.into()));
                if !reported.contains(&key_path(&full)) {
                    diags.push(self.decode_error(&e));
                }
                return Err(diags);
            }
            reported.push(key_path(&at));
            diags.push(self.decode_error(&e));
            if !remove(&mut value, &at) {
                return Err(diags);
            }
        }
        Err(diags)
    }

    fn decode_error(&self, e: &serde_path_to_error::Error<serde_json::Error>) -> Diagnostic {
        {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let msg = e.inner().to_string();
            if let Some(rest) = msg.strip_prefix("unknown field `") {
                let field = rest.split('`').next().unwrap_or_default().to_string();
                let expected: Vec<&str> = rest
                    .split('`')
                    .skip(1)
                    .filter(|s| s.chars().all(|c| c.is_alphanumeric() || c == '_') && !s.is_empty())
                    .collect();
                let full = if path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                let mut detail = format!(
                    "An argument named \"{field}\" is not expected in {}.",
                    self.what
                );
                if let Some((_, fix)) = REMOVED.iter().find(|(name, _)| *name == field) {
                    detail.push_str(&format!(" {fix}"));
                } else if let Some(s) = suggest(&field, expected.iter().copied()) {
                    detail.push_str(&format!(" Did you mean \"{s}\"?"));
                }
                return Diagnostic::error("Unsupported argument", detail).at(self
                    .spans
                    .get(&format!("{full}#key"))
                    .or_else(|| self.spans.get(&full))
                    .cloned()
                    .or_else(|| self.location_of(&path)));
            }
            if let Some(rest) = msg.strip_prefix("missing field `") {
                let field = rest.split('`').next().unwrap_or_default();
                return Diagnostic::error(
                    "Missing required argument",
                    format!("The argument \"{field}\" is required in {}.", self.what),
                )
                .at(self.block.clone());
            }
            let what = if path.is_empty() {
                self.what.clone()
            } else {
                format!("\"{path}\"")
            };
            Diagnostic::error("Invalid value", format!("Invalid value for {what}: {msg}."))
                .at(self.location_of(&path))
        }
    }

    /// Reports attributes that are not in any of the `known` field lists (for configs decoded in
    /// several parts, where serde's `deny_unknown_fields` cannot be used).
    ///
    /// # Errors
    /// One "Unsupported argument" per unknown attribute, with a "did you mean".
    pub fn check_fields(&self, known: &[&[&str]]) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        if let serde_json::Value::Object(map) = &self.value {
            let all: Vec<&str> = known.iter().flat_map(|k| k.iter().copied()).collect();
            for key in map.keys() {
                if all.contains(&key.as_str()) {
                    continue;
                }
                let mut detail = format!(
                    "An argument named \"{key}\" is not expected in {}.",
                    self.what
                );
                if let Some((_, fix)) = REMOVED.iter().find(|(name, _)| name == key) {
                    detail.push_str(&format!(" {fix}"));
                } else if let Some(s) = suggest(key, all.iter().copied()) {
                    detail.push_str(&format!(" Did you mean \"{s}\"?"));
                }
                diags.push(
                    Diagnostic::error("Unsupported argument", detail).at(self
                        .spans
                        .get(&format!("{key}#key"))
                        .cloned()
                        .or_else(|| self.location_of(key))),
                );
            }
        }
        if diags.0.is_empty() {
            Ok(())
        } else {
            Err(diags)
        }
    }

    /// An error diagnostic located at an attribute.
    #[must_use]
    pub fn error_at(&self, path: &str, summary: &str, detail: impl Into<String>) -> Diagnostic {
        Diagnostic::error(summary, detail).at(self.location_of(path))
    }
}

/// The map keys of `path` up to its last key, dotted: what a removed value is known by.
fn key_path(path: &[crate::convert::Step]) -> String {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|p| match p {
            crate::convert::Step::Key(k) => Some(k.as_str()),
            crate::convert::Step::Index(_) => None,
        })
        .collect();
    keys.join(".")
}

/// Settings Packer removed, with what `packer fix` (or the user) puts instead.
const REMOVED: &[(&str, &str)] = &[
    ("iso_checksum_type", "It was removed in Packer 1.6: give the type in iso_checksum itself (\"sha256:...\", or \"file:URL\" for a checksum file), as `packer fix` does."),
    ("iso_checksum_url", "It was removed in Packer 1.6: write iso_checksum = \"file:URL\", as `packer fix` does."),
    ("iso_md5", "It was removed: write iso_checksum = \"md5:...\", as `packer fix` does."),
    ("ssh_wait_timeout", "It is now called ssh_timeout (`packer fix` renames it)."),
    ("ssh_disable_agent", "It is now called ssh_disable_agent_forwarding (`packer fix` renames it)."),
    ("ssh_key_path", "It is now called ssh_private_key_file (`packer fix` renames it)."),
    ("ssh_host_port_min", "It is now called host_port_min (`packer fix` renames it)."),
    ("ssh_host_port_max", "It is now called host_port_max (`packer fix` renames it)."),
    ("ssh_skip_nat_mapping", "It is now called skip_nat_mapping (`packer fix` renames it)."),
];

/// The candidate nearest to `word`, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cfg {
        ssh_username: String,
        #[serde(default)]
        ssh_port: u16,
    }

    fn cfg(value: serde_json::Value) -> Config {
        let src = "source \"null\" \"x\" {\n  ssh_usrname = \"a\"\n  ssh_port = \"x\"\n}\n";
        let mut c = Config::from_value("source \"null\"", value);
        c.spans.insert(
            "ssh_usrname".into(),
            Location::from_span("t.pkr.hcl", src, 22..33),
        );
        c.spans.insert(
            "ssh_port".into(),
            Location::from_span("t.pkr.hcl", src, 42..50),
        );
        c
    }

    #[test]
    fn unknown_field_points_at_attribute_with_suggestion() {
        let d = cfg(serde_json::json!({"ssh_usrname": "a"}))
            .decode::<Cfg>()
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(
            d.to_string(),
            "Error: Unsupported argument\n --> t.pkr.hcl:2:3\n  |\n2 |   ssh_usrname = \"a\"\n  |   ^^^^^^^^^^^\n\nAn argument named \"ssh_usrname\" is not expected in source \"null\". Did you mean \"ssh_username\"?"
        );
    }

    #[test]
    fn a_removed_option_says_what_replaced_it() {
        let c = Config::from_value(
            "source \"qemu\"",
            serde_json::json!({"iso_checksum_type": "sha256"}),
        );
        let d = c
            .check_fields(&[&["iso_checksum"]])
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(
            d.detail,
            "An argument named \"iso_checksum_type\" is not expected in source \"qemu\". It was removed in Packer 1.6: give the type in iso_checksum itself (\"sha256:...\", or \"file:URL\" for a checksum file), as `packer fix` does."
        );
    }

    #[test]
    fn type_error_points_at_attribute() {
        let d = cfg(serde_json::json!({"ssh_username": "a", "ssh_port": "x"}))
            .decode::<Cfg>()
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(d.location.unwrap().line, 3);
        assert!(
            d.detail.starts_with("Invalid value for \"ssh_port\""),
            "{}",
            d.detail
        );
    }
}

#[cfg(test)]
mod long_line_tests {
    use super::*;

    #[test]
    fn long_lines_keep_a_window_and_the_caret_stays_put() {
        let line = format!("x = [{}\"bad\"]", "\"a\", ".repeat(100));
        let at = line.find("\"bad\"").unwrap();
        let loc = Location::from_span("t.pkr.hcl", &line, at..at + 5);
        assert_eq!(loc.column, at + 1);
        assert!(loc.source_line.chars().count() < 250, "{}", loc.source_line);
        let shown = Diagnostic::error("Bad", "").at(Some(loc)).to_string();
        let lines: Vec<&str> = shown.lines().collect();
        let code = lines[3].split_once("| ").unwrap().1;
        let caret = lines[4].split_once("| ").unwrap().1;
        let pos = caret.find('^').unwrap();
        assert_eq!(
            &code[code.char_indices().nth(pos).unwrap().0..][..5],
            "\"bad\"",
            "{shown}"
        );
    }
}

#[cfg(test)]
mod null_tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Shell {
        #[serde(default)]
        inline: Vec<String>,
        #[serde(default)]
        pty: bool,
    }

    #[test]
    fn a_null_setting_is_unset_and_a_misspelled_null_one_is_still_unknown() {
        let c = Config::from_value(
            "provisioner \"shell\"",
            serde_json::json!({"inline": null, "pty": null}),
        );
        let s: Shell = c.decode().unwrap();
        assert!(s.inline.is_empty() && !s.pty);
        let c = Config::from_value("provisioner \"shell\"", serde_json::json!({"inlnie": null}));
        let e = c.decode::<Shell>().unwrap_err().to_string();
        assert!(
            e.contains("An argument named \"inlnie\" is not expected"),
            "{e}"
        );
    }
}

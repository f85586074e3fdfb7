//! `<<-` heredocs dedented exactly as HCL's parser does it (`flushHeredocTemplateParts`), which
//! hcl-edit does not: the body is cut into HCL's tokens (a literal per line, split at `${` and
//! `%{` sequences), strip markers (`~`) are applied to the literals next to them first, and then
//! the least indentation among the literals that begin lines is removed from each of them.
//!
//! The order matters and is HCL's, not what an author may expect: a `%{~ for }` line whose
//! indentation the marker removed begins with an empty literal, which counts as no indentation,
//! so nothing is removed anywhere; and a line that follows a `~}` whose newline was stripped does
//! not begin a line at all, so it keeps its indentation.

enum Tok {
    /// Literal text as written (escapes such as `$${` kept).
    Lit(String),
    /// A `${ }` or `%{ }` sequence, written back without its strip markers.
    Seq {
        text: String,
        strip_left: bool,
        strip_right: bool,
    },
}

/// The template text that, parsed with no strip markers left, gives what HCL makes of the
/// `<<-` heredoc `body` (the lines between the opening and closing lines, each with its `\n`).
/// `None` when the body is not well formed (left to the parser to report).
pub(crate) fn dedent(body: &str) -> Option<String> {
    let mut toks = tokens(body)?;
    // Strip markers first, on the neighbouring literal only.
    for i in 0..toks.len() {
        let (left, right) = match &toks[i] {
            Tok::Seq {
                strip_left,
                strip_right,
                ..
            } => (*strip_left, *strip_right),
            Tok::Lit(_) => continue,
        };
        if left && i > 0 {
            if let Tok::Lit(s) = &mut toks[i - 1] {
                *s = s.trim_end().to_string();
            }
        }
        if right {
            if let Some(Tok::Lit(s)) = toks.get_mut(i + 1) {
                *s = s.trim_start().to_string();
            }
        }
    }
    // The least indentation of the literals that begin lines.
    let mut min = usize::MAX;
    let mut adjust = Vec::new();
    let mut newline = true;
    for (i, t) in toks.iter().enumerate() {
        if newline {
            newline = false;
            let spaces = match t {
                Tok::Lit(s) => {
                    let trimmed = s.trim_start();
                    if trimmed.is_empty() && s.ends_with('\n') {
                        usize::MAX
                    } else {
                        adjust.push(i);
                        s[..s.len() - trimmed.len()].chars().count()
                    }
                }
                Tok::Seq { .. } => 0,
            };
            min = min.min(spaces);
        }
        if let Tok::Lit(s) = t {
            if s.ends_with('\n') {
                newline = true;
            }
        }
    }
    if min != usize::MAX {
        for i in adjust {
            if let Tok::Lit(s) = &mut toks[i] {
                let cut: usize = s.chars().take(min).map(char::len_utf8).sum();
                s.drain(..cut);
            }
        }
    }
    Some(
        toks.into_iter()
            .map(|t| match t {
                Tok::Lit(s) => s,
                Tok::Seq { text, .. } => text,
            })
            .collect(),
    )
}

/// HCL's tokens of a heredoc body.
fn tokens(body: &str) -> Option<Vec<Tok>> {
    let b = body.as_bytes();
    let mut toks = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if (c == b'$' || c == b'%') && next == Some(c) && b.get(i + 2) == Some(&b'{') {
            // `$${` and `%%{` are literal text.
            lit.push_str(&body[i..i + 3]);
            i += 3;
        } else if (c == b'$' || c == b'%') && next == Some(b'{') {
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(&mut lit)));
            }
            let close = closing_brace(b, i + 2)?;
            let inner = &body[i + 2..close];
            let strip_left = inner.starts_with('~');
            let strip_right = inner.ends_with('~') && inner.len() > usize::from(strip_left);
            let inner = inner.strip_prefix('~').unwrap_or(inner);
            let inner = if strip_right {
                &inner[..inner.len() - 1]
            } else {
                inner
            };
            toks.push(Tok::Seq {
                text: format!("{}{{{inner}}}", c as char),
                strip_left,
                strip_right,
            });
            i = close + 1;
        } else if c == b'\n' {
            lit.push('\n');
            toks.push(Tok::Lit(std::mem::take(&mut lit)));
            i += 1;
        } else {
            let ch = body[i..].chars().next()?;
            lit.push(ch);
            i += ch.len_utf8();
        }
    }
    if !lit.is_empty() {
        toks.push(Tok::Lit(lit));
    }
    Some(toks)
}

/// The index of the `}` that closes a sequence whose expression starts at `i`: braces nest, and
/// quoted strings (with their own `${ }`) are skipped.
fn closing_brace(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            b'"' => i = string_end(b, i + 1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the `"` that ends a quoted string whose text starts at `i`.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => return Some(i),
            b'$' | b'%' if b.get(i + 1) == Some(&b[i]) && b.get(i + 2) == Some(&b'{') => i += 2,
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => i = closing_brace(b, i + 2)?,
            b'\n' => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::dedent;

    #[test]
    fn plain_lines_lose_their_least_indentation() {
        assert_eq!(
            dedent("    a\n      b ${x}\n\n    c\n").unwrap(),
            "a\n  b ${x}\n\nc\n"
        );
        assert_eq!(dedent("  ${x}\n    y\n").unwrap(), "${x}\n  y\n");
        // A line that begins with a sequence has no indentation.
        assert_eq!(dedent("${x}\n    y\n").unwrap(), "${x}\n    y\n");
    }

    #[test]
    fn strip_markers_come_first_as_in_hcl() {
        // The `%{~` line begins with an emptied literal: no indentation is removed.
        assert_eq!(
            dedent("    a\n    %{~ for p in l }\n      ${p}\n    %{~ endfor }\n").unwrap(),
            "    a\n%{ for p in l }\n      ${p}\n%{ endfor }\n"
        );
        // After `~}` the newline is gone, so the next line does not begin a line.
        assert_eq!(
            dedent("  %{ if c ~}\n    x\n  %{ endif ~}\n  y\n").unwrap(),
            "%{ if c }    x\n%{ endif }  y\n"
        );
    }

    #[test]
    fn braces_and_strings_inside_sequences() {
        assert_eq!(
            dedent("  ${ {a = \"}\"}[\"a\"] }\n  $${x} %%{y}\n").unwrap(),
            "${ {a = \"}\"}[\"a\"] }\n$${x} %%{y}\n"
        );
        assert_eq!(
            dedent("  ${\"in ${x} }\"}\n").unwrap(),
            "${\"in ${x} }\"}\n"
        );
    }
}

//! `kiln fmt`: HCL's canonical layout, as `packer fmt` (hclwrite) writes it. The text is split
//! into tokens (strings and heredocs down to their literal parts), then each line is indented
//! two spaces per open bracket, tokens get one space between them or none by HCL's spacing
//! rules, and the `=` of consecutive one-line attributes and their trailing comments are aligned.
//! Comments, blank lines and heredoc bodies are kept as they are.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    Newline,
    Comment,
    Ident,
    Number,
    OQuote,
    CQuote,
    QuotedLit,
    StringLit,
    OHeredoc,
    CHeredoc,
    TemplateInterp,
    TemplateControl,
    TemplateSeqEnd,
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    Equal,
    EqualOp,
    NotEqual,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Bang,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Question,
    Colon,
    DoubleColon,
    FatArrow,
    Ellipsis,
    Dot,
    Comma,
    Other,
}

#[derive(Debug, Clone)]
struct Tok {
    k: K,
    text: String,
    sp: usize,
}

struct Lexer<'a> {
    s: &'a str,
    i: usize,
    out: Vec<Tok>,
}

fn ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}
fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn rest(&self) -> &str {
        &self.s[self.i..]
    }
    fn push(&mut self, k: K, len: usize) {
        let text = self.s[self.i..self.i + len].to_string();
        self.i += len;
        self.out.push(Tok { k, text, sp: 0 });
    }

    /// Expression tokens until a `}` at depth zero (when `in_template`), or the end.
    fn expr(&mut self, in_template: bool) -> Result<(), String> {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            let r = self.rest();
            match c {
                ' ' | '\t' | '\r' => self.i += 1,
                '\n' => self.push(K::Newline, 1),
                '#' => self.line_comment(),
                '/' if r.starts_with("//") => self.line_comment(),
                '/' if r.starts_with("/*") => {
                    let end = r[2..].find("*/").ok_or("unterminated /* comment")? + 4;
                    self.push(K::Comment, end);
                }
                '"' => self.quoted()?,
                '<' if r.starts_with("<<") && self.heredoc_start().is_some() => self.heredoc()?,
                '~' if in_template && depth == 0 && r.starts_with("~}") => {
                    self.push(K::TemplateSeqEnd, 2);
                    return Ok(());
                }
                '}' if in_template && depth == 0 => {
                    self.push(K::TemplateSeqEnd, 1);
                    return Ok(());
                }
                '{' => {
                    depth += 1;
                    self.push(K::OBrace, 1);
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    self.push(K::CBrace, 1);
                }
                '[' => self.push(K::OBrack, 1),
                ']' => self.push(K::CBrack, 1),
                '(' => self.push(K::OParen, 1),
                ')' => self.push(K::CParen, 1),
                c if c.is_ascii_digit() => {
                    let mut n = 0;
                    let b = r.as_bytes();
                    while n < b.len()
                        && (b[n].is_ascii_digit()
                            || (b[n] == b'.' && b.get(n + 1).is_some_and(u8::is_ascii_digit))
                            || ((b[n] == b'e' || b[n] == b'E') && n > 0)
                            || ((b[n] == b'+' || b[n] == b'-')
                                && n > 0
                                && (b[n - 1] == b'e' || b[n - 1] == b'E')))
                    {
                        n += 1;
                    }
                    self.push(K::Number, n);
                }
                c if ident_start(c) => {
                    let n: usize = r
                        .char_indices()
                        .find(|&(_, ch)| !ident_char(ch))
                        .map_or(r.len(), |(i, _)| i);
                    self.push(K::Ident, n);
                }
                _ => {
                    let ops: &[(&str, K)] = &[
                        ("...", K::Ellipsis),
                        ("==", K::EqualOp),
                        ("!=", K::NotEqual),
                        ("<=", K::Le),
                        (">=", K::Ge),
                        ("&&", K::And),
                        ("||", K::Or),
                        ("=>", K::FatArrow),
                        ("::", K::DoubleColon),
                        ("=", K::Equal),
                        ("<", K::Lt),
                        (">", K::Gt),
                        ("!", K::Bang),
                        ("+", K::Plus),
                        ("-", K::Minus),
                        ("*", K::Star),
                        ("/", K::Slash),
                        ("%", K::Percent),
                        ("?", K::Question),
                        (":", K::Colon),
                        (".", K::Dot),
                        (",", K::Comma),
                    ];
                    match ops.iter().find(|(o, _)| r.starts_with(o)) {
                        Some((o, k)) => self.push(*k, o.len()),
                        None => self.push(K::Other, c.len_utf8()),
                    }
                }
            }
        }
        if in_template {
            return Err("unterminated template sequence".into());
        }
        Ok(())
    }

    fn line_comment(&mut self) {
        let n = self.rest().find('\n').map_or(self.rest().len(), |i| i + 1);
        self.push(K::Comment, n);
    }

    /// `<<EOT` / `<<-EOT` at the cursor: (length of the introducer incl. newline, delimiter).
    fn heredoc_start(&self) -> Option<(usize, String)> {
        let r = self.rest();
        let after = r.strip_prefix("<<")?;
        let (dash, name_part) = match after.strip_prefix('-') {
            Some(x) => (1, x),
            None => (0, after),
        };
        let name: String = name_part.chars().take_while(|&c| ident_char(c)).collect();
        if name.is_empty() || !name.starts_with(ident_start) {
            return None;
        }
        let mut len = 2 + dash + name.len();
        let rest = &r[len..];
        let rest_trim = rest.trim_start_matches([' ', '\t', '\r']);
        if !rest_trim.starts_with('\n') {
            return None;
        }
        len += rest.len() - rest_trim.len() + 1;
        Some((len, name))
    }

    fn heredoc(&mut self) -> Result<(), String> {
        let (len, delim) = self.heredoc_start().ok_or("bad heredoc")?;
        self.push(K::OHeredoc, len);
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err(format!("unterminated heredoc {delim}"));
            }
            let line_end = r.find('\n').map_or(r.len(), |i| i);
            if r[..line_end].trim() == delim {
                let n = r[..line_end].trim_end_matches('\r').len();
                self.push(K::CHeredoc, n);
                return Ok(());
            }
            self.template_text(K::StringLit, true)?;
        }
    }

    /// Template text up to the end of the quoted string (`"`) or, in a heredoc, of the line.
    fn template_text(&mut self, lit: K, heredoc: bool) -> Result<(), String> {
        let mut start = self.i;
        loop {
            let r = &self.s[self.i..];
            let Some(c) = r.chars().next() else {
                if heredoc {
                    break;
                }
                return Err("unterminated string".into());
            };
            if !heredoc && c == '"' {
                break;
            }
            if heredoc && c == '\n' {
                self.i += 1;
                break;
            }
            if !heredoc && c == '\n' {
                return Err("newline in a quoted string".into());
            }
            if !heredoc && c == '\\' {
                self.i += 1 + r[1..].chars().next().map_or(0, char::len_utf8);
                continue;
            }
            if r.starts_with("$${") || r.starts_with("%%{") {
                self.i += 3;
                continue;
            }
            if r.starts_with("${") || r.starts_with("%{") {
                if self.i > start {
                    let text = self.s[start..self.i].to_string();
                    self.out.push(Tok {
                        k: lit,
                        text,
                        sp: 0,
                    });
                }
                let k = if c == '$' {
                    K::TemplateInterp
                } else {
                    K::TemplateControl
                };
                let n = if r[2..].starts_with('~') { 3 } else { 2 };
                self.push(k, n);
                self.expr(true)?;
                start = self.i;
                continue;
            }
            self.i += c.len_utf8();
        }
        if self.i > start {
            let text = self.s[start..self.i].to_string();
            self.out.push(Tok {
                k: lit,
                text,
                sp: 0,
            });
        }
        Ok(())
    }

    fn quoted(&mut self) -> Result<(), String> {
        self.push(K::OQuote, 1);
        self.template_text(K::QuotedLit, false)?;
        self.push(K::CQuote, 1);
        Ok(())
    }
}

fn bracket_change(t: &Tok) -> i32 {
    match t.k {
        K::OBrace | K::OBrack | K::OParen | K::TemplateControl | K::TemplateInterp => 1,
        K::CBrace | K::CBrack | K::CParen | K::TemplateSeqEnd => -1,
        _ => 0,
    }
}

fn is_newline(t: &Tok) -> bool {
    t.k == K::Newline || (t.k == K::Comment && t.text.ends_with('\n'))
}

/// hclwrite's spacing rule: whether `after` gets one space before it.
fn space_after(subject: &Tok, before: Option<&Tok>, after: &Tok) -> bool {
    use K::*;
    let bk = before.map(|b| b.k);
    match () {
        () if after.k == Newline => false,
        () if subject.k == Ident && after.k == OParen => false,
        () if (subject.k == Ident && after.k == DoubleColon)
            || (subject.k == DoubleColon && after.k == Ident) =>
        {
            false
        }
        () if subject.k == Dot || after.k == Dot => false,
        () if after.k == Comma || after.k == Ellipsis => false,
        () if subject.k == Comma => true,
        () if matches!(subject.k, QuotedLit | StringLit | OQuote | OHeredoc)
            || matches!(after.k, QuotedLit | StringLit | CQuote | CHeredoc) =>
        {
            false
        }
        () if subject.k == Ident && subject.text == "in" && bk == Some(Ident) => true,
        () if after.k == OBrack
            && (subject.k == Ident || subject.k == Number || bracket_change(subject) < 0) =>
        {
            false
        }
        () if subject.k == Bang => false,
        () if subject.k == Minus => !matches!(
            bk,
            None | Some(
                OParen
                    | OBrace
                    | OBrack
                    | Equal
                    | Colon
                    | Comma
                    | Question
                    | Plus
                    | Star
                    | Slash
                    | Percent
                    | Minus
                    | EqualOp
                    | NotEqual
                    | Gt
                    | Ge
                    | Lt
                    | Le
                    | And
                    | Or
                    | Bang
            )
        ),
        () if subject.k == OBrace || after.k == CBrace => {
            !(subject.k == OBrace && after.k == CBrace)
        }
        () if matches!(subject.k, TemplateInterp | TemplateControl) && after.k == OBrace => true,
        () if subject.k == CBrace && after.k == TemplateSeqEnd => true,
        () if subject.k == TemplateSeqEnd
            && matches!(after.k, TemplateInterp | TemplateControl) =>
        {
            false
        }
        () if bracket_change(subject) > 0 => false,
        () if bracket_change(after) < 0 => false,
        () => true,
    }
}

#[derive(Default)]
struct Line {
    lead: Vec<Tok>,
    assign: Vec<Tok>,
    comment: Vec<Tok>,
}

fn columns(ts: &[Tok]) -> usize {
    ts.iter().map(|t| t.sp + t.text.chars().count()).sum()
}

fn set_spaces(ts: &mut [Tok], first_is_assign: bool) {
    for i in 0..ts.len() {
        if i == 0 && first_is_assign {
            ts[0].sp = 1;
        }
        if i + 1 >= ts.len() {
            continue;
        }
        let sp = {
            let before = if i > 0 { Some(&ts[i - 1]) } else { None };
            space_after(&ts[i], before, &ts[i + 1])
        };
        ts[i + 1].sp = usize::from(sp);
    }
}

/// Pads the first token of a cell so that the cell starts in the same column on every line of a
/// chain: consecutive lines for which `width` (the columns before the cell) is known.
fn align(
    lines: &mut [Line],
    width: impl Fn(&Line) -> Option<usize>,
    cell: impl Fn(&mut Line) -> &mut Vec<Tok>,
) {
    let mut i = 0;
    while i < lines.len() {
        if width(&lines[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut max = 0;
        while let Some(w) = lines.get(i).and_then(&width) {
            max = max.max(w);
            i += 1;
        }
        for l in &mut lines[start..i] {
            let w = width(l).unwrap_or(max);
            if let Some(t) = cell(l).first_mut() {
                t.sp = max - w + 1;
            }
        }
    }
}

/// Formats HCL text. Only syntax that cannot be tokenised (an unterminated string or heredoc)
/// is an error; parse the file first to report real syntax errors.
///
/// # Errors
/// The tokenising problem.
pub fn format(src: &str) -> Result<String, String> {
    let mut lx = Lexer {
        s: src,
        i: 0,
        out: Vec::new(),
    };
    lx.expr(false)?;
    let tokens = lx.out;
    // Lines, split after newline tokens (line comments end lines too).
    let mut lines: Vec<Line> = Vec::new();
    let mut cur = Vec::new();
    for t in tokens {
        let nl = is_newline(&t);
        cur.push(t);
        if nl {
            lines.push(Line {
                lead: std::mem::take(&mut cur),
                ..Line::default()
            });
        }
    }
    if !cur.is_empty() {
        lines.push(Line {
            lead: cur,
            ..Line::default()
        });
    }
    for line in &mut lines {
        if line.lead.len() > 1 && line.lead.last().is_some_and(|t| t.k == K::Comment) {
            line.comment = line.lead.split_off(line.lead.len() - 1);
        }
        if let Some(i) = line
            .lead
            .iter()
            .skip(1)
            .position(|t| t.k == K::Equal)
            .map(|p| p + 1)
        {
            let net: i32 = line.lead[i..].iter().map(bracket_change).sum();
            if net == 0 {
                line.assign = line.lead.split_off(i);
            }
        }
    }
    // Indentation.
    let mut indents: Vec<i32> = Vec::new();
    for line in &mut lines {
        if line.lead.is_empty() {
            continue;
        }
        if line.lead[0].k == K::Newline {
            line.lead[0].sp = 0;
            continue;
        }
        let mut net = 0;
        for t in &line.lead {
            net += bracket_change(t);
            if t.k == K::OHeredoc {
                break;
            }
        }
        net += line.assign.iter().map(bracket_change).sum::<i32>();
        if net > 0 {
            line.lead[0].sp = 2 * indents.len();
            indents.push(net);
        } else {
            let mut closed = -net;
            while closed > 0 {
                let Some(last) = indents.last_mut() else {
                    break;
                };
                if closed > *last {
                    closed -= *last;
                    indents.pop();
                } else if closed < *last {
                    *last -= closed;
                    closed = 0;
                } else {
                    indents.pop();
                    closed = 0;
                }
            }
            line.lead[0].sp = 2 * indents.len();
        }
    }
    // Spaces within lines.
    for line in &mut lines {
        let indent = line.lead.first().map_or(0, |t| t.sp);
        set_spaces(&mut line.lead, false);
        if let Some(t) = line.lead.first_mut() {
            t.sp = indent;
        }
        set_spaces(&mut line.assign, true);
    }
    // Align `=` in chains of one-line attributes, then trailing comments.
    align(
        &mut lines,
        |l| (!l.assign.is_empty()).then(|| columns(&l.lead)),
        |l| &mut l.assign,
    );
    align(
        &mut lines,
        |l| (!l.comment.is_empty()).then(|| columns(&l.lead) + columns(&l.assign)),
        |l| &mut l.comment,
    );
    let mut out = String::with_capacity(src.len());
    for l in &lines {
        for t in l.lead.iter().chain(&l.assign).chain(&l.comment) {
            for _ in 0..t.sp {
                out.push(' ');
            }
            out.push_str(&t.text);
        }
    }
    // Whitespace at the very end (with no newline after it) is the end-of-file token's spacing,
    // which hclwrite writes back unchanged.
    let trailing = src.len() - src.trim_end_matches([' ', '\t']).len();
    out.push_str(&" ".repeat(trailing));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_packer_fmt() {
        let src = "source \"null\"   \"a\"{\ncommunicator=\"none\"\n  x = {\n      a=1\n   bbb   = [1,2,  3]\n  }\n y= \"${ upper( \"a\" ) }\"\n     z = -1 # c\n  zz = a[0].b  // d\n v = [for x in range( 3 ): x*2 if x>0]\n}\n";
        let want = "source \"null\" \"a\" {\n  communicator = \"none\"\n  x = {\n    a   = 1\n    bbb = [1, 2, 3]\n  }\n  y  = \"${upper(\"a\")}\"\n  z  = -1     # c\n  zz = a[0].b // d\n  v  = [for x in range(3) : x * 2 if x > 0]\n}\n";
        assert_eq!(format(src).unwrap(), want);
        assert_eq!(format(want).unwrap(), want);
    }

    #[test]
    fn heredocs_and_block_comments_stay() {
        let src = "a {\n script=<<EOF\n  keep   this\n${ x }\nEOF\n/* multi\n   line */\n}\n";
        assert_eq!(
            format(src).unwrap(),
            "a {\n  script = <<EOF\n  keep   this\n${x}\nEOF\n  /* multi\n   line */\n}\n"
        );
    }
}

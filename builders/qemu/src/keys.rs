//! Packer's `boot_command` language: literal text, `<special>` keys, `<xxxOn>` / `<xxxOff>` to hold
//! and release a key, and `<wait>`, `<wait5>`, `<wait1m30s>` pauses. Keys become QEMU qcodes.

use std::time::Duration;

/// One thing to do while typing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Press and release `key` while `mods` are held (e.g. shift for `A`).
    Tap {
        /// Modifiers to hold, as qcodes.
        mods: Vec<&'static str>,
        /// The key's qcode.
        key: &'static str,
    },
    /// Press and hold.
    Down(&'static str),
    /// Release.
    Up(&'static str),
    /// Pause.
    Wait(Duration),
}

fn special(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "bs" => "backspace",
        "del" => "delete",
        "enter" | "return" => "ret",
        "esc" => "esc",
        "tab" => "tab",
        "spacebar" => "spc",
        "insert" => "insert",
        "home" => "home",
        "end" => "end",
        "pageup" => "pgup",
        "pagedown" => "pgdn",
        "left" => "left",
        "right" => "right",
        "up" => "up",
        "down" => "down",
        "menu" => "menu",
        "leftalt" => "alt",
        "rightalt" => "alt_r",
        "leftctrl" => "ctrl",
        "rightctrl" => "ctrl_r",
        "leftshift" => "shift",
        "rightshift" => "shift_r",
        "leftsuper" => "meta_l",
        "rightsuper" => "meta_r",
        "f1" => "f1",
        "f2" => "f2",
        "f3" => "f3",
        "f4" => "f4",
        "f5" => "f5",
        "f6" => "f6",
        "f7" => "f7",
        "f8" => "f8",
        "f9" => "f9",
        "f10" => "f10",
        "f11" => "f11",
        "f12" => "f12",
        _ => return None,
    })
}

/// The qcode of a character on a US keyboard, and whether shift is needed.
fn char_key(c: char) -> Option<(&'static str, bool)> {
    const LOWER: [&str; 26] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r",
        "s", "t", "u", "v", "w", "x", "y", "z",
    ];
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    Some(match c {
        'a'..='z' => (LOWER[c as usize - 'a' as usize], false),
        'A'..='Z' => (LOWER[c as usize - 'A' as usize], true),
        '0'..='9' => (DIGITS[c as usize - '0' as usize], false),
        ' ' => ("spc", false),
        '\n' | '\r' => ("ret", false),
        '\t' => ("tab", false),
        '-' => ("minus", false),
        '=' => ("equal", false),
        '[' => ("bracket_left", false),
        ']' => ("bracket_right", false),
        '\\' => ("backslash", false),
        ';' => ("semicolon", false),
        '\'' => ("apostrophe", false),
        '`' => ("grave_accent", false),
        ',' => ("comma", false),
        '.' => ("dot", false),
        '/' => ("slash", false),
        '!' => ("1", true),
        '@' => ("2", true),
        '#' => ("3", true),
        '$' => ("4", true),
        '%' => ("5", true),
        '^' => ("6", true),
        '&' => ("7", true),
        '*' => ("8", true),
        '(' => ("9", true),
        ')' => ("0", true),
        '_' => ("minus", true),
        '+' => ("equal", true),
        '{' => ("bracket_left", true),
        '}' => ("bracket_right", true),
        '|' => ("backslash", true),
        ':' => ("semicolon", true),
        '"' => ("apostrophe", true),
        '~' => ("grave_accent", true),
        '<' => ("comma", true),
        '>' => ("dot", true),
        '?' => ("slash", true),
        _ => return None,
    })
}

fn wait(spec: &str) -> Option<Result<Duration, String>> {
    let lower = spec.to_ascii_lowercase();
    let rest = lower.strip_prefix("wait")?;
    if rest.is_empty() {
        return Some(Ok(Duration::from_secs(1)));
    }
    if rest.chars().all(|c| c.is_ascii_digit()) {
        return Some(
            rest.parse()
                .map(Duration::from_secs)
                .map_err(|e| e.to_string()),
        );
    }
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(kiln_core::duration::parse(rest).map_err(|e| format!("<{spec}>: {e}")));
    }
    None
}

/// Parses one `boot_command` string.
///
/// # Errors
/// A character no US keyboard can type, or a malformed `<waitX>`.
pub fn parse(text: &str) -> Result<Vec<Action>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some(end) = rest[1..].find('>') {
                let name = &rest[1..=end];
                let mut matched = true;
                if let Some(w) = wait(name) {
                    out.push(Action::Wait(w?));
                } else if let Some(k) = special(name) {
                    out.push(Action::Tap {
                        mods: vec![],
                        key: k,
                    });
                } else if let Some(k) = name
                    .strip_suffix("On")
                    .or_else(|| name.strip_suffix("on"))
                    .and_then(special)
                {
                    out.push(Action::Down(k));
                } else if let Some(k) = name
                    .strip_suffix("Off")
                    .or_else(|| name.strip_suffix("off"))
                    .and_then(special)
                {
                    out.push(Action::Up(k));
                } else {
                    matched = false;
                }
                if matched {
                    rest = &rest[end + 2..];
                    continue;
                }
            }
        }
        let (key, shift) = char_key(c).ok_or_else(|| {
            format!("boot_command: the character {c:?} cannot be typed on a US keyboard")
        })?;
        out.push(Action::Tap {
            mods: if shift { vec!["shift"] } else { vec![] },
            key,
        });
        rest = &rest[c.len_utf8()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap(key: &'static str) -> Action {
        Action::Tap { mods: vec![], key }
    }

    #[test]
    fn parses_packer_boot_commands() {
        let a = parse("aB<enter><wait5><leftCtrlOn>c<leftCtrlOff><wait1m30s><Esc>").unwrap();
        assert_eq!(
            a,
            vec![
                tap("a"),
                Action::Tap {
                    mods: vec!["shift"],
                    key: "b"
                },
                tap("ret"),
                Action::Wait(Duration::from_secs(5)),
                Action::Down("ctrl"),
                tap("c"),
                Action::Up("ctrl"),
                Action::Wait(Duration::from_secs(90)),
                tap("esc"),
            ]
        );
        assert_eq!(
            parse("<wait>").unwrap(),
            vec![Action::Wait(Duration::from_secs(1))]
        );
    }

    #[test]
    fn unknown_specials_are_typed_literally() {
        let a = parse("<x>").unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[1], tap("x"));
        assert!(parse("é").unwrap_err().contains("cannot be typed"));
    }
}

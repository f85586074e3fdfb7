//! Version order as each package manager defines it: dpkg's (Debian policy 5.6.12: epoch,
//! upstream version, revision; `~` before everything, letters before other characters, digit
//! runs numerically) and RPM's (`rpmvercmp`: epoch, version, release; alphanumeric segments,
//! `~` before and `^` after the end) and apk's (Alpine: `1.2.3a_rc1-r4`: numbers, a letter,
//! suffixes, the revision).

use std::cmp::Ordering;

/// dpkg's weight of one character of a non-digit run (`None`: the run has ended).
fn dpkg_weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's comparison of two upstream versions or two revisions.
fn dpkg_part(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // A run of non-digits, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (wa, wb) = (
                dpkg_weight(a.get(i).copied()),
                dpkg_weight(b.get(j).copied()),
            );
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        // Then a run of digits, by value.
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first == Ordering::Equal {
                first = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first != Ordering::Equal {
            return first;
        }
    }
    Ordering::Equal
}

/// A version split as dpkg splits it: epoch (before the first `:`), upstream version and
/// revision (after the last `-`).
fn dpkg_split(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) if !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit()) => {
            (e.parse().unwrap_or(u64::MAX), r)
        }
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((u, r)) => (epoch, u, r),
        None => (epoch, rest, ""),
    }
}

/// Compares two Debian package versions as `dpkg --compare-versions` does.
#[must_use]
pub fn dpkg_cmp(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = dpkg_split(a.trim());
    let (eb, ub, rb) = dpkg_split(b.trim());
    ea.cmp(&eb)
        .then_with(|| dpkg_part(ua.as_bytes(), ub.as_bytes()))
        .then_with(|| dpkg_part(ra.as_bytes(), rb.as_bytes()))
}

/// RPM's comparison of two versions or two releases (`rpmvercmp`).
fn rpm_part(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let separator = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && separator(a[i]) {
            i += 1;
        }
        while j < b.len() && separator(b[j]) {
            j += 1;
        }
        // `~` sorts before everything, the end included.
        if a.get(i) == Some(&b'~') || b.get(j) == Some(&b'~') {
            if a.get(i) != Some(&b'~') {
                return Ordering::Greater;
            }
            if b.get(j) != Some(&b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // `^` sorts after the end, before anything else.
        if a.get(i) == Some(&b'^') || b.get(j) == Some(&b'^') {
            if i == a.len() {
                return Ordering::Less;
            }
            if j == b.len() {
                return Ordering::Greater;
            }
            if a[i] != b'^' {
                return Ordering::Greater;
            }
            if b[j] != b'^' {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if i == a.len() || j == b.len() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let take = |s: &[u8], mut k: usize| {
            let start = k;
            while k < s.len()
                && (if numeric {
                    s[k].is_ascii_digit()
                } else {
                    s[k].is_ascii_alphabetic()
                })
            {
                k += 1;
            }
            (start, k)
        };
        let (sa, ea) = take(a, i);
        let (sb, eb) = take(b, j);
        if sb == eb {
            // Segments of different kinds: a number is newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut x, mut y) = (&a[sa..ea], &b[sb..eb]);
        let o = if numeric {
            while x.first() == Some(&b'0') {
                x = &x[1..];
            }
            while y.first() == Some(&b'0') {
                y = &y[1..];
            }
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        } else {
            x.cmp(y)
        };
        if o != Ordering::Equal {
            return o;
        }
        i = ea;
        j = eb;
    }
    match (i == a.len(), j == b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// Compares two RPM `[EPOCH:]VERSION[-RELEASE]` strings as rpm does.
#[must_use]
pub fn rpm_cmp(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (u64, &str, Option<&str>) {
        let (e, rest) = match v.split_once(':') {
            Some((e, r)) if e.bytes().all(|c| c.is_ascii_digit()) => (e.parse().unwrap_or(0), r),
            _ => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((v, r)) => (e, v, Some(r)),
            None => (e, rest, None),
        }
    }
    let (ea, va, ra) = split(a.trim());
    let (eb, vb, rb) = split(b.trim());
    ea.cmp(&eb)
        .then_with(|| rpm_part(va, vb))
        .then_with(|| match (ra, rb) {
            (Some(x), Some(y)) => rpm_part(x, y),
            // A version without a release matches every release of it, as rpm's range checks do.
            _ => Ordering::Equal,
        })
}

/// An apk version's parts: `NUMBER{.NUMBER}[LETTER]{_SUFFIX[N]}[~HASH][-rN]`.
struct Apk<'a> {
    numbers: Vec<&'a str>,
    letter: Option<u8>,
    suffixes: Vec<(u8, u64)>,
    revision: u64,
}

/// The order of apk's suffixes: pre-releases before none (4), post-releases after.
fn apk_suffix_rank(s: &str) -> Option<u8> {
    Some(match s {
        "alpha" => 0,
        "beta" => 1,
        "pre" => 2,
        "rc" => 3,
        "cvs" => 5,
        "svn" => 6,
        "git" => 7,
        "hg" => 8,
        "p" => 9,
        _ => return None,
    })
}

fn apk_parse(v: &str) -> Apk<'_> {
    let (body, revision) = match v.rsplit_once("-r") {
        Some((b, r)) if r.bytes().all(|c| c.is_ascii_digit()) && !r.is_empty() => {
            (b, r.parse().unwrap_or(0))
        }
        _ => (v, 0),
    };
    let body = body.split_once('~').map_or(body, |(b, _)| b);
    let (head, suffixes) = body.split_once('_').map_or((body, ""), |(h, s)| (h, s));
    let mut numbers: Vec<&str> = head.split('.').collect();
    let mut letter = None;
    if let Some(last) = numbers.last_mut() {
        if let Some(&c) = last.as_bytes().last() {
            if c.is_ascii_alphabetic() {
                letter = Some(c);
                *last = &last[..last.len() - 1];
            }
        }
    }
    let suffixes = suffixes
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let name = s.trim_end_matches(|c: char| c.is_ascii_digit());
            let n = s[name.len()..].parse().unwrap_or(0);
            (apk_suffix_rank(name).unwrap_or(4), n)
        })
        .collect();
    Apk {
        numbers,
        letter,
        suffixes,
        revision,
    }
}

/// Compares two Alpine package versions as apk does.
#[must_use]
pub fn apk_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (apk_parse(a.trim()), apk_parse(b.trim()));
    for (i, (p, q)) in x.numbers.iter().zip(&y.numbers).enumerate() {
        // After the first, a component with a leading zero compares as a fraction: by text.
        let o = if i > 0 && (p.starts_with('0') || q.starts_with('0')) {
            p.cmp(q)
        } else {
            let (p, q) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
            p.len().cmp(&q.len()).then_with(|| p.cmp(q))
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    let o = x.numbers.len().cmp(&y.numbers.len());
    if o != Ordering::Equal {
        return o;
    }
    let o = x.letter.cmp(&y.letter);
    if o != Ordering::Equal {
        return o;
    }
    for i in 0..x.suffixes.len().max(y.suffixes.len()) {
        let p = x.suffixes.get(i).copied().unwrap_or((4, 0));
        let q = y.suffixes.get(i).copied().unwrap_or((4, 0));
        let o = p.cmp(&q);
        if o != Ordering::Equal {
            return o;
        }
    }
    x.revision.cmp(&y.revision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn dpkg_order() {
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0a", Less),
            ("1.0a", "1.0+", Less),
            ("1:0.1", "2.0", Greater),
            ("0:2.0", "2.0", Equal),
            ("1.0-1", "1.0-1+b1", Less),
            ("1.0-1", "1.0-1~bpo1", Greater),
            ("1.10", "1.9", Greater),
            ("1.010", "1.10", Equal),
            ("2.36-9+deb12u4", "2.36-9+deb12u10", Less),
            ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", Less),
            ("1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u2", Greater),
            ("3.0.11-1~deb12u2", "3.0.11-1", Less),
            ("1.2.3-4", "1.2.3-4.1", Less),
            ("a", "b", Less),
            ("1-2-3", "1-2-4", Less),
        ] {
            assert_eq!(dpkg_cmp(a, b), o, "{a} vs {b}");
            assert_eq!(dpkg_cmp(b, a), o.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn apk_order() {
        for (a, b, o) in [
            ("1.2.3", "1.2.3", Equal),
            ("1.2.3", "1.2.3-r1", Less),
            ("1.36.1-r5", "1.36.1-r15", Less),
            ("1.2.3_rc1", "1.2.3", Less),
            ("1.2.3_p1", "1.2.3", Greater),
            ("2.0_alpha1", "2.0_beta", Less),
            ("1.0_git20230101", "1.0", Greater),
            ("1.2a", "1.2", Greater),
            ("1.2a", "1.2b", Less),
            ("1.2.10", "1.2.9", Greater),
            ("1.02", "1.1", Less),
            ("1.2.1", "1.2", Greater),
            ("3.0.12-r0", "3.0.13-r0", Less),
            ("1.2.3~abc-r1", "1.2.3-r1", Equal),
        ] {
            assert_eq!(apk_cmp(a, b), o, "{a} vs {b}");
            assert_eq!(apk_cmp(b, a), o.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rpm_order() {
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0.1", Less),
            ("1.0a", "1.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("1.10", "1.9", Greater),
            ("1.0-1.el9", "1.0-2.el9", Less),
            ("1:1.0-1", "2.0-1", Greater),
            ("2.0.1", "2.0a", Greater),
            ("1.001", "1.1", Equal),
            ("5.1.8-6.el9", "5.1.8-6.el9_1", Less),
            ("1.0", "1.0-5", Equal),
        ] {
            assert_eq!(rpm_cmp(a, b), o, "{a} vs {b}");
            assert_eq!(rpm_cmp(b, a), o.reverse(), "{b} vs {a}");
        }
    }
}

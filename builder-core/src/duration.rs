//! Go-style durations (`"5m"`, `"1h30m"`, `"250ms"`), as Packer templates write them.

use std::time::Duration;

/// Parses a Go duration string such as `"1h2m3.5s"`, `"300ms"` or `"0"`.
///
/// # Errors
/// Returns a message naming the offending text when the string is not a duration.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("an empty string is not a duration".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{text:?} is missing a unit (use ns, us, ms, s, m or h)"))?;
        if num_len == 0 {
            return Err(format!(
                "{text:?} is not a duration such as \"5m\" or \"30s\""
            ));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("{text:?} is not a duration such as \"5m\" or \"30s\""))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "{text:?} has an unknown unit {other:?} (use ns, us, ms, s, m or h)"
                ))
            }
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_secs_f64(total))
}

/// `d` as Go's `time.Duration.String` writes it (`1s`, `1m30s`, `1h0m0s`, `1.5s`, `250ms`),
/// which Packer's messages show.
#[must_use]
pub fn go(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let frac = |v: u128, digits: u32| {
        let unit = 10u128.pow(digits);
        let (whole, rest) = (v / unit, v % unit);
        if rest == 0 {
            whole.to_string()
        } else {
            let r = format!("{rest:0width$}", width = digits as usize);
            format!("{whole}.{}", r.trim_end_matches('0'))
        }
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", frac(ns, 3));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns, 6));
    }
    let secs = ns / 1_000_000_000;
    let sub = ns % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let s = frac(s * 1_000_000_000 + sub, 9);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Formats a duration as Packer prints elapsed times: `1 minute 2 seconds`.
#[must_use]
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    let (h, m, s, milli) = (
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000,
    );
    let mut parts = Vec::new();
    let unit = |n: u128, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    if h > 0 {
        parts.push(unit(h, "hour"));
    }
    if m > 0 {
        parts.push(unit(m, "minute"));
    }
    if s > 0 {
        parts.push(unit(s, "second"));
    }
    if milli > 0 || parts.is_empty() {
        parts.push(unit(milli, "millisecond"));
    }
    parts.join(" ")
}

/// Serde helpers for optional duration fields in plugin configs.
pub mod serde_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    /// Deserializes `"5m"`-style strings (or a number of seconds) into `Option<Duration>`.
    ///
    /// # Errors
    /// Fails when the value is neither a duration string nor a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(f64),
        }
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::N(n)) => Ok(Some(Duration::from_secs_f64(n.max(0.0)))),
            Some(Raw::S(s)) => super::parse(&s).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_strings() {
        for (ms, want) in [
            (0, "0s"),
            (250, "250ms"),
            (1_000, "1s"),
            (1_500, "1.5s"),
            (90_000, "1m30s"),
            (120_000, "2m0s"),
            (3_600_000, "1h0m0s"),
            (3_723_400, "1h2m3.4s"),
        ] {
            assert_eq!(go(Duration::from_millis(ms)), want, "{ms} ms");
        }
        assert_eq!(go(Duration::from_micros(1_500)), "1.5ms");
        assert_eq!(go(Duration::from_nanos(1_500)), "1.5µs");
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("0").unwrap(), Duration::ZERO);
        assert!(parse("5").unwrap_err().contains("missing a unit"));
        assert!(parse("5d").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn formats_like_packer() {
        assert_eq!(
            human(Duration::from_millis(1023)),
            "1 second 23 milliseconds"
        );
        assert_eq!(human(Duration::from_secs(61)), "1 minute 1 second");
        assert_eq!(human(Duration::ZERO), "0 milliseconds");
    }
}

//! Packer's numbers: cty keeps every number as a Go `big.Float`, 512 bits of mantissa for
//! numbers written in a template (literals, variables, strings converted to numbers), 53 for
//! results of functions that compute in float64, 64 for counts. Arithmetic rounds to the larger
//! precision of its operands, to nearest even; a number is written as the shortest decimal
//! that reads back to the same value at its precision (`Text('f', -1)`), so `1/3` has 155
//! digits and `0.1 + 0.2` is `0.3`. This module does that arithmetic and printing exactly.

use num_bigint::BigUint;
use num_integer::Integer;
#[cfg(test)]
use num_traits::ToPrimitive;
use num_traits::{One, Zero};
use std::cmp::Ordering;

/// The precision cty gives numbers parsed from text.
pub(crate) const PREC: u32 = 512;

/// A finite binary floating-point number: `(-1)^neg × mant × 2^exp`, `mant` at most `prec`
/// bits (zero keeps its sign, as Go's).
#[derive(Clone, Debug)]
pub(crate) struct Big {
    neg: bool,
    mant: BigUint,
    exp: i64,
    prec: u32,
}

fn bits(m: &BigUint) -> i64 {
    i64::try_from(m.bits()).unwrap_or(i64::MAX)
}

fn shl(m: &BigUint, n: i64) -> BigUint {
    m << usize::try_from(n).unwrap_or(0)
}

impl Big {
    fn zero(neg: bool, prec: u32) -> Big {
        Big {
            neg,
            mant: BigUint::zero(),
            exp: 0,
            prec,
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.mant.is_zero()
    }

    pub(crate) fn is_neg(&self) -> bool {
        self.neg
    }

    pub(crate) fn prec(&self) -> u32 {
        self.prec
    }

    /// `(-1)^neg × mant × 2^exp` rounded to `prec` bits, to nearest even; `sticky` says that
    /// nonzero bits below `mant` were cut off (a division's remainder).
    fn round(neg: bool, mant: BigUint, exp: i64, prec: u32, sticky: bool) -> Big {
        if mant.is_zero() {
            return Big::zero(neg, prec);
        }
        let n = bits(&mant);
        let p = i64::from(prec);
        let (mut mant, mut exp) = (mant, exp);
        if n > p {
            let s = n - p;
            let half = mant.bit(u64::try_from(s - 1).unwrap_or(0));
            let below = sticky
                || (s > 1
                    && mant.trailing_zeros().unwrap_or(0) < u64::try_from(s - 1).unwrap_or(0));
            let mut kept = &mant >> usize::try_from(s).unwrap_or(0);
            if half && (below || kept.bit(0)) {
                kept += 1u32;
                if bits(&kept) > p {
                    kept >>= 1;
                    exp += 1;
                }
            }
            mant = kept;
            exp += s;
        }
        let tz = i64::try_from(mant.trailing_zeros().unwrap_or(0)).unwrap_or(0);
        if tz > 0 {
            mant >>= usize::try_from(tz).unwrap_or(0);
            exp += tz;
        }
        Big {
            neg,
            mant,
            exp,
            prec,
        }
    }

    /// An integer, exact up to `prec` bits.
    pub(crate) fn from_int(neg: bool, m: BigUint, prec: u32) -> Big {
        Big::round(neg, m, 0, prec, false)
    }

    pub(crate) fn from_i128(i: i128, prec: u32) -> Big {
        Big::from_int(i < 0, BigUint::from(i.unsigned_abs()), prec)
    }

    /// A float64, exactly (precision 53).
    pub(crate) fn from_f64(f: f64) -> Option<Big> {
        if !f.is_finite() {
            return None;
        }
        let b = f.to_bits();
        let neg = b >> 63 == 1;
        let e = i64::try_from((b >> 52) & 0x7ff).unwrap_or(0);
        let frac = b & ((1u64 << 52) - 1);
        let (m, e) = if e == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), e - 1075)
        };
        Some(Big::round(neg, BigUint::from(m), e, 53, false))
    }

    /// A decimal number as Go's `big.ParseFloat(s, 10, prec, ToNearestEven)` reads it:
    /// optional sign, digits with an optional fraction, an optional exponent.
    pub(crate) fn parse(s: &str, prec: u32) -> Option<Big> {
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        let mut e10: i64 = match exponent {
            None => 0,
            Some(e) => {
                let d = e.strip_prefix(['+', '-']).unwrap_or(e);
                if d.is_empty() || !digits(d) {
                    return None;
                }
                // Beyond this every number overflows or vanishes anyway.
                e.parse::<i64>().ok().filter(|e| e.abs() < 1_000_000)?
            }
        };
        e10 -= i64::try_from(frac.len()).ok()?;
        let all = format!("{int}{frac}");
        let d: BigUint = all.parse().unwrap_or_default();
        if d.is_zero() {
            return Some(Big::zero(neg, prec));
        }
        if e10 >= 0 {
            let m = d * BigUint::from(10u32).pow(u32::try_from(e10).ok()?);
            return Some(Big::from_int(neg, m, prec));
        }
        let den = BigUint::from(10u32).pow(u32::try_from(-e10).ok()?);
        Some(Big::ratio(neg, &d, 0, &den, prec))
    }

    /// `(-1)^neg × num × 2^exp / den`, rounded to `prec` bits.
    fn ratio(neg: bool, num: &BigUint, exp: i64, den: &BigUint, prec: u32) -> Big {
        let k = (i64::from(prec) + 2 + bits(den) - bits(num)).max(0);
        let (q, r) = shl(num, k).div_rem(den);
        Big::round(neg, q, exp - k, prec, !r.is_zero())
    }

    pub(crate) fn neg(&self) -> Big {
        Big {
            neg: !self.neg,
            ..self.clone()
        }
    }

    /// The two mantissas scaled to a common exponent.
    fn aligned(&self, o: &Big) -> (BigUint, BigUint, i64) {
        let e = self.exp.min(o.exp);
        (shl(&self.mant, self.exp - e), shl(&o.mant, o.exp - e), e)
    }

    pub(crate) fn add(&self, o: &Big) -> Big {
        self.add_at(o, self.prec.max(o.prec))
    }

    /// `self + o` rounded to `prec` bits (Go's `z.Add(x, y)` for a `z` of that precision).
    pub(crate) fn add_at(&self, o: &Big, prec: u32) -> Big {
        if self.is_zero() && o.is_zero() {
            return Big::zero(self.neg && o.neg, prec);
        }
        if self.is_zero() {
            return Big::round(o.neg, o.mant.clone(), o.exp, prec, false);
        }
        if o.is_zero() {
            return Big::round(self.neg, self.mant.clone(), self.exp, prec, false);
        }
        let (a, b, e) = self.aligned(o);
        if self.neg == o.neg {
            return Big::round(self.neg, a + b, e, prec, false);
        }
        match a.cmp(&b) {
            Ordering::Equal => Big::zero(false, prec),
            Ordering::Greater => Big::round(self.neg, a - b, e, prec, false),
            Ordering::Less => Big::round(o.neg, b - a, e, prec, false),
        }
    }

    pub(crate) fn sub(&self, o: &Big) -> Big {
        self.add(&o.neg())
    }

    pub(crate) fn mul(&self, o: &Big) -> Big {
        self.mul_at(o, self.prec.max(o.prec))
    }

    /// `self × o` rounded to `prec` bits.
    pub(crate) fn mul_at(&self, o: &Big, prec: u32) -> Big {
        Big::round(
            self.neg != o.neg,
            &self.mant * &o.mant,
            self.exp + o.exp,
            prec,
            false,
        )
    }

    /// `self / o`; `None` when `o` is zero.
    pub(crate) fn quo(&self, o: &Big) -> Option<Big> {
        if o.is_zero() {
            return None;
        }
        let prec = self.prec.max(o.prec);
        let neg = self.neg != o.neg;
        if self.is_zero() {
            return Some(Big::zero(neg, prec));
        }
        Some(Big::ratio(neg, &self.mant, self.exp - o.exp, &o.mant, prec))
    }

    /// The order of the values (`-0` equals `0`).
    pub(crate) fn cmp(&self, o: &Big) -> Ordering {
        match (self.is_zero(), o.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => {
                return if o.neg {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, true) => {
                return if self.neg {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            _ => {}
        }
        if self.neg != o.neg {
            return if self.neg {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (a, b, _) = self.aligned(o);
        if self.neg {
            b.cmp(&a)
        } else {
            a.cmp(&b)
        }
    }

    /// Whether it is a whole number.
    #[cfg(test)]
    fn is_int(&self) -> bool {
        self.exp >= 0 || self.is_zero()
    }

    /// Rounded toward zero to a whole number: sign and magnitude.
    pub(crate) fn trunc(&self) -> (bool, BigUint) {
        if self.exp >= 0 {
            (self.neg, shl(&self.mant, self.exp))
        } else {
            (
                self.neg,
                &self.mant >> usize::try_from(-self.exp).unwrap_or(usize::MAX),
            )
        }
    }

    /// The whole number, when it is one and fits an `i128`.
    #[cfg(test)]
    fn to_i128(&self) -> Option<i128> {
        if !self.is_int() {
            return None;
        }
        let (neg, m) = self.trunc();
        let v = i128::try_from(m.to_u128()?).ok()?;
        Some(if neg { -v } else { v })
    }

    /// The nearest float64 (Rust's correctly rounded reading of the exact decimal).
    pub(crate) fn to_f64(&self) -> f64 {
        let (d, point) = Big::decimal(&self.mant, self.exp);
        if d.is_empty() {
            return if self.neg { -0.0 } else { 0.0 };
        }
        let text = format!(
            "{}0.{}e{point}",
            if self.neg { "-" } else { "" },
            String::from_utf8_lossy(&d)
        );
        text.parse().unwrap_or(0.0)
    }

    /// Exact decimal digits (no leading or trailing zeros) and the decimal point's position.
    fn decimal(mant: &BigUint, exp: i64) -> (Vec<u8>, i64) {
        let (digits, point) = if exp >= 0 {
            let s = shl(mant, exp).to_string();
            let n = i64::try_from(s.len()).unwrap_or(0);
            (s, n)
        } else {
            let five = BigUint::from(5u32).pow(u32::try_from(-exp).unwrap_or(0));
            let s = (mant * five).to_string();
            let n = i64::try_from(s.len()).unwrap_or(0);
            (s, n + exp)
        };
        let trimmed = digits.trim_end_matches('0');
        (trimmed.as_bytes().to_vec(), point)
    }

    /// As Go's `x.Text('f', -1)`: the shortest decimal that reads back to `x` at its precision.
    pub(crate) fn text(&self) -> String {
        let sign = if self.neg { "-" } else { "" };
        if self.is_zero() {
            return format!("{sign}0");
        }
        let (d, point) = self.shortest();
        // %f with as many fraction digits as there are.
        let mut out = String::from(sign);
        let n = i64::try_from(d.len()).unwrap_or(0);
        if point > 0 {
            for k in 0..point {
                out.push(
                    usize::try_from(k)
                        .ok()
                        .and_then(|k| d.get(k))
                        .map_or('0', |&c| c as char),
                );
            }
        } else {
            out.push('0');
        }
        let frac = (n - point).max(0);
        if frac > 0 {
            out.push('.');
            for k in 0..frac {
                let j = point + k;
                out.push(
                    usize::try_from(j)
                        .ok()
                        .and_then(|j| d.get(j))
                        .map_or('0', |&c| c as char),
                );
            }
        }
        out
    }

    /// As Go's `fmt` `%g` of a `*big.Float` with no precision: the shortest decimal, in
    /// exponent form when its exponent is below -4 or at least 6.
    pub(crate) fn text_g(&self, upper: bool) -> String {
        let sign = if self.neg { "-" } else { "" };
        if self.is_zero() {
            return format!("{sign}0");
        }
        let (d, point) = self.shortest();
        let exp = point - 1;
        if (-4..6).contains(&exp) {
            return self.text();
        }
        let digits: String = d.iter().map(|&c| c as char).collect();
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let e = if upper { 'E' } else { 'e' };
        let esign = if exp < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{dot}{rest}{e}{esign}{:02}",
            exp.unsigned_abs()
        )
    }

    /// The shortest decimal digits (no trailing zeros) that read back to this nonzero number
    /// at its precision, and the position of the point: `0.d × 10^point`.
    fn shortest(&self) -> (Vec<u8>, i64) {
        let (mut d, mut point) = Big::decimal(&self.mant, self.exp);
        // The mantissa at exactly prec + 1 bits, its last bit half an ulp.
        let shift = i64::from(self.prec) + 1 - bits(&self.mant);
        let m2 = shl(&self.mant, shift.max(0)) >> usize::try_from((-shift).max(0)).unwrap_or(0);
        let e2 = self.exp - shift;
        let (lower, lower_point) = Big::decimal(&(&m2 - BigUint::one()), e2);
        let (upper, upper_point) = Big::decimal(&(&m2 + BigUint::one()), e2);
        let inclusive = !m2.bit(1);
        // The digit of a decimal at the position of d's digit i (aligned on the point).
        let at = |digits: &[u8], p: i64, i: usize| -> u8 {
            let j = i64::try_from(i).unwrap_or(0) - point + p;
            usize::try_from(j)
                .ok()
                .and_then(|j| digits.get(j).copied())
                .unwrap_or(b'0')
        };
        let lower_end =
            usize::try_from(i64::try_from(lower.len()).unwrap_or(0) + point - lower_point)
                .unwrap_or(0);
        let upper_len_aligned = i64::try_from(upper.len()).unwrap_or(0) + point - upper_point;
        for i in 0..d.len() {
            let m = d[i];
            let l = at(&lower, lower_point, i);
            let u = at(&upper, upper_point, i);
            let okdown = l != m || (inclusive && i + 1 == lower_end);
            let okup = m != u
                && (inclusive
                    || m + 1 < u
                    || i64::try_from(i + 1).unwrap_or(0) < upper_len_aligned);
            match (okdown, okup) {
                (true, true) => {
                    round_digits(&mut d, &mut point, i + 1, None);
                    break;
                }
                (true, false) => {
                    round_digits(&mut d, &mut point, i + 1, Some(false));
                    break;
                }
                (false, true) => {
                    round_digits(&mut d, &mut point, i + 1, Some(true));
                    break;
                }
                (false, false) => {}
            }
        }
        (d, point)
    }
}

/// Rounds the decimal `d` (point at `point`) to `n` digits: down, up, or (None) to nearest,
/// half to even.
fn round_digits(d: &mut Vec<u8>, point: &mut i64, n: usize, up: Option<bool>) {
    if n >= d.len() {
        return;
    }
    let up = up.unwrap_or_else(|| {
        let next = d[n];
        next > b'5' || (next == b'5' && (n + 1 < d.len() || (n > 0 && (d[n - 1] - b'0') % 2 == 1)))
    });
    d.truncate(n);
    if up {
        let mut i = n;
        loop {
            if i == 0 {
                d.insert(0, b'1');
                *point += 1;
                break;
            }
            i -= 1;
            if d[i] == b'9' {
                d[i] = b'0';
            } else {
                d[i] += 1;
                break;
            }
        }
    }
    while d.last() == Some(&b'0') {
        d.pop();
    }
}

/// An hcl number as cty's: a number written in a template at 512 bits, a float64 result at 53,
/// an integer exactly. `None` for an infinity.
pub(crate) fn from_number(n: &hcl::Number) -> Option<Big> {
    if let Some((text, prec)) = n.big() {
        return Big::parse(&text, prec);
    }
    if let Some(i) = n.as_i64() {
        return Some(Big::from_i128(i128::from(i), PREC));
    }
    if let Some(u) = n.as_u64() {
        return Some(Big::from_i128(i128::from(u), PREC));
    }
    Big::from_f64(n.as_f64()?)
}

/// `b` as an hcl number: an integer when it prints as one, else its exact text.
pub(crate) fn to_number(b: &Big) -> hcl::Number {
    let text = b.text();
    if !text.contains('.') && text != "-0" {
        if let Ok(i) = text.parse::<i64>() {
            return hcl::Number::from(i);
        }
        if let Ok(u) = text.parse::<u64>() {
            return hcl::Number::from(u);
        }
    }
    hcl::Number::from_big(&text, b.prec(), b.to_f64())
}

/// `b` as a value.
pub(crate) fn to_value(b: &Big) -> hcl::Value {
    hcl::Value::Number(to_number(b))
}

#[cfg(test)]
mod tests {
    use super::{Big, PREC};

    fn p(s: &str) -> Big {
        Big::parse(s, PREC).unwrap()
    }

    #[test]
    fn printing_is_shortest_at_the_precision() {
        assert_eq!(p("0.1").text(), "0.1");
        assert_eq!(p("1.5e3").text(), "1500");
        assert_eq!(p("1e21").text(), "1000000000000000000000");
        assert_eq!(p("1e-7").text(), "0.0000001");
        assert_eq!(p("123456789.123456789").text(), "123456789.123456789");
        assert_eq!(p("9007199254740993").text(), "9007199254740993");
        assert_eq!(p("-1.25").text(), "-1.25");
        assert_eq!(p("00010").text(), "10");
        assert_eq!(p("1e100").text(), format!("1{}", "0".repeat(100)));
        assert_eq!(Big::from_f64(0.1).unwrap().text(), "0.1");
        assert_eq!(
            Big::from_f64(1.0 / 3.0).unwrap().text(),
            "0.3333333333333333"
        );
    }

    #[test]
    fn arithmetic_rounds_at_512_bits() {
        let third = p("1").quo(&p("3")).unwrap();
        assert_eq!(third.text(), format!("0.{}5", "3".repeat(154)),);
        assert_eq!(
            p("2").quo(&p("3")).unwrap().text(),
            format!("0.{}7", "6".repeat(153))
        );
        assert_eq!(p("0.1").add(&p("0.2")).text(), "0.3");
        assert_eq!(p("1").quo(&p("7")).unwrap().mul(&p("7")).text(), "1");
        assert_eq!(p("1").quo(&p("1024")).unwrap().text(), "0.0009765625");
        assert_eq!(
            p("100").quo(&p("3")).unwrap().text(),
            format!("33.{}", "3".repeat(152))
        );
        assert_eq!(
            p("9007199254740992").add(&p("1")).text(),
            "9007199254740993"
        );
        assert_eq!(
            p("4294967296").mul(&p("4294967296")).text(),
            "18446744073709551616"
        );
        assert_eq!(p("-0").text(), "-0");
        assert_eq!(p("0").mul(&p("-1")).text(), "-0");
        assert_eq!(p("-0").add(&p("0")).text(), "0");
        assert_eq!(
            p("0.1").add(&p("0.2")).cmp(&p("0.3")),
            std::cmp::Ordering::Equal
        );
        assert_eq!(p("1.5").to_f64(), 1.5);
        assert_eq!(p("-7").quo(&p("2")).unwrap().to_i128(), None);
        assert_eq!(p("-7").quo(&p("-7")).unwrap().to_i128(), Some(1));
    }
}

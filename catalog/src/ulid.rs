//! ULIDs: 48 bits of milliseconds and 80 random bits in Crockford's base32, so fingerprints sort
//! by creation time.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new ULID for `now`.
pub(crate) fn new(now: time::OffsetDateTime) -> String {
    let ms = u128::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0) & ((1 << 48) - 1);
    let random = u128::from_be_bytes(*uuid::Uuid::new_v4().as_bytes()) & ((1 << 80) - 1);
    let mut n = (ms << 80) | random;
    let mut out = [0u8; 26];
    for c in out.iter_mut().rev() {
        *c = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ulids_sort_by_time_and_are_26_characters() {
        let a = super::new(time::macros::datetime!(2026-01-01 0:00 UTC));
        let b = super::new(time::macros::datetime!(2026-01-01 0:00:00.001 UTC));
        assert_eq!(a.len(), 26);
        assert!(a < b, "{a} < {b}");
        assert!(a.starts_with("01KDVDNA00"), "{a}");
    }
}

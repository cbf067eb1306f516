//! Numbers on the command line, read as corosync's tools read them.

/// corosync's `util_strtonum(text, min, max)`: `strtoll` in base 10 (leading white space as C's
/// `isspace` knows it, then an optional sign, then digits and nothing after them), then a
/// range check. `None` where the C function reports an error.
///
/// ```
/// use corosync_examples::c_number::strtonum;
/// assert_eq!(strtonum(" +5", 1, 10), Some(5));
/// assert_eq!(strtonum("\u{b}7", 1, 10), Some(7)); // vertical tab: white space to C
/// assert_eq!(strtonum("0", 1, 10), None);
/// assert_eq!(strtonum("5x", 1, 10), None);
/// ```
pub fn strtonum(text: &str, min: i64, max: i64) -> Option<i64> {
    let rest = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match rest.as_bytes().first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // strtoll fails with ERANGE beyond i64; anything that long is out of range anyway.
    let magnitude: i64 = digits.parse().ok()?;
    let value = if negative { -magnitude } else { magnitude };
    (min..=max).contains(&value).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_util_strtonum() {
        assert_eq!(strtonum("4294967295", 1, 4294967295), Some(4294967295));
        assert_eq!(strtonum("-3", -5, 5), Some(-3));
        assert_eq!(strtonum("\t\n 0", 0, 0), Some(0));
        for bad in [
            "",
            "+",
            "-",
            " ",
            "4294967296",
            "99999999999999999999",
            "1 ",
            "0x5",
            "--1",
        ] {
            assert_eq!(strtonum(bad, 0, 4294967295), None, "{bad:?}");
        }
    }
}

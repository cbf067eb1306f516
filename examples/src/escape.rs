//! Bytes printed as corosync's tools print them (`corosync-cmapctl` for binary values,
//! `corosync-cpgtool` for group names).

/// Appends `bytes` to `out` as corosync's tools print them: printable ASCII as it is, a
/// backslash doubled, anything else as `\x` and `%02X` of the byte taken as a C (signed)
/// `char`, so bytes from 0x80 up appear sign-extended (0x80 is `\xFFFFFF80`).
///
/// ```
/// let mut out = Vec::new();
/// corosync_examples::escape::c_escape(&mut out, b"a\\b\n\x80");
/// assert_eq!(out, b"a\\\\b\\x0A\\xFFFFFF80");
/// ```
pub fn c_escape(out: &mut Vec<u8>, bytes: &[u8]) {
    for &byte in bytes {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(byte),
            _ => {
                // C: printf("\\x%02X", c) with a (signed) char c, promoted to int.
                let signed = i32::from(byte as i8) as u32;
                out.extend_from_slice(format!("\\x{signed:02X}").as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_is_escaped_like_the_c_tools() {
        let all: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        c_escape(&mut out, &all);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\\x00\\x01"));
        assert!(text.contains("\\x1F !\"#"));
        assert!(text.contains("[\\\\]"));
        assert!(text.contains("}~\\x7F\\xFFFFFF80"));
        assert!(text.ends_with("\\xFFFFFFFF"));
    }
}

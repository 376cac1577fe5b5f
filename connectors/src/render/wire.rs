//! Reading fixed-width values and text out of the bytes a driver hands over. Errors are plain
//! strings: the engine that called adds the column and type.

/// Exactly `N` bytes, or what was found instead.
pub(crate) fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes.try_into().map_err(|_| format!("expected {N} bytes, got {}", bytes.len()))
}

/// The bytes as text. Invalid UTF-8 is an error, never replaced: docs/type-mapping.md promises
/// that no value is silently altered.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_text_are_checked() {
        assert_eq!(fixed::<2>(&[1, 2]), Ok([1, 2]));
        assert_eq!(fixed::<2>(&[1]), Err("expected 2 bytes, got 1".to_string()));
        assert_eq!(utf8("é".as_bytes()), Ok("é"));
        assert!(utf8(&[0x66, 0xff]).unwrap_err().starts_with("not UTF-8"));
    }
}

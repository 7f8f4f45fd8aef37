//! Entity and device ids: they end up in SQL keys, URLs, file names and logs, so they are kept
//! to a boring, safe alphabet (the same rule the course manifests use).

/// Longest id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// True for a non-empty id of at most [`MAX_ID_BYTES`] bytes from `[A-Za-z0-9._:-]`, other than
/// `.` and `..`.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
        && id != "."
        && id != ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_ids() {
        for ok in
            ["a", "lesson-1", "0190f2c4-7b1e-7c3a-9d2e-1f2a3b4c5d6e", "c:1.2_x", &"x".repeat(MAX_ID_BYTES)]
        {
            assert!(is_safe_id(ok), "{ok:?}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", "a\n", &"x".repeat(MAX_ID_BYTES + 1)] {
            assert!(!is_safe_id(bad), "{bad:?}");
        }
    }
}

//! Whole numbers at the edge of the public API.
//!
//! The public records and calls speak signed integers only (`Long`/`Int` in Kotlin, `Int64`/
//! `Int32` in Swift): Kotlin's `ULong`/`UInt` cannot be used from Java and do not mix with the
//! `Long` an app already holds for a position or a size. Inside, the core counts with unsigned
//! types where a value cannot be negative. These convert between the two in one place.
//!
//! Outward conversions saturate: real values never come near the limit (manifest checks keep
//! every size within `i64`), and a report that saturates stays honest where a wrapped one would
//! turn negative. Inward conversions refuse a negative value with a typed error.

use crate::error::{Error, Result};

/// A byte count, duration or other unsigned quantity as the public API's `i64`.
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A count as the public API's `i32`.
pub(crate) fn to_i32(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// A counter the core itself stored as a public `i64` (bytes done, bytes total), back as the
/// core's `u64`. It is never negative; if a damaged row says otherwise, 0 is the honest reading
/// for a progress counter (the transfer re-checks what is on disk anyway).
pub(crate) fn stored_count(n: i64) -> u64 {
    n.max(0).unsigned_abs()
}

/// A value an app passed in that must not be negative, named for the error it may raise.
pub(crate) fn non_negative(name: &str, n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::invalid(format!("{name} must not be negative (got {n})")))
}

/// The same for an `i32` that the core keeps as a `u32`.
pub(crate) fn non_negative_u32(name: &str, n: i32) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::invalid(format!("{name} must not be negative (got {n})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outward_conversions_saturate_instead_of_wrapping_negative() {
        assert_eq!(to_i64(5), 5);
        assert_eq!(to_i64(u64::MAX), i64::MAX);
        assert_eq!(to_i32(7u32), 7);
        assert_eq!(to_i32(u32::MAX), i32::MAX);
        assert_eq!(to_i32(usize::MAX), i32::MAX);
    }

    #[test]
    fn a_negative_value_from_an_app_is_refused_by_name() {
        assert_eq!(non_negative("bytes", 0).unwrap(), 0);
        assert_eq!(non_negative("bytes", i64::MAX).unwrap(), i64::MAX as u64);
        let error = non_negative("max_duration_ms", -1).unwrap_err().to_string();
        assert!(error.contains("max_duration_ms must not be negative"), "{error}");
        assert_eq!(non_negative_u32("limit", 3).unwrap(), 3);
        assert!(non_negative_u32("limit", -3).is_err());
    }
}

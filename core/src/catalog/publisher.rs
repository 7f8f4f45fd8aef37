//! Which publisher a course belongs to: trust on first signature.
//!
//! The key that first signs a course is pinned to it in `course_publisher`. From then on only a
//! manifest signed by that key, or by a key it handed the course over to with a signed rotation
//! (see `content::signed`), may install, update or re-install the course; any other trusted key
//! is refused with [`ContentError::PublisherChanged`]. Trusting several publishers therefore never
//! lets one of them take over another's courses. A course that came from a signed manifest is
//! never replaced or changed by an unsigned import ([`ContentError::SignedCourse`]); an unsigned
//! course may be replaced by a signed one, which then pins it.

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::content::ContentError;
use crate::content::signed::{encode_public_key, parse_public_key};
use crate::error::{Error, Result};
use crate::time::now_ms;

/// Who vouches for a manifest being imported.
#[derive(Debug, Clone, Copy)]
pub enum Provenance<'a> {
    /// A manifest file imported by the app or the CLI, without a signature.
    Unsigned,
    /// A manifest whose signature by `key` (a trusted key) was verified, with the verified key
    /// rotations of its envelope as (from, to) pairs.
    Signed { key: &'a VerifyingKey, rotations: &'a [(VerifyingKey, VerifyingKey)] },
}

/// Refuses a manifest for `course_id` that `provenance` may not install, and pins (or, after a
/// rotation, re-pins) the signing key. Runs inside the importing transaction before anything
/// else is written, so a refusal changes nothing.
pub fn admit(tx: &Transaction<'_>, course_id: &str, provenance: Provenance<'_>) -> Result<()> {
    match check(tx, course_id, provenance)? {
        Some(key) => pin(tx, course_id, key),
        None => Ok(()),
    }
}

/// The read-only half of [`admit`]: refuses as it would, and returns the key to pin if the pin
/// must be written or moved. Lets a fetch refuse before downloading anything.
pub fn check<'a>(
    conn: &Connection,
    course_id: &str,
    provenance: Provenance<'a>,
) -> Result<Option<&'a VerifyingKey>> {
    let pinned: Option<String> = conn
        .prepare_cached("SELECT public_key FROM course_publisher WHERE course_id = ?1")?
        .query_row([course_id], |r| r.get(0))
        .optional()?;
    match provenance {
        Provenance::Unsigned => {
            // A course fetched before pins existed (schema 4) has no pin yet, but its source URL
            // says it came from a signed manifest all the same.
            let fetched: bool = conn
                .prepare_cached("SELECT source_url IS NOT NULL FROM course WHERE id = ?1")?
                .query_row([course_id], |r| r.get(0))
                .optional()?
                .unwrap_or(false);
            if pinned.is_some() || fetched {
                return Err(ContentError::SignedCourse { course_id: course_id.to_owned() }.into());
            }
            Ok(None)
        }
        Provenance::Signed { key, rotations } => {
            let Some(pinned) = pinned else { return Ok(Some(key)) };
            let pinned = parse_public_key(&pinned).map_err(|e| {
                Error::corrupt("publisher key", format!("the pinned key of {course_id}: {e}"))
            })?;
            if pinned == *key {
                Ok(None)
            } else if hands_over(&pinned, key, rotations) {
                tracing::info!(%course_id, "publisher key rotated");
                Ok(Some(key))
            } else {
                Err(ContentError::PublisherChanged { course_id: course_id.to_owned() }.into())
            }
        }
    }
}

/// Whether a chain of rotations leads from `from` to `to`. Bounded by the number of rotations,
/// so a cycle ends.
fn hands_over(from: &VerifyingKey, to: &VerifyingKey, rotations: &[(VerifyingKey, VerifyingKey)]) -> bool {
    let mut current = *from;
    for _ in 0..rotations.len() {
        match rotations.iter().find(|(old, _)| *old == current) {
            Some((_, next)) if next == to => return true,
            Some((_, next)) => current = *next,
            None => return false,
        }
    }
    false
}

fn pin(tx: &Transaction<'_>, course_id: &str, key: &VerifyingKey) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO course_publisher (course_id, public_key, pinned_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (course_id) DO UPDATE SET public_key = excluded.public_key, pinned_at_ms = excluded.pinned_at_ms",
    )?
    .execute(params![course_id, encode_public_key(key), now_ms()])?;
    Ok(())
}

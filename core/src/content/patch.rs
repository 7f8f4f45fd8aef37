//! Delta course updates on the phone: turning a text blob the phone has into the new version's
//! with a small zstd patch, verified by the result's hash.
//!
//! The manifest (format 3) lists patches as `{ base, result, size }`; the course import stores
//! them in `blob_patch`. When a download needs blob `result` and the content store holds a
//! `base` some patch starts from, the patch is fetched (at most `size` bytes) and applied with
//! the base as zstd's reference prefix, writing at most the result's declared size; the result
//! is committed only if its hash is `result`. Any failure is a [`PatchError`], recorded in
//! `patch_failure`, and the download falls back to the whole blob: a patch can cost a few bytes
//! more, never a corrupt file.

use rusqlite::{Connection, Transaction, params};
use thiserror::Error;

use super::ContentError;
use super::store::{ContentStore, PATCH_WINDOW_LOG_MAX};
use crate::catalog::{BlobEntry, PatchEntry};
use crate::error::{Error, Result};
use crate::time::now_ms;

/// Why a patch did not produce its result. The whole blob is fetched instead.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PatchError {
    /// The patch could not be fetched (network, HTTP status).
    #[error("patch {base}-{result}: fetch failed: {reason}")]
    Fetch { base: String, result: String, reason: String },
    /// The host sent fewer bytes than the manifest declares.
    #[error("patch {base}-{result}: truncated: {actual} of {expected} bytes")]
    Truncated { base: String, result: String, expected: u64, actual: u64 },
    /// The host sent more bytes than the manifest declares; cut off at the declared size.
    #[error("patch {base}-{result}: longer than its declared {expected} bytes")]
    TooLong { base: String, result: String, expected: u64 },
    /// The patch is not a zstd frame that applies to this base (damaged, or made for another
    /// base).
    #[error("patch {base}-{result}: does not apply: {reason}")]
    Corrupt { base: String, result: String, reason: String },
    /// Applying it would write past the result's declared size (a decompression bomb).
    #[error("patch {base}-{result}: decodes past the result's declared size")]
    Bomb { base: String, result: String },
    /// It applied, but gave other bytes than the result's hash names (made for another base, or
    /// tampered with).
    #[error("patch {base}-{result}: gives the wrong result")]
    WrongResult { base: String, result: String },
    /// The base went missing from the content store between planning and applying.
    #[error("patch {base}-{result}: its base is not on the phone")]
    BaseMissing { base: String, result: String },
}

impl PatchError {
    /// The variant's name, as stored in `patch_failure.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            PatchError::Fetch { .. } => "fetch",
            PatchError::Truncated { .. } => "truncated",
            PatchError::TooLong { .. } => "too_long",
            PatchError::Corrupt { .. } => "corrupt",
            PatchError::Bomb { .. } => "bomb",
            PatchError::WrongResult { .. } => "wrong_result",
            PatchError::BaseMissing { .. } => "base_missing",
        }
    }
}

/// `patches/ab/<base>-<result>.zst`: where a patch lives under a course host's base URL (named
/// by the base's hash, so a host can list or prune what starts from one version's files).
pub fn patch_url_path(base: &str, result: &str) -> String {
    format!("patches/{}/{base}-{result}.zst", base.get(..2).unwrap_or("__"))
}

/// The largest base a patch may start from (16 MiB, the decoder's window): the base is read into
/// memory, and a hostile manifest must not make the phone load a video to "patch" from it.
pub const MAX_BASE_BYTES: u64 = 1 << PATCH_WINDOW_LOG_MAX;

/// The smallest patch to `result` that `course_id`'s manifest lists (its host serves it; another
/// course sharing the file lists patches on its own host) whose base is verified on the phone
/// (and at most [`MAX_BASE_BYTES`]), if any.
pub fn usable_patch(
    conn: &Connection,
    content: &ContentStore,
    course_id: &str,
    result: &str,
) -> Result<Option<PatchEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.base, p.size FROM blob_patch p JOIN content_blob b ON b.hash = p.base
         WHERE p.result = ?1 AND b.size <= ?2 AND p.course_id = ?3 ORDER BY p.size, p.base",
    )?;
    let candidates: Vec<(String, u64)> = stmt
        .query_map(params![result, MAX_BASE_BYTES, course_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(candidates.into_iter().find(|(base, _)| content.contains(base)).map(|(base, size)| PatchEntry {
        base,
        result: result.to_owned(),
        size,
    }))
}

/// Applies the fetched bytes of `patch` to its base in the store and commits the result as
/// `blob`. `Ok(Err(_))`: the patch is at fault (fall back to the whole blob); `Err(_)`: the
/// phone is (disk, database), and fetching the whole blob would fail the same way.
pub fn apply(
    content: &ContentStore,
    blob: &BlobEntry,
    patch: &PatchEntry,
    bytes: &[u8],
) -> Result<std::result::Result<(), PatchError>> {
    let (base, result) = (patch.base.clone(), patch.result.clone());
    if bytes.len() as u64 != patch.size {
        return Ok(Err(PatchError::Truncated {
            base,
            result,
            expected: patch.size,
            actual: bytes.len() as u64,
        }));
    }
    let base_bytes = match content.read(&patch.base) {
        Ok(bytes) => bytes,
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err(PatchError::BaseMissing { base, result }));
        }
        Err(other) => return Err(other),
    };
    match content.ingest_patched(blob, &base_bytes, bytes) {
        Ok(_) => Ok(Ok(())),
        Err(Error::Content(e)) => Ok(Err(match e {
            ContentError::Bomb { .. } => PatchError::Bomb { base, result },
            ContentError::Corrupt { reason, .. } => PatchError::Corrupt { base, result, reason },
            // Short output or other bytes: the patch was not made from this base to this result.
            _ => PatchError::WrongResult { base, result },
        })),
        Err(other) => Err(other),
    }
}

/// How many patch failures are kept, newest first: enough to see what a host did wrong, and a
/// bound on a table that a host listing thousands of broken patches would otherwise grow.
pub const FAILURES_KEPT: i64 = 200;

/// Records a failed patch, so the app and its publisher can see what fell back. Only the
/// newest [`FAILURES_KEPT`] are kept.
pub fn record_failure(tx: &Transaction<'_>, error: &PatchError) -> Result<()> {
    let (base, result) = match error {
        PatchError::Fetch { base, result, .. }
        | PatchError::Truncated { base, result, .. }
        | PatchError::TooLong { base, result, .. }
        | PatchError::Corrupt { base, result, .. }
        | PatchError::Bomb { base, result }
        | PatchError::WrongResult { base, result }
        | PatchError::BaseMissing { base, result } => (base, result),
    };
    tx.prepare_cached(
        "INSERT INTO patch_failure (base, result, kind, detail, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![base, result, error.kind(), error.to_string(), now_ms()])?;
    tx.prepare_cached("DELETE FROM patch_failure WHERE id <= last_insert_rowid() - ?1")?
        .execute([FAILURES_KEPT])?;
    Ok(())
}

/// A recorded patch failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchFailure {
    pub base: String,
    pub result: String,
    /// [`PatchError::kind`] of the error.
    pub kind: String,
    pub detail: String,
}

/// Every recorded patch failure, oldest first.
pub fn failures(conn: &Connection) -> Result<Vec<PatchFailure>> {
    Ok(conn
        .prepare_cached("SELECT base, result, kind, detail FROM patch_failure ORDER BY id")?
        .query_map([], |r| {
            Ok(PatchFailure { base: r.get(0)?, result: r.get(1)?, kind: r.get(2)?, detail: r.get(3)? })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Encoding;
    use crate::content::store::sha256_hex;

    fn make_patch(base: &[u8], result: &[u8]) -> Vec<u8> {
        let mut encoder = zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), 19, base).unwrap();
        std::io::Write::write_all(&mut encoder, result).unwrap();
        encoder.finish().unwrap()
    }

    fn setup() -> (tempfile::TempDir, ContentStore, Vec<u8>, BlobEntry) {
        let dir = tempfile::tempdir().unwrap();
        let content = ContentStore::new(dir.path());
        let base: Vec<u8> =
            (0..200).flat_map(|i| format!("line {i}: the browser asks DNS.\n").into_bytes()).collect();
        let base_entry = BlobEntry {
            hash: sha256_hex(&base),
            size: base.len() as u64,
            stored_size: base.len() as u64,
            media_type: "text/plain".into(),
            encoding: Encoding::Identity,
            role: "reading".into(),
        };
        content.ingest(&base_entry, base.as_slice(), None).unwrap();
        (dir, content, base, base_entry)
    }

    fn result_entry(bytes: &[u8]) -> BlobEntry {
        BlobEntry {
            hash: sha256_hex(bytes),
            size: bytes.len() as u64,
            stored_size: bytes.len() as u64 / 3,
            media_type: "text/plain".into(),
            encoding: Encoding::ZstdDict,
            role: "reading".into(),
        }
    }

    #[test]
    fn a_patch_gives_its_result_and_every_bad_one_is_typed_and_leaves_nothing() {
        let (_dir, content, base, base_entry) = setup();
        let edited =
            String::from_utf8(base.clone()).unwrap().replace("line 100", "line one hundred").into_bytes();
        let result = result_entry(&edited);
        let bytes = make_patch(&base, &edited);
        assert!(bytes.len() < 100, "a one-line edit patches in a few bytes: {}", bytes.len());
        let entry = PatchEntry {
            base: base_entry.hash.clone(),
            result: result.hash.clone(),
            size: bytes.len() as u64,
        };

        // Truncated, made for another base, tampered, a bomb: typed, and no file.
        let truncated = &bytes[..bytes.len() - 3];
        let short = PatchEntry { size: truncated.len() as u64, ..entry.clone() };
        assert_eq!(apply(&content, &result, &entry, truncated).unwrap().unwrap_err().kind(), "truncated");
        assert!(matches!(
            apply(&content, &result, &short, truncated).unwrap(),
            Err(PatchError::Corrupt { .. } | PatchError::WrongResult { .. })
        ));
        let other_base = make_patch(b"a different base entirely, nothing like the reading", &edited);
        let other = PatchEntry { size: other_base.len() as u64, ..entry.clone() };
        assert!(matches!(
            apply(&content, &result, &other, &other_base).unwrap(),
            Err(PatchError::WrongResult { .. } | PatchError::Corrupt { .. })
        ));
        let mut tampered = bytes.clone();
        let middle = tampered.len() / 2;
        tampered[middle] ^= 0x55;
        assert!(apply(&content, &result, &entry, &tampered).unwrap().is_err());
        let smaller = BlobEntry { size: result.size - 1, ..result.clone() };
        assert_eq!(
            apply(&content, &smaller, &entry, &bytes).unwrap(),
            Err(PatchError::Bomb { base: entry.base.clone(), result: entry.result.clone() })
        );
        assert!(!content.contains(&result.hash));
        assert_eq!(
            std::fs::read_dir(content.root().join("tmp")).unwrap().count(),
            0,
            "no temporary file left"
        );

        apply(&content, &result, &entry, &bytes).unwrap().unwrap();
        assert_eq!(content.read(&result.hash).unwrap(), edited);

        // A base that went missing is the patch's problem too: the whole blob is fetched.
        content.remove(&base_entry.hash).unwrap();
        let again = result_entry(b"another");
        assert_eq!(apply(&content, &again, &entry, &bytes).unwrap().unwrap_err().kind(), "base_missing");
    }

    #[test]
    fn only_a_patch_from_a_verified_base_of_text_size_is_used() {
        let (dir, content, _, base_entry) = setup();
        let store = crate::store::Store::open(dir.path().join("s.db")).unwrap();
        let (huge, missing, result) = ("e".repeat(64), "f".repeat(64), "d".repeat(64));
        std::fs::create_dir_all(content.blob_path(&huge).parent().unwrap()).unwrap();
        std::fs::write(content.blob_path(&huge), b"a video, as far as the records say").unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO course (id, version, title, imported_at_ms) VALUES ('c', 1, 'C', 0), ('other', 1, 'O', 0)",
                    [],
                )?;
                // Listed by another course (on its own host): not for this one.
                tx.execute(
                    "INSERT INTO blob_patch (course_id, base, result, size) VALUES ('other', ?1, ?2, 1)",
                    params![base_entry.hash, result],
                )?;
                for (base, size) in [(&huge, 1), (&missing, 2), (&base_entry.hash, 3)] {
                    tx.execute(
                        "INSERT INTO blob_patch (course_id, base, result, size) VALUES ('c', ?1, ?2, ?3)",
                        params![base, result, size],
                    )?;
                }
                tx.execute(
                    "INSERT INTO content_blob (hash, size, stored_at_ms) VALUES (?1, ?2, 0)",
                    params![huge, MAX_BASE_BYTES + 1],
                )?;
                tx.execute(
                    "INSERT INTO content_blob (hash, size, stored_at_ms) VALUES (?1, 5, 0)",
                    params![missing],
                )?;
                tx.execute(
                    "INSERT INTO content_blob (hash, size, stored_at_ms) VALUES (?1, ?2, 0)",
                    params![base_entry.hash, base_entry.size],
                )?;
                Ok(())
            })
            .unwrap();
        // The smaller patches start from a base too large to load and from one whose file is gone.
        let chosen = store.read(|c| usable_patch(c, &content, "c", &result)).unwrap().unwrap();
        assert_eq!((chosen.base, chosen.size), (base_entry.hash, 3));
        assert_eq!(store.read(|c| usable_patch(c, &content, "c", &"0".repeat(64))).unwrap(), None);
    }

    #[test]
    fn only_the_newest_failures_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path().join("s.db")).unwrap();
        let failure = |i: i64| PatchError::BaseMissing { base: format!("base {i}"), result: "r".into() };
        store.write(|tx| (0..FAILURES_KEPT + 5).try_for_each(|i| record_failure(tx, &failure(i)))).unwrap();
        let kept = store.read(failures).unwrap();
        assert_eq!(kept.len() as i64, FAILURES_KEPT);
        assert_eq!(kept[0].base, "base 5", "the oldest went first");
        assert_eq!(kept.last().unwrap().base, format!("base {}", FAILURES_KEPT + 4));
    }

    #[test]
    fn patches_live_under_their_base() {
        let (a, b) = ("ab".repeat(32), "cd".repeat(32));
        assert_eq!(patch_url_path(&a, &b), format!("patches/ab/{a}-{b}.zst"));
    }
}

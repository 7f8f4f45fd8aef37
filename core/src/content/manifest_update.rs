//! Checking a course for a new version, and fetching it, without downloading the whole signed
//! manifest each time.
//!
//! Beside `courses/<id>/manifest.signed.json` the packager publishes:
//! - `manifest.sha256`: the SHA-256 (lowercase hex) of the manifest file's bytes. It answers
//!   "has the course changed?" in one small reply, where the manifest of a large course is
//!   hundreds of kilobytes a learner pays for on every check.
//! - `updates/<sha256 of an earlier envelope>.zst`: a zstd patch from that earlier envelope (its
//!   bytes are the reference prefix, as `zstd --patch-from`) to the current one, for the last
//!   few versions. A new version changes a few hashes and sizes, so the patch is a few hundred
//!   bytes where the manifest is tens of kilobytes.
//!
//! The phone keeps the envelope it installed. The pointer naming that envelope's hash means
//! nothing changed, and the kept envelope is used again (no manifest bytes fetched). Another
//! hash: the phone fetches the patch from its envelope, and the result must hash to the pointer.
//! A missing pointer or patch (an older host, a version too old to have one), or a patch that
//! fails, falls back to the whole manifest: a bad patch costs its bytes, never a wrong manifest.
//! Whatever envelope results is then checked exactly as a whole one would be (signature,
//! publisher, validation, version), so none of these files is trusted: a host lying in the
//! pointer can at most withhold an update, which it could do by serving the old manifest.

use std::io::Read;

use thiserror::Error;

use super::fetch::{ContentClient, MAX_ENVELOPE_BYTES};
use super::store::{PATCH_WINDOW_LOG_MAX, sha256_hex};
use crate::error::Result;

/// How the current envelope was obtained, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obtained {
    /// The pointer names the installed envelope: nothing was fetched but the pointer.
    Unchanged,
    /// The installed envelope and a patch gave the current one.
    Patched,
    /// The whole manifest was fetched.
    Whole,
}

/// Why a manifest patch gave no usable envelope. The whole manifest is fetched instead.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ManifestPatchError {
    /// Not a zstd frame that applies to the installed envelope (damaged, or for another base).
    #[error("the manifest patch does not apply: {0}")]
    Corrupt(String),
    /// It decodes past the largest envelope a phone accepts (a decompression bomb).
    #[error("the manifest patch decodes past {MAX_ENVELOPE_BYTES} bytes")]
    Bomb,
    /// It gave other bytes than the pointer names (made for another version, or tampered with).
    #[error("the manifest patch gives an envelope other than the published one")]
    WrongResult,
}

/// The course's current signed envelope under `base_url`, using `installed` (the envelope the
/// phone holds, if any) to fetch as little as possible. The caller verifies what it gets.
pub async fn current_envelope(
    client: &ContentClient,
    base_url: &str,
    course_id: &str,
    installed: Option<&str>,
) -> Result<(String, Obtained)> {
    let Some(installed) = installed else {
        return Ok((client.manifest(base_url, course_id).await?, Obtained::Whole));
    };
    // The pointer and the patch only save bytes: whatever goes wrong with them (a 5xx from a
    // cache, a cut connection, a reply over the limit) costs that request, never the update.
    let pointer = client.manifest_pointer(base_url, course_id).await.unwrap_or_else(|error| {
        tracing::warn!(course = course_id, %error, "the manifest pointer failed; fetching the whole manifest");
        None
    });
    let Some(published) = pointer else {
        return Ok((client.manifest(base_url, course_id).await?, Obtained::Whole));
    };
    let installed_hash = sha256_hex(installed.as_bytes());
    if published == installed_hash {
        return Ok((installed.to_owned(), Obtained::Unchanged));
    }
    match client.manifest_patch(base_url, course_id, &installed_hash).await {
        Ok(Some(patch)) => match apply(installed, &patch, &published) {
            Ok(envelope) => return Ok((envelope, Obtained::Patched)),
            Err(error) => {
                tracing::warn!(course = course_id, %error, "manifest patch failed; fetching the whole manifest");
            }
        },
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(course = course_id, %error, "the manifest patch could not be fetched; fetching the whole manifest");
        }
    }
    Ok((client.manifest(base_url, course_id).await?, Obtained::Whole))
}

/// Applies a manifest patch to the installed envelope; the result must hash to `expected` (the
/// pointer). Never decodes more than [`MAX_ENVELOPE_BYTES`], with the decoder's window capped.
pub fn apply(
    installed: &str,
    patch: &[u8],
    expected: &str,
) -> std::result::Result<String, ManifestPatchError> {
    let corrupt = |e: std::io::Error| ManifestPatchError::Corrupt(e.to_string());
    let mut decoder =
        zstd::stream::read::Decoder::with_ref_prefix(patch, installed.as_bytes()).map_err(corrupt)?;
    decoder.window_log_max(PATCH_WINDOW_LOG_MAX).map_err(corrupt)?;
    let mut out = Vec::new();
    decoder.take(MAX_ENVELOPE_BYTES + 1).read_to_end(&mut out).map_err(corrupt)?;
    if out.len() as u64 > MAX_ENVELOPE_BYTES {
        return Err(ManifestPatchError::Bomb);
    }
    if sha256_hex(&out) != expected {
        return Err(ManifestPatchError::WrongResult);
    }
    // The hash is the pointer's, so these are the published bytes; the host publishes UTF-8 JSON.
    String::from_utf8(out).map_err(|_| ManifestPatchError::Corrupt("the envelope is not UTF-8".into()))
}

/// Parses a `manifest.sha256` reply: 64 lowercase hex digits, optionally followed by a newline.
pub fn parse_pointer(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let hash = text.strip_suffix('\n').unwrap_or(text);
    (hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| hash.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(base: &str, target: &str) -> Vec<u8> {
        let mut encoder =
            zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), 19, base.as_bytes()).unwrap();
        std::io::Write::write_all(&mut encoder, target.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    fn envelope(version: u32) -> String {
        let lessons: String = (0..200)
            .map(|i| format!("{{\\\"id\\\":\\\"l{i}\\\",\\\"hash\\\":\\\"{:064x}\\\"}},", i * version))
            .collect();
        format!("{{\"format\":1,\"payload\":\"{{\\\"version\\\":{version},\\\"lessons\\\":[{lessons}]}}\"}}")
    }

    #[test]
    fn a_patch_gives_the_pointed_to_envelope_in_a_fraction_of_its_bytes() {
        let (old, new) =
            (envelope(1), envelope(1).replace("l7\\\",\\\"hash\\\":\\\"0", "l7\\\",\\\"hash\\\":\\\"f"));
        let bytes = patch(&old, &new);
        assert!(bytes.len() * 20 < new.len(), "{} bytes for a {}-byte envelope", bytes.len(), new.len());
        assert_eq!(apply(&old, &bytes, &sha256_hex(new.as_bytes())), Ok(new));
    }

    #[test]
    fn a_patch_for_another_base_a_damaged_one_or_a_bomb_gives_a_typed_error() {
        let (old, new) = (envelope(1), envelope(2));
        let expected = sha256_hex(new.as_bytes());
        let good = patch(&old, &new);

        let other_base = patch(&envelope(3), &new);
        assert!(matches!(
            apply(&old, &other_base, &expected),
            Err(ManifestPatchError::WrongResult | ManifestPatchError::Corrupt(_))
        ));
        assert!(matches!(
            apply(&old, &good[..good.len() - 4], &expected),
            Err(ManifestPatchError::Corrupt(_))
        ));
        assert!(matches!(apply(&old, b"not zstd at all", &expected), Err(ManifestPatchError::Corrupt(_))));
        // The right patch, but the pointer names another envelope (a stale patch on a cache).
        assert_eq!(apply(&old, &good, &sha256_hex(b"something else")), Err(ManifestPatchError::WrongResult));

        let huge = "x".repeat(MAX_ENVELOPE_BYTES as usize + 10);
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.window_log(PATCH_WINDOW_LOG_MAX).unwrap();
        std::io::Write::write_all(&mut encoder, huge.as_bytes()).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 64 * 1024, "a bomb is small: {}", bomb.len());
        assert_eq!(apply(&old, &bomb, &expected), Err(ManifestPatchError::Bomb));
    }

    #[test]
    fn the_largest_envelope_a_phone_accepts_still_comes_as_a_patch() {
        let largest = "x".repeat(MAX_ENVELOPE_BYTES as usize);
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        encoder.window_log(PATCH_WINDOW_LOG_MAX).unwrap();
        std::io::Write::write_all(&mut encoder, largest.as_bytes()).unwrap();
        let patch = encoder.finish().unwrap();
        let applied = apply("{}", &patch, &sha256_hex(largest.as_bytes())).unwrap();
        assert_eq!(applied.len(), largest.len());
    }

    #[test]
    fn a_pointer_is_one_lowercase_sha256_and_nothing_else() {
        let hash = "0123456789abcdef".repeat(4);
        assert_eq!(parse_pointer(hash.as_bytes()), Some(hash.clone()));
        assert_eq!(parse_pointer(format!("{hash}\n").as_bytes()), Some(hash.clone()));
        assert_eq!(parse_pointer(hash.to_uppercase().as_bytes()), None);
        assert_eq!(parse_pointer(format!("{hash}\n\n").as_bytes()), None);
        assert_eq!(parse_pointer(&hash.as_bytes()[..63]), None);
        assert_eq!(parse_pointer(format!("{hash}0").as_bytes()), None);
        assert_eq!(parse_pointer(b"<html>not found</html>"), None);
        assert_eq!(parse_pointer(&[0xff; 64]), None);
    }
}

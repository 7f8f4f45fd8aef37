//! Publishing a course's signed manifest: the envelope itself, the pointer that names it, and
//! patches to it from the envelopes phones may still hold.
//!
//! Written into `OUT/courses/<id>/`, in this order, each file atomically:
//! 1. `updates/<sha256 of an earlier envelope>.zst`: a zstd patch (`--patch-from` format) from
//!    the envelope published until now (a re-signed one of the same version included) and from
//!    the last [`PATCH_VERSIONS`] kept versions. Patches from any other envelope are removed:
//!    they would lead a phone to an older version.
//! 2. `manifest.signed.json`: the envelope.
//! 3. `manifest.sha256`: its SHA-256 in lowercase hex and a newline. Last, so a phone never reads
//!    a pointer to an envelope that is not published yet.
//!
//! Every tool that changes a published manifest must go through [`publish_envelope`]: a phone
//! that finds the pointer naming the envelope it holds fetches nothing more, so a manifest
//! replaced behind the pointer's back would not reach the phones that hold the old one. (The
//! phone's side is `satchel_core::content::manifest_update`.)

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use satchel_core::content::store::sha256_hex;

use super::patches::{PATCH_VERSIONS, kept_envelope_paths, patch_bytes, write_atomically};

/// The envelope's file name under `courses/<id>/`.
pub const MANIFEST_FILE: &str = "manifest.signed.json";
/// The pointer's file name under `courses/<id>/`.
pub const POINTER_FILE: &str = "manifest.sha256";
/// The folder of manifest patches under `courses/<id>/`.
pub const UPDATES_DIR: &str = "updates";

/// What publishing wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub manifest_path: PathBuf,
    /// Manifest patches from earlier envelopes, and their bytes together.
    pub updates: usize,
    pub update_bytes: u64,
}

/// Publishes `envelope` (the signed manifest's exact bytes) in `manifest_dir`
/// (`OUT/courses/<id>`), with its pointer and the patches to it.
pub fn publish_envelope(manifest_dir: &Path, envelope: &[u8]) -> Result<Published> {
    fs::create_dir_all(manifest_dir)?;
    let manifest_path = manifest_dir.join(MANIFEST_FILE);
    let updates_dir = manifest_dir.join(UPDATES_DIR);
    let mut bases = Vec::new();
    if manifest_path.is_file() {
        let current = fs::read(&manifest_path)?;
        if current == envelope {
            // Published already: the patches there lead to it, the one from the envelope it
            // replaced included, which is kept nowhere else.
            return existing(manifest_dir, manifest_path, envelope);
        }
        bases.push(current);
    }
    for path in kept_envelope_paths(manifest_dir)?.into_iter().take(PATCH_VERSIONS) {
        bases.push(fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?);
    }

    fs::create_dir_all(&updates_dir)?;
    let mut written = HashSet::new();
    let mut update_bytes = 0;
    for base in bases {
        let name = format!("{}.zst", sha256_hex(&base));
        if base == envelope || written.contains(&name) {
            continue;
        }
        let Some(patch) = patch_bytes(&base, envelope)? else { continue };
        if patch.len() >= envelope.len() {
            continue;
        }
        write_atomically(&updates_dir.join(&name), &patch)?;
        update_bytes += patch.len() as u64;
        written.insert(name);
    }
    for entry in fs::read_dir(&updates_dir)? {
        let entry = entry?;
        if !entry.file_name().to_str().is_some_and(|name| written.contains(name)) {
            fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove the stale patch {}", entry.path().display()))?;
        }
    }

    write_atomically(&manifest_path, envelope)?;
    write_atomically(&manifest_dir.join(POINTER_FILE), format!("{}\n", sha256_hex(envelope)).as_bytes())?;
    Ok(Published { manifest_path, updates: written.len(), update_bytes })
}

/// The courses under `out` whose `manifest.sha256` names another file than their
/// `manifest.signed.json`: replaced behind the packager's back, so phones holding the envelope
/// the pointer names would take the course as unchanged. (A missing pointer is fine: phones then
/// fetch the whole manifest.)
pub fn stale_pointers(out: &Path) -> Result<Vec<String>> {
    let courses = out.join("courses");
    let mut stale = Vec::new();
    if !courses.is_dir() {
        return Ok(stale);
    }
    for entry in fs::read_dir(&courses)? {
        let dir = entry?.path();
        let (manifest, pointer) = (dir.join(MANIFEST_FILE), dir.join(POINTER_FILE));
        if !manifest.is_file() || !pointer.is_file() {
            continue;
        }
        let named = fs::read_to_string(&pointer)?;
        if named.trim_end() != sha256_hex(&fs::read(&manifest)?) {
            stale.push(dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        }
    }
    stale.sort();
    Ok(stale)
}

/// What is published already for `envelope`, its pointer rewritten in case it was lost.
fn existing(manifest_dir: &Path, manifest_path: PathBuf, envelope: &[u8]) -> Result<Published> {
    let (mut updates, mut update_bytes) = (0, 0);
    let updates_dir = manifest_dir.join(UPDATES_DIR);
    if updates_dir.is_dir() {
        for entry in fs::read_dir(&updates_dir)? {
            updates += 1;
            update_bytes += entry?.metadata()?.len();
        }
    }
    write_atomically(&manifest_dir.join(POINTER_FILE), format!("{}\n", sha256_hex(envelope)).as_bytes())?;
    Ok(Published { manifest_path, updates, update_bytes })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn envelope(version: u32, changed: &str) -> Vec<u8> {
        let blobs: String =
            (0..100).map(|i| format!("{{\"hash\":\"{:064x}\",\"size\":{i}}},", i * 7919)).collect();
        format!("{{\"version\":{version},\"blobs\":[{blobs}],\"changed\":\"{changed}\"}}").into_bytes()
    }

    fn apply(base: &[u8], patch: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut decoder = zstd::stream::read::Decoder::with_ref_prefix(patch, base).unwrap();
        std::io::Read::read_to_end(&mut decoder, &mut out).unwrap();
        out
    }

    #[test]
    fn a_manifest_replaced_behind_the_pointer_is_found() {
        let dir = tempfile::tempdir().unwrap();
        assert!(stale_pointers(dir.path()).unwrap().is_empty());
        for course in ["a", "b", "c"] {
            publish_envelope(&dir.path().join("courses").join(course), &envelope(1, course)).unwrap();
        }
        assert!(stale_pointers(dir.path()).unwrap().is_empty());
        fs::write(dir.path().join("courses/b").join(MANIFEST_FILE), envelope(2, "edited by hand")).unwrap();
        fs::remove_file(dir.path().join("courses/c").join(POINTER_FILE)).unwrap();
        assert_eq!(stale_pointers(dir.path()).unwrap(), ["b"]);
    }

    #[test]
    fn the_pointer_names_the_envelope_and_each_earlier_one_patches_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let course = dir.path().join("courses/c");
        let (v1, v2, v3) = (envelope(1, "a"), envelope(2, "b"), envelope(3, "c"));

        let first = publish_envelope(&course, &v1).unwrap();
        assert_eq!((first.updates, first.update_bytes), (0, 0), "nothing to patch from yet");
        assert_eq!(fs::read(course.join(MANIFEST_FILE)).unwrap(), v1);
        assert_eq!(fs::read_to_string(course.join(POINTER_FILE)).unwrap(), format!("{}\n", sha256_hex(&v1)));

        // The packager keeps version 1 under versions/ before publishing version 2 (archive_published).
        fs::create_dir_all(course.join("versions")).unwrap();
        fs::write(course.join("versions/1.signed.json"), &v1).unwrap();
        let second = publish_envelope(&course, &v2).unwrap();
        assert_eq!(second.updates, 1, "v1, both published and kept, gives one patch");
        let from_v1 = fs::read(course.join(UPDATES_DIR).join(format!("{}.zst", sha256_hex(&v1)))).unwrap();
        assert_eq!(apply(&v1, &from_v1), v2);
        assert!(from_v1.len() * 10 < v2.len(), "{} bytes for a {}-byte envelope", from_v1.len(), v2.len());
        assert_eq!(second.update_bytes, from_v1.len() as u64);

        fs::write(course.join("versions/2.signed.json"), &v2).unwrap();
        let third = publish_envelope(&course, &v3).unwrap();
        assert_eq!(third.updates, 2);
        for base in [&v1, &v2] {
            let patch = fs::read(course.join(UPDATES_DIR).join(format!("{}.zst", sha256_hex(base)))).unwrap();
            assert_eq!(apply(base, &patch), v3, "every patch now leads to version 3");
        }
        assert_eq!(fs::read_to_string(course.join(POINTER_FILE)).unwrap(), format!("{}\n", sha256_hex(&v3)));

        // Re-signing the same version (a key rotation) patches from the envelope it replaces; a
        // patch from an envelope no longer kept is removed rather than left to lead phones back.
        fs::remove_file(course.join("versions/1.signed.json")).unwrap();
        let resigned = envelope(3, "c, with a rotation");
        let fourth = publish_envelope(&course, &resigned).unwrap();
        assert_eq!(fourth.updates, 2, "from the replaced version 3 and the kept version 2");
        let names: HashSet<String> = fs::read_dir(course.join(UPDATES_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let expected: HashSet<String> = [&v3, &v2].iter().map(|b| format!("{}.zst", sha256_hex(b))).collect();
        assert_eq!(names, expected);
        assert_eq!(fs::read(course.join(MANIFEST_FILE)).unwrap(), resigned);

        // Publishing the same bytes again changes nothing (the patch from the replaced
        // version 3 stays) and leaves no temporary file.
        fs::remove_file(course.join(POINTER_FILE)).unwrap();
        let again = publish_envelope(&course, &resigned).unwrap();
        assert_eq!((again.updates, again.update_bytes), (fourth.updates, fourth.update_bytes));
        assert_eq!(fs::read_dir(course.join(UPDATES_DIR)).unwrap().count(), 2);
        assert_eq!(
            fs::read_to_string(course.join(POINTER_FILE)).unwrap(),
            format!("{}\n", sha256_hex(&resigned))
        );
        let stray = fs::read_dir(&course)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_str().unwrap().starts_with(".tmp"));
        assert_eq!(stray.count(), 0);
    }
}

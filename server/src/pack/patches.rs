//! Course versions and the zstd patches between them.
//!
//! Packing version N over a tree that holds an earlier version keeps the earlier signed manifest
//! as `courses/<id>/versions/<version>.signed.json` (blobs are never deleted: they are named by
//! their content). For the last [`PATCH_VERSIONS`] earlier versions, every text blob of the new
//! version whose lesson, rendition and role held other text before gets a patch from that text:
//! a zstd frame compressed with the old decoded bytes as its reference prefix (what
//! `zstd --patch-from OLD NEW` writes), stored at `patches/<base[..2]>/<base>-<result>.zst` and
//! listed in the manifest as `{ base, result, size }`. A patch no smaller than the whole blob is
//! not kept.
//!
//! The text pack is not patched itself: phones split it into its members and drop it, so they
//! hold no old pack to patch from; its members are patched one by one instead.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use satchel_core::catalog::{BlobEntry, Encoding, Manifest, PatchEntry};
use satchel_core::content::fetch::blob_url_path;
use satchel_core::content::patch::patch_url_path;
use satchel_core::content::store::{PATCH_WINDOW_LOG_MAX, sha256_hex};

use super::publish::MANIFEST_FILE;

/// How many earlier versions get patches to the new one.
pub const PATCH_VERSIONS: usize = 3;

/// zstd level for patches: made once, fetched by every phone that updates.
const PATCH_LEVEL: i32 = 19;

fn versions_dir(manifest_dir: &Path) -> PathBuf {
    manifest_dir.join("versions")
}

/// The payload of a signed manifest file, as signed.
fn read_payload(path: &Path) -> Result<String> {
    let envelope: serde_json::Value =
        serde_json::from_slice(&fs::read(path).with_context(|| format!("cannot read {}", path.display()))?)?;
    let payload =
        envelope["payload"].as_str().with_context(|| format!("{} has no payload", path.display()))?;
    Ok(payload.to_owned())
}

/// The payload of a signed manifest file, parsed and validated.
fn read_manifest(path: &Path) -> Result<Manifest> {
    Manifest::parse(&read_payload(path)?).with_context(|| format!("{} does not validate", path.display()))
}

/// Keeps the manifest now published in `manifest_dir` as an earlier version before version
/// `new_version` replaces it. Refuses to pack an older version over a newer one (phones refuse
/// going back, so the host would serve a course no phone can update to).
pub fn archive_published(manifest_dir: &Path, new_version: u32) -> Result<()> {
    let current = manifest_dir.join(MANIFEST_FILE);
    if !current.is_file() {
        return Ok(());
    }
    let published = read_manifest(&current)?;
    anyhow::ensure!(
        published.version <= new_version,
        "{} is version {}; packing version {new_version} would go back",
        current.display(),
        published.version
    );
    if published.version == new_version {
        return Ok(());
    }
    let dir = versions_dir(manifest_dir);
    fs::create_dir_all(&dir)?;
    let kept = dir.join(format!("{}.signed.json", published.version));
    if !kept.exists() {
        write_atomically(&kept, &fs::read(&current)?)?;
    }
    Ok(())
}

/// Refuses to publish `payload` as `version` when that version is published already with other
/// contents. A phone that holds the version finds, on its next check, the version it has: it
/// keeps what it has and never takes the change (the core's `ImportStatus::Unchanged`). The
/// same contents again (packing is reproducible) are fine, and so is a version not yet
/// published. Called before anything is signed, so the published course is left as it was.
pub fn refuse_changed_version(manifest_dir: &Path, version: u32, payload: &str) -> Result<()> {
    let current = manifest_dir.join(MANIFEST_FILE);
    if !current.is_file() {
        return Ok(());
    }
    let published = read_payload(&current)?;
    let published_version = Manifest::parse(&published)
        .with_context(|| format!("{} does not validate", current.display()))?
        .version;
    anyhow::ensure!(
        published_version != version || published == payload,
        "{} is already published as version {version} with other contents; phones that hold version \
         {version} would never get these changes. Raise \"version\" in course.json, or pass \
         --replace-version if no phone can have fetched version {version} yet",
        current.display()
    );
    Ok(())
}

/// The kept earlier versions older than `new_version`, newest first, at most [`PATCH_VERSIONS`].
pub fn previous_versions(manifest_dir: &Path, new_version: u32) -> Result<Vec<Manifest>> {
    let mut manifests = Vec::new();
    for path in kept_envelope_paths(manifest_dir)? {
        let manifest = read_manifest(&path)?;
        if manifest.version < new_version {
            manifests.push(manifest);
        }
    }
    manifests.sort_by_key(|m| std::cmp::Reverse(m.version));
    manifests.truncate(PATCH_VERSIONS);
    Ok(manifests)
}

/// The kept envelopes `versions/<version>.signed.json`, newest version first.
pub fn kept_envelope_paths(manifest_dir: &Path) -> Result<Vec<PathBuf>> {
    let dir = versions_dir(manifest_dir);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut kept = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let version = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".signed.json"))
            .and_then(|v| v.parse::<u32>().ok());
        if let Some(version) = version {
            kept.push((version, path));
        }
    }
    kept.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    Ok(kept.into_iter().map(|(_, path)| path).collect())
}

/// The decoded bytes of a published blob, checked against its hash.
pub fn read_blob(out: &Path, blob: &BlobEntry, dictionary: Option<&[u8]>) -> Result<Vec<u8>> {
    let path = out.join(blob_url_path(&blob.hash));
    let stored = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let limit = blob.size.saturating_add(1);
    let mut bytes = Vec::new();
    match (blob.encoding, dictionary) {
        (Encoding::Identity, _) => bytes = stored,
        (Encoding::Zstd, _) => {
            zstd::stream::read::Decoder::new(stored.as_slice())?.take(limit).read_to_end(&mut bytes)?;
        }
        (Encoding::ZstdDict, Some(dict)) => {
            zstd::stream::read::Decoder::with_dictionary(stored.as_slice(), dict)?
                .take(limit)
                .read_to_end(&mut bytes)?;
        }
        (Encoding::ZstdDict, None) => anyhow::bail!("blob {} needs a dictionary", blob.hash),
    }
    anyhow::ensure!(sha256_hex(&bytes) == blob.hash, "{} does not hash to its name", path.display());
    Ok(bytes)
}

/// The decoded course dictionary of a manifest, if it has one.
pub fn dictionary_of(out: &Path, manifest: &Manifest) -> Result<Option<Vec<u8>>> {
    manifest.dictionary.as_ref().map(|d| read_blob(out, d, None)).transpose()
}

/// Text blobs of a manifest by where they sit: (lesson, rendition, role).
fn texts_by_place(manifest: &Manifest) -> HashMap<(String, &'static str, String), &BlobEntry> {
    manifest
        .lessons()
        .flat_map(|l| l.renditions.iter().map(move |r| (l, r)))
        .flat_map(|(l, r)| r.blobs.iter().map(move |b| (l, r, b)))
        .filter(|(_, _, b)| b.encoding != Encoding::Identity)
        .map(|(l, r, b)| ((l.id.clone(), r.kind.as_str(), b.role.clone()), b))
        .collect()
}

/// Writes a patch for every text blob of `new` that sat elsewhere with other text in one of
/// `previous`, and returns their entries. `dictionary` is the new version's.
pub fn make_patches(
    out: &Path,
    new: &Manifest,
    dictionary: Option<&[u8]>,
    previous: &[Manifest],
) -> Result<Vec<PatchEntry>> {
    let new_texts = texts_by_place(new);
    let mut decoded: HashMap<String, Vec<u8>> = HashMap::new();
    let mut made = HashSet::new();
    let mut patches = Vec::new();
    for old in previous {
        let old_dictionary = dictionary_of(out, old)?;
        for (place, old_blob) in texts_by_place(old) {
            let Some(new_blob) = new_texts.get(&place) else { continue };
            if old_blob.hash == new_blob.hash || !made.insert((old_blob.hash.clone(), new_blob.hash.clone()))
            {
                continue;
            }
            if !decoded.contains_key(&new_blob.hash) {
                decoded.insert(new_blob.hash.clone(), read_blob(out, new_blob, dictionary)?);
            }
            let base = read_blob(out, old_blob, old_dictionary.as_deref())?;
            let target = &decoded[&new_blob.hash];
            let Some(patch) = patch_bytes(&base, target)? else { continue };
            if patch.len() as u64 >= new_blob.stored_size {
                continue;
            }
            write_patch(out, &old_blob.hash, &new_blob.hash, &patch)?;
            patches.push(PatchEntry {
                base: old_blob.hash.clone(),
                result: new_blob.hash.clone(),
                size: patch.len() as u64,
            });
        }
    }
    patches.sort_by(|a, b| (&a.result, &a.base).cmp(&(&b.result, &b.base)));
    Ok(patches)
}

/// `zstd --patch-from base`: `target` compressed with `base` as the reference prefix, in a
/// window that spans both (none if that is over what phones accept).
pub fn patch_bytes(base: &[u8], target: &[u8]) -> Result<Option<Vec<u8>>> {
    let span = (base.len() + target.len()).max(1 << 10);
    let window_log = usize::BITS - (span - 1).leading_zeros();
    if window_log > PATCH_WINDOW_LOG_MAX {
        return Ok(None);
    }
    let mut encoder = zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), PATCH_LEVEL, base)?;
    encoder.include_checksum(false)?;
    encoder.include_contentsize(true)?;
    encoder.set_pledged_src_size(Some(target.len() as u64))?;
    encoder.window_log(window_log.max(10))?;
    encoder.write_all(target)?;
    Ok(Some(encoder.finish()?))
}

fn write_patch(out: &Path, base: &str, result: &str, bytes: &[u8]) -> Result<()> {
    let path = out.join(patch_url_path(base, result));
    fs::create_dir_all(path.parent().context("patch path has no parent")?)?;
    write_atomically(&path, bytes)
}

/// Writes `bytes` beside `path` (whose folder exists) and renames it into place, durably: a
/// reader, a phone fetching from the host included, sees the old file or the new one, never half
/// of one.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().context("a published file has no folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("cannot write {}", path.display()))?;
    sync_dir(parent)
}

/// Makes the renames into `dir` durable (a renamed file is under its new name only once its
/// folder is synced). Publishing writes the manifest, then the pointer that names it: without
/// this a crash of the host could keep the pointer and lose the manifest's rename.
pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the folder {}", dir.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::patch_bytes;

    #[test]
    fn a_small_edit_patches_in_few_bytes_and_applies_with_the_zstd_tool_s_format() {
        let base: Vec<u8> = (0..300)
            .flat_map(|i| format!("{i}: the resolver asks the root servers.\n").into_bytes())
            .collect();
        let target =
            String::from_utf8(base.clone()).unwrap().replace("150:", "one hundred fifty:").into_bytes();
        let patch = patch_bytes(&base, &target).unwrap().unwrap();
        assert!(patch.len() < 80, "{} bytes", patch.len());
        let mut decoded = Vec::new();
        let mut decoder = zstd::stream::read::Decoder::with_ref_prefix(patch.as_slice(), &base).unwrap();
        std::io::Read::read_to_end(&mut decoder, &mut decoded).unwrap();
        assert_eq!(decoded, target);
    }
}

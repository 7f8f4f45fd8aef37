//! Writing a downloaded course rendition to a shared file.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::container::{MANIFEST_MEMBER, Writer};
use super::{ShareError, ShareProgress};
use crate::catalog::{BlobEntry, RenditionKind};
use crate::content::ContentError;
use crate::content::course::{self, rendition_files};
use crate::content::store::{ContentStore, hex};
use crate::error::{Error, Result};
use crate::store::Store;

/// Writes `rendition` of `course_id` (every lesson of it that is complete on the phone) to
/// `path`: the signed manifest, then each blob, re-verified against its hash as it is copied
/// (a file damaged on this phone is never passed on). The file appears at `path` only when
/// complete (written beside it, then renamed). Returns the file's size.
pub fn export_course(
    store: &Store,
    content: &ContentStore,
    course_id: &str,
    rendition: RenditionKind,
    path: &Path,
    progress: &mut dyn FnMut(ShareProgress),
) -> Result<u64> {
    let not_shareable =
        |reason: &str| ShareError::NotShareable { course_id: course_id.into(), reason: reason.into() };
    let (envelope, blobs) = store.read(|c| {
        let envelope: Option<String> = c
            .query_row("SELECT signed_manifest FROM course WHERE id = ?1", [course_id], |r| r.get(0))
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Error::not_found("course", course_id),
                other => other.into(),
            })?;
        let lessons: Vec<String> = c
            .prepare_cached(
                "SELECT l.id FROM lesson l JOIN module m ON m.id = l.module_id
                 WHERE l.course_id = ?1 ORDER BY m.position, l.position",
            )?
            .query_map([course_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut seen = HashSet::new();
        let mut blobs: Vec<BlobEntry> = Vec::new();
        for lesson in lessons {
            if rendition_files(c, content, &lesson, rendition)?.is_some() {
                for blob in course::rendition_blobs(c, &lesson, rendition)? {
                    if seen.insert(blob.hash.clone()) {
                        blobs.push(blob);
                    }
                }
            }
        }
        Ok((envelope, blobs))
    })?;
    let envelope = envelope
        .ok_or_else(|| not_shareable("it was not installed from a signed manifest (fetch it again)"))?;
    if blobs.is_empty() {
        return Err(not_shareable(&format!(
            "no lesson is downloaded in the {} rendition",
            rendition.as_str()
        ))
        .into());
    }

    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new().prefix(".satchel-share").suffix(".part").tempfile_in(dir)?;
    let total: u64 = envelope.len() as u64 + blobs.iter().map(|b| b.size).sum::<u64>();
    let mut done = envelope.len() as u64;
    let mut writer = Writer::new(io::BufWriter::new(tmp.as_file()))?;
    writer.member(MANIFEST_MEMBER, envelope.len() as u64, &mut envelope.as_bytes())?;
    progress(ShareProgress::of(done, total));
    for blob in &blobs {
        let file = std::fs::File::open(content.blob_path(&blob.hash))?;
        let mut hashing = Hashing { inner: file, hasher: Sha256::new() };
        writer.member(&format!("blobs/{}", blob.hash), blob.size, &mut hashing)?;
        let actual = hex(&hashing.hasher.finalize());
        if actual != blob.hash {
            return Err(ContentError::HashMismatch { hash: blob.hash.clone(), actual }.into());
        }
        done += blob.size;
        progress(ShareProgress::of(done, total));
    }
    let mut out = writer.finish()?;
    io::Write::flush(&mut out)?;
    drop(out);
    tmp.as_file().sync_all()?;
    let size = tmp.as_file().metadata()?.len();
    tmp.persist(path).map_err(|e| Error::Io(e.error))?;
    Ok(size)
}

struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

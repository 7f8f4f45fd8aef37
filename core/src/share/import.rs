//! Importing a shared course file: verify everything, commit only what verifies.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::container::{DamagedStream, MANIFEST_MEMBER, Reader};
use super::{ShareError, ShareProgress};
use crate::api_int::to_i32;
use crate::catalog::publisher::Provenance;
use crate::catalog::{self, BlobEntry, Encoding, ImportOutcome, Manifest, RenditionKind};
use crate::content::course::{keep_envelope, record_blob, rendition_files};
use crate::content::signed;
use crate::downloads::{DownloadService, queue, storage};
use crate::error::{Error, Result};

/// A signed envelope is the manifest plus a little (the same cap as fetching one).
const MAX_ENVELOPE_BYTES: u64 = catalog::limits::MANIFEST_BYTES as u64 * 2 + 4096;

/// What an import brought onto the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportedCourse {
    pub outcome: ImportOutcome,
    /// Blobs verified and added to the phone by this import.
    pub blobs_added: i32,
    /// Blobs of the file that were on the phone already (another course, or an interrupted
    /// import of the same file).
    pub blobs_already_present: i32,
}

/// Imports the shared file at `path` (see the module docs for what is checked).
pub fn import_course(
    service: &DownloadService,
    path: &Path,
    progress: &mut dyn FnMut(ShareProgress),
) -> Result<ImportedCourse> {
    // Files are stored before the course lists them (see `Downloads::unlisted_writes`). On a
    // blocking thread, like every caller of this function.
    let _listing = service.downloads().unlisted_writes.blocking_read();
    let file = std::fs::File::open(path)?;
    let total = file.metadata()?.len();
    let read = Arc::new(AtomicU64::new(0));
    let mut reader = Reader::new(Counted { inner: file, count: Arc::clone(&read) })?;

    // The signed manifest first: nothing is written before it verifies and may install.
    let header = reader.next_member()?.ok_or(ShareError::Truncated)?;
    if header.name != MANIFEST_MEMBER {
        return Err(ShareError::Malformed(format!(
            "the first member is {:?}, not the manifest",
            header.name
        ))
        .into());
    }
    if header.size > MAX_ENVELOPE_BYTES {
        return Err(ShareError::SizeMismatch {
            name: header.name,
            claimed: header.size,
            declared: MAX_ENVELOPE_BYTES,
        }
        .into());
    }
    let mut envelope = String::new();
    reader.body(header.size).read_to_string(&mut envelope).map_err(body_error)?;
    let opened = signed::open(&envelope, service.trusted_keys())?;
    let manifest = Manifest::parse(&opened.payload)?;
    let provenance = Provenance::Signed { key: &opened.key, rotations: &opened.rotations };
    service.store().read(|c| {
        catalog::publisher::check(c, &manifest.id, provenance)?;
        refuse_older(c, &manifest)
    })?;
    let declared: HashMap<&str, &BlobEntry> = manifest
        .lessons()
        .flat_map(|l| &l.renditions)
        .flat_map(|r| &r.blobs)
        .map(|b| (b.hash.as_str(), b))
        .collect();

    let (mut added, mut present) = (0u32, 0u32);
    // Files already in the store: verified, but an import killed between moving one there and
    // recording it left it unrecorded. Recorded with the course (a no-op for the others), or
    // their lessons would never count as offline.
    let mut found: Vec<&BlobEntry> = Vec::new();
    while let Some(header) = reader.next_member()? {
        let hash = header.name.strip_prefix("blobs/").unwrap_or_default();
        let Some(blob) = declared.get(hash) else {
            return Err(ShareError::UnexpectedMember { name: header.name }.into());
        };
        if header.size != blob.size {
            return Err(ShareError::SizeMismatch {
                name: header.name,
                claimed: header.size,
                declared: blob.size,
            }
            .into());
        }
        if service.content().contains(hash) {
            io::copy(&mut reader.body(header.size), &mut io::sink()).map_err(body_error)?;
            found.push(*blob);
            present += 1;
        } else {
            storage::ensure_room(service, &manifest.id, blob.size)?;
            // The member holds the decoded bytes: stored as is, verified against the hash.
            let entry = BlobEntry { stored_size: blob.size, encoding: Encoding::Identity, ..(*blob).clone() };
            service.content().ingest(&entry, reader.body(header.size), None).map_err(|e| match e {
                Error::Io(io) => body_error(io),
                other => other,
            })?;
            service.store().write(|tx| record_blob(tx, blob))?;
            added += 1;
        }
        progress(ShareProgress::of(read.load(Ordering::Relaxed), total));
    }

    // Everything verified: the course goes into the catalog, and what is complete is downloaded.
    let outcome = service.store().write(|tx| {
        let source_url: Option<String> = tx
            .query_row("SELECT source_url FROM course WHERE id = ?1", [&manifest.id], |r| r.get(0))
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
        for blob in &found {
            record_blob(tx, blob)?;
        }
        let outcome = catalog::import_parsed(tx, &manifest, source_url.as_deref(), provenance)?;
        keep_envelope(tx, &manifest, &envelope)?;
        queue::after_import(tx, service.content(), &outcome)?;
        for lesson in manifest.lessons() {
            for rendition in [RenditionKind::Full, RenditionKind::Lite, RenditionKind::Text] {
                if lesson.renditions.iter().any(|r| r.kind == rendition)
                    && rendition_files(tx, service.content(), &lesson.id, rendition)?.is_some()
                {
                    queue::record_done(tx, &lesson.id, rendition)?;
                }
            }
        }
        Ok(outcome)
    })?;
    // An update may have re-queued lessons the file did not bring.
    service.downloads().wake();
    progress(ShareProgress::of(total, total));
    let (blobs_added, blobs_already_present) = (to_i32(added), to_i32(present));
    Ok(ImportedCourse { outcome, blobs_added, blobs_already_present })
}

/// A shared file of an older version than the phone's is refused before anything is written.
fn refuse_older(conn: &rusqlite::Connection, manifest: &Manifest) -> Result<()> {
    let installed: Option<u32> = conn
        .query_row("SELECT version FROM course WHERE id = ?1", [&manifest.id], |r| r.get(0))
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    match installed {
        Some(version) if version > manifest.version => Err(Error::StaleManifest {
            course_id: manifest.id.clone(),
            installed: version,
            offered: manifest.version,
        }),
        _ => Ok(()),
    }
}

/// A member body that ends early is a truncated file, a damaged stream a malformed one, a full
/// disk no room; other I/O errors stay what they are.
fn body_error(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return ShareError::Truncated.into();
    }
    if e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(libc_enospc()) {
        return Error::NoSpace("the disk filled during the import".into());
    }
    if let Some(damaged) = e.get_ref().and_then(|inner| inner.downcast_ref::<DamagedStream>()) {
        return ShareError::Malformed(damaged.to_string()).into();
    }
    Error::Io(e)
}

/// ENOSPC on the platforms Satchel runs on (Linux, Android, iOS, macOS).
const fn libc_enospc() -> i32 {
    28
}

/// Counts the bytes read from the file, for progress.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

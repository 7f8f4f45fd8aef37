//! Bringing a published course onto the phone: its signed manifest into the catalog, and the
//! verified files of a lesson rendition into the content store.

use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::ContentError;
use super::fetch::ContentClient;
use super::manifest_update;
use super::signed;
use super::store::ContentStore;
use crate::catalog::publisher::Provenance;
use crate::catalog::{
    self, BlobEntry, Encoding, ImportOutcome, ImportStatus, Manifest, RenditionKind, TextPack,
};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::time::now_ms;

/// A verified file of a downloaded rendition, ready for the player.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalFile {
    /// What the file is: `video`, `audio`, `transcript`, `slides`, `slide/003.webp`…
    pub role: String,
    pub path: String,
    pub media_type: String,
    pub size: i64,
}

/// A verified manifest and the key (and rotations) it was signed with, ready to import.
pub struct FetchedManifest {
    pub manifest: Manifest,
    opened: signed::Opened,
    /// The envelope as published, kept so the course can be shared with its signature.
    envelope: String,
}

/// Fetches `courses/<id>/manifest.signed.json` under `base_url` (or only what changed since the
/// installed version, see [`manifest_update`]), verifies its signature against
/// `trusted_keys`, refuses it if another publisher holds the course (before anything else is
/// downloaded), and fetches the course dictionary into `content`. Writes nothing to the catalog:
/// the caller imports the manifest with [`import_fetched`], which checks the publisher again in
/// its transaction.
pub async fn fetch_manifest(
    client: &ContentClient,
    trusted_keys: &[VerifyingKey],
    store: &std::sync::Arc<Store>,
    content: &ContentStore,
    base_url: &str,
    course_id: &str,
) -> Result<FetchedManifest> {
    let (reader, course) = (std::sync::Arc::clone(store), course_id.to_owned());
    let installed =
        crate::runtime::run_blocking(move || reader.read(|c| installed_envelope(c, &course))).await?;
    let (envelope, obtained) =
        manifest_update::current_envelope(client, base_url, course_id, installed.as_deref()).await?;
    tracing::debug!(course = course_id, ?obtained, bytes = envelope.len(), "manifest");
    let opened = signed::open(&envelope, trusted_keys)?;
    let manifest = Manifest::parse(&opened.payload)?;
    if manifest.id != course_id {
        return Err(ContentError::Unsigned(format!(
            "the manifest at {course_id:?} describes {:?}",
            manifest.id
        ))
        .into());
    }
    let (checker, checked, course) = (std::sync::Arc::clone(store), opened.clone(), manifest.id.clone());
    crate::runtime::run_blocking(move || {
        let provenance = Provenance::Signed { key: &checked.key, rotations: &checked.rotations };
        checker.read(|c| catalog::publisher::check(c, &course, provenance).map(drop))
    })
    .await?;
    if let Some(dictionary) = &manifest.dictionary {
        client.blob(base_url, dictionary, content, None).await?;
    }
    Ok(FetchedManifest { manifest, opened, envelope })
}

/// Imports a manifest fetched from `base_url` in the caller's transaction, recording the
/// dictionary [`fetch_manifest`] verified into the content store.
pub fn import_fetched(
    tx: &Transaction<'_>,
    fetched: &FetchedManifest,
    base_url: &str,
) -> Result<ImportOutcome> {
    let provenance = Provenance::Signed { key: &fetched.opened.key, rotations: &fetched.opened.rotations };
    let outcome = catalog::import_parsed(tx, &fetched.manifest, Some(base_url), provenance)?;
    if let Some(dictionary) = &fetched.manifest.dictionary {
        record_blob(tx, dictionary)?;
    }
    if outcome.status == ImportStatus::Unchanged
        && !installed_payload_is(tx, &fetched.manifest.id, &fetched.opened.payload)?
    {
        // The same version with other contents (repacked without raising the version): the
        // catalog kept the installed one, so must the envelope, or sharing would send a manifest
        // that does not match the files. A re-signing (same payload) is stored.
        tracing::warn!(
            course = %fetched.manifest.id,
            version = fetched.manifest.version,
            "the host serves this version with other contents; keeping the installed one (the publisher must raise the version)"
        );
    } else {
        keep_envelope(tx, &fetched.manifest, &fetched.envelope)?;
    }
    Ok(outcome)
}

/// Whether the envelope the course was installed from carries `payload` (true when none is kept,
/// as for a course fetched before schema 7, or when it cannot be read: fetching fills it).
fn installed_payload_is(conn: &Connection, course_id: &str, payload: &str) -> Result<bool> {
    let Some(installed) = installed_envelope(conn, course_id)? else { return Ok(true) };
    match serde_json::from_str::<signed::SignedManifest>(&installed) {
        Ok(envelope) => Ok(envelope.payload == payload),
        Err(error) => {
            tracing::warn!(course = course_id, %error, "the kept envelope does not parse; replacing it");
            Ok(true)
        }
    }
}

/// The signed envelope the course's installed version came from, if it came from one.
pub fn installed_envelope(conn: &Connection, course_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT signed_manifest FROM course WHERE id = ?1")?
        .query_row([course_id], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Stores the signed envelope a course's installed version came from (sharing sends it on).
pub fn keep_envelope(tx: &Transaction<'_>, manifest: &Manifest, envelope: &str) -> Result<()> {
    tx.prepare_cached("UPDATE course SET signed_manifest = ?3 WHERE id = ?1 AND version = ?2")?
        .execute(params![manifest.id, manifest.version, envelope])?;
    Ok(())
}

/// Splits the course's downloaded text pack into its members, verifying each into the store
/// under its own hash exactly as if it had been downloaded alone, then drops the pack.
pub fn unpack_text_pack(store: &Store, content: &ContentStore, pack: &TextPack) -> Result<()> {
    let bytes = content.read(&pack.blob.hash)?;
    let sizes: Vec<BlobEntry> = store.read(|c| {
        pack.members
            .iter()
            .map(|hash| {
                c.prepare_cached("SELECT size, media_type, role FROM rendition_blob WHERE hash = ?1 LIMIT 1")?
                    .query_row([hash], |r| {
                        let size: u64 = r.get(0)?;
                        Ok(BlobEntry {
                            hash: hash.clone(),
                            size,
                            stored_size: size,
                            media_type: r.get(1)?,
                            encoding: Encoding::Identity,
                            role: r.get(2)?,
                        })
                    })
                    .optional()?
                    .ok_or_else(|| Error::Internal(format!("text pack member {hash} is in no rendition")))
            })
            .collect()
    })?;
    for (member, member_bytes) in split_text_pack(&pack.blob, &bytes, &sizes)? {
        if !content.contains(&member.hash) {
            content.ingest(member, member_bytes, None)?;
            store.write(|tx| record_blob(tx, member))?;
        }
    }
    // The members are in place; the pack itself need not stay.
    store.write(|tx| {
        tx.execute("DELETE FROM content_blob WHERE hash = ?1", [&pack.blob.hash])?;
        Ok(())
    })?;
    content.remove(&pack.blob.hash)
}

/// The members' bytes in a decoded text pack, cut by their declared sizes in order. The sizes
/// must cover the pack exactly; each piece still has to pass its own hash when ingested.
pub fn split_text_pack<'b, 'm>(
    pack: &BlobEntry,
    bytes: &'b [u8],
    members: &'m [BlobEntry],
) -> Result<Vec<(&'m BlobEntry, &'b [u8])>> {
    let mismatch = || ContentError::SizeMismatch {
        hash: pack.hash.clone(),
        expected: members.iter().fold(0u64, |sum, m| sum.saturating_add(m.size)),
        actual: bytes.len() as u64,
    };
    let mut offset = 0usize;
    let mut pieces = Vec::with_capacity(members.len());
    for member in members {
        let end = usize::try_from(member.size)
            .ok()
            .and_then(|size| offset.checked_add(size))
            .filter(|end| *end <= bytes.len())
            .ok_or_else(mismatch)?;
        pieces.push((member, &bytes[offset..end]));
        offset = end;
    }
    if offset != bytes.len() {
        return Err(mismatch().into());
    }
    Ok(pieces)
}

/// The local files of a rendition if every one is on the phone and verified, else `None`.
pub fn rendition_files(
    conn: &Connection,
    content: &ContentStore,
    lesson_id: &str,
    rendition: RenditionKind,
) -> Result<Option<Vec<LocalFile>>> {
    let blobs = rendition_blobs(conn, lesson_id, rendition)?;
    if blobs.is_empty() {
        return Ok(None);
    }
    let mut present = conn.prepare_cached("SELECT 1 FROM content_blob WHERE hash = ?1")?;
    let mut files = Vec::with_capacity(blobs.len());
    for blob in blobs {
        let path = content.blob_path(&blob.hash);
        if !present.exists([&blob.hash])? || !path.is_file() {
            return Ok(None);
        }
        files.push(LocalFile {
            role: blob.role,
            path: path.to_string_lossy().into_owned(),
            media_type: blob.media_type,
            size: crate::api_int::to_i64(blob.size),
        });
    }
    Ok(Some(files))
}

/// Where a lesson rendition's files come from, and which they are.
pub struct Plan {
    /// The lesson's course (its manifest lists the patches the phone may use).
    pub course_id: String,
    /// The host the course was fetched from; `None` for a course that came in a shared file.
    pub base_url: Option<String>,
    pub dictionary: Option<BlobEntry>,
    pub text_pack: Option<TextPack>,
    pub blobs: Vec<BlobEntry>,
}

pub fn plan(conn: &Connection, lesson_id: &str, rendition: RenditionKind) -> Result<Plan> {
    let facts = catalog::lesson_facts(conn, lesson_id)?;
    let (base_url, dictionary, text_pack): (Option<String>, Option<String>, Option<String>) = conn
        .prepare_cached("SELECT source_url, dictionary, text_pack FROM course WHERE id = ?1")?
        .query_row([&facts.course_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| Error::not_found("course", &facts.course_id))?;
    let dictionary = dictionary
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| Error::corrupt("course dictionary entry", e.to_string()))?;
    let text_pack = text_pack
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| Error::corrupt("course text pack entry", e.to_string()))?;
    let blobs = rendition_blobs(conn, lesson_id, rendition)?;
    if blobs.is_empty() {
        return Err(Error::not_found("rendition", format!("{lesson_id}/{}", rendition.as_str())));
    }
    Ok(Plan { course_id: facts.course_id, base_url, dictionary, text_pack, blobs })
}

impl Plan {
    /// The host to fetch the rendition's files from. A course imported from a shared file has
    /// none until it is fetched from a host; what it lacks can be counted but not downloaded.
    pub fn host(&self) -> Result<&str> {
        self.base_url
            .as_deref()
            .ok_or_else(|| Error::invalid(format!("course {:?} was not fetched from a host", self.course_id)))
    }
}

/// The blobs of a rendition, in manifest order.
pub fn rendition_blobs(
    conn: &Connection,
    lesson_id: &str,
    rendition: RenditionKind,
) -> Result<Vec<BlobEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hash, size, stored_size, media_type, encoding, role FROM rendition_blob
         WHERE lesson_id = ?1 AND rendition = ?2 ORDER BY position",
    )?;
    let blobs = stmt
        .query_map(params![lesson_id, rendition], |r| {
            Ok(BlobEntry {
                hash: r.get(0)?,
                size: r.get(1)?,
                stored_size: r.get(2)?,
                media_type: r.get(3)?,
                encoding: r.get(4)?,
                role: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(blobs)
}

/// Records a blob verified into the content store.
pub fn record_blob(tx: &Transaction<'_>, blob: &BlobEntry) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO content_blob (hash, size, stored_at_ms) VALUES (?1, ?2, ?3) ON CONFLICT (hash) DO NOTHING",
    )?
    .execute(params![blob.hash, blob.size, now_ms()])?;
    Ok(())
}

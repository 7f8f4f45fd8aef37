//! Bringing a published course onto the phone: its signed manifest into the catalog, and the
//! verified files of a lesson rendition into the content store.

use rusqlite::{Connection, OptionalExtension, params};

use super::ContentError;
use super::fetch::ContentClient;
use super::signed;
use crate::account::Account;
use crate::catalog::{self, BlobEntry, Encoding, ImportOutcome, Manifest, RenditionKind, TextPack};
use crate::error::{Error, Result};
use crate::runtime::run_blocking;
use crate::time::now_ms;

/// A verified file of a downloaded rendition, ready for the player.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalFile {
    /// What the file is: `video`, `audio`, `transcript`, `slides`, `slide/003.webp`…
    pub role: String,
    pub path: String,
    pub media_type: String,
    pub size: u64,
}

/// Fetches `courses/<id>/manifest.signed.json` under `base_url`, verifies its signature against
/// the account's trusted publisher keys, fetches the course dictionary, and imports the course.
pub async fn fetch_course(
    account: &std::sync::Arc<Account>,
    base_url: &str,
    course_id: &str,
) -> Result<ImportOutcome> {
    let client = account.content_client()?;
    let envelope = client.manifest(base_url, course_id).await?;
    let payload = signed::open(&envelope, account.trusted_keys())?;
    let manifest = Manifest::parse(&payload)?;
    if manifest.id != course_id {
        return Err(ContentError::Unsigned(format!(
            "the manifest at {course_id:?} describes {:?}",
            manifest.id
        ))
        .into());
    }
    if let Some(dictionary) = &manifest.dictionary {
        client.blob(base_url, dictionary, account.content(), None).await?;
    }
    let account = std::sync::Arc::clone(account);
    let base_url = base_url.to_owned();
    run_blocking(move || {
        account.store().write(|tx| {
            let outcome = catalog::import_parsed(tx, &manifest, Some(&base_url))?;
            if let Some(dictionary) = &manifest.dictionary {
                record_blob(tx, dictionary)?;
            }
            Ok(outcome)
        })
    })
    .await
}

/// Downloads every file of a lesson rendition that is not on the phone yet, verifying each.
/// Whole-file and sequential: the download queue adds resuming, policies and progress.
pub async fn download_rendition(
    account: &std::sync::Arc<Account>,
    lesson_id: &str,
    rendition: RenditionKind,
) -> Result<Vec<LocalFile>> {
    let plan = {
        let account = std::sync::Arc::clone(account);
        let lesson_id = lesson_id.to_owned();
        run_blocking(move || account.store().read(|c| plan(c, &lesson_id, rendition))).await?
    };
    let client: ContentClient = account.content_client()?;
    if let Some(pack) = &plan.text_pack {
        unpack_if_needed(account, &client, &plan, pack).await?;
    }
    let dictionary =
        match plan.dictionary.as_ref().filter(|_| plan.blobs.iter().any(|b| needs_dictionary(account, b))) {
            Some(entry) => {
                client.blob(&plan.base_url, entry, account.content(), None).await?;
                Some(account.content().read(&entry.hash)?)
            }
            None => None,
        };
    for blob in &plan.blobs {
        let dict = if blob.encoding == Encoding::ZstdDict { dictionary.as_deref() } else { None };
        client.blob(&plan.base_url, blob, account.content(), dict).await?;
        let account = std::sync::Arc::clone(account);
        let blob = blob.clone();
        run_blocking(move || account.store().write(|tx| record_blob(tx, &blob))).await?;
    }
    let account = std::sync::Arc::clone(account);
    let lesson_id = lesson_id.to_owned();
    run_blocking(move || {
        let files = account
            .store()
            .read(|c| rendition_files(c, &account, &lesson_id, rendition))?
            .ok_or_else(|| Error::Internal("downloaded files went missing".into()))?;
        // Every file is verified and in place: the rendition is available offline.
        let total: u64 = plan.blobs.iter().map(|b| b.stored_size).sum();
        account.store().write(|tx| {
            let now = now_ms();
            tx.execute(
                "INSERT INTO download (lesson_id, rendition, state, bytes_total, bytes_done, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, 'done', ?3, ?3, ?4, ?4)
                 ON CONFLICT (lesson_id, rendition) DO UPDATE SET
                     state = 'done', bytes_total = excluded.bytes_total, bytes_done = excluded.bytes_done,
                     failure = NULL, updated_at_ms = excluded.updated_at_ms",
                params![lesson_id, rendition, total, now],
            )?;
            Ok(())
        })?;
        Ok(files)
    })
    .await
}

fn needs_dictionary(account: &Account, blob: &BlobEntry) -> bool {
    blob.encoding == Encoding::ZstdDict && !account.content().contains(&blob.hash)
}

/// When the rendition needs text that the course's text pack holds, fetches the pack once (one
/// request for all of the course's lite text), splits it, and verifies each member into the
/// store under its own hash, exactly as if it had been downloaded alone.
async fn unpack_if_needed(
    account: &std::sync::Arc<Account>,
    client: &ContentClient,
    plan: &Plan,
    pack: &TextPack,
) -> Result<()> {
    let wanted =
        plan.blobs.iter().any(|b| pack.members.contains(&b.hash) && !account.content().contains(&b.hash));
    if !wanted {
        return Ok(());
    }
    client.blob(&plan.base_url, &pack.blob, account.content(), None).await?;
    let account = std::sync::Arc::clone(account);
    let pack = pack.clone();
    run_blocking(move || {
        let bytes = account.content().read(&pack.blob.hash)?;
        let sizes: Vec<BlobEntry> = account.store().read(|c| {
            pack.members
                .iter()
                .map(|hash| {
                    c.prepare_cached(
                        "SELECT size, media_type, role FROM rendition_blob WHERE hash = ?1 LIMIT 1",
                    )?
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
        let mut offset = 0usize;
        for member in &sizes {
            let end = offset
                .checked_add(usize::try_from(member.size).unwrap_or(usize::MAX))
                .filter(|end| *end <= bytes.len())
                .ok_or_else(|| ContentError::SizeMismatch {
                    hash: pack.blob.hash.clone(),
                    expected: pack.blob.size,
                    actual: bytes.len() as u64,
                })?;
            if !account.content().contains(&member.hash) {
                account.content().ingest(member, &bytes[offset..end], None)?;
                account.store().write(|tx| record_blob(tx, member))?;
            }
            offset = end;
        }
        // The members are in place; the pack itself need not stay.
        account.content().remove(&pack.blob.hash)
    })
    .await
}

/// The local files of a rendition if every one is on the phone and verified, else `None`.
pub fn rendition_files(
    conn: &Connection,
    account: &Account,
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
        let path = account.content().blob_path(&blob.hash);
        if !present.exists([&blob.hash])? || !path.is_file() {
            return Ok(None);
        }
        files.push(LocalFile {
            role: blob.role,
            path: path.to_string_lossy().into_owned(),
            media_type: blob.media_type,
            size: blob.size,
        });
    }
    Ok(Some(files))
}

struct Plan {
    base_url: String,
    dictionary: Option<BlobEntry>,
    text_pack: Option<TextPack>,
    blobs: Vec<BlobEntry>,
}

fn plan(conn: &Connection, lesson_id: &str, rendition: RenditionKind) -> Result<Plan> {
    let facts = catalog::lesson_facts(conn, lesson_id)?;
    let (base_url, dictionary, text_pack): (Option<String>, Option<String>, Option<String>) = conn
        .prepare_cached("SELECT source_url, dictionary, text_pack FROM course WHERE id = ?1")?
        .query_row([&facts.course_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| Error::not_found("course", &facts.course_id))?;
    let base_url = base_url
        .ok_or_else(|| Error::invalid(format!("course {:?} was not fetched from a host", facts.course_id)))?;
    let dictionary = dictionary
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| Error::Internal(format!("stored dictionary entry is unreadable: {e}")))?;
    let text_pack = text_pack
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| Error::Internal(format!("stored text pack entry is unreadable: {e}")))?;
    let blobs = rendition_blobs(conn, lesson_id, rendition)?;
    if blobs.is_empty() {
        return Err(Error::not_found("rendition", format!("{lesson_id}/{}", rendition.as_str())));
    }
    Ok(Plan { base_url, dictionary, text_pack, blobs })
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
            let encoding: String = r.get(4)?;
            Ok(BlobEntry {
                hash: r.get(0)?,
                size: r.get(1)?,
                stored_size: r.get(2)?,
                media_type: r.get(3)?,
                encoding: Encoding::parse(&encoding).unwrap_or(Encoding::Identity),
                role: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(blobs)
}

fn record_blob(tx: &rusqlite::Transaction<'_>, blob: &BlobEntry) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO content_blob (hash, size, stored_at_ms) VALUES (?1, ?2, ?3) ON CONFLICT (hash) DO NOTHING",
    )?
    .execute(params![blob.hash, blob.size, now_ms()])?;
    Ok(())
}

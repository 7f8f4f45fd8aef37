//! Writing a validated manifest into the catalog, all or nothing.

use rusqlite::{OptionalExtension, Transaction, params};

use super::manifest::{Manifest, ManifestError};
use super::model::{ImportOutcome, ImportStatus};
use super::publisher::{self, Provenance};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::time::now_ms;

/// Parses, validates and imports a course manifest in one transaction.
///
/// A newer version of a course already in the catalog replaces it (keeping when the learner last
/// studied it); the same version is a no-op; an older one is refused with
/// [`Error::StaleManifest`]. Any error leaves the catalog exactly as it was. The manifest is
/// unsigned, so a course installed from a signed manifest is refused (see [`publisher`]).
pub fn import_manifest(store: &Store, json: &str) -> Result<ImportOutcome> {
    let manifest = Manifest::parse(json)?;
    store.write(|tx| import_parsed(tx, &manifest, None, Provenance::Unsigned))
}

/// Imports an already validated manifest inside the caller's transaction, after checking that
/// its provenance may install this course (publisher pinning). The outcome says what changed; a
/// caller that keeps data about the course (the download queue) reacts to it in the same
/// transaction.
pub fn import_parsed(
    tx: &Transaction<'_>,
    manifest: &Manifest,
    source_url: Option<&str>,
    provenance: Provenance<'_>,
) -> Result<ImportOutcome> {
    publisher::admit(tx, &manifest.id, provenance)?;
    let installed: Option<(u32, Option<i64>)> = tx
        .query_row("SELECT version, last_studied_at_ms FROM course WHERE id = ?1", [&manifest.id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    let (status, last_studied) = match installed {
        None => (ImportStatus::Installed, None),
        Some((version, _)) if version == manifest.version => {
            return Ok(outcome(manifest, ImportStatus::Unchanged));
        }
        Some((version, _)) if version > manifest.version => {
            return Err(Error::StaleManifest {
                course_id: manifest.id.clone(),
                installed: version,
                offered: manifest.version,
            });
        }
        Some((_, last_studied)) => (ImportStatus::Updated, last_studied),
    };

    refuse_ids_of_other_courses(tx, manifest)?;
    // Replacing is simplest and correct: learner data (progress, notes, downloads) is keyed by
    // lesson id without foreign keys, so it survives the cascade.
    tx.execute("DELETE FROM course WHERE id = ?1", [&manifest.id])?;
    tx.execute(
        "INSERT INTO course (id, version, title, description, language, imported_at_ms, last_studied_at_ms,
                             source_url, dictionary, text_pack)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            manifest.id,
            manifest.version,
            manifest.title,
            manifest.description,
            manifest.language,
            now_ms(),
            last_studied,
            source_url,
            manifest.dictionary.as_ref().map(encode_json).transpose()?,
            manifest.text_pack.as_ref().map(encode_json).transpose()?,
        ],
    )?;

    let mut insert_module =
        tx.prepare_cached("INSERT INTO module (id, course_id, position, title) VALUES (?1, ?2, ?3, ?4)")?;
    let mut insert_lesson = tx.prepare_cached(
        "INSERT INTO lesson (id, course_id, module_id, position, kind, title, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut insert_quiz = tx.prepare_cached(
        "INSERT INTO quiz (lesson_id, mode, pass_percent, questions) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut insert_rendition =
        tx.prepare_cached("INSERT INTO rendition (lesson_id, kind, bytes) VALUES (?1, ?2, ?3)")?;
    let mut insert_blob = tx.prepare_cached(
        "INSERT INTO rendition_blob (lesson_id, rendition, position, hash, size, stored_size, media_type, encoding, role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for (module_position, module) in manifest.modules.iter().enumerate() {
        insert_module.execute(params![module.id, manifest.id, module_position, module.title])?;
        for (lesson_position, lesson) in module.lessons.iter().enumerate() {
            insert_lesson.execute(params![
                lesson.id,
                manifest.id,
                module.id,
                lesson_position,
                lesson.kind,
                lesson.title,
                lesson.duration_ms
            ])?;
            for rendition in &lesson.renditions {
                insert_rendition.execute(params![lesson.id, rendition.kind, rendition.bytes])?;
                for (position, blob) in rendition.blobs.iter().enumerate() {
                    insert_blob.execute(params![
                        lesson.id,
                        rendition.kind,
                        position,
                        blob.hash,
                        blob.size,
                        blob.stored_size,
                        blob.media_type,
                        blob.encoding,
                        blob.role
                    ])?;
                }
            }
            if let Some(quiz) = &lesson.quiz {
                let questions = serde_json::to_string(&quiz.questions)?;
                insert_quiz.execute(params![lesson.id, quiz.mode, quiz.pass_percent, questions])?;
            }
        }
    }
    let mut insert_patch =
        tx.prepare_cached("INSERT INTO blob_patch (course_id, base, result, size) VALUES (?1, ?2, ?3, ?4)")?;
    for patch in &manifest.patches {
        insert_patch.execute(params![manifest.id, patch.base, patch.result, patch.size])?;
    }
    // Links go in after every lesson exists, since they may point forward in the course.
    let mut insert_link = tx.prepare_cached(
        "INSERT INTO lesson_link (lesson_id, position, linked_lesson_id) VALUES (?1, ?2, ?3)",
    )?;
    for lesson in manifest.lessons() {
        for (position, target) in lesson.linked.iter().enumerate() {
            insert_link.execute(params![lesson.id, position, target])?;
        }
    }
    Ok(outcome(manifest, status))
}

/// Ids are global across the learner's catalog; a second publisher reusing one must not silently
/// take over another course's lesson.
fn refuse_ids_of_other_courses(tx: &Transaction<'_>, manifest: &Manifest) -> Result<()> {
    let mut module_owner =
        tx.prepare_cached("SELECT course_id FROM module WHERE id = ?1 AND course_id <> ?2")?;
    for module in &manifest.modules {
        if let Some(other) =
            module_owner.query_row([&module.id, &manifest.id], |row| row.get::<_, String>(0)).optional()?
        {
            return Err(ManifestError::IdTaken {
                what: "module",
                id: module.id.clone(),
                other_course: other,
            }
            .into());
        }
    }
    let mut lesson_owner =
        tx.prepare_cached("SELECT course_id FROM lesson WHERE id = ?1 AND course_id <> ?2")?;
    for lesson in manifest.lessons() {
        if let Some(other) =
            lesson_owner.query_row([&lesson.id, &manifest.id], |row| row.get::<_, String>(0)).optional()?
        {
            return Err(ManifestError::IdTaken {
                what: "lesson",
                id: lesson.id.clone(),
                other_course: other,
            }
            .into());
        }
    }
    Ok(())
}

fn encode_json<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn outcome(manifest: &Manifest, status: ImportStatus) -> ImportOutcome {
    ImportOutcome {
        course_id: manifest.id.clone(),
        version: crate::api_int::to_i32(manifest.version),
        status,
        module_count: crate::api_int::to_i32(manifest.modules.len()),
        lesson_count: crate::api_int::to_i32(manifest.lessons().count()),
    }
}

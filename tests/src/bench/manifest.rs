//! `manifest_validate_10k_lessons_ms`: parsing and fully validating a 10,000-lesson course with
//! its text pack, beside plain serde_json parsing of the same bytes into the same types (no
//! checks). Validation must stay linear: a crafted text pack once made it quadratic.

use anyhow::{Result, ensure};
use satchel_core::catalog::{Manifest, limits};
use satchel_core::content::store::sha256_hex;
use serde_json::{Value, json};

use super::report::Row;
use super::{median_time, ms};

const MODULES: usize = 100;
const LESSONS_PER_MODULE: usize = 100;
const RUNS: usize = 15;

fn blob(hash: &str, size: u64, stored: u64, media_type: &str, encoding: &str, role: &str) -> Value {
    json!({ "hash": hash, "size": size, "stored_size": stored, "media_type": media_type,
            "encoding": encoding, "role": role })
}

/// Each lesson a lite lecture (speech audio and compact cues) with a text rendition sharing the
/// cues, and every cue file a member of the course's text pack: the shape the packager writes,
/// at the lesson limit.
fn big_manifest() -> String {
    let mut members = Vec::new();
    let modules: Vec<Value> = (0..MODULES)
        .map(|m| {
            let lessons: Vec<Value> = (0..LESSONS_PER_MODULE)
                .map(|l| {
                    let audio = blob(
                        &sha256_hex(format!("a{m}.{l}").as_bytes()),
                        120_000,
                        120_000,
                        "audio/ogg",
                        "identity",
                        "audio",
                    );
                    let cues_hash = sha256_hex(format!("c{m}.{l}").as_bytes());
                    let cues = blob(&cues_hash, 3000, 1100, "text/x-cues", "zstd-dict", "cues");
                    members.push(cues_hash);
                    json!({ "id": format!("b.{m}.{l}"), "title": format!("Lesson {l}"), "kind": "video",
                            "duration_ms": 300_000,
                            "renditions": [
                                { "kind": "lite", "bytes": 121_100, "blobs": [audio, cues.clone()] },
                                { "kind": "text", "bytes": 1100, "blobs": [cues] }
                            ] })
                })
                .collect();
            json!({ "id": format!("b.{m}"), "title": format!("Module {m}"), "lessons": lessons })
        })
        .collect();
    let pack_size = 3000 * members.len() as u64;
    json!({
        "format": 2, "id": "b", "version": 1, "title": "Big course",
        "dictionary": blob(&sha256_hex(b"dict"), 16_384, 9_000, "application/zstd-dictionary", "zstd", "dictionary"),
        "text_pack": { "blob": blob(&sha256_hex(b"pack"), pack_size, pack_size / 4, "application/x-satchel-text-pack", "zstd", "text-pack"),
                       "members": members },
        "modules": modules,
    })
    .to_string()
}

pub fn validate_10k() -> Result<Row> {
    let text = big_manifest();
    ensure!(
        text.len() <= limits::MANIFEST_BYTES,
        "the bench manifest is {} bytes, over the limit",
        text.len()
    );
    ensure!(Manifest::parse(&text)?.lessons().count() == MODULES * LESSONS_PER_MODULE);

    let ours = median_time(2, RUNS, || {
        std::hint::black_box(Manifest::parse(&text)?);
        Ok(())
    })?;
    let plain = median_time(2, RUNS, || {
        std::hint::black_box(serde_json::from_str::<Manifest>(&text)?);
        Ok(())
    })?;
    Ok(Row::at_most(
        "manifest_validate_10k_lessons_ms",
        ms(ours),
        "ms",
        "serde_json parse of the same bytes, no checks",
        ms(plain),
        3.0,
    ))
}

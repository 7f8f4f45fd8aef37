//! Manifests written by an attacker (issue 16, cases 3 and 4): sizes that are not sizes, one
//! hash with two truths, and a text pack crafted to make validation slow.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use satchel_core::catalog::{Manifest, ManifestError};
use satchel_core::content::store::sha256_hex;
use serde_json::{Value, json};

fn blob(hash: &str, size: u64, stored: u64, media_type: &str, encoding: &str) -> Value {
    json!({ "hash": hash, "size": size, "stored_size": stored, "media_type": media_type,
            "encoding": encoding, "role": "reading" })
}

/// A course of `lessons`, each a reading whose text rendition holds `blobs`.
fn course(lessons: Vec<Vec<Value>>) -> Value {
    let lessons: Vec<Value> = lessons
        .into_iter()
        .enumerate()
        .map(|(i, blobs)| {
            let bytes: u64 = blobs.iter().map(|b| b["stored_size"].as_u64().unwrap()).sum();
            json!({ "id": format!("c.l{i}"), "title": "L", "kind": "reading",
                    "renditions": [{ "kind": "text", "bytes": bytes, "blobs": blobs }] })
        })
        .collect();
    json!({ "format": 2, "id": "c", "version": 1, "title": "C",
            "modules": [{ "id": "c.m", "title": "M", "lessons": lessons }] })
}

#[test]
fn sizes_must_be_whole_non_negative_and_fit_in_i64() {
    let hash = sha256_hex(b"x");
    let good = course(vec![vec![blob(&hash, 10, 10, "text/markdown", "identity")]]).to_string();
    assert!(Manifest::parse(&good).is_ok());
    // Written as raw text: 2^64 and 2^63 have no exact JSON value in serde_json.
    let stored = "\"stored_size\":10";
    let size = "\"size\":10";
    let bytes = "\"bytes\":10";
    for (field, replacement) in [
        (size, "\"size\":18446744073709551616"),
        (size, "\"size\":18446744073709551615"),
        (size, "\"size\":9223372036854775808"),
        (size, "\"size\":10.0"),
        (size, "\"size\":1e1"),
        (size, "\"size\":-10"),
        (stored, "\"stored_size\":18446744073709551616"),
        (stored, "\"stored_size\":10.5"),
        (bytes, "\"bytes\":18446744073709551616"),
        (bytes, "\"bytes\":1.0e1"),
    ] {
        assert!(good.contains(field), "{field} in {good}");
        let text = good.replacen(field, replacement, 1);
        let r = Manifest::parse(&text);
        assert!(matches!(r, Err(ManifestError::Malformed(_))), "{replacement}: {r:?}");
    }
}

#[test]
fn one_hash_has_one_size_and_one_media_type_everywhere() {
    let hash = sha256_hex(b"shared");
    let other = sha256_hex(b"other");
    let reading = |size| blob(&hash, size, size, "text/markdown", "identity");

    // The same file listed twice agreeing with itself is fine (a reading in several renditions).
    let agreeing = course(vec![vec![reading(10)], vec![reading(10)]]);
    assert!(Manifest::parse(&agreeing.to_string()).is_ok());

    let cases = [
        ("size in one lesson", course(vec![vec![reading(10), reading(11)]]), "size"),
        ("size across lessons", course(vec![vec![reading(10)], vec![reading(12)]]), "size"),
        (
            "media type across lessons",
            course(vec![vec![reading(10)], vec![blob(&hash, 10, 10, "video/mp4", "identity")]]),
            "media type",
        ),
        (
            "encoding across lessons",
            course(vec![vec![reading(10)], vec![blob(&hash, 10, 5, "text/markdown", "zstd")]]),
            "stored size",
        ),
        (
            "a blob reusing the text pack's hash",
            {
                let mut m = course(vec![vec![blob(&other, 10, 4, "text/markdown", "zstd"), reading(10)]]);
                m["text_pack"] = json!({ "blob": blob(&hash, 10, 4, "application/x-satchel-text-pack", "zstd"),
                                         "members": [other] });
                m
            },
            "stored size",
        ),
    ];
    for (what, manifest, expected_field) in cases {
        match Manifest::parse(&manifest.to_string()) {
            Err(ManifestError::ConflictingBlob { hash: h, field, .. }) => {
                assert_eq!(h, hash, "{what}");
                assert_eq!(field, expected_field, "{what}");
            }
            other => panic!("{what}: expected ConflictingBlob, got {other:?}"),
        }
    }
}

/// A near-limit course whose text pack names the same member over and over: checking each
/// member by scanning the whole course made this take seconds; it must cost about a parse.
#[test]
fn a_crafted_text_pack_validates_in_linear_time() {
    let member = sha256_hex(b"member");
    let mut lessons: Vec<Vec<Value>> = (0..2_000)
        .map(|i| {
            (0..8)
                .map(|j| {
                    let hash = sha256_hex(format!("{i}-{j}").as_bytes());
                    blob(&hash, 100, 100, "text/markdown", "identity")
                })
                .collect()
        })
        .collect();
    lessons.push(vec![blob(&member, 1, 1, "text/markdown", "zstd")]);
    let members = vec![member; 40_000];
    let mut manifest = course(lessons);
    manifest["text_pack"] = json!({
        "blob": blob(&sha256_hex(b"pack"), members.len() as u64, 1000, "application/x-satchel-text-pack", "zstd"),
        "members": members,
    });
    let text = manifest.to_string();
    assert!(text.len() < 8 * 1024 * 1024, "{} bytes: keep it under the manifest limit", text.len());

    let started = Instant::now();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    let parse_time = started.elapsed();
    drop(parsed);
    let started = Instant::now();
    Manifest::parse(&text).unwrap();
    let validate_time = started.elapsed();
    // Parsing twice (format first, then the whole) plus linear checks: a few parse times. The
    // quadratic check took hundreds.
    assert!(
        validate_time <= parse_time * 10 + Duration::from_millis(50),
        "validation took {validate_time:?}, a plain parse {parse_time:?}"
    );
}

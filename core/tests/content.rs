//! The verified content store and blob entries in manifests: every kind of bad blob is refused
//! with a typed error and leaves nothing behind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use satchel_core::Error;
use satchel_core::catalog::{BlobEntry, Encoding, Manifest, ManifestError};
use satchel_core::content::ContentError;
use satchel_core::content::store::{ContentStore, sha256_hex};
use serde_json::json;

fn entry(data: &[u8], stored: &[u8], encoding: Encoding) -> BlobEntry {
    BlobEntry {
        hash: sha256_hex(data),
        size: data.len() as u64,
        stored_size: stored.len() as u64,
        media_type: "text/plain".into(),
        encoding,
        role: "transcript".into(),
    }
}

fn text() -> Vec<u8> {
    "The host is looked up with DNS. ".repeat(200).into_bytes()
}

/// Files left anywhere under the store's root (blobs and temporaries).
fn files_under(dir: &std::path::Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}

#[test]
fn identity_zstd_and_dictionary_blobs_are_verified_into_place() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::new(dir.path());
    let data = text();

    let plain = entry(&data, &data, Encoding::Identity);
    let path = store.ingest(&plain, &data[..], None).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert!(path.ends_with(format!("blobs/{}/{}", &plain.hash[..2], plain.hash)));

    let other = b"a different transcript, compressed".repeat(50);
    let packed = zstd::encode_all(&other[..], 19).unwrap();
    let z = entry(&other, &packed, Encoding::Zstd);
    assert_eq!(store.read(&z.hash).ok(), None);
    store.ingest(&z, &packed[..], None).unwrap();
    assert_eq!(store.read(&z.hash).unwrap(), other);

    let samples: Vec<Vec<u8>> = (0..200)
        .map(|i| format!("Lesson {i}: the host is looked up with DNS, then HTTP.").into_bytes())
        .collect();
    let dictionary = zstd::dict::from_samples(&samples, 1024).unwrap();
    let small = b"Lesson 999: the host is looked up with DNS, then HTTP.".to_vec();
    let mut compressor = zstd::bulk::Compressor::with_dictionary(19, &dictionary).unwrap();
    let with_dict = compressor.compress(&small).unwrap();
    let d = entry(&small, &with_dict, Encoding::ZstdDict);
    store.ingest(&d, &with_dict[..], Some(&dictionary)).unwrap();
    assert_eq!(store.read(&d.hash).unwrap(), small);
    assert!(matches!(
        ContentStore::new(dir.path().join("other")).ingest(&d, &with_dict[..], None),
        Err(Error::Content(ContentError::MissingDictionary { .. }))
    ));
}

#[test]
fn bad_blobs_are_refused_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::new(dir.path());
    let data = text();
    let packed = zstd::encode_all(&data[..], 3).unwrap();

    // Bytes that do not match the name.
    let mut wrong = entry(&data, &data, Encoding::Identity);
    wrong.hash = sha256_hex(b"something else");
    assert!(matches!(
        store.ingest(&wrong, &data[..], None),
        Err(Error::Content(ContentError::HashMismatch { .. }))
    ));

    // Truncated body and truncated zstd frame.
    let plain = entry(&data, &data, Encoding::Identity);
    assert!(matches!(
        store.ingest(&plain, &data[..data.len() - 10], None),
        Err(Error::Content(ContentError::SizeMismatch { .. }))
    ));
    let z = entry(&data, &packed, Encoding::Zstd);
    let cut = &packed[..packed.len() / 2];
    let r = store.ingest(&z, cut, None);
    assert!(
        matches!(r, Err(Error::Content(ContentError::Corrupt { .. } | ContentError::SizeMismatch { .. }))),
        "{r:?}"
    );

    // A body longer than declared.
    let mut longer = data.clone();
    longer.extend_from_slice(b"extra");
    assert!(matches!(
        store.ingest(&plain, &longer[..], None),
        Err(Error::Content(ContentError::SizeMismatch { .. }))
    ));

    // A decompression bomb: declares a small size, decodes to far more.
    let bomb_data = vec![0u8; 50 * 1024 * 1024];
    let bomb = zstd::encode_all(&bomb_data[..], 3).unwrap();
    let mut lie = entry(b"tiny", &bomb, Encoding::Zstd);
    lie.size = 1024;
    assert!(matches!(store.ingest(&lie, &bomb[..], None), Err(Error::Content(ContentError::Bomb { .. }))));

    // Garbage where zstd was promised.
    let garbage = vec![0x42u8; 300];
    let g = entry(&data, &garbage, Encoding::Zstd);
    assert!(matches!(
        store.ingest(&g, &garbage[..], None),
        Err(Error::Content(ContentError::Corrupt { .. }))
    ));

    assert_eq!(files_under(dir.path()), 0, "no blob and no temporary file is left: {:?}", walk(dir.path()));
}

fn manifest_with_blob(blob: serde_json::Value, bytes: u64) -> String {
    json!({
        "format": 2, "id": "c", "version": 1, "title": "C",
        "modules": [{ "id": "c.m", "title": "M", "lessons": [
            { "id": "c.l", "title": "L", "kind": "reading",
              "renditions": [{ "kind": "text", "bytes": bytes, "blobs": [blob] }] }
        ]}]
    })
    .to_string()
}

#[test]
fn manifests_with_unsafe_or_absurd_blobs_are_refused() {
    let hash = sha256_hex(b"x");
    let good = json!({ "hash": hash, "size": 10, "stored_size": 10, "media_type": "text/markdown", "encoding": "identity", "role": "reading" });
    assert!(Manifest::parse(&manifest_with_blob(good.clone(), 10)).is_ok());

    let cases = [
        ("role", json!("../../etc/passwd")),
        ("role", json!("/abs")),
        ("role", json!("a//b")),
        ("hash", json!("ABC")),
        ("hash", json!(format!("{}x", &hash[..63]))),
        ("encoding", json!("zstd-dict")), // no dictionary in this course
    ];
    for (field, value) in cases {
        let mut blob = good.clone();
        blob[field] = value.clone();
        let r = Manifest::parse(&manifest_with_blob(blob, 10));
        assert!(matches!(r, Err(ManifestError::InvalidBlob { .. })), "{field}={value}: {r:?}");
    }
    let mut bomb = good.clone();
    bomb["encoding"] = json!("zstd");
    bomb["size"] = json!(10_000_000u64);
    assert!(matches!(Manifest::parse(&manifest_with_blob(bomb, 10)), Err(ManifestError::InvalidBlob { .. })));
    assert!(
        matches!(Manifest::parse(&manifest_with_blob(good, 11)), Err(ManifestError::InvalidBlob { .. })),
        "bytes must add up"
    );
}

#[test]
fn a_text_pack_must_add_up_to_its_members() {
    let member = json!({ "hash": sha256_hex(b"x"), "size": 10, "stored_size": 4, "media_type": "text/markdown",
                         "encoding": "zstd", "role": "reading" });
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest_with_blob(member, 4)).unwrap();
    let pack = |size: u64, members: Vec<String>| {
        json!({ "blob": { "hash": sha256_hex(b"pack"), "size": size, "stored_size": 8, "media_type": "application/x-satchel-text-pack",
                          "encoding": "zstd", "role": "text-pack" }, "members": members })
    };
    manifest["text_pack"] = pack(10, vec![sha256_hex(b"x")]);
    assert!(Manifest::parse(&manifest.to_string()).is_ok());
    manifest["text_pack"] = pack(11, vec![sha256_hex(b"x")]);
    assert!(matches!(Manifest::parse(&manifest.to_string()), Err(ManifestError::InvalidBlob { .. })));
    manifest["text_pack"] = pack(10, vec![sha256_hex(b"not a member")]);
    assert!(matches!(Manifest::parse(&manifest.to_string()), Err(ManifestError::InvalidBlob { .. })));
}

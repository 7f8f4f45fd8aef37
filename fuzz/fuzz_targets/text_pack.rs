//! The text pack as the core receives it: a zstd frame from the host, decoded into the content
//! store with the declared size as a hard limit, then cut into members by their declared sizes,
//! each verified under its own hash.
//!
//! The fuzzer chooses the pack's decoded text, the member sizes and which member hashes are
//! honest; it also chooses raw stored bytes, so corrupt frames and bombs are decoded too.
//! Properties: nothing panics, a pack is accepted only if it decodes to exactly its declared
//! size and hash, members are accepted only when their sizes cover the pack exactly and their
//! bytes match their hashes, and a refused blob leaves no file behind.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use satchel_core::catalog::{BlobEntry, Encoding};
use satchel_core::content::course::split_text_pack;
use satchel_core::content::store::{ContentStore, sha256_hex};

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// The pack's decoded bytes (the members concatenated).
    text: &'a [u8],
    /// The declared member sizes.
    sizes: Vec<u16>,
    /// Bit i set: member i is declared with the hash of its bytes (otherwise a wrong one).
    honest_members: u64,
    /// How the pack's declared size relates to its text: exact, or off by this much.
    size_error: i8,
    /// Bytes a hostile host serves instead of a real frame.
    raw_stored: &'a [u8],
}

fn store() -> &'static ContentStore {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static STORE: OnceLock<ContentStore> = OnceLock::new();
    STORE.get_or_init(|| ContentStore::new(DIR.get_or_init(|| tempfile::tempdir().expect("tempdir")).path()))
}

fn entry(hash: String, size: u64, stored_size: u64, encoding: Encoding) -> BlobEntry {
    BlobEntry { hash, size, stored_size, media_type: "text/plain".into(), encoding, role: "cues".into() }
}

fuzz_target!(|input: Input<'_>| {
    let store = store();
    let text = input.text;
    let declared = (text.len() as u64).saturating_add_signed(i64::from(input.size_error));

    // Raw bytes as a zstd pack: almost always refused, and never leaves a file.
    let raw = entry(sha256_hex(text), declared, input.raw_stored.len() as u64, Encoding::Zstd);
    if store.ingest(&raw, input.raw_stored, None).is_ok() {
        assert!(store.read(&raw.hash).is_ok_and(|b| b == text), "accepted raw bytes that are not the text");
        store.remove(&raw.hash).expect("remove");
    }

    // A real frame of the text, declared with the fuzzer's size.
    let frame = zstd::bulk::compress(text, 1).expect("compress");
    let pack = entry(sha256_hex(text), declared, frame.len() as u64, Encoding::Zstd);
    let decoded = match store.ingest(&pack, &frame[..], None) {
        Ok(_) => {
            assert_eq!(declared, text.len() as u64, "a pack of the wrong declared size was accepted");
            let decoded = store.read(&pack.hash).expect("read the pack back");
            store.remove(&pack.hash).expect("remove");
            decoded
        }
        Err(_) => {
            assert_ne!(declared, text.len() as u64, "an honest pack was refused");
            return;
        }
    };

    let mut offset = 0usize;
    let members: Vec<BlobEntry> = input
        .sizes
        .iter()
        .take(64)
        .enumerate()
        .map(|(i, &size)| {
            let piece = decoded.get(offset..offset + size as usize);
            offset += size as usize;
            let hash = match piece {
                Some(piece) if input.honest_members & (1 << i) != 0 => sha256_hex(piece),
                _ => sha256_hex(&[i as u8]),
            };
            entry(hash, u64::from(size), u64::from(size), Encoding::Identity)
        })
        .collect();
    let covered: u64 = members.iter().map(|m| m.size).sum();
    match split_text_pack(&pack, &decoded, &members) {
        Ok(pieces) => {
            assert_eq!(covered, decoded.len() as u64, "split a pack its members do not cover exactly");
            for (member, bytes) in pieces {
                let accepted = store.ingest(member, bytes, None).is_ok();
                assert_eq!(accepted, sha256_hex(bytes) == member.hash, "member verification");
                if accepted {
                    store.remove(&member.hash).expect("remove");
                }
            }
        }
        Err(_) => assert_ne!(covered, decoded.len() as u64, "refused a pack its members cover exactly"),
    }
});

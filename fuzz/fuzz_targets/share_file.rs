//! A shared course file as another phone receives it (SD card, nearby share): the container's
//! reader on arbitrary records framed and compressed as the writer does, cut anywhere, and on
//! raw bytes; and a manifest patch (the update path's other file a hostile party controls)
//! applied to an envelope.
//!
//! Properties beyond "never panics": a member body never yields more than its header claims; an
//! honest file reads back exactly the members written; a file cut before its end record never
//! reads as complete; an honest manifest patch gives its target, and a hostile one is accepted
//! only when its result is the target the pointer names.
#![no_main]

use std::io::Read;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use satchel_core::content::manifest_update;
use satchel_core::content::store::sha256_hex;
use satchel_core::share::container::{Reader, Writer};

#[derive(Debug, Arbitrary)]
struct Member<'a> {
    name: &'a str,
    body: &'a [u8],
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    members: Vec<Member<'a>>,
    /// Cut the compressed file to this many bytes (if shorter than it).
    cut: Option<u16>,
    /// Bytes a hostile sender offers instead of a real file.
    raw: &'a [u8],
    /// An envelope, the one a patch should lead to, and a hostile patch.
    envelope: &'a str,
    target: &'a str,
    patch: &'a [u8],
}

/// Reads every member of a shared file, checking no body runs past its header. `Ok` only at a
/// well-formed end record.
fn read_all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ()> {
    let mut reader = Reader::new(bytes).map_err(drop)?;
    let mut members = Vec::new();
    while let Some(header) = reader.next_member().map_err(drop)? {
        let mut body = Vec::new();
        // Read at most one byte past the claim: the reader must stop at the claim itself.
        let read = reader.body(header.size).take(header.size.saturating_add(1)).read_to_end(&mut body);
        assert!(body.len() as u64 <= header.size, "a member body ran past its header");
        read.map_err(drop)?;
        members.push((header.name, body));
    }
    Ok(members)
}

fuzz_target!(|input: Input<'_>| {
    // Names the writer cannot frame (over u16::MAX bytes) never reach it from an export.
    let members: Vec<&Member<'_>> = input.members.iter().take(16).collect();
    let mut writer = Writer::new(Vec::new()).expect("a writer on memory");
    for member in &members {
        writer.member(member.name, member.body.len() as u64, &mut &member.body[..]).expect("write a member");
    }
    let file = writer.finish().expect("finish the file");

    // The reader refuses empty or over-long names and takes anything else as written.
    let readable = members.iter().all(|m| !m.name.is_empty() && m.name.len() <= 200);
    match read_all(&file) {
        Ok(read) => {
            assert!(readable, "a file with a name the reader refuses was read");
            let written: Vec<(String, Vec<u8>)> =
                members.iter().map(|m| (m.name.to_owned(), m.body.to_vec())).collect();
            assert_eq!(read, written, "an honest file did not read back as written");
        }
        Err(()) => assert!(!readable, "an honest file was refused"),
    }
    if let Some(cut) = input.cut.map(usize::from).filter(|&cut| cut < file.len()) {
        assert!(read_all(&file[..cut]).is_err(), "a file cut at {cut} of {} bytes read as complete", file.len());
    }
    let _ = read_all(input.raw);

    let pointer = sha256_hex(input.target.as_bytes());
    let mut encoder = zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), 3, input.envelope.as_bytes())
        .expect("a patch encoder");
    std::io::Write::write_all(&mut encoder, input.target.as_bytes()).expect("encode");
    let honest = encoder.finish().expect("finish the patch");
    assert_eq!(
        manifest_update::apply(input.envelope, &honest, &pointer).as_deref(),
        Ok(input.target),
        "an honest manifest patch did not give its target"
    );
    if let Ok(envelope) = manifest_update::apply(input.envelope, input.patch, &pointer) {
        assert_eq!(envelope, input.target, "a hostile patch gave other bytes than the pointer names");
    }
});

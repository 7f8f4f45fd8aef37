//! Delta course updates end to end: the packer packs a course, then a new version of it over the
//! same tree (keeping the old manifest and writing zstd patches); the reference server serves
//! it through a byte-counting proxy; a phone that downloaded the first version fetches the
//! second, patches what changed, re-anchors highlights, and falls back to whole blobs, with a
//! typed error recorded, whenever a patch is damaged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Instant;

use satchel_core::catalog::{ImportStatus, Manifest, RenditionKind};
use satchel_core::content::patch::{self, patch_url_path};
use satchel_core::content::store::sha256_hex;
use satchel_core::downloads::DownloadTarget;
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelError};
use satchel_server::pack;
use satchel_tests::ServerProcess;
use satchel_tests::fault_proxy::{FaultProxy, Faults, RequestFault};
use satchel_tests::nginx::Nginx;
use satchel_tests::open_account;
use satchel_tests::sample::{target_dir, test_public_key, test_publisher_key};

const COURSE: &str = "upd";
const READINGS: [&str; 3] = ["upd.alpha", "upd.beta", "upd.gamma"];

/// A reading of a few KB: sentences of words drawn from a small vocabulary by a seeded
/// generator, so it compresses like prose (not like one line repeated).
fn reading(name: &str) -> String {
    const WORDS: [&str; 24] = [
        "browser",
        "resolver",
        "address",
        "host",
        "connection",
        "request",
        "server",
        "status",
        "header",
        "cache",
        "name",
        "port",
        "secure",
        "page",
        "reply",
        "asks",
        "opens",
        "sends",
        "the",
        "a",
        "then",
        "with",
        "before",
        "after",
    ];
    let mut state = name.bytes().fold(0x9e37_79b9_u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let mut text = format!("# {name}\n\n");
    for i in 0..40 {
        text.push_str(&format!("Paragraph {i} of {name}."));
        for _ in 0..18 {
            text.push(' ');
            text.push_str(WORDS[next() % WORDS.len()]);
        }
        text.push_str(".\n\n");
    }
    text
}

/// Writes the course source (version `version`, readings as given) under `src`.
fn write_source(src: &Path, version: u32, texts: &[String; 3]) {
    std::fs::create_dir_all(src).unwrap();
    let lessons: Vec<serde_json::Value> = READINGS
        .iter()
        .zip(texts)
        .map(|(id, text)| {
            let file = format!("{id}.md");
            std::fs::write(src.join(&file), text).unwrap();
            serde_json::json!({"id": id, "title": format!("Reading {id}"), "kind": "reading", "reading": file})
        })
        .collect();
    let course = serde_json::json!({
        "id": COURSE, "version": version, "title": "Updates", "description": "", "language": "en",
        "modules": [{"id": "upd.m", "title": "Module", "lessons": lessons}]
    });
    std::fs::write(src.join("course.json"), serde_json::to_vec(&course).unwrap()).unwrap();
}

fn published(out: &Path) -> Manifest {
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("courses/upd/manifest.signed.json")).unwrap())
            .unwrap();
    Manifest::parse(envelope["payload"].as_str().unwrap()).unwrap()
}

fn reading_blob(manifest: &Manifest, lesson: &str) -> satchel_core::catalog::BlobEntry {
    manifest.lessons().find(|l| l.id == lesson).unwrap().renditions[0].blobs[0].clone()
}

/// Version 1 and version 2 (alpha: a sentence inserted before the highlighted one; beta: the
/// highlighted sentence deleted; gamma unchanged) packed into one tree.
struct Packed {
    _dir: tempfile::TempDir,
    out: PathBuf,
    v1: Manifest,
    v2: Manifest,
    /// Version 1's envelope as published (and kept under `versions/`).
    v1_envelope: Vec<u8>,
    texts2: [String; 3],
}

fn pack_two_versions(edit_gamma: bool) -> Packed {
    let dir = tempfile::tempdir_in(target_dir()).unwrap();
    let (src, out) = (dir.path().join("src"), dir.path().join("out"));
    let texts1 = [reading("alpha"), reading("beta"), reading("gamma")];
    write_source(&src, 1, &texts1);
    pack::pack(&src, &out, &test_publisher_key()).unwrap();
    let v1 = published(&out);
    assert!(v1.patches.is_empty() && v1.format == 2, "a first version has nothing to patch from");

    let texts2 = [
        texts1[0].replace("Paragraph 20 of alpha.", "A new remark on caching.\n\nParagraph 20 of alpha."),
        texts1[1].replace("Paragraph 20 of beta. ", ""),
        if edit_gamma {
            texts1[2].replace("Paragraph 7 of gamma.", "Paragraph seven of gamma.")
        } else {
            texts1[2].clone()
        },
    ];
    write_source(&src, 2, &texts2);
    let report = pack::pack(&src, &out, &test_publisher_key()).unwrap();
    let v2 = published(&out);
    assert_eq!(v2.format, 3);
    assert!(out.join("courses/upd/versions/1.signed.json").is_file(), "the old manifest is kept");
    assert_eq!(report.patches, v2.patches.len());
    let v1_envelope = std::fs::read(out.join("courses/upd/versions/1.signed.json")).unwrap();
    Packed { _dir: dir, out, v1, v2, v1_envelope, texts2 }
}

fn download_course(satchel: &Satchel, rendition: RenditionKind) {
    let rt = runtime();
    rt.block_on(satchel.enqueue_download(DownloadTarget::Course { course_id: COURSE.into() }, rendition, 0))
        .unwrap();
    let summary = rt.block_on(satchel.run_downloads(60_000)).unwrap();
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(summary.remaining, 0, "{summary:?}");
}

fn local_text(satchel: &Satchel, lesson: &str, rendition: RenditionKind) -> Option<String> {
    let files = runtime().block_on(satchel.rendition_files(lesson.into(), rendition)).unwrap()?;
    Some(std::fs::read_to_string(&files[0].path).unwrap())
}

fn highlight(satchel: &Satchel, lesson: &str, text: &str, quote: &str) -> String {
    let start = text.find(quote).unwrap();
    let utf16 = |s: &str| s.encode_utf16().count() as i32;
    let anchor = NoteAnchor::Text {
        quote: quote.into(),
        prefix: text[start.saturating_sub(20)..start].into(),
        suffix: text[start + quote.len()..start + quote.len() + 20].into(),
        start: utf16(&text[..start]),
        end: utf16(&text[..start + quote.len()]),
    };
    let note = NewNote {
        lesson_id: lesson.into(),
        kind: NoteKind::Highlight,
        body: String::new(),
        anchor,
        color: None,
        tags: vec![],
    };
    runtime().block_on(satchel.add_note(note)).unwrap().id
}

#[test]
fn an_update_fetches_patches_only_and_updates_downloaded_lessons_in_place() {
    let packed = pack_two_versions(false);
    let (v1, v2) = (&packed.v1, &packed.v2);
    // Patches for the two edited readings, none for the unchanged one; each applies with the
    // zstd command line tool too (`zstd --patch-from`), byte for byte.
    let changed: Vec<_> = READINGS[..2].iter().map(|l| (reading_blob(v1, l), reading_blob(v2, l))).collect();
    assert_eq!(reading_blob(v1, READINGS[2]), reading_blob(v2, READINGS[2]));
    assert_eq!(v2.patches.len(), 2, "{:?}", v2.patches);
    let work = tempfile::tempdir().unwrap();
    for (i, (old, new)) in changed.iter().enumerate() {
        let entry = v2.patches.iter().find(|p| p.base == old.hash && p.result == new.hash).unwrap();
        assert!(entry.size * 10 < new.stored_size, "patch {} vs whole {}", entry.size, new.stored_size);
        let old_text = work.path().join("old");
        let dictionary = pack::patches::dictionary_of(&packed.out, v1).unwrap();
        let base = pack::patches::read_blob(&packed.out, old, dictionary.as_deref()).unwrap();
        std::fs::write(&old_text, &base).unwrap();
        let applied = work.path().join("new");
        let status = std::process::Command::new("zstd")
            .args(["-q", "-f", "-d", "--patch-from"])
            .arg(&old_text)
            .arg(packed.out.join(patch_url_path(&old.hash, &new.hash)))
            .arg("-o")
            .arg(&applied)
            .status()
            .unwrap();
        assert!(status.success(), "zstd --patch-from applies the patch");
        assert_eq!(std::fs::read_to_string(&applied).unwrap(), packed.texts2[i]);
    }

    let server = ServerProcess::serve(&packed.out).unwrap();
    let proxy = FaultProxy::start(server.addr, Faults::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    // Version 1 on the phone: the lite rendition (through the text pack) and the text rendition.
    proxy.reset_counters();
    let version_1 = republish(&packed.out);
    rt.block_on(satchel.fetch_course(proxy.base_url(), COURSE.into())).unwrap();
    download_course(&satchel, RenditionKind::Lite);
    let first_download = proxy.reply_bytes();
    let alpha1 = local_text(&satchel, READINGS[0], RenditionKind::Lite).unwrap();
    let beta1 = local_text(&satchel, READINGS[1], RenditionKind::Lite).unwrap();
    let moved = highlight(&satchel, READINGS[0], &alpha1, "Paragraph 20 of alpha.");
    let gone = highlight(&satchel, READINGS[1], &beta1, "Paragraph 20 of beta.");
    let kept = highlight(&satchel, READINGS[1], &beta1, "Paragraph 30 of beta.");

    // Version 2 is published; the phone fetches it.
    version_1.restore();
    proxy.reset_counters();
    let started = Instant::now();
    let outcome = rt.block_on(satchel.fetch_course(proxy.base_url(), COURSE.into())).unwrap();
    assert_eq!(outcome.version, 2);
    // Nothing stale offline: the edited lessons are not shown until their new text is here; the
    // unchanged one stays available throughout.
    assert_eq!(local_text(&satchel, READINGS[0], RenditionKind::Lite), None);
    assert!(local_text(&satchel, READINGS[2], RenditionKind::Lite).is_some());
    let manifest_bytes = proxy.reply_bytes();
    // A run that cannot fetch (offline) ends with the old readings kept: patches start from them.
    let content = satchel.account().download_service().content().clone();
    let on_phone = |hash: &str| {
        let listed: bool = satchel
            .account()
            .store()
            .read(|c| {
                Ok(c.query_row("SELECT EXISTS (SELECT 1 FROM content_blob WHERE hash = ?1)", [hash], |r| {
                    r.get(0)
                })?)
            })
            .unwrap();
        assert_eq!(listed, content.contains(hash), "row and file of {hash} disagree");
        listed
    };
    // What a download finishing just as the update commits checks before it calls itself done.
    let lacking = || -> Vec<bool> {
        let downloads = rt.block_on(satchel.list_downloads(Some(COURSE.into()))).unwrap();
        READINGS
            .iter()
            .map(|lesson| {
                let id = downloads.iter().find(|d| d.lesson_id == *lesson).unwrap().id;
                satchel
                    .account()
                    .store()
                    .write(|tx| satchel_core::downloads::queue::lacks_files(tx, id))
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(lacking(), [true, true, false]);
    satchel.set_network(satchel_core::downloads::NetworkType::None);
    let offline = rt.block_on(satchel.run_downloads(1_000)).unwrap();
    assert_eq!(offline.remaining, 2, "{offline:?}");
    assert!(changed.iter().all(|(old, _)| on_phone(&old.hash)), "a base of a pending patch was removed");
    satchel.set_network(satchel_core::downloads::NetworkType::Unmetered);
    let summary = rt.block_on(satchel.run_downloads(60_000)).unwrap();
    assert_eq!((summary.completed, summary.failed, summary.remaining), (2, 0, 0), "{summary:?}");
    let update_bytes = proxy.reply_bytes() - manifest_bytes;
    for (i, lesson) in READINGS.iter().enumerate() {
        assert_eq!(local_text(&satchel, lesson, RenditionKind::Lite).unwrap(), packed.texts2[i], "{lesson}");
    }
    // Updated in place: the replaced readings left the phone (row and file), the unchanged one
    // stayed.
    for (old, new) in &changed {
        assert!(!on_phone(&old.hash), "version 1's {} is still on the phone", old.hash);
        assert!(on_phone(&new.hash));
    }
    assert!(on_phone(&reading_blob(v2, READINGS[2]).hash));
    assert_eq!(lacking(), [false, false, false]);
    let requests = proxy.requests();
    assert!(
        requests.iter().all(|r| !r.contains("/blobs/") || r.contains("manifest")),
        "only patches: {requests:?}"
    );
    assert_eq!(requests.iter().filter(|r| r.contains("/patches/")).count(), 2, "{requests:?}");
    let whole: u64 = changed.iter().map(|(_, new)| new.stored_size).sum();
    assert!(update_bytes * 4 < whole, "update {update_bytes} B vs the changed files' {whole} B");
    assert!(
        update_bytes < first_download / 4,
        "update {update_bytes} B vs first download {first_download} B"
    );
    assert!(started.elapsed().as_secs() < 30);

    // Highlights were re-anchored against the new text, or flagged orphaned.
    let notes = |lesson: &str| rt.block_on(satchel.notes_for_lesson(lesson.into())).unwrap();
    let alpha_notes = notes(READINGS[0]);
    let moved_note = alpha_notes.iter().find(|n| n.id == moved).unwrap();
    let NoteAnchor::Text { start, .. } = moved_note.anchor.clone() else { panic!() };
    let want = packed.texts2[0].find("Paragraph 20 of alpha.").unwrap();
    assert_eq!(start as usize, packed.texts2[0][..want].encode_utf16().count());
    assert!(!moved_note.orphaned);
    let beta_notes = notes(READINGS[1]);
    assert!(beta_notes.iter().find(|n| n.id == gone).unwrap().orphaned, "its passage was deleted");
    assert!(!beta_notes.iter().find(|n| n.id == kept).unwrap().orphaned);

    let failures = satchel.account().store().read(patch::failures).unwrap();
    assert!(failures.is_empty(), "{failures:?}");

    // The manifest came as a patch from the envelope the phone held, not whole.
    let updated_from = format!("/courses/upd/updates/{}.zst", sha256_hex(&packed.v1_envelope));
    assert!(requests.iter().any(|r| r.contains(&updated_from)), "{requests:?}");
    assert!(!requests.iter().any(|r| r.contains("manifest.signed.json")), "{requests:?}");

    // Checking again costs one small reply: the pointer names the envelope the phone holds.
    proxy.reset_counters();
    let again = rt.block_on(satchel.fetch_course(proxy.base_url(), COURSE.into())).unwrap();
    assert_eq!((again.version, again.status), (2, ImportStatus::Unchanged));
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].contains("/courses/upd/manifest.sha256"), "{requests:?}");
    assert!(proxy.reply_bytes() < 512, "an update check costs {} bytes", proxy.reply_bytes());
}

/// Installs version 1 on a new phone from `packed` (version 2 published), then puts version 2
/// back: the phone holds version 1's envelope and the host offers version 2.
fn phone_with_version_1(packed: &Packed, base_url: &str, dir: &Path) -> std::sync::Arc<Satchel> {
    let satchel = open_account(dir, vec![test_public_key()]).unwrap();
    let version_1 = republish(&packed.out);
    let outcome = runtime().block_on(satchel.fetch_course(base_url.to_owned(), COURSE.into())).unwrap();
    assert_eq!(outcome.version, 1);
    version_1.restore();
    satchel
}

#[test]
fn a_manifest_patch_that_fails_or_is_missing_falls_back_to_the_whole_manifest() {
    let packed = pack_two_versions(true);
    let course = packed.out.join("courses/upd");
    let patch_path = course.join(format!("updates/{}.zst", sha256_hex(&packed.v1_envelope)));
    let good_patch = std::fs::read(&patch_path).unwrap();
    let pointer = std::fs::read(course.join("manifest.sha256")).unwrap();
    let v2_envelope = std::fs::read(course.join("manifest.signed.json")).unwrap();
    // From an envelope like the phone's but one byte longer at the end: every match into it
    // copies from one byte off (offsets count back from the end of the base). One from an
    // unrelated base would copy nothing from it and give version 2 all the same.
    let like_v1 = [packed.v1_envelope.as_slice(), b"x"].concat();
    let other_base = pack::patches::patch_bytes(&like_v1, &v2_envelope).unwrap().unwrap();
    // From the phone's envelope, but to another one than the pointer names (a stale cached copy).
    let elsewhere = [v2_envelope.as_slice(), b" "].concat();
    let stale = pack::patches::patch_bytes(&packed.v1_envelope, &elsewhere).unwrap().unwrap();
    let truncated = good_patch[..good_patch.len() / 2].to_vec();
    let bomb = {
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        std::io::Write::write_all(&mut encoder, &vec![b' '; 20 << 20]).unwrap();
        encoder.finish().unwrap()
    };
    let server = ServerProcess::serve(&packed.out).unwrap();
    let proxy = FaultProxy::start(server.addr, Faults::default()).unwrap();
    type Damage<'a> = Box<dyn Fn() + 'a>;
    let cases: [(&str, Damage); 6] = [
        ("a patch for another base", Box::new(|| std::fs::write(&patch_path, &other_base).unwrap())),
        ("a patch to another envelope", Box::new(|| std::fs::write(&patch_path, &stale).unwrap())),
        ("a truncated patch", Box::new(|| std::fs::write(&patch_path, &truncated).unwrap())),
        ("a decompression bomb", Box::new(|| std::fs::write(&patch_path, &bomb).unwrap())),
        ("no patch", Box::new(|| std::fs::remove_file(&patch_path).unwrap())),
        (
            "no pointer (an older packager)",
            Box::new(|| std::fs::remove_file(course.join("manifest.sha256")).unwrap()),
        ),
    ];
    for (case, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        let satchel = phone_with_version_1(&packed, &server.base_url(), dir.path());
        damage();
        proxy.reset_counters();
        let outcome = runtime().block_on(satchel.fetch_course(proxy.base_url(), COURSE.into())).unwrap();
        assert_eq!((outcome.version, outcome.status), (2, ImportStatus::Updated), "{case}");
        let requests = proxy.requests();
        assert!(requests.iter().any(|r| r.contains("manifest.signed.json")), "{case}: {requests:?}");
        std::fs::write(&patch_path, &good_patch).unwrap();
        std::fs::write(course.join("manifest.sha256"), &pointer).unwrap();
    }
    // A host that fails the pointer or the patch request itself (a 502 from a cache, a lost
    // connection) costs that request, not the update.
    let cases = [
        ("the pointer answered 502", Faults { fail_with: vec![502], ..Faults::default() }),
        ("the pointer's connection lost", Faults { script: vec![RequestFault::Drop], ..Faults::default() }),
        (
            "the patch's connection lost",
            Faults { script: vec![RequestFault::Pass, RequestFault::Drop], ..Faults::default() },
        ),
    ];
    for (case, faults) in cases {
        let dir = tempfile::tempdir().unwrap();
        let satchel = phone_with_version_1(&packed, &server.base_url(), dir.path());
        proxy.set_faults(faults);
        let outcome = runtime().block_on(satchel.fetch_course(proxy.base_url(), COURSE.into()));
        proxy.set_faults(Faults::default());
        let outcome = outcome.unwrap_or_else(|e| panic!("{case}: {e:?}"));
        assert_eq!((outcome.version, outcome.status), (2, ImportStatus::Updated), "{case}");
    }
}

#[test]
fn nginx_serves_an_update_as_pointer_manifest_patch_and_text_patches() {
    let packed = pack_two_versions(true);
    let nginx = Nginx::serve(&packed.out).unwrap();
    let proxy = FaultProxy::start(nginx.addr, Faults::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = phone_with_version_1(&packed, &proxy.base_url(), dir.path());
    download_course(&satchel, RenditionKind::Text);

    proxy.reset_counters();
    let outcome = runtime().block_on(satchel.fetch_course(proxy.base_url(), COURSE.into())).unwrap();
    assert_eq!((outcome.version, outcome.status), (2, ImportStatus::Updated));
    let summary = runtime().block_on(satchel.run_downloads(60_000)).unwrap();
    assert_eq!((summary.completed, summary.failed, summary.remaining), (3, 0, 0), "{summary:?}");
    for (i, lesson) in READINGS.iter().enumerate() {
        assert_eq!(local_text(&satchel, lesson, RenditionKind::Text).unwrap(), packed.texts2[i], "{lesson}");
    }
    let requests = proxy.requests();
    let patched_manifest = format!("/courses/upd/updates/{}.zst", sha256_hex(&packed.v1_envelope));
    assert!(requests.iter().any(|r| r.contains(&patched_manifest)), "{requests:?}");
    assert!(!requests.iter().any(|r| r.contains("manifest.signed.json")), "{requests:?}");
    assert_eq!(requests.iter().filter(|r| r.contains("/patches/")).count(), 3, "{requests:?}");
    assert!(!requests.iter().any(|r| r.contains("/blobs/")), "only patches: {requests:?}");
    assert_eq!(satchel.account().store().read(patch::failures).unwrap(), vec![]);
}

#[test]
fn a_host_that_points_at_a_forged_manifest_gets_it_refused_as_if_served_whole() {
    let packed = pack_two_versions(true);
    let course = packed.out.join("courses/upd");
    let server = ServerProcess::serve(&packed.out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = phone_with_version_1(&packed, &server.base_url(), dir.path());
    // The host rewrites version 2's title and makes pointer and patch agree with the forgery.
    let genuine = std::fs::read_to_string(course.join("manifest.signed.json")).unwrap();
    let forged = genuine.replacen("Updates", "Updatez", 1);
    assert_ne!(forged, genuine);
    let patch = pack::patches::patch_bytes(&packed.v1_envelope, forged.as_bytes()).unwrap().unwrap();
    std::fs::write(course.join(format!("updates/{}.zst", sha256_hex(&packed.v1_envelope))), patch).unwrap();
    std::fs::write(course.join("manifest.sha256"), format!("{}\n", sha256_hex(forged.as_bytes()))).unwrap();

    let err = runtime().block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap_err();
    assert!(matches!(&err, SatchelError::Integrity { reason } if reason.contains("signature")), "{err:?}");
    let courses = runtime().block_on(satchel.list_courses()).unwrap();
    assert_eq!(courses.iter().map(|c| (c.version, c.title.as_str())).collect::<Vec<_>>(), [(1, "Updates")]);
}

/// Moves the published version-2 manifest aside and publishes `v1` under the same key, so a
/// phone can first install version 1 from a tree that already holds version 2's patches.
struct Republished {
    current: PathBuf,
    aside: PathBuf,
}

impl Republished {
    fn restore(self) {
        std::fs::rename(&self.aside, &self.current).unwrap();
    }
}

fn republish(out: &Path) -> Republished {
    let current = out.join("courses/upd/manifest.signed.json");
    let aside = out.join("courses/upd/v2.signed.json.aside");
    std::fs::rename(&current, &aside).unwrap();
    std::fs::copy(out.join("courses/upd/versions/1.signed.json"), &current).unwrap();
    Republished { current, aside }
}

#[test]
fn a_damaged_patch_falls_back_to_the_whole_blob_and_is_recorded_as_a_typed_error() {
    let packed = pack_two_versions(true);
    let (v1, v2) = (&packed.v1, &packed.v2);
    let path_of = |i: usize| {
        let (old, new) = (reading_blob(v1, READINGS[i]), reading_blob(v2, READINGS[i]));
        packed.out.join(patch_url_path(&old.hash, &new.hash))
    };
    // alpha: truncated; gamma: longer than declared; beta: made from another base (alpha's old
    // text) and listed with its true size by a mistaken publisher, who signs it.
    let (alpha, beta, gamma) = (path_of(0), path_of(1), path_of(2));
    let alpha_bytes = std::fs::read(&alpha).unwrap();
    std::fs::write(&alpha, &alpha_bytes[..alpha_bytes.len() - 5]).unwrap();
    let gamma_bytes = std::fs::read(&gamma).unwrap();
    std::fs::write(&gamma, [gamma_bytes.as_slice(), b"trailing junk"].concat()).unwrap();
    let dictionary = pack::patches::dictionary_of(&packed.out, v1).unwrap();
    let other_base =
        pack::patches::read_blob(&packed.out, &reading_blob(v1, READINGS[0]), dictionary.as_deref()).unwrap();
    let wrong = pack::patches::patch_bytes(&other_base, packed.texts2[1].as_bytes()).unwrap().unwrap();
    std::fs::write(&beta, &wrong).unwrap();
    let mut v2 = v2.clone();
    let beta_result = reading_blob(&v2, READINGS[1]).hash;
    v2.patches.iter_mut().find(|p| p.result == beta_result).unwrap().size = wrong.len() as u64;
    assert!((wrong.len() as u64) < reading_blob(&v2, READINGS[1]).stored_size, "still a patch worth listing");
    let envelope =
        satchel_core::content::signed::sign(serde_json::to_string(&v2).unwrap(), &test_publisher_key());
    pack::publish::publish_envelope(&packed.out.join("courses/upd"), &serde_json::to_vec(&envelope).unwrap())
        .unwrap();
    let v2 = &v2;

    let server = ServerProcess::serve(&packed.out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    let version_1 = republish(&packed.out);
    rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    download_course(&satchel, RenditionKind::Text);
    version_1.restore();
    rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    let summary = rt.block_on(satchel.run_downloads(60_000)).unwrap();
    assert_eq!((summary.completed, summary.failed, summary.remaining), (3, 0, 0), "{summary:?}");
    // Every lesson has its version-2 text, verified: the whole blobs replaced the bad patches.
    for (i, lesson) in READINGS.iter().enumerate() {
        assert_eq!(local_text(&satchel, lesson, RenditionKind::Text).unwrap(), packed.texts2[i], "{lesson}");
    }
    let mut kinds: Vec<(String, String)> = satchel
        .account()
        .store()
        .read(patch::failures)
        .unwrap()
        .into_iter()
        .map(|f| (f.result, f.kind))
        .collect();
    kinds.sort();
    let mut want = vec![
        (reading_blob(v2, READINGS[0]).hash, "truncated".to_owned()),
        (reading_blob(v2, READINGS[1]).hash, "beta".to_owned()),
        (reading_blob(v2, READINGS[2]).hash, "too_long".to_owned()),
    ];
    want.sort();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for ((result, kind), (want_result, want_kind)) in kinds.iter().zip(&want) {
        assert_eq!(result, want_result);
        if want_kind == "beta" {
            assert!(kind == "wrong_result" || kind == "corrupt", "a patch for another base: {kind}");
        } else {
            assert_eq!(kind, want_kind);
        }
    }
    // Nothing half-written was left behind.
    let tmp = dir.path().join("content/tmp");
    assert!(!tmp.exists() || std::fs::read_dir(&tmp).unwrap().count() == 0);
    drop(server);
}

#[test]
fn a_version_repacked_with_other_contents_keeps_the_envelope_the_phone_installed() {
    let packed = pack_two_versions(false);
    let server = ServerProcess::serve(&packed.out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    let installed = || {
        satchel
            .account()
            .store()
            .read(|c| satchel_core::content::course::installed_envelope(c, COURSE))
            .unwrap()
    };
    let before = installed().unwrap();

    // The publisher packs version 2 again with another reading, without raising the version
    // (which the packer refuses unless told to replace it).
    let src = packed._dir.path().join("src");
    write_source(&src, 2, &[packed.texts2[0].clone(), packed.texts2[1].clone(), reading("delta")]);
    let replace = pack::PackOptions { replace_version: true, ..pack::PackOptions::default() };
    pack::pack_with(&src, &packed.out, &test_publisher_key(), &replace).unwrap();
    let outcome = rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    assert_eq!((outcome.version, outcome.status), (2, ImportStatus::Unchanged));
    assert_eq!(installed().unwrap(), before, "the kept envelope must match the installed catalog and files");

    // Another envelope of the installed version with the same payload (re-signed, here written
    // out differently) is stored.
    let published = std::fs::read_to_string(packed.out.join("courses/upd/manifest.signed.json")).unwrap();
    assert_ne!(published, before);
    let payload: serde_json::Value = serde_json::from_str(&before).unwrap();
    let resigned = satchel_core::content::signed::sign(
        payload["payload"].as_str().unwrap().to_owned(),
        &test_publisher_key(),
    );
    let resigned = serde_json::to_vec_pretty(&resigned).unwrap();
    assert_ne!(resigned.as_slice(), before.as_bytes());
    pack::publish::publish_envelope(&packed.out.join("courses/upd"), &resigned).unwrap();
    rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    assert_eq!(installed().unwrap().as_bytes(), resigned.as_slice());
}

/// After an update, a lesson queued again counts what its run will fetch, as `enqueue` does: a
/// reading with no patch comes in the course's text pack (the lite rendition fetches its texts
/// that way), so it weighs the pack, not its own size. The run then moves exactly the bytes the
/// queue showed, which is what the data budget is checked against.
#[test]
fn a_requeued_reading_without_a_patch_counts_the_text_pack_it_comes_in() {
    let packed = pack_two_versions(true);
    // The publisher kept no patch for gamma (as for a reading rewritten so far that its patch
    // would be no smaller than the whole).
    let mut v2 = packed.v2.clone();
    let gamma = reading_blob(&v2, READINGS[2]);
    v2.patches.retain(|p| p.result != gamma.hash);
    assert_eq!(v2.patches.len(), 2, "alpha and beta keep theirs");
    let pack_blob = v2.text_pack.clone().expect("the lite texts come in a pack").blob;
    assert!(pack_blob.stored_size > gamma.stored_size);
    let envelope =
        satchel_core::content::signed::sign(serde_json::to_string(&v2).unwrap(), &test_publisher_key());
    pack::publish::publish_envelope(&packed.out.join("courses/upd"), &serde_json::to_vec(&envelope).unwrap())
        .unwrap();

    let server = ServerProcess::serve(&packed.out).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = phone_with_version_1(&packed, &server.base_url(), dir.path());
    let rt = runtime();
    download_course(&satchel, RenditionKind::Lite);
    let outcome = rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    assert_eq!((outcome.version, outcome.status), (2, ImportStatus::Updated));

    let requeued = rt.block_on(satchel.list_downloads(Some(COURSE.into()))).unwrap();
    assert_eq!(requeued.len(), 3, "{requeued:?}");
    assert!(
        requeued.iter().all(|d| d.state == satchel_core::downloads::DownloadState::Queued),
        "{requeued:?}"
    );
    let total_of = |lesson: &str| requeued.iter().find(|d| d.lesson_id == lesson).unwrap().bytes_total;
    for (i, lesson) in READINGS[..2].iter().enumerate() {
        let patch = v2.patches.iter().find(|p| p.result == reading_blob(&v2, READINGS[i]).hash).unwrap();
        assert_eq!(total_of(lesson), patch.size as i64, "{lesson} comes as its patch");
    }
    assert!(
        total_of(READINGS[2]) >= pack_blob.stored_size as i64,
        "gamma comes in the text pack of {} B, counted as {} B",
        pack_blob.stored_size,
        total_of(READINGS[2])
    );
    let estimate = rt
        .block_on(
            satchel
                .download_estimate(DownloadTarget::Course { course_id: COURSE.into() }, RenditionKind::Lite),
        )
        .unwrap();
    assert_eq!(estimate.bytes_to_fetch, requeued.iter().map(|d| d.bytes_total).sum::<i64>());

    let before = rt.block_on(satchel.data_usage()).unwrap().unmetered_bytes;
    let summary = rt.block_on(satchel.run_downloads(60_000)).unwrap();
    assert_eq!((summary.completed, summary.failed, summary.remaining), (3, 0, 0), "{summary:?}");
    let moved = rt.block_on(satchel.data_usage()).unwrap().unmetered_bytes - before;
    assert_eq!(moved, requeued.iter().map(|d| d.bytes_total).sum::<i64>(), "the queue showed what moved");
    for (i, lesson) in READINGS.iter().enumerate() {
        assert_eq!(local_text(&satchel, lesson, RenditionKind::Lite).unwrap(), packed.texts2[i], "{lesson}");
    }
}

/// A version once published keeps its contents: a phone that holds it would never take a
/// change made under the same version number, so the packer refuses one and leaves the
/// published course as it was. Packing the same source again changes nothing (packing is
/// reproducible), and `replace_version` is the explicit way out.
#[test]
fn packing_a_published_version_again_with_other_contents_is_refused() {
    let packed = pack_two_versions(false);
    let src = packed._dir.path().join("src");
    let course_dir = packed.out.join("courses/upd");
    let files =
        || ["manifest.signed.json", "manifest.sha256"].map(|f| std::fs::read(course_dir.join(f)).unwrap());
    let before = files();
    pack::pack(&src, &packed.out, &test_publisher_key()).unwrap();
    assert!(files() == before, "the same source packed again publishes the same bytes");

    write_source(&src, 2, &[packed.texts2[0].clone(), packed.texts2[1].clone(), reading("delta")]);
    let error = pack::pack(&src, &packed.out, &test_publisher_key()).unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("already published as version 2"), "{message}");
    assert!(message.contains("--replace-version"), "{message}");
    assert!(files() == before, "a refused pack leaves the published course as it was");

    let replace = pack::PackOptions { replace_version: true, ..pack::PackOptions::default() };
    pack::pack_with(&src, &packed.out, &test_publisher_key(), &replace).unwrap();
    assert!(files() != before);
    assert_ne!(reading_blob(&published(&packed.out), READINGS[2]), reading_blob(&packed.v2, READINGS[2]));
}

//! A course keeps its publisher (issue 16, case 2): two trusted keys, the reference server
//! serving whatever envelope the test writes, and the core fetching through its public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use satchel_core::catalog::ImportStatus;
use satchel_core::content::signed::{self, SignedManifest};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelConfig, SatchelError};
use satchel_tests::ServerProcess;

const COURSE: &str = "pinned";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn public(key: &SigningKey) -> String {
    signed::encode_public_key(&key.verifying_key())
}

fn payload(version: u32, title: &str) -> String {
    serde_json::json!({
        "format": 1, "id": COURSE, "version": version, "title": title,
        "modules": [{ "id": "pinned.m", "title": "M", "lessons": [
            { "id": "pinned.l", "title": "A reading", "kind": "reading" }
        ]}]
    })
    .to_string()
}

/// Publishes `envelope` as the course's manifest under `root`.
fn publish(root: &Path, envelope: &SignedManifest) {
    let dir = root.join("courses").join(COURSE);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("manifest.signed.json"), serde_json::to_vec(envelope).unwrap()).unwrap();
}

struct Setup {
    root: tempfile::TempDir,
    server: ServerProcess,
    satchel: Arc<Satchel>,
    _account: tempfile::TempDir,
}

/// An account trusting both publisher keys A (seed 1) and B (seed 2).
fn setup() -> Setup {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("courses")).unwrap();
    let server = ServerProcess::serve(root.path()).unwrap();
    let account = tempfile::tempdir().unwrap();
    let satchel = Satchel::open_blocking(
        account.path().to_str().unwrap().to_owned(),
        SatchelConfig {
            device_name: "t".into(),
            trusted_publisher_keys: vec![public(&key(1)), public(&key(2))],
        },
    )
    .unwrap();
    Setup { root, server, satchel, _account: account }
}

impl Setup {
    fn fetch(&self, envelope: &SignedManifest) -> Result<ImportStatus, SatchelError> {
        publish(self.root.path(), envelope);
        runtime().block_on(self.satchel.fetch_course(self.server.base_url(), COURSE.into())).map(|o| o.status)
    }

    fn installed(&self) -> (i32, String) {
        let outline = runtime().block_on(self.satchel.course_outline(COURSE.into())).unwrap();
        (outline.course.version, outline.course.title)
    }
}

fn integrity(result: Result<ImportStatus, SatchelError>, expected: &str) {
    match result {
        Err(SatchelError::Integrity { reason }) => assert!(reason.contains(expected), "{reason}"),
        other => panic!("expected an Integrity error saying {expected:?}, got {other:?}"),
    }
}

#[test]
fn another_trusted_key_cannot_replace_a_course_it_did_not_first_sign() {
    let s = setup();
    assert_eq!(s.fetch(&signed::sign(payload(1, "By A"), &key(1))).unwrap(), ImportStatus::Installed);
    integrity(s.fetch(&signed::sign(payload(2, "Taken over by B"), &key(2))), "published under another key");
    integrity(
        s.fetch(&signed::sign(payload(1, "Same version by B"), &key(2))),
        "published under another key",
    );
    assert_eq!(s.installed(), (1, "By A".into()), "the course is unchanged");
    // Its own publisher still updates it.
    assert_eq!(s.fetch(&signed::sign(payload(2, "A again"), &key(1))).unwrap(), ImportStatus::Updated);
}

#[test]
fn an_unsigned_import_cannot_replace_or_change_a_signed_course() {
    let s = setup();
    s.fetch(&signed::sign(payload(1, "By A"), &key(1))).unwrap();
    for (version, title) in [(2, "Unsigned update"), (1, "Unsigned same version"), (9, "Unsigned")] {
        match runtime().block_on(s.satchel.import_manifest(payload(version, title))) {
            Err(SatchelError::Integrity { reason }) => {
                assert!(reason.contains("unsigned import"), "{reason}")
            }
            other => panic!("expected an Integrity error, got {other:?}"),
        }
    }
    assert_eq!(s.installed(), (1, "By A".into()));
}

#[test]
fn an_unsigned_course_may_be_replaced_by_a_signed_one_which_then_pins_it() {
    let s = setup();
    runtime().block_on(s.satchel.import_manifest(payload(1, "Unsigned"))).unwrap();
    assert_eq!(s.fetch(&signed::sign(payload(2, "By B"), &key(2))).unwrap(), ImportStatus::Updated);
    integrity(s.fetch(&signed::sign(payload(3, "By A"), &key(1))), "published under another key");
    assert_eq!(s.installed(), (2, "By B".into()));
}

#[test]
fn a_rotation_signed_by_the_pinned_key_hands_the_course_over() {
    let s = setup();
    s.fetch(&signed::sign(payload(1, "By A"), &key(1))).unwrap();

    // A rotation to B signed by anyone but A is refused.
    let mut forged = signed::sign(payload(2, "By B, forged rotation"), &key(2));
    let mut rotation = signed::rotation(&key(3), &key(2).verifying_key());
    rotation.key = public(&key(1));
    forged.rotations.push(rotation);
    integrity(s.fetch(&forged), "rotation");
    assert_eq!(s.installed(), (1, "By A".into()));

    // A's own rotation to B moves the pin: B may publish, A no longer.
    let mut rotated = signed::sign(payload(2, "By B"), &key(2));
    rotated.rotations.push(signed::rotation(&key(1), &key(2).verifying_key()));
    assert_eq!(s.fetch(&rotated).unwrap(), ImportStatus::Updated);
    assert_eq!(
        s.fetch(&signed::sign(payload(3, "B without the rotation"), &key(2))).unwrap(),
        ImportStatus::Updated
    );
    integrity(
        s.fetch(&signed::sign(payload(4, "A after handing over"), &key(1))),
        "published under another key",
    );
    assert_eq!(s.installed(), (3, "B without the rotation".into()));
}

#[test]
fn satchel_server_rotate_hands_published_courses_over_to_the_new_key() {
    let s = setup();
    s.fetch(&signed::sign(payload(1, "By A"), &key(1))).unwrap();
    // The publisher packs with the new key, then signs the handover with the old one.
    publish(s.root.path(), &signed::sign(payload(2, "By B"), &key(2)));
    assert_eq!(satchel_server::rotate::rotate(s.root.path(), &key(1)).unwrap(), 1);
    assert_eq!(satchel_server::rotate::rotate(s.root.path(), &key(1)).unwrap(), 0, "idempotent");
    let status =
        runtime().block_on(s.satchel.fetch_course(s.server.base_url(), COURSE.into())).unwrap().status;
    assert_eq!(status, ImportStatus::Updated);
    assert_eq!(s.installed(), (2, "By B".into()));
    // A tree signed by the old key itself cannot be "rotated" to it.
    publish(s.root.path(), &signed::sign(payload(3, "By A"), &key(1)));
    assert!(satchel_server::rotate::rotate(s.root.path(), &key(1)).is_err());
}

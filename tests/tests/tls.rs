//! The core trusts its bundled Mozilla roots and nothing else, on every platform (see
//! core/src/http_client.rs: on Android the platform verifier would panic without a JNI hand-off).
//!
//! The proof runs here on the same code path as on a phone: nginx serves HTTPS on loopback with
//! a certificate from a test CA that this process's system trust store accepts (`SSL_CERT_FILE`,
//! which the platform verifier reads on Linux). curl, trusting that store, fetches from it; the
//! `satchel` CLI refuses the certificate, because the test CA is not among the bundled roots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use satchel_core::SatchelError;
use satchel_core::ffi::NetworkErrorKind;
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncOutcome, SyncStatus};
use satchel_tests::nginx::Nginx;
use satchel_tests::sample::test_public_key;
use satchel_tests::sync_device::Tokens;
use satchel_tests::{open_account, workspace_bin};

/// A CA and a certificate it signed for 127.0.0.1, made with the openssl command line.
fn test_ca(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let ca = ["-subj", "/CN=Satchel test CA", "-addext", "basicConstraints=critical,CA:TRUE"];
    let ca_files =
        ["-addext", "keyUsage=critical,keyCertSign", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"];
    run(&[&["req", "-x509"][..], &ec, &ca, &ca_files].concat());
    run(&[&["req"][..], &ec, &["-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"]].concat());
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
    (dir.join("ca.pem"), dir.join("leaf.pem"), dir.join("leaf.key"))
}

#[test]
fn a_certificate_only_the_system_store_trusts_is_refused_because_the_bundled_roots_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, certificate, key) = test_ca(dir.path());
    let root = dir.path().join("www/courses/web-basics");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("manifest.signed.json"), "{}").unwrap();
    let host = Nginx::serve_tls(&dir.path().join("www"), &certificate, &key).unwrap();
    let url = host.base_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // The set-up is sound: a client trusting the system store (here: the test CA) gets the file.
    let curl = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--cacert"])
        .arg(&ca)
        .arg(format!("{url}courses/web-basics/manifest.signed.json"))
        .output()
        .expect("curl is installed");
    assert!(curl.status.success(), "curl: {}", String::from_utf8_lossy(&curl.stderr));
    assert_eq!(curl.stdout, b"{}");

    // Satchel, with the same system store, refuses the certificate during the handshake: a
    // network failure (exit 7) naming the certificate. With the platform verifier (reqwest's
    // default) the handshake succeeds and the fetch fails later, on "{}" not being a signed
    // manifest (exit 6): checked by hand when this test was written.
    let account = dir.path().join("account");
    let out = Command::new(workspace_bin("satchel").unwrap())
        .arg("--account")
        .arg(&account)
        .args(["fetch", "--publisher-key", &test_public_key(), &url, "web-basics"])
        .env("SSL_CERT_FILE", &ca)
        .env("SSL_CERT_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "a network failure: {stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "the certificate is what was refused: {stderr}");
}

/// A refused certificate is a kind of its own, which an app can act on ("check your phone's
/// date and time": the usual cause on a learner's phone), for content and for sync alike.
#[test]
fn a_refused_certificate_is_its_own_error_kind_for_content_and_sync() {
    let dir = tempfile::tempdir().unwrap();
    let (_ca, certificate, key) = test_ca(dir.path());
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    let host = Nginx::serve_tls(&dir.path().join("www"), &certificate, &key).unwrap();
    let satchel = open_account(&dir.path().join("account"), vec![test_public_key()]).unwrap();

    let fetched = runtime().block_on(satchel.fetch_course(host.base_url(), "web-basics".into()));
    match fetched {
        Err(SatchelError::Network { kind, reason, .. }) => {
            assert_eq!(kind, NetworkErrorKind::CertificateRejected, "{reason}");
        }
        other => panic!("expected a refused certificate, got {other:?}"),
    }

    satchel.configure_sync(host.base_url(), Tokens::new("a-token".into())).unwrap();
    let report = runtime().block_on(satchel.sync(10_000)).unwrap();
    match report.outcome {
        SyncOutcome::Failed { kind, reason, .. } => {
            assert_eq!(kind, NetworkErrorKind::CertificateRejected, "{reason}");
        }
        other => panic!("expected a refused certificate, got {other:?}"),
    }
    assert!(
        matches!(
            satchel.sync_status().status,
            SyncStatus::Error { kind: NetworkErrorKind::CertificateRejected, .. }
        ),
        "{:?}",
        satchel.sync_status()
    );
}

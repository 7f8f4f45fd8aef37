//! The operator commands through the real binary: `sync-secret`, `sync-token`,
//! `serve --sync-db --sync-secret --grading`, and `sync-new-epoch`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use satchel_protocol::messages::{ErrorBody, ErrorCode, RegisterRequest, RegisterResponse};

const BIN: &str = env!("CARGO_BIN_EXE_satchel-server");

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(args: &[&str]) -> String {
    let output = Command::new(BIN).args(args).output().expect("run satchel-server");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

fn serve(args: &[&str]) -> (Serving, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("first line");
    let base = line.trim().strip_prefix("listening on ").expect("listening line").to_owned();
    (Serving(child), base)
}

async fn register(base: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/sync/v1/devices"))
        .header("Satchel-Protocol", "1")
        .bearer_auth(token)
        .json(&RegisterRequest::new("phone", "p"))
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn an_operator_starts_sync_mints_a_token_and_renews_the_epoch() {
    support::install_crypto();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::create_dir_all(dir.path().join("www")).expect("www");
    std::fs::create_dir_all(dir.path().join("grading")).expect("grading");
    run(&["sync-secret", "--out", &path("sync.secret")]);
    let refused =
        Command::new(BIN).args(["sync-secret", "--out", &path("sync.secret")]).output().expect("run");
    assert!(!refused.status.success(), "an existing secret is never overwritten");
    let token =
        run(&["sync-token", "--learner", "amina", "--ttl-s", "600", "--secret", &path("sync.secret")]);
    assert!(token.starts_with("amina:"));

    let (server, base) = serve(&[
        &path("www"),
        "--listen",
        "127.0.0.1:0",
        "--sync-db",
        &path("sync.db"),
        "--sync-secret",
        &path("sync.secret"),
        "--grading",
        &path("grading"),
    ]);
    let response = register(&base, &token).await;
    assert_eq!(response.status(), 200);
    let first: RegisterResponse = response.json().await.expect("register");
    let response = register(&base, "amina:1:AAAA").await;
    assert_eq!(response.status(), 401);
    let body: ErrorBody = response.json().await.expect("error");
    assert_eq!(body.code, ErrorCode::Unauthorized);
    drop(server);

    let epoch = run(&["sync-new-epoch", "--sync-db", &path("sync.db")]);
    assert_ne!(epoch, first.epoch);
    let (_server, base) = serve(&[
        &path("www"),
        "--listen",
        "127.0.0.1:0",
        "--sync-db",
        &path("sync.db"),
        "--sync-secret",
        &path("sync.secret"),
    ]);
    let again: RegisterResponse = register(&base, &token).await.json().await.expect("register");
    assert_eq!(again.epoch, epoch);

    // Without --sync-db the sync routes are not there: the path is plain static content.
    let (_static_only, base) = serve(&[&path("www"), "--listen", "127.0.0.1:0"]);
    assert_eq!(register(&base, &token).await.status(), 405);
    // sync-new-epoch on a missing database says so instead of creating one.
    let missing =
        Command::new(BIN).args(["sync-new-epoch", "--sync-db", &path("nope.db")]).output().expect("run");
    assert!(!missing.status.success());
    assert!(!dir.path().join("nope.db").exists());
}

//! The sync API over real HTTP on loopback: the protocol's happy path, every kind of bad input,
//! isolation between learners, limits, and the reset handshakes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use reqwest::StatusCode;
use satchel_protocol::Record;
use satchel_protocol::messages::{
    ErrorCode, MAX_FUTURE_SKEW_MS, MAX_PUSH_BYTES, Op, Outcome, PROTOCOL_VERSION, PullResponse, PushRequest,
    PushResponse, RegisterRequest, RejectCode,
};
use satchel_server::grading::AnswerKeys;
use satchel_server::sync::auth::{self, TokenKey};
use satchel_server::sync::rate_limit::RateLimit;
use support::{hlc, note, ops, setting, start};

const PUSH: &str = "sync/v1/push";

/// What a bad body is, its bytes, and the headers it is sent with.
type BadBody = (&'static str, Vec<u8>, Vec<(&'static str, &'static str)>);

fn now_ms() -> i64 {
    satchel_server::sync::now_ms()
}

#[tokio::test]
async fn two_devices_sync_through_zstd_bodies_and_small_answers_stay_plain() {
    let server = start().await;
    let registered = server.register("amina", "phone-1").await;
    assert_eq!(registered.next_seq, 1);
    server.register("amina", "phone-2").await;
    let big: Vec<Record> =
        (0..40).map(|i| note(&format!("n{i}"), &"words ".repeat(100), now_ms(), "phone-1").into()).collect();
    // The client harness compresses bodies ≥ 1 KiB: this push travels as zstd.
    let pushed = server.push_ok("amina", "phone-1", ops(1, big)).await;
    assert_eq!(pushed.applied_through, 40);
    assert_eq!(pushed.epoch, registered.epoch);

    let answer = server.pull("amina", "phone-2", None, 0).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers.get("content-encoding").map(|v| v.as_bytes()), Some(&b"zstd"[..]));
    let page: PullResponse = answer.decode();
    assert_eq!(page.records.len(), 40);
    assert!(answer.body.len() < 40 * 600 / 4, "compressed: {} bytes", answer.body.len());

    // A tiny answer is not worth compressing.
    let small = server.post("sync/v1/devices", "amina", &RegisterRequest::new("phone-2", "p")).await;
    assert!(small.headers.get("content-encoding").is_none());
    // Without Accept-Encoding: zstd, even a large answer comes back plain.
    let request = serde_json::json!({
        "protocol": 1, "device_id": "phone-2", "epoch": null, "cursor": 0, "max_bytes": 0
    });
    let plain = server
        .post_raw("sync/v1/pull", Some(&server.token("amina")), request.to_string().into_bytes(), &[])
        .await;
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.decode::<PullResponse>().records.len(), 40);
}

#[tokio::test]
async fn static_content_is_still_served_beside_the_sync_api() {
    let server = start().await;
    let response = server.http.get(format!("{}/hello.txt", server.base)).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("etag").is_some());
    assert_eq!(response.text().await.expect("text"), "static content");
    let missing = server.http.get(format!("{}/sync/v1/nothing", server.base)).send().await.expect("get");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn missing_expired_forged_and_garbage_tokens_are_401() {
    let server = start().await;
    let body = serde_json::to_vec(&RegisterRequest::new("phone", "p")).expect("json");
    let expired = server.key.mint("amina", auth::now_s() - 1).expect("mint");
    let foreign =
        TokenKey::from_bytes(&[1u8; 32]).expect("key").mint("amina", auth::now_s() + 60).expect("mint");
    let cases: [Option<&str>; 4] = [None, Some(&expired), Some(&foreign), Some("amina:99999999999:AAAA")];
    for token in cases {
        let answer = server.post_raw("sync/v1/devices", token, body.clone(), &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{token:?}");
        let error = answer.error();
        assert_eq!(error.code, ErrorCode::Unauthorized);
        if let Some(token) = token {
            assert!(!error.message.contains(token), "an error never echoes the token");
        }
    }
    assert_eq!(server.store().stats().await.expect("stats").devices, 0);
}

#[tokio::test]
async fn a_token_for_one_learner_never_reaches_another() {
    let server = start().await;
    server.register("amina", "amina-phone").await;
    server
        .push_ok(
            "amina",
            "amina-phone",
            ops(1, vec![note("n1", "amina's secret", now_ms(), "amina-phone").into()]),
        )
        .await;

    // Bilal's token with Amina's device id: unknown device, nothing about Amina revealed.
    for answer in [
        server.pull("bilal", "amina-phone", None, 0).await,
        server
            .push("bilal", "amina-phone", None, ops(1, vec![setting("x", 1, now_ms(), "amina-phone")]))
            .await,
    ] {
        assert_eq!(answer.status, StatusCode::CONFLICT);
        let error = answer.error();
        assert_eq!(error.code, ErrorCode::UnknownDevice);
        assert!(!String::from_utf8_lossy(&answer.body).contains("amina"));
    }
    // Registering the same device id under Bilal gives Bilal an empty, separate history.
    assert_eq!(server.register("bilal", "amina-phone").await.next_seq, 1);
    let (records, cursor) = server.pull_all("bilal", "amina-phone", 0).await;
    assert!(records.is_empty());
    assert_eq!(cursor, 0);
    let (amina, _) = server.pull_all("amina", "amina-phone", 0).await;
    assert_eq!(amina.len(), 1);
}

#[tokio::test]
async fn unknown_protocol_versions_are_refused() {
    let server = start().await;
    let token = server.token("amina");
    let body = serde_json::to_vec(&RegisterRequest::new("phone", "p")).expect("json");
    let request = |version: Option<&'static str>| {
        let mut r = server
            .http
            .post(format!("{}/sync/v1/devices", server.base))
            .bearer_auth(&token)
            .body(body.clone());
        if let Some(v) = version {
            r = r.header("Satchel-Protocol", v);
        }
        r
    };
    for version in [None, Some("2"), Some("one")] {
        let response = request(version).send().await.expect("send");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error: satchel_protocol::messages::ErrorBody = response.json().await.expect("error body");
        assert_eq!(error.code, ErrorCode::UnsupportedVersion, "{version:?}");
    }
    // The header says 1 but the body says 2.
    let mut v2 = RegisterRequest::new("phone", "p");
    v2.protocol = 2;
    let answer = server.post("sync/v1/devices", "amina", &v2).await;
    assert_eq!(answer.error().code, ErrorCode::UnsupportedVersion);
}

#[tokio::test]
async fn malformed_truncated_nested_and_not_zstd_bodies_are_malformed_and_change_nothing() {
    let server = start().await;
    server.register("amina", "phone").await;
    let token = server.token("amina");
    let valid = serde_json::to_vec(&PushRequest {
        protocol: PROTOCOL_VERSION,
        device_id: "phone".into(),
        epoch: None,
        ops: ops(1, vec![setting("a", 1, now_ms(), "phone")]),
    })
    .expect("json");
    let compressed = zstd::bulk::compress(&valid, 3).expect("zstd");
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let mut unknown_field: serde_json::Value = serde_json::from_slice(&valid).expect("value");
    unknown_field["extra"] = serde_json::json!(true);
    let cases: Vec<BadBody> = vec![
        ("not json", b"hello".to_vec(), vec![]),
        ("truncated json", valid[..valid.len() / 2].to_vec(), vec![]),
        ("deeply nested", nested, vec![]),
        ("unknown field", serde_json::to_vec(&unknown_field).expect("json"), vec![]),
        ("wrong shape", br#"{"protocol":1,"device_id":"phone"}"#.to_vec(), vec![]),
        ("not zstd", valid.clone(), vec![("content-encoding", "zstd")]),
        ("truncated zstd", compressed[..compressed.len() - 8].to_vec(), vec![("content-encoding", "zstd")]),
        ("unknown encoding", valid.clone(), vec![("content-encoding", "gzip")]),
        ("empty", Vec::new(), vec![]),
    ];
    for (what, body, headers) in cases {
        let answer = server.post_raw(PUSH, Some(&token), body, &headers).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(answer.error().code, ErrorCode::Malformed, "{what}");
    }
    assert_eq!(server.store().stats().await.expect("stats").ops, 0);
    // The same body, well formed and compressed, goes through.
    let answer = server.post_raw(PUSH, Some(&token), compressed, &[("content-encoding", "zstd")]).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn oversized_bodies_and_zstd_bombs_are_too_large() {
    let server = start().await;
    server.register("amina", "phone").await;
    let token = server.token("amina");
    let huge = vec![b' '; MAX_PUSH_BYTES + 1];
    let answer = server.post_raw(PUSH, Some(&token), huge, &[]).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.error().code, ErrorCode::TooLarge);
    // A few KiB on the wire that would inflate to 64 MiB.
    let bomb = zstd::bulk::compress(&vec![b' '; 64 << 20], 19).expect("zstd");
    assert!(bomb.len() < 64 * 1024);
    let answer = server.post_raw(PUSH, Some(&token), bomb, &[("content-encoding", "zstd")]).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.error().code, ErrorCode::TooLarge);
    // Too many ops in one batch.
    let many = ops(1, (0..1001).map(|i| setting(&format!("k{i}"), 1, now_ms(), "phone")).collect());
    let answer = server.push("amina", "phone", None, many).await;
    assert_eq!(answer.error().code, ErrorCode::TooLarge);
    assert_eq!(server.store().stats().await.expect("stats").ops, 0);
}

#[tokio::test]
async fn seq_gaps_duplicates_and_refused_batches_apply_nothing_half_way() {
    let server = start().await;
    server.register("amina", "phone").await;
    let first = ops(1, vec![setting("a", 1, now_ms(), "phone"), setting("b", 1, now_ms(), "phone")]);
    server.push_ok("amina", "phone", first.clone()).await;

    let again = server.push_ok("amina", "phone", first).await;
    assert!(again.results.iter().all(|r| r.outcome == Outcome::Duplicate));

    let gap = server.push("amina", "phone", None, ops(5, vec![setting("c", 1, now_ms(), "phone")])).await;
    assert_eq!(gap.status, StatusCode::CONFLICT);
    let error = gap.error();
    assert_eq!((error.code, error.expected_seq), (ErrorCode::SeqGap, Some(3)));

    // A batch with a bad op id in the middle is refused whole: its first op is not applied.
    let mut batch = ops(3, (0..3).map(|i| setting(&format!("c{i}"), 1, now_ms(), "phone")).collect());
    batch[1].op_id = "not-a-uuid".into();
    let refused = server.push("amina", "phone", None, batch).await;
    assert_eq!(refused.error().code, ErrorCode::Malformed);
    let stats = server.store().stats().await.expect("stats");
    assert_eq!((stats.ops, stats.records), (2, 2));
    assert_eq!(server.register("amina", "phone").await.next_seq, 3);
}

#[tokio::test]
async fn a_poison_op_mid_batch_is_rejected_and_the_rest_applies() {
    let server = start().await;
    server.register("amina", "phone").await;
    let mut poison = note("bad", "small", now_ms(), "phone");
    poison.body.heads.values_mut().for_each(|v| v.text = "x".repeat(70 * 1024));
    let response: PushResponse = server
        .push_ok(
            "amina",
            "phone",
            ops(
                1,
                vec![setting("a", 1, now_ms(), "phone"), poison.into(), setting("b", 1, now_ms(), "phone")],
            ),
        )
        .await;
    assert_eq!(response.applied_through, 3);
    assert!(
        matches!(&response.results[1].outcome, Outcome::Rejected { code: RejectCode::TooLarge, .. }),
        "{response:?}"
    );
    assert_eq!(response.results[0].outcome, Outcome::Applied);
    assert_eq!(response.results[2].outcome, Outcome::Applied);
    assert_eq!(server.pull_all("amina", "phone", 0).await.0.len(), 2);
}

#[tokio::test]
async fn too_many_requests_get_429_with_retry_after() {
    let server = support::start_with(RateLimit { burst: 3.0, per_second: 0.1 }, AnswerKeys::default()).await;
    for _ in 0..3 {
        server.register("amina", "phone").await;
    }
    let answer = server.post("sync/v1/devices", "amina", &RegisterRequest::new("phone", "p")).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u32 = answer.headers["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert!((1..=10).contains(&retry), "{retry}");
    assert_eq!(answer.error().retry_after_s, Some(retry));
    // Another learner has their own allowance.
    server.register("bilal", "phone").await;
}

#[tokio::test]
async fn future_stamps_are_clamped_and_reported() {
    let server = start().await;
    server.register("amina", "phone").await;
    let before = now_ms();
    let response = server
        .push_ok("amina", "phone", ops(1, vec![setting("goal", 3, before + 86_400_000, "phone")]))
        .await;
    let clamped_to = response.results[0].clamped_to.expect("clamped");
    assert!((before + MAX_FUTURE_SKEW_MS..=now_ms() + MAX_FUTURE_SKEW_MS).contains(&clamped_to));
    let (records, _) = server.pull_all("amina", "phone", 0).await;
    assert_eq!(records[0].max_hlc().map(|h| h.wall_ms), Some(clamped_to));
}

#[tokio::test]
async fn a_cursor_older_than_the_tombstone_horizon_gets_reset_required() {
    let server = start().await;
    server.register("amina", "phone-1").await;
    server.register("amina", "phone-2").await;
    let mut gone = note("gone", "bye", now_ms(), "phone-1");
    server
        .push_ok("amina", "phone-1", ops(1, vec![setting("a", 1, now_ms(), "phone-1"), gone.clone().into()]))
        .await;
    gone.set_deleted(true, hlc(now_ms() + 10, "phone-1")).expect("delete");
    server.push_ok("amina", "phone-1", ops(3, vec![gone.into()])).await;
    for device in ["phone-1", "phone-2"] {
        let (_, through) = server.pull_all("amina", device, 0).await;
        server.pull_all("amina", device, through).await;
    }
    let purged = server.store().purge_tombstones(now_ms()).await.expect("purge");
    assert_eq!(purged.tombstones, 1);
    let answer = server.pull("amina", "phone-2", None, 1).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.error().code, ErrorCode::ResetRequired);
    let (fresh, _) = server.pull_all("amina", "phone-2", 0).await;
    assert_eq!(fresh.len(), 1, "pulling from 0 after the reset never brings the deleted note back");
}

#[tokio::test]
async fn a_server_restored_from_an_older_copy_is_detected() {
    let server = start().await;
    let epoch = server.register("amina", "phone").await.epoch;
    server.push_ok("amina", "phone", ops(1, vec![setting("a", 1, now_ms(), "phone")])).await;
    // The operator's backup, taken now.
    let backup = tempfile::tempdir().expect("tempdir");
    server.service.store.stats().await.expect("stats"); // everything committed
    let copy = backup.path().join("sync.db");
    {
        let source = rusqlite::Connection::open(&server.db).expect("open");
        source.execute("VACUUM INTO ?1", [copy.to_string_lossy()]).expect("backup");
    }
    server
        .push_ok(
            "amina",
            "phone",
            ops(2, vec![setting("b", 1, now_ms(), "phone"), setting("c", 1, now_ms(), "phone")]),
        )
        .await;
    let (_, cursor) = server.pull_all("amina", "phone", 0).await;
    assert_eq!(cursor, 3);
    drop(server);

    // Restored without a new epoch: the device's cursor is ahead of the server's.
    let restored = support::start_on(backup, RateLimit::default(), AnswerKeys::default()).await;
    let answer = restored.pull("amina", "phone", Some(epoch.clone()), cursor).await;
    assert_eq!(answer.error().code, ErrorCode::ResetRequired);
    // Its pushes leave a gap the client can see (it has acknowledged seq 3, the server expects 2).
    let gap = restored
        .push("amina", "phone", Some(epoch.clone()), ops(4, vec![setting("d", 1, now_ms(), "phone")]))
        .await;
    assert_eq!(gap.error().expected_seq, Some(2));

    // With a new epoch (what `sync-new-epoch` does) every request with the old one resets.
    let new_epoch = restored.store().new_epoch().await.expect("new epoch");
    let answer = restored.pull("amina", "phone", Some(epoch.clone()), 0).await;
    assert_eq!(answer.error().code, ErrorCode::ResetRequired);
    let answer = restored.push("amina", "phone", Some(epoch), vec![]).await;
    assert_eq!(answer.error().code, ErrorCode::ResetRequired);
    // The handshake: re-register (next_seq from the restored state), resend, pull from 0.
    let registered = restored.register("amina", "phone").await;
    assert_eq!((registered.epoch.as_str(), registered.next_seq), (new_epoch.as_str(), 2));
    let resent: Vec<Op> =
        ops(2, vec![setting("b", 1, now_ms(), "phone"), setting("c", 1, now_ms(), "phone")]);
    let response = restored.push("amina", "phone", Some(new_epoch), resent).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(restored.pull_all("amina", "phone", 0).await.0.len(), 3);
}

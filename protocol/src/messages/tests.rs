use super::*;
use crate::hlc::Hlc;
use crate::records::{EnrollmentRecord, RecordError};

fn op(seq: u64, op_id: &str) -> Op {
    let hlc = Hlc { wall_ms: 1, counter: 0, device: "d1".into() };
    Op { op_id: op_id.into(), seq, record: EnrollmentRecord::new("c1", 1, hlc).unwrap().into() }
}

const UUID_A: &str = "0190f2c4-7b1e-7c3a-9d2e-1f2a3b4c5d6e";
const UUID_B: &str = "0190f2c4-7b1e-7c3a-9d2e-1f2a3b4c5d6f";
const UUID_C: &str = "0190F2C4-7B1E-7C3A-9D2E-1F2A3B4C5D70";

fn push(ops: Vec<Op>) -> PushRequest {
    PushRequest { protocol: PROTOCOL_VERSION, device_id: "d1".into(), epoch: Some("e1".into()), ops }
}

#[test]
fn a_consecutive_batch_is_valid() {
    assert_eq!(push(vec![op(4, UUID_A), op(5, UUID_B), op(6, UUID_C)]).validate(), Ok(()));
    assert_eq!(push(vec![op(1, UUID_A)]).validate(), Ok(()));
    assert_eq!(push(vec![]).validate(), Ok(()));
    assert_eq!(PushRequest { epoch: None, ..push(vec![]) }.validate(), Ok(()));
}

#[test]
fn bad_batches_are_refused_with_the_op_index() {
    assert_eq!(push(vec![op(0, UUID_A)]).validate(), Err(MessageError::BadSeq(0)));
    assert_eq!(push(vec![op(4, UUID_A), op(6, UUID_B)]).validate(), Err(MessageError::BadSeq(1)));
    assert_eq!(push(vec![op(4, UUID_A), op(4, UUID_B)]).validate(), Err(MessageError::BadSeq(1)));
    assert_eq!(push(vec![op(5, UUID_A), op(4, UUID_B)]).validate(), Err(MessageError::BadSeq(1)));
    assert_eq!(push(vec![op(u64::MAX, UUID_A), op(0, UUID_B)]).validate(), Err(MessageError::BadSeq(1)));
    assert_eq!(push(vec![op(1, UUID_A), op(2, UUID_A)]).validate(), Err(MessageError::DuplicateOpId(1)));
    assert_eq!(
        push(vec![op(1, UUID_A), op(2, &UUID_A.to_ascii_uppercase())]).validate(),
        Err(MessageError::DuplicateOpId(1)),
        "a UUID in another case is the same op"
    );
    for bad in [
        "",
        "not-a-uuid",
        &UUID_A[..35],
        &format!("{UUID_A}0"),
        "0190f2c4x7b1e-7c3a-9d2e-1f2a3b4c5d6e",
        "0190f2c4-7b1e-7c3a-9d2e-1f2a3b4c5d6g",
    ] {
        assert_eq!(push(vec![op(1, bad)]).validate(), Err(MessageError::BadOpId(0)), "{bad:?}");
    }
    assert_eq!(PushRequest { protocol: 2, ..push(vec![]) }.validate(), Err(MessageError::WrongVersion(2)));
    assert_eq!(
        PushRequest { device_id: "a/b".into(), ..push(vec![]) }.validate(),
        Err(MessageError::InvalidId("device_id"))
    );
    assert_eq!(
        PushRequest { epoch: Some("".into()), ..push(vec![]) }.validate(),
        Err(MessageError::InvalidId("epoch"))
    );
    assert_eq!(
        PushRequest { epoch: Some("e".repeat(65)), ..push(vec![]) }.validate(),
        Err(MessageError::InvalidId("epoch"))
    );
    assert_eq!(PushRequest { epoch: Some("e".repeat(64)), ..push(vec![]) }.validate(), Ok(()));
}

#[test]
fn too_many_ops_is_too_large() {
    let ids: Vec<String> =
        (0..=MAX_OPS_PER_PUSH).map(|i| format!("0190f2c4-7b1e-7c3a-9d2e-{i:012x}")).collect();
    let ops: Vec<Op> = ids.iter().enumerate().map(|(i, id)| op(i as u64 + 1, id)).collect();
    let err = push(ops.clone()).validate().unwrap_err();
    assert_eq!(err, MessageError::TooLarge { field: "ops", actual: 1_001, limit: 1_000 });
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert_eq!(push(ops[..MAX_OPS_PER_PUSH].to_vec()).validate(), Ok(()));
}

#[test]
fn message_errors_map_to_codes() {
    assert_eq!(MessageError::WrongVersion(9).code(), ErrorCode::UnsupportedVersion);
    assert_eq!(MessageError::BadSeq(0).code(), ErrorCode::Malformed);
    assert_eq!(MessageError::InvalidId("device_id").code(), ErrorCode::Malformed);
}

#[test]
fn register_validation() {
    assert_eq!(RegisterRequest::new("d1", "Amina's phone").validate(), Ok(()));
    assert_eq!(RegisterRequest::new("d1", "").validate(), Ok(()));
    assert_eq!(RegisterRequest::new("d1", &"é".repeat(64)).validate(), Ok(()));
    assert_eq!(RegisterRequest::new("d1", &"é".repeat(65)).validate(), Err(MessageError::BadDeviceName));
    assert_eq!(RegisterRequest::new("d1", "a\nb").validate(), Err(MessageError::BadDeviceName));
    assert_eq!(RegisterRequest::new("", "x").validate(), Err(MessageError::InvalidId("device_id")));
    let wrong = RegisterRequest { protocol: 0, ..RegisterRequest::new("d1", "x") };
    assert_eq!(wrong.validate(), Err(MessageError::WrongVersion(0)));
}

#[test]
fn pull_page_size_is_capped() {
    let pull =
        |max_bytes| PullRequest { protocol: 1, device_id: "d".into(), epoch: None, cursor: 0, max_bytes };
    assert_eq!(pull(0).page_bytes(), DEFAULT_PULL_PAGE_BYTES);
    assert_eq!(pull(1).page_bytes(), 1);
    assert_eq!(pull(MAX_PULL_PAGE_BYTES).page_bytes(), MAX_PULL_PAGE_BYTES);
    assert_eq!(pull(MAX_PULL_PAGE_BYTES + 1).page_bytes(), MAX_PULL_PAGE_BYTES);
    assert_eq!(pull(u32::MAX).validate(), Ok(()));
    assert_eq!(PullRequest { protocol: 3, ..pull(0) }.validate(), Err(MessageError::WrongVersion(3)));
    assert_eq!(
        PullRequest { device_id: "".into(), ..pull(0) }.validate(),
        Err(MessageError::InvalidId("device_id"))
    );
    assert_eq!(
        PullRequest { epoch: Some("a b".into()), ..pull(0) }.validate(),
        Err(MessageError::InvalidId("epoch"))
    );
}

#[test]
fn error_codes_have_statuses_and_actions() {
    use ClientAction::*;
    let table = [
        (ErrorCode::Unauthorized, 401, RefreshToken),
        (ErrorCode::Forbidden, 403, Stop),
        (ErrorCode::UnsupportedVersion, 400, Stop),
        (ErrorCode::Malformed, 400, Stop),
        (ErrorCode::TooLarge, 413, Stop),
        (ErrorCode::RateLimited, 429, Retry),
        (ErrorCode::SeqGap, 409, ResendFromExpected),
        (ErrorCode::UnknownDevice, 409, Register),
        (ErrorCode::ResetRequired, 409, Reset),
        (ErrorCode::Unavailable, 503, Retry),
        (ErrorCode::Internal, 500, Retry),
        (ErrorCode::Unknown, 500, Retry),
    ];
    for (code, status, action) in table {
        assert_eq!(code.http_status(), status, "{code:?}");
        assert_eq!(code.client_action(), action, "{code:?}");
    }
}

#[test]
fn error_body_wire_form() {
    let body = ErrorBody { expected_seq: Some(12), ..ErrorBody::new(ErrorCode::SeqGap, "expected seq 12") };
    let json = serde_json::to_string(&body).unwrap();
    assert_eq!(json, r#"{"code":"seq_gap","message":"expected seq 12","expected_seq":12}"#);
    assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), body);
    let newer: ErrorBody = serde_json::from_str(r#"{"code":"quota_exceeded","message":"m"}"#).unwrap();
    assert_eq!(newer.code, ErrorCode::Unknown, "a newer server's code is not a decode failure");
    assert!(serde_json::from_str::<ErrorBody>(r#"{"code":"internal","message":"m","extra":1}"#).is_err());
}

#[test]
fn op_results_wire_form() {
    let applied = OpResult { seq: 3, outcome: Outcome::Applied, clamped_to: Some(99) };
    assert_eq!(
        serde_json::to_string(&applied).unwrap(),
        r#"{"seq":3,"outcome":{"status":"applied"},"clamped_to":99}"#
    );
    let duplicate = OpResult { seq: 4, outcome: Outcome::Duplicate, clamped_to: None };
    assert_eq!(serde_json::to_string(&duplicate).unwrap(), r#"{"seq":4,"outcome":{"status":"duplicate"}}"#);
    let rejected = OpResult::rejected(5, &RecordError::TooLarge { field: "body text", actual: 9, limit: 8 });
    assert_eq!(
        serde_json::to_string(&rejected).unwrap(),
        r#"{"seq":5,"outcome":{"status":"rejected","code":"too_large","reason":"body text is too large: 9 > 8"}}"#
    );
    let invalid = OpResult::rejected(6, &RecordError::InvalidId { field: "note_id" });
    assert!(
        matches!(&invalid.outcome, Outcome::Rejected { code: RejectCode::InvalidRecord, reason } if reason.contains("note_id"))
    );
    for result in [applied, duplicate, rejected, invalid] {
        let text = serde_json::to_string(&result).unwrap();
        assert_eq!(serde_json::from_str::<OpResult>(&text).unwrap(), result);
    }
    let newer: OpResult =
        serde_json::from_str(r#"{"seq":1,"outcome":{"status":"rejected","code":"quota","reason":"r"}}"#)
            .unwrap();
    assert!(matches!(newer.outcome, Outcome::Rejected { code: RejectCode::Other, .. }));
}

#[test]
fn push_round_trips_and_is_strict() {
    let request = push(vec![op(1, UUID_A)]);
    let text = serde_json::to_string(&request).unwrap();
    assert!(text.contains(r#""record":{"kind":"enrollment","course_id":"c1""#), "{text}");
    assert_eq!(serde_json::from_str::<PushRequest>(&text).unwrap(), request);
    let extra = text.replacen("\"seq\":1", "\"seq\":1,\"priority\":2", 1);
    assert!(serde_json::from_str::<PushRequest>(&extra).is_err(), "unknown op field");
    let extra_in_record = text.replacen("\"course_id\":\"c1\"", "\"course_id\":\"c1\",\"x\":1", 1);
    assert!(serde_json::from_str::<PushRequest>(&extra_in_record).is_err(), "unknown record field");
    let unknown_kind = text.replacen("\"kind\":\"enrollment\"", "\"kind\":\"badge\"", 1);
    assert!(serde_json::from_str::<PushRequest>(&unknown_kind).is_err());
}

#[test]
fn responses_round_trip() {
    let register = RegisterResponse { protocol: 1, epoch: "e1".into(), next_seq: 1, server_time_ms: 5 };
    let text = serde_json::to_string(&register).unwrap();
    assert_eq!(serde_json::from_str::<RegisterResponse>(&text).unwrap(), register);
    let push = PushResponse {
        protocol: 1,
        epoch: "e1".into(),
        applied_through: 7,
        results: vec![OpResult { seq: 7, outcome: Outcome::Applied, clamped_to: None }],
        server_time_ms: 5,
    };
    let text = serde_json::to_string(&push).unwrap();
    assert_eq!(serde_json::from_str::<PushResponse>(&text).unwrap(), push);
    let pull = PullResponse {
        protocol: 1,
        epoch: "e1".into(),
        records: vec![PulledRecord { cursor: 9, record: op(1, UUID_A).record }],
        next_cursor: 9,
        more: false,
        server_time_ms: 5,
    };
    let text = serde_json::to_string(&pull).unwrap();
    assert_eq!(serde_json::from_str::<PullResponse>(&text).unwrap(), pull);
}

/// The limits docs/protocol.md promises.
#[test]
fn limits_match_the_spec() {
    assert_eq!(MAX_OPS_PER_PUSH, 1000);
    assert_eq!(MAX_PUSH_BYTES, 4 << 20);
    assert_eq!(MAX_REGISTER_BYTES, 4 << 10);
    assert_eq!(MAX_PULL_REQUEST_BYTES, 4 << 10);
    assert_eq!(DEFAULT_PULL_PAGE_BYTES, 256 << 10);
    assert_eq!(MAX_PULL_PAGE_BYTES, 1 << 20);
    assert_eq!(MAX_RESPONSE_BYTES, 16 << 20);
    assert_eq!(MAX_FUTURE_SKEW_MS, 60 * 60 * 1000);
    assert_eq!(MAX_DEVICE_NAME_CHARS, 64);
    assert_eq!(MAX_EPOCH_CHARS, 64);
    assert_eq!(PROTOCOL_VERSION, 1);
    assert_eq!(
        (PROTOCOL_HEADER, ZSTD_ENCODING, CONTENT_TYPE),
        ("Satchel-Protocol", "zstd", "application/json")
    );
    assert_eq!((REGISTER_PATH, PUSH_PATH, PULL_PATH), ("sync/v1/devices", "sync/v1/push", "sync/v1/pull"));
    use crate::records::limits;
    assert_eq!(limits::NOTE_TEXT_BYTES, 64 << 10);
    assert_eq!(limits::JSON_VALUE_BYTES, 16 << 10);
    assert_eq!((limits::TAGS, limits::TAG_CHARS, limits::COLOR_CHARS), (32, 64, 32));
    assert_eq!((limits::NOTE_HEADS, limits::NOTE_SUPERSEDED), (256, 65_536));
    assert_eq!(
        (limits::WATCHED_RANGES, limits::DEVICES, limits::ANSWERS, limits::CHOICES),
        (10_000, 256, 1_000, 64)
    );
    assert_eq!(crate::MAX_ID_BYTES, 128);
}

//! The core's logs reach the app's logger, and never carry what must stay on the phone: a
//! learner's session (notes, quiz answers, a device name, a sync with a good and with a refused
//! token, a failed fetch) logged at the most verbose level, then every record searched.
//!
//! One test in this file: the logger is process-wide, and each test file is its own process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use satchel_core::ffi::{LogLevel, LogRecord, SatchelLogger, install_logger, remove_logger};
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_tests::sync_device::{Device, PRACTICE, Tokens, VIDEO};
use satchel_tests::sync_server::SyncServer;

#[derive(Default)]
struct Captured(Mutex<Vec<LogRecord>>);

impl SatchelLogger for Captured {
    fn log(&self, record: LogRecord) {
        self.0.lock().unwrap().push(record);
    }
}

impl Captured {
    fn records(&self) -> Vec<LogRecord> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn a_session_logged_at_trace_reaches_the_logger_without_tokens_or_learner_text() {
    let captured = Arc::new(Captured::default());
    install_logger(captured.clone(), LogLevel::Trace).unwrap();

    const NOTE: &str = "Amina's private thought about recursive resolvers";
    const TAG: &str = "exam-worries";
    const DEVICE: &str = "Amina-Unique-Phone-Name";
    const ANSWER: &str = "c";

    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let phone = Device::open(DEVICE).unwrap();
    let p = &phone.satchel;

    // A sync with a token the server refuses: its failure is logged.
    let refused = format!("{token}-tampered");
    phone.connect(&server.base_url(), Tokens::new(refused.clone())).unwrap();
    phone.play(VIDEO, 0, 60).unwrap();
    let note = NewNote {
        lesson_id: VIDEO.into(),
        kind: NoteKind::Note,
        body: NOTE.into(),
        anchor: NoteAnchor::Time { start_ms: 1_000, end_ms: 2_000 },
        color: None,
        tags: vec![TAG.into()],
    };
    runtime().block_on(p.add_note(note)).unwrap();
    let attempt = runtime().block_on(p.start_quiz_attempt(PRACTICE.into())).unwrap();
    runtime().block_on(p.answer_question(attempt.id.clone(), "q1".into(), vec![ANSWER.into()])).unwrap();
    runtime().block_on(p.submit_quiz_attempt(attempt.id)).unwrap();
    let failed = phone.sync().unwrap();
    assert_ne!(failed.outcome, satchel_core::sync::SyncOutcome::Finished, "{failed:?}");

    // Then with the good token, and a fetch of a course the host does not have.
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    let report = phone.sync().unwrap();
    assert_eq!(report.remaining, 0, "{report:?}");
    let missing = runtime().block_on(p.fetch_course(server.base_url(), "no-such-course".into()));
    assert!(missing.is_err());

    let records = captured.records();
    assert!(
        records.iter().any(|r| r.target.starts_with("satchel_core::sync") && r.level <= LogLevel::Info),
        "the sync's attempts are logged: {records:#?}"
    );
    assert!(
        records.iter().any(|r| r.level == LogLevel::Debug || r.level == LogLevel::Trace),
        "verbose levels arrive"
    );
    for record in &records {
        let line = format!("{} {}", record.target, record.message);
        for secret in [token.as_str(), refused.as_str(), NOTE, TAG, DEVICE] {
            assert!(!line.contains(secret), "a log line carries {secret:?}: {line}");
        }
        assert!(!line.contains(&format!("\"{ANSWER}\"")), "a quiz answer in a log line: {line}");
        if !record.target.starts_with("satchel") {
            assert!(record.level <= LogLevel::Warn, "library chatter below warn: {record:?}");
        }
    }

    // A lower level filters at once; removing the logger stops the records.
    install_logger(captured.clone(), LogLevel::Error).unwrap();
    let before = captured.records().len();
    phone.sync().unwrap();
    assert!(captured.records()[before..].iter().all(|r| r.level == LogLevel::Error));
    remove_logger();
    let before = captured.records().len();
    runtime().block_on(p.fetch_course(server.base_url(), "no-such-course".into())).unwrap_err();
    phone.sync().unwrap();
    assert_eq!(captured.records().len(), before, "nothing after remove_logger");
}

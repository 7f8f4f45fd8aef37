//! A sync server on loopback for the HTTP tests: the real router (static content + sync API)
//! over a real SQLite file, spawned in-process on 127.0.0.1:0, and a reqwest client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![allow(dead_code)] // Each test file uses its own part of the harness.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use satchel_protocol::codec::{self, ContentEncoding};
use satchel_protocol::messages::{
    ErrorBody, Op, PROTOCOL_HEADER, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse,
    RegisterRequest, RegisterResponse,
};
use satchel_server::grading::AnswerKeys;
use satchel_server::serve::{self, Background};
use satchel_server::sync::SyncService;
use satchel_server::sync::auth::{self, TokenKey};
use satchel_server::sync::rate_limit::RateLimit;
use satchel_server::sync::store::{SqliteStore, SyncStore};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct Server {
    pub base: String,
    pub key: TokenKey,
    pub service: Arc<SyncService>,
    pub db: PathBuf,
    pub content: PathBuf,
    pub http: reqwest::Client,
    _background: Background,
    _dir: tempfile::TempDir,
}

/// What came back from one request.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body decoded as the protocol says (zstd when declared), capped like a client would.
    pub fn decode<T: DeserializeOwned>(&self) -> T {
        let encoding = ContentEncoding::from_header(
            self.headers.get(reqwest::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()),
        )
        .expect("a known encoding");
        codec::decode(&self.body, encoding, 16 << 20)
            .unwrap_or_else(|e| panic!("undecodable answer ({}): {e}", self.status))
    }

    /// The error body of a refused request, checking the status matches its code.
    pub fn error(&self) -> ErrorBody {
        let body: ErrorBody = self.decode();
        assert_eq!(self.status.as_u16(), body.code.http_status(), "{body:?}");
        body
    }
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub async fn start() -> Server {
    start_with(RateLimit { burst: 10_000.0, per_second: 10_000.0 }, AnswerKeys::default()).await
}

pub async fn start_with(rate: RateLimit, keys: AnswerKeys) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    start_on(dir, rate, keys).await
}

/// A server over the database `sync.db` in `dir` (which may hold one already).
pub async fn start_on(dir: tempfile::TempDir, rate: RateLimit, keys: AnswerKeys) -> Server {
    install_crypto();
    let db = dir.path().join("sync.db");
    let content = dir.path().join("www");
    std::fs::create_dir_all(&content).expect("content dir");
    std::fs::write(content.join("hello.txt"), "static content").expect("static file");
    let store = SqliteStore::open(&db).await.expect("open store");
    let key = TokenKey::from_bytes(&[42u8; 32]).expect("key");
    let service = Arc::new(SyncService::new(Arc::new(store), key.clone(), keys, rate));
    let app = serve::router_with_sync(content.clone(), service.clone());
    let background = serve::spawn_router(app, "127.0.0.1:0".parse().expect("addr")).await.expect("spawn");
    Server {
        base: format!("http://{}", background.addr),
        key,
        service,
        db,
        content,
        http: reqwest::Client::new(),
        _background: background,
        _dir: dir,
    }
}

impl Server {
    pub fn store(&self) -> &dyn SyncStore {
        &*self.service.store
    }

    pub fn token(&self, learner: &str) -> String {
        self.key.mint(learner, auth::now_s() + 3600).expect("mint")
    }

    /// POSTs raw bytes with the protocol header, a bearer token and extra headers.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request =
            self.http.post(format!("{}/{path}", self.base)).header(PROTOCOL_HEADER, "1").body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the server answers");
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await.expect("a body").to_vec();
        Answer { status, headers, body }
    }

    /// POSTs a message as a client does: JSON, zstd when large, accepting zstd back.
    pub async fn post<T: Serialize>(&self, path: &str, learner: &str, message: &T) -> Answer {
        let encoded = codec::encode(message).expect("encode");
        let mut headers = vec![("accept-encoding", "zstd")];
        if let Some(value) = encoded.encoding.header_value() {
            headers.push(("content-encoding", value));
        }
        self.post_raw(path, Some(&self.token(learner)), encoded.bytes, &headers).await
    }

    pub async fn register(&self, learner: &str, device: &str) -> RegisterResponse {
        let answer = self.post("sync/v1/devices", learner, &RegisterRequest::new(device, "phone")).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", String::from_utf8_lossy(&answer.body));
        answer.decode()
    }

    pub async fn push(&self, learner: &str, device: &str, epoch: Option<String>, ops: Vec<Op>) -> Answer {
        let request = PushRequest { protocol: PROTOCOL_VERSION, device_id: device.into(), epoch, ops };
        self.post("sync/v1/push", learner, &request).await
    }

    pub async fn push_ok(&self, learner: &str, device: &str, ops: Vec<Op>) -> PushResponse {
        let answer = self.push(learner, device, None, ops).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", String::from_utf8_lossy(&answer.body));
        answer.decode()
    }

    pub async fn pull(&self, learner: &str, device: &str, epoch: Option<String>, cursor: u64) -> Answer {
        let request =
            PullRequest { protocol: PROTOCOL_VERSION, device_id: device.into(), epoch, cursor, max_bytes: 0 };
        self.post("sync/v1/pull", learner, &request).await
    }

    /// Every page from `cursor`: all records and the final cursor.
    pub async fn pull_all(
        &self,
        learner: &str,
        device: &str,
        mut cursor: u64,
    ) -> (Vec<satchel_protocol::Record>, u64) {
        let mut records = Vec::new();
        loop {
            let answer = self.pull(learner, device, None, cursor).await;
            assert_eq!(answer.status, StatusCode::OK, "{:?}", String::from_utf8_lossy(&answer.body));
            let page: PullResponse = answer.decode();
            records.extend(page.records.into_iter().map(|r| r.record));
            cursor = page.next_cursor;
            if !page.more {
                return (records, cursor);
            }
        }
    }
}

#[allow(unused_imports)] // Each test file uses some.
pub use satchel_server::sync::store::conformance::{hlc, note, ops, setting};

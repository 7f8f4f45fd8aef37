//! The transfer against hosts that lie (issue 16, case 1): the real `fetch_blob` over real HTTP
//! to a loopback server that answers as each case says, with random partial files on disk.
//! Whatever the host does, the bytes on disk never exceed the declared size and nothing panics.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

use super::{BlobJob, Ending, Progress, fetch_blob};
use crate::account::Account;
use crate::catalog::{BlobEntry, Encoding};
use crate::content::ContentError;
use crate::content::store::sha256_hex;
use crate::downloads::Tuning;
use crate::error::Error;
use crate::runtime::runtime;

/// How the host answers one request.
#[derive(Debug, Clone)]
enum Reply {
    /// What a correct host sends: 206 for the asked range, 200 without one.
    Honest,
    /// Honest headers, then the connection closes after `keep` body bytes.
    Short { keep: usize },
    /// Honest status and range, no Content-Length, and `extra` more bytes than the blob has.
    Long { extra: usize },
    /// A 206 with this Content-Range (first, last, total) and a body that goes on and on.
    LyingRange { first: u64, last: u64, total: u64 },
    /// A 206 that echoes whatever start was asked for, even past the end (`bytes 900-9/10`),
    /// with a body that goes on and on: agreeing with the client is the easiest lie.
    EchoRange,
    /// A 200 whose Content-Length is `length`, with that many bytes.
    WrongLength { length: u64 },
    /// 416 Range Not Satisfiable.
    NotSatisfiable,
}

/// Bytes a lying host sends after its headers before giving up: far past any declared size here.
const ENDLESS: usize = 4 * 1024 * 1024;

/// A loopback host answering connection `i` with `replies[i]` (the last one repeats), one
/// request per connection.
fn serve(data: Arc<Vec<u8>>, replies: Vec<Reply>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { return };
            let reply = replies[i.min(replies.len() - 1)].clone();
            let data = Arc::clone(&data);
            std::thread::spawn(move || answer(stream, &data, &reply));
        }
    });
    addr
}

fn answer(mut stream: TcpStream, data: &[u8], reply: &Reply) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request).to_lowercase();
    let asked: Option<usize> = request
        .lines()
        .find_map(|l| l.strip_prefix("range: bytes="))
        .and_then(|r| r.trim().trim_end_matches('-').parse().ok());
    let total = data.len();
    let honest_head = |length: Option<usize>| match asked {
        Some(from) if from < total => {
            let mut head = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{total}\r\n",
                total - 1
            );
            if let Some(length) = length {
                head += &format!("Content-Length: {length}\r\n");
            }
            (head, from)
        }
        _ => {
            let mut head = "HTTP/1.1 200 OK\r\n".to_owned();
            if let Some(length) = length {
                head += &format!("Content-Length: {length}\r\n");
            }
            (head, 0)
        }
    };
    let (head, body): (String, Vec<u8>) = match reply {
        Reply::Honest => {
            let from = asked.filter(|f| *f < total).unwrap_or(0);
            let (head, from) = honest_head(Some(total - from));
            (head, data[from..].to_vec())
        }
        Reply::Short { keep } => {
            let from = asked.filter(|f| *f < total).unwrap_or(0);
            let (head, from) = honest_head(Some(total - from));
            let end = (from + keep).min(total);
            (head, data[from..end].to_vec())
        }
        Reply::Long { extra } => {
            let (head, from) = honest_head(None);
            let mut body = data[from.min(total)..].to_vec();
            body.extend(std::iter::repeat_n(0x5a, *extra));
            (head, body)
        }
        Reply::LyingRange { first, last, total } => (
            format!("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {first}-{last}/{total}\r\n"),
            endless(),
        ),
        Reply::EchoRange => {
            let from = asked.unwrap_or(0);
            let head = format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{total}\r\n",
                total.saturating_sub(1)
            );
            (head, endless())
        }
        Reply::WrongLength { length } => {
            let length = *length as usize;
            let body = (0..length).map(|i| data.get(i).copied().unwrap_or(0x33)).collect();
            (format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n"), body)
        }
        Reply::NotSatisfiable => {
            ("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n".into(), Vec::new())
        }
    };
    let head = format!("{head}ETag: \"v1\"\r\nConnection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    // In pieces, so a client that hangs up stops the host.
    for piece in body.chunks(16 * 1024) {
        if stream.write_all(piece).is_err() {
            return;
        }
    }
}

fn endless() -> Vec<u8> {
    vec![0x77; ENDLESS]
}

struct Counting(u64);

impl Progress for Counting {
    fn arrived(&mut self, bytes: u64) -> Result<(), Ending> {
        self.0 += bytes;
        Ok(())
    }
}

fn tuning() -> Tuning {
    Tuning {
        stall_timeout: Duration::from_secs(2),
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        max_attempts_without_progress: 3,
        max_verify_failures: 2,
        ..Tuning::default()
    }
}

/// Runs one blob download: `partial` bytes on disk first, the host answering with `replies`.
/// Returns the outcome, the account (for its files) and the blob.
fn download(
    data: Vec<u8>,
    partial: &[u8],
    replies: Vec<Reply>,
) -> (Result<(), Ending>, tempfile::TempDir, Arc<Account>, BlobEntry) {
    let dir = tempfile::tempdir().unwrap();
    let account = Arc::new(Account::open(dir.path(), "test", &[]).unwrap());
    let blob = BlobEntry {
        hash: sha256_hex(&data),
        size: data.len() as u64,
        stored_size: data.len() as u64,
        media_type: "video/mp4".into(),
        encoding: Encoding::Identity,
        role: "video".into(),
    };
    let path = account.content().partial_path(&blob.hash);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, partial).unwrap();
    let addr = serve(Arc::new(data), replies);
    let client = account.download_service().content_client().unwrap();
    let tuning = tuning();
    let stop = CancellationToken::new();
    let job = BlobJob {
        service: account.download_service(),
        http: client.http(),
        url: url::Url::parse(&format!("http://{addr}/blobs/{}", blob.hash)).unwrap(),
        blob: &blob,
        dictionary: None,
        tuning: &tuning,
        stop: &stop,
    };
    let result = runtime().block_on(async {
        tokio::time::timeout(Duration::from_secs(30), fetch_blob(job, &mut Counting(0)))
            .await
            .expect("the transfer ends on its own")
    });
    (result, dir, account, blob)
}

/// Bytes of the blob on disk: the partial file, or the committed blob.
fn on_disk(account: &Account, blob: &BlobEntry) -> (u64, u64) {
    let len = |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    (len(account.content().partial_path(&blob.hash)), len(account.content().blob_path(&blob.hash)))
}

fn data(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

/// The report: a partial file longer than the 10-byte blob, and a host answering the
/// resume with `206 bytes 500000-9/10` and an endless body. This filled the disk.
#[test]
fn a_lying_range_after_an_oversized_partial_writes_nothing_and_is_a_typed_error() {
    let (result, _dir, account, blob) = download(
        data(10),
        &vec![1u8; 500_000],
        vec![Reply::LyingRange { first: 500_000, last: 9, total: 10 }],
    );
    match result {
        Err(Ending::Failed(Error::Content(ContentError::HostReply { hash, .. }))) => {
            assert_eq!(hash, blob.hash)
        }
        other => panic!("expected HostReply, got {other:?}"),
    }
    assert_eq!(on_disk(&account, &blob), (0, 0), "the untrustworthy partial file is gone");
}

#[test]
fn a_total_or_length_other_than_declared_is_a_typed_error_and_drops_the_partial() {
    let blob_data = data(1000);
    for reply in [
        Reply::LyingRange { first: 400, last: 1999, total: 2000 },
        Reply::LyingRange { first: 400, last: 998, total: 1000 },
        Reply::WrongLength { length: 5000 },
    ] {
        let (result, _dir, account, blob) =
            download(blob_data.clone(), &blob_data[..400], vec![reply.clone()]);
        assert!(
            matches!(result, Err(Ending::Failed(Error::Content(ContentError::HostReply { .. })))),
            "{reply:?}: {result:?}"
        );
        assert_eq!(on_disk(&account, &blob), (0, 0), "{reply:?}");
    }
}

#[test]
fn a_host_that_keeps_sending_is_cut_off_at_the_declared_size() {
    let blob_data = data(5000);
    let (result, _dir, account, blob) =
        download(blob_data.clone(), &blob_data[..1000], vec![Reply::Long { extra: ENDLESS }]);
    assert!(result.is_ok(), "the declared bytes are the blob: {result:?}");
    assert_eq!(on_disk(&account, &blob), (0, 5000));
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        3 => Just(Reply::Honest),
        2 => (0usize..3000).prop_map(|keep| Reply::Short { keep }),
        2 => (1usize..ENDLESS).prop_map(|extra| Reply::Long { extra }),
        3 => (0u64..600_000, 0u64..600_000, 0u64..600_000)
            .prop_map(|(first, last, total)| Reply::LyingRange { first, last, total }),
        3 => Just(Reply::EchoRange),
        1 => (0u64..20_000).prop_map(|length| Reply::WrongLength { length }),
        1 => Just(Reply::NotSatisfiable),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random declared sizes, partial files (a true prefix, garbage, or longer than the blob)
    /// and host replies: bytes on disk never exceed the declared size, a completed blob is the
    /// right one, and nothing panics.
    #[test]
    fn bytes_on_disk_never_exceed_the_declared_size(
        size in 1usize..12_000,
        partial_len in 0usize..30_000,
        garbage in any::<bool>(),
        replies in prop::collection::vec(reply(), 1..4),
    ) {
        let blob_data = data(size);
        let partial: Vec<u8> = if garbage || partial_len > size {
            vec![0xee; partial_len]
        } else {
            blob_data[..partial_len].to_vec()
        };
        let (result, _dir, account, blob) = download(blob_data.clone(), &partial, replies);
        let (partial_bytes, blob_bytes) = on_disk(&account, &blob);
        prop_assert!(partial_bytes <= size as u64, "{partial_bytes} bytes of a {size}-byte blob on disk");
        match result {
            Ok(()) => {
                prop_assert_eq!(blob_bytes, size as u64);
                let stored = std::fs::read(account.content().blob_path(&blob.hash)).unwrap();
                prop_assert!(stored == blob_data, "a committed blob is the published one");
            }
            Err(_) => prop_assert_eq!(blob_bytes, 0),
        }
    }
}

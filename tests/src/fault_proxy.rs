//! A TCP proxy that breaks HTTP connections the way a poor mobile network does: cut after N
//! bytes, stall, add latency, throttle, flip a byte, or answer with an error status before the
//! server sees the request. It counts every byte it sends to the client, which is what a
//! learner pays for.
//!
//! It can also act on whole requests, the way messages go astray between a phone and a sync
//! server: drop one before the server sees it, lose the reply after the server committed,
//! deliver one twice, or hold one back and deliver it late, after newer ones (see
//! [`RequestFault`]).
//!
//! It runs on its own thread with its own tokio runtime, so synchronous tests can use it; faults
//! can be changed while it runs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What to do to connections. Byte counts are of the server's reply stream (headers included).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Close every connection after this many reply bytes.
    pub cut_after: Option<u64>,
    /// On the next `stall_connections` connections, stop sending after this many reply bytes and
    /// hold the connection open.
    pub stall_after: Option<u64>,
    pub stall_connections: u32,
    /// One-way delay added in each direction.
    pub latency: Duration,
    /// Reply bandwidth in bytes per second.
    pub rate: Option<u64>,
    /// Flip the reply byte at this offset on the next `corrupt_connections` connections.
    pub corrupt_at: Option<u64>,
    pub corrupt_connections: u32,
    /// Answer the next requests with these statuses (one per connection), before the server.
    pub fail_with: Vec<u16>,
    /// Retry-After seconds sent with those failures.
    pub retry_after: Option<u32>,
    /// Ask the server to close after each reply, so per-connection faults hit every request.
    pub one_request_per_connection: bool,
    /// On the next this many connections, rewrite the reply's `Content-Range: bytes N-` so it
    /// claims to start at `1N` (a host answering with another range than asked).
    pub wrong_content_range_connections: u32,
    /// What to do to the next requests, one entry each (in order); when it runs out, requests
    /// pass. Each scripted request travels on its own connection (`Connection: close`).
    pub script: Vec<RequestFault>,
}

/// What happens to one HTTP request on its way to the server and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFault {
    /// Delivered, and the reply too.
    Pass,
    /// Lost before the server sees it: the client's connection just closes.
    Drop,
    /// Delivered and answered, but the reply is lost: the server committed, the client never
    /// hears so.
    LoseReply,
    /// Delivered twice (the client gets the first reply).
    Duplicate,
    /// Held back (the client's connection closes as if it were lost) and delivered late, after
    /// the next request — reordered behind what the client sent since.
    Delay,
    /// Delivered and answered, and delivered again late, after the next request.
    Replay,
}

/// Counters since the proxy started (or since [`FaultProxy::reset_counters`]).
#[derive(Debug, Default)]
struct Counters {
    reply_bytes: AtomicU64,
    connections: AtomicU64,
}

struct State {
    upstream: SocketAddr,
    faults: Mutex<Faults>,
    counters: Counters,
    /// The first line and Range/If-Range headers of every request seen (GET, HEAD, POST).
    requests: Mutex<Vec<String>>,
    /// Bumped when the faults change: open connections close, so the client's pooled
    /// keep-alive connections cannot dodge the new faults.
    generation: tokio::sync::watch::Sender<u64>,
    /// Whole requests held back by [`RequestFault::Delay`] and [`RequestFault::Replay`], delivered
    /// after the next request (or by [`FaultProxy::deliver_held`]).
    held: tokio::sync::Mutex<Vec<Vec<u8>>>,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<State>,
    _runtime: tokio::runtime::Runtime,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream`.
    pub fn start(upstream: SocketAddr, faults: Faults) -> Result<FaultProxy> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the proxy runtime")?;
        let state = Arc::new(State {
            upstream,
            faults: Mutex::new(faults),
            counters: Counters::default(),
            requests: Mutex::new(Vec::new()),
            generation: tokio::sync::watch::Sender::new(0),
            held: tokio::sync::Mutex::new(Vec::new()),
        });
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let accept_state = Arc::clone(&state);
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = Arc::clone(&accept_state);
                tokio::spawn(async move {
                    let _ = serve(client, state).await;
                });
            }
        });
        Ok(FaultProxy { addr, state, _runtime: runtime })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
        self.state.generation.send_modify(|g| *g += 1);
    }

    /// Bytes sent to clients (what a learner's data plan is charged for).
    pub fn reply_bytes(&self) -> u64 {
        self.state.counters.reply_bytes.load(Ordering::SeqCst)
    }

    /// Delivers every request still held back, now; returns how many there were.
    /// Call it from synchronous code (not inside an async runtime).
    pub fn deliver_held(&self) -> Result<usize> {
        self._runtime.block_on(deliver_held(&self.state))
    }

    pub fn connections(&self) -> u64 {
        self.state.counters.connections.load(Ordering::SeqCst)
    }

    pub fn reset_counters(&self) {
        self.state.counters.reply_bytes.store(0, Ordering::SeqCst);
        self.state.counters.connections.store(0, Ordering::SeqCst);
        self.requests_mut().clear();
    }

    /// Request summaries seen so far: `GET /path | range | if-range`.
    pub fn requests(&self) -> Vec<String> {
        self.requests_mut().clone()
    }

    fn requests_mut(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.state.requests.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What this connection will suffer, decided when it opens.
struct ConnectionFaults {
    cut_after: Option<u64>,
    stall_after: Option<u64>,
    latency: Duration,
    rate: Option<u64>,
    corrupt_at: Option<u64>,
    wrong_range: bool,
}

async fn serve(mut client: TcpStream, state: Arc<State>) -> std::io::Result<()> {
    state.counters.connections.fetch_add(1, Ordering::SeqCst);
    let mut generation = state.generation.subscribe();
    generation.mark_unchanged();
    let _ = client.set_nodelay(true);
    // Read the first request's head, to log it and maybe answer it ourselves.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 64 * 1024 {
            return Ok(());
        }
    }
    log_request(&state, &head);
    let scripted = {
        let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
        (!f.script.is_empty()).then(|| f.script.remove(0))
    };
    if let Some(fault) = scripted {
        return serve_scripted(client, head, fault, &state).await;
    }
    let (faults, canned) = {
        let mut f = state.faults.lock().unwrap_or_else(|p| p.into_inner());
        if f.one_request_per_connection
            && let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n")
        {
            head.splice(end + 2..end + 2, b"Connection: close\r\n".iter().copied());
        }
        let canned = (!f.fail_with.is_empty()).then(|| (f.fail_with.remove(0), f.retry_after));
        // Answered here: the stall and corruption are for connections the server answers.
        let served = canned.is_none();
        let stall_after = if served && f.stall_connections > 0 {
            f.stall_connections -= 1;
            f.stall_after
        } else {
            None
        };
        let corrupt_at = if served && f.corrupt_connections > 0 {
            f.corrupt_connections -= 1;
            f.corrupt_at
        } else {
            None
        };
        let wrong_range = served && f.wrong_content_range_connections > 0;
        if wrong_range {
            f.wrong_content_range_connections -= 1;
        }
        (
            ConnectionFaults {
                cut_after: f.cut_after,
                stall_after,
                latency: f.latency,
                rate: f.rate,
                corrupt_at,
                wrong_range,
            },
            canned,
        )
    };
    if let Some((status, retry_after)) = canned {
        let retry = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
        let reply =
            format!("HTTP/1.1 {status} Injected\r\n{retry}Content-Length: 0\r\nConnection: close\r\n\r\n");
        tokio::time::sleep(faults.latency * 2).await;
        client.write_all(reply.as_bytes()).await?;
        state.counters.reply_bytes.fetch_add(reply.len() as u64, Ordering::SeqCst);
        return Ok(());
    }
    let upstream = TcpStream::connect(state.upstream).await?;
    let _ = upstream.set_nodelay(true);
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let latency = faults.latency;

    // Client → server: the head already read, then everything else, each delayed.
    let up_state = Arc::clone(&state);
    let upward = tokio::spawn(async move {
        tokio::time::sleep(latency).await;
        upstream_write.write_all(&head).await?;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                let _ = upstream_write.shutdown().await;
                return Ok::<_, std::io::Error>(());
            }
            log_request(&up_state, &buf[..n]);
            tokio::time::sleep(latency).await;
            upstream_write.write_all(&buf[..n]).await?;
        }
    });

    // Server → client: chunks stamped on arrival and released after the latency, at the rate.
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(1024);
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = upstream_read.read(&mut buf).await.unwrap_or(0);
            if n == 0 || tx.send((Instant::now() + latency, buf[..n].to_vec())).await.is_err() {
                return;
            }
        }
    });
    let mut sent: u64 = 0;
    let result = async {
        loop {
            let (due, mut chunk) = tokio::select! {
                next = rx.recv() => match next { Some(next) => next, None => break },
                _ = generation.changed() => break,
            };
            tokio::time::sleep_until(due.into()).await;
            if faults.wrong_range && sent == 0 {
                chunk = rewrite_content_range(chunk);
            }
            if let Some(at) = faults.corrupt_at
                && at >= sent
                && at < sent + chunk.len() as u64
            {
                chunk[(at - sent) as usize] ^= 0xff;
            }
            let mut limit = chunk.len() as u64;
            let stop_at = [faults.cut_after, faults.stall_after].into_iter().flatten().min();
            if let Some(stop) = stop_at {
                limit = limit.min(stop.saturating_sub(sent));
            }
            for piece in chunk[..limit as usize].chunks(4096) {
                client_write.write_all(piece).await?;
                sent += piece.len() as u64;
                state.counters.reply_bytes.fetch_add(piece.len() as u64, Ordering::SeqCst);
                if let Some(rate) = faults.rate {
                    tokio::time::sleep(Duration::from_secs_f64(piece.len() as f64 / rate as f64)).await;
                }
            }
            if limit < chunk.len() as u64 || stop_at.is_some_and(|s| sent >= s) {
                if faults.stall_after.is_some_and(|s| sent >= s) && faults.cut_after.is_none_or(|c| sent < c)
                {
                    // Stalled: say nothing more until the client gives up.
                    tokio::time::sleep(Duration::from_secs(600)).await;
                }
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    }
    .await;
    reader.abort();
    upward.abort();
    // Requests held back reach the server late: after this newer one.
    deliver_held(&state).await.map_err(std::io::Error::other)?;
    result
}

/// One request under a [`RequestFault`]: read whole (head and `Content-Length` body), then
/// delivered, lost, doubled or held as the fault says; requests held earlier go after it.
async fn serve_scripted(
    mut client: TcpStream,
    head: Vec<u8>,
    fault: RequestFault,
    state: &State,
) -> std::io::Result<()> {
    let request = read_whole_request(&mut client, head).await?;
    match fault {
        RequestFault::Drop => {}
        RequestFault::Delay => state.held.lock().await.push(request),
        RequestFault::Pass | RequestFault::Duplicate | RequestFault::Replay | RequestFault::LoseReply => {
            let held_before: Vec<Vec<u8>> = std::mem::take(&mut *state.held.lock().await);
            let reply = exchange(state.upstream, &request).await?;
            if fault == RequestFault::Duplicate {
                exchange(state.upstream, &request).await?;
            }
            if fault != RequestFault::LoseReply {
                client.write_all(&reply).await?;
                state.counters.reply_bytes.fetch_add(reply.len() as u64, Ordering::SeqCst);
            }
            // Late: what was held back reaches the server only after this newer request.
            for late in held_before {
                exchange(state.upstream, &late).await?;
            }
            if fault == RequestFault::Replay {
                state.held.lock().await.push(request);
            }
        }
    }
    let _ = client.shutdown().await;
    Ok(())
}

async fn deliver_held(state: &State) -> Result<usize> {
    let held: Vec<Vec<u8>> = std::mem::take(&mut *state.held.lock().await);
    for request in &held {
        exchange(state.upstream, request).await.context("delivering a held request")?;
    }
    Ok(held.len())
}

/// Reads the rest of a request whose head (and maybe part of its body) is in `head`, and marks
/// it `Connection: close` so the server's reply ends with the connection.
async fn read_whole_request(client: &mut TcpStream, head: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let end = head.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| invalid("no request head"))?;
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let length: usize = text
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-length")))
        .map(|(_, v)| v.trim().parse().map_err(|_| invalid("bad Content-Length")))
        .transpose()?
        .unwrap_or(0);
    let mut body = head[end + 4..].to_vec();
    let mut buf = [0u8; 16 * 1024];
    while body.len() < length {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Err(invalid("the request was cut short"));
        }
        body.extend_from_slice(&buf[..n]);
    }
    let kept: Vec<&str> =
        text.lines().filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
    let mut request = format!("{}\r\nConnection: close\r\n\r\n", kept.join("\r\n")).into_bytes();
    request.extend_from_slice(&body);
    Ok(request)
}

/// Sends one whole request to the server on a new connection and reads its whole reply (the
/// server closes after it).
async fn exchange(upstream: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request).await?;
    let mut reply = Vec::new();
    server.read_to_end(&mut reply).await?;
    Ok(reply)
}

/// `Content-Range: bytes N-…` → `Content-Range: bytes 1N-…` in a reply head.
fn rewrite_content_range(chunk: Vec<u8>) -> Vec<u8> {
    let needle = b"Content-Range: bytes ";
    match chunk.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)) {
        Some(at) => {
            let mut out = chunk[..at + needle.len()].to_vec();
            out.push(b'1');
            out.extend_from_slice(&chunk[at + needle.len()..]);
            out
        }
        None => chunk,
    }
}

fn log_request(state: &State, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let Some(first) =
        text.lines().next().filter(|l| ["GET ", "HEAD ", "POST "].iter().any(|m| l.starts_with(m)))
    else {
        return;
    };
    let header = |name: &str| {
        text.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let summary = format!("{} | {} | {}", first, header("range"), header("if-range"));
    state.requests.lock().unwrap_or_else(|p| p.into_inner()).push(summary);
}

//! The core's one tokio runtime.
//!
//! Kotlin and Swift drive our async exports with their own executors; they only poll. All real
//! work is handed to this runtime: network I/O on its worker threads, SQLite on its blocking pool,
//! so a slow disk never stalls an async thread and a coroutine cancelled on the Kotlin side never
//! drops a write half-way (the spawned task runs to completion regardless). Long work is told
//! of the cancellation instead (`spawn_cancellable_by`) and stops at its next safe point.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// Two workers: phones have few big cores, and the core is mostly waiting on disk or network.
const WORKER_THREADS: usize = 2;

/// The shared runtime, created on first use.
// Building a runtime fails only when the OS refuses to start threads: no call into the core could
// work then, and the panic reaches Kotlin/Swift as an exception (panic = "unwind"), not a crash.
#[allow(clippy::expect_used)]
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("satchel-worker")
            .enable_all()
            .build()
            .expect("satchel: cannot start the core's async runtime")
    })
}

/// Installs rustls' ring crypto provider for the process, once. Harmless if the app (or a test)
/// installed one already.
pub fn install_crypto_provider() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs async work (network I/O) on the core runtime and awaits it from any executor: the
/// foreign executor only polls the join handle. A panic becomes [`Error::Internal`].
pub async fn spawn<T, F>(future: F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    runtime()
        .spawn(future)
        .await
        .map_err(|join| Error::Internal(format!("a background task failed: {join}")))?
}

/// Runs long async work (a download run, a sync) on the core runtime, handing it a token that
/// is cancelled when the returned future is dropped. A cancelled Kotlin coroutine drops the
/// future it awaits; without the token the spawned work would run on,
/// unowned, holding its run lock. With it the work stops at its next safe point (between two
/// chunks, between two sync requests), as `stop_downloads` / `stop_sync` would stop it.
///
/// `parent` cancels it too: a shell's explicit cancel (the Swift shell's `Cancellation`, from a
/// `Task`'s cancellation handler: Swift's async bindings never drop the future they await).
pub async fn spawn_cancellable_by<T, F, Fut>(parent: &CancellationToken, work: F) -> Result<T>
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let cancel = parent.child_token();
    let _cancel_when_dropped = cancel.clone().drop_guard();
    spawn(work(cancel)).await
}

/// Runs blocking work (SQLite, file I/O) on the runtime's blocking pool and awaits it from any
/// executor. A panic inside `f` becomes [`Error::Internal`] instead of unwinding into the caller.
pub async fn run_blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    runtime().spawn_blocking(f).await.map_err(|join| {
        if join.is_panic() {
            Error::Internal("a background task panicked".into())
        } else {
            Error::Internal("a background task was cancelled".into())
        }
    })?
}

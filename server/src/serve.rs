//! Static hosting of published content, and the sync API beside it when enabled.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::Router;

use crate::grading::AnswerKeys;
use crate::static_files;
use crate::sync::auth::TokenKey;
use crate::sync::rate_limit::RateLimit;
use crate::sync::store::Database;
use crate::sync::{self, SyncService};

/// The router that serves `dir`: plain files with byte ranges and validators, as nginx or a CDN
/// would, so the core can be tested against either.
pub fn router(dir: PathBuf) -> Router {
    Router::new().fallback(static_files::serve).with_state(dir)
}

/// The static router with the sync routes (`/sync/v1/…`) beside it. Every other path is served
/// exactly as [`router`] serves it.
pub fn router_with_sync(dir: PathBuf, service: Arc<SyncService>) -> Router {
    sync::http::routes(service).merge(router(dir))
}

/// `serve` with everything it can be given.
pub struct ServeOptions {
    pub dir: PathBuf,
    pub listen: SocketAddr,
    /// `None`: static content only.
    pub sync: Option<SyncOptions>,
}

/// Where the sync API keeps its state and secrets.
pub struct SyncOptions {
    /// A SQLite file, or a PostgreSQL database several servers may share.
    pub db: Database,
    pub secret: PathBuf,
    /// Grading files from `pack`; `None`: graded attempts stay pending.
    pub grading: Option<PathBuf>,
}

/// Opens the sync store and loads the secret and answer keys.
pub async fn sync_service(options: &SyncOptions) -> Result<Arc<SyncService>> {
    let store =
        options.db.open().await.with_context(|| format!("cannot open the sync database {}", options.db))?;
    let tokens = TokenKey::load(&options.secret)?;
    let answer_keys = match &options.grading {
        Some(dir) => AnswerKeys::load_dir(dir)?,
        None => AnswerKeys::default(),
    };
    if answer_keys.is_empty() {
        tracing::warn!("no answer keys loaded: attempts at graded quizzes will stay pending");
    } else {
        tracing::info!(quizzes = answer_keys.len(), "answer keys loaded");
        // Attempts that came while their key was missing are graded now.
        let graded = crate::sync::grade::grade_stored(&*store, &answer_keys)
            .await
            .context("cannot grade the attempts waiting for answer keys")?;
        if graded > 0 {
            tracing::info!(graded, "graded attempts that waited for their answer keys");
        }
    }
    Ok(Arc::new(SyncService::new(store, tokens, answer_keys, RateLimit::default())))
}

/// Serves `dir` on `listen` until interrupted. Prints `listening on http://ADDR` as its first
/// line on stdout, so scripts and tests can use port 0.
pub async fn run(dir: PathBuf, listen: SocketAddr) -> Result<()> {
    run_with(ServeOptions { dir, listen, sync: None }).await
}

/// Serves the content, and the sync API when configured (with its hourly tombstone purge).
pub async fn run_with(options: ServeOptions) -> Result<()> {
    let ServeOptions { dir, listen, sync } = options;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    for course in crate::pack::publish::stale_pointers(&dir)? {
        eprintln!(
            "warning: courses/{course}/manifest.sha256 does not name its manifest.signed.json: phones holding the \
             old manifest will not see this one; publish manifests with `satchel-server pack`"
        );
        tracing::warn!(course, "stale manifest pointer");
    }
    let (app, purge) = match &sync {
        None => (router(dir.clone()), None),
        Some(sync_options) => {
            let service = sync_service(sync_options).await?;
            let purge = sync::spawn_purge(service.store.clone(), sync::PURGE_EVERY);
            (router_with_sync(dir.clone(), service), Some(purge))
        }
    };
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    println!("listening on http://{local}");
    tracing::info!(%local, dir = %dir.display(), sync = sync.is_some(), "serving content");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    if let Some(purge) = purge {
        purge.abort();
    }
    served?;
    Ok(())
}

/// `satchel-server sync-new-epoch`: renews the epoch of the database `db`.
pub async fn new_epoch(db: &Database) -> Result<String> {
    if let Database::Sqlite(path) = db
        && !path.is_file()
    {
        bail!("{} does not exist", path.display());
    }
    let store = db.open().await.with_context(|| format!("cannot open {db}"))?;
    Ok(store.new_epoch().await?)
}

/// A server running in the background of a tokio runtime; stops when dropped.
pub struct Background {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Background {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `dir` on `listen` as a task of the current runtime (the CLI demo's embedded host).
pub async fn spawn(dir: PathBuf, listen: SocketAddr) -> Result<Background> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    spawn_router(router(dir), listen).await
}

/// Serves `app` on `listen` as a task of the current runtime (tests, benches, the demo).
pub async fn spawn_router(app: Router, listen: SocketAddr) -> Result<Background> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "embedded server stopped");
        }
    });
    Ok(Background { addr, task })
}

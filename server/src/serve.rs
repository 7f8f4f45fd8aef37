//! Static hosting of published content.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use axum::Router;

use crate::static_files;

/// The router that serves `dir`: plain files with byte ranges and validators, as nginx or a CDN
/// would, so the core can be tested against either.
pub fn router(dir: PathBuf) -> Router {
    Router::new().fallback(static_files::serve).with_state(dir)
}

/// Serves `dir` on `listen` until interrupted. Prints `listening on http://ADDR` as its first
/// line on stdout, so scripts and tests can use port 0.
pub async fn run(dir: PathBuf, listen: SocketAddr) -> Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    println!("listening on http://{local}");
    tracing::info!(%local, dir = %dir.display(), "serving content");
    axum::serve(listener, router(dir))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
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
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router(dir)).await {
            tracing::error!(%error, "embedded content server stopped");
        }
    });
    Ok(Background { addr, task })
}

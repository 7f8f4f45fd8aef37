//! The reference sync server as a real child process (`satchel-server serve --sync-db
//! --sync-secret`), with tokens minted from its secret, for the sync end-to-end tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Result, bail};
use satchel_server::sync::auth::{self, TokenKey};

use crate::{listening_addr, workspace_bin};

/// A sync server over a state directory (database, secret, an empty content folder); killed
/// when dropped. The directory outlives restarts, so a test can stop, copy and restart it.
pub struct SyncServer {
    child: Child,
    pub addr: SocketAddr,
    pub state: PathBuf,
}

impl SyncServer {
    /// Makes a fresh state directory in `state` (secret, empty content) and serves it.
    pub fn create(state: &Path) -> Result<SyncServer> {
        std::fs::create_dir_all(state.join("content"))?;
        let status = Command::new(workspace_bin("satchel-server")?)
            .args(["sync-secret", "--out"])
            .arg(state.join("sync.secret"))
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("satchel-server sync-secret failed");
        }
        SyncServer::serve(state, None)
    }

    /// Serves an existing state directory, on `addr` if given (a restart on the same port).
    pub fn serve(state: &Path, addr: Option<SocketAddr>) -> Result<SyncServer> {
        SyncServer::serve_with(state, addr, None)
    }

    /// Like [`SyncServer::serve`], grading graded quizzes with the grading files in `grading`.
    pub fn serve_with(state: &Path, addr: Option<SocketAddr>, grading: Option<&Path>) -> Result<SyncServer> {
        let listen = addr.map_or_else(|| "127.0.0.1:0".to_owned(), |a| a.to_string());
        let mut command = Command::new(workspace_bin("satchel-server")?);
        command
            .arg("serve")
            .arg(state.join("content"))
            .args(["--listen", &listen, "--sync-db"])
            .arg(state.join("sync.db"))
            .arg("--sync-secret")
            .arg(state.join("sync.secret"));
        if let Some(dir) = grading {
            command.arg("--grading").arg(dir);
        }
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
        let addr = listening_addr(&mut child)?;
        Ok(SyncServer { child, addr, state: state.to_path_buf() })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A token for `learner`, valid for a day (or already expired with `ttl_s = 0`).
    pub fn token(&self, learner: &str, ttl_s: u64) -> Result<String> {
        let key = TokenKey::load(&self.state.join("sync.secret"))?;
        let expires = if ttl_s == 0 { auth::now_s().saturating_sub(10) } else { auth::now_s() + ttl_s };
        key.mint(learner, expires)
    }

    pub fn db(&self) -> PathBuf {
        self.state.join("sync.db")
    }

    /// Stops the server (its database stays).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SyncServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

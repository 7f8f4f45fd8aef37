//! The reference sync server as a real child process (`satchel-server serve --database
//! --sync-secret`), with tokens minted from its secret, for the sync end-to-end tests: on its own
//! SQLite file, or several processes sharing one PostgreSQL database and one secret.

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
        SyncServer::prepare(state)?;
        SyncServer::serve(state, None)
    }

    /// Makes a fresh state directory in `state`: a secret and an empty content folder, that
    /// several servers on one database ([`SyncServer::serve_database`]) share.
    pub fn prepare(state: &Path) -> Result<()> {
        std::fs::create_dir_all(state.join("content"))?;
        let status = Command::new(workspace_bin("satchel-server")?)
            .args(["sync-secret", "--out"])
            .arg(state.join("sync.secret"))
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("satchel-server sync-secret failed");
        }
        Ok(())
    }

    /// Serves the prepared `state` (its secret and content) with the sync state in `database`,
    /// a PostgreSQL URL several servers may share, on a free port.
    pub fn serve_database(state: &Path, database: &str) -> Result<SyncServer> {
        SyncServer::spawn(state, None, None, database.as_ref())
    }

    /// Serves an existing state directory, on `addr` if given (a restart on the same port).
    pub fn serve(state: &Path, addr: Option<SocketAddr>) -> Result<SyncServer> {
        SyncServer::serve_with(state, addr, None)
    }

    /// Like [`SyncServer::serve`], grading graded quizzes with the grading files in `grading`.
    pub fn serve_with(state: &Path, addr: Option<SocketAddr>, grading: Option<&Path>) -> Result<SyncServer> {
        SyncServer::spawn(state, addr, grading, state.join("sync.db").as_os_str())
    }

    fn spawn(
        state: &Path,
        addr: Option<SocketAddr>,
        grading: Option<&Path>,
        database: &std::ffi::OsStr,
    ) -> Result<SyncServer> {
        let listen = addr.map_or_else(|| "127.0.0.1:0".to_owned(), |a| a.to_string());
        let mut command = Command::new(workspace_bin("satchel-server")?);
        command
            .arg("serve")
            .arg(state.join("content"))
            .args(["--listen", &listen, "--database"])
            .arg(database)
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

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    pub fn peak_rss_kb(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"));
        match line.and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse().ok()) {
            Some(kb) => Ok(kb),
            None => bail!("no VmHWM in /proc/{}/status", self.child.id()),
        }
    }

    /// Stops the server with SIGKILL, wherever it is (its database stays).
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

//! Helpers for Satchel's end-to-end tests and benchmarks: finding the workspace's binaries,
//! running the reference server and nginx as real child processes, and the packed sample course.

pub mod bench;
pub mod fault_proxy;
pub mod lite;
pub mod nginx;
pub mod sample;
pub mod sync_device;
pub mod sync_server;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// A fresh account at `dir` trusting `trusted_keys`, on an unmetered network (so downloads and
/// sync may run at once).
pub fn open_account(dir: &Path, trusted_keys: Vec<String>) -> Result<std::sync::Arc<satchel_core::Satchel>> {
    let satchel = satchel_core::Satchel::open_blocking(
        dir.to_str().context("temp dir is not UTF-8")?.to_owned(),
        satchel_core::SatchelConfig { device_name: "e2e".into(), trusted_publisher_keys: trusted_keys },
    )?;
    satchel.set_network(satchel_core::downloads::NetworkType::Unmetered);
    Ok(satchel)
}

/// A binary built from this workspace (`satchel`, `satchel-server`), next to the running test.
///
/// `cargo test --workspace` (and `cargo xtask test`) build every binary before running tests.
pub fn workspace_bin(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> or target/<profile>/<bin>
    let mut dir = exe.parent().context("test executable has no directory")?.to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!("{} is missing: build the workspace first (cargo build --workspace)", path.display());
    }
    // `cargo test -p satchel-tests` does not rebuild other packages' binaries: refuse to test an
    // old build instead of passing on code that is no longer there.
    if let Some(newer) = newer_source(&path)? {
        bail!(
            "{} is older than {}: build the workspace first (cargo build --workspace)",
            path.display(),
            newer.display()
        );
    }
    Ok(path)
}

/// A source file of `binary` changed after it was built, if there is one. Cargo lists the files
/// a binary was built from in `<binary>.d` beside it (Makefile syntax, spaces escaped).
fn newer_source(binary: &Path) -> Result<Option<PathBuf>> {
    let built = std::fs::metadata(binary)?.modified()?;
    let dep_info = binary.with_extension("d");
    let text =
        std::fs::read_to_string(&dep_info).with_context(|| format!("reading {}", dep_info.display()))?;
    let Some((_, sources)) = text.lines().next().and_then(|line| line.split_once(": ")) else {
        bail!("{} does not list the sources", dep_info.display());
    };
    let unescaped = sources.replace("\\ ", "\u{0}");
    for source in unescaped.split(' ').filter(|s| !s.is_empty()) {
        let source = PathBuf::from(source.replace('\u{0}', " "));
        // A source gone since (a renamed file) would make cargo rebuild too.
        let changed = match std::fs::metadata(&source) {
            Ok(meta) => meta.modified()? > built,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e.into()),
        };
        if changed {
            return Ok(Some(source));
        }
    }
    Ok(None)
}

/// Delays for killing a child process at random moments: a small deterministic generator
/// (xorshift), so a failing trial can be replayed from its seed. Each is `min_ms` plus up to
/// `spread_ms`.
pub fn kill_delays(seed: u64, min_ms: u64, spread_ms: u64) -> impl Iterator<Item = std::time::Duration> {
    let mut x = seed;
    std::iter::from_fn(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        Some(std::time::Duration::from_millis(min_ms + x % spread_ms))
    })
}

/// Checks what a killed process left in an account: the database passes SQLite's integrity
/// check and every file in the content store hashes to its name. `Err` says what is wrong.
pub fn check_account_after_kill(account: &Path) -> Result<()> {
    let store = satchel_core::store::Store::open(account.join("satchel.db"))?;
    let integrity: String = store.read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))?;
    if integrity != "ok" {
        bail!("the database is damaged: {integrity}");
    }
    let blobs = account.join("content/blobs");
    let shards = match std::fs::read_dir(&blobs) {
        Ok(shards) => shards,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for shard in shards {
        for file in std::fs::read_dir(shard?.path())? {
            let file = file?;
            let name = file.file_name().to_string_lossy().into_owned();
            let actual = satchel_core::content::store::sha256_hex(&std::fs::read(file.path())?);
            if actual != name {
                bail!("the stored blob {name} hashes to {actual}");
            }
        }
    }
    Ok(())
}

/// The sample course manifest that the CLI demo bundles.
pub fn sample_manifest_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/sample/course-manifest.json")
}

/// `satchel-server serve DIR` on a free loopback port, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
}

/// The address a just-started `satchel-server serve` prints as its first line; kills the child
/// and fails if the line is anything else.
pub fn listening_addr(child: &mut std::process::Child) -> Result<SocketAddr> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first)?;
    match first.trim().strip_prefix("listening on http://") {
        Some(addr) => Ok(addr.parse()?),
        None => {
            let _ = child.kill();
            bail!("unexpected first line from satchel-server: {first:?}");
        }
    }
}

impl ServerProcess {
    pub fn serve(dir: &Path) -> Result<ServerProcess> {
        let mut child = Command::new(workspace_bin("satchel-server")?)
            .arg("serve")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let addr = listening_addr(&mut child)?;
        Ok(ServerProcess { child, addr })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A throwaway PostgreSQL cluster for the tests and benchmarks: PostgreSQL from Debian, a fresh
//! data directory in a temporary folder, listening on a free loopback port only, run by an
//! unprivileged system user (PostgreSQL refuses to run as root). Its URL goes to the tests in
//! [`URL_VAR`]; the PostgreSQL tests fail when it is missing, they never skip.
//!
//! The cluster is stopped on every way out: dropping [`Cluster`] (a normal return, an error, a
//! panic) shuts it down and deletes its folder; if xtask itself is killed, the kernel sends the
//! server SIGKILL (`setpriv --pdeathsig`), and Ctrl-C reaches it through the process group.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{paths, tools};

/// The environment variable the tests read the cluster's URL from.
pub const URL_VAR: &str = "SATCHEL_TEST_POSTGRES_URL";

/// Debian's PostgreSQL (15 on bookworm): the server, initdb and pg_isready.
const APT_PACKAGES: &[&str] = &["postgresql"];

/// The unprivileged user the cluster runs as when xtask runs as root.
const SYSTEM_USER: &str = "satchel-pg";

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How the cluster trades durability for speed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Tests: nothing is ever synced to disk (the data is thrown away anyway).
    Throwaway,
    /// Benchmarks: fsync on, commits not waited for (`synchronous_commit = off`), the same
    /// promise as the SQLite backend's WAL with `synchronous = NORMAL`: a killed server loses
    /// nothing, an OS crash may lose the last commits, which devices resend.
    LikeSqliteNormal,
}

/// A running cluster; stopped and deleted when dropped.
pub struct Cluster {
    child: Child,
    dir: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`: trust authentication, loopback only.
    pub url: String,
}

impl Cluster {
    /// Installs PostgreSQL if needed and starts a fresh cluster.
    pub fn start(durability: Durability) -> Result<Cluster> {
        let took = Instant::now();
        tools::ensure_apt_packages(APT_PACKAGES)?;
        let bin = server_bin_dir()?;
        let user = run_as_user()?;
        remove_stale_folders();
        let dir = std::env::temp_dir().join(format!("satchel-pg-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(dir.join("socket"))?;
        if let Some((uid, gid)) = user {
            for path in [&dir, &dir.join("socket")] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .with_context(|| format!("cannot give {} to {SYSTEM_USER}", path.display()))?;
            }
        }
        let data = dir.join("data");
        let log = std::fs::File::create(dir.join("initdb.log"))?;
        tools::run(
            as_user(user, &bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
                .stdout(log.try_clone()?)
                .stderr(log),
        )
        .with_context(|| format!("initdb failed; see {}", dir.join("initdb.log").display()))?;
        // A free port can be taken between our check and the server's bind: try a few.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            match start_server(user, &bin, &dir, port, durability) {
                Ok(child) => {
                    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
                    eprintln!(
                        "xtask: PostgreSQL on 127.0.0.1:{port} ({:.1} s)",
                        took.elapsed().as_secs_f64()
                    );
                    return Ok(Cluster { child, dir, url });
                }
                Err(error) => last_error = Some(error),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    /// `cargo ARGS` in the workspace root with the cluster's URL in [`URL_VAR`].
    pub fn cargo(&self, args: &[&str]) -> Result<()> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        tools::run(
            Command::new(cargo).args(args).env(URL_VAR, &self.url).current_dir(paths::workspace_root()),
        )
    }

    /// Waits until the server exits (Ctrl-C stops it): `cargo xtask postgres`.
    pub fn wait(mut self) -> Result<()> {
        let status = self.child.wait()?;
        eprintln!("xtask: PostgreSQL stopped ({status})");
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGQUIT: immediate shutdown, no checkpoint (the data is thrown away).
        let _ = Command::new("kill").args(["-QUIT", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_server(
    user: Option<(u32, u32)>,
    bin: &Path,
    dir: &Path,
    port: u16,
    durability: Durability,
) -> Result<Child> {
    let log_path = dir.join("postgres.log");
    let log = std::fs::File::create(&log_path)?;
    let mut command = as_user(user, &bin.join("postgres"));
    command
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-k"])
        .arg(dir.join("socket"))
        // Tests and benches open several pools at once (one per test, per server process).
        .args(["-c", "max_connections=300", "-c", "shared_buffers=128MB"]);
    let settings: &[&str] = match durability {
        Durability::Throwaway => &["fsync=off", "synchronous_commit=off", "full_page_writes=off"],
        Durability::LikeSqliteNormal => &["synchronous_commit=off"],
    };
    for setting in settings {
        command.args(["-c", setting]);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start postgres")?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("postgres exited with {status} while starting:\n{log}");
        }
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("postgres did not accept connections within {START_TIMEOUT:?}; see {}", log_path.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `program` run as [`SYSTEM_USER`] when we are root, killed if xtask dies.
fn as_user(user: Option<(u32, u32)>, program: &Path) -> Command {
    match user {
        Some((uid, gid)) => {
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid", &uid.to_string(), "--regid", &gid.to_string(), "--clear-groups"])
                .args(["--pdeathsig", "KILL", "--"])
                .arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// The uid and gid to run the cluster as: [`SYSTEM_USER`] (created if missing) when we are
/// root, `None` (ourselves) otherwise.
fn run_as_user() -> Result<Option<(u32, u32)>> {
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    if id(&["-u", SYSTEM_USER]).is_err() {
        tools::run(Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            SYSTEM_USER,
        ]))
        .with_context(|| format!("cannot create the system user {SYSTEM_USER}"))?;
    }
    Ok(Some((id(&["-u", SYSTEM_USER])?, id(&["-g", SYSTEM_USER])?)))
}

fn id(args: &[&str]) -> Result<u32> {
    let out = Command::new("id").args(args).stderr(Stdio::null()).output()?;
    if !out.status.success() {
        bail!("id {args:?} failed");
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// The newest installed PostgreSQL's bin folder (`/usr/lib/postgresql/N/bin`).
fn server_bin_dir() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .with_context(|| format!("{} is missing after installing {APT_PACKAGES:?}", root.display()))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!("no PostgreSQL server under {} after installing {APT_PACKAGES:?}", root.display()),
    }
}

/// Deletes the folders of clusters whose xtask was killed (SIGKILL skips [`Drop`]; the kernel
/// killed their server then): `satchel-pg-PID-…` whose PID is gone.
fn remove_stale_folders() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let Some(pid) =
            name.to_str().and_then(|n| n.strip_prefix("satchel-pg-")).and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn unique() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

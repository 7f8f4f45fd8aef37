//! A Debian 13 (trixie) chroot with Debian's Swift toolchain (`swiftlang`), kept in the tools
//! cache, for compiling and testing the iOS shell on Linux.
//!
//! Made once with `debootstrap --variant=minbase` from the host's own Debian mirror, then
//! `apt-get install -y swiftlang` inside (with recommends: without them libc6-dev is missing and
//! linking fails with "cannot find Scrt1.o"). A marker file written last says it is complete; a
//! chroot without it (an interrupted run) or without `swift` (a stale one) is rebuilt.
//!
//! Everything run inside goes through `unshare --mount` so its mounts (/proc, which
//! libswiftCore.so needs, and the bind mounts of the workspace) live in a private mount
//! namespace: they vanish with the last process in it on every exit path, failure, Ctrl-C and
//! SIGKILL included, and never appear in the host's mount table.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{apt_mirror, mountinfo, paths};

/// Host packages the set-up needs (util-linux's `unshare` and coreutils' `chroot` are essential).
pub const HOST_PACKAGES: &[&str] = &["debootstrap"];

const SUITE: &str = "trixie";
/// Written last: its presence means debootstrap and the Swift install both finished.
const MARKER: &str = ".satchel-swift-ready";
/// The compiler driver, relative to the chroot's root.
const SWIFT: &str = "usr/bin/swift";
/// The environment every command inside starts from: nothing of the host's leaks in.
const PATH_INSIDE: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a chroot directory holds, judged before it is used.
#[derive(Debug, PartialEq, Eq)]
pub enum ChrootState {
    /// Nothing there yet.
    Absent,
    /// A directory without the marker: an interrupted or failed set-up.
    HalfMade,
    /// Marked complete but `swift` is gone (an old cache, a damaged tree).
    Stale,
    Ready,
}

pub fn chroot_state(root: &Path) -> ChrootState {
    if !root.exists() {
        ChrootState::Absent
    } else if !root.join(MARKER).is_file() {
        ChrootState::HalfMade
    } else if !is_present(&root.join(SWIFT)) {
        ChrootState::Stale
    } else {
        ChrootState::Ready
    }
}

/// A file or a symlink (the driver is an absolute symlink, meaningful only inside the chroot;
/// whether it runs there is checked by running it).
fn is_present(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// A complete chroot, locked for this process until dropped (a second `cargo xtask test` waits
/// instead of rebuilding it under the first one's feet).
pub struct SwiftChroot {
    pub root: PathBuf,
    /// How long making (or checking) it took, and whether it was made now.
    pub took: Duration,
    pub built_now: bool,
    _lock: File,
}

/// Where the chroot lives: in the tools cache (`SATCHEL_TOOLS_DIR` overrides), beside its log.
pub fn chroot_dir() -> PathBuf {
    paths::tools_cache().join(format!("swift-{SUITE}"))
}

/// The set-up's log: debootstrap's and apt-get's output, which would drown the test output.
pub fn log_path() -> PathBuf {
    paths::tools_cache().join(format!("swift-{SUITE}.log"))
}

/// Makes the chroot if it is absent, half-made or stale, and checks that `swift` runs in it.
/// The host's `debootstrap` must be installed first (`HOST_PACKAGES`): installing it here could
/// race another apt-get of the same run for dpkg's lock.
pub fn ensure() -> Result<SwiftChroot> {
    let started = Instant::now();
    let root = chroot_dir();
    std::fs::create_dir_all(paths::tools_cache())?;
    let lock = File::create(paths::tools_cache().join(format!("swift-{SUITE}.lock")))?;
    lock.lock().context("cannot lock the Swift chroot")?;
    let state = chroot_state(&root);
    let built_now = state != ChrootState::Ready;
    match state {
        ChrootState::Ready => {}
        ChrootState::Absent => build(&root)?,
        ChrootState::HalfMade | ChrootState::Stale => {
            let why = if state == ChrootState::Stale { "has no swift" } else { "is half-made" };
            eprintln!("xtask: the Swift chroot {} {why}: rebuilding it", root.display());
            remove(&root)?;
            build(&root)?;
        }
    }
    let chroot = SwiftChroot { root, took: started.elapsed(), built_now, _lock: lock };
    let version = chroot.output(&["swift", "--version"], &[]).with_context(|| {
        format!("swift does not run in the chroot {}; delete it to rebuild it", chroot.root.display())
    })?;
    let first = version.lines().next().unwrap_or_default().to_owned();
    eprintln!(
        "xtask: Swift chroot {} in {:.0} s: {first}",
        if built_now { "made" } else { "reused" },
        chroot.took.as_secs_f64()
    );
    Ok(chroot)
}

/// debootstrap, then swiftlang, then the marker; output to the log, its last error in ours.
fn build(root: &Path) -> Result<()> {
    let mirror = apt_mirror::debian_mirror()?;
    let log_path = log_path();
    let mut log = File::create(&log_path)?;
    eprintln!(
        "xtask: making the Swift chroot {} from {mirror} (log: {})",
        root.display(),
        log_path.display()
    );
    writeln!(log, "debootstrap --variant=minbase {SUITE} {} {mirror}", root.display())?;
    // Low priority: it overlaps the Rust build on the same two cores. Its own mounts of /proc
    // and /sys in the target stay in a private namespace, like everything else here.
    let mut debootstrap = Command::new("nice");
    debootstrap
        .args([
            "-n",
            "10",
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "debootstrap",
            "--variant=minbase",
        ])
        .arg(SUITE)
        .arg(root)
        .arg(&mirror);
    run_logged(&mut debootstrap, &log_path)
        .with_context(|| format!("debootstrap of {SUITE} from {mirror} failed"))?;
    let chroot = Chroot { root };
    let mut install = chroot.command(Some(10), &["apt-get", "install", "-y", "-q", "swiftlang"], &[]);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run_logged(&mut install, &log_path).context("apt-get install swiftlang in the chroot failed")?;
    if !is_present(&root.join(SWIFT)) {
        bail!(
            "swiftlang installed but {} is missing (log: {})",
            root.join(SWIFT).display(),
            log_path.display()
        );
    }
    std::fs::write(root.join(MARKER), format!("{SUITE} from {mirror}, swiftlang installed\n"))?;
    Ok(())
}

/// Deletes a chroot that cannot be trusted, refusing while anything is mounted inside it
/// (deleting through a bind mount would delete what it shows).
fn remove(root: &Path) -> Result<()> {
    let mounted = mountinfo::mounted_under(root)?;
    if !mounted.is_empty() {
        bail!(
            "{} has mounts inside ({}): unmount them (umount -R) and run again",
            root.display(),
            mounted.join(", ")
        );
    }
    std::fs::remove_dir_all(root).with_context(|| format!("cannot remove the chroot {}", root.display()))
}

/// Runs a command with its output appended to the log; on failure the error carries the log's
/// last error line, so the one line printed says what went wrong.
fn run_logged(command: &mut Command, log_path: &Path) -> Result<()> {
    let log = File::options().append(true).open(log_path)?;
    let status = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    if !status.success() {
        let text = std::fs::read_to_string(log_path).unwrap_or_default();
        bail!("{} ({status}; log: {})", last_error_line(&text), log_path.display());
    }
    Ok(())
}

/// The last `E: …` line (debootstrap's and apt's errors), else the last non-empty line.
pub fn last_error_line(log: &str) -> String {
    let lines: Vec<&str> = log.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let error = lines.iter().rev().find(|l| l.starts_with("E: ")).or_else(|| lines.last());
    error.map(|l| (*l).to_owned()).unwrap_or_else(|| "no output".to_owned())
}

impl SwiftChroot {
    /// A command that runs `argv` inside the chroot with /proc mounted and each of `binds`
    /// (host directories) mounted at the same path, with a clean environment.
    pub fn command(&self, argv: &[&str], binds: &[&Path]) -> Command {
        Chroot { root: &self.root }.command(None, argv, binds)
    }

    fn output(&self, argv: &[&str], binds: &[&Path]) -> Result<String> {
        let output = self.command(argv, binds).stdin(Stdio::null()).output()?;
        if !output.status.success() {
            bail!(
                "{argv:?} failed with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Fails if any mount under the chroot is visible here: they all belong to private
    /// namespaces, so one left over means something else mounted it.
    pub fn check_unmounted(&self) -> Result<()> {
        let left = mountinfo::mounted_under(&self.root)?;
        if !left.is_empty() {
            bail!("mounts left in the Swift chroot: {}", left.join(", "));
        }
        Ok(())
    }
}

/// A root that may not be complete yet (used while building it).
struct Chroot<'a> {
    root: &'a Path,
}

/// Inside the new mount namespace: mount /proc and the binds, then enter the chroot.
const ENTER_SCRIPT: &str = r#"set -e
root=$1; shift
mount -t proc proc "$root/proc"
while [ "$1" != "--" ]; do
  mkdir -p "$root$1"
  mount --bind "$1" "$root$1"
  shift
done
shift
exec chroot "$root" "$@"
"#;

impl Chroot<'_> {
    /// `niceness`: run at that lower priority (the set-up, which overlaps the Rust build).
    fn command(&self, niceness: Option<u8>, argv: &[&str], binds: &[&Path]) -> Command {
        let mut command = Command::new("nice");
        command.arg("-n").arg(niceness.unwrap_or(0).to_string());
        command.args(["unshare", "--mount", "--propagation", "private", "sh", "-c", ENTER_SCRIPT, "sh"]);
        command.arg(self.root).args(binds).arg("--").args(argv);
        command.env_clear().env("PATH", PATH_INSIDE).env("HOME", "/root").env("LANG", "C.UTF-8");
        command
    }
}

/// Starts `ensure()` on a thread, so the download and unpacking (mostly I/O) overlap the Rust
/// build and tests; `join` hands over the chroot.
pub struct Background {
    handle: Option<std::thread::JoinHandle<Result<SwiftChroot>>>,
}

pub fn ensure_in_background() -> Background {
    eprintln!("xtask: preparing the Swift chroot in the background (log: {})", log_path().display());
    Background { handle: Some(std::thread::spawn(ensure)) }
}

impl Background {
    pub fn join(mut self) -> Result<SwiftChroot> {
        match self.handle.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => bail!("the Swift chroot set-up panicked"),
            None => bail!("the Swift chroot set-up was already joined"),
        }
    }
}

impl Drop for Background {
    /// An earlier phase failed: wait for the set-up rather than leave debootstrap running
    /// unsupervised after we exit (the next run would find it half-made and rebuild anyway).
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            eprintln!("xtask: waiting for the Swift chroot set-up to stop before exiting");
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-chroot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_chroot_is_ready_only_with_its_marker_and_swift() {
        let root = scratch("state");
        assert_eq!(chroot_state(&root), ChrootState::Absent);
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join(SWIFT), "").unwrap();
        assert_eq!(chroot_state(&root), ChrootState::HalfMade, "swift without the marker is not trusted");
        std::fs::write(root.join(MARKER), "done\n").unwrap();
        assert_eq!(chroot_state(&root), ChrootState::Ready);
        std::fs::remove_file(root.join(SWIFT)).unwrap();
        assert_eq!(chroot_state(&root), ChrootState::Stale);
        // As Debian installs it: an absolute symlink that only resolves inside the chroot.
        std::os::unix::fs::symlink("/nowhere/libexec/swift/bin/swift", root.join(SWIFT)).unwrap();
        assert_eq!(chroot_state(&root), ChrootState::Ready);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_last_error_line_of_a_log_is_the_message() {
        let log = "I: Retrieving InRelease\nE: Failed getting release file http://x/dists/trixie/Release\n\n";
        assert_eq!(last_error_line(log), "E: Failed getting release file http://x/dists/trixie/Release");
        assert_eq!(last_error_line("W: something\nfinal words\n"), "final words");
        assert_eq!(last_error_line(""), "no output");
    }
}

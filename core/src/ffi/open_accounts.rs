//! One `Satchel` per account directory in a process.
//!
//! An app's UI and a background Worker (WorkManager runs Workers in the app's process) both open
//! "the account". Two objects over one database would each have their own network state, run
//! lock and event hubs: a download run in one would not see the other's `set_network`, and two
//! runs would race for the same files. So opening a directory that is already open returns the
//! object already open, as long as the settings agree.
//!
//! The same holds while an account shuts down: `shutdown` waits up to 5 s for the download run
//! and the sync to write their last state, and an `open` in that time (a Worker starting as the
//! UI closes) waits for the close to finish, then opens the directory anew.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::{Satchel, SatchelConfig};
use crate::error::{Error, Result};

/// What an open account was opened with, to tell a second `open` that asks for something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OpenedWith {
    device_name: String,
    trusted_keys: BTreeSet<String>,
}

impl OpenedWith {
    pub(super) fn new(config: &SatchelConfig) -> OpenedWith {
        OpenedWith {
            device_name: config.device_name.trim().to_owned(),
            trusted_keys: config.trusted_publisher_keys.iter().map(|key| key.trim().to_owned()).collect(),
        }
    }

    /// A second open may leave the device name empty ("keep the stored one"); the trusted keys
    /// must be the same set.
    fn agrees_with(&self, other: &OpenedWith) -> bool {
        self.trusted_keys == other.trusted_keys
            && (other.device_name.is_empty() || other.device_name == self.device_name)
    }
}

/// Where an account's shutdown stands, shared by its `Satchel` and any `open` waiting for it.
#[derive(Debug, Default)]
pub(super) struct ShutdownState {
    phase: Mutex<Phase>,
    changed: Condvar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Open,
    /// `shutdown` was called and has not finished.
    Closing,
    /// The database is closed (or the shutdown ended in a failure: nothing will write any more).
    Closed,
}

impl ShutdownState {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `shutdown` started (again, harmlessly, if it already finished).
    pub(super) fn begin(&self) {
        let mut phase = self.phase();
        if *phase == Phase::Open {
            *phase = Phase::Closing;
        }
    }

    /// The shutdown is over, however it ended; wakes every `open` waiting for it.
    pub(super) fn finish(&self) {
        *self.phase() = Phase::Closed;
        self.changed.notify_all();
    }

    /// Waits until the shutdown is over or `deadline` passes; true if it is over.
    fn wait_closed(&self, deadline: Instant) -> bool {
        let mut phase = self.phase();
        while *phase != Phase::Closed {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
            phase = match self.changed.wait_timeout(phase, left) {
                Ok((phase, _)) => phase,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

/// Marks the shutdown over when dropped: also when the shutdown task fails or panics, so no
/// `open` waits for an account that will never close.
pub(super) struct FinishOnDrop(pub(super) Arc<ShutdownState>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// How long an `open` waits for the same directory's shutdown: its 5 s wait for runs to stop,
/// and the checkpoint and close after it. Past that, it opens anyway (and says so in the log).
const CLOSE_WAIT: Duration = Duration::from_secs(15);

fn open_accounts() -> &'static Mutex<HashMap<PathBuf, Weak<Satchel>>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Satchel>>>> = OnceLock::new();
    OPEN.get_or_init(Mutex::default)
}

fn lock() -> MutexGuard<'static, HashMap<PathBuf, Weak<Satchel>>> {
    open_accounts().lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The directory's canonical path, creating it first (so two spellings of one folder, e.g.
/// through a symlink or with `..`, are one account).
pub(super) fn canonical_dir(dir: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    Ok(std::fs::canonicalize(dir)?)
}

/// The `Satchel` open at `dir`, or the one `open` makes. Held under one lock, so two threads
/// opening the same directory at once get the same object; if the account there is shutting
/// down, waits (without the lock) for it to close, then opens it anew.
pub(super) fn open_or_share(
    dir: PathBuf,
    wanted: &OpenedWith,
    open: impl FnOnce(PathBuf) -> Result<Satchel>,
) -> Result<Arc<Satchel>> {
    let deadline = Instant::now() + CLOSE_WAIT;
    let mut accounts = loop {
        let mut accounts = lock();
        accounts.retain(|_, satchel| satchel.strong_count() > 0);
        let Some(satchel) = accounts.get(&dir).and_then(Weak::upgrade) else { break accounts };
        let phase = *satchel.shutdown_state().phase();
        match phase {
            Phase::Open if satchel.is_open() => {
                if !satchel.opened_with().agrees_with(wanted) {
                    return Err(Error::InvalidArgument(
                        "this account is already open in this process with other settings (device \
                         name or trusted publisher keys): open it once and share the object"
                            .into(),
                    ));
                }
                return Ok(satchel);
            }
            Phase::Closing => {
                drop(accounts);
                if !satchel.shutdown_state().wait_closed(deadline) {
                    tracing::warn!(
                        waited_ms = CLOSE_WAIT.as_millis() as u64,
                        "the account is still shutting down; opening it anyway"
                    );
                    break lock();
                }
            }
            Phase::Open | Phase::Closed => break accounts,
        }
    };
    let satchel = Arc::new(open(dir.clone())?);
    accounts.insert(dir, Arc::downgrade(&satchel));
    Ok(satchel)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;

    fn config(name: &str, keys: &[&str]) -> OpenedWith {
        OpenedWith::new(&SatchelConfig {
            device_name: name.into(),
            trusted_publisher_keys: keys.iter().map(|k| k.to_string()).collect(),
        })
    }

    #[test]
    fn settings_agree_when_keys_match_as_a_set_and_the_name_is_kept_or_the_same() {
        let opened = config("phone", &["a", "b"]);
        assert!(opened.agrees_with(&config("", &["b", "a"])));
        assert!(opened.agrees_with(&config(" phone ", &["a", "b"])));
        assert!(!opened.agrees_with(&config("tablet", &["a", "b"])));
        assert!(!opened.agrees_with(&config("", &["a"])));
        assert!(!opened.agrees_with(&config("", &["a", "b", "c"])));
    }

    #[test]
    fn an_open_during_a_shutdown_waits_for_it_and_then_opens_the_account_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_string_lossy().into_owned();
        let settings = SatchelConfig::default();
        let first = Satchel::open_blocking(path.clone(), settings.clone()).unwrap();
        assert!(Arc::ptr_eq(&first, &Satchel::open_blocking(path.clone(), settings.clone()).unwrap()));

        // A shutdown that has begun and not finished (as while it waits for a download run).
        first.shutdown_state().begin();
        let opening = {
            let (path, settings) = (path.clone(), settings.clone());
            std::thread::spawn(move || Satchel::open_blocking(path, settings).unwrap())
        };
        std::thread::sleep(Duration::from_millis(300));
        assert!(!opening.is_finished(), "an open went ahead while the account was still shutting down");

        first.shutdown_blocking().unwrap();
        let second = opening.join().unwrap();
        assert!(!Arc::ptr_eq(&first, &second), "the shut-down object was handed out again");
        assert!(second.is_open() && !first.is_open());
        assert!(Arc::ptr_eq(&second, &Satchel::open_blocking(path, settings).unwrap()));
        second.shutdown_blocking().unwrap();
    }

    #[test]
    fn a_shutdown_that_ends_however_it_ends_releases_the_waiting_opens() {
        let state = Arc::new(ShutdownState::default());
        state.begin();
        assert!(!state.wait_closed(Instant::now() + Duration::from_millis(50)), "closed before it finished");
        let waiter = {
            let state = Arc::clone(&state);
            std::thread::spawn(move || state.wait_closed(Instant::now() + Duration::from_secs(10)))
        };
        drop(FinishOnDrop(Arc::clone(&state)));
        assert!(waiter.join().unwrap());
        state.begin();
        assert_eq!(*state.phase(), Phase::Closed, "a second shutdown does not reopen the account");
    }
}

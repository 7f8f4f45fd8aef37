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
//!
//! Opens of one directory take turns; opens of different directories do not wait for each
//! other (opening runs the database's migrations, which may take a while on an old database).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
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

/// One directory's entry: the account open there, if any. Opening holds this lock (the
/// database initializer may run a long migration), so it serialises opens of one directory and
/// no other.
type Slot = Arc<Mutex<Weak<Satchel>>>;

/// The directories with an account open, or being opened. Held only to find a directory's slot.
fn registry() -> MutexGuard<'static, HashMap<PathBuf, Slot>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Slot>>> = OnceLock::new();
    OPEN.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lock_slot(slot: &Slot) -> MutexGuard<'_, Weak<Satchel>> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `dir`'s slot, made if it has none. Slots of closed accounts that no open is using are
/// dropped on the way; a slot being opened (locked) is kept.
fn slot_for(dir: &Path) -> Slot {
    let mut slots = registry();
    slots.retain(|_, slot| {
        Arc::strong_count(slot) > 1 || slot.try_lock().map_or(true, |account| account.strong_count() > 0)
    });
    Arc::clone(slots.entry(dir.to_path_buf()).or_default())
}

/// The directory's canonical path, creating it first (so two spellings of one folder, e.g.
/// through a symlink or with `..`, are one account).
pub(super) fn canonical_dir(dir: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    Ok(std::fs::canonicalize(dir)?)
}

/// The `Satchel` open at `dir`, or the one `open` makes. Opens of one directory take turns on
/// its slot, so two threads opening it at once get the same object, while opens of other
/// directories go ahead (a migration of one account holds up no other). If the account there
/// is shutting down, waits (without its slot) for it to close, then opens it anew.
pub(super) fn open_or_share(
    dir: PathBuf,
    wanted: &OpenedWith,
    open: impl FnOnce(PathBuf) -> Result<Satchel>,
) -> Result<Arc<Satchel>> {
    let deadline = Instant::now() + CLOSE_WAIT;
    let slot = slot_for(&dir);
    let mut current = lock_slot(&slot);
    while let Some(satchel) = current.upgrade() {
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
                drop(current);
                let closed = satchel.shutdown_state().wait_closed(deadline);
                current = lock_slot(&slot);
                if !closed {
                    tracing::warn!(
                        waited_ms = CLOSE_WAIT.as_millis() as u64,
                        "the account is still shutting down; opening it anyway"
                    );
                    break;
                }
            }
            Phase::Open | Phase::Closed => break,
        }
    }
    let satchel = Arc::new(open(dir)?);
    *current = Arc::downgrade(&satchel);
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
    fn a_slow_open_of_one_account_holds_up_opens_of_that_account_only() {
        let (slow_dir, other_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let path_of = |d: &tempfile::TempDir| d.path().to_string_lossy().into_owned();
        let (slow_path, other_path) = (path_of(&slow_dir), path_of(&other_dir));
        // An open of the first account that stays inside `open` (as during a long migration)
        // until released, then fails.
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let slow = {
            let dir = canonical_dir(&slow_path).unwrap();
            std::thread::spawn(move || {
                open_or_share(dir, &config("", &[]), move |_| {
                    entered_tx.send(()).unwrap();
                    released.recv().unwrap();
                    Err(Error::InvalidArgument("released".into()))
                })
                .is_err()
            })
        };
        entered.recv().unwrap();

        let (opened_tx, opened) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = opened_tx.send(Satchel::open_blocking(other_path, SatchelConfig::default()));
        });
        let same = {
            let path = slow_path.clone();
            std::thread::spawn(move || Satchel::open_blocking(path, SatchelConfig::default()).unwrap())
        };
        let other = opened.recv_timeout(Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(200));
        let same_waited = !same.is_finished();
        release.send(()).unwrap();
        let other = other.expect("another account's open waited for this one's").unwrap();
        assert!(other.is_open());
        assert!(same_waited, "an open of the same account went ahead while it was being opened");
        assert!(slow.join().unwrap(), "the slow open failed as told");
        let same = same.join().unwrap();
        assert!(same.is_open(), "after the failed open, the next one opens the account");
        same.shutdown_blocking().unwrap();
        other.shutdown_blocking().unwrap();
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

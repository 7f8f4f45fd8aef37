//! One `Satchel` per account directory in a process.
//!
//! An app's UI and a background Worker (WorkManager runs Workers in the app's process) both open
//! "the account". Two objects over one database would each have their own network state, run
//! lock and event hubs: a download run in one would not see the other's `set_network`, and two
//! runs would race for the same files. So opening a directory that is already open returns the
//! object already open, as long as the settings agree.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

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

fn open_accounts() -> &'static Mutex<HashMap<PathBuf, Weak<Satchel>>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Satchel>>>> = OnceLock::new();
    OPEN.get_or_init(Mutex::default)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Weak<Satchel>>> {
    open_accounts().lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The directory's canonical path, creating it first (so two spellings of one folder, e.g.
/// through a symlink or with `..`, are one account).
pub(super) fn canonical_dir(dir: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    Ok(std::fs::canonicalize(dir)?)
}

/// The `Satchel` open at `dir`, or the one `open` makes. Held under one lock, so two threads
/// opening the same directory at once get the same object.
pub(super) fn open_or_share(
    dir: PathBuf,
    wanted: &OpenedWith,
    open: impl FnOnce(PathBuf) -> Result<Satchel>,
) -> Result<Arc<Satchel>> {
    let mut accounts = lock();
    accounts.retain(|_, satchel| satchel.strong_count() > 0);
    if let Some(satchel) = accounts.get(&dir).and_then(Weak::upgrade)
        && satchel.is_open()
    {
        if !satchel.opened_with().agrees_with(wanted) {
            return Err(Error::InvalidArgument(
                "this account is already open in this process with other settings (device name or \
                 trusted publisher keys): open it once and share the object"
                    .into(),
            ));
        }
        return Ok(satchel);
    }
    let satchel = Arc::new(open(dir.clone())?);
    accounts.insert(dir, Arc::downgrade(&satchel));
    Ok(satchel)
}

/// Forgets `satchel` (it was shut down): the next `open` of its directory opens it anew.
pub(super) fn forget(satchel: &Satchel) {
    let mut accounts = lock();
    if accounts.get(satchel.dir_key()).is_some_and(|open| std::ptr::eq(open.as_ptr(), satchel)) {
        accounts.remove(satchel.dir_key());
    }
}

#[cfg(test)]
mod tests {
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
}

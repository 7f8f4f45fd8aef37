//! One learner account on this device: it makes the parts (its directory, database, content
//! store, download machinery, study clock and device identity) and holds them. It has no
//! operations of its own: each domain module takes the narrow piece it needs, and the FFI hands
//! them over (see docs/architecture.md, "Who may import whom").

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::content::fetch::LazyClient;
use crate::content::signed::parse_public_key;
use crate::content::store::ContentStore;
use crate::downloads::{DownloadService, Downloads};
use crate::error::{Error, Result};
use crate::learning::StudyClock;
use crate::store::{DATABASE_FILE, Store, meta};
use crate::sync::{self, SyncRuntime, SyncService, identity};
use crate::time::WallClock;

/// Everything the core holds open for one account. The FFI `Satchel` object wraps one of these.
pub struct Account {
    dir: PathBuf,
    store: Arc<Store>,
    device_id: Arc<str>,
    clock: Arc<StudyClock>,
    downloads: DownloadService,
    sync: SyncService,
}

impl Account {
    /// Opens the account stored in `dir`, creating the directory and database on first use.
    /// `device_name` is a label for the learner's device list ("Amina's phone"); empty keeps the
    /// one already stored. `trusted_publisher_keys` (base64 ed25519) are the keys course
    /// manifests must be signed with.
    pub fn open(
        dir: impl AsRef<Path>,
        device_name: &str,
        trusted_publisher_keys: &[String],
    ) -> Result<Account> {
        Account::open_with_clock(dir, device_name, trusted_publisher_keys, Arc::new(WallClock::system()))
    }

    /// Opens the account like [`Account::open`], telling time by `clock` instead of the system
    /// clock: for tests and demos of phones whose clocks are off (not offered through the FFI,
    /// where the phone's own clock is the truth).
    pub fn open_with_clock(
        dir: impl AsRef<Path>,
        device_name: &str,
        trusted_publisher_keys: &[String],
        clock: Arc<WallClock>,
    ) -> Result<Account> {
        let trusted_keys = trusted_publisher_keys
            .iter()
            .map(|key| parse_public_key(key).map_err(Error::InvalidArgument))
            .collect::<Result<Vec<_>>>()?;
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let store = Arc::new(Store::open_with_clock(dir.join(DATABASE_FILE), clock)?);
        let device_id = store.write(|tx| {
            if !device_name.trim().is_empty() {
                meta::put(tx, "device_name", device_name.trim())?;
            }
            // The device id is made once and kept, unless the database turns out to be a copy:
            // sync uses it to tell this device's changes from those of the learner's others.
            let identity = identity::settle(tx, &dir)?;
            if identity.replaced {
                sync::reset::start_over_as_new_device(tx, &identity.device_id)?;
            }
            sync::backfill::run_if_needed(tx, &identity.device_id)?;
            Ok(identity.device_id)
        })?;
        identity::write_file(&dir, &device_id)?;
        let device_id: Arc<str> = device_id.into();
        let clock = Arc::new(StudyClock::default());
        let live_downloads = Arc::new(Downloads::default());
        let downloads = DownloadService::new(
            Arc::clone(&store),
            ContentStore::new(dir.join("content")),
            Arc::clone(&live_downloads),
            Arc::clone(&clock),
            LazyClient::default(),
            trusted_keys.into(),
        );
        let sync = SyncService::new(
            Arc::clone(&store),
            Arc::clone(&device_id),
            live_downloads,
            Arc::new(SyncRuntime::default()),
        );
        Ok(Account { dir, store, device_id, clock, downloads, sync })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Measures learning time between progress reports (in memory).
    pub fn clock(&self) -> &StudyClock {
        &self.clock
    }

    /// The verified content directory.
    pub fn content(&self) -> &ContentStore {
        self.downloads.content()
    }

    /// The download queue's live machinery (network, running transfers, events).
    pub fn downloads(&self) -> &Downloads {
        self.downloads.downloads()
    }

    /// Fetching courses and files, the queue and storage: the download operations.
    pub fn download_service(&self) -> &DownloadService {
        &self.downloads
    }

    /// Sync's operations over this account's store, network and data meter.
    pub fn sync(&self) -> &SyncService {
        &self.sync
    }

    /// This installation's stable id.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }
}

impl Account {
    /// Stops the running download run and sync, waits up to `wait` for them to write their
    /// last state, then checkpoints and closes the database. Work that has not stopped by then
    /// finds the store closed; everything it did before stays resumable.
    pub async fn shut_down(self: Arc<Self>, wait: std::time::Duration) -> Result<()> {
        let account = Arc::clone(&self);
        // Both told to stop at once, then waited for: the two stop in parallel.
        self.sync.shutdown();
        self.downloads().stop_run();
        let stopped = tokio::time::timeout(wait, async move {
            account.sync.shutdown_and_wait().await;
            account.downloads().stop_run_and_wait().await;
        })
        .await;
        if stopped.is_err() {
            tracing::warn!(waited_ms = wait.as_millis() as u64, "closing while a run is still stopping");
        }
        crate::runtime::run_blocking(move || self.store.close()).await
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        // The trigger task holds the sync machinery, not the account: stop it with the account.
        self.sync.shutdown();
    }
}

//! One learner account on this device: its directory, its database and its device identity.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ed25519_dalek::VerifyingKey;

use rusqlite::Transaction;

use crate::content::fetch::ContentClient;
use crate::content::signed::parse_public_key;
use crate::content::store::ContentStore;
use crate::downloads::Downloads;
use crate::error::{Error, Result};
use crate::learning::StudyClock;
use crate::store::{DATABASE_FILE, Store};
use crate::sync::{self, SyncRuntime, SyncService, identity};

/// Everything the core holds open for one account. The FFI `Satchel` object wraps one of these.
pub struct Account {
    dir: PathBuf,
    store: Arc<Store>,
    device_id: Arc<str>,
    clock: StudyClock,
    content: ContentStore,
    trusted_keys: Vec<VerifyingKey>,
    client: OnceLock<ContentClient>,
    downloads: Arc<Downloads>,
    sync: Arc<SyncRuntime>,
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
        let trusted_keys = trusted_publisher_keys
            .iter()
            .map(|key| parse_public_key(key).map_err(Error::InvalidArgument))
            .collect::<Result<Vec<_>>>()?;
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let store = Store::open(dir.join(DATABASE_FILE))?;
        let device_id = store.write(|tx| {
            if !device_name.trim().is_empty() {
                set_meta(tx, "device_name", device_name.trim())?;
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
        Ok(Account {
            content: ContentStore::new(dir.join("content")),
            dir,
            store: Arc::new(store),
            device_id: device_id.into(),
            clock: StudyClock::default(),
            trusted_keys,
            client: OnceLock::new(),
            downloads: Arc::new(Downloads::default()),
            sync: Arc::new(SyncRuntime::default()),
        })
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
        &self.content
    }

    /// Publisher keys manifests must be signed with.
    pub fn trusted_keys(&self) -> &[VerifyingKey] {
        &self.trusted_keys
    }

    /// The HTTP client for content, made on first use.
    pub fn content_client(&self) -> Result<ContentClient> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let client = ContentClient::new()?;
        Ok(self.client.get_or_init(|| client).clone())
    }

    /// The download queue's live machinery (network, running transfers, events).
    pub fn downloads(&self) -> &Downloads {
        &self.downloads
    }

    /// Sync's operations over this account's store, network and meter.
    pub fn sync(&self) -> SyncService {
        SyncService::new(
            Arc::clone(&self.store),
            Arc::clone(&self.device_id),
            Arc::clone(&self.downloads),
            Arc::clone(&self.sync),
        )
    }

    /// Stops sync's background work (the account is closing).
    pub fn stop_background_work(&self) {
        self.sync.shutdown();
    }

    /// This installation's stable id.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }
}

fn set_meta(tx: &Transaction<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

impl Drop for Account {
    fn drop(&mut self) {
        self.sync.shutdown();
    }
}

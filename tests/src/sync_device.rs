//! A learner's device for the sync end-to-end tests: a real account (its own directory and
//! SQLite file, optionally its own wrong clock) with the sample course imported, and the token
//! provider a shell would hand the core.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use satchel_core::downloads::NetworkType;
use satchel_core::learning::progress;
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncOutcome, SyncReport, SyncTuning, TokenProvider};
use satchel_core::time::WallClock;
use satchel_core::{Satchel, SatchelConfig};

pub const VIDEO: &str = "web-basics.what-happens";
pub const SECOND_VIDEO: &str = "web-basics.dns";
pub const READING: &str = "web-basics.reading-urls";
pub const PRACTICE: &str = "web-basics.http-quiz";
pub const GRADED: &str = "web-basics.final-quiz";
pub const COURSE: &str = "web-basics";

/// Tokens as a shell hands them over: the current one, and what `refresh` gives next.
pub struct Tokens {
    pub current: Mutex<String>,
    pub next: Mutex<Option<String>>,
    pub refreshes: AtomicU32,
}

impl Tokens {
    pub fn new(token: String) -> Arc<Tokens> {
        Arc::new(Tokens { current: Mutex::new(token), next: Mutex::new(None), refreshes: AtomicU32::new(0) })
    }
}

impl TokenProvider for Tokens {
    fn token(&self) -> Option<String> {
        Some(self.current.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn refresh(&self) -> Option<String> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        let next = self.next.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = next.clone();
        Some(next)
    }
}

/// One of the learner's devices (its account directory lives as long as it does).
pub struct Device {
    pub satchel: Arc<Satchel>,
    pub dir: tempfile::TempDir,
    pub clock: Arc<WallClock>,
}

impl Device {
    /// A new device with the system clock.
    pub fn open(name: &str) -> Result<Device> {
        Device::open_with_clock(name, 0)
    }

    /// A new device whose clock is `offset_ms` off the system's.
    pub fn open_with_clock(name: &str, offset_ms: i64) -> Result<Device> {
        let dir = tempfile::tempdir()?;
        let clock = Arc::new(WallClock::offset_by(offset_ms));
        let satchel = open_account_with_clock(dir.path(), name, Arc::clone(&clock))?;
        let manifest = std::fs::read_to_string(crate::sample_manifest_path())?;
        runtime().block_on(satchel.import_manifest(manifest))?;
        Ok(Device { satchel, dir, clock })
    }

    /// Points the device at `url` with `tokens`, on Wi-Fi, with fast retries and no timers.
    pub fn connect(&self, url: &str, tokens: Arc<dyn TokenProvider>) -> Result<()> {
        self.connect_with(url, tokens, quick_tuning())
    }

    pub fn connect_with(&self, url: &str, tokens: Arc<dyn TokenProvider>, tuning: SyncTuning) -> Result<()> {
        self.connect_on(NetworkType::Unmetered, url, tokens, tuning)
    }

    /// Like `connect_with`, on `network`. The network is set before sync is configured, so it is
    /// not a reconnect: no background sync starts that could race the test's own `sync`.
    pub fn connect_on(
        &self,
        network: NetworkType,
        url: &str,
        tokens: Arc<dyn TokenProvider>,
        tuning: SyncTuning,
    ) -> Result<()> {
        let account = self.satchel.account();
        account.downloads().set_network(network);
        account.sync().set_tuning(tuning);
        self.satchel.configure_sync(url.to_owned(), tokens)?;
        Ok(())
    }

    pub fn sync(&self) -> Result<SyncReport> {
        Ok(runtime().block_on(self.satchel.sync(30_000))?)
    }

    /// Plays `lesson` from `from_s` to `to_s` seconds in 5-second ticks, 5 s of learning each.
    pub fn play(&self, lesson: &str, from_s: i64, to_s: i64) -> Result<()> {
        let account = self.satchel.account();
        let mut t = Instant::now();
        let mut s = from_s;
        while s <= to_s {
            progress::record_playback_at(
                account.store(),
                account.clock(),
                account.device_id(),
                lesson,
                s * 1000,
                t,
            )?;
            t += Duration::from_secs(5);
            s += 5;
        }
        account.clock().end_session();
        Ok(())
    }

    pub fn pending(&self) -> Result<i32> {
        Ok(runtime().block_on(self.satchel.pending_changes())?)
    }
}

/// Fast retries, a short stall timeout and no periodic sync: what the tests want.
pub fn quick_tuning() -> SyncTuning {
    SyncTuning {
        stall_timeout: Duration::from_secs(2),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        period: None,
        ..SyncTuning::default()
    }
}

pub fn open_account(dir: &Path, name: &str) -> Result<Arc<Satchel>> {
    open_account_with_clock(dir, name, Arc::new(WallClock::system()))
}

fn open_account_with_clock(dir: &Path, name: &str, clock: Arc<WallClock>) -> Result<Arc<Satchel>> {
    let dir = dir.to_str().context("a temporary directory that is not UTF-8")?.to_owned();
    let config = SatchelConfig { device_name: name.into(), trusted_publisher_keys: vec![] };
    Ok(Satchel::open_with_clock(dir, config, clock)?)
}

/// The sync ran to the end and nothing is left to send.
pub fn is_finished(report: &SyncReport) -> bool {
    report.outcome == SyncOutcome::Finished && report.remaining == 0
}

impl Device {
    /// Damages the pending outbox entry of `kind` the way a buggy older build might have written
    /// it: sets `field` of its record to `value` (the server will refuse it).
    pub fn damage_pending(&self, kind: &str, field: &str, value: serde_json::Value) -> Result<()> {
        let (kind, field) = (kind.to_owned(), field.to_owned());
        self.satchel.account().store().write(move |tx| {
            let change: String =
                tx.query_row("SELECT change FROM outbox WHERE entity_kind = ?1", [&kind], |r| r.get(0))?;
            let mut record: serde_json::Value = serde_json::from_str(&change).map_err(|e| {
                satchel_core::Error::Internal(format!("an outbox change that is not JSON: {e}"))
            })?;
            record[field.as_str()] = value;
            tx.execute("UPDATE outbox SET change = ?1 WHERE entity_kind = ?2", [record.to_string(), kind])?;
            Ok(())
        })?;
        Ok(())
    }
}

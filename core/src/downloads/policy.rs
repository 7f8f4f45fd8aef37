//! The learner's network policy and data budget, and the byte counts behind them.
//!
//! The shell reports the network type (it knows: ConnectivityManager, NWPathMonitor); the
//! learner's settings say whether cellular may be used at all and how many bytes a month it may
//! take. Bytes are counted as they arrive and flushed to `data_usage` with each progress save, so
//! a kill loses at most a second of counting.

use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{DownloadState, lock};
use crate::catalog::RenditionKind;
use crate::error::{Error, Result};
use crate::store::meta;

/// The kind of network the phone is on, as the shell reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkType {
    /// No connection (or not reported yet).
    None,
    /// Wi-Fi, Ethernet or any network the OS calls unmetered.
    Unmetered,
    /// Cellular, a hotspot, or any network the OS calls metered: costs the learner money.
    Metered,
}

/// The learner's download settings. Stored in the account's database.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DownloadSettings {
    /// Download only on unmetered networks (the default, as in most learning apps).
    pub wifi_only: bool,
    /// Bytes a calendar month (UTC) downloads may take on metered networks; `None` for no limit.
    pub monthly_cellular_budget_bytes: Option<u64>,
    /// Most bytes Satchel's downloaded content may occupy; `None` for no quota. Going over evicts
    /// the least recently studied courses.
    pub storage_quota_bytes: Option<u64>,
    /// Downloads running at once (1–8).
    pub max_concurrent_downloads: u32,
}

impl Default for DownloadSettings {
    fn default() -> Self {
        DownloadSettings {
            wifi_only: true,
            monthly_cellular_budget_bytes: None,
            storage_quota_bytes: None,
            max_concurrent_downloads: 2,
        }
    }
}

const SETTINGS_KEY: &str = "download_settings";

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSettings {
    wifi_only: bool,
    budget: Option<u64>,
    quota: Option<u64>,
    concurrent: u32,
}

pub fn settings(conn: &Connection) -> Result<DownloadSettings> {
    let stored = meta::get(conn, SETTINGS_KEY)?;
    let Some(text) = stored else { return Ok(DownloadSettings::default()) };
    let s: StoredSettings =
        serde_json::from_str(&text).map_err(|e| Error::corrupt("download settings", e.to_string()))?;
    Ok(DownloadSettings {
        wifi_only: s.wifi_only,
        monthly_cellular_budget_bytes: s.budget,
        storage_quota_bytes: s.quota,
        max_concurrent_downloads: s.concurrent.clamp(1, 8),
    })
}

pub fn set_settings(tx: &Transaction<'_>, settings: &DownloadSettings) -> Result<()> {
    if !(1..=8).contains(&settings.max_concurrent_downloads) {
        return Err(Error::invalid("max_concurrent_downloads must be between 1 and 8"));
    }
    let text = serde_json::to_string(&StoredSettings {
        wifi_only: settings.wifi_only,
        budget: settings.monthly_cellular_budget_bytes,
        quota: settings.storage_quota_bytes,
        concurrent: settings.max_concurrent_downloads,
    })?;
    meta::put(tx, SETTINGS_KEY, &text)
}

/// What the current network and settings allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// No download may run: offline, or metered with "Wi-Fi only".
    NoNetwork,
    /// Downloads may take this many more bytes (metered with a budget).
    Budget(u64),
    Unlimited,
}

pub fn allowance(settings: &DownloadSettings, network: NetworkType, metered_used: u64) -> Allowance {
    match network {
        NetworkType::None => Allowance::NoNetwork,
        NetworkType::Metered if settings.wifi_only => Allowance::NoNetwork,
        NetworkType::Metered => match settings.monthly_cellular_budget_bytes {
            Some(budget) => Allowance::Budget(budget.saturating_sub(metered_used)),
            None => Allowance::Unlimited,
        },
        NetworkType::Unmetered => Allowance::Unlimited,
    }
}

/// Data used this month and saved by choosing lite.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DataUsage {
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub metered_bytes: u64,
    pub unmetered_bytes: u64,
    pub monthly_cellular_budget_bytes: Option<u64>,
    /// What the full renditions of the lessons downloaded as lite would have cost, minus what
    /// the lite ones did: the learner's saving, over all time.
    pub saved_by_lite_bytes: u64,
}

pub fn data_usage(conn: &Connection, now_ms: i64) -> Result<DataUsage> {
    let month = month_of(now_ms);
    let used = |network: &str| -> Result<u64> {
        Ok(conn
            .prepare_cached("SELECT bytes FROM data_usage WHERE month = ?1 AND network = ?2")?
            .query_row(params![month, network], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    };
    let saved: i64 = conn.query_row(
        "SELECT COALESCE(SUM(MAX(f.bytes - lite.bytes, 0)), 0)
         FROM download d
         JOIN rendition lite ON lite.lesson_id = d.lesson_id AND lite.kind = ?1
         JOIN rendition f ON f.lesson_id = d.lesson_id AND f.kind = ?2
         WHERE d.rendition = ?1 AND d.state = ?3",
        params![RenditionKind::Lite, RenditionKind::Full, DownloadState::Done],
        |r| r.get(0),
    )?;
    Ok(DataUsage {
        metered_bytes: used("metered")?,
        unmetered_bytes: used("unmetered")?,
        monthly_cellular_budget_bytes: settings(conn)?.monthly_cellular_budget_bytes,
        saved_by_lite_bytes: u64::try_from(saved).unwrap_or(0),
        month,
    })
}

/// `YYYY-MM` of a UTC time in milliseconds.
pub fn month_of(now_ms: i64) -> String {
    let days = now_ms.div_euclid(86_400_000);
    // Civil-from-days (Howard Hinnant's algorithm), valid for any date after year 0.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}")
}

/// Bytes received and not yet written to `data_usage`, per network.
#[derive(Debug, Default)]
pub struct Meter {
    pending: Mutex<[u64; 2]>,
}

impl Meter {
    pub fn add(&self, network: NetworkType, bytes: u64) {
        let mut pending = lock(&self.pending);
        match network {
            NetworkType::Metered => pending[0] += bytes,
            NetworkType::Unmetered => pending[1] += bytes,
            NetworkType::None => {}
        }
    }

    /// Metered bytes counted but not yet flushed.
    pub fn pending_metered(&self) -> u64 {
        lock(&self.pending)[0]
    }

    /// Writes the pending counts into `data_usage` (in the caller's transaction).
    pub fn flush(&self, tx: &Transaction<'_>, now_ms: i64) -> Result<()> {
        let taken = std::mem::take(&mut *lock(&self.pending));
        let month = month_of(now_ms);
        for (network, bytes) in [("metered", taken[0]), ("unmetered", taken[1])] {
            if bytes == 0 {
                continue;
            }
            let result = tx
                .prepare_cached(
                    "INSERT INTO data_usage (month, network, bytes) VALUES (?1, ?2, ?3)
                     ON CONFLICT (month, network) DO UPDATE SET bytes = bytes + excluded.bytes",
                )?
                .execute(params![month, network, bytes]);
            if let Err(e) = result {
                // Put the counts back: the next flush tries again.
                self.add(
                    if network == "metered" { NetworkType::Metered } else { NetworkType::Unmetered },
                    bytes,
                );
                return Err(e.into());
            }
        }
        Ok(())
    }
}

/// Metered bytes already recorded this month.
pub fn metered_used(conn: &Connection, now_ms: i64) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT bytes FROM data_usage WHERE month = ?1 AND network = 'metered'")?
        .query_row([month_of(now_ms)], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc_calendar_months() {
        assert_eq!(month_of(0), "1970-01");
        assert_eq!(month_of(1_795_453_700_730), "2026-11");
        // 2024-02-29T23:59:59.999Z and one millisecond later.
        assert_eq!(month_of(1_709_251_199_999), "2024-02");
        assert_eq!(month_of(1_709_251_200_000), "2024-03");
        assert_eq!(month_of(-1), "1969-12");
    }

    #[test]
    fn the_network_and_settings_decide_what_may_run() {
        let mut s = DownloadSettings::default();
        assert_eq!(allowance(&s, NetworkType::None, 0), Allowance::NoNetwork);
        assert_eq!(allowance(&s, NetworkType::Metered, 0), Allowance::NoNetwork);
        assert_eq!(allowance(&s, NetworkType::Unmetered, 0), Allowance::Unlimited);
        s.wifi_only = false;
        assert_eq!(allowance(&s, NetworkType::Metered, 0), Allowance::Unlimited);
        s.monthly_cellular_budget_bytes = Some(1000);
        assert_eq!(allowance(&s, NetworkType::Metered, 400), Allowance::Budget(600));
        assert_eq!(allowance(&s, NetworkType::Metered, 4000), Allowance::Budget(0));
        assert_eq!(allowance(&s, NetworkType::Unmetered, 4000), Allowance::Unlimited);
    }
}

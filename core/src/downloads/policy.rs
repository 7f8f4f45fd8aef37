//! The learner's network policy and data budget, and the byte counts behind them.
//!
//! The shell reports the network type (it knows: ConnectivityManager, NWPathMonitor); the
//! learner's settings say whether cellular may be used at all and how many bytes a month it may
//! take. Bytes are counted as they arrive and flushed to `data_usage` with each progress save, so
//! a kill loses at most a second of counting.

use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{DownloadState, lock};
use crate::api_int::{non_negative, non_negative_u32, to_i64};
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
    pub monthly_cellular_budget_bytes: Option<i64>,
    /// Most bytes Satchel's downloaded content may occupy; `None` for no quota. Going over evicts
    /// the least recently studied courses.
    pub storage_quota_bytes: Option<i64>,
    /// Downloads running at once (1–8).
    pub max_concurrent_downloads: i32,
}

impl DownloadSettings {
    /// The monthly cellular budget as the core counts it (validated non-negative on the way in).
    pub(crate) fn budget(&self) -> Option<u64> {
        self.monthly_cellular_budget_bytes.map(i64::unsigned_abs)
    }

    /// The storage quota as the core counts it.
    pub(crate) fn quota(&self) -> Option<u64> {
        self.storage_quota_bytes.map(i64::unsigned_abs)
    }
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
        monthly_cellular_budget_bytes: s.budget.map(crate::api_int::to_i64),
        storage_quota_bytes: s.quota.map(crate::api_int::to_i64),
        max_concurrent_downloads: crate::api_int::to_i32(s.concurrent.clamp(1, 8)),
    })
}

pub fn set_settings(tx: &Transaction<'_>, settings: &DownloadSettings) -> Result<()> {
    if !(1..=8).contains(&settings.max_concurrent_downloads) {
        return Err(Error::invalid("max_concurrent_downloads must be between 1 and 8"));
    }
    let budget = settings.monthly_cellular_budget_bytes;
    let quota = settings.storage_quota_bytes;
    let text = serde_json::to_string(&StoredSettings {
        wifi_only: settings.wifi_only,
        budget: budget.map(|b| non_negative("monthly_cellular_budget_bytes", b)).transpose()?,
        quota: quota.map(|q| non_negative("storage_quota_bytes", q)).transpose()?,
        concurrent: non_negative_u32("max_concurrent_downloads", settings.max_concurrent_downloads)?,
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
        NetworkType::Metered => match settings.budget() {
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
    pub metered_bytes: i64,
    pub unmetered_bytes: i64,
    pub monthly_cellular_budget_bytes: Option<i64>,
    /// What the full renditions of the lessons downloaded as lite would have cost, minus what
    /// the lite ones did: the learner's saving, over all time.
    pub saved_by_lite_bytes: i64,
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
        metered_bytes: to_i64(used("metered")?),
        unmetered_bytes: to_i64(used("unmetered")?),
        monthly_cellular_budget_bytes: settings(conn)?.monthly_cellular_budget_bytes,
        // The query clamps each lesson's saving at 0, so the sum is never negative.
        saved_by_lite_bytes: saved,
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

    /// Writes the pending counts into `data_usage` (in the caller's transaction). On an error
    /// every count taken is put back: the caller's transaction rolls back, so the next flush
    /// must write them all again.
    pub fn flush(&self, tx: &Transaction<'_>, now_ms: i64) -> Result<()> {
        let taken = std::mem::take(&mut *lock(&self.pending));
        let result = write_usage(tx, &month_of(now_ms), taken);
        if result.is_err() {
            let mut pending = lock(&self.pending);
            pending[0] += taken[0];
            pending[1] += taken[1];
        }
        result
    }
}

fn write_usage(tx: &Transaction<'_>, month: &str, [metered, unmetered]: [u64; 2]) -> Result<()> {
    for (network, bytes) in [("metered", metered), ("unmetered", unmetered)] {
        if bytes == 0 {
            continue;
        }
        tx.prepare_cached(
            "INSERT INTO data_usage (month, network, bytes) VALUES (?1, ?2, ?3)
             ON CONFLICT (month, network) DO UPDATE SET bytes = bytes + excluded.bytes",
        )?
        .execute(params![month, network, bytes])?;
    }
    Ok(())
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

    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        (dir, store)
    }

    /// Days in a month of the proleptic Gregorian calendar.
    fn days_in(year: i64, month: i64) -> i64 {
        match month {
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    #[test]
    fn month_of_agrees_with_walking_the_calendar_month_by_month() {
        const DAY: i64 = 86_400_000;
        // Forward from 1970-01 to 2970, then backward to year 1: the first and the last
        // millisecond of every month.
        let (mut year, mut month, mut first_day) = (1970, 1, 0);
        for _ in 0..12 * 1000 {
            let len = days_in(year, month);
            let expected = format!("{year:04}-{month:02}");
            assert_eq!(month_of(first_day * DAY), expected);
            assert_eq!(month_of((first_day + len) * DAY - 1), expected);
            first_day += len;
            (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
        }
        let (mut year, mut month, mut end_day) = (1969, 12, 0);
        while year > 0 {
            let len = days_in(year, month);
            let expected = format!("{year:04}-{month:02}");
            assert_eq!(month_of((end_day - len) * DAY), expected);
            assert_eq!(month_of(end_day * DAY - 1), expected);
            end_day -= len;
            (year, month) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
        }
    }

    #[test]
    fn settings_are_the_defaults_until_set_then_read_back_as_stored() {
        let (_d, store) = store();
        assert_eq!(store.read(settings).unwrap(), DownloadSettings::default());
        let chosen = DownloadSettings {
            wifi_only: false,
            monthly_cellular_budget_bytes: Some(5_000_000),
            storage_quota_bytes: Some(700_000_000),
            max_concurrent_downloads: 8,
        };
        store.write(|tx| set_settings(tx, &chosen)).unwrap();
        assert_eq!(store.read(settings).unwrap(), chosen);
        let one = DownloadSettings { max_concurrent_downloads: 1, ..chosen.clone() };
        store.write(|tx| set_settings(tx, &one)).unwrap();
        assert_eq!(store.read(settings).unwrap(), one);
    }

    #[test]
    fn concurrency_outside_one_to_eight_is_refused_and_changes_nothing() {
        let (_d, store) = store();
        let kept = DownloadSettings { max_concurrent_downloads: 3, ..DownloadSettings::default() };
        store.write(|tx| set_settings(tx, &kept)).unwrap();
        for bad in [0, 9, -1, i32::MAX, i32::MIN] {
            let wrong = DownloadSettings { max_concurrent_downloads: bad, ..DownloadSettings::default() };
            let result = store.write(|tx| set_settings(tx, &wrong));
            assert!(matches!(result, Err(Error::InvalidArgument(_))), "{bad}: {result:?}");
            assert_eq!(store.read(settings).unwrap(), kept);
        }
    }

    #[test]
    fn stored_settings_out_of_range_are_clamped_and_unreadable_ones_are_corrupt() {
        let (_d, store) = store();
        let stored = |concurrent: u32| {
            let text =
                format!(r#"{{"wifi_only":true,"budget":null,"quota":null,"concurrent":{concurrent}}}"#);
            store.write(|tx| meta::put(tx, SETTINGS_KEY, &text)).unwrap();
            store.read(settings).unwrap().max_concurrent_downloads
        };
        assert_eq!(stored(0), 1);
        assert_eq!(stored(40), 8);
        assert_eq!(stored(5), 5);
        store.write(|tx| meta::put(tx, SETTINGS_KEY, "{not json")).unwrap();
        assert!(matches!(store.read(settings), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn the_meter_counts_per_network_and_flushes_into_this_months_usage() {
        let (_d, store) = store();
        let now = 1_795_453_700_730; // 2026-11
        let next_month = now + 31 * 86_400_000;
        let meter = Meter::default();
        meter.add(NetworkType::Metered, 100);
        meter.add(NetworkType::Metered, 20);
        meter.add(NetworkType::Unmetered, 50);
        meter.add(NetworkType::None, 7);
        assert_eq!(meter.pending_metered(), 120);
        assert_eq!(store.read(|c| metered_used(c, now)).unwrap(), 0);

        store.write(|tx| meter.flush(tx, now)).unwrap();
        assert_eq!(meter.pending_metered(), 0);
        assert_eq!(store.read(|c| metered_used(c, now)).unwrap(), 120);
        // Flushing again writes nothing more; new bytes add to the month's count.
        store.write(|tx| meter.flush(tx, now)).unwrap();
        meter.add(NetworkType::Metered, 5);
        store.write(|tx| meter.flush(tx, now)).unwrap();
        assert_eq!(store.read(|c| metered_used(c, now)).unwrap(), 125);
        let usage = store.read(|c| data_usage(c, now)).unwrap();
        assert_eq!((usage.month.as_str(), usage.metered_bytes, usage.unmetered_bytes), ("2026-11", 125, 50));
        assert_eq!(usage.saved_by_lite_bytes, 0);

        // A new month starts from zero.
        assert_eq!(store.read(|c| metered_used(c, next_month)).unwrap(), 0);
        meter.add(NetworkType::Unmetered, 9);
        store.write(|tx| meter.flush(tx, next_month)).unwrap();
        let usage = store.read(|c| data_usage(c, next_month)).unwrap();
        assert_eq!((usage.month.as_str(), usage.metered_bytes, usage.unmetered_bytes), ("2026-12", 0, 9));
        assert_eq!(store.read(|c| metered_used(c, now)).unwrap(), 125);
    }

    #[test]
    fn the_core_counts_the_budget_and_quota_the_learner_set_and_none_as_no_limit() {
        let mut s = DownloadSettings::default();
        assert_eq!((s.budget(), s.quota()), (None, None));
        s.monthly_cellular_budget_bytes = Some(5_000_000);
        s.storage_quota_bytes = Some(700_000_000);
        assert_eq!((s.budget(), s.quota()), (Some(5_000_000), Some(700_000_000)));
        s.monthly_cellular_budget_bytes = Some(0);
        s.storage_quota_bytes = Some(0);
        assert_eq!((s.budget(), s.quota()), (Some(0), Some(0)), "a zero limit is a limit");
    }

    #[test]
    fn usage_reports_the_budget_from_the_settings() {
        let (_d, store) = store();
        let budget = DownloadSettings {
            wifi_only: false,
            monthly_cellular_budget_bytes: Some(2_000_000),
            ..DownloadSettings::default()
        };
        store.write(|tx| set_settings(tx, &budget)).unwrap();
        let usage = store.read(|c| data_usage(c, 0)).unwrap();
        assert_eq!(usage.monthly_cellular_budget_bytes, Some(2_000_000));
        assert_eq!(usage.month, "1970-01");
    }

    #[test]
    fn a_failed_flush_keeps_the_counts_for_the_next_one() {
        let (_d, store) = store();
        let meter = Meter::default();
        meter.add(NetworkType::Metered, 300);
        meter.add(NetworkType::Unmetered, 40);
        let result = store.write(|tx| {
            tx.execute_batch("DROP TABLE data_usage")?;
            meter.flush(tx, 0)
        });
        assert!(result.is_err());
        assert_eq!(meter.pending_metered(), 300);
        // The failed transaction rolled back: the table is there again and the retry counts it.
        store.write(|tx| meter.flush(tx, 0)).unwrap();
        assert_eq!(store.read(|c| metered_used(c, 0)).unwrap(), 300);
        assert_eq!(store.read(|c| data_usage(c, 0)).unwrap().unmetered_bytes, 40);
    }

    #[test]
    fn a_flush_that_fails_after_writing_one_network_puts_both_back() {
        let (_d, store) = store();
        let meter = Meter::default();
        meter.add(NetworkType::Metered, 300);
        meter.add(NetworkType::Unmetered, 40);
        // The unmetered row cannot be written; the metered one was, then rolls back with the
        // transaction: both counts must survive for the next flush.
        let result = store.write(|tx| {
            tx.execute_batch(
                "CREATE TRIGGER no_unmetered BEFORE INSERT ON data_usage WHEN NEW.network = 'unmetered'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )?;
            meter.flush(tx, 0)
        });
        assert!(result.is_err());
        assert_eq!(meter.pending_metered(), 300);
        store.write(|tx| meter.flush(tx, 0)).unwrap();
        let usage = store.read(|c| data_usage(c, 0)).unwrap();
        assert_eq!((usage.metered_bytes, usage.unmetered_bytes), (300, 40));
    }

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

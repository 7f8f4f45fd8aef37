//! `settings`, `usage`, `evict`: the network policy, data and storage.

use anyhow::Result;
use satchel_core::Satchel;
use satchel_core::runtime::runtime;
use serde_json::json;

use super::Out;
use crate::cli::{EvictArgs, SettingsArgs};
use crate::terminal::safe;
use crate::{format, json};

/// Shows the download settings; with any flag, changes those first (one write, so a bad value
/// changes nothing).
pub fn settings(satchel: &Satchel, out: Out, args: SettingsArgs) -> Result<()> {
    let rt = runtime();
    let mut settings = rt.block_on(satchel.download_settings())?;
    let changed = args.wifi_only.is_some()
        || args.budget.is_some()
        || args.quota.is_some()
        || args.max_concurrent.is_some();
    if changed {
        if let Some(wifi_only) = args.wifi_only {
            settings.wifi_only = wifi_only;
        }
        if let Some(budget) = args.budget {
            settings.monthly_cellular_budget_bytes = budget.0;
        }
        if let Some(quota) = args.quota {
            settings.storage_quota_bytes = quota.0;
        }
        if let Some(n) = args.max_concurrent {
            settings.max_concurrent_downloads = n;
        }
        rt.block_on(satchel.set_download_settings(settings.clone()))?;
        settings = rt.block_on(satchel.download_settings())?;
    }
    let limit = |l: Option<i64>| l.map_or("none".to_owned(), format::bytes);
    out.show(
        || json::settings(&settings),
        || {
            format!(
                "Wi-Fi only: {}\nmonthly cellular budget: {}\nstorage quota: {}\ndownloads at once: {}\n",
                if settings.wifi_only { "yes" } else { "no" },
                limit(settings.monthly_cellular_budget_bytes),
                limit(settings.storage_quota_bytes),
                settings.max_concurrent_downloads
            )
        },
    );
    Ok(())
}

pub fn usage(satchel: &Satchel, out: Out) -> Result<()> {
    let rt = runtime();
    let data = rt.block_on(satchel.data_usage())?;
    let storage = rt.block_on(satchel.storage_usage())?;
    let budget = data
        .monthly_cellular_budget_bytes
        .map_or("no budget".to_owned(), |b| format!("budget {}", format::bytes(b)));
    out.show(
        || json::usage(&data, &storage),
        || {
            format!(
                "data in {}: {} on cellular ({budget}), {} on Wi-Fi; lite saved {}\n\
                 storage: {} of content, {} partial, quota {}, {} free on the device\n",
                safe(&data.month),
                format::bytes(data.metered_bytes),
                format::bytes(data.unmetered_bytes),
                format::bytes(data.saved_by_lite_bytes),
                format::bytes(storage.content_bytes),
                format::bytes(storage.partial_bytes),
                storage.quota_bytes.map_or("none".to_owned(), format::bytes),
                format::bytes(storage.free_bytes)
            )
        },
    );
    Ok(())
}

pub fn evict(satchel: &Satchel, out: Out, args: EvictArgs) -> Result<()> {
    let rt = runtime();
    let (courses, freed) = match (args.bytes, args.course) {
        (Some(bytes), _) => {
            let report = rt.block_on(satchel.evict_downloads(bytes))?;
            (report.courses, report.bytes_freed)
        }
        (None, course) => {
            let course = course.unwrap_or_default();
            let freed = rt.block_on(satchel.delete_course_content(course.clone()))?;
            (vec![course], freed)
        }
    };
    out.show(
        || json!({ "courses": courses, "bytes_freed": freed }),
        || {
            let names: Vec<_> = courses.iter().map(|c| safe(c).into_owned()).collect();
            let list = if names.is_empty() { "no course".to_owned() } else { names.join(", ") };
            format!("freed {} ({list})\n", format::bytes(freed))
        },
    );
    Ok(())
}

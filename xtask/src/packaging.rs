//! Checks of what ships, beyond the tests: the Android library's manifest and Gradle build say
//! what the shell needs, the shipped native library is stripped with its symbols kept apart
//! (native_symbols.rs), and the consumer keep rules survive a real shrinker (proguard.rs).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::kotlin::{self, Compiled};
use crate::{native_symbols, paths, proguard};

const MANIFEST: &str = "android/satchel/src/main/AndroidManifest.xml";
const GRADLE: &str = "android/satchel/build.gradle.kts";

/// What the manifest must declare, and who needs it.
const MANIFEST_NEEDS: &[(&str, &str)] = &[
    ("android.permission.INTERNET", "the core's downloads and sync"),
    (
        "android.permission.ACCESS_NETWORK_STATE",
        "SatchelNetworkMonitor and WorkManager's network constraints",
    ),
    ("android.permission.FOREGROUND_SERVICE\"", "DownloadWorker's foreground notification"),
    ("android.permission.FOREGROUND_SERVICE_DATA_SYNC", "the dataSync type of that service (Android 14)"),
    (
        "android:foregroundServiceType=\"dataSync\"",
        "WorkManager's SystemForegroundService, with the type DownloadWorker uses",
    ),
];

/// What the Gradle build must say, and why.
const GRADLE_NEEDS: &[(&str, &str)] = &[
    ("api(\"net.java.dev.jna:jna:", "JNA types appear in the generated bindings' public API"),
    (
        "api(\"org.jetbrains.kotlinx:kotlinx-coroutines-android:",
        "Flow and suspend functions are the shell's API",
    ),
    ("System.mapLibraryName(", "the host library's name differs per OS (.so, .dylib, .dll)"),
    ("split-debug-info.sh", "the shipped libraries are stripped, their symbols kept"),
    (
        "\"--crate-type\", \"cdylib\"",
        "the shared library is built alone: beside the rlib, cargo skips LTO (rust-lang/cargo#9672)",
    ),
];

pub fn check(compiled: &Compiled) -> Result<()> {
    let root = paths::workspace_root();
    let manifest = read(&root, MANIFEST)?;
    let missing: Vec<String> = MANIFEST_NEEDS
        .iter()
        .filter(|(what, _)| !manifest.contains(what))
        .map(|(what, why)| format!("{} ({why})", what.trim_end_matches('"')))
        .collect();
    let gradle = read(&root, GRADLE)?;
    let adapters = kotlin::ANDROID_ADAPTERS.trim_start_matches("android/satchel/");
    let mut gradle_missing: Vec<String> = GRADLE_NEEDS
        .iter()
        .filter(|(what, _)| !gradle.contains(what))
        .map(|(what, why)| format!("{what} ({why})"))
        .collect();
    if !gradle.contains(&format!("\"{adapters}\"")) {
        gradle_missing.push(format!("\"{adapters}\" in the main source set (the Android adapters)"));
    }
    if !missing.is_empty() || !gradle_missing.is_empty() {
        bail!(
            "the Android library is missing what its shell needs:\n{MANIFEST}: {}\n{GRADLE}: {}",
            missing.join(", "),
            gradle_missing.join(", ")
        );
    }

    no_missing_sqlite_symbols(&paths::core_cdylib())?;
    let split =
        native_symbols::split_and_check(&paths::core_cdylib(), &paths::target_dir().join("native-symbols"))?;
    let shipped_dir = split.stripped.parent().context("the stripped library has no folder")?;
    proguard::check(compiled, shipped_dir)
}

/// The bundled SQLite is compiled without some of its parts (`LIBSQLITE3_FLAGS` in
/// `.cargo/config.toml`). A shared library may be linked with symbols left undefined, and the
/// loader resolves functions lazily, so a call into a part left out would link and load and fail
/// only when called on a phone: refuse a library that needs any `sqlite3` symbol from outside.
fn no_missing_sqlite_symbols(library: &Path) -> Result<()> {
    let out = std::process::Command::new("nm")
        .args(["-D", "--undefined-only"])
        .arg(library)
        .output()
        .context("cannot run nm (binutils)")?;
    if !out.status.success() {
        bail!("nm -D failed on {}: {}", library.display(), String::from_utf8_lossy(&out.stderr));
    }
    let missing: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().last())
        .filter(|symbol| symbol.starts_with("sqlite3"))
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} calls SQLite functions that LIBSQLITE3_FLAGS left out: {}",
            library.display(),
            missing.join(", ")
        );
    }
    eprintln!("xtask: the core library needs no SQLite symbol from outside");
    Ok(())
}

fn read(root: &Path, file: &str) -> Result<String> {
    std::fs::read_to_string(root.join(file)).with_context(|| format!("cannot read {file}"))
}

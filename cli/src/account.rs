//! Which account a command works on, and opening it.
//!
//! `--account DIR` (or `SATCHEL_ACCOUNT`) names the directory; without it the account lives
//! under the platform's data directory (`~/.local/share/satchel/account` on Linux), so a learner
//! can use the CLI without flags.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use satchel_core::{Satchel, SatchelConfig};

/// The default account directory under the platform's data directory.
pub fn default_dir() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("org", "Satchel", "satchel")
        .context("no home directory to keep the account in; pass --account DIR")?;
    Ok(dirs.data_dir().join("account"))
}

/// The directory `--account` named, or the default.
pub fn resolve(account: Option<&Path>) -> Result<PathBuf> {
    match account {
        Some(dir) => Ok(dir.to_path_buf()),
        None => default_dir(),
    }
}

/// Opens (creating if needed) the account in `dir`, trusting `keys` as course publishers.
pub fn open(dir: &Path, keys: Vec<String>) -> Result<Arc<Satchel>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the account directory {}", dir.display()))?;
    let text = dir.to_str().context("the account path is not valid UTF-8")?;
    Ok(Satchel::open_blocking(
        text.to_owned(),
        SatchelConfig { device_name: "satchel-cli".into(), trusted_publisher_keys: keys },
    )?)
}

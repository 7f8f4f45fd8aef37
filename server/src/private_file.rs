//! Files that hold secrets (publisher keys, token secrets, answer keys): created readable and
//! writable by their owner only.

use std::fs::{File, OpenOptions};
use std::path::Path;

use anyhow::{Context, Result};

/// Creates `path` with mode 0600 on Unix. `create_new` refuses an existing file (a secret that
/// must never be overwritten); otherwise an existing file is truncated.
pub fn create(path: &Path, create_new: bool) -> Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).with_context(|| format!("cannot create {}", path.display()))
}

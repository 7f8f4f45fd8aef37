//! Publisher keys: `satchel-server keygen` makes one, `pack --key` signs with it.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;

/// Writes a new secret key (base64 of the 32-byte seed) readable by its owner only, and returns
/// the base64 public key the apps must trust.
pub fn generate(path: &Path) -> Result<String> {
    if path.exists() {
        bail!("{} exists; refusing to overwrite a publisher key", path.display());
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let mut file = crate::private_file::create(path, true)?;
    writeln!(file, "{}", STANDARD.encode(seed))?;
    Ok(STANDARD.encode(key.verifying_key().to_bytes()))
}

/// Reads a secret key written by [`generate`].
pub fn load(path: &Path) -> Result<SigningKey> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))?;
    let seed = STANDARD.decode(text.trim()).context("the key file is not base64")?;
    let seed: [u8; 32] =
        seed.try_into().map_err(|_| anyhow::anyhow!("the key file does not hold a 32-byte key"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The base64 public key of a secret key.
pub fn public_key(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().to_bytes())
}

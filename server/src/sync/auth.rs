//! Stateless bearer tokens for the sync API: `LEARNER:EXPIRY:SIGNATURE`, where the signature is
//! HMAC-SHA256 under the server's secret over the learner id and the expiry (Unix seconds).
//!
//! Stateless on purpose: several server processes sharing one database (issue 13) verify the same
//! token with the same secret file and no shared session table. Tokens are compared in constant
//! time and never logged; an error names what was wrong, never the token.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Bytes of a secret made by [`generate_secret`]; shorter secrets are refused on load.
const SECRET_BYTES: usize = 32;

/// Separates the signed parts from each other and from the signature. Learner ids cannot hold it.
const SEPARATOR: char = ':';

/// Domain separation: a signature made for something else with the same key never passes.
const CONTEXT: &[u8] = b"satchel-sync-token-v1\n";

/// The longest learner id a token may carry.
pub const MAX_LEARNER_CHARS: usize = 128;

/// The longest `Authorization` value worth parsing.
const MAX_TOKEN_CHARS: usize = MAX_LEARNER_CHARS + 80;

/// The server's token key, loaded from the file `sync-secret` wrote.
#[derive(Clone)]
pub struct TokenKey {
    secret: Vec<u8>,
}

/// Why a token was refused. Every variant answers 401 `unauthorized`; the variant only shapes
/// the message (which never echoes the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not a Satchel sync token")]
    Malformed,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// A key from raw secret bytes (at least 32).
    pub fn from_bytes(secret: &[u8]) -> Result<TokenKey> {
        if secret.len() < SECRET_BYTES {
            bail!("a sync secret needs at least {SECRET_BYTES} bytes");
        }
        Ok(TokenKey { secret: secret.to_vec() })
    }

    /// Reads a secret file written by [`generate_secret`].
    pub fn load(path: &Path) -> Result<TokenKey> {
        let text = fs::read_to_string(path)
            .with_context(|| format!("cannot read the sync secret {}", path.display()))?;
        let secret = STANDARD.decode(text.trim()).context("the sync secret file is not base64")?;
        TokenKey::from_bytes(&secret)
    }

    /// A token for `learner` valid until `expires_at_s` (Unix seconds).
    pub fn mint(&self, learner: &str, expires_at_s: u64) -> Result<String> {
        check_learner_id(learner)?;
        let signature = URL_SAFE_NO_PAD.encode(self.mac(learner, expires_at_s).finalize().into_bytes());
        Ok(format!("{learner}{SEPARATOR}{expires_at_s}{SEPARATOR}{signature}"))
    }

    /// The learner a token speaks for, if it is well formed, signed by this key and not expired
    /// at `now_s`.
    pub fn verify(&self, token: &str, now_s: u64) -> Result<String, TokenError> {
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.rsplitn(3, SEPARATOR);
        let (Some(signature), Some(expiry), Some(learner)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let expires_at_s: u64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        if check_learner_id(learner).is_err() {
            return Err(TokenError::Malformed);
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
        // `verify_slice` compares in constant time: no timing oracle on the signature.
        self.mac(learner, expires_at_s).verify_slice(&signature).map_err(|_| TokenError::BadSignature)?;
        if expires_at_s <= now_s {
            return Err(TokenError::Expired);
        }
        Ok(learner.to_owned())
    }

    fn mac(&self, learner: &str, expires_at_s: u64) -> HmacSha256 {
        // HMAC takes keys of any length; `from_bytes` guarantees a long one.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(CONTEXT);
        mac.update(learner.as_bytes());
        mac.update(&[SEPARATOR as u8]);
        mac.update(expires_at_s.to_string().as_bytes());
        mac
    }
}

/// Learner ids are opaque to the server but must be safe in a token, a header and a log line:
/// 1 to 128 of `A-Z a-z 0-9 . _ - @`.
pub fn check_learner_id(learner: &str) -> Result<()> {
    let ok = !learner.is_empty()
        && learner.len() <= MAX_LEARNER_CHARS
        && learner.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if !ok {
        bail!("a learner id is 1 to {MAX_LEARNER_CHARS} of A-Z a-z 0-9 . _ - @");
    }
    Ok(())
}

/// Writes a new random secret (base64) readable by its owner only; refuses to overwrite one,
/// since every token minted with the old secret would stop working.
pub fn generate_secret(path: &Path) -> Result<()> {
    if path.exists() {
        bail!("{} exists; refusing to overwrite a sync secret", path.display());
    }
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    let mut file = crate::private_file::create(path, true)?;
    writeln!(file, "{}", STANDARD.encode(secret))?;
    file.sync_all()?;
    Ok(())
}

/// The current time in Unix seconds.
pub fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> TokenKey {
        TokenKey::from_bytes(&[byte; 32]).expect("a 32-byte key")
    }

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let token = key(1).mint("learner-a", 1_000).expect("mint");
        assert_eq!(key(1).verify(&token, 999), Ok("learner-a".to_owned()));
        assert_eq!(key(1).verify(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn another_key_or_an_edited_token_fails() {
        let token = key(1).mint("learner-a", 1_000).expect("mint");
        assert_eq!(key(2).verify(&token, 0), Err(TokenError::BadSignature));
        let forged = token.replacen("learner-a", "learner-b", 1);
        assert_eq!(key(1).verify(&forged, 0), Err(TokenError::BadSignature));
        let later = token.replacen(":1000:", ":9999:", 1);
        assert_eq!(key(1).verify(&later, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in ["x", "a:b", "a:1:!!", "a:-1:AAAA", ":1:AAAA", "a b:1:AAAA", &"a".repeat(500)] {
            assert_eq!(key(1).verify(bad, 0), Err(TokenError::Malformed), "{bad:?}");
        }
        assert_eq!(key(1).verify("", 0), Err(TokenError::Missing));
    }

    #[test]
    fn short_secrets_and_odd_learner_ids_are_refused() {
        assert!(TokenKey::from_bytes(&[0; 16]).is_err());
        assert!(key(1).mint("a:b", 1).is_err());
        assert!(key(1).mint("", 1).is_err());
        assert!(key(1).mint(&"a".repeat(129), 1).is_err());
    }

    #[test]
    fn secret_files_round_trip_and_are_not_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sync.secret");
        generate_secret(&path).expect("generate");
        let token = TokenKey::load(&path).expect("load").mint("l", 10).expect("mint");
        assert!(TokenKey::load(&path).expect("load").verify(&token, 0).is_ok());
        assert!(generate_secret(&path).is_err());
    }
}

//! The signed manifest envelope.
//!
//! ```json
//! { "format": 1, "public_key": "<base64 ed25519 key>", "signature": "<base64>", "payload": "<manifest JSON text>" }
//! ```
//!
//! The signature covers the payload's exact UTF-8 bytes, so nothing depends on how JSON is
//! re-serialised. The payload is only parsed after the signature checks out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::ContentError;

/// The envelope as stored on the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedManifest {
    pub format: u32,
    pub public_key: String,
    pub signature: String,
    pub payload: String,
}

/// Signs a manifest's JSON text (the packager's side).
pub fn sign(payload: String, key: &SigningKey) -> SignedManifest {
    let signature = key.sign(payload.as_bytes());
    SignedManifest {
        format: 1,
        public_key: STANDARD.encode(key.verifying_key().to_bytes()),
        signature: STANDARD.encode(signature.to_bytes()),
        payload,
    }
}

/// Parses a base64 ed25519 public key.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| "a publisher key is not base64".to_string())?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| "a publisher key is not 32 bytes".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "a publisher key is not a valid ed25519 key".to_string())
}

/// Checks the envelope against the trusted keys and returns the verified payload.
pub fn open(envelope: &str, trusted: &[VerifyingKey]) -> Result<String, ContentError> {
    let envelope: SignedManifest =
        serde_json::from_str(envelope).map_err(|e| ContentError::Unsigned(e.to_string()))?;
    if envelope.format != 1 {
        return Err(ContentError::Unsigned(format!("envelope format {} is unknown", envelope.format)));
    }
    let key = parse_public_key(&envelope.public_key).map_err(ContentError::Unsigned)?;
    if !trusted.contains(&key) {
        return Err(ContentError::UntrustedKey);
    }
    let signature = STANDARD.decode(&envelope.signature).map_err(|_| ContentError::BadSignature)?;
    let signature: [u8; 64] = signature.try_into().map_err(|_| ContentError::BadSignature)?;
    key.verify_strict(envelope.payload.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| ContentError::BadSignature)?;
    Ok(envelope.payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn only_an_untampered_payload_signed_by_a_trusted_key_opens() {
        let publisher = key(7);
        let trusted = [publisher.verifying_key()];
        let envelope = sign("{\"id\":\"c\"}".into(), &publisher);
        let text = serde_json::to_string(&envelope).unwrap();
        assert_eq!(open(&text, &trusted).unwrap(), "{\"id\":\"c\"}");

        let mut tampered = envelope.clone();
        tampered.payload = "{\"id\":\"d\"}".into();
        assert_eq!(
            open(&serde_json::to_string(&tampered).unwrap(), &trusted),
            Err(ContentError::BadSignature)
        );

        let stranger = sign("{\"id\":\"c\"}".into(), &key(9));
        assert_eq!(
            open(&serde_json::to_string(&stranger).unwrap(), &trusted),
            Err(ContentError::UntrustedKey)
        );

        assert!(matches!(open("{\"id\":\"c\"}", &trusted), Err(ContentError::Unsigned(_))));
        assert!(matches!(open("not json", &trusted), Err(ContentError::Unsigned(_))));
    }
}

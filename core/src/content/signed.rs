//! The signed manifest envelope.
//!
//! ```json
//! { "format": 1, "public_key": "<base64 ed25519 key>", "signature": "<base64>", "payload": "<manifest JSON text>" }
//! ```
//!
//! The signature covers the payload's exact UTF-8 bytes, so nothing depends on how JSON is
//! re-serialised. The payload is only parsed after the signature checks out.
//!
//! **Key rotation.** A course is pinned to the key that first signed it (see
//! `catalog::publisher`). To move its courses to a new key, a publisher signs, with the old key,
//! a statement naming the new one, and ships it in the `rotations` list of envelopes signed by
//! the new key:
//!
//! ```json
//! "rotations": [{ "key": "<old key>", "next_key": "<new key>", "signature": "<old key's signature>" }]
//! ```
//!
//! The statement signs `satchel-key-rotation-v1\n<old key>\n<new key>` (base64 keys), text no
//! manifest payload can be, so a manifest signature is never mistaken for a rotation. A chain
//! (A→B, B→C) carries a course pinned to A over to C.

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
    /// Key rotations leading to `public_key`, each signed by the key it hands over from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<Rotation>,
}

/// "Courses pinned to `key` now belong to `next_key`", signed by `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub key: String,
    pub next_key: String,
    pub signature: String,
}

/// A verified envelope: the payload, the key that signed it, and its verified rotations as
/// (from, to) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub payload: String,
    pub key: VerifyingKey,
    pub rotations: Vec<(VerifyingKey, VerifyingKey)>,
}

/// At most this many rotations are read from an envelope (each costs a signature check).
const MAX_ROTATIONS: usize = 16;

fn rotation_message(key: &VerifyingKey, next_key: &VerifyingKey) -> String {
    format!("satchel-key-rotation-v1\n{}\n{}", encode_public_key(key), encode_public_key(next_key))
}

/// Signs a rotation from `old` to `next` (the publisher's side, with the old key).
pub fn rotation(old: &SigningKey, next: &VerifyingKey) -> Rotation {
    let key = old.verifying_key();
    Rotation {
        key: encode_public_key(&key),
        next_key: encode_public_key(next),
        signature: STANDARD.encode(old.sign(rotation_message(&key, next).as_bytes()).to_bytes()),
    }
}

fn verify_rotation(rotation: &Rotation) -> Result<(VerifyingKey, VerifyingKey), ContentError> {
    let key = parse_public_key(&rotation.key).map_err(|_| ContentError::BadRotation)?;
    let next = parse_public_key(&rotation.next_key).map_err(|_| ContentError::BadRotation)?;
    let signature = decode_signature(&rotation.signature).ok_or(ContentError::BadRotation)?;
    key.verify_strict(rotation_message(&key, &next).as_bytes(), &signature)
        .map_err(|_| ContentError::BadRotation)?;
    Ok((key, next))
}

fn decode_signature(text: &str) -> Option<Signature> {
    let bytes: [u8; 64] = STANDARD.decode(text).ok()?.try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

/// Signs a manifest's JSON text (the packager's side).
pub fn sign(payload: String, key: &SigningKey) -> SignedManifest {
    let signature = key.sign(payload.as_bytes());
    SignedManifest {
        format: 1,
        public_key: encode_public_key(&key.verifying_key()),
        signature: STANDARD.encode(signature.to_bytes()),
        payload,
        rotations: Vec::new(),
    }
}

/// A public key as manifests and the catalog write it: base64 of its 32 bytes.
pub fn encode_public_key(key: &VerifyingKey) -> String {
    STANDARD.encode(key.to_bytes())
}

/// Parses a base64 ed25519 public key.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| "a publisher key is not base64".to_string())?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| "a publisher key is not 32 bytes".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "a publisher key is not a valid ed25519 key".to_string())
}

/// Checks the envelope against the trusted keys and returns the verified payload, its signer and
/// its verified rotations. Whether the signer may publish a given course is the catalog's call.
pub fn open(envelope: &str, trusted: &[VerifyingKey]) -> Result<Opened, ContentError> {
    let envelope: SignedManifest =
        serde_json::from_str(envelope).map_err(|e| ContentError::Unsigned(e.to_string()))?;
    if envelope.format != 1 {
        return Err(ContentError::Unsigned(format!("envelope format {} is unknown", envelope.format)));
    }
    let key = parse_public_key(&envelope.public_key).map_err(ContentError::Unsigned)?;
    if !trusted.contains(&key) {
        return Err(ContentError::UntrustedKey);
    }
    let signature = decode_signature(&envelope.signature).ok_or(ContentError::BadSignature)?;
    key.verify_strict(envelope.payload.as_bytes(), &signature).map_err(|_| ContentError::BadSignature)?;
    if envelope.rotations.len() > MAX_ROTATIONS {
        return Err(ContentError::BadRotation);
    }
    let rotations = envelope.rotations.iter().map(verify_rotation).collect::<Result<_, _>>()?;
    Ok(Opened { payload: envelope.payload, key, rotations })
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
        assert_eq!(open(&text, &trusted).unwrap().payload, "{\"id\":\"c\"}");
        assert_eq!(open(&text, &trusted).unwrap().key, publisher.verifying_key());

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

    #[test]
    fn rotations_open_only_when_signed_by_the_key_they_hand_over_from() {
        let (old, new) = (key(1), key(2));
        let trusted = [new.verifying_key()];
        let mut envelope = sign("{}".into(), &new);
        envelope.rotations.push(rotation(&old, &new.verifying_key()));
        let opened = open(&serde_json::to_string(&envelope).unwrap(), &trusted).unwrap();
        assert_eq!(opened.rotations, [(old.verifying_key(), new.verifying_key())]);

        // Claimed to be from `old` but signed by someone else.
        let mut forged = rotation(&key(3), &new.verifying_key());
        forged.key = STANDARD.encode(old.verifying_key().to_bytes());
        envelope.rotations = vec![forged];
        assert_eq!(
            open(&serde_json::to_string(&envelope).unwrap(), &trusted),
            Err(ContentError::BadRotation)
        );

        // A manifest signature is not a rotation signature.
        let manifest_signature = sign("x".into(), &old).signature;
        envelope.rotations = vec![Rotation {
            key: STANDARD.encode(old.verifying_key().to_bytes()),
            next_key: STANDARD.encode(new.verifying_key().to_bytes()),
            signature: manifest_signature,
        }];
        assert_eq!(
            open(&serde_json::to_string(&envelope).unwrap(), &trusted),
            Err(ContentError::BadRotation)
        );
    }
}

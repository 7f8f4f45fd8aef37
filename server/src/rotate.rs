//! `satchel-server rotate OUT --from OLD.key`: hands the courses under `OUT` over from an old
//! publisher key to the key that signed them.
//!
//! Apps pin each course to the key that first signed it. After packing with a new key, this adds
//! to every envelope under `OUT/courses/*/manifest.signed.json` a rotation statement signed by
//! the old key naming the envelope's key; an app that has the course pinned to the old key then
//! accepts the new one and re-pins. The statements sit beside the signed payload, so adding them
//! does not touch the payload or its signature. The changed envelope is published like a packed
//! one (pointer and patches, see `pack::publish`), so phones holding it before fetch a patch.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use ed25519_dalek::SigningKey;
use satchel_core::content::signed::{self, SignedManifest};

/// Adds a rotation from `old` to each envelope's key; returns how many envelopes were changed.
pub fn rotate(out: &Path, old: &SigningKey) -> Result<usize> {
    let courses = out.join("courses");
    let mut changed = 0;
    for entry in fs::read_dir(&courses).with_context(|| format!("cannot read {}", courses.display()))? {
        let path = entry?.path().join("manifest.signed.json");
        if !path.is_file() {
            continue;
        }
        let mut envelope: SignedManifest = serde_json::from_slice(&fs::read(&path)?)
            .with_context(|| format!("{} is not a signed manifest", path.display()))?;
        let next = signed::parse_public_key(&envelope.public_key).map_err(anyhow::Error::msg)?;
        if next == old.verifying_key() {
            bail!("{} is signed by the old key itself: pack with the new key first", path.display());
        }
        let rotation = signed::rotation(old, &next);
        if !envelope.rotations.contains(&rotation) {
            envelope.rotations.push(rotation);
            let dir = path.parent().context("a manifest has no folder")?;
            crate::pack::publish::publish_envelope(dir, &serde_json::to_vec(&envelope)?)?;
            changed += 1;
        }
    }
    Ok(changed)
}

//! Satchel's sync protocol, shared by the client core and the reference sync server.
//!
//! - [`hlc`]: the hybrid logical clock stamp every change carries.
//! - [`stamped`]: a last-writer-wins register ordered by that stamp.
//! - [`records`]: each synced entity as a state-based CRDT record whose `merge` is a join
//!   (commutative, associative, idempotent), so duplicated, dropped, reordered or replayed
//!   messages all converge.
//! - [`messages`]: the request and response bodies, error codes and limits.
//! - [`codec`]: JSON bodies, zstd-compressed when large, decoded with hard size caps.
//!
//! The wire format and the merge rules are specified in `docs/protocol.md`.

pub mod codec;
pub mod hlc;
mod ids;
mod lattice;
pub mod messages;
pub mod records;
pub mod stamped;

pub use hlc::Hlc;
pub use ids::MAX_ID_BYTES;
pub use records::{EntityKind, MergeError, Record, RecordError};
pub use stamped::Stamped;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

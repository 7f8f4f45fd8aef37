//! The hybrid logical clock lives in the sync protocol crate, shared with the server; this
//! re-export keeps `outbox::hlc::Hlc` where the core already uses it.

pub use satchel_protocol::hlc::*;

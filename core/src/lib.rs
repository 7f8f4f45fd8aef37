//! Satchel's shared core: the offline-first engine behind the Android and iOS learning apps.
//!
//! Domain logic lives in plain Rust modules ([`store`], [`catalog`]) that know nothing about the
//! FFI. The [`ffi`] module is the one thin UniFFI layer over them: the `Satchel` object, the
//! public error enum, and nothing else. Records and enums that are plain data derive their UniFFI
//! traits where they are defined, so they are not copied into wrapper types.

pub mod account;
pub mod catalog;
pub mod content;
pub mod downloads;
pub mod error;
pub mod ffi;
pub mod learning;
pub mod notes;
pub mod outbox;
pub mod runtime;
pub mod store;
pub mod sync;
pub mod time;

pub use error::{Error, Result};
pub use ffi::{Satchel, SatchelConfig, SatchelError};

uniffi::setup_scaffolding!();

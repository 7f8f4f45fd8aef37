//! Satchel's shared core: the offline-first engine behind the Android and iOS learning apps.
//!
//! Domain logic lives in plain Rust modules that know nothing about the FFI:
//!
//! - [`store`]: the SQLite store (one initializer, migrations, `read`/`write`), the `meta`
//!   values and the one way to store an enum as text;
//! - [`catalog`]: manifests in, outlines and lessons out; an import reports what changed;
//! - [`content`]: signed manifests, the verified blob store, fetching;
//! - [`learning`], [`notes`]: progress, goals, quizzes, notes, each written with its
//!   [`outbox`] entry in one transaction;
//! - [`downloads`]: the queue and its run loop; [`downloads::DownloadService`] holds the parts
//!   downloads need and offers each download operation as one method.
//!
//! Each domain function takes the narrow piece it needs (`&Store`, `&ContentStore`, a device id,
//! a `DownloadService`), never the whole account. [`account`] only makes and holds the parts.
//! The [`ffi`] module is the one thin UniFFI layer over them: the `Satchel` object, the public
//! error enum, the listener traits and `TaskHandle`, each export a one-line call into a domain
//! function. Records and enums that are plain data derive their UniFFI traits where they are
//! defined, so they are not copied into wrapper types. Long jobs share one run-loop skeleton
//! (`run_loop`: run until done, a deadline or a stop, then always drain). See
//! docs/architecture.md for who may import whom.

pub mod account;
mod api_int;
pub mod catalog;
pub mod content;
pub mod downloads;
pub mod error;
pub mod event_hub;
pub mod ffi;
mod http_client;
pub mod learning;
pub mod notes;
pub mod outbox;
mod run_loop;
pub mod runtime;
pub mod share;
pub mod store;
pub mod sync;
pub mod time;

pub use error::{Error, Result};
pub use ffi::{Satchel, SatchelConfig, SatchelError};

uniffi::setup_scaffolding!();

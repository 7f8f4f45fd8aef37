//! The UniFFI surface: one object, one config record, one error enum.
//!
//! Everything here is a thin wrapper: argument conversion, handing work to the core runtime, and
//! error mapping. Behaviour lives in the domain modules.

mod content;
mod downloads;
mod error;
mod learning;
mod notes;
mod satchel;
mod sync;

pub use downloads::{DownloadListener, DownloadSubscription};
pub use error::SatchelError;
pub use satchel::{Satchel, SatchelConfig};
pub use sync::{SyncListener, SyncSubscription};

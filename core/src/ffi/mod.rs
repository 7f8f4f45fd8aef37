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
mod task_handle;

pub use downloads::DownloadListener;
pub use error::SatchelError;
pub use satchel::{Satchel, SatchelConfig};
pub use task_handle::TaskHandle;

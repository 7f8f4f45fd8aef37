//! The UniFFI surface: the `Satchel` object, its config record, the public error enum, the
//! listener traits, the one `TaskHandle` every subscription returns and the `Cancellation` a shell
//! may pass to a long call.
//!
//! Everything here is a thin wrapper: each export converts its arguments, hands one domain call
//! (a `DownloadService` method, a `learning`/`notes` function) to the core runtime, and maps the
//! error through `ffi::error`. Behaviour lives in the domain modules; this is the only module
//! besides `account` that sees the whole `Account`.

mod cancellation;
mod content;
mod delivery;
mod downloads;
mod error;
mod learning;
mod logging;
mod notes;
mod open_accounts;
mod satchel;
mod sync;
mod task_handle;

pub use cancellation::Cancellation;
pub use content::ShareListener;
pub use downloads::DownloadListener;
pub use error::{NetworkErrorKind, SatchelError, StorageErrorKind};
pub use logging::{LogLevel, LogRecord, SatchelLogger, install_logger, remove_logger};
pub use satchel::{Satchel, SatchelConfig};
pub use sync::SyncListener;
pub use task_handle::TaskHandle;

//! An explicit cancel for long calls, for shells whose async bindings cannot cancel them.
//!
//! A cancelled Kotlin coroutine drops the future it awaits, and the core stops the work (see
//! `runtime::spawn_cancellable_by`). Swift's generated async functions do not: a cancelled `Task`
//! keeps awaiting. The Swift shell therefore passes a `Cancellation` and cancels it from
//! `withTaskCancellationHandler`, which stops exactly that call, not another one running.

use tokio_util::sync::CancellationToken;

/// Cancels the one call it is passed to (`run_downloads_cancellable`, `sync_cancellable`).
#[derive(uniffi::Object, Default)]
pub struct Cancellation {
    token: CancellationToken,
}

#[uniffi::export]
impl Cancellation {
    #[uniffi::constructor]
    pub fn new() -> std::sync::Arc<Cancellation> {
        std::sync::Arc::new(Cancellation::default())
    }

    /// Stops the call at its next safe point; everything stays resumable. Harmless twice, or
    /// before the call starts (it then returns at once, stopped).
    pub fn cancel(&self) {
        self.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

impl Cancellation {
    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }
}

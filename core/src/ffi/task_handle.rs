//! The handle every subscription returns: the delivery behind it runs until `cancel()` or until
//! the handle is freed (Kotlin `close()`, Swift `deinit`), as matrix-rust-sdk's `TaskHandle`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::event_hub::Closer;

/// A running delivery of the core (a subscription's listener loop). Freeing the handle or
/// calling `cancel` stops it.
#[derive(uniffi::Object)]
pub struct TaskHandle {
    closer: Closer,
    finished: Arc<AtomicBool>,
}

impl TaskHandle {
    /// A handle over a delivery that `closer` ends and that sets `finished` when it returns.
    pub(crate) fn new(closer: Closer, finished: Arc<AtomicBool>) -> TaskHandle {
        TaskHandle { closer, finished }
    }
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the delivery: no event reaches the listener after the one it may be handling now.
    /// Harmless when it already stopped.
    pub fn cancel(&self) {
        self.closer.close();
    }

    /// True once the delivery has stopped.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.closer.close();
    }
}

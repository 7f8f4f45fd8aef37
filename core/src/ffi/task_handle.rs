//! The handle every subscription returns: the task behind it runs until `cancel()` or until the
//! handle is freed (Kotlin `close()`, Swift `deinit`), as matrix-rust-sdk's `TaskHandle`.

/// A running background task of the core (a subscription's delivery loop). Freeing the handle
/// or calling `cancel` stops it.
#[derive(uniffi::Object)]
pub struct TaskHandle {
    task: tokio::task::AbortHandle,
}

impl TaskHandle {
    /// Starts `future` on the core runtime and returns its handle.
    pub(crate) fn spawn(future: impl Future<Output = ()> + Send + 'static) -> TaskHandle {
        TaskHandle { task: crate::runtime::runtime().spawn(future).abort_handle() }
    }
}

#[uniffi::export]
impl TaskHandle {
    /// Stops the task. Harmless when it already stopped.
    pub fn cancel(&self) {
        self.task.abort();
    }

    /// True once the task has stopped (cancelled, or ended by itself).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

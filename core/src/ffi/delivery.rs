//! Delivering a subscription's events to a foreign listener.
//!
//! Each subscription gets its own thread from the runtime's blocking pool, never an async worker:
//! the workers move the bytes of downloads and sync, and a listener may be slow (it renders a
//! notification) or block outright (it waits for the UI thread). Such a listener then only delays
//! its own events, which queue up coalesced (see `event_hub`), while transfers run on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::TaskHandle;
use crate::event_hub::{EventReceiver, HubEvent};

/// Starts delivering: first the events `snapshot` returns (the current state), then every event
/// of `receiver` until the returned handle is cancelled or freed. `snapshot` runs on the delivery
/// thread and must discard the receiver's queued events before reading the state, so nothing it
/// shows arrives afterwards as older news.
pub(super) fn deliver<E, S, L>(receiver: EventReceiver<E>, snapshot: S, listener: L) -> Arc<TaskHandle>
where
    E: HubEvent,
    S: FnOnce(&EventReceiver<E>) -> Vec<E> + Send + 'static,
    L: Fn(E) + Send + 'static,
{
    let finished = Arc::new(AtomicBool::new(false));
    let handle = Arc::new(TaskHandle::new(receiver.closer(), Arc::clone(&finished)));
    crate::runtime::runtime().spawn_blocking(move || {
        for event in snapshot(&receiver) {
            if receiver.is_closed() {
                break;
            }
            hand_over(&listener, event);
        }
        while let Some(event) = receiver.recv_blocking() {
            hand_over(&listener, event);
        }
        finished.store(true, Ordering::Release);
    });
    handle
}

/// Calls the listener; a listener that throws (a panic through the bindings) loses that one
/// event, not the subscription.
fn hand_over<E>(listener: &impl Fn(E), event: E) {
    if catch_unwind(AssertUnwindSafe(|| listener(event))).is_err() {
        tracing::error!("an event listener failed; its next events are still delivered");
    }
}

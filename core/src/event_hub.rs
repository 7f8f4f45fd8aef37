//! Fan-out of events to subscribers, each with its own queue, for the shells' listeners
//! (downloads, sync status).
//!
//! What an app can rely on: state changes are never dropped, however far a subscriber falls
//! behind (a list must not miss "done", a status bar must not miss "error"). Only progress is
//! coalesced: a subscriber's queue holds at most one progress event per key (the newest), and an
//! event kind may say that it makes the progress queued before it stale. So a slow or blocked
//! subscriber costs memory bounded by the number of keys plus the state changes it has not read,
//! and the sender never waits for it: `send` only takes a short lock, so the threads that move
//! bytes can never be stalled by a listener.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use tokio::sync::Notify;

/// What the hub needs to know about an event to coalesce it.
pub trait HubEvent: Clone + Send + 'static {
    /// `Some(key)` for a progress event: it replaces a queued progress event of the same key.
    /// `None` for a state change, which is always kept.
    fn progress_key(&self) -> Option<i64>;

    /// `Some(key)` when this state change makes the progress of `key` queued before it stale
    /// (e.g. a download's "done" after its last progress), so the subscriber skips it.
    fn supersedes_progress_of(&self) -> Option<i64> {
        None
    }
}

/// The subscribers of one kind of event.
pub struct EventHub<E> {
    subscribers: Mutex<Vec<Weak<Queue<E>>>>,
}

impl<E> Default for EventHub<E> {
    fn default() -> Self {
        EventHub { subscribers: Mutex::new(Vec::new()) }
    }
}

struct Queue<E> {
    state: Mutex<QueueState<E>>,
    /// Wakes an async reader (`recv`).
    ready: Notify,
    /// Wakes a thread reading with `recv_blocking`.
    ready_blocking: Condvar,
}

struct QueueState<E> {
    events: VecDeque<E>,
    /// Set by `Closer::close`: a blocking reader returns `None` from then on.
    closed: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves a queue that is still consistent (every
    // change to it is one call), so keep delivering rather than poison every later event.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<E: HubEvent> Queue<E> {
    fn push(&self, event: &E) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        let events = &mut state.events;
        match event.progress_key() {
            Some(key) => {
                if let Some(queued) = events.iter_mut().find(|e| e.progress_key() == Some(key)) {
                    *queued = event.clone();
                    return;
                }
            }
            None => {
                if let Some(key) = event.supersedes_progress_of() {
                    events.retain(|e| e.progress_key() != Some(key));
                }
            }
        }
        events.push_back(event.clone());
        drop(state);
        self.ready.notify_one();
        self.ready_blocking.notify_one();
    }
}

/// One subscriber's events, in order. Dropping it unsubscribes.
pub struct EventReceiver<E> {
    queue: Arc<Queue<E>>,
}

impl<E: HubEvent> EventReceiver<E> {
    /// The next event, waiting for one (for Rust code on the core runtime).
    pub async fn recv(&mut self) -> E {
        loop {
            if let Some(event) = lock(&self.queue.state).events.pop_front() {
                return event;
            }
            // `notify_one` stores a permit when nobody waits, so an event pushed between the
            // check above and this wait is not missed.
            self.queue.ready.notified().await;
        }
    }

    /// The next event, blocking this thread until one arrives; `None` once closed.
    pub fn recv_blocking(&self) -> Option<E> {
        let mut state = lock(&self.queue.state);
        loop {
            if state.closed {
                return None;
            }
            if let Some(event) = state.events.pop_front() {
                return Some(event);
            }
            state = self.queue.ready_blocking.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// The events queued now, without waiting (for tests of what a slow reader would get).
    #[cfg(test)]
    pub(crate) fn drain(&self) -> Vec<E> {
        lock(&self.queue.state).events.drain(..).collect()
    }

    /// Forgets the events queued so far: a snapshot read after this call already shows them.
    pub fn discard_queued(&self) {
        lock(&self.queue.state).events.clear();
    }

    pub fn is_closed(&self) -> bool {
        lock(&self.queue.state).closed
    }

    /// A handle that ends this subscription from another thread.
    pub fn closer(&self) -> Closer {
        Closer { queue: Arc::clone(&self.queue) as Arc<dyn Close> }
    }
}

trait Close: Send + Sync {
    fn close(&self);
}

impl<E: Send> Close for Queue<E> {
    fn close(&self) {
        let mut state = lock(&self.state);
        state.closed = true;
        state.events.clear();
        drop(state);
        self.ready_blocking.notify_all();
    }
}

/// Ends a subscription: its blocking reader wakes and returns `None`, later events are dropped.
#[derive(Clone)]
pub struct Closer {
    queue: Arc<dyn Close>,
}

impl Closer {
    pub fn close(&self) {
        self.queue.close();
    }
}

impl<E: HubEvent> EventHub<E> {
    /// Queues `event` for every subscriber; never waits for one.
    pub fn send(&self, event: E) {
        let mut subscribers = lock(&self.subscribers);
        subscribers.retain(|weak| match weak.upgrade() {
            Some(queue) => {
                queue.push(&event);
                true
            }
            None => false,
        });
    }

    pub fn subscribe(&self) -> EventReceiver<E> {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState { events: VecDeque::new(), closed: false }),
            ready: Notify::new(),
            ready_blocking: Condvar::new(),
        });
        lock(&self.subscribers).push(Arc::downgrade(&queue));
        EventReceiver { queue }
    }

    /// How many subscriptions are alive (for tests of unsubscribing).
    #[cfg(test)]
    fn subscriber_count(&self) -> usize {
        lock(&self.subscribers).iter().filter(|weak| weak.strong_count() > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(key, progress?, n)`: a tiny event to test the queue rules with.
    #[derive(Debug, Clone, PartialEq)]
    struct Event(i64, bool, i64);

    impl HubEvent for Event {
        fn progress_key(&self) -> Option<i64> {
            self.1.then_some(self.0)
        }
        fn supersedes_progress_of(&self) -> Option<i64> {
            (!self.1).then_some(self.0)
        }
    }

    #[test]
    fn a_slow_subscriber_gets_every_state_change_and_the_newest_progress() {
        let hub = EventHub::default();
        let slow = hub.subscribe();
        for n in 0..10_000 {
            hub.send(Event(1, false, n));
            hub.send(Event(2, true, n));
        }
        let events = slow.drain();
        let changes: Vec<i64> = events.iter().filter(|e| !e.1).map(|e| e.2).collect();
        assert_eq!(changes, (0..10_000).collect::<Vec<_>>(), "no state change lost, in order");
        let progress: Vec<i64> = events.iter().filter(|e| e.1).map(|e| e.2).collect();
        assert_eq!(progress, vec![9_999], "progress coalesced to the newest");
    }

    #[test]
    fn a_state_change_supersedes_queued_progress_of_its_key_only() {
        let hub = EventHub::default();
        let receiver = hub.subscribe();
        hub.send(Event(1, true, 50));
        hub.send(Event(2, true, 60));
        hub.send(Event(1, false, 100));
        assert_eq!(receiver.drain(), vec![Event(2, true, 60), Event(1, false, 100)]);
    }

    #[test]
    fn a_dropped_receiver_unsubscribes() {
        let hub = EventHub::default();
        drop(hub.subscribe());
        hub.send(Event(1, true, 1));
        assert_eq!(hub.subscriber_count(), 0);
        assert!(lock(&hub.subscribers).is_empty(), "pruned on send");
    }

    #[test]
    fn closing_wakes_a_blocked_reader_and_drops_later_events() {
        let hub = EventHub::default();
        let receiver = hub.subscribe();
        hub.send(Event(1, false, 1));
        assert_eq!(receiver.recv_blocking(), Some(Event(1, false, 1)), "a queued event is read at once");
        let closer = receiver.closer();
        let reader = std::thread::spawn(move || (receiver.recv_blocking(), receiver));
        // Give the reader time to block; closing before it does must end the read the same way.
        std::thread::sleep(std::time::Duration::from_millis(50));
        closer.close();
        let (read, receiver) = reader.join().expect("the reader thread ends");
        assert_eq!(read, None, "closing ends a blocked read");
        hub.send(Event(1, false, 2));
        assert!(receiver.drain().is_empty(), "nothing is queued once closed");
        assert!(receiver.is_closed());
    }

    #[test]
    fn discarded_events_are_gone_and_later_ones_kept() {
        let hub = EventHub::default();
        let receiver = hub.subscribe();
        hub.send(Event(1, false, 1));
        receiver.discard_queued();
        hub.send(Event(1, false, 2));
        assert_eq!(receiver.drain(), vec![Event(1, false, 2)]);
    }
}

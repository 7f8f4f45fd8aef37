//! What the sync engine tells the app: a status after every change of state, with the time of
//! the last successful sync and how many refused operations wait to be seen.

use std::sync::Mutex;

use crate::error::NetworkErrorKind;
use crate::event_hub::{EventHub, EventReceiver, HubEvent};

/// Where sync stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncStatus {
    /// Nothing running; everything that could be sent was sent (or waits for the next trigger).
    Idle,
    /// A sync is running: operations pushed and records pulled so far, and local changes left.
    Syncing { pushed: i32, pulled: i32, remaining: i32 },
    /// No network, or none the learner's settings allow (Wi-Fi only, budget spent).
    Offline,
    /// The last sync attempt failed; it is retried (now or on the next trigger). `kind` is what
    /// to act on (e.g. `SignInRequired`: ask the learner to sign in); `reason` is for logs.
    Error { kind: NetworkErrorKind, reason: String },
}

/// One status report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncEvent {
    pub status: SyncStatus,
    /// When a sync last finished with everything pushed and pulled.
    pub last_synced_at_ms: Option<i64>,
    /// Operations the server refused that the learner has not dismissed.
    pub rejected_ops: i32,
}

impl HubEvent for SyncEvent {
    /// "Syncing" counts are progress: a slow listener gets the newest. Every other status
    /// (idle, offline, error) is a state change and always delivered.
    fn progress_key(&self) -> Option<i64> {
        matches!(self.status, SyncStatus::Syncing { .. }).then_some(0)
    }
}

/// Fans status events out to subscribers and remembers the latest, so a new subscriber starts
/// with the current state.
pub struct StatusHub {
    hub: EventHub<SyncEvent>,
    latest: Mutex<SyncEvent>,
}

impl Default for StatusHub {
    fn default() -> Self {
        StatusHub {
            hub: EventHub::default(),
            latest: Mutex::new(SyncEvent {
                status: SyncStatus::Idle,
                last_synced_at_ms: None,
                rejected_ops: 0,
            }),
        }
    }
}

impl StatusHub {
    /// Publishes `event` unless it says exactly what the last one said.
    pub fn publish(&self, event: SyncEvent) {
        // Held while queueing, so `snapshot` sees each event either as the latest or queued.
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        if *latest == event {
            return;
        }
        *latest = event.clone();
        self.hub.send(event);
    }

    pub fn latest(&self) -> SyncEvent {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn subscribe(&self) -> EventReceiver<SyncEvent> {
        self.hub.subscribe()
    }

    /// The latest status, after dropping what `receiver` queued before it: what follows in the
    /// receiver is strictly newer.
    pub fn snapshot(&self, receiver: &EventReceiver<SyncEvent>) -> SyncEvent {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        receiver.discard_queued();
        latest.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: SyncStatus) -> SyncEvent {
        SyncEvent { status, last_synced_at_ms: None, rejected_ops: 0 }
    }

    fn syncing(pushed: i32) -> SyncEvent {
        event(SyncStatus::Syncing { pushed, pulled: 0, remaining: 10 - pushed })
    }

    #[test]
    fn a_slow_subscriber_gets_every_status_change_and_the_newest_counts() {
        let hub = StatusHub::default();
        let receiver = hub.subscribe();
        let offline = event(SyncStatus::Offline);
        let failed = event(SyncStatus::Error { kind: NetworkErrorKind::Unreachable, reason: "down".into() });
        for round in 0..100 {
            hub.publish(offline.clone());
            for pushed in 0..10 {
                hub.publish(syncing(pushed));
            }
            hub.publish(SyncEvent { last_synced_at_ms: Some(round), ..event(SyncStatus::Idle) });
            hub.publish(failed.clone());
        }
        let events = receiver.drain();
        let changes = events.iter().filter(|e| !matches!(e.status, SyncStatus::Syncing { .. })).count();
        assert_eq!(changes, 300, "every offline, idle and error is kept");
        let counts: Vec<_> =
            events.iter().filter(|e| matches!(e.status, SyncStatus::Syncing { .. })).collect();
        assert_eq!(counts, vec![&syncing(9)], "the counts coalesce to the newest");
    }

    #[test]
    fn the_snapshot_is_the_latest_and_only_newer_events_follow_it() {
        let hub = StatusHub::default();
        let receiver = hub.subscribe();
        hub.publish(event(SyncStatus::Offline));
        assert_eq!(hub.snapshot(&receiver).status, SyncStatus::Offline);
        hub.publish(event(SyncStatus::Idle));
        assert_eq!(receiver.drain(), vec![event(SyncStatus::Idle)]);
    }
}

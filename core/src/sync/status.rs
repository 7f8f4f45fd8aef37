//! What the sync engine tells the app: a status after every change of state, with the time of
//! the last successful sync and how many refused operations wait to be seen.

use std::sync::Mutex;

use tokio::sync::broadcast;

use crate::error::NetworkErrorKind;

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

/// Fans status events out to subscribers and remembers the latest, so a new subscriber starts
/// with the current state.
pub struct StatusHub {
    sender: broadcast::Sender<SyncEvent>,
    latest: Mutex<SyncEvent>,
}

impl Default for StatusHub {
    fn default() -> Self {
        StatusHub {
            sender: broadcast::Sender::new(64),
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
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        if *latest == event {
            return;
        }
        *latest = event.clone();
        // No subscribers is fine.
        let _ = self.sender.send(event);
    }

    pub fn latest(&self) -> SyncEvent {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.sender.subscribe()
    }
}

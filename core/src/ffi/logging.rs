//! The core's logs, forwarded to a logger the app installs (logcat on Android, os_log on iOS).
//!
//! The core logs with `tracing`. An app calls `install_logger` once with a foreign
//! `SatchelLogger`; from then on every event at or above the chosen level reaches it as a plain
//! record (level, target, message). What the core logs is chosen so that a log may be shared in a
//! bug report: ids, counts, states and error kinds, never a token, a note's or quiz's text, or a
//! learner's name (`tests/tests/logging.rs` runs a learner's session and checks).
//!
//! A small `tracing::Subscriber` instead of tracing-subscriber's registry: the core has no spans
//! worth keeping, and the phone pays for every kilobyte of the library.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use super::SatchelError;

/// How much to log, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// One log line of the core.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    pub level: LogLevel,
    /// The module that logged it, e.g. `satchel_core::downloads::transfer`: a logcat tag or an
    /// os_log category.
    pub target: String,
    /// The message, then its fields as `key=value`.
    pub message: String,
}

/// Receives the core's logs. Called on whatever core thread logged: keep it quick (hand the
/// record to the platform logger and return).
#[uniffi::export(with_foreign)]
pub trait SatchelLogger: Send + Sync {
    fn log(&self, record: LogRecord);
}

/// Sends the core's logs at `max_level` and above to `logger`, replacing any logger installed
/// before. Libraries the core uses (HTTP, TLS) are forwarded only at `Warn` and above: their
/// debug output is noise on a phone.
#[uniffi::export]
pub fn install_logger(logger: Arc<dyn SatchelLogger>, max_level: LogLevel) -> Result<(), SatchelError> {
    let forward = forwarder();
    *forward.logger.write().unwrap_or_else(|p| p.into_inner()) = Some(logger);
    forward.max_level.store(max_level as u8, Ordering::Release);
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let installed = *INSTALLED.get_or_init(|| tracing::subscriber::set_global_default(Forward).is_ok());
    if !installed {
        return Err(SatchelError::InvalidInput {
            reason: "another tracing subscriber is installed in this process; its logs stay there".into(),
        });
    }
    Ok(())
}

/// Stops forwarding logs (the app's logger is released).
#[uniffi::export]
pub fn remove_logger() {
    *forwarder().logger.write().unwrap_or_else(|p| p.into_inner()) = None;
}

struct Forwarder {
    logger: RwLock<Option<Arc<dyn SatchelLogger>>>,
    max_level: AtomicU8,
}

fn forwarder() -> &'static Forwarder {
    static FORWARDER: OnceLock<Forwarder> = OnceLock::new();
    FORWARDER.get_or_init(|| Forwarder {
        logger: RwLock::new(None),
        max_level: AtomicU8::new(LogLevel::Info as u8),
    })
}

fn level_of(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

/// Whether an event from `target` at `level` is forwarded when the app asked for `max`.
fn wanted(target: &str, level: LogLevel, max: LogLevel) -> bool {
    let ours = target.starts_with("satchel");
    level <= if ours { max } else { max.min(LogLevel::Warn) }
}

/// The global `tracing` subscriber: filters, formats, and hands records to the installed logger.
struct Forward;

impl Subscriber for Forward {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at run time: ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        if !metadata.is_event() {
            return false;
        }
        let max = forwarder().max_level.load(Ordering::Acquire);
        let max = [LogLevel::Error, LogLevel::Warn, LogLevel::Info, LogLevel::Debug, LogLevel::Trace]
            .get(usize::from(max))
            .copied()
            .unwrap_or(LogLevel::Info);
        wanted(metadata.target(), level_of(metadata.level()), max)
    }

    fn event(&self, event: &Event<'_>) {
        let logger = forwarder().logger.read().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(logger) = logger else { return };
        let metadata = event.metadata();
        let mut message = Message::default();
        event.record(&mut message);
        logger.log(LogRecord {
            level: level_of(metadata.level()),
            target: metadata.target().to_owned(),
            message: message.finish(),
        });
    }

    // No spans: they are never enabled, so these are never called with one of ours.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Collects an event's fields: `message` first, the others as ` key=value`.
#[derive(Default)]
struct Message {
    text: String,
    fields: String,
}

impl Message {
    fn finish(self) -> String {
        self.text + &self.fields
    }
}

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.text.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.text, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_logs_at_the_chosen_level_and_libraries_only_warnings() {
        assert!(wanted("satchel_core::sync::engine", LogLevel::Debug, LogLevel::Debug));
        assert!(!wanted("satchel_core::sync::engine", LogLevel::Trace, LogLevel::Debug));
        assert!(wanted("satchel_protocol::codec", LogLevel::Info, LogLevel::Info));
        assert!(wanted("hyper_util::client", LogLevel::Warn, LogLevel::Trace));
        assert!(!wanted("hyper_util::client", LogLevel::Debug, LogLevel::Trace));
        assert!(!wanted("rustls::client", LogLevel::Info, LogLevel::Info));
        assert!(!wanted("satchel_core::downloads", LogLevel::Warn, LogLevel::Error));
    }
}

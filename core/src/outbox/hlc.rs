//! Hybrid logical clock: wall-clock milliseconds plus a counter plus the device id.
//!
//! Every local change is stamped with one. Stamps from one device only ever increase, even when
//! the phone's clock is set back; stamps from different devices compare by time first, so the
//! server and other devices can order changes without trusting anyone's clock exactly.

use std::fmt;
use std::str::FromStr;

/// One stamp. Orders by (wall_ms, counter, device).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub wall_ms: i64,
    pub counter: u32,
    pub device: String,
}

impl Hlc {
    /// The next stamp after `last` on `device`, given the wall clock now.
    pub fn tick(last: Option<&Hlc>, now_ms: i64, device: &str) -> Hlc {
        match last {
            Some(last) if last.wall_ms >= now_ms => Hlc {
                wall_ms: last.wall_ms,
                counter: last.counter.saturating_add(1),
                device: device.to_owned(),
            },
            _ => Hlc { wall_ms: now_ms.max(0), counter: 0, device: device.to_owned() },
        }
    }
}

/// Fixed-width text so that string order equals clock order (SQLite sorts it for free):
/// `000001790000100000-000000-<device>`.
impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:018}-{:06}-{}", self.wall_ms, self.counter, self.device)
    }
}

impl FromStr for Hlc {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, '-');
        let (Some(wall), Some(counter), Some(device)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("not a clock stamp: {s:?}"));
        };
        Ok(Hlc {
            wall_ms: wall.parse().map_err(|_| format!("bad wall time in {s:?}"))?,
            counter: counter.parse().map_err(|_| format!("bad counter in {s:?}"))?,
            device: device.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Hlc;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the wall clock does (jumps back a day, stands still), stamps strictly increase,
        /// and text order agrees with clock order.
        #[test]
        fn stamps_increase_whatever_the_clock_does(clock in proptest::collection::vec(0i64..200_000_000_000, 1..60)) {
            let mut last: Option<Hlc> = None;
            for now in clock {
                let next = Hlc::tick(last.as_ref(), now, "dev");
                if let Some(prev) = &last {
                    prop_assert!(next > *prev);
                    prop_assert!(next.to_string() > prev.to_string());
                }
                prop_assert_eq!(next.to_string().parse::<Hlc>().unwrap(), next.clone());
                last = Some(next);
            }
        }
    }
}

//! Hybrid logical clock: wall-clock milliseconds plus a counter plus the device id.
//!
//! Every local change is stamped with one. Stamps from one device only ever increase, even when
//! the phone's clock is set back; stamps from different devices compare by time first, so the
//! server and other devices can order changes without trusting anyone's clock exactly. A device
//! that learns of a newer stamp ([`Hlc::receive`]) never issues an older one afterwards.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::is_safe_id;

/// Largest wall time a stamp can carry: 18 decimal digits, the fixed width of the text form.
pub const MAX_WALL_MS: i64 = 999_999_999_999_999_999;
/// Largest counter: 6 decimal digits, the fixed width of the text form. A clock that would go
/// past it moves to the next millisecond instead, so text order always equals clock order.
pub const MAX_COUNTER: u32 = 999_999;

/// One stamp. Orders by (wall_ms, counter, device).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub wall_ms: i64,
    pub counter: u32,
    pub device: String,
}

/// Why a stamp (or its text) is not a valid clock stamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    #[error("not a clock stamp (want WALL18-COUNTER6-DEVICE): {0:?}")]
    Malformed(String),
    #[error("clock stamp wall time is out of range")]
    WallOutOfRange,
    #[error("clock stamp counter is out of range")]
    CounterOutOfRange,
    #[error("clock stamp device is not a valid id")]
    BadDevice,
}

impl Hlc {
    /// The next stamp after `last` on `device`, given the wall clock now.
    pub fn tick(last: Option<&Hlc>, now_ms: i64, device: &str) -> Hlc {
        let now_ms = now_ms.clamp(0, MAX_WALL_MS);
        match last {
            Some(last) if last.wall_ms >= now_ms => last.successor(device),
            _ => Hlc { wall_ms: now_ms, counter: 0, device: device.to_owned() },
        }
    }

    /// The HLC receive rule: a stamp for `device` newer than both its own `last` stamp and a
    /// `remote` one it has just seen (and not older than the wall clock). Storing it as the
    /// device's last stamp means every later [`Hlc::tick`] is newer than `remote` too, so a local
    /// edit made after a pull always wins over what was pulled.
    pub fn receive(last: Option<&Hlc>, remote: &Hlc, now_ms: i64, device: &str) -> Hlc {
        let floor = last.map_or(remote, |last| last.max(remote));
        Hlc::tick(Some(floor), now_ms, device)
    }

    /// Lowers a stamp from the far future to `limit_wall_ms` (counter and device kept), so one
    /// phone with its clock set years ahead cannot win every last-writer-wins tie forever.
    /// Returns whether it changed. Records clamp all their stamps together through
    /// [`ClampMap`], which also keeps them distinct. (Not named `clamp`: `Ord::clamp` would
    /// shadow it on a by-value receiver.)
    pub fn clamp_wall(&mut self, limit_wall_ms: i64) -> bool {
        if self.wall_ms > limit_wall_ms {
            self.wall_ms = limit_wall_ms;
            true
        } else {
            false
        }
    }

    /// Checks the ranges the text form can carry and the device id.
    pub fn validate(&self) -> Result<(), HlcError> {
        if !(0..=MAX_WALL_MS).contains(&self.wall_ms) {
            return Err(HlcError::WallOutOfRange);
        }
        if self.counter > MAX_COUNTER {
            return Err(HlcError::CounterOutOfRange);
        }
        if !is_safe_id(&self.device) {
            return Err(HlcError::BadDevice);
        }
        Ok(())
    }

    /// The smallest stamp on `device` that is larger than `self`.
    fn successor(&self, device: &str) -> Hlc {
        if self.counter >= MAX_COUNTER {
            Hlc { wall_ms: self.wall_ms.saturating_add(1), counter: 0, device: device.to_owned() }
        } else {
            Hlc { wall_ms: self.wall_ms, counter: self.counter + 1, device: device.to_owned() }
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
    type Err = HlcError;

    /// Accepts exactly the text [`Display`](fmt::Display) writes: 18 digits, `-`, 6 digits, `-`,
    /// a device id. Anything else (other widths, signs, spaces) is refused, so a parsed stamp
    /// prints back to the same text and sorts where it should.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || HlcError::Malformed(s.chars().take(80).collect());
        let mut parts = s.splitn(3, '-');
        let (Some(wall), Some(counter), Some(device)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed());
        };
        let digits =
            |part: &str, width: usize| part.len() == width && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(wall, 18) || !digits(counter, 6) {
            return Err(malformed());
        }
        let hlc = Hlc {
            wall_ms: wall.parse().map_err(|_| malformed())?,
            counter: counter.parse().map_err(|_| malformed())?,
            device: device.to_owned(),
        };
        hlc.validate()?;
        Ok(hlc)
    }
}

/// Stamps travel as their text form: compact, and usable as JSON object keys.
impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Hlc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a clock stamp such as 000001790000100000-000000-device")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Hlc, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// How one record's stamps move when the server clamps the record to `limit`: every stamp with
/// `wall_ms > limit` goes to `limit`, with counters raised where needed so that the clamped
/// stamps stay **distinct and in their original order** (two edits a phone made an hour apart
/// in 2031 must not collapse into one stamp, or one edit's text would replace the other's).
/// Stamps at or below the limit never move.
#[derive(Debug, Default)]
pub struct ClampMap {
    moved: BTreeMap<Hlc, Hlc>,
}

impl ClampMap {
    /// Builds the map for the given stamps (duplicates allowed, any order).
    pub fn new<'a>(stamps: impl IntoIterator<Item = &'a Hlc>, limit_wall_ms: i64) -> ClampMap {
        let mut at_or_above: Vec<&Hlc> = stamps.into_iter().filter(|s| s.wall_ms >= limit_wall_ms).collect();
        at_or_above.sort_unstable();
        at_or_above.dedup();
        let mut moved = BTreeMap::new();
        // The last stamp placed at the limit (kept or moved); each moved stamp goes strictly
        // above it, so order is kept whatever the devices.
        let mut prev: Option<Hlc> = None;
        for stamp in at_or_above {
            if stamp.wall_ms == limit_wall_ms {
                prev = Some(stamp.clone());
                continue;
            }
            let floor = prev.as_ref().map_or(0, |p| p.counter.saturating_add(1));
            let to = Hlc {
                wall_ms: limit_wall_ms,
                counter: stamp.counter.max(floor).min(MAX_COUNTER),
                device: stamp.device.clone(),
            };
            prev = Some(to.clone());
            moved.insert(stamp.clone(), to);
        }
        ClampMap { moved }
    }

    /// True when no stamp moves.
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty()
    }

    /// Where `stamp` goes (itself when it does not move).
    pub fn map(&self, stamp: &Hlc) -> Hlc {
        self.moved.get(stamp).unwrap_or(stamp).clone()
    }

    /// Moves `stamp` in place.
    pub fn apply(&self, stamp: &mut Hlc) {
        if let Some(to) = self.moved.get(stamp) {
            *stamp = to.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hlc(wall_ms: i64, counter: u32, device: &str) -> Hlc {
        Hlc { wall_ms, counter, device: device.to_owned() }
    }

    fn arb_hlc() -> impl Strategy<Value = Hlc> {
        (0i64..2_000, 0u32..4, prop::sample::select(vec!["a", "b", "c-1"])).prop_map(|(w, c, d)| hlc(w, c, d))
    }

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

        /// Text order is clock order for any two valid stamps, and text round-trips.
        #[test]
        fn text_order_is_clock_order(
            a in (0..=MAX_WALL_MS, 0..=MAX_COUNTER, "[a-z0-9-]{1,8}"),
            b in (0..=MAX_WALL_MS, 0..=MAX_COUNTER, "[a-z0-9-]{1,8}"),
        ) {
            let a = hlc(a.0, a.1, &a.2);
            let b = hlc(b.0, b.1, &b.2);
            prop_assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()));
            prop_assert_eq!(a.to_string().parse::<Hlc>().unwrap(), a);
        }

        /// After receiving a remote stamp, the device's stamps are newer than it and than its own.
        #[test]
        fn receive_is_newer_than_both(last in proptest::option::of(arb_hlc()), remote in arb_hlc(), now in 0i64..3_000) {
            let got = Hlc::receive(last.as_ref(), &remote, now, "me");
            prop_assert!(got > remote);
            if let Some(last) = &last {
                prop_assert!(got > *last);
            }
            prop_assert!(got.wall_ms >= now);
            prop_assert_eq!(&got.device, "me");
            prop_assert!(Hlc::tick(Some(&got), now, "me") > remote);
        }

        /// Clamping keeps a record's stamps distinct and in order, moves only what is above the
        /// limit, and never leaves a stamp above it.
        #[test]
        fn clamp_map_keeps_order(stamps in proptest::collection::vec(arb_hlc(), 0..20), limit in 0i64..2_000) {
            let map = ClampMap::new(&stamps, limit);
            let mut sorted = stamps.clone();
            sorted.sort();
            sorted.dedup();
            let mapped: Vec<Hlc> = sorted.iter().map(|s| map.map(s)).collect();
            for pair in mapped.windows(2) {
                prop_assert!(pair[0] < pair[1]);
            }
            for (from, to) in sorted.iter().zip(&mapped) {
                prop_assert!(to.wall_ms <= limit);
                prop_assert_eq!(&from.device, &to.device);
                if from.wall_ms <= limit {
                    prop_assert_eq!(from, to);
                } else {
                    prop_assert_eq!(to.wall_ms, limit);
                    prop_assert!(to.counter >= from.counter);
                }
            }
            prop_assert_eq!(map.is_empty(), sorted.iter().all(|s| s.wall_ms <= limit));
        }
    }

    #[test]
    fn tick_uses_the_clock_when_it_moved_on() {
        assert_eq!(Hlc::tick(None, 50, "d"), hlc(50, 0, "d"));
        assert_eq!(Hlc::tick(Some(&hlc(40, 7, "x")), 50, "d"), hlc(50, 0, "d"));
        assert_eq!(Hlc::tick(Some(&hlc(50, 7, "x")), 50, "d"), hlc(50, 8, "d"));
        assert_eq!(Hlc::tick(Some(&hlc(60, 7, "x")), 50, "d"), hlc(60, 8, "d"));
        assert_eq!(Hlc::tick(None, -5, "d"), hlc(0, 0, "d"));
        assert_eq!(Hlc::tick(None, i64::MAX, "d"), hlc(MAX_WALL_MS, 0, "d"));
    }

    #[test]
    fn tick_past_the_last_counter_moves_to_the_next_millisecond() {
        let next = Hlc::tick(Some(&hlc(60, MAX_COUNTER, "d")), 10, "d");
        assert_eq!(next, hlc(61, 0, "d"));
        assert!(next.to_string() > hlc(60, MAX_COUNTER, "d").to_string());
        assert_eq!(Hlc::tick(Some(&hlc(60, MAX_COUNTER - 1, "d")), 10, "d"), hlc(60, MAX_COUNTER, "d"));
    }

    #[test]
    fn receive_takes_the_larger_of_last_and_remote() {
        assert_eq!(Hlc::receive(Some(&hlc(10, 3, "me")), &hlc(20, 1, "r"), 5, "me"), hlc(20, 2, "me"));
        assert_eq!(Hlc::receive(Some(&hlc(20, 3, "me")), &hlc(20, 1, "r"), 5, "me"), hlc(20, 4, "me"));
        assert_eq!(Hlc::receive(None, &hlc(20, 1, "r"), 30, "me"), hlc(30, 0, "me"));
        // Equal wall and counter: the device breaks the tie, and the result beats both.
        let got = Hlc::receive(Some(&hlc(20, 1, "a")), &hlc(20, 1, "b"), 5, "a");
        assert_eq!(got, hlc(20, 2, "a"));
    }

    #[test]
    fn clamp_lowers_only_future_stamps() {
        let mut future = hlc(5_000, 3, "d");
        assert!(future.clamp_wall(4_000));
        assert_eq!(future, hlc(4_000, 3, "d"));
        let mut at = hlc(4_000, 3, "d");
        assert!(!at.clamp_wall(4_000));
        assert_eq!(at, hlc(4_000, 3, "d"));
        let mut past = hlc(100, 3, "d");
        assert!(!past.clamp_wall(4_000));
        assert_eq!(past.wall_ms, 100);
    }

    #[test]
    fn clamp_map_keeps_two_future_edits_apart() {
        let first = hlc(9_000, 0, "d");
        let second = hlc(9_500, 0, "d");
        let kept = hlc(1_000, 2, "d");
        let at_limit = hlc(2_000, 4, "e");
        let map = ClampMap::new([&second, &first, &kept, &at_limit, &first], 2_000);
        assert_eq!(map.map(&kept), kept);
        assert_eq!(map.map(&at_limit), at_limit);
        assert_eq!(map.map(&first), hlc(2_000, 5, "d"));
        assert_eq!(map.map(&second), hlc(2_000, 6, "d"));
        let mut moved = second.clone();
        map.apply(&mut moved);
        assert_eq!(moved, hlc(2_000, 6, "d"));
        assert!(ClampMap::new([&kept], 2_000).is_empty());
    }

    #[test]
    fn parse_refuses_what_display_never_writes() {
        let good = "000000000000001234-000007-dev-1";
        assert_eq!(good.parse::<Hlc>().unwrap(), hlc(1234, 7, "dev-1"));
        for bad in [
            "",
            "1234-7-dev",
            "000000000000001234-000007",
            "-00000000000001234-000007-dev",
            "+00000000000001234-000007-dev",
            "000000000000001234-00007x-dev",
            "000000000000001234-0000007-dev",
            "0000000000000001234-000007-dev",
        ] {
            assert!(matches!(bad.parse::<Hlc>(), Err(HlcError::Malformed(_))), "{bad:?}");
        }
        assert_eq!("000000000000001234-000007-".parse::<Hlc>(), Err(HlcError::BadDevice));
        assert_eq!("000000000000001234-000007-a/b".parse::<Hlc>(), Err(HlcError::BadDevice));
    }

    #[test]
    fn validate_checks_ranges() {
        assert_eq!(hlc(-1, 0, "d").validate(), Err(HlcError::WallOutOfRange));
        assert_eq!(hlc(MAX_WALL_MS + 1, 0, "d").validate(), Err(HlcError::WallOutOfRange));
        assert_eq!(hlc(MAX_WALL_MS, MAX_COUNTER + 1, "d").validate(), Err(HlcError::CounterOutOfRange));
        assert_eq!(hlc(0, 0, "").validate(), Err(HlcError::BadDevice));
        assert_eq!(hlc(MAX_WALL_MS, MAX_COUNTER, "d").validate(), Ok(()));
        assert_eq!(hlc(0, 0, "d").validate(), Ok(()));
    }

    #[test]
    fn serde_uses_the_text_form() {
        let stamp = hlc(1234, 7, "dev");
        let json = serde_json::to_string(&stamp).unwrap();
        assert_eq!(json, "\"000000000000001234-000007-dev\"");
        assert_eq!(serde_json::from_str::<Hlc>(&json).unwrap(), stamp);
        assert!(serde_json::from_str::<Hlc>("\"nope\"").is_err());
        let err = serde_json::from_str::<Hlc>("12").unwrap_err().to_string();
        assert!(err.contains("a clock stamp such as"), "{err}");
    }
}

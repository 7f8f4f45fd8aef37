//! A last-writer-wins register: a value and the clock stamp of the write that set it.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;
use crate::lattice::max_by_canonical;

/// A value with the stamp of its write. Merging keeps the value with the larger stamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamped<T> {
    pub value: T,
    pub hlc: Hlc,
}

impl<T: Serialize + PartialEq> Stamped<T> {
    pub fn new(value: T, hlc: Hlc) -> Self {
        Stamped { value, hlc }
    }

    /// Keeps the later write. Stamps include the device and its counter, so two different
    /// writes never share one; if bad input does, the larger value (by its JSON text) wins on
    /// every replica, which keeps merge a join.
    pub fn merge(self, other: Self) -> Self {
        match self.hlc.cmp(&other.hlc) {
            Ordering::Greater => self,
            Ordering::Less => other,
            Ordering::Equal => {
                let hlc = self.hlc;
                Stamped { value: max_by_canonical(self.value, other.value), hlc }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(wall_ms: i64, device: &str) -> Hlc {
        Hlc { wall_ms, counter: 0, device: device.to_owned() }
    }

    #[test]
    fn later_write_wins_either_way() {
        let old = Stamped::new(1, at(10, "a"));
        let new = Stamped::new(2, at(20, "a"));
        assert_eq!(old.clone().merge(new.clone()), new);
        assert_eq!(new.clone().merge(old.clone()), new);
        assert_eq!(new.clone().merge(new.clone()), new);
    }

    #[test]
    fn device_breaks_a_wall_clock_tie() {
        let a = Stamped::new("from a", at(10, "a"));
        let b = Stamped::new("from b", at(10, "b"));
        assert_eq!(a.clone().merge(b.clone()).value, "from b");
        assert_eq!(b.merge(a).value, "from b");
    }

    #[test]
    fn equal_stamps_pick_the_same_value_both_ways() {
        let x = Stamped::new("x", at(10, "a"));
        let y = Stamped::new("y", at(10, "a"));
        assert_eq!(x.clone().merge(y.clone()).value, "y");
        assert_eq!(y.merge(x).value, "y");
    }

    #[test]
    fn wire_form() {
        let s = Stamped::new(true, at(1, "d"));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"value":true,"hlc":"000000000000000001-000000-d"}"#);
        assert_eq!(serde_json::from_str::<Stamped<bool>>(&json).unwrap(), s);
        assert!(
            serde_json::from_str::<Stamped<bool>>(
                r#"{"value":true,"hlc":"000000000000000001-000000-d","x":1}"#
            )
            .is_err()
        );
    }
}

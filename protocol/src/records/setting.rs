//! A learner setting (weekly goal, preferences): one JSON value, last writer wins.

use serde::{Deserialize, Serialize};

use super::{RecordError, check_fresh, check_id, check_json, check_stamp};
use crate::hlc::Hlc;
use crate::stamped::Stamped;

/// One setting, keyed by `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingRecord {
    pub key: String,
    pub value: Stamped<serde_json::Value>,
}

impl SettingRecord {
    pub fn new(key: &str, value: serde_json::Value, hlc: Hlc) -> Result<SettingRecord, RecordError> {
        let record = SettingRecord { key: key.to_owned(), value: Stamped::new(value, hlc) };
        record.validate()?;
        Ok(record)
    }

    /// The later write wins.
    pub fn merge(self, other: SettingRecord) -> SettingRecord {
        SettingRecord { key: self.key.max(other.key), value: self.value.merge(other.value) }
    }

    /// A local change with a stamp newer than the record's.
    pub fn set(&mut self, value: serde_json::Value, hlc: Hlc) -> Result<(), RecordError> {
        check_fresh(&hlc, &self.value.hlc)?;
        check_json("value", &value)?;
        self.value = Stamped::new(value, hlc);
        Ok(())
    }

    pub fn validate(&self) -> Result<(), RecordError> {
        check_id("key", &self.key)?;
        check_stamp("value.hlc", &self.value.hlc)?;
        check_json("value", &self.value.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(wall_ms: i64, device: &str) -> Hlc {
        Hlc { wall_ms, counter: 0, device: device.to_owned() }
    }

    #[test]
    fn the_later_write_wins() {
        let a = SettingRecord::new("weekly_goal_days", json!(3), at(10, "a")).unwrap();
        let mut b = a.clone();
        b.set(json!(5), at(20, "b")).unwrap();
        assert_eq!(a.clone().merge(b.clone()).value.value, json!(5));
        assert_eq!(b.clone().merge(a).value.value, json!(5));
        assert_eq!(b.set(json!(1), at(20, "b")), Err(RecordError::StaleStamp));
        assert!(b.set(json!("x".repeat(20_000)), at(30, "b")).is_err());
        assert_eq!(b.value.value, json!(5));
    }

    #[test]
    fn validate_refuses_bad_values() {
        assert!(SettingRecord::new("a b", json!(1), at(1, "a")).is_err());
        assert!(SettingRecord::new("k", json!(1), at(1, "")).is_err());
        assert!(matches!(
            SettingRecord::new("k", json!("x".repeat(20_000)), at(1, "a")),
            Err(RecordError::TooLarge { field: "value", .. })
        ));
        assert!(SettingRecord::new("k", json!({"nested": [1, 2, 3]}), at(1, "a")).is_ok());
    }
}

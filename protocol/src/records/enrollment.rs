//! Being enrolled in a course.

use serde::{Deserialize, Serialize};

use super::{RecordError, check_fresh, check_id, check_stamp, check_time};
use crate::hlc::Hlc;
use crate::stamped::Stamped;

/// Enrolment in one course, keyed by `course_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRecord {
    pub course_id: String,
    /// The first enrolment on any device (the earliest time wins).
    pub enrolled_at_ms: i64,
    /// Whether the learner left the course since, last writer wins (enrolling again writes
    /// `false` with a newer stamp).
    pub unenrolled: Stamped<bool>,
}

impl EnrollmentRecord {
    /// A new enrolment at `enrolled_at_ms`, stamped `hlc`.
    pub fn new(course_id: &str, enrolled_at_ms: i64, hlc: Hlc) -> Result<EnrollmentRecord, RecordError> {
        let record = EnrollmentRecord {
            course_id: course_id.to_owned(),
            enrolled_at_ms,
            unenrolled: Stamped::new(false, hlc),
        };
        record.validate()?;
        Ok(record)
    }

    /// The join of two states of one enrolment.
    pub fn merge(self, other: EnrollmentRecord) -> EnrollmentRecord {
        EnrollmentRecord {
            course_id: self.course_id.max(other.course_id),
            enrolled_at_ms: self.enrolled_at_ms.min(other.enrolled_at_ms),
            unenrolled: self.unenrolled.merge(other.unenrolled),
        }
    }

    /// A local unenrol (or re-enrol) with a stamp newer than the record's.
    pub fn set_unenrolled(&mut self, unenrolled: bool, hlc: Hlc) -> Result<(), RecordError> {
        check_fresh(&hlc, &self.unenrolled.hlc)?;
        self.unenrolled = Stamped::new(unenrolled, hlc);
        Ok(())
    }

    pub fn validate(&self) -> Result<(), RecordError> {
        check_id("course_id", &self.course_id)?;
        check_time("enrolled_at_ms", self.enrolled_at_ms)?;
        check_stamp("unenrolled.hlc", &self.unenrolled.hlc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(wall_ms: i64, device: &str) -> Hlc {
        Hlc { wall_ms, counter: 0, device: device.to_owned() }
    }

    #[test]
    fn earliest_enrolment_and_latest_unenrol_win() {
        let a = EnrollmentRecord::new("c1", 500, at(500, "a")).unwrap();
        let mut b = EnrollmentRecord::new("c1", 300, at(300, "b")).unwrap();
        b.set_unenrolled(true, at(600, "b")).unwrap();
        let m = a.clone().merge(b.clone());
        assert_eq!(m, b.clone().merge(a));
        assert_eq!(m.enrolled_at_ms, 300);
        assert!(m.unenrolled.value);
        let mut again = m.clone();
        again.set_unenrolled(false, at(700, "a")).unwrap();
        assert!(!again.clone().merge(b).unenrolled.value);
        assert_eq!(again.set_unenrolled(true, at(700, "a")), Err(RecordError::StaleStamp));
    }

    #[test]
    fn validate_refuses_bad_values() {
        assert!(EnrollmentRecord::new("c/1", 1, at(1, "a")).is_err());
        assert!(EnrollmentRecord::new("c1", -1, at(1, "a")).is_err());
        assert!(EnrollmentRecord::new("c1", 1, at(1, "")).is_err());
        assert!(EnrollmentRecord::new("c1", 0, at(0, "a")).is_ok());
    }
}

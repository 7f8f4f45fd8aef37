//! Plain-text rendering of catalog records for the terminal.

use std::fmt::Write;

use satchel_core::catalog::{CourseOutline, CourseSummary, Lesson, LessonKind, RenditionSizes};
use satchel_core::sync::SyncOutcome;

use crate::terminal::safe;

/// "1.3 MB", "74 MB", "900 B": decimal units, as phones show storage. The core reports sizes
/// as `i64` (the public API has no unsigned types); none is negative.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    if value < 10.0 { format!("{value:.1} {unit}") } else { format!("{value:.0} {unit}") }
}

/// A count or byte size from the core as a progress bar's length or position.
pub fn bar_units(n: impl Into<i64>) -> u64 {
    n.into().max(0).unsigned_abs()
}

/// "Lite 2.1 MB · Full 74 MB · Text 30 kB"
pub fn sizes(s: &RenditionSizes) -> String {
    format!("Lite {} · Full {} · Text {}", bytes(s.lite_bytes), bytes(s.full_bytes), bytes(s.text_bytes))
}

pub fn course_line(course: &CourseSummary) -> String {
    format!(
        "{}  {} (v{}, {} modules, {} lessons)  {}",
        safe(&course.id),
        safe(&course.title),
        course.version,
        course.module_count,
        course.lesson_count,
        sizes(&course.sizes)
    )
}

/// A millisecond count as m:ss (a negative one as 0:00).
pub fn clock(ms: i64) -> String {
    let seconds = ms.max(0) / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

fn lesson_line(lesson: &Lesson) -> String {
    let kind = match lesson.kind {
        LessonKind::Video => "video",
        LessonKind::Reading => "reading",
        LessonKind::Quiz => "quiz",
    };
    let length = lesson.duration_ms.map(clock).unwrap_or_default();
    format!("{:<48} {kind:<8} {length:>6}", safe(&lesson.title))
}

/// The outline as an indented tree with sizes per module.
pub fn outline(outline: &CourseOutline) -> String {
    let mut out = String::new();
    let course = &outline.course;
    let _ = writeln!(out, "{}  (v{})", safe(&course.title), course.version);
    let _ = writeln!(out, "  {}", sizes(&course.sizes));
    for (index, module) in outline.modules.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}  [{}]", index + 1, safe(&module.title), sizes(&module.sizes));
        for lesson in &module.lessons {
            let _ = writeln!(out, "     - {}", lesson_line(lesson));
        }
    }
    out
}

/// A sync outcome as a word and, for a failure, its reason.
pub fn sync_outcome(outcome: &SyncOutcome) -> (&'static str, Option<&str>) {
    match outcome {
        SyncOutcome::Finished => ("finished", None),
        SyncOutcome::Blocked => ("blocked", None),
        SyncOutcome::DeadlineReached => ("deadline_reached", None),
        SyncOutcome::Stopped => ("stopped", None),
        SyncOutcome::Failed { reason, .. } => ("failed", Some(reason)),
    }
}

/// Milliseconds since the epoch as "2026-12-01 13:05 UTC".
pub fn utc(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let minute_of_day = ms.rem_euclid(86_400_000) / 60_000;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", minute_of_day / 60, minute_of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::{bytes, utc};

    #[test]
    fn sizes_read_like_a_phone_shows_them() {
        assert_eq!(bytes(900), "900 B");
        assert_eq!(bytes(1_310_000), "1.3 MB");
        assert_eq!(bytes(46_600_000), "47 MB");
        assert_eq!(bytes(2_000_000_000), "2.0 GB");
    }

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_796_130_300_000), "2026-12-01 13:05 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}

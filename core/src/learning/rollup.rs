//! Module and course roll-ups: percent complete and the next lesson to study.

use rusqlite::Connection;

use crate::api_int::to_i32;
use crate::catalog;
use crate::error::Result;

/// Progress through one module.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModuleProgress {
    pub module_id: String,
    pub completed_lessons: i32,
    pub total_lessons: i32,
    /// 0 to 100, rounded down: 100 only when every lesson is complete.
    pub percent_complete: i32,
}

/// Progress through a course.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CourseProgress {
    pub course_id: String,
    pub completed_lessons: i32,
    pub total_lessons: i32,
    /// 0 to 100, rounded down.
    pub percent_complete: i32,
    pub modules: Vec<ModuleProgress>,
    /// Where to pick up: the lesson last studied if unfinished, else the next unfinished one in
    /// course order; `None` once everything is complete.
    pub next_lesson_id: Option<String>,
    pub time_spent_ms: i64,
}

pub fn course_progress(conn: &Connection, course_id: &str) -> Result<CourseProgress> {
    catalog::course(conn, course_id)?;
    // (lesson, module, completed, last touched) in course order.
    let mut stmt = conn.prepare_cached(
        "SELECT l.id, l.module_id, p.completed_at_ms IS NOT NULL, p.updated_at_ms
         FROM lesson l
         JOIN module m ON m.id = l.module_id
         LEFT JOIN progress p ON p.lesson_id = l.id
         WHERE l.course_id = ?1
         ORDER BY m.position, l.position",
    )?;
    let lessons: Vec<(String, String, bool, Option<i64>)> = stmt
        .query_map([course_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;

    let mut modules: Vec<ModuleProgress> = Vec::new();
    for (_, module_id, completed, _) in &lessons {
        if modules.last().is_none_or(|m| &m.module_id != module_id) {
            modules.push(ModuleProgress {
                module_id: module_id.clone(),
                completed_lessons: 0,
                total_lessons: 0,
                percent_complete: 0,
            });
        }
        if let Some(module) = modules.last_mut() {
            module.total_lessons += 1;
            module.completed_lessons += i32::from(*completed);
        }
    }
    for module in &mut modules {
        module.percent_complete = percent(module.completed_lessons, module.total_lessons);
    }

    let completed = to_i32(lessons.iter().filter(|l| l.2).count());
    let total = to_i32(lessons.len());
    let time_spent_ms: i64 = conn
        .prepare_cached("SELECT coalesce(sum(time_spent_ms), 0) FROM progress WHERE course_id = ?1")?
        .query_row([course_id], |r| r.get(0))?;
    Ok(CourseProgress {
        course_id: course_id.to_owned(),
        completed_lessons: completed,
        total_lessons: total,
        percent_complete: percent(completed, total),
        modules,
        next_lesson_id: next_lesson(&lessons),
        time_spent_ms,
    })
}

fn percent(done: i32, total: i32) -> i32 {
    if total <= 0 { 0 } else { to_i32(i64::from(done) * 100 / i64::from(total)) }
}

fn next_lesson(lessons: &[(String, String, bool, Option<i64>)]) -> Option<String> {
    let last_studied =
        lessons.iter().enumerate().filter_map(|(i, l)| l.3.map(|at| (at, i))).max().map(|(_, i)| i);
    let start = match last_studied {
        Some(i) if !lessons[i].2 => return Some(lessons[i].0.clone()),
        Some(i) => i + 1,
        None => 0,
    };
    lessons[start..].iter().chain(&lessons[..start]).find(|l| !l.2).map(|l| l.0.clone())
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;

//! Reading the catalog: course list, outlines, lessons and linked lectures.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::model::{
    CourseOutline, CourseSummary, Lesson, LinkedLecture, ModuleOutline, Rendition, RenditionSizes,
};
use crate::downloads::DownloadState;
use crate::error::{Error, Result};

const COURSE_SUMMARY_SQL: &str = "
    SELECT c.id, c.title, c.description, c.language, c.version,
           (SELECT count(*) FROM module m WHERE m.course_id = c.id),
           (SELECT count(*) FROM lesson l WHERE l.course_id = c.id),
           (SELECT total(CASE r.kind WHEN 'full' THEN r.bytes END)
              FROM rendition r JOIN lesson l ON l.id = r.lesson_id WHERE l.course_id = c.id),
           (SELECT total(CASE r.kind WHEN 'lite' THEN r.bytes END)
              FROM rendition r JOIN lesson l ON l.id = r.lesson_id WHERE l.course_id = c.id),
           (SELECT total(CASE r.kind WHEN 'text' THEN r.bytes END)
              FROM rendition r JOIN lesson l ON l.id = r.lesson_id WHERE l.course_id = c.id)
    FROM course c";

/// Every course in the catalog, by title.
pub fn list_courses(conn: &Connection) -> Result<Vec<CourseSummary>> {
    let mut stmt =
        conn.prepare_cached(&format!("{COURSE_SUMMARY_SQL} ORDER BY c.title COLLATE NOCASE, c.id"))?;
    let courses = stmt.query_map([], course_summary)?.collect::<rusqlite::Result<_>>()?;
    Ok(courses)
}

/// One course's summary.
pub fn course(conn: &Connection, course_id: &str) -> Result<CourseSummary> {
    let mut stmt = conn.prepare_cached(&format!("{COURSE_SUMMARY_SQL} WHERE c.id = ?1"))?;
    stmt.query_row([course_id], course_summary)
        .optional()?
        .ok_or_else(|| Error::not_found("course", course_id))
}

/// A course's modules and lessons, in order, with download sizes.
pub fn course_outline(conn: &Connection, course_id: &str) -> Result<CourseOutline> {
    let course = course(conn, course_id)?;
    let mut modules: Vec<ModuleOutline> = conn
        .prepare_cached("SELECT id, title FROM module WHERE course_id = ?1 ORDER BY position")?
        .query_map([course_id], |row| {
            Ok(ModuleOutline {
                id: row.get(0)?,
                title: row.get(1)?,
                lessons: Vec::new(),
                sizes: RenditionSizes::default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;

    // One pass over lessons joined with their renditions, already in course order.
    let mut stmt = conn.prepare_cached(
        "SELECT l.id, l.course_id, l.module_id, l.title, l.kind, l.duration_ms, r.kind, r.bytes
         FROM lesson l
         JOIN module m ON m.id = l.module_id
         LEFT JOIN rendition r ON r.lesson_id = l.id
         WHERE l.course_id = ?1
         ORDER BY m.position, l.position, r.kind",
    )?;
    let mut rows = stmt.query([course_id])?;
    let mut module_index = 0;
    while let Some(row) = rows.next()? {
        let module_id: String = row.get(2)?;
        while modules.get(module_index).is_some_and(|m| m.id != module_id) {
            module_index += 1;
        }
        let Some(module) = modules.get_mut(module_index) else {
            return Err(Error::Internal(format!("lesson in unknown module {module_id:?}")));
        };
        let lesson_id: String = row.get(0)?;
        if module.lessons.last().is_none_or(|l| l.id != lesson_id) {
            module.lessons.push(lesson_without_renditions(row)?);
        }
        if let Some(rendition) = rendition_columns(row, 6)? {
            module.sizes.add(&rendition);
            if let Some(lesson) = module.lessons.last_mut() {
                lesson.renditions.push(rendition);
            }
        }
    }
    Ok(CourseOutline { course, modules })
}

/// One lesson with its renditions.
pub fn lesson(conn: &Connection, lesson_id: &str) -> Result<Lesson> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, course_id, module_id, title, kind, duration_ms FROM lesson WHERE id = ?1",
    )?;
    let mut lesson = stmt
        .query_row([lesson_id], lesson_without_renditions)
        .optional()?
        .ok_or_else(|| Error::not_found("lesson", lesson_id))?;
    let mut stmt =
        conn.prepare_cached("SELECT kind, bytes FROM rendition WHERE lesson_id = ?1 ORDER BY kind")?;
    lesson.renditions = stmt
        .query_map([lesson_id], |row| Ok(Rendition { kind: row.get(0)?, bytes: row.get(1)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(lesson)
}

/// The lectures linked from a lesson, in the publisher's order, each with what of it is
/// available offline.
pub fn linked_lectures(conn: &Connection, lesson_id: &str) -> Result<Vec<LinkedLecture>> {
    // Fails with NotFound for an unknown lesson rather than returning an empty list.
    lesson(conn, lesson_id)?;
    let targets: Vec<String> = conn
        .prepare_cached("SELECT linked_lesson_id FROM lesson_link WHERE lesson_id = ?1 ORDER BY position")?
        .query_map([lesson_id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut module_title = conn.prepare_cached("SELECT title FROM module WHERE id = ?1")?;
    let mut offline = conn.prepare_cached(
        "SELECT rendition FROM download WHERE lesson_id = ?1 AND state = ?2 ORDER BY rendition",
    )?;
    targets
        .iter()
        .map(|target| {
            let lesson = lesson(conn, target)?;
            Ok(LinkedLecture {
                module_title: module_title.query_row([&lesson.module_id], |row| row.get(0))?,
                available_offline: offline
                    .query_map(params![target, DownloadState::Done], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?,
                lesson,
            })
        })
        .collect()
}

fn course_summary(row: &Row<'_>) -> rusqlite::Result<CourseSummary> {
    Ok(CourseSummary {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        language: row.get(3)?,
        version: row.get(4)?,
        module_count: row.get(5)?,
        lesson_count: row.get(6)?,
        sizes: RenditionSizes {
            // total() returns a float; sizes are far below 2^53, so this is exact.
            full_bytes: row.get::<_, f64>(7)? as i64,
            lite_bytes: row.get::<_, f64>(8)? as i64,
            text_bytes: row.get::<_, f64>(9)? as i64,
        },
    })
}

fn lesson_without_renditions(row: &Row<'_>) -> rusqlite::Result<Lesson> {
    Ok(Lesson {
        id: row.get(0)?,
        course_id: row.get(1)?,
        module_id: row.get(2)?,
        title: row.get(3)?,
        kind: row.get(4)?,
        duration_ms: row.get(5)?,
        renditions: Vec::new(),
    })
}

fn rendition_columns(row: &Row<'_>, first: usize) -> rusqlite::Result<Option<Rendition>> {
    let kind: Option<super::model::RenditionKind> = row.get(first)?;
    let bytes: Option<i64> = row.get(first + 1)?;
    Ok(kind.zip(bytes).map(|(kind, bytes)| Rendition { kind, bytes }))
}

/// What learning features need to know about a lesson before recording anything against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonFacts {
    pub course_id: String,
    pub kind: super::model::LessonKind,
    pub duration_ms: Option<i64>,
}

/// The facts of a lesson, or `NotFound`.
pub fn lesson_facts(conn: &Connection, lesson_id: &str) -> Result<LessonFacts> {
    conn.prepare_cached("SELECT course_id, kind, duration_ms FROM lesson WHERE id = ?1")?
        .query_row([lesson_id], |r| {
            Ok(LessonFacts { course_id: r.get(0)?, kind: r.get(1)?, duration_ms: r.get(2)? })
        })
        .optional()?
        .ok_or_else(|| Error::not_found("lesson", lesson_id))
}

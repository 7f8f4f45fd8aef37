//! `--json` output: the core's records as JSON, with field names as the core spells them.
//!
//! Written out here rather than derived in the core so the CLI's output is a documented format
//! of its own (docs/cli.md) that a core refactor does not silently change.

use satchel_core::catalog::{CourseOutline, CourseSummary, Lesson, RenditionSizes};
use satchel_core::downloads::{DataUsage, DownloadInfo, DownloadSettings, StorageUsage};
use satchel_core::learning::{CourseProgress, LearningSummary, LessonProgress, Quiz, QuizAttempt};
use satchel_core::notes::Note;
use satchel_core::sync::{RejectedOp, SyncEvent, SyncReport, SyncStatus};
use serde_json::{Value, json};

/// Renders `value` for a terminal: serde_json already escapes C0 controls; C1 controls and
/// bidirectional overrides (which a terminal also obeys) become `\uXXXX` escapes too, so the
/// document parses back to the same strings.
pub fn to_terminal(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // Outside strings JSON has only ASCII whitespace, kept as it is; inside them serde_json
        // escaped C0 already, which leaves DEL, C1 and the bidi controls.
        if crate::terminal::needs_escape(c) && !matches!(c, '\n' | '\r' | '\t' | ' ') {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn sizes(s: &RenditionSizes) -> Value {
    json!({ "full_bytes": s.full_bytes, "lite_bytes": s.lite_bytes, "text_bytes": s.text_bytes })
}

pub fn course(c: &CourseSummary) -> Value {
    json!({
        "id": c.id, "title": c.title, "description": c.description, "language": c.language,
        "version": c.version, "module_count": c.module_count, "lesson_count": c.lesson_count,
        "sizes": sizes(&c.sizes),
    })
}

pub fn lesson(l: &Lesson) -> Value {
    json!({
        "id": l.id, "course_id": l.course_id, "module_id": l.module_id, "title": l.title,
        "kind": l.kind.as_str(), "duration_ms": l.duration_ms,
        "renditions": l.renditions.iter()
            .map(|r| json!({ "kind": r.kind.as_str(), "bytes": r.bytes })).collect::<Vec<_>>(),
    })
}

pub fn outline(o: &CourseOutline) -> Value {
    json!({
        "course": course(&o.course),
        "modules": o.modules.iter().map(|m| json!({
            "id": m.id, "title": m.title, "sizes": sizes(&m.sizes),
            "lessons": m.lessons.iter().map(lesson).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

pub fn download(d: &DownloadInfo) -> Value {
    json!({
        "id": d.id, "lesson_id": d.lesson_id, "course_id": d.course_id,
        "rendition": d.rendition.as_str(), "state": d.state.as_str(), "priority": d.priority,
        "bytes_total": d.bytes_total, "bytes_done": d.bytes_done, "failure": d.failure,
    })
}

pub fn settings(s: &DownloadSettings) -> Value {
    json!({
        "wifi_only": s.wifi_only, "monthly_cellular_budget_bytes": s.monthly_cellular_budget_bytes,
        "storage_quota_bytes": s.storage_quota_bytes, "max_concurrent_downloads": s.max_concurrent_downloads,
    })
}

pub fn usage(data: &DataUsage, storage: &StorageUsage) -> Value {
    json!({
        "data": {
            "month": data.month, "metered_bytes": data.metered_bytes,
            "unmetered_bytes": data.unmetered_bytes,
            "monthly_cellular_budget_bytes": data.monthly_cellular_budget_bytes,
            "saved_by_lite_bytes": data.saved_by_lite_bytes,
        },
        "storage": {
            "content_bytes": storage.content_bytes, "partial_bytes": storage.partial_bytes,
            "quota_bytes": storage.quota_bytes, "free_bytes": storage.free_bytes,
        },
    })
}

pub fn course_progress(p: &CourseProgress) -> Value {
    json!({
        "course_id": p.course_id, "completed_lessons": p.completed_lessons,
        "total_lessons": p.total_lessons, "percent_complete": p.percent_complete,
        "next_lesson_id": p.next_lesson_id, "time_spent_ms": p.time_spent_ms,
        "modules": p.modules.iter().map(|m| json!({
            "module_id": m.module_id, "completed_lessons": m.completed_lessons,
            "total_lessons": m.total_lessons, "percent_complete": m.percent_complete,
        })).collect::<Vec<_>>(),
    })
}

pub fn lesson_progress(p: &LessonProgress) -> Value {
    json!({
        "lesson_id": p.lesson_id, "course_id": p.course_id, "position_ms": p.position_ms,
        "furthest_ms": p.furthest_ms, "watched_ms": p.watched_ms, "scroll_fraction": p.scroll_fraction,
        "completed": p.completed, "completed_at_ms": p.completed_at_ms,
        "time_spent_ms": p.time_spent_ms, "updated_at_ms": p.updated_at_ms,
    })
}

pub fn summary(s: &LearningSummary) -> Value {
    json!({
        "today_ms": s.today_ms, "this_week_ms": s.this_week_ms,
        "study_days_this_week": s.study_days_this_week, "weekly_goal_days": s.weekly_goal_days,
        "weekly_goal_met": s.weekly_goal_met, "current_streak_days": s.current_streak_days,
        "longest_streak_days": s.longest_streak_days, "total_ms": s.total_ms,
    })
}

pub fn note(n: &Note) -> Value {
    serde_json::to_value(n).unwrap_or(Value::Null)
}

pub fn notes(list: &[Note]) -> Value {
    Value::Array(list.iter().map(note).collect())
}

pub fn quiz(q: &Quiz) -> Value {
    json!({
        "lesson_id": q.lesson_id, "mode": q.mode.as_str(), "pass_percent": q.pass_percent,
        "questions": q.questions.iter().map(|question| json!({
            "id": question.id, "prompt": question.prompt, "multiple_answers": question.multiple_answers,
            "choices": question.choices.iter()
                .map(|c| json!({ "id": c.id, "text": c.text })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

pub fn attempt(a: &QuizAttempt) -> Value {
    json!({
        "id": a.id, "lesson_id": a.lesson_id, "mode": a.mode.as_str(), "state": a.state.as_str(),
        "started_at_ms": a.started_at_ms, "submitted_at_ms": a.submitted_at_ms,
        "score_percent": a.score_percent, "passed": a.passed,
        "answers": a.answers.iter().map(|x| json!({
            "question_id": x.question_id, "choice_ids": x.choice_ids,
        })).collect::<Vec<_>>(),
        "results": a.results.iter().map(|r| json!({
            "question_id": r.question_id, "correct": r.correct, "correct_choice_ids": r.correct_choice_ids,
        })).collect::<Vec<_>>(),
    })
}

pub fn sync_report(r: &SyncReport) -> Value {
    let (outcome, reason) = crate::format::sync_outcome(&r.outcome);
    json!({
        "outcome": outcome, "reason": reason, "pushed": r.pushed, "pulled": r.pulled,
        "rejected": r.rejected, "remaining": r.remaining,
    })
}

pub fn sync_event(e: &SyncEvent) -> Value {
    let status = match &e.status {
        SyncStatus::Idle => json!({ "state": "idle" }),
        SyncStatus::Offline => json!({ "state": "offline" }),
        SyncStatus::Syncing { pushed, pulled, remaining } => {
            json!({ "state": "syncing", "pushed": pushed, "pulled": pulled, "remaining": remaining })
        }
        SyncStatus::Error { kind, reason } => {
            json!({ "state": "error", "kind": format!("{kind:?}"), "reason": reason })
        }
    };
    json!({ "status": status, "last_synced_at_ms": e.last_synced_at_ms, "rejected_ops": e.rejected_ops })
}

pub fn rejected(op: &RejectedOp) -> Value {
    json!({
        "op_id": op.op_id, "entity_kind": op.entity_kind, "entity_id": op.entity_id,
        "code": op.code, "reason": op.reason, "rejected_at_ms": op.rejected_at_ms,
    })
}

//! A course's notes and highlights as Markdown, grouped by module and lesson in course order.

use std::fmt::Write;

use super::{Note, NoteAnchor, NoteKind};

/// Where each note sits in the course, for grouping.
pub struct Placed<'a> {
    pub module_title: Option<&'a str>,
    pub lesson_title: Option<&'a str>,
    pub note: &'a Note,
}

/// Renders notes already sorted in course order. Notes whose lesson left the course are listed
/// at the end rather than dropped.
pub fn markdown(course_title: &str, notes: &[Placed<'_>]) -> String {
    let mut out = format!("# Notes: {}\n", one_line(course_title));
    if notes.is_empty() {
        out.push_str("\nNo notes or highlights yet.\n");
        return out;
    }
    let mut module: Option<Option<&str>> = None;
    let mut lesson: Option<Option<&str>> = None;
    for placed in notes {
        if module != Some(placed.module_title) {
            module = Some(placed.module_title);
            lesson = None;
            let title = placed.module_title.unwrap_or("Lessons no longer in the course");
            let _ = write!(out, "\n## {}\n", one_line(title));
        }
        if lesson != Some(placed.lesson_title) {
            lesson = Some(placed.lesson_title);
            let title = placed.lesson_title.unwrap_or(&placed.note.lesson_id);
            let _ = write!(out, "\n### {}\n", one_line(title));
        }
        write_note(&mut out, placed.note);
    }
    out
}

fn write_note(out: &mut String, note: &Note) {
    let kind = match note.kind {
        NoteKind::Note => "Note",
        NoteKind::Highlight => "Highlight",
    };
    let mut heading = format!("\n**{kind}**");
    if let NoteAnchor::Time { start_ms, end_ms } = note.anchor {
        let _ = write!(heading, " at {}–{}", clock(start_ms), clock(end_ms));
    }
    if let Some(color) = &note.color {
        let _ = write!(heading, " · {}", one_line(color));
    }
    if !note.tags.is_empty() {
        let tags: Vec<String> = note.tags.iter().map(|t| format!("#{}", t.replace(' ', "-"))).collect();
        let _ = write!(heading, " · {}", tags.join(" "));
    }
    if note.orphaned {
        heading.push_str(" · *passage no longer in the text*");
    }
    out.push_str(&heading);
    out.push('\n');
    if let NoteAnchor::Text { quote, .. } = &note.anchor {
        out.push('\n');
        for line in quote.lines() {
            let _ = writeln!(out, "> {line}");
        }
    }
    if !note.body.trim().is_empty() {
        let _ = write!(out, "\n{}\n", note.body.trim_end());
    }
}

/// Titles go on one Markdown line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `mm:ss`, or `h:mm:ss` past an hour.
fn clock(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(kind: NoteKind, anchor: NoteAnchor, body: &str) -> Note {
        Note {
            id: "n".into(),
            lesson_id: "gone-lesson".into(),
            course_id: "c".into(),
            kind,
            body: body.into(),
            anchor,
            color: None,
            tags: vec![],
            created_at_ms: 0,
            updated_at_ms: 0,
            orphaned: false,
        }
    }

    #[test]
    fn clock_times_switch_to_hours_at_exactly_one_hour() {
        assert_eq!(clock(-5), "00:00");
        assert_eq!(clock(999), "00:00");
        assert_eq!(clock(61_000), "01:01");
        assert_eq!(clock(3_599_999), "59:59");
        assert_eq!(clock(3_600_000), "1:00:00");
        assert_eq!(clock(3_661_000), "1:01:01");
        assert_eq!(clock(36_000_000 + 59_000), "10:00:59");
    }

    #[test]
    fn notes_are_grouped_under_module_and_lesson_headings_in_order() {
        let a = note(NoteKind::Note, NoteAnchor::Time { start_ms: 65_000, end_ms: 3_600_000 }, "first  \n");
        let mut b = note(
            NoteKind::Highlight,
            NoteAnchor::Text {
                quote: "line one\nline two".into(),
                prefix: String::new(),
                suffix: String::new(),
                start: 0,
                end: 17,
            },
            "   ",
        );
        b.color = Some("  light\nyellow ".into());
        b.tags = vec!["to review".into(), "dns".into()];
        b.orphaned = true;
        let c = note(NoteKind::Note, NoteAnchor::Time { start_ms: 0, end_ms: 0 }, "third");
        let placed = [
            Placed { module_title: Some("Module\n one"), lesson_title: Some("Lesson A"), note: &a },
            Placed { module_title: Some("Module\n one"), lesson_title: Some("Lesson A"), note: &b },
            Placed { module_title: None, lesson_title: None, note: &c },
        ];
        let text = markdown("My   course", &placed);
        assert_eq!(
            text,
            "# Notes: My course\n\
             \n## Module one\n\
             \n### Lesson A\n\
             \n**Note** at 01:05–1:00:00\n\
             \nfirst\n\
             \n**Highlight** · light yellow · #to-review #dns · *passage no longer in the text*\n\
             \n> line one\n> line two\n\
             \n## Lessons no longer in the course\n\
             \n### gone-lesson\n\
             \n**Note** at 00:00–00:00\n\
             \nthird\n"
        );
        assert_eq!(markdown("C", &[]), "# Notes: C\n\nNo notes or highlights yet.\n");
    }
}

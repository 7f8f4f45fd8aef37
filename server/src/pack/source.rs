//! The course source format a content team writes (docs/content.md): `course.json` plus the
//! files it names, all inside one folder.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use satchel_core::catalog::LessonKind;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseSource {
    pub id: String,
    pub version: u32,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub language: String,
    pub modules: Vec<ModuleSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSource {
    pub id: String,
    pub title: String,
    pub lessons: Vec<LessonSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonSource {
    pub id: String,
    pub title: String,
    pub kind: LessonKind,
    /// Video lessons: the lecture as published today (MP4).
    pub video: Option<String>,
    /// Video lessons: WebVTT transcript.
    pub transcript: Option<String>,
    /// Reading lessons: Markdown.
    pub reading: Option<String>,
    /// Quiz lessons: JSON (mode, pass_percent, questions).
    pub quiz: Option<String>,
    #[serde(default)]
    pub linked: Vec<String>,
}

impl CourseSource {
    pub fn load(dir: &Path) -> Result<CourseSource> {
        let path = dir.join("course.json");
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let course: CourseSource = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid course source", path.display()))?;
        for lesson in course.modules.iter().flat_map(|m| &m.lessons) {
            let needs: &[(&str, &Option<String>)] = match lesson.kind {
                LessonKind::Video => &[("video", &lesson.video), ("transcript", &lesson.transcript)],
                LessonKind::Reading => &[("reading", &lesson.reading)],
                LessonKind::Quiz => &[("quiz", &lesson.quiz)],
            };
            for (field, value) in needs {
                let Some(relative) = value else { bail!("lesson {:?} needs a {field} file", lesson.id) };
                resolve(dir, relative).with_context(|| format!("lesson {:?}", lesson.id))?;
            }
        }
        Ok(course)
    }
}

/// A file named by the source: relative, inside the folder, and present.
pub fn resolve(dir: &Path, relative: &str) -> Result<PathBuf> {
    let rel = Path::new(relative);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        bail!("{relative:?} must be a relative path inside the course folder");
    }
    let path = dir.join(rel);
    if !path.is_file() {
        bail!("{relative:?} is missing");
    }
    Ok(path)
}

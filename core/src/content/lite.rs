//! A downloaded lite lecture, ready for the player: the audio, which slide to show when, and the
//! transcript cues. The app never parses the lite files itself.

use rusqlite::Connection;
use serde::Deserialize;

use super::ContentError;
use super::course::{LocalFile, rendition_files};
use super::store::ContentStore;
use crate::catalog::RenditionKind;
use crate::error::Result;

/// One transcript cue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Cue {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

/// Show `path` from `at_ms` until the next slide.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SlideAt {
    pub at_ms: i64,
    pub path: String,
}

/// Everything a player needs to play a lecture in lite: audio with synchronised slides and
/// transcript.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LiteLecture {
    pub audio_path: String,
    pub slides: Vec<SlideAt>,
    pub cues: Vec<Cue>,
}

#[derive(Deserialize)]
struct Timeline {
    slides: Vec<TimelineSlide>,
}

#[derive(Deserialize)]
struct TimelineSlide {
    at_ms: u64,
    image: String,
}

/// The lite lecture of a video lesson, or `None` until its lite rendition is fully downloaded.
pub fn lite_lecture(
    conn: &Connection,
    content: &ContentStore,
    lesson_id: &str,
) -> Result<Option<LiteLecture>> {
    let Some(files) = rendition_files(conn, content, lesson_id, RenditionKind::Lite)? else {
        return Ok(None);
    };
    let by_role = |role: &str| files.iter().find(|f| f.role == role);
    let corrupt =
        |file: &LocalFile, reason: String| ContentError::Corrupt { hash: file.path.clone(), reason };
    let (Some(audio), Some(timeline), Some(cues)) = (by_role("audio"), by_role("slides"), by_role("cues"))
    else {
        return Ok(None);
    };
    let parsed: Timeline = serde_json::from_slice(&std::fs::read(&timeline.path)?)
        .map_err(|e| corrupt(timeline, format!("slide timeline: {e}")))?;
    let mut slides = Vec::with_capacity(parsed.slides.len());
    for slide in parsed.slides {
        let image =
            by_role(&slide.image).ok_or_else(|| corrupt(timeline, format!("no file {}", slide.image)))?;
        slides.push(SlideAt { at_ms: crate::api_int::to_i64(slide.at_ms), path: image.path.clone() });
    }
    let text = std::fs::read_to_string(&cues.path).map_err(|e| corrupt(cues, e.to_string()))?;
    Ok(Some(LiteLecture {
        audio_path: audio.path.clone(),
        slides,
        cues: parse_cues(&text).map_err(|reason| corrupt(cues, reason))?,
    }))
}

/// Lines of `<gap cs> <duration cs> <text>` (see the packager's `cues` module).
pub fn parse_cues(text: &str) -> std::result::Result<Vec<Cue>, String> {
    let mut cues = Vec::new();
    let mut previous_end = 0u64;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let number = |part: Option<&str>| -> std::result::Result<u64, String> {
            part.and_then(|p| p.parse::<u64>().ok()).ok_or_else(|| format!("cue line {} is malformed", n + 1))
        };
        let gap = number(parts.next())?;
        let duration = number(parts.next())?;
        let start_ms = previous_end.saturating_add(gap.saturating_mul(10));
        let end_ms = start_ms.saturating_add(duration.saturating_mul(10));
        cues.push(Cue {
            start_ms: crate::api_int::to_i64(start_ms),
            end_ms: crate::api_int::to_i64(end_ms),
            text: parts.next().unwrap_or("").to_owned(),
        });
        previous_end = end_ms;
    }
    Ok(cues)
}

#[cfg(test)]
mod tests {
    use super::parse_cues;

    #[test]
    fn cues_accumulate_gaps_and_durations() {
        let cues = parse_cues("0 353 Welcome.\n47 5850 Second line continues.\n").unwrap();
        assert_eq!((cues[0].start_ms, cues[0].end_ms), (0, 3530));
        assert_eq!((cues[1].start_ms, cues[1].end_ms), (4000, 62500));
        assert_eq!(cues[1].text, "Second line continues.");
        assert!(parse_cues("x y z").is_err());
    }
}

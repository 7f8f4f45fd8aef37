//! Lecture scripts: `# Slide title`, `* bullet` lines, then the narration for that slide.

use anyhow::{Result, bail};

/// One slide and what the lecturer says while it is shown.
#[derive(Debug, Clone)]
pub struct Slide {
    pub title: String,
    pub bullets: Vec<String>,
    pub sentences: Vec<String>,
}

pub fn parse(text: &str) -> Result<Vec<Slide>> {
    let mut slides: Vec<Slide> = Vec::new();
    let mut narration: Vec<String> = Vec::new();
    let flush = |slides: &mut Vec<Slide>, narration: &mut Vec<String>| {
        if let Some(slide) = slides.last_mut() {
            slide.sentences = split_sentences(&narration.join(" "));
        }
        narration.clear();
    };
    for line in text.lines().map(str::trim) {
        if let Some(title) = line.strip_prefix("# ") {
            flush(&mut slides, &mut narration);
            slides.push(Slide { title: title.to_owned(), bullets: Vec::new(), sentences: Vec::new() });
        } else if let Some(bullet) = line.strip_prefix("* ") {
            match slides.last_mut() {
                Some(slide) => slide.bullets.push(bullet.to_owned()),
                None => bail!("a bullet before the first slide title"),
            }
        } else if !line.is_empty() {
            narration.push(line.to_owned());
        }
    }
    flush(&mut slides, &mut narration);
    if slides.is_empty() || slides.iter().any(|s| s.sentences.is_empty()) {
        bail!("every slide needs narration");
    }
    Ok(slides)
}

fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
        if word.ends_with('.') || word.ends_with('?') || word.ends_with('!') {
            sentences.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        sentences.push(current);
    }
    sentences
}

//! Lecture scripts: `# Slide title`, `* bullet` lines, then the narration for that slide.
//!
//! A `+ bullet` line is a build: the slide shown so far gains that bullet, as a new slide
//! state with its own narration. A slide whose title and bullets repeat an earlier one is that
//! slide shown again. Lines starting with `@` stage the camera window (see [`Staging`]).

use anyhow::{Context, Result, bail};

/// One slide and what the lecturer says while it is shown.
#[derive(Debug, Clone)]
pub struct Slide {
    pub title: String,
    pub bullets: Vec<String>,
    pub sentences: Vec<String>,
}

/// A window in the 1280×720 video's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// How the lecturer's camera window is staged, from the script's `@` lines:
/// `@camera X Y W H` places it (default: 256×192 in the bottom-right corner),
/// `@camera-moves AT X Y W H` moves it once, AT being a share of the lecture (0.6),
/// `@camera-still` makes the person still except for a gesture now and then.
#[derive(Debug, Clone, PartialEq)]
pub struct Staging {
    pub camera: Window,
    pub moves: Option<(f64, Window)>,
    pub intermittent: bool,
}

impl Default for Staging {
    fn default() -> Self {
        Staging {
            camera: Window { x: 1280 - 256 - 24, y: 720 - 192 - 24, w: 256, h: 192 },
            moves: None,
            intermittent: false,
        }
    }
}

/// A parsed script: its slide states in order and the camera's staging.
#[derive(Debug, Clone)]
pub struct Script {
    pub slides: Vec<Slide>,
    pub staging: Staging,
}

pub fn parse(text: &str) -> Result<Script> {
    let mut slides: Vec<Slide> = Vec::new();
    let mut staging = Staging::default();
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
                Some(slide) if slide.sentences.is_empty() && narration.is_empty() => {
                    slide.bullets.push(bullet.to_owned())
                }
                Some(_) => bail!("bullet {bullet:?} after narration (a build is a `+ ` line)"),
                None => bail!("a bullet before the first slide title"),
            }
        } else if let Some(bullet) = line.strip_prefix("+ ") {
            flush(&mut slides, &mut narration);
            let Some(previous) = slides.last() else { bail!("a build before the first slide title") };
            let mut built = previous.clone();
            built.bullets.push(bullet.to_owned());
            built.sentences.clear();
            slides.push(built);
        } else if let Some(directive) = line.strip_prefix('@') {
            stage(&mut staging, directive).with_context(|| format!("script line {line:?}"))?;
        } else if !line.is_empty() {
            narration.push(line.to_owned());
        }
    }
    flush(&mut slides, &mut narration);
    if slides.is_empty() || slides.iter().any(|s| s.sentences.is_empty()) {
        bail!("every slide needs narration");
    }
    Ok(Script { slides, staging })
}

fn stage(staging: &mut Staging, directive: &str) -> Result<()> {
    let words: Vec<&str> = directive.split_whitespace().collect();
    let window = |numbers: &[&str]| -> Result<Window> {
        let n: Vec<u32> = numbers.iter().map(|w| w.parse()).collect::<Result<_, _>>()?;
        let &[x, y, w, h] = n.as_slice() else { bail!("a window is X Y W H") };
        if w == 0 || h == 0 || w % 2 == 1 || h % 2 == 1 || x + w > 1280 || y + h > 720 {
            bail!("the window must have an even size and fit in 1280x720");
        }
        Ok(Window { x, y, w, h })
    };
    match words.as_slice() {
        ["camera", rest @ ..] => staging.camera = window(rest)?,
        ["camera-moves", at, rest @ ..] => {
            let at: f64 = at.parse()?;
            if !(0.0..1.0).contains(&at) {
                bail!("the move happens at a share of the lecture, between 0 and 1");
            }
            staging.moves = Some((at, window(rest)?));
        }
        ["camera-still"] => staging.intermittent = true,
        _ => bail!("unknown staging (@camera, @camera-moves, @camera-still)"),
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_add_a_bullet_and_staging_is_read() {
        let script = parse(
            "@camera 957 473 298 222\n@camera-moves 0.5 31 437 360 270\n@camera-still\n\
             # Title\n* one\nFirst.\n+ two\nSecond.\n# Other\nThird.\n",
        )
        .unwrap();
        let bullets: Vec<Vec<String>> = script.slides.iter().map(|s| s.bullets.clone()).collect();
        assert_eq!(bullets, [vec!["one".to_owned()], vec!["one".into(), "two".into()], vec![]]);
        assert_eq!(script.slides[1].sentences, ["Second."]);
        assert_eq!(script.staging.camera, Window { x: 957, y: 473, w: 298, h: 222 });
        assert_eq!(script.staging.moves, Some((0.5, Window { x: 31, y: 437, w: 360, h: 270 })));
        assert!(script.staging.intermittent);
    }

    #[test]
    fn bad_scripts_are_refused() {
        for bad in
            ["+ build\nFirst.", "# T\nText.\n* late bullet", "@camera 1 2 3\n# T\nText.", "@fly\n# T\nA."]
        {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}

//! Rendering a lecture: one 720p image per slide, shown for its narration, with the instructor's
//! camera window in the corner, encoded as a typical published 720p lecture.

use std::fs;
use std::path::Path;

use anyhow::Result;

use super::script::{Script, Slide, Staging};
use super::speech::Narration;
use crate::media;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FONT_BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

pub fn render(script: &Script, narration: &Narration, out: &Path) -> Result<()> {
    let slides = &script.slides;
    let work = out.join("frames");
    fs::create_dir_all(&work)?;
    // A slide shown again (same title and bullets) is the same picture; a slide's page number
    // is its title's place in the deck, so the states of a build share one number.
    let mut titles: Vec<&str> = Vec::new();
    let mut pictures: Vec<&Slide> = Vec::new();
    let mut picture_of = Vec::new();
    for slide in slides {
        if !titles.contains(&slide.title.as_str()) {
            titles.push(&slide.title);
        }
        let same = |p: &&Slide| p.title == slide.title && p.bullets == slide.bullets;
        picture_of.push(pictures.iter().position(same).unwrap_or_else(|| {
            pictures.push(slide);
            pictures.len() - 1
        }));
    }
    for (i, picture) in pictures.iter().enumerate() {
        let page = titles.iter().position(|t| *t == picture.title).unwrap_or(0);
        render_slide(picture, i, page, titles.len(), &work)?;
    }

    // The concat list shows each slide for its stretch of narration.
    let mut list = String::new();
    let mut ends: Vec<u64> = narration.slide_starts_ms.iter().skip(1).copied().collect();
    ends.push(narration.duration_ms);
    for (picture, (start, end)) in picture_of.iter().zip(narration.slide_starts_ms.iter().zip(&ends)) {
        list.push_str(&format!(
            "file 'slide-{picture:02}.png'\nduration {:.3}\n",
            (end - start) as f64 / 1000.0
        ));
    }
    list.push_str(&format!("file 'slide-{:02}.png'\n", picture_of.last().copied().unwrap_or(0)));
    let list_path = work.join("slides.txt");
    fs::write(&list_path, list)?;

    let video = out.join("video.mp4");
    let seconds = narration.duration_ms as f64 / 1000.0;
    media::ffmpeg(&[
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        media::path_str(&list_path)?,
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={}x{}:rate=25", script.staging.camera.w, script.staging.camera.h),
        "-i",
        media::path_str(&narration.wav)?,
        "-filter_complex",
        &camera_filter(&script.staging, seconds),
        "-map",
        "[v]",
        "-map",
        "2:a",
        "-c:v",
        "libx264",
        // ultrafast: the bitrate below fixes the bytes, which is what the lite comparison and
        // the download tests measure; a slower preset only buys picture quality per bit, at a
        // third more encoding time on a first run.
        "-preset",
        "ultrafast",
        "-b:v",
        "1200k",
        "-maxrate",
        "1500k",
        "-bufsize",
        "3000k",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        "-ar",
        "44100",
        "-t",
        &format!("{seconds:.3}"),
        "-movflags",
        "+faststart",
        media::path_str(&video)?,
    ])?;
    let truth: Vec<u64> = narration.slide_starts_ms.clone();
    fs::write(out.join("slides.json"), serde_json::to_string(&truth)?)?;
    let shown: Vec<serde_json::Value> = slides
        .iter()
        .zip(&narration.slide_starts_ms)
        .zip(&picture_of)
        .map(|((slide, at_ms), picture)| {
            serde_json::json!({"at_ms": at_ms, "picture": picture, "title": slide.title, "bullets": slide.bullets})
        })
        .collect();
    fs::write(
        out.join("truth.json"),
        serde_json::to_string_pretty(&serde_json::json!({ "slides": shown }))?,
    )?;
    fs::remove_dir_all(&work)?;
    fs::remove_file(&narration.wav)?;
    Ok(())
}

/// The filter graph laying the camera (input 1) over the slides (input 0): where the script
/// stages it, moved once if it says so, and still between gestures if it says so. testsrc2
/// stands in for the lecturer: it moves all the time, as a person does, unless frames are held.
fn camera_filter(staging: &Staging, seconds: f64) -> String {
    // Held frames: a 2 s gesture every 9 s and a 1 s one every 13 s, motion in about a quarter
    // of the time, a person who mostly stands still.
    let motion =
        if staging.intermittent { "select='lt(mod(t,9),2)+between(mod(t,13),6,7)',fps=25," } else { "" };
    let first = staging.camera;
    let Some((at, moved)) = staging.moves else {
        return format!(
            "[0:v]fps=25,format=yuv420p[slides];[1:v]{motion}format=yuv420p[cam];\
             [slides][cam]overlay=x={}:y={}:shortest=1[v]",
            first.x, first.y
        );
    };
    let t = at * seconds;
    format!(
        "[0:v]fps=25,format=yuv420p[slides];[1:v]{motion}format=yuv420p,split[cam][cam2];\
         [cam2]scale={}:{}[moved];\
         [slides][cam]overlay=x={}:y={}:enable='lt(t,{t:.3})':shortest=1[before];\
         [before][moved]overlay=x={}:y={}:enable='gte(t,{t:.3})'[v]",
        moved.w, moved.h, first.x, first.y, moved.x, moved.y
    )
}

/// A slide: title, bullets and a footer, drawn with ffmpeg's drawtext from text files (so no
/// escaping of the lecture's punctuation is needed).
fn render_slide(slide: &Slide, index: usize, page: usize, pages: usize, work: &Path) -> Result<()> {
    let mut filters = Vec::new();
    let title_file = work.join(format!("t{index}.txt"));
    fs::write(&title_file, &slide.title)?;
    filters.push(format!(
        "drawtext=fontfile={FONT_BOLD}:textfile={}:x=80:y=70:fontsize=50:fontcolor=0x1d3557",
        media::path_str(&title_file)?
    ));
    filters.push("drawbox=x=80:y=145:w=1120:h=4:color=0xe76f51:t=fill".to_owned());
    for (b, bullet) in slide.bullets.iter().enumerate() {
        let file = work.join(format!("b{index}-{b}.txt"));
        fs::write(&file, format!("•  {bullet}"))?;
        filters.push(format!(
            "drawtext=fontfile={FONT}:textfile={}:x=100:y={}:fontsize=36:fontcolor=0x264653",
            media::path_str(&file)?,
            200 + b * 70
        ));
    }
    let footer = work.join(format!("f{index}.txt"));
    fs::write(&footer, format!("Web Basics for Support Technicians   ·   {} / {pages}", page + 1))?;
    filters.push(format!(
        "drawtext=fontfile={FONT}:textfile={}:x=80:y=660:fontsize=22:fontcolor=0x6c757d",
        media::path_str(&footer)?
    ));
    let png = work.join(format!("slide-{index:02}.png"));
    media::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0xf8f5ec:size=1280x720",
        "-vf",
        &filters.join(","),
        "-frames:v",
        "1",
        media::path_str(&png)?,
    ])
}

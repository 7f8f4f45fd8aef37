//! Rendering a lecture: one 720p image per slide, shown for its narration, with the instructor's
//! camera window in the corner, encoded as a typical published 720p lecture.

use std::fs;
use std::path::Path;

use anyhow::Result;

use super::script::Slide;
use super::speech::Narration;
use crate::media;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const FONT_BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

pub fn render(slides: &[Slide], narration: &Narration, out: &Path) -> Result<()> {
    let work = out.join("frames");
    fs::create_dir_all(&work)?;
    for (i, slide) in slides.iter().enumerate() {
        render_slide(slide, i, slides.len(), &work)?;
    }

    // The concat list shows each slide for its stretch of narration.
    let mut list = String::new();
    let mut ends: Vec<u64> = narration.slide_starts_ms.iter().skip(1).copied().collect();
    ends.push(narration.duration_ms);
    for (i, (start, end)) in narration.slide_starts_ms.iter().zip(&ends).enumerate() {
        list.push_str(&format!("file 'slide-{i:02}.png'\nduration {:.3}\n", (end - start) as f64 / 1000.0));
    }
    list.push_str(&format!("file 'slide-{:02}.png'\n", slides.len() - 1));
    let list_path = work.join("slides.txt");
    fs::write(&list_path, list)?;

    let video = out.join("video.mp4");
    // testsrc2 stands in for the lecturer's camera: it moves all the time, as a person does.
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
        "testsrc2=size=256x192:rate=25",
        "-i",
        media::path_str(&narration.wav)?,
        "-filter_complex",
        "[0:v]fps=25,format=yuv420p[slides];[1:v]format=yuv420p[cam];\
             [slides][cam]overlay=x=W-w-24:y=H-h-24:shortest=1[v]",
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
        &format!("{:.3}", narration.duration_ms as f64 / 1000.0),
        "-movflags",
        "+faststart",
        media::path_str(&video)?,
    ])?;
    let truth: Vec<u64> = narration.slide_starts_ms.clone();
    fs::write(out.join("slides.json"), serde_json::to_string(&truth)?)?;
    fs::remove_dir_all(&work)?;
    fs::remove_file(&narration.wav)?;
    Ok(())
}

/// A slide: title, bullets and a footer, drawn with ffmpeg's drawtext from text files (so no
/// escaping of the lecture's punctuation is needed).
fn render_slide(slide: &Slide, index: usize, count: usize, work: &Path) -> Result<()> {
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
    fs::write(&footer, format!("Web Basics for Support Technicians   ·   {} / {count}", index + 1))?;
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

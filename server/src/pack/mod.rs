//! `satchel-server pack SRC OUT --key KEY`: turns a course source folder into what any static
//! host serves: content-addressed blobs and a signed manifest, with full, lite and text
//! renditions of every lesson.

mod blobs;
pub mod cues;
pub mod lite;
pub mod patches;
pub mod publish;
pub mod slides;
mod source;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ed25519_dalek::SigningKey;
use satchel_core::catalog::{
    BlobEntry, LessonEntry, LessonKind, MANIFEST_FORMAT, Manifest, ModuleEntry, PATCHES_FORMAT, QuizEntry,
    QuizMode, RenditionEntry, RenditionKind, TextPack,
};
use satchel_core::content::signed;
use serde_json::json;

use crate::grading::{self, GradingFile};
use crate::media;
use blobs::BlobWriter;
use source::{CourseSource, LessonSource, resolve};

/// Bumped whenever packed output changes for the same source, so caches of packed courses
/// (the demo's) know to pack again.
pub const PACK_FORMAT_VERSION: &str = "4";

/// Bytes per lesson and rendition, for the table the packager prints.
#[derive(Debug, Clone)]
pub struct LessonReport {
    pub lesson_id: String,
    pub kind: LessonKind,
    pub duration_ms: Option<u64>,
    pub full: u64,
    pub lite: u64,
    pub text: u64,
}

/// What packing produced.
#[derive(Debug, Clone)]
pub struct PackReport {
    pub course_id: String,
    pub manifest_path: PathBuf,
    /// Patches to the new manifest from the envelopes phones may hold, and their bytes together.
    pub manifest_updates: usize,
    pub manifest_update_bytes: u64,
    pub lessons: Vec<LessonReport>,
    pub dictionary_bytes: u64,
    /// The lite text pack as stored: every lite transcript, reading and slide timeline.
    pub text_pack_bytes: u64,
    /// Patches from earlier versions listed in the manifest, and their bytes together.
    pub patches: usize,
    pub patch_bytes: u64,
    /// The private answer keys of the graded quizzes, outside the published tree (`None`: the
    /// course has no graded quiz with keys).
    pub grading_path: Option<PathBuf>,
    pub seconds: f64,
}

/// Where `pack` puts what must not be published.
#[derive(Debug, Clone, Default)]
pub struct PackOptions {
    /// The folder for the grading file; default `<out>.grading` beside the published tree.
    pub grading_out: Option<PathBuf>,
    /// Publish over the same version even when its contents changed. Safe only while no phone
    /// can have fetched that version: one that holds it finds the version it has and never
    /// takes the change. Without it such a pack is refused.
    pub replace_version: bool,
}

/// The default grading folder of a published tree: its sibling `<out>.grading`.
pub fn default_grading_dir(out: &Path) -> Result<PathBuf> {
    let name = out
        .file_name()
        .with_context(|| format!("{} has no folder name; pass --grading-out", out.display()))?;
    Ok(out.with_file_name(format!("{}.grading", name.to_string_lossy())))
}

/// The media of a video lesson, made before the text so the slide timeline can be compressed
/// with the dictionary.
struct VideoWork {
    video: PathBuf,
    duration_ms: u64,
    audio: PathBuf,
    slide_images: Vec<PathBuf>,
    timeline: Vec<u8>,
    transcript: Vec<u8>,
    cues: Vec<u8>,
}

/// Packs with the default options (grading file in `<out>.grading`).
pub fn pack(src: &Path, out: &Path, key: &SigningKey) -> Result<PackReport> {
    pack_with(src, out, key, &PackOptions::default())
}

pub fn pack_with(src: &Path, out: &Path, key: &SigningKey, options: &PackOptions) -> Result<PackReport> {
    let started = std::time::Instant::now();
    let course = CourseSource::load(src)?;
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let work_dir = tempfile::tempdir_in(out)?;

    // Media first: audio, slides and their timeline. Each lecture is independent and ffmpeg-bound,
    // so they are prepared on as many threads as the machine has cores.
    let lectures: Vec<&LessonSource> =
        course.modules.iter().flat_map(|m| &m.lessons).filter(|l| l.kind == LessonKind::Video).collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(lectures.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let prepared: Vec<Result<(String, VideoWork)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(lesson) = lectures.get(i) else { break done };
                        done.push(
                            prepare_video(src, work_dir.path(), lesson).map(|w| (lesson.id.clone(), w)),
                        );
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| vec![Err(anyhow::anyhow!("a packing thread panicked"))])
            })
            .collect()
    });
    let videos: std::collections::HashMap<String, VideoWork> = prepared.into_iter().collect::<Result<_>>()?;

    // The course's text trains the dictionary its text blobs are compressed with.
    let mut texts: Vec<Vec<u8>> =
        videos.values().flat_map(|v| [v.transcript.clone(), v.timeline.clone()]).collect();
    for lesson in course.modules.iter().flat_map(|m| &m.lessons) {
        if let Some(reading) = &lesson.reading {
            texts.push(fs::read(resolve(src, reading)?)?);
        }
    }
    // An update keeps the previous version's dictionary: unchanged text then keeps its stored
    // bytes, and phones need no new dictionary for the update.
    let manifest_dir = out.join("courses").join(&course.id);
    patches::archive_published(&manifest_dir, course.version)?;
    let previous = patches::previous_versions(&manifest_dir, course.version)?;
    let kept_dictionary = match previous.first() {
        Some(last) => patches::dictionary_of(out, last)?,
        None => None,
    };
    let chosen = match kept_dictionary {
        Some(dictionary) => Some(dictionary),
        None => blobs::choose_dictionary(&texts),
    };
    let mut writer = BlobWriter::new(out, chosen);
    let dictionary = writer.dictionary()?;

    let mut modules = Vec::new();
    let mut reports = Vec::new();
    let mut lite_texts: Vec<LiteText> = Vec::new();
    let mut grading =
        GradingFile { course_id: course.id.clone(), course_version: course.version, ..Default::default() };
    for module in &course.modules {
        let mut lessons = Vec::new();
        for lesson in &module.lessons {
            let (entry, report, texts) = pack_lesson(src, lesson, videos.get(&lesson.id), &mut writer)?;
            if let Some(key) = quiz_key(src, &course.id, lesson, entry.quiz.as_ref())? {
                grading.quizzes.insert(lesson.id.clone(), key);
            }
            lessons.push(entry);
            reports.push(report);
            for (blob, bytes) in texts {
                if !lite_texts.iter().any(|(b, _)| b.hash == blob.hash) {
                    lite_texts.push((blob, bytes));
                }
            }
        }
        modules.push(ModuleEntry { id: module.id.clone(), title: module.title.clone(), lessons });
    }
    // A single text is its own pack: fetching it alone is the same one request, and a pack of
    // it would be the same bytes under the same hash, one name for two different entries (the
    // core refuses a hash listed with two media types).
    let text_pack = if lite_texts.len() < 2 {
        None
    } else {
        let joined: Vec<u8> = lite_texts.iter().flat_map(|(_, bytes)| bytes.iter().copied()).collect();
        Some(TextPack {
            blob: writer.solid(&joined, "application/x-satchel-text-pack", "text-pack")?,
            members: lite_texts.iter().map(|(b, _)| b.hash.clone()).collect(),
        })
    };
    let mut manifest = Manifest {
        format: MANIFEST_FORMAT,
        id: course.id.clone(),
        version: course.version,
        title: course.title.clone(),
        description: course.description.clone(),
        language: course.language.clone(),
        dictionary: dictionary.clone(),
        text_pack: text_pack.clone(),
        modules,
        patches: Vec::new(),
    };
    manifest.patches = patches::make_patches(out, &manifest, writer.dictionary_bytes(), &previous)?;
    // The oldest format that describes the course, so apps that read format 2 keep reading
    // courses without patches.
    manifest.format = if manifest.patches.is_empty() { 2 } else { PATCHES_FORMAT };
    let payload = serde_json::to_string(&manifest)?;
    // The core's own validation, before anything is signed.
    Manifest::parse(&payload).context("the packed manifest does not validate")?;
    if !options.replace_version {
        patches::refuse_changed_version(&manifest_dir, course.version, &payload)?;
    }
    writer.sync_folders()?;
    let envelope = signed::sign(payload, key);
    let published = publish::publish_envelope(&manifest_dir, &serde_json::to_vec(&envelope)?)?;
    let grading_path = if grading.quizzes.is_empty() {
        None
    } else {
        let dir = match &options.grading_out {
            Some(dir) => dir.clone(),
            None => default_grading_dir(out)?,
        };
        Some(grading.write(&dir)?)
    };
    Ok(PackReport {
        course_id: course.id,
        manifest_path: published.manifest_path,
        manifest_updates: published.updates,
        manifest_update_bytes: published.update_bytes,
        lessons: reports,
        dictionary_bytes: dictionary.map_or(0, |d| d.stored_size),
        text_pack_bytes: text_pack.map_or(0, |p| p.blob.stored_size),
        patches: manifest.patches.len(),
        patch_bytes: manifest.patches.iter().map(|p| p.size).sum(),
        grading_path,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The private key of a graded quiz lesson, read from `quiz.keys.json` beside its `quiz.json`.
/// A graded quiz without one is packed (its attempts stay pending on the server, which says so
/// in its log); keys beside a practice quiz are refused, since practice keys are public.
fn quiz_key(
    src: &Path,
    course_id: &str,
    lesson: &LessonSource,
    quiz: Option<&QuizEntry>,
) -> Result<Option<grading::QuizKey>> {
    let (Some(quiz), Some(file)) = (quiz, lesson.quiz.as_deref()) else { return Ok(None) };
    let keys = grading::keys_path(&resolve(src, file)?);
    match (quiz.mode, keys.is_file()) {
        (QuizMode::Graded, true) => Ok(Some(grading::read_keys(&keys, course_id, quiz)?)),
        (QuizMode::Graded, false) => {
            eprintln!(
                "pack: {}: graded quiz without {}: the server cannot grade it",
                lesson.id,
                keys.display()
            );
            Ok(None)
        }
        (QuizMode::Practice, true) => {
            anyhow::bail!(
                "lesson {:?}: {} beside a practice quiz (its keys go in the quiz)",
                lesson.id,
                keys.display()
            )
        }
        (QuizMode::Practice, false) => Ok(None),
    }
}

/// Audio, slides and timeline of one lecture.
fn prepare_video(src: &Path, work_dir: &Path, lesson: &LessonSource) -> Result<VideoWork> {
    let work = work_dir.join(&lesson.id);
    fs::create_dir_all(&work)?;
    let video = resolve(src, lesson.video.as_deref().unwrap_or_default())?;
    eprintln!("pack: {}: lite audio and slides", lesson.id);
    // Bad media fails here, before anything is written, with one line naming the lesson.
    let duration_ms = media::duration_ms(&video)
        .map_err(|e| anyhow::anyhow!("lesson {:?}: unreadable video: {e:#}", lesson.id))?;
    if !media::has_audio(&video).map_err(|e| anyhow::anyhow!("lesson {:?}: {e:#}", lesson.id))? {
        anyhow::bail!(
            "lesson {:?}: {} has no audio track (the lite rendition is its speech)",
            lesson.id,
            video.display()
        );
    }
    let audio = lite::audio(&video, &work)
        .map_err(|e| anyhow::anyhow!("lesson {:?}: cannot encode the lite audio: {e:#}", lesson.id))?;
    let (detection, slide_images) = lite::slides(&video, duration_ms, &work)
        .map_err(|e| anyhow::anyhow!("lesson {:?}: {e:#}", lesson.id))?;
    let timeline = serde_json::to_vec(&json!({
        "slides": detection.shown.iter().map(|s| json!({
            "at_ms": s.at_ms, "image": slide_role(s.image)
        })).collect::<Vec<_>>()
    }))?;
    let transcript_path = resolve(src, lesson.transcript.as_deref().unwrap_or_default())?;
    let transcript = fs::read(&transcript_path)?;
    let cues = cues::from_vtt(&String::from_utf8_lossy(&transcript))
        .with_context(|| format!("lesson {:?}: {}", lesson.id, transcript_path.display()))?
        .into_bytes();
    Ok(VideoWork { video, duration_ms, audio, slide_images, timeline, transcript, cues })
}

/// A text blob of a lite rendition with its bytes, for the course's text pack.
type LiteText = (BlobEntry, Vec<u8>);

fn slide_role(index: usize) -> String {
    format!("slides/{:03}.webp", index + 1)
}

fn pack_lesson(
    src: &Path,
    lesson: &LessonSource,
    video: Option<&VideoWork>,
    writer: &mut BlobWriter,
) -> Result<(LessonEntry, LessonReport, Vec<LiteText>)> {
    let mut duration_ms = None;
    let mut lite_texts = Vec::new();
    let mut quiz: Option<QuizEntry> = None;
    let renditions: Vec<(RenditionKind, Vec<BlobEntry>)> = match (lesson.kind, video) {
        (LessonKind::Video, Some(work)) => {
            duration_ms = Some(work.duration_ms);
            let transcript = writer.text(&work.transcript, "text/vtt", "transcript")?;
            let full = writer.media(&work.video, "video/mp4", "video")?;
            let audio = writer.media(&work.audio, "audio/ogg; codecs=opus", "audio")?;
            let mut lite = vec![audio];
            for (i, image) in work.slide_images.iter().enumerate() {
                lite.push(writer.media(image, "image/webp", &slide_role(i))?);
            }
            let timeline = writer.text(&work.timeline, "application/json", "slides")?;
            let cues = writer.text(&work.cues, "text/x-satchel-cues; charset=utf-8", "cues")?;
            lite_texts.push((timeline.clone(), work.timeline.clone()));
            lite_texts.push((cues.clone(), work.cues.clone()));
            lite.push(timeline);
            lite.push(cues);
            vec![
                (RenditionKind::Full, vec![full, transcript.clone()]),
                (RenditionKind::Lite, lite),
                (RenditionKind::Text, vec![transcript]),
            ]
        }
        (LessonKind::Reading, _) => {
            let text = fs::read(resolve(src, lesson.reading.as_deref().unwrap_or_default())?)?;
            let reading = writer.text(&text, "text/markdown; charset=utf-8", "reading")?;
            lite_texts.push((reading.clone(), text));
            [RenditionKind::Full, RenditionKind::Lite, RenditionKind::Text]
                .map(|k| (k, vec![reading.clone()]))
                .into()
        }
        (LessonKind::Quiz, _) => {
            let path = resolve(src, lesson.quiz.as_deref().unwrap_or_default())?;
            let text = fs::read_to_string(&path)?;
            quiz = Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("lesson {:?}: {} is not a quiz", lesson.id, path.display()))?,
            );
            // Quiz questions travel inside the manifest: nothing to download.
            Vec::new()
        }
        (LessonKind::Video, None) => anyhow::bail!("lesson {:?}: video was not prepared", lesson.id),
    };
    let bytes = |kind: RenditionKind| -> u64 {
        renditions.iter().filter(|(k, _)| *k == kind).flat_map(|(_, b)| b).map(|b| b.stored_size).sum()
    };
    let report = LessonReport {
        lesson_id: lesson.id.clone(),
        kind: lesson.kind,
        duration_ms,
        full: bytes(RenditionKind::Full),
        lite: bytes(RenditionKind::Lite),
        text: bytes(RenditionKind::Text),
    };
    let entry = LessonEntry {
        id: lesson.id.clone(),
        title: lesson.title.clone(),
        kind: lesson.kind,
        duration_ms,
        renditions: renditions
            .into_iter()
            .map(|(kind, blobs)| RenditionEntry {
                kind,
                bytes: blobs.iter().map(|b| b.stored_size).sum(),
                blobs,
            })
            .collect(),
        linked: lesson.linked.clone(),
        quiz,
    };
    Ok((entry, report, lite_texts))
}

/// The table `pack` prints.
pub fn print_report(report: &PackReport) {
    println!(
        "{:<34} {:>8} {:>12} {:>10} {:>9} {:>9}",
        "lesson", "length", "full", "lite", "text", "lite/full"
    );
    for l in &report.lessons {
        let length =
            l.duration_ms.map(|ms| format!("{}:{:02}", ms / 60_000, ms / 1000 % 60)).unwrap_or_default();
        let ratio =
            if l.full > 0 { format!("{:.1}%", l.lite as f64 * 100.0 / l.full as f64) } else { "-".into() };
        println!(
            "{:<34} {:>8} {:>12} {:>10} {:>9} {:>9}",
            l.lesson_id, length, l.full, l.lite, l.text, ratio
        );
    }
    let full: u64 = report.lessons.iter().map(|l| l.full).sum();
    let lite: u64 = report.lessons.iter().map(|l| l.lite).sum();
    let text: u64 = report.lessons.iter().map(|l| l.text).sum();
    println!(
        "{:<34} {:>8} {:>12} {:>10} {:>9} {:>8.1}%",
        "total",
        "",
        full,
        lite,
        text,
        if full > 0 { lite as f64 * 100.0 / full as f64 } else { 0.0 }
    );
    println!(
        "dictionary: {} bytes; lite text pack: {} bytes; packed in {:.1} s",
        report.dictionary_bytes, report.text_pack_bytes, report.seconds
    );
    if report.patches > 0 {
        println!("patches from earlier versions: {} ({} bytes)", report.patches, report.patch_bytes);
    }
    if report.manifest_updates > 0 {
        println!(
            "manifest patches from earlier envelopes: {} ({} bytes)",
            report.manifest_updates, report.manifest_update_bytes
        );
    }
    println!("manifest: {}", report.manifest_path.display());
    if let Some(path) = &report.grading_path {
        println!("answer keys (keep private; serve --grading): {}", path.display());
    }
}

//! `satchel-server sample-course OUT`: builds the sample course's source folder from the text in
//! `server/sample/`, generating its lecture videos with espeak-ng and ffmpeg.
//!
//! Each lecture is what a real one looks like: 720p slides with the instructor's camera in the
//! bottom-right corner (a moving test pattern stands in for the person), speech audio reading
//! the transcript, encoded at a typical bitrate for a published 720p lecture. The generator also
//! writes `slides.json`, the true slide-change times, and `truth.json`, the same with each
//! slide's text and which distinct picture it is, so tests can check the packager's slide
//! detection. A script may stage the camera window differently (`@` lines, see
//! [`script::Staging`]): off the corner, moving once, still between gestures. Nothing generated is committed; the output is cached by a hash of its inputs.

mod script;
mod speech;
mod video;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bump when the generator's output changes for the same inputs.
const GENERATOR_VERSION: &str = "3";

/// Where generated media and tools are cached between runs: `$SATCHEL_TOOLS_DIR`, else
/// `~/.cache/satchel`. The sample course's source goes under `sample-course/`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SATCHEL_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache/satchel"),
        None => std::env::temp_dir().join("satchel-cache"),
    }
}

/// The committed sample sources.
pub fn default_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample")
}

/// Generates the course source folder in `out` unless an up-to-date copy is already there.
///
/// Safe to call from several processes at once (two test binaries, a test and the demo): one
/// generates under a lock file beside `out` while the others wait, then find it up to date. The
/// course is built in a sibling folder and renamed into place, so `out` is never half-written.
pub fn generate(source: &Path, out: &Path) -> Result<()> {
    let stamp = inputs_hash(source)?;
    if is_current(out, &stamp) {
        eprintln!("sample course in {} is up to date", out.display());
        return copy_answer_keys(source, out);
    }
    with_cache_lock(out, || {
        if !is_current(out, &stamp) {
            let staging = sibling(out, "partial")?;
            if staging.exists() {
                fs::remove_dir_all(&staging)?;
            }
            fs::create_dir_all(&staging)?;
            build(source, &staging)?;
            fs::write(staging.join(".generated"), &stamp)?;
            if out.exists() {
                fs::remove_dir_all(out)?;
            }
            fs::rename(&staging, out)?;
        }
        copy_answer_keys(source, out)
    })
}

fn is_current(out: &Path, stamp: &str) -> bool {
    fs::read_to_string(out.join(".generated")).is_ok_and(|text| text == stamp)
}

/// Runs `f` holding an exclusive lock on `<dir>.lock`, a file beside the cache folder `dir`, so
/// processes sharing the cache take turns rebuilding it. The lock goes with the process, even
/// a killed one.
pub fn with_cache_lock<T>(dir: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let lock_path = sibling(dir, "lock")?;
    if let Some(parent) = lock_path.parent() {
        fs::create_dir_all(parent)?;
    }
    let lock =
        fs::File::create(&lock_path).with_context(|| format!("cannot create {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
    f()
}

/// `dir` with `.suffix` added to its last component (a path beside it, not inside it).
fn sibling(dir: &Path, suffix: &str) -> Result<PathBuf> {
    let name = dir.file_name().context("a cache folder needs a name")?;
    Ok(dir.with_file_name(format!("{}.{suffix}", name.to_string_lossy())))
}

/// Writes the whole course source into the empty folder `out`.
fn build(source: &Path, out: &Path) -> Result<()> {
    let course: Value = serde_json::from_str(&fs::read_to_string(source.join("course.json"))?)
        .context("server/sample/course.json is not valid JSON")?;
    let mut course_out = course.clone();
    let mut lectures = Vec::new();
    let modules = course_out["modules"].as_array_mut().context("course.json has no modules")?;
    for module in modules {
        let lessons = module["lessons"].as_array_mut().context("a module has no lessons")?;
        for lesson in lessons {
            let id = lesson["id"].as_str().context("a lesson has no id")?.to_owned();
            let folder = id.rsplit('.').next().unwrap_or(&id).to_owned();
            let lesson_out = out.join(&folder);
            fs::create_dir_all(&lesson_out)?;
            let object = lesson.as_object_mut().context("a lesson is not an object")?;
            if let Some(script) = object.remove("script") {
                let script_path = source.join(script.as_str().context("script is not a path")?);
                lectures.push(Lecture { id, script: script_path, out: lesson_out.clone() });
                object.insert("video".into(), format!("{folder}/video.mp4").into());
                object.insert("transcript".into(), format!("{folder}/transcript.vtt").into());
            }
            for key in ["reading", "quiz"] {
                if let Some(path) = object.get(key).and_then(Value::as_str).map(str::to_owned) {
                    let name = Path::new(&path).file_name().context("bad file name")?;
                    fs::copy(source.join(&path), lesson_out.join(name))?;
                    object.insert(key.into(), format!("{folder}/{}", name.to_string_lossy()).into());
                }
            }
        }
    }
    render_all(&lectures)?;
    fs::write(out.join("course.json"), serde_json::to_string_pretty(&course_out)?)?;
    Ok(())
}

/// A lecture to generate: its script and its lesson folder.
struct Lecture {
    id: String,
    script: PathBuf,
    out: PathBuf,
}

/// How many lectures render at once. Two, even on two cores: each lecture spends a good part of
/// its time in single-threaded work (espeak-ng sentence by sentence, one ffmpeg run per slide
/// image, x264's serial start and end), which the other lecture's encoding fills.
const PARALLEL_LECTURES: usize = 2;

/// Renders every lecture, a few at a time, longest script first so the last one to start is
/// short. The first failure is returned once the running renders have finished.
fn render_all(lectures: &[Lecture]) -> Result<()> {
    let mut by_size = Vec::new();
    for lecture in lectures {
        by_size.push((fs::metadata(&lecture.script)?.len(), lecture));
    }
    by_size.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    let queue = std::sync::Mutex::new(by_size.into_iter().map(|(_, lecture)| lecture));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL_LECTURES)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let next =
                            queue.lock().map_err(|_| anyhow::anyhow!("a render worker panicked"))?.next();
                        let Some(lecture) = next else { return Ok(()) };
                        render_lecture(lecture)
                            .with_context(|| format!("cannot generate lecture {}", lecture.id))?;
                    }
                })
            })
            .collect();
        let mut first_error = None;
        for worker in workers {
            let outcome = worker.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a render worker panicked")));
            if let Err(error) = outcome {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}

fn render_lecture(lecture: &Lecture) -> Result<()> {
    eprintln!("generating lecture {}", lecture.id);
    let script = script::parse(&fs::read_to_string(&lecture.script)?)?;
    let narration = speech::synthesize(&script.slides, &lecture.out)?;
    video::render(&script, &narration, &lecture.out)
}

/// Private answer keys (`*.keys.json`, beside graded quizzes) are copied on every call and kept
/// out of the cache stamp: they change nothing generated, and re-rendering every lecture in the
/// shared cache because a key changed would cost minutes for nothing.
fn copy_answer_keys(source: &Path, out: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect(source, &mut files)?;
    for file in files.iter().filter(|f| is_answer_keys(f)) {
        // Lesson folders keep their name in the generated tree (see `generate`).
        let relative = file.strip_prefix(source)?;
        let target = out.join(relative);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::copy(file, &target).with_context(|| format!("cannot copy {}", relative.display()))?;
    }
    Ok(())
}

fn is_answer_keys(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".keys.json"))
}

/// A hash of every source file and the generator version: regenerate only when one changes.
fn inputs_hash(source: &Path) -> Result<String> {
    let mut files = Vec::new();
    collect(source, &mut files)?;
    files.sort();
    let mut hasher = Sha256::new();
    hasher.update(GENERATOR_VERSION);
    for file in files.into_iter().filter(|f| !is_answer_keys(f)) {
        hasher.update(file.strip_prefix(source)?.to_string_lossy().as_bytes());
        hasher.update(fs::read(&file)?);
    }
    Ok(satchel_core::content::store::hex(&hasher.finalize()))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

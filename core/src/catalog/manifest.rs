//! The course manifest: what a publisher says a course contains, parsed and checked before a
//! single row is written.
//!
//! Unknown fields are ignored so that older apps keep reading manifests from newer packagers;
//! a manifest `format` newer than this build understands is refused.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

use super::model::{LessonKind, QuizMode, Rendition, RenditionKind};

/// The newest manifest format this build reads. Format 1 has no blob lists (bundled or test
/// catalogs); format 2 adds the content-addressed blobs of each rendition and the course's zstd
/// dictionary, as the packager writes them. Format 3 adds `patches`: zstd patches from the text
/// blobs of earlier versions to this version's (the packager writes format 3 only when it lists
/// patches, so apps that read format 2 keep reading courses without them).
pub const MANIFEST_FORMAT: u32 = 3;

/// The first format that may list patches.
pub const PATCHES_FORMAT: u32 = 3;

/// Limits that keep a hostile or broken manifest from exhausting a cheap phone.
pub mod limits {
    pub const MANIFEST_BYTES: usize = 8 * 1024 * 1024;
    pub const ID_CHARS: usize = 128;
    pub const TITLE_CHARS: usize = 500;
    pub const DESCRIPTION_CHARS: usize = 20_000;
    pub const MODULES: usize = 1_000;
    pub const LESSONS: usize = 10_000;
    pub const LINKS_PER_LESSON: usize = 100;
    /// 64 GiB: no single lesson rendition is anywhere near this.
    pub const RENDITION_BYTES: u64 = 64 * 1024 * 1024 * 1024;
    /// 24 hours.
    pub const DURATION_MS: u64 = 24 * 60 * 60 * 1000;
    pub const QUESTIONS: usize = 200;
    pub const CHOICES: usize = 20;
    pub const PROMPT_CHARS: usize = 2_000;
    pub const BLOBS_PER_RENDITION: usize = 2_000;
    pub const ROLE_CHARS: usize = 200;
    /// A blob whose declared size is this many times its stored size is refused as a
    /// decompression bomb (text compresses 3–10×, never 200×).
    pub const MAX_COMPRESSION_RATIO: u64 = 200;
    /// Patches listed in one manifest: a few earlier versions' worth for every text blob.
    pub const PATCHES: usize = 50_000;
}

/// What is wrong with a manifest. Each variant names the offending item.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("not a valid manifest document: {0}")]
    Malformed(String),
    #[error("manifest format {found} is newer than this app reads ({supported})")]
    UnsupportedFormat { found: u32, supported: u32 },
    #[error("{what} is {actual}, over the limit of {limit}")]
    TooLarge { what: String, actual: u64, limit: u64 },
    #[error(
        "{what} id {id:?} is empty, longer than 128 characters, or has characters other than letters, digits and . _ - :"
    )]
    InvalidId { what: &'static str, id: String },
    #[error("{what} id {id:?} appears more than once")]
    DuplicateId { what: &'static str, id: String },
    #[error("{what} {id:?} has an empty title")]
    EmptyTitle { what: &'static str, id: String },
    #[error("lesson {lesson:?} lists rendition {rendition} twice")]
    DuplicateRendition { lesson: String, rendition: &'static str },
    #[error("lesson {lesson:?} links to {target:?}, which is not a lesson of this course")]
    DanglingLink { lesson: String, target: String },
    #[error("lesson {lesson:?} links to itself")]
    SelfLink { lesson: String },
    #[error("quiz of lesson {lesson:?}: {problem}")]
    InvalidQuiz { lesson: String, problem: String },
    #[error("lesson {lesson:?}, {rendition} rendition: {problem}")]
    InvalidBlob { lesson: String, rendition: &'static str, problem: String },
    #[error("{what} id {id:?} already belongs to course {other_course:?}")]
    IdTaken { what: &'static str, id: String, other_course: String },
    /// One hash names one file on the host: every place it is listed must agree on it.
    #[error("blob {hash} is listed with {field} {first} in one place and {second} in another")]
    ConflictingBlob { hash: String, field: &'static str, first: String, second: String },
}

/// A parsed, validated course manifest.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Manifest {
    pub format: u32,
    pub id: String,
    pub version: u32,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub language: String,
    /// The zstd dictionary that `zstd-dict` blobs need, itself a blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary: Option<BlobEntry>,
    /// All the text the lite renditions carry, as one solid zstd frame, so a lite download
    /// fetches the course's text in one request and compresses across files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_pack: Option<TextPack>,
    pub modules: Vec<ModuleEntry>,
    /// zstd patches (format 3) that turn a text blob of an earlier version into one of this
    /// version's, so a phone holding the old file fetches the patch instead of the whole file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<PatchEntry>,
}

/// A zstd patch (`zstd --patch-from BASE`: a frame compressed with the base's decoded bytes as
/// its reference prefix) from blob `base` to blob `result`, served at
/// `patches/<base[..2]>/<base>-<result>.zst`. Applying it must give exactly the bytes hashed by
/// `result`; anything else is refused and the whole blob fetched instead.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub struct PatchEntry {
    /// Hash of the decoded bytes the patch applies to (a blob of an earlier version).
    pub base: String,
    /// Hash of the decoded bytes the patch produces: a text blob listed in this manifest.
    pub result: String,
    /// Bytes of the patch as served: the most a fetch of it reads.
    #[serde(deserialize_with = "count")]
    pub size: u64,
}

/// A blob whose decoded bytes are the concatenation of other (text) blobs, in `members` order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TextPack {
    pub blob: BlobEntry,
    /// Hashes of the member blobs; each is listed in some rendition with its size.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ModuleEntry {
    pub id: String,
    pub title: String,
    pub lessons: Vec<LessonEntry>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LessonEntry {
    pub id: String,
    pub title: String,
    pub kind: LessonKind,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "optional_count")]
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub renditions: Vec<RenditionEntry>,
    /// Ids of related lessons in the same course ("linked lectures").
    #[serde(default)]
    pub linked: Vec<String>,
    /// The questions of a quiz lesson (required for, and only allowed on, `kind: "quiz"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz: Option<QuizEntry>,
}

/// A quiz as published. Practice quizzes carry their answer keys and are graded on the phone;
/// graded quizzes must not (the server grades them), so a learner cannot read the keys.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QuizEntry {
    pub mode: QuizMode,
    /// Score needed to pass, in percent of questions answered correctly.
    #[serde(default = "default_pass_percent")]
    pub pass_percent: u8,
    pub questions: Vec<QuestionEntry>,
}

fn default_pass_percent() -> u8 {
    70
}

/// One multiple-choice question. Stored as JSON in the `quiz` table.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct QuestionEntry {
    pub id: String,
    pub prompt: String,
    pub choices: Vec<ChoiceEntry>,
    /// Ids of the correct choices (practice quizzes only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correct: Vec<String>,
    /// Whether more than one choice may be selected.
    #[serde(default)]
    pub multiple: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct ChoiceEntry {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RenditionEntry {
    pub kind: RenditionKind,
    /// Bytes on the wire: the sum of the blobs' stored sizes when blobs are listed.
    #[serde(deserialize_with = "count")]
    pub bytes: u64,
    /// The files of the rendition (format 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<BlobEntry>,
}

/// How a blob is stored on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// As is: media that is already compressed, and must stay streamable by a player.
    Identity,
    /// zstd.
    Zstd,
    /// zstd with the course's trained dictionary (small text files).
    ZstdDict,
}

crate::store::sql_text_enum!(Encoding { Identity => "identity", Zstd => "zstd", ZstdDict => "zstd-dict" });

/// One content-addressed file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobEntry {
    /// Lowercase hex SHA-256 of the original (decoded) bytes; also the blob's name on the host.
    pub hash: String,
    /// Decoded size.
    #[serde(deserialize_with = "count")]
    pub size: u64,
    /// Size as stored and sent: the most a download of this blob ever writes.
    #[serde(deserialize_with = "count")]
    pub stored_size: u64,
    pub media_type: String,
    pub encoding: Encoding,
    /// What the file is to the player: `video`, `audio`, `transcript`, `slides`, `slide`, `reading`…
    pub role: String,
}

/// Sizes and durations are whole, non-negative numbers that fit SQLite's signed 64-bit integer:
/// a float, a negative number or anything from 2^63 up is refused while parsing, so no later
/// step has to guess what `1e3`, `5.5` or 2^64 bytes would mean.
fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_u64(CountVisitor)
}

fn optional_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct Count(u64);
    impl<'de> Deserialize<'de> for Count {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Count, D::Error> {
            count(deserializer).map(Count)
        }
    }
    Ok(Option::<Count>::deserialize(deserializer)?.map(|c| c.0))
}

struct CountVisitor;

impl serde::de::Visitor<'_> for CountVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a whole number from 0 to 2^63 - 1")
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<u64, E> {
        if i64::try_from(value).is_ok() {
            Ok(value)
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
        }
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<u64, E> {
        u64::try_from(value).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
    }
    // Floats (including integers too large for u64, which serde_json reads as floats) fall
    // through to the default `visit_f64`, which refuses them as the wrong type.
}

impl RenditionEntry {
    pub fn to_rendition(&self) -> Rendition {
        Rendition { kind: self.kind, bytes: crate::api_int::to_i64(self.bytes) }
    }
}

impl Manifest {
    /// Parses and validates a manifest document.
    pub fn parse(json: &str) -> Result<Manifest, ManifestError> {
        if json.len() > limits::MANIFEST_BYTES {
            return Err(too_large("manifest size in bytes", json.len(), limits::MANIFEST_BYTES));
        }
        // Read the format first, so a newer manifest gets "update the app" rather than a confusing
        // complaint about some field it moved.
        #[derive(Deserialize)]
        struct FormatOnly {
            format: u32,
        }
        let format = serde_json::from_str::<FormatOnly>(json)
            .map_err(|e| ManifestError::Malformed(e.to_string()))?
            .format;
        if format > MANIFEST_FORMAT {
            return Err(ManifestError::UnsupportedFormat { found: format, supported: MANIFEST_FORMAT });
        }
        let manifest: Manifest =
            serde_json::from_str(json).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Every lesson, in course order.
    pub fn lessons(&self) -> impl Iterator<Item = &LessonEntry> {
        self.modules.iter().flat_map(|m| m.lessons.iter())
    }

    fn validate(&self) -> Result<(), ManifestError> {
        check_id("course", &self.id)?;
        check_text("course", &self.id, "title", &self.title, limits::TITLE_CHARS, true)?;
        check_text("course", &self.id, "description", &self.description, limits::DESCRIPTION_CHARS, false)?;
        if self.modules.len() > limits::MODULES {
            return Err(too_large("number of modules", self.modules.len(), limits::MODULES));
        }
        let lesson_count = self.lessons().count();
        if lesson_count > limits::LESSONS {
            return Err(too_large("number of lessons", lesson_count, limits::LESSONS));
        }

        if let Some(dictionary) = &self.dictionary {
            check_blob(dictionary).map_err(|problem| ManifestError::InvalidBlob {
                lesson: String::new(),
                rendition: "dictionary",
                problem,
            })?;
            if dictionary.encoding != Encoding::Identity && dictionary.encoding != Encoding::Zstd {
                return Err(ManifestError::InvalidBlob {
                    lesson: String::new(),
                    rendition: "dictionary",
                    problem: "a dictionary cannot need itself".into(),
                });
            }
        }
        let mut module_ids = HashSet::new();
        let mut lesson_ids = HashSet::new();
        for module in &self.modules {
            check_id("module", &module.id)?;
            check_text("module", &module.id, "title", &module.title, limits::TITLE_CHARS, true)?;
            if !module_ids.insert(module.id.as_str()) {
                return Err(ManifestError::DuplicateId { what: "module", id: module.id.clone() });
            }
            for lesson in &module.lessons {
                check_lesson(lesson, self.dictionary.is_some())?;
                if !lesson_ids.insert(lesson.id.as_str()) {
                    return Err(ManifestError::DuplicateId { what: "lesson", id: lesson.id.clone() });
                }
            }
        }
        for lesson in self.lessons() {
            let mut seen = HashSet::new();
            for target in &lesson.linked {
                if target == &lesson.id {
                    return Err(ManifestError::SelfLink { lesson: lesson.id.clone() });
                }
                if !lesson_ids.contains(target.as_str()) {
                    return Err(ManifestError::DanglingLink {
                        lesson: lesson.id.clone(),
                        target: target.clone(),
                    });
                }
                if !seen.insert(target.as_str()) {
                    return Err(ManifestError::DuplicateId { what: "linked lecture", id: target.clone() });
                }
            }
        }
        let blobs = self.blobs_by_hash()?;
        if let Some(pack) = &self.text_pack {
            check_text_pack(pack, &blobs)?;
        }
        self.check_patches(&blobs)
    }

    /// Patches need format 3, stay within the limit, name real hashes, produce a text blob of
    /// this manifest and cost less than that blob as stored (a patch that does not save bytes
    /// is never worth the risk). One pass with the blob map and a set of pairs: linear.
    fn check_patches(&self, blobs: &HashMap<&str, &BlobEntry>) -> Result<(), ManifestError> {
        if self.patches.is_empty() {
            return Ok(());
        }
        let error = |problem: String| ManifestError::InvalidBlob {
            lesson: String::new(),
            rendition: "patches",
            problem,
        };
        if self.format < PATCHES_FORMAT {
            return Err(error(format!("format {} cannot list patches (format 3 can)", self.format)));
        }
        if self.patches.len() > limits::PATCHES {
            return Err(too_large("number of patches", self.patches.len(), limits::PATCHES));
        }
        let mut pairs = HashSet::with_capacity(self.patches.len());
        for patch in &self.patches {
            for hash in [&patch.base, &patch.result] {
                if !is_sha256_hex(hash) {
                    return Err(error(format!("{hash:?} is not a lowercase hex SHA-256")));
                }
            }
            if patch.base == patch.result {
                return Err(error(format!("patch {} turns a blob into itself", patch.result)));
            }
            let result =
                blobs.get(patch.result.as_str()).filter(|b| b.encoding != Encoding::Identity).ok_or_else(
                    || error(format!("patch result {} is not a text blob of this course", patch.result)),
                )?;
            if patch.size == 0 || patch.size >= result.stored_size {
                return Err(error(format!(
                    "patch {} -> {} is {} bytes, the whole blob {}",
                    patch.base, patch.result, patch.size, result.stored_size
                )));
            }
            if !pairs.insert((patch.base.as_str(), patch.result.as_str())) {
                return Err(ManifestError::DuplicateId {
                    what: "patch",
                    id: format!("{}-{}", patch.base, patch.result),
                });
            }
        }
        Ok(())
    }

    /// Every blob listed anywhere, by hash, refusing a hash listed twice with different sizes,
    /// media types or encodings: the downloader needs one truth about how many bytes to expect.
    /// One pass with a map, so validation stays linear in the manifest.
    fn blobs_by_hash(&self) -> Result<HashMap<&str, &BlobEntry>, ManifestError> {
        let listed = self
            .dictionary
            .iter()
            .chain(self.text_pack.iter().map(|p| &p.blob))
            .chain(self.lessons().flat_map(|l| &l.renditions).flat_map(|r| &r.blobs));
        let mut blobs: HashMap<&str, &BlobEntry> = HashMap::new();
        for blob in listed {
            let first = *blobs.entry(blob.hash.as_str()).or_insert(blob);
            let conflict = |field: &'static str, a: String, b: String| ManifestError::ConflictingBlob {
                hash: blob.hash.clone(),
                field,
                first: a,
                second: b,
            };
            if first.size != blob.size {
                return Err(conflict("size", first.size.to_string(), blob.size.to_string()));
            }
            if first.stored_size != blob.stored_size {
                return Err(conflict(
                    "stored size",
                    first.stored_size.to_string(),
                    blob.stored_size.to_string(),
                ));
            }
            if first.media_type != blob.media_type {
                return Err(conflict("media type", first.media_type.clone(), blob.media_type.clone()));
            }
            if first.encoding != blob.encoding {
                return Err(conflict(
                    "encoding",
                    first.encoding.as_str().into(),
                    blob.encoding.as_str().into(),
                ));
            }
        }
        Ok(blobs)
    }
}

/// Every member must be a text blob of some rendition, and their sizes must add up to the pack's
/// decoded size, so the core can split and verify it. Members are looked up in the map of every
/// listed blob: scanning the course for each member made a crafted pack quadratic to check.
fn check_text_pack(pack: &TextPack, blobs: &HashMap<&str, &BlobEntry>) -> Result<(), ManifestError> {
    let error = |problem: String| ManifestError::InvalidBlob {
        lesson: String::new(),
        rendition: "text pack",
        problem,
    };
    check_blob(&pack.blob).map_err(error)?;
    let mut total: u64 = 0;
    for member in &pack.members {
        let blob = blobs
            .get(member.as_str())
            .filter(|b| b.encoding != Encoding::Identity && b.hash != pack.blob.hash)
            .ok_or_else(|| error(format!("member {member} is not a text blob of any rendition")))?;
        total = total.saturating_add(blob.size);
    }
    if total != pack.blob.size {
        return Err(error(format!("members add up to {total} bytes, the pack holds {}", pack.blob.size)));
    }
    Ok(())
}

fn check_lesson(lesson: &LessonEntry, has_dictionary: bool) -> Result<(), ManifestError> {
    check_id("lesson", &lesson.id)?;
    check_text("lesson", &lesson.id, "title", &lesson.title, limits::TITLE_CHARS, true)?;
    if let Some(duration) = lesson.duration_ms
        && duration > limits::DURATION_MS
    {
        return Err(too_large(
            format!("duration of lesson {:?} in ms", lesson.id),
            duration,
            limits::DURATION_MS,
        ));
    }
    if lesson.linked.len() > limits::LINKS_PER_LESSON {
        return Err(too_large(
            format!("links of lesson {:?}", lesson.id),
            lesson.linked.len(),
            limits::LINKS_PER_LESSON,
        ));
    }
    match (&lesson.quiz, lesson.kind) {
        (Some(quiz), LessonKind::Quiz) => check_quiz(&lesson.id, quiz)?,
        (None, LessonKind::Quiz) => return Err(quiz_error(&lesson.id, "a quiz lesson needs its questions")),
        (Some(_), _) => return Err(quiz_error(&lesson.id, "only quiz lessons may have questions")),
        (None, _) => {}
    }
    let mut kinds = HashSet::new();
    for rendition in &lesson.renditions {
        check_blobs(&lesson.id, rendition, has_dictionary)?;
        if !kinds.insert(rendition.kind) {
            return Err(ManifestError::DuplicateRendition {
                lesson: lesson.id.clone(),
                rendition: rendition.kind.as_str(),
            });
        }
        if rendition.bytes > limits::RENDITION_BYTES {
            return Err(too_large(
                format!("{} rendition of lesson {:?} in bytes", rendition.kind.as_str(), lesson.id),
                rendition.bytes,
                limits::RENDITION_BYTES,
            ));
        }
    }
    Ok(())
}

fn check_blobs(lesson: &str, rendition: &RenditionEntry, has_dictionary: bool) -> Result<(), ManifestError> {
    let error = |problem: String| ManifestError::InvalidBlob {
        lesson: lesson.to_owned(),
        rendition: rendition.kind.as_str(),
        problem,
    };
    if rendition.blobs.is_empty() {
        return Ok(());
    }
    if rendition.blobs.len() > limits::BLOBS_PER_RENDITION {
        return Err(error(format!("more than {} files", limits::BLOBS_PER_RENDITION)));
    }
    let mut total: u64 = 0;
    for blob in &rendition.blobs {
        check_blob(blob).map_err(&error)?;
        if blob.encoding == Encoding::ZstdDict && !has_dictionary {
            return Err(error(format!("blob {} needs a dictionary the course does not have", blob.hash)));
        }
        total = total.saturating_add(blob.stored_size);
    }
    if total != rendition.bytes {
        return Err(error(format!("bytes is {} but its files add up to {total}", rendition.bytes)));
    }
    Ok(())
}

/// One blob's fields: a SHA-256 name, sane sizes, a safe role.
fn check_blob(blob: &BlobEntry) -> Result<(), String> {
    if !is_sha256_hex(&blob.hash) {
        return Err(format!("{:?} is not a lowercase hex SHA-256", blob.hash));
    }
    if blob.size > limits::RENDITION_BYTES || blob.stored_size > limits::RENDITION_BYTES {
        return Err(format!("blob {} is larger than {} bytes", blob.hash, limits::RENDITION_BYTES));
    }
    match blob.encoding {
        Encoding::Identity if blob.size != blob.stored_size => {
            return Err(format!("blob {} is stored as is but its sizes differ", blob.hash));
        }
        Encoding::Zstd | Encoding::ZstdDict
            if blob.size > blob.stored_size.max(1).saturating_mul(limits::MAX_COMPRESSION_RATIO) =>
        {
            return Err(format!(
                "blob {} claims a compression ratio over {}",
                blob.hash,
                limits::MAX_COMPRESSION_RATIO
            ));
        }
        _ => {}
    }
    let role_ok = !blob.role.is_empty()
        && blob.role.len() <= limits::ROLE_CHARS
        && blob.role.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && !blob.role.starts_with('/')
        && !blob.role.split('/').any(|part| part.is_empty() || part == "." || part == "..");
    if !role_ok {
        return Err(format!("role {:?} is not a safe relative name", blob.role));
    }
    if blob.media_type.is_empty() || blob.media_type.len() > 100 || !blob.media_type.is_ascii() {
        return Err(format!("blob {} has no usable media type", blob.hash));
    }
    Ok(())
}

/// Whether `hash` is a lowercase hex SHA-256: safe as a file and URL name.
pub fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn quiz_error(lesson: &str, problem: impl Into<String>) -> ManifestError {
    ManifestError::InvalidQuiz { lesson: lesson.to_owned(), problem: problem.into() }
}

fn check_quiz(lesson: &str, quiz: &QuizEntry) -> Result<(), ManifestError> {
    if quiz.pass_percent > 100 {
        return Err(quiz_error(lesson, "pass_percent is over 100"));
    }
    if quiz.questions.is_empty() || quiz.questions.len() > limits::QUESTIONS {
        return Err(quiz_error(lesson, format!("needs 1 to {} questions", limits::QUESTIONS)));
    }
    let mut question_ids = HashSet::new();
    for question in &quiz.questions {
        check_id("question", &question.id)?;
        if !question_ids.insert(question.id.as_str()) {
            return Err(ManifestError::DuplicateId { what: "question", id: question.id.clone() });
        }
        check_text("question", &question.id, "prompt", &question.prompt, limits::PROMPT_CHARS, true)?;
        if question.choices.len() < 2 || question.choices.len() > limits::CHOICES {
            return Err(quiz_error(
                lesson,
                format!("question {:?} needs 2 to {} choices", question.id, limits::CHOICES),
            ));
        }
        let mut choice_ids = HashSet::new();
        for choice in &question.choices {
            check_id("choice", &choice.id)?;
            check_text("choice", &choice.id, "text", &choice.text, limits::PROMPT_CHARS, true)?;
            if !choice_ids.insert(choice.id.as_str()) {
                return Err(ManifestError::DuplicateId { what: "choice", id: choice.id.clone() });
            }
        }
        match quiz.mode {
            QuizMode::Graded if !question.correct.is_empty() => {
                return Err(quiz_error(lesson, "a graded quiz must not publish its answer keys"));
            }
            QuizMode::Practice if question.correct.is_empty() => {
                return Err(quiz_error(
                    lesson,
                    format!("practice question {:?} has no answer key", question.id),
                ));
            }
            _ => {}
        }
        if let Some(unknown) = question.correct.iter().find(|c| !choice_ids.contains(c.as_str())) {
            return Err(quiz_error(
                lesson,
                format!("question {:?} marks unknown choice {unknown:?} correct", question.id),
            ));
        }
        if !question.multiple && question.correct.len() > 1 {
            return Err(quiz_error(
                lesson,
                format!("single-answer question {:?} has several keys", question.id),
            ));
        }
    }
    Ok(())
}

/// Ids end up in URLs, file names and logs: keep them to a boring, safe alphabet.
fn check_id(what: &'static str, id: &str) -> Result<(), ManifestError> {
    let ok = !id.is_empty()
        && id.len() <= limits::ID_CHARS
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
        && id != "."
        && id != "..";
    if ok { Ok(()) } else { Err(ManifestError::InvalidId { what, id: id.to_owned() }) }
}

fn check_text(
    what: &'static str,
    id: &str,
    field: &str,
    text: &str,
    limit: usize,
    required: bool,
) -> Result<(), ManifestError> {
    if required && text.trim().is_empty() {
        return Err(ManifestError::EmptyTitle { what, id: id.to_owned() });
    }
    let chars = text.chars().count();
    if chars > limit {
        return Err(too_large(format!("{field} of {what} {id:?} in characters"), chars, limit));
    }
    Ok(())
}

fn too_large(what: impl Into<String>, actual: impl TryInto<u64>, limit: impl TryInto<u64>) -> ManifestError {
    ManifestError::TooLarge {
        what: what.into(),
        actual: actual.try_into().unwrap_or(u64::MAX),
        limit: limit.try_into().unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;

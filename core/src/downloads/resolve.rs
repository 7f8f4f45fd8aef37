//! Stream or download: what the player should open for a lesson.

use rusqlite::Connection;

use crate::catalog::RenditionKind;
use crate::content::course::{self, rendition_files};
use crate::content::fetch::ContentClient;
use crate::content::store::ContentStore;
use crate::error::{Error, Result};

/// One file for the player: a local path when downloaded, else a URL on the content host.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlaybackFile {
    /// `video`, `audio`, `transcript`, `slides/001.webp`, `cues`…
    pub role: String,
    /// An absolute file path (offline) or an `https://` URL (streaming).
    pub location: String,
    pub media_type: String,
    pub size: i64,
    /// False for remote text stored compressed (`zstd`): small files the player gets by
    /// downloading the rendition instead. Local files and remote media are always usable.
    pub usable_directly: bool,
}

/// What to play for a lesson.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PlaybackSource {
    pub rendition: RenditionKind,
    /// True when every file is on the phone (no data will be used).
    pub offline: bool,
    pub files: Vec<PlaybackFile>,
}

/// The best rendition on the phone (full, then lite, then text); if none is, the remote files
/// of `preferred` for streaming.
pub fn playback_source(
    conn: &Connection,
    content: &ContentStore,
    lesson_id: &str,
    preferred: RenditionKind,
) -> Result<PlaybackSource> {
    crate::catalog::lesson_facts(conn, lesson_id)?;
    for rendition in [RenditionKind::Full, RenditionKind::Lite, RenditionKind::Text] {
        if let Some(files) = rendition_files(conn, content, lesson_id, rendition)? {
            return Ok(PlaybackSource {
                rendition,
                offline: true,
                files: files
                    .into_iter()
                    .map(|f| PlaybackFile {
                        role: f.role,
                        location: f.path,
                        media_type: f.media_type,
                        size: f.size,
                        usable_directly: true,
                    })
                    .collect(),
            });
        }
    }
    let plan = course::plan(conn, lesson_id, preferred)?;
    let host = plan.host()?;
    let files = plan
        .blobs
        .iter()
        .map(|b| {
            Ok(PlaybackFile {
                role: b.role.clone(),
                location: ContentClient::blob_url(host, &b.hash)?.to_string(),
                media_type: b.media_type.clone(),
                size: crate::api_int::to_i64(b.size),
                usable_directly: b.encoding == crate::catalog::Encoding::Identity,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(PlaybackSource { rendition: preferred, offline: false, files })
}

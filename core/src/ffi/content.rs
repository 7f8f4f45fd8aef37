//! Fetching published courses and their files on the `Satchel` object.

use std::sync::Arc;

use super::{Satchel, SatchelError};
use crate::catalog::{ImportOutcome, RenditionKind};
use crate::share::{self, ImportedCourse, ShareProgress};

/// Told how far an export or import of a shared course file has come (a few times per file).
#[uniffi::export(with_foreign)]
pub trait ShareListener: Send + Sync {
    fn on_progress(&self, progress: ShareProgress);
}
use crate::content::course::LocalFile;
use crate::content::lite::LiteLecture;

#[uniffi::export]
impl Satchel {
    /// Fetches a course's signed manifest from a content host (`<base_url>/courses/<id>/…`),
    /// verifies it against the trusted publisher keys and imports it. HTTPS only (plain HTTP to
    /// loopback is allowed for development).
    pub async fn fetch_course(
        &self,
        base_url: String,
        course_id: String,
    ) -> Result<ImportOutcome, SatchelError> {
        // One manifest request: it runs to completion even if the caller goes away.
        self.spawn_downloads(move |d, _| async move { d.fetch_course(&base_url, &course_id).await }).await
    }

    /// Downloads a lesson rendition now, first in the queue, and returns its verified local
    /// files. Same machinery as the queue (resuming, verification, network policy): fails with
    /// `Network` when the current network or budget does not allow it.
    pub async fn download_rendition(
        &self,
        lesson_id: String,
        rendition: RenditionKind,
    ) -> Result<Vec<LocalFile>, SatchelError> {
        self.spawn_downloads(
            move |d, cancel| async move { d.download_now(&lesson_id, rendition, &cancel).await },
        )
        .await
    }

    /// A downloaded lite lecture ready to play: its audio, which slide to show when, and the
    /// transcript cues. `None` until the lite rendition is fully downloaded.
    pub async fn lite_lecture(&self, lesson_id: String) -> Result<Option<LiteLecture>, SatchelError> {
        self.with_downloads(move |d| d.lite_lecture(&lesson_id)).await
    }

    /// The verified local files of a rendition, or `None` unless every one is on the phone.
    pub async fn rendition_files(
        &self,
        lesson_id: String,
        rendition: RenditionKind,
    ) -> Result<Option<Vec<LocalFile>>, SatchelError> {
        self.with_downloads(move |d| d.rendition_files(&lesson_id, rendition)).await
    }

    /// Writes the downloaded lessons of a course in `rendition` to one file at `path` (for an
    /// SD card or a nearby share): the publisher's signed manifest and every verified file.
    /// Returns the file's size.
    pub async fn export_course(
        &self,
        course_id: String,
        rendition: RenditionKind,
        path: String,
        listener: Option<Arc<dyn ShareListener>>,
    ) -> Result<i64, SatchelError> {
        self.with_downloads(move |d| {
            share::export_course(
                d.store(),
                d.content(),
                &course_id,
                rendition,
                path.as_ref(),
                &mut tell(listener),
            )
            .map(crate::api_int::to_i64)
        })
        .await
    }

    /// Imports a shared course file with no network: checks the publisher signature against the
    /// trusted keys and every file's hash; refuses bad files with `Integrity`.
    pub async fn import_course(
        &self,
        path: String,
        listener: Option<Arc<dyn ShareListener>>,
    ) -> Result<ImportedCourse, SatchelError> {
        self.with_downloads(move |d| share::import_course(d, path.as_ref(), &mut tell(listener))).await
    }
}

/// A progress callback that tells `listener`, if any.
fn tell(listener: Option<Arc<dyn ShareListener>>) -> impl FnMut(ShareProgress) {
    move |progress| {
        if let Some(listener) = &listener {
            listener.on_progress(progress);
        }
    }
}

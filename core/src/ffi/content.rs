//! Fetching published courses and their files on the `Satchel` object.

use std::sync::Arc;

use super::{Satchel, SatchelError};
use crate::catalog::{ImportOutcome, RenditionKind};
use crate::content::course::{self, LocalFile};
use crate::content::lite::{self, LiteLecture};

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
        let account = self.shared_account();
        crate::runtime::spawn(async move { course::fetch_course(&account, &base_url, &course_id).await })
            .await
            .map_err(Into::into)
    }

    /// Downloads a lesson rendition now, first in the queue, and returns its verified local
    /// files. Same machinery as the queue (resuming, verification, network policy): fails with
    /// `Network` when the current network or budget does not allow it.
    pub async fn download_rendition(
        &self,
        lesson_id: String,
        rendition: RenditionKind,
    ) -> Result<Vec<LocalFile>, SatchelError> {
        let account = self.shared_account();
        crate::runtime::spawn(async move {
            crate::downloads::runner::download_now(&account, &lesson_id, rendition).await
        })
        .await
        .map_err(Into::into)
    }

    /// A downloaded lite lecture ready to play: its audio, which slide to show when, and the
    /// transcript cues. `None` until the lite rendition is fully downloaded.
    pub async fn lite_lecture(&self, lesson_id: String) -> Result<Option<LiteLecture>, SatchelError> {
        let account = self.shared_account();
        self.with_account(move |a| a.store().read(|c| lite::lite_lecture(c, &account, &lesson_id))).await
    }

    /// The verified local files of a rendition, or `None` unless every one is on the phone.
    pub async fn rendition_files(
        &self,
        lesson_id: String,
        rendition: RenditionKind,
    ) -> Result<Option<Vec<LocalFile>>, SatchelError> {
        let account = self.shared_account();
        self.with_account(move |a| {
            a.store().read(|c| course::rendition_files(c, &account, &lesson_id, rendition))
        })
        .await
    }
}

impl Satchel {
    pub(super) fn shared_account(&self) -> Arc<crate::account::Account> {
        Arc::clone(self.inner())
    }
}

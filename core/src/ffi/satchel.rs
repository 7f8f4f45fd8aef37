//! The `Satchel` object: a learner account opened by the app.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::open_accounts::{self, FinishOnDrop, OpenedWith, ShutdownState};

use super::SatchelError;
use crate::account::Account;
use crate::catalog::{self, CourseOutline, CourseSummary, ImportOutcome, Lesson, LinkedLecture};
use crate::downloads::DownloadService;
use crate::error::Result;
use crate::runtime::run_blocking;

/// Settings the app passes when opening an account.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct SatchelConfig {
    /// A label for this device in the learner's device list, e.g. "Amina's phone". Empty keeps
    /// the name stored before.
    #[uniffi(default = "")]
    pub device_name: String,
    /// Publisher public keys (base64 ed25519) that course manifests must be signed with. A
    /// course signed by any other key, or not signed, is refused.
    #[uniffi(default = [])]
    pub trusted_publisher_keys: Vec<String>,
}

/// A learner account opened on this device: the entry point of the core.
///
/// Open one per account and keep it for the app's lifetime (opening the same directory again in
/// the process returns the same object); call [`Satchel::pause`] when the app goes to the
/// background and [`Satchel::shutdown`] before the process ends if you can.
#[derive(uniffi::Object)]
pub struct Satchel {
    inner: Arc<Account>,
    opened_with: OpenedWith,
    /// Whether `shutdown` was called and has finished: an `open` of the same directory waits
    /// for it.
    shutdown_state: Arc<ShutdownState>,
}

/// How long `shutdown` waits for a running download run or sync to stop before closing anyway.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

#[uniffi::export]
impl Satchel {
    /// Opens (creating if needed) the account stored in `account_dir`, on a core thread: safe to
    /// await from the main thread. Fast (a few milliseconds, more only while migrating an old
    /// database).
    ///
    /// A directory already open in this process (by the UI, or by a background Worker) gives the
    /// same object back, so there is one network state, one download run and one sync per
    /// account. Opening it again with other trusted keys or another non-empty device name is
    /// `InvalidInput`. After `shutdown` the next `open` opens it anew; an `open` while it is
    /// shutting down waits for the shutdown to finish first.
    #[uniffi::constructor]
    pub async fn open(account_dir: String, config: SatchelConfig) -> Result<Arc<Satchel>, SatchelError> {
        Ok(run_blocking(move || Satchel::open_shared(&account_dir, &config, None)).await?)
    }

    /// This device's stable id, used by sync.
    pub fn device_id(&self) -> String {
        self.inner.device_id().to_owned()
    }

    /// Flushes the database's write-ahead log, on a core thread (it waits for a write in
    /// progress: never on the caller's). Call when the app goes to the background: iOS kills
    /// suspended apps that hold file locks, and a short log makes the next start fast.
    pub async fn pause(&self) -> Result<(), SatchelError> {
        self.with_account(|account| account.store().checkpoint()).await
    }

    /// Stops the running download run and sync (waiting up to 5 s for them to write their last
    /// state), then checkpoints and closes the database, reporting any failure. Runs on core
    /// threads: safe to await from the main thread. Later calls fail with `SatchelError::Closed`;
    /// shutting down twice is harmless.
    ///
    /// Named `shutdown` because Kotlin's `AutoCloseable.close()` and Swift's deinit already mean
    /// "free this handle" on the generated class; freeing the last handle also closes the database,
    /// but silently.
    pub async fn shutdown(&self) -> Result<(), SatchelError> {
        self.shutdown_state.begin();
        let finished = FinishOnDrop(Arc::clone(&self.shutdown_state));
        let account = Arc::clone(&self.inner);
        Ok(crate::runtime::spawn(async move {
            let closed = account.shut_down(SHUTDOWN_WAIT).await;
            drop(finished);
            closed
        })
        .await?)
    }

    /// Imports a course manifest (JSON) into the catalog.
    pub async fn import_manifest(&self, manifest_json: String) -> Result<ImportOutcome, SatchelError> {
        self.with_downloads(move |d| d.import_manifest(&manifest_json)).await
    }

    /// Every course in the catalog, by title, with download sizes per rendition.
    pub async fn list_courses(&self) -> Result<Vec<CourseSummary>, SatchelError> {
        self.with_account(|account| account.store().read(catalog::list_courses)).await
    }

    /// A course's modules and lessons in order.
    pub async fn course_outline(&self, course_id: String) -> Result<CourseOutline, SatchelError> {
        self.with_account(move |account| {
            account.store().read(|conn| catalog::course_outline(conn, &course_id))
        })
        .await
    }

    /// One lesson with its renditions.
    pub async fn lesson(&self, lesson_id: String) -> Result<Lesson, SatchelError> {
        self.with_account(move |account| account.store().read(|conn| catalog::lesson(conn, &lesson_id))).await
    }

    /// Lectures linked from a lesson, each with the renditions available offline.
    pub async fn linked_lectures(&self, lesson_id: String) -> Result<Vec<LinkedLecture>, SatchelError> {
        self.with_account(move |account| {
            account.store().read(|conn| catalog::linked_lectures(conn, &lesson_id))
        })
        .await
    }
}

impl Satchel {
    /// Opens an account like [`Satchel::open`] with its own wall clock (see
    /// [`WallClock`](crate::time::WallClock)): for Rust tests and demos of a phone whose clock is
    /// off. Not exported: on a phone the system clock is the truth.
    pub fn open_with_clock(
        account_dir: String,
        config: SatchelConfig,
        clock: Arc<crate::time::WallClock>,
    ) -> Result<Arc<Satchel>, SatchelError> {
        Ok(Satchel::open_shared(&account_dir, &config, Some(clock))?)
    }

    /// [`Satchel::open`] on the calling thread, for Rust shells (CLI, tests) that are not on an
    /// app's main thread.
    pub fn open_blocking(account_dir: String, config: SatchelConfig) -> Result<Arc<Satchel>, SatchelError> {
        Ok(Satchel::open_shared(&account_dir, &config, None)?)
    }

    /// [`Satchel::shutdown`] on the calling thread, for Rust shells.
    pub fn shutdown_blocking(&self) -> Result<(), SatchelError> {
        crate::runtime::runtime().block_on(self.shutdown())
    }

    /// Opens `account_dir`, or shares the object already open there (see `open_accounts`).
    fn open_shared(
        account_dir: &str,
        config: &SatchelConfig,
        clock: Option<Arc<crate::time::WallClock>>,
    ) -> Result<Arc<Satchel>> {
        let dir = open_accounts::canonical_dir(account_dir)?;
        let opened_with = OpenedWith::new(config);
        open_accounts::open_or_share(dir, &opened_with.clone(), move |dir| {
            let keys = &config.trusted_publisher_keys;
            let account = match clock {
                Some(clock) => Account::open_with_clock(&dir, &config.device_name, keys, clock)?,
                None => Account::open(&dir, &config.device_name, keys)?,
            };
            Ok(Satchel { inner: Arc::new(account), opened_with, shutdown_state: Arc::default() })
        })
    }

    /// False once shut down.
    pub(super) fn is_open(&self) -> bool {
        self.inner.store().is_open()
    }

    pub(super) fn opened_with(&self) -> &OpenedWith {
        &self.opened_with
    }

    pub(super) fn shutdown_state(&self) -> &ShutdownState {
        &self.shutdown_state
    }

    /// Runs `f` in a write transaction on the core runtime, with this device's id.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, SatchelError>
    where
        F: FnOnce(&rusqlite::Transaction<'_>, &str) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.with_account(move |account| account.store().write(|tx| f(tx, account.device_id()))).await
    }

    /// Runs `f` with the read connection on the core runtime.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, SatchelError>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.with_account(move |account| account.store().read(f)).await
    }

    /// Runs blocking account work on the core runtime and maps its error for the FFI.
    pub(super) async fn with_account<T, F>(&self, f: F) -> Result<T, SatchelError>
    where
        F: FnOnce(&Account) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let account = Arc::clone(&self.inner);
        Ok(run_blocking(move || f(&account)).await?)
    }

    /// The account behind this object, for Rust shells (CLI, tests) that go beyond the FFI.
    pub fn account(&self) -> &Account {
        &self.inner
    }

    /// Runs blocking download work on the core runtime and maps its error for the FFI.
    pub(super) async fn with_downloads<T, F>(&self, f: F) -> Result<T, SatchelError>
    where
        F: FnOnce(&DownloadService) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.with_account(move |account| f(account.download_service())).await
    }

    /// Long download work on the core runtime, stopped at its next safe point if the caller
    /// (a cancelled coroutine or Task) drops the future.
    pub(super) async fn spawn_downloads<T, F, Fut>(&self, f: F) -> Result<T, SatchelError>
    where
        F: FnOnce(DownloadService, CancellationToken) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_downloads_by(&CancellationToken::new(), f).await
    }

    /// `spawn_downloads` that `parent` (a shell's explicit `Cancellation`) stops too.
    pub(super) async fn spawn_downloads_by<T, F, Fut>(
        &self,
        parent: &CancellationToken,
        f: F,
    ) -> Result<T, SatchelError>
    where
        F: FnOnce(DownloadService, CancellationToken) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let service = self.inner.download_service().clone();
        Ok(crate::runtime::spawn_cancellable_by(parent, |cancel| f(service, cancel)).await?)
    }
}

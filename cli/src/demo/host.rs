//! The demo's embedded server: the sample course (rendered with ffmpeg and espeak-ng, packed and
//! signed once into a cache) as static content, and the reference sync API beside it, both
//! served on loopback by the server crate running inside this process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use satchel_core::runtime::runtime;
use satchel_server::serve::{self, Background, SyncOptions};
use satchel_server::sync::auth::{self, TokenKey};
use satchel_server::{keys, pack, sample};

/// The packed sample course: where it is, its grading keys, and the key that signed it.
pub struct Packed {
    pub dir: PathBuf,
    pub grading: Option<PathBuf>,
    pub public_key: String,
    /// Seconds spent rendering the lectures in this run (0 when cached).
    pub rendered_s: f64,
    /// Seconds spent packing in this run (0 when cached).
    pub packed_s: f64,
}

/// The running server; stops when dropped.
pub struct Host {
    pub base_url: String,
    tokens: TokenKey,
    _server: Background,
    _state: tempfile::TempDir,
}

impl Host {
    /// A sync token for `learner`, valid for an hour, as the learner's sign-in service would
    /// mint it.
    pub fn token(&self, learner: &str) -> Result<String> {
        self.tokens.mint(learner, auth::now_s() + 3600)
    }
}

/// Whether the tools that render the sample lectures are installed.
pub fn media_tools_available() -> bool {
    [("ffmpeg", "-version"), ("ffprobe", "-version"), ("espeak-ng", "--version")].iter().all(
        |(tool, flag)| {
            Command::new(tool)
                .arg(flag)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        },
    )
}

/// A spinner with the elapsed time, for the steps that report no progress of their own.
fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Renders (first run only) and packs (when the rendering changed) the sample course.
pub fn prepare_sample() -> Result<Packed> {
    let cache = sample::cache_dir();
    let source = cache.join("sample-course");
    let stamp_path = source.join(".generated");
    if !stamp_path.is_file() {
        println!("(first run: rendering the sample lectures with ffmpeg and espeak-ng)");
    }
    let rendering = spinner("rendering the sample lectures (ffmpeg, espeak-ng; first run only)");
    let started = Instant::now();
    let generated = sample::generate(&sample::default_source(), &source);
    let rendered_s = started.elapsed().as_secs_f64();
    rendering.finish_and_clear();
    generated?;
    // "grading": packs older than the grading folder beside them are packed again.
    let stamp = format!(
        "{} pack-format {} grading",
        std::fs::read_to_string(&stamp_path)?,
        pack::PACK_FORMAT_VERSION
    );

    let key_path = cache.join("demo-publisher.key");
    sample::with_cache_lock(&key_path, || {
        if key_path.is_file() { Ok(()) } else { keys::generate(&key_path).map(drop) }
    })?;
    let key = keys::load(&key_path)?;
    let packed = cache.join("demo-packed");
    let packed_stamp = packed.join(".source");
    let manifest = packed.join("courses/web-basics/manifest.signed.json");
    let started = Instant::now();
    // Two demos (or a demo and a test) may share the cache: one packs, the other waits.
    let repack = sample::with_cache_lock(&packed, || {
        let cached = std::fs::read_to_string(&packed_stamp).is_ok_and(|text| text == stamp);
        if cached && manifest.is_file() {
            return Ok(false);
        }
        if packed.exists() {
            std::fs::remove_dir_all(&packed)?;
        }
        let packing = spinner("packing the sample course: full, lite and text renditions");
        let report = pack::pack(&source, &packed, &key);
        packing.finish_and_clear();
        let report = report?;
        pack::print_report(&report);
        std::fs::write(&packed_stamp, &stamp)?;
        Ok(true)
    })?;
    let packed_s = if repack { started.elapsed().as_secs_f64() } else { 0.0 };
    let grading = pack::default_grading_dir(&packed)?;
    Ok(Packed {
        dir: packed,
        grading: grading.is_dir().then_some(grading),
        public_key: keys::public_key(&key),
        // An up-to-date check takes a few milliseconds; anything longer rendered.
        rendered_s: if rendered_s > 1.0 { rendered_s } else { 0.0 },
        packed_s,
    })
}

/// Serves `content` (the packed course, or an empty folder in the catalog-only mode) and the
/// sync API over a fresh sync database, on a free loopback port.
pub fn start(content: Option<&Path>, grading: Option<PathBuf>) -> Result<Host> {
    let state = tempfile::tempdir().context("cannot create the sync server's directory")?;
    let secret = state.path().join("sync.secret");
    auth::generate_secret(&secret)?;
    let tokens = TokenKey::load(&secret)?;
    let content = match content {
        Some(dir) => dir.to_path_buf(),
        None => {
            let empty = state.path().join("content");
            std::fs::create_dir_all(&empty)?;
            empty
        }
    };
    let options = SyncOptions { db: state.path().join("sync.db").into(), secret, grading };
    let server = runtime().block_on(async {
        let service = serve::sync_service(&options).await?;
        let app = serve::router_with_sync(content, service);
        serve::spawn_router(app, "127.0.0.1:0".parse().context("loopback address")?).await
    });
    let server = server.context("cannot start the embedded server")?;
    Ok(Host { base_url: format!("http://{}/", server.addr), tokens, _server: server, _state: state })
}

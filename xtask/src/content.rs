//! The packed sample course on a loopback reference server, for the Kotlin and Swift tests (with
//! a small text course in two versions beside it, for their course-update tests).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::{paths, tools, update_course};

/// A running `satchel-server serve` of the packed sample, with the sync API on; killed when
/// dropped.
pub struct SampleServer {
    child: Child,
    pub base_url: String,
    pub public_key: String,
    /// Sync bearer tokens for three learners, minted from the server's secret, for the Kotlin
    /// run: two for the sync tests, one for the logging test (whose note must not reach them).
    pub sync_tokens: [String; 3],
    /// Three other learners' tokens for the Swift run: its devices must not pull what the Kotlin
    /// run's learners pushed, or "another learner sees nothing" could not hold.
    pub swift_sync_tokens: [String; 3],
}

impl Drop for SampleServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve_sample() -> Result<SampleServer> {
    tools::cargo(&["build", "--workspace", "--all-targets"])?;
    let server =
        paths::target_dir().join("debug").join(format!("satchel-server{}", std::env::consts::EXE_SUFFIX));
    let source = paths::tools_cache().join("sample-course");
    let work = paths::target_dir().join("kotlin-tests");
    let key = work.join("publisher.key");
    let packed = work.join("content");
    let sync_db = work.join("sync.db");
    let sync_secret = work.join("sync.secret");
    std::fs::create_dir_all(&work)?;
    for stale in [&key, &packed, &sync_db, &sync_secret] {
        if stale.is_dir() {
            std::fs::remove_dir_all(stale)?;
        } else if stale.exists() {
            std::fs::remove_file(stale)?;
        }
    }
    tools::run(Command::new(&server).arg("sample-course").arg(&source))?;
    let output = Command::new(&server).arg("keygen").arg("--out").arg(&key).output()?;
    if !output.status.success() {
        bail!("keygen failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let public_key = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    tools::run(
        Command::new(&server)
            .arg("pack")
            .arg(&source)
            .arg(&packed)
            .arg("--key")
            .arg(&key)
            .stdout(Stdio::null()),
    )?;

    update_course::publish(&server, &key, &source, &packed)?;

    tools::run(
        Command::new(&server).arg("sync-secret").arg("--out").arg(&sync_secret).stderr(Stdio::null()),
    )?;
    let mint = |learner: &str| -> Result<String> {
        let output = Command::new(&server)
            .args(["sync-token", "--learner", learner, "--ttl-s", "86400", "--secret"])
            .arg(&sync_secret)
            .output()?;
        if !output.status.success() {
            bail!("sync-token failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let sync_tokens = [mint("kotlin-amina")?, mint("kotlin-bilal")?, mint("kotlin-chidi")?];
    let swift_sync_tokens = [mint("swift-amina")?, mint("swift-bilal")?, mint("swift-chidi")?];

    let mut child = Command::new(&server)
        .arg("serve")
        .arg(&packed)
        .args(["--listen", "127.0.0.1:0", "--sync-db"])
        .arg(&sync_db)
        .arg("--sync-secret")
        .arg(&sync_secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut first)?;
    let Some(addr) = first.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        bail!("unexpected first line from satchel-server: {first:?}");
    };
    Ok(SampleServer { base_url: format!("{addr}/"), child, public_key, sync_tokens, swift_sync_tokens })
}

//! The packed sample course on a loopback reference server, for the Kotlin tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::{paths, tools};

/// A running `satchel-server serve` of the packed sample; killed when dropped.
pub struct SampleServer {
    child: Child,
    pub base_url: String,
    pub public_key: String,
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
    std::fs::create_dir_all(&work)?;
    for stale in [&key, &packed] {
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

    let mut child = Command::new(&server)
        .arg("serve")
        .arg(&packed)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut first)?;
    let Some(addr) = first.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        bail!("unexpected first line from satchel-server: {first:?}");
    };
    Ok(SampleServer { base_url: format!("{addr}/"), child, public_key })
}

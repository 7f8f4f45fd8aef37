//! `cargo xtask demo`: the README's first command. Installs what the demo needs the way `cargo
//! xtask test` does (apt-get, through sudo when not root; a failed install stops here), builds
//! the release CLI, runs `satchel demo --require-media` (so it can never fall back to the
//! catalog-only mode) and prints how long the demo took.

use std::process::Command;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::{paths, tools};

/// The media tools that render the sample lectures, and the font of their slides.
const DEMO_APT_PACKAGES: &[&str] = &["ffmpeg", "espeak-ng", "fonts-dejavu-core"];

pub fn run() -> Result<()> {
    tools::ensure_apt_packages(DEMO_APT_PACKAGES)?;
    for (tool, flag) in [("ffmpeg", "-version"), ("ffprobe", "-version"), ("espeak-ng", "--version")] {
        if !Command::new(tool).arg(flag).output().is_ok_and(|o| o.status.success()) {
            bail!("{tool} is still missing after installing {DEMO_APT_PACKAGES:?}");
        }
    }
    let first_run = !paths::tools_cache().join("sample-course/.generated").is_file();
    tools::cargo(&["build", "--release", "-p", "satchel-cli"])?;
    let satchel =
        paths::target_dir().join("release").join(format!("satchel{}", std::env::consts::EXE_SUFFIX));
    let started = Instant::now();
    tools::run(Command::new(&satchel).args(["demo", "--require-media"]))?;
    let seconds = started.elapsed().as_secs_f64();
    if first_run {
        println!("xtask: first run of the demo: {seconds:.1} s, rendering the sample lectures included");
    } else {
        println!("xtask: the demo ran in {seconds:.1} s (sample course cached)");
    }
    Ok(())
}

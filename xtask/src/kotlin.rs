//! Compiling the generated Kotlin bindings, the Android shell's Kotlin sources and its tests with
//! kotlinc-jvm, and running the tests on the JVM against the real core library through JNA.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bindings::Generated;
use crate::content::SampleServer;
use crate::paths;
use crate::tools::{self, TestTools};

const SHELL_MAIN: &str = "android/satchel/src/main/kotlin";
/// The Kotlin shell's tests; each `*Test.kt` has a Swift mirror (shell_mirrors.rs).
pub const SHELL_TEST: &str = "android/satchel/src/test/kotlin";
const RUNNER_CLASS: &str = "org.satchel.RunTestsKt";

pub fn run_tests(tools: &TestTools, generated: &Generated, content: &SampleServer) -> Result<()> {
    let root = paths::workspace_root();
    let mut sources = Vec::new();
    for dir in [generated.kotlin_dir.clone(), root.join(SHELL_MAIN), root.join(SHELL_TEST)] {
        paths::collect_files(&dir, "kt", &mut sources)?;
    }
    let test_classes = test_class_names(&root.join(SHELL_TEST))?;
    if test_classes.is_empty() {
        bail!("no Kotlin test classes (files ending in Test.kt) under {SHELL_TEST}");
    }

    let lib = tools.kotlin_home.join("lib");
    let mut classpath: Vec<PathBuf> = tools.jars.clone();
    classpath.push(lib.join("kotlinx-coroutines-core-jvm.jar"));
    let out = paths::target_dir().join("kotlin-tests/classes");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;

    eprintln!("xtask: compiling {} Kotlin files", sources.len());
    tools::run(
        Command::new(tools.kotlin_home.join("bin/kotlinc-jvm"))
            .args(["-nowarn", "-jvm-target", "17", "-classpath"])
            .arg(join_paths(&classpath)?)
            .arg("-d")
            .arg(&out)
            .args(&sources),
    )
    .context("kotlinc-jvm failed")?;

    classpath.insert(0, out);
    classpath.push(lib.join("kotlin-stdlib.jar"));
    let library_dir = paths::core_cdylib().parent().map(Path::to_path_buf).unwrap_or_default();
    eprintln!("xtask: running Kotlin tests {test_classes:?}");
    tools::run(
        Command::new("java")
            .arg(format!("-Djna.library.path={}", library_dir.display()))
            .arg(format!("-Dsatchel.contentUrl={}", content.base_url))
            .arg(format!("-Dsatchel.publisherKey={}", content.public_key))
            .arg(format!("-Dsatchel.syncToken={}", content.sync_tokens[0]))
            .arg(format!("-Dsatchel.otherSyncToken={}", content.sync_tokens[1]))
            .arg(format!("-Dsatchel.loggingSyncToken={}", content.sync_tokens[2]))
            .arg("-classpath")
            .arg(join_paths(&classpath)?)
            .arg(RUNNER_CLASS)
            .args(&test_classes),
    )
    .context("Kotlin tests failed")
}

/// `package x.y` + `FooTest.kt` → `x.y.FooTest`, for every `*Test.kt` under `dir`.
fn test_class_names(dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    paths::collect_files(dir, "kt", &mut files)?;
    let mut names = Vec::new();
    for file in files {
        let Some(stem) = file.file_stem().and_then(|s| s.to_str()) else { continue };
        if !stem.ends_with("Test") {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let package = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("package "))
            .map(|p| format!("{}.", p.trim()))
            .unwrap_or_default();
        names.push(format!("{package}{stem}"));
    }
    Ok(names)
}

fn join_paths(paths: &[PathBuf]) -> Result<std::ffi::OsString> {
    std::env::join_paths(paths).context("a classpath entry contains the path separator")
}

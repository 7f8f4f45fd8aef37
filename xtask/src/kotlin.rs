//! Compiling the generated Kotlin bindings, the Android shell's Kotlin sources and its tests with
//! kotlinc-jvm, and running the tests on the JVM against the real core library through JNA.
//!
//! Two compilations: the library (bindings + shell) alone, as it ships, so the ProGuard check
//! (proguard.rs) shrinks exactly that; then the tests, the shrink check's entry point and the
//! docs' Kotlin samples against it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::bindings::Generated;
use crate::content::SampleServer;
use crate::doc_samples;
use crate::paths;
use crate::tools::{self, TestTools};

/// The shell's plain Kotlin: everything the JVM run compiles. No `android.*` import may appear
/// here ([`check_split`]): the decisions live here so they are tested.
const SHELL_MAIN: &str = "android/satchel/src/main/kotlin";
/// The Android adapters (the ConnectivityManager callback, the Workers, the foreground-service
/// notification, the logcat logger). Gradle compiles them into the same library
/// (build.gradle.kts adds this folder to the `main` source set); the JVM run leaves them out
/// because they need android.jar and androidx, which cannot be had here (no Android SDK, no
/// Google Maven). They only translate platform calls into calls of SHELL_MAIN.
pub const ANDROID_ADAPTERS: &str = "android/satchel/src/android/kotlin";
/// The Kotlin shell's tests; each `*Test.kt` has a Swift mirror (shell_mirrors.rs).
pub const SHELL_TEST: &str = "android/satchel/src/test/kotlin";
/// The app proguard.rs shrinks and runs.
const SHRINK_ENTRY: &str = "android/satchel/src/shrinkTest/kotlin";
const RUNNER_CLASS: &str = "org.satchel.RunTestsKt";
/// Debian's ProGuard 6.2 reads class files up to Java 13 (proguard.rs); the tests run the same.
const JVM_TARGET: &str = "11";

/// The compiled Kotlin and the jars it runs with.
pub struct Compiled {
    /// The bindings and the shell: the library.
    pub main: PathBuf,
    /// The tests, the shrink check's entry point and the docs' samples.
    pub test: PathBuf,
    pub stdlib: PathBuf,
    pub coroutines: PathBuf,
    pub jna: PathBuf,
    /// The JetBrains annotations the compiled code references (compile-time only).
    pub annotations: PathBuf,
}

pub fn run_tests(tools: &TestTools, generated: &Generated, content: &SampleServer) -> Result<Compiled> {
    let root = paths::workspace_root();
    check_split(&root.join(SHELL_MAIN))?;
    let test_classes = test_class_names(&root.join(SHELL_TEST))?;
    if test_classes.is_empty() {
        bail!("no Kotlin test classes (files ending in Test.kt) under {SHELL_TEST}");
    }
    let lib = tools.kotlin_home.join("lib");
    let out = paths::target_dir().join("kotlin-tests");
    let compiled = Compiled {
        main: out.join("classes/main"),
        test: out.join("classes/test"),
        stdlib: lib.join("kotlin-stdlib.jar"),
        coroutines: lib.join("kotlinx-coroutines-core-jvm.jar"),
        annotations: lib.join("annotations-13.0.jar"),
        jna: tools
            .jars
            .iter()
            .find(|j| j.ends_with("jna.jar"))
            .cloned()
            .context("JNA is not among the test jars")?,
    };
    let mut classpath: Vec<PathBuf> = tools.jars.clone();
    classpath.push(compiled.coroutines.clone());

    let mut main_sources = Vec::new();
    for dir in [generated.kotlin_dir.clone(), root.join(SHELL_MAIN)] {
        paths::collect_files(&dir, "kt", &mut main_sources)?;
    }
    kotlinc(tools, &classpath, &compiled.main, &main_sources)
        .context("the bindings and the shell do not compile")?;

    let mut test_sources = Vec::new();
    for dir in [root.join(SHELL_TEST), root.join(SHRINK_ENTRY)] {
        paths::collect_files(&dir, "kt", &mut test_sources)?;
    }
    let samples = doc_samples::kotlin_samples()?;
    let written = doc_samples::write_kotlin_samples(&samples, &out.join("doc-samples"))?;
    test_sources.extend(written.iter().map(|(file, _)| file.clone()));
    classpath.insert(0, compiled.main.clone());
    if let Err(error) = kotlinc(tools, &classpath, &compiled.test, &test_sources) {
        let origins: Vec<String> = written.iter().map(|(f, o)| format!("{} is {o}", f.display())).collect();
        return Err(error
            .context(format!("the Kotlin tests or docs' samples do not compile ({})", origins.join("; "))));
    }
    let skipped = samples.iter().filter(|s| s.android_only.is_some()).count();
    eprintln!(
        "xtask: the docs' Kotlin samples compile ({} of them; {skipped} marked `kotlin android` need android.jar and are not compiled here)",
        written.len()
    );

    classpath.insert(0, compiled.test.clone());
    classpath.push(compiled.stdlib.clone());
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
    .context("Kotlin tests failed")?;
    Ok(compiled)
}

fn kotlinc(tools: &TestTools, classpath: &[PathBuf], out: &Path, sources: &[PathBuf]) -> Result<()> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    eprintln!("xtask: compiling {} Kotlin files into {}", sources.len(), out.display());
    tools::run(
        Command::new(tools.kotlin_home.join("bin/kotlinc-jvm"))
            .args(["-nowarn", "-jvm-target", JVM_TARGET, "-classpath"])
            .arg(join_paths(classpath)?)
            .arg("-d")
            .arg(out)
            .args(sources),
    )
    .context("kotlinc-jvm failed")
}

/// Fails, naming them, when a file of the plain shell imports the Android platform: that code
/// belongs in ANDROID_ADAPTERS, with its decision left here.
fn check_split(dir: &Path) -> Result<()> {
    let mut files = Vec::new();
    paths::collect_files(dir, "kt", &mut files)?;
    let mut offenders = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for line in text.lines().map(str::trim) {
            if line.starts_with("import android.") || line.starts_with("import androidx.") {
                offenders.push(format!("{}: {line}", file.display()));
            }
        }
    }
    if !offenders.is_empty() {
        bail!(
            "the plain Kotlin shell ({SHELL_MAIN}) must not use the Android platform; move the calls to {ANDROID_ADAPTERS}:\n{}",
            offenders.join("\n")
        );
    }
    Ok(())
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

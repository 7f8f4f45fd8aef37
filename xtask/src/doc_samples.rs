//! Code samples in the docs are compiled, so they cannot drift from the API: every
//! ```` ```swift ```` block of README.md and docs/*.md is type-checked against the modules of the
//! Swift package's build (the shell and the generated bindings), and every ```` ```kotlin ````
//! block is compiled by kotlinc-jvm against the bindings and the plain Kotlin shell (kotlin.rs).
//! A Kotlin block that needs android.jar (absent here) is fenced ```` ```kotlin android ```` and
//! must open with a `// Not compiled here: <why>` line; it is left out, never silently.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::paths;

/// One sample: where it came from, and its text.
pub struct Sample {
    pub origin: String,
    pub code: String,
}

/// The Swift samples of README.md and docs/*.md, in file order.
pub fn swift_samples() -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for (name, text) in doc_files()? {
        for (index, code) in fenced_blocks(&text, "swift").into_iter().enumerate() {
            samples.push(Sample { origin: format!("{name} sample {}", index + 1), code });
        }
    }
    Ok(samples)
}

/// A Kotlin sample, and why it is not compiled when it needs android.jar.
pub struct KotlinSample {
    pub sample: Sample,
    pub android_only: Option<String>,
}

/// The line a `kotlin android` block opens with.
const NOT_COMPILED: &str = "// Not compiled here:";

/// The Kotlin samples (```` ```kotlin ```` and ```` ```kotlin android ````) of README.md and
/// docs/*.md, in file order; fails on an Android-only block that does not say why.
pub fn kotlin_samples() -> Result<Vec<KotlinSample>> {
    let mut samples = Vec::new();
    for (name, text) in doc_files()? {
        for (index, (android, code)) in kotlin_blocks(&text).into_iter().enumerate() {
            let origin = format!("{name} Kotlin sample {}", index + 1);
            let android_only = if android {
                let reason = code.lines().next().and_then(|l| l.trim().strip_prefix(NOT_COMPILED));
                match reason.map(str::trim).filter(|r| !r.is_empty()) {
                    Some(reason) => Some(reason.to_owned()),
                    None => anyhow::bail!(
                        "{origin} is `kotlin android` but does not open with `{NOT_COMPILED} <why>`"
                    ),
                }
            } else {
                None
            };
            samples.push(KotlinSample { sample: Sample { origin, code }, android_only });
        }
    }
    Ok(samples)
}

/// Writes the compiled samples (not the Android-only ones) to `dir`, each in a package of its
/// own so they may declare the same names; returns the files with their origins.
pub fn write_kotlin_samples(samples: &[KotlinSample], dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (index, sample) in samples.iter().filter(|s| s.android_only.is_none()).enumerate() {
        let path = dir.join(format!("sample{}.kt", index + 1));
        let code = &sample.sample.code;
        let text = if code.lines().any(|l| l.trim_start().starts_with("package ")) {
            code.clone()
        } else {
            format!("package org.satchel.docsamples.sample{}\n\n{code}", index + 1)
        };
        std::fs::write(&path, text)?;
        written.push((path, sample.sample.origin.clone()));
    }
    Ok(written)
}

/// README.md and docs/*.md: (name relative to the root, text).
fn doc_files() -> Result<Vec<(String, String)>> {
    let root = paths::workspace_root();
    let mut files = vec![root.join("README.md")];
    paths::collect_files(&root.join("docs"), "md", &mut files)?;
    files
        .into_iter()
        .map(|file| {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            Ok((file.strip_prefix(&root).unwrap_or(&file).display().to_string(), text))
        })
        .collect()
}

/// The ```` ```kotlin ```` blocks, each with whether it is fenced ```` ```kotlin android ````.
fn kotlin_blocks(markdown: &str) -> Vec<(bool, String)> {
    let plain = fenced_blocks_tagged(markdown, "kotlin");
    let android = fenced_blocks_tagged(markdown, "kotlin android");
    let mut all: Vec<(usize, bool, String)> = plain
        .into_iter()
        .map(|(at, code)| (at, false, code))
        .chain(android.into_iter().map(|(at, code)| (at, true, code)))
        .collect();
    all.sort_by_key(|(at, _, _)| *at);
    all.into_iter().map(|(_, android, code)| (android, code)).collect()
}

/// Writes each sample to `dir` as its own file (they may declare the same names) and returns
/// the files with their origins.
pub fn write_samples(samples: &[Sample], dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (index, sample) in samples.iter().enumerate() {
        let path = dir.join(format!("sample{}.swift", index + 1));
        std::fs::write(&path, &sample.code)?;
        written.push((path, sample.origin.clone()));
    }
    Ok(written)
}

/// The bodies of the fenced code blocks tagged `language` (```` ```swift ````), in order.
pub fn fenced_blocks(markdown: &str, language: &str) -> Vec<String> {
    fenced_blocks_tagged(markdown, language).into_iter().map(|(_, code)| code).collect()
}

/// The blocks whose info string is exactly `tag` (words separated by one space), with the line
/// each opens on.
fn fenced_blocks_tagged(markdown: &str, tag: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (number, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        match current.as_mut() {
            None if fence
                .strip_prefix("```")
                .is_some_and(|info| info.split_whitespace().collect::<Vec<_>>().join(" ") == tag) =>
            {
                current = Some((number, String::new()));
            }
            None => {}
            Some(_) if fence.starts_with("```") => blocks.extend(current.take()),
            Some((_, block)) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    // An unclosed fence runs to the end of the file, as Markdown renders it: still compiled.
    blocks.extend(current);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_swift_blocks_are_samples() {
        let markdown = "\
Intro.

```sh
cargo xtask swift
```

```swift
import Satchel
let x = 1
```

```kotlin
val y = 2
```
  ```swift
  let z = 3
  ```
";
        assert_eq!(fenced_blocks(markdown, "swift"), vec!["import Satchel\nlet x = 1\n", "  let z = 3\n"]);
        assert_eq!(fenced_blocks("```swift\nunclosed\n", "swift"), vec!["unclosed\n"]);
    }

    #[test]
    fn android_only_kotlin_blocks_are_told_apart_in_file_order() {
        let markdown = "```kotlin\nval a = 1\n```\n```kotlin android\n// Not compiled here: Context\n```\n```kotlin\nval b = 2\n```\n";
        assert_eq!(
            kotlin_blocks(markdown),
            vec![
                (false, "val a = 1\n".to_owned()),
                (true, "// Not compiled here: Context\n".to_owned()),
                (false, "val b = 2\n".to_owned())
            ]
        );
        assert!(kotlin_blocks("```kotlinx\nx\n```\n").is_empty());
    }
}

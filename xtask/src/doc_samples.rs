//! Swift code samples in the docs are compiled, so they cannot drift from the API: every
//! ```` ```swift ```` block of README.md and docs/*.md is type-checked against the modules of the
//! Swift package's build (the shell and the generated bindings).

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
    let root = paths::workspace_root();
    let mut files = vec![root.join("README.md")];
    paths::collect_files(&root.join("docs"), "md", &mut files)?;
    let mut samples = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
        for (index, code) in fenced_blocks(&text, "swift").into_iter().enumerate() {
            samples.push(Sample { origin: format!("{name} sample {}", index + 1), code });
        }
    }
    Ok(samples)
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
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match current.as_mut() {
            None if fence.strip_prefix("```").is_some_and(|tag| tag.trim() == language) => {
                current = Some(String::new());
            }
            None => {}
            Some(_) if fence.starts_with("```") => blocks.extend(current.take()),
            Some(block) => {
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
}

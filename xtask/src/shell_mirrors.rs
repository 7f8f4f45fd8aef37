//! The Swift shell is held to the Kotlin one: every Kotlin test class (`FooTest.kt`) has a Swift
//! mirror (`FooTests.swift`), so a feature tested on Android is tested on iOS too.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::{kotlin, paths, swift};

/// Fails, naming them, when Kotlin test classes have no Swift mirror.
pub fn check() -> Result<()> {
    let root = paths::workspace_root();
    let kotlin = file_names(&root.join(kotlin::SHELL_TEST), "kt")?;
    let swift = file_names(&root.join(swift::SHELL_TEST), "swift")?;
    let missing = missing_mirrors(&kotlin, &swift);
    if !missing.is_empty() {
        bail!(
            "Kotlin test classes without a Swift mirror in {}: {} (write {} there)",
            swift::SHELL_TEST,
            missing.iter().map(|(kt, _)| kt.as_str()).collect::<Vec<_>>().join(", "),
            missing.iter().map(|(_, swift)| swift.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// `(FooTest.kt, FooTests.swift)` for each Kotlin test class whose Swift mirror is missing.
pub fn missing_mirrors(kotlin_files: &[String], swift_files: &[String]) -> Vec<(String, String)> {
    kotlin_files
        .iter()
        .filter_map(|name| name.strip_suffix("Test.kt"))
        .filter(|stem| !stem.is_empty())
        .map(|stem| (format!("{stem}Test.kt"), format!("{stem}Tests.swift")))
        .filter(|(_, mirror)| !swift_files.contains(mirror))
        .collect()
}

fn file_names(dir: &Path, extension: &str) -> Result<Vec<String>> {
    let mut files: Vec<PathBuf> = Vec::new();
    paths::collect_files(dir, extension, &mut files)?;
    Ok(files.iter().filter_map(|f| f.file_name()).map(|n| n.to_string_lossy().into_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_kotlin_test_class_needs_its_swift_mirror() {
        let kotlin = names(&["CatalogTest.kt", "SyncTest.kt", "AccountFixture.kt", "RunTests.kt"]);
        let swift = names(&["CatalogTests.swift", "AccountFixture.swift"]);
        assert_eq!(
            missing_mirrors(&kotlin, &swift),
            vec![("SyncTest.kt".to_owned(), "SyncTests.swift".to_owned())]
        );
    }

    #[test]
    fn helpers_and_extra_swift_tests_are_not_mirrors() {
        let kotlin = names(&["TestCourses.kt", "Test.kt", "NotesTest.kt"]);
        let swift = names(&["NotesTests.swift", "SwiftOnlyTests.swift"]);
        assert!(missing_mirrors(&kotlin, &swift).is_empty());
        // A near miss is still missing: the mirror's name is exact.
        assert_eq!(missing_mirrors(&names(&["NotesTest.kt"]), &names(&["NoteTests.swift"])).len(), 1);
    }

    #[test]
    fn the_repository_s_shells_mirror_each_other() {
        check().unwrap();
    }
}

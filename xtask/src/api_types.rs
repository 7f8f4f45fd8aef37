//! A check on the generated bindings: the public API has no unsigned integers.
//!
//! Kotlin's `UInt`/`ULong`/`UByte` cannot be called from Java and do not mix with the `Long` an
//! app already holds (`runDownloads(9 * 60_000)` would not compile), so every count, size and
//! duration crosses the FFI as a signed `i32`/`i64`. UniFFI writes the public Kotlin API with
//! qualified names (`kotlin.ULong`), and its own plumbing without, so a qualified unsigned name
//! anywhere means an exported item slipped back. In Swift, record fields are checked (handles
//! and converters use `UInt64` internally).

use std::path::Path;

use anyhow::{Result, bail};

const KOTLIN_UNSIGNED: [&str; 4] = ["kotlin.UInt", "kotlin.ULong", "kotlin.UByte", "kotlin.UShort"];
const SWIFT_UNSIGNED: [&str; 4] = ["UInt8", "UInt16", "UInt32", "UInt64"];

/// Fails naming each public item of the generated bindings that uses an unsigned type.
pub fn check(kotlin_dir: &Path, swift_dir: &Path) -> Result<()> {
    let mut found = Vec::new();
    for file in files(kotlin_dir, "kt")? {
        let text = std::fs::read_to_string(&file)?;
        found.extend(kotlin_offenders(&text));
    }
    for file in files(swift_dir, "swift")? {
        let text = std::fs::read_to_string(&file)?;
        found.extend(swift_offenders(&text));
    }
    if !found.is_empty() {
        bail!(
            "the public API must not use unsigned integers (use i32/i64): {}",
            found.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" | ")
        );
    }
    Ok(())
}

fn kotlin_offenders(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| KOTLIN_UNSIGNED.iter().any(|t| contains_type(line, t)))
        .map(str::to_owned)
        .collect()
}

fn swift_offenders(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| {
            let l = line.trim_start();
            (l.starts_with("public let ") || l.starts_with("public var "))
                && SWIFT_UNSIGNED.iter().any(|t| contains_type(line, t))
        })
        .map(str::to_owned)
        .collect()
}

/// `name` as a whole type name in `line` (`kotlin.UInt` must not match inside `kotlin.UIntArray`).
fn contains_type(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(at, _)| {
        let next = line[at + name.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The generated `.extension` files under `dir`; none at all means generation went wrong.
fn files(dir: &Path, extension: &str) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    crate::paths::collect_files(dir, extension, &mut out)?;
    if out.is_empty() {
        bail!("no generated .{extension} file under {}", dir.display());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_unsigned_kotlin_type_is_found_and_uniffi_plumbing_is_not() {
        let generated =
            "    var `bytesTotal`: kotlin.ULong,\n    override fun allocationSize(value: String): ULong {\n";
        assert_eq!(kotlin_offenders(generated), vec!["    var `bytesTotal`: kotlin.ULong,".to_owned()]);
        assert!(kotlin_offenders("suspend fun `runDownloads`(`maxDurationMs`: kotlin.Long)").is_empty());
        assert_eq!(kotlin_offenders("fun f(`x`: kotlin.UByte?)").len(), 1);
        assert!(kotlin_offenders("val x: kotlin.UIntArray").is_empty());
    }

    #[test]
    fn a_public_unsigned_swift_field_is_found_and_handles_are_not() {
        assert_eq!(swift_offenders("    public let bytesTotal: UInt64\n").len(), 1);
        assert!(swift_offenders("    public let bytesTotal: Int64\n").is_empty());
        assert!(swift_offenders("    public func uniffiCloneHandle() -> UInt64 {\n").is_empty());
    }
}

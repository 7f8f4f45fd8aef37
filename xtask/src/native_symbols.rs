//! Split debug info: the library that ships is stripped, its debug info is kept apart for crash
//! symbolication. This runs the Android build's own split script
//! (android/split-debug-info.sh, with binutils' objcopy in place of the NDK's llvm-objcopy) on
//! the debug build of the core and checks what a symbolication service relies on: both files
//! carry the same build-id, the shipped one has no debug sections and no symbol table left, and
//! an address in the shipped library resolves to its source line through the debug file only.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{paths, tools};

const SPLIT_SCRIPT: &str = "android/split-debug-info.sh";
/// An exported function every build has: its address is looked up in both files.
const PROBE_SYMBOL: &str = "uniffi_satchel_core_fn_method_satchel_set_network";
/// Where that function is defined, as the debug info must say.
const PROBE_SOURCE: &str = "core/src/ffi/downloads.rs";

/// The two halves of a split library.
pub struct Split {
    /// The library as it ships (JNA loads it from this folder in the shrink check).
    pub stripped: PathBuf,
    pub debug: PathBuf,
}

/// Splits `library` into `out/stripped/` and `out/debug/` and checks the halves.
pub fn split_and_check(library: &Path, out: &Path) -> Result<Split> {
    tools::ensure_apt_packages(&["binutils"])?;
    let name = library.file_name().context("the library path has no file name")?;
    let split = Split {
        stripped: out.join("stripped").join(name),
        debug: out.join("debug").join(format!("{}.debug", name.to_string_lossy())),
    };
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    tools::run(
        Command::new("sh")
            .arg(paths::workspace_root().join(SPLIT_SCRIPT))
            .arg("objcopy")
            .arg(library)
            .arg(&split.stripped)
            .arg(&split.debug),
    )
    .context("the split script failed")?;
    check(&split)?;
    eprintln!(
        "xtask: split debug info: {} MB shipped, {} MB of symbols, one build-id",
        megabytes(&split.stripped)?,
        megabytes(&split.debug)?
    );
    Ok(split)
}

fn check(split: &Split) -> Result<()> {
    let shipped_id = build_id(&split.stripped)?;
    let debug_id = build_id(&split.debug)?;
    if shipped_id != debug_id {
        bail!("the stripped library's build-id {shipped_id} is not its debug file's {debug_id}");
    }
    let sections = output(Command::new("readelf").arg("-S").arg("-W").arg(&split.stripped))?;
    if let Some(line) = sections.lines().find(|l| l.contains(".debug_") || l.contains(" .symtab ")) {
        bail!("the shipped library still has {}", line.trim());
    }
    let address = exported_address(&split.stripped, PROBE_SYMBOL)?;
    let from_debug = output(Command::new("addr2line").arg("-e").arg(&split.debug).arg(&address))?;
    if !from_debug.contains(PROBE_SOURCE) {
        bail!(
            "{PROBE_SYMBOL} at {address} resolves to {from_debug:?} through the debug file, not {PROBE_SOURCE}"
        );
    }
    let from_shipped = output(Command::new("addr2line").arg("-e").arg(&split.stripped).arg(&address))?;
    if from_shipped.contains(PROBE_SOURCE) {
        bail!("the shipped library still maps addresses to source lines: it was not stripped");
    }
    Ok(())
}

/// The GNU build-id note, as hex.
fn build_id(file: &Path) -> Result<String> {
    let notes = output(Command::new("readelf").arg("-n").arg(file))?;
    notes
        .lines()
        .find_map(|line| line.trim().strip_prefix("Build ID: "))
        .map(|id| id.trim().to_owned())
        .with_context(|| {
            format!("{} has no build-id: the linker must be run with --build-id", file.display())
        })
}

/// The address of a dynamic symbol (what stays after stripping), as `0x…`.
fn exported_address(library: &Path, symbol: &str) -> Result<String> {
    let symbols = output(Command::new("nm").args(["-D", "--defined-only"]).arg(library))?;
    symbols
        .lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            let address = fields.next()?;
            let name = fields.nth(1)?;
            (name == symbol).then(|| format!("0x{address}"))
        })
        .with_context(|| format!("{} does not export {symbol}", library.display()))
}

fn output(command: &mut Command) -> Result<String> {
    let out = command.output().with_context(|| format!("cannot run {command:?}"))?;
    if !out.status.success() {
        bail!("{command:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn megabytes(file: &Path) -> Result<u64> {
    Ok(std::fs::metadata(file)?.len() / 1_000_000)
}

//! The Python the benchmarks measure with: a venv under the tools cache with `pystoi` (speech
//! intelligibility of the lite audio). A measuring tool only: nothing Satchel ships uses it.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{paths, tools};

/// pystoi from PyPI, pinned so the measure is the same on every machine.
const PYSTOI: &str = "pystoi==0.4.1";

/// The venv's python, made (once) with pystoi installed. The bench finds it through
/// `SATCHEL_BENCH_PYTHON`.
pub fn ensure() -> Result<PathBuf> {
    let venv = paths::tools_cache().join("bench-venv");
    let python = venv.join("bin/python");
    if imports_pystoi(&python) {
        return Ok(python);
    }
    eprintln!("xtask: making a Python venv with {PYSTOI} in {}", venv.display());
    // Debian ships venv's pip bootstrap (ensurepip) apart, in python3-venv.
    let can_make_venvs = || {
        Command::new("python3")
            .args(["-c", "import venv, ensurepip"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !can_make_venvs() {
        tools::ensure_apt_packages(&["python3", "python3-venv"])?;
        if !can_make_venvs() {
            bail!("python3 cannot make venvs even after installing python3-venv");
        }
    }
    tools::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
        .context("cannot make the bench's Python venv")?;
    tools::run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", PYSTOI]))
        .with_context(|| format!("pip could not install {PYSTOI}"))?;
    if !imports_pystoi(&python) {
        bail!("{PYSTOI} installed in {} but does not import", venv.display());
    }
    Ok(python)
}

fn imports_pystoi(python: &std::path::Path) -> bool {
    python.is_file()
        && Command::new(python).args(["-c", "import pystoi"]).output().is_ok_and(|o| o.status.success())
}

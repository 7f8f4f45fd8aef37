//! Installing and running the external tools the tests need. Every failure here is loud: a test
//! run that silently skipped the Kotlin tests would be a lie.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::paths;

/// Debian packages the tests use: JNA and JUnit for the Kotlin tests on the JVM; ffmpeg,
/// espeak-ng and a font to generate and package the sample course's lectures; nginx to serve the
/// packed course as an operator would; zstd for inspecting blobs.
const APT_PACKAGES: &[&str] = &[
    "libjna-java",
    "junit4",
    "default-jre-headless",
    "ffmpeg",
    "espeak-ng",
    "fonts-dejavu-core",
    "nginx",
    "zstd",
    "curl",
    // The rate-limited link test: network namespaces, tc and iptables.
    "iproute2",
    "iptables",
];

/// What the benchmarks add: aria2c is the resume peer, curl the throughput peer, tesseract reads
/// the lite slide stills to measure their legibility.
const BENCH_APT_PACKAGES: &[&str] =
    &["aria2", "curl", "ffmpeg", "espeak-ng", "fonts-dejavu-core", "tesseract-ocr", "tesseract-ocr-eng"];

/// The Kotlin compiler, from the npm registry (it ships the JVM compiler and its libraries).
const KOTLIN_NPM_PACKAGE: &str = "kotlin-compiler";
const KOTLIN_VERSION: &str = "2.4.20";

/// Paths of the tools a test run uses.
pub struct TestTools {
    /// The unpacked `kotlin-compiler` package: `bin/kotlinc-jvm`, `lib/*.jar`.
    pub kotlin_home: PathBuf,
    /// Jars from Debian: JNA, JUnit 4, Hamcrest.
    pub jars: Vec<PathBuf>,
}

pub fn ensure_test_tools() -> Result<TestTools> {
    ensure_apt_packages(APT_PACKAGES)?;
    for tool in ["ffmpeg", "ffprobe", "espeak-ng", "java"] {
        if Command::new(tool).arg("-version").output().is_err()
            && Command::new(tool).arg("--version").output().is_err()
        {
            bail!("{tool} is still missing after installing {APT_PACKAGES:?}");
        }
    }
    let kotlin_home = ensure_kotlin()?;
    let jars = ["jna.jar", "junit4.jar", "hamcrest-core.jar"]
        .iter()
        .map(|jar| {
            let path = Path::new("/usr/share/java").join(jar);
            if path.is_file() {
                Ok(path)
            } else {
                bail!("{} is missing after installing {APT_PACKAGES:?}", path.display())
            }
        })
        .collect::<Result<_>>()?;
    Ok(TestTools { kotlin_home, jars })
}

/// Installs what `cargo xtask bench` needs (the sample course is rendered with ffmpeg too).
pub fn ensure_bench_tools() -> Result<()> {
    ensure_apt_packages(BENCH_APT_PACKAGES)?;
    for tool in ["aria2c", "tesseract"] {
        if Command::new(tool).arg("--version").output().is_err() {
            bail!("{tool} is still missing after installing {BENCH_APT_PACKAGES:?}");
        }
    }
    Ok(())
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Installs the Debian packages of `packages` that are missing (apt-get, through sudo when not
/// root); fails if apt-get does.
pub fn ensure_apt_packages(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !is_installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing Debian packages {missing:?}");
    run(&mut apt_get(&["update", "-qq"])).context("apt-get update failed")?;
    let mut install = apt_get(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing).env("DEBIAN_FRONTEND", "noninteractive");
    run(&mut install).with_context(|| format!("cannot install {missing:?} with apt-get"))
}

/// `apt-get ARGS`, through sudo when we are not root.
fn apt_get(args: &[&str]) -> Command {
    let mut command = if is_root() {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    };
    command.args(args);
    command
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Installs the Kotlin compiler from npm into the tools cache, once.
fn ensure_kotlin() -> Result<PathBuf> {
    let prefix = paths::tools_cache().join(format!("kotlin-{KOTLIN_VERSION}"));
    let home = prefix.join("node_modules").join(KOTLIN_NPM_PACKAGE);
    if home.join("bin/kotlinc-jvm").is_file() {
        return Ok(home);
    }
    eprintln!("xtask: installing {KOTLIN_NPM_PACKAGE}@{KOTLIN_VERSION} from npm into {}", prefix.display());
    std::fs::create_dir_all(&prefix)?;
    if Command::new("npm").arg("--version").output().is_err() {
        ensure_apt_packages(&["npm"])?;
    }
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(format!("{KOTLIN_NPM_PACKAGE}@{KOTLIN_VERSION}")))
    .context("npm could not install the Kotlin compiler")?;
    if !home.join("bin/kotlinc-jvm").is_file() {
        bail!("{KOTLIN_NPM_PACKAGE} installed but {} is missing", home.join("bin/kotlinc-jvm").display());
    }
    Ok(home)
}

/// Runs cargo (the one running us) in the workspace root.
pub fn cargo(args: &[&str]) -> Result<()> {
    cargo_with_env(args, &[])
}

/// Runs cargo like [`cargo`], with extra environment variables for what it runs.
pub fn cargo_with_env(args: &[&str], envs: &[(&str, &std::ffi::OsStr)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(args).current_dir(paths::workspace_root());
    for (key, value) in envs {
        command.env(key, value);
    }
    run(&mut command)
}

/// Runs a command, inheriting stdio, and fails with its exit status.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

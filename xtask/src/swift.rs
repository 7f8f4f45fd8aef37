//! Compiling the iOS shell's Swift package (ios/) on Linux and running its XCTests against the
//! real core library, inside the Debian 13 chroot of swift_chroot.rs.
//!
//! The package is the one Apple platforms use; on Linux its manifest takes the core from the
//! host's debug cdylib through a `systemLibrary` target over the generated header. This lays the
//! generated files where the manifest expects them (gitignored, as build-xcframework.sh does on
//! macOS), builds with `-L` and an rpath to the library, then runs `swift test`, so XCTest's
//! `Executed N tests, with 0 failures` is the last line of its output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::bindings::Generated;
use crate::content::SampleServer;
use crate::swift_chroot::SwiftChroot;
use crate::{doc_samples, paths};

/// The Swift package.
const PACKAGE: &str = "ios";
/// Makes the XCFramework's modulemap from the generated one.
const APPLE_MODULEMAP: &str = "ios/apple-modulemap.sh";
/// The Swift shell's tests, each the mirror of a Kotlin test class.
pub const SHELL_TEST: &str = "ios/Tests/SatchelTests";

pub fn run_tests(chroot: &SwiftChroot, generated: &Generated, content: &SampleServer) -> Result<()> {
    let root = paths::workspace_root();
    let package = root.join(PACKAGE);
    lay_out_bindings(generated, &package)?;
    let target = paths::target_dir();
    let mut binds: Vec<&Path> = vec![&root];
    if !target.starts_with(&root) {
        binds.push(&target);
    }
    let build = SwiftBuild { chroot, binds, package, scratch: target.join("swift-build") };

    let started = Instant::now();
    eprintln!("xtask: building the Swift package {PACKAGE}/ in the chroot");
    run(&mut build.swift(&["build", "--build-tests"]), "the Swift package does not build")?;
    eprintln!("xtask: Swift build took {:.0} s", started.elapsed().as_secs_f64());
    build.typecheck_doc_samples()?;
    build.check_apple_modulemap(generated)?;

    let [token, other_token, logging_token] = &content.swift_sync_tokens;
    let mut test = build.swift(&["test", "--skip-build", "--disable-swift-testing"]);
    test.env("SATCHEL_CONTENT_URL", &content.base_url)
        .env("SATCHEL_PUBLISHER_KEY", &content.public_key)
        .env("SATCHEL_SYNC_TOKEN", token)
        .env("SATCHEL_OTHER_SYNC_TOKEN", other_token)
        .env("SATCHEL_LOGGING_SYNC_TOKEN", logging_token);
    // Nothing printed after XCTest's closing line but the phase table.
    let outcome = run(&mut test, "Swift tests failed");
    chroot.check_unmounted()?;
    outcome
}

/// Runs a command in the chroot with inherited output; its failure is one line that names what
/// failed, without the long `unshare … chroot …` command line or the tokens in its environment.
fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().context("cannot start unshare")?;
    if !status.success() {
        bail!("{what} ({status}; the output above says why)");
    }
    Ok(())
}

/// The generated Swift bindings into Sources/SatchelFFI/, their C header and modulemap into
/// Sources/SatchelFFIHeaders/ (the Linux manifest's system library). Files already up to date
/// are left alone, so their times do not change and SwiftPM does not recompile them.
fn lay_out_bindings(generated: &Generated, package: &Path) -> Result<()> {
    let swift_dir = package.join("Sources/SatchelFFI");
    let headers_dir = package.join("Sources/SatchelFFIHeaders");
    let from = &generated.swift_dir;
    let copies: [(PathBuf, PathBuf); 3] = [
        (from.join("SatchelFFI.swift"), swift_dir.join("SatchelFFI.swift")),
        (from.join("satchel_coreFFI.h"), headers_dir.join("satchel_coreFFI.h")),
        (from.join("satchel_coreFFI.modulemap"), headers_dir.join("module.modulemap")),
    ];
    for dir in [&swift_dir, &headers_dir] {
        std::fs::create_dir_all(dir)?;
    }
    for (source, dest) in &copies {
        let text =
            std::fs::read(source).with_context(|| format!("bindgen did not write {}", source.display()))?;
        let unchanged = std::fs::read(dest).is_ok_and(|old| old == text);
        if !unchanged {
            std::fs::write(dest, &text).with_context(|| format!("cannot write {}", dest.display()))?;
        }
    }
    Ok(())
}

/// `swift` commands on the package, inside the chroot, with the workspace bound at its own path
/// (so every path, the rpath included, is the same inside and out).
struct SwiftBuild<'a> {
    chroot: &'a SwiftChroot,
    binds: Vec<&'a Path>,
    package: PathBuf,
    scratch: PathBuf,
}

impl SwiftBuild<'_> {
    /// Type-checks each Swift sample of the docs against the modules just built.
    fn typecheck_doc_samples(&self) -> Result<()> {
        let samples = doc_samples::swift_samples()?;
        let files = doc_samples::write_samples(&samples, &paths::target_dir().join("swift-doc-samples"))?;
        let modules = self.scratch.join("debug/Modules");
        let headers = self.package.join("Sources/SatchelFFIHeaders");
        for (file, origin) in &files {
            let argv =
                ["swiftc", "-typecheck", "-I", &modules.to_string_lossy(), "-I", &headers.to_string_lossy()];
            let mut command = self.chroot.command(&argv, &self.binds);
            command.arg(file);
            run(&mut command, &format!("the Swift code in {origin} does not compile"))?;
        }
        eprintln!("xtask: the docs' Swift samples compile ({} of them)", files.len());
        Ok(())
    }

    /// The XCFramework's modulemap (ios/apple-modulemap.sh, as build-xcframework.sh makes it on
    /// macOS) names the frameworks the static library needs, and Swift's clang can import it.
    fn check_apple_modulemap(&self, generated: &Generated) -> Result<()> {
        let dir = paths::target_dir().join("apple-modulemap");
        std::fs::create_dir_all(&dir)?;
        let header = "satchel_coreFFI.h";
        std::fs::copy(generated.swift_dir.join(header), dir.join(header))?;
        let modulemap = dir.join("module.modulemap");
        crate::tools::run(
            Command::new("sh")
                .arg(paths::workspace_root().join(APPLE_MODULEMAP))
                .arg(generated.swift_dir.join("satchel_coreFFI.modulemap"))
                .arg(&modulemap),
        )
        .context("apple-modulemap.sh failed")?;
        let text = std::fs::read_to_string(&modulemap)?;
        for framework in ["Security", "CoreFoundation"] {
            if !text.contains(&format!("link framework \"{framework}\"")) {
                bail!("the XCFramework's modulemap does not link {framework}:\n{text}");
            }
        }
        let probe = dir.join("imports.swift");
        std::fs::write(&probe, "import SatchelFFIHeaders\n")?;
        let mut command =
            self.chroot.command(&["swiftc", "-typecheck", "-I", &dir.to_string_lossy()], &self.binds);
        command.arg(&probe);
        run(&mut command, "Swift's clang cannot read the XCFramework's modulemap")?;
        eprintln!("xtask: the XCFramework's modulemap links Security and CoreFoundation and imports");
        Ok(())
    }

    fn swift(&self, args: &[&str]) -> Command {
        let library_dir = paths::core_cdylib().parent().map(Path::to_path_buf).unwrap_or_default();
        let library_dir = library_dir.to_string_lossy();
        let package = self.package.to_string_lossy();
        let scratch = self.scratch.to_string_lossy();
        let mut argv = vec!["swift"];
        argv.extend_from_slice(args);
        argv.extend(["--package-path", &package, "--scratch-path", &scratch]);
        // The Debian 12 host's library loads under Debian 13's newer glibc; the rpath finds it
        // without LD_LIBRARY_PATH.
        let search = format!("-L{library_dir}");
        argv.extend(["-Xlinker", &search, "-Xlinker", "-rpath", "-Xlinker", &library_dir]);
        self.chroot.command(&argv, &self.binds)
    }
}

//! The consumer keep rules (android/satchel/consumer-rules.pro) checked with a real ProGuard:
//! the generated bindings, the shell and a small app entry point (ShrinkSmoke.kt) are shrunk
//! and obfuscated with those rules, then the app runs on the JVM against the shipped (stripped)
//! library. JNA reaches the bindings by reflection (the library interface's method names,
//! `Structure` fields, callback methods), so a missing rule shows as a failed run. Then each
//! `-keep` rule is left out in turn, and the run must fail: a rule it passes without is either
//! not needed or not tested, and both are worth knowing. A rule this cannot show (R8 renames
//! more than ProGuard) is marked `# Not provable here: <why>` in the rules file.
//!
//! R8 is not reachable here (Google Maven); ProGuard reads the same rule syntax. Debian's
//! ProGuard 6.2 reads class files up to Java 13, which is why kotlin.rs targets Java 11, and why
//! the JDK's own classes (Java 17) are given to it with their version lowered, as a library it
//! only reads for the class hierarchy.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::kotlin::Compiled;
use crate::{paths, tools};

const RULES: &str = "android/satchel/consumer-rules.pro";
const ENTRY_CLASS: &str = "org.satchel.shrink.ShrinkSmokeKt";
const SMOKE_OK: &str = "shrink smoke: ok";
/// The newest class file version ProGuard 6.2 reads (Java 13).
const MAX_CLASS_VERSION: u16 = 57;

pub fn check(compiled: &Compiled, library_dir: &Path) -> Result<()> {
    tools::ensure_apt_packages(&["proguard-cli", "openjdk-17-jdk-headless"])?;
    let out = paths::target_dir().join("proguard");
    std::fs::create_dir_all(&out)?;
    let jdk = jdk_library(&out)?;
    let rules = std::fs::read_to_string(paths::workspace_root().join(RULES))
        .with_context(|| format!("cannot read {RULES}"))?;
    let shrink = Shrink { compiled, jdk, out, library_dir };

    let jar = shrink.run(&rules, "all")?;
    let (ok, log) = shrink.smoke(&jar)?;
    if !ok {
        bail!("the app shrunk with {RULES} fails against the library:\n{log}");
    }
    let mapping = std::fs::read_to_string(shrink.out.join("all.mapping"))?;
    let renamed = mapping
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.trim_end_matches(':').split_once(" -> "))
        .filter(|(from, to)| from != to)
        .count();
    if renamed == 0 {
        bail!("ProGuard renamed no class: the check would not notice a missing keep rule");
    }

    let keeps = keep_rules(&rules);
    for (index, rule) in keeps.iter().filter(|r| !r.exempt).enumerate() {
        let without: String = rules.lines().filter(|l| *l != rule.line).map(|l| format!("{l}\n")).collect();
        let jar = shrink.run(&without, &format!("without{index}"))?;
        if shrink.smoke(&jar)?.0 {
            bail!(
                "the shrunk app works without `{}` of {RULES}: drop the rule, test what it keeps, or say above it why it cannot be shown here (`{EXEMPT}`)",
                rule.line
            );
        }
    }
    let exempt = keeps.iter().filter(|r| r.exempt).count();
    eprintln!(
        "xtask: ProGuard with {RULES}: the shrunk app ({renamed} classes renamed) runs against the stripped library, and fails without any one of {} keep rules ({exempt} more marked `{EXEMPT}`)",
        keeps.len() - exempt
    );
    Ok(())
}

/// The comment that exempts the rule below it from the necessity check, with its reason.
const EXEMPT: &str = "# Not provable here:";

struct KeepRule<'a> {
    line: &'a str,
    exempt: bool,
}

/// The `-keep…` lines of `rules`; exempt when the comment block above contains [`EXEMPT`].
fn keep_rules(rules: &str) -> Vec<KeepRule<'_>> {
    let mut out = Vec::new();
    let mut exempt = false;
    for line in rules.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("-keep") {
            out.push(KeepRule { line, exempt });
            exempt = false;
        } else if trimmed.starts_with(EXEMPT) {
            exempt = true;
        } else if trimmed.is_empty() {
            exempt = false;
        }
    }
    out
}

struct Shrink<'a> {
    compiled: &'a Compiled,
    jdk: PathBuf,
    out: PathBuf,
    library_dir: &'a Path,
}

impl Shrink<'_> {
    /// Shrinks and obfuscates with `rules` into `out/<name>.jar`.
    fn run(&self, rules: &str, name: &str) -> Result<PathBuf> {
        let jar = self.out.join(format!("{name}.jar"));
        let rules_file = self.out.join(format!("{name}.pro"));
        let without_versions = "(!META-INF/versions/**,!module-info.class)";
        let c = self.compiled;
        let config = format!(
            "-injars {main}\n\
             -injars {test}(org/satchel/shrink/**)\n\
             -injars {jna}{without_versions}\n\
             -outjars {jar}\n\
             -libraryjars {stdlib}{without_versions}\n\
             -libraryjars {coroutines}{without_versions}\n\
             -libraryjars {annotations}\n\
             -libraryjars {jdk}\n\
             -printmapping {mapping}\n\
             # The app's own entry point, as an app's manifest keeps its activities.\n\
             -keep class {ENTRY_CLASS} {{ public static void main(java.lang.String[]); }}\n\
             # JNA's optional integrations with desktop Java, absent on Android too.\n\
             -dontwarn java.awt.**,javax.swing.**\n\
             -dontnote **\n\
             {rules}\n",
            main = c.main.display(),
            test = c.test.display(),
            jna = c.jna.display(),
            jar = jar.display(),
            stdlib = c.stdlib.display(),
            coroutines = c.coroutines.display(),
            annotations = c.annotations.display(),
            jdk = self.jdk.display(),
            mapping = self.out.join(format!("{name}.mapping")).display(),
        );
        std::fs::write(&rules_file, config)?;
        let log = self.out.join(format!("{name}.log"));
        let status = Command::new("proguard")
            .arg(format!("@{}", rules_file.display()))
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(self.out.join(format!("{name}.err")))?)
            .status()
            .context("cannot start proguard")?;
        if !status.success() {
            let err = std::fs::read_to_string(self.out.join(format!("{name}.err"))).unwrap_or_default();
            bail!("proguard failed on {} ({status}):\n{err}", rules_file.display());
        }
        Ok(jar)
    }

    /// Runs the shrunk app; true when it printed its closing line and exited 0.
    fn smoke(&self, jar: &Path) -> Result<(bool, String)> {
        let classpath = std::env::join_paths([jar, &self.compiled.stdlib, &self.compiled.coroutines])
            .context("classpath")?;
        let output = Command::new("java")
            .arg(format!("-Djna.library.path={}", self.library_dir.display()))
            .arg("-classpath")
            .arg(classpath)
            .arg(ENTRY_CLASS)
            .output()
            .context("cannot start java")?;
        let text =
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        Ok((output.status.success() && text.contains(SMOKE_OK), text))
    }
}

/// The JDK modules the bindings and JNA use (java.util.logging is JNA's; Android has both).
const JDK_MODULES: &[&str] = &["java.base", "java.logging"];

/// The classes of [`JDK_MODULES`] with their class file version lowered to what ProGuard reads,
/// made once per JDK under `out/jdk-<version>/`.
fn jdk_library(out: &Path) -> Result<PathBuf> {
    let java_home = java_home()?;
    let release = std::fs::read_to_string(java_home.join("release")).unwrap_or_default();
    let version = release
        .lines()
        .find_map(|l| l.strip_prefix("JAVA_VERSION="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".into());
    let dir = out.join(format!("jdk-{version}"));
    let done = dir.join(".complete");
    if done.is_file() {
        return Ok(dir.join("classes"));
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let extracted = dir.join("extracted");
    for module in JDK_MODULES {
        let jmod = java_home.join(format!("jmods/{module}.jmod"));
        if !jmod.is_file() {
            bail!("{} is missing: the JDK's jmods come with openjdk-17-jdk-headless", jmod.display());
        }
        tools::run(
            Command::new(java_home.join("bin/jmod")).arg("extract").arg("--dir").arg(&extracted).arg(&jmod),
        )
        .with_context(|| format!("jmod cannot extract {module}"))?;
    }
    let mut classes = Vec::new();
    paths::collect_files(&extracted.join("classes"), "class", &mut classes)?;
    let mut lowered = 0;
    for class in &classes {
        let mut bytes = std::fs::read(class)?;
        if bytes.len() > 8 && bytes[..4] == [0xca, 0xfe, 0xba, 0xbe] {
            let major = u16::from_be_bytes([bytes[6], bytes[7]]);
            if major > MAX_CLASS_VERSION {
                bytes[6..8].copy_from_slice(&MAX_CLASS_VERSION.to_be_bytes());
                std::fs::write(class, &bytes)?;
                lowered += 1;
            }
        }
    }
    if lowered == 0 {
        bail!("no class of {} needed lowering: is this the JDK expected?", java_home.display());
    }
    std::fs::rename(extracted.join("classes"), dir.join("classes"))?;
    std::fs::remove_dir_all(&extracted)?;
    std::fs::write(&done, "")?;
    Ok(dir.join("classes"))
}

fn java_home() -> Result<PathBuf> {
    let out = Command::new("java")
        .args(["-XshowSettings:properties", "-version"])
        .output()
        .context("cannot run java")?;
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("java.home = "))
        .map(PathBuf::from)
        .context("java did not say its java.home")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_above_a_rule_exempts_only_that_rule() {
        let rules = "# why\n-keep class a.** { *; }\n\n# Not provable here: R8 only\n# more\n-keep class b.** { *; }\n-keepattributes X\n";
        let keeps = keep_rules(rules);
        let seen: Vec<(&str, bool)> = keeps.iter().map(|k| (k.line, k.exempt)).collect();
        assert_eq!(
            seen,
            vec![
                ("-keep class a.** { *; }", false),
                ("-keep class b.** { *; }", true),
                ("-keepattributes X", false)
            ]
        );
    }
}

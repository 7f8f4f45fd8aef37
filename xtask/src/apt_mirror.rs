//! Finding the Debian mirror this machine's apt uses, so the Swift chroot is bootstrapped from
//! the same place as every other install (a machine that reaches only its configured mirror can
//! still build the chroot).

use std::path::Path;

use anyhow::{Result, bail};

/// Overrides the mirror read from apt's sources, e.g. on an Ubuntu host.
pub const MIRROR_ENV: &str = "SATCHEL_DEBIAN_MIRROR";

/// One `deb` entry of apt's sources: where, and which suites.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    uri: String,
    suites: Vec<String>,
}

/// The mirror to bootstrap from: `SATCHEL_DEBIAN_MIRROR`, else the first `deb` source in
/// /etc/apt that carries the host's own release (not its -security or -updates suites).
pub fn debian_mirror() -> Result<String> {
    if let Some(mirror) = std::env::var_os(MIRROR_ENV) {
        return Ok(mirror.to_string_lossy().into_owned());
    }
    let codename = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| os_release_codename(&text))
        .unwrap_or_default();
    let mut sources = Vec::new();
    let list = Path::new("/etc/apt/sources.list");
    if list.is_file() {
        sources.push((list.to_path_buf(), std::fs::read_to_string(list)?));
    }
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let is_source = path.extension().is_some_and(|e| e == "list" || e == "sources");
            if is_source && path.is_file() {
                let text = std::fs::read_to_string(&path)?;
                sources.push((path, text));
            }
        }
    }
    let mut entries = Vec::new();
    for (path, text) in &sources {
        if path.extension().is_some_and(|e| e == "sources") {
            entries.extend(parse_deb822(text));
        } else {
            entries.extend(parse_one_line(text));
        }
    }
    match pick_mirror(&entries, &codename) {
        Some(uri) => Ok(uri),
        None => bail!(
            "no Debian mirror for {codename:?} in /etc/apt/sources.list or /etc/apt/sources.list.d; \
             set {MIRROR_ENV} to one (e.g. http://deb.debian.org/debian)"
        ),
    }
}

/// `VERSION_CODENAME=bookworm` → `bookworm`.
fn os_release_codename(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("VERSION_CODENAME="))
        .map(|value| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// The release's own suite first; failing that any source whose path ends in `/debian`.
fn pick_mirror(entries: &[Entry], codename: &str) -> Option<String> {
    let release = entries.iter().find(|e| !codename.is_empty() && e.suites.iter().any(|s| s == codename));
    let fallback = || entries.iter().find(|e| e.uri.trim_end_matches('/').ends_with("/debian"));
    release.or_else(fallback).map(|e| e.uri.trim_end_matches('/').to_owned())
}

/// The one-line format: `deb [options] URI SUITE COMPONENT…`.
fn parse_one_line(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some(rest) = line.strip_prefix("deb ").or_else(|| line.strip_prefix("deb\t")) else { continue };
        let mut rest = rest.trim_start();
        if rest.starts_with('[') {
            let Some(end) = rest.find(']') else { continue };
            rest = rest[end + 1..].trim_start();
        }
        let mut words = rest.split_whitespace();
        if let (Some(uri), Some(suite)) = (words.next(), words.next()) {
            entries.push(Entry { uri: uri.to_owned(), suites: vec![suite.to_owned()] });
        }
    }
    entries
}

/// The deb822 format (`*.sources`): stanzas of `Field: value` lines separated by blank lines.
fn parse_deb822(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| -> Option<String> {
            stanza.lines().filter(|line| !line.trim_start().starts_with('#')).find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
            })
        };
        let is_deb = field("Types").is_some_and(|types| types.split_whitespace().any(|t| t == "deb"));
        let enabled = field("Enabled").is_none_or(|value| !value.eq_ignore_ascii_case("no"));
        let (Some(uris), Some(suites)) = (field("URIs"), field("Suites")) else { continue };
        if !is_deb || !enabled {
            continue;
        }
        let suites: Vec<String> = suites.split_whitespace().map(str::to_owned).collect();
        for uri in uris.split_whitespace() {
            entries.push(Entry { uri: uri.to_owned(), suites: suites.clone() });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEB822: &str = "\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
";

    #[test]
    fn the_release_suite_of_a_deb822_file_is_the_mirror() {
        let entries = parse_deb822(DEB822);
        assert_eq!(entries.len(), 2);
        assert_eq!(pick_mirror(&entries, "bookworm").as_deref(), Some("http://deb.debian.org/debian"));
    }

    #[test]
    fn security_and_foreign_sources_are_not_taken_for_the_mirror() {
        let text = "\
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
";
        let mut entries = parse_deb822(text);
        assert_eq!(pick_mirror(&entries, "bookworm"), None);
        entries.extend(parse_one_line(
            "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n",
        ));
        assert_eq!(pick_mirror(&entries, "bookworm").as_deref(), Some("http://mirror.example/debian"));
    }

    #[test]
    fn one_line_sources_skip_comments_and_deb_src() {
        let text = "\
# deb http://old.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb http://ftp.example/debian bookworm main contrib # the main archive
";
        let entries = parse_one_line(text);
        assert_eq!(
            entries,
            vec![Entry { uri: "http://ftp.example/debian".into(), suites: vec!["bookworm".into()] }]
        );
    }

    #[test]
    fn a_disabled_stanza_is_ignored() {
        let text = "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n";
        assert!(parse_deb822(text).is_empty());
    }

    #[test]
    fn without_the_codename_a_debian_path_is_the_fallback() {
        let entries = parse_one_line("deb http://x.example/pub/debian trixie main\n");
        assert_eq!(pick_mirror(&entries, "").as_deref(), Some("http://x.example/pub/debian"));
        assert_eq!(
            os_release_codename("NAME=x\nVERSION_CODENAME=\"bookworm\"\n").as_deref(),
            Some("bookworm")
        );
        assert_eq!(os_release_codename("NAME=x\n"), None);
    }
}

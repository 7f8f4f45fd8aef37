//! Reading the kernel's mount table (`/proc/self/mountinfo`): before a chroot is deleted and
//! after a run, nothing may be mounted inside it.

use std::path::Path;

use anyhow::{Context, Result};

/// The mount points at or below `root` in this process's mount namespace.
pub fn mounted_under(root: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").context("cannot read /proc/self/mountinfo")?;
    Ok(mounts_under(&text, root))
}

/// Mount points at or below `root` in a `/proc/self/mountinfo` text (field 5, octal-escaped).
pub fn mounts_under(mountinfo: &str, root: &Path) -> Vec<String> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mountinfo)
        .filter(|point| Path::new(point).starts_with(root))
        .collect()
}

/// `\040` → space, as the kernel escapes space, tab, newline and backslash.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(digits)) => {
                out.push(digits.iter().fold(0u8, |n, d| n.wrapping_mul(8).wrapping_add(d - b'0')));
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_under_the_root_are_found_and_unescaped() {
        let mountinfo = "\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
98 22 0:5 / /cache/swift\\040trixie/proc rw - proc proc rw
99 22 254:0 /work /cache/swift\\040trixie/work rw - ext4 /dev/vda rw
100 22 0:6 / /cache/swift\\040trixie-other rw - tmpfs tmpfs rw
";
        let root = Path::new("/cache/swift trixie");
        assert_eq!(
            mounts_under(mountinfo, root),
            vec!["/cache/swift trixie/proc", "/cache/swift trixie/work"]
        );
        assert!(mounts_under(mountinfo, Path::new("/elsewhere")).is_empty());
    }
}

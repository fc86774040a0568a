//! The version Syft gives a main module the build information calls `(devel)` (every `go build`
//! of a checked-out module before Go 1.24), tried in Syft's order:
//! 1. a `-X <main or module package>.<...>version=1.2.3`-like `-ldflags` setting;
//! 2. the first semantic version in the binary's bytes that sits between NULs (`\0v1.2.3\0`,
//!    optionally after a byte that is not valid UTF-8, or after two bytes the second being `L`),
//!    a heuristic that can pick up any such string in the program's data;
//! 3. a pseudo-version `v0.0.0-<vcs.time>-<vcs.revision[:12]>` from the VCS build settings.

use regex::bytes::Regex;

use super::buildinfo::BuildInfo;

/// The version-like assignments Syft looks for in `-ldflags`, after the package prefix.
const LDFLAG_PATTERNS: [&str; 2] = [
    r"(?m)\.[a-zA-Z0-9]*([rR]elease)?([gG]it)?([bB]uild)?[vV]er(sion)?=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*)",
    r"(?m)\.[a-zA-Z0-9]*([tT]ag)=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*)",
];

/// The version to give the main module, before the `v` prefix is ensured.
pub(super) fn main_module_version(info: &BuildInfo, content: &[u8]) -> Option<String> {
    let setting = |key: &str| info.settings.iter().find(|(found, _)| found == key).map(|(_, value)| value.as_str());
    if let Some(version) = setting("-ldflags").and_then(|ldflags| version_in_ldflags(ldflags, &info.main.path)) {
        return Some(version);
    }
    if let Some(version) = version_in_contents(content) {
        return Some(version.to_owned());
    }
    let (revision, time) = (setting("vcs.revision")?, setting("vcs.time")?);
    Some(pseudo_version(revision, time))
}

/// A pattern anchored on `main` or a package of the main module (whose path Syft puts into the
/// pattern with only `/` escaped, so its dots match any character, as in Syft).
fn ldflag_pattern(module: &str, assignment: &str) -> Option<Regex> {
    Regex::new(&format!(r"(?-u)(main|{}\/[^\s]*){assignment}", module.replace('/', r"\/"))).ok()
}

/// The version an `-ldflags` value sets, with a `v` prefix.
fn version_in_ldflags(ldflags: &str, module: &str) -> Option<String> {
    LDFLAG_PATTERNS.iter().filter_map(|pattern| ldflag_pattern(module, pattern)).find_map(|pattern| {
        let version = pattern.captures(ldflags.as_bytes())?.name("version")?;
        let version = String::from_utf8_lossy(version.as_bytes());
        Some(if version.starts_with('v') { version.into_owned() } else { format!("v{version}") })
    })
}

/// The first version Syft's content pattern `(\x00|\x{FFFD})(.L)?(v?\d+\.\d+\.\d+[-\w]*[+\w]*)\x00`
/// finds, read as Go's regexp reads a string: rune by rune, each byte that does not start valid
/// UTF-8 being one U+FFFD.
fn version_in_contents(content: &[u8]) -> Option<&str> {
    let mut position = 0;
    while position < content.len() {
        let (rune, width) = rune_at(content, position);
        if rune == '\0' || rune == '\u{fffd}' {
            let after = position + width;
            // `(.L)?` is greedy: with it first, then without.
            if after < content.len() {
                let (next, next_width) = rune_at(content, after);
                if next != '\n' && content.get(after + next_width) == Some(&b'L') {
                    if let Some(version) = version_at(content, after + next_width + 1) {
                        return Some(version);
                    }
                }
            }
            if let Some(version) = version_at(content, after) {
                return Some(version);
            }
        }
        position += width;
    }
    None
}

/// The rune at `position` and its width, as Go's `utf8.DecodeRune` gives them.
fn rune_at(content: &[u8], position: usize) -> (char, usize) {
    let first = content[position];
    if first < 0x80 {
        return (char::from(first), 1);
    }
    let width = match first {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return ('\u{fffd}', 1),
    };
    match content.get(position..position + width).and_then(|bytes| std::str::from_utf8(bytes).ok()).and_then(|text| text.chars().next()) {
        Some(rune) => (rune, width),
        None => ('\u{fffd}', 1),
    }
}

/// `v?\d+\.\d+\.\d+[-\w]*[+\w]*` from `start`, followed by a NUL.
fn version_at(content: &[u8], start: usize) -> Option<&str> {
    let rest = content.get(start..)?;
    let mut index = usize::from(rest.first() == Some(&b'v'));
    for part in 0..3 {
        let digits = rest[index..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        index += digits;
        if part < 2 {
            if rest.get(index) != Some(&b'.') {
                return None;
            }
            index += 1;
        }
    }
    let word = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'_';
    index += rest[index..].iter().take_while(|byte| word(byte) || **byte == b'-').count();
    index += rest[index..].iter().take_while(|byte| word(byte) || **byte == b'+').count();
    if rest.get(index) != Some(&0) {
        return None;
    }
    std::str::from_utf8(&rest[..index]).ok()
}

/// Go's `module.PseudoVersion("", "", time, revision[:12])`: `v0.0.0-20240102030405-abcdef123456`;
/// a time that is not RFC 3339 is Go's zero time, as in Syft.
fn pseudo_version(revision: &str, time: &str) -> String {
    let stamp = time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
        .map(|time| time.to_offset(time::UtcOffset::UTC))
        .map(|time| {
            format!("{:04}{:02}{:02}{:02}{:02}{:02}", time.year(), u8::from(time.month()), time.day(), time.hour(), time.minute(), time.second())
        })
        .unwrap_or_else(|_| "00010101000000".to_owned());
    let short = revision.get(..12).unwrap_or(revision);
    format!("v0.0.0-{stamp}-{short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldflags_set_by_main_or_a_package_of_the_module() {
        assert_eq!(version_in_ldflags("-X main.version=3.4.5 -s -w", "example.com/app").as_deref(), Some("v3.4.5"));
        assert_eq!(version_in_ldflags("-X example.com/app/internal/build.Version=v1.2.3-rc.1", "example.com/app").as_deref(), Some("v1.2.3-rc"));
        assert_eq!(version_in_ldflags("-X main.gitTag=releases/2.0.1", "example.com/app").as_deref(), Some("v2.0.1"));
        assert_eq!(version_in_ldflags("-X other.com/lib.Version=1.2.3", "example.com/app"), None);
        assert_eq!(version_in_ldflags("-s -w", "example.com/app"), None);
    }

    #[test]
    fn versions_between_nuls_in_the_contents() {
        assert_eq!(version_in_contents(b"abc\x00v1.2.3\x00rest"), Some("v1.2.3"));
        assert_eq!(version_in_contents(b"\x001.2\x00\xff1.20.3-beta+meta\x00"), Some("1.20.3-beta+meta"));
        assert_eq!(version_in_contents(b"\x00\x07L2.0.0\x00"), Some("2.0.0"));
        // A valid two-byte character is one rune, not a U+FFFD.
        assert_eq!(version_in_contents("é1.0.0\x00".as_bytes()), None);
        assert_eq!(version_in_contents(b"\x001.0.0+a-b\x00"), None);
        assert_eq!(version_in_contents(b"plain text 1.2.3 without nuls"), None);
    }

    #[test]
    fn pseudo_versions_from_vcs_settings() {
        assert_eq!(pseudo_version("1bb1b475c6507a4c270a31847d5469868c1e7b71", "2026-12-04T03:58:40Z"), "v0.0.0-20261204035840-1bb1b475c650");
        assert_eq!(pseudo_version("abc", "2024-01-02T03:04:05+02:00"), "v0.0.0-20240102010405-abc");
        assert_eq!(pseudo_version("abc", "yesterday"), "v0.0.0-00010101000000-abc");
    }
}

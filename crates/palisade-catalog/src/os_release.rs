//! The operating system: `/etc/os-release` and the older release files, each one
//! [`Fact::Distro`] ranked in the order Syft 1.18.1 uses them (`/etc/os-release`,
//! `/usr/lib/os-release`, `/etc/redhat-release`, `/etc/system-release-cpe`), then the files
//! Syft does not read, for filesystems that have none of those.
//!
//! Syft lists `/etc/system-release-cpe` before `/etc/redhat-release`, but its CPE pattern ends
//! in `$` without multi-line mode and so never matches a file that ends with a newline: in
//! effect CentOS 6 is `centos` 6.10 from `redhat-release`. The CPE file is read correctly here
//! and ranked after `redhat-release`, so the result is Syft's.
//!
//! Difference from Syft, on purpose: `os-release` values are unquoted as the os-release
//! specification (shell syntax) says; Syft keeps single quotes (`ID='debian'` is `'debian'`
//! there) unless the value also holds a double quote, and then strips every quote at both ends.

use palisade_pkg::Distro;

use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Release files are a few hundred bytes; anything far larger is not one.
const RELEASE_FILE_LIMIT: u64 = 64 * 1024;

/// Problems reported for one file before the rest are only counted.
const ISSUES_PER_FILE: usize = 20;

/// The release files, best first; the index is the fact's rank.
const RELEASE_FILES: [(&str, ReleaseFormat); 8] = [
    ("/etc/os-release", ReleaseFormat::OsRelease),
    ("/usr/lib/os-release", ReleaseFormat::OsRelease),
    ("/etc/redhat-release", ReleaseFormat::RedHat),
    ("/etc/system-release-cpe", ReleaseFormat::Cpe),
    ("/etc/centos-release", ReleaseFormat::RedHat),
    ("/etc/system-release", ReleaseFormat::RedHat),
    ("/etc/alpine-release", ReleaseFormat::Alpine),
    ("/etc/debian_version", ReleaseFormat::Debian),
];

#[derive(Clone, Copy, Debug)]
enum ReleaseFormat {
    /// `KEY=value` lines in shell syntax.
    OsRelease,
    /// `cpe:/o:centos:linux:6:GA`.
    Cpe,
    /// `CentOS release 6.10 (Final)`.
    RedHat,
    /// `3.19.1`.
    Alpine,
    /// `12.4`, or `trixie/sid` on testing and unstable.
    Debian,
}

/// Reads the distribution from the release files.
pub struct OsReleaseCataloger;

impl Cataloger for OsReleaseCataloger {
    fn name(&self) -> &'static str {
        "os-release"
    }

    fn scopes(&self) -> &'static [Scope] {
        &[Scope::Image, Scope::Directory]
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        RELEASE_FILES.iter().any(|(file, _)| *file == path).then_some(Want::Content { limit: RELEASE_FILE_LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let Some((rank, format)) = RELEASE_FILES.iter().enumerate().find(|(_, (file, _))| *file == path).map(|(rank, (_, format))| (rank, *format)) else {
            return Ok(Vec::new());
        };
        let text = String::from_utf8_lossy(content);
        let distro = match format {
            ReleaseFormat::OsRelease => parse_os_release(&text),
            ReleaseFormat::Cpe => parse_system_release_cpe(&text),
            ReleaseFormat::RedHat => parse_redhat_release(&text),
            ReleaseFormat::Alpine => parse_alpine_release(&text),
            ReleaseFormat::Debian => parse_debian_version(&text),
        };
        match distro {
            Some(distro) => Ok(vec![Fact::Distro { rank: rank as u8, distro }]),
            None => Err("no distribution named in this release file".to_owned()),
        }
    }
}

/// The keys Syft reads from os-release; a file with none of them set names no distribution.
const OS_RELEASE_KEYS: [&str; 18] = [
    "PRETTY_NAME",
    "NAME",
    "ID",
    "ID_LIKE",
    "VERSION",
    "VERSION_ID",
    "VERSION_CODENAME",
    "BUILD_ID",
    "IMAGE_ID",
    "IMAGE_VERSION",
    "VARIANT",
    "VARIANT_ID",
    "HOME_URL",
    "SUPPORT_URL",
    "BUG_REPORT_URL",
    "PRIVACY_POLICY_URL",
    "CPE_NAME",
    "SUPPORT_END",
];

fn parse_os_release(text: &str) -> Option<Distro> {
    let mut values: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim();
        let value = unquote_shell_value(value.trim());
        // A later assignment overrides an earlier one, as when the file is sourced.
        values.retain(|(known, _)| *known != key);
        values.push((key, value));
    }
    let value = |key: &str| values.iter().find(|(known, _)| *known == key).map(|(_, value)| value.as_str()).filter(|value| !value.is_empty());
    if OS_RELEASE_KEYS.iter().all(|key| value(key).is_none()) {
        return None;
    }
    Some(Distro {
        id: value("ID").unwrap_or_default().to_owned(),
        version_id: value("VERSION_ID").map(str::to_owned),
        version_codename: value("VERSION_CODENAME").map(str::to_owned),
        pretty_name: value("PRETTY_NAME").map(str::to_owned),
        id_like: value("ID_LIKE").map(|like| like.split_whitespace().map(str::to_owned).collect()).unwrap_or_default(),
        location: None,
    })
}

/// One os-release value in shell syntax: `"double quoted \" \\ \$ \`"`, `'single quoted'`,
/// unquoted with backslash escapes, or several of these side by side. An unterminated quote
/// runs to the end of the line.
fn unquote_shell_value(raw: &str) -> String {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut value = String::with_capacity(raw.len());
    let mut quote = Quote::None;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (&quote, c) {
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::Double, '"') | (Quote::Single, '\'') => quote = Quote::None,
            (Quote::None, '\\') => value.extend(chars.next()),
            (Quote::Double, '\\') => match chars.next() {
                Some(escaped @ ('"' | '\\' | '$' | '`')) => value.push(escaped),
                Some(other) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            },
            (_, c) => value.push(c),
        }
    }
    value
}

/// `cpe:/o:VENDOR:PRODUCT:VERSION[:…]`: the vendor is the id, as in Syft.
fn parse_system_release_cpe(text: &str) -> Option<Distro> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("cpe:/o:")?;
        let mut parts = rest.split(':');
        let vendor = parts.next().filter(|vendor| !vendor.is_empty())?;
        let _product = parts.next()?;
        let version = parts.next().filter(|version| !version.is_empty())?;
        Some(simple_distro(vendor, version))
    })
}

/// `NAME release MAJOR.MINOR…`: the name, lower-cased, is the id, as in Syft
/// (`Red Hat Enterprise Linux release 8.9 (Ootpa)` is `red hat enterprise linux` 8.9); Syft's
/// pattern wants one digit, a dot and digits after `release`.
fn parse_redhat_release(text: &str) -> Option<Distro> {
    text.lines().find_map(|line| {
        let mut search_from = 0;
        while let Some(found) = line[search_from..].find("release") {
            let start = search_from + found;
            search_from = start + "release".len();
            let before = &line[..start];
            let after = &line[search_from..];
            let Some(name) = before.strip_suffix(|c: char| c.is_ascii_whitespace()) else { continue };
            let Some(version) = after.strip_prefix(|c: char| c.is_ascii_whitespace()).and_then(leading_major_minor) else { continue };
            let mut distro = simple_distro(&name.to_lowercase(), version);
            distro.pretty_name = Some(name.to_owned());
            return Some(distro);
        }
        None
    })
}

/// `D.DD…` at the start of `text` (one digit before the dot).
fn leading_major_minor(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    if bytes.len() < 3 || !bytes[0].is_ascii_digit() || bytes[1] != b'.' || !bytes[2].is_ascii_digit() {
        return None;
    }
    let end = 2 + bytes[2..].iter().take_while(|b| b.is_ascii_digit()).count();
    Some(&text[..end])
}

fn parse_alpine_release(text: &str) -> Option<Distro> {
    let version = text.lines().next()?.trim();
    if version.is_empty() {
        return None;
    }
    Some(Distro {
        id: "alpine".to_owned(),
        version_id: Some(version.to_owned()),
        pretty_name: Some(format!("Alpine Linux v{version}")),
        ..Distro::default()
    })
}

/// `12.4` is Debian 12 (os-release's `VERSION_ID` is the major release only); `trixie/sid`
/// names the next release's codename and no version.
fn parse_debian_version(text: &str) -> Option<Distro> {
    let version = text.lines().next()?.trim();
    if version.is_empty() {
        return None;
    }
    let major = version.split('.').next().filter(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()));
    let codename = match major {
        Some(_) => None,
        None => version.split('/').next().filter(|codename| codename.bytes().all(|b| b.is_ascii_lowercase())),
    };
    Some(Distro {
        id: "debian".to_owned(),
        version_id: major.map(str::to_owned),
        version_codename: codename.map(str::to_owned),
        pretty_name: Some(format!("Debian GNU/Linux {version}")),
        ..Distro::default()
    })
}

/// A distribution named by one word and a version, as Syft makes it from the older files.
fn simple_distro(id: &str, version: &str) -> Distro {
    Distro {
        id: id.to_owned(),
        version_id: Some(version.to_owned()),
        pretty_name: Some(id.to_owned()),
        id_like: vec![id.to_owned()],
        ..Distro::default()
    }
}

/// The named problems of one file, the first [`ISSUES_PER_FILE`] in full and the rest counted,
/// so that a file of garbage gives a short report.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    listed: Vec<String>,
    unlisted: usize,
}

impl Problems {
    pub(crate) fn add(&mut self, message: String) {
        if self.listed.len() < ISSUES_PER_FILE {
            self.listed.push(message);
        } else {
            self.unlisted += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// Bridges the OS catalogers, which collect facts and problems side by side, to
    /// [`Cataloger::parse`]: what was found wins over what went wrong, and a file with nothing
    /// found is an error that names its problems.
    pub(crate) fn into_result(self, facts: Vec<Fact>) -> Result<Vec<Fact>, String> {
        if !facts.is_empty() || self.is_empty() {
            return Ok(facts);
        }
        Err(self.into_messages().join("; "))
    }

    pub(crate) fn into_messages(mut self) -> Vec<String> {
        if self.unlisted > 0 {
            self.listed.push(format!("and {} more problems", self.unlisted));
        }
        self.listed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Result<Vec<Fact>, String> {
        OsReleaseCataloger.parse(path, text.as_bytes())
    }

    fn distro(path: &str, text: &str) -> (u8, Distro) {
        match parse(path, text).expect("a distribution").as_slice() {
            [Fact::Distro { rank, distro }] => (*rank, distro.clone()),
            other => panic!("unexpected facts {other:?}"),
        }
    }

    #[test]
    fn debian_os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n";
        let (rank, found) = distro("/etc/os-release", text);
        assert_eq!(rank, 0);
        assert_eq!(found.id, "debian");
        assert_eq!(found.version_id.as_deref(), Some("12"));
        assert_eq!(found.version_codename.as_deref(), Some("bookworm"));
        assert_eq!(found.pretty_name.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert!(found.id_like.is_empty());
        assert_eq!(distro("/usr/lib/os-release", text).0, 1);
    }

    #[test]
    fn sid_has_no_version_id() {
        // Syft 1.18.1 reads no other file when os-release names a distribution, so Debian
        // testing/unstable purls say `distro=debian`; /etc/debian_version (`trixie/sid`) only
        // counts when there is no os-release.
        let (_, found) = distro("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=trixie\nID=debian\n");
        assert_eq!(found.version_id, None);
        let (rank, found) = distro("/etc/debian_version", "trixie/sid\n");
        assert_eq!((rank, found.id.as_str(), found.version_id, found.version_codename.as_deref()), (7, "debian", None, Some("trixie")));
        let (_, found) = distro("/etc/debian_version", "12.4\n");
        assert_eq!(found.version_id.as_deref(), Some("12"));
    }

    #[test]
    fn shell_quoting() {
        let text = "ID='debian'\nVERSION_ID=\"3.19.1\"\nPRETTY_NAME='Debian \"x\"'\nVERSION_CODENAME=\"a\\\"b\\\\c\\$d\"\nID_LIKE=\" rhel  fedora \"\n# ID=ignored\nNAME=Debian GNU  \n";
        let (_, found) = distro("/etc/os-release", text);
        // Syft: id `'debian'`, pretty name `Debian "x`.
        assert_eq!(found.id, "debian");
        assert_eq!(found.version_id.as_deref(), Some("3.19.1"));
        assert_eq!(found.pretty_name.as_deref(), Some("Debian \"x\""));
        assert_eq!(found.version_codename.as_deref(), Some("a\"b\\c$d"));
        assert_eq!(found.id_like, ["rhel", "fedora"]);
        assert_eq!(unquote_shell_value(r#"a\ b"c d"'e f'"#), "a bc de f");
        assert_eq!(unquote_shell_value(r#""\n""#), "\\n");
        assert_eq!(unquote_shell_value("\"unterminated"), "unterminated");
        assert_eq!(unquote_shell_value("trailing\\"), "trailing");
    }

    #[test]
    fn later_assignments_win_and_empty_files_name_nothing() {
        assert_eq!(distro("/etc/os-release", "ID=a\nID=b\n").1.id, "b");
        assert!(parse("/etc/os-release", "ANSI_COLOR=\"1;31\"\n\n# comment\n").is_err());
        assert!(parse("/etc/os-release", "").is_err());
    }

    #[test]
    fn older_release_files_as_syft_reads_them() {
        let (rank, found) = distro("/etc/redhat-release", "Red Hat Enterprise Linux release 8.9 (Ootpa)\n");
        assert_eq!(rank, 2);
        assert_eq!(found.id, "red hat enterprise linux");
        assert_eq!(found.version_id.as_deref(), Some("8.9"));
        assert_eq!(found.pretty_name.as_deref(), Some("Red Hat Enterprise Linux"));
        assert_eq!(found.id_like, ["red hat enterprise linux"]);
        let (_, found) = distro("/etc/centos-release", "CentOS release 6.10 (Final)\n");
        assert_eq!((found.id.as_str(), found.version_id.as_deref()), ("centos", Some("6.10")));
        assert!(parse("/etc/redhat-release", "CentOS Stream release 10\n").is_err());

        let (rank, found) = distro("/etc/system-release-cpe", "cpe:/o:centos:linux:6:GA\n");
        assert_eq!((rank, found.id.as_str(), found.version_id.as_deref()), (3, "centos", Some("6")));

        let (rank, found) = distro("/etc/alpine-release", "3.19.1\n");
        assert_eq!((rank, found.id.as_str(), found.version_id.as_deref()), (6, "alpine", Some("3.19.1")));
    }

    #[test]
    fn only_release_files_are_wanted() {
        let meta = FileMeta { size: 10, mode: 0o644 };
        assert!(OsReleaseCataloger.wants("/etc/os-release", &meta).is_some());
        assert!(OsReleaseCataloger.wants("/usr/lib/os-release", &meta).is_some());
        assert!(OsReleaseCataloger.wants("/etc/os-release.bak", &meta).is_none());
        assert!(OsReleaseCataloger.wants("/srv/etc/os-release", &meta).is_none());
    }

    #[test]
    fn hostile_release_files_do_not_panic() {
        let garbage: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        for (path, _) in RELEASE_FILES {
            let _ = OsReleaseCataloger.parse(path, &garbage);
            let _ = OsReleaseCataloger.parse(path, "release\u{e9}release 1.\nrelease".as_bytes());
        }
        let (_, found) = distro("/etc/os-release", "ID=deb\u{fffd}ian\nVERSION_ID=\"\\");
        assert_eq!(found.id, "deb\u{fffd}ian");
    }

    #[test]
    fn problems_are_capped() {
        let mut problems = Problems::default();
        for line in 0..25 {
            problems.add(format!("line {line}: bad"));
        }
        let messages = problems.into_messages();
        assert_eq!(messages.len(), ISSUES_PER_FILE + 1);
        assert_eq!(messages.last().map(String::as_str), Some("and 5 more problems"));
    }
}

//! Go module and Go toolchain version ordering.
//!
//! Follows `golang.org/x/mod/semver` (<https://github.com/golang/mod>, `semver/semver.go`:
//! `parse`, `Compare`, `Canonical`): `vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]`, where a
//! missing minor or patch is `0` (`v1` = `v1.0` = `v1.0.0`), pre-release and build are allowed
//! only after a full `MAJOR.MINOR.PATCH`, build metadata is ignored, and all invalid strings
//! compare equal to each other and below every valid version. Pseudo-versions
//! (`v1.2.4-0.20060102150405-abcdef123456`) order as the pre-releases they are.
//!
//! Two spellings are accepted besides Go's own `v1.2.3`, so that versions from any source meet:
//! - OSV's `Go` ecosystem writes versions without the `v` (`1.2.3`), as does the `go` line of
//!   go.mod (`1.21`); a string without a leading `v` is read as if it had one.
//! - Go toolchain tags, as `runtime.Version()` and a binary's build info give them
//!   (`go1.21.3`, `go1.21rc2`, `go1.9beta1`), are read as golang.org/x/vuln's
//!   `GoTagToSemver` reads them (`internal/semver/semver.go` in
//!   <https://github.com/golang/vuln>): `go1.21rc2` is `v1.21.0-rc.2`, `go1.21` is `v1.21.0`,
//!   `go1` is `v1.0.0`, text after the first space (`go1.21.3 X:boringcrypto`) is dropped. A
//!   bare `1.21rc2` (go.mod before Go 1.21 writes no patch) is read as `go1.21rc2` too.
//!
//! Compare allocates nothing.

use std::cmp::Ordering;

/// How `a` orders against `b` as `semver.Compare` orders Go versions, accepting `1.2.3`,
/// `v1.2.3` and `go1.2.3` alike.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => compare_number(a.major, b.major)
            .then_with(|| compare_number(a.minor, b.minor))
            .then_with(|| compare_number(a.patch, b.patch))
            .then_with(|| compare_prerelease(&a.prerelease, &b.prerelease)),
    }
}

/// Whether `version` is a valid Go version in any of the accepted spellings.
pub fn is_valid(version: &str) -> bool {
    parse(version).is_some()
}

/// The canonical form `semver.Canonical` gives (`v1.2` → `v1.2.0`, build metadata dropped),
/// for any accepted spelling (`1.2` → `v1.2.0`, `go1.21rc2` → `v1.21.0-rc.2`); `None` when
/// invalid.
pub fn canonical(version: &str) -> Option<String> {
    let parsed = parse(version)?;
    let mut canonical = format!("v{}.{}.{}", parsed.major, parsed.minor, parsed.patch);
    for (i, identifier) in parsed.prerelease.identifiers().enumerate() {
        canonical.push(if i == 0 { '-' } else { '.' });
        canonical.push_str(identifier);
    }
    Some(canonical)
}

struct Parsed<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    prerelease: Prerelease<'a>,
}

/// A pre-release: the dotted identifiers after `-` in a semantic version, or the kind and
/// number of a toolchain tag's pre-release (`rc2` → `rc`, `2`).
enum Prerelease<'a> {
    Dotted(&'a str),
    Tag(&'a str, &'a str),
}

impl<'a> Prerelease<'a> {
    fn identifiers(&self) -> impl Iterator<Item = &'a str> {
        let (tag, dotted) = match *self {
            Prerelease::Tag(kind, number) => (Some([kind, number]), ""),
            Prerelease::Dotted(dotted) => (None, dotted),
        };
        tag.into_iter().flatten().chain(dotted.split('.').filter(move |_| !dotted.is_empty()))
    }

    fn is_empty(&self) -> bool {
        matches!(self, Prerelease::Dotted(""))
    }
}

fn parse(version: &str) -> Option<Parsed<'_>> {
    if let Some(semver) = version.strip_prefix('v') {
        parse_semver(semver)
    } else if let Some(tag) = version.strip_prefix("go") {
        // `strings.Fields(tag)[0]`: build info may append experiments (`go1.21.3 X:...`).
        parse_go_tag(tag.split(|c: char| c.is_ascii_whitespace()).next().unwrap_or_default())
    } else {
        parse_semver(version).or_else(|| parse_go_tag(version))
    }
}

/// x/mod's `parse`, after the `v`.
fn parse_semver(version: &str) -> Option<Parsed<'_>> {
    let (major, rest) = take_number(version)?;
    let Some(rest) = rest.strip_prefix('.') else {
        return rest.is_empty().then_some(Parsed { major, minor: "0", patch: "0", prerelease: Prerelease::Dotted("") });
    };
    let (minor, rest) = take_number(rest)?;
    let Some(rest) = rest.strip_prefix('.') else {
        return rest.is_empty().then_some(Parsed { major, minor, patch: "0", prerelease: Prerelease::Dotted("") });
    };
    let (patch, rest) = take_number(rest)?;
    let (prerelease, build) = match rest.find('+') {
        Some(plus) => (&rest[..plus], Some(&rest[plus + 1..])),
        None => (rest, None),
    };
    let prerelease = match prerelease.strip_prefix('-') {
        Some(dotted) if dotted.split('.').all(|identifier| is_identifier(identifier) && !is_number_with_leading_zero(identifier)) => dotted,
        Some(_) => return None,
        None if prerelease.is_empty() => "",
        None => return None,
    };
    if build.is_some_and(|build| !build.split('.').all(is_identifier)) {
        return None;
    }
    Some(Parsed { major, minor, patch, prerelease: Prerelease::Dotted(prerelease) })
}

/// x/vuln's `GoTagToSemver` (without the `go`): `MAJOR.MINOR[.PATCH][(beta|rc|-pre)N]`.
fn parse_go_tag(tag: &str) -> Option<Parsed<'_>> {
    match tag {
        "1" => return Some(Parsed { major: "1", minor: "0", patch: "0", prerelease: Prerelease::Dotted("") }),
        "1.0" => return None,
        _ => {}
    }
    let (major, rest) = take_digits(tag)?;
    let (minor, rest) = take_digits(rest.strip_prefix('.')?)?;
    let (patch, rest) = match rest.strip_prefix('.') {
        Some(rest) => take_digits(rest)?,
        None => ("0", rest),
    };
    let prerelease = if rest.is_empty() {
        Prerelease::Dotted("")
    } else {
        let kind = ["beta", "rc", "-pre"].into_iter().find(|kind| rest.starts_with(kind))?;
        let (number, rest) = take_digits(&rest[kind.len()..])?;
        if !rest.is_empty() || is_number_with_leading_zero(number) {
            return None;
        }
        Prerelease::Tag(kind.trim_start_matches('-'), number)
    };
    // The result must be a valid semantic version, which rules out leading zeros.
    if [major, minor, patch].into_iter().any(is_number_with_leading_zero) {
        return None;
    }
    Some(Parsed { major, minor, patch, prerelease })
}

/// A run of ASCII digits at the start of `s`, and what follows it.
fn take_digits(s: &str) -> Option<(&str, &str)> {
    let len = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    (len > 0).then(|| s.split_at(len))
}

/// x/mod's `parseInt`: digits without a leading zero (except `0` itself).
fn take_number(s: &str) -> Option<(&str, &str)> {
    take_digits(s).filter(|(number, _)| !is_number_with_leading_zero(number))
}

fn is_number_with_leading_zero(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_number(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// Two numbers without leading zeros: the longer is larger.
fn compare_number(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// x/mod's `comparePrerelease`: no pre-release sorts last; identifiers compare numerically
/// when both are numbers, numbers before words, words in ASCII order; a prefix sorts first.
fn compare_prerelease(a: &Prerelease, b: &Prerelease) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let (mut a, mut b) = (a.identifiers(), b.identifiers());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (is_number(x), is_number(y)) {
                    (true, true) => compare_number(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn osv_spelling_without_v_equals_go_spelling() {
        assert_eq!(compare("1.2.3", "v1.2.3"), Equal);
        assert_eq!(compare("0.0.0-20230101120000-abcdef123456", "v0.0.0-20230101120000-abcdef123456"), Equal);
        assert_eq!(compare("1.2.3", "v1.2.4"), Less);
        assert_eq!(compare("v2.0.0+incompatible", "2.0.0"), Equal);
        assert!(is_valid("1.2.3") && is_valid("v1.2.3"));
    }

    #[test]
    fn toolchain_tags_read_as_x_vuln_reads_them() {
        assert_eq!(compare("go1.21.3", "1.21.3"), Equal);
        assert_eq!(compare("go1.21", "1.21.0"), Equal);
        assert_eq!(compare("1.21", "1.21.0"), Equal);
        assert_eq!(compare("go1.21rc2", "1.21.0-rc.2"), Equal);
        assert_eq!(compare("go1.21rc2", "go1.21.0"), Less);
        assert_eq!(compare("go1.21rc2", "go1.21rc10"), Less);
        assert_eq!(compare("go1.9beta2", "go1.9rc1"), Less);
        assert_eq!(compare("go1.22.1 X:boringcrypto", "1.22.1"), Equal);
        assert_eq!(compare("1.21rc2", "v1.21.0-rc.2"), Equal);
        assert_eq!(canonical("go1.21rc2").as_deref(), Some("v1.21.0-rc.2"));
        assert_eq!(canonical("go1.8-pre3").as_deref(), Some("v1.8.0-pre.3"));
        assert_eq!(canonical("go1").as_deref(), Some("v1.0.0"));
        assert_eq!(canonical("go1.0"), None);
        assert_eq!(canonical("go1.21.3"), Some("v1.21.3".into()));
        assert_eq!(canonical("devel go1.22-abcdef"), None);
        assert_eq!(canonical("1.22 foo"), None, "only a go tag drops what follows a space");
    }

    #[test]
    fn pseudo_versions_sit_between_their_base_and_the_next_release() {
        let pseudo = "v1.2.4-0.20191109021931-daa7c04131f5";
        assert_eq!(compare("v1.2.3", pseudo), Less);
        assert_eq!(compare(pseudo, "v1.2.4"), Less);
        assert_eq!(compare(pseudo, "v1.2.4-0.20200101000000-aaaaaaaaaaaa"), Less);
    }

    #[test]
    fn invalid_strings_are_equal_and_sort_first() {
        assert_eq!(compare("bad", "v1.2-pre"), Equal);
        assert_eq!(compare("bad", "0.0.0"), Less);
        for s in ["", "v", "go", "go1.", "v01.2.3", "1.2.3-", "1.2.3+", "1.2.3-01", "\u{e9}", "go1.21rc01", "go01.2"] {
            assert!(!is_valid(s), "{s:?}");
            assert_eq!(compare(s, "bad"), Equal, "{s:?}");
        }
    }
}

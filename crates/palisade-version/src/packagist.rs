//! Packagist (Composer) versions, ordered as OSV orders them (osv-scalibr
//! `semantic/version-packagist.go`, PHP's `version_compare` after Composer drops a leading
//! `v`): `-`, `_`, `+` become dots, digits and letters split apart, numbers compare by value,
//! words by their special-form prefix (`dev` < `a` < `b` < `RC`/`rc` < `#` < `p`; other words
//! weigh as `dev`), a number above a word.

use std::cmp::Ordering;
use std::sync::LazyLock;

use regex::Regex;

use crate::semver::compare_decimal;

/// How `a` orders against `b`; any string is ordered.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (canonical(a), canonical(b));
    compare_components(&a.split('.').collect::<Vec<_>>(), &b.split('.').collect::<Vec<_>>())
}

/// Whether Composer's `VersionParser::normalize` accepts `version`: a classical version (up to
/// four numbers), a date version, each with an optional stability suffix, a `dev-` branch or a
/// `1.x-dev` branch alias; build metadata after `+` ignored.
pub fn is_valid(version: &str) -> bool {
    static FORMS: LazyLock<[Regex; 4]> = LazyLock::new(|| {
        let modifier = r"[._-]?(?:(?:stable|beta|b|RC|alpha|a|patch|pl|p)(?:(?:[.-]?[0-9]+)*)?)?(?:[.-]?dev)?";
        [
            format!(r"(?i)^v?[0-9]{{1,5}}(?:\.[0-9]+)?(?:\.[0-9]+)?(?:\.[0-9]+)?{modifier}$"),
            format!(r"(?i)^v?[0-9]{{4}}(?:[.:-]?[0-9]{{2}}){{1,6}}(?:[.:-]?[0-9]{{1,3}}){{0,2}}{modifier}$"),
            r"(?i)^dev-.+$".to_owned(),
            r"(?i)^v?[0-9]+(?:\.(?:[0-9]+|[x*]))?(?:\.(?:[0-9]+|[x*]))?(?:\.(?:[0-9]+|[x*]))?[.-]?dev$".to_owned(),
        ]
        .map(|source| Regex::new(&source).expect("Composer's version forms compile"))
    });
    let version = version.trim();
    let version = match version.split_once('+') {
        Some((head, build)) if !head.is_empty() && !build.is_empty() && !build.contains(char::is_whitespace) => head,
        _ => version,
    };
    !version.is_empty() && FORMS.iter().any(|form| form.is_match(version))
}

/// `canonicalizePackagistVersion`: the components joined by dots.
fn canonical(version: &str) -> String {
    let version = version.strip_prefix('v').unwrap_or(version);
    let version = version.strip_prefix('V').unwrap_or(version);
    let mut out = String::with_capacity(version.len() + 4);
    let mut previous: Option<char> = None;
    for c in version.chars() {
        let c = if matches!(c, '-' | '_' | '+') { '.' } else { c };
        if let Some(p) = previous {
            if p != '.' && c != '.' && p.is_ascii_digit() != c.is_ascii_digit() {
                out.push('.');
            }
        }
        out.push(c);
        previous = Some(c);
    }
    out
}

/// The weight of a word by its special-form prefix.
fn special_weight(word: &str) -> u8 {
    if word.starts_with("RC") {
        return 3;
    }
    ["dev", "a", "b", "rc", "#", "p"].iter().position(|special| word.starts_with(special)).map_or(0, |i| i as u8)
}

fn is_number(component: &str) -> bool {
    !component.is_empty() && component.bytes().all(|b| b.is_ascii_digit())
}

/// Go's `strconv.Atoi` succeeds: digits within a 64-bit signed integer.
fn fits_int(component: &str) -> bool {
    is_number(component) && component.parse::<i64>().is_ok()
}

fn compare_components(a: &[&str], b: &[&str]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (is_number(x), is_number(y)) {
            (true, true) => compare_decimal(x, y),
            (false, false) => special_weight(x).cmp(&special_weight(y)),
            (true, false) => special_weight("#").cmp(&special_weight(y)),
            (false, true) => special_weight(x).cmp(&special_weight("#")),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    match a.len().cmp(&b.len()) {
        Ordering::Equal => Ordering::Equal,
        // The longer side wins with a number next, else its rest weighs against `#`.
        Ordering::Greater if fits_int(a[b.len()]) => Ordering::Greater,
        Ordering::Greater => compare_components(&a[b.len()..], &["#"]),
        Ordering::Less if fits_int(b[a.len()]) => Ordering::Less,
        Ordering::Less => compare_components(&["#"], &b[a.len()..]),
    }
}

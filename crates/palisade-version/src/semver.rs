//! SemVer 2.0 as npm orders it, and npm's range language.
//!
//! Two entry points serve two callers:
//! - [`compare`] orders OSV `SEMVER` ranges and the npm, crates.io, Hex and Pub ecosystems. It
//!   follows SemVer 2.0 precedence as OSV's own parser (osv-scalibr `semantic`) applies it, which
//!   also orders strings node-semver rejects (numbers beyond 2^53, more than three components),
//!   and it accepts node-semver's loose prefixes (`v`, `=`, spaces).
//! - [`Version`], [`Range`], [`satisfies`], [`outside`] and [`valid_range`] are node-semver 7
//!   (`classes/semver.js`, `classes/range.js`, `classes/comparator.js`, `ranges/outside.js`),
//!   ported with its regular expressions (`internal/re.js`, in their length-bounded "safe"
//!   form) so that every range desugars to the same canonical comparators.

use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// node-semver's `MAX_LENGTH`: longer version strings are rejected.
const MAX_LENGTH: usize = 256;
/// JavaScript's `Number.MAX_SAFE_INTEGER`, node-semver's bound on numeric fields.
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// How `a` orders against `b` by SemVer 2.0 precedence (build metadata ignored); any string is
/// ordered, as OSV orders it.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_semver_like(a, b, 3, false)
}

/// osv-scalibr's "semver-like" ordering: `components` numeric components (the rest join the
/// pre-release), pre-release identifiers compared as SemVer does, optionally ignoring ASCII case
/// (NuGet).
pub(crate) fn compare_semver_like(a: &str, b: &str, components: usize, ignore_case: bool) -> Ordering {
    Lenient::parse(a, components).compare(&Lenient::parse(b, components), ignore_case)
}

/// Whether node-semver's strict parser accepts `version` (`semver.valid(version) !== null`).
pub fn is_valid(version: &str) -> bool {
    Version::parse(version, Options::default()).is_some()
}

// ---------------------------------------------------------------------------------------------
// OSV's lenient ordering

/// A version as osv-scalibr's `parseSemverLike` splits it: numeric components up to the first
/// character that is neither a digit nor a dot, the rest being the "build" (pre-release and
/// metadata). Components past the scheme's count (3, NuGet 4) join the pre-release, as OSV does.
struct Lenient<'a> {
    main: [&'a str; 4],
    /// The components past the counted ones (dot-separated digits).
    extra: &'a str,
    /// The pre-release identifiers: the build up to `+`, one leading `-` removed.
    prerelease: &'a str,
    /// Whether a `+` ends the pre-release (OSV then drops the extra components with it).
    has_metadata: bool,
}

impl<'a> Lenient<'a> {
    fn parse(version: &'a str, components: usize) -> Self {
        // node-semver's loose prefix `[v=\s]*`; OSV itself strips one `v`.
        let text = version.trim().trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace());
        let build_start = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let numeric = &text[..build_start];
        let mut main = [""; 4];
        let mut extra = "";
        let mut count = 0;
        let mut position = 0;
        for component in numeric.split('.') {
            if !component.is_empty() {
                if count < components.min(4) {
                    main[count] = component;
                } else if extra.is_empty() {
                    extra = &numeric[position..];
                }
                count += 1;
            }
            position += component.len() + 1;
        }
        let build = &text[build_start..];
        let (before_plus, has_metadata) = match build.find('+') {
            Some(plus) => (&build[..plus], true),
            None => (build, false),
        };
        let prerelease = before_plus.strip_prefix('-').unwrap_or(before_plus);
        Lenient { main, extra, prerelease, has_metadata }
    }

    fn has_prerelease(&self) -> bool {
        !self.prerelease.is_empty() || (!self.has_metadata && !self.extra.is_empty())
    }

    fn identifiers(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let extra = if self.has_metadata { "" } else { self.extra };
        self.prerelease.split('.').chain(extra.split('.').filter(|part| !part.is_empty()))
    }
}

impl Lenient<'_> {
    fn compare(&self, other: &Self, ignore_case: bool) -> Ordering {
        for (a, b) in self.main.iter().zip(&other.main) {
            let order = compare_decimal(a, b);
            if order != Ordering::Equal {
                return order;
            }
        }
        match (self.has_prerelease(), other.has_prerelease()) {
            (false, false) => return Ordering::Equal,
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            (true, true) => {}
        }
        let (mut mine, mut theirs) = (self.identifiers(), other.identifiers());
        loop {
            match (mine.next(), theirs.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(a), Some(b)) => {
                    let order = compare_identifier(a, b, ignore_case);
                    if order != Ordering::Equal {
                        return order;
                    }
                }
            }
        }
    }
}

fn is_numeric(identifier: &str) -> bool {
    !identifier.is_empty() && identifier.bytes().all(|b| b.is_ascii_digit())
}

/// Numeric identifiers by value (any length), below alphanumeric ones, which compare as ASCII.
fn compare_identifier(a: &str, b: &str, ignore_case: bool) -> Ordering {
    match (is_numeric(a), is_numeric(b)) {
        (true, true) => compare_decimal(a, b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) if ignore_case => a.bytes().map(|b| b.to_ascii_lowercase()).cmp(b.bytes().map(|b| b.to_ascii_lowercase())),
        (false, false) => a.cmp(b),
    }
}

/// Two digit strings by value, without a size limit; the empty string is zero.
pub(crate) fn compare_decimal(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

// ---------------------------------------------------------------------------------------------
// node-semver

/// node-semver's `options`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Accept `v`/`=` prefixes, leading zeros and pre-releases without `-`.
    pub loose: bool,
    /// Let ranges match pre-releases of any version.
    pub include_prerelease: bool,
}

impl Options {
    pub const LOOSE: Options = Options { loose: true, include_prerelease: false };
    pub const INCLUDE_PRERELEASE: Options = Options { loose: false, include_prerelease: true };
}

/// A pre-release identifier as node-semver keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identifier {
    /// All digits and below 2^53 − 1.
    Numeric(u64),
    Text(String),
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(n) => write!(f, "{n}"),
            Identifier::Text(text) => f.write_str(text),
        }
    }
}

impl Identifier {
    fn as_decimal(&self) -> Option<String> {
        match self {
            Identifier::Numeric(n) => Some(n.to_string()),
            Identifier::Text(text) if is_numeric(text) => Some(text.clone()),
            Identifier::Text(_) => None,
        }
    }

    /// `internal/identifiers.js` `compareIdentifiers`.
    fn compare(&self, other: &Self) -> Ordering {
        if let (Identifier::Numeric(a), Identifier::Numeric(b)) = (self, other) {
            return a.cmp(b);
        }
        match (self.as_decimal(), other.as_decimal()) {
            (Some(a), Some(b)) => compare_decimal(&a, &b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.to_string().cmp(&other.to_string()),
        }
    }
}

/// A version parsed as node-semver's `SemVer` class parses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub prerelease: Vec<Identifier>,
    pub build: Vec<String>,
}

impl Version {
    /// `semver.parse(version, options)`: `None` where node-semver throws.
    pub fn parse(version: &str, options: Options) -> Option<Version> {
        if version.encode_utf16().count() > MAX_LENGTH {
            return None;
        }
        let pattern = if options.loose { &PATTERNS.loose } else { &PATTERNS.full };
        let captures = pattern.captures(version.trim())?;
        let field = |i: usize| captures.get(i).map(|m| m.as_str()).and_then(safe_integer);
        let prerelease = match captures.get(4) {
            Some(m) if !m.as_str().is_empty() => m
                .as_str()
                .split('.')
                .map(|id| match id.parse::<u64>() {
                    Ok(n) if is_numeric(id) && n < MAX_SAFE_INTEGER => Identifier::Numeric(n),
                    _ => Identifier::Text(id.to_owned()),
                })
                .collect(),
            _ => Vec::new(),
        };
        let build = match captures.get(5) {
            Some(m) if !m.as_str().is_empty() => m.as_str().split('.').map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        Some(Version { major: field(1)?, minor: field(2)?, patch: field(3)?, prerelease, build })
    }

    /// `SemVer.compare`: main version, then pre-release; build metadata ignored.
    pub fn compare(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch)).then_with(|| {
            match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.prerelease.iter().zip(&other.prerelease) {
                        if a != b {
                            let order = a.compare(b);
                            if order != Ordering::Equal {
                                return order;
                            }
                        }
                    }
                    self.prerelease.len().cmp(&other.prerelease.len())
                }
            }
        })
    }
}

/// `SemVer.format()`: the version without build metadata.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, identifier) in self.prerelease.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{identifier}")?;
        }
        Ok(())
    }
}

/// A numeric field as JavaScript's `+text` reads it, refused above `MAX_SAFE_INTEGER`.
fn safe_integer(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| *n <= MAX_SAFE_INTEGER)
}

/// Why a range is not a valid npm range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeError {
    pub range: String,
    pub reason: String,
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid npm range {:?}: {}", self.range, self.reason)
    }
}

impl std::error::Error for RangeError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Operator {
    fn holds(self, order: Ordering) -> bool {
        match self {
            Operator::Equal => order == Ordering::Equal,
            Operator::Less => order == Ordering::Less,
            Operator::LessOrEqual => order != Ordering::Greater,
            Operator::Greater => order == Ordering::Greater,
            Operator::GreaterOrEqual => order != Ordering::Less,
        }
    }
}

/// One comparator: `>=1.2.3`, or "any" (`semver: None`).
#[derive(Clone, Debug)]
struct Comparator {
    operator: Operator,
    semver: Option<Version>,
    /// node-semver's `comparator.value`: operator and formatted version, `""` for any.
    value: String,
}

impl Comparator {
    fn parse(comp: &str, options: Options) -> Result<Comparator, String> {
        let comp = split_whitespace(comp.trim()).collect::<Vec<_>>().join(" ");
        let pattern = if options.loose { &PATTERNS.comparator_loose } else { &PATTERNS.comparator };
        let captures = pattern.captures(&comp).ok_or_else(|| format!("invalid comparator {comp:?}"))?;
        let operator_text = captures.get(1).map_or("", |m| m.as_str());
        let operator = match operator_text {
            "<" => Operator::Less,
            "<=" => Operator::LessOrEqual,
            ">" => Operator::Greater,
            ">=" => Operator::GreaterOrEqual,
            _ => Operator::Equal,
        };
        let Some(version) = captures.get(2).map(|m| m.as_str()).filter(|v| !v.is_empty()) else {
            return Ok(Comparator { operator, semver: None, value: String::new() });
        };
        let semver = Version::parse(version, Options { loose: options.loose, include_prerelease: false })
            .ok_or_else(|| format!("invalid version {version:?}"))?;
        let prefix = if operator == Operator::Equal { "" } else { operator_text };
        let value = format!("{prefix}{semver}");
        Ok(Comparator { operator, semver: Some(semver), value })
    }

    fn is_null_set(&self) -> bool {
        self.value == "<0.0.0-0"
    }

    fn is_any(&self) -> bool {
        self.value.is_empty()
    }

    fn test(&self, version: &Version) -> bool {
        match &self.semver {
            None => true,
            Some(semver) => self.operator.holds(version.compare(semver)),
        }
    }
}

/// An npm range (`^1.2.3 || >=2.0.0-beta <3`), parsed as node-semver's `Range` class.
#[derive(Clone, Debug)]
pub struct Range {
    set: Vec<Vec<Comparator>>,
    options: Options,
}

impl Range {
    /// `new Range(range, options)`; `Err` where node-semver throws.
    pub fn parse(range: &str, options: Options) -> Result<Range, RangeError> {
        let error = |reason: String| RangeError { range: range.to_owned(), reason };
        let raw = PATTERNS.whitespace.replace_all(range.trim(), " ");
        let mut set = Vec::new();
        for part in raw.split("||") {
            let comparators = parse_comparator_set(part.trim(), options).map_err(error)?;
            if !comparators.is_empty() {
                set.push(comparators);
            }
        }
        if set.is_empty() {
            return Err(error("no comparators".to_owned()));
        }
        if set.len() > 1 {
            // Null sets go unless all are null; a lone "any" set swallows the others.
            let first = set[0].clone();
            set.retain(|comparators| !comparators[0].is_null_set());
            if set.is_empty() {
                set = vec![first];
            } else if set.len() > 1 {
                if let Some(any) = set.iter().find(|c| c.len() == 1 && c[0].is_any()) {
                    set = vec![any.clone()];
                }
            }
        }
        Ok(Range { set, options })
    }

    /// `range.test(version)`: whether the version (parsed with the range's options) is in it.
    pub fn test(&self, version: &str) -> bool {
        if version.is_empty() {
            return false;
        }
        Version::parse(version, self.options).is_some_and(|version| self.test_version(&version))
    }

    /// `range.test(semver)` for a parsed version.
    pub fn test_version(&self, version: &Version) -> bool {
        self.set.iter().any(|comparators| test_set(comparators, version, self.options))
    }
}

/// node-semver's `range.range`: comparator sets joined by `||`, comparators by spaces.
impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, comparators) in self.set.iter().enumerate() {
            if i > 0 {
                f.write_str("||")?;
            }
            for (k, comparator) in comparators.iter().enumerate() {
                if k > 0 {
                    f.write_str(" ")?;
                }
                f.write_str(comparator.value.trim())?;
            }
        }
        Ok(())
    }
}

/// `semver.validRange(range, options)`: the canonical form (`*` for "any"), `None` if invalid.
pub fn valid_range(range: &str, options: Options) -> Option<String> {
    let canonical = Range::parse(range, options).ok()?.to_string();
    Some(if canonical.is_empty() { "*".to_owned() } else { canonical })
}

/// `semver.satisfies(version, range, options)`.
pub fn satisfies(version: &str, range: &str, options: Options) -> bool {
    Range::parse(range, options).is_ok_and(|range| range.test(version))
}

/// Which side of a range [`outside`] asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `semver.gtr`: greater than every version the range holds.
    Above,
    /// `semver.ltr`: less than every version the range holds.
    Below,
}

/// Why [`outside`] could not answer (node-semver throws).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutsideError {
    Version(String),
    Range(RangeError),
}

/// `semver.outside(version, range, hilo, options)` (`gtr` / `ltr`).
pub fn outside(version: &str, range: &str, side: Side, options: Options) -> Result<bool, OutsideError> {
    let version = Version::parse(version, options).ok_or_else(|| OutsideError::Version(version.to_owned()))?;
    let range = Range::parse(range, options).map_err(OutsideError::Range)?;
    // Terms as for "above"; everything flips for "below".
    let (beyond, strict, inclusive) = match side {
        Side::Above => (Ordering::Greater, Operator::Greater, Operator::GreaterOrEqual),
        Side::Below => (Ordering::Less, Operator::Less, Operator::LessOrEqual),
    };
    if range.test_version(&version) {
        return Ok(false);
    }
    let zero = Comparator { operator: Operator::GreaterOrEqual, semver: Some(Version::parse("0.0.0", Options::default()).expect("0.0.0 parses")), value: ">=0.0.0".to_owned() };
    for comparators in &range.set {
        let mut high: Option<&Comparator> = None;
        let mut low: Option<&Comparator> = None;
        for comparator in comparators {
            let comparator = if comparator.semver.is_none() { &zero } else { comparator };
            let semver = comparator.semver.as_ref().expect("any replaced by >=0.0.0");
            let current_high: &Comparator = high.get_or_insert(comparator);
            let current_low: &Comparator = low.get_or_insert(comparator);
            let (high_semver, low_semver) = (current_high.semver.as_ref().expect("has a version"), current_low.semver.as_ref().expect("has a version"));
            if semver.compare(high_semver) == beyond {
                high = Some(comparator);
            } else if semver.compare(low_semver) == beyond.reverse() {
                low = Some(comparator);
            }
        }
        let (Some(high), Some(low)) = (high, low) else { continue };
        if high.operator == strict || high.operator == inclusive {
            return Ok(false);
        }
        let low_semver = low.semver.as_ref().expect("has a version");
        let order = version.compare(low_semver);
        if (low.operator == Operator::Equal || low.operator == strict) && order != beyond {
            return Ok(false);
        } else if low.operator == inclusive && order == beyond.reverse() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `testSet`: every comparator holds, and a pre-release only passes where a comparator of the
/// same `major.minor.patch` names a pre-release (unless `includePrerelease`).
fn test_set(comparators: &[Comparator], version: &Version, options: Options) -> bool {
    if !comparators.iter().all(|comparator| comparator.test(version)) {
        return false;
    }
    if version.prerelease.is_empty() || options.include_prerelease {
        return true;
    }
    comparators.iter().filter_map(|c| c.semver.as_ref()).any(|allowed| {
        !allowed.prerelease.is_empty() && (allowed.major, allowed.minor, allowed.patch) == (version.major, version.minor, version.patch)
    })
}

/// `Range.parseRange`: one `||` alternative to its comparators.
fn parse_comparator_set(range: &str, options: Options) -> Result<Vec<Comparator>, String> {
    let p = &*PATTERNS;
    let range = p.build_strip.replace_all(range, "");
    let hyphen = if options.loose { &p.hyphen_loose } else { &p.hyphen };
    let range = hyphen.replace(&range, |c: &Captures| hyphen_replace(c, options.include_prerelease));
    let range = p.comparator_trim.replace_all(&range, "${1}${2}${3}");
    let range = p.tilde_trim.replace_all(&range, "${1}~");
    let range = p.caret_trim.replace_all(&range, "${1}^");
    let desugared = range.split(' ').map(|comp| parse_comparator(comp, options)).collect::<Vec<_>>().join(" ");
    let gte0 = if options.include_prerelease { &p.gte0_prerelease } else { &p.gte0 };
    let mut list: Vec<String> = split_whitespace(&desugared).map(|comp| gte0.replace(comp.trim(), "").into_owned()).collect();
    if options.loose {
        // Loose mode throws out what is not a comparator instead of failing.
        list.retain(|comp| p.comparator_loose.is_match(comp));
    }
    let comparators = list.iter().map(|comp| Comparator::parse(comp, options)).collect::<Result<Vec<_>, _>>()?;
    // One null set makes the whole set null; duplicates keep their first place; "any" goes
    // when something else is there.
    let mut result: Vec<Comparator> = Vec::new();
    for comparator in comparators {
        if comparator.is_null_set() {
            return Ok(vec![comparator]);
        }
        match result.iter_mut().find(|kept| kept.value == comparator.value) {
            Some(kept) => *kept = comparator,
            None => result.push(comparator),
        }
    }
    if result.len() > 1 {
        result.retain(|comparator| !comparator.is_any());
    }
    Ok(result)
}

/// `parseComparator`: carets, tildes, x-ranges and stars to plain comparators.
fn parse_comparator(comp: &str, options: Options) -> String {
    let p = &*PATTERNS;
    let comp = p.build.replace(comp, "");
    let (caret, tilde, xrange) = if options.loose { (&p.caret_loose, &p.tilde_loose, &p.xrange_loose) } else { (&p.caret, &p.tilde, &p.xrange) };
    let comp = split_whitespace(comp.trim()).map(|c| caret.replace(c, |cap: &Captures| replace_caret(cap, options)).into_owned()).collect::<Vec<_>>().join(" ");
    let comp = split_whitespace(comp.trim()).map(|c| tilde.replace(c, |cap: &Captures| replace_tilde(cap, options)).into_owned()).collect::<Vec<_>>().join(" ");
    let comp = split_whitespace(&comp)
        .map(|c| {
            let c = c.trim();
            xrange.replace(c, |cap: &Captures| replace_xrange(cap, c, options)).into_owned()
        })
        .collect::<Vec<_>>()
        .join(" ");
    p.star.replace(comp.trim(), "").into_owned()
}

fn group<'t>(captures: &Captures<'t>, i: usize) -> Option<&'t str> {
    captures.get(i).map(|m| m.as_str())
}

/// `isX`: a missing, `x`, `X` or `*` part.
fn is_x(part: Option<&str>) -> bool {
    part.is_none_or(|p| p.is_empty() || p.eq_ignore_ascii_case("x") || p == "*")
}

/// JavaScript's `+digits + 1` as text. Past 2^53 the result is refused later as node-semver
/// refuses it; from 10^21 JavaScript writes exponent notation, which no pattern accepts.
fn plus_one(digits: &str) -> String {
    let significant = digits.trim_start_matches('0');
    match if significant.is_empty() { Ok(0) } else { significant.parse::<u128>() } {
        Ok(n) if n + 1 < 10u128.pow(21) => (n + 1).to_string(),
        _ => format!("1e+{}", significant.len()),
    }
}

fn replace_tilde(c: &Captures, options: Options) -> String {
    let z = if options.include_prerelease { "-0" } else { "" };
    let (major, minor, patch, pre) = (group(c, 1), group(c, 2), group(c, 3), group(c, 4).filter(|p| !p.is_empty()));
    let (ma, mi, pa) = (major.unwrap_or(""), minor.unwrap_or(""), patch.unwrap_or(""));
    if is_x(major) {
        String::new()
    } else if is_x(minor) {
        format!(">={ma}.0.0{z} <{}.0.0-0", plus_one(ma))
    } else if is_x(patch) {
        format!(">={ma}.{mi}.0{z} <{ma}.{}.0-0", plus_one(mi))
    } else if let Some(pre) = pre {
        format!(">={ma}.{mi}.{pa}-{pre} <{ma}.{}.0-0", plus_one(mi))
    } else {
        format!(">={ma}.{mi}.{pa} <{ma}.{}.0-0", plus_one(mi))
    }
}

fn replace_caret(c: &Captures, options: Options) -> String {
    let z = if options.include_prerelease { "-0" } else { "" };
    let (major, minor, patch, pre) = (group(c, 1), group(c, 2), group(c, 3), group(c, 4).filter(|p| !p.is_empty()));
    let (ma, mi, pa) = (major.unwrap_or(""), minor.unwrap_or(""), patch.unwrap_or(""));
    if is_x(major) {
        return String::new();
    }
    if is_x(minor) {
        return format!(">={ma}.0.0{z} <{}.0.0-0", plus_one(ma));
    }
    if is_x(patch) {
        return if ma == "0" { format!(">={ma}.{mi}.0{z} <{ma}.{}.0-0", plus_one(mi)) } else { format!(">={ma}.{mi}.0{z} <{}.0.0-0", plus_one(ma)) };
    }
    let lower = match pre {
        Some(pre) => format!(">={ma}.{mi}.{pa}-{pre}"),
        None => format!(">={ma}.{mi}.{pa}"),
    };
    let upper = if ma == "0" {
        if mi == "0" { format!("<{ma}.{mi}.{}-0", plus_one(pa)) } else { format!("<{ma}.{}.0-0", plus_one(mi)) }
    } else {
        format!("<{}.0.0-0", plus_one(ma))
    };
    format!("{lower} {upper}")
}

fn replace_xrange(c: &Captures, comp: &str, options: Options) -> String {
    let (major, minor, patch) = (group(c, 2), group(c, 3), group(c, 4));
    // `invalidXRangeOrder`: `x.1`, `1.x.5` stay as written (and fail as comparators).
    if (is_x(major) && !is_x(minor)) || (is_x(minor) && patch.is_some_and(|p| !p.is_empty()) && !is_x(patch)) {
        return comp.to_owned();
    }
    let mut operator = group(c, 1).unwrap_or("");
    let x_major = is_x(major);
    let x_minor = x_major || is_x(minor);
    let any_x = x_minor || is_x(patch);
    if operator == "=" && any_x {
        operator = "";
    }
    let mut pre = if options.include_prerelease { "-0" } else { "" };
    let (ma, mi) = (major.unwrap_or("").to_owned(), minor.unwrap_or("").to_owned());
    if x_major {
        if operator == ">" || operator == "<" { "<0.0.0-0".to_owned() } else { "*".to_owned() }
    } else if !operator.is_empty() && any_x {
        let (mut ma, mut mi) = (ma, if x_minor { "0".to_owned() } else { mi });
        if operator == ">" {
            // >1 is >=2.0.0, >1.2 is >=1.3.0
            operator = ">=";
            if x_minor {
                ma = plus_one(&ma);
                mi = "0".to_owned();
            } else {
                mi = plus_one(&mi);
            }
        } else if operator == "<=" {
            // <=0.7.x is <0.8.0-0: every 0.7.x passes
            operator = "<";
            if x_minor {
                ma = plus_one(&ma);
            } else {
                mi = plus_one(&mi);
            }
        }
        if operator == "<" {
            pre = "-0";
        }
        format!("{operator}{ma}.{mi}.0{pre}")
    } else if x_minor {
        format!(">={ma}.0.0{pre} <{}.0.0-0", plus_one(&ma))
    } else if any_x {
        format!(">={ma}.{mi}.0{pre} <{ma}.{}.0-0", plus_one(&mi))
    } else {
        c.get(0).map_or("", |m| m.as_str()).to_owned()
    }
}

/// `hyphenReplace`: `1.2 - 3.4.5` to `>=1.2.0 <=3.4.5`.
fn hyphen_replace(c: &Captures, include_prerelease: bool) -> String {
    let z = if include_prerelease { "-0" } else { "" };
    let (from, f_major, f_minor, f_patch, f_pre) = (group(c, 1).unwrap_or(""), group(c, 2), group(c, 3), group(c, 4), group(c, 5).filter(|p| !p.is_empty()));
    let (to, t_major, t_minor, t_patch, t_pre) = (group(c, 7).unwrap_or(""), group(c, 8), group(c, 9), group(c, 10), group(c, 11).filter(|p| !p.is_empty()));
    let (fma, fmi) = (f_major.unwrap_or(""), f_minor.unwrap_or(""));
    let (tma, tmi, tpa) = (t_major.unwrap_or(""), t_minor.unwrap_or(""), t_patch.unwrap_or(""));
    let lower = if is_x(f_major) {
        String::new()
    } else if is_x(f_minor) {
        format!(">={fma}.0.0{z}")
    } else if is_x(f_patch) {
        format!(">={fma}.{fmi}.0{z}")
    } else if f_pre.is_some() {
        format!(">={from}")
    } else {
        format!(">={from}{z}")
    };
    let upper = if is_x(t_major) {
        String::new()
    } else if is_x(t_minor) {
        format!("<{}.0.0-0", plus_one(tma))
    } else if is_x(t_patch) {
        format!("<{tma}.{}.0-0", plus_one(tmi))
    } else if let Some(pre) = t_pre {
        format!("<={tma}.{tmi}.{tpa}-{pre}")
    } else if include_prerelease {
        format!("<{tma}.{tmi}.{}-0", plus_one(tpa))
    } else {
        format!("<={to}")
    };
    format!("{lower} {upper}").trim().to_owned()
}

/// JavaScript's `text.split(/\s+/)`: empty pieces at the ends are kept.
fn split_whitespace(text: &str) -> impl Iterator<Item = &str> {
    PATTERNS.whitespace.split(text)
}

/// node-semver's regular expressions (`internal/re.js`), built from the same tokens.
struct Patterns {
    full: Regex,
    loose: Regex,
    xrange: Regex,
    xrange_loose: Regex,
    tilde: Regex,
    tilde_loose: Regex,
    tilde_trim: Regex,
    caret: Regex,
    caret_loose: Regex,
    caret_trim: Regex,
    comparator: Regex,
    comparator_loose: Regex,
    comparator_trim: Regex,
    hyphen: Regex,
    hyphen_loose: Regex,
    star: Regex,
    gte0: Regex,
    gte0_prerelease: Regex,
    /// `BUILD`, length-bounded: removed once per comparator.
    build: Regex,
    /// `BUILD` as written (unbounded): removed everywhere in a range first.
    build_strip: Regex,
    whitespace: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(Patterns::new);

impl Patterns {
    fn new() -> Patterns {
        const LETTER_DASH_NUMBER: &str = "[a-zA-Z0-9-]";
        let numeric = r"0|[1-9]\d*";
        let numeric_loose = r"\d+";
        let non_numeric = format!(r"\d*[a-zA-Z-]{LETTER_DASH_NUMBER}*");
        let main = format!(r"({numeric})\.({numeric})\.({numeric})");
        let main_loose = format!(r"({numeric_loose})\.({numeric_loose})\.({numeric_loose})");
        let pre_id = format!("(?:{non_numeric}|{numeric})");
        let pre_id_loose = format!("(?:{non_numeric}|{numeric_loose})");
        let pre = format!(r"(?:-({pre_id}(?:\.{pre_id})*))");
        let pre_loose = format!(r"(?:-?({pre_id_loose}(?:\.{pre_id_loose})*))");
        let build_id = format!("{LETTER_DASH_NUMBER}+");
        let build = format!(r"(?:\+({build_id}(?:\.{build_id})*))");
        let full_plain = format!("v?{main}{pre}?{build}?");
        let loose_plain = format!(r"[v=\s]*{main_loose}{pre_loose}?{build}?");
        let gtlt = "((?:<|>)?=?)";
        let xid = format!(r"{numeric}|x|X|\*");
        let xid_loose = format!(r"{numeric_loose}|x|X|\*");
        let xplain = format!(r"[v=\s]*({xid})(?:\.({xid})(?:\.({xid})(?:{pre})?{build}?)?)?");
        let xplain_loose = format!(r"[v=\s]*({xid_loose})(?:\.({xid_loose})(?:\.({xid_loose})(?:{pre_loose})?{build}?)?)?");
        let tilde = "(?:~>?)";
        let caret = r"(?:\^)";
        Patterns {
            full: safe(&format!("^{full_plain}$")),
            loose: safe(&format!("^{loose_plain}$")),
            xrange: safe(&format!(r"^{gtlt}\s*{xplain}$")),
            xrange_loose: safe(&format!(r"^{gtlt}\s*{xplain_loose}$")),
            tilde: safe(&format!("^{tilde}{xplain}$")),
            tilde_loose: safe(&format!("^{tilde}{xplain_loose}$")),
            tilde_trim: safe(&format!(r"(\s*){tilde}\s+")),
            caret: safe(&format!("^{caret}{xplain}$")),
            caret_loose: safe(&format!("^{caret}{xplain_loose}$")),
            caret_trim: safe(&format!(r"(\s*){caret}\s+")),
            comparator: safe(&format!(r"^{gtlt}\s*({full_plain})$|^$")),
            comparator_loose: safe(&format!(r"^{gtlt}\s*({loose_plain})$|^$")),
            comparator_trim: safe(&format!(r"(\s*){gtlt}\s*({loose_plain}|{xplain})")),
            hyphen: safe(&format!(r"^\s*({xplain})\s+-\s+({xplain})\s*$")),
            hyphen_loose: safe(&format!(r"^\s*({xplain_loose})\s+-\s+({xplain_loose})\s*$")),
            star: safe(r"(<|>)?=?\s*\*"),
            gte0: safe(r"^\s*>=\s*0\.0\.0\s*$"),
            gte0_prerelease: safe(r"^\s*>=\s*0\.0\.0-0\s*$"),
            build: safe(&build),
            build_strip: compile(&build),
            whitespace: compile(r"\s+"),
        }
    }
}

/// `makeSafeRegex`: node-semver bounds its repetitions (inputs have their whitespace collapsed
/// first, so `\s*` becomes `\s{0,1}`); the bounds decide what matches, so they are kept.
fn safe(source: &str) -> Regex {
    let mut source = source.to_owned();
    for (token, max) in [(r"\s", 1), (r"\d", MAX_LENGTH), ("[a-zA-Z0-9-]", MAX_LENGTH - 6)] {
        source = source.replace(&format!("{token}*"), &format!("{token}{{0,{max}}}")).replace(&format!("{token}+"), &format!("{token}{{1,{max}}}"));
    }
    compile(&source)
}

/// JavaScript's `\d` is ASCII only.
fn compile(source: &str) -> Regex {
    regex::RegexBuilder::new(&source.replace(r"\d", "[0-9]")).size_limit(1 << 26).build().expect("node-semver's patterns compile")
}

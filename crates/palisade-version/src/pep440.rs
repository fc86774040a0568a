//! PyPI versions: PEP 440 as `packaging.version.Version` parses and orders them, strings PEP 440
//! rejects ordered as OSV orders them (packaging's old `LegacyVersion`: below every valid
//! version), and version specifiers (`~=1.4`, `==2.*`, `!=3.0`, `>=1,<2`) as
//! `packaging.specifiers.SpecifierSet.contains(version, prereleases=True)` decides them
//! (packaging 26, whose `>V` and `<V` follow its interval model).

use std::cmp::Ordering;
use std::fmt;

use crate::semver::compare_decimal;

/// How `a` orders against `b`; any string is ordered.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (Version::parse(a), Version::parse(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => legacy_key(a).cmp(&legacy_key(b)),
    }
}

/// Whether `version` is a PEP 440 version.
pub fn is_valid(version: &str) -> bool {
    Version::parse(version).is_some()
}

/// A pre-release kind, in precedence order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PreKind {
    Alpha,
    Beta,
    Candidate,
}

/// A PEP 440 version, borrowing its digits from the input (numbers are compared as decimal
/// strings, so any size is exact and nothing is allocated).
#[derive(Clone, Copy, Debug)]
pub struct Version<'a> {
    epoch: &'a str,
    /// Dot-separated digits.
    release: &'a str,
    pre: Option<(PreKind, &'a str)>,
    post: Option<&'a str>,
    dev: Option<&'a str>,
    /// Segments separated by `.`, `_` or `-`.
    local: Option<&'a str>,
}

/// A cursor over the version text (ASCII case-insensitive, as packaging's `re.IGNORECASE`).
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn digits(&mut self) -> Option<&'a str> {
        let len = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        (len > 0).then(|| {
            self.at += len;
            &self.text[self.at - len..self.at]
        })
    }

    fn byte(&mut self, wanted: impl Fn(u8) -> bool) -> bool {
        let hit = self.rest().bytes().next().is_some_and(wanted);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn separator(&mut self) -> bool {
        self.byte(|b| matches!(b, b'-' | b'_' | b'.'))
    }

    /// The first of `words` the text continues with, consumed.
    fn word(&mut self, words: &[&'static str]) -> Option<&'static str> {
        let rest = self.rest().as_bytes();
        let word = words.iter().find(|w| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes()))?;
        self.at += word.len();
        Some(word)
    }

    /// Runs `parse` from here, rewinding when it fails (the regex's optional groups).
    fn optional<T>(&mut self, parse: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.at;
        let result = parse(self);
        if result.is_none() {
            self.at = start;
        }
        result
    }
}

impl<'a> Version<'a> {
    /// packaging's `VERSION_PATTERN` (surrounding whitespace and a `v` allowed).
    pub fn parse(text: &'a str) -> Option<Version<'a>> {
        let text = text.trim();
        let mut c = Cursor { text, at: 0 };
        c.byte(|b| b == b'v' || b == b'V');
        let epoch = c.optional(|c| {
            let epoch = c.digits()?;
            c.byte(|b| b == b'!').then_some(epoch)
        });
        let release_start = c.at;
        c.digits()?;
        while c.optional(|c| (c.byte(|b| b == b'.') && c.digits().is_some()).then_some(())).is_some() {}
        let release = &text[release_start..c.at];
        let pre = c.optional(|c| {
            c.separator();
            let kind = match c.word(&["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"])? {
                "alpha" | "a" => PreKind::Alpha,
                "beta" | "b" => PreKind::Beta,
                _ => PreKind::Candidate,
            };
            c.separator();
            Some((kind, c.digits().unwrap_or("")))
        });
        let post = c
            .optional(|c| {
                c.byte(|b| b == b'-');
                c.digits()
            })
            .or_else(|| {
                c.optional(|c| {
                    c.separator();
                    c.word(&["post", "rev", "r"])?;
                    c.separator();
                    Some(c.digits().unwrap_or(""))
                })
            });
        let dev = c.optional(|c| {
            c.separator();
            c.word(&["dev"])?;
            c.separator();
            Some(c.digits().unwrap_or(""))
        });
        let local = c.optional(|c| {
            if !c.byte(|b| b == b'+') {
                return None;
            }
            let local = c.rest();
            let mut expect_segment = true;
            for b in local.bytes() {
                if b.is_ascii_alphanumeric() {
                    expect_segment = false;
                } else if matches!(b, b'.' | b'_' | b'-') && !expect_segment {
                    expect_segment = true;
                } else {
                    return None;
                }
            }
            (!expect_segment).then(|| {
                c.at = text.len();
                local
            })
        });
        c.rest().is_empty().then_some(Version { epoch: epoch.unwrap_or(""), release, pre, post, dev, local })
    }

    fn release_parts(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.release.split('.')
    }

    /// A pre-release or a development release.
    fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// Without the local part (packaging's `public`).
    fn public(&self) -> Version<'a> {
        Version { local: None, ..*self }
    }

    fn compare_release(&self, other: &Self) -> Ordering {
        let (mut mine, mut theirs) = (self.release_parts(), other.release_parts());
        loop {
            let (a, b) = (mine.next(), theirs.next());
            if a.is_none() && b.is_none() {
                return Ordering::Equal;
            }
            let order = compare_decimal(a.unwrap_or(""), b.unwrap_or(""));
            if order != Ordering::Equal {
                return order;
            }
        }
    }
}

/// packaging's `_cmpkey`: a development release without pre- or post-release sorts before
/// the pre-releases; a missing pre-release after them; a missing post-release before any; a
/// missing dev release after any; a missing local part before any.
impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        fn pre_key<'a>(v: &Version<'a>) -> (u8, Option<(PreKind, &'a str)>) {
            match v.pre {
                None if v.post.is_none() && v.dev.is_some() => (0, None),
                None => (2, None),
                Some(pre) => (1, Some(pre)),
            }
        }
        fn number_then<'a>(a: Option<&'a str>, b: Option<&'a str>, missing: Ordering) -> Ordering {
            match (a, b) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => missing,
                (Some(_), None) => missing.reverse(),
                (Some(a), Some(b)) => compare_decimal(a, b),
            }
        }
        compare_decimal(self.epoch, other.epoch)
            .then_with(|| self.compare_release(other))
            .then_with(|| {
                let ((a_rank, a_pre), (b_rank, b_pre)) = (pre_key(self), pre_key(other));
                a_rank.cmp(&b_rank).then_with(|| match (a_pre, b_pre) {
                    (Some((a_kind, a_n)), Some((b_kind, b_n))) => a_kind.cmp(&b_kind).then_with(|| compare_decimal(a_n, b_n)),
                    _ => Ordering::Equal,
                })
            })
            .then_with(|| number_then(self.post, other.post, Ordering::Less))
            .then_with(|| number_then(self.dev, other.dev, Ordering::Greater))
            .then_with(|| compare_local(self.local, other.local))
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version<'_> {}

/// Local parts segment by segment: numbers by value and above words, words case-insensitively;
/// more segments win when the shared ones are equal.
fn compare_local(a: Option<&str>, b: Option<&str>) -> Ordering {
    let (a, b) = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Less,
        (Some(_), None) => return Ordering::Greater,
        (Some(a), Some(b)) => (a, b),
    };
    let (mut mine, mut theirs) = (a.split(['.', '_', '-']), b.split(['.', '_', '-']));
    loop {
        let (x, y) = match (mine.next(), theirs.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => (x, y),
        };
        let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let order = match (numeric(x), numeric(y)) {
            (true, true) => compare_decimal(x, y),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.bytes().map(|b| b.to_ascii_lowercase()).cmp(y.bytes().map(|b| b.to_ascii_lowercase())),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
}

/// packaging's old `LegacyVersion._key` (packaging < 22), which OSV applies to strings PEP 440
/// rejects: lower-cased, split into runs of digits, runs of letters, `.` and `-` (the text
/// between runs kept as parts too), digits zero-padded to 8 places, words marked with `*`.
fn legacy_key(version: &str) -> Vec<String> {
    let version = version.to_ascii_lowercase();
    let mut pieces: Vec<&str> = Vec::new();
    let mut start = 0;
    let bytes = version.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let run = if b.is_ascii_digit() {
            bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count()
        } else if b.is_ascii_lowercase() {
            bytes[i..].iter().take_while(|b| b.is_ascii_lowercase()).count()
        } else if b == b'.' || b == b'-' {
            1
        } else {
            i += 1;
            continue;
        };
        pieces.push(&version[start..i]);
        pieces.push(&version[i..i + run]);
        i += run;
        start = i;
    }
    pieces.push(&version[start..]);
    let mut parts: Vec<String> = Vec::new();
    for piece in pieces.into_iter().chain(["final"]) {
        let piece = match piece {
            "pre" | "preview" | "rc" => "c",
            "-" => "final-",
            "dev" => "@",
            other => other,
        };
        if piece.is_empty() || piece == "." {
            continue;
        }
        let part = if piece.as_bytes()[0].is_ascii_digit() { format!("{piece:0>8}") } else { format!("*{piece}") };
        if part.starts_with('*') {
            if part.as_str() < "*final" {
                while parts.last().is_some_and(|p| p == "*final-") {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|p| p == "00000000") {
                parts.pop();
            }
        }
        parts.push(part);
    }
    parts
}

/// Why a specifier is not a PEP 440 specifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecifierError {
    pub specifier: String,
    pub reason: &'static str,
}

impl fmt::Display for SpecifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid PEP 440 specifier {:?}: {}", self.specifier, self.reason)
    }
}

impl std::error::Error for SpecifierError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Compatible,
    Equal,
    NotEqual,
    LessOrEqual,
    GreaterOrEqual,
    Less,
    Greater,
    Identity,
}

/// One clause: operator and version (`prefix` for `==2.*` / `!=2.*`).
#[derive(Clone, Debug)]
struct Specifier {
    operator: Operator,
    version: String,
    prefix: bool,
}

/// A comma-separated PEP 440 specifier set; pre-releases are always admitted (OSV ranges
/// name them explicitly).
#[derive(Clone, Debug)]
pub struct SpecifierSet {
    specifiers: Vec<Specifier>,
}

impl SpecifierSet {
    pub fn parse(text: &str) -> Result<SpecifierSet, SpecifierError> {
        let specifiers = text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Specifier::parse).collect::<Result<_, _>>()?;
        Ok(SpecifierSet { specifiers })
    }

    /// Whether `version` satisfies every clause (`false` for a string PEP 440 rejects, except
    /// for `===`, which compares text).
    pub fn contains(&self, version: &str) -> bool {
        self.specifiers.iter().all(|specifier| specifier.contains(version))
    }
}

impl Specifier {
    fn parse(text: &str) -> Result<Specifier, SpecifierError> {
        let error = |reason| SpecifierError { specifier: text.to_owned(), reason };
        let (operator, rest) = [
            ("~=", Operator::Compatible),
            ("===", Operator::Identity),
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("<=", Operator::LessOrEqual),
            (">=", Operator::GreaterOrEqual),
            ("<", Operator::Less),
            (">", Operator::Greater),
        ]
        .iter()
        .find_map(|(symbol, operator)| text.strip_prefix(symbol).map(|rest| (*operator, rest.trim())))
        .ok_or_else(|| error("no operator"))?;
        if operator == Operator::Identity {
            return Ok(Specifier { operator, version: rest.to_owned(), prefix: false });
        }
        let (version_text, prefix) = match rest.strip_suffix(".*") {
            Some(stem) if matches!(operator, Operator::Equal | Operator::NotEqual) => (stem, true),
            _ => (rest, false),
        };
        let version = Version::parse(version_text).ok_or_else(|| error("not a PEP 440 version"))?;
        if prefix && (version.pre.is_some() || version.post.is_some() || version.dev.is_some() || version.local.is_some()) {
            return Err(error("a wildcard follows only a release"));
        }
        if version.local.is_some() && !matches!(operator, Operator::Equal | Operator::NotEqual) {
            return Err(error("a local version is only allowed with == and !="));
        }
        if operator == Operator::Compatible && !version.release.contains('.') {
            return Err(error("~= needs at least two release segments"));
        }
        Ok(Specifier { operator, version: version_text.to_owned(), prefix })
    }

    fn contains(&self, text: &str) -> bool {
        let parsed = Version::parse(text).zip(Version::parse(&self.version));
        let Some((candidate, spec)) = parsed else {
            // `===` compares text, so it alone can hold for a string PEP 440 rejects.
            return self.operator == Operator::Identity && text.trim().eq_ignore_ascii_case(&self.version);
        };
        match self.operator {
            Operator::Identity => text.trim().eq_ignore_ascii_case(&self.version),
            Operator::Equal => self.equal(&candidate, &spec),
            Operator::NotEqual => !self.equal(&candidate, &spec),
            Operator::LessOrEqual => candidate.public() <= spec,
            Operator::GreaterOrEqual => candidate.public() >= spec,
            // `<V` leaves out V's own pre-releases when V is not one: the bound is V.dev0.
            Operator::Less => candidate < if spec.is_prerelease() { spec } else { Version { dev: Some("0"), local: None, ..spec } },
            // `>V` leaves out V's local versions, and for a final or pre-release V its
            // post-releases too (packaging 26's `standard_ranges`).
            Operator::Greater => {
                candidate > spec
                    && if spec.dev.is_some() || spec.post.is_some() {
                        candidate.public() != spec
                    } else {
                        !(compare_decimal(candidate.epoch, spec.epoch).is_eq() && candidate.compare_release(&spec).is_eq() && candidate.pre.map(|(k, n)| (k, n.trim_start_matches('0'))) == spec.pre.map(|(k, n)| (k, n.trim_start_matches('0'))))
                    }
            }
            Operator::Compatible => {
                // `~=1.4.2` is `>=1.4.2, ==1.4.*`.
                let release = spec.release.rsplit_once('.').map_or(spec.release, |(head, _)| head);
                candidate.public() >= spec && prefix_matches(&candidate, spec.epoch, release)
            }
        }
    }

    fn equal(&self, candidate: &Version, spec: &Version) -> bool {
        if self.prefix {
            prefix_matches(candidate, spec.epoch, spec.release)
        } else if spec.local.is_none() {
            candidate.public() == *spec
        } else {
            candidate == spec
        }
    }
}

/// `==E!R.*`: same epoch, and the release (zero-padded) starts with `R`.
fn prefix_matches(candidate: &Version, epoch: &str, release: &str) -> bool {
    let mut mine = candidate.release_parts();
    compare_decimal(candidate.epoch, epoch) == Ordering::Equal && release.split('.').all(|wanted| compare_decimal(mine.next().unwrap_or(""), wanted) == Ordering::Equal)
}

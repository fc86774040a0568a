//! The detector: a loaded [`Config`] run over one fragment (a file's content, a diff hunk, an
//! archive member), in gitleaks' order of operations (its `detect` package, v8.30, commit
//! b58d3f10), re-implemented here:
//!
//! 1. the global allowlists' paths and commits skip the whole fragment;
//! 2. one ASCII case-insensitive Aho-Corasick automaton over every rule's keywords ([`crate::keywords`]) says which
//!    rules may run (rules without keywords always run);
//! 3. per rule: the rule's own path/commit allowlists skip it, its `path` filters (or, for a
//!    path-only rule, is the finding), then every regex match; the secret is `secretGroup`, or
//!    the first non-empty group, or the whole match (gitleaks re-runs the regex on the match);
//! 4. `gitleaks:allow` on the match's line, 5. entropy (≤ threshold drops), 6. global then rule
//!    allowlists (commits, paths, regexes on secret/match/line, stopwords; OR/AND);
//! 7. composite rules: a finding is kept only if each `[[rules.required]]` rule matched within
//!    `withinLines`/`withinColumns`; `skipReport` rules are only conditions;
//! 8. decoding passes ([`Decoder`]) rescan the decoded text, a match counting only where it
//!    touches a segment decoded in that pass, reported at the encoded text with
//!    `decoded:<encoding>` and `decode-depth:<n>` tags;
//! 9. a `generic*` finding is dropped when a specific rule found a secret containing it on the
//!    same line (gitleaks' `filter`).
//!
//! Lines and columns are gitleaks' exactly, including its quirk: on every line after the
//! first, columns count from the preceding `\n`, so they are one more than a 1-based column.
//! One deliberate difference: for a match on a last line without a trailing newline gitleaks
//! takes "the line" from the start of the fragment (so a `gitleaks:allow` anywhere before it
//! suppresses it); we take the line itself.
//!
//! A [`Found`] holds spans into the fragment, never the secret's text; a decoded secret (which
//! is not in the fragment) is kept privately and only ever shown through [`redacted`].

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;

use aho_corasick::AhoCorasick;

use crate::config::{Allowlist, Condition, Config, RegexTarget, Required, Rule};
use crate::decode::{DecodeLimits, Decoder, Encoding};
use crate::keywords::Keywords;
use crate::window::WindowedRegex;

/// A line containing this is never reported (gitleaks' inline suppression).
pub const ALLOW_SIGNATURE: &[u8] = b"gitleaks:allow";

/// Text to scan and where it comes from.
#[derive(Clone, Copy, Debug)]
pub struct Fragment<'a> {
    pub bytes: &'a [u8],
    /// The file path as reported (`outer!inner` for archive members); "" when there is none.
    pub path: &'a str,
    /// The commit of a git scan.
    pub commit: Option<&'a str>,
    /// The number of the fragment's first line: 1 for a whole file, the hunk's first new line
    /// for a diff (gitleaks' `StartLine` plus its `+1` for files).
    pub start_line: usize,
}

impl<'a> Fragment<'a> {
    /// A whole file's content.
    pub fn file(bytes: &'a [u8], path: &'a str) -> Self {
        Fragment { bytes, path, commit: None, start_line: 1 }
    }
}

/// A finding. Spans index the fragment; no field holds the secret's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub rule_id: String,
    /// gitleaks' line and column numbers (see the module note on columns); 0 for a path-only rule.
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The match in the fragment (for a decoded finding: the encoded text it came from).
    pub match_span: Range<usize>,
    /// The secret in the fragment; for a decoded finding the same as `match_span` (the secret
    /// itself is in [`Found::decoded`]).
    pub secret_span: Range<usize>,
    /// Shannon entropy of the secret, bits per character.
    pub entropy: f64,
    /// The rule's tags, then `decoded:<encoding>`… and `decode-depth:<n>` for decoded findings.
    pub tags: Vec<String>,
    /// gitleaks' fingerprint: `file:rule:line`, or `commit:file:rule:line` in a git scan.
    pub fingerprint: String,
    /// A path-only rule: the file itself is the finding.
    pub whole_file: bool,
    pub decoded: Option<Decoded>,
    /// For a composite rule: the required rules' findings near this one.
    pub required: Vec<Found>,
}

impl Found {
    /// The secret's bytes: in the fragment, or decoded.
    pub fn secret<'a>(&'a self, fragment: &'a [u8]) -> &'a [u8] {
        match &self.decoded {
            Some(decoded) => &decoded.secret,
            None => &fragment[self.secret_span.clone()],
        }
    }
}

/// How a decoded finding was decoded, and its secret (shown redacted only).
#[derive(Clone, PartialEq)]
pub struct Decoded {
    /// The decoding pass that found it (1 = decoded once).
    pub depth: usize,
    /// The decodings applied, outermost first.
    pub chain: Vec<Encoding>,
    secret: Vec<u8>,
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded").field("depth", &self.depth).field("chain", &self.chain).field("secret", &redacted(&self.secret)).finish()
    }
}

/// A secret as it may be shown: a short prefix of a long printable secret, and its length.
pub fn redacted(secret: &[u8]) -> String {
    // A quarter of the secret at most, and never more than 4 bytes, so little of it is disclosed.
    let shown = (secret.len() / 4).min(4);
    let prefix = &secret[..shown];
    if prefix.iter().all(u8::is_ascii_graphic) && !prefix.is_empty() {
        format!("{}… ({} bytes)", String::from_utf8_lossy(prefix), secret.len())
    } else {
        format!("… ({} bytes)", secret.len())
    }
}

/// Shannon entropy in bits per character, as gitleaks computes it (characters counted over
/// UTF-8 text, bytes otherwise; divided by the length in bytes). The terms are summed in
/// character order, so the last bit of the result (and an entropy threshold met exactly) does
/// not depend on a hash map's iteration order from one run to the next.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut bytes = [0usize; 256];
    let mut wide: BTreeMap<char, usize> = BTreeMap::new();
    match std::str::from_utf8(data) {
        Ok(text) => text.chars().for_each(|c| match u8::try_from(c) {
            Ok(b) if b.is_ascii() => bytes[usize::from(b)] += 1,
            _ => *wide.entry(c).or_default() += 1,
        }),
        Err(_) => data.iter().for_each(|&b| bytes[usize::from(b)] += 1),
    }
    let length = data.len() as f64;
    bytes.into_iter().filter(|&count| count > 0).chain(wide.into_values()).map(|count| count as f64 / length).map(|p| -p * p.log2()).sum()
}

/// A configuration ready to scan fragments.
pub struct Detector {
    rules: Vec<Rule>,
    /// Every allowlist, global ones first, then each rule's in rule order.
    allowlists: Vec<CompiledAllowlist>,
    global: Range<usize>,
    /// Per rule, its allowlists in `allowlists`.
    rule_allowlists: Vec<Range<usize>>,
    /// Every distinct keyword; `None` when there are none, or when the automaton could not be
    /// built (then every rule runs: slower, same findings).
    keywords: Option<Keywords>,
    /// Per rule, the automaton's pattern ids of its keywords; empty = always runs.
    rule_keywords: Vec<Vec<usize>>,
    by_id: HashMap<String, usize>,
    decode_limits: DecodeLimits,
    /// Per rule, its regex searched only around its keywords, when that finds the same matches
    /// (see [`crate::window`]).
    windowed: Vec<Option<WindowedRegex>>,
    /// [`ALLOW_SIGNATURE`] as a searcher (a vectorised substring search, where comparing at
    /// every offset costs a dozen operations per byte of every fragment with a candidate).
    allow_signature: AhoCorasick,
}

/// How a fragment is scanned: with the shortcuts of [`Detector::detect`], or without them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    Fast,
    Reference,
}

impl Detector {
    pub fn new(config: &Config) -> Detector {
        let mut patterns: Vec<&str> = Vec::new();
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let rule_keywords: Vec<Vec<usize>> = config
            .rules
            .iter()
            .map(|rule| {
                rule.keywords
                    .iter()
                    .map(|keyword| {
                        *ids.entry(keyword.as_str()).or_insert_with(|| {
                            patterns.push(keyword);
                            patterns.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let keywords = Keywords::new(&patterns);
        let rule_keywords = if keywords.is_some() { rule_keywords } else { vec![Vec::new(); config.rules.len()] };
        let mut allowlists: Vec<CompiledAllowlist> = config.allowlists.iter().map(CompiledAllowlist::new).collect();
        let global = 0..allowlists.len();
        let rule_allowlists = config
            .rules
            .iter()
            .map(|rule| {
                let start = allowlists.len();
                allowlists.extend(rule.allowlists.iter().map(CompiledAllowlist::new));
                start..allowlists.len()
            })
            .collect();
        Detector {
            by_id: config.rules.iter().enumerate().map(|(index, rule)| (rule.id.clone(), index)).collect(),
            rules: config.rules.clone(),
            windowed: config
                .rules
                .iter()
                .zip(&rule_keywords)
                .map(|(rule, ids)| if ids.is_empty() { None } else { WindowedRegex::new(rule.regex.as_ref()?.as_str(), &rule.keywords) })
                .collect(),
            allowlists,
            global,
            rule_allowlists,
            keywords,
            rule_keywords,
            decode_limits: DecodeLimits::default(),
            allow_signature: AhoCorasick::new([ALLOW_SIGNATURE]).expect("one short literal builds"),
        }
    }

    /// Decoding passes and caps (`max_depth` 0 disables decoding).
    pub fn with_decode_limits(mut self, limits: DecodeLimits) -> Detector {
        self.decode_limits = limits;
        self
    }

    /// Every finding in the fragment, in rule order per decoding pass.
    pub fn detect(&self, fragment: &Fragment<'_>) -> Vec<Found> {
        self.scan(fragment, Path::Fast)
    }

    /// The findings of [`Detector::detect`] by the straightforward path: rules chosen by a plain
    /// substring search for each keyword in the lowercased text, and each regex over the whole text.
    /// Slow; it is there so tests can hold every shortcut of `detect` to the same findings.
    pub fn detect_reference(&self, fragment: &Fragment<'_>) -> Vec<Found> {
        self.scan(fragment, Path::Reference)
    }

    fn scan(&self, fragment: &Fragment<'_>, path: Path) -> Vec<Found> {
        if self.allowlists[self.global.clone()].iter().any(|compiled| skips_fragment(&compiled.allowlist, fragment)) {
            return Vec::new();
        }
        // Found only when a candidate needs a line number: a text of nothing but newlines costs
        // a word per newline, and most fragments have no candidate at all.
        let newlines = OnceCell::new();
        let allow_marks = OnceCell::new();
        let mut decoder = Decoder::new(fragment.bytes, self.decode_limits.clone());
        let mut found = Vec::new();
        loop {
            let keyword_hits = match path {
                Path::Fast => self.keyword_hits(decoder.text()),
                Path::Reference => Vec::new(),
            };
            let pass = Pass {
                fragment,
                keyword_hits: &keyword_hits,
                newlines: &newlines,
                allow_marks: &allow_marks,
                allow_signature: &self.allow_signature,
                decoder: &decoder,
                line_verdicts: RefCell::default(),
                path,
            };
            match path {
                Path::Fast => {
                    for (index, keywords) in self.rule_keywords.iter().enumerate() {
                        if keywords.is_empty() || keywords.iter().any(|&k| !keyword_hits[k].is_empty()) {
                            found.extend(self.detect_rule(&pass, index, false));
                        }
                    }
                }
                Path::Reference => {
                    let lowered = decoder.text().to_ascii_lowercase();
                    for (index, rule) in self.rules.iter().enumerate() {
                        if rule.keywords.is_empty() || rule.keywords.iter().any(|k| contains(&lowered, k.as_bytes())) {
                            found.extend(self.detect_rule(&pass, index, false));
                        }
                    }
                }
            }
            if !decoder.next_pass() {
                break;
            }
        }
        drop_generic_duplicates(found, fragment.bytes)
    }

    /// Every occurrence in `text` (case-insensitively, overlapping) of each keyword, by pattern id.
    fn keyword_hits(&self, text: &[u8]) -> Vec<Vec<Range<usize>>> {
        self.keywords.as_ref().map_or_else(Vec::new, |keywords| keywords.hits(text))
    }

    /// One rule over the current pass; `inherited` when it runs as another rule's requirement.
    fn detect_rule(&self, pass: &Pass<'_>, index: usize, inherited: bool) -> Vec<Found> {
        let (fragment, rule) = (pass.fragment, &self.rules[index]);
        if rule.skip_report && !inherited {
            return Vec::new();
        }
        if self.allowlists[self.rule_allowlists[index].clone()].iter().any(|compiled| skips_fragment(&compiled.allowlist, fragment)) {
            return Vec::new();
        }
        let path_matches = |path: &regex::bytes::Regex| path.is_match(fragment.path.as_bytes());
        let Some(regex) = &rule.regex else {
            // A path-only rule reports the file once, on the raw pass.
            return match &rule.path {
                Some(path) if pass.decoder.depth() == 0 && path_matches(path) => vec![whole_file(rule, fragment)],
                _ => Vec::new(),
            };
        };
        if rule.path.as_ref().is_some_and(|path| !path_matches(path)) {
            return Vec::new();
        }
        let text = pass.decoder.text();
        let windowed = match (&self.windowed[index], pass.path) {
            (Some(windowed), Path::Fast) => windowed.find_iter(text, self.rule_keywords[index].iter().flat_map(|&k| pass.keyword_hits[k].iter().cloned())),
            _ => None,
        };
        let spans = windowed.unwrap_or_else(|| regex.find_iter(text).map(|matched| matched.range()).collect());
        let mut findings = Vec::new();
        for span in spans {
            if let Some(found) = self.candidate(pass, index, regex, span) {
                findings.push(found);
            }
        }
        if inherited || rule.required.is_empty() || findings.is_empty() {
            return findings;
        }
        self.with_required(pass, rule, findings)
    }

    /// A regex match through gitleaks' checks (steps 3–6), or `None` when something drops it.
    fn candidate(&self, pass: &Pass<'_>, index: usize, regex: &regex::bytes::Regex, span: Range<usize>) -> Option<Found> {
        let (fragment, text, rule) = (pass.fragment, pass.decoder.text(), &self.rules[index]);
        // gitleaks trims newlines off the match (a pattern may consume the next line's `\n`).
        let leading = text[span.clone()].iter().take_while(|&&b| b == b'\n').count();
        let trailing = text[span.start + leading..span.end].iter().rev().take_while(|&&b| b == b'\n').count();
        let trimmed = span.start + leading..span.end - trailing;
        let (original, located) = if pass.decoder.depth() == 0 {
            // gitleaks keeps the start and shortens the end by what was trimmed.
            (span.start..span.start + trimmed.len(), None)
        } else {
            let located = pass.decoder.locate(span)?;
            (located.original.clone(), Some(located))
        };
        let location = gitleaks_location(pass.newlines(), fragment.bytes, original.clone());
        if pass.allowed_inline(location.line.clone()) {
            return None;
        }
        let line = located.as_ref().map_or_else(|| location.line.clone(), |l| l.line.clone());

        let matched = &text[trimmed.clone()];
        let secret_in_match = secret_range(regex, rule.secret_group, matched);
        let secret = &matched[secret_in_match.clone()];
        let entropy = shannon_entropy(secret);
        if rule.entropy.is_some_and(|threshold| threshold != 0.0 && entropy <= threshold) {
            return None;
        }
        let finding = Candidate { secret, matched, line };
        if self.global.clone().chain(self.rule_allowlists[index].clone()).any(|id| self.allows(pass, id, &finding)) {
            return None;
        }

        let mut tags = rule.tags.clone();
        let (secret_span, decoded) = match located {
            None => (trimmed.start + secret_in_match.start..trimmed.start + secret_in_match.end, None),
            Some(located) => {
                tags.extend(located.gitleaks_tags());
                (original.clone(), Some(Decoded { depth: located.depth, chain: located.chain, secret: secret.to_vec() }))
            }
        };
        let start_line = fragment.start_line + location.start_line;
        Some(Found {
            rule_id: rule.id.clone(),
            start_line,
            start_column: location.start_column,
            end_line: fragment.start_line + location.end_line,
            end_column: location.end_column,
            match_span: original,
            secret_span,
            entropy,
            tags,
            fingerprint: fingerprint(fragment, &rule.id, start_line),
            whole_file: false,
            decoded,
            required: Vec::new(),
        })
    }

    /// Composite rules: the primary findings that have, for every required rule, a finding of
    /// it within the required distance (gitleaks' `processRequiredRules`). gitleaks attaches
    /// every nearby finding; we attach at most [`MAX_REQUIRED_EVIDENCE`] per required rule, so
    /// a fragment crowded with both parts cannot multiply the findings it returns.
    fn with_required(&self, pass: &Pass<'_>, rule: &Rule, primaries: Vec<Found>) -> Vec<Found> {
        let required: Vec<(&Required, Vec<Found>)> = rule
            .required
            .iter()
            .filter_map(|required| {
                let index = *self.by_id.get(&required.id)?;
                let mut candidates = self.detect_rule(pass, index, true);
                candidates.sort_by_key(|found| (found.start_line, found.start_column));
                Some((required, candidates))
            })
            .collect();
        primaries
            .into_iter()
            .filter_map(|mut primary| {
                for (condition, candidates) in &required {
                    // Sorted by line: only the window of lines allowed is searched.
                    let window = match condition.within_lines {
                        Some(lines) => {
                            let lines = usize::try_from(lines).unwrap_or(usize::MAX);
                            let first = primary.start_line.saturating_sub(lines);
                            let last = primary.start_line.saturating_add(lines);
                            &candidates[candidates.partition_point(|c| c.start_line < first)..candidates.partition_point(|c| c.start_line <= last)]
                        }
                        None => &candidates[..],
                    };
                    let near: Vec<Found> = window.iter().filter(|other| within(&primary, other, condition)).take(MAX_REQUIRED_EVIDENCE).cloned().collect();
                    if near.is_empty() {
                        return None;
                    }
                    primary.required.extend(near);
                }
                Some(primary)
            })
            .collect()
    }
}

/// Nearby findings of one required rule attached to a composite finding.
pub const MAX_REQUIRED_EVIDENCE: usize = 8;

/// One decoding pass of one fragment.
struct Pass<'a> {
    fragment: &'a Fragment<'a>,
    /// Per keyword id, its occurrences in this pass's text (empty on the reference path).
    keyword_hits: &'a [Vec<Range<usize>>],
    /// Offsets of the fragment's newlines, found on first use.
    newlines: &'a OnceCell<Vec<usize>>,
    /// Offsets of `gitleaks:allow` in the fragment, found on first use, so a long line with
    /// many candidates is searched once.
    allow_marks: &'a OnceCell<Vec<usize>>,
    allow_signature: &'a AhoCorasick,
    decoder: &'a Decoder<'a>,
    /// Line-target allowlist verdicts by (allowlist, line span in this pass's text): every
    /// candidate on a long line would otherwise run the allowlist's regexes over it again.
    line_verdicts: RefCell<HashMap<(usize, Range<usize>), bool>>,
    path: Path,
}

impl Pass<'_> {
    fn newlines(&self) -> &[usize] {
        self.newlines.get_or_init(|| memchr::memchr_iter(b'\n', self.fragment.bytes).collect())
    }

    /// Whether `line` (a span of the fragment) contains `gitleaks:allow`.
    fn allowed_inline(&self, line: Range<usize>) -> bool {
        // The signature cannot overlap itself, so non-overlapping matches are all of them.
        let marks = self.allow_marks.get_or_init(|| self.allow_signature.find_iter(self.fragment.bytes).map(|found| found.start()).collect());
        marks.get(marks.partition_point(|&mark| mark < line.start)).is_some_and(|&mark| mark + ALLOW_SIGNATURE.len() <= line.end)
    }
}

/// What allowlists test a candidate against.
struct Candidate<'a> {
    secret: &'a [u8],
    matched: &'a [u8],
    /// The candidate's line, in the pass's text (the fragment, or the decoded text).
    line: Range<usize>,
}

/// An allowlist with its stop words in one automaton.
struct CompiledAllowlist {
    allowlist: Allowlist,
    /// ASCII case-insensitive over the lowercased stop words; `None` without stop words, or
    /// when it could not be built (then each stop word is searched for in turn).
    stopwords: Option<AhoCorasick>,
}

impl CompiledAllowlist {
    fn new(allowlist: &Allowlist) -> CompiledAllowlist {
        let stopwords = if allowlist.stopwords.is_empty() { None } else { AhoCorasick::builder().ascii_case_insensitive(true).build(&allowlist.stopwords).ok() };
        CompiledAllowlist { allowlist: allowlist.clone(), stopwords }
    }

    /// gitleaks lowercases the secret and looks for any stop word in it.
    fn has_stopword(&self, secret: &[u8]) -> bool {
        match &self.stopwords {
            Some(automaton) => automaton.is_match(secret),
            None => {
                let secret = secret.to_ascii_lowercase();
                self.allowlist.stopwords.iter().any(|word| contains(&secret, word.as_bytes()))
            }
        }
    }
}

fn whole_file(rule: &Rule, fragment: &Fragment<'_>) -> Found {
    Found {
        rule_id: rule.id.clone(),
        start_line: 0,
        start_column: 0,
        end_line: 0,
        end_column: 0,
        match_span: 0..0,
        secret_span: 0..0,
        entropy: 0.0,
        tags: rule.tags.clone(),
        fingerprint: fingerprint(fragment, &rule.id, 0),
        whole_file: true,
        decoded: None,
        required: Vec::new(),
    }
}

fn fingerprint(fragment: &Fragment<'_>, rule_id: &str, line: usize) -> String {
    match fragment.commit {
        Some(commit) if !commit.is_empty() => format!("{commit}:{}:{rule_id}:{line}", fragment.path),
        _ => format!("{}:{rule_id}:{line}", fragment.path),
    }
}

/// The secret within the match: `secret_group`, else the first non-empty group, else all of it.
/// gitleaks runs the regex again on the match alone to find the groups.
fn secret_range(regex: &regex::bytes::Regex, secret_group: usize, matched: &[u8]) -> Range<usize> {
    let whole = 0..matched.len();
    if regex.captures_len() < 2 {
        return whole;
    }
    let Some(captures) = regex.captures(matched) else { return whole };
    if secret_group > 0 {
        // A group that did not take part is Go's empty string.
        return captures.get(secret_group).map_or(0..0, |group| group.range());
    }
    captures.iter().skip(1).flatten().find(|group| !group.is_empty()).map_or(whole, |group| group.range())
}

fn commit_allowed(allowlist: &Allowlist, commit: Option<&str>) -> bool {
    commit.is_some_and(|commit| !commit.is_empty() && allowlist.commits.iter().any(|c| c.eq_ignore_ascii_case(commit)))
}

fn path_allowed(allowlist: &Allowlist, path: &str) -> bool {
    !path.is_empty() && allowlist.paths.iter().any(|regex| regex.is_match(path.as_bytes()))
}

/// gitleaks' `checkCommitOrPathAllowed`: an allowlist that skips the fragment (or, per rule,
/// the rule) before any match. An AND allowlist with regexes or stopwords waits for the match.
fn skips_fragment(allowlist: &Allowlist, fragment: &Fragment<'_>) -> bool {
    if fragment.path.is_empty() && fragment.commit.is_none_or(str::is_empty) {
        return false;
    }
    let commit = commit_allowed(allowlist, fragment.commit);
    let path = path_allowed(allowlist, fragment.path);
    match allowlist.condition {
        Condition::Or => commit || path,
        Condition::And => {
            allowlist.regexes.is_empty()
                && allowlist.stopwords.is_empty()
                && (allowlist.commits.is_empty() || commit)
                && (allowlist.paths.is_empty() || path)
        }
    }
}

impl Detector {
    /// gitleaks' `checkFindingAllowed` for allowlist `id`.
    fn allows(&self, pass: &Pass<'_>, id: usize, candidate: &Candidate<'_>) -> bool {
        let compiled = &self.allowlists[id];
        let allowlist = &compiled.allowlist;
        let fragment = pass.fragment;
        let matches = |target: &[u8]| !target.is_empty() && allowlist.regexes.iter().any(|regex| regex.is_match(target));
        let regex = !allowlist.regexes.is_empty()
            && match allowlist.regex_target {
                RegexTarget::Secret => matches(candidate.secret),
                RegexTarget::Match => matches(candidate.matched),
                RegexTarget::Line => *pass
                    .line_verdicts
                    .borrow_mut()
                    .entry((id, candidate.line.clone()))
                    .or_insert_with(|| matches(&pass.decoder.text()[candidate.line.clone()])),
            };
        let commit = commit_allowed(allowlist, fragment.commit);
        let path = path_allowed(allowlist, fragment.path);
        let stopword = !allowlist.stopwords.is_empty() && compiled.has_stopword(candidate.secret);
        match allowlist.condition {
            Condition::Or => commit || path || regex || stopword,
            Condition::And => {
                (allowlist.commits.is_empty() || commit)
                    && (allowlist.paths.is_empty() || path)
                    && (allowlist.regexes.is_empty() || regex)
                    && (allowlist.stopwords.is_empty() || stopword)
            }
        }
    }
}

/// gitleaks' `withinProximity`, on reported start lines and columns.
fn within(primary: &Found, other: &Found, required: &Required) -> bool {
    let lines = required.within_lines.is_none_or(|max| primary.start_line.abs_diff(other.start_line) as u64 <= max);
    let columns = required.within_columns.is_none_or(|max| primary.start_column.abs_diff(other.start_column) as u64 <= max);
    lines && columns
}

/// gitleaks' `filter`: a `generic` rule's finding yields to a specific rule's finding on the
/// same line whose secret contains it. gitleaks compares every pair; here each line's generic
/// secrets form one automaton run over that line's specific secrets, so a line crowded with
/// findings stays linear.
fn drop_generic_duplicates(found: Vec<Found>, fragment: &[u8]) -> Vec<Found> {
    let is_generic = |f: &Found| f.rule_id.to_ascii_lowercase().contains("generic");
    let mut lines: BTreeMap<usize, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (index, f) in found.iter().enumerate() {
        let (generic, specific) = lines.entry(f.start_line).or_default();
        if is_generic(f) { generic.push(index) } else { specific.push(index) }
    }
    let mut keep = vec![true; found.len()];
    for (generic, specific) in lines.values() {
        if generic.is_empty() || specific.is_empty() {
            continue;
        }
        let Ok(automaton) = AhoCorasick::new(generic.iter().map(|&g| found[g].secret(fragment))) else { continue };
        for &s in specific {
            for contained in automaton.find_overlapping_iter(found[s].secret(fragment)) {
                keep[generic[contained.pattern().as_usize()]] = false;
            }
        }
    }
    found.into_iter().zip(keep).filter_map(|(f, keep)| keep.then_some(f)).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|window| window == needle)
}

/// gitleaks' `location`: 0-based line indexes (the caller adds the fragment's first line
/// number), its columns, and the line(s) of the match as a byte range.
#[derive(Debug, Default)]
struct Location {
    start_line: usize,
    end_line: usize,
    start_column: usize,
    end_column: usize,
    line: Range<usize>,
}

fn gitleaks_location(newlines: &[usize], raw: &[u8], span: Range<usize>) -> Location {
    // Without newlines gitleaks pretends one follows the text.
    let pretend = [raw.len()];
    let newlines = if newlines.is_empty() { &pretend[..] } else { newlines };
    let (start, end) = (span.start, span.end);
    // gitleaks walks the newlines; line k spans [newline k-1 (or 0), newline k).
    let previous = |k: usize| if k == 0 { 0 } else { newlines[k - 1] };
    let start_index = newlines.partition_point(|&n| n <= start);
    if start_index == newlines.len() {
        // After the last newline: gitleaks numbers it one past the last line.
        let last = newlines[newlines.len() - 1];
        let line_end = raw[end.min(raw.len())..].iter().position(|&b| b == b'\n' || b == b'\r').map_or(raw.len(), |i| end + i);
        return Location {
            start_line: newlines.len(),
            end_line: newlines.len(),
            start_column: start + 1 - last.min(start + 1),
            end_column: end.saturating_sub(last),
            line: last.min(start)..line_end.max(end),
        };
    }
    let mut location = Location::default();
    let set_start = |location: &mut Location| {
        location.start_line = start_index;
        location.end_line = start_index;
        location.start_column = start - previous(start_index) + 1;
        location.line = previous(start_index)..newlines[start_index];
    };
    let end_index = newlines.partition_point(|&n| n < end);
    let set_end = |location: &mut Location| {
        location.end_line = end_index;
        location.end_column = end - previous(end_index);
        location.line.end = newlines[end_index];
    };
    let end_found = end > 0 && end_index < newlines.len();
    // Applied in gitleaks' loop order: the later line wins.
    if end_found && end_index < start_index {
        set_end(&mut location);
        set_start(&mut location);
    } else {
        set_start(&mut location);
        if end_found {
            set_end(&mut location);
        }
    }
    location.line.end = location.line.end.max(end);
    location
}

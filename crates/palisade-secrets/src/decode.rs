//! Decoding of encoded segments, as gitleaks does it, so a secret hidden in base64, hex,
//! percent- or Unicode-escape encoding is found by the same rules and reported where the
//! encoded text sits in the original.
//!
//! Semantics follow gitleaks v8.30 (`detect/codec/*.go` and the scan loop in
//! `detect/detect.go`, commit b58d3f10), re-implemented here, not copied:
//!
//! - **Passes.** The detector scans the raw fragment, then decodes and rescans, up to
//!   `--max-decode-depth` passes (default 5; 0 disables decoding). Each pass decodes the whole
//!   text of the previous pass, replacing every decoded segment in place, and the loop stops
//!   early when a pass decodes nothing. A match in pass *k* (k ≥ 1) only counts when it
//!   overlaps a segment decoded in that pass (otherwise an earlier pass already saw it) —
//!   see [`Decoder::locate`].
//! - **Candidates.** One leftmost-first alternation, tried at each position in this order
//!   (which is also the precedence, highest first):
//!   1. percent: `%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?` — from the first escape to the last
//!      escape on the same line (`.` stops at `\n`);
//!   2. unicode: a run of `U+XXXX` each followed by an ASCII space or the end of the text, or
//!      a run of `\uXXXX` / `\\uXXXX` (case-insensitive `u`);
//!   3. hex: `[0-9A-Fa-f]{32,}`;
//!   4. base64: `[A-Za-z0-9_/+-]{16,}={0,2}` (standard and URL-safe alphabets together).
//!
//!   The matches do not overlap, but two may touch; a match that touches or overlaps a
//!   neighbour of higher precedence is left for a later pass (gitleaks' overlap test is
//!   inclusive of the end).
//! - **Decoding.** Decoded bytes must be printable ASCII (0x09..=0x7E) for base64, hex and for
//!   each `%XX` escape; otherwise the segment is left alone. base64 is tried as standard
//!   base64 with padding (length a multiple of 4, non-canonical trailing bits accepted), then
//!   as unpadded URL-safe base64, and only when the segment holds at least one of
//!   `0-9 + / - _` (long identifiers are not decoded). hex needs an even length and at least
//!   one digit `0-9`. percent copies other bytes as they are. unicode decodes each code point
//!   to UTF-8 (lone surrogates become U+FFFD) and, for the `U+XXXX` form, drops the
//!   whitespace between code points, as gitleaks does. A segment that decodes to nothing is
//!   skipped.
//! - **Nesting.** A segment found in pass *k* carries the encodings of every pass-(k−1)
//!   segment whose decoded range touches it, plus its own; its depth is *k*. gitleaks reports
//!   the set (`decoded:base64`, `decode-depth:2`, see [`Located::gitleaks_tags`]); we also keep
//!   the ordered chain (outermost first, e.g. `[Base64, Percent]`).
//! - **Locations.** A match contained in a decoded segment is reported at the whole encoded
//!   segment of the original; a match partly outside is widened by what lies outside, mapped
//!   back pass by pass ([`Decoder::locate`]). Unlike gitleaks, text outside every segment is
//!   mapped through the length changes of earlier segments instead of being returned as-is.
//!
//! Caps ([`DecodeLimits`]) bound the work on hostile input: passes, decoded bytes and
//! segments per fragment. When a cap stops decoding, [`Decoder::limit_hit`] says which, so the
//! caller can warn; what was decoded so far stays valid. Each pass is linear in its text (every
//! candidate test looks at most 32 bytes ahead before failing, and a percent run is searched
//! once per line).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;

/// An encoding gitleaks decodes, in its precedence order (percent highest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Encoding {
    Percent,
    Unicode,
    Hex,
    Base64,
}

impl Encoding {
    const ALL: [Encoding; 4] = [Encoding::Percent, Encoding::Unicode, Encoding::Hex, Encoding::Base64];

    /// The name gitleaks uses in its `decoded:<name>` tags.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Percent => "percent",
            Encoding::Unicode => "unicode",
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// Higher wins when two candidates touch (gitleaks: earlier in its list wins).
    fn precedence(self) -> u8 {
        4 - self as u8
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Caps on decoding one fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Decoding passes after the raw scan (gitleaks `--max-decode-depth`, default 5).
    pub max_depth: usize,
    /// Decoded bytes produced over all passes; a segment that would exceed it stays encoded.
    pub max_decoded_bytes: usize,
    /// Candidate segments examined over all passes, decoded or not (bounds the work on text
    /// made of nothing but candidates).
    pub max_segments: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits { max_depth: 5, max_decoded_bytes: 16 << 20, max_segments: 100_000 }
    }
}

/// Which cap stopped decoding short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    DecodedBytes,
    Segments,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::DecodedBytes => "decoded-bytes cap reached, larger segments left encoded",
            Limit::Segments => "candidate-segment cap reached, further segments left encoded",
        })
    }
}

/// One decoded segment of a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The pass that decoded it (1 = decoded from the raw fragment).
    pub depth: usize,
    /// Its encoding in the previous pass's text.
    pub encoded: Range<usize>,
    /// Its decoded value in this pass's text.
    pub decoded: Range<usize>,
    /// The bytes of the raw fragment it came from.
    pub original: Range<usize>,
    /// The decodings that produced it, outermost first (follows the first touching segment of
    /// the previous pass).
    pub chain: Vec<Encoding>,
    /// gitleaks' set: its own encoding and those of every touching previous-pass segment.
    encodings: u8,
}

/// Where a match in decoded text belongs in the raw fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// Span in the raw fragment (report line/column from here).
    pub original: Range<usize>,
    /// Decoding pass of the match.
    pub depth: usize,
    /// Encodings involved, in gitleaks' order (percent, unicode, hex, base64), each once.
    pub encodings: Vec<Encoding>,
    /// Ordered chain of the first segment the match touches, outermost first.
    pub chain: Vec<Encoding>,
    /// The line(s) of the current text around the touched segments, as gitleaks' `CurrentLine`
    /// (it starts at the preceding `\n`, included, or at the start of the text).
    pub line: Range<usize>,
}

impl Located {
    /// gitleaks' finding tags: `decoded:<encoding>` for each encoding, then `decode-depth:<n>`.
    pub fn gitleaks_tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self.encodings.iter().map(|e| format!("decoded:{e}")).collect();
        tags.push(format!("decode-depth:{}", self.depth));
        tags
    }
}

/// Decodes a fragment pass by pass. Scan [`Decoder::text`], then call [`Decoder::next_pass`]
/// until it returns `false`; [`Decoder::locate`] maps matches of the current pass back.
pub struct Decoder<'a> {
    text: Cow<'a, [u8]>,
    /// Segments of each pass so far; `passes[k - 1]` belongs to depth `k`.
    passes: Vec<Vec<Segment>>,
    limits: DecodeLimits,
    decoded_bytes: usize,
    candidate_count: usize,
    limit_hit: Option<Limit>,
    /// Offsets of the current text's newlines, found when a match is first located, so many
    /// matches on one long line do not each scan it.
    newlines: OnceCell<Vec<usize>>,
}

impl<'a> Decoder<'a> {
    pub fn new(fragment: &'a [u8], limits: DecodeLimits) -> Self {
        Decoder { text: Cow::Borrowed(fragment), passes: Vec::new(), limits, decoded_bytes: 0, candidate_count: 0, limit_hit: None, newlines: OnceCell::new() }
    }

    /// The text of the current pass (the raw fragment at depth 0).
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The current pass: 0 for the raw fragment.
    pub fn depth(&self) -> usize {
        self.passes.len()
    }

    /// Segments decoded by the current pass (empty at depth 0).
    pub fn segments(&self) -> &[Segment] {
        self.passes.last().map_or(&[], Vec::as_slice)
    }

    /// The cap that stopped decoding short, if any.
    pub fn limit_hit(&self) -> Option<Limit> {
        self.limit_hit
    }

    /// Decodes the current text into the next pass. `false` (and nothing changes) when the
    /// depth cap is reached or nothing in the text decodes.
    pub fn next_pass(&mut self) -> bool {
        if self.passes.len() >= self.limits.max_depth {
            return false;
        }
        let depth = self.passes.len() + 1;
        let text: &[u8] = &self.text;
        let mut out = Vec::new();
        let mut segments = Vec::new();
        let mut copied = 0;
        let (found, more) = candidates(text, self.limits.max_segments - self.candidate_count);
        self.candidate_count += found.len();
        if more {
            self.limit_hit = Some(Limit::Segments);
        }
        for (encoding, span) in found {
            let encoded = &text[span.clone()];
            let budget = self.limits.max_decoded_bytes - self.decoded_bytes;
            if decoded_len_bound(encoding, encoded.len()) > budget {
                self.limit_hit = Some(Limit::DecodedBytes);
                continue;
            }
            let Some(value) = decode_segment(encoding, encoded) else { continue };
            if value.is_empty() {
                continue;
            }
            if out.capacity() == 0 {
                out.reserve(text.len());
            }
            out.extend_from_slice(&text[copied..span.start]);
            let start = out.len();
            out.extend_from_slice(&value);
            copied = span.end;
            self.decoded_bytes += value.len();

            let (chain, encodings) = match self.passes.last() {
                None => (vec![encoding], encoding.bit()),
                Some(previous) => {
                    let touching = touching(previous, &span);
                    let mut chain = touching.first().map_or_else(Vec::new, |p| p.chain.clone());
                    chain.push(encoding);
                    (chain, touching.iter().fold(encoding.bit(), |bits, p| bits | p.encodings))
                }
            };
            let original = to_original(&self.passes, span.clone());
            segments.push(Segment { depth, encoded: span, decoded: start..out.len(), original, chain, encodings });
        }
        if segments.is_empty() {
            return false;
        }
        out.extend_from_slice(&text[copied..]);
        self.text = Cow::Owned(out);
        self.passes.push(segments);
        self.newlines = OnceCell::new();
        true
    }

    /// Maps a match `span` in the current text to the raw fragment. At depth 0 the span is
    /// returned as it is; in a decoding pass, `None` when the match touches no segment decoded
    /// in this pass (an earlier pass already scanned that text).
    pub fn locate(&self, span: Range<usize>) -> Option<Located> {
        let Some(current) = self.passes.last() else {
            return Some(Located { original: span.clone(), depth: 0, encodings: Vec::new(), chain: Vec::new(), line: self.line_around(span) });
        };
        let touching = touching(current, &span);
        let first = touching.first()?;
        let bits = touching.iter().fold(0, |bits, s| bits | s.encodings);
        let merged = touching.iter().fold(first.decoded.clone(), |m, s| m.start.min(s.decoded.start)..m.end.max(s.decoded.end));
        Some(Located {
            original: to_original(&self.passes, span),
            depth: first.depth,
            encodings: Encoding::ALL.into_iter().filter(|e| bits & e.bit() != 0).collect(),
            chain: first.chain.clone(),
            line: self.line_around(merged),
        })
    }
}

/// gitleaks' overlap test: ranges that merely touch count.
fn touches(a: &Range<usize>, b: &Range<usize>) -> bool {
    b.start <= a.end && a.start <= b.end
}

impl Decoder<'_> {
    /// gitleaks' `CurrentLine`: from the `\n` at or before `span.start` (or the start) to the
    /// `\n` at or after `span.end` (or the end).
    fn line_around(&self, span: Range<usize>) -> Range<usize> {
        let text: &[u8] = &self.text;
        let newlines = self.newlines.get_or_init(|| memchr::memchr_iter(b'\n', text).collect());
        let back_from = span.start.min(text.len().saturating_sub(1));
        let start = newlines.partition_point(|&n| n <= back_from).checked_sub(1).map_or(0, |i| newlines[i]);
        let from = span.end.min(text.len());
        let end = newlines.get(newlines.partition_point(|&n| n < from)).copied().unwrap_or(text.len());
        start..end
    }
}

/// The segments whose decoded text touches `span`: segments are in text order and do not
/// overlap, so they form one run, found by binary search (a pass may hold many thousands).
fn touching<'s>(segments: &'s [Segment], span: &Range<usize>) -> &'s [Segment] {
    let first = segments.partition_point(|s| s.decoded.end < span.start);
    let end = segments.partition_point(|s| s.decoded.start <= span.end);
    &segments[first..end.max(first)]
}

/// Maps a span of the newest pass's text back through every pass to the raw fragment.
fn to_original(passes: &[Vec<Segment>], mut span: Range<usize>) -> Range<usize> {
    for segments in passes.iter().rev() {
        span = map_up(segments, span);
    }
    span
}

/// Maps a span of one pass's text to the previous pass's text: a span inside one decoded
/// segment becomes the whole encoded segment; otherwise each end is mapped on its own, an end
/// inside a segment moving outward to the segment's encoded edge.
fn map_up(segments: &[Segment], span: Range<usize>) -> Range<usize> {
    if let Some(s) = touching(segments, &span).iter().find(|s| s.decoded.start <= span.start && span.end <= s.decoded.end) {
        return s.encoded.clone();
    }
    let map_point = |x: usize, is_start: bool| -> usize {
        // Segments are in text order; the last one starting at or before x decides.
        let i = segments.partition_point(|s| s.decoded.start <= x);
        let Some(s) = i.checked_sub(1).map(|i| &segments[i]) else { return x };
        if x >= s.decoded.end {
            s.encoded.end + (x - s.decoded.end)
        } else if x == s.decoded.start || is_start {
            s.encoded.start
        } else {
            s.encoded.end
        }
    };
    let start = map_point(span.start, true);
    start..map_point(span.end, false).max(start)
}

/// The candidate segments of one pass, in text order, after gitleaks' precedence filter: at
/// most `max` of them, and whether the text holds more.
fn candidates(text: &[u8], max: usize) -> (Vec<(Encoding, Range<usize>)>, bool) {
    let all = matches(text, max);
    let beaten = |m: &(Encoding, Range<usize>), other: Option<&(Encoding, Range<usize>)>| {
        other.is_some_and(|o| touches(&o.1, &m.1) && o.0.precedence() > m.0.precedence())
    };
    let more = all.len() > max;
    let kept = (0..all.len().min(max))
        .filter(|&k| !beaten(&all[k], k.checked_sub(1).map(|p| &all[p])) && !beaten(&all[k], all.get(k + 1)))
        .map(|k| all[k].clone())
        .collect();
    (kept, more)
}

/// The alternation's successive leftmost-first matches, up to one beyond `max` (so the last
/// kept one still meets its right neighbour): what trying the alternatives in precedence order
/// at each position in turn finds (the tests hold it to exactly that), reading ordinary text
/// once. Only the positions [`next_possible_start`] finds are tried: `%` only starts percent,
/// `\` only unicode, `U+` unicode, and a run of base64 bytes hex or base64.
fn matches(text: &[u8], max: usize) -> Vec<(Encoding, Range<usize>)> {
    let mut all = Vec::new();
    let mut i = next_possible_start(text, 0);
    while i < text.len() && all.len() <= max {
        let b = text[i];
        let found = match b {
            b'%' => match_percent(text, i).map(|end| (Encoding::Percent, end)),
            b'\\' => match_unicode(text, i).map(|end| (Encoding::Unicode, end)),
            _ => {
                let unicode = if b == b'U' { match_unicode(text, i) } else { None };
                if let Some(end) = unicode {
                    Some((Encoding::Unicode, end))
                } else {
                    let run = run_len(text, i, |b| BASE64_BYTE[usize::from(*b)]);
                    let hex = if run >= 32 { run_len(text, i, u8::is_ascii_hexdigit) } else { 0 };
                    if hex >= 32 {
                        Some((Encoding::Hex, i + hex))
                    } else if run >= 16 {
                        let end = i + run;
                        Some((Encoding::Base64, end + text[end..].iter().take(2).take_while(|&&b| b == b'=').count()))
                    } else {
                        None
                    }
                }
            }
        };
        i = match found {
            Some((encoding, end)) => {
                all.push((encoding, i..end));
                end
            }
            None => i + 1,
        };
        i = next_possible_start(text, i);
    }
    all
}

/// Bytes classified per block by [`next_possible_start`], plus the 16 after them that a base64
/// run starting in the block may need.
const BLOCK: usize = 64;

/// The first position from `from` (or the end) where a candidate can start: a `%`, a `\`, a
/// `U+`, or a base64 byte followed by at least 15 more (hex needs 32 hex digits, themselves
/// base64 bytes). The bytes are classified a block at a time into bit masks, in straight-line
/// code the compiler turns into vector compares, so ordinary text costs a fraction of a
/// cycle per byte and no branch per byte.
fn next_possible_start(text: &[u8], mut from: usize) -> usize {
    while let Some(window) = text.get(from..from + BLOCK + 16) {
        let (base64, special) = block_masks(window.try_into().expect("the window is BLOCK + 16 bytes"));
        // Bit k of `run` is set when bytes k..k+16 are all base64 bytes.
        let mut run = base64;
        run &= run >> 1;
        run &= run >> 2;
        run &= run >> 4;
        run &= run >> 8;
        let starts = (run | special) as u64;
        if starts != 0 {
            return from + starts.trailing_zeros() as usize;
        }
        from += BLOCK;
    }
    (from..text.len())
        .find(|&j| {
            let b = text[j];
            b == b'%' || b == b'\\' || (b == b'U' && text.get(j + 1) == Some(&b'+')) || run_len(&text[j..], 0, is_base64_byte) >= 16
        })
        .unwrap_or(text.len())
}

/// For the window's bytes, bit k set: `base64` when byte k is a base64 byte; `special` when it
/// is `%`, `\\`, or a `U` followed by `+` (only the block's first [`BLOCK`] bits are meaningful).
/// On x86-64, sixteen bytes take a dozen SSE2 instructions where the byte-by-byte loop takes
/// several per byte.
#[cfg(target_arch = "x86_64")]
fn block_masks(window: &[u8; BLOCK + 16]) -> (u128, u128) {
    // SAFETY: SSE2 is part of the x86-64 baseline, so every CPU running this has it.
    unsafe { sse2::block_masks(window) }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{__m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8};

    use super::BLOCK;

    #[target_feature(enable = "sse2")]
    fn equal(v: __m128i, b: u8) -> __m128i {
        _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))
    }

    /// `low <= v < low + count` bytewise: unsigned `v - low` is at most `count - 1` exactly when
    /// the minimum of the two is the difference itself.
    #[target_feature(enable = "sse2")]
    fn in_range(v: __m128i, low: u8, count: u8) -> __m128i {
        let offset = _mm_sub_epi8(v, _mm_set1_epi8(low as i8));
        _mm_cmpeq_epi8(_mm_min_epu8(offset, _mm_set1_epi8((count - 1) as i8)), offset)
    }

    #[target_feature(enable = "sse2")]
    fn load(bytes: &[u8; 16]) -> __m128i {
        // SAFETY: `bytes` is 16 readable bytes, and this load has no alignment requirement.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>()) }
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn block_masks(window: &[u8; BLOCK + 16]) -> (u128, u128) {
        let sixteen = |at: usize| -> &[u8; 16] { window[at..at + 16].try_into().expect("16 bytes") };
        let (mut base64, mut special) = (0u128, 0u128);
        for chunk in 0..(BLOCK + 16) / 16 {
            let v = load(sixteen(chunk * 16));
            // Each byte's successor; the last chunk's special bits lie past the block, unused.
            let next = load(sixteen((chunk * 16 + 1).min(BLOCK)));
            let letters = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
            let mut is_base64 = _mm_or_si128(letters, in_range(v, b'0', 10));
            for b in [b'_', b'/', b'+', b'-'] {
                is_base64 = _mm_or_si128(is_base64, equal(v, b));
            }
            let escape = _mm_or_si128(equal(v, b'%'), equal(v, b'\\'));
            let unicode = _mm_and_si128(equal(v, b'U'), equal(next, b'+'));
            base64 |= u128::from(_mm_movemask_epi8(is_base64) as u16) << (chunk * 16);
            special |= u128::from(_mm_movemask_epi8(_mm_or_si128(escape, unicode)) as u16) << (chunk * 16);
        }
        (base64, special)
    }
}

#[cfg(any(not(target_arch = "x86_64"), test))]
fn block_masks_bytewise(window: &[u8; BLOCK + 16]) -> (u128, u128) {
    let (mut base64, mut special) = (0u128, 0u128);
    for (k, &b) in window.iter().enumerate() {
        base64 |= u128::from(is_base64_byte(&b)) << k;
        let unicode = b == b'U' && window.get(k + 1) == Some(&b'+');
        special |= u128::from(b == b'%' || b == b'\\' || unicode) << k;
    }
    (base64, special)
}

#[cfg(not(target_arch = "x86_64"))]
use block_masks_bytewise as block_masks;

/// [`is_base64_byte`] as a table, for the scan's inner loops.
const BASE64_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_base64_byte(&(b as u8));
        b += 1;
    }
    table
};

fn run_len(text: &[u8], i: usize, class: impl Fn(&u8) -> bool) -> usize {
    text[i..].iter().take_while(|b| class(b)).count()
}

const fn is_base64_byte(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b'+' | b'-')
}

fn is_escape_at(text: &[u8], i: usize) -> bool {
    text.len() >= i + 3 && text[i] == b'%' && text[i + 1].is_ascii_hexdigit() && text[i + 2].is_ascii_hexdigit()
}

/// `%XX` followed greedily by anything up to the last `%XX` on the same line.
fn match_percent(text: &[u8], i: usize) -> Option<usize> {
    if !is_escape_at(text, i) {
        return None;
    }
    let line_end = text[i + 3..].iter().position(|&b| b == b'\n').map_or(text.len(), |p| i + 3 + p);
    let last = (i + 3..line_end.saturating_sub(2)).rev().find(|&j| is_escape_at(&text[..line_end], j));
    Some(last.map_or(i + 3, |j| j + 3))
}

/// Go's ASCII `\s` (RE2 `[\t\n\f\r ]`).
fn is_go_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn hex4_at(text: &[u8], i: usize) -> bool {
    text.len() >= i + 4 && text[i..i + 4].iter().all(u8::is_ascii_hexdigit)
}

/// `(?:U\+XXXX(?:\s|$))+` or `(?i)(?:\\{1,2}uXXXX)+`.
fn match_unicode(text: &[u8], i: usize) -> Option<usize> {
    let mut end = i;
    while text[end..].starts_with(b"U+") && hex4_at(text, end + 2) {
        let after = end + 6;
        if after == text.len() {
            end = after;
            break;
        }
        if !is_go_space(text[after]) {
            break;
        }
        end = after + 1;
    }
    if end > i {
        return Some(end);
    }
    loop {
        let slashes = text[end..].iter().take(2).take_while(|&&b| b == b'\\').count();
        let u = end + slashes;
        if slashes == 0 || !matches!(text.get(u), Some(b'u' | b'U')) || !hex4_at(text, u + 1) {
            break;
        }
        end = u + 5;
    }
    (end > i).then_some(end)
}

/// Upper bound of the decoded length, checked against the budget before decoding.
fn decoded_len_bound(encoding: Encoding, encoded_len: usize) -> usize {
    match encoding {
        Encoding::Base64 => encoded_len / 4 * 3 + 3,
        Encoding::Hex => encoded_len / 2,
        Encoding::Percent | Encoding::Unicode => encoded_len,
    }
}

/// gitleaks' printable set: tab, newlines, and 0x20..=0x7E.
fn is_printable(b: u8) -> bool {
    (0x09..0x7f).contains(&b)
}

fn decode_segment(encoding: Encoding, encoded: &[u8]) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Percent => decode_percent(encoded),
        Encoding::Unicode => Some(decode_unicode(encoded)),
        Encoding::Hex => decode_hex(encoded),
        Encoding::Base64 => decode_base64(encoded),
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

fn decode_percent(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        if is_escape_at(encoded, i) {
            let b = hex_value(encoded[i + 1]) << 4 | hex_value(encoded[i + 2]);
            if !is_printable(b) {
                return None;
            }
            out.push(b);
            i += 3;
        } else {
            out.push(encoded[i]);
            i += 1;
        }
    }
    Some(out)
}

fn decode_hex(encoded: &[u8]) -> Option<Vec<u8>> {
    if encoded.len() % 2 != 0 || !encoded.iter().any(u8::is_ascii_digit) {
        return None;
    }
    encoded
        .chunks_exact(2)
        .map(|pair| {
            let b = hex_value(pair[0]) << 4 | hex_value(pair[1]);
            is_printable(b).then_some(b)
        })
        .collect()
}

fn decode_base64(encoded: &[u8]) -> Option<Vec<u8>> {
    if !encoded.iter().any(|b| b.is_ascii_digit() || matches!(b, b'+' | b'/' | b'-' | b'_')) {
        return None;
    }
    let printable = |v: Vec<u8>| v.iter().all(|&b| is_printable(b)).then_some(v);
    base64_standard_padded(encoded).and_then(printable).or_else(|| base64_url_unpadded(encoded).and_then(printable))
}

fn base64_value(b: u8, url_safe: bool) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' if !url_safe => 62,
        b'/' if !url_safe => 63,
        b'-' if url_safe => 62,
        b'_' if url_safe => 63,
        _ => return None,
    } as u32)
}

/// Decodes base64 quanta (the last may hold 2 or 3 symbols; leftover bits are ignored, as Go's
/// non-strict decoder does). Stops at the first byte that is not printable.
fn base64_symbols(symbols: &[u8], url_safe: bool) -> Option<Vec<u8>> {
    if symbols.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3 + 2);
    for quantum in symbols.chunks(4) {
        let mut acc = 0u32;
        for &b in quantum {
            acc = acc << 6 | base64_value(b, url_safe)?;
        }
        acc <<= 6 * (4 - quantum.len() as u32);
        let bytes = acc.to_be_bytes();
        for &b in &bytes[1..quantum.len()] {
            if !is_printable(b) {
                return None;
            }
            out.push(b);
        }
    }
    Some(out)
}

fn base64_standard_padded(encoded: &[u8]) -> Option<Vec<u8>> {
    if encoded.len() % 4 != 0 {
        return None;
    }
    let padding = encoded.iter().rev().take_while(|&&b| b == b'=').count();
    base64_symbols(&encoded[..encoded.len() - padding], false)
}

fn base64_url_unpadded(encoded: &[u8]) -> Option<Vec<u8>> {
    base64_symbols(encoded, true)
}

fn push_code_point(out: &mut Vec<u8>, hex: &[u8]) {
    let value = hex.iter().fold(0u32, |v, &b| v << 4 | hex_value(b) as u32);
    let c = char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER);
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// Both unicode forms: `U+XXXX` separated by whitespace (dropped) or `\uXXXX` escapes.
fn decode_unicode(encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        match encoded[i] {
            b'U' if encoded.get(i + 1) == Some(&b'+') => {
                push_code_point(&mut out, &encoded[i + 2..i + 6]);
                i += 6;
            }
            b'u' | b'U' => {
                push_code_point(&mut out, &encoded[i + 1..i + 5]);
                i += 5;
            }
            _ => i += 1, // whitespace between code points, or the backslashes of an escape
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic generator of texts dense in near-candidates: short and long runs of
    /// hex and base64 bytes, `U+` and `\u` escapes (some broken), percent escapes, newlines.
    fn texts() -> impl Iterator<Item = Vec<u8>> {
        let pieces: [&[u8]; 18] = [
            b"U+0041 ", b"U+00", b"U+", b"\\u0062", b"\\\\U00", b"%41", b"%4", b"%", b"0123456789abcdef", b"ABCDEFGHIJKLMNOP", b"-_/+", b"==", b"\n", b" ",
            b"x", b"\xff", b"        ", b"let x = (y, z);\n",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        (0..3000).map(move |n| {
            let mut text = Vec::new();
            for _ in 0..n % 90 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let piece = pieces[(state % 18) as usize];
                text.extend_from_slice(&piece[..1 + (state >> 8) as usize % piece.len()]);
            }
            text
        })
    }

    /// The alternation tried at each position in turn, in precedence order: gitleaks'
    /// leftmost-first search spelled out.
    fn matches_at_every_position(text: &[u8], max: usize) -> Vec<(Encoding, Range<usize>)> {
        let match_at = |i: usize| {
            match_percent(text, i)
                .map(|e| (Encoding::Percent, e))
                .or_else(|| match_unicode(text, i).map(|e| (Encoding::Unicode, e)))
                .or_else(|| {
                    let run = run_len(text, i, u8::is_ascii_hexdigit);
                    (run >= 32).then_some((Encoding::Hex, i + run))
                })
                .or_else(|| {
                    let run = run_len(text, i, is_base64_byte);
                    (run >= 16).then(|| (Encoding::Base64, i + run + text[i + run..].iter().take(2).take_while(|&&b| b == b'=').count()))
                })
        };
        let mut all = Vec::new();
        let mut i = 0;
        while i < text.len() && all.len() <= max {
            match match_at(i) {
                Some((encoding, end)) => {
                    all.push((encoding, i..end));
                    i = end;
                }
                None => i += 1,
            }
        }
        all
    }

    #[test]
    fn block_masks_classify_every_byte_value_as_the_bytewise_loop_does() {
        for first in (0..=255u8).step_by(16) {
            let window: [u8; BLOCK + 16] = std::array::from_fn(|k| first.wrapping_add((k * 7 % 23) as u8) ^ if k % 5 == 0 { b'+' } else { 0 });
            let mut plus_after_u = window;
            plus_after_u.iter_mut().enumerate().for_each(|(k, b)| *b = if k % 2 == 0 { b'U' } else { b'+' });
            for window in [window, plus_after_u, std::array::from_fn(|k| k as u8 ^ first)] {
                let mask = (1u128 << BLOCK) - 1;
                let (base64, special) = block_masks(&window);
                let (expected_base64, expected_special) = block_masks_bytewise(&window);
                assert_eq!((base64, special & mask), (expected_base64, expected_special & mask), "{window:?}");
            }
        }
    }

    #[test]
    fn the_scan_finds_the_matches_of_trying_every_position() {
        for text in texts() {
            for max in [usize::MAX, 3] {
                assert_eq!(matches(&text, max), matches_at_every_position(&text, max), "{:?}", String::from_utf8_lossy(&text));
            }
        }
    }
}

//! Every occurrence of every rule keyword (ASCII case-insensitively, overlapping), the step
//! that reads each byte of every pass.
//!
//! An Aho-Corasick DFA takes one table lookup per byte, but each lookup needs the state the
//! previous one returned, so a single walk waits on memory at every byte. A long text is cut
//! into [`STREAMS`] regions walked in lockstep: the walks' lookups do not depend on each other
//! and the CPU overlaps them.
//!
//! Why the streams find exactly the occurrences of one walk over the whole text: a walk that
//! starts in the start state at offset `a` finds every occurrence that starts at or after `a`
//! (it is the automaton's search of `text[a..]`). Region `r` covers the starts in
//! `[a_r, a_{r+1})`; its walk starts at `a_r`, goes on until `a_{r+1} + longest - 1` so that
//! occurrences starting before `a_{r+1}` are complete, and keeps only those. Each occurrence
//! belongs to exactly one region. The walks report occurrences in order of their end, and all
//! occurrences of one keyword have the same length, so each keyword's occurrences, region after
//! region, are in text order.

use std::ops::Range;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

/// Walks in lockstep over a long text.
const STREAMS: usize = 4;

/// Below this many bytes per stream the text is walked once: cutting it gains nothing.
const MIN_REGION: usize = 256;

/// The keywords of every rule, searched together.
pub(crate) struct Keywords {
    dfa: DFA,
    longest: usize,
}

impl Keywords {
    /// `None` when there are no keywords or the automaton cannot be built (too large).
    pub(crate) fn new(keywords: &[&str]) -> Option<Keywords> {
        let longest = keywords.iter().map(|k| k.len()).max()?;
        let dfa = DFA::builder().ascii_case_insensitive(true).match_kind(MatchKind::Standard).prefilter(false).build(keywords).ok()?;
        Some(Keywords { dfa, longest })
    }

    pub(crate) fn len(&self) -> usize {
        self.dfa.patterns_len()
    }

    /// Every occurrence of each keyword in `text`, in text order, by keyword index.
    pub(crate) fn hits(&self, text: &[u8]) -> Vec<Vec<Range<usize>>> {
        let region = text.len() / STREAMS;
        let mut found: [Vec<(usize, Range<usize>)>; STREAMS] = Default::default();
        if region < MIN_REGION.max(self.longest) {
            self.walk(text, 0, text.len(), text.len(), &mut found[0]);
        } else {
            let starts: [usize; STREAMS] = std::array::from_fn(|r| r * region);
            let ends: [usize; STREAMS] = std::array::from_fn(|r| if r + 1 < STREAMS { starts[r + 1] } else { text.len() });
            let mut states = [self.start(); STREAMS];
            // Every walk has at least `region` bytes; the lockstep loop takes that many from each.
            let lockstep: [&[u8]; STREAMS] = std::array::from_fn(|r| &text[starts[r]..starts[r] + region]);
            #[expect(clippy::needless_range_loop, reason = "one offset indexes every stream's slice")]
            for offset in 0..region {
                for r in 0..STREAMS {
                    states[r] = self.dfa.next_state(Anchored::No, states[r], lockstep[r][offset]);
                    if self.dfa.is_special(states[r]) {
                        self.report(states[r], starts[r] + offset, ends[r], &mut found[r]);
                    }
                }
            }
            for r in 0..STREAMS {
                let stop = (ends[r] + self.longest - 1).min(text.len());
                self.walk_from(states[r], text, starts[r] + region, ends[r], stop, &mut found[r]);
            }
        }
        let mut hits = vec![Vec::new(); self.len()];
        for (pattern, span) in found.into_iter().flatten() {
            hits[pattern].push(span);
        }
        hits
    }

    fn start(&self) -> StateID {
        self.dfa.start_state(Anchored::No).expect("an unanchored start state exists: the DFA is built for unanchored search")
    }

    /// One walk from the start state at `from` to `stop`, keeping the occurrences that start
    /// before `end`.
    fn walk(&self, text: &[u8], from: usize, end: usize, stop: usize, found: &mut Vec<(usize, Range<usize>)>) {
        self.walk_from(self.start(), text, from, end, stop, found);
    }

    fn walk_from(&self, mut state: StateID, text: &[u8], from: usize, end: usize, stop: usize, found: &mut Vec<(usize, Range<usize>)>) {
        for (offset, &byte) in text[from..stop].iter().enumerate() {
            state = self.dfa.next_state(Anchored::No, state, byte);
            if self.dfa.is_special(state) {
                self.report(state, from + offset, end, found);
            }
        }
    }

    /// The occurrences ending at `at` in `state`, those starting before `end`. Out of line:
    /// most bytes end none, and the walks' loops stay small.
    #[cold]
    #[inline(never)]
    fn report(&self, state: StateID, at: usize, end: usize, found: &mut Vec<(usize, Range<usize>)>) {
        if !self.dfa.is_match(state) {
            return;
        }
        for index in 0..self.dfa.match_len(state) {
            let pattern = self.dfa.match_pattern(state, index);
            let start = at + 1 - self.dfa.pattern_len(pattern);
            if start < end {
                found.push((pattern.as_usize(), start..at + 1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aho_corasick::AhoCorasick;

    use super::*;

    /// What one overlapping search of the whole text finds, grouped by keyword.
    fn one_walk(keywords: &[&str], text: &[u8]) -> Vec<Vec<Range<usize>>> {
        let automaton = AhoCorasick::builder().ascii_case_insensitive(true).build(keywords).expect("builds");
        let mut hits = vec![Vec::new(); keywords.len()];
        for found in automaton.find_overlapping_iter(text) {
            hits[found.pattern().as_usize()].push(found.range());
        }
        hits
    }

    #[test]
    fn the_streams_find_what_one_walk_finds_across_region_boundaries() {
        let keywords = ["key", "ey", "api_key", "s.", "password", "PASS", "a", "aaaa"];
        let pieces: [&[u8]; 9] = [b"api_KEY", b"Key", b"passWORD", b"s.s.", b"aaaaa", b"x", b"\n", b"e", b"pass"];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for size in [0, 1, 100, STREAMS * MIN_REGION - 1, STREAMS * MIN_REGION, STREAMS * MIN_REGION + 3, 9 * MIN_REGION + 7, 100_003] {
            let mut text = Vec::new();
            while text.len() < size {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.extend_from_slice(pieces[(state % 9) as usize]);
            }
            text.truncate(size);
            let automaton = Keywords::new(&keywords).expect("builds");
            assert_eq!(automaton.hits(&text), one_walk(&keywords, &text), "text of {size} bytes");
        }
    }

    #[test]
    fn an_occurrence_across_a_region_boundary_is_found_once() {
        let keywords = ["password"];
        let automaton = Keywords::new(&keywords).expect("builds");
        for at in MIN_REGION - 8..=MIN_REGION {
            let mut text = vec![b' '; STREAMS * MIN_REGION];
            text[at..at + 8].copy_from_slice(b"PassWord");
            assert_eq!(automaton.hits(&text), vec![vec![at..at + 8]], "at {at}");
        }
    }
}

//! The lines a new version of a file added relative to an old one, as `git diff -U0` shows them.

use gix::diff::blob::{Algorithm, Diff, InternedInput, sources::byte_lines};

/// How far git looks for a NUL byte to call a blob binary (`FIRST_FEW_BYTES` in git's xdiff).
pub(crate) const BINARY_PROBE_BYTES: usize = 8000;

/// A run of consecutive added lines in the new version of a file (one hunk of `git diff -U0`,
/// minus its removed lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedHunk {
    /// 1-based line number of the first added line in the new file.
    pub first_line: u32,
    /// The added lines, each with its line terminator (the last line of a file may have none).
    pub text: Vec<u8>,
}

impl AddedHunk {
    /// The hunk's lines with their 1-based line numbers in the new file, terminators stripped.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &[u8])> {
        let text = self.text.strip_suffix(b"\n").unwrap_or(&self.text);
        text.split(|&b| b == b'\n').zip(self.first_line..).map(|(line, number)| (number, line))
    }
}

/// Git's binary test: a NUL byte within the first 8000 bytes.
pub(crate) fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(BINARY_PROBE_BYTES)].contains(&0)
}

/// The hunks of lines `new` added relative to `old` (empty for a new file), with git's default
/// algorithm (Myers) and slider placement (the indent heuristic, on by default since git 2.14), so
/// line numbers agree with `git log -p`.
pub(crate) fn added_hunks(old: &[u8], new: &[u8]) -> Vec<AddedHunk> {
    if new.is_empty() {
        return Vec::new();
    }
    if old.is_empty() {
        return vec![AddedHunk { first_line: 1, text: new.to_vec() }];
    }
    let input = InternedInput::new(byte_lines(old), byte_lines(new));
    let mut diff = Diff::compute(Algorithm::Myers, &input);
    diff.postprocess_lines(&input);
    diff.hunks()
        .filter(|hunk| !hunk.after.is_empty())
        .map(|hunk| AddedHunk {
            first_line: hunk.after.start + 1,
            text: input.after[hunk.after.start as usize..hunk.after.end as usize]
                .iter()
                .flat_map(|&token| input.interner[token].iter().copied())
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_file_reports_only_added_lines_with_new_numbers() {
        let hunks = added_hunks(b"a\nb\nc\n", b"a\nx\nb\nc\ny\nz");
        assert_eq!(
            hunks,
            vec![
                AddedHunk { first_line: 2, text: b"x\n".to_vec() },
                AddedHunk { first_line: 5, text: b"y\nz".to_vec() },
            ]
        );
        let lines: Vec<_> = hunks[1].lines().collect();
        assert_eq!(lines, vec![(5, &b"y"[..]), (6, &b"z"[..])]);
    }

    #[test]
    fn new_file_is_one_hunk_and_deletion_adds_nothing() {
        assert_eq!(added_hunks(b"", b"k\n"), vec![AddedHunk { first_line: 1, text: b"k\n".to_vec() }]);
        assert!(added_hunks(b"k\n", b"").is_empty());
        assert!(added_hunks(b"same\n", b"same\n").is_empty());
    }

    #[test]
    fn binary_means_nul_in_the_first_8000_bytes() {
        assert!(is_binary(b"ab\0c"));
        let mut late = vec![b'a'; BINARY_PROBE_BYTES];
        late.push(0);
        assert!(!is_binary(&late));
    }
}

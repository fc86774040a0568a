//! Licences named in `/usr/share/doc/NAME/copyright`, found as Syft 1.18.1 finds them: the
//! first word of each `License: ` line of a machine-readable copyright file, and the file name
//! after each `/usr/share/common-licenses/` reference (`/usr/share/common-licenses/GPL-2` is
//! `GPL-2`). Words that summarise several licences (`GPL-2+ or Artistic` gives `GPL-2+` and
//! the `or` is never seen) and `none` are left out; one final `.` is dropped (`GPL-2.` ends a
//! sentence). The result is sorted and without repeats.

use std::collections::BTreeSet;

use crate::os_release::Problems;

/// Syft reads the file line by line with Go's default scanner, which stops at the first line
/// this long; what came before still counts.
const LONGEST_LINE: usize = 64 * 1024;

const COMMON_LICENSES: &[u8] = b"/usr/share/common-licenses/";

pub(super) fn licenses(content: &[u8], problems: &mut Problems) -> Vec<String> {
    let mut found = BTreeSet::new();
    for (index, line) in content.split(|&byte| byte == b'\n').enumerate() {
        if line.len() >= LONGEST_LINE {
            problems.add(format!("line {}: longer than {LONGEST_LINE} bytes; the rest of the file is not read, as by Syft", index + 1));
            break;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(rest) = line.strip_prefix(b"License: ") {
            let word_end = rest.iter().position(|&byte| is_go_space(byte)).unwrap_or(rest.len());
            found.extend(single_license(&rest[..word_end]));
        }
        found.extend(common_license_reference(line).and_then(single_license));
    }
    found.into_iter().collect()
}

/// The name after the first `/usr/share/common-licenses/` that has one.
fn common_license_reference(line: &[u8]) -> Option<&[u8]> {
    let mut rest = line;
    while let Some(start) = find(rest, COMMON_LICENSES) {
        let after = &rest[start + COMMON_LICENSES.len()..];
        let length = after.iter().take_while(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')).count();
        if length > 0 {
            return Some(&after[..length]);
        }
        rest = after;
    }
    None
}

fn single_license(word: &[u8]) -> Option<String> {
    if word.is_empty() || word.eq_ignore_ascii_case(b"none") {
        return None;
    }
    let word = word.strip_suffix(b".").unwrap_or(word);
    (!word.is_empty()).then(|| String::from_utf8_lossy(word).into_owned())
}

/// `\s` of Go's regular expressions: ASCII space, tab, newline, form feed, carriage return.
fn is_go_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Vec<String> {
        licenses(text, &mut Problems::default())
    }

    #[test]
    fn machine_readable_fields_and_common_licence_references() {
        let text = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1+ or Artistic\n\nLicense: GPL-2+\n On Debian systems, see /usr/share/common-licenses/GPL-2.\n License: indented is ignored\nLicense: none\nLicense: public-domain.\nLicense:  double-space\nLicense:tight\n";
        assert_eq!(read(text), ["GPL-2", "GPL-2+", "LGPL-2.1+", "public-domain"]);
    }

    #[test]
    fn free_form_copyright_files() {
        let text = b"This is Debian's prepackaged version of GNU bash.\n\nYou should have received a copy of the GNU General Public License\nalong with this program; see /usr/share/common-licenses/ or /usr/share/common-licenses/GPL-3 and\n/usr/share/common-licenses/LGPL-2.1, /usr/share/common-licenses/BSD too.\n";
        assert_eq!(read(text), ["GPL-3", "LGPL-2.1"]);
    }

    #[test]
    fn a_line_too_long_for_syft_ends_the_file() {
        let mut text = b"License: MIT\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', LONGEST_LINE));
        text.extend(b"\nLicense: GPL-2\n");
        let mut problems = Problems::default();
        assert_eq!(licenses(&text, &mut problems), ["MIT"]);
        assert_eq!(problems.into_messages(), [format!("line 2: longer than {LONGEST_LINE} bytes; the rest of the file is not read, as by Syft")]);
    }

    #[test]
    fn non_utf8_and_garbage() {
        assert_eq!(read(b"License: GPL\xff-2\nLicense: .\n"), ["GPL\u{fffd}-2"]);
        let garbage: Vec<u8> = (0u32..100_000).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        let _ = read(&garbage);
    }
}

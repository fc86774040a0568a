//! One file's bytes, wherever they came from: opened as an archive when asked, skipped when
//! binary, otherwise scanned as text.

use palisade_secrets::archive::{self, is_binary, looks_like_archive};
use palisade_secrets::detect::Fragment;
use palisade_secrets::finding::{Place, finding};

use crate::{Engine, Options, Scan, problem};

/// How much of a file's start decides whether it is binary (gitleaks sniffs as much).
const SNIFF_BYTES: usize = 100_000;

/// Scans the content of the file `place.file`.
pub(crate) fn scan_file(engine: &Engine, options: &Options, bytes: &[u8], place: &Place, scan: &mut Scan) {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if options.archive.max_depth > 0 && looks_like_archive(&place.file, head).is_some() {
        let report = archive::walk(&place.file, bytes, &options.archive, |member| {
            let place = Place { file: member.name.into(), ..place.clone() };
            scan_fragment(engine, &Fragment::file(member.bytes, member.name), &place, scan);
        });
        scan.problems.extend(report.errors.into_iter().map(|error| problem(&error.path, error.problem)));
        scan.stats.skipped_binary += report.skipped.len() as u64;
        return;
    }
    if is_binary(head) {
        scan.stats.skipped_binary += 1;
        return;
    }
    scan_fragment(engine, &Fragment::file(bytes, &place.file), place, scan);
}

/// Every finding of one fragment that `.gitleaksignore` does not list.
pub(crate) fn scan_fragment(engine: &Engine, fragment: &Fragment<'_>, place: &Place, scan: &mut Scan) {
    scan.stats.scanned += 1;
    scan.stats.bytes += fragment.bytes.len() as u64;
    for found in engine.detector.detect(fragment) {
        if engine.ignore.ignores(&found.fingerprint, fragment.commit) {
            scan.stats.ignored += 1;
            continue;
        }
        scan.findings.push(finding(&found, fragment.bytes, engine.description(&found.rule_id), place));
    }
}

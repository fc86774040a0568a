//! One file's bytes, wherever they came from: opened as an archive when asked, skipped when
//! binary, otherwise scanned as text.

use std::sync::Arc;

use palisade_core::{Finding, LeakedSecret, Location, Object};
use palisade_secrets::archive::{self, is_binary, looks_like_archive};
use palisade_secrets::detect::Fragment;
use palisade_secrets::finding::{Place, finding, rule_meta};
use palisade_secrets::manifest::{FieldSecret, scan_object};

use crate::{Engine, Options, Scan, problem};

/// How much of a file's start decides whether it is binary (gitleaks sniffs as much).
const SNIFF_BYTES: usize = 100_000;

/// Scans the content of the file `place.file`. With `manifests`, a YAML or JSON file's
/// Kubernetes objects are also scanned field by field (Secret data decoded), and a leak found
/// both ways is reported once, on the object's field.
pub(crate) fn scan_file(engine: &Engine, options: &Options, bytes: &[u8], place: &Place, manifests: bool, scan: &mut Scan) {
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
    let first = scan.findings.len();
    scan_fragment(engine, &Fragment::file(bytes, &place.file), place, scan);
    if manifests && is_manifest_name(&place.file) {
        if let Ok(text) = std::str::from_utf8(bytes) {
            scan_manifest(engine, text, place, first, scan);
        }
    }
}

/// Whether the value at 1-based `line` and `column` of `text` is a `|` or `>` block scalar.
fn is_block_scalar(text: &str, line: u32, column: u32) -> bool {
    let Some(line) = text.lines().nth(line.saturating_sub(1) as usize) else { return false };
    let rest: String = line.chars().skip(column.saturating_sub(1) as usize).take(1).collect();
    rest == "|" || rest == ">"
}

fn is_manifest_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".yaml", ".yml", ".json"].iter().any(|extension| lower.ends_with(extension))
}

/// The objects of a manifest file, field by field. Text findings from `first` on that a field
/// finding repeats (same rule, same line) give way to it.
fn scan_manifest(engine: &Engine, text: &str, place: &Place, first: usize, scan: &mut Scan) {
    let loaded = palisade_load::load_str(text, &place.file);
    let mut fields = Vec::new();
    for object in &loaded.objects {
        for field in scan_object(&engine.detector, object) {
            let found = field_finding(engine, object, &field, place, text);
            let fingerprint = &found.secret.as_deref().expect("a field finding carries its leak").fingerprint;
            if engine.ignore.ignores(fingerprint, None) {
                scan.stats.ignored += 1;
            } else {
                fields.push(found);
            }
        }
    }
    if fields.is_empty() {
        return;
    }
    let mut index = first;
    while index < scan.findings.len() {
        let raw = &scan.findings[index];
        if fields.iter().any(|field| field.rule == raw.rule && field.location.line == raw.location.line) {
            scan.findings.remove(index);
        } else {
            index += 1;
        }
    }
    scan.findings.extend(fields);
}

fn field_finding(engine: &Engine, object: &Object, field: &FieldSecret, place: &Place, text: &str) -> Finding {
    let description = engine.description(&field.rule_id);
    let meta = rule_meta(&field.rule_id, description);
    let mark = object.locate(&field.pointer);
    let line = match field.line_in_value {
        // A block scalar's first line is the one after its `|` or `>`.
        Some(offset) => mark.line + u32::from(is_block_scalar(text, mark.line, mark.column)) + u32::try_from(offset).unwrap_or(0),
        None => mark.line,
    };
    let line_number = line as usize;
    Finding {
        rule: meta.id,
        severity: meta.severity,
        title: meta.title,
        message: field.message(description).into(),
        object: object.reference(),
        location: Location { file: place.file.clone(), line, column: mark.column, path: field.pointer.as_str().into() },
        remediation: meta.remediation,
        controls: meta.controls,
        vulnerability: None,
        secret: Some(Arc::new(LeakedSecret {
            rule: field.rule_id.clone(),
            description: description.to_owned(),
            redacted: field.redacted.clone(),
            redacted_match: field.redacted_match.clone(),
            fingerprint: format!("{}:{}:{line_number}", place.file, field.rule_id),
            start_line: line_number,
            start_column: mark.column as usize,
            end_line: line_number,
            end_column: mark.column as usize,
            entropy: (field.entropy * 1000.0).round() as u32,
            tags: field.tags.clone(),
            commit: None,
            layer: None,
            hidden_by_later_layer: false,
        })),
    }
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

//! SemVer / npm conformance against `$PALISADE_UPSTREAM/version-vectors/` (node-semver's
//! fixtures, osv-scalibr's `semver-versions.txt`, and every pair of node-semver's strict
//! versions ordered by node-semver 7.8.6).

mod common;

use std::cmp::Ordering;

use palisade_version::semver::{self, Options, Side, Version};

fn options(column: &str) -> Options {
    let mut options = Options::default();
    for flag in column.split(',') {
        match flag {
            "-" => {}
            "loose" => options.loose = true,
            "includePrerelease" => options.include_prerelease = true,
            other => panic!("unknown option {other:?}"),
        }
    }
    options
}

fn boolean(text: &str) -> bool {
    match text {
        "true" => true,
        "false" => false,
        other => panic!("not a boolean: {other:?}"),
    }
}

fn report(file: &str, total: usize, wrong: &[String]) {
    assert!(wrong.is_empty(), "{file}: {} of {total} rows disagree:\n{}", wrong.len(), wrong.iter().take(40).cloned().collect::<Vec<_>>().join("\n"));
    eprintln!("{file}: {total} rows agree");
}

/// node-semver's own comparison, for the rows that came from node-semver (osv-scalibr's rows
/// include strings node-semver rejects but OSV orders).
fn node_compare(a: &str, b: &str, options: Options) -> Option<Ordering> {
    Some(Version::parse(a, options)?.compare(&Version::parse(b, options)?))
}

#[test]
fn ordering_as_osv_orders_it() {
    common::check_ordering("semver.tsv", semver::compare);
    common::check_ordering("semver-generated.tsv", semver::compare);
}

#[test]
fn ordering_as_node_semver_orders_it() {
    for file in ["semver.tsv", "semver-generated.tsv"] {
        let Some(rows) = common::rows(file) else { return };
        let mut wrong = Vec::new();
        let mut checked = 0;
        for row in &rows {
            let (a, op, b, source) = (&row[0], &row[1], &row[2], row.last().unwrap());
            if source.starts_with("osv-scalibr") {
                continue;
            }
            let options = if row.len() == 5 { options(&row[3]) } else { Options::default() };
            checked += 1;
            let expected = common::ordering(op);
            if node_compare(a, b, options) != Some(expected) || node_compare(b, a, options) != Some(expected.reverse()) {
                wrong.push(format!("{a} {op} {b} ({options:?})"));
            }
        }
        report(file, checked, &wrong);
    }
}

#[test]
fn satisfies() {
    let Some(rows) = common::rows("npm-ranges.tsv") else { return };
    let wrong: Vec<String> = rows
        .iter()
        .filter(|row| semver::satisfies(&row[0], &row[1], options(&row[3])) != boolean(&row[2]))
        .map(|row| format!("{:?} in {:?} ({}): expected {}", row[0], row[1], row[3], row[2]))
        .collect();
    report("npm-ranges.tsv", rows.len(), &wrong);
}

#[test]
fn outside() {
    let Some(rows) = common::rows("npm-ranges-outside.tsv") else { return };
    let wrong: Vec<String> = rows
        .iter()
        .filter(|row| {
            let side = match row[2].as_str() {
                "gtr" => Side::Above,
                "ltr" => Side::Below,
                other => panic!("unknown relation {other:?}"),
            };
            semver::outside(&row[0], &row[1], side, options(&row[4])) != Ok(boolean(&row[3]))
        })
        .map(|row| format!("{:?} {} {:?} ({}): expected {}", row[0], row[2], row[1], row[4], row[3]))
        .collect();
    report("npm-ranges-outside.tsv", rows.len(), &wrong);
}

#[test]
fn range_canonical_form() {
    let Some(rows) = common::rows("npm-range-parse.tsv") else { return };
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let got = semver::valid_range(&row[0], options(&row[2])).unwrap_or_else(|| "<invalid>".to_owned());
            (got != row[1]).then(|| format!("{:?} ({}): expected {:?}, got {got:?}", row[0], row[2], row[1]))
        })
        .collect();
    report("npm-range-parse.tsv", rows.len(), &wrong);
}

#[test]
fn valid_versions_parse_into_their_parts() {
    let Some(rows) = common::rows("semver-valid.tsv") else { return };
    let dash = |text: String| if text.is_empty() { "-".to_owned() } else { text };
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let expected = row[1..6].join(" ");
            let got = match Version::parse(&row[0], Options::default()) {
                Some(v) => {
                    let prerelease = dash(v.prerelease.iter().map(ToString::to_string).collect::<Vec<_>>().join("."));
                    format!("{} {} {} {prerelease} {}", v.major, v.minor, v.patch, dash(v.build.join(".")))
                }
                None => "<invalid>".to_owned(),
            };
            (got != expected || !semver::is_valid(&row[0])).then(|| format!("{:?}: expected {expected}, got {got}", row[0]))
        })
        .collect();
    report("semver-valid.tsv", rows.len(), &wrong);
}

#[test]
fn invalid_versions_are_rejected() {
    let Some(rows) = common::rows("semver-invalid.tsv") else { return };
    let wrong: Vec<String> = rows
        .iter()
        .filter(|row| Version::parse(&row[0], options(&row[2])).is_some() || semver::is_valid(&row[0]))
        .map(|row| format!("{:?} ({}) accepted: {}", row[0], row[2], row[1]))
        .collect();
    report("semver-invalid.tsv", rows.len(), &wrong);
}

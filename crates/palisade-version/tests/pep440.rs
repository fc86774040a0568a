//! PEP 440 conformance against `$PALISADE_UPSTREAM/version-vectors/` (pypa/packaging's
//! `tests/test_version.py` and `tests/test_specifiers.py`, osv-scalibr's PyPI fixtures).

mod common;

use palisade_version::pep440::{self, SpecifierSet};

fn boolean(text: &str) -> bool {
    match text {
        "true" | "True" => true,
        "false" | "False" => false,
        other => panic!("not a boolean: {other:?}"),
    }
}

fn report(file: &str, total: usize, wrong: &[String]) {
    assert!(wrong.is_empty(), "{file}: {} of {total} rows disagree:\n{}", wrong.len(), wrong.iter().take(40).cloned().collect::<Vec<_>>().join("\n"));
    eprintln!("{file}: {total} rows agree");
}

#[test]
fn ordering() {
    common::check_ordering("pep440.tsv", pep440::compare);
}

#[test]
fn legacy_ordering_of_strings_pep_440_rejects() {
    common::check_ordering("pep440-legacy.tsv", pep440::compare);
}

#[test]
fn validity() {
    let Some(rows) = common::rows("pep440-valid.tsv") else { return };
    let wrong: Vec<String> = rows.iter().filter(|row| pep440::is_valid(&row[0]) != boolean(&row[1])).map(|row| format!("{:?}: expected valid={}", row[0], row[1])).collect();
    report("pep440-valid.tsv", rows.len(), &wrong);
}

#[test]
fn specifier_membership_with_prereleases() {
    let Some(rows) = common::rows("pep440-specifiers.tsv") else { return };
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            assert!(boolean(&row[3]), "only prereleases=True rows are expected: {row:?}");
            let got = match SpecifierSet::parse(&row[1]) {
                Ok(set) => set.contains(&row[0]),
                Err(error) => return Some(format!("{error}")),
            };
            (got != boolean(&row[2])).then(|| format!("{:?} in {:?}: expected {}", row[0], row[1], row[2]))
        })
        .collect();
    report("pep440-specifiers.tsv", rows.len(), &wrong);
}

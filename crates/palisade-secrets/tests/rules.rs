//! Every built-in rule has at least one positive and one negative fixture, and each behaves:
//! a positive is found by its rule, a negative is not. The fixtures are ours, written from what
//! each rule's pattern, keywords, entropy and allowlists say; every credential in them is made
//! up. They live in `tests/rule_fixtures/*.toml`:
//!
//! ```toml
//! [[rule]]
//! id = "aws-access-token"
//! positive = ["aws_access_key_id = AKIA…"]                 # text scanned as `fixture.txt`
//! negative = [{ text = "…", path = "docs/x.md", why = "…" }] # or a table with a path
//! ```
//!
//! For a path-only rule the table's `path` is what is tested, and `text` may be empty.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use palisade_secrets::config::Config;
use palisade_secrets::detect::{Detector, Fragment};

struct Case {
    text: String,
    path: String,
    /// Where the case is written, for messages.
    at: String,
}

#[derive(Default)]
struct Fixtures {
    positive: Vec<Case>,
    negative: Vec<Case>,
}

fn fixtures() -> BTreeMap<String, Fixtures> {
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rule_fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    // RULE_FIXTURES=part1 runs one file's fixtures while the others are being written.
    if let Ok(only) = std::env::var("RULE_FIXTURES") {
        files.retain(|path| path.file_stem().is_some_and(|stem| stem.to_string_lossy() == only));
    }
    files.sort();
    let mut all: BTreeMap<String, Fixtures> = BTreeMap::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let document: toml::Table = toml::from_str(&text).unwrap_or_else(|error| panic!("{name}: {error}"));
        let rules = document.get("rule").and_then(toml::Value::as_array).unwrap_or_else(|| panic!("{name}: no [[rule]]"));
        for rule in rules {
            let id = rule.get("id").and_then(toml::Value::as_str).unwrap_or_else(|| panic!("{name}: a [[rule]] without id"));
            let entry = all.entry(id.to_owned()).or_default();
            for (kind, cases) in [("positive", &mut entry.positive), ("negative", &mut entry.negative)] {
                for (index, case) in rule.get(kind).and_then(toml::Value::as_array).into_iter().flatten().enumerate() {
                    let at = format!("{name}: {id} {kind}[{index}]");
                    let (text, path) = match case {
                        toml::Value::String(text) => (text.clone(), "fixture.txt".to_owned()),
                        toml::Value::Table(table) => (
                            table.get("text").and_then(toml::Value::as_str).unwrap_or("").to_owned(),
                            table.get("path").and_then(toml::Value::as_str).unwrap_or("fixture.txt").to_owned(),
                        ),
                        other => panic!("{at}: a string or a table, not {other:?}"),
                    };
                    cases.push(Case { text, path, at });
                }
            }
        }
    }
    all
}

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| Detector::new(&Config::default_rules()))
}

fn rules_found(case: &Case) -> Vec<String> {
    detector().detect(&Fragment::file(case.text.as_bytes(), &case.path)).into_iter().map(|found| found.rule_id).collect()
}

#[test]
fn every_built_in_rule_has_a_positive_and_a_negative_fixture() {
    let fixtures = fixtures();
    let config = Config::default_rules();
    let missing: Vec<&str> = config
        .rules
        .iter()
        .map(|rule| rule.id.as_str())
        .filter(|id| fixtures.get(*id).is_none_or(|cases| cases.positive.is_empty() || cases.negative.is_empty()))
        .collect();
    assert!(missing.is_empty(), "{} rules without a positive and a negative fixture: {missing:?}", missing.len());
    let unknown: Vec<&String> = fixtures.keys().filter(|id| config.rule(id).is_none()).collect();
    assert!(unknown.is_empty(), "fixtures for rules the default configuration does not have: {unknown:?}");
}

#[test]
fn positives_are_found_by_their_rule_and_negatives_are_not() {
    let mut failures = Vec::new();
    for (id, cases) in fixtures() {
        for case in &cases.positive {
            let found = rules_found(case);
            if !found.contains(&id) {
                failures.push(format!("{}: not found (found {found:?})", case.at));
            }
        }
        for case in &cases.negative {
            if rules_found(case).contains(&id) {
                failures.push(format!("{}: found", case.at));
            }
        }
    }
    assert!(failures.is_empty(), "{} fixtures misbehave:\n{}", failures.len(), failures.join("\n"));
}

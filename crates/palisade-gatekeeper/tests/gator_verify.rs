//! gator verify's own suite (`tests/gator-verify`, see SOURCE.md there): ExpansionTemplates and
//! scoped enforcement actions included, every case must pass as it passes in gator.

use std::path::Path;

use palisade_gatekeeper::suite::{self, Outcome};

#[test]
fn gator_verify_suite_passes_with_expansions_and_scoped_actions() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gator-verify/suite.yaml");
    let report = suite::run(&path).unwrap();
    let mut cases = Vec::new();
    for test in &report.tests {
        assert_eq!(test.error, None, "{}", test.name);
        for case in &test.cases {
            assert_eq!(case.outcome, Outcome::Pass, "{} / {}", test.name, case.name);
            cases.push(format!("{} / {}", test.name, case.name));
        }
    }
    assert_eq!(cases.len(), 9, "{cases:?}");
    assert!(cases.contains(&"foobar-template-to-foo-and-bar-expansion / foo-and-bar-not-bar".to_owned()));
}

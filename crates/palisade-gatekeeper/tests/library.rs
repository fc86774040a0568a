//! The Gatekeeper library's own gator suites (`tests/gatekeeper-library`, see SOURCE.md there):
//! every case must get the verdict the library expects, except the disagreements listed here,
//! each with its reason. The list is exact: a case that starts to agree fails the test too, so
//! the list cannot go stale.

use std::collections::BTreeSet;
use std::path::Path;

use palisade_gatekeeper::suite::{self, Outcome};

/// (suite / test / case, why we disagree with gator). All three causes are places where
/// regorus, the Rego engine, reads or evaluates Rego v0 differently from OPA.
const DISAGREEMENTS: [(&str, &str); 6] = [
    // A line starting with `(` continues the previous line's expression as a call in regorus;
    // OPA ends the expression at the newline. The template does not compile past that line.
    ("horizontalpodautoscaler / horizontal-pod-autoscaler / example-allowed-hpa", "regorus: `(` on a new line"),
    ("horizontalpodautoscaler / horizontal-pod-autoscaler / example-disallowed-hpa-replicas", "regorus: `(` on a new line"),
    ("horizontalpodautoscaler / horizontal-pod-autoscaler / example-disallowed-hpa-replicaspread", "regorus: `(` on a new line"),
    ("horizontalpodautoscaler / horizontal-pod-autoscaler / example-disallowed-scaletarget", "regorus: `(` on a new line"),
    // `p { a } { b }` (one head, two bodies) is v0 shorthand regorus rejects: the template's
    // constraints are not evaluated.
    ("noupdateserviceaccount / noupdateserviceaccount / example-allowed", "regorus: a rule with two bodies"),
    // `not f(x, params.ranges)` with `params.ranges` undefined: OPA evaluates the argument
    // before the negation (the body fails, no violation); regorus negates the undefined call
    // (the body succeeds, a violation).
    ("users / users-and-groups-together / example-allowed", "regorus: undefined argument inside `not`"),
];

#[test]
fn every_library_suite_case_gets_the_verdict_gator_expects() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gatekeeper-library/library");
    let suites = suite::find(&root);
    assert!(suites.len() >= 49, "found only {} suites under {}", suites.len(), root.display());
    let (mut passed, mut failures) = (0, Vec::new());
    for path in &suites {
        let report = suite::run(path).unwrap_or_else(|error| panic!("{error}"));
        for test in &report.tests {
            if let Some(error) = &test.error {
                failures.push((format!("{} / {}", report.name, test.name), error.clone()));
            }
            for case in &test.cases {
                match &case.outcome {
                    Outcome::Pass => passed += 1,
                    Outcome::Fail(reason) => failures.push((format!("{} / {} / {}", report.name, test.name, case.name), reason.clone())),
                    Outcome::Skip => {}
                    Outcome::NotEvaluated(reason) => failures.push((format!("{} / {} / {} (not evaluated)", report.name, test.name, case.name), reason.clone())),
                }
            }
        }
    }
    let failed: BTreeSet<&str> = failures.iter().map(|(case, _)| case.as_str()).collect();
    let expected: BTreeSet<&str> = DISAGREEMENTS.iter().map(|(case, _)| *case).collect();
    let unexpected: Vec<String> = failures.iter().filter(|(case, _)| !expected.contains(case.as_str())).map(|(case, reason)| format!("{case}: {reason}")).collect();
    assert!(unexpected.is_empty(), "{passed} cases passed; unexpected failures:\n{}", unexpected.join("\n"));
    let now_agreeing: Vec<&&str> = expected.difference(&failed).collect();
    assert!(now_agreeing.is_empty(), "these listed disagreements now agree with gator; take them off the list: {now_agreeing:?}");
    assert!(passed >= 264, "only {passed} cases passed");
}

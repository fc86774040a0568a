//! Conformance with Kyverno's own policy library: every `kyverno-test.yaml` of kyverno/policies
//! (`tests/kyverno-policies`, see its SOURCE.md) run through `suite::run`, each expected result
//! compared with Palisade's verdict. Results Palisade does not evaluate (mutate, generate, CEL
//! policy kinds) are counted and listed, not passed.

use std::path::PathBuf;

use palisade_core::suite::Outcome;
use palisade_kyverno::suite;

#[test]
fn kyverno_policy_library_tests_agree() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kyverno-policies");
    let files = suite::find(&root);
    let (mut passed, mut not_evaluated) = (0, 0);
    let mut failures = Vec::new();
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for file in &files {
        let report = suite::run(file).unwrap_or_else(|error| panic!("{error}"));
        for test in &report.tests {
            if let Some(error) = &test.error {
                failures.push(format!("{}: {error}", file.display()));
            }
            for case in &test.cases {
                match &case.outcome {
                    Outcome::Pass => passed += 1,
                    Outcome::Fail(reason) => failures.push(format!("{}: {}: {reason}", file.display(), case.name)),
                    Outcome::Skip => {}
                    Outcome::NotEvaluated(reason) => {
                        not_evaluated += 1;
                        *reasons.entry(reason.chars().take(60).collect()).or_default() += 1;
                    }
                }
            }
        }
    }
    eprintln!("{} files: {passed} cases agree, {} disagree, {not_evaluated} not evaluated", files.len(), failures.len());
    for (reason, count) in &reasons {
        eprintln!("  not evaluated {count:5}: {reason}");
    }
    for failure in &failures {
        eprintln!("  {failure}");
    }
    assert!(failures.is_empty());
    // A loader that found nothing to judge must not pass: the library has over 3,000 results.
    assert!(files.len() >= 490 && passed >= 1_700, "only {passed} cases judged in {} files", files.len());
}

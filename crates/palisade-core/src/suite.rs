//! Reports of policy test suites (gator's `Suite`s, `kyverno-test.yaml`), one shape for every
//! engine so `palisade policy test` prints and counts them alike.

use std::path::PathBuf;

/// How one case went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail(String),
    /// The suite or the case says to skip it.
    Skip,
    /// Palisade cannot judge this case (e.g. a Kyverno mutate rule's patched resource): neither
    /// passed nor failed, and said so.
    NotEvaluated(String),
}

#[derive(Clone, Debug)]
pub struct CaseReport {
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Clone, Debug)]
pub struct TestReport {
    pub name: String,
    /// The test could not run (its template or constraint did not load).
    pub error: Option<String>,
    pub skipped: bool,
    pub cases: Vec<CaseReport>,
}

#[derive(Clone, Debug)]
pub struct SuiteReport {
    pub path: PathBuf,
    pub name: String,
    pub skipped: bool,
    pub tests: Vec<TestReport>,
}

impl SuiteReport {
    /// (passed, failed, skipped or not evaluated) cases; a test that could not run counts as one
    /// failure.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for test in &self.tests {
            if test.error.is_some() {
                counts.1 += 1;
            }
            for case in &test.cases {
                match case.outcome {
                    Outcome::Pass => counts.0 += 1,
                    Outcome::Fail(_) => counts.1 += 1,
                    Outcome::Skip | Outcome::NotEvaluated(_) => counts.2 += 1,
                }
            }
        }
        counts
    }
}


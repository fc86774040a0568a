//! A node's results as Palisade findings, so the node door goes through the same exceptions,
//! reports and sinks as every other: rule `cis/<check id>`, object `Node/<name>`.
//!
//! | kube-bench state | finding |
//! |---|---|
//! | FAIL | `high` |
//! | WARN, the tests ran and failed (an unscored check) | `medium` |
//! | WARN, not evaluated (`type: manual`, no tests, the audit could not run) | `info` |
//! | PASS, INFO | none |

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use palisade_core::{Control, Finding, Framework, Location, ObjectRef, RuleMeta, Severity};

use crate::evaluate::{CheckResult, NodeReport, State};

/// The node's findings with the rules they come from.
#[derive(Debug, Default)]
pub struct NodeFindings {
    /// One rule per check of the report, in report order.
    pub metas: Vec<&'static RuleMeta>,
    /// The rules whose checks have a verdict: PASS, tests that ran and failed, or FAIL.
    pub evaluated: BTreeSet<&'static str>,
    pub findings: Vec<Finding>,
}

/// `file`: where the results come from, as reports should name it (the snapshot's path, or
/// `node/<name>` for a live audit).
pub fn findings(report: &NodeReport, file: &str) -> NodeFindings {
    let file: Arc<str> = file.into();
    let object = Arc::new(ObjectRef {
        api_version: "v1".into(),
        kind: "Node".into(),
        namespace: None,
        name: report.node.clone(),
    });
    let mut out = NodeFindings::default();
    for check in report
        .sections
        .iter()
        .flat_map(|section| &section.groups)
        .flat_map(|group| &group.checks)
    {
        let meta = rule_meta(check);
        out.metas.push(meta);
        let outcome = Outcome::of(check);
        // A scored check whose audit could not run is kube-bench's FAIL: a verdict too.
        if matches!(outcome, Outcome::Passed | Outcome::Failed) || check.state == State::Fail {
            out.evaluated.insert(meta.id);
        }
        let (severity, message) = match outcome {
            Outcome::Passed | Outcome::Skipped => continue,
            Outcome::Failed => (
                if check.state == State::Fail {
                    Severity::High
                } else {
                    Severity::Medium
                },
                format!("expected {}", check.expected_result),
            ),
            Outcome::NotEvaluated if check.state == State::Fail => {
                (Severity::High, not_evaluated(check))
            }
            Outcome::NotEvaluated => (Severity::Info, not_evaluated(check)),
        };
        out.findings.push(Finding {
            rule: meta.id,
            severity,
            title: meta.title,
            message: message.into(),
            object: object.clone(),
            location: Location {
                file: file.clone(),
                line: 0,
                column: 0,
                path: "".into(),
            },
            remediation: meta.remediation,
            controls: meta.controls,
            vulnerability: None,
            secret: None,
        });
    }
    out
}

/// What a check's state says about the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Its tests ran and failed.
    Failed,
    /// Manual, without tests, or its audit could not run.
    NotEvaluated,
    /// Skipped (`type: skip`, a skipped group, `--skip`).
    Skipped,
}

impl Outcome {
    pub fn of(check: &CheckResult) -> Self {
        match check.state {
            State::Pass => Self::Passed,
            State::Info => Self::Skipped,
            State::Fail | State::Warn if check.kind == "manual" || !check.reason.is_empty() => {
                Self::NotEvaluated
            }
            State::Fail | State::Warn => Self::Failed,
        }
    }
}

fn not_evaluated(check: &CheckResult) -> String {
    if check.kind == "manual" {
        "not evaluated: a manual check (kube-bench marks it WARN); review it by hand".to_owned()
    } else {
        format!("not evaluated: {}", shorten(&check.reason, 400))
    }
}

fn shorten(text: &str, limit: usize) -> Cow<'_, str> {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => Cow::Owned(format!("{}...", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

/// The rule of a check: made once per distinct (id, text, remediation) and kept for the
/// process, since findings hold their rule's text by `'static` reference (evaluating a
/// thousand snapshots of one benchmark makes a benchmark's worth of rules, not a thousand).
fn rule_meta(check: &CheckResult) -> &'static RuleMeta {
    type Key = (String, String, String);
    static RULES: LazyLock<Mutex<HashMap<Key, &'static RuleMeta>>> =
        LazyLock::new(Default::default);
    let key = (
        check.id.clone(),
        check.text.clone(),
        check.remediation.clone(),
    );
    let mut rules = RULES.lock().unwrap_or_else(|poison| poison.into_inner());
    rules.entry(key).or_insert_with(|| {
        let id: &'static str = Box::leak(format!("cis/{}", check.id).into_boxed_str());
        let controls: &'static [Control] = Box::leak(Box::new([Control {
            framework: Framework::Cis,
            id: Cow::Owned(check.id.clone()),
        }]));
        Box::leak(Box::new(RuleMeta {
            id,
            title: Box::leak(check.text.clone().into_boxed_str()),
            severity: if check.scored {
                Severity::High
            } else {
                Severity::Medium
            },
            doc: "",
            remediation: Box::leak(check.remediation.trim().to_owned().into_boxed_str()),
            controls,
        }))
    })
}

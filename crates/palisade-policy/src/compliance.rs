//! The compliance summary: for each control of a framework that the catalog maps rules to (or
//! that the caller lists, such as every check of a CIS benchmark), whether it failed (a finding
//! remains), passed (its rules ran and found nothing) or was not evaluated (none of its rules
//! ran, or no rule covers it).

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::{Finding, Framework, RuleMeta};
use palisade_report::{Compliance, ControlResult, ControlStatus};

/// `catalog`: every rule that could run; `evaluated`: the ids of those that did; `findings`:
/// what remains after exceptions; `listed`: controls to report even when no rule maps to them
/// (they are `not evaluated` with no rules).
pub fn summarize(
    framework: Framework,
    catalog: &[&'static RuleMeta],
    evaluated: &BTreeSet<&str>,
    findings: &[Finding],
    listed: &[String],
) -> Compliance {
    let mut controls: BTreeMap<&str, ControlResult> = BTreeMap::new();
    for id in listed {
        controls.entry(id).or_insert_with(|| ControlResult::unmapped(id));
    }
    for meta in catalog {
        for control in meta.controls.iter().filter(|control| control.framework == framework) {
            let result = controls.entry(&control.id).or_insert_with(|| ControlResult::unmapped(&control.id));
            let list = if evaluated.contains(meta.id) { &mut result.rules_evaluated } else { &mut result.rules_not_evaluated };
            list.push(meta.id.to_owned());
        }
    }
    for finding in findings {
        for control in finding.controls.iter().filter(|control| control.framework == framework) {
            if let Some(result) = controls.get_mut(&*control.id) {
                result.findings += 1;
            }
        }
    }
    let mut controls: Vec<ControlResult> = controls
        .into_values()
        .map(|mut result| {
            result.status = if result.findings > 0 {
                ControlStatus::Failed
            } else if result.rules_evaluated.is_empty() {
                ControlStatus::NotEvaluated
            } else {
                ControlStatus::Passed
            };
            result
        })
        .collect();
    controls.sort_by(|a, b| natural_key(&a.id).cmp(&natural_key(&b.id)));
    Compliance { framework, controls }
}

/// Orders `5.2.10` after `5.2.9`: numeric runs compare as numbers.
fn natural_key(id: &str) -> Vec<(u64, String)> {
    id.split('.').map(|part| (part.parse().unwrap_or(u64::MAX), part.to_owned())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Control, Location, ObjectRef, Severity};

    static A: RuleMeta = RuleMeta { id: "x/a", title: "", severity: Severity::Low, doc: "", remediation: "", controls: &[Control::new(Framework::Cis, "5.2.10"), Control::new(Framework::Nsa, "n")] };
    static B: RuleMeta = RuleMeta { id: "x/b", title: "", severity: Severity::Low, doc: "", remediation: "", controls: &[Control::new(Framework::Cis, "5.2.9")] };
    static C: RuleMeta = RuleMeta { id: "x/c", title: "", severity: Severity::Low, doc: "", remediation: "", controls: &[Control::new(Framework::Cis, "5.7.4")] };

    #[test]
    fn controls_fail_pass_or_are_not_evaluated() {
        let finding = Finding {
            rule: "x/a",
            severity: Severity::Low,
            title: "",
            message: "".into(),
            object: ObjectRef::default().into(),
            location: Location { file: "f".into(), line: 1, column: 1, path: "".into() },
            remediation: "",
            controls: A.controls,
            vulnerability: None,
            secret: None,
        };
        let evaluated: BTreeSet<&str> = ["x/a", "x/b"].into();
        let summary = summarize(Framework::Cis, &[&A, &B, &C], &evaluated, &[finding], &["5.3.1".to_owned(), "5.2.9".to_owned()]);
        let rows: Vec<_> = summary.controls.iter().map(|c| (c.id.as_str(), c.status, c.findings)).collect();
        assert_eq!(
            rows,
            [
                ("5.2.9", ControlStatus::Passed, 0),
                ("5.2.10", ControlStatus::Failed, 1),
                ("5.3.1", ControlStatus::NotEvaluated, 0),
                ("5.7.4", ControlStatus::NotEvaluated, 0)
            ]
        );
        assert!(summary.controls[2].rules_evaluated.is_empty() && summary.controls[2].rules_not_evaluated.is_empty());
        assert_eq!(summary.controls[3].rules_not_evaluated, ["x/c"]);
        assert_eq!((summary.count(ControlStatus::Passed), summary.count(ControlStatus::Failed)), (1, 1));
    }
}

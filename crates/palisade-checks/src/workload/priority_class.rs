//! `workload/priority-class`: pods must name a priority class, and one of the allowed ones when
//! a list is configured.

use palisade_core::{FindingSink, Object, PodView, Rule, RuleMeta, Severity};

use super::text;

pub static META: RuleMeta = RuleMeta {
    id: "workload/priority-class",
    title: "priorityClassName missing or not allowed",
    severity: Severity::Low,
    doc: r#"## What it does
Flags pod templates without `priorityClassName`, and, when allowed classes are configured
(`rules.params.workload/priority-class.allowed`, OperationPolicy `priorityClassNames`), those
naming another class.

## Why is this bad?
Without a priority class every pod has priority 0: under resource pressure the scheduler may
preempt or fail to place critical services while batch work keeps running. Unreviewed classes
(or `system-cluster-critical` in an application namespace) let one team preempt the others.

## How to fix
Set `priorityClassName` to one of the classes your platform defines for the workload's tier.

## Example
```yaml
spec:
  template:
    spec:
      priorityClassName: production-high
```
"#,
    remediation: "Set spec.priorityClassName to one of the allowed priority classes.",
    controls: &[],
};

pub struct PriorityClass {
    pub allowed: Vec<String>,
}

impl Rule for PriorityClass {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        match text(pod.spec, "priorityClassName").filter(|name| !name.is_empty()) {
            None => sink.report(pod.spec_pointer_to(&["priorityClassName"]), "pod has no priorityClassName".into()),
            Some(name) if !self.allowed.is_empty() && !self.allowed.iter().any(|allowed| allowed == name) => sink
                .report(
                    pod.spec_pointer_to(&["priorityClassName"]),
                    format!("priorityClassName {name:?} is not one of {}", self.allowed.join(", ")),
                ),
            Some(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, deployment};

    #[test]
    fn missing_and_unlisted_classes_are_flagged() {
        let rule = PriorityClass { allowed: vec!["production-high".into()] };
        let missing = findings(&rule, &deployment(r#"{"containers": []}"#));
        assert_eq!(missing, [("/spec/template/spec/priorityClassName".into(), "pod has no priorityClassName".into())]);
        let other = findings(&rule, &deployment(r#"{"priorityClassName": "system-node-critical"}"#));
        assert_eq!(other[0].1, r#"priorityClassName "system-node-critical" is not one of production-high"#);
        assert!(findings(&rule, &deployment(r#"{"priorityClassName": "production-high"}"#)).is_empty());
    }

    #[test]
    fn without_a_list_any_class_is_accepted() {
        let rule = PriorityClass { allowed: vec![] };
        assert!(findings(&rule, &deployment(r#"{"priorityClassName": "anything"}"#)).is_empty());
        assert_eq!(findings(&rule, &deployment(r#"{"priorityClassName": ""}"#)).len(), 1);
        assert_documented(&META);
    }
}

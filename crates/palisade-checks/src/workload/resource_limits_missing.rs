//! `workload/resource-limits-missing` (check in [`super::resources`]).

use palisade_core::{Control, Framework, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "workload/resource-limits-missing",
    title: "Container without resource limits",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags regular and init containers that do not limit each required resource (by default `cpu`
and `memory`; parameter `rules.params.workload/resource-limits-missing.resources`,
OperationPolicy `requiredResources.limits`). Teams that avoid CPU throttling can require only
`memory`.

## Why is this bad?
An unlimited container can take all the memory or CPU of its node: a leak or a compromised
process (cryptomining is the classic) degrades every other pod there.

## How to fix
Set `resources.limits`, or give the namespace a LimitRange with defaults and a ResourceQuota.

## Example
```yaml
containers:
- name: app
  resources:
    requests: {cpu: 100m, memory: 128Mi}   # flagged: no limits
```
"#,
    remediation: "Set resources.limits for memory (and cpu where required) on every container.",
    controls: &[
        Control::new(Framework::Nsa, "network-separation/resource-policies"),
        Control::new(Framework::Mitre, "T1496"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::ResourcesMissing;
    use crate::workload::testing::{assert_documented, findings, deployment};

    #[test]
    fn limits_are_checked_independently_of_requests() {
        let rule = ResourcesMissing::limits(vec!["memory".into()]);
        let spec = r#"{"containers": [
            {"name": "a", "image": "x", "resources": {"requests": {"memory": "1Gi"}}},
            {"name": "b", "image": "x", "resources": {"limits": {"memory": "1Gi"}}},
            {"name": "c", "image": "x", "resources": {"limits": {"memory": null}}}]}"#;
        let found = findings(&rule, &deployment(spec));
        assert_eq!(
            found.iter().map(|(pointer, _)| pointer.as_str()).collect::<Vec<_>>(),
            ["/spec/template/spec/containers/0/resources/limits/memory", "/spec/template/spec/containers/2/resources/limits/memory"]
        );
        assert_eq!(found[0].1, r#"container "a" has no memory limit"#);
        assert_documented(&META);
    }
}

//! `workload/resource-requests-missing` (check in [`super::resources`]).

use palisade_core::{Control, Framework, RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "workload/resource-requests-missing",
    title: "Container without resource requests",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags regular and init containers that do not request each required resource (by default `cpu`
and `memory`; parameter `rules.params.workload/resource-requests-missing.resources`,
OperationPolicy `requiredResources.requests`).

## Why is this bad?
The scheduler places pods by their requests. Without them a pod is `BestEffort`: it lands on
full nodes, is evicted first under pressure, and a noisy neighbour can starve it.

## How to fix
Set `resources.requests` from observed usage (a VerticalPodAutoscaler in recommendation mode
helps), or give the namespace a LimitRange with defaults.

## Example
```yaml
containers:
- name: app
  image: registry.example.com/app:1.4
  resources: {}   # flagged: no cpu or memory request
```
"#,
    remediation: "Set resources.requests for cpu and memory on every container.",
    controls: &[Control::new(Framework::Nsa, "network-separation/resource-policies")],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::ResourcesMissing;
    use crate::workload::testing::{assert_documented, findings, pod};

    #[test]
    fn each_missing_request_is_reported_at_its_field() {
        let rule = ResourcesMissing::requests(vec!["cpu".into(), "memory".into()]);
        let spec = r#"{"containers": [
            {"name": "a", "image": "x", "resources": {"requests": {"cpu": "100m"}}},
            {"name": "b", "image": "x", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
            "initContainers": [{"name": "i", "image": "x"}],
            "ephemeralContainers": [{"name": "e", "image": "x"}]}"#;
        assert_eq!(
            findings(&rule, &pod(spec)),
            [
                ("/spec/initContainers/0/resources/requests/cpu".into(), r#"container "i" has no cpu request"#.into()),
                ("/spec/initContainers/0/resources/requests/memory".into(), r#"container "i" has no memory request"#.into()),
                ("/spec/containers/0/resources/requests/memory".into(), r#"container "a" has no memory request"#.into()),
            ]
        );
        assert_documented(&META);
    }
}

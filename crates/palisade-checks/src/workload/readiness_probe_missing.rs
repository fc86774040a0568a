//! `workload/readiness-probe-missing` (check in [`super::probes`]).

use palisade_core::{RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "workload/readiness-probe-missing",
    title: "Container without readiness probe",
    severity: Severity::Low,
    doc: r#"## What it does
Flags regular containers of long-running workloads (not Jobs or CronJobs) without a
`readinessProbe`.

## Why is this bad?
A container without a readiness probe receives Service traffic as soon as it starts, before it
can answer, and keeps receiving it while overloaded; rolling updates proceed without knowing
whether the new version works.

## How to fix
Add a `readinessProbe` that succeeds once the container can serve requests.

## Example
```yaml
containers:
- name: app
  readinessProbe:
    httpGet: {path: /ready, port: 8080}
```
"#,
    remediation: "Add a readinessProbe to the container.",
    controls: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, pointers, deployment};
    use crate::workload::{Probe, ProbeMissing};

    #[test]
    fn null_probes_count_as_missing() {
        let rule = ProbeMissing::new(Probe::Readiness);
        let spec = r#"{"containers": [{"name": "a", "image": "x", "readinessProbe": null}, {"name": "b", "image": "x", "readinessProbe": {"tcpSocket": {"port": 80}}}]}"#;
        assert_eq!(pointers(&rule, &deployment(spec)), ["/spec/template/spec/containers/0/readinessProbe"]);
        assert_eq!(Probe::from_field("readinessProbe"), Some(Probe::Readiness));
        assert_eq!(Probe::from_field("startupProbe"), None);
        assert_documented(&META);
    }
}

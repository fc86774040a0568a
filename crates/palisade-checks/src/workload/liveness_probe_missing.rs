//! `workload/liveness-probe-missing` (check in [`super::probes`]).

use palisade_core::{RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "workload/liveness-probe-missing",
    title: "Container without liveness probe",
    severity: Severity::Low,
    doc: r#"## What it does
Flags regular containers of long-running workloads (not Jobs or CronJobs) without a
`livenessProbe`.

## Why is this bad?
Without a liveness probe the kubelet restarts a container only when its process exits; a
deadlocked or wedged process keeps receiving traffic forever.

## How to fix
Add a `livenessProbe` that fails only when the process cannot recover by itself (do not check
dependencies there, or one database outage restarts every pod).

## Example
```yaml
containers:
- name: app
  livenessProbe:
    httpGet: {path: /healthz, port: 8080}
```
"#,
    remediation: "Add a livenessProbe to the container.",
    controls: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod, workload};
    use crate::workload::{Probe, ProbeMissing};

    #[test]
    fn regular_containers_need_the_probe_jobs_do_not() {
        let rule = ProbeMissing::new(Probe::Liveness);
        let spec = r#"{"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "x", "livenessProbe": {"exec": {"command": ["true"]}}}],
            "initContainers": [{"name": "i", "image": "x"}]}"#;
        assert_eq!(
            findings(&rule, &pod(spec)),
            [("/spec/containers/0/livenessProbe".into(), r#"container "a" has no livenessProbe"#.into())]
        );
        assert!(findings(&rule, &workload("batch/v1", "Job", spec)).is_empty());
        assert!(findings(&rule, &workload("batch/v1", "CronJob", spec)).is_empty());
        assert_documented(&META);
    }
}

//! `workload/revision-history-limit`: Deployments, StatefulSets and DaemonSets must not keep
//! more old revisions than a maximum.

use palisade_core::{FindingSink, Node, Object, Rule, RuleMeta, Severity};

/// What the API server sets when `revisionHistoryLimit` is omitted.
pub const KUBERNETES_DEFAULT: i64 = 10;

pub static META: RuleMeta = RuleMeta {
    id: "workload/revision-history-limit",
    title: "revisionHistoryLimit above the maximum",
    severity: Severity::Low,
    doc: r#"## What it does
Flags Deployments, StatefulSets and DaemonSets whose `spec.revisionHistoryLimit` exceeds the
maximum (parameter `rules.params.workload/revision-history-limit.max`, default 10;
OperationPolicy `maxRevisionHistoryLimit`). An omitted field is judged at its default, 10.

## Why is this bad?
Every kept revision is an old ReplicaSet or ControllerRevision in etcd, with a full pod
template, watched by every controller; in clusters with thousands of workloads the history
dominates etcd size and slows lists.

## How to fix
Set `revisionHistoryLimit` to the number of rollbacks you actually use (often 2 or 3).

## Example
```yaml
kind: Deployment
spec:
  revisionHistoryLimit: 50   # flagged with max 10
```
"#,
    remediation: "Set spec.revisionHistoryLimit at or below the configured maximum.",
    controls: &[],
};

pub struct RevisionHistoryLimit {
    pub max: i64,
}

impl Rule for RevisionHistoryLimit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let kind = object.kind();
        if !(object.is(&["apps", "extensions"], kind) && matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")) {
            return;
        }
        let written = object.root.pointer("/spec/revisionHistoryLimit").and_then(Node::as_i64);
        let limit = written.unwrap_or(KUBERNETES_DEFAULT);
        if limit <= self.max {
            return;
        }
        let message = match written {
            Some(_) => format!("{kind} keeps {limit} old revisions, more than the maximum {}", self.max),
            None => format!(
                "{kind} has no revisionHistoryLimit, so it keeps {limit} old revisions, more than the maximum {}",
                self.max
            ),
        };
        sink.report("/spec/revisionHistoryLimit".into(), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, object};

    fn of(kind: &str, limit: &str) -> Object {
        object(&format!(
            r#"{{"apiVersion": "apps/v1", "kind": "{kind}", "metadata": {{"name": "w"}}, "spec": {{{limit}"template": {{"spec": {{}}}}}}}}"#
        ))
    }

    #[test]
    fn written_limits_above_the_maximum_are_flagged() {
        let rule = RevisionHistoryLimit { max: 3 };
        assert_eq!(
            findings(&rule, &of("Deployment", r#""revisionHistoryLimit": 5, "#)),
            [("/spec/revisionHistoryLimit".into(), "Deployment keeps 5 old revisions, more than the maximum 3".into())]
        );
        assert!(findings(&rule, &of("StatefulSet", r#""revisionHistoryLimit": 3, "#)).is_empty());
        assert_eq!(findings(&rule, &of("DaemonSet", r#""revisionHistoryLimit": 4, "#)).len(), 1);
    }

    #[test]
    fn an_omitted_limit_is_judged_at_the_kubernetes_default() {
        let found = findings(&RevisionHistoryLimit { max: 3 }, &of("Deployment", ""));
        assert_eq!(
            found[0].1,
            "Deployment has no revisionHistoryLimit, so it keeps 10 old revisions, more than the maximum 3"
        );
        assert!(findings(&RevisionHistoryLimit { max: KUBERNETES_DEFAULT }, &of("Deployment", "")).is_empty());
        // Pods and Jobs have no revision history.
        let job = object(r#"{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"revisionHistoryLimit": 99}}"#);
        assert!(findings(&RevisionHistoryLimit { max: 3 }, &job).is_empty());
        assert_documented(&META);
    }
}

//! `workload/read-only-root-filesystem`: containers should run with a read-only root
//! filesystem.

use palisade_core::{Control, ContainerKind, Framework, FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

use super::text;

pub static META: RuleMeta = RuleMeta {
    id: "workload/read-only-root-filesystem",
    title: "Container root filesystem is writable",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags init and regular containers without `securityContext.readOnlyRootFilesystem: true`.
Windows pods (`spec.os.name: windows`) are skipped, as Windows does not support the setting.

## Why is this bad?
A writable root filesystem lets an intruder drop tools and binaries, modify the application or
its configuration, and persist until the container is recreated.

## How to fix
Set `readOnlyRootFilesystem: true` and mount `emptyDir` volumes where the process must write
(`/tmp`, caches).

## Example
```yaml
containers:
- name: app
  securityContext:
    readOnlyRootFilesystem: true
  volumeMounts:
  - {name: tmp, mountPath: /tmp}
```
"#,
    remediation: "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes for writable paths.",
    controls: &[
        Control::new(Framework::Cis, "5.6.3"),
        Control::new(Framework::Nsa, "pod-security/immutable-filesystem"),
    ],
};

pub struct ReadOnlyRootFilesystem;

impl Rule for ReadOnlyRootFilesystem {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        if pod.spec_field("os").and_then(|os| text(os, "name")) == Some("windows") {
            return;
        }
        for container in pod.containers().filter(|c| c.kind != ContainerKind::Ephemeral) {
            let read_only = container.security_context().and_then(|c| c.get("readOnlyRootFilesystem"));
            if read_only.and_then(Node::as_bool) != Some(true) {
                sink.report(
                    container.field(&["securityContext", "readOnlyRootFilesystem"]),
                    format!("container {:?} does not set securityContext.readOnlyRootFilesystem=true", container.name()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, pointers, pod};

    #[test]
    fn containers_must_opt_in_explicitly() {
        let spec = r#"{"containers": [
            {"name": "a", "securityContext": {"readOnlyRootFilesystem": true}},
            {"name": "b", "securityContext": {"readOnlyRootFilesystem": false}},
            {"name": "c"}],
            "ephemeralContainers": [{"name": "debug"}]}"#;
        assert_eq!(
            pointers(&ReadOnlyRootFilesystem, &pod(spec)),
            ["/spec/containers/1/securityContext/readOnlyRootFilesystem", "/spec/containers/2/securityContext/readOnlyRootFilesystem"]
        );
        let windows = r#"{"os": {"name": "windows"}, "containers": [{"name": "w"}]}"#;
        assert!(pointers(&ReadOnlyRootFilesystem, &pod(windows)).is_empty());
        assert_documented(&META);
    }
}

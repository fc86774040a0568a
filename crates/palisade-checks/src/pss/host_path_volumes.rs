//! `pss/hostPathVolumes` (baseline): no hostPath volumes.

use palisade_core::{Control, Framework, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Violation, field, volume_pointer, volumes};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/hostPathVolumes",
    title: "Pod mounts a hostPath volume",
    severity: Severity::High,
    doc: r#"## What it does
Flags every volume of the pod that is a `hostPath` (Pod Security Standards, baseline, all
versions). Under restricted, `pss/restrictedVolumes` replaces it.

## Why is this bad?
A hostPath volume exposes the node's file system to the container: mounting `/`, `/etc`,
`/var/lib/kubelet` or the container runtime socket gives node takeover, and even read-only
mounts leak credentials of other pods.

## How to fix
Use `emptyDir`, a ConfigMap, a Secret or a PersistentVolumeClaim instead; node agents that
really need host files belong in a dedicated, privileged namespace.

## Example
```yaml
volumes:
- name: host
  hostPath:
    path: /var/run/docker.sock   # forbidden
```
"#,
    remediation: "Replace hostPath volumes with emptyDir, configMap, secret or persistentVolumeClaim volumes.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: HostPath Volumes"),
        Control::new(Framework::Cis, "5.2.11"),
        Control::new(Framework::Nsa, "pod-security/host-paths"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0], run);

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    for (index, name, volume) in volumes(pod) {
        if field(Some(volume), &["hostPath"]).is_some() {
            out.push(Violation::new(
                volume_pointer(pod, index, Some("hostPath")),
                format!("hostPath volumes (volume {})", Quoted(name)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    #[test]
    fn host_path_volumes_are_reported_at_their_source() {
        let spec = r#"{"containers": [], "volumes": [
            {"name": "data", "emptyDir": {}},
            {"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}]}"#;
        let found = run(&CHECK, 0, spec);
        assert_eq!(messages(&found), [r#"hostPath volumes (volume "sock")"#]);
        assert_eq!(pointers(&found), ["/spec/volumes/1/hostPath"]);
    }
}

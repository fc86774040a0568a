//! `pss/windowsHostProcess` (baseline): no Windows HostProcess containers.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Scope, Violation, field, report_setters};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/windowsHostProcess",
    title: "Windows HostProcess container",
    severity: Severity::Critical,
    doc: r#"## What it does
Flags a pod or container that sets `securityContext.windowsOptions.hostProcess: true` (Pod
Security Standards, baseline, all versions).

## Why is this bad?
A HostProcess container runs directly on the Windows node, outside any container isolation,
with the node's network and file system: it is the Windows equivalent of a privileged pod.

## How to fix
Remove `hostProcess` or set it to `false`; run node agents that need it in a dedicated
privileged namespace.

## Example
```yaml
securityContext:
  windowsOptions:
    hostProcess: true   # forbidden
```
"#,
    remediation: "Remove securityContext.windowsOptions.hostProcess or set it to false.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: HostProcess"),
        Control::new(Framework::Cis, "5.2.10"),
        Control::new(Framework::Nsa, "pod-security/privileged"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0], run);

const HOST_PROCESS: &[&str] = &["windowsOptions", "hostProcess"];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    report_setters(pod, Scope::PodAndContainers, out, |setter, context| {
        (field(context, HOST_PROCESS).and_then(Node::as_bool) == Some(true)).then(|| {
            let message =
                format!("hostProcess ({setter} must not set securityContext.windowsOptions.hostProcess=true)");
            (HOST_PROCESS, message)
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    #[test]
    fn host_process_is_reported_for_pod_and_containers() {
        let spec = r#"{"securityContext": {"windowsOptions": {"hostProcess": true}},
            "containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}},
                           {"name": "b", "securityContext": {"windowsOptions": {"hostProcess": false}}}]}"#;
        let found = run(&CHECK, 0, spec);
        assert_eq!(
            messages(&found),
            [
                "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)",
                r#"hostProcess (container "a" must not set securityContext.windowsOptions.hostProcess=true)"#,
            ]
        );
        assert_eq!(
            pointers(&found)[1],
            "/spec/containers/0/securityContext/windowsOptions/hostProcess"
        );
    }
}

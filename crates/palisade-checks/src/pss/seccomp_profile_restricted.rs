//! `pss/seccompProfile_restricted` (restricted, v1.19+): every container must run under the
//! runtime's default or a local seccomp profile.

use palisade_core::{Control, Framework, PodView, RuleMeta, Severity};

use super::seccomp_profile_baseline::SECCOMP_PROFILE;
use super::visit::Violation;
use super::{Check, PssLevel, WINDOWS_FROM_V1_25};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/seccompProfile_restricted",
    title: "Seccomp profile not set",
    severity: Severity::Medium,
    doc: r#"## What it does
Requires `securityContext.seccompProfile.type` to be `RuntimeDefault` or `Localhost`, set on
the pod or on every container (Pod Security Standards, restricted, v1.19+). Under restricted it
replaces `pss/seccompProfile_baseline`. From policy v1.25, pods with `spec.os.name: windows` are
exempt, as Windows has no seccomp.

## Why is this bad?
Kubernetes runs containers `Unconfined` unless told otherwise (or unless the kubelet's
`SeccompDefault` is on), leaving every system call available to an attacker.

## How to fix
Set `seccompProfile.type: RuntimeDefault` in the pod's `securityContext`.

## Example
```yaml
spec:
  securityContext:
    seccompProfile:
      type: RuntimeDefault
```
"#,
    remediation: "Set securityContext.seccompProfile.type to RuntimeDefault (or Localhost) on the pod.",
    controls: &[
        Control::new(Framework::Pss, "Restricted: Seccomp"),
        Control::new(Framework::Cis, "5.6.2"),
        Control::new(Framework::Nsa, "pod-security/kernel-hardening"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Restricted, &[19, 25], run)
    .overriding(&["seccompProfile_baseline"])
    .exempting(WINDOWS_FROM_V1_25);

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    SECCOMP_PROFILE.report(pod, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pointers, run};

    #[test]
    fn containers_without_a_profile_need_one_on_the_pod() {
        let spec = containers(&[
            ("a", "{}"),
            (
                "b",
                r#"{"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}"#,
            ),
        ]);
        let found = run(&CHECK, 19, &spec);
        assert_eq!(
            messages(&found),
            [
                r#"seccompProfile (pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
            ]
        );
        assert_eq!(
            pointers(&found),
            ["/spec/containers/0/securityContext/seccompProfile/type"]
        );
    }

    #[test]
    fn a_pod_level_profile_covers_containers_that_set_none() {
        let spec = r#"{"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]}"#;
        assert!(run(&CHECK, 19, spec).is_empty());
    }

    #[test]
    fn forbidden_values_are_reported_instead_of_missing_ones() {
        let spec = r#"{"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "a"}]}"#;
        let found = run(&CHECK, 19, spec);
        assert_eq!(
            messages(&found),
            [
                r#"seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#
            ]
        );
    }

    #[test]
    fn windows_pods_are_exempt_from_v1_25() {
        let spec = r#"{"os": {"name": "windows"}, "containers": [{"name": "a"}]}"#;
        assert_eq!(run(&CHECK, 19, spec).len(), 1);
        assert!(run(&CHECK, 25, spec).is_empty());
    }
}

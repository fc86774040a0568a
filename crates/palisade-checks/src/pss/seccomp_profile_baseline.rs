//! `pss/seccompProfile_baseline` (baseline): seccomp must not be switched off, through the
//! alpha annotations before policy v1.19 and through the fields from v1.19.

use std::collections::HashSet;

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{PodOrContainerField, Quoted, Setter, Violation, field, text_or_empty};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/seccompProfile_baseline",
    title: "Seccomp disabled",
    severity: Severity::Medium,
    doc: r#"## What it does
Before policy v1.19, flags the annotations `seccomp.security.alpha.kubernetes.io/pod` and
`container.seccomp.security.alpha.kubernetes.io/<container>` unless they are
`runtime/default`, `docker/default` or `localhost/*`. From v1.19, flags a pod or container
`securityContext.seccompProfile.type` other than `RuntimeDefault` or `Localhost` (Pod Security
Standards, baseline). Under restricted from v1.19, `pss/seccompProfile_restricted` replaces it.

## Why is this bad?
`Unconfined` removes the system-call filter that blocks dozens of kernel interfaces
(`keyctl`, `unshare`, `bpf`, `mount`...) used by most kernel exploits and container escapes.

## How to fix
Remove the `Unconfined` setting, or use `RuntimeDefault` or a `Localhost` profile.

## Example
```yaml
securityContext:
  seccompProfile:
    type: Unconfined   # forbidden
```
"#,
    remediation: "Use the RuntimeDefault or a Localhost seccomp profile instead of Unconfined.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: Seccomp"),
        Control::new(Framework::Cis, "5.6.2"),
        Control::new(Framework::Nsa, "pod-security/kernel-hardening"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0, 19], run);

fn accepted_profile(profile: &Node) -> bool {
    matches!(
        text_or_empty(Some(profile), &["type"]),
        "RuntimeDefault" | "Localhost"
    )
}

fn forbidden_profile(setter: &Setter<'_>, profile: &Node) -> String {
    format!(
        "seccompProfile ({setter} must not set securityContext.seccompProfile.type to {})",
        Quoted(text_or_empty(Some(profile), &["type"]))
    )
}

fn unset_profile(setter: &Setter<'_>) -> String {
    format!(
        r#"seccompProfile (pod or {setter} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
    )
}

/// The seccomp profile fields, shared with the restricted check which also requires them.
pub(super) static SECCOMP_PROFILE: PodOrContainerField = PodOrContainerField {
    field: "seccompProfile",
    pointer: &["seccompProfile", "type"],
    accepts: accepted_profile,
    forbidden: forbidden_profile,
    unset: unset_profile,
};

const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn run(pod: &PodView<'_>, since: u32, out: &mut Vec<Violation>) {
    if since >= 19 {
        SECCOMP_PROFILE.report_forbidden(pod, out);
        return;
    }
    let annotations = field(pod.metadata, &["annotations"]).and_then(Node::as_map);
    // Looked up once per annotation: a set keeps pods with many of both linear.
    let mut container_names: Option<HashSet<&str>> = None;
    for (key, value) in annotations.into_iter().flat_map(|map| map.iter()) {
        let Some(value) = value.as_str() else {
            continue;
        };
        // Container annotations count only for containers the pod has, as upstream looks
        // them up by container name.
        let applies = key == POD_ANNOTATION
            || key
                .strip_prefix(CONTAINER_ANNOTATION_PREFIX)
                .is_some_and(|name| {
                    container_names
                        .get_or_insert_with(|| pod.containers().map(|container| container.name()).collect())
                        .contains(name)
                });
        let allowed = matches!(value, "runtime/default" | "docker/default")
            || value.starts_with("localhost/");
        if applies && !allowed {
            out.push(Violation::new(
                pod.metadata_pointer_to(&["annotations", key]),
                format!(
                    "seccompProfile (forbidden annotation {key}={})",
                    Quoted(value)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{containers, messages, pod, pointers, run, run_on};

    #[test]
    fn before_v1_19_the_alpha_annotations_are_checked() {
        let object = pod(
            r#""annotations": {
                "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/app": "localhost/profile.json",
                "container.seccomp.security.alpha.kubernetes.io/init": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/gone": "unconfined"}"#,
            r#"{"initContainers": [{"name": "init"}], "containers": [{"name": "app"}],
                "securityContext": {"seccompProfile": {"type": "Unconfined"}}}"#,
        );
        let found = run_on(&CHECK, 0, &object);
        assert_eq!(
            messages(&found),
            [
                r#"seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")"#,
                r#"seccompProfile (forbidden annotation container.seccomp.security.alpha.kubernetes.io/init="unconfined")"#,
            ]
        );
        assert_eq!(
            pointers(&found)[0],
            "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod"
        );
        assert_eq!(
            pointers(&run_on(&CHECK, 19, &object)),
            ["/spec/securityContext/seccompProfile/type"]
        );
    }

    #[test]
    fn from_v1_19_unconfined_fields_are_reported_and_unset_ones_are_not() {
        let spec = containers(&[
            ("a", r#"{"seccompProfile": {"type": "Unconfined"}}"#),
            ("b", r#"{"seccompProfile": {"type": "RuntimeDefault"}}"#),
            ("c", "{}"),
        ]);
        let found = run(&CHECK, 19, &spec);
        assert_eq!(
            messages(&found),
            [
                r#"seccompProfile (container "a" must not set securityContext.seccompProfile.type to "Unconfined")"#
            ]
        );
    }
}

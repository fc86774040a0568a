//! `pss/appArmorProfile` (baseline): AppArmor must not be disabled or overridden with an
//! arbitrary profile, neither through the fields nor through the beta annotations.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Scope, Violation, field, report_setters, text_or_empty};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/appArmorProfile",
    title: "AppArmor profile disabled or overridden",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags a pod or container `securityContext.appArmorProfile.type` other than `RuntimeDefault` or
`Localhost`, and any `container.apparmor.security.beta.kubernetes.io/*` annotation other than
empty, `runtime/default` or `localhost/*` (Pod Security Standards, baseline). Like upstream, both
the fields and the annotations are checked at every policy version.

## Why is this bad?
`Unconfined` switches off the AppArmor profile the runtime applies by default, which blocks
writes to `/proc` and `/sys`, mounts and other steps of known container escapes.

## How to fix
Remove the override, or use `RuntimeDefault` or a `Localhost` profile loaded on the nodes.

## Example
```yaml
metadata:
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined   # forbidden
spec:
  securityContext:
    appArmorProfile:
      type: Unconfined   # forbidden
```
"#,
    remediation: "Use the RuntimeDefault or a Localhost AppArmor profile instead of Unconfined.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: AppArmor"),
        Control::new(Framework::Nsa, "pod-security/kernel-hardening"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0], run);

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const TYPE: &[&str] = &["appArmorProfile", "type"];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    report_setters(pod, Scope::PodAndContainers, out, |setter, context| {
        field(context, &["appArmorProfile"])?;
        let profile = text_or_empty(context, TYPE);
        (!matches!(profile, "RuntimeDefault" | "Localhost")).then(|| {
            let message = format!(
                "forbidden AppArmor profile ({setter} must not set AppArmor profile type to {})",
                Quoted(profile)
            );
            (TYPE, message)
        })
    });
    let annotations = field(pod.metadata, &["annotations"]).and_then(Node::as_map);
    for (key, value) in annotations.into_iter().flat_map(|map| map.iter()) {
        let Some(value) = value.as_str() else {
            continue;
        };
        let allowed =
            value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
        if key.starts_with(ANNOTATION_PREFIX) && !allowed {
            out.push(Violation::new(
                pod.metadata_pointer_to(&["annotations", key]),
                format!(
                    "forbidden AppArmor profile (annotation {key}={} must not disable AppArmor)",
                    Quoted(value)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pod, pointers, run, run_on};

    #[test]
    fn unconfined_fields_are_reported_for_pod_and_containers() {
        let spec = r#"{"securityContext": {"appArmorProfile": {"type": "Unconfined"}},
            "containers": [{"name": "app", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
                           {"name": "ok", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}}]}"#;
        let found = run(&CHECK, 0, spec);
        assert_eq!(
            messages(&found),
            [
                r#"forbidden AppArmor profile (pod must not set AppArmor profile type to "Unconfined")"#,
                r#"forbidden AppArmor profile (container "app" must not set AppArmor profile type to "Unconfined")"#,
            ]
        );
        assert_eq!(
            pointers(&found)[0],
            "/spec/securityContext/appArmorProfile/type"
        );
    }

    #[test]
    fn a_profile_without_type_is_forbidden_as_upstream_decodes_it_empty() {
        let found = run(
            &CHECK,
            0,
            r#"{"containers": [{"name": "a", "securityContext": {"appArmorProfile": {}}}]}"#,
        );
        assert_eq!(
            pointers(&found),
            ["/spec/containers/0/securityContext/appArmorProfile/type"]
        );
    }

    #[test]
    fn annotations_other_than_runtime_default_or_localhost_are_reported() {
        let object = pod(
            r#""annotations": {
                "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
                "container.apparmor.security.beta.kubernetes.io/b": "localhost/custom",
                "container.apparmor.security.beta.kubernetes.io/c": "runtime/default",
                "unrelated": "unconfined"}"#,
            r#"{"containers": [{"name": "a"}]}"#,
        );
        let found = run_on(&CHECK, 0, &object);
        assert_eq!(
            pointers(&found),
            ["/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1a"]
        );
    }
}

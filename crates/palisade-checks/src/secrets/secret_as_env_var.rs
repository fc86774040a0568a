//! `secrets/secret-as-env-var`: Secrets should be mounted as files, not exposed as environment
//! variables (CIS 5.4.1).

use palisade_core::{Control, Framework, FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

use crate::workload::text;

pub static META: RuleMeta = RuleMeta {
    id: "secrets/secret-as-env-var",
    title: "Secret consumed as environment variable",
    severity: Severity::Low,
    doc: r#"## What it does
Flags containers that read a Secret into environment variables, through
`env[].valueFrom.secretKeyRef` or `envFrom[].secretRef`.

## Why is this bad?
Environment variables leak: they are inherited by every child process, printed by crash
handlers and debug endpoints, visible in `/proc/<pid>/environ`, and never updated when the
Secret rotates. Files in a Secret volume have none of these problems.

## How to fix
Mount the Secret as a volume and have the application read the file.

## Example
```yaml
env:
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef: {name: db, key: password}   # flagged
```
"#,
    remediation: "Mount the Secret as a volume and read it from a file instead of an environment variable.",
    controls: &[
        Control::new(Framework::Cis, "5.4.1"),
        Control::new(Framework::Nsa, "network-separation/secrets"),
        Control::new(Framework::Mitre, "T1552"),
    ],
};

pub struct SecretAsEnvVar;

impl Rule for SecretAsEnvVar {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        for container in pod.containers() {
            let seq = |key| container.get(key).map_or(&[][..], Node::as_seq);
            for (index, entry) in seq("env").iter().enumerate() {
                if let Some(reference) = entry.path(&["valueFrom", "secretKeyRef"]) {
                    sink.report(
                        container.field(&["env", &index.to_string(), "valueFrom", "secretKeyRef"]),
                        format!(
                            "container {:?} reads Secret {:?} into env {:?}",
                            container.name(),
                            text(reference, "name").unwrap_or(""),
                            text(entry, "name").unwrap_or("")
                        ),
                    );
                }
            }
            for (index, source) in seq("envFrom").iter().enumerate() {
                if let Some(reference) = source.get("secretRef") {
                    sink.report(
                        container.field(&["envFrom", &index.to_string(), "secretRef"]),
                        format!(
                            "container {:?} reads every key of Secret {:?} into its environment",
                            container.name(),
                            text(reference, "name").unwrap_or("")
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod};

    #[test]
    fn key_references_and_env_from_are_flagged() {
        let spec = r#"{"containers": [{"name": "a",
            "env": [{"name": "X", "value": "1"}, {"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}},
                    {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}],
            "envFrom": [{"configMapRef": {"name": "c"}}, {"secretRef": {"name": "all"}}]}]}"#;
        assert_eq!(
            findings(&SecretAsEnvVar, &pod(spec)),
            [
                ("/spec/containers/0/env/1/valueFrom/secretKeyRef".into(), r#"container "a" reads Secret "db" into env "P""#.into()),
                ("/spec/containers/0/envFrom/1/secretRef".into(), r#"container "a" reads every key of Secret "all" into its environment"#.into()),
            ]
        );
        assert_documented(&META);
    }
}

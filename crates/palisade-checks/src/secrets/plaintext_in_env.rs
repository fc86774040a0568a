//! `secrets/plaintext-in-env`: environment variables must not carry literal credentials.

use palisade_core::{Control, Framework, FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

use super::detect::{Redacted, detect};
use crate::workload::text;

pub static META: RuleMeta = RuleMeta {
    id: "secrets/plaintext-in-env",
    title: "Credential in an environment variable value",
    severity: Severity::High,
    doc: r#"## What it does
Flags container `env` entries whose literal `value` looks like a credential, with the same
detection as `secrets/plaintext-in-configmap`. Findings never contain the value.

## Why is this bad?
A literal value is part of the workload manifest: it sits in Git, in every ReplicaSet, in Helm
history, and anyone who can read the Deployment can read the credential.

## How to fix
Reference a Secret through a mounted volume (or, failing that, `valueFrom.secretKeyRef`), and
rotate the credential.

## Example
```yaml
env:
- name: API_TOKEN
  value: ghp_abcdefghijklmnopqrstuvwxyz0123456789   # flagged
```
"#,
    remediation: "Replace the literal value with a reference to a Secret, and rotate the credential.",
    controls: &[
        Control::new(Framework::Nsa, "network-separation/secrets"),
        Control::new(Framework::Mitre, "T1552"),
    ],
};

pub struct PlaintextInEnv;

impl Rule for PlaintextInEnv {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        for container in pod.containers() {
            for (index, entry) in container.get("env").map_or(&[][..], Node::as_seq).iter().enumerate() {
                let (Some(name), Some(value)) = (text(entry, "name"), text(entry, "value")) else { continue };
                if let Some(detection) = detect(name, value) {
                    sink.report(
                        container.field(&["env", &index.to_string(), "value"]),
                        format!("container {:?} env {name:?} holds {detection}: {}", container.name(), Redacted(value)),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, deployment};

    #[test]
    fn literal_credentials_are_flagged_references_are_not() {
        let spec = r#"{"containers": [{"name": "a", "env": [
            {"name": "API_TOKEN", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "MODE", "value": "production"}]}]}"#;
        assert_eq!(
            findings(&PlaintextInEnv, &deployment(spec)),
            [(
                "/spec/template/spec/containers/0/env/0/value".into(),
                r#"container "a" env "API_TOKEN" holds a GitHub personal access token: "ghp_…" (40 chars)"#.into()
            )]
        );
        assert_documented(&META);
    }
}

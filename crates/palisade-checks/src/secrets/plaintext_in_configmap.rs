//! `secrets/plaintext-in-configmap`: ConfigMaps must not hold credentials.

use palisade_core::{Control, Framework, FindingSink, Object, Rule, RuleMeta, Severity, pointer_under};

use super::detect::{Redacted, detect};

pub static META: RuleMeta = RuleMeta {
    id: "secrets/plaintext-in-configmap",
    title: "Credential in a ConfigMap",
    severity: Severity::High,
    doc: r#"## What it does
Flags ConfigMap `data` values that look like credentials: well-known token formats (AWS access
keys, GitHub, GitLab, Slack and Stripe tokens, Google API keys, private keys, JSON Web Tokens,
URLs with a password) anywhere in the value, or a single-word value of 8 characters or more
under a key named like a credential (`password`, `token`, `secret`, `api_key`, ...). Findings
show only a few leading characters and the length of the value, and reports print no source
line for them.

## Why is this bad?
ConfigMaps are readable by far more subjects than Secrets (many roles grant `get configmaps`),
are printed by `kubectl describe`, end up in Git, Helm release history and backups, and are
never encrypted at rest.

## How to fix
Move the value into a Secret (ideally from an external secret store) and rotate it: it has
already been exposed.

## Example
```yaml
kind: ConfigMap
data:
  DB_PASSWORD: <a real password>   # flagged
```
"#,
    remediation: "Move the credential to a Secret or an external secret store, and rotate it.",
    controls: &[
        Control::new(Framework::Nsa, "network-separation/secrets"),
        Control::new(Framework::Mitre, "T1552"),
    ],
};

pub struct PlaintextInConfigMap;

impl Rule for PlaintextInConfigMap {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if !object.is(&[""], "ConfigMap") {
            return;
        }
        let Some(data) = object.root.get("data").and_then(|data| data.as_map()) else { return };
        for (key, value) in data.iter() {
            let Some(value) = value.as_str() else { continue };
            if let Some(detection) = detect(key, value) {
                sink.report(
                    pointer_under("/data", &[key]),
                    format!("ConfigMap key {key:?} holds {detection}: {}", Redacted(value)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, object};

    #[test]
    fn credentials_are_reported_redacted() {
        let map = object(
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {
                "db.password": "hunter2hunter2", "aws": "id=AKIAIOSFODNN7EXAMPLE", "level": "debug"}}"#,
        );
        let found = findings(&PlaintextInConfigMap, &map);
        assert_eq!(
            found,
            [
                ("/data/db.password".into(), r#"ConfigMap key "db.password" holds a credential (by its name): "hun…" (14 chars)"#.into()),
                ("/data/aws".into(), r#"ConfigMap key "aws" holds an AWS access key ID: "id=A…" (23 chars)"#.into()),
            ]
        );
        assert!(found.iter().all(|(_, message)| !message.contains("hunter2hunter2") && !message.contains("IOSFODNN7")));
        assert_documented(&META);
    }
}

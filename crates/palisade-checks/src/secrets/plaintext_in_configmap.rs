//! `secrets/plaintext-in-configmap`: ConfigMaps must not hold credentials.

use palisade_core::{Control, Framework, FindingSink, Object, Rule, RuleMeta, Severity};
use palisade_secrets::manifest::FieldKind;

use super::report_credentials;

pub static META: RuleMeta = RuleMeta {
    id: "secrets/plaintext-in-configmap",
    title: "Credential in a ConfigMap",
    severity: Severity::High,
    doc: r#"## What it does
Flags credentials in ConfigMap `data` values and in `binaryData` values (decoded from base64),
found with gitleaks' built-in rules, the same detection as `palisade secrets`: each value is
scanned as `key: value`, as it reads in the YAML file, so rules that need a credential's name
beside the value (gitleaks' `generic-api-key` wants a key such as `password` or `api_key`
and a value of high entropy) work as they do on the file, and a multi-line value (a whole
configuration file) keeps its lines. Messages name the gitleaks rule and show only a short
prefix and the length of the secret; reports print no source line for these findings.

Secrets and annotations are not this rule's: `palisade secrets` reports credentials committed
in Secret manifests and in annotations (kubectl's `last-applied-configuration` included).

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
  app.ini: |
    api_key = <a real key>   # flagged (gitleaks rule generic-api-key)
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
        if object.is(&[""], "ConfigMap") {
            report_credentials(object, &[FieldKind::ConfigMapData, FieldKind::ConfigMapBinaryData], sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, object};

    // Made up for this test, in the shapes gitleaks' rules look for.
    const AWS_KEY_ID: &str = "AKIAW2Q7RZ4T6XMB3NLP";
    const GENERIC: &str = "pQ7vL2xZ9mK4rT8wY3nB";

    #[test]
    fn credentials_are_reported_redacted_with_their_gitleaks_rule() {
        // `S0VZPXBRN3...` is base64 of `KEY=` and GENERIC.
        let map = object(&format!(
            r#"{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "c", "annotations": {{"a": "{AWS_KEY_ID}"}}}},
                "data": {{"aws": "id={AWS_KEY_ID}", "app.ini": "user = app\napi_key = {GENERIC}\n", "level": "debug",
                         "mode": "{GENERIC}", "db.password": "hunter2hunter2"}},
                "binaryData": {{"env": "S0VZPXBRN3ZMMnhaOW1LNHJUOHdZM25C"}}}}"#
        ));
        let found = findings(&PlaintextInConfigMap, &map);
        // `mode` has no credential's name and `hunter2hunter2` an entropy of 2.8 bits, under
        // generic-api-key's 3.5: neither is flagged. The annotation is `palisade secrets`' only.
        assert_eq!(
            found,
            [
                (
                    "/data/aws".into(),
                    r#"data["aws"] holds a secret: Identified a pattern that may indicate AWS credentials (gitleaks rule aws-access-token): AKIA… (20 bytes)"#.into()
                ),
                (
                    "/data/app.ini".into(),
                    r#"data["app.ini"] holds a secret: Detected a Generic API Key (gitleaks rule generic-api-key): pQ7v… (20 bytes)"#.into()
                ),
                (
                    "/binaryData/env".into(),
                    r#"binaryData["env"] holds a secret: Detected a Generic API Key (gitleaks rule generic-api-key): pQ7v… (20 bytes)"#.into()
                ),
            ]
        );
        assert!(found.iter().all(|(_, message)| !message.contains(&AWS_KEY_ID[4..]) && !message.contains(&GENERIC[4..])));
        assert_documented(&META);
    }

    #[test]
    fn other_kinds_are_not_config_maps() {
        let secret = object(&format!(r#"{{"apiVersion": "v1", "kind": "Secret", "stringData": {{"aws": "{AWS_KEY_ID}"}}}}"#));
        assert_eq!(findings(&PlaintextInConfigMap, &secret), []);
    }
}

//! `secrets/plaintext-in-env`: environment variables must not carry literal credentials.

use palisade_core::{Control, Framework, FindingSink, Object, PodView, Rule, RuleMeta, Severity};
use palisade_secrets::manifest::FieldKind;

use super::report_credentials;

pub static META: RuleMeta = RuleMeta {
    id: "secrets/plaintext-in-env",
    title: "Credential in an environment variable value",
    severity: Severity::High,
    doc: r#"## What it does
Flags credentials in the literal `value` of container `env` entries (init, regular and
ephemeral containers of every kind that creates pods), found with gitleaks' built-in rules,
the same detection as `secrets/plaintext-in-configmap` and `palisade secrets`. Each value is
scanned as `NAME: value`, so the variable's name gives rules such as `generic-api-key` the
context they need (`API_KEY: <high-entropy value>` is flagged, `MODE: <the same value>` is
not). Findings name the gitleaks rule and never contain the value.

## Why is this bad?
A literal value is part of the workload manifest: it sits in Git, in every ReplicaSet, in Helm
history, and anyone who can read the Deployment can read the credential.

## How to fix
Reference a Secret through a mounted volume (or, failing that, `valueFrom.secretKeyRef`), and
rotate the credential.

## Example
```yaml
env:
- name: GITHUB_TOKEN
  value: ghp_<36 characters>   # flagged (gitleaks rule github-pat)
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
        if PodView::of(object).is_some() {
            report_credentials(object, &[FieldKind::ContainerEnv], sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, deployment, findings};

    // Made up for this test, in the shapes gitleaks' rules look for.
    const GITHUB_PAT: &str = "ghp_Vq8Lm3Zx7Rt2Np5Kw9Hy4Bc6Df1Gj0Sa2Ue7";
    const GENERIC: &str = "pQ7vL2xZ9mK4rT8wY3nB";

    #[test]
    fn literal_credentials_are_flagged_references_are_not() {
        let spec = format!(
            r#"{{"initContainers": [{{"name": "init", "env": [{{"name": "API_KEY", "value": "{GENERIC}"}}]}}],
                "containers": [{{"name": "a", "env": [
                {{"name": "API_TOKEN", "value": "{GITHUB_PAT}"}},
                {{"name": "DB_PASSWORD", "valueFrom": {{"secretKeyRef": {{"name": "db", "key": "password"}}}}}},
                {{"name": "WEAK_PASSWORD", "value": "hunter2hunter2"}},
                {{"name": "MODE", "value": "{GENERIC}"}}]}}]}}"#
        );
        let found = findings(&PlaintextInEnv, &deployment(&spec));
        // `MODE` has no credential's name and `hunter2hunter2` an entropy of 2.8 bits, under
        // generic-api-key's 3.5: neither is flagged.
        assert_eq!(
            found,
            [
                (
                    "/spec/template/spec/initContainers/0/env/0/value".into(),
                    r#"container "init" env "API_KEY" holds a secret: Detected a Generic API Key (gitleaks rule generic-api-key): pQ7v… (20 bytes)"#.into()
                ),
                (
                    "/spec/template/spec/containers/0/env/0/value".into(),
                    r#"container "a" env "API_TOKEN" holds a secret: Uncovered a GitHub Personal Access Token (gitleaks rule github-pat): ghp_… (40 bytes)"#.into()
                ),
            ]
        );
        assert!(found.iter().all(|(_, message)| !message.contains(&GITHUB_PAT[4..]) && !message.contains(&GENERIC[4..])));
        assert_documented(&META);
    }
}

//! `rbac/wildcard-verbs`: rules that allow every verb (CIS 5.1.3).

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_rbac::Rbac;

use super::report_role_rules;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/wildcard-verbs",
    title: "Role rule allows every verb",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every rule of a Role or ClusterRole whose `verbs` contain `*`, and names the subjects
that hold the rule through bindings (directly or through an aggregated ClusterRole).

## Why is this bad?
`*` includes the verbs nobody means to grant: `delete` and `deletecollection`, `escalate` and
`bind` on RBAC objects, `impersonate`, and any verb a future API version adds. A wildcard
written for convenience today grants tomorrow's verbs too.

## How to fix
List the verbs the subject uses, e.g. `get`, `list`, `watch` for readers.

## Example
```yaml
rules:
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["*"]
```
"#,
    remediation: "Replace `*` in verbs with the verbs the subject needs.",
    controls: &[
        Control::new(Framework::Cis, "5.1.3"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, rbac: &Rbac<'_>, out: &mut Vec<Candidate>) {
    report_role_rules(meta, rbac, out, |rule| {
        if !rule.verbs.iter().any(|verb| verb == "*") {
            return None;
        }
        let targets = if rule.resources.is_empty() { &rule.non_resource_urls } else { &rule.resources };
        Some(("verbs", format!("allows every verb on {} ({})", targets.join(", "), rule.pointer)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run, sa};
    use serde_json::json;

    #[test]
    fn wildcard_verbs_are_reported_at_the_field_with_their_holders() {
        let items = [
            cluster_role("deploy-all", json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}])),
            bind(Some("shop"), "d", "deploy-all", sa("shop", "ci")),
        ];
        assert_eq!(
            run(&META, &items),
            ["ClusterRole/deploy-all /rules/0/verbs: ClusterRole deploy-all allows every verb on deployments (/rules/0); \
              held by ServiceAccount shop/ci via RoleBinding shop/d"]
        );
    }

    #[test]
    fn unbound_roles_are_reported_as_such_and_listed_verbs_are_not_reported() {
        let items = [
            cluster_role("loose", json!([{"nonResourceURLs": ["/metrics"], "verbs": ["*"]}])),
            cluster_role("tight", json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])),
        ];
        assert_eq!(run(&META, &items), ["ClusterRole/loose /rules/0/verbs: ClusterRole loose allows every verb on /metrics (/rules/0); not bound in the input"]);
    }
}

//! `rbac/wildcard-resources`: rules that cover every resource or URL (CIS 5.1.3).

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_rbac::Rbac;

use super::report_role_rules;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/wildcard-resources",
    title: "Role rule covers every resource",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every rule of a Role or ClusterRole whose `resources` or `nonResourceURLs` contain `*`,
and names the subjects that hold the rule through bindings.

## Why is this bad?
`resources: ["*"]` covers Secrets, every subresource (`pods/exec`, `serviceaccounts/token`),
RBAC objects and every custom resource installed later, in every API group the rule lists.
What it grants grows with the cluster without anyone editing the role.

## How to fix
List the resources (and subresources) the subject needs.

## Example
```yaml
rules:
- apiGroups: [""]
  resources: ["*"]
  verbs: ["get", "list"]
```
"#,
    remediation: "Replace `*` in resources or nonResourceURLs with the resources the subject needs.",
    controls: &[
        Control::new(Framework::Cis, "5.1.3"),
        Control::new(Framework::Nsa, "authentication-authorization/least-privilege"),
    ],
};

pub(super) fn check(meta: &'static RuleMeta, rbac: &Rbac<'_>, out: &mut Vec<Candidate>) {
    report_role_rules(meta, rbac, out, |rule| {
        let verbs = rule.verbs.join(", ");
        if rule.resources.iter().any(|resource| resource == "*") {
            let groups: Vec<&str> = rule.api_groups.iter().map(|g| if g.is_empty() { "core" } else { g.as_str() }).collect();
            let message = format!("allows {verbs} on every resource of API groups {} ({})", groups.join(", "), rule.pointer);
            return Some(("resources", message));
        }
        rule.non_resource_urls
            .iter()
            .any(|url| url == "*")
            .then(|| ("nonResourceURLs", format!("allows {verbs} on every non-resource URL ({})", rule.pointer)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, cluster_role, run};
    use serde_json::json;

    #[test]
    fn every_resource_of_a_group_is_reported() {
        let items = [
            cluster_role("core-reader", json!([{"apiGroups": [""], "resources": ["*"], "verbs": ["get", "list"]}])),
            bind(None, "r", "core-reader", json!([{"kind": "Group", "name": "devs"}])),
        ];
        assert_eq!(
            run(&META, &items),
            ["ClusterRole/core-reader /rules/0/resources: ClusterRole core-reader allows get, list on every resource of API groups core (/rules/0); \
              held by Group devs via ClusterRoleBinding r"]
        );
    }

    #[test]
    fn every_url_is_reported_and_a_star_subresource_is_not() {
        let items = [cluster_role("r", json!([
            {"nonResourceURLs": ["*"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}]))];
        assert_eq!(run(&META, &items), ["ClusterRole/r /rules/0/nonResourceURLs: ClusterRole r allows get on every non-resource URL (/rules/0); not bound in the input"]);
    }

    #[test]
    fn aggregated_roles_are_reported_through_their_sources() {
        let mut piece = cluster_role("piece", json!([{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]));
        piece["metadata"]["labels"] = json!({"agg": "yes"});
        let mut whole = cluster_role("whole", json!([]));
        whole["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {"agg": "yes"}}]});
        let items = [piece, whole, bind(None, "w", "whole", json!([{"kind": "User", "name": "alice"}]))];
        let found = run(&META, &items);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("ClusterRole/piece ") && found[0].ends_with("held by User alice via ClusterRoleBinding w"), "{found:?}");
    }
}

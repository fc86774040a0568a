//! `rbac/system-group-binding`: bindings to `system:masters`, `system:anonymous` or
//! `system:unauthenticated` (CIS 5.1.7).

use palisade_core::{Candidate, Control, Framework, RuleMeta, Severity};
use palisade_rbac::{Rbac, Subject, SubjectKind};

use super::report;

pub(super) static META: RuleMeta = RuleMeta {
    id: "rbac/system-group-binding",
    title: "Binding to system:masters, system:anonymous or system:unauthenticated",
    severity: Severity::Critical,
    doc: r#"## What it does
Flags every binding subject that is the group `system:masters`, the user `system:anonymous` or
the group `system:unauthenticated`.

## Why is this bad?
`system:anonymous` and `system:unauthenticated` are whoever reaches the API server without
credentials: anything bound to them is public to everyone who can reach the endpoint.
`system:masters` bypasses RBAC entirely; binding roles to it grants nothing its members lack,
and signals that access is being managed through a group no binding can take away.

## How to fix
Bind roles to named users, groups of your identity provider, or ServiceAccounts. Leave
anonymous access to the bootstrap defaults (health and version endpoints), or disable it with
`--anonymous-auth=false`.

## Example
```yaml
subjects:
- kind: Group
  name: system:unauthenticated
```
"#,
    remediation: "Remove system:masters, system:anonymous and system:unauthenticated from the binding's subjects.",
    controls: &[
        Control::new(Framework::Cis, "5.1.7"),
        Control::new(Framework::Nsa, "authentication-authorization/anonymous-access"),
        Control::new(Framework::Mitre, "T1078.001"),
    ],
};

/// Why a subject is one of the system identities this rule watches, or `None`.
fn concern(subject: &Subject) -> Option<&'static str> {
    match (subject.kind, subject.name.as_str()) {
        (SubjectKind::Group, "system:masters") => Some("system:masters bypasses RBAC; manage access with bindings to revocable identities"),
        (SubjectKind::User, "system:anonymous") => Some("every request without credentials gets it"),
        (SubjectKind::Group, "system:unauthenticated") => Some("every request without credentials gets it"),
        _ => None,
    }
}

pub(super) fn check(meta: &'static RuleMeta, rbac: &Rbac<'_>, out: &mut Vec<Candidate>) {
    // Every chosen binding counts, also one whose role is missing from the input: the grant
    // to these subjects is the problem, whatever the role holds.
    for binding in rbac.bindings.iter().filter(|binding| !binding.is_bootstrap()) {
        for subject in &binding.subjects {
            let Some(why) = concern(subject) else { continue };
            let message = format!("{binding} grants {} {} to {subject}: {why}", binding.role_ref(), binding.scope());
            report(meta, binding.object, format!("/subjects/{}", subject.index), message, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::testing::{bind, run};
    use serde_json::json;

    #[test]
    fn anonymous_and_unauthenticated_subjects_are_reported_at_their_entry() {
        let items = [bind(Some("shop"), "public", "view", json!([
            {"kind": "ServiceAccount", "name": "app", "namespace": "shop"},
            {"kind": "Group", "name": "system:unauthenticated"},
            {"kind": "User", "name": "system:anonymous"}]))];
        assert_eq!(
            run(&META, &items),
            [
                "RoleBinding/shop/public /subjects/1: RoleBinding shop/public grants ClusterRole view in namespace shop to Group system:unauthenticated: every request without credentials gets it",
                "RoleBinding/shop/public /subjects/2: RoleBinding shop/public grants ClusterRole view in namespace shop to User system:anonymous: every request without credentials gets it",
            ]
        );
    }

    #[test]
    fn system_masters_is_reported() {
        let items = [bind(None, "masters", "cluster-admin", json!([{"kind": "Group", "name": "system:masters"}]))];
        assert!(run(&META, &items)[0].contains("system:masters bypasses RBAC"));
    }

    #[test]
    fn authenticated_users_are_left_to_the_permission_rules() {
        let items = [bind(None, "all", "view", json!([{"kind": "Group", "name": "system:authenticated"}]))];
        assert!(run(&META, &items).is_empty());
    }
}

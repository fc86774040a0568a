//! ValidatingAdmissionPolicies through `RuleSet::build` and the scan engine, as `palisade scan
//! --policy` runs them: findings under `vap/<policy>` with the API server's messages, only through
//! bindings, params from the policy files, and what a scan cannot decide reported as such.

mod support;

use palisade_core::Severity;

const POLICIES: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  validations:
  - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
    messageExpression: "'at most ' + params.data.maxReplicas + ' replicas, got ' + string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-prod}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: limits, namespace: policy, parameterNotFoundAction: Deny}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: limits, namespace: policy}
data: {maxReplicas: "3"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: owner-only}
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: [v1]
      operations: [CREATE]
      resources: [configmaps]
  validations:
  - expression: "request.userInfo.username == 'ops'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: owner-only}
spec:
  policyName: owner-only
  validationActions: [Warn]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: unbound}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*"]}]
  validations:
  - expression: "false"
"#;

const MANIFESTS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: shop}
spec: {replicas: 5}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: small, namespace: shop}
spec: {replicas: 2}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
"#;

#[test]
fn admission_policies_report_the_api_servers_messages_through_their_bindings() {
    let scanned = support::scan(POLICIES, MANIFESTS, "vap/", false);
    assert!(scanned.warnings.is_empty(), "{:?}", scanned.warnings);
    let mut actions: Vec<(&str, &str)> = scanned.enforcement_actions.iter().map(|(id, action)| (*id, action.as_str())).collect();
    actions.sort();
    assert_eq!(actions, [("vap/owner-only", "warn"), ("vap/replica-limit", "deny")], "the unbound policy does nothing");
    let mut found: Vec<(String, String, Severity, String)> =
        scanned.findings.iter().map(|finding| (finding.rule.to_owned(), finding.object.to_string(), finding.severity, finding.message.to_string())).collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "vap/owner-only".to_owned(),
                "ConfigMap/shop/settings".to_owned(),
                Severity::Info,
                "not evaluated (binding owner-only): `request.userInfo.username == 'ops'` uses `request.userInfo`, and the request's user is not known (a manifest scan has none)".to_owned()
            ),
            (
                "vap/replica-limit".to_owned(),
                "Deployment/shop/big".to_owned(),
                Severity::High,
                "ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-prod' denied request: at most 3 replicas, got 5".to_owned()
            ),
        ]
    );
}

#[test]
fn an_object_no_admission_policy_names_as_params_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policies.yaml");
    std::fs::write(&path, "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n").unwrap();
    let error = palisade_policy::load_policies(&[&path]).err().unwrap();
    assert!(error.message.contains("a ValidatingAdmissionPolicy, its binding or a param object it names, found v1 Secret"), "{error:?}");
}

use super::*;

/// The policy from the Deckhouse blog post, as published.
const DECKHOUSE_POLICY: &str = r#"apiVersion: deckhouse.io/v1alpha1
kind: OperationPolicy
metadata:
  name: common
spec:
  policies:
    allowedRepos:
      - myregistry.example.com
    requiredResources:
      limits:
        - memory
      requests:
        - cpu
        - memory
    disallowedImageTags:
      - latest
    requiredProbes:
      - livenessProbe
      - readinessProbe
    maxRevisionHistoryLimit: 3
    imagePullPolicy: Always
    priorityClassNames:
    - production-high
    checkHostNetworkDNSPolicy: true
    checkContainerDuplicates: true
  match:
    namespaceSelector:
      labelSelector:
        matchLabels:
          operation-policy.deckhouse.io/enabled: "true"
"#;

const NAMESPACES: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n  labels: {operation-policy.deckhouse.io/enabled: \"true\"}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dev}\n";

fn deployment(namespace: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {namespace}, labels: {{app: web}}}}\nspec:\n  revisionHistoryLimit: 5\n  template:\n    spec:\n      hostNetwork: true\n      priorityClassName: production-high\n      containers:\n      - name: app\n        image: {image}\n        env: [{{name: A, value: '1'}}, {{name: A, value: '2'}}]\n      - name: app\n        image: myregistry.example.com/app:1.0\n        imagePullPolicy: Always\n        livenessProbe: {{exec: {{command: [x]}}}}\n        readinessProbe: {{exec: {{command: [x]}}}}\n        resources: {{limits: {{memory: 1Gi}}, requests: {{cpu: 1, memory: 1Gi}}}}\n"
    )
}

fn scan(policy: &str, manifests: &str) -> Vec<palisade_core::Finding> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.yaml"), policy).unwrap();
    std::fs::write(dir.path().join("apps.yaml"), manifests).unwrap();
    let loaded = crate::load_policies(&[dir.path().join("policy.yaml")]).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let rules = loaded.operation.into_iter().flat_map(OperationPolicy::into_rules).collect();
    let engine = palisade_scan::Engine::new(rules, Vec::new());
    engine.scan_paths(&[dir.path().join("apps.yaml")]).findings
}

fn rules_of(findings: &[palisade_core::Finding]) -> Vec<&str> {
    let mut rules: Vec<&str> = findings.iter().map(|finding| finding.rule).collect();
    rules.dedup();
    rules
}

#[test]
fn the_deckhouse_policy_applies_every_check_in_selected_namespaces() {
    let manifests = format!("{NAMESPACES}---\n{}", deployment("prod", "myregistry.example.com.evil.io/x"));
    let findings = scan(DECKHOUSE_POLICY, &manifests);
    let mut rules = rules_of(&findings);
    rules.sort();
    rules.dedup();
    assert_eq!(
        rules,
        [
            "operationpolicy/allowed-repos",
            "operationpolicy/container-duplicates",
            "operationpolicy/disallowed-image-tags",
            "operationpolicy/host-network-dns-policy",
            "operationpolicy/max-revision-history-limit",
            "operationpolicy/required-probes",
            "operationpolicy/required-resources",
        ]
    );
    // The untagged image defaults to imagePullPolicy Always, and the other container sets it.
    let repos: Vec<_> = findings.iter().filter(|f| f.rule == "operationpolicy/allowed-repos").collect();
    assert_eq!(repos.len(), 1, "only the look-alike registry is refused: {repos:?}");
    assert!(repos[0].message.ends_with(r#"(OperationPolicy "common")"#), "{}", repos[0].message);
    assert_eq!(repos[0].location.path, "/spec/template/spec/containers/0/image");
}

#[test]
fn namespaces_without_the_label_or_not_in_the_input_are_not_selected() {
    let manifests = format!("{NAMESPACES}---\n{}---\n{}", deployment("dev", "nginx"), deployment("unknown", "nginx"));
    assert!(scan(DECKHOUSE_POLICY, &manifests).is_empty());
}

#[test]
fn our_api_version_and_name_and_label_matching_work_too() {
    let policy = "apiVersion: palisade.dev/v1alpha1\nkind: OperationPolicy\nmetadata: {name: team}\nspec:\n  policies:\n    maxRevisionHistoryLimit: 3\n  match:\n    labelSelector: {matchLabels: {app: web}}\n    namespaceSelector: {matchNames: ['prod-*'], excludeNames: [prod-legacy]}\n";
    let findings = scan(policy, &[deployment("prod-eu", "x"), deployment("prod-legacy", "x"), deployment("dev", "x")].join("---\n"));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].object.namespace.as_deref(), Some("prod-eu"));
    let other_labels = policy.replace("app: web", "app: api");
    assert!(scan(&other_labels, &deployment("prod-eu", "x")).is_empty());
}

#[test]
fn mistakes_are_errors_and_unknown_settings_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.yaml");
    std::fs::write(&path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
    assert!(crate::load_policies(&[&path]).err().unwrap().message.contains("expected an OperationPolicy"));
    std::fs::write(&path, "apiVersion: deckhouse.io/v1alpha1\nkind: OperationPolicy\nmetadata: {name: x}\nspec:\n  policies:\n    requiredProbes: [startupProbe]\n").unwrap();
    let error = crate::load_policies(&[&path]).err().unwrap();
    assert_eq!(error.line, 6);
    assert!(error.message.contains("unknown probe `startupProbe`"));
    std::fs::write(&path, "apiVersion: deckhouse.io/v1alpha1\nkind: OperationPolicy\nmetadata: {name: x}\nspec:\n  policies:\n    requiredLabels: [team]\n").unwrap();
    let loaded = crate::load_policies(&[&path]).unwrap();
    assert_eq!(loaded.operation.len(), 1);
    let warnings = loaded.warnings;
    assert!(warnings[0].contains(":6: OperationPolicy \"x\": `requiredLabels` is not evaluated"), "{warnings:?}");
}

//! Gatekeeper constraints through `RuleSet::build` and the scan engine, as `palisade scan
//! --policy DIR` runs them: findings under `gatekeeper/<kind>/<name>` with the template's
//! messages, the match block, namespace selectors decided against the scan's Namespaces, and
//! inventory templates judged against every scanned object.

use std::path::{Path, PathBuf};

use palisade_checks::CatalogOptions;
use palisade_policy::{Config, RuleSet, Selection};

fn library(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-gatekeeper/tests/gatekeeper-library/library").join(path)
}

const ALLOWED_REPOS_CONSTRAINT: &str = r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sAllowedRepos
metadata:
  name: internal-only
spec:
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
    excludedNamespaces: ["kube-*"]
    namespaceSelector:
      matchLabels: {tier: apps}
  parameters:
    repos: ["registry.internal/"]
"#;

const MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tier: apps}}
---
apiVersion: v1
kind: Namespace
metadata: {name: sandbox, labels: {tier: playground}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers: [{name: app, image: docker.io/nginx:1.27}]
---
apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: shop}
spec:
  containers: [{name: app, image: registry.internal/web:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: play, namespace: sandbox}
spec:
  containers: [{name: app, image: docker.io/nginx:1.27}]
---
apiVersion: v1
kind: Pod
metadata: {name: dns, namespace: kube-system}
spec:
  containers: [{name: app, image: docker.io/coredns:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: unknown-ns}
spec:
  containers: [{name: app, image: docker.io/nginx:1.27}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: a, namespace: shop}
spec:
  rules: [{host: shop.example.com}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: b, namespace: sandbox}
spec:
  rules: [{host: shop.example.com}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: c, namespace: sandbox}
spec:
  rules: [{host: other.example.com}]
"#;

#[test]
fn constraints_report_their_templates_messages_on_the_objects_they_match() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::copy(library("general/allowedrepos/template.yaml"), policies.join("allowedrepos.yaml")).unwrap();
    std::fs::write(policies.join("constraint.yaml"), ALLOWED_REPOS_CONSTRAINT).unwrap();
    std::fs::copy(library("general/uniqueingresshost/template.yaml"), policies.join("uniqueingresshost.yaml")).unwrap();
    std::fs::copy(library("general/uniqueingresshost/samples/unique-ingress-host/constraint.yaml"), policies.join("unique.yaml")).unwrap();
    let manifests = dir.path().join("apps.yaml");
    std::fs::write(&manifests, MANIFESTS).unwrap();

    let selection = Selection { policy_files: vec![policies], inventory: true, prefixes: vec!["gatekeeper/".into()], ..Selection::default() };
    let ruleset = RuleSet::build(&Config::default(), CatalogOptions::default().pss, &selection).unwrap();
    assert!(ruleset.warnings.is_empty(), "{:?}", ruleset.warnings);
    let engine = palisade_scan::Engine::new(ruleset.rules, ruleset.inventory_rules);
    let outcome = engine.scan_paths(&[manifests]);
    let mut found: Vec<(String, String, String)> =
        outcome.findings.iter().map(|finding| (finding.rule.to_owned(), finding.object.to_string(), finding.message.to_string())).collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "gatekeeper/K8sAllowedRepos/internal-only".to_owned(),
                "Pod/shop/web".to_owned(),
                "container <app> has an invalid image repo <docker.io/nginx:1.27>, allowed repos are [\"registry.internal/\"]".to_owned()
            ),
            ("gatekeeper/K8sUniqueIngressHost/unique-ingress-host".to_owned(), "Ingress/sandbox/b".to_owned(), "ingress host conflicts with an existing ingress <shop.example.com>".to_owned()),
            ("gatekeeper/K8sUniqueIngressHost/unique-ingress-host".to_owned(), "Ingress/shop/a".to_owned(), "ingress host conflicts with an existing ingress <shop.example.com>".to_owned()),
        ],
        "sandbox is not tier=apps, kube-system is excluded, unknown-ns has no Namespace in the scan"
    );
}

#[test]
fn a_constraint_without_its_template_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("constraint.yaml");
    std::fs::write(&path, format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n---\n{ALLOWED_REPOS_CONSTRAINT}")).unwrap();
    let error = palisade_policy::load_policies(&[&path]).err().unwrap();
    assert!(error.message.contains("expected an OperationPolicy"), "{error:?}");
    std::fs::write(&path, ALLOWED_REPOS_CONSTRAINT).unwrap();
    let error = palisade_policy::load_policies(&[&path]).err().unwrap();
    assert!(error.message.contains("no ConstraintTemplate among the policies defines the kind K8sAllowedRepos"), "{error:?}");
    assert_eq!((error.file.as_ref(), error.line), (path.display().to_string().as_str(), 1));
}

const PRIVILEGED_CONSTRAINT: &str = r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPSPPrivilegedContainer
metadata:
  name: no-privileged
spec:
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
"#;

const EXPANSIONS: &str = r#"apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata:
  name: expand-deployments
spec:
  applyTo:
  - {groups: [apps], kinds: [Deployment], versions: [v1]}
  templateSource: spec.template
  generatedGVK: {kind: Pod, group: "", version: v1}
---
apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata:
  name: expand-jobs
spec:
  applyTo:
  - {groups: [batch], kinds: [Job], versions: [v1]}
  templateSource: spec.template
  generatedGVK: {kind: Pod, group: "", version: v1}
  enforcementAction: warn
"#;

const WORKLOADS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx, securityContext: {privileged: true}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: calm, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: app, image: nginx}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: migrate, image: tool, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec:
  containers: [{name: shell, image: busybox, securityContext: {privileged: true}}]
"#;

/// Scans `WORKLOADS` with the privileged-containers template, `constraint` and the expansions.
fn scan_workloads(constraint: &str, inventory: bool, cluster: bool) -> Vec<(String, String, palisade_core::Severity)> {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::copy(library("pod-security-policy/privileged-containers/template.yaml"), policies.join("template.yaml")).unwrap();
    std::fs::write(policies.join("constraint.yaml"), constraint).unwrap();
    std::fs::write(policies.join("expansions.yaml"), EXPANSIONS).unwrap();
    let manifests = dir.path().join("apps.yaml");
    std::fs::write(&manifests, WORKLOADS).unwrap();
    let selection = Selection { policy_files: vec![policies], inventory, cluster, prefixes: vec!["gatekeeper/".into()], ..Selection::default() };
    let ruleset = RuleSet::build(&Config::default(), CatalogOptions::default().pss, &selection).unwrap();
    assert!(ruleset.warnings.is_empty(), "{:?}", ruleset.warnings);
    let engine = palisade_scan::Engine::new(ruleset.rules, ruleset.inventory_rules);
    let mut found: Vec<_> = engine.scan_paths(&[manifests]).findings.iter().map(|finding| (finding.object.to_string(), finding.message.to_string(), finding.severity)).collect();
    found.sort();
    found
}

#[test]
fn expansion_templates_make_workloads_answer_for_the_pods_they_generate() {
    use palisade_core::Severity::{High, Medium};
    let found = scan_workloads(PRIVILEGED_CONSTRAINT, true, false);
    let expected = [
        ("Deployment/shop/web", "[Implied by expand-deployments] Privileged container is not allowed: app, securityContext: {\"privileged\": true}", High),
        // The expansion's enforcementAction replaces the constraint's for what it generates.
        ("Job/shop/migrate", "[Implied by expand-jobs] Privileged container is not allowed: migrate, securityContext: {\"privileged\": true}", Medium),
        ("Pod/shop/debug", "Privileged container is not allowed: shell, securityContext: {\"privileged\": true}", High),
    ];
    assert_eq!(found, expected.map(|(object, message, severity)| (object.to_owned(), message.to_owned(), severity)));
}

#[test]
fn a_scoped_constraint_acts_only_at_the_enforcement_points_it_names() {
    let scoped = |points: &str| {
        PRIVILEGED_CONSTRAINT.replace(
            "spec:\n",
            &format!("spec:\n  enforcementAction: scoped\n  scopedEnforcementActions:\n  - action: warn\n    enforcementPoints: [{points}]\n"),
        )
    };
    let objects = |found: Vec<(String, String, palisade_core::Severity)>| found.into_iter().map(|(object, _, severity)| (object, severity)).collect::<Vec<_>>();
    let medium = palisade_core::Severity::Medium;
    let all = vec![("Deployment/shop/web".to_owned(), medium), ("Job/shop/migrate".to_owned(), medium), ("Pod/shop/debug".to_owned(), medium)];
    // A manifest scan is gator's enforcement point, a cluster scan the audit's.
    assert_eq!(objects(scan_workloads(&scoped("{name: gator.gatekeeper.sh}"), true, false)), all);
    assert_eq!(objects(scan_workloads(&scoped("{name: validation.gatekeeper.sh}"), true, false)), vec![]);
    assert_eq!(objects(scan_workloads(&scoped("{name: audit.gatekeeper.sh}"), true, true)), all);
    assert_eq!(objects(scan_workloads(&scoped("{name: \"*\"}"), true, false)), all);
}

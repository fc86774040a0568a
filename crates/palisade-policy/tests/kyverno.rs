//! Kyverno policies through `RuleSet::build` and the scan engine, as `palisade scan --policy`
//! runs them: findings under `kyverno/<policy>/<rule>` with Kyverno's messages, autogen rules on
//! pod controllers, severities from the failure action, namespace selectors decided against the
//! scan's Namespaces, and rules Palisade does not evaluate reported as such.

mod support;

use palisade_core::Severity;

const POLICY: &str = r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: pod-rules
spec:
  validationFailureAction: Audit
  background: false
  rules:
  - name: require-team
    match:
      any:
      - resources:
          kinds: [Pod]
          namespaceSelector:
            matchLabels: {tier: apps}
    validate:
      failureAction: Enforce
      message: "Pod {{request.object.metadata.name}} needs a team label."
      pattern:
        metadata:
          labels:
            team: "?*"
  - name: no-latest
    match:
      any:
      - resources:
          kinds: [Pod]
    validate:
      message: "An image tag is required and must not be latest."
      foreach:
      - list: "request.object.spec.containers"
        deny:
          conditions:
            any:
            - key: "{{ element.image }}"
              operator: Equals
              value: "*:latest"
  - name: add-owner
    match:
      any:
      - resources:
          kinds: [ConfigMap]
    mutate:
      patchStrategicMerge:
        metadata:
          labels:
            owner: platform
"#;

const MANIFESTS: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tier: apps}}
---
apiVersion: v1
kind: Namespace
metadata: {name: lab, labels: {tier: playground}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers: [{name: app, image: "nginx:latest"}]
---
apiVersion: v1
kind: Pod
metadata: {name: toy, namespace: lab}
spec:
  containers: [{name: app, image: "nginx:1.27"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: app, image: "registry.internal/api:latest"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
"#;

#[test]
fn kyverno_rules_report_kyverno_messages_with_autogen_and_namespace_selectors() {
    let scanned = support::scan(POLICY, MANIFESTS, "kyverno/", false);
    assert!(scanned.warnings.is_empty(), "{:?}", scanned.warnings);
    let actions: Vec<(&str, &str)> = scanned.enforcement_actions.iter().map(|(id, action)| (*id, action.as_str())).collect();
    assert!(actions.contains(&("kyverno/pod-rules/require-team", "deny")) && actions.contains(&("kyverno/pod-rules/autogen-no-latest", "audit")), "{actions:?}");
    let mut found: Vec<(String, String, Severity, String, u32)> = scanned
        .findings
        .iter()
        .map(|finding| (finding.rule.to_owned(), finding.object.to_string(), finding.severity, finding.message.to_string(), finding.location.line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("kyverno/pod-rules/add-owner".to_owned(), "ConfigMap/shop/settings".to_owned(), Severity::Info, "not evaluated: mutate rules are not evaluated".to_owned(), 30),
            (
                "kyverno/pod-rules/autogen-no-latest".to_owned(),
                "Deployment/shop/api".to_owned(),
                Severity::Medium,
                "validation failure: An image tag is required and must not be latest.".to_owned(),
                21
            ),
            (
                "kyverno/pod-rules/autogen-require-team".to_owned(),
                "Deployment/shop/api".to_owned(),
                Severity::High,
                // Autogen shifts `request.object.metadata` to the pod template's metadata, which has
                // no name: Kyverno then reports the substitution error instead of the message.
                "validation error: variables substitution error in rule autogen-require-team execution error: resource value '<nil>' does not match '?*' at path /spec/template/metadata/labels/team/".to_owned(),
                26
            ),
            ("kyverno/pod-rules/no-latest".to_owned(), "Pod/shop/web".to_owned(), Severity::Medium, "validation failure: An image tag is required and must not be latest.".to_owned(), 9),
            (
                "kyverno/pod-rules/require-team".to_owned(),
                "Pod/shop/web".to_owned(),
                Severity::High,
                "validation error: Pod web needs a team label. rule require-team failed at path /metadata/labels/".to_owned(),
                11
            ),
        ],
        "lab is not tier=apps, so toy is not judged by require-team; nginx:1.27 passes no-latest"
    );
}

#[test]
fn policy_exceptions_among_the_policies_exempt_what_they_name() {
    let exception = r#"---
apiVersion: kyverno.io/v2
kind: PolicyException
metadata: {name: legacy-images, namespace: shop}
spec:
  exceptions:
  - policyName: pod-rules
    ruleNames: [no-latest]
  match:
    any:
    - resources:
        kinds: [Pod]
        names: [web]
"#;
    let rule = |scanned: &support::Scanned| scanned.findings.iter().filter(|f| f.rule == "kyverno/pod-rules/no-latest").map(|f| f.object.name.to_string()).collect::<Vec<_>>();
    let without = support::scan(POLICY, MANIFESTS, "kyverno/", true);
    let with = support::scan(&format!("{POLICY}{exception}"), MANIFESTS, "kyverno/", true);
    assert!(rule(&without).contains(&"web".to_owned()), "{:?}", rule(&without));
    let mut expected = rule(&without);
    expected.retain(|name| name != "web");
    assert_eq!(rule(&with), expected, "only the named pod is exempt, and only from the named rule");
    assert_eq!(
        with.findings.iter().filter(|f| f.rule != "kyverno/pod-rules/no-latest").count(),
        without.findings.iter().filter(|f| f.rule != "kyverno/pod-rules/no-latest").count()
    );
}

#[test]
fn a_broken_kyverno_policy_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
    let error = palisade_policy::load_policies(&[&path]).err().unwrap();
    assert!(error.message.contains("a Kyverno ClusterPolicy, Policy or PolicyException, a ValidatingAdmissionPolicy, its binding or a param object it names, found v1 ConfigMap"), "{error:?}");
    std::fs::write(&path, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: p}\nspec:\n  rules:\n  - name: r\n    validate: {}\n").unwrap();
    let error = palisade_policy::load_policies(&[&path]).err().unwrap();
    assert_eq!((error.message.as_str(), error.line), ("policy p: rule 0: rule r: no `match`", 1));
}

const CONTEXT_POLICY: &str = r#"apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: allowed-registries
spec:
  validationFailureAction: Enforce
  rules:
  - name: from-configmap
    match:
      any:
      - resources:
          kinds: [Pod]
    context:
    - name: registries
      configMap: {name: registries, namespace: platform}
    - name: namespace
      apiCall:
        urlPath: "/api/v1/namespaces/{{request.namespace}}"
        jmesPath: "metadata.labels.tier || 'none'"
    validate:
      message: "{{request.object.metadata.name}} in a {{namespace}} namespace uses a registry outside {{registries.data.allowed}}."
      deny:
        conditions:
          all:
          - key: "{{ request.object.spec.containers[0].image }}"
            operator: NotEquals
            value: "{{ registries.data.allowed }}/*"
"#;

const CONTEXT_MANIFESTS: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: {name: registries, namespace: platform}
data: {allowed: registry.internal}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tier: apps}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers: [{name: app, image: "docker.io/nginx:1.27"}]
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop}
spec:
  containers: [{name: app, image: "registry.internal/api:1"}]
"#;

#[test]
fn context_config_maps_and_api_calls_are_served_from_the_scanned_objects() {
    let build = |inventory: bool| {
        let scanned = support::scan(CONTEXT_POLICY, CONTEXT_MANIFESTS, "kyverno/", inventory);
        scanned.findings.iter().map(|finding| (finding.object.to_string(), finding.severity, finding.message.to_string())).collect::<Vec<_>>()
    };
    assert_eq!(build(true), [("Pod/shop/web".to_owned(), Severity::High, "web in a apps namespace uses a registry outside registry.internal.".to_owned())]);
    // Without the whole scan (the admission webhook), the ConfigMap is unknown: an error, not a pass.
    let alone = build(false);
    assert_eq!(alone.len(), 2, "{alone:?}");
    assert!(alone.iter().all(|(_, severity, message)| *severity == Severity::Info && message.starts_with("error: failed to load context")), "{alone:?}");
}

#[test]
fn installed_policies_that_cannot_be_read_are_warnings_and_a_file_replaces_the_installed_one() {
    let installed = palisade_load::load_str(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: broken}\nspec:\n  rules:\n  - name: r\n    validate: {}\n---\n\
         apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: pod-rules}\nspec: {rules: []}\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: not-a-policy}\n",
        "cluster://prod/clusterpolicies.kyverno.io",
    )
    .objects;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, POLICY).unwrap();
    let loaded = palisade_policy::policies::load_policies_with_installed(&[&file], &installed).unwrap();
    // The file's pod-rules (three rules) stands; the installed one of the same name does not.
    let names: Vec<(&str, usize)> = loaded.kyverno.iter().map(|policy| (policy.name.as_str(), policy.all_rules().count())).collect();
    assert_eq!(names.iter().filter(|(name, _)| *name == "pod-rules").count(), 1, "{names:?}");
    assert!(names.iter().any(|(name, rules)| *name == "pod-rules" && *rules > 0), "{names:?}");
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("cluster://prod/clusterpolicies.kyverno.io: ClusterPolicy broken: not evaluated: policy broken: rule 0: rule r: no `match`"), "{:?}", loaded.warnings);
    assert!(loaded.warnings[1].contains("Pod not-a-policy: not evaluated: expected an OperationPolicy"), "{:?}", loaded.warnings);
    // The same documents from a file stop the load with the file and line.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: broken}\nspec:\n  rules:\n  - name: r\n    validate: {}\n").unwrap();
    let error = palisade_policy::policies::load_policies_with_installed(&[&broken], &installed).err().unwrap();
    assert_eq!((error.line, error.message.as_str()), (1, "policy broken: rule 0: rule r: no `match`"));
}

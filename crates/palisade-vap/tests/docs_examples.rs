//! The examples of the Kubernetes documentation page "Validating Admission Policy", evaluated
//! with objects that pass and objects that fail, plus the behaviours that page describes
//! (params by name and selector, parameterNotFoundAction, match conditions, variables,
//! messageExpression, audit annotations, validation actions, failure policy).
//!
//! Policies, bindings and params below are derived from
//! https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/ and the
//! example files it includes (kubernetes/website, content/en/examples/validatingadmissionpolicy/
//! and content/en/examples/access/), © The Kubernetes Authors, licensed CC BY 4.0
//! (https://creativecommons.org/licenses/by/4.0/). Changes: written as JSON; alpha/beta
//! apiVersions moved to v1; `paramKind` of deployment-replicas-policy.yaml given as
//! `apiVersion` (the page's `group`/`version` is the alpha shape); the `namesapce` typo of
//! replicalimit-param.yaml written as `namespace`. Expected messages are quoted from the page
//! where it quotes one; the others follow the API server's wording (see src/decision.rs).

use palisade_vap::{Action, Decision, Outcome, PolicySet, Request, Verdict};
use serde_json::{Value, json};

fn load(objects: Vec<Value>) -> PolicySet {
    let (set, warnings) = PolicySet::from_objects(objects);
    assert!(warnings.is_empty(), "{warnings:?}");
    set
}

/// Loads a policy that calls a function the engine lacks, which loading warns about.
fn load_calling(objects: Vec<Value>, function: &str) -> PolicySet {
    let (set, warnings) = PolicySet::from_objects(objects);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains(&format!("calls `{function}`, which kube-cel does not provide")), "{warnings:?}");
    set
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn deployment(name: &str, namespace: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}})
}

fn evaluate(set: &PolicySet, object: &Value, namespace: Option<&Value>) -> Vec<Decision> {
    set.evaluate(&Request::create(object, namespace))
}

fn verdict(set: &PolicySet, object: &Value, namespace: Option<&Value>) -> Verdict {
    Verdict::of(&evaluate(set, object, namespace))
}

fn denial(set: &PolicySet, object: &Value, namespace: Option<&Value>) -> String {
    let verdict = verdict(set, object, namespace);
    assert!(verdict.not_evaluated.is_empty(), "{:?}", verdict.not_evaluated);
    verdict.denial.map(|denial| denial.message).unwrap_or_default()
}

fn not_evaluated(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .filter_map(|decision| match &decision.outcome {
            Outcome::NotEvaluated { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

const DEPLOYMENTS: &str = r#"{"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]}"#;

fn policy(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("matchConstraints").is_none() {
        spec["matchConstraints"] = serde_json::from_str(DEPLOYMENTS).unwrap();
    }
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name}, "spec": spec})
}

fn binding(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": name}, "spec": spec})
}

/// basic-example-policy.yaml and basic-example-binding.yaml.
fn basic_example() -> Vec<Value> {
    vec![
        policy("demo-policy.example.com", json!({"failurePolicy": "Fail",
            "validations": [{"expression": "object.spec.replicas <= 5"}]})),
        binding("demo-binding-test.example.com", json!({"policyName": "demo-policy.example.com",
            "validationActions": ["Deny"], "matchResources": {"namespaceSelector": {"matchLabels": {"environment": "test"}}}})),
    ]
}

#[test]
fn basic_example_denies_too_many_replicas_in_test_namespaces() {
    let set = load(basic_example());
    let test = namespace("default", json!({"environment": "test"}));
    assert_eq!(
        denial(&set, &deployment("nginx", "default", 6), Some(&test)),
        "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5"
    );
    let denied = verdict(&set, &deployment("nginx", "default", 6), Some(&test)).denial.unwrap();
    assert_eq!((denied.reason.as_str(), denied.code), ("Invalid", 422));
    assert_eq!(denial(&set, &deployment("nginx", "default", 5), Some(&test)), "");
    let prod = namespace("default", json!({"environment": "prod"}));
    assert!(evaluate(&set, &deployment("nginx", "default", 6), Some(&prod)).is_empty(), "the binding selects test namespaces only");
}

#[test]
fn a_namespace_selector_without_the_namespace_object_is_not_a_verdict() {
    let set = load(basic_example());
    let decisions = evaluate(&set, &deployment("nginx", "default", 6), None);
    let reasons = not_evaluated(&decisions);
    assert_eq!(reasons.len(), 1, "{decisions:?}");
    assert!(reasons[0].contains("Namespace \"default\""), "{reasons:?}");
    assert!(Verdict::of(&decisions).allowed() && !Verdict::of(&decisions).not_evaluated.is_empty());
}

#[test]
fn a_policy_without_a_binding_does_nothing() {
    let set = load(vec![basic_example().remove(0)]);
    assert!(set.is_empty());
    assert!(evaluate(&set, &deployment("nginx", "default", 60), None).is_empty());
}

/// policy-with-param.yaml, binding-with-param.yaml, binding-with-param-prod.yaml and both
/// ReplicaLimit params.
fn replica_limits(test_limit: Option<i64>) -> Vec<Value> {
    let mut objects = vec![
        policy("replicalimit-policy.example.com", json!({"failurePolicy": "Fail",
            "paramKind": {"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit"},
            "validations": [{"expression": "object.spec.replicas <= params.maxReplicas", "reason": "Invalid"}]})),
        binding("replicalimit-binding-test.example.com", json!({"policyName": "replicalimit-policy.example.com",
            "validationActions": ["Deny"],
            "paramRef": {"name": "replica-limit-test.example.com", "namespace": "default", "parameterNotFoundAction": "Deny"},
            "matchResources": {"namespaceSelector": {"matchLabels": {"environment": "test"}}}})),
        binding("replicalimit-binding-nontest", json!({"policyName": "replicalimit-policy.example.com",
            "validationActions": ["Deny"],
            "paramRef": {"name": "replica-limit-prod.example.com", "namespace": "default"},
            "matchResources": {"namespaceSelector": {"matchExpressions": [{"key": "environment", "operator": "NotIn", "values": ["test"]}]}}})),
        json!({"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit",
            "metadata": {"name": "replica-limit-prod.example.com", "namespace": "default"}, "maxReplicas": 100}),
    ];
    if let Some(limit) = test_limit {
        objects.push(json!({"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit",
            "metadata": {"name": "replica-limit-test.example.com", "namespace": "default"}, "maxReplicas": limit}));
    }
    objects
}

#[test]
fn each_binding_applies_its_own_param() {
    let set = load(replica_limits(Some(3)));
    let test = namespace("team-a", json!({"environment": "test"}));
    let prod = namespace("team-b", json!({"environment": "prod"}));
    assert_eq!(
        denial(&set, &deployment("nginx", "team-a", 5), Some(&test)),
        "ValidatingAdmissionPolicy 'replicalimit-policy.example.com' with binding 'replicalimit-binding-test.example.com' denied request: failed expression: object.spec.replicas <= params.maxReplicas"
    );
    assert_eq!(denial(&set, &deployment("nginx", "team-a", 3), Some(&test)), "");
    assert_eq!(denial(&set, &deployment("nginx", "team-b", 5), Some(&prod)), "", "the prod limit is 100");
    let decisions = evaluate(&set, &deployment("nginx", "team-b", 101), Some(&prod));
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].binding.as_deref(), Some("replicalimit-binding-nontest"));
    assert_eq!(decisions[0].param.as_deref(), Some("default/replica-limit-prod.example.com"));
}

#[test]
fn a_missing_param_with_deny_is_a_configuration_error_whatever_the_actions() {
    let set = load(replica_limits(None));
    let test = namespace("team-a", json!({"environment": "test"}));
    assert_eq!(
        denial(&set, &deployment("nginx", "team-a", 1), Some(&test)),
        "ValidatingAdmissionPolicy 'replicalimit-policy.example.com' with binding 'replicalimit-binding-test.example.com' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
    );
    // The prod binding has no parameterNotFoundAction: a missing param there allows.
    let mut objects = replica_limits(Some(3));
    objects.retain(|object| object["metadata"]["name"] != "replica-limit-prod.example.com");
    let prod = namespace("team-b", json!({"environment": "prod"}));
    assert!(evaluate(&load(objects), &deployment("nginx", "team-b", 1000), Some(&prod)).is_empty());
}

#[test]
fn failure_policy_ignore_skips_configuration_errors_too() {
    let mut objects = replica_limits(None);
    objects[0]["spec"]["failurePolicy"] = json!("Ignore");
    let test = namespace("team-a", json!({"environment": "test"}));
    assert!(evaluate(&load(objects), &deployment("nginx", "team-a", 1), Some(&test)).is_empty());
}

fn param_policy(validations: Value) -> Value {
    policy("params.example.com", json!({"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}, "validations": validations}))
}

fn config_map(name: &str, namespace: &str, labels: Value, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "data": data})
}

#[test]
fn params_are_null_without_a_param_ref_and_the_recommended_check_catches_it() {
    let set = load(vec![
        param_policy(json!([{"expression": "params != null", "message": "params missing but required to bind to this policy"}])),
        binding("no-param", json!({"policyName": "params.example.com", "validationActions": ["Deny"]})),
    ]);
    assert_eq!(
        denial(&set, &deployment("nginx", "default", 1), None),
        "ValidatingAdmissionPolicy 'params.example.com' with binding 'no-param' denied request: params missing but required to bind to this policy"
    );
}

#[test]
fn optional_parameters_are_checked_only_when_present() {
    let objects = |data: Value| {
        vec![
            param_policy(json!([{"expression": "!has(params.data.optionalNumber) || (int(params.data.optionalNumber) >= 5 && int(params.data.optionalNumber) <= 10)"}])),
            binding("optional", json!({"policyName": "params.example.com", "validationActions": ["Deny"], "paramRef": {"name": "limits"}})),
            config_map("limits", "default", json!({}), data),
        ]
    };
    let object = deployment("nginx", "default", 1);
    assert_eq!(denial(&load(objects(json!({}))), &object, None), "");
    assert_eq!(denial(&load(objects(json!({"optionalNumber": "7"}))), &object, None), "");
    assert!(denial(&load(objects(json!({"optionalNumber": "11"}))), &object, None).ends_with("failed expression: !has(params.data.optionalNumber) || (int(params.data.optionalNumber) >= 5 && int(params.data.optionalNumber) <= 10)"));
}

#[test]
fn a_param_selector_evaluates_every_param_it_selects_in_the_requests_namespace() {
    let set = load(vec![
        param_policy(json!([{"expression": "object.spec.replicas <= int(params.data.max)",
            "messageExpression": "'at most ' + params.data.max + ' replicas (' + params.metadata.name + ')'"}])),
        binding("selected", json!({"policyName": "params.example.com", "validationActions": ["Deny"],
            "paramRef": {"selector": {"matchLabels": {"limits": "replicas"}}, "parameterNotFoundAction": "Allow"}})),
        config_map("loose", "team-a", json!({"limits": "replicas"}), json!({"max": "10"})),
        config_map("strict", "team-a", json!({"limits": "replicas"}), json!({"max": "2"})),
        config_map("unlabelled", "team-a", json!({}), json!({"max": "0"})),
        config_map("elsewhere", "team-b", json!({"limits": "replicas"}), json!({"max": "0"})),
    ]);
    let decisions = evaluate(&set, &deployment("nginx", "team-a", 5), None);
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert_eq!(decisions[0].param.as_deref(), Some("team-a/strict"));
    assert!(denial(&set, &deployment("nginx", "team-a", 5), None).ends_with("denied request: at most 2 replicas (strict)"));
    assert!(evaluate(&set, &deployment("nginx", "team-a", 2), None).is_empty());
    assert!(evaluate(&set, &deployment("nginx", "team-c", 50), None).is_empty(), "no params there, and Allow");
}

#[test]
fn failure_policy_decides_what_an_evaluation_error_does() {
    // failure-policy-ignore.yaml's expression, on an object without `spec.xyz`.
    let objects = |failure_policy: &str| {
        vec![
            policy("xyz.example.com", json!({"failurePolicy": failure_policy,
                "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                "validations": [{"expression": "object.spec.xyz == params.x"}]})),
            binding("xyz", json!({"policyName": "xyz.example.com", "validationActions": ["Deny"], "paramRef": {"name": "p"}})),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p", "namespace": "default"}, "x": 1}),
        ]
    };
    let object = deployment("nginx", "default", 1);
    assert!(evaluate(&load(objects("Ignore")), &object, None).is_empty());
    let decisions = evaluate(&load(objects("Fail")), &object, None);
    let Outcome::Violation(violation) = &decisions[0].outcome else { panic!("{decisions:?}") };
    assert!(violation.error);
    assert_eq!(violation.message, "expression 'object.spec.xyz == params.x' resulted in error: no such key: xyz");
}

#[test]
fn validation_actions_deny_warn_and_audit_as_the_bindings_say() {
    let set = load(vec![
        basic_example().remove(0),
        binding("deny", json!({"policyName": "demo-policy.example.com", "validationActions": ["Deny"],
            "matchResources": {"objectSelector": {"matchLabels": {"enforce": "true"}}}})),
        binding("warn-and-audit", json!({"policyName": "demo-policy.example.com", "validationActions": ["Warn", "Audit"]})),
    ]);
    let mut object = deployment("nginx", "default", 6);
    let warned = verdict(&set, &object, None);
    assert!(warned.allowed());
    assert_eq!(warned.warnings, ["Validation failed for ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'warn-and-audit': failed expression: object.spec.replicas <= 5"]);
    assert_eq!(
        warned.audit_annotations["validation.policy.admission.k8s.io/validation_failure"],
        r#"[{"message":"failed expression: object.spec.replicas <= 5","policy":"demo-policy.example.com","binding":"warn-and-audit","expressionIndex":0,"validationActions":["Warn","Audit"]}]"#
    );
    object["metadata"]["labels"]["enforce"] = json!("true");
    let decisions = evaluate(&set, &object, None);
    assert_eq!(decisions.iter().map(|decision| decision.actions.clone()).collect::<Vec<_>>(), [vec![Action::Deny], vec![Action::Warn, Action::Audit]]);
    let both = Verdict::of(&decisions);
    assert!(both.denial.unwrap().message.contains("with binding 'deny' denied request"));
    assert_eq!(both.warnings.len(), 1);
}

#[test]
fn validation_expression_examples() {
    // The page's table of validation expressions, each on an object it admits and one it denies.
    let cases = [
        ("object.minReplicas <= object.replicas && object.replicas <= object.maxReplicas",
            json!({"minReplicas": 1, "replicas": 2, "maxReplicas": 3}), json!({"minReplicas": 1, "replicas": 4, "maxReplicas": 3})),
        ("'Available' in object.stateCounts", json!({"stateCounts": {"Available": 1}}), json!({"stateCounts": {"Pending": 1}})),
        ("(size(object.list1) == 0) != (size(object.list2) == 0)", json!({"list1": [], "list2": [1]}), json!({"list1": [1], "list2": [2]})),
        ("!('MY_KEY' in object.map1) || object['MY_KEY'].matches('^[a-zA-Z]*$')", json!({"map1": {}}), json!({"map1": {"MY_KEY": 1}, "MY_KEY": "a1"})),
        ("object.envars.filter(e, e.name == 'MY_ENV').all(e, e.value.matches('^[a-zA-Z]*$'))",
            json!({"envars": [{"name": "MY_ENV", "value": "abc"}, {"name": "OTHER", "value": "1"}]}), json!({"envars": [{"name": "MY_ENV", "value": "a-b"}]})),
        ("object.health.startsWith('ok')", json!({"health": "ok: all good"}), json!({"health": "degraded"})),
        ("object.widgets.exists(w, w.key == 'x' && w.foo < 10)", json!({"widgets": [{"key": "x", "foo": 9}]}), json!({"widgets": [{"key": "x", "foo": 10}]})),
        ("object.metadata.name.startsWith(object.prefix)", json!({"metadata": {"name": "app-web"}, "prefix": "app-"}), json!({"metadata": {"name": "web"}, "prefix": "app-"})),
        ("object.set1.all(e, !(e in object.set2))", json!({"set1": [1, 2], "set2": [3]}), json!({"set1": [1, 2], "set2": [2]})),
        ("size(object.names) == size(object.details) && object.names.all(n, n in object.details)",
            json!({"names": ["a"], "details": {"a": 1}}), json!({"names": ["a"], "details": {"b": 1}})),
        ("size(object.clusters.filter(c, c.name == object.primary)) == 1",
            json!({"clusters": [{"name": "a"}, {"name": "b"}], "primary": "a"}), json!({"clusters": [{"name": "a"}, {"name": "a"}], "primary": "a"})),
    ];
    for (expression, admitted, denied) in cases {
        let set = load(vec![
            policy("table.example.com", json!({"matchConstraints": {"resourceRules": [{"apiGroups": ["example.com"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["widgets"]}]},
                "validations": [{"expression": expression}]})),
            binding("table", json!({"policyName": "table.example.com", "validationActions": ["Deny"]})),
        ]);
        let widget = |fields: Value| {
            let mut object = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
            for (key, value) in fields.as_object().unwrap() {
                object[key] = value.clone();
            }
            object
        };
        assert_eq!(denial(&set, &widget(admitted), None), "", "{expression} should admit");
        assert_eq!(
            denial(&set, &widget(denied), None),
            format!("ValidatingAdmissionPolicy 'table.example.com' with binding 'table' denied request: failed expression: {expression}")
        );
    }
}

#[test]
fn the_int_or_string_example() {
    // `type(object) == string ? object == '100%' : object == 1000`, on an int-or-string field.
    // The cel crate has no `type()`; palisade-vap adds it (and the type identifiers).
    let set = load(vec![
        policy("type.example.com", json!({"validations": [{"expression": "type(object.spec.replicas) == string ? object.spec.replicas == '100%' : object.spec.replicas == 1000"}]})),
        binding("type", json!({"policyName": "type.example.com", "validationActions": ["Deny"]})),
    ]);
    let with = |replicas: Value| {
        let mut object = deployment("nginx", "default", 0);
        object["spec"]["replicas"] = replicas;
        denial(&set, &object, None).is_empty()
    };
    assert!(with(json!(1000)) && with(json!("100%")));
    assert!(!with(json!(5)) && !with(json!("50%")));
}

#[test]
fn a_validation_reason_sets_the_status_reason_and_code() {
    let set = load(vec![
        policy("forbidden.example.com", json!({"validations": [{"expression": "object.spec.replicas < 10", "message": " too many ", "reason": "Forbidden"}]})),
        binding("forbidden", json!({"policyName": "forbidden.example.com", "validationActions": ["Deny"]})),
    ]);
    let denied = verdict(&set, &deployment("nginx", "default", 10), None).denial.unwrap();
    assert_eq!((denied.reason.as_str(), denied.code), ("Forbidden", 403));
    assert!(denied.message.ends_with("denied request: too many"), "the static message is trimmed");
}

/// validating-admission-policy-match-conditions.yaml.
fn match_conditions_example(validation: &str) -> Vec<Value> {
    vec![
        policy("demo-policy.example.com", json!({"failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"], "resources": ["*"]}]},
            "matchConditions": [
                {"name": "exclude-leases", "expression": "!(request.resource.group == \"coordination.k8s.io\" && request.resource.resource == \"leases\")"},
                {"name": "exclude-kubelet-requests", "expression": "!(\"system:nodes\" in request.userInfo.groups)"},
                {"name": "rbac", "expression": "request.resource.group != \"rbac.authorization.k8s.io\""}],
            "validations": [{"expression": validation}]})),
        binding("demo", json!({"policyName": "demo-policy.example.com", "validationActions": ["Deny"]})),
    ]
}

#[test]
fn match_conditions_skip_leases_kubelets_and_rbac() {
    let set = load(match_conditions_example("object.metadata.name.startsWith('demo')"));
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "x", "namespace": "a"}});
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "x", "namespace": "a"}});
    assert!(evaluate(&set, &lease, None).is_empty());
    assert!(evaluate(&set, &role, None).is_empty());
    let mut from_kubelet = Request::create(&deployment("nginx", "a", 1), None);
    from_kubelet.user_info = Some(json!({"username": "system:node:n1", "groups": ["system:nodes"]}));
    assert!(set.evaluate(&from_kubelet).is_empty());
    // A request the user makes: the policy applies.
    let mut from_user = Request::create(&deployment("nginx", "a", 1), None);
    from_user.user_info = Some(json!({"username": "alice", "groups": ["developers"]}));
    assert!(Verdict::of(&set.evaluate(&from_user)).denial.unwrap().message.ends_with("failed expression: object.metadata.name.startsWith('demo')"));
    from_user.object = Some(deployment("demo-nginx", "a", 1));
    assert!(set.evaluate(&from_user).is_empty());
}

#[test]
fn the_pages_misspelt_function_is_not_evaluated() {
    // The page's validation calls `startWith`, which does not exist: the API server rejects
    // the policy when it is written, so no verdict is made here either.
    let set = load_calling(match_conditions_example("object.metadata.name.startWith('demo')"), "startWith");
    let mut request = Request::create(&deployment("nginx", "a", 1), None);
    request.user_info = Some(json!({"username": "alice", "groups": ["system:authenticated"]}));
    let decisions = set.evaluate(&request);
    assert!(not_evaluated(&decisions)[0].contains("`startWith`"), "{decisions:?}");
    assert!(Verdict::of(&decisions).allowed());
}

#[test]
fn match_condition_errors_follow_the_failure_policy_and_false_wins() {
    let objects = |failure_policy: &str, conditions: Value| {
        vec![
            policy("conditions.example.com", json!({"failurePolicy": failure_policy, "matchConditions": conditions,
                "validations": [{"expression": "false", "message": "validated"}]})),
            binding("conditions", json!({"policyName": "conditions.example.com", "validationActions": ["Deny"]})),
        ]
    };
    let failing = json!([{"name": "broken", "expression": "object.nope == 1"}, {"name": "true", "expression": "true"}]);
    let object = deployment("nginx", "a", 1);
    let message = denial(&load(objects("Fail", failing.clone())), &object, None);
    assert!(message.starts_with("ValidatingAdmissionPolicy 'conditions.example.com' with binding 'conditions' denied request: expression 'object.nope == 1' resulted in error: "), "{message}");
    assert!(evaluate(&load(objects("Ignore", failing)), &object, None).is_empty());
    let false_wins = json!([{"name": "broken", "expression": "object.nope == 1"}, {"name": "false", "expression": "false"}]);
    assert!(evaluate(&load(objects("Fail", false_wins)), &object, None).is_empty());
    let two_errors = json!([{"name": "a", "expression": "object.a == 1"}, {"name": "b", "expression": "object.b == 1"}]);
    let aggregated = denial(&load(objects("Fail", two_errors)), &object, None);
    assert!(aggregated.contains("denied request: [expression 'object.a == 1' resulted in error: ") && aggregated.contains(", expression 'object.b == 1'"), "{aggregated}");
}

#[test]
fn audit_annotations_are_published_with_the_policy_name() {
    // validating-admission-policy-audit-annotation.yaml, bound with Deny.
    let set = load(vec![
        policy("demo-policy.example.com", json!({"failurePolicy": "Fail",
            "validations": [{"expression": "object.spec.replicas > 50", "messageExpression": "'Deployment spec.replicas set to ' + string(object.spec.replicas)"}],
            "auditAnnotations": [{"key": "high-replica-count", "valueExpression": "'Deployment spec.replicas set to ' + string(object.spec.replicas)"}]})),
        binding("demo", json!({"policyName": "demo-policy.example.com", "validationActions": ["Deny"]})),
    ]);
    let high = verdict(&set, &deployment("nginx", "default", 128), None);
    assert!(high.allowed());
    assert_eq!(high.audit_annotations["demo-policy.example.com/high-replica-count"], "Deployment spec.replicas set to 128");
    let low = verdict(&set, &deployment("nginx", "default", 10), None);
    assert!(low.denial.unwrap().message.ends_with("denied request: Deployment spec.replicas set to 10"));
    // The page says a null value leaves the annotation out; this expression is never null.
    assert_eq!(low.audit_annotations["demo-policy.example.com/high-replica-count"], "Deployment spec.replicas set to 10");
}

#[test]
fn audit_annotation_values_that_are_null_empty_or_not_strings() {
    let objects = |value_expression: &str, failure_policy: &str| {
        vec![
            policy("annotations.example.com", json!({"failurePolicy": failure_policy,
                "auditAnnotations": [{"key": "k", "valueExpression": value_expression}]})),
            binding("annotations", json!({"policyName": "annotations.example.com", "validationActions": ["Audit"]})),
        ]
    };
    let object = deployment("nginx", "default", 10);
    let annotations = |expression: &str, failure_policy: &str| verdict(&load(objects(expression, failure_policy)), &object, None);
    assert!(annotations("object.spec.replicas > 50 ? 'high' : null", "Fail").audit_annotations.is_empty());
    assert!(annotations("'   '", "Fail").audit_annotations.is_empty());
    let wrong_type = annotations("object.spec.replicas", "Ignore");
    assert_eq!(
        wrong_type.denial.unwrap().message,
        "ValidatingAdmissionPolicy 'annotations.example.com' with binding 'annotations' denied request: valueExpression 'object.spec.replicas' resulted in unsupported return type: int. Return type must be either string or null."
    );
    assert!(annotations("object.nope", "Ignore").allowed());
    assert!(annotations("object.nope", "Fail").denial.unwrap().message.contains("expression 'object.nope' resulted in error"), "errors deny under Fail even with Audit");
}

#[test]
fn message_expression_example() {
    // deployment-replicas-policy.yaml with a params object limiting replicas to 3.
    let set = load(vec![
        policy("deploy-replica-policy.example.com", json!({
            "paramKind": {"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit"},
            "validations": [{"expression": "object.spec.replicas <= params.maxReplicas",
                "messageExpression": "'object.spec.replicas must be no greater than ' + string(params.maxReplicas)", "reason": "Invalid"}]})),
        binding("demo-binding-test.example.com", json!({"policyName": "deploy-replica-policy.example.com", "validationActions": ["Deny"],
            "paramRef": {"name": "replica-limit-test.example.com", "namespace": "default", "parameterNotFoundAction": "Deny"}})),
        json!({"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit", "metadata": {"name": "replica-limit-test.example.com", "namespace": "default"}, "maxReplicas": 3}),
    ]);
    assert_eq!(
        denial(&set, &deployment("nginx", "default", 5), None),
        "ValidatingAdmissionPolicy 'deploy-replica-policy.example.com' with binding 'demo-binding-test.example.com' denied request: object.spec.replicas must be no greater than 3"
    );
}

#[test]
fn message_expressions_fall_back_to_the_message_then_the_expression() {
    let objects = |message_expression: &str, message: Option<&str>| {
        let mut validation = json!({"expression": "false", "messageExpression": message_expression});
        if let Some(message) = message {
            validation["message"] = json!(message);
        }
        vec![
            policy("messages.example.com", json!({"validations": [validation]})),
            binding("messages", json!({"policyName": "messages.example.com", "validationActions": ["Deny"]})),
        ]
    };
    let message = |expression: &str, static_message: Option<&str>| {
        let (set, _) = PolicySet::from_objects(objects(expression, static_message));
        let text = denial(&set, &deployment("nginx", "default", 1), None);
        text.rsplit_once("denied request: ").map(|(_, message)| message.to_owned()).unwrap_or_default()
    };
    assert_eq!(message("'  spaced  '", None), "spaced");
    assert_eq!(message("'two\\nlines'", Some("static")), "static");
    assert_eq!(message("object.nope", Some("static")), "static");
    assert_eq!(message("1", Some("static")), "static", "a non-string message");
    assert_eq!(message("'x'.repeat(1)", None), "failed expression: false", "no message, no string");
    assert_eq!(message("'a' + 'b'", Some("static")), "ab");
}

/// image-matches-namespace-environment.policy.yaml, bound to the `default` namespace.
fn image_policy() -> PolicySet {
    load(vec![
        policy("image-matches-namespace-environment.policy.example.com", json!({"failurePolicy": "Fail",
            "variables": [
                {"name": "environment", "expression": "'environment' in namespaceObject.metadata.labels ? namespaceObject.metadata.labels['environment'] : 'prod'"},
                {"name": "exempt", "expression": "'exempt' in object.metadata.labels && object.metadata.labels['exempt'] == 'true'"},
                {"name": "containers", "expression": "object.spec.template.spec.containers"},
                {"name": "containersToCheck", "expression": "variables.containers.filter(c, c.image.contains('example.com'))"}],
            "validations": [{"expression": "variables.exempt || variables.containersToCheck.all(c, c.image.startsWith(variables.environment + '.'))",
                "messageExpression": "'only ' + variables.environment + ' images are allowed in namespace ' + namespaceObject.metadata.name"}]})),
        binding("demo-binding-test.example.com", json!({"policyName": "image-matches-namespace-environment.policy.example.com",
            "validationActions": ["Deny"], "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}}}})),
    ])
}

#[test]
fn variables_example_checks_images_against_the_namespace_environment() {
    let set = image_policy();
    let default = namespace("default", json!({"environment": "prod", "kubernetes.io/metadata.name": "default"}));
    let with_image = |image: &str, exempt: bool| {
        let mut object = deployment("invalid", "default", 1);
        object["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
        if exempt {
            object["metadata"]["labels"]["exempt"] = json!("true");
        }
        object
    };
    assert_eq!(
        denial(&set, &with_image("dev.example.com/nginx", false), Some(&default)),
        "ValidatingAdmissionPolicy 'image-matches-namespace-environment.policy.example.com' with binding 'demo-binding-test.example.com' denied request: only prod images are allowed in namespace default"
    );
    assert_eq!(denial(&set, &with_image("prod.example.com/nginx", false), Some(&default)), "");
    assert_eq!(denial(&set, &with_image("dev.example.com/nginx", true), Some(&default)), "");
    assert_eq!(denial(&set, &with_image("nginx", false), Some(&default)), "", "images elsewhere are not checked");
    let other = namespace("other", json!({"environment": "dev"}));
    let mut elsewhere = with_image("dev.example.com/nginx", false);
    elsewhere["metadata"]["namespace"] = json!("other");
    assert!(evaluate(&set, &elsewhere, Some(&other)).is_empty(), "bound to default only");
}

#[test]
fn variables_are_lazy_and_their_errors_surface_where_they_are_used() {
    let objects = |validation: &str| {
        vec![
            policy("lazy.example.com", json!({
                "variables": [{"name": "broken", "expression": "object.spec.nope"}, {"name": "uses_broken", "expression": "variables.broken + 1"}],
                "validations": [{"expression": validation}]})),
            binding("lazy", json!({"policyName": "lazy.example.com", "validationActions": ["Deny"]})),
        ]
    };
    let object = deployment("nginx", "default", 1);
    assert!(evaluate(&load(objects("object.spec.replicas == 1 || variables.broken == 1")), &object, None).is_empty());
    let message = denial(&load(objects("variables.uses_broken == 2")), &object, None);
    assert!(
        message.contains("denied request: expression 'variables.uses_broken == 2' resulted in error: composited variable \"uses_broken\" fails to evaluate: composited variable \"broken\" fails to evaluate: "),
        "{message}"
    );
}

#[test]
fn authorizer_expressions_are_reported_not_evaluated() {
    let set = load(vec![
        policy("authz.example.com", json!({
            "variables": [{"name": "allowed", "expression": "authorizer.group('').resource('pods').namespace('default').check('create').allowed()"}],
            "validations": [{"expression": "object.spec.replicas < 10"}, {"expression": "variables.allowed"}]})),
        binding("authz", json!({"policyName": "authz.example.com", "validationActions": ["Deny"]})),
    ]);
    let decisions = evaluate(&set, &deployment("nginx", "default", 20), None);
    assert_eq!(decisions.len(), 2);
    assert!(matches!(decisions[0].outcome, Outcome::Violation(_)));
    assert!(matches!(&decisions[1].outcome, Outcome::NotEvaluated { validation: Some(1), reason } if reason.contains("authorizer")));
}

#[test]
fn a_policy_that_does_not_compile_warns_and_is_not_evaluated() {
    let (set, warnings) = PolicySet::from_objects(vec![
        policy("broken.example.com", json!({"validations": [{"expression": "object.spec.replicas <"}]})),
        binding("broken", json!({"policyName": "broken.example.com", "validationActions": ["Deny"]})),
        binding("orphan", json!({"policyName": "missing.example.com", "validationActions": ["Deny"]})),
    ]);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(warnings[0].object, "ValidatingAdmissionPolicy/broken.example.com");
    assert!(warnings[0].message.starts_with("spec.validations[0].expression: `object.spec.replicas <`"));
    assert_eq!(warnings[1].object, "ValidatingAdmissionPolicyBinding/orphan");
    let decisions = evaluate(&set, &deployment("nginx", "default", 1), None);
    assert_eq!(not_evaluated(&decisions).len(), 1);
}

#[test]
fn the_type_checking_example_fails_at_run_time() {
    // typechecking.yaml: `object.replicas` does not exist on a Deployment. The API server only
    // warns in status.typeChecking; at run time the error denies under the default Fail.
    let set = load(vec![
        policy("deploy-replica-policy.example.com", json!({"validations": [{"expression": "object.replicas > 1", "message": "must be replicated", "reason": "Invalid"}]})),
        binding("typecheck", json!({"policyName": "deploy-replica-policy.example.com", "validationActions": ["Deny"]})),
    ]);
    let message = denial(&set, &deployment("nginx", "default", 3), None);
    assert!(message.contains("denied request: expression 'object.replicas > 1' resulted in error: "), "{message}");
}

#[test]
fn excluded_rules_object_selectors_and_resource_names() {
    let set = load(vec![
        policy("scoped.example.com", json!({
            "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]}],
                "excludeResourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["*"], "resources": ["deployments"], "resourceNames": ["legacy"]}],
                "objectSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}},
            "validations": [{"expression": "false"}]})),
        binding("scoped", json!({"policyName": "scoped.example.com", "validationActions": ["Deny"]})),
    ]);
    assert_eq!(evaluate(&set, &deployment("web", "default", 1), None).len(), 1);
    assert!(evaluate(&set, &deployment("legacy", "default", 1), None).is_empty());
    let mut unlabelled = deployment("web", "default", 1);
    unlabelled["metadata"]["labels"] = json!({});
    assert!(evaluate(&set, &unlabelled, None).is_empty());
    let mut update = Request::create(&deployment("web", "default", 1), None);
    update.operation = "UPDATE".to_owned();
    assert!(set.evaluate(&update).is_empty(), "only CREATE is matched");
}

#[test]
fn request_and_namespace_object_variables() {
    let set = load(vec![
        policy("request.example.com", json!({
            "matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}]},
            "validations": [
                {"expression": "request.operation == 'UPDATE' && request.userInfo.username == 'alice' && request.name == 'web' && request.resource.resource == 'deployments'"},
                {"expression": "oldObject.spec.replicas <= object.spec.replicas"},
                {"expression": "namespaceObject == null || namespaceObject.metadata.name == request.namespace && !has(namespaceObject.kind)"}]})),
        binding("request", json!({"policyName": "request.example.com", "validationActions": ["Deny"]})),
    ]);
    let review = json!({"uid": "1", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"}, "name": "web", "namespace": "default",
        "operation": "UPDATE", "userInfo": {"username": "alice"},
        "object": deployment("web", "default", 3), "oldObject": deployment("web", "default", 2)});
    let mut request = Request::from_admission_request(&review);
    request.namespace_object = Some(namespace("default", json!({})));
    assert!(set.evaluate(&request).is_empty(), "{:?}", set.evaluate(&request));
    request.old_object = Some(deployment("web", "default", 4));
    let decisions = set.evaluate(&request);
    assert!(matches!(&decisions[..], [Decision { outcome: Outcome::Violation(violation), .. }] if violation.validation == Some(1)), "{decisions:?}");
    // A cluster-scoped object sees a null namespaceObject without needing one.
    let cluster_role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}});
    let decisions = evaluate(&set, &cluster_role, None);
    let concerns = |decision: &Decision, index: usize| match &decision.outcome {
        Outcome::Violation(violation) => violation.validation == Some(index),
        Outcome::NotEvaluated { validation, .. } => *validation == Some(index),
        Outcome::AuditAnnotation { .. } => false,
    };
    assert!(!decisions.iter().any(|decision| concerns(decision, 2)), "{decisions:?}");
    // A scanned manifest has no requesting user: what reads it is not decided.
    assert!(decisions.iter().any(|decision| concerns(decision, 0) && matches!(&decision.outcome, Outcome::NotEvaluated { reason, .. } if reason.contains("request.userInfo"))));
}

#[test]
fn a_panic_inside_kube_cel_is_not_a_verdict_and_not_a_crash() {
    // kube-cel 0.8 panics on a `%f` precision past what Rust's formatter takes.
    let set = load(vec![
        policy("panic.example.com", json!({"validations": [{"expression": "'%.999999999f'.format([1.0]) != ''"}, {"expression": "object.spec.replicas < 3"}]})),
        binding("panic", json!({"policyName": "panic.example.com", "validationActions": ["Deny"]})),
    ]);
    let decisions = evaluate(&set, &deployment("nginx", "default", 5), None);
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    assert!(matches!(&decisions[0].outcome, Outcome::NotEvaluated { validation: Some(0), reason } if reason.starts_with("kube-cel failed internally")));
    assert!(matches!(&decisions[1].outcome, Outcome::Violation(_)), "the other validations still decide");
}

//! `validate.cel` rules, evaluated as Kyverno evaluates them: Kyverno hands the rule to the
//! API server's ValidatingAdmissionPolicy validator (`celPreconditions` as match conditions,
//! `variables`, `expressions` whose message defaults to the rule's, `auditAnnotations`), with
//! failure policy Fail, the request's user (empty in a scan or `kyverno test`) and, outside a
//! cluster, a Namespace object that carries only the namespace's name. Palisade does the same
//! through `palisade_vap`: any violation fails the rule, match conditions that do not hold skip
//! it, and what the validator cannot decide here is not evaluated.

use palisade_vap::{Outcome, PolicySet};
use serde_json::{Value, json};

use crate::engine::Status;

/// A `validate.cel` rule made into the policies the validator runs: compiled once per rule,
/// however many requests it judges.
#[derive(Debug)]
pub struct Compiled {
    /// Why the rule is not evaluated whatever the request (it takes params).
    unsupported: Option<String>,
    /// With `celPreconditions`: the same match conditions with one validation that is false.
    /// The validator says nothing both when the match conditions fail and when every
    /// validation holds; this policy tells the two apart.
    probe: Option<PolicySet>,
    validator: PolicySet,
    /// The first problem the validator found in the rule's CEL.
    warning: Option<String>,
}

/// Compiles the `validate` block of rule `rule_name` with its `celPreconditions`.
pub fn compile(rule_name: &str, validate: &Value, preconditions: Option<&Value>) -> Compiled {
    let cel = validate.get("cel").unwrap_or(&Value::Null);
    if cel.get("paramKind").is_some() || cel.get("paramRef").is_some() {
        let reason = "validate.cel rules with params are not evaluated: their param objects come from a cluster".to_owned();
        return Compiled { unsupported: Some(reason), probe: None, validator: PolicySet::default(), warning: None };
    }
    let message = validate.get("message").and_then(Value::as_str);
    let validations: Vec<Value> = cel
        .get("expressions")
        .and_then(Value::as_array)
        .map(|expressions| {
            expressions
                .iter()
                .map(|expression| {
                    let mut expression = expression.clone();
                    if let (Some(message), Some(fields)) = (message, expression.as_object_mut()) {
                        fields.entry("message").or_insert_with(|| Value::from(message));
                    }
                    expression
                })
                .collect()
        })
        .unwrap_or_default();
    let policy = |validations: Vec<Value>| {
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": rule_name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"], "scope": "*"}]},
                "matchConditions": preconditions.cloned().unwrap_or(json!([])),
                "variables": cel.get("variables").cloned().unwrap_or(json!([])),
                "validations": validations,
                "auditAnnotations": cel.get("auditAnnotations").cloned().unwrap_or(json!([])),
            }
        })
    };
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": rule_name},
        "spec": {"policyName": rule_name, "validationActions": ["Deny"]}
    });
    let probe = preconditions.map(|_| PolicySet::from_objects([policy(vec![json!({"expression": "false"})]), binding.clone()]).0);
    let (validator, warnings) = PolicySet::from_objects([policy(validations), binding]);
    let warning = warnings.first().map(|warning| format!("validate.cel: {}", warning.message));
    Compiled { unsupported: None, probe, validator, warning }
}

/// The verdict of a compiled `validate.cel` rule on the request described by Kyverno's JSON
/// context.
pub fn evaluate(compiled: &Compiled, rule_name: &str, context: &Value) -> (Status, String) {
    if let Some(reason) = &compiled.unsupported {
        return (Status::NotEvaluated, reason.clone());
    }
    let Some(request) = request(context) else { return (Status::Pass, format!("Validation rule '{rule_name}' passed.")) };
    if compiled.probe.as_ref().is_some_and(|probe| probe.evaluate(&request).is_empty()) {
        return (Status::Skip, "cel preconditions not met".to_owned());
    }
    if let Some(warning) = &compiled.warning {
        return (Status::NotEvaluated, warning.clone());
    }
    for decision in compiled.validator.evaluate(&request) {
        match decision.outcome {
            Outcome::Violation(violation) => return (Status::Fail, violation.message),
            Outcome::NotEvaluated { reason, .. } => return (Status::NotEvaluated, reason),
            Outcome::AuditAnnotation { .. } => {}
        }
    }
    (Status::Pass, format!("Validation rule '{rule_name}' passed."))
}

/// The admission request Kyverno's JSON context describes, as the validator sees it.
fn request(context: &Value) -> Option<palisade_vap::Request> {
    let admission = context.get("request")?;
    let present = |key: &str| admission.get(key).filter(|value| !value.is_null());
    let (object, old_object) = (present("object"), present("oldObject"));
    let subject = object.or(old_object)?;
    let kind = subject.get("kind").and_then(Value::as_str).unwrap_or_default();
    let namespace = subject.pointer("/metadata/namespace").and_then(Value::as_str).filter(|namespace| !namespace.is_empty() && kind != "Namespace");
    let namespace_object = namespace.map(|name| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}));
    let mut request = palisade_vap::Request::create(subject, namespace_object.as_ref());
    request.operation = admission.get("operation").and_then(Value::as_str).unwrap_or("CREATE").to_owned();
    request.object = object.cloned();
    request.old_object = old_object.cloned();
    request.user_info = Some(admission.get("userInfo").cloned().unwrap_or(json!({})));
    Some(request)
}

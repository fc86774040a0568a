//! One policy evaluated through one binding with one param object (`validator.Validate`):
//! match conditions, validations with their messages, audit annotations.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use kube_cel::cel::objects::{Key, Map};
use kube_cel::cel::{Context, Value};
use serde_json::json;

use crate::decision::{Outcome, Violation};
use crate::expression::{Expression, Failure, functions, to_cel, type_name};
use crate::model::{FailurePolicy, Policy};
use crate::request::Request;

/// The API server's limits on what expressions produce.
const MAX_MESSAGE_BYTES: usize = 5 * 1024;
const MAX_AUDIT_ANNOTATION_BYTES: usize = 10 * 1024;

/// An outcome and whether the binding's `validationActions` apply to it (else `Deny` alone).
pub(crate) struct Finding {
    pub outcome: Outcome,
    pub binding_actions: bool,
}

/// What every evaluation of one request shares: `object` and `oldObject` bound once, since
/// binding a value converts all of it into the engine's representation.
pub(crate) struct Prepared {
    scope: Context<'static>,
    /// The Namespace as validations see it (`CreateNamespaceObject`) and as audit annotations
    /// see it (whole); `None` when the request is namespaced and the object was not provided.
    namespace: Option<(Value, Value)>,
    has_user: bool,
}

impl Prepared {
    pub fn new(request: &Request) -> Prepared {
        let object = |value: &Option<serde_json::Value>| value.as_ref().map_or(Value::Null, to_cel);
        let mut scope = functions().new_inner_scope();
        scope.add_variable_from_value("object", object(&request.object));
        scope.add_variable_from_value("oldObject", object(&request.old_object));
        scope.add_variable_from_value("request", to_cel(&request.to_cel_json()));
        // Most bindings have no params and most expressions no variables: these defaults spare
        // a scope per evaluation.
        scope.add_variable_from_value("params", Value::Null);
        scope.add_variable_from_value("variables", empty_map());
        // The API server looks up no Namespace for a Namespace's own request, nor for
        // cluster-scoped ones: namespaceObject is null.
        let namespace = if request.namespace.is_empty() || request.is_namespace() {
            Some((Value::Null, Value::Null))
        } else {
            request.namespace_object.as_ref().map(|namespace| (to_cel(&namespace_for_cel(namespace)), to_cel(namespace)))
        };
        Prepared { scope, namespace, has_user: request.user_info.is_some() }
    }

    /// A scope per way of seeing the Namespace, over the request's.
    pub fn views(&self) -> Views<'_> {
        let view = |namespace: Value| {
            let mut scope = self.scope.new_inner_scope();
            scope.add_variable_from_value("namespaceObject", namespace);
            scope
        };
        let (stripped, whole) = self.namespace.clone().unwrap_or((Value::Null, Value::Null));
        Views {
            scopes: [view(Value::Null), view(stripped), view(whole)],
            namespace_known: self.namespace.is_some(),
            has_user: self.has_user,
        }
    }
}

/// Which expression list is being run; each sees the Namespace differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    /// Match conditions get no Namespace (null).
    MatchCondition = 0,
    /// Validations, their messages and variables get `CreateNamespaceObject`'s copy.
    Validation = 1,
    /// Audit annotations get the Namespace as it is.
    AuditAnnotation = 2,
}

/// The request's scopes, indexed by [`View`].
pub(crate) struct Views<'r> {
    scopes: [Context<'r>; 3],
    namespace_known: bool,
    has_user: bool,
}

/// The variables of one evaluation: one policy, through one binding, with one param.
pub(crate) struct Activation<'v> {
    policy: &'v Policy,
    views: &'v Views<'v>,
    params: Option<Value>,
    /// With params: `params` over each view, made when first needed.
    scopes: [OnceCell<Context<'v>>; 3],
    variables: Vec<OnceCell<Result<Value, Failure>>>,
}

impl<'v> Activation<'v> {
    pub fn new(policy: &'v Policy, views: &'v Views<'v>, params: Option<&serde_json::Value>) -> Activation<'v> {
        Activation {
            policy,
            views,
            params: params.map(to_cel),
            scopes: Default::default(),
            variables: policy.variables.iter().map(|_| OnceCell::new()).collect(),
        }
    }

    fn scope(&self, view: View) -> &Context<'v> {
        let shared = &self.views.scopes[view as usize];
        let Some(params) = &self.params else { return shared };
        self.scopes[view as usize].get_or_init(|| {
            let mut scope = shared.new_inner_scope();
            scope.add_variable_from_value("params", params.clone());
            scope
        })
    }

    pub fn evaluate(&self, failure_policy: FailurePolicy) -> Vec<Finding> {
        let mut findings = Vec::new();
        if let Some(finding) = self.match_conditions(failure_policy) {
            return finding.into_iter().collect();
        }
        for (index, validation) in self.policy.validations.iter().enumerate() {
            let not_evaluated = |reason: String| Finding {
                outcome: Outcome::NotEvaluated { validation: Some(index), reason },
                binding_actions: false,
            };
            let result = match self.run(&validation.expression, View::Validation) {
                Run::Done(result) => result,
                Run::Undecided(reason) => {
                    findings.push(not_evaluated(reason));
                    continue;
                }
            };
            let violation = match result {
                Ok(Value::Bool(true)) => continue,
                Err(_) if failure_policy == FailurePolicy::Ignore => continue,
                Err(error) => Violation {
                    validation: Some(index),
                    message: error,
                    reason: "Invalid".to_owned(),
                    error: true,
                },
                // A result other than true denies, as `EvalResult != celtypes.True` does.
                Ok(_) => Violation {
                    validation: Some(index),
                    message: self.message(index),
                    reason: validation.reason.clone().unwrap_or_else(|| "Invalid".to_owned()),
                    error: false,
                },
            };
            findings.push(Finding { outcome: Outcome::Violation(violation), binding_actions: true });
        }
        findings.extend(self.audit_annotations(failure_policy));
        findings
    }

    /// `Some` when the conditions decide: `None` inside when one is false (or failed under
    /// Ignore) and the policy does not apply, else the failure or the undecided condition.
    fn match_conditions(&self, failure_policy: FailurePolicy) -> Option<Option<Finding>> {
        let mut errors = Vec::new();
        let mut undecided = None;
        for condition in &self.policy.match_conditions {
            match self.run(&condition.expression, View::MatchCondition) {
                Run::Done(Ok(Value::Bool(false))) => return Some(None),
                Run::Done(Ok(_)) => {}
                Run::Done(Err(error)) => errors.push(error),
                Run::Undecided(reason) => {
                    undecided.get_or_insert(format!("matchCondition '{}': {reason}", condition.name));
                }
            }
        }
        if let Some(reason) = undecided {
            let outcome = Outcome::NotEvaluated { validation: None, reason };
            return Some(Some(Finding { outcome, binding_actions: false }));
        }
        if errors.is_empty() {
            return None;
        }
        if failure_policy == FailurePolicy::Ignore {
            return Some(None);
        }
        // utilerrors.NewAggregate: one error as it is, several in brackets.
        let message = if errors.len() == 1 { errors.remove(0) } else { format!("[{}]", errors.join(", ")) };
        let violation = Violation { validation: None, message, reason: "Invalid".to_owned(), error: true };
        Some(Some(Finding { outcome: Outcome::Violation(violation), binding_actions: true }))
    }

    /// messageExpression, then message, then the expression itself.
    fn message(&self, index: usize) -> String {
        let validation = &self.policy.validations[index];
        let evaluated = validation.message_expression.as_ref().and_then(|expression| {
            match self.run(expression, View::Validation) {
                Run::Done(Ok(Value::String(text))) => Some(text.trim().to_owned()),
                _ => None,
            }
        });
        evaluated
            .filter(|message| !message.is_empty() && message.len() <= MAX_MESSAGE_BYTES && !message.contains('\n'))
            .or_else(|| validation.message.as_deref().map(str::trim).filter(|message| !message.is_empty()).map(str::to_owned))
            .unwrap_or_else(|| format!("failed expression: {}", validation.expression.source.trim()))
    }

    fn audit_annotations(&self, failure_policy: FailurePolicy) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (key, expression) in &self.policy.audit_annotations {
            let denied = |message: String| Finding {
                outcome: Outcome::Violation(Violation { validation: None, message, reason: "Invalid".to_owned(), error: true }),
                binding_actions: false,
            };
            match self.run(expression, View::AuditAnnotation) {
                Run::Undecided(reason) => findings.push(Finding {
                    outcome: Outcome::NotEvaluated { validation: None, reason: format!("auditAnnotation '{key}': {reason}") },
                    binding_actions: false,
                }),
                Run::Done(Ok(Value::String(value))) => {
                    let value = truncate(value.trim(), MAX_AUDIT_ANNOTATION_BYTES);
                    if !value.is_empty() {
                        findings.push(Finding {
                            outcome: Outcome::AuditAnnotation { key: key.clone(), value: value.to_owned() },
                            binding_actions: false,
                        });
                    }
                }
                Run::Done(Ok(Value::Null)) => {}
                // The wrong type denies whatever the failure policy says, as in the API server.
                Run::Done(Ok(other)) => findings.push(denied(format!(
                    "valueExpression '{}' resulted in unsupported return type: {}. Return type must be either string or null.",
                    expression.source,
                    type_name(&other)
                ))),
                Run::Done(Err(error)) if failure_policy == FailurePolicy::Fail => findings.push(denied(error)),
                Run::Done(Err(_)) => {}
            }
        }
        findings
    }

    /// Runs an expression with the variables it uses; errors are worded as the API server words
    /// them (`expression '...' resulted in error: ...`).
    fn run(&self, expression: &Expression, view: View) -> Run {
        if expression.uses.authorizer {
            return Run::Undecided(format!(
                "`{}` uses `authorizer`, which needs the API server's authorizer",
                expression.source
            ));
        }
        if expression.uses.user_info && !self.views.has_user {
            return Run::Undecided(format!(
                "`{}` uses `request.userInfo`, and the request's user is not known (a manifest scan has none)",
                expression.source
            ));
        }
        if expression.uses.namespace_object && view != View::MatchCondition && !self.views.namespace_known {
            return Run::Undecided(format!(
                "`{}` uses `namespaceObject`, and the request's Namespace object was not provided",
                expression.source
            ));
        }
        let (variables, failed) = self.variables(&expression.uses.variables);
        let mut scope = self.scope(view).new_inner_scope();
        if !expression.uses.variables.is_empty() {
            scope.add_variable_from_value("variables", variables);
        }
        match expression.run(&scope) {
            Ok(value) => Run::Done(Ok(value)),
            Err(failure) => match blame(failure, failed) {
                Failure::UnknownFunction(name) => Run::Undecided(format!(
                    "`{}` calls `{name}`, a function kube-cel does not provide (the API server either provides it or rejects the expression when the policy is written)",
                    expression.source
                )),
                Failure::EngineFault => Run::Undecided(format!("kube-cel failed internally evaluating `{}`", expression.source)),
                Failure::Unsupported(what) => Run::Undecided(format!("`{}`: {what}", expression.source)),
                error => Run::Done(Err(format!(
                    "expression '{}' resulted in error: {}",
                    expression.source,
                    error.message().unwrap_or_default()
                ))),
            },
        }
    }

    /// The map of the given variables, each evaluated at most once per activation, and the
    /// failures of those that failed, by name (a failed variable is absent from the map).
    fn variables(&self, indices: &BTreeSet<usize>) -> (Value, HashMap<String, Failure>) {
        let mut map = HashMap::new();
        let mut failed = HashMap::new();
        for &index in indices {
            let variable = &self.policy.variables[index];
            let result = self.variables[index].get_or_init(|| {
                let (dependencies, dependency_failed) = self.variables(&variable.expression.uses.variables);
                let mut scope = self.scope(View::Validation).new_inner_scope();
                scope.add_variable_from_value("variables", dependencies);
                variable.expression.run(&scope).map_err(|failure| match blame(failure, dependency_failed) {
                    undecidable @ (Failure::UnknownFunction(_) | Failure::EngineFault | Failure::Unsupported(_)) => undecidable,
                    error => Failure::Error(format!(
                        "composited variable \"{}\" fails to evaluate: {}",
                        variable.name,
                        error.message().unwrap_or_default()
                    )),
                })
            });
            match result {
                Ok(value) => {
                    map.insert(Key::String(Arc::new(variable.name.clone())), value.clone());
                }
                Err(failure) => {
                    failed.insert(variable.name.clone(), failure.clone());
                }
            }
        }
        (Value::Map(Map { map: Arc::new(map) }), failed)
    }
}

fn empty_map() -> Value {
    Value::Map(Map { map: Arc::new(HashMap::new()) })
}

/// A failed variable is absent from `variables`, so reading it fails with "no such key"; cel-go
/// reports the variable's own failure instead, through its lazy map.
fn blame(failure: Failure, failed_variables: HashMap<String, Failure>) -> Failure {
    let mut failed_variables = failed_variables;
    match &failure {
        Failure::NoSuchKey(key) => failed_variables.remove(key).unwrap_or(failure),
        _ => failure,
    }
}

enum Run {
    Done(Result<Value, String>),
    Undecided(String),
}

/// The Namespace as `CreateNamespaceObject` copies it for CEL: name, labels, annotations and the
/// other identity fields of its metadata, spec and status; no apiVersion, kind, managedFields or
/// ownerReferences.
fn namespace_for_cel(namespace: &serde_json::Value) -> serde_json::Value {
    const METADATA: &[&str] = &[
        "name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "finalizers",
    ];
    let metadata: serde_json::Map<String, serde_json::Value> = METADATA
        .iter()
        .filter_map(|key| namespace.pointer(&format!("/metadata/{key}")).map(|value| ((*key).to_owned(), value.clone())))
        .collect();
    let part = |key: &str| namespace.get(key).cloned().unwrap_or_else(|| json!({}));
    json!({"metadata": metadata, "spec": part("spec"), "status": part("status")})
}

/// At most `limit` bytes, cut at a character boundary.
fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let cut = (0..=limit).rev().find(|&index| text.is_char_boundary(index)).unwrap_or(0);
    &text[..cut]
}

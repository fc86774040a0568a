//! What evaluating a request yields, and the API server's words for it.

use std::collections::BTreeMap;

use crate::model::Action;

/// One outcome of one policy, through one binding, with one param object.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub policy: String,
    /// `None` for an error in the policy itself, which the API server reports without a binding.
    pub binding: Option<String>,
    /// The param object (`namespace/name`, or `name` when cluster-scoped) the policy was
    /// evaluated with, if any.
    pub param: Option<String>,
    /// What to do with a [`Outcome::Violation`]: the binding's `validationActions`, or `Deny`
    /// alone for errors the API server denies whatever the binding says (configuration errors,
    /// audit annotations that fail under `failurePolicy: Fail`). Empty for the other outcomes.
    pub actions: Vec<Action>,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A validation was false, or an expression failed under `failurePolicy: Fail`.
    Violation(Violation),
    /// An audit annotation's value; the API server writes it as `<policy>/<key>`.
    AuditAnnotation { key: String, value: String },
    /// What could not be decided here, and why (the authorizer, a Namespace object that was not
    /// provided, an expression that does not compile). Never a pass, never a denial.
    NotEvaluated {
        /// Index into `spec.validations`, when one validation is concerned.
        validation: Option<usize>,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Index into `spec.validations`; `None` for match conditions, audit annotations and
    /// configuration errors.
    pub validation: Option<usize>,
    pub message: String,
    /// The Status reason: the validation's `reason`, `Invalid` by default.
    pub reason: String,
    /// `true` when an expression or the configuration failed rather than a validation being false.
    pub error: bool,
}

impl Decision {
    /// The message the API server's response carries when this decision denies the request.
    pub fn denial_message(&self) -> Option<String> {
        let Outcome::Violation(violation) = &self.outcome else { return None };
        Some(match &self.binding {
            Some(binding) => format!(
                "ValidatingAdmissionPolicy '{}' with binding '{binding}' denied request: {}",
                self.policy, violation.message
            ),
            None => format!("ValidatingAdmissionPolicy '{}' denied request: {}", self.policy, violation.message),
        })
    }

    /// The warning the API server returns to the client for a `Warn` action.
    pub fn warning_message(&self) -> Option<String> {
        let Outcome::Violation(violation) = &self.outcome else { return None };
        Some(format!(
            "Validation failed for ValidatingAdmissionPolicy '{}' with binding '{}': {}",
            self.policy,
            self.binding.as_deref().unwrap_or_default(),
            violation.message
        ))
    }
}

/// The admission response the API server makes of a request's decisions (`dispatcher.Dispatch`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// The first denial, in evaluation order, as the response Status; `None` allows the request.
    pub denial: Option<Denial>,
    pub warnings: Vec<String>,
    /// Audit annotations: `<policy>/<key>` with the distinct values of that key joined by `, `,
    /// and `validation.policy.admission.k8s.io/validation_failure` for `Audit` actions.
    pub audit_annotations: BTreeMap<String, String>,
    /// Decisions that could not be made here; with any of them, an allowed verdict is not a pass.
    pub not_evaluated: Vec<Decision>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub message: String,
    pub reason: String,
    /// The HTTP status code the API server gives the reason.
    pub code: u16,
}

/// The API server's cap on the number of audited validation failures written.
const MAX_VALIDATION_FAILURES: usize = 50;

impl Verdict {
    pub fn of(decisions: &[Decision]) -> Verdict {
        let mut verdict = Verdict::default();
        let mut annotations: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut failures = Vec::new();
        for decision in decisions {
            match &decision.outcome {
                Outcome::Violation(violation) => {
                    for action in &decision.actions {
                        match action {
                            Action::Deny if verdict.denial.is_none() => {
                                verdict.denial = decision.denial_message().map(|message| Denial {
                                    message,
                                    code: reason_code(&violation.reason),
                                    reason: violation.reason.clone(),
                                });
                            }
                            Action::Deny => {}
                            Action::Warn => verdict.warnings.extend(decision.warning_message()),
                            Action::Audit => failures.push(serde_json::json!({
                                "message": violation.message,
                                "policy": decision.policy,
                                "binding": decision.binding,
                                "expressionIndex": violation.validation.unwrap_or_default(),
                                "validationActions": decision.actions.iter().map(|action| action.as_str()).collect::<Vec<_>>(),
                            })),
                        }
                    }
                }
                Outcome::AuditAnnotation { key, value } => {
                    let values = annotations.entry(format!("{}/{key}", decision.policy)).or_default();
                    if !values.contains(&value.as_str()) {
                        values.push(value);
                    }
                }
                Outcome::NotEvaluated { .. } => verdict.not_evaluated.push(decision.clone()),
            }
        }
        verdict.audit_annotations = annotations.into_iter().map(|(key, values)| (key, values.join(", "))).collect();
        if !failures.is_empty() {
            failures.truncate(MAX_VALIDATION_FAILURES);
            verdict.audit_annotations.insert(
                "validation.policy.admission.k8s.io/validation_failure".to_owned(),
                serde_json::Value::Array(failures).to_string(),
            );
        }
        verdict
    }

    pub fn allowed(&self) -> bool {
        self.denial.is_none()
    }
}

/// `reasonToCode`: every reason a validation may name, and anything else, as the API server maps it.
fn reason_code(reason: &str) -> u16 {
    match reason {
        "Forbidden" => 403,
        "Unauthorized" => 401,
        "RequestEntityTooLarge" => 413,
        _ => 422,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(binding: &str, actions: Vec<Action>, message: &str, reason: &str) -> Decision {
        Decision {
            policy: "p".into(),
            binding: Some(binding.into()),
            param: None,
            actions,
            outcome: Outcome::Violation(Violation { validation: Some(0), message: message.into(), reason: reason.into(), error: false }),
        }
    }

    fn annotation(key: &str, value: &str) -> Decision {
        Decision {
            policy: "p".into(),
            binding: Some("b".into()),
            param: None,
            actions: Vec::new(),
            outcome: Outcome::AuditAnnotation { key: key.into(), value: value.into() },
        }
    }

    #[test]
    fn the_first_denial_is_the_response_with_its_reasons_code() {
        let verdict = Verdict::of(&[
            violation("warn", vec![Action::Warn], "first", "Invalid"),
            violation("deny", vec![Action::Deny], "second", "RequestEntityTooLarge"),
            violation("deny-too", vec![Action::Deny], "third", "Forbidden"),
        ]);
        let denial = verdict.denial.unwrap();
        assert_eq!(denial.message, "ValidatingAdmissionPolicy 'p' with binding 'deny' denied request: second");
        assert_eq!((denial.reason.as_str(), denial.code), ("RequestEntityTooLarge", 413));
        assert_eq!(verdict.warnings, ["Validation failed for ValidatingAdmissionPolicy 'p' with binding 'warn': first"]);
        assert_eq!(reason_code("Unauthorized"), 401);
        assert_eq!(reason_code("Conflict"), 422, "reasons the API does not allow map to 422");
    }

    #[test]
    fn a_policy_error_without_binding_is_worded_without_one() {
        let mut decision = violation("b", vec![Action::Deny], "failed to configure policy: x", "Invalid");
        decision.binding = None;
        assert_eq!(decision.denial_message().unwrap(), "ValidatingAdmissionPolicy 'p' denied request: failed to configure policy: x");
    }

    #[test]
    fn audit_annotation_values_of_one_key_are_deduplicated_and_joined() {
        let verdict = Verdict::of(&[annotation("k", "a"), annotation("k", "b"), annotation("k", "a"), annotation("other", "c")]);
        assert_eq!(verdict.audit_annotations["p/k"], "a, b");
        assert_eq!(verdict.audit_annotations["p/other"], "c");
        assert!(verdict.allowed());
    }
}

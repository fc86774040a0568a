//! ValidatingAdmissionPolicies as Palisade rules: each bound policy reports under
//! `vap/<policy name>` with the API server's message, on every door that runs rules. A manifest
//! is judged as a CREATE of the object, as the API server would judge it; a policy only acts
//! through its bindings, whose strongest action sets the finding's severity (Deny high, Warn
//! medium, Audit low) and the admission mode. What the API server could decide but Palisade
//! cannot here (the authorizer, a Namespace object a scan does not present, `request.userInfo`
//! of a manifest) is an info finding saying `not evaluated`, never a pass.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use palisade_core::{FindingSink, Object, Rule, RuleMeta, Severity};
use palisade_vap::{Action, Outcome, PolicySet, Request};

const REMEDIATION: &str = "Change the object so that the policy's validations hold, or narrow the policy's match constraints or its binding.";

fn severity(actions: &[Action]) -> Severity {
    if actions.contains(&Action::Deny) {
        Severity::High
    } else if actions.contains(&Action::Warn) {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// The rule of a policy: made once per (id, severity) and kept for the process, since findings
/// hold their rule's text by `'static` reference.
fn rule_meta(policy: &str, severity: Severity) -> &'static RuleMeta {
    static RULES: LazyLock<Mutex<HashMap<(String, Severity), &'static RuleMeta>>> = LazyLock::new(Default::default);
    let id = format!("vap/{policy}");
    let mut rules = RULES.lock().unwrap_or_else(|poison| poison.into_inner());
    rules.entry((id.clone(), severity)).or_insert_with(|| {
        let title = format!("ValidatingAdmissionPolicy {policy} denies the object");
        Box::leak(Box::new(RuleMeta { id: Box::leak(id.into_boxed_str()), title: Box::leak(title.into_boxed_str()), severity, doc: "", remediation: REMEDIATION, controls: &[] }))
    })
}

/// Each bound policy's rule id and its strongest action at admission.
pub fn enforcement_actions(set: &PolicySet) -> Vec<(&'static str, String)> {
    set.bound_policies()
        .into_iter()
        .map(|(policy, actions)| {
            let action = match severity(&actions) {
                Severity::High => "deny",
                Severity::Medium => "warn",
                _ => "audit",
            };
            (rule_meta(policy, severity(&actions)).id, action.to_owned())
        })
        .collect()
}

/// One rule per bound policy.
pub fn rules(set: PolicySet) -> Vec<Box<dyn Rule>> {
    let bound: Vec<(String, Severity)> = set.bound_policies().into_iter().map(|(policy, actions)| (policy.to_owned(), severity(&actions))).collect();
    let set = Arc::new(set);
    bound.into_iter().map(|(policy, severity)| Box::new(AdmissionPolicyRule { meta: rule_meta(&policy, severity), set: set.clone(), policy }) as Box<dyn Rule>).collect()
}

struct AdmissionPolicyRule {
    meta: &'static RuleMeta,
    set: Arc<PolicySet>,
    policy: String,
}

impl Rule for AdmissionPolicyRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let request = Request::create(object.json(), None);
        for decision in self.set.evaluate_policy(&self.policy, &request) {
            match &decision.outcome {
                Outcome::Violation(_) => {
                    let message = decision.denial_message().unwrap_or_default();
                    sink.report_at(severity(&decision.actions), String::new(), message);
                }
                Outcome::NotEvaluated { reason, .. } => {
                    let binding = decision.binding.as_deref().unwrap_or("-");
                    sink.report_at(Severity::Info, String::new(), format!("not evaluated (binding {binding}): {reason}"));
                }
                Outcome::AuditAnnotation { .. } => {}
            }
        }
    }
}

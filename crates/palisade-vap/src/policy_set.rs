//! Policies, bindings and param objects loaded together, and a request dispatched through them
//! as the API server's ValidatingAdmissionPolicy plugin does.

use std::cell::OnceCell;

use serde_json::Value;

use crate::decision::{Decision, Outcome, Violation};
use crate::evaluate::{Activation, Prepared};
use crate::matching::{self, MatchResult};
use crate::model::{Action, Binding, FailurePolicy, Policy};
use crate::params::ParamStore;
use crate::request::{Request, split_api_version, text};

/// Something about the loaded objects a user should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// `ValidatingAdmissionPolicy/<name>` or `ValidatingAdmissionPolicyBinding/<name>`.
    pub object: String,
    pub message: String,
}

/// ValidatingAdmissionPolicies with their bindings and the param objects they may refer to.
#[derive(Debug, Default)]
pub struct PolicySet {
    /// Sorted by name, each with its bindings sorted by name: the order decisions come in, and
    /// so which denial the response reports first.
    policies: Vec<(Policy, Vec<Binding>)>,
    params: ParamStore,
}

const POLICY: &str = "ValidatingAdmissionPolicy";
const BINDING: &str = "ValidatingAdmissionPolicyBinding";

impl PolicySet {
    /// Picks ValidatingAdmissionPolicies and their bindings (`admissionregistration.k8s.io`, any
    /// version) from `objects`; any other object of a kind some policy names as its `paramKind`
    /// is kept as a param object. Everything else is dropped.
    pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> (PolicySet, Vec<Warning>) {
        let mut policies: Vec<Policy> = Vec::new();
        let mut bindings: Vec<Binding> = Vec::new();
        let mut others = Vec::new();
        let mut warnings = Vec::new();
        for object in objects {
            let (group, _) = split_api_version(text(&object, &["apiVersion"]));
            match (group, text(&object, &["kind"])) {
                ("admissionregistration.k8s.io", POLICY) => policies.push(Policy::parse(&object)),
                ("admissionregistration.k8s.io", BINDING) => bindings.push(Binding::parse(&object)),
                _ => others.push(object),
            }
        }
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        bindings.sort_by(|a, b| a.name.cmp(&b.name));
        dedup_by_name(&mut policies, |policy| &policy.name, POLICY, &mut warnings);
        dedup_by_name(&mut bindings, |binding| &binding.name, BINDING, &mut warnings);
        for policy in &policies {
            let messages = policy.problems.iter().chain(&policy.notes);
            warnings.extend(messages.map(|message| warning(POLICY, &policy.name, message)));
        }
        for binding in &bindings {
            warnings.extend(binding.problems.iter().map(|problem| warning(BINDING, &binding.name, problem)));
            if !binding.policy_name.is_empty() && !policies.iter().any(|policy| policy.name == binding.policy_name) {
                let message = format!("binds policy '{}', which is not loaded: it does nothing", binding.policy_name);
                warnings.push(warning(BINDING, &binding.name, &message));
            }
        }
        let is_param = |object: &Value| {
            policies.iter().filter_map(|policy| policy.param_kind.as_ref()).any(|kind| {
                text(object, &["apiVersion"]) == kind.api_version && text(object, &["kind"]) == kind.kind
            })
        };
        others.retain(is_param);
        let policies = policies
            .into_iter()
            .map(|policy| {
                let (own, rest): (Vec<Binding>, Vec<Binding>) =
                    std::mem::take(&mut bindings).into_iter().partition(|binding| binding.policy_name == policy.name);
                bindings = rest;
                (policy, own)
            })
            .collect();
        (PolicySet { policies, params: ParamStore::new(others) }, warnings)
    }

    pub fn is_empty(&self) -> bool {
        self.policies.iter().all(|(_, bindings)| bindings.is_empty())
    }

    /// Every decision the policies make about `request`: violations (with the actions their
    /// bindings take), audit annotations, and what could not be evaluated here. No decision
    /// means every bound policy admits the request or does not apply to it.
    pub fn evaluate(&self, request: &Request) -> Vec<Decision> {
        self.evaluate_where(request, |_| true)
    }

    /// [`Self::evaluate`] for the one policy named `name`, for callers that report per policy.
    pub fn evaluate_policy(&self, name: &str, request: &Request) -> Vec<Decision> {
        self.evaluate_where(request, |policy| policy == name)
    }

    /// The policies that have bindings (the others do nothing), each with every action its
    /// bindings take, in name order.
    pub fn bound_policies(&self) -> Vec<(&str, Vec<Action>)> {
        self.policies
            .iter()
            .filter(|(_, bindings)| !bindings.is_empty())
            .map(|(policy, bindings)| {
                let mut actions: Vec<Action> = bindings.iter().flat_map(|binding| binding.actions.iter().copied()).collect();
                actions.sort();
                actions.dedup();
                (policy.name.as_str(), actions)
            })
            .collect()
    }

    fn evaluate_where(&self, request: &Request, wanted: impl Fn(&str) -> bool) -> Vec<Decision> {
        let mut decisions = Vec::new();
        // Converted to CEL once per request, and only when some binding applies.
        let prepared = OnceCell::new();
        let views = OnceCell::new();
        for (policy, bindings) in &self.policies {
            // A policy without a binding does nothing.
            if bindings.is_empty() || !wanted(&policy.name) {
                continue;
            }
            let decide = |binding: Option<&Binding>, param: Option<String>, actions: Vec<Action>, outcome: Outcome| Decision {
                policy: policy.name.clone(),
                binding: binding.map(|binding| binding.name.clone()),
                param,
                actions,
                outcome,
            };
            let configuration_error = |binding: Option<&Binding>, message: String| {
                let scope = if binding.is_some() { "binding" } else { "policy" };
                (policy.failure_policy == FailurePolicy::Fail).then(|| {
                    let violation = Violation {
                        validation: None,
                        message: format!("failed to configure {scope}: {message}"),
                        reason: "Invalid".to_owned(),
                        error: true,
                    };
                    decide(binding, None, vec![Action::Deny], Outcome::Violation(violation))
                })
            };
            let Some(constraints) = &policy.match_constraints else {
                decisions.extend(configuration_error(None, "policy contained no match constraints, a required field".to_owned()));
                continue;
            };
            // Undecided for the policy is reported per binding, for the bindings in scope.
            let in_scope = match matching::matches(constraints, request) {
                MatchResult::NoMatch => continue,
                MatchResult::Undecided(reason) => Err(reason),
                MatchResult::Matches => Ok(()),
            };
            for binding in bindings {
                let not_evaluated = |reason: String| decide(Some(binding), None, Vec::new(), Outcome::NotEvaluated { validation: None, reason });
                let binding_scope = binding.match_resources.as_ref().map(|criteria| matching::matches(criteria, request));
                match binding_scope {
                    Some(MatchResult::NoMatch) => continue,
                    Some(MatchResult::Undecided(reason)) => {
                        decisions.push(not_evaluated(reason));
                        continue;
                    }
                    Some(MatchResult::Matches) | None => {}
                }
                if let Err(reason) = &in_scope {
                    decisions.push(not_evaluated(reason.clone()));
                    continue;
                }
                let problems: Vec<&String> = policy.problems.iter().chain(&binding.problems).collect();
                if !problems.is_empty() {
                    let reason = problems.iter().map(|problem| problem.as_str()).collect::<Vec<_>>().join("; ");
                    decisions.push(not_evaluated(format!("the policy or binding is invalid: {reason}")));
                    continue;
                }
                let params = match self.params.collect(policy.param_kind.as_ref(), binding.param_ref.as_ref(), &request.namespace) {
                    Ok(params) => params,
                    Err(message) => {
                        decisions.extend(configuration_error(Some(binding), message));
                        continue;
                    }
                };
                let views = views.get_or_init(|| prepared.get_or_init(|| Prepared::new(request)).views());
                for param in params {
                    let activation = Activation::new(policy, views, param);
                    decisions.extend(validate(&activation, policy, binding, param, &decide));
                }
            }
        }
        decisions
    }
}

/// One activation's findings as decisions of `binding`.
fn validate(
    activation: &Activation<'_>,
    policy: &Policy,
    binding: &Binding,
    param: Option<&Value>,
    decide: &impl Fn(Option<&Binding>, Option<String>, Vec<Action>, Outcome) -> Decision,
) -> Vec<Decision> {
    let param_name = param.map(|param| {
        let (namespace, name) = (text(param, &["metadata", "namespace"]), text(param, &["metadata", "name"]));
        if namespace.is_empty() { name.to_owned() } else { format!("{namespace}/{name}") }
    });
    activation
        .evaluate(policy.failure_policy)
        .into_iter()
        .map(|finding| {
            let actions = match (&finding.outcome, finding.binding_actions) {
                (Outcome::Violation(_), true) => binding.actions.clone(),
                (Outcome::Violation(_), false) => vec![Action::Deny],
                _ => Vec::new(),
            };
            decide(Some(binding), param_name.clone(), actions, finding.outcome)
        })
        .collect()
}

fn warning(kind: &str, name: &str, message: &str) -> Warning {
    Warning { object: format!("{kind}/{name}"), message: message.to_owned() }
}

/// Two objects of one name cannot exist in a cluster: the first one read is kept.
fn dedup_by_name<T>(items: &mut Vec<T>, name: impl Fn(&T) -> &String, kind: &str, warnings: &mut Vec<Warning>) {
    let mut index = 1;
    while index < items.len() {
        if name(&items[index]) == name(&items[index - 1]) {
            let removed = items.remove(index);
            warnings.push(warning(kind, name(&removed), "defined more than once; the first definition is used"));
        } else {
            index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_policy_set_can_be_shared_between_threads() {
        // A webhook evaluates concurrent reviews against one loaded set.
        fn shared<T: Send + Sync>() {}
        shared::<PolicySet>();
    }

    #[test]
    fn duplicate_names_keep_the_first_definition_and_warn() {
        let policy = |expression: &str| {
            json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"},
                "spec": {"matchConstraints": {}, "validations": [{"expression": expression}]}})
        };
        let binding = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny"]}});
        let (set, warnings) = PolicySet::from_objects([policy("false"), policy("true"), binding]);
        assert_eq!(warnings, [Warning { object: "ValidatingAdmissionPolicy/p".into(), message: "defined more than once; the first definition is used".into() }]);
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "a"}});
        assert_eq!(set.evaluate(&Request::create(&pod, None)).len(), 1, "the first policy, `false`, denies");
    }

    #[test]
    fn an_undecided_policy_scope_is_reported_for_the_bindings_in_scope_only() {
        let policy = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"},
            "spec": {"matchConstraints": {"namespaceSelector": {"matchLabels": {"env": "prod"}}}, "validations": [{"expression": "false"}]}});
        let binding = |name: &str, labels: Value| json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name}, "spec": {"policyName": "p", "validationActions": ["Deny"],
                "matchResources": {"objectSelector": {"matchLabels": labels}}}});
        let (set, _) = PolicySet::from_objects([policy, binding("web", json!({"tier": "web"})), binding("db", json!({"tier": "db"}))]);
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "a", "labels": {"tier": "web"}}});
        let decisions = set.evaluate(&Request::create(&pod, None));
        assert_eq!(decisions.len(), 1, "{decisions:?}");
        assert_eq!(decisions[0].binding.as_deref(), Some("web"));
        assert!(matches!(&decisions[0].outcome, Outcome::NotEvaluated { reason, .. } if reason.contains("Namespace \"a\"")));
    }

    #[test]
    fn only_objects_of_a_param_kind_are_kept_as_params() {
        let policy = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": "p"},
            "spec": {"paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}, "matchConstraints": {}}});
        let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}});
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}});
        let (set, _) = PolicySet::from_objects([config_map, secret, policy]);
        let kind = set.policies[0].0.param_kind.as_ref().unwrap();
        let reference = Binding::parse(&json!({"spec": {"policyName": "p", "validationActions": ["Deny"], "paramRef": {"selector": {}}}}));
        let params = set.params.collect(Some(kind), reference.param_ref.as_ref(), "a").unwrap();
        assert_eq!(params.len(), 1);
        assert_eq!(params[0].unwrap()["kind"], "ConfigMap");
    }
}

//! ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding as read from their objects, with
//! the API server's defaults applied (selectors `{}`, `matchPolicy: Equivalent`, `scope: "*"`,
//! `failurePolicy: Fail`) and every expression compiled once.
//!
//! What the API server would reject when the object is written (a missing `policyName`, a
//! selector it cannot parse, an expression that does not compile) is kept as a problem: the
//! object loads, and its decisions are reported not evaluated.

use palisade_core::selector::LabelSelector;
use palisade_core::value::Node;
use serde_json::Value;

use crate::expression::{Declarations, Expression, Uses};
use crate::request::text;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailurePolicy {
    Fail,
    Ignore,
}

/// What a binding does with a failed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// The request is rejected.
    Deny,
    /// The client gets a warning.
    Warn,
    /// The failure is written to the audit event.
    Audit,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "Deny",
            Action::Warn => "Warn",
            Action::Audit => "Audit",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchPolicy {
    Exact,
    Equivalent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    All,
    Namespaced,
    Cluster,
}

/// A `NamedRuleWithOperations`.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    pub operations: Vec<String>,
    pub scope: Scope,
    pub resource_names: Vec<String>,
}

/// `matchConstraints` of a policy, `matchResources` of a binding.
#[derive(Clone, Debug)]
pub(crate) struct MatchResources {
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    pub resource_rules: Vec<Rule>,
    pub exclude_resource_rules: Vec<Rule>,
    pub match_policy: MatchPolicy,
}

#[derive(Debug)]
pub(crate) struct NamedExpression {
    pub name: String,
    pub expression: Expression,
}

#[derive(Debug)]
pub(crate) struct Validation {
    pub expression: Expression,
    pub message: Option<String>,
    pub message_expression: Option<Expression>,
    pub reason: Option<String>,
}

#[derive(Debug)]
pub(crate) struct ParamKind {
    pub api_version: String,
    pub kind: String,
}

#[derive(Debug)]
pub(crate) struct Policy {
    pub name: String,
    pub param_kind: Option<ParamKind>,
    /// `None` when absent, which the API server reports as a configuration error.
    pub match_constraints: Option<MatchResources>,
    pub match_conditions: Vec<NamedExpression>,
    pub variables: Vec<NamedExpression>,
    pub validations: Vec<Validation>,
    /// `(key, valueExpression)`.
    pub audit_annotations: Vec<(String, Expression)>,
    pub failure_policy: FailurePolicy,
    /// Why the policy cannot be evaluated, if it cannot.
    pub problems: Vec<String>,
    /// What a user should know although the policy can be evaluated.
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotFoundAction {
    Allow,
    Deny,
}

#[derive(Debug)]
pub(crate) struct ParamRef {
    pub name: String,
    pub namespace: String,
    pub selector: Option<LabelSelector>,
    pub not_found: NotFoundAction,
}

#[derive(Debug)]
pub(crate) struct Binding {
    pub name: String,
    pub policy_name: String,
    pub param_ref: Option<ParamRef>,
    /// `None` matches everything the policy matches.
    pub match_resources: Option<MatchResources>,
    pub actions: Vec<Action>,
    pub problems: Vec<String>,
}

impl Policy {
    pub fn parse(object: &Value) -> Policy {
        let name = text(object, &["metadata", "name"]).to_owned();
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let mut problems = Vec::new();
        let param_kind = spec.get("paramKind").filter(|kind| !kind.is_null()).map(|kind| ParamKind {
            api_version: text(kind, &["apiVersion"]).to_owned(),
            kind: text(kind, &["kind"]).to_owned(),
        });
        let match_constraints = spec
            .get("matchConstraints")
            .filter(|constraints| !constraints.is_null())
            .map(|constraints| MatchResources::parse(constraints, "spec.matchConstraints", &mut problems));
        let failure_policy = match text(spec, &["failurePolicy"]) {
            "" | "Fail" => FailurePolicy::Fail,
            "Ignore" => FailurePolicy::Ignore,
            other => {
                problems.push(format!("spec.failurePolicy: unsupported value \"{other}\" (Fail or Ignore)"));
                FailurePolicy::Fail
            }
        };

        let mut notes = Vec::new();
        let mut compiler =
            Compiler { has_params: param_kind.is_some(), variables: Vec::new(), problems: &mut problems, notes: &mut notes };
        let match_conditions = compiler.named(spec, "matchConditions");
        let mut variables = Vec::new();
        for (index, entry) in list(spec, "variables").iter().enumerate() {
            let variable_name = text(entry, &["name"]).to_owned();
            let field = format!("spec.variables[{index}].expression");
            let compiled = compiler.compile(text(entry, &["expression"]), &field);
            // A variable that does not compile is still declared, so later expressions naming it
            // are not reported twice.
            let uses = compiled.as_ref().map(|expression| expression.uses.clone()).unwrap_or_default();
            compiler.variables.push((variable_name.clone(), uses));
            if let Some(expression) = compiled {
                variables.push(NamedExpression { name: variable_name, expression });
            }
        }
        let validations = list(spec, "validations")
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                let expression = compiler.compile(text(entry, &["expression"]), &format!("spec.validations[{index}].expression"))?;
                let message_expression = match text(entry, &["messageExpression"]) {
                    "" => None,
                    source => Some(compiler.compile(source, &format!("spec.validations[{index}].messageExpression"))?),
                };
                Some(Validation {
                    expression,
                    message: optional_text(entry, "message"),
                    message_expression,
                    reason: optional_text(entry, "reason"),
                })
            })
            .collect();
        let audit_annotations = list(spec, "auditAnnotations")
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                let field = format!("spec.auditAnnotations[{index}].valueExpression");
                let expression = compiler.compile(text(entry, &["valueExpression"]), &field)?;
                Some((text(entry, &["key"]).to_owned(), expression))
            })
            .collect();
        Policy {
            name,
            param_kind,
            match_constraints,
            match_conditions,
            variables,
            validations,
            audit_annotations,
            failure_policy,
            problems,
            notes,
        }
    }
}

/// Compiles a policy's expressions in order, declaring its variables as they come.
struct Compiler<'p> {
    has_params: bool,
    variables: Vec<(String, Uses)>,
    problems: &'p mut Vec<String>,
    notes: &'p mut Vec<String>,
}

impl Compiler<'_> {
    fn compile(&mut self, source: &str, field: &str) -> Option<Expression> {
        let declarations = Declarations { has_params: self.has_params, variables: &self.variables };
        let expression = Expression::compile(source, &declarations)
            .map_err(|error| self.problems.push(format!("{field}: `{source}`: {error}")))
            .ok()?;
        for name in &expression.unknown_functions {
            self.notes.push(format!(
                "{field}: `{source}` calls `{name}`, which kube-cel does not provide: where it is reached, the result is reported not evaluated"
            ));
        }
        Some(expression)
    }

    fn named(&mut self, spec: &Value, field: &str) -> Vec<NamedExpression> {
        list(spec, field)
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                let expression = self.compile(text(entry, &["expression"]), &format!("spec.{field}[{index}].expression"))?;
                Some(NamedExpression { name: text(entry, &["name"]).to_owned(), expression })
            })
            .collect()
    }
}

impl Binding {
    pub fn parse(object: &Value) -> Binding {
        let name = text(object, &["metadata", "name"]).to_owned();
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let mut problems = Vec::new();
        let policy_name = text(spec, &["policyName"]).to_owned();
        if policy_name.is_empty() {
            problems.push("spec.policyName: Required value".to_owned());
        }
        let param_ref = spec.get("paramRef").filter(|reference| !reference.is_null()).map(|reference| ParamRef {
            name: text(reference, &["name"]).to_owned(),
            namespace: text(reference, &["namespace"]).to_owned(),
            selector: reference
                .get("selector")
                .filter(|selector| !selector.is_null())
                .map(|selector| parse_selector(selector, "spec.paramRef.selector", &mut problems)),
            not_found: match text(reference, &["parameterNotFoundAction"]) {
                "Deny" => NotFoundAction::Deny,
                _ => NotFoundAction::Allow,
            },
        });
        let match_resources = spec
            .get("matchResources")
            .filter(|resources| !resources.is_null())
            .map(|resources| MatchResources::parse(resources, "spec.matchResources", &mut problems));
        let mut actions = Vec::new();
        for action in list(spec, "validationActions") {
            match action.as_str() {
                Some("Deny") => actions.push(Action::Deny),
                Some("Warn") => actions.push(Action::Warn),
                Some("Audit") => actions.push(Action::Audit),
                _ => problems.push(format!("spec.validationActions: unsupported value {action} (Deny, Warn or Audit)")),
            }
        }
        if actions.is_empty() && problems.is_empty() {
            problems.push("spec.validationActions: Required value".to_owned());
        }
        // The API server rejects both of these when the binding is written.
        if actions.contains(&Action::Deny) && actions.contains(&Action::Warn) {
            problems.push("spec.validationActions: Deny and Warn may not be used together".to_owned());
        }
        if (1..actions.len()).any(|index| actions[..index].contains(&actions[index])) {
            problems.push("spec.validationActions: duplicate actions".to_owned());
        }
        Binding { name, policy_name, param_ref, match_resources, actions, problems }
    }
}

impl MatchResources {
    fn parse(value: &Value, field: &str, problems: &mut Vec<String>) -> MatchResources {
        let selector = |key: &str, problems: &mut Vec<String>| match value.get(key).filter(|selector| !selector.is_null()) {
            Some(selector) => parse_selector(selector, &format!("{field}.{key}"), problems),
            None => LabelSelector::everything(),
        };
        let namespace_selector = selector("namespaceSelector", problems);
        let object_selector = selector("objectSelector", problems);
        MatchResources {
            namespace_selector,
            object_selector,
            resource_rules: list(value, "resourceRules").iter().map(Rule::parse).collect(),
            exclude_resource_rules: list(value, "excludeResourceRules").iter().map(Rule::parse).collect(),
            match_policy: match text(value, &["matchPolicy"]) {
                "Exact" => MatchPolicy::Exact,
                _ => MatchPolicy::Equivalent,
            },
        }
    }
}

impl Rule {
    fn parse(value: &Value) -> Rule {
        let strings = |key: &str| list(value, key).iter().filter_map(Value::as_str).map(str::to_owned).collect();
        Rule {
            api_groups: strings("apiGroups"),
            api_versions: strings("apiVersions"),
            resources: strings("resources"),
            operations: strings("operations"),
            scope: match text(value, &["scope"]) {
                "Namespaced" => Scope::Namespaced,
                "Cluster" => Scope::Cluster,
                _ => Scope::All,
            },
            resource_names: strings("resourceNames"),
        }
    }
}

fn parse_selector(value: &Value, field: &str, problems: &mut Vec<String>) -> LabelSelector {
    LabelSelector::parse(&Node::from_json(value)).unwrap_or_else(|error| {
        problems.push(format!("{field}{}: {}", error.pointer.replace('/', "."), error.message));
        // Selects nothing is not expressible; the problem makes every decision not evaluated.
        LabelSelector::everything()
    })
}

fn list<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn optional_text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_the_api_servers() {
        let policy = Policy::parse(&json!({"metadata": {"name": "p"}, "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"],
                "operations": ["CREATE"], "resources": ["deployments"]}]},
            "validations": [{"expression": "object.spec.replicas <= 5"}]}}));
        assert!(policy.problems.is_empty(), "{:?}", policy.problems);
        assert_eq!(policy.failure_policy, FailurePolicy::Fail);
        let constraints = policy.match_constraints.unwrap();
        assert_eq!(constraints.match_policy, MatchPolicy::Equivalent);
        assert!(constraints.namespace_selector.is_everything() && constraints.object_selector.is_everything());
        assert_eq!(constraints.resource_rules[0].scope, Scope::All);
    }

    #[test]
    fn expressions_that_do_not_compile_are_problems_naming_the_field() {
        let policy = Policy::parse(&json!({"metadata": {"name": "p"}, "spec": {
            "variables": [{"name": "broken", "expression": "object.("}, {"name": "ok", "expression": "variables.broken"}],
            "validations": [{"expression": "params.x"}, {"expression": "true", "messageExpression": "variables.nope"}]}}));
        assert_eq!(policy.problems.len(), 3, "{:?}", policy.problems);
        assert!(policy.problems[0].starts_with("spec.variables[0].expression: `object.(`"));
        assert!(policy.problems[1].contains("undeclared reference to 'params'"));
        assert!(policy.problems[2].starts_with("spec.validations[1].messageExpression"));
    }

    #[test]
    fn bindings_read_actions_and_param_refs() {
        let binding = Binding::parse(&json!({"metadata": {"name": "b"}, "spec": {"policyName": "p",
            "validationActions": ["Warn", "Audit"],
            "paramRef": {"selector": {"matchLabels": {"env": "test"}}, "parameterNotFoundAction": "Deny"}}}));
        assert!(binding.problems.is_empty());
        assert_eq!(binding.actions, vec![Action::Warn, Action::Audit]);
        let reference = binding.param_ref.unwrap();
        assert_eq!(reference.not_found, NotFoundAction::Deny);
        assert!(reference.selector.is_some() && reference.name.is_empty());

        let invalid = Binding::parse(&json!({"metadata": {"name": "b"}, "spec": {"validationActions": ["Block"]}}));
        assert_eq!(invalid.problems.len(), 2, "{:?}", invalid.problems);
        let both = Binding::parse(&json!({"metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny", "Warn", "Deny"]}}));
        assert_eq!(both.problems.len(), 2, "{:?}", both.problems);
    }
}

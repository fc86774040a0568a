//! Kyverno `ClusterPolicy` and `Policy` objects (`kyverno.io/v1`, `v2beta1`, `v2`): their rules,
//! the failure action of each, and the rules Kyverno evaluates for a kind (autogen included).

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::autogen;
use crate::matching::MatchResources;

pub fn is_policy(api_version: &str, kind: &str) -> bool {
    matches!(api_version, "kyverno.io/v1" | "kyverno.io/v2beta1" | "kyverno.io/v2") && matches!(kind, "ClusterPolicy" | "Policy")
}

/// What Kyverno does with a failed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureAction {
    /// Reject the request.
    Enforce,
    /// Admit and report.
    Audit,
}

impl FailureAction {
    /// Kyverno accepts the case-insensitive spellings (`enforce`, `audit`); Audit is the default.
    fn parse(value: Option<&Value>) -> Option<FailureAction> {
        match value?.as_str()?.to_ascii_lowercase().as_str() {
            "enforce" => Some(FailureAction::Enforce),
            "audit" => Some(FailureAction::Audit),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    /// For a namespaced `Policy`: it applies only to objects in its namespace.
    pub namespace: Option<String>,
    /// `spec.applyRules: One`: stop after the first rule that applies.
    pub apply_one: bool,
    rules: Vec<Rule>,
    generated: Vec<Rule>,
    autogen_controllers: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    /// The rule as written (or as autogen derived it), read by the engine.
    pub json: Value,
    pub matching: MatchResources,
    pub exclude: Option<MatchResources>,
    pub failure_action: FailureAction,
    /// The `validate.cel` block compiled for the validator, on first use.
    cel: OnceLock<Arc<crate::cel::Compiled>>,
    /// Responses remembered by what the rule reads, when that is known (see [`crate::memo`]).
    pub(crate) memo: Option<Arc<crate::memo::Memo>>,
}

impl Policy {
    /// Reads a policy object; an error names what is wrong.
    pub fn parse(object: &Value) -> Result<Policy, String> {
        let metadata = object.get("metadata");
        let name = metadata.and_then(|metadata| metadata.get("name")).and_then(Value::as_str).ok_or("a Kyverno policy needs `metadata.name`")?.to_owned();
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("ClusterPolicy");
        let namespace = (kind == "Policy").then(|| metadata.and_then(|metadata| metadata.get("namespace")).and_then(Value::as_str).unwrap_or("default").to_owned());
        let spec = object.get("spec").ok_or_else(|| format!("policy {name}: no `spec`"))?;
        let written = spec.get("rules").and_then(Value::as_array).ok_or_else(|| format!("policy {name}: `spec.rules` must be a list"))?;
        let default_action = FailureAction::parse(spec.get("validationFailureAction")).unwrap_or(FailureAction::Audit);
        let rules = written.iter().enumerate().map(|(index, rule)| Rule::parse(rule, default_action).map_err(|error| format!("policy {name}: rule {index}: {error}"))).collect::<Result<Vec<_>, _>>()?;
        let annotation = metadata.and_then(|metadata| metadata.pointer(&format!("/annotations/{}", autogen::CONTROLLERS_ANNOTATION.replace('/', "~1")))).and_then(Value::as_str);
        let autogen_controllers = autogen::controllers(written, annotation).unwrap_or_default();
        let generated = written
            .iter()
            .flat_map(|rule| autogen::generate(rule, &autogen_controllers))
            .map(|rule| Rule::parse(&rule, default_action))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| format!("policy {name}: autogen: {error}"))?;
        Ok(Policy {
            name,
            namespace,
            apply_one: spec.get("applyRules").and_then(Value::as_str) == Some("One"),
            rules,
            generated,
            autogen_controllers,
        })
    }

    /// The rules Kyverno evaluates for an object of `kind` (its `ComputeRules`): the written
    /// rules, plus the autogen rules when `kind` is one of the policy's pod controllers.
    pub fn rules_for(&self, kind: &str) -> impl Iterator<Item = &Rule> {
        let with_generated = self.autogen_controllers.iter().any(|controller| controller == kind) && !self.generated.is_empty();
        let written = self.rules.iter().filter(move |rule| !with_generated || !rule.name.starts_with("autogen-"));
        written.chain(self.generated.iter().filter(move |_| with_generated))
    }

    /// Whether a rule's `context` (or a `foreach` entry's) reads a ConfigMap or the API server.
    pub fn reads_cluster(&self) -> bool {
        self.rules.iter().any(|rule| {
            let text = rule.json.to_string();
            text.contains("\"configMap\"") || text.contains("\"apiCall\"")
        })
    }

    /// Every rule, written and generated, for listing.
    pub fn all_rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().chain(&self.generated)
    }

    /// The id of a rule's findings: `kyverno/<policy>/<rule>`.
    pub fn rule_id(&self, rule: &str) -> String {
        format!("kyverno/{}/{rule}", self.name)
    }
}

impl Rule {
    /// The rule's `validate.cel`, compiled once.
    pub fn cel(&self) -> &crate::cel::Compiled {
        self.cel.get_or_init(|| Arc::new(crate::cel::compile(&self.name, self.json.get("validate").unwrap_or(&Value::Null), self.json.get("celPreconditions"))))
    }

    /// Whether the rule remembers responses by what it reads (see [`crate::memo`]).
    pub fn remembers_verdicts(&self) -> bool {
        self.memo.is_some()
    }

    fn parse(json: &Value, default_action: FailureAction) -> Result<Rule, String> {
        let name = json.get("name").and_then(Value::as_str).ok_or("a rule needs a `name`")?.to_owned();
        let matching = json.get("match").map(MatchResources::parse).ok_or_else(|| format!("rule {name}: no `match`"))?;
        let exclude = json.get("exclude").map(MatchResources::parse);
        let failure_action = FailureAction::parse(json.pointer("/validate/failureAction")).unwrap_or(default_action);
        Ok(Rule { name, json: json.clone(), matching, exclude, failure_action, cel: OnceLock::new(), memo: crate::memo::Memo::of(json).map(Arc::new) })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn policy(annotations: Value) -> Value {
        json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "require-labels", "annotations": annotations},
            "spec": {"validationFailureAction": "enforce", "rules": [
                {"name": "check-team", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                 "validate": {"pattern": {"metadata": {"labels": {"team": "?*"}}}}},
                {"name": "audit-only", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                 "validate": {"failureAction": "Audit", "deny": {"conditions": {"any": []}}}}
            ]}
        })
    }

    #[test]
    fn rules_per_kind_with_autogen() {
        let parsed = Policy::parse(&policy(json!({}))).expect("parses");
        let names = |kind: &str| parsed.rules_for(kind).map(|rule| rule.name.clone()).collect::<Vec<_>>();
        assert_eq!(names("Pod"), ["check-team", "audit-only"]);
        assert_eq!(names("Deployment"), ["check-team", "audit-only", "autogen-check-team", "autogen-cronjob-check-team", "autogen-audit-only", "autogen-cronjob-audit-only"]);
        assert_eq!(parsed.rules_for("Pod").map(|rule| rule.failure_action).collect::<Vec<_>>(), [FailureAction::Enforce, FailureAction::Audit]);
        let only_deployments = Policy::parse(&policy(json!({autogen::CONTROLLERS_ANNOTATION: "Deployment"}))).expect("parses");
        assert_eq!(only_deployments.rules_for("StatefulSet").count(), 2);
        assert_eq!(only_deployments.rules_for("Deployment").count(), 4);
    }

    #[test]
    fn errors_name_the_policy_and_rule() {
        let mut broken = policy(json!({}));
        broken["spec"]["rules"][1].as_object_mut().expect("rule").remove("match");
        assert_eq!(Policy::parse(&broken).expect_err("no match").to_string(), "policy require-labels: rule 1: rule audit-only: no `match`");
        assert!(is_policy("kyverno.io/v2beta1", "ClusterPolicy") && !is_policy("kyverno.io/v1", "PolicyException"));
    }
}

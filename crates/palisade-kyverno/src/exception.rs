//! Kyverno `PolicyException`s (`kyverno.io/v2`, `v2beta1`): a rule they name is skipped for the
//! resources they match (and whose `conditions` hold), with Kyverno's message.

use serde_json::Value;

use crate::conditions;
use crate::matching::{self, MatchResources, Target};
use crate::wildcard;

#[derive(Clone, Debug)]
pub struct Exception {
    pub name: String,
    pub namespace: String,
    /// (policy key, rule name patterns): the key is `name` for a ClusterPolicy and
    /// `namespace/name` for a Policy.
    exceptions: Vec<(String, Vec<String>)>,
    matching: Option<MatchResources>,
    conditions: Option<Value>,
}

pub fn is_exception(api_version: &str, kind: &str) -> bool {
    kind == "PolicyException" && matches!(api_version, "kyverno.io/v2" | "kyverno.io/v2beta1" | "kyverno.io/v2alpha1")
}

impl Exception {
    pub fn parse(object: &Value) -> Result<Exception, String> {
        let name = object.pointer("/metadata/name").and_then(Value::as_str).ok_or("a PolicyException needs `metadata.name`")?.to_owned();
        let namespace = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_owned();
        let spec = object.get("spec").ok_or_else(|| format!("PolicyException {name}: no `spec`"))?;
        let exceptions = spec
            .get("exceptions")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("PolicyException {name}: `spec.exceptions` must be a list"))?
            .iter()
            .map(|entry| {
                let policy = entry.get("policyName").and_then(Value::as_str).unwrap_or_default().to_owned();
                let rules = entry.get("ruleNames").and_then(Value::as_array).map(|rules| rules.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default();
                (policy, rules)
            })
            .collect();
        let block = spec.get("match").filter(|block| block.get("any").is_some() || block.get("all").is_some());
        Ok(Exception { name, namespace, exceptions, matching: block.map(MatchResources::parse), conditions: spec.get("conditions").cloned() })
    }

    /// Whether this exception names `rule` of the policy with key `policy`.
    pub(crate) fn covers(&self, policy: &str, rule: &str) -> bool {
        self.exceptions.iter().any(|(name, rules)| name == policy && rules.iter().any(|pattern| wildcard::matches(pattern, rule)))
    }

    /// Kyverno's message key for this exception: `namespace/name`.
    pub fn key(&self) -> String {
        if self.namespace.is_empty() { self.name.clone() } else { format!("{}/{}", self.namespace, self.name) }
    }
}

/// The exceptions that skip `rule` of policy `policy` for this target: named, matching, and with
/// their conditions holding.
pub fn applying<'e>(exceptions: &'e [Exception], policy: &str, rule: &str, target: &Target<'_>, context: &Value) -> Vec<&'e Exception> {
    exceptions
        .iter()
        .filter(|exception| exception.covers(policy, rule))
        .filter(|exception| exception.matching.as_ref().is_none_or(|block| matching::applies_strictly(block, target)))
        .filter(|exception| exception.conditions.as_ref().is_none_or(|conditions| conditions::evaluate(conditions, context).is_ok_and(|evaluation| evaluation.passed)))
        .collect()
}

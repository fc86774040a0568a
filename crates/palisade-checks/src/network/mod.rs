//! NetworkPolicy and Cilium policy coverage rules (CIS 5.3.2), over the model in `palisade-netpol`. One analysis
//! retains Namespaces, NetworkPolicies and, of each workload, only its identity, pod-template
//! labels and container ports, then runs every rule on the model built once.

mod allow_all;
mod allow_world;
mod cross_environment;
mod namespace_without_default_deny;
mod policy_selects_nothing;
mod workload_not_selected;

use palisade_core::{Candidate, Finding, InventoryRule, Object, RuleMeta};
use palisade_netpol::Network;

struct NetworkRule {
    meta: &'static RuleMeta,
    check: fn(&'static RuleMeta, &Network<'_>, &mut Vec<Candidate>),
}

const RULES: &[NetworkRule] = &[
    NetworkRule { meta: &namespace_without_default_deny::META, check: namespace_without_default_deny::check },
    NetworkRule { meta: &workload_not_selected::META, check: workload_not_selected::check },
    NetworkRule { meta: &policy_selects_nothing::META, check: policy_selects_nothing::check },
    NetworkRule { meta: &allow_all::META, check: allow_all::check },
    NetworkRule { meta: &allow_world::META, check: allow_world::check },
];

/// The parameters of the network rules; defaults are what the rules check when nothing is
/// configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkOptions {
    /// Namespace labels that name an environment or tenant (`network/cross-environment`), in
    /// order of preference.
    pub environment_labels: Vec<String>,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        Self { environment_labels: ["env", "environment", "tenant"].map(str::to_owned).to_vec() }
    }
}

struct NetworkAnalysis {
    options: NetworkOptions,
}

impl InventoryRule for NetworkAnalysis {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        RULES.iter().map(|rule| rule.meta).chain([&cross_environment::META]).collect()
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        palisade_netpol::retain(object)
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        let network = Network::from_objects(retained);
        for rule in RULES {
            (rule.check)(rule.meta, &network, out);
        }
        cross_environment::check(&cross_environment::META, &network, &self.options, out);
    }
}

/// The NetworkPolicy analyses, for the scan engine.
pub fn inventory_rules(options: &NetworkOptions) -> Vec<Box<dyn InventoryRule>> {
    vec![Box::new(NetworkAnalysis { options: options.clone() })]
}

fn candidate(meta: &'static RuleMeta, object: &Object, pointer: String, message: String) -> Candidate {
    Candidate { finding: Finding::new(meta, object, pointer, message), gate: None }
}

#[cfg(test)]
mod testing {
    //! Helpers for the rule tests: objects from JSON and one rule run through `retain`.

    use palisade_core::{Object, RuleMeta};
    use palisade_netpol::Network;
    use serde_json::{Value, json};

    pub fn deployment(namespace: &str, name: &str, labels: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
               "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": "x"}]}}}})
    }

    pub fn policy(namespace: &str, name: &str, spec: Value) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": name, "namespace": namespace}, "spec": spec})
    }

    /// Runs the rule with `meta.id` and returns `object pointer: message` per finding.
    pub fn run(meta: &RuleMeta, items: &[Value]) -> Vec<String> {
        let rule = super::RULES.iter().find(|rule| rule.meta.id == meta.id).expect("a registered rule");
        let retained: Vec<Object> = crate::rbac::testing::objects(items).iter().filter_map(palisade_netpol::retain).collect();
        let network = Network::from_objects(&retained);
        let mut out = Vec::new();
        (rule.check)(rule.meta, &network, &mut out);
        out.iter().map(|c| format!("{} {}: {}", c.finding.object, c.finding.location.path, c.finding.message)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_the_documented_sections_and_a_network_id() {
        for rule in RULES {
            assert!(rule.meta.id.starts_with("network/"), "{}", rule.meta.id);
            for section in ["## What it does", "## Why is this bad?", "## How to fix", "## Example"] {
                assert!(rule.meta.doc.contains(section), "{} lacks {section}", rule.meta.id);
            }
        }
    }

    #[test]
    fn the_analysis_keeps_only_what_the_model_reads() {
        let pod = palisade_core::Object::new(
            palisade_core::Node::from_json(&serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "labels": {"app": "a"}, "annotations": {"big": "x"}},
                "spec": {"containers": [{"name": "c", "image": "i", "env": [{"name": "A", "value": "1"}],
                    "ports": [{"name": "http", "containerPort": 80}]}]}})),
            palisade_core::Origin { file: "p.yaml".into(), document: 0, item: None },
        );
        let kept = inventory_rules(&NetworkOptions::default())[0].retain(&pod).unwrap();
        assert_eq!(
            kept.root.to_json(),
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"app": "a"}},
                "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 80}]}]}})
        );
    }
}

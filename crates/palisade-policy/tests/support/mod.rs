//! Scanning manifests with policy files as `palisade scan --policy` does, for the policy tests.

use palisade_checks::CatalogOptions;
use palisade_core::Finding;
use palisade_policy::{Config, RuleSet, Selection};

pub struct Scanned {
    pub findings: Vec<Finding>,
    pub enforcement_actions: Vec<(&'static str, String)>,
    pub warnings: Vec<String>,
}

/// Writes `policies` and `manifests` to files and scans the manifests with the rules whose ids
/// start with `prefix`; `inventory` as for a whole scan (true) or the admission webhook (false).
pub fn scan(policies: &str, manifests: &str, prefix: &str, inventory: bool) -> Scanned {
    let dir = tempfile::tempdir().unwrap();
    let policy_file = dir.path().join("policies.yaml");
    std::fs::write(&policy_file, policies).unwrap();
    let manifest_file = dir.path().join("apps.yaml");
    std::fs::write(&manifest_file, manifests).unwrap();
    let selection = Selection { policy_files: vec![policy_file], prefixes: vec![prefix.into()], inventory, ..Selection::default() };
    let ruleset = RuleSet::build(&Config::default(), CatalogOptions::default().pss, &selection).unwrap();
    let (enforcement_actions, warnings) = (ruleset.enforcement_actions.clone(), ruleset.warnings.clone());
    let engine = palisade_scan::Engine::new(ruleset.rules, ruleset.inventory_rules);
    Scanned { findings: engine.scan_paths(&[manifest_file]).findings, enforcement_actions, warnings }
}

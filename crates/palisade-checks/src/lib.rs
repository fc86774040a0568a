//! The built-in rule catalog, grouped by family; one module per rule, each with its metadata,
//! documentation, check and tests side by side.

pub mod cluster;
pub mod image;
pub mod images;
pub mod ingress;
pub mod manifest;
pub mod network;
pub mod pss;
pub mod rbac;
pub mod secrets;
pub mod service;
pub mod serviceaccount;
pub mod workload;

use palisade_core::{InventoryRule, Rule, RuleMeta};

/// What the catalog needs to know to build its rules.
#[derive(Clone, Debug)]
pub struct CatalogOptions {
    /// The Pod Security level and version for namespaces whose labels do not say.
    pub pss: pss::PssSetting,
    /// Parameters of the workload rules (`.palisade.yaml` `rules.params`).
    pub workload: workload::WorkloadOptions,
    /// Parameters of the network rules (`.palisade.yaml` `rules.params`).
    pub network: network::NetworkOptions,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self {
            pss: pss::PssSetting { level: pss::PssLevel::Restricted, version: pss::PssVersion::Latest },
            workload: workload::WorkloadOptions::default(),
            network: network::NetworkOptions::default(),
        }
    }
}

/// Every built-in single-object rule, in catalog order.
pub fn builtin_rules(options: &CatalogOptions) -> Vec<Box<dyn Rule>> {
    let mut rules = pss::rules(options.pss);
    rules.extend(workload::rules(&options.workload));
    rules.extend(secrets::rules());
    rules.extend(service::rules());
    rules.extend(ingress::rules());
    rules.extend(serviceaccount::rules());
    rules.extend(manifest::rules());
    rules
}

/// Every built-in analysis over several objects (RBAC, NetworkPolicy).
pub fn inventory_rules(options: &CatalogOptions) -> Vec<Box<dyn InventoryRule>> {
    let mut rules = rbac::inventory_rules();
    rules.extend(network::inventory_rules(&options.network));
    rules.extend(workload::inventory_rules());
    rules
}

/// The analyses of a live cluster's state that only `palisade scan --cluster` runs (see
/// [`cluster`] for why manifests scans do not).
pub fn cluster_rules() -> Vec<Box<dyn InventoryRule>> {
    cluster::inventory_rules()
}

/// The metadata of every built-in rule, sorted by id: what `palisade rules`, `palisade explain`
/// and `docs/rules/` show.
pub fn all_metas() -> Vec<&'static RuleMeta> {
    let mut metas: Vec<_> =
        builtin_rules(&CatalogOptions::default()).iter().map(|rule| rule.meta()).collect();
    metas.extend(inventory_rules(&CatalogOptions::default()).iter().chain(&cluster_rules()).flat_map(|rule| rule.metas()));
    metas.extend(images::metas());
    metas.sort_by_key(|meta| meta.id);
    metas.dedup_by_key(|meta| meta.id);
    metas
}

//! The built-in rule catalog, grouped by family; one module per rule, each with its metadata,
//! documentation, check and tests side by side.

pub mod network;
pub mod pss;
pub mod rbac;

use palisade_core::{InventoryRule, Rule, RuleMeta};

/// What the catalog needs to know to build its rules.
#[derive(Clone, Copy, Debug)]
pub struct CatalogOptions {
    /// The Pod Security level and version for namespaces whose labels do not say.
    pub pss: pss::PssSetting,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self { pss: pss::PssSetting { level: pss::PssLevel::Restricted, version: pss::PssVersion::Latest } }
    }
}

/// Every built-in single-object rule, in catalog order.
pub fn builtin_rules(options: &CatalogOptions) -> Vec<Box<dyn Rule>> {
    pss::rules(options.pss)
}

/// Every built-in analysis over several objects (RBAC, NetworkPolicy).
pub fn inventory_rules() -> Vec<Box<dyn InventoryRule>> {
    Vec::new()
}

/// The metadata of every built-in rule, sorted by id: what `palisade rules`, `palisade explain`
/// and `docs/rules/` show.
pub fn all_metas() -> Vec<&'static RuleMeta> {
    let mut metas: Vec<_> =
        builtin_rules(&CatalogOptions::default()).iter().map(|rule| rule.meta()).collect();
    metas.extend(inventory_rules().iter().flat_map(|rule| rule.metas()));
    metas.sort_by_key(|meta| meta.id);
    metas.dedup_by_key(|meta| meta.id);
    metas
}

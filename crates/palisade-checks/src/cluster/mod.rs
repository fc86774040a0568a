//! Rules about the live state of a cluster, run only by `palisade scan --cluster`
//! ([`crate::cluster_rules`]). They are not part of [`crate::inventory_rules`] because manifests
//! describe intent, not state: a Namespace in a repository is often labelled by the platform
//! when it is created, and pods in manifests are not running pods, so on manifests these rules
//! would report what is not a problem.

mod namespace_without_pss_labels;
mod pod_template_drift;
mod pod_without_controller;

use palisade_core::{InventoryRule, Node, Object};

pub use namespace_without_pss_labels::NamespaceWithoutPssLabels;
pub use pod_template_drift::PodTemplateDrift;
pub use pod_without_controller::PodWithoutController;

pub fn inventory_rules() -> Vec<Box<dyn InventoryRule>> {
    vec![Box::new(NamespaceWithoutPssLabels), Box::new(PodWithoutController), Box::new(PodTemplateDrift)]
}

/// The `ownerReferences` entry with `controller: true`: the object that manages this one.
pub(crate) fn controller_of(object: &Object) -> Option<&Node> {
    object
        .metadata()?
        .get("ownerReferences")?
        .as_seq()
        .iter()
        .find(|owner| owner.get("controller").and_then(Node::as_bool) == Some(true))
}

pub(crate) fn uid(object: &Object) -> Option<&str> {
    object.metadata()?.get("uid")?.as_str()
}

#[cfg(test)]
pub(crate) mod testing {
    use palisade_core::{Finding, InventoryRule, Object};

    /// The findings of `rule` over every object in `text`, as the engine would run it.
    pub fn run(rule: &dyn InventoryRule, text: &str) -> Vec<Finding> {
        let loaded = palisade_load::load_str(text, "cluster.yaml");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let retained: Vec<Object> = loaded.objects.iter().filter_map(|object| rule.retain(object)).collect();
        let mut out = Vec::new();
        rule.check(&retained, &mut out);
        out.into_iter().map(|candidate| candidate.finding).collect()
    }
}

//! Which policies select a workload, without testing every policy of its namespace: a
//! namespace of a thousand workloads and a hundred policies would otherwise cost a hundred
//! thousand selector matches per question.

use std::collections::HashMap;

use palisade_core::Anchor;

use crate::model::{Flavor, Network, Policy, Workload};

/// The policies of a network, by the label each needs on a pod to select it. Clusterwide
/// policies are kept under the namespace `""`, which every workload looks in too.
pub struct PolicyIndex<'n, 'a> {
    policies: &'n [Policy<'a>],
    /// Whether selectors see Cilium's labels.
    cilium: bool,
    /// (namespace, key, value) → policies that need that label.
    by_label: HashMap<(&'n str, &'n str, &'n str), Vec<usize>>,
    /// (namespace, key) → policies that need that key with any value.
    by_key: HashMap<(&'n str, &'n str), Vec<usize>>,
    /// namespace → policies that need no particular label.
    unanchored: HashMap<&'n str, Vec<usize>>,
}

impl<'n, 'a> PolicyIndex<'n, 'a> {
    pub fn new(network: &'n Network<'a>) -> Self {
        let policies = network.policies.as_slice();
        let mut index = Self { policies, cilium: network.cilium, by_label: HashMap::new(), by_key: HashMap::new(), unanchored: HashMap::new() };
        for (position, policy) in policies.iter().enumerate() {
            // A policy with an invalid selector selects nothing: it is in no list.
            let Some(selector) = &policy.pod_selector else { continue };
            let namespace = if policy.flavor == Flavor::CiliumClusterwide { "" } else { policy.namespace.as_str() };
            match selector.anchor() {
                Some(Anchor::Values(key, values)) => {
                    for value in values {
                        index.by_label.entry((namespace, key, value.as_str())).or_default().push(position);
                    }
                }
                Some(Anchor::Key(key)) => index.by_key.entry((namespace, key)).or_default().push(position),
                None => index.unanchored.entry(namespace).or_default().push(position),
            }
        }
        index
    }

    /// The positions (in the policies the index was built from) of the policies that select
    /// `workload`, in ascending order.
    pub fn selecting(&self, workload: &Workload<'_>) -> Vec<usize> {
        let labels = if self.cilium { &workload.cilium_labels } else { &workload.labels };
        let mut found: Vec<usize> = Vec::new();
        for namespace in [workload.namespace.as_str(), ""] {
            found.extend(self.unanchored.get(namespace).into_iter().flatten());
            for (key, value) in labels {
                found.extend(self.by_label.get(&(namespace, key.as_str(), value.as_str())).into_iter().flatten());
                found.extend(self.by_key.get(&(namespace, key.as_str())).into_iter().flatten());
            }
        }
        found.sort_unstable();
        found.dedup();
        found.retain(|&position| self.policies[position].selects(workload, self.cilium));
        found
    }
}

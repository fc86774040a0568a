//! Which policies select a workload, without testing every policy of its namespace: a
//! namespace of a thousand workloads and a hundred policies would otherwise cost a hundred
//! thousand selector matches per question.

use std::collections::HashMap;

use palisade_core::Anchor;

use crate::model::{Policy, Workload};

/// The policies of a network, by the label each needs on a pod to select it.
pub struct PolicyIndex<'n, 'a> {
    policies: &'n [Policy<'a>],
    /// (namespace, key, value) → policies that need that label.
    by_label: HashMap<(&'n str, &'n str, &'n str), Vec<usize>>,
    /// (namespace, key) → policies that need that key with any value.
    by_key: HashMap<(&'n str, &'n str), Vec<usize>>,
    /// namespace → policies that need no particular label.
    unanchored: HashMap<&'n str, Vec<usize>>,
}

impl<'n, 'a> PolicyIndex<'n, 'a> {
    pub fn new(policies: &'n [Policy<'a>]) -> Self {
        let mut index = Self { policies, by_label: HashMap::new(), by_key: HashMap::new(), unanchored: HashMap::new() };
        for (position, policy) in policies.iter().enumerate() {
            // A policy with an invalid selector selects nothing: it is in no list.
            let Some(selector) = &policy.pod_selector else { continue };
            let namespace = policy.namespace.as_str();
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
        let namespace = workload.namespace.as_str();
        let mut found: Vec<usize> = self.unanchored.get(namespace).into_iter().flatten().copied().collect();
        for (key, value) in &workload.labels {
            found.extend(self.by_label.get(&(namespace, key.as_str(), value.as_str())).into_iter().flatten());
            found.extend(self.by_key.get(&(namespace, key.as_str())).into_iter().flatten());
        }
        found.sort_unstable();
        found.dedup();
        found.retain(|&position| self.policies[position].selects(workload));
        found
    }
}

//! Namespace labels as the cluster has them, kept current by a watch on the API (see
//! [`crate::kube`]); the webhook reads a namespace's Pod Security labels from here first and
//! falls back to the configuration.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

pub type Labels = Arc<BTreeMap<String, String>>;

#[derive(Debug, Default)]
pub struct NamespaceStore {
    labels: RwLock<HashMap<String, Labels>>,
    synced: AtomicBool,
}

impl NamespaceStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &str) -> Option<Labels> {
        self.read().get(name).cloned()
    }

    /// Replaces everything with a fresh listing and marks the store synced.
    pub fn replace_all(&self, namespaces: HashMap<String, Labels>) {
        *self.labels.write().unwrap_or_else(|poison| poison.into_inner()) = namespaces;
        self.synced.store(true, Ordering::Release);
    }

    pub fn upsert(&self, name: String, labels: Labels) {
        self.labels.write().unwrap_or_else(|poison| poison.into_inner()).insert(name, labels);
    }

    pub fn remove(&self, name: &str) {
        self.labels.write().unwrap_or_else(|poison| poison.into_inner()).remove(name);
    }

    /// Whether a full listing has been loaded at least once.
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Labels>> {
        self.labels.read().unwrap_or_else(|poison| poison.into_inner())
    }
}

//! Namespace labels from a live API server: list, then watch from the list's resourceVersion,
//! relisting when the watch's version has expired (410 Gone) or the connection fails, with a
//! bounded back-off. Needs only `get`, `list` and `watch` on `namespaces`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use crate::namespaces::{Labels, NamespaceStore};

/// A client for the cluster: `kubeconfig` when given, else kube-rs's discovery (`KUBECONFIG`,
/// `~/.kube/config`, then the in-cluster service account). `None` when no configuration can be
/// found: the webhook then reads namespace levels from its configuration file only.
pub async fn client(kubeconfig: Option<&Path>) -> Result<Option<kube::Client>, String> {
    // kube-rs builds its rustls configuration from the process-wide provider; installing ring
    // keeps the choice explicit. An error only means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|error| format!("{}: {error}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(|error| format!("{}: {error}", path.display()))?
        }
        None => match kube::Config::infer().await {
            Ok(config) => config,
            Err(_) => return Ok(None),
        },
    };
    kube::Client::try_from(config).map(Some).map_err(|error| error.to_string())
}

/// Keeps `store` equal to the cluster's Namespace labels until the task is dropped.
pub async fn watch_namespaces(client: kube::Client, store: Arc<NamespaceStore>) {
    let api: Api<Namespace> = Api::all(client);
    let mut backoff = Duration::from_millis(250);
    loop {
        let version = match list(&api, &store).await {
            Ok(version) => {
                backoff = Duration::from_millis(250);
                version
            }
            Err(error) => {
                palisade_server::log::event(
                    "warn",
                    "cannot list namespaces; using the configured levels meanwhile",
                    json!({"error": error, "retryInSeconds": backoff.as_secs_f64()}),
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        if let Err(error) = watch(&api, &store, version).await {
            palisade_server::log::event("info", "namespace watch ended; relisting", json!({"reason": error}));
            tokio::time::sleep(backoff).await;
        }
    }
}

/// Lists every Namespace (500 a page) into the store; returns the list's resourceVersion.
async fn list(api: &Api<Namespace>, store: &NamespaceStore) -> Result<String, String> {
    let mut namespaces = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(500);
        params.continue_token = token.take();
        let page = api.list(&params).await.map_err(|error| error.to_string())?;
        for namespace in &page.items {
            if let Some(name) = &namespace.metadata.name {
                namespaces.insert(name.clone(), labels(namespace));
            }
        }
        token = page.metadata.continue_.filter(|token| !token.is_empty());
        if token.is_none() {
            let count = namespaces.len();
            store.replace_all(namespaces);
            palisade_server::log::event("info", "namespaces listed", json!({"namespaces": count}));
            return Ok(page.metadata.resource_version.unwrap_or_default());
        }
    }
}

/// Applies watch events from `version` on. Returns when the watch must be restarted from a
/// fresh list (expired version, error event, failed connection).
async fn watch(api: &Api<Namespace>, store: &NamespaceStore, mut version: String) -> Result<(), String> {
    loop {
        let started = Instant::now();
        // The server closes a watch after timeoutSeconds; we then continue from the last
        // version seen, without relisting.
        let params = WatchParams { bookmarks: true, ..WatchParams::default() }.timeout(290);
        let mut events = Box::pin(api.watch(&params, &version).await.map_err(|error| error.to_string())?);
        while let Some(event) = events.try_next().await.map_err(|error| error.to_string())? {
            match event {
                WatchEvent::Added(namespace) | WatchEvent::Modified(namespace) => {
                    if let Some(name) = namespace.metadata.name.clone() {
                        store.upsert(name, labels(&namespace));
                    }
                    version = namespace.metadata.resource_version.unwrap_or(version);
                }
                WatchEvent::Deleted(namespace) => {
                    if let Some(name) = &namespace.metadata.name {
                        store.remove(name);
                    }
                    version = namespace.metadata.resource_version.unwrap_or(version);
                }
                WatchEvent::Bookmark(bookmark) => version = bookmark.metadata.resource_version,
                WatchEvent::Error(status) => return Err(format!("{} ({})", status.message, status.code)),
            }
        }
        // A watch that ends at once (a proxy closing idle streams) must not spin.
        if started.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

fn labels(namespace: &Namespace) -> Labels {
    Arc::new(namespace.metadata.labels.clone().unwrap_or_default().into_iter().collect::<BTreeMap<_, _>>())
}

//! Small pods for the checks' unit tests, written as JSON (which is YAML) and read by the real
//! loader so that pointers and positions are the ones users see.

use palisade_core::{Object, PodView};

use super::Check;
use super::visit::Violation;

/// A v1 Pod with the given `spec` (JSON) and optional `metadata` fields (JSON object members).
pub fn pod(metadata: &str, spec: &str) -> Object {
    let text = format!(
        r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "p"{sep}{metadata}}}, "spec": {spec}}}"#,
        sep = if metadata.is_empty() { "" } else { ", " },
    );
    let mut loaded = palisade_load::load_str(&text, "pod.yaml");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects.remove(0)
}

/// Runs the implementation of `check` that starts at `since` on a pod with `spec`.
pub fn run(check: &Check, since: u32, spec: &str) -> Vec<Violation> {
    run_on(check, since, &pod("", spec))
}

pub fn run_on(check: &Check, since: u32, object: &Object) -> Vec<Violation> {
    assert!(
        check.since.contains(&since),
        "{} has no implementation at v1.{since}",
        check.id()
    );
    let mut out = Vec::new();
    check.evaluate(&PodView::of(object).expect("a pod"), since, &mut out);
    out
}

/// The messages of `violations`, for compact assertions.
pub fn messages(violations: &[Violation]) -> Vec<&str> {
    violations
        .iter()
        .map(|violation| violation.message.as_str())
        .collect()
}

/// The pointers of `violations`.
pub fn pointers(violations: &[Violation]) -> Vec<&str> {
    violations
        .iter()
        .map(|violation| violation.pointer.as_str())
        .collect()
}

/// A spec whose containers (`"name": securityContext JSON`) have the given security contexts.
pub fn containers(contexts: &[(&str, &str)]) -> String {
    let items: Vec<String> = contexts
        .iter()
        .map(|(name, context)| {
            format!(r#"{{"name": "{name}", "image": "i", "securityContext": {context}}}"#)
        })
        .collect();
    format!(r#"{{"containers": [{}]}}"#, items.join(", "))
}

//! Fields the API server types as strings. YAML 1.1 reads `namespace: y` as the boolean `true`
//! and `name: 0755` as the number 493; kubectl then refuses the object ("cannot unmarshal bool
//! into Go struct field ObjectMeta.metadata.namespace of type string"), so it never reaches a
//! cluster as written. Reading it anyway would scan something else than what was meant (an
//! object in `default` instead of namespace `y`), so such an object is reported, not scanned.

use palisade_core::{Node, Object, PodView, Value};

/// Metadata fields that are strings in every Kubernetes object.
const METADATA_STRINGS: [&str; 5] = ["name", "generateName", "namespace", "uid", "resourceVersion"];
/// Container fields that are strings, checked in every pod an object creates.
const CONTAINER_STRINGS: [&str; 3] = ["name", "image", "imagePullPolicy"];

/// The first field of `object` whose value has a type kubectl refuses: its JSON pointer, its
/// node, and what the API wants there.
pub fn wrong_type(object: &Object) -> Option<(String, &Node, &'static str)> {
    let root = &object.root;
    if let Some(node) = root.get("apiVersion").filter(|node| !is_string(node)) {
        return Some(("/apiVersion".into(), node, "a string"));
    }
    if let Some(problem) = metadata_problem(root.get("metadata"), "/metadata") {
        return Some(problem);
    }
    let pod = PodView::of(object)?;
    if pod.metadata_pointer != "/metadata"
        && let Some(problem) = metadata_problem(pod.metadata, pod.metadata_pointer)
    {
        return Some(problem);
    }
    pod.containers().find_map(|container| {
        if container.node.as_map().is_none() {
            return Some((container.pointer(), container.node, "a mapping"));
        }
        CONTAINER_STRINGS.iter().find_map(|&field| {
            let node = container.get(field).filter(|node| !is_string(node))?;
            Some((container.field(&[field]), node, "a string"))
        })
    })
}

fn metadata_problem<'a>(metadata: Option<&'a Node>, pointer: &str) -> Option<(String, &'a Node, &'static str)> {
    let metadata = metadata.filter(|node| !node.is_null())?;
    let Some(map) = metadata.as_map() else { return Some((pointer.into(), metadata, "a mapping")) };
    for field in METADATA_STRINGS {
        if let Some(node) = map.get(field).filter(|node| !is_string(node)) {
            return Some((format!("{pointer}/{field}"), node, "a string"));
        }
    }
    for field in ["labels", "annotations"] {
        let Some(entries) = map.get(field).filter(|node| !node.is_null()) else { continue };
        let Some(entries) = entries.as_map() else {
            return Some((format!("{pointer}/{field}"), entries, "a mapping of strings"));
        };
        for (key, value) in entries.iter() {
            if !is_string(value) {
                let mut field_pointer = format!("{pointer}/{field}");
                palisade_core::push_pointer_token(&mut field_pointer, key);
                return Some((field_pointer, value, "a string"));
            }
        }
    }
    None
}

/// A string, or null (which kubectl's JSON decoder leaves as the empty string).
fn is_string(node: &Node) -> bool {
    matches!(node.value, Value::Str(_) | Value::Null)
}

/// How a wrongly typed value reads, for the message.
pub fn describe(node: &Node) -> String {
    match &node.value {
        Value::Bool(flag) => format!(
            "the boolean {flag} (YAML 1.1 reads y/n, yes/no, on/off and true/false as booleans)"
        ),
        Value::Int(number) => format!("the number {number}"),
        Value::Float(number) => format!("the number {number}"),
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a mapping".into(),
        Value::Null | Value::Str(_) => "a string".into(),
    }
}

#[cfg(test)]
mod tests {

    fn problem(text: &str) -> Option<String> {
        let loaded = crate::load_str(text, "t.yaml");
        assert!(loaded.objects.is_empty() || loaded.errors.is_empty());
        loaded.errors.first().map(|error| format!("{}: {}", error.line, error.message))
    }

    #[test]
    fn yaml_1_1_readings_of_string_fields_are_refused() {
        let pod = |metadata: &str, container: &str| {
            format!("apiVersion: v1\nkind: Pod\nmetadata: {metadata}\nspec:\n  containers:\n  - {container}\n")
        };
        let message = problem(&pod("{name: a, namespace: y}", "{name: c, image: nginx}")).unwrap();
        assert!(message.starts_with("3: `/metadata/namespace` is the boolean true"), "{message}");
        assert!(message.contains("kubectl refuses"), "{message}");
        let message = problem(&pod("{name: a, labels: {tier: 1}}", "{name: c, image: nginx}")).unwrap();
        assert!(message.contains("`/metadata/labels/tier` is the number 1"), "{message}");
        let message = problem(&pod("{name: a}", "{name: on, image: nginx}")).unwrap();
        assert!(message.starts_with("6: `/spec/containers/0/name` is the boolean true"), "{message}");
        assert_eq!(problem(&pod("{name: a, annotations: {x: null}}", "{name: c, image: '1'}")), None);
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata: {labels: {app: yes}}\n    spec: {containers: [{name: c, image: x}]}\n";
        assert!(problem(deployment).unwrap().contains("`/spec/template/metadata/labels/app` is the boolean true"));
        assert!(problem("apiVersion: 1\nkind: Widget\n").unwrap().contains("`/apiVersion` is the number 1"));
    }
}

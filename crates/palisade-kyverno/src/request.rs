//! The admission request a policy judges, and the JSON context Kyverno builds from it
//! (`request.*`, `serviceAccountName`, `images`).

use palisade_core::{Labels, is_cluster_scoped};
use serde_json::{Map, Value, json};

use crate::matching::RequestUser;

#[derive(Clone, Debug)]
pub struct Request {
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace_labels: Option<Labels>,
    pub user: Option<RequestUser>,
    /// Variables set before evaluation, by dotted path (a test's values, e.g.
    /// `request.object.metadata.name`).
    pub variables: Map<String, Value>,
}

impl Request {
    /// A manifest judged as `kyverno apply` and `kyverno test` judge it: a CREATE, and a
    /// namespaced object without a namespace is in `default`.
    pub fn create(mut object: Value, namespace_labels: Option<Labels>) -> Request {
        let (group, version, kind) = group_version_kind(&object);
        if !is_cluster_scoped(&group, &kind) {
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                let missing = metadata.get("namespace").and_then(Value::as_str).is_none_or(str::is_empty);
                if missing {
                    metadata.insert("namespace".to_owned(), Value::from("default"));
                }
            }
        }
        Request { object: Some(object), old_object: None, operation: "CREATE".to_owned(), group, version, kind, namespace_labels, user: None, variables: Map::new() }
    }

    /// The object rules see: the new object, or the old one of a DELETE.
    pub fn resource(&self) -> Option<&Value> {
        self.object.as_ref().or(self.old_object.as_ref())
    }

    pub fn namespace(&self) -> &str {
        self.resource().and_then(|object| object.pointer("/metadata/namespace")).and_then(Value::as_str).unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.resource().and_then(|object| object.pointer("/metadata/name")).and_then(Value::as_str).unwrap_or_default()
    }

    /// Kyverno's JSON context for this request, before any rule's `context` entries.
    pub fn context(&self) -> Value {
        let user = self.user.clone().unwrap_or_default();
        let mut request = json!({
            "operation": self.operation,
            "object": self.object.clone().unwrap_or(Value::Null),
            "oldObject": self.old_object.clone().unwrap_or(Value::Null),
            "kind": {"group": self.group, "version": self.version, "kind": self.kind},
            "namespace": self.namespace(),
            "name": self.name(),
            "userInfo": user.to_json(),
        });
        // Omitted when empty, as in Kyverno's RequestInfo.
        if !user.roles.is_empty() {
            request["roles"] = Value::from(user.roles.clone());
        }
        if !user.cluster_roles.is_empty() {
            request["clusterRoles"] = Value::from(user.cluster_roles.clone());
        }
        if self.operation == "DELETE" {
            request["object"] = Value::Null;
        }
        let (service_account_namespace, service_account_name) = service_account(&user.username);
        let mut context = json!({"request": request, "serviceAccountName": service_account_name, "serviceAccountNamespace": service_account_namespace});
        if let Some(images) = self.resource().and_then(|object| images(object, &self.kind)) {
            context["images"] = images;
        }
        for (path, value) in &self.variables {
            crate::engine::set_dotted(&mut context, path, value.clone());
        }
        context
    }
}

fn group_version_kind(object: &Value) -> (String, String, String) {
    let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
    (group.to_owned(), version.to_owned(), kind.to_owned())
}

/// `system:serviceaccount:<namespace>:<name>` → (namespace, name), as Kyverno's
/// `AddServiceAccount`; empty for other users.
fn service_account(username: &str) -> (String, String) {
    let Some(rest) = username.strip_prefix("system:serviceaccount:") else { return (String::new(), String::new()) };
    match rest.split_once(':') {
        Some((namespace, name)) => (namespace.to_owned(), name.to_owned()),
        None => (String::new(), String::new()),
    }
}

/// The `images` variable: per container list, each container's image parsed as Kyverno does.
fn images(object: &Value, kind: &str) -> Option<Value> {
    let pod_spec = match kind {
        "Pod" => object.get("spec"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => object.pointer("/spec/template/spec"),
    }?;
    let mut lists = Map::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(containers) = pod_spec.get(list).and_then(Value::as_array) else { continue };
        let parsed: Map<String, Value> = containers
            .iter()
            .filter_map(|container| Some((container.get("name")?.as_str()?.to_owned(), image_info(container.get("image")?.as_str()?)?)))
            .collect();
        if !parsed.is_empty() {
            lists.insert(list.to_owned(), Value::Object(parsed));
        }
    }
    (!lists.is_empty()).then_some(Value::Object(lists))
}

/// Kyverno's `GetImageInfo` with its defaults (registry `docker.io` added, tag `latest` when
/// neither tag nor digest is given).
pub(crate) fn image_info(image: &str) -> Option<Value> {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, digest),
        None => (image, ""),
    };
    let (registry, remainder) = match rest.split_once('/') {
        Some((first, remainder)) if first.contains(['.', ':']) || first == "localhost" => (first, remainder),
        _ => ("docker.io", rest),
    };
    let (path, tag) = match remainder.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, tag),
        _ => (remainder, ""),
    };
    if path.is_empty() {
        return None;
    }
    let tag = if tag.is_empty() && digest.is_empty() { "latest" } else { tag };
    let name = path.rsplit('/').next().unwrap_or(path);
    let reference = if digest.is_empty() { format!("{registry}/{path}:{tag}") } else { format!("{registry}/{path}@{digest}") };
    Some(json!({
        "reference": reference,
        "referenceWithTag": format!("{registry}/{path}:{tag}"),
        "registry": registry,
        "path": path,
        "name": name,
        "tag": tag,
        "digest": digest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_creates_in_default() {
        let pod = Request::create(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}), None);
        assert_eq!(pod.namespace(), "default");
        let context = pod.context();
        assert_eq!(context["request"]["operation"], "CREATE");
        assert_eq!(context["request"]["object"]["metadata"]["namespace"], "default");
        assert_eq!(context["images"]["containers"]["app"]["reference"], "docker.io/nginx:latest");
        let role = Request::create(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "view"}}), None);
        assert_eq!(role.namespace(), "");
    }

    #[test]
    fn image_references() {
        let info = |image: &str| image_info(image).expect("parses");
        let gcr = info("gcr.io/project/app:1.2@sha256:abc");
        assert_eq!((gcr["registry"].as_str(), gcr["path"].as_str(), gcr["name"].as_str(), gcr["tag"].as_str()), (Some("gcr.io"), Some("project/app"), Some("app"), Some("1.2")));
        assert_eq!(gcr["reference"], "gcr.io/project/app@sha256:abc");
        let local = info("localhost:5000/team/tool");
        assert_eq!((local["registry"].as_str(), local["tag"].as_str()), (Some("localhost:5000"), Some("latest")));
        assert_eq!(info("library/busybox:1.36")["referenceWithTag"], "docker.io/library/busybox:1.36");
    }
}

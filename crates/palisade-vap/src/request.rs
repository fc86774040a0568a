//! The admission request a policy is evaluated against: what the API server's `admission.Attributes`
//! carries, built from an AdmissionReview (webhook) or from a manifest (a scan presents each
//! object as its CREATE).

use serde_json::{Map, Value, json};

use crate::resources;

/// An API group, version and kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// An API group, version and resource (plural).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupVersionResource {
    pub group: String,
    pub version: String,
    pub resource: String,
}

/// One admission request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    pub kind: GroupVersionKind,
    pub resource: GroupVersionResource,
    /// Empty for the main resource.
    pub sub_resource: String,
    /// Empty when the API server is to generate the name.
    pub name: String,
    /// Empty for cluster-scoped resources; for a Namespace, its own name (as the API server sets it).
    pub namespace: String,
    /// The Namespace object the request's namespace names, for `namespaceSelector` and
    /// `namespaceObject`. `None` when unknown: what needs it is then reported not evaluated.
    pub namespace_object: Option<Value>,
    /// `authentication.k8s.io/v1` UserInfo (`username`, `uid`, `groups`, `extra`).
    pub user_info: Option<Value>,
    pub uid: String,
    pub dry_run: bool,
    /// The operation's options (`CreateOptions`, ...), if any.
    pub options: Option<Value>,
}

impl Request {
    /// How a scan presents a manifest: its CREATE, by no known user (expressions reading
    /// `request.userInfo` are then not evaluated). The kind comes from `apiVersion` and `kind`,
    /// the resource from the built-in table or kubectl's guess for custom kinds. A namespaced
    /// object without `metadata.namespace` is created in the given Namespace object's namespace,
    /// else in `default`, as `kubectl apply` would; a Namespace object of another name is not
    /// used.
    pub fn create(object: &Value, namespace_object: Option<&Value>) -> Request {
        let (group, version) = split_api_version(text(object, &["apiVersion"]));
        let kind = text(object, &["kind"]).to_owned();
        let built_in = resources::built_in(group, &kind);
        let resource = built_in.map_or_else(|| resources::guess_resource(&kind), |entry| entry.resource.to_owned());
        let own_namespace = text(object, &["metadata", "namespace"]);
        let namespaced = built_in.map_or(!own_namespace.is_empty(), |entry| entry.namespaced);
        let name = text(object, &["metadata", "name"]).to_owned();
        let is_namespace = group.is_empty() && kind == "Namespace";
        let namespace = if is_namespace {
            name.clone()
        } else if !namespaced {
            String::new()
        } else if !own_namespace.is_empty() {
            own_namespace.to_owned()
        } else {
            namespace_object
                .map(|namespace| text(namespace, &["metadata", "name"]))
                .filter(|name| !name.is_empty())
                .unwrap_or("default")
                .to_owned()
        };
        Request {
            operation: "CREATE".to_owned(),
            object: Some(object.clone()),
            old_object: None,
            kind: GroupVersionKind { group: group.to_owned(), version: version.to_owned(), kind },
            resource: GroupVersionResource { group: group.to_owned(), version: version.to_owned(), resource },
            sub_resource: String::new(),
            name,
            // Only the Namespace the object is in: another one's labels would decide wrongly.
            namespace_object: namespace_object.filter(|given| text(given, &["metadata", "name"]) == namespace).cloned(),
            namespace,
            ..Request::default()
        }
    }

    /// The `request` of an AdmissionReview (`admission.k8s.io/v1`), as a webhook receives it.
    /// The Namespace object is not part of a review; set [`Request::namespace_object`] from a
    /// watch or lookup.
    pub fn from_admission_request(request: &Value) -> Request {
        let object = |key: &str| request.get(key).filter(|value| !value.is_null()).cloned();
        Request {
            operation: text(request, &["operation"]).to_owned(),
            object: object("object"),
            old_object: object("oldObject"),
            kind: GroupVersionKind {
                group: text(request, &["kind", "group"]).to_owned(),
                version: text(request, &["kind", "version"]).to_owned(),
                kind: text(request, &["kind", "kind"]).to_owned(),
            },
            resource: GroupVersionResource {
                group: text(request, &["resource", "group"]).to_owned(),
                version: text(request, &["resource", "version"]).to_owned(),
                resource: text(request, &["resource", "resource"]).to_owned(),
            },
            sub_resource: text(request, &["subResource"]).to_owned(),
            name: text(request, &["name"]).to_owned(),
            namespace: text(request, &["namespace"]).to_owned(),
            namespace_object: None,
            user_info: object("userInfo"),
            uid: text(request, &["uid"]).to_owned(),
            dry_run: request.get("dryRun").and_then(Value::as_bool).unwrap_or(false),
            options: object("options"),
        }
    }

    /// Whether the request is for a Namespace object itself (cluster-scoped, but its
    /// `namespace` attribute is its own name).
    pub(crate) fn is_namespace(&self) -> bool {
        self.resource.group.is_empty() && self.resource.resource == "namespaces"
    }

    /// The `request` variable: `admission.k8s.io/v1` AdmissionRequest as the API server builds
    /// it for CEL (`CreateAdmissionRequest`), empty optional fields left out as its JSON form
    /// leaves them out, and `object`/`oldObject` never included. `kind` and `resource` are what
    /// the policy matched as, which is the request's own here (see `matching`).
    pub(crate) fn to_cel_json(&self) -> Value {
        let mut request = Map::new();
        request.insert("uid".into(), json!(self.uid));
        request.insert("kind".into(), gvk_json(&self.kind));
        request.insert("resource".into(), gvr_json(&self.resource));
        insert_non_empty(&mut request, "subResource", &self.sub_resource);
        request.insert("requestKind".into(), gvk_json(&self.kind));
        request.insert("requestResource".into(), gvr_json(&self.resource));
        insert_non_empty(&mut request, "requestSubResource", &self.sub_resource);
        insert_non_empty(&mut request, "name", &self.name);
        insert_non_empty(&mut request, "namespace", &self.namespace);
        request.insert("operation".into(), json!(self.operation));
        request.insert("userInfo".into(), self.user_info_json());
        request.insert("dryRun".into(), json!(self.dry_run));
        if let Some(options) = &self.options {
            request.insert("options".into(), options.clone());
        }
        Value::Object(request)
    }

    /// UserInfo keeps only its four fields, each left out when empty (`omitempty`).
    fn user_info_json(&self) -> Value {
        let mut info = Map::new();
        if let Some(Value::Object(given)) = &self.user_info {
            for key in ["username", "uid", "groups", "extra"] {
                let empty = match given.get(key) {
                    None | Some(Value::Null) => true,
                    Some(Value::String(text)) => text.is_empty(),
                    Some(Value::Array(items)) => items.is_empty(),
                    Some(Value::Object(entries)) => entries.is_empty(),
                    Some(_) => false,
                };
                if !empty {
                    info.insert(key.into(), given[key].clone());
                }
            }
        }
        Value::Object(info)
    }
}

fn gvk_json(kind: &GroupVersionKind) -> Value {
    json!({"group": kind.group, "version": kind.version, "kind": kind.kind})
}

fn gvr_json(resource: &GroupVersionResource) -> Value {
    json!({"group": resource.group, "version": resource.version, "resource": resource.resource})
}

fn insert_non_empty(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.into(), json!(value));
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// A string field at a path, empty when absent or not a string.
pub(crate) fn text<'v>(value: &'v Value, path: &[&str]) -> &'v str {
    path.iter().try_fold(value, |value, key| value.get(key)).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_is_presented_as_its_create_in_its_namespace() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
        let request = Request::create(&deployment, None);
        assert_eq!(request.operation, "CREATE");
        assert_eq!(request.resource.resource, "deployments");
        assert_eq!((request.name.as_str(), request.namespace.as_str()), ("web", "default"));

        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}});
        assert_eq!(Request::create(&deployment, Some(&namespace)).namespace, "prod");
        let elsewhere = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "dev"}});
        assert_eq!(Request::create(&elsewhere, Some(&namespace)).namespace_object, None, "not the object's Namespace");
        assert_eq!(Request::create(&namespace, None).namespace, "prod", "a Namespace's namespace is itself");
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}});
        assert_eq!(Request::create(&role, Some(&namespace)).namespace, "");
    }

    #[test]
    fn custom_resources_are_namespaced_when_they_carry_a_namespace() {
        let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}});
        let request = Request::create(&widget, None);
        assert_eq!(request.resource, GroupVersionResource { group: "example.com".into(), version: "v1".into(), resource: "widgets".into() });
        assert_eq!(request.namespace, "a");
        let cluster_widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        assert_eq!(Request::create(&cluster_widget, None).namespace, "");
    }

    #[test]
    fn the_cel_request_leaves_out_empty_optional_fields() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-", "namespace": "a"}});
        let mut request = Request::create(&pod, None);
        request.user_info = Some(json!({"username": "alice", "groups": [], "uid": ""}));
        let cel = request.to_cel_json();
        assert!(cel.get("name").is_none());
        assert_eq!(cel["namespace"], "a");
        assert_eq!(cel["userInfo"], json!({"username": "alice"}));
        assert_eq!(cel["kind"], json!({"group": "", "version": "v1", "kind": "Pod"}));
    }

    #[test]
    fn an_admission_review_request_is_read_field_by_field() {
        let review = json!({"uid": "1", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"}, "subResource": "scale",
            "name": "web", "namespace": "a", "operation": "UPDATE", "userInfo": {"username": "bob"},
            "object": {"spec": {}}, "oldObject": null, "dryRun": true});
        let request = Request::from_admission_request(&review);
        assert_eq!(request.sub_resource, "scale");
        assert_eq!(request.old_object, None);
        assert!(request.dry_run);
        assert_eq!(request.kind.kind, "Deployment");
    }
}

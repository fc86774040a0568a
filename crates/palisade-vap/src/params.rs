//! The param objects a binding's `paramRef` selects (`generic.CollectParams`), among the objects
//! given to the policy set. Errors are the API server's configuration errors, word for word.

use palisade_core::selector::labels_of;
use palisade_core::value::Node;
use serde_json::Value;

use crate::model::{NotFoundAction, ParamKind, ParamRef};
use crate::request::{split_api_version, text};
use crate::resources;

/// Param objects of every `paramKind` some policy names.
#[derive(Debug, Default)]
pub(crate) struct ParamStore {
    objects: Vec<Value>,
}

/// The params one binding evaluates its policy with: `None` is "no params" (`params` is null).
pub(crate) type Params<'s> = Vec<Option<&'s Value>>;

impl ParamStore {
    pub fn new(objects: Vec<Value>) -> ParamStore {
        ParamStore { objects }
    }

    fn of_kind<'s>(&'s self, kind: &'s ParamKind) -> impl Iterator<Item = &'s Value> + 's {
        self.objects
            .iter()
            .filter(move |object| text(object, &["apiVersion"]) == kind.api_version && text(object, &["kind"]) == kind.kind)
    }

    /// Built-in kinds have their scope; a custom kind is namespaced when its objects carry
    /// namespaces.
    fn is_namespaced(&self, kind: &ParamKind) -> bool {
        let (group, _) = split_api_version(&kind.api_version);
        match resources::built_in(group, &kind.kind) {
            Some(entry) => entry.namespaced,
            None => self.of_kind(kind).any(|object| !text(object, &["metadata", "namespace"]).is_empty()),
        }
    }

    pub fn collect<'s>(
        &'s self,
        kind: Option<&'s ParamKind>,
        reference: Option<&ParamRef>,
        request_namespace: &str,
    ) -> Result<Params<'s>, String> {
        let (Some(kind), Some(reference)) = (kind, reference) else {
            // No paramKind: a paramRef is ignored. A paramKind without a paramRef: null params.
            return Ok(vec![None]);
        };
        let namespaced = self.is_namespaced(kind);
        let namespace = if !namespaced {
            None
        } else if !reference.namespace.is_empty() {
            Some(reference.namespace.as_str())
        } else if !request_namespace.is_empty() {
            Some(request_namespace)
        } else {
            return Err("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources".to_owned());
        };
        if !namespaced && !reference.namespace.is_empty() {
            return Err("paramRef.namespace must not be provided for a cluster-scoped `paramKind`".to_owned());
        }
        // A namespaced param written without a namespace is created in `default`.
        let in_namespace = |object: &&Value| {
            let own = text(object, &["metadata", "namespace"]);
            namespace.is_none_or(|namespace| namespace == if own.is_empty() { "default" } else { own })
        };
        let params: Params<'s> = if !reference.name.is_empty() {
            if reference.selector.is_some() {
                return Err("paramRef.name and paramRef.selector are mutually exclusive".to_owned());
            }
            let named = |object: &&Value| text(object, &["metadata", "name"]) == reference.name;
            self.of_kind(kind).filter(in_namespace).find(named).map(Some).into_iter().collect()
        } else if let Some(selector) = &reference.selector {
            let selected = |object: &&Value| {
                let labels = object.pointer("/metadata/labels").map(Node::from_json);
                selector.matches(&labels_of(labels.as_ref()))
            };
            self.of_kind(kind).filter(in_namespace).filter(selected).map(Some).collect()
        } else {
            return Err("one of name or selector must be provided".to_owned());
        };
        if params.is_empty() && reference.not_found == NotFoundAction::Deny {
            return Err("no params found for policy binding with `Deny` parameterNotFoundAction".to_owned());
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Binding;
    use serde_json::json;

    fn config_map(name: &str, namespace: &str, labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, "labels": labels}})
    }

    fn reference(value: Value) -> ParamRef {
        Binding::parse(&json!({"metadata": {"name": "b"}, "spec": {"policyName": "p", "validationActions": ["Deny"], "paramRef": value}}))
            .param_ref
            .unwrap()
    }

    fn names(params: &Params<'_>) -> Vec<String> {
        params.iter().map(|param| param.map_or("null".to_owned(), |param| text(param, &["metadata", "name"]).to_owned())).collect()
    }

    #[test]
    fn params_are_found_by_name_or_selector_in_the_requests_namespace() {
        let store = ParamStore::new(vec![
            config_map("limits", "a", json!({"env": "test"})),
            config_map("limits", "b", json!({"env": "test"})),
            config_map("other", "a", json!({"env": "prod"})),
        ]);
        let kind = ParamKind { api_version: "v1".into(), kind: "ConfigMap".into() };
        let by_name = store.collect(Some(&kind), Some(&reference(json!({"name": "limits"}))), "a").unwrap();
        assert_eq!(by_name.len(), 1);
        assert_eq!(by_name[0].unwrap()["metadata"]["namespace"], "a");
        let selected = store.collect(Some(&kind), Some(&reference(json!({"selector": {}, "namespace": "a"}))), "b").unwrap();
        assert_eq!(names(&selected), ["limits", "other"]);
        let test = store.collect(Some(&kind), Some(&reference(json!({"selector": {"matchLabels": {"env": "test"}}}))), "b").unwrap();
        assert_eq!(names(&test), ["limits"]);
        assert_eq!(names(&store.collect(Some(&kind), None, "a").unwrap()), ["null"]);
        assert_eq!(names(&store.collect(None, Some(&reference(json!({"name": "x"}))), "a").unwrap()), ["null"]);
    }

    #[test]
    fn missing_params_allow_or_deny_and_scope_errors_are_configuration_errors() {
        let store = ParamStore::default();
        let kind = ParamKind { api_version: "v1".into(), kind: "ConfigMap".into() };
        let allow = store.collect(Some(&kind), Some(&reference(json!({"name": "x", "parameterNotFoundAction": "Allow"}))), "a");
        assert_eq!(allow.unwrap().len(), 0);
        let deny = store.collect(Some(&kind), Some(&reference(json!({"name": "x", "parameterNotFoundAction": "Deny"}))), "a");
        assert_eq!(deny.unwrap_err(), "no params found for policy binding with `Deny` parameterNotFoundAction");
        let cluster_request = store.collect(Some(&kind), Some(&reference(json!({"name": "x"}))), "");
        assert!(cluster_request.unwrap_err().starts_with("cannot use namespaced paramRef"));
        let cluster_kind = ParamKind { api_version: "example.com/v1".into(), kind: "Limits".into() };
        let namespaced_ref = store.collect(Some(&cluster_kind), Some(&reference(json!({"name": "x", "namespace": "a"}))), "a");
        assert_eq!(namespaced_ref.unwrap_err(), "paramRef.namespace must not be provided for a cluster-scoped `paramKind`");
    }
}

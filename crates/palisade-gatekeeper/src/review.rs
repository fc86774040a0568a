//! `input.review` as Gatekeeper builds it (`pkg/target/target.go`): the JSON of an admission
//! request. A manifest becomes the request gator makes of it: its kind, name, namespace and
//! object, with an empty operation and user; an AdmissionReview's own request is used as it is,
//! its `oldObject` standing in for `object` on DELETE.

use serde_json::{Map, Value, json};

/// The request for a manifest's JSON.
pub fn of_object(object: &Value) -> Value {
    let text = |key: &str| object.pointer(key).and_then(Value::as_str).unwrap_or("");
    let (group, version) = match text("/apiVersion").split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", text("/apiVersion")),
    };
    let mut request = Map::new();
    request.insert("uid".into(), json!(""));
    request.insert("kind".into(), json!({ "group": group, "version": version, "kind": text("/kind") }));
    request.insert("resource".into(), json!({ "group": "", "version": "", "resource": "" }));
    for (field, pointer) in [("name", "/metadata/name"), ("namespace", "/metadata/namespace")] {
        if !text(pointer).is_empty() {
            request.insert(field.into(), json!(text(pointer)));
        }
    }
    request.insert("operation".into(), json!(""));
    request.insert("userInfo".into(), json!({}));
    request.insert("object".into(), object.clone());
    Value::Object(request)
}

/// The request of an AdmissionReview (`admission.k8s.io`), and the object it is about (for
/// matching): `object`, or `oldObject` when there is none (a DELETE).
pub fn of_admission_review(review: &Value) -> Result<(Value, Value), String> {
    let Some(Value::Object(request)) = review.get("request") else {
        return Err("the AdmissionReview has no `request`".into());
    };
    let mut request = request.clone();
    let object = request.get("object").filter(|object| !object.is_null()).cloned();
    let old = request.get("oldObject").filter(|object| !object.is_null()).cloned();
    let subject = match (object, old) {
        (Some(object), _) => object,
        (None, Some(old)) => {
            if request.get("operation").and_then(Value::as_str) == Some("DELETE") {
                request.insert("object".into(), old.clone());
            }
            old
        }
        (None, None) => return Err("the AdmissionReview's request has neither `object` nor `oldObject`".into()),
    };
    for (field, empty) in [("uid", json!("")), ("operation", json!("")), ("userInfo", json!({}))] {
        request.entry(field).or_insert(empty);
    }
    Ok((Value::Object(request), subject))
}

/// `input` for a template: the review and the constraint's parameters, absent when the
/// constraint has none (so `object.get(input, "parameters", {})` gives its default).
pub fn input(review: &Value, parameters: Option<&Value>) -> Value {
    match parameters {
        Some(parameters) => json!({ "review": review, "parameters": parameters }),
        None => json!({ "review": review }),
    }
}

/// A review converted once to the Rego engine's values, for all the constraints that judge it:
/// converting a Pod's review costs more than evaluating most templates on it.
#[derive(Clone)]
pub struct Review(regorus::Value);

impl Review {
    /// The review of a request (see [`of_object`] and [`of_admission_review`]).
    pub fn new(request: &Value) -> Review {
        Review(regorus::Value::from(request.clone()))
    }

    /// The review, as the Rego engine's value (`input.review`).
    pub(crate) fn value(&self) -> &regorus::Value {
        &self.0
    }

    /// `input` with the constraint's parameters (already converted), sharing the review.
    pub(crate) fn input(&self, parameters: Option<&regorus::Value>) -> regorus::Value {
        let mut input = std::collections::BTreeMap::new();
        input.insert(regorus::Value::from("review"), self.0.clone());
        if let Some(parameters) = parameters {
            input.insert(regorus::Value::from("parameters"), parameters.clone());
        }
        regorus::Value::from(input)
    }
}

/// `data.inventory` from objects' JSON, keyed as Gatekeeper's sync keys them:
/// `cluster/<group-version>/<kind>/<name>` and `namespace/<ns>/<group-version>/<kind>/<name>`.
pub fn inventory<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut root = json!({ "cluster": {}, "namespace": {} });
    for object in objects {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).unwrap_or("");
        let (version, kind, name) = (text("/apiVersion"), text("/kind"), text("/metadata/name"));
        if version.is_empty() || kind.is_empty() {
            continue;
        }
        let mut path: Vec<&str> = match text("/metadata/namespace") {
            "" => vec!["cluster"],
            namespace => vec!["namespace", namespace],
        };
        path.extend([version, kind]);
        let mut node = &mut root;
        for key in path {
            node = node.as_object_mut().expect("inventory levels are objects").entry(key).or_insert_with(|| json!({}));
        }
        node.as_object_mut().expect("inventory levels are objects").insert(name.to_owned(), object.clone());
    }
    root
}

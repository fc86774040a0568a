//! Ingress hardening: TLS on every host, no catch-all hosts.

mod tls_missing;
mod wildcard_host;

use palisade_core::{Node, Object, Rule};

pub use tls_missing::TlsMissing;
pub use wildcard_host::WildcardHost;

pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(TlsMissing), Box::new(WildcardHost)]
}

/// The `spec.rules` of an Ingress, `None` for other objects.
pub(crate) fn ingress_rules(object: &Object) -> Option<&[Node]> {
    object
        .is(&["networking.k8s.io", "extensions"], "Ingress")
        .then(|| object.root.pointer("/spec/rules").map_or(&[][..], Node::as_seq))
}

#[cfg(test)]
pub(crate) fn ingress(spec: &str) -> Object {
    crate::workload::testing::object(&format!(
        r#"{{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {{"name": "i"}}, "spec": {spec}}}"#
    ))
}

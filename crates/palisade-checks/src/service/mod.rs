//! Services that expose workloads outside the cluster network.

mod external_ips;
mod load_balancer;
mod node_port;

use palisade_core::{Object, Rule};

pub use external_ips::ExternalIps;
pub use load_balancer::LoadBalancer;
pub use node_port::NodePort;

pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(NodePort), Box::new(LoadBalancer), Box::new(ExternalIps)]
}

/// `spec.type` of a core Service, `None` for other objects.
pub(crate) fn service_type(object: &Object) -> Option<&str> {
    if !object.is(&[""], "Service") {
        return None;
    }
    Some(object.root.pointer("/spec/type").and_then(palisade_core::Node::as_str).unwrap_or("ClusterIP"))
}

#[cfg(test)]
pub(crate) fn service(spec: &str) -> Object {
    crate::workload::testing::object(&format!(
        r#"{{"apiVersion": "v1", "kind": "Service", "metadata": {{"name": "s"}}, "spec": {spec}}}"#
    ))
}

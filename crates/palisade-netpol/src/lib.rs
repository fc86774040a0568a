//! NetworkPolicy and Cilium policy analysis with the exact semantics of each: label selectors,
//! the policy model with API defaults, a reachability engine, and matrix renderers.
//!
//! Build a [`Network`] from objects, then ask [`Network::reach`] what one endpoint may send to
//! another, or [`Network::matrix`] for every workload pair.

pub mod cilium;
pub mod explain;
pub mod flows;
pub mod index;
pub mod model;
pub mod ports;
pub mod reach;
pub mod render;
pub mod suggest;

pub use model::{
    Cidr, ContainerPort, DEFAULT_NAMESPACE, DefaultDeny, Direction, Entity, Flavor, FqdnMatch, IpBlock, NAMESPACE_NAME_LABEL,
    NetRule, Network, Peer, Policy, PortRef, PortRule, Workload, retain,
};
pub use index::PolicyIndex;
pub use ports::{PortSet, Protocol};
pub use reach::{Breakage, Endpoint, Matrix, Outside, Reach, Side, node_label};
pub use render::{MatrixFormat, write_matrix};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cilium;

//! Palisade's shared model: positioned values, Kubernetes objects, pod views, findings and the
//! rule interface. Every other crate depends on this one and on nothing above it.

pub mod finding;
pub mod object;
pub mod pod;
pub mod rule;
pub mod value;

pub use finding::{Control, Finding, Framework, InputError, Location, RuleMeta, Severity};
pub use object::{Object, ObjectRef, Origin, api_group};
pub use pod::{ContainerKind, ContainerView, PodView, pod_kinds};
pub use rule::{Candidate, FindingSink, Gate, InventoryRule, NamespaceFacts, Rule};
pub use value::{Map, Mark, Node, Value, join_pointer, pointer_tokens, push_pointer_token};

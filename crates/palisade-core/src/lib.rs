//! Palisade's shared model: positioned values, Kubernetes objects, pod views, findings and the
//! rule interface. Every other crate depends on this one and on nothing above it.

pub mod finding;
pub mod object;
pub mod pod;
pub mod project;
pub mod rule;
pub mod selector;
pub mod suite;
pub mod value;
pub mod wildcard;
pub mod yaml_text;

pub use finding::{
    CommitInfo, Control, Finding, Framework, InputError, LeakedSecret, Location, RuleMeta, Severity, Text, TextPool, Vulnerability,
    VulnerablePackage,
};
pub use object::{DuplicateKey, Object, ObjectRef, Origin, Problem, api_group, is_cluster_scoped};
pub use project::project;
pub use selector::{Anchor, LabelSelector, Labels, SelectorError, labels_of};
pub use pod::{ContainerKind, ContainerView, PodView, pod_kinds};
pub use rule::{Candidate, FindingSink, Gate, InventoryRule, NamespaceFacts, Rule};
pub use value::{Map, Mark, Node, Value, pointer_tokens, pointer_under, push_pointer_token};

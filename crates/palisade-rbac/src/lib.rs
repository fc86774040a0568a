//! Kubernetes RBAC as the API server evaluates it: roles (with aggregation), bindings and
//! subjects read from objects, and a resolver that answers "who can do this" and "what can
//! this identity do", each answer naming the binding, role and rule that grant it.

pub mod model;
pub mod rule;

pub use model::{
    BOOTSTRAP_LABEL, Binding, BindingKind, Grant, Identity, Problem, RBAC_GROUP, Rbac, Role, RoleKind, RuleRef, Scope,
    Subject, SubjectKind, retain,
};
pub use rule::{PolicyRule, Request};

#[cfg(test)]
mod tests;

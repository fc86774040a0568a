//! Kyverno policies evaluated as Kyverno evaluates them.
//!
//! - [`pattern`]: `validate.pattern` and `anyPattern`, with anchors and value operators.
//! - [`jmespath`], [`variables`], [`conditions`]: `{{ }}` variables in JMESPath with Kyverno's
//!   functions, and the `any`/`all` conditions of `deny` and `preconditions`.

pub mod conditions;
pub(crate) mod duration;
pub(crate) mod go;
pub mod jmespath;
pub mod pattern;
pub(crate) mod quantity;
pub mod variables;
pub mod matching;
pub(crate) mod wildcard;
pub mod autogen;
pub mod pod_security;
pub mod policy;
pub mod request;
pub mod cel;
pub mod engine;
mod memo;
pub mod exception;
pub mod suite;

//! Falco-compatible threat detection on Kubernetes audit events.
//!
//! Falco's own rule files load unmodified: [`rules`] reads lists, macros and rules with
//! `append`/`override`/`exceptions`, [`parser`] and [`compile`] implement the condition
//! language, [`fields`] the k8saudit and json plugin fields, and [`engine`] matches events and
//! renders alerts in Falco's JSON alert format.

pub mod batch;
pub mod compile;
pub mod delivery;
pub mod engine;
pub mod fields;
pub mod follow;
pub mod json;
pub mod parser;
pub mod policy;
pub mod queue;
pub mod receiver;
pub mod rules;
pub mod runner;
pub mod sinks;
pub mod source;
pub mod spool;
pub mod time;

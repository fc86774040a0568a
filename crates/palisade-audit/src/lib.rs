//! Falco-compatible threat detection on Kubernetes audit events.
//!
//! Falco's own rule files load unmodified: [`rules`] reads lists, macros and rules with
//! `append`/`override`/`exceptions` (and Deckhouse's [`falco_audit_rules`] objects as written), [`parser`] and [`compile`] implement the condition
//! language, [`fields`] the k8saudit and json plugin fields, and [`engine`] matches events and
//! renders alerts in Falco's JSON alert format.
//!
//! Events come from files and followed logs ([`runner`], [`follow`], [`source`]) or from the
//! API server's audit webhook ([`receiver`], which reads each POST into a bounded [`batch`] and
//! a [`queue`] bounded in events, bytes and per client). Alerts leave through [`delivery`]: one
//! queue and thread per sink, retries, a circuit breaker and a disk [`spool`], every loss
//! counted; [`sinks`] renders and carries them.

pub mod batch;
pub mod compile;
pub mod delivery;
pub mod engine;
pub mod falco_audit_rules;
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

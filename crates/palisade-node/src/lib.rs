//! `palisade node`: the CIS Kubernetes Benchmark on a node, from kube-bench's own control files
//! with kube-bench's semantics.
//!
//! Data flow: [`bundled`] (or `--config-dir`) gives a [`controls::Benchmark`]; [`collect`] runs
//! on the node, resolves the component variables ([`config`]), substitutes them
//! ([`variables`]) and runs every audit script once ([`runner`]), recording a
//! [`snapshot::Snapshot`]; [`evaluate`] turns a benchmark and a snapshot into a
//! [`evaluate::NodeReport`] anywhere, which [`kube_bench`] writes in kube-bench's JSON and text
//! layouts and [`findings`] turns into Palisade findings for the shared reports.

pub mod bundled;
pub mod collect;
pub mod config;
pub mod controls;
pub mod evaluate;
pub mod findings;
mod goquote;
mod jsonpath;
pub mod kube_bench;
pub mod redact;
pub mod replay;
pub mod runner;
pub mod snapshot;
pub mod variables;

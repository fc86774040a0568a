//! User policies and everything that decides which findings a scan reports: the
//! `.palisade.yaml` configuration, OperationPolicy objects, exceptions (configuration globs,
//! inline annotations, baselines) and the per-control compliance summary.

pub mod compliance;
pub mod config;
pub mod exceptions;
mod fields;
pub mod gatekeeper;
pub mod kyverno;
pub mod glob;
pub mod operation;
pub mod policies;
mod per_object;
pub mod ruleset;
pub mod vap;

pub use config::{Config, RuleSwitches};
pub use exceptions::{Baseline, ConfigException, InlineExceptions, Resolution, apply, report_of};
pub use operation::OperationPolicy;
pub use policies::{Policies, load_policies};
pub use ruleset::{Evaluated, RuleSet, Selection, VULNERABILITY_FAMILY};

/// Every rule Palisade can report, built-in and OperationPolicy, sorted by id: what
/// `palisade rules`, `palisade explain`, `docs/rules/` and the compliance summary describe.
pub fn catalog_metas() -> Vec<&'static palisade_core::RuleMeta> {
    let mut metas = palisade_checks::all_metas();
    metas.extend(operation::metas());
    metas.sort_by_key(|meta| meta.id);
    metas
}

//! Rules of the image door (`palisade scan --images`): every distinct image that workloads run
//! is read once and inventoried, and the result is linked to each container that runs it. The
//! rules are defined here, with the others, so that `rules`, `explain` and reports know them;
//! the work is done by `palisade_catalog::workloads`.

mod inventory;
mod not_evaluated;

use palisade_core::RuleMeta;

pub use inventory::META as INVENTORY;
pub use not_evaluated::META as NOT_EVALUATED;

pub fn metas() -> Vec<&'static RuleMeta> {
    vec![&INVENTORY, &NOT_EVALUATED]
}

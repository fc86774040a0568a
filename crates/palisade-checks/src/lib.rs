//! The built-in rule catalog, grouped by family; one module per rule, each with its metadata,
//! documentation, check and tests side by side.

use palisade_core::Rule;

/// Every built-in single-object rule, in catalog order.
pub fn builtin_rules() -> Vec<Box<dyn Rule>> {
    Vec::new()
}

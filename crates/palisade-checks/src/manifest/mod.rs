//! How a manifest is written, beyond the object it describes: traps in the YAML itself.

mod duplicate_key;

use palisade_core::Rule;

pub use duplicate_key::DuplicateKey;

pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(DuplicateKey)]
}

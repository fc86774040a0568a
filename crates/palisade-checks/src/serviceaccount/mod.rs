//! ServiceAccount settings.

mod automount_token;

use palisade_core::Rule;

pub use automount_token::AutomountToken;

pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(AutomountToken)]
}

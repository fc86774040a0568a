//! Secrets handled unsafely: credentials written in plain text in ConfigMaps and environment
//! variables, found with gitleaks' rules by the same code as `palisade secrets`
//! (`palisade_secrets::manifest`), and Secrets exposed through environment variables. Messages
//! never contain a credential, only a short prefix and the length.

mod plaintext_in_configmap;
mod plaintext_in_env;
mod secret_as_env_var;

use palisade_core::{FindingSink, Object, Rule};
use palisade_secrets::manifest::{FieldKind, default_config, default_detector, scan_fields};

pub use plaintext_in_configmap::PlaintextInConfigMap;
pub use plaintext_in_env::PlaintextInEnv;
pub use secret_as_env_var::SecretAsEnvVar;

/// The ids of rules whose findings point at a credential: reports must not print the source
/// line they point at.
pub const REDACTED_RULES: [&str; 2] = [plaintext_in_configmap::META.id, plaintext_in_env::META.id];

pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(SecretAsEnvVar), Box::new(PlaintextInConfigMap), Box::new(PlaintextInEnv)]
}

/// Reports what gitleaks' built-in rules find in the fields of `object` of these kinds.
fn report_credentials(object: &Object, kinds: &[FieldKind], sink: &mut FindingSink<'_>) {
    for found in scan_fields(default_detector(), object, kinds) {
        let description = default_config().rule(&found.rule_id).map_or("", |rule| rule.description.as_str());
        let message = found.message(description);
        sink.report(found.pointer, message);
    }
}

//! Secrets handled unsafely: credentials written in plain text in ConfigMaps and environment
//! variables, and Secrets exposed through environment variables. Messages never contain a
//! credential; see [`detect::Redacted`].

pub mod detect;
mod plaintext_in_configmap;
mod plaintext_in_env;
mod secret_as_env_var;

use palisade_core::Rule;

pub use plaintext_in_configmap::PlaintextInConfigMap;
pub use plaintext_in_env::PlaintextInEnv;
pub use secret_as_env_var::SecretAsEnvVar;

/// The ids of rules whose findings point at a credential: reports must not print the source
/// line they point at.
pub const REDACTED_RULES: [&str; 2] = [plaintext_in_configmap::META.id, plaintext_in_env::META.id];

pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(SecretAsEnvVar), Box::new(PlaintextInConfigMap), Box::new(PlaintextInEnv)]
}

//! Kyverno's `validate.pattern`: a resource checked against an overlay pattern with anchors and
//! value operators, with Kyverno's pass, skip and fail decisions and its failure paths.
//!
//! The semantics follow kyverno/kyverno's `pkg/engine/validate`, `pkg/engine/anchor`,
//! `pkg/engine/pattern` and `pkg/engine/wildcards`, including the parts that are accidents of
//! the Go code rather than documented behaviour, because policies in the wild depend on them:
//! errors are classified as skips by the text they carry, `+(key)` is looked up literally
//! during validation, and wildcard label and annotation keys are expanded into the pattern itself.
//!
//! Numbers follow Kubernetes' JSON decoding, which Kyverno sees: an integral JSON number is a Go
//! `int64`, any other number a `float64`.
//!
//! Where Go's map iteration makes Kyverno pick at random (a wildcard label key matching several
//! resource keys, a pattern holding both `labels` and `=(labels)`), the first in map order is
//! taken, so results are reproducible.

mod anchor;
mod gofmt;
mod metadata;
mod value;
mod walk;

use serde_json::Value;

/// What Kyverno decides for one resource and one pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    /// The rule does not apply: a conditional or global anchor did not match. The text is
    /// Kyverno's reason, as it appears in the rule response.
    Skip(String),
    Fail(Failure),
}

/// A pattern the resource does not satisfy.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Where Kyverno reports the failure, in its own form: `/spec/containers/0/image/`.
    /// Kyverno prints it as `validation error: <message> rule <name> failed at path <path>`.
    /// Empty when Kyverno has no path to report; Kyverno then answers with a rule *error*
    /// (`... rule <name> execution error: <message>`) instead of a failure, see
    /// [`Failure::is_execution_error`].
    pub path: String,
    /// Kyverno's own error text, e.g. `resource value 'Always' does not match '!Always' at path
    /// /spec/containers/0/imagePullPolicy/`.
    pub message: String,
}

impl Failure {
    /// Kyverno turns a pattern failure without a path into the `error` status rather than `fail`
    /// (an anchor key the resource lacks, an array shorter than the pattern, ...).
    pub fn is_execution_error(&self) -> bool {
        self.path.is_empty()
    }
}

/// The key an anchored pattern key names (`name` of `=(name)`); `None` for a plain key.
pub(crate) fn anchor_key(key: &str) -> Option<&str> {
    anchor::parse(key).map(|anchor| anchor.key)
}

/// Kyverno's `validate.MatchPattern`: the whole resource against the whole pattern.
///
/// Variables and `$(...)` references must already be substituted.
pub fn match_pattern(resource: &Value, pattern: &Value) -> Outcome {
    walk::match_pattern(resource, pattern)
}

/// Kyverno's `pattern.Validate`: one value against one scalar pattern (`"!Always"`,
/// `">=100Mi"`, `"10s-1m"`, `"*:latest | nginx"`, `8`, `true`, `null`, ...).
pub fn value_matches(value: &Value, pattern: &Value) -> bool {
    value::matches(value, pattern)
}

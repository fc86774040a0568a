//! Optional report sections a scan adds when it used them: the compliance summary of one
//! framework (`--framework`) and what exceptions did (suppressed findings, unused, expired and
//! invalid exceptions). Reports without them keep their shape byte for byte.

use palisade_core::{Finding, Framework};
use serde::Serialize;

/// Per-control results for one framework.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Compliance {
    #[serde(serialize_with = "framework_id")]
    pub framework: Framework,
    pub controls: Vec<ControlResult>,
}

fn framework_id<S: serde::Serializer>(framework: &Framework, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(framework.as_str())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    /// At least one finding of a rule mapped to the control remains.
    Failed,
    /// Every rule mapped to it ran and none reported (after exceptions).
    Passed,
    /// The catalog maps rules to it, but none of them ran (disabled or not selected).
    NotEvaluated,
}

impl ControlStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::Passed => "passed",
            Self::NotEvaluated => "not evaluated",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControlResult {
    pub id: String,
    pub status: ControlStatus,
    /// Rules mapped to the control that ran.
    pub rules_evaluated: Vec<String>,
    /// Rules mapped to the control that did not run.
    pub rules_not_evaluated: Vec<String>,
    pub findings: usize,
}

impl ControlResult {
    /// A control no rule has been seen for yet: not evaluated.
    pub fn unmapped(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            status: ControlStatus::NotEvaluated,
            rules_evaluated: Vec::new(),
            rules_not_evaluated: Vec::new(),
            findings: 0,
        }
    }
}

impl Compliance {
    /// How many controls have `status`.
    pub fn count(&self, status: ControlStatus) -> usize {
        self.controls.iter().filter(|control| control.status == status).count()
    }
}

/// What exceptions did in a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exceptions {
    pub suppressed: Vec<Suppressed>,
    /// Exceptions that need attention: unused, expired, invalid.
    pub notes: Vec<ExceptionNote>,
}

/// A finding an exception suppressed, with the exception that did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    /// `config .palisade.yaml:12`, `annotation`, `baseline base.json`.
    pub source: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    /// Matched no finding: the problem was fixed or the exception is mistyped.
    Unused,
    /// Past its expiry date: it no longer suppresses anything.
    Expired,
    /// Not applied (an annotation without a reason).
    Invalid,
}

impl NoteKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unused => "unused",
            Self::Expired => "expired",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ExceptionNote {
    pub kind: NoteKind,
    /// Where the exception is written.
    pub source: String,
    pub message: String,
}

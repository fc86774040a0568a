//! Every output format of `palisade scan` and the rule documentation generated from the catalog.
//!
//! Writers take a [`ScanReport`], whose constructor sorts its contents, so the same scan always
//! produces the same bytes whatever order the parallel engine found things in. The formats are
//! documented under `docs/formats/`; their shape is a contract with CI users.

mod docs;
mod json;
mod junit;
mod policyreport;
mod sarif;
mod sections;
mod text;

use std::io;

use palisade_core::{Finding, InputError, RuleMeta, Severity};

pub use docs::{generate_rule_docs, render_rule_doc, render_rule_index};
pub use sections::{
    Compliance, ControlResult, ControlStatus, ExceptionNote, Exceptions, NoteKind, Suppressed,
};
pub use policyreport::{Limits as ReportLimits, REPORT_NAME, node_policy_report, policy_reports};
pub use text::SourceLines;

/// The result of one scan, ready to be written in any format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanReport {
    findings: Vec<Finding>,
    errors: Vec<InputError>,
    summary: Summary,
    compliance: Option<Compliance>,
    exceptions: Option<Exceptions>,
}

/// How much was scanned, as the engine counted it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Files, or a live cluster's lists (see `inputs`).
    pub files_read: usize,
    pub objects_scanned: usize,
    pub rules_evaluated: usize,
    pub inputs: Inputs,
}

/// What a scan read its objects from, as its summary names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Inputs {
    #[default]
    Files,
    /// A live cluster's lists (one per kind, or per kind and namespace).
    Lists,
}

/// The totals a CI user gates on; derived from the findings by [`ScanReport::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub scope: Scope,
    pub findings: usize,
    /// Counts indexed like [`Severity::ALL`]: critical first, info last.
    pub by_severity: [usize; 5],
    pub input_errors: usize,
    /// The `--fail-on` threshold, if any.
    pub fail_on: Option<Severity>,
    /// Whether a finding at or above `fail_on` exists.
    pub threshold_exceeded: bool,
}

impl Summary {
    /// The number of findings at or above `threshold`.
    pub fn at_or_above(&self, threshold: Severity) -> usize {
        Severity::ALL
            .iter()
            .zip(self.by_severity)
            .filter(|(severity, _)| **severity >= threshold)
            .map(|(_, count)| count)
            .sum()
    }
}

impl ScanReport {
    /// Sorts findings with [`Finding::sort_key`] and errors by position, and derives the summary.
    pub fn new(
        mut findings: Vec<Finding>,
        mut errors: Vec<InputError>,
        scope: Scope,
        fail_on: Option<Severity>,
    ) -> Self {
        // The engine hands findings over sorted; checking is cheaper than sorting again.
        if !findings.is_sorted_by(|a, b| a.sort_key() <= b.sort_key()) {
            use rayon::slice::ParallelSliceMut;
            findings.par_sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
        errors.sort();
        let mut by_severity = [0; 5];
        for finding in &findings {
            if let Some(index) = Severity::ALL.iter().position(|s| *s == finding.severity) {
                by_severity[index] += 1;
            }
        }
        let mut summary = Summary {
            scope,
            findings: findings.len(),
            by_severity,
            input_errors: errors.len(),
            fail_on,
            threshold_exceeded: false,
        };
        summary.threshold_exceeded = fail_on.is_some_and(|t| summary.at_or_above(t) > 0);
        Self {
            findings,
            errors,
            summary,
            compliance: None,
            exceptions: None,
        }
    }

    /// Adds the compliance summary of the framework the scan was narrowed to.
    pub fn with_compliance(mut self, compliance: Compliance) -> Self {
        self.compliance = Some(compliance);
        self
    }

    /// Adds what exceptions did; suppressed findings are sorted like findings, notes by kind
    /// and source.
    pub fn with_exceptions(mut self, mut exceptions: Exceptions) -> Self {
        exceptions.suppressed.sort_by(|a, b| a.finding.sort_key().cmp(&b.finding.sort_key()));
        exceptions.notes.sort();
        self.exceptions = Some(exceptions);
        self
    }

    pub fn compliance(&self) -> Option<&Compliance> {
        self.compliance.as_ref()
    }

    pub fn exceptions(&self) -> Option<&Exceptions> {
        self.exceptions.as_ref()
    }

    /// In report order.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn errors(&self) -> &[InputError] {
        &self.errors
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}

/// An output format of `palisade scan --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Junit,
    /// Policy Report CRs (`wgpolicyk8s.io/v1alpha2`) as a YAML stream.
    PolicyReport,
    /// The same reports as one JSON `List`.
    PolicyReportJson,
}

impl Format {
    pub const ALL: [Format; 6] =
        [Self::Text, Self::Json, Self::Sarif, Self::Junit, Self::PolicyReport, Self::PolicyReportJson];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Sarif => "sarif",
            Self::Junit => "junit",
            Self::PolicyReport => "policyreport",
            Self::PolicyReportJson => "policyreport-json",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown format `{text}` (expected text, json, sarif, junit, policyreport or policyreport-json)"))
    }
}

/// What only some formats use.
#[derive(Clone, Copy, Default)]
pub struct WriteOptions<'a> {
    /// ANSI colours in the text format; the CLI sets it from `IsTerminal` and `NO_COLOR`.
    pub color: bool,
    /// Source lines for the text format's snippets; without it findings show no snippet.
    pub source: Option<&'a dyn SourceLines>,
    /// List suppressed findings in the text format (JSON always lists them).
    pub show_suppressed: bool,
}

/// Writes `report` in `format`. `rules` is the metadata of the rules evaluated (SARIF describes
/// each of them); findings of rules missing from it are described from the findings themselves.
pub fn write(
    report: &ScanReport,
    format: Format,
    rules: &[&'static RuleMeta],
    out: &mut dyn io::Write,
    options: &WriteOptions<'_>,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, out, options),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, rules, out),
        Format::Junit => junit::write(report, out),
        Format::PolicyReport => policyreport::write_yaml(report, out),
        Format::PolicyReportJson => policyreport::write_json(report, out),
    }
}

/// `Kind/namespace/name` or `Kind/name`, and the bare name when the kind is unknown; how every
/// format names an object for a person.
fn object_label(object: &palisade_core::ObjectRef) -> String {
    if object.kind.is_empty() {
        object.name.clone()
    } else {
        object.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parses_case_insensitively_and_round_trips() {
        for format in Format::ALL {
            assert_eq!(
                format.to_string().to_uppercase().parse::<Format>(),
                Ok(format)
            );
        }
        assert!("html".parse::<Format>().unwrap_err().contains("`html`"));
    }

    #[test]
    fn threshold_counts_findings_at_or_above_it() {
        let summary = Summary {
            scope: Scope::default(),
            findings: 3,
            by_severity: [0, 1, 2, 0, 0],
            input_errors: 0,
            fail_on: None,
            threshold_exceeded: false,
        };
        assert_eq!(summary.at_or_above(Severity::Critical), 0);
        assert_eq!(summary.at_or_above(Severity::High), 1);
        assert_eq!(summary.at_or_above(Severity::Info), 3);
    }
}

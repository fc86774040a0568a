//! `--format json`: one pretty-printed document (see `docs/formats/json.md`).
//!
//! The document is built from structs local to this module rather than by serializing core
//! types, so a change in `palisade-core` cannot silently change the published shape; field
//! order here is key order in the output.

use std::io;

use palisade_core::{Finding, InputError, Severity};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::{ControlStatus, ScanReport, Summary};

#[derive(Serialize)]
struct Document<'a> {
    findings: Findings<'a>,
    errors: Vec<JsonError<'a>>,
    summary: JsonSummary,
    /// Present only when the scan was narrowed to a framework (`--framework`).
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<JsonCompliance<'a>>,
    /// Present only when exceptions (config, annotations, baseline) were in play.
    #[serde(skip_serializing_if = "Option::is_none")]
    exceptions: Option<JsonExceptions<'a>>,
}

#[derive(Serialize)]
struct JsonCompliance<'a> {
    framework: &'a str,
    title: &'a str,
    passed: usize,
    failed: usize,
    not_evaluated: usize,
    controls: &'a [crate::ControlResult],
}

#[derive(Serialize)]
struct JsonExceptions<'a> {
    suppressed: Vec<JsonSuppressed<'a>>,
    notes: &'a [crate::ExceptionNote],
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    suppressed_by: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    severity: Severity,
    title: &'a str,
    message: &'a str,
    object: JsonObject<'a>,
    location: JsonLocation<'a>,
    remediation: &'a str,
    controls: Vec<JsonControl<'a>>,
}

#[derive(Serialize)]
struct JsonControl<'a> {
    framework: &'a str,
    id: &'a str,
}

#[derive(Serialize)]
struct JsonObject<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    /// `null` for cluster-scoped objects and objects written without one: the key is always
    /// present so consumers see one shape.
    namespace: Option<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    path: &'a str,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    files_read: usize,
    objects_scanned: usize,
    rules_evaluated: usize,
    findings: usize,
    by_severity: BySeverity,
    input_errors: usize,
    fail_on: Option<Severity>,
    threshold_exceeded: bool,
}

#[derive(Serialize)]
struct BySeverity {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
    info: usize,
}

pub(crate) fn write(report: &ScanReport, out: &mut dyn io::Write) -> io::Result<()> {
    let document = Document {
        findings: Findings(report.findings()),
        errors: report.errors().iter().map(error).collect(),
        summary: summary(report.summary()),
        compliance: report.compliance().map(|compliance| JsonCompliance {
            framework: compliance.framework.as_str(),
            title: compliance.framework.title(),
            passed: compliance.count(ControlStatus::Passed),
            failed: compliance.count(ControlStatus::Failed),
            not_evaluated: compliance.count(ControlStatus::NotEvaluated),
            controls: &compliance.controls,
        }),
        exceptions: report.exceptions().map(|exceptions| JsonExceptions {
            suppressed: exceptions
                .suppressed
                .iter()
                .map(|suppressed| JsonSuppressed {
                    finding: finding(&suppressed.finding),
                    suppressed_by: &suppressed.source,
                    reason: &suppressed.reason,
                })
                .collect(),
            notes: &exceptions.notes,
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
}

/// Findings rendered a chunk at a time on every core and written in order. A scan may have
/// hundreds of thousands: a second representation of all of them would double what the report
/// holds in memory, and rendering them on one thread left the other core idle.
struct Findings<'a>(&'a [Finding]);

/// Findings rendered at once; bounds the memory of the rendered text.
const CHUNK: usize = 8192;

/// The indentation of a finding inside the pretty-printed document (`findings` items).
const ITEM_INDENT: &str = "\n    ";

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use rayon::prelude::*;
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for chunk in self.0.chunks(CHUNK) {
            let rendered: Vec<Result<Box<RawValue>, serde_json::Error>> = chunk
                .par_iter()
                .map(|item| {
                    // JSON strings hold no raw newline, so every newline is a line break of
                    // the pretty layout and gets the item's depth.
                    let text = serde_json::to_string_pretty(&finding(item))?.replace('\n', ITEM_INDENT);
                    RawValue::from_string(text)
                })
                .collect();
            for item in rendered {
                seq.serialize_element(&item.map_err(S::Error::custom)?)?;
            }
        }
        seq.end()
    }
}

fn finding(finding: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        rule: &finding.rule,
        severity: finding.severity,
        title: &finding.title,
        message: &finding.message,
        object: JsonObject {
            api_version: &finding.object.api_version,
            kind: &finding.object.kind,
            namespace: finding.object.namespace.as_deref(),
            name: &finding.object.name,
        },
        location: JsonLocation {
            file: &finding.location.file,
            line: finding.location.line,
            column: finding.location.column,
            path: &finding.location.path,
        },
        remediation: &finding.remediation,
        controls: finding
            .controls
            .iter()
            .map(|control| JsonControl {
                framework: control.framework.as_str(),
                id: &control.id,
            })
            .collect(),
    }
}

fn error(error: &InputError) -> JsonError<'_> {
    JsonError {
        file: &error.file,
        line: error.line,
        column: error.column,
        message: &error.message,
    }
}

fn summary(summary: &Summary) -> JsonSummary {
    let [critical, high, medium, low, info] = summary.by_severity;
    JsonSummary {
        files_read: summary.scope.files_read,
        objects_scanned: summary.scope.objects_scanned,
        rules_evaluated: summary.scope.rules_evaluated,
        findings: summary.findings,
        by_severity: BySeverity {
            critical,
            high,
            medium,
            low,
            info,
        },
        input_errors: summary.input_errors,
        fail_on: summary.fail_on,
        threshold_exceeded: summary.threshold_exceeded,
    }
}

//! `--format json`: one pretty-printed document (see `docs/formats/json.md`).
//!
//! The document is built from structs local to this module (and findings are laid out by hand)
//! rather than by serializing core types, so a change in `palisade-core` cannot silently change
//! the published shape; field order here is key order in the output.

use std::collections::HashMap;
use std::io::{self, Write as _};

use palisade_core::{Finding, InputError, Severity};
use serde::Serialize;

use crate::{ControlStatus, ScanReport, Summary};

/// The document is written key by key: the findings arrays (which may hold hundreds of
/// thousands of findings) by [`write_findings`], every other value by serde_json and indented to
/// its depth, which gives exactly serde_json's pretty layout.
pub(crate) fn write(report: &ScanReport, out: &mut dyn io::Write) -> io::Result<()> {
    out.write_all(b"{\n  \"findings\": ")?;
    write_findings(report.findings(), 2, |finding| (finding, None), out)?;
    out.write_all(b",\n  \"errors\": ")?;
    write_value(&report.errors().iter().map(error).collect::<Vec<_>>(), 1, out)?;
    out.write_all(b",\n  \"summary\": ")?;
    write_value(&summary(report.summary()), 1, out)?;
    if let Some(compliance) = report.compliance() {
        out.write_all(b",\n  \"compliance\": ")?;
        let compliance = JsonCompliance {
            framework: compliance.framework.as_str(),
            title: compliance.framework.title(),
            passed: compliance.count(ControlStatus::Passed),
            failed: compliance.count(ControlStatus::Failed),
            not_evaluated: compliance.count(ControlStatus::NotEvaluated),
            controls: &compliance.controls,
        };
        write_value(&compliance, 1, out)?;
    }
    if let Some(exceptions) = report.exceptions() {
        out.write_all(b",\n  \"exceptions\": {\n    \"suppressed\": ")?;
        write_findings(
            &exceptions.suppressed,
            3,
            |suppressed| (&suppressed.finding, Some([("suppressed_by", &*suppressed.source), ("reason", &*suppressed.reason)])),
            out,
        )?;
        out.write_all(b",\n    \"notes\": ")?;
        write_value(&exceptions.notes, 2, out)?;
        out.write_all(b"\n  }")?;
    }
    out.write_all(b"\n}\n")
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

/// `value` pretty-printed as it would be `depth` levels deep in the document.
fn write_value(value: &impl Serialize, depth: usize, out: &mut dyn io::Write) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    // JSON strings hold no raw newline, so every newline is a line break of the layout.
    let indent = format!("\n{}", INDENT.repeat(depth));
    out.write_all(text.replace('\n', &indent).as_bytes())
}

const INDENT: &str = "  ";

/// Findings rendered at once by one thread; bounds the memory of the rendered text.
const CHUNK: usize = 4096;

/// Extra keys written after a finding's own (a suppressed finding's exception).
type Extra<'a> = Option<[(&'static str, &'a str); 2]>;

/// Writes `items` as a JSON array of findings whose items sit `depth` levels deep. A scan may
/// have hundreds of thousands of findings: they are rendered straight from the findings, a chunk
/// per thread on every core, and written in order, so no second representation of them exists.
fn write_findings<'a, T: Sync>(
    items: &'a [T],
    depth: usize,
    finding: impl Fn(&'a T) -> (&'a Finding, Extra<'a>) + Sync,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    use rayon::prelude::*;
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let threads = rayon::current_num_threads().max(1) * 2;
    // One buffer per chunk in flight, reused from batch to batch: fresh ones would have the
    // kernel zero hundreds of megabytes of pages over a large report.
    let mut buffers: Vec<(Vec<u8>, RuleText)> = Vec::new();
    for (index, group) in items.chunks(CHUNK * threads).enumerate() {
        buffers.resize_with(group.len().div_ceil(CHUNK), Default::default);
        group.par_chunks(CHUNK).zip(buffers.par_iter_mut()).enumerate().for_each(|(chunk_index, (chunk, (text, rules)))| {
            text.clear();
            for (item_index, item) in chunk.iter().enumerate() {
                let first = index == 0 && chunk_index == 0 && item_index == 0;
                if !first {
                    text.push(b',');
                }
                let (found, extra) = finding(item);
                write_finding(text, rules, found, extra, depth);
            }
        });
        for (text, _) in &buffers {
            out.write_all(text)?;
        }
    }
    let mut close = Vec::new();
    Layout::at(&mut close, depth - 1).line();
    close.push(b']');
    out.write_all(&close)
}

/// A rule's id, title, remediation and controls, the same in every finding of the rule,
/// rendered once per chunk of findings and then copied.
#[derive(Default)]
struct RuleText {
    heads: HashMap<(usize, Severity), Vec<u8>>,
    tails: HashMap<(usize, usize), Vec<u8>>,
}

/// One finding laid out as serde_json's pretty printer would, `depth` levels deep: the same
/// keys in the same order as before findings were rendered by hand (`docs/formats/json.md`).
fn write_finding(text: &mut Vec<u8>, rules: &mut RuleText, finding: &Finding, extra: Extra<'_>, depth: usize) {
    let mut json = Layout::at(text, depth);
    json.line();
    json.begin(b'{');
    // Keys sit one level deeper than the finding itself.
    let head = rules.heads.entry((finding.rule.as_ptr() as usize, finding.severity)).or_insert_with(|| {
        let mut head = Vec::new();
        let mut json = Layout::at(&mut head, depth + 1);
        json.key("rule");
        json.string(finding.rule);
        json.key("severity");
        json.string(finding.severity.as_str());
        json.key("title");
        json.string(finding.title);
        head
    });
    json.raw(head);
    json.first = false;
    json.key("message");
    json.string(&finding.message);
    json.key("object");
    json.begin(b'{');
    json.key("apiVersion");
    json.string(&finding.object.api_version);
    json.key("kind");
    json.string(&finding.object.kind);
    // `null` for cluster-scoped objects and objects written without one: the key is always
    // present so consumers see one shape.
    json.key("namespace");
    match &finding.object.namespace {
        Some(namespace) => json.string(namespace),
        None => json.raw(b"null"),
    }
    json.key("name");
    json.string(&finding.object.name);
    json.end(b'}');
    json.key("location");
    json.begin(b'{');
    json.key("file");
    json.string(&finding.location.file);
    json.key("line");
    json.number(finding.location.line);
    json.key("column");
    json.number(finding.location.column);
    json.key("path");
    json.string(&finding.location.path);
    json.end(b'}');
    if let Some(vulnerability) = &finding.vulnerability {
        json.key("vulnerability");
        json.nested(&**vulnerability);
    }
    if let Some(secret) = &finding.secret {
        json.key("secret");
        json.nested(&**secret);
    }
    let tail = rules.tails.entry((finding.remediation.as_ptr() as usize, finding.controls.as_ptr() as usize)).or_insert_with(|| {
        let mut tail = Vec::new();
        let mut json = Layout { text: &mut tail, depth: depth + 1, first: false };
        json.key("remediation");
        json.string(finding.remediation);
        json.key("controls");
        if finding.controls.is_empty() {
            json.raw(b"[]");
        } else {
            json.begin(b'[');
            for control in finding.controls.iter() {
                json.item();
                json.begin(b'{');
                json.key("framework");
                json.string(control.framework.as_str());
                json.key("id");
                json.string(&control.id);
                json.end(b'}');
            }
            json.end(b']');
        }
        tail
    });
    json.raw(tail);
    for (key, value) in extra.into_iter().flatten() {
        json.key(key);
        json.string(value);
    }
    json.end(b'}');
}

/// serde_json's pretty layout (two-space indent, `"key": value`, one item per line) written
/// straight into a buffer.
struct Layout<'a> {
    text: &'a mut Vec<u8>,
    depth: usize,
    /// Whether the next key or item is the first of its object or array (no comma before it).
    first: bool,
}

impl<'a> Layout<'a> {
    fn at(text: &'a mut Vec<u8>, depth: usize) -> Self {
        Self { text, depth, first: true }
    }

    fn line(&mut self) {
        self.text.push(b'\n');
        for _ in 0..self.depth {
            self.text.extend_from_slice(INDENT.as_bytes());
        }
    }

    fn begin(&mut self, bracket: u8) {
        self.text.push(bracket);
        self.depth += 1;
        self.first = true;
    }

    fn end(&mut self, bracket: u8) {
        self.depth -= 1;
        self.line();
        self.text.push(bracket);
        self.first = false;
    }

    /// Starts an array item.
    fn item(&mut self) {
        if !self.first {
            self.text.push(b',');
        }
        self.first = false;
        self.line();
    }

    fn key(&mut self, key: &str) {
        self.item();
        self.string(key);
        self.text.extend_from_slice(b": ");
    }

    fn string(&mut self, value: &str) {
        serde_json::to_writer(&mut *self.text, value).expect("writing to a Vec cannot fail");
    }

    fn number(&mut self, value: u32) {
        write!(self.text, "{value}").expect("writing to a Vec cannot fail");
    }

    /// A serialisable value in the same layout, at the current depth.
    fn nested(&mut self, value: &impl Serialize) {
        let pretty = serde_json::to_vec_pretty(value).expect("serialising to a Vec cannot fail");
        for (index, line) in pretty.split(|byte| *byte == b'\n').enumerate() {
            if index > 0 {
                self.line();
            }
            self.raw(line);
        }
    }

    fn raw(&mut self, text: &[u8]) {
        self.text.extend_from_slice(text);
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

//! `--format text`: findings grouped by file, then object, for people (see `docs/formats/text.md`).

use std::io;

use palisade_core::{Finding, ObjectRef, Severity};

use crate::{ControlStatus, ScanReport, Summary, WriteOptions, object_label};

/// Fetches one line of a scanned file (1-based, without its line ending) for the snippet under
/// a finding; `None` when the text is not at hand (stdin, a cluster, an unreadable file).
pub trait SourceLines {
    fn line(&self, file: &str, line: u32) -> Option<String>;
}

impl<F: Fn(&str, u32) -> Option<String>> SourceLines for F {
    fn line(&self, file: &str, line: u32) -> Option<String> {
        self(file, line)
    }
}

const BOLD: &str = "1";
const DIM: &str = "2";
const RED: &str = "31";
const GREEN: &str = "32";

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn severity_style(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "1;35",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "34",
    }
}

pub(crate) fn write(
    report: &ScanReport,
    out: &mut dyn io::Write,
    options: &WriteOptions<'_>,
) -> io::Result<()> {
    let painter = Painter {
        color: options.color,
    };
    for (file, objects) in group(report.findings()) {
        writeln!(out, "{}", painter.paint(BOLD, file))?;
        for (object, findings) in objects {
            writeln!(out, "  {}", object_label(object))?;
            for finding in findings {
                write_finding(out, finding, &painter, options.source)?;
            }
        }
        writeln!(out)?;
    }
    for error in report.errors() {
        writeln!(out, "{}: {error}", painter.paint(RED, "input error"))?;
    }
    if !report.errors().is_empty() {
        writeln!(out)?;
    }
    write_exceptions(out, report, &painter, options)?;
    write_compliance(out, report)?;
    writeln!(out, "{}", summary_line(report.summary()))?;
    if let Some(threshold) = report.summary().fail_on {
        let above = report.summary().at_or_above(threshold);
        let verdict = if above > 0 {
            painter.paint(
                RED,
                &format!(
                    "failed: {} at or above {threshold}",
                    plural(above, "finding")
                ),
            )
        } else if report.summary().input_errors > 0 {
            // Not a pass to announce: part of the input was not read.
            painter.paint(
                RED,
                &format!(
                    "no findings at or above {threshold} in what was read; {} (above)",
                    plural(report.summary().input_errors, "input error")
                ),
            )
        } else {
            painter.paint(
                GREEN,
                &format!("passed: no findings at or above {threshold}"),
            )
        };
        writeln!(out, "fail-on {threshold}: {verdict}")?;
    }
    Ok(())
}

/// Suppressed findings (listed only with `show_suppressed`), then exceptions to look at.
fn write_exceptions(
    out: &mut dyn io::Write,
    report: &ScanReport,
    painter: &Painter,
    options: &WriteOptions<'_>,
) -> io::Result<()> {
    let Some(exceptions) = report.exceptions() else {
        return Ok(());
    };
    if options.show_suppressed {
        for suppressed in &exceptions.suppressed {
            let finding = &suppressed.finding;
            writeln!(
                out,
                "{} {}:{}:{} {} {} {} ({}: {})",
                painter.paint(DIM, "suppressed"),
                finding.location.file,
                finding.location.line,
                finding.location.column,
                finding.rule,
                object_label(&finding.object),
                finding.message,
                suppressed.source,
                suppressed.reason
            )?;
        }
    }
    for note in &exceptions.notes {
        writeln!(out, "exception {}: {}: {}", note.kind.as_str(), note.source, note.message)?;
    }
    if !exceptions.suppressed.is_empty() || !exceptions.notes.is_empty() {
        writeln!(out, "{} suppressed by exceptions", plural(exceptions.suppressed.len(), "finding"))?;
        writeln!(out)?;
    }
    Ok(())
}

/// One line per control of the framework, then the totals.
fn write_compliance(out: &mut dyn io::Write, report: &ScanReport) -> io::Result<()> {
    let Some(compliance) = report.compliance() else {
        return Ok(());
    };
    writeln!(out, "{}", compliance.framework.title())?;
    for control in &compliance.controls {
        let detail = match control.status {
            ControlStatus::Failed => format!(" ({})", plural(control.findings, "finding")),
            _ => String::new(),
        };
        writeln!(out, "  {:<14} {:<13} {}{detail}", control.id, control.status.as_str(), control.rules_evaluated.join(", "))?;
    }
    writeln!(
        out,
        "controls: {} passed, {} failed, {} not evaluated",
        compliance.count(ControlStatus::Passed),
        compliance.count(ControlStatus::Failed),
        compliance.count(ControlStatus::NotEvaluated)
    )?;
    writeln!(out)
}

type ObjectGroup<'a> = (&'a ObjectRef, Vec<&'a Finding>);
type FileGroup<'a> = (&'a str, Vec<ObjectGroup<'a>>);

/// Findings by file, then by object, each in order of first appearance; the input is already in
/// report order, so positions ascend inside every group.
fn group(findings: &[Finding]) -> Vec<FileGroup<'_>> {
    let mut files: Vec<FileGroup<'_>> = Vec::new();
    for finding in findings {
        let file = &*finding.location.file;
        let objects = match files.iter().position(|(name, _)| *name == file) {
            Some(index) => &mut files[index].1,
            None => {
                files.push((file, Vec::new()));
                &mut files.last_mut().expect("just pushed").1
            }
        };
        match objects
            .iter_mut()
            .find(|(object, _)| **object == *finding.object)
        {
            Some((_, group)) => group.push(finding),
            None => objects.push((&finding.object, vec![finding])),
        }
    }
    files
}

fn write_finding(
    out: &mut dyn io::Write,
    finding: &Finding,
    painter: &Painter,
    source: Option<&dyn SourceLines>,
) -> io::Result<()> {
    let location = &finding.location;
    let position = if location.line == 0 {
        location.file.to_string()
    } else {
        format!("{}:{}:{}", location.file, location.line, location.column)
    };
    writeln!(
        out,
        "    {} {} {} {}",
        painter.paint(BOLD, &position),
        painter.paint(severity_style(finding.severity), finding.severity.as_str()),
        painter.paint(DIM, finding.rule),
        finding.message
    )?;
    let snippet = source
        .filter(|_| location.line > 0)
        .and_then(|source| source.line(&location.file, location.line));
    if let Some(text) = snippet {
        let text = text.trim_end_matches(['\r', '\n']);
        let number = location.line.to_string();
        let gutter = " ".repeat(number.len());
        writeln!(
            out,
            "      {} {text}",
            painter.paint(DIM, &format!("{number} |"))
        )?;
        if let Some(pad) = caret_padding(text, location.column) {
            let caret = painter.paint(severity_style(finding.severity), "^");
            writeln!(
                out,
                "      {} {pad}{caret}",
                painter.paint(DIM, &format!("{gutter} |"))
            )?;
        }
    }
    writeln!(out, "      help: {}", finding.remediation)
}

/// Whitespace as wide as the first `column - 1` characters of `line`, keeping tabs so the caret
/// lines up however the terminal expands them; `None` when the column is unknown or past the end.
fn caret_padding(line: &str, column: u32) -> Option<String> {
    let before = usize::try_from(column.checked_sub(1)?).ok()?;
    if before > line.chars().count() {
        return None;
    }
    Some(
        line.chars()
            .take(before)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect(),
    )
}

/// `12 findings (2 critical, 3 high, 7 medium) in 40 objects from 7 files; 1 input error`.
fn summary_line(summary: &Summary) -> String {
    let mut line = plural(summary.findings, "finding");
    let counts: Vec<String> = Severity::ALL
        .iter()
        .zip(summary.by_severity)
        .filter(|(_, count)| *count > 0)
        .map(|(severity, count)| format!("{count} {severity}"))
        .collect();
    if !counts.is_empty() {
        line.push_str(&format!(" ({})", counts.join(", ")));
    }
    line.push_str(&format!(
        " in {} from {}",
        plural(summary.scope.objects_scanned, "object"),
        plural(summary.scope.files_read, match summary.scope.inputs {
            crate::Inputs::Files => "file",
            crate::Inputs::Lists => "list",
        })
    ));
    if summary.input_errors > 0 {
        line.push_str(&format!(
            "; {}",
            plural(summary.input_errors, "input error")
        ));
    }
    line
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_padding_keeps_tabs_and_rejects_unknown_or_out_of_range_columns() {
        assert_eq!(caret_padding("  key: x", 3).as_deref(), Some("  "));
        assert_eq!(caret_padding("\tkéy: x", 4).as_deref(), Some("\t  "));
        assert_eq!(
            caret_padding("ab", 3).as_deref(),
            Some("  "),
            "just past the end"
        );
        assert_eq!(caret_padding("ab", 4), None);
        assert_eq!(caret_padding("ab", 0), None);
    }

    #[test]
    fn summary_line_lists_only_present_severities_and_pluralizes() {
        let mut summary = Summary {
            scope: crate::Scope {
                files_read: 1,
                objects_scanned: 1,
                rules_evaluated: 3,
                inputs: crate::Inputs::Files,
            },
            findings: 0,
            by_severity: [0; 5],
            input_errors: 0,
            fail_on: None,
            threshold_exceeded: false,
        };
        assert_eq!(summary_line(&summary), "0 findings in 1 object from 1 file");
        summary.findings = 3;
        summary.by_severity = [1, 0, 2, 0, 0];
        summary.input_errors = 2;
        summary.scope.files_read = 7;
        assert_eq!(
            summary_line(&summary),
            "3 findings (1 critical, 2 medium) in 1 object from 7 files; 2 input errors"
        );
        summary.scope.inputs = crate::Inputs::Lists;
        assert_eq!(
            summary_line(&summary),
            "3 findings (1 critical, 2 medium) in 1 object from 7 lists; 2 input errors"
        );
    }
}

//! `--format junit`: JUnit XML for CI test reports (see `docs/formats/junit.md`).
//!
//! One `<testsuite>` per file, one failing `<testcase>` per rule × object with one `<failure>`
//! that lists every finding of that rule on that object, and one `<error>` testcase per input
//! error. Passing rule × object pairs are not listed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use palisade_core::{Finding, InputError, ObjectRef};

use crate::{ScanReport, object_label};

#[derive(Default)]
struct Suite<'a> {
    errors: Vec<&'a InputError>,
    /// Rule × object groups in order of first finding.
    failures: Vec<(&'a str, &'a ObjectRef, Vec<&'a Finding>)>,
}

pub(crate) fn write(report: &ScanReport, out: &mut dyn io::Write) -> io::Result<()> {
    let mut suites: BTreeMap<&str, Suite<'_>> = BTreeMap::new();
    for error in report.errors() {
        suites.entry(&error.file).or_default().errors.push(error);
    }
    for finding in report.findings() {
        let suite = suites.entry(&finding.location.file).or_default();
        let group = suite
            .failures
            .iter_mut()
            .find(|(rule, object, _)| *rule == finding.rule && **object == *finding.object);
        match group {
            Some((_, _, findings)) => findings.push(finding),
            None => suite
                .failures
                .push((finding.rule, &finding.object, vec![finding])),
        }
    }

    let failures: usize = suites.values().map(|suite| suite.failures.len()).sum();
    let errors = report.errors().len();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if suites.is_empty() {
        // Several CI reporters treat a report without a single testcase as a broken run, so a
        // clean scan is one passing testcase.
        xml.push_str(concat!(
            "<testsuites name=\"palisade\" tests=\"1\" failures=\"0\" errors=\"0\">\n",
            "  <testsuite name=\"palisade\" tests=\"1\" failures=\"0\" errors=\"0\">\n",
            "    <testcase name=\"no findings\" classname=\"palisade\"/>\n",
            "  </testsuite>\n",
            "</testsuites>\n",
        ));
        return out.write_all(xml.as_bytes());
    }
    let _ = writeln!(
        xml,
        "<testsuites name=\"palisade\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
        failures + errors
    );
    for (file, suite) in &suites {
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            escape(file, true),
            suite.failures.len() + suite.errors.len(),
            suite.failures.len(),
            suite.errors.len()
        );
        for error in &suite.errors {
            let _ = writeln!(
                xml,
                "    <testcase name=\"input error\" classname=\"palisade\" file=\"{}\">\n      \
                 <error type=\"input-error\" message=\"{}\">{}</error>\n    </testcase>",
                escape(file, true),
                escape(&error.message, true),
                escape(&error.to_string(), false)
            );
        }
        for (rule, object, findings) in &suite.failures {
            write_failure(&mut xml, file, rule, object, findings);
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}

fn write_failure(
    xml: &mut String,
    file: &str,
    rule: &str,
    object: &ObjectRef,
    findings: &[&Finding],
) {
    let severity = findings
        .iter()
        .map(|finding| finding.severity)
        .max()
        .expect("a group is never empty");
    let message = match findings {
        [only] => only.message.to_string(),
        _ => format!("{}: {} findings", findings[0].title, findings.len()),
    };
    let mut body = String::new();
    for finding in findings {
        let location = &finding.location;
        if location.line == 0 {
            let _ = writeln!(
                body,
                "{} {} {}",
                location.file, finding.severity, finding.message
            );
        } else {
            let _ = writeln!(
                body,
                "{}:{}:{} {} {}",
                location.file, location.line, location.column, finding.severity, finding.message
            );
        }
    }
    let _ = write!(body, "remediation: {}", findings[0].remediation);
    let object = object_label(object);
    let _ = writeln!(
        xml,
        "    <testcase name=\"{} on {}\" classname=\"{}\" file=\"{}\">\n      \
         <failure type=\"{severity}\" message=\"{}\">{}</failure>\n    </testcase>",
        escape(rule, true),
        escape(&object, true),
        escape(&object, true),
        escape(file, true),
        escape(&message, true),
        escape(&body, false)
    );
}

/// XML 1.0 escaping for text (`attribute == false`) and double-quoted attribute values.
/// Attributes also encode line breaks and tabs, which parsers would otherwise normalize to
/// spaces; characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become
/// U+FFFD, since not even a character reference may name them.
fn escape(text: &str, attribute: bool) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' if attribute => escaped.push_str("&quot;"),
            '\n' if attribute => escaped.push_str("&#10;"),
            '\t' if attribute => escaped.push_str("&#9;"),
            // A raw CR would be normalized away in text too.
            '\r' => escaped.push_str("&#13;"),
            '\n' | '\t' => escaped.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_through_a_conforming_parser() {
        let nasty = "a&b <c> \"d\" 'e'\nline\ttab\rcr";
        let xml = format!(
            "<r a=\"{}\">{}</r>",
            escape(nasty, true),
            escape(nasty, false)
        );
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().attribute("a"), Some(nasty));
        assert_eq!(doc.root_element().text(), Some(nasty));
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        let escaped = escape("bell\u{7} nul\u{0} \u{ffff}", false);
        assert_eq!(escaped, "bell\u{fffd} nul\u{fffd} \u{fffd}");
        assert!(roxmltree::Document::parse(&format!("<r>{escaped}</r>")).is_ok());
    }
}

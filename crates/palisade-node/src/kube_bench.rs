//! kube-bench's own outputs of a [`NodeReport`], byte for byte: `--json` (Go's `encoding/json` of
//! kube-bench's structs, printed with a newline) and the default text (cmd/common.go's
//! `prettyPrint` and `printSummary`).
//!
//! JSON: `{"Controls":[...],"Totals":{...}}`, or with `--nototals` the bare array; fields in
//! kube-bench's struct order, `detected_version` and `reason` left out when empty, a section
//! whose checks were all filtered out has `"tests":null`, a group's `type` is always `""`
//! (kube-bench rebuilds groups without it); strings escaped as Go escapes them, `<`, `>`, `&`,
//! U+2028 and U+2029 included.

use std::io::{self, Write};

use crate::evaluate::{CheckResult, GroupResult, NodeReport, SectionResult, State, Totals};
use crate::goquote::push_json_string;

/// Writes `report` as `kube-bench --json` prints it.
pub fn write_json(report: &NodeReport, out: &mut dyn Write) -> io::Result<()> {
    let mut text = String::with_capacity(64 * 1024);
    text.push_str("{\"Controls\":");
    push_sections(&mut text, &report.sections);
    let mut counts = String::new();
    push_counts(&mut counts, report.totals, "total_");
    text.push_str(&format!(",\"Totals\":{{{}}}}}\n", &counts[1..]));
    out.write_all(text.as_bytes())
}

/// Writes `report` as `kube-bench --json --nototals` prints it: the sections alone.
pub fn write_json_without_totals(report: &NodeReport, out: &mut dyn Write) -> io::Result<()> {
    let mut text = String::with_capacity(64 * 1024);
    push_sections(&mut text, &report.sections);
    text.push('\n');
    out.write_all(text.as_bytes())
}

/// Go's `null` for an empty slice kube-bench never filled, else the items.
fn push_list<T>(text: &mut String, items: &[T], push: impl Fn(&mut String, &T)) {
    if items.is_empty() {
        text.push_str("null");
        return;
    }
    text.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        push(text, item);
    }
    text.push(']');
}

fn push_sections(text: &mut String, sections: &[SectionResult]) {
    push_list(text, sections, push_section);
}

fn push_field(text: &mut String, name: &str, value: &str) {
    text.push('"');
    text.push_str(name);
    text.push_str("\":");
    push_json_string(text, value);
}

/// `,"<prefix>pass":N,"<prefix>fail":N,"<prefix>warn":N,"<prefix>info":N`.
fn push_counts(text: &mut String, totals: Totals, prefix: &str) {
    for (name, count) in [
        ("pass", totals.pass),
        ("fail", totals.fail),
        ("warn", totals.warn),
        ("info", totals.info),
    ] {
        text.push_str(&format!(",\"{prefix}{name}\":{count}"));
    }
}

fn push_section(text: &mut String, section: &SectionResult) {
    text.push('{');
    push_field(text, "id", &section.id);
    text.push(',');
    push_field(text, "version", &section.version);
    if !section.detected_version.is_empty() {
        text.push(',');
        push_field(text, "detected_version", &section.detected_version);
    }
    text.push(',');
    push_field(text, "text", &section.text);
    text.push(',');
    push_field(text, "node_type", &section.node_type);
    text.push_str(",\"tests\":");
    push_list(text, &section.groups, push_group);
    push_counts(text, section.totals, "total_");
    text.push('}');
}

fn push_group(text: &mut String, group: &GroupResult) {
    text.push('{');
    push_field(text, "section", &group.id);
    text.push_str(",\"type\":\"\"");
    push_counts(text, group.totals, "");
    text.push(',');
    push_field(text, "desc", &group.text);
    text.push_str(",\"results\":[");
    for (index, check) in group.checks.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        push_check(text, check);
    }
    text.push_str("]}");
}

fn push_check(text: &mut String, check: &CheckResult) {
    text.push('{');
    push_field(text, "test_number", &check.id);
    for (name, value) in [
        ("test_desc", &check.text),
        ("audit", &check.audit),
        ("AuditEnv", &check.audit_env),
        ("AuditConfig", &check.audit_config),
        ("type", &check.kind),
        ("remediation", &check.remediation),
    ] {
        text.push(',');
        push_field(text, name, value);
    }
    text.push_str(",\"test_info\":");
    push_list(text, &check.test_info, |text, info| {
        push_json_string(text, info)
    });
    text.push(',');
    push_field(text, "status", check.state.as_str());
    text.push(',');
    push_field(text, "actual_value", &check.actual_value);
    text.push_str(&format!(
        ",\"scored\":{},\"IsMultiple\":{},",
        check.scored, check.is_multiple
    ));
    push_field(text, "expected_result", &check.expected_result);
    if !check.reason.is_empty() {
        text.push(',');
        push_field(text, "reason", &check.reason);
    }
    text.push('}');
}

/// What kube-bench's text output leaves out or adds: its `--include-test-output`,
/// `--noresults`, `--noremediations`, `--nosummary` and `--nototals`, and colour (kube-bench
/// colours only a terminal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Print the output of each FAIL check below it.
    pub include_test_output: bool,
    pub no_results: bool,
    pub no_remediations: bool,
    pub no_summary: bool,
    pub no_totals: bool,
    /// ANSI colours as kube-bench's: green PASS, red FAIL, yellow WARN, blue INFO.
    pub color: bool,
}

/// Writes `report` as kube-bench's default text output.
pub fn write_text(
    report: &NodeReport,
    out: &mut dyn Write,
    options: &TextOptions,
) -> io::Result<()> {
    let mut text = String::with_capacity(32 * 1024);
    let painter = Painter {
        color: options.color,
    };
    for section in &report.sections {
        push_section_text(&mut text, section, options, painter);
    }
    if !options.no_totals {
        push_summary(&mut text, report.totals, "total", painter);
    }
    out.write_all(text.as_bytes())
}

/// fatih/color as kube-bench uses it: the whole printed piece between the colour's escape and
/// the reset.
#[derive(Clone, Copy)]
struct Painter {
    color: bool,
}

impl Painter {
    fn paint(self, text: &mut String, state: State, piece: &str) {
        if !self.color {
            text.push_str(piece);
            return;
        }
        let code = match state {
            State::Pass => 32,
            State::Fail => 31,
            State::Warn => 33,
            State::Info => 34,
        };
        text.push_str(&format!("\x1b[{code}m{piece}\x1b[0m"));
    }

    /// `[STATE] ` in the state's colour, then `line` plain.
    fn line(self, text: &mut String, state: State, line: &str) {
        self.paint(text, state, &format!("[{}] ", state.as_str()));
        text.push_str(line);
        text.push('\n');
    }
}

fn checks(section: &SectionResult) -> impl Iterator<Item = &CheckResult> {
    section.groups.iter().flat_map(|group| &group.checks)
}

fn push_section_text(
    text: &mut String,
    section: &SectionResult,
    options: &TextOptions,
    painter: Painter,
) {
    if !options.no_results {
        painter.line(
            text,
            State::Info,
            &format!("{} {}", section.id, section.text),
        );
        for group in &section.groups {
            painter.line(text, State::Info, &format!("{} {}", group.id, group.text));
            for check in &group.checks {
                painter.line(text, check.state, &format!("{} {}", check.id, check.text));
                if options.include_test_output
                    && check.state == State::Fail
                    && !check.actual_value.is_empty()
                {
                    for row in check.actual_value.split('\n') {
                        text.push_str(&format!("\t {row}\n"));
                    }
                }
            }
        }
        text.push('\n');
    }
    if !options.no_remediations && (section.totals.fail > 0 || section.totals.warn > 0) {
        painter.paint(
            text,
            State::Warn,
            &format!("== Remediations {} ==\n", section.node_type),
        );
        for check in checks(section) {
            match check.state {
                State::Warn if !check.reason.is_empty() && check.kind != "manual" => {
                    text.push_str(&format!(
                        "{} audit test did not run: {}\n",
                        check.id, check.reason
                    ));
                }
                State::Fail | State::Warn => {
                    text.push_str(&format!("{} {}\n", check.id, check.remediation))
                }
                State::Pass | State::Info => {}
            }
        }
        text.push('\n');
    }
    if !options.no_summary {
        push_summary(text, section.totals, &section.node_type, painter);
    }
}

/// `== Summary <name> ==` in the colour of the worst state, then the four counts.
fn push_summary(text: &mut String, totals: Totals, name: &str, painter: Painter) {
    let worst = if totals.fail > 0 {
        State::Fail
    } else if totals.warn > 0 {
        State::Warn
    } else {
        State::Pass
    };
    painter.paint(text, worst, &format!("== Summary {name} ==\n"));
    text.push_str(&format!(
        "{} checks PASS\n{} checks FAIL\n{} checks WARN\n{} checks INFO\n\n",
        totals.pass, totals.fail, totals.warn, totals.info
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NodeReport {
        let fail = CheckResult {
            id: "1.1.1".into(),
            text: "Ensure <x> & y".into(),
            audit: "stat -c permissions=%a /etc/a".into(),
            audit_env: String::new(),
            audit_config: "cat /etc/b".into(),
            kind: String::new(),
            remediation: "chmod 600 /etc/a\n".into(),
            test_info: vec!["chmod 600 /etc/a\n".into()],
            state: State::Fail,
            actual_value: "permissions=644".into(),
            scored: true,
            is_multiple: false,
            expected_result: "permissions has permissions 644, expected 600 or more restrictive"
                .into(),
            reason: String::new(),
        };
        let warn = CheckResult {
            id: "1.1.2".into(),
            text: "tab\there \u{2028} é \"q\" \\".into(),
            audit: "ls".into(),
            audit_env: "cat env".into(),
            audit_config: String::new(),
            kind: "manual".into(),
            remediation: "r".into(),
            test_info: vec!["r".into()],
            state: State::Warn,
            actual_value: String::new(),
            scored: false,
            is_multiple: true,
            expected_result: String::new(),
            reason: "Test marked as a manual test\u{1}".into(),
        };
        let totals = Totals {
            pass: 0,
            fail: 1,
            warn: 1,
            info: 0,
        };
        let master = SectionResult {
            id: "1".into(),
            version: "cis-1.12".into(),
            detected_version: "1.32".into(),
            text: "Control Plane".into(),
            node_type: "master".into(),
            groups: vec![GroupResult {
                id: "1.1".into(),
                kind: "skip".into(),
                text: "Files".into(),
                totals,
                checks: vec![fail, warn],
            }],
            totals,
        };
        let node = SectionResult {
            id: "4".into(),
            version: "cis-1.12".into(),
            detected_version: String::new(),
            text: "Worker".into(),
            node_type: "node".into(),
            groups: Vec::new(),
            totals: Totals::default(),
        };
        NodeReport {
            node: "n".into(),
            benchmark: "cis-1.12".into(),
            sections: vec![master, node],
            totals,
        }
    }

    fn written(
        write: impl Fn(&NodeReport, &mut dyn Write) -> io::Result<()>,
        report: &NodeReport,
    ) -> String {
        let mut out = Vec::new();
        write(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// What Go's encoding/json wrote for kube-bench's structs holding the same values.
    const GO_JSON: &str = concat!(
        r#"{"Controls":[{"id":"1","version":"cis-1.12","detected_version":"1.32","text":"Control Plan"#,
        r#"e","node_type":"master","tests":[{"section":"1.1","type":"","pass":0,"fail":1,"warn":1,"in"#,
        r#"fo":0,"desc":"Files","results":[{"test_number":"1.1.1","test_desc":"Ensure \u003cx\u003e \"#,
        r#"u0026 y","audit":"stat -c permissions=%a /etc/a","AuditEnv":"","AuditConfig":"cat /etc/b","#,
        r#""type":"","remediation":"chmod 600 /etc/a\n","test_info":["chmod 600 /etc/a\n"],"status":""#,
        r#"FAIL","actual_value":"permissions=644","scored":true,"IsMultiple":false,"expected_result":"#,
        r#""permissions has permissions 644, expected 600 or more restrictive"},{"test_number":"1.1.2"#,
        r#"","test_desc":"tab\there \u2028 é \"q\" \\","audit":"ls","AuditEnv":"cat env","AuditConfig"#,
        r#"":"","type":"manual","remediation":"r","test_info":["r"],"status":"WARN","actual_value":"""#,
        r#","scored":false,"IsMultiple":true,"expected_result":"","reason":"Test marked as a manual t"#,
        r#"est\u0001"}]}],"total_pass":0,"total_fail":1,"total_warn":1,"total_info":0},{"id":"4","ver"#,
        r#"sion":"cis-1.12","text":"Worker","node_type":"node","tests":null,"total_pass":0,"total_fai"#,
        r#"l":0,"total_warn":0,"total_info":0}],"Totals":{"total_pass":0,"total_fail":1,"total_warn":"#,
        r#"1,"total_info":0}}"#,
    );

    #[test]
    fn json_is_go_encoding_json_of_kube_bench_structs() {
        assert_eq!(written(write_json, &sample()), format!("{GO_JSON}\n"));
    }

    #[test]
    fn json_without_totals_is_the_bare_array() {
        let bare = concat!(
            r#"[{"id":"1","version":"cis-1.12","detected_version":"1.32","text":"Control Plane","node_typ"#,
            r#"e":"master","tests":[{"section":"1.1","type":"","pass":0,"fail":1,"warn":1,"info":0,"desc""#,
            r#":"Files","results":[{"test_number":"1.1.1","test_desc":"Ensure \u003cx\u003e \u0026 y","au"#,
            r#"dit":"stat -c permissions=%a /etc/a","AuditEnv":"","AuditConfig":"cat /etc/b","type":"","r"#,
            r#"emediation":"chmod 600 /etc/a\n","test_info":["chmod 600 /etc/a\n"],"status":"FAIL","actua"#,
            r#"l_value":"permissions=644","scored":true,"IsMultiple":false,"expected_result":"permissions"#,
            r#" has permissions 644, expected 600 or more restrictive"},{"test_number":"1.1.2","test_desc"#,
            r#"":"tab\there \u2028 é \"q\" \\","audit":"ls","AuditEnv":"cat env","AuditConfig":"","type":"#,
            r#""manual","remediation":"r","test_info":["r"],"status":"WARN","actual_value":"","scored":fa"#,
            r#"lse,"IsMultiple":true,"expected_result":"","reason":"Test marked as a manual test\u0001"}]"#,
            r#"}],"total_pass":0,"total_fail":1,"total_warn":1,"total_info":0},{"id":"4","version":"cis-1"#,
            r#".12","text":"Worker","node_type":"node","tests":null,"total_pass":0,"total_fail":0,"total_"#,
            r#"warn":0,"total_info":0}]"#,
        );
        assert_eq!(
            written(write_json_without_totals, &sample()),
            format!("{bare}\n")
        );
    }

    #[test]
    fn json_of_no_sections_is_null() {
        let empty = NodeReport {
            node: String::new(),
            benchmark: String::new(),
            sections: Vec::new(),
            totals: Totals::default(),
        };
        assert_eq!(
            written(write_json, &empty),
            "{\"Controls\":null,\"Totals\":{\"total_pass\":0,\"total_fail\":0,\"total_warn\":0,\"total_info\":0}}\n"
        );
    }
    fn text(report: &NodeReport, options: TextOptions) -> String {
        let mut out = Vec::new();
        write_text(report, &mut out, &options).unwrap();
        String::from_utf8(out).unwrap()
    }

    const SUMMARY_MASTER: &str =
        "== Summary master ==\n0 checks PASS\n1 checks FAIL\n1 checks WARN\n0 checks INFO\n\n";
    const SUMMARY_NODE: &str =
        "== Summary node ==\n0 checks PASS\n0 checks FAIL\n0 checks WARN\n0 checks INFO\n\n";
    const SUMMARY_TOTAL: &str =
        "== Summary total ==\n0 checks PASS\n1 checks FAIL\n1 checks WARN\n0 checks INFO\n\n";

    #[test]
    fn text_lists_results_remediations_and_summaries_per_section_then_totals() {
        let expected = [
            "[INFO] 1 Control Plane\n",
            "[INFO] 1.1 Files\n",
            "[FAIL] 1.1.1 Ensure <x> & y\n",
            "[WARN] 1.1.2 tab\there \u{2028} é \"q\" \\\n",
            "\n",
            "== Remediations master ==\n",
            "1.1.1 chmod 600 /etc/a\n\n",
            "1.1.2 r\n",
            "\n",
            SUMMARY_MASTER,
            "[INFO] 4 Worker\n",
            "\n",
            SUMMARY_NODE,
            SUMMARY_TOTAL,
        ]
        .concat();
        assert_eq!(text(&sample(), TextOptions::default()), expected);
    }

    #[test]
    fn a_warning_with_a_reason_shows_the_reason_unless_manual() {
        let mut report = sample();
        let check = &mut report.sections[0].groups[0].checks[1];
        check.kind = String::new();
        check.reason = "failed to run: \"ls\", output: \"\", error: exit status 2".into();
        let printed = text(&report, TextOptions::default());
        assert!(printed.contains("\n1.1.2 audit test did not run: failed to run: \"ls\", output: \"\", error: exit status 2\n"), "{printed}");
        assert!(!printed.contains("1.1.2 r\n"));
    }

    #[test]
    fn test_output_follows_failed_checks_line_by_line() {
        let mut report = sample();
        report.sections[0].groups[0].checks[0].actual_value =
            "permissions=644\npermissions=600".into();
        let printed = text(
            &report,
            TextOptions {
                include_test_output: true,
                ..TextOptions::default()
            },
        );
        assert!(
            printed.contains(
                "[FAIL] 1.1.1 Ensure <x> & y\n\t permissions=644\n\t permissions=600\n[WARN] 1.1.2"
            ),
            "{printed}"
        );
        // Only failed checks, and only with output.
        report.sections[0].groups[0].checks[0].actual_value.clear();
        let printed = text(
            &report,
            TextOptions {
                include_test_output: true,
                ..TextOptions::default()
            },
        );
        assert!(printed.contains("[FAIL] 1.1.1 Ensure <x> & y\n[WARN]"));
    }

    #[test]
    fn parts_can_be_left_out() {
        let quiet = TextOptions {
            no_results: true,
            no_remediations: true,
            no_summary: true,
            ..TextOptions::default()
        };
        assert_eq!(text(&sample(), quiet), SUMMARY_TOTAL);
        let no_totals = text(
            &sample(),
            TextOptions {
                no_totals: true,
                ..TextOptions::default()
            },
        );
        assert!(no_totals.ends_with(SUMMARY_NODE));
        let summaries_only = TextOptions {
            no_results: true,
            no_remediations: true,
            no_totals: true,
            ..TextOptions::default()
        };
        assert_eq!(
            text(&sample(), summaries_only),
            [SUMMARY_MASTER, SUMMARY_NODE].concat()
        );
    }

    #[test]
    fn colour_wraps_the_state_tag_and_headers_as_fatih_color_does() {
        let coloured = text(
            &sample(),
            TextOptions {
                color: true,
                ..TextOptions::default()
            },
        );
        assert!(coloured.starts_with(
            "\x1b[34m[INFO] \x1b[0m1 Control Plane\n\x1b[34m[INFO] \x1b[0m1.1 Files\n"
        ));
        assert!(coloured.contains("\x1b[31m[FAIL] \x1b[0m1.1.1 Ensure"));
        assert!(coloured.contains("\x1b[33m[WARN] \x1b[0m1.1.2 tab"));
        assert!(coloured.contains("\x1b[33m== Remediations master ==\n\x1b[0m1.1.1 chmod"));
        assert!(coloured.contains("\x1b[31m== Summary master ==\n\x1b[0m0 checks PASS\n"));
        assert!(coloured.contains("\x1b[32m== Summary node ==\n\x1b[0m"));
        assert!(coloured.contains("\x1b[31m== Summary total ==\n\x1b[0m"));
        let mut passing = sample();
        passing.sections[0].groups[0].checks[0].state = State::Pass;
        let printed = text(
            &passing,
            TextOptions {
                color: true,
                ..TextOptions::default()
            },
        );
        assert!(printed.contains("\x1b[32m[PASS] \x1b[0m1.1.1"));
    }
}

//! Every format over one hand-built report: snapshots, byte stability, structure checks, and
//! SARIF validation against the official 2.1.0 schema.

use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::sync::Arc;

use palisade_core::{
    Control, Finding, Framework, InputError, Location, ObjectRef, RuleMeta, Severity,
};
use palisade_report::{
    Compliance, ControlResult, ControlStatus, ExceptionNote, Exceptions, Format, NoteKind, ScanReport,
    Scope, SourceLines, Suppressed, WriteOptions, write,
};
use serde_json::Value;

static PRIVILEGED: RuleMeta = RuleMeta {
    id: "pss/privileged",
    title: "Privileged container",
    severity: Severity::Critical,
    doc: "## What it does\n\nFlags containers that run privileged.\n\n## How to fix\n\nDrop the flag.\n",
    remediation: "Set `securityContext.privileged` to false.",
    controls: &[
        Control::new(Framework::Pss, "privileged"),
        Control::new(Framework::Cis, "5.2.1"),
    ],
};

static LATEST: RuleMeta = RuleMeta {
    id: "workload/image-tag-latest",
    title: "Image uses the latest tag",
    severity: Severity::Medium,
    doc: "## What it does\n\nFlags images without a pinned tag.\n",
    remediation: "Pin the image to a digest.",
    controls: &[],
};

static WILDCARD: RuleMeta = RuleMeta {
    id: "rbac/wildcard-verbs",
    title: "Role grants every verb",
    severity: Severity::High,
    doc: "",
    remediation: "List the verbs the subject needs.",
    controls: &[Control::new(Framework::Mitre, "T1078")],
};

/// A rule whose metadata the writers are not given (see `METAS`).
static TEAM_LABEL: RuleMeta = RuleMeta {
    id: "policy/require-team-label",
    title: "Objects carry a team label",
    severity: Severity::Low,
    doc: "",
    remediation: "Add a `team` label.",
    controls: &[],
};

/// Rules evaluated in the scan; `policy/require-team-label` is missing, so SARIF must describe
/// it from its findings.
const METAS: [&RuleMeta; 3] = [&PRIVILEGED, &LATEST, &WILDCARD];

fn object(kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        api_version: if kind == "ClusterRole" {
            "rbac.authorization.k8s.io/v1"
        } else {
            "apps/v1"
        }
        .to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
    }
}

fn finding(
    meta: &'static RuleMeta,
    object: ObjectRef,
    file: &str,
    (line, column): (u32, u32),
    path: &str,
    message: &str,
) -> Finding {
    Finding {
        rule: meta.id,
        severity: meta.severity,
        title: meta.title,
        message: message.into(),
        object: object.into(),
        location: Location {
            file: Arc::from(file),
            line,
            column,
            path: path.into(),
        },
        remediation: meta.remediation,
        controls: meta.controls,
        vulnerability: None,
        secret: None,
    }
}

fn findings() -> Vec<Finding> {
    let web = object("Deployment", Some("prod"), "web");
    let api = object("Deployment", Some("prod"), "api");
    let admin = object("ClusterRole", None, "admin-ish");
    let policy = finding(
        &TEAM_LABEL,
        web.clone(),
        "deploy/web.yaml",
        (0, 0),
        "/metadata/labels",
        "label `team` is missing",
    );
    vec![
        finding(
            &PRIVILEGED,
            web.clone(),
            "deploy/web.yaml",
            (21, 13),
            "/spec/template/spec/containers/0/securityContext/privileged",
            "container \"app\" runs privileged",
        ),
        finding(
            &PRIVILEGED,
            web.clone(),
            "deploy/web.yaml",
            (30, 13),
            "/spec/template/spec/initContainers/0/securityContext/privileged",
            "init container \"setup\" runs privileged",
        ),
        finding(
            &LATEST,
            web,
            "deploy/web.yaml",
            (18, 16),
            "/spec/template/spec/containers/0/image",
            "image `nginx:latest` uses the latest tag",
        ),
        finding(
            &LATEST,
            api,
            "deploy/web.yaml",
            (52, 16),
            "/spec/template/spec/containers/0/image",
            "image `api` has no tag <& \"quotes\">",
        ),
        finding(
            &WILDCARD,
            admin,
            "rbac/roles.yaml",
            (9, 5),
            "/rules/0/verbs",
            "rule 0 grants verbs `*`",
        ),
        policy,
    ]
}

fn errors() -> Vec<InputError> {
    vec![
        InputError {
            file: Arc::from("broken.yaml"),
            line: 3,
            column: 5,
            message: "mapping values are not allowed here".to_owned(),
        },
        InputError {
            file: Arc::from("unreadable.yaml"),
            line: 0,
            column: 0,
            message: "permission denied".to_owned(),
        },
    ]
}

const SCOPE: Scope = Scope {
    files_read: 4,
    objects_scanned: 5,
    rules_evaluated: 4,
    inputs: palisade_report::Inputs::Files,
};

fn report() -> ScanReport {
    ScanReport::new(findings(), errors(), SCOPE, Some(Severity::High))
}

fn render(report: &ScanReport, format: Format, options: &WriteOptions<'_>) -> String {
    let mut out = Vec::new();
    write(report, format, &METAS, &mut out, options).unwrap();
    String::from_utf8(out).unwrap()
}

fn plain(format: Format) -> String {
    render(&report(), format, &WriteOptions::default())
}

#[test]
fn text_snapshot() {
    insta::assert_snapshot!("text", plain(Format::Text));
}

#[test]
fn text_with_source_snippets_puts_the_caret_under_the_column() {
    let lines: HashMap<(&str, u32), &str> = HashMap::from([
        (("deploy/web.yaml", 21), "            privileged: true\n"),
        (("deploy/web.yaml", 18), "          image: nginx:latest"),
        (("rbac/roles.yaml", 9), "\t\t\t\t- \"*\""),
    ]);
    let source = |file: &str, line: u32| lines.get(&(file, line)).map(|text| text.to_string());
    let options = WriteOptions {
        color: false,
        source: Some(&source as &dyn SourceLines),
        ..WriteOptions::default()
    };
    let text = render(&report(), Format::Text, &options);
    assert!(
        text.contains("      21 |             privileged: true\n         |             ^\n"),
        "{text}"
    );
    assert!(
        text.contains("      9 | \t\t\t\t- \"*\"\n        | \t\t\t\t^\n"),
        "{text}"
    );
    insta::assert_snapshot!("text_with_source", text);
}

#[test]
fn text_is_coloured_only_when_asked() {
    assert!(!plain(Format::Text).contains('\x1b'));
    let coloured = render(
        &report(),
        Format::Text,
        &WriteOptions {
            color: true,
            ..WriteOptions::default()
        },
    );
    assert!(coloured.contains("\x1b[1;35mcritical\x1b[0m"));
    assert!(coloured.contains("\x1b[31mfailed: 3 findings at or above high\x1b[0m"));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!("json", plain(Format::Json));
}

/// The optional sections, suppressed findings written with their exception, and strings that
/// need escaping: the JSON writer renders findings itself, so its bytes are pinned here.
#[test]
fn json_with_sections_snapshot() {
    let mut kept = findings();
    let suppressed = kept.remove(0);
    kept[0].message = "tab\t, quote \", backslash \\, nul \u{0}, del \u{7f}, unicode é ✓ 🦀".into();
    let report = ScanReport::new(kept, Vec::new(), SCOPE, None)
        .with_compliance(Compliance {
            framework: Framework::Cis,
            controls: vec![ControlResult {
                id: "5.2.1".to_owned(),
                status: ControlStatus::Passed,
                rules_evaluated: vec!["pss/privileged".to_owned()],
                rules_not_evaluated: Vec::new(),
                findings: 0,
            }],
        })
        .with_exceptions(Exceptions {
            suppressed: vec![Suppressed {
                finding: suppressed,
                source: "config .palisade.yaml:3".to_owned(),
                reason: "accepted \"risk\"".to_owned(),
            }],
            notes: vec![ExceptionNote {
                kind: NoteKind::Unused,
                source: "config .palisade.yaml:9".to_owned(),
                message: "matched no finding".to_owned(),
            }],
        });
    insta::assert_snapshot!("json_sections", render(&report, Format::Json, &WriteOptions::default()));
}

#[test]
fn json_of_an_empty_scan_snapshot() {
    let report = ScanReport::new(Vec::new(), Vec::new(), SCOPE, None)
        .with_exceptions(Exceptions::default());
    insta::assert_snapshot!("json_empty", render(&report, Format::Json, &WriteOptions::default()));
}

#[test]
fn json_has_the_documented_shape() {
    let json: Value = serde_json::from_str(&plain(Format::Json)).unwrap();
    let keys = |value: &Value| {
        value
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&json), ["findings", "errors", "summary"]);
    let first = &json["findings"][0];
    assert_eq!(
        keys(first),
        [
            "rule",
            "severity",
            "title",
            "message",
            "object",
            "location",
            "remediation",
            "controls"
        ]
    );
    assert_eq!(
        keys(&first["object"]),
        ["apiVersion", "kind", "namespace", "name"]
    );
    assert_eq!(keys(&first["location"]), ["file", "line", "column", "path"]);
    let cluster_scoped = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["object"]["kind"] == "ClusterRole");
    assert_eq!(cluster_scoped.unwrap()["object"]["namespace"], Value::Null);
    assert_eq!(
        json["errors"][0],
        serde_json::json!({"file": "broken.yaml", "line": 3, "column": 5, "message": "mapping values are not allowed here"})
    );
    let summary = &json["summary"];
    assert_eq!(summary["findings"], 6);
    assert_eq!(
        summary["by_severity"],
        serde_json::json!({"critical": 2, "high": 1, "medium": 2, "low": 1, "info": 0})
    );
    assert_eq!(
        (
            summary["fail_on"].as_str(),
            summary["threshold_exceeded"].as_bool()
        ),
        (Some("high"), Some(true))
    );
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!("sarif", plain(Format::Sarif));
}

#[test]
fn sarif_results_point_at_their_rule_and_position() {
    let sarif: Value = serde_json::from_str(&plain(Format::Sarif)).unwrap();
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "policy/require-team-label",
            "pss/privileged",
            "rbac/wildcard-verbs",
            "workload/image-tag-latest"
        ]
    );
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    let privileged = &rules[1];
    assert_eq!(privileged["properties"]["security-severity"], "9.5");
    assert_eq!(privileged["defaultConfiguration"]["level"], "error");
    assert_eq!(
        privileged["fullDescription"]["text"],
        "Flags containers that run privileged."
    );
    assert_eq!(
        privileged["help"]["markdown"],
        palisade_report::render_rule_doc(&PRIVILEGED)
    );
    assert_eq!(
        privileged["properties"]["tags"],
        serde_json::json!([
            "security",
            "kubernetes",
            "pss",
            "pss:privileged",
            "cis:5.2.1"
        ])
    );
    let unknown_position = &run["results"][0];
    assert_eq!(unknown_position["ruleId"], "policy/require-team-label");
    assert_eq!(
        unknown_position["locations"][0]["physicalLocation"],
        serde_json::json!({"artifactLocation": {"uri": "deploy/web.yaml"}})
    );
    let located = &run["results"][2]["locations"][0];
    assert_eq!(
        located["physicalLocation"]["region"],
        serde_json::json!({"startLine": 21, "startColumn": 13})
    );
    assert_eq!(
        located["logicalLocations"][0]["fullyQualifiedName"],
        "Deployment/prod/web"
    );
    let notifications = &run["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notifications.as_array().unwrap().len(), 2);
    assert_eq!(
        notifications[1]["locations"][0]["physicalLocation"],
        serde_json::json!({"artifactLocation": {"uri": "unreadable.yaml"}})
    );
}

/// Validates against the schema that `PALISADE_SARIF_SCHEMA` names (installed by `.ci/run`, not
/// committed). Skipping loudly keeps local runs offline-friendly; CI must never skip.
#[test]
fn sarif_is_valid_against_the_official_schema() {
    let Some(path) = std::env::var_os("PALISADE_SARIF_SCHEMA")
        .filter(|path| std::path::Path::new(path).is_file())
    else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "PALISADE_SARIF_SCHEMA must name sarif-2.1.0 schema file in CI"
        );
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED sarif_is_valid_against_the_official_schema: set PALISADE_SARIF_SCHEMA to the SARIF 2.1.0 schema file"
        );
        return;
    };
    let mut schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    escape_lone_bracket_in_language_patterns(&mut schema);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let empty = ScanReport::new(Vec::new(), Vec::new(), Scope::default(), None);
    let vulnerable = ScanReport::new(vec![vulnerability_finding()], Vec::new(), SCOPE, None);
    for (name, report) in [("full", report()), ("empty", empty), ("vulnerability", vulnerable)] {
        let mut out = Vec::new();
        write(
            &report,
            Format::Sarif,
            &METAS,
            &mut out,
            &WriteOptions::default(),
        )
        .unwrap();
        let sarif: Value = serde_json::from_slice(&out).unwrap();
        let problems: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            problems.is_empty(),
            "{name} report is not valid SARIF 2.1.0:\n{}",
            problems.join("\n")
        );
    }
    // The validator really checks, down through `$ref`s: a result level SARIF lacks is rejected.
    let mut broken: Value = serde_json::from_str(&plain(Format::Sarif)).unwrap();
    broken["runs"][0]["results"][0]["level"] = Value::from("critical");
    assert!(!validator.is_valid(&broken));
}

static ADVISORY: RuleMeta = RuleMeta {
    id: "vuln/GHSA-jfh8-c2jp-5v3q",
    title: "Remote code injection in Log4j",
    severity: Severity::Critical,
    doc: "",
    remediation: "Upgrade the package to a fixed version.",
    controls: &[],
};

fn vulnerability_finding() -> Finding {
    let mut found = finding(
        &ADVISORY,
        ObjectRef { api_version: "".into(), kind: "Image".into(), namespace: None, name: "registry.example/shop:1".into() },
        "/app/lib/log4j-core-2.14.1.jar",
        (0, 0),
        "",
        "log4j-core 2.14.1 is affected by GHSA-jfh8-c2jp-5v3q (CVE-2021-44228); fixed in 2.15.0",
    );
    found.vulnerability = Some(Arc::new(palisade_core::Vulnerability {
        id: "GHSA-jfh8-c2jp-5v3q".into(),
        aliases: vec!["CVE-2021-44228".into()],
        summary: "Remote code injection in Log4j".into(),
        package: palisade_core::VulnerablePackage {
            name: "org.apache.logging.log4j:log4j-core".into(),
            version: "2.14.1".into(),
            ecosystem: "Maven".into(),
            purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1".into(),
            source: None,
            path: "/app/lib/log4j-core-2.14.1.jar".into(),
            layer: Some("sha256:0123".into()),
        },
        fixed_versions: vec!["2.15.0".into()],
        score: Some(100),
        vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into()),
        severity_source: Some("cvss-v3".into()),
        url: Some("https://github.com/advisories/GHSA-jfh8-c2jp-5v3q".into()),
    }));
    found
}

#[test]
fn vulnerability_facts_reach_json_and_sarif() {
    let report = ScanReport::new(vec![vulnerability_finding()], Vec::new(), SCOPE, None);
    let json: Value = serde_json::from_str(&render(&report, Format::Json, &WriteOptions::default())).unwrap();
    let facts = &json["findings"][0]["vulnerability"];
    assert_eq!(facts["id"], "GHSA-jfh8-c2jp-5v3q");
    assert_eq!(facts["aliases"][0], "CVE-2021-44228");
    assert_eq!(facts["package"]["ecosystem"], "Maven");
    assert_eq!(facts["package"]["path"], "/app/lib/log4j-core-2.14.1.jar");
    assert_eq!(facts["fixed_versions"][0], "2.15.0");
    assert_eq!(facts["score"], 10.0);
    // Laid out as the rest of the document: the key after `location`, indented with it.
    let text = render(&report, Format::Json, &WriteOptions::default());
    assert!(text.contains("\n      },\n      \"vulnerability\": {\n        \"id\": \"GHSA-jfh8-c2jp-5v3q\","), "{text}");
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif, &WriteOptions::default())).unwrap();
    let properties = &sarif["runs"][0]["results"][0]["properties"];
    assert_eq!(properties["security-severity"], "10.0");
    assert_eq!(properties["vulnerability"]["package"]["purl"], "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
}

/// The official schema's `language` patterns have a lone `]`, which ECMA-262 regexes (Annex B)
/// read as a literal but the validator's dialect rejects while checking the schema itself;
/// escaping it keeps the patterns' meaning.
fn escape_lone_bracket_in_language_patterns(schema: &mut Value) {
    const PUBLISHED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match schema {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "pattern" && value == PUBLISHED {
                    *value = Value::from(r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$");
                } else {
                    escape_lone_bracket_in_language_patterns(value);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(escape_lone_bracket_in_language_patterns),
        _ => {}
    }
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!("junit", plain(Format::Junit));
}

#[test]
fn junit_groups_failures_by_file_and_rule_per_object() {
    let xml = plain(Format::Junit);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(
        (
            root.attribute("tests"),
            root.attribute("failures"),
            root.attribute("errors")
        ),
        (Some("7"), Some("5"), Some("2"))
    );
    let suites: Vec<&str> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(
        suites,
        [
            "broken.yaml",
            "deploy/web.yaml",
            "rbac/roles.yaml",
            "unreadable.yaml"
        ]
    );
    let privileged = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("pss/privileged on Deployment/prod/web"))
        .unwrap();
    let failure = privileged
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("critical"));
    assert_eq!(
        failure.attribute("message"),
        Some("Privileged container: 2 findings")
    );
    assert_eq!(
        failure.text(),
        Some(
            "deploy/web.yaml:21:13 critical container \"app\" runs privileged\n\
              deploy/web.yaml:30:13 critical init container \"setup\" runs privileged\n\
              remediation: Set `securityContext.privileged` to false."
        )
    );
    let escaped = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("workload/image-tag-latest on Deployment/prod/api"))
        .unwrap();
    assert_eq!(
        escaped.first_element_child().unwrap().attribute("message"),
        Some("image `api` has no tag <& \"quotes\">")
    );
    let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
    assert_eq!(
        error.text(),
        Some("broken.yaml:3:5: mapping values are not allowed here")
    );
}

#[test]
fn junit_of_a_clean_scan_is_one_passing_testcase() {
    let clean = ScanReport::new(Vec::new(), Vec::new(), SCOPE, Some(Severity::High));
    let xml = render(&clean, Format::Junit, &WriteOptions::default());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 1);
    assert!(!cases[0].has_children());
}

#[test]
fn threshold_is_exceeded_only_by_findings_at_or_above_fail_on() {
    let low_only: Vec<Finding> = findings()
        .into_iter()
        .filter(|f| f.severity == Severity::Low)
        .collect();
    let exceeded = |fail_on| {
        ScanReport::new(low_only.clone(), Vec::new(), SCOPE, fail_on)
            .summary()
            .threshold_exceeded
    };
    assert!(exceeded(Some(Severity::Low)));
    assert!(!exceeded(Some(Severity::Medium)));
    assert!(!exceeded(None), "--fail-on never");
}

#[test]
fn the_text_verdict_says_passed_only_when_everything_was_read() {
    let verdict = |errors: Vec<InputError>| {
        let clean = ScanReport::new(Vec::new(), errors, SCOPE, Some(Severity::Medium));
        render(&clean, Format::Text, &WriteOptions::default()).lines().last().unwrap_or_default().to_owned()
    };
    assert_eq!(verdict(Vec::new()), "fail-on medium: passed: no findings at or above medium");
    assert_eq!(verdict(errors()), "fail-on medium: no findings at or above medium in what was read; 2 input errors (above)");
}

#[test]
fn output_is_byte_stable_whatever_the_input_order() {
    let mut shuffled = findings();
    shuffled.reverse();
    shuffled.swap(1, 4);
    let mut errors = errors();
    errors.reverse();
    let reordered = ScanReport::new(shuffled, errors, SCOPE, Some(Severity::High));
    for format in Format::ALL {
        let first = plain(format);
        assert_eq!(first, plain(format), "{format} twice");
        assert_eq!(
            first,
            render(&reordered, format, &WriteOptions::default()),
            "{format} shuffled"
        );
    }
}

/// Findings carry no secret values by construction; this guards the writers: every string a
/// machine-readable format emits about a finding or an input error is one of their own fields.
#[test]
fn writers_emit_only_the_fields_of_findings_and_errors() {
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    for f in findings() {
        allowed.extend([
            f.rule.to_string(),
            f.severity.to_string(),
            f.title.to_string(),
            f.message.to_string(),
            f.remediation.to_string(),
        ]);
        allowed.extend([
            f.object.api_version.clone(),
            f.object.kind.clone(),
            f.object.name.clone(),
            f.object.to_string(),
        ]);
        allowed.extend(f.object.namespace.clone());
        allowed.extend([f.location.file.to_string(), f.location.path.to_string()]);
        allowed.extend(
            f.controls
                .iter()
                .flat_map(|c| [c.framework.as_str().to_owned(), c.id.to_string()]),
        );
    }
    for e in errors() {
        allowed.extend([e.file.to_string(), e.message]);
    }
    let strings = |value: &Value| {
        fn walk(value: &Value, into: &mut Vec<String>) {
            match value {
                Value::String(s) => into.push(s.clone()),
                Value::Array(items) => items.iter().for_each(|v| walk(v, into)),
                Value::Object(map) => map.values().for_each(|v| walk(v, into)),
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(value, &mut found);
        found
    };
    let json: Value = serde_json::from_str(&plain(Format::Json)).unwrap();
    let sarif: Value = serde_json::from_str(&plain(Format::Sarif)).unwrap();
    // SARIF's structural vocabulary: levels and the logical location kind.
    let vocabulary = ["error", "warning", "note", "resource"];
    let emitted = [
        &json["findings"],
        &json["errors"],
        &sarif["runs"][0]["results"],
        &sarif["runs"][0]["invocations"],
    ]
    .into_iter()
    .flat_map(strings);
    for string in emitted {
        assert!(
            allowed.contains(&string) || vocabulary.contains(&string.as_str()),
            "unexpected string {string:?}"
        );
    }
}

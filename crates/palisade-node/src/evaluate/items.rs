//! kube-bench's tests of one check (check/test.go and `Check.execute` in check/check.go): each
//! test item looks for its flag in the audit output, else its path in the config output, else
//! its variable in the env output; it passes on presence, absence or a comparison; the items
//! combine with `and` or `or`.

use std::cell::RefCell;
use std::rc::Rc;

use super::compare::{Compared, compare};
use super::{document, goregex};
use crate::controls::{Check, TestItem, Tests};
use crate::jsonpath::{self, Value};

/// The outputs of a check's three audits (empty when there is no such audit).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Outputs<'a> {
    pub audit: &'a str,
    pub config: &'a str,
    pub env: &'a str,
}

/// What the tests of a check concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Concluded {
    pub passed: bool,
    /// The trimmed output the first test item was last evaluated on.
    pub actual: String,
    /// The items' sentences joined with ` AND ` or ` OR `.
    pub expected: String,
    /// kube-bench's error beside the outcome: an unknown `bin_op`.
    pub error: Option<String>,
}

/// Where a test item's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Audit,
    Config,
    Env,
}

#[derive(Clone, Debug, Default)]
struct ItemResult {
    passed: bool,
    found: bool,
    actual: String,
    expected: String,
}

/// Runs the tests of `check` on its audits' outputs. The error is a pattern Go cannot compile
/// (a flag or env name inserted into a regular expression, a `regex` value), on which kube-bench
/// panics and stops the whole run.
pub(super) fn run_tests(
    check: &Check,
    tests: &Tests,
    outputs: Outputs<'_>,
) -> Result<Concluded, String> {
    let multiple = check.use_multiple_values;
    let mut results = Vec::with_capacity(tests.items.len());
    for item in &tests.items {
        let mut result = execute(item, Source::Audit, outputs.audit, multiple)?;
        if !result.found && !check.audit_config.is_empty() && !outputs.config.is_empty() {
            result = execute(item, Source::Config, outputs.config, multiple)?;
        }
        if !result.found && !item.env.is_empty() {
            result = execute(item, Source::Env, outputs.env, multiple)?;
        }
        results.push(result);
    }
    let (passed, separator) = match tests.bin_op.as_str() {
        "and" | "" => (results.iter().all(|result| result.passed), " AND "),
        "or" => (results.iter().any(|result| result.passed), " OR "),
        unknown => {
            return Ok(Concluded {
                passed: false,
                actual: format!("unknown binary operator for tests {unknown}\n"),
                expected: String::new(),
                error: Some(format!("unknown binary operator for tests {unknown}")),
            });
        }
    };
    let expected = results
        .iter()
        .map(|result| result.expected.as_str())
        .collect::<Vec<_>>()
        .join(separator);
    let actual = results
        .first()
        .map(|result| result.actual.clone())
        .unwrap_or_default();
    Ok(Concluded {
        passed,
        actual,
        expected,
        error: None,
    })
}

/// One item on one output: every line of it with `use_multiple_values` (stopping at the first
/// that fails), else the whole output, right-trimmed of spaces and newlines.
fn execute(
    item: &TestItem,
    source: Source,
    output: &str,
    multiple: bool,
) -> Result<ItemResult, String> {
    let trimmed = output.trim_end_matches([' ', '\n']);
    let lines: Vec<&str> = if multiple {
        trimmed.split('\n').collect()
    } else {
        vec![trimmed]
    };
    let mut result = ItemResult::default();
    for line in lines {
        result = evaluate(item, source, line)?;
        if !result.passed {
            break;
        }
    }
    result.actual = trimmed.to_owned();
    Ok(result)
}

fn evaluate(item: &TestItem, source: Source, text: &str) -> Result<ItemResult, String> {
    let found = match source {
        Source::Audit => flag_value(&item.flag, text)?,
        Source::Config => path_value(&item.path, text),
        Source::Env => env_value(&item.env, text)?,
    };
    // kube-bench's failTestItem: a value that could not be looked for fails the item, with no
    // sentence, and counts as not found.
    let Some(found) = found else {
        return Ok(ItemResult::default());
    };
    let name = match source {
        Source::Audit => &item.flag,
        Source::Config => &item.path,
        Source::Env => &item.env,
    };
    let Compared { expected, passed } = match (&found, item.set) {
        (Some(value), true) if !item.compare.op.is_empty() => {
            compare(&item.compare.op, value, &item.compare.value, name)?
        }
        (_, true) => Compared {
            expected: format!("'{name}' is present"),
            passed: found.is_some(),
        },
        (_, false) => Compared {
            expected: format!("'{name}' is not present"),
            passed: found.is_none(),
        },
    };
    Ok(ItemResult {
        passed,
        found: found.is_some(),
        actual: String::new(),
        expected,
    })
}

/// A flag in the audit output: present when it occurs anywhere; its value is what follows it
/// after `=`, `:` or `: `, up to white space, taken from the first match of
/// `(<flag>)(=|: *)*([^\s]*) *`. A present flag with no such value reads `true` when it starts
/// with `--`, else as the flag itself.
///
/// `Ok(None)`: not present; `Ok(Some(None))`: present but kube-bench's regex does not match it
/// (an error there, which fails the item); the error: a flag Go cannot compile.
fn flag_value(flag: &str, text: &str) -> Result<Option<Option<String>>, String> {
    if text.is_empty() || flag.is_empty() || !text.contains(flag) {
        return Ok(Some(None));
    }
    let (matched, value) = if goregex::is_literal(flag) {
        let after = &text[text.find(flag).unwrap_or_default() + flag.len()..];
        let separators = separator_length(after);
        let rest = &after[separators..];
        let end = rest
            .find(['\t', '\n', '\u{c}', '\r', ' '])
            .unwrap_or(rest.len());
        (flag.to_owned(), rest[..end].to_owned())
    } else {
        let pattern = goregex::compile(&format!(r"({flag})(=|: *)*([^\s]*) *"))?;
        if pattern.captures_len() < 4 {
            // kube-bench indexes past the end of its submatches here, and panics.
            return Err(format!(
                "the pattern built from flag {flag:?} has no value group"
            ));
        }
        let Some(captures) = pattern.captures(text) else {
            return Ok(None);
        };
        let group = |index: usize| {
            captures
                .get(index)
                .map_or("", |found| found.as_str())
                .to_owned()
        };
        (group(1), group(3))
    };
    let value = match value.as_str() {
        "" if flag.starts_with("--") => "true".to_owned(),
        "" => matched,
        _ => value,
    };
    Ok(Some(Some(value)))
}

/// How much of `text` `(=|: *)*` takes.
fn separator_length(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut at = 0;
    loop {
        match bytes.get(at) {
            Some(b'=') => at += 1,
            Some(b':') => {
                at += 1;
                while bytes.get(at) == Some(&b' ') {
                    at += 1;
                }
            }
            _ => return at,
        }
    }
}

/// A JSONPath in the config output decoded as JSON or YAML: present when it renders something.
/// `None` when the output does not decode or the path does not parse or execute.
fn path_value(path: &str, text: &str) -> Option<Option<String>> {
    let document = decoded(text);
    let data = document.as_ref().as_ref().ok()?;
    let rendered = jsonpath::parse(path).ok()?.execute(data).ok()?;
    Some((!rendered.is_empty()).then_some(rendered))
}

/// A config output decoded, or why it could not be.
type Decoded = Rc<Result<Value, String>>;

thread_local! {
    /// The last config output decoded: a check's items, and consecutive checks, read the same
    /// file.
    static LAST_DECODED: RefCell<Option<(String, Decoded)>> = const { RefCell::new(None) };
}

fn decoded(text: &str) -> Decoded {
    LAST_DECODED.with(|last| {
        if let Some((cached, document)) = &*last.borrow() {
            if cached == text {
                return Rc::clone(document);
            }
        }
        let document = Rc::new(document::decode(text));
        *last.borrow_mut() = Some((text.to_owned(), Rc::clone(&document)));
        document
    })
}

/// An environment variable in the env output (`NAME=value` lines): the rest of the line after
/// the first `NAME=`, found by the regex `NAME=.*(?:$|\n)`; present when not empty.
fn env_value(name: &str, text: &str) -> Result<Option<Option<String>>, String> {
    if text.is_empty() || name.is_empty() {
        return Ok(Some(None));
    }
    let prefix = format!("{name}=");
    let matched = if goregex::is_literal(name) {
        text.find(&prefix).map(|at| {
            let rest = &text[at..];
            &rest[..rest.find('\n').map_or(rest.len(), |end| end + 1)]
        })
    } else {
        let pattern = goregex::compile(&format!("{name}=.*(?:$|\\n)"))?;
        pattern.find(text).map(|found| found.as_str())
    };
    let value = matched
        .unwrap_or_default()
        .replacen('\n', "", 1)
        .replacen(&prefix, "", 1);
    Ok(Some((!value.is_empty()).then_some(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::Compare;

    fn item(flag: &str, path: &str, env: &str) -> TestItem {
        TestItem {
            flag: flag.into(),
            path: path.into(),
            env: env.into(),
            set: true,
            compare: Compare::default(),
        }
    }

    fn with(item: TestItem, op: &str, value: &str) -> TestItem {
        TestItem {
            compare: Compare {
                op: op.into(),
                value: value.into(),
            },
            ..item
        }
    }

    fn absent(item: TestItem) -> TestItem {
        TestItem { set: false, ..item }
    }

    fn tests(bin_op: &str, items: Vec<TestItem>) -> Tests {
        Tests {
            bin_op: bin_op.into(),
            items,
        }
    }

    /// Runs `tests` on the outputs as kube-bench's `Check.execute` does (with an `audit_config`).
    fn run(tests: &Tests, audit: &str, config: &str, env: &str) -> Concluded {
        let check = Check {
            audit_config: "cat config".into(),
            ..Check::default()
        };
        run_tests(&check, tests, Outputs { audit, config, env }).unwrap()
    }

    /// Asserts the tests pass with kube-bench's expected-result sentence.
    fn passes(tests: Tests, audit: &str, config: &str, env: &str, expected: &str) {
        let concluded = run(&tests, audit, config, env);
        assert!(
            concluded.passed,
            "{tests:?} on {audit:?} {config:?} {env:?}: {concluded:?}"
        );
        assert_eq!(concluded.expected, expected);
    }

    fn fails(tests: Tests, audit: &str, config: &str) {
        let concluded = run(&tests, audit, config, "");
        assert!(
            !concluded.passed,
            "{tests:?} on {audit:?} {config:?}: {concluded:?}"
        );
    }

    const APISERVER: &str =
        "2:45 ../kubernetes/kube-apiserver --allow-privileged=false --option1=20,30,40";

    #[test]
    fn flags_in_the_audit_output() {
        // kube-bench's check/test_test.go TestTestExecute, the flag cases.
        passes(
            tests("", vec![item("--allow-privileged", "", "")]),
            APISERVER,
            "",
            "",
            "'--allow-privileged' is present",
        );
        passes(
            tests("", vec![absent(item("--basic-auth", "", ""))]),
            APISERVER,
            "",
            "",
            "'--basic-auth' is not present",
        );
        passes(
            tests("", vec![with(item("--insecure-port", "", ""), "eq", "0")]),
            "niinai   13617  2635 99 19:26 pts/20   00:03:08 ./kube-apiserver --insecure-port=0 --anonymous-auth",
            "",
            "",
            "'--insecure-port' is equal to '0'",
        );
        passes(
            tests(
                "",
                vec![with(item("--audit-log-maxage", "", ""), "gte", "30")],
            ),
            "2:45 ../kubernetes/kube-apiserver --secure-port=0 --audit-log-maxage=40 --option",
            "",
            "",
            "'--audit-log-maxage' is greater or equal to 30",
        );
        passes(
            tests("", vec![with(item("--max-backlog", "", ""), "lt", "30")]),
            "2:45 ../kubernetes/kube-apiserver --max-backlog=20 --secure-port=0 --audit-log-maxage=40 --option",
            "",
            "",
            "'--max-backlog' is lower than 30",
        );
        let plugins = "2:45 ../kubernetes/kube-apiserver --option --admission-control=WebHook,RBAC ---audit-log-maxage=40";
        passes(
            tests(
                "",
                vec![with(
                    item("--admission-control", "", ""),
                    "nothave",
                    "AlwaysAdmit",
                )],
            ),
            plugins,
            "",
            "",
            "'--admission-control' does not have 'AlwaysAdmit'",
        );
        passes(
            tests(
                "",
                vec![with(item("--admission-control", "", ""), "has", "RBAC")],
            ),
            plugins,
            "",
            "",
            "'--admission-control' has 'RBAC'",
        );
        passes(
            tests(
                "",
                vec![with(item("--admission-control", "", ""), "has", "WebHook")],
            ),
            plugins,
            "",
            "",
            "'--admission-control' has 'WebHook'",
        );
        passes(
            tests(
                "and",
                vec![
                    item("--kubelet-client-certificate", "", ""),
                    item("--kubelet-clientkey", "", ""),
                ],
            ),
            "2:45 .. --kubelet-clientkey=foo --kubelet-client-certificate=bar --admission-control=Webhook,RBAC",
            "",
            "",
            "'--kubelet-client-certificate' is present AND '--kubelet-clientkey' is present",
        );
        passes(
            tests(
                "or",
                vec![
                    with(item("--secure-port", "", ""), "eq", "0"),
                    absent(item("--secure-port", "", "")),
                ],
            ),
            "2:45 ..  --secure-port=0 --kubelet-client-certificate=bar --admission-control=Webhook,RBAC",
            "",
            "",
            "'--secure-port' is equal to '0' OR '--secure-port' is not present",
        );
        passes(
            tests(
                "",
                vec![with(item("permissions", "", ""), "eq", "SomeValue")],
            ),
            "permissions=SomeValue",
            "",
            "",
            "'permissions' is equal to 'SomeValue'",
        );
        passes(
            tests(
                "",
                vec![with(item("permissions", "", ""), "bitmask", "644")],
            ),
            "permissions=640",
            "",
            "",
            "permissions has permissions 640, expected 644 or more restrictive",
        );
    }

    #[test]
    fn flag_values_follow_equals_or_colons() {
        let some_arg = || tests("", vec![with(item("some-arg", "", ""), "eq", "some-val")]);
        passes(
            some_arg(),
            "2:45 kube-apiserver some-arg: some-val --admission-control=Something",
            "",
            "",
            "'some-arg' is equal to 'some-val'",
        );
        passes(
            some_arg(),
            "2:45 kube-apiserver some-arg:some-val --admission-control=Something",
            "",
            "",
            "'some-arg' is equal to 'some-val'",
        );
        passes(
            some_arg(),
            "some-arg=:  =some-val",
            "",
            "",
            "'some-arg' is equal to 'some-val'",
        );
        // A bare flag reads true when it starts with `--`, else as itself.
        let boolean = |value: &str| {
            tests(
                "",
                vec![with(item("--peer-client-cert-auth", "", ""), "eq", value)],
            )
        };
        for output in [
            "--peer-client-cert-auth",
            "--abc=true --peer-client-cert-auth --efg=false",
            "--abc --peer-client-cert-auth --efg",
            "--peer-client-cert-auth=true",
        ] {
            passes(
                boolean("true"),
                output,
                "",
                "",
                "'--peer-client-cert-auth' is equal to 'true'",
            );
        }
        passes(
            boolean("false"),
            "--abc --peer-client-cert-auth=false --efg",
            "",
            "",
            "'--peer-client-cert-auth' is equal to 'false'",
        );
        // `--flag value` is read as the bare flag: its value is not seen.
        fails(
            tests("", vec![with(item("--read-only-port", "", ""), "eq", "0")]),
            "--read-only-port 0",
            "",
        );
        passes(
            tests("", vec![with(item("root:root", "", ""), "eq", "root:root")]),
            "root:root",
            "",
            "",
            "'root:root' is equal to 'root:root'",
        );
        // Substring matching: a longer flag is found too, and the rest of it is the value.
        passes(
            tests("", vec![with(item("--profiling", "", ""), "eq", "-x=true")]),
            "--profiling-x=true",
            "",
            "",
            "'--profiling' is equal to '-x=true'",
        );
        // The value ends at Go's white space (not at a vertical tab).
        passes(
            tests("", vec![with(item("--x", "", ""), "eq", "a\u{b}b")]),
            "--x=a\u{b}b\tc",
            "",
            "",
            "'--x' is equal to 'a\u{b}b'",
        );
    }

    #[test]
    fn flags_are_regular_expressions() {
        // Found as a substring, then the value read by the regex at its first match.
        passes(
            tests("", vec![with(item("a.b", "", ""), "eq", "2")]),
            "axb=2 a.b=1",
            "",
            "",
            "'a.b' is equal to '2'",
        );
        // Present, but the regex does not match: the item fails with no sentence.
        let concluded = run(&tests("", vec![item("--x[y]", "", "")]), "--x[y]=v", "", "");
        assert_eq!((concluded.passed, concluded.expected.as_str()), (false, ""));
        // Groups inside the flag move the value group.
        passes(
            tests("", vec![with(item("(x)", "", ""), "eq", "=")]),
            "x=5 (x)=6",
            "",
            "",
            "'(x)' is equal to '='",
        );
        let check = Check::default();
        assert!(
            run_tests(
                &check,
                &tests("", vec![item("a(", "", "")]),
                Outputs {
                    audit: "a(",
                    ..Outputs::default()
                }
            )
            .is_err()
        );
        assert!(
            run_tests(
                &check,
                &tests("", vec![item("?:x", "", "")]),
                Outputs {
                    audit: "?:x",
                    ..Outputs::default()
                }
            )
            .is_err()
        );
        // An unused flag is never compiled.
        assert!(
            run_tests(
                &check,
                &tests("", vec![item("a(", "", "")]),
                Outputs {
                    audit: "b",
                    ..Outputs::default()
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn paths_in_the_config_output() {
        // kube-bench's TestTestExecute, the path cases (no audit output).
        let port = || item("", "{.readOnlyPort}", "");
        passes(
            tests(
                "or",
                vec![
                    with(port(), "eq", "15000"),
                    with(port(), "gte", "15000"),
                    with(port(), "lte", "15000"),
                ],
            ),
            "",
            "{\"readOnlyPort\": 15000}",
            "",
            "'{.readOnlyPort}' is equal to '15000' OR '{.readOnlyPort}' is greater or equal to 15000 OR '{.readOnlyPort}' is lower or equal to 15000",
        );
        let string = || item("", "{.stringValue}", "");
        passes(
            tests(
                "",
                vec![
                    with(string(), "noteq", "None"),
                    with(string(), "noteq", "webhook,Something,RBAC"),
                    with(string(), "eq", "WebHook,Something,RBAC"),
                ],
            ),
            "",
            "{\"stringValue\": \"WebHook,Something,RBAC\"}",
            "",
            "'{.stringValue}' is not equal to 'None' AND '{.stringValue}' is not equal to 'webhook,Something,RBAC' AND '{.stringValue}' is equal to 'WebHook,Something,RBAC'",
        );
        let boolean = || item("", "{.trueValue}", "");
        passes(
            tests(
                "",
                vec![
                    with(boolean(), "noteq", "somethingElse"),
                    with(boolean(), "noteq", "false"),
                    with(boolean(), "eq", "true"),
                ],
            ),
            "",
            "{\"trueValue\": true}",
            "",
            "'{.trueValue}' is not equal to 'somethingElse' AND '{.trueValue}' is not equal to 'false' AND '{.trueValue}' is equal to 'true'",
        );
        passes(
            tests("", vec![absent(item("", "{.notARealField}", ""))]),
            "",
            "{\"readOnlyPort\": 15000}",
            "",
            "'{.notARealField}' is not present",
        );
        let anonymous = || {
            tests(
                "",
                vec![with(
                    item("", "{.authentication.anonymous.enabled}", ""),
                    "eq",
                    "false",
                )],
            )
        };
        passes(
            anonymous(),
            "",
            "{\"authentication\": { \"anonymous\": {\"enabled\": false}}}",
            "",
            "'{.authentication.anonymous.enabled}' is equal to 'false'",
        );
        passes(
            anonymous(),
            "",
            "authentication:\n  anonymous:\n    enabled: false",
            "",
            "'{.authentication.anonymous.enabled}' is equal to 'false'",
        );
        passes(
            tests("", vec![with(port(), "gt", "14999")]),
            "",
            "readOnlyPort: 15000",
            "",
            "'{.readOnlyPort}' is greater than 14999",
        );
        passes(
            tests("", vec![absent(item("", "{.fieldThatIsUnset}", ""))]),
            "",
            "readOnlyPort: 15000",
            "",
            "'{.fieldThatIsUnset}' is not present",
        );
        let version = || {
            tests(
                "",
                vec![with(
                    item("", "{.currentMasterVersion}", ""),
                    "regex",
                    r"^1\.12.*$",
                )],
            )
        };
        passes(
            version(),
            "",
            "currentMasterVersion: 1.12.7",
            "",
            r"'{.currentMasterVersion}' matched by regex expression '^1\.12.*$'",
        );
        // kube-bench's TestTestExecuteExceptions.
        fails(anonymous(), "", "this is not valid json {} at all");
        fails(
            tests("", vec![item("", "{.missingClosingBrace", "")]),
            "",
            "{\"key\": \"value\"}",
        );
        fails(anonymous(), "", "broken } yaml\nenabled: true");
        fails(version(), "", "currentMasterVersion: 1.11");
        fails(version(), "", "currentMasterVersion: ");
    }

    #[test]
    fn a_config_that_does_not_decode_fails_even_absence() {
        // The flag is not in the audit output, so the config is read for it: its path is empty,
        // but the undecodable config fails the item before that matters.
        let not_set = tests("", vec![absent(item("--hostname-override", "", ""))]);
        let concluded = run(
            &not_set,
            "kubelet --config x",
            "[Service\nEnvironment=x",
            "",
        );
        assert_eq!((concluded.passed, concluded.expected.as_str()), (false, ""));
        // yaml.v2 reads only the first document: a unit file's `[Unit]` line is a list.
        passes(
            not_set.clone(),
            "kubelet",
            "[Unit]\nDescription=kubelet: The Kubernetes Node Agent",
            "",
            "'' is not present",
        );
        passes(
            not_set,
            "kubelet --config x",
            "a: b",
            "",
            "'' is not present",
        );
    }

    #[test]
    fn kubelet_config_values_render_as_client_go_prints_them() {
        let config = "tlsCipherSuites:\n- A\n- B\nstreamingConnectionIdleTimeout: 0s\nmaxPods: 1e6\nfeatureGates:\n  RotateKubeletServerCertificate: true\n";
        let ciphers = item(
            "--tls-cipher-suites",
            "{range .tlsCipherSuites[:]}{}{','}{end}",
            "",
        );
        passes(
            tests("", vec![with(ciphers, "valid_elements", "A,B,C")]),
            "kubelet",
            config,
            "",
            "'{range .tlsCipherSuites[:]}{}{','}{end}' contains valid elements from 'A,B,C'",
        );
        passes(
            tests(
                "",
                vec![with(
                    item("", "{.streamingConnectionIdleTimeout}", ""),
                    "noteq",
                    "0",
                )],
            ),
            "",
            config,
            "",
            "'{.streamingConnectionIdleTimeout}' is not equal to '0'",
        );
        passes(
            tests("", vec![with(item("", "{.maxPods}", ""), "eq", "1e+06")]),
            "",
            config,
            "",
            "'{.maxPods}' is equal to '1e+06'",
        );
        passes(
            tests(
                "",
                vec![with(
                    item("", "{.featureGates.RotateKubeletServerCertificate}", ""),
                    "nothave",
                    "false",
                )],
            ),
            "",
            config,
            "",
            "'{.featureGates.RotateKubeletServerCertificate}' does not have 'false'",
        );
    }

    #[test]
    fn environment_variables_in_the_env_output() {
        // kube-bench's TestTestExecute, the env cases: the flag is not in the audit output.
        passes(
            tests("", vec![item("--allow-privileged", "", "ALLOW_PRIVILEGED")]),
            "2:45 ../kubernetes/kube-apiserver --option1=20,30,40",
            "",
            "SOME_OTHER_ENV=true\nALLOW_PRIVILEGED=false",
            "'ALLOW_PRIVILEGED' is present",
        );
        passes(
            tests("", vec![absent(item("--basic-auth", "", "BASIC_AUTH"))]),
            "x",
            "",
            "",
            "'BASIC_AUTH' is not present",
        );
        passes(
            tests(
                "",
                vec![with(
                    item("--insecure-port", "", "INSECURE_PORT"),
                    "eq",
                    "0",
                )],
            ),
            "x",
            "",
            "INSECURE_PORT=0",
            "'INSECURE_PORT' is equal to '0'",
        );
        passes(
            tests(
                "",
                vec![with(item("", "", "AUDIT_LOG_MAXAGE"), "gte", "30")],
            ),
            "",
            "",
            "AUDIT_LOG_MAXAGE=40",
            "'AUDIT_LOG_MAXAGE' is greater or equal to 30",
        );
        passes(
            tests("", vec![with(item("", "", "MAX_BACKLOG"), "lt", "30")]),
            "",
            "",
            "MAX_BACKLOG=20",
            "'MAX_BACKLOG' is lower than 30",
        );
        // The first `NAME=` anywhere, even inside a longer name; an empty value is absent.
        passes(
            tests("", vec![with(item("", "", "AUTO_TLS"), "eq", "true")]),
            "",
            "",
            "ETCD_AUTO_TLS=true\nAUTO_TLS=false",
            "'AUTO_TLS' is equal to 'true'",
        );
        passes(
            tests("", vec![absent(item("", "", "ETCD_AUTO_TLS"))]),
            "",
            "",
            "ETCD_AUTO_TLS=\nX=1",
            "'ETCD_AUTO_TLS' is not present",
        );
        // The value is the rest of the line, a carriage return included.
        passes(
            tests("", vec![with(item("", "", "ETCD_CERT"), "eq", "/a b\r")]),
            "",
            "",
            "ETCD_CERT=/a b\r\n",
            "'ETCD_CERT' is equal to '/a b\r'",
        );
    }

    #[test]
    fn actual_value_is_the_first_items_trimmed_source() {
        let concluded = run(
            &tests("", vec![item("", "{.a}", ""), item("--x", "", "")]),
            "--x \n\n",
            "a: 1 \n",
            "",
        );
        assert_eq!(concluded.actual, "a: 1");
        let concluded = run(
            &tests("", vec![item("--x", "", ""), item("", "{.a}", "")]),
            "--x \n\n",
            "a: 1 \n",
            "",
        );
        assert_eq!(concluded.actual, "--x");
    }

    #[test]
    fn multiple_values_stop_at_the_first_failing_line() {
        let check = Check {
            use_multiple_values: true,
            ..Check::default()
        };
        let owner = tests("", vec![item("root:root", "", "")]);
        let outcome = |audit| {
            run_tests(
                &check,
                &owner,
                Outputs {
                    audit,
                    ..Outputs::default()
                },
            )
            .unwrap()
            .passed
        };
        assert!(outcome("root:root\nroot:root\n"));
        assert!(!outcome("root:root\nadmin:root\nroot:root"));
        assert!(!outcome("root:root\n\nroot:root"));
        assert!(!outcome(""));
        // An item whose last line is not found looks in the next source.
        let env = tests("", vec![with(item("flag", "", "flag"), "eq", "a")]);
        let found = run_tests(
            &check,
            &env,
            Outputs {
                audit: "flag=a\nother",
                config: "",
                env: "flag=a",
            },
        )
        .unwrap();
        assert!(found.passed);
        assert_eq!(found.actual, "flag=a");
    }
}

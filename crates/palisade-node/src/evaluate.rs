//! kube-bench's evaluation (check/check.go, check/test.go, check/controls.go, the filters of
//! cmd/common.go), restated over a [`Snapshot`]: the audit scripts were run on the node by
//! `palisade node collect`, and their recorded outputs stand in for running them.
//!
//! Per section (a control file whose node type the snapshot collected), with its variables
//! substituted ([`crate::variables::prepare`]), every check the [`Filter`] keeps is run:
//!
//! 1. scored, no `type`, no `tests` key: WARN, "There are no tests";
//! 2. `type: skip`, its group's `type: skip`, or skipped by id: INFO, "Test marked as skip";
//! 3. `type: manual`: WARN, "Test marked as a manual test";
//! 4. no test items: FAIL if scored, else WARN, "No tests defined";
//! 5. the audits, env first, then audit, then config; a failure is FAIL if scored, else WARN,
//!    with kube-bench's error as the reason (`failed to run: "…", output: "…", error: exit
//!    status 1`); a config audit failing like a missing file (exit status 127, or "No such file
//!    or directory" in the error) is ignored when the audit or env output is not empty;
//! 6. the tests ([`items`]): PASS, else FAIL if scored, else WARN.
//!
//! A script the snapshot did not record fails like an audit that could not run. Where kube-bench
//! panics (a flag, env name or `regex` value Go cannot compile as a pattern) the check fails
//! like an audit error naming the pattern, and the rest of the run goes on.

mod compare;
mod document;
mod goregex;
mod items;

use std::collections::BTreeSet;

use crate::controls::{Benchmark, Check, Controls, Group};
use crate::goquote::quote;
use crate::snapshot::Snapshot;
use crate::variables::prepare;

/// The result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Pass,
    Fail,
    Warn,
    Info,
}

impl State {
    /// kube-bench's spelling: `PASS`, `FAIL`, `WARN`, `INFO`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Warn => "WARN",
            Self::Info => "INFO",
        }
    }
}

/// One check as kube-bench reports it (its JSON `Check`; the JSON names are in brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// [`test_number`]
    pub id: String,
    /// [`test_desc`]
    pub text: String,
    /// The audit script after substitution, untrimmed.
    pub audit: String,
    /// [`AuditEnv`]: including the generated env audit.
    pub audit_env: String,
    /// [`AuditConfig`]
    pub audit_config: String,
    /// [`type`]: the check's own, or `skip` when it or its group was skipped.
    pub kind: String,
    pub remediation: String,
    /// The remediation again, as kube-bench appends it after running the check.
    pub test_info: Vec<String>,
    /// [`status`]
    pub state: State,
    /// The output the first test item was last evaluated on, right-trimmed of spaces and
    /// newlines; empty when no test ran.
    pub actual_value: String,
    pub scored: bool,
    /// [`IsMultiple`]: `use_multiple_values`.
    pub is_multiple: bool,
    /// The test items' sentences, joined with ` AND ` or ` OR `.
    pub expected_result: String,
    /// Why the check did not run or could not be decided; empty otherwise.
    pub reason: String,
}

/// Counts of check states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
}

impl Totals {
    fn count(&mut self, state: State) {
        match state {
            State::Pass => self.pass += 1,
            State::Fail => self.fail += 1,
            State::Warn => self.warn += 1,
            State::Info => self.info += 1,
        }
    }

    fn add(&mut self, other: Totals) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.warn += other.warn;
        self.info += other.info;
    }
}

/// A group of a section, with the checks of it the filter kept (a group with none is left
/// out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupResult {
    /// [`section`]
    pub id: String,
    /// The group's `type` in the control file (kube-bench's JSON always writes `""`).
    pub kind: String,
    /// [`desc`]
    pub text: String,
    /// [`pass`, `fail`, `warn`, `info`]
    pub totals: Totals,
    /// [`results`]
    pub checks: Vec<CheckResult>,
}

/// One control file's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionResult {
    pub id: String,
    /// The control file's `version` (`cis-1.12`).
    pub version: String,
    /// kube-bench's `detected_version`: the Kubernetes version detected, `none` when it was
    /// given.
    pub detected_version: String,
    pub text: String,
    pub node_type: String,
    /// [`tests`]
    pub groups: Vec<GroupResult>,
    /// [`total_pass`, ...]
    pub totals: Totals,
}

/// Everything evaluated for one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReport {
    pub node: String,
    /// The benchmark folder (`cis-1.12`).
    pub benchmark: String,
    /// In kube-bench's order: by section id read as a number.
    pub sections: Vec<SectionResult>,
    pub totals: Totals,
}

/// Which checks run: kube-bench's `--check`, `--group`, `--skip`, `--scored` and `--unscored`.
/// A check the filter leaves out is absent from the report; a skipped one is INFO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Only these check ids; empty: every check.
    pub checks: BTreeSet<String>,
    /// Only the checks of these group ids; empty: every group.
    pub groups: BTreeSet<String>,
    /// Check and group ids reported as INFO without being run.
    pub skip: BTreeSet<String>,
    /// Run scored checks.
    pub scored: bool,
    /// Run unscored checks.
    pub unscored: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            checks: BTreeSet::new(),
            groups: BTreeSet::new(),
            skip: BTreeSet::new(),
            scored: true,
            unscored: true,
        }
    }
}

/// Filter flags kube-bench refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("group option and check option can't be used together")]
    CheckAndGroup,
}

impl Filter {
    /// The filter of kube-bench's flags, read as kube-bench reads them: `--check` and `--group`
    /// are comma-separated ids (outer commas and spaces around ids dropped) and cannot be used
    /// together; `--skip` is comma-separated ids (spaces around ids dropped).
    pub fn from_flags(
        check: &str,
        group: &str,
        skip: &str,
        scored: bool,
        unscored: bool,
    ) -> Result<Self, FilterError> {
        if !check.is_empty() && !group.is_empty() {
            return Err(FilterError::CheckAndGroup);
        }
        let ids = |list: &str| -> BTreeSet<String> {
            if list.is_empty() {
                return BTreeSet::new();
            }
            list.trim_matches(',')
                .split(',')
                .map(|id| id.trim_matches(' ').to_owned())
                .collect()
        };
        let skip = if skip.is_empty() {
            BTreeSet::new()
        } else {
            skip.split(',')
                .map(|id| id.trim_matches(' ').to_owned())
                .collect()
        };
        Ok(Self {
            checks: ids(check),
            groups: ids(group),
            skip,
            scored,
            unscored,
        })
    }

    fn keeps(&self, group: &Group, check: &Check) -> bool {
        (self.groups.is_empty() || self.groups.contains(&group.id))
            && (self.checks.is_empty() || self.checks.contains(&check.id))
            && (if check.scored {
                self.scored
            } else {
                self.unscored
            })
    }

    fn skips(&self, group: &Group, check: &Check) -> bool {
        group.kind == "skip" || self.skip.contains(&group.id) || self.skip.contains(&check.id)
    }
}

/// Evaluates `benchmark` on what `snapshot` recorded: for each control file the snapshot
/// collected (by node type), its checks with that file's variables, in kube-bench's section
/// order.
pub fn evaluate(benchmark: &Benchmark, snapshot: &Snapshot, filter: &Filter) -> NodeReport {
    // kube-bench reports the version it detected, and `none` when --version or --benchmark
    // chose the benchmark.
    let detected_version = match (&snapshot.kubernetes_version, &snapshot.version_detected_by) {
        (Some(version), Some(_)) => version.clone(),
        _ => "none".to_owned(),
    };
    let mut sections: Vec<SectionResult> = snapshot
        .targets
        .iter()
        .filter_map(|target| {
            let controls = benchmark
                .sections
                .iter()
                .find(|controls| controls.node_type == target.node_type)?;
            let prepared = prepare(controls, &target.variables);
            Some(evaluate_section(
                &prepared,
                &detected_version,
                snapshot,
                filter,
            ))
        })
        .collect();
    // kube-bench sorts by strconv.Atoi of the id; ids that are not numbers count as 0.
    sections.sort_by_key(|section| section.id.parse::<i64>().unwrap_or(0));
    let mut totals = Totals::default();
    sections
        .iter()
        .for_each(|section| totals.add(section.totals));
    NodeReport {
        node: snapshot.node.clone(),
        benchmark: snapshot.benchmark.clone(),
        sections,
        totals,
    }
}

/// One control file, its variables already substituted (kube-bench's `RunChecks`).
fn evaluate_section(
    controls: &Controls,
    detected_version: &str,
    snapshot: &Snapshot,
    filter: &Filter,
) -> SectionResult {
    let mut groups: Vec<GroupResult> = Vec::new();
    let mut totals = Totals::default();
    for group in &controls.groups {
        for check in group
            .checks
            .iter()
            .filter(|check| filter.keeps(group, check))
        {
            let checked = run_check(check, filter.skips(group, check), snapshot);
            totals.count(checked.state);
            // kube-bench's RunChecks keys group results by id: a later group with the id of an
            // earlier one adds its checks there, under the first one's text.
            let index = match groups.iter().position(|known| known.id == group.id) {
                Some(index) => index,
                None => {
                    groups.push(GroupResult {
                        id: group.id.clone(),
                        kind: group.kind.clone(),
                        text: group.text.clone(),
                        totals: Totals::default(),
                        checks: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            groups[index].totals.count(checked.state);
            groups[index].checks.push(checked);
        }
    }
    SectionResult {
        id: controls.id.clone(),
        version: controls.version.clone(),
        detected_version: detected_version.to_owned(),
        text: controls.text.clone(),
        node_type: controls.node_type.clone(),
        groups,
        totals,
    }
}

/// kube-bench's `Check.run`, with the recorded outputs.
fn run_check(check: &Check, skipped: bool, snapshot: &Snapshot) -> CheckResult {
    let kind = if skipped {
        "skip".to_owned()
    } else {
        check.kind.clone()
    };
    let failed = if check.scored {
        State::Fail
    } else {
        State::Warn
    };
    let mut result = CheckResult {
        id: check.id.clone(),
        text: check.text.clone(),
        audit: check.audit.clone(),
        audit_env: check.audit_env.clone(),
        audit_config: check.audit_config.clone(),
        kind,
        remediation: check.remediation.clone(),
        test_info: vec![check.remediation.clone()],
        state: failed,
        actual_value: String::new(),
        scored: check.scored,
        is_multiple: check.use_multiple_values,
        expected_result: String::new(),
        reason: String::new(),
    };
    let mut decide = |state: State, reason: &str| {
        result.state = state;
        result.reason = reason.to_owned();
    };
    match &check.tests {
        None if check.scored && result.kind.trim().is_empty() => {
            decide(State::Warn, "There are no tests")
        }
        _ if result.kind == "skip" => decide(State::Info, "Test marked as skip"),
        _ if result.kind == "manual" => decide(State::Warn, "Test marked as a manual test"),
        None => decide(failed, "No tests defined"),
        Some(tests) if tests.items.is_empty() => decide(failed, "No tests defined"),
        Some(tests) => {
            let outcome = run_audits(check, snapshot)
                .and_then(|outputs| items::run_tests(check, tests, outputs));
            match outcome {
                Ok(concluded) => {
                    result.state = if concluded.passed {
                        State::Pass
                    } else {
                        failed
                    };
                    result.actual_value = concluded.actual;
                    result.expected_result = concluded.expected;
                    if let Some(reason) = concluded.error {
                        result.state = failed;
                        result.reason = reason;
                    }
                }
                Err(reason) => result.reason = reason,
            }
        }
    }
    result
}

/// kube-bench's `runAuditCommands`: env, then audit, then config, the first failure ending it,
/// except a config audit that fails like a missing file while the others printed something.
fn run_audits<'s>(check: &Check, snapshot: &'s Snapshot) -> Result<items::Outputs<'s>, String> {
    let env = if check.audit_env.is_empty() {
        ""
    } else {
        audit_output(snapshot, &check.audit_env)?
    };
    let audit = audit_output(snapshot, &check.audit)?;
    let config = match audit_output(snapshot, &check.audit_config) {
        Err(error)
            if (error.contains("exit status 127")
                || error.contains("No such file or directory"))
                && (!env.is_empty() || !audit.is_empty()) =>
        {
            ""
        }
        other => other?,
    };
    Ok(items::Outputs { audit, config, env })
}

/// kube-bench's `runAudit` answered from the snapshot: the output of `script` (trimmed, as run),
/// or the error Go's `exec` would have given, formatted as kube-bench formats it.
fn audit_output<'s>(snapshot: &'s Snapshot, script: &str) -> Result<&'s str, String> {
    let script = script.trim();
    if script.is_empty() {
        return Ok("");
    }
    let Some(recorded) = snapshot.audit(script) else {
        return Err(format!(
            "failed to run: {}: the snapshot has no output for this audit",
            quote(script)
        ));
    };
    let error = match (recorded.exit_status, &recorded.error) {
        (_, Some(error)) => error.clone(),
        (Some(0), None) => return Ok(&recorded.output),
        (Some(status), None) => format!("exit status {status}"),
        (None, None) => "the snapshot records no exit status".to_owned(),
    };
    Err(format!(
        "failed to run: {}, output: {}, error: {error}",
        quote(script),
        quote(&recorded.output)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::{Compare, TestItem, Tests};
    use crate::snapshot::{Audit, Target};
    use crate::variables::Variables;

    fn flag(flag: &str) -> TestItem {
        TestItem {
            flag: flag.into(),
            set: true,
            ..TestItem::default()
        }
    }

    fn compared(item: TestItem, op: &str, value: &str) -> TestItem {
        TestItem {
            compare: Compare {
                op: op.into(),
                value: value.into(),
            },
            ..item
        }
    }

    fn scored(audit: &str, items: Vec<TestItem>) -> Check {
        Check {
            id: "1.1.1".into(),
            text: "Ensure something".into(),
            audit: audit.into(),
            tests: Some(Tests {
                bin_op: String::new(),
                items,
            }),
            remediation: "Fix it.\n".into(),
            scored: true,
            ..Check::default()
        }
    }

    /// A recorded run: (command, output, exit status).
    type Run<'a> = (&'a str, &'a str, i32);

    fn snapshot(runs: &[Run<'_>]) -> Snapshot {
        let mut audits: Vec<Audit> = runs
            .iter()
            .map(|(command, output, status)| Audit {
                command: (*command).into(),
                output: (*output).into(),
                exit_status: Some(*status),
                error: None,
            })
            .collect();
        audits.sort_by(|a, b| a.command.cmp(&b.command));
        Snapshot {
            api_version: crate::snapshot::API_VERSION.into(),
            kind: crate::snapshot::KIND.into(),
            node: "node-1".into(),
            collected_at: "2026-01-01T00:00:00Z".into(),
            palisade_version: "0".into(),
            kubernetes_version: Some("1.32".into()),
            version_detected_by: Some("kubelet --version".into()),
            benchmark: "cis-1.12".into(),
            root: None,
            targets: Vec::new(),
            audits,
        }
    }

    fn run(check: &Check, runs: &[Run<'_>]) -> CheckResult {
        run_check(check, false, &snapshot(runs))
    }

    #[test]
    fn check_types_and_missing_tests_decide_before_any_audit() {
        let manual = Check {
            kind: "manual".into(),
            ..Check::default()
        };
        assert_eq!(
            (run(&manual, &[]).state, run(&manual, &[]).reason.as_str()),
            (State::Warn, "Test marked as a manual test")
        );
        let skip = Check {
            kind: "skip".into(),
            ..Check::default()
        };
        assert_eq!(
            (run(&skip, &[]).state, run(&skip, &[]).reason.as_str()),
            (State::Info, "Test marked as skip")
        );
        let unscored = Check::default();
        assert_eq!(
            (
                run(&unscored, &[]).state,
                run(&unscored, &[]).reason.as_str()
            ),
            (State::Warn, "No tests defined")
        );
        let scored_without_tests = Check {
            scored: true,
            ..Check::default()
        };
        assert_eq!(
            (
                run(&scored_without_tests, &[]).state,
                run(&scored_without_tests, &[]).reason.as_str()
            ),
            (State::Warn, "There are no tests")
        );
        let scored_empty_tests = Check {
            scored: true,
            tests: Some(Tests::default()),
            ..Check::default()
        };
        assert_eq!(
            (
                run(&scored_empty_tests, &[]).state,
                run(&scored_empty_tests, &[]).reason.as_str()
            ),
            (State::Fail, "No tests defined")
        );
        // A scored check of an unknown type without tests is not "There are no tests".
        let odd_type = Check {
            scored: true,
            kind: "other".into(),
            ..Check::default()
        };
        assert_eq!(run(&odd_type, &[]).state, State::Fail);
        // A manual check is WARN even when scored, and a skipped manual check is INFO.
        let manual_scored = Check {
            kind: "manual".into(),
            scored: true,
            ..scored("echo hello", vec![flag("hello")])
        };
        assert_eq!(run(&manual_scored, &[]).state, State::Warn);
        assert_eq!(
            run_check(&manual_scored, true, &snapshot(&[])).state,
            State::Info
        );
        assert_eq!(run_check(&manual_scored, true, &snapshot(&[])).kind, "skip");
    }

    #[test]
    fn passing_and_failing_tests_set_the_state_by_scored() {
        let hello = [("echo hello", "hello\n", 0)];
        let present = scored("echo hello", vec![flag("hello")]);
        let result = run(&present, &hello);
        assert_eq!(result.state, State::Pass);
        assert_eq!(result.actual_value, "hello");
        assert_eq!(result.expected_result, "'hello' is present");
        assert_eq!(result.reason, "");
        assert_eq!(result.test_info, ["Fix it.\n"]);
        let unscored = Check {
            scored: false,
            ..present.clone()
        };
        assert_eq!(run(&unscored, &hello).state, State::Pass);
        let absent = scored(
            "echo hello",
            vec![TestItem {
                set: false,
                ..flag("hello")
            }],
        );
        assert_eq!(run(&absent, &hello).state, State::Fail);
        assert_eq!(
            run(&absent, &hello).expected_result,
            "'hello' is not present"
        );
        let unscored_absent = Check {
            scored: false,
            ..absent
        };
        assert_eq!(run(&unscored_absent, &hello).state, State::Warn);
    }

    #[test]
    fn a_missing_config_file_is_ignored_when_the_audit_printed_something() {
        let missing = (
            "/test/config.yaml",
            "/bin/sh: 1: /test/config.yaml: not found\n",
            127,
        );
        let check = Check {
            audit_config: "/test/config.yaml".into(),
            ..scored("echo hello", vec![flag("hello")])
        };
        assert_eq!(
            run(&check, &[("echo hello", "hello\n", 0), missing]).state,
            State::Pass
        );
        let without_audit = Check {
            audit: String::new(),
            ..check.clone()
        };
        let result = run(&without_audit, &[missing]);
        assert_eq!(result.state, State::Fail);
        assert_eq!(
            result.reason,
            r#"failed to run: "/test/config.yaml", output: "/bin/sh: 1: /test/config.yaml: not found\n", error: exit status 127"#
        );
        assert_eq!(
            (
                result.actual_value.as_str(),
                result.expected_result.as_str()
            ),
            ("", "")
        );
        // "No such file or directory" anywhere in the error counts too, whatever the status.
        let cat = (
            "cat /etc/x.yaml",
            "cat: /etc/x.yaml: No such file or directory\n",
            1,
        );
        let by_message = Check {
            audit_config: "cat /etc/x.yaml".into(),
            ..check.clone()
        };
        assert_eq!(
            run(&by_message, &[("echo hello", "hello\n", 0), cat]).state,
            State::Pass
        );
        // Another failure of the config audit is an error even with audit output.
        let denied = (
            "cat /etc/x.yaml",
            "cat: /etc/x.yaml: Permission denied\n",
            1,
        );
        assert_eq!(
            run(&by_message, &[("echo hello", "hello\n", 0), denied]).state,
            State::Fail
        );
        // With an empty audit output the missing file is an error.
        assert_eq!(
            run(&by_message, &[("echo hello", "", 0), cat]).state,
            State::Fail
        );
    }

    #[test]
    fn audit_errors_quote_the_script_and_its_output_as_go_does() {
        let check = scored("  ls /nope\n", vec![flag("x")]);
        let result = run(
            &check,
            &[(
                "ls /nope",
                "ls: cannot access '/nope': No such file or directory\n",
                2,
            )],
        );
        assert_eq!(result.state, State::Fail);
        assert_eq!(
            result.reason,
            r#"failed to run: "ls /nope", output: "ls: cannot access '/nope': No such file or directory\n", error: exit status 2"#
        );
        // The JSON keeps the audit as written.
        assert_eq!(result.audit, "  ls /nope\n");
        let unscored = Check {
            scored: false,
            ..check.clone()
        };
        assert_eq!(run(&unscored, &[("ls /nope", "", 2)]).state, State::Warn);
        let mut killed = snapshot(&[]);
        killed.audits.push(Audit {
            command: "ls /nope".into(),
            output: "partial\t\"out\"".into(),
            exit_status: None,
            error: Some("signal: killed".into()),
        });
        assert_eq!(
            run_check(&check, false, &killed).reason,
            r#"failed to run: "ls /nope", output: "partial\t\"out\"", error: signal: killed"#
        );
        let not_recorded = run(&check, &[]);
        assert_eq!(not_recorded.state, State::Fail);
        assert_eq!(
            not_recorded.reason,
            r#"failed to run: "ls /nope": the snapshot has no output for this audit"#
        );
    }

    #[test]
    fn the_env_audit_runs_first_and_its_failure_ends_the_check() {
        let check = Check {
            audit_env: "cat env".into(),
            ..scored("echo flag=x", vec![flag("flag")])
        };
        let result = run(
            &check,
            &[("cat env", "", 1), ("echo flag=x", "flag=x\n", 0)],
        );
        assert_eq!(result.state, State::Fail);
        assert!(
            result.reason.starts_with(r#"failed to run: "cat env""#),
            "{}",
            result.reason
        );
        // Only the env audit is missing from the snapshot: its error is the one reported.
        assert!(
            run(&check, &[("echo flag=x", "flag=x\n", 0)])
                .reason
                .contains("cat env")
        );
    }

    #[test]
    fn env_output_answers_when_audit_and_config_do_not() {
        // kube-bench's check/data group 3.1, one case per line: audit, env, whether it passes.
        let cases = [
            ("echo in=incorrect", "flag=correct", State::Pass),
            ("echo in=wrong", "flag=wrong", State::Fail),
            ("echo flag=correct", "flag=incorrect", State::Pass),
        ];
        for (audit, env, expected) in cases {
            let item = TestItem {
                env: "flag".into(),
                ..compared(flag("flag"), "eq", "correct")
            };
            let check = Check {
                audit_env: "env".into(),
                ..scored(audit, vec![item])
            };
            let audit_output = format!("{}\n", audit.trim_start_matches("echo "));
            let result = run(
                &check,
                &[(audit, &audit_output, 0), ("env", &format!("{env}\n"), 0)],
            );
            assert_eq!(result.state, expected, "{audit} / {env}");
        }
        let with_config = |audit: &str, config: &str, env: Option<&str>| {
            let mut item = compared(flag("flag"), "eq", "correct");
            item.path = "{.flag}".into();
            let mut runs = vec![
                (audit.to_owned(), format!("{}\n", &audit[5..])),
                ("config".to_owned(), format!("{config}\n")),
            ];
            let mut check = Check {
                audit_config: "config".into(),
                ..scored(audit, vec![])
            };
            if let Some(env) = env {
                item.env = "flag".into();
                check.audit_env = "env".into();
                runs.push(("env".to_owned(), format!("{env}\n")));
            }
            check.tests = Some(Tests {
                bin_op: String::new(),
                items: vec![item],
            });
            let runs: Vec<Run<'_>> = runs
                .iter()
                .map(|(command, output)| (command.as_str(), output.as_str(), 0))
                .collect();
            run(&check, &runs).state
        };
        assert_eq!(
            with_config("echo in=correct", "flag: correct", None),
            State::Pass
        );
        assert_eq!(
            with_config("echo in=correct", "in: correct", Some("flag=correct")),
            State::Pass
        );
        assert_eq!(
            with_config("echo in=correct", "in: correct", Some("flag=incorrect")),
            State::Fail
        );
        assert_eq!(
            with_config(
                "echo flag=incorrect",
                "flag: incorrect",
                Some("flag=correct")
            ),
            State::Fail
        );
    }

    #[test]
    fn command_line_wins_over_the_config_file() {
        // kube-bench's check/data group 2.1: (audit output, config output, passes).
        let item = TestItem {
            path: "{.flag}".into(),
            ..compared(flag("flag"), "eq", "correct")
        };
        let cases = [
            (Some("flag=correct"), None, State::Pass),
            (Some("flag=wrong"), None, State::Fail),
            (Some("somethingElse=correct"), None, State::Fail),
            (
                Some("somethingElse=correct"),
                Some("flag: correct"),
                State::Pass,
            ),
            (
                Some("somethingElse=correct"),
                Some("flag: wrong"),
                State::Fail,
            ),
            (Some("flag=correct"), Some("flag: wrong"), State::Pass),
            (Some("flag=wrong"), Some("flag: wrong"), State::Fail),
            (None, Some("flag: correct"), State::Pass),
            (None, Some("flag: wrong"), State::Fail),
            (Some("flag=wrong"), Some("flag: correct"), State::Fail),
        ];
        for (audit, config, expected) in cases {
            let mut check = scored(audit.map_or("", |_| "audit"), vec![item.clone()]);
            let mut runs = Vec::new();
            let audit_output = audit.map(|output| format!("{output}\n"));
            let config_output = config.map(|output| format!("{output}\n"));
            if let Some(output) = &audit_output {
                runs.push(("audit", output.as_str(), 0));
            }
            if let Some(output) = &config_output {
                check.audit_config = "config".into();
                runs.push(("config", output.as_str(), 0));
            }
            runs.sort();
            assert_eq!(run(&check, &runs).state, expected, "{audit:?} {config:?}");
        }
    }

    #[test]
    fn parameter_and_config_defaults_combine_with_and_and_or() {
        // kube-bench's check/data group 2.1, checks 13 to 16: flag or path equal to 0, or absent.
        let equal = TestItem {
            path: "{.readOnlyPort}".into(),
            ..compared(flag("--read-only-port"), "eq", "0")
        };
        let absent = TestItem {
            path: "{.readOnlyPort}".into(),
            set: false,
            ..flag("--read-only-port")
        };
        let cases = [
            ("and", "--read-only-port=1", "readOnlyPort: 0", State::Fail),
            ("or", "", "readOnlyPort: 1", State::Fail),
            ("or", "", "", State::Pass),
            ("or", "--read-only-port=1", "", State::Fail),
        ];
        for (bin_op, audit, config, expected) in cases {
            let mut check = scored("audit", vec![equal.clone(), absent.clone()]);
            check.audit_config = "config".into();
            check.tests.as_mut().unwrap().bin_op = bin_op.into();
            let (audit, config) = (format!("{audit}\n"), format!("{config}\n"));
            assert_eq!(
                run(&check, &[("audit", &audit, 0), ("config", &config, 0)]).state,
                expected,
                "{bin_op} {audit:?} {config:?}"
            );
        }
    }

    #[test]
    fn use_multiple_values_tests_every_line() {
        let item = compared(flag("permissions"), "bitmask", "600");
        let check = Check {
            use_multiple_values: true,
            ..scored("stat", vec![item])
        };
        let outcome = |output: &str| run(&check, &[("stat", output, 0)]);
        assert_eq!(
            outcome("permissions=600\npermissions=600\npermissions=600").state,
            State::Pass
        );
        assert_eq!(
            outcome("permissions=600\npermissions=600\npermissions=644").state,
            State::Fail
        );
        assert_eq!(
            outcome("permissions=600\n\npermissions=600").state,
            State::Fail
        );
        // No output at all is one empty line, which fails.
        assert_eq!(outcome("").state, State::Fail);
        let result = outcome("permissions=600\npermissions=644\npermissions=600\n");
        assert_eq!(
            result.expected_result,
            "permissions has permissions 644, expected 600 or more restrictive"
        );
        assert_eq!(
            result.actual_value,
            "permissions=600\npermissions=644\npermissions=600"
        );
        assert!(result.is_multiple);
    }

    #[test]
    fn an_unknown_bin_op_fails_with_its_own_actual_value() {
        let mut check = scored("echo hello", vec![flag("hello")]);
        check.tests.as_mut().unwrap().bin_op = "xor".into();
        let result = run(&check, &[("echo hello", "hello\n", 0)]);
        assert_eq!(result.state, State::Fail);
        assert_eq!(result.reason, "unknown binary operator for tests xor");
        assert_eq!(
            result.actual_value,
            "unknown binary operator for tests xor\n"
        );
        assert_eq!(result.expected_result, "");
        let unscored = Check {
            scored: false,
            ..check
        };
        assert_eq!(
            run(&unscored, &[("echo hello", "hello\n", 0)]).state,
            State::Warn
        );
    }

    #[test]
    fn a_pattern_go_cannot_compile_fails_the_check_with_a_reason() {
        let check = scored("echo 'a(b=1'", vec![flag("a(b")]);
        let result = run(&check, &[("echo 'a(b=1'", "a(b=1\n", 0)]);
        assert_eq!(result.state, State::Fail);
        assert!(
            result.reason.contains("error parsing regexp"),
            "{}",
            result.reason
        );
        let regex = scored("echo x=1", vec![compared(flag("x"), "regex", "[")]);
        assert!(
            run(&regex, &[("echo x=1", "x=1\n", 0)])
                .reason
                .contains("error parsing regexp")
        );
    }

    fn group(id: &str, kind: &str, checks: Vec<Check>) -> Group {
        Group {
            id: id.into(),
            text: format!("Group {id}"),
            kind: kind.into(),
            checks,
        }
    }

    fn with_id(id: &str, scored_check: bool) -> Check {
        Check {
            id: id.into(),
            scored: scored_check,
            ..scored("echo hello", vec![flag("hello")])
        }
    }

    fn controls(id: &str, node_type: &str, groups: Vec<Group>) -> Controls {
        Controls {
            file: "cis-1.12/x.yaml".into(),
            version: "cis-1.12".into(),
            id: id.into(),
            text: format!("Section {id}"),
            node_type: node_type.into(),
            groups,
            ..Controls::default()
        }
    }

    fn report(sections: Vec<Controls>, targets: &[&str], filter: &Filter) -> NodeReport {
        let benchmark = Benchmark {
            name: "cis-1.12".into(),
            sections,
        };
        let mut snapshot = snapshot(&[("echo hello", "hello\n", 0)]);
        snapshot.targets = targets
            .iter()
            .map(|node_type| Target {
                node_type: (*node_type).into(),
                variables: Variables::default(),
                notes: Vec::new(),
            })
            .collect();
        evaluate(&benchmark, &snapshot, filter)
    }

    fn ids(report: &NodeReport) -> Vec<(String, Vec<String>)> {
        report.sections[0]
            .groups
            .iter()
            .map(|group| {
                (
                    group.id.clone(),
                    group.checks.iter().map(|check| check.id.clone()).collect(),
                )
            })
            .collect()
    }

    fn sample() -> Vec<Controls> {
        vec![controls(
            "1",
            "master",
            vec![
                group(
                    "1.1",
                    "",
                    vec![with_id("1.1.1", true), with_id("1.1.2", false)],
                ),
                group("1.2", "", vec![with_id("1.2.1", true)]),
            ],
        )]
    }

    #[test]
    fn filters_leave_checks_out_and_groups_without_checks_disappear() {
        let all = report(sample(), &["master"], &Filter::default());
        assert_eq!(ids(&all).len(), 2);
        assert_eq!(
            all.totals,
            Totals {
                pass: 3,
                ..Totals::default()
            }
        );
        let by_check = Filter::from_flags("1.1.2, 1.2.1,", "", "", true, true).unwrap();
        assert_eq!(
            ids(&report(sample(), &["master"], &by_check)),
            [
                ("1.1".to_owned(), vec!["1.1.2".to_owned()]),
                ("1.2".to_owned(), vec!["1.2.1".to_owned()])
            ]
        );
        let by_group = Filter::from_flags("", "1.2", "", true, true).unwrap();
        assert_eq!(
            ids(&report(sample(), &["master"], &by_group)),
            [("1.2".to_owned(), vec!["1.2.1".to_owned()])]
        );
        let unscored_only = Filter {
            scored: false,
            ..Filter::default()
        };
        assert_eq!(
            ids(&report(sample(), &["master"], &unscored_only)),
            [("1.1".to_owned(), vec!["1.1.2".to_owned()])]
        );
        let nothing = Filter {
            scored: false,
            unscored: false,
            ..Filter::default()
        };
        let empty = report(sample(), &["master"], &nothing);
        assert!(empty.sections[0].groups.is_empty());
        assert_eq!(empty.totals, Totals::default());
        assert_eq!(
            Filter::from_flags("1.1.1", "1.1", "", true, true),
            Err(FilterError::CheckAndGroup)
        );
    }

    #[test]
    fn skipped_groups_and_ids_are_info() {
        let skip = Filter::from_flags("", "", "1.1, 1.2.1", true, true).unwrap();
        let skipped = report(sample(), &["master"], &skip);
        let section = &skipped.sections[0];
        assert!(
            section
                .groups
                .iter()
                .flat_map(|group| &group.checks)
                .all(|check| check.state == State::Info && check.kind == "skip")
        );
        assert_eq!(
            section.groups[0].totals,
            Totals {
                info: 2,
                ..Totals::default()
            }
        );
        assert_eq!(
            section.totals,
            Totals {
                info: 3,
                ..Totals::default()
            }
        );
        let mut typed = sample();
        typed[0].groups[1].kind = "skip".into();
        let typed = report(typed, &["master"], &Filter::default());
        assert_eq!(typed.sections[0].groups[1].checks[0].state, State::Info);
        assert_eq!(typed.sections[0].groups[1].kind, "skip");
        assert_eq!(typed.sections[0].groups[0].checks[0].state, State::Pass);
    }

    #[test]
    fn filter_flags_are_read_as_kube_bench_reads_them() {
        let filter = Filter::from_flags(",1.1.1 ,, 1.1.2,,", "", "a,, b ", false, true).unwrap();
        assert_eq!(
            filter.checks,
            ["1.1.1", "1.1.2", ""].map(String::from).into()
        );
        assert_eq!(filter.skip, ["a", "", "b"].map(String::from).into());
        assert!(filter.groups.is_empty());
        assert!(!filter.scored && filter.unscored);
        assert_eq!(
            Filter::from_flags("", "", "", true, true).unwrap(),
            Filter::default()
        );
    }

    #[test]
    fn sections_follow_the_snapshot_targets_in_section_id_order() {
        let sections = vec![
            controls(
                "4",
                "node",
                vec![group("4.1", "", vec![with_id("4.1.1", true)])],
            ),
            controls(
                "1",
                "master",
                vec![group("1.1", "", vec![with_id("1.1.1", true)])],
            ),
            controls(
                "2",
                "etcd",
                vec![group("2", "", vec![with_id("2.1", true)])],
            ),
        ];
        let report = report(
            sections,
            &["node", "master", "policies"],
            &Filter::default(),
        );
        let order: Vec<&str> = report
            .sections
            .iter()
            .map(|section| section.id.as_str())
            .collect();
        assert_eq!(order, ["1", "4"]);
        assert_eq!(report.sections[0].detected_version, "1.32");
        assert_eq!(report.sections[0].version, "cis-1.12");
        assert_eq!(report.sections[0].node_type, "master");
        assert_eq!(
            (report.node.as_str(), report.benchmark.as_str()),
            ("node-1", "cis-1.12")
        );
        assert_eq!(report.totals.pass, 2);
    }

    #[test]
    fn variables_are_substituted_before_the_audits_are_looked_up() {
        let check = Check {
            id: "4.1.1".into(),
            ..scored(
                "stat -c permissions=%a $kubeletsvc",
                vec![compared(flag("permissions"), "bitmask", "600")],
            )
        };
        let benchmark = Benchmark {
            name: "cis-1.12".into(),
            sections: vec![controls("4", "node", vec![group("4.1", "", vec![check])])],
        };
        let mut snapshot = snapshot(&[(
            "stat -c permissions=%a /etc/kubelet.service",
            "permissions=644\n",
            0,
        )]);
        let mut variables = Variables::default();
        variables
            .svc
            .insert("kubelet".into(), "/etc/kubelet.service".into());
        snapshot.targets = vec![Target {
            node_type: "node".into(),
            variables,
            notes: Vec::new(),
        }];
        let result =
            &evaluate(&benchmark, &snapshot, &Filter::default()).sections[0].groups[0].checks[0];
        assert_eq!(result.audit, "stat -c permissions=%a /etc/kubelet.service");
        assert_eq!(result.state, State::Fail);
        assert_eq!(
            result.expected_result,
            "permissions has permissions 644, expected 600 or more restrictive"
        );
    }
}

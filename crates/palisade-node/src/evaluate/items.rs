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

thread_local! {
    /// The last config output decoded: a check's items, and consecutive checks, read the same
    /// file.
    static LAST_DECODED: RefCell<Option<(String, Rc<Result<Value, String>>)>> = const { RefCell::new(None) };
}

fn decoded(text: &str) -> Rc<Result<Value, String>> {
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

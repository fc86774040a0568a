//! The conditions of `deny` and `preconditions`, evaluated as Kyverno evaluates them
//! (pkg/engine/variables/evaluate.go): an `any`/`all` block, a list of such blocks, or the
//! legacy list of conditions. Each condition's key and value are substituted first, then
//! compared by its operator.

mod membership;
mod operators;

use serde_json::Value;

use crate::variables::{self, Substitution};

/// The outcome of a set of conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub passed: bool,
    /// Kyverno's message for the outcome: on failure the `message` fields of the conditions
    /// that failed, on success those of the conditions that passed, joined with `; ` (`;` for
    /// the legacy list); `None` when none of them has a message.
    pub message: Option<String>,
}

/// Why conditions could not be evaluated, in Kyverno's words.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// Neither an `any`/`all` object nor a list of conditions.
    InvalidConditions,
    /// A condition is not an object with `key`, `operator` and `value`.
    InvalidCondition(String),
    /// The key's variables could not be substituted.
    Key(variables::Error),
    /// The value's variables could not be substituted.
    Value(variables::Error),
    /// The operator is not one Kyverno knows.
    UnknownOperator(String),
    /// Kyverno would crash on this input (a type assertion on a list of non-strings).
    Unsupported(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidConditions => f.write_str("invalid condition"),
            Error::InvalidCondition(reason) => write!(f, "invalid condition: {reason}"),
            Error::Key(error) => write!(f, "failed to substitute variables in condition key: {error}"),
            Error::Value(error) => write!(f, "failed to substitute variables in condition value: {error}"),
            // Kyverno wraps a nil error here, which Go prints this way.
            Error::UnknownOperator(_) => f.write_str("failed to create handler for condition operator: %!w(<nil>)"),
            Error::Unsupported(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for Error {}

/// Evaluates `conditions` (an `any`/`all` object, a list of them, or the legacy list of
/// conditions; `null` passes) against `context`, the JSON root variables are read from.
pub fn evaluate(conditions: &Value, context: &Value) -> Result<Evaluation, Error> {
    let context = Substitution::new(context);
    match conditions {
        Value::Null => Ok(Evaluation { passed: true, message: None }),
        Value::Object(_) => any_all(conditions, &context),
        Value::Array(items) if items.iter().any(is_any_all) => blocks(items, &context),
        Value::Array(items) => legacy(items, &context),
        _ => Err(Error::InvalidConditions),
    }
}

fn is_any_all(item: &Value) -> bool {
    item.get("any").is_some() || item.get("all").is_some()
}

fn joined(messages: Vec<String>, separator: &str) -> Option<String> {
    let messages: Vec<String> = messages.into_iter().filter(|message| !message.is_empty()).collect();
    (!messages.is_empty()).then(|| messages.join(separator))
}

/// One `any`/`all` block: at least one `any` condition (when there are any) and every `all`
/// condition must hold; each list stops at its first decisive condition.
fn any_all(block: &Value, context: &Substitution) -> Result<Evaluation, Error> {
    let (mut passed_messages, mut failed_messages) = (Vec::new(), Vec::new());
    let mut any_passed = true;
    if let Some(any) = block.get("any").filter(|any| !any.is_null()) {
        any_passed = false;
        for condition in list(any)? {
            let (passed, message) = single(condition, context)?;
            if passed {
                any_passed = true;
                passed_messages.push(message);
                break;
            }
            failed_messages.push(message);
        }
    }
    let mut all_passed = true;
    if let Some(all) = block.get("all").filter(|all| !all.is_null()) {
        for condition in list(all)? {
            let (passed, message) = single(condition, context)?;
            if !passed {
                all_passed = false;
                failed_messages.push(message);
                break;
            }
            passed_messages.push(message);
        }
    }
    let passed = any_passed && all_passed;
    let message = joined(if passed { passed_messages } else { failed_messages }, "; ");
    Ok(Evaluation { passed, message })
}

fn list(conditions: &Value) -> Result<&[Value], Error> {
    conditions.as_array().map(Vec::as_slice).ok_or(Error::InvalidConditions)
}

/// A list of `any`/`all` blocks: all must pass; the first failing block's message is kept.
fn blocks(items: &[Value], context: &Substitution) -> Result<Evaluation, Error> {
    let mut messages = Vec::new();
    for block in items {
        let evaluation = any_all(block, context)?;
        if !evaluation.passed {
            return Ok(evaluation);
        }
        messages.extend(evaluation.message);
    }
    Ok(Evaluation { passed: true, message: joined(messages, ";") })
}

/// The legacy list: every condition must hold.
fn legacy(items: &[Value], context: &Substitution) -> Result<Evaluation, Error> {
    let mut messages = Vec::new();
    for condition in items {
        let (passed, message) = single(condition, context)?;
        if !passed {
            return Ok(Evaluation { passed: false, message: joined(vec![message], ";") });
        }
        messages.push(message);
    }
    Ok(Evaluation { passed: true, message: joined(messages, ";") })
}

/// One condition: whether it holds, and its `message` (not substituted, as in Kyverno).
fn single(condition: &Value, context: &Substitution) -> Result<(bool, String), Error> {
    let Value::Object(fields) = condition else {
        return Err(Error::InvalidCondition("a condition must be an object".into()));
    };
    let null = Value::Null;
    let key = context.all(fields.get("key").unwrap_or(&null)).map_err(Error::Key)?;
    let value = context.all(fields.get("value").unwrap_or(&null)).map_err(Error::Value)?;
    let operator_name = fields.get("operator").and_then(Value::as_str).unwrap_or("");
    let operator = operators::Operator::parse(operator_name).ok_or_else(|| Error::UnknownOperator(operator_name.to_owned()))?;
    let passed = operator.evaluate(&key, &value)?;
    let message = fields.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
    Ok((passed, message))
}

//! JMESPath as Kyverno evaluates it: the jmespath.rs interpreter with Kyverno's functions
//! registered, and the one behaviour Kyverno's go-jmespath fork adds to the language: a path
//! through an object that lacks the key fails with `Unknown key "x" in path` instead of giving
//! `null`. That failure is swallowed where the fork swallows it (`||`, pipes, function
//! arguments, projections, filters, multi-selects, comparisons), so `a.missing || 'x'` still works.

mod functions;
mod go_regex;
pub(crate) mod go_time;
pub(crate) mod semver;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use jmespath::ast::Ast;
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, RuntimeError, Variable};
use serde_json::Value;

/// Why a JMESPath expression could not be evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The expression does not parse.
    Syntax(String),
    /// A path went through an object without that key (Kyverno's `NotFoundError`).
    UnknownKey(String),
    /// A function refused its arguments, with Kyverno's wording where it has one.
    Function(String),
    /// Any other evaluation failure (unknown function, wrong arity or argument type).
    Evaluation(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Syntax(message) | Error::Function(message) | Error::Evaluation(message) => f.write_str(message),
            Error::UnknownKey(key) => write!(f, "Unknown key \"{key}\" in path"),
        }
    }
}

impl std::error::Error for Error {}

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    functions::register(&mut runtime);
    runtime
});

/// Compiled expressions by source text. Policies repeat the same few hundred expressions over
/// every object; the cap only guards against unbounded growth from generated expressions.
static COMPILED: LazyLock<RwLock<HashMap<String, Arc<Ast>>>> = LazyLock::new(Default::default);
const COMPILED_CAPACITY: usize = 8192;

fn compile(expression: &str) -> Result<Arc<Ast>, Error> {
    if let Some(ast) = COMPILED.read().ok().and_then(|cache| cache.get(expression).cloned()) {
        return Ok(ast);
    }
    let ast = Arc::new(jmespath::parse(expression).map_err(|error| Error::Syntax(describe(&error)))?);
    if let Ok(mut cache) = COMPILED.write() {
        if cache.len() >= COMPILED_CAPACITY {
            cache.clear();
        }
        cache.insert(expression.to_owned(), ast.clone());
    }
    Ok(ast)
}

/// Evaluates `expression` against `data` with Kyverno's functions and missing-key rule.
pub fn search(expression: &str, data: &Value) -> Result<Value, Error> {
    search_variable(expression, &converted(data))
}

thread_local! {
    /// A value and its conversion, while [`with_converted`] runs.
    static CONVERTED: RefCell<Option<(*const Value, Rcvar)>> = const { RefCell::new(None) };
}

/// Runs `run` with the conversion of `value` known: every query on `value` itself inside it
/// (one request's context, read by many rules) uses `variable` instead of converting again.
/// Matching by address is sound because `value` stays borrowed, so unchanged and alive, while
/// `run` runs.
pub fn with_converted<R>(value: &Value, variable: &Rcvar, run: impl FnOnce() -> R) -> R {
    struct Restore(Option<(*const Value, Rcvar)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CONVERTED.with(|converted| *converted.borrow_mut() = previous);
        }
    }
    let previous = CONVERTED.with(|converted| converted.replace(Some((std::ptr::from_ref(value), variable.clone()))));
    let _restore = Restore(previous);
    run()
}

/// `data` as a JMESPath variable: the known conversion when [`with_converted`] gave one.
pub(crate) fn converted(data: &Value) -> Rcvar {
    let known = CONVERTED.with(|converted| converted.borrow().as_ref().filter(|(address, _)| std::ptr::eq(*address, data)).map(|(_, variable)| variable.clone()));
    known.unwrap_or_else(|| to_variable(data))
}

/// [`search`] on data already converted, so a caller evaluating many expressions against one
/// context converts it once.
pub(crate) fn search_variable(expression: &str, data: &Rcvar) -> Result<Value, Error> {
    let ast = compile(expression)?;
    let mut context = Context::new(expression, &RUNTIME);
    evaluate(&ast, data, &mut context).map(|result| from_variable(&result))
}

/// Evaluates the nodes along which Kyverno's fork reports a missing key, and hands every other
/// node to jmespath.rs, whose `null` for a missing key is what the fork yields there.
fn evaluate(node: &Ast, data: &Rcvar, context: &mut Context<'_>) -> Result<Rcvar, Error> {
    match node {
        Ast::Field { name, .. } => match &**data {
            Variable::Object(map) => map.get(name).cloned().ok_or_else(|| Error::UnknownKey(name.clone())),
            _ => Ok(null()),
        },
        Ast::Identity { .. } => Ok(data.clone()),
        Ast::Subexpr { offset, lhs, rhs } if is_pipe(context.expression, *offset) => {
            let left = swallow_unknown_key(evaluate(lhs, data, context))?;
            swallow_unknown_key(evaluate(rhs, &left, context))
        }
        Ast::Subexpr { lhs, rhs, .. } => {
            let left = evaluate(lhs, data, context)?;
            evaluate(rhs, &left, context)
        }
        // The fork drops an element whose right-hand side reads a missing key, before any
        // function after it sees a null (`containers[].resources.keys(@)` skips containers
        // without resources instead of failing in `keys`).
        Ast::Projection { lhs, rhs, .. } => {
            let left = swallow_unknown_key(evaluate(lhs, data, context))?;
            let Some(elements) = left.as_array() else { return Ok(null()) };
            let mut collected = Vec::new();
            for element in elements {
                match evaluate(rhs, element, context) {
                    Ok(current) if !current.is_null() => collected.push(current),
                    Ok(_) | Err(Error::UnknownKey(_)) => {}
                    Err(error) => return Err(error),
                }
            }
            Ok(Rcvar::new(Variable::Array(collected)))
        }
        Ast::Flatten { node, .. } => {
            let inner = evaluate(node, data, context)?;
            let Some(elements) = inner.as_array() else { return Ok(null()) };
            let mut flat = Vec::new();
            for element in elements {
                match element.as_array() {
                    Some(nested) => flat.extend(nested.iter().cloned()),
                    None => flat.push(element.clone()),
                }
            }
            Ok(Rcvar::new(Variable::Array(flat)))
        }
        Ast::And { lhs, rhs, .. } => {
            let left = swallow_unknown_key(evaluate(lhs, data, context))?;
            if left.is_truthy() { evaluate(rhs, data, context) } else { Ok(left) }
        }
        Ast::Or { lhs, rhs, .. } => {
            let left = swallow_unknown_key(evaluate(lhs, data, context))?;
            if left.is_truthy() { Ok(left) } else { swallow_unknown_key(evaluate(rhs, data, context)) }
        }
        other => jmespath::interpret(data, other, context).map_err(|error| runtime_error(&error)),
    }
}

/// jmespath.rs parses `a | b` and `a.b` into the same node; only the source (at the node's
/// byte offset) tells them apart.
fn is_pipe(expression: &str, offset: usize) -> bool {
    expression.as_bytes().get(offset) == Some(&b'|')
}

fn swallow_unknown_key(result: Result<Rcvar, Error>) -> Result<Rcvar, Error> {
    match result {
        Err(Error::UnknownKey(_)) => Ok(null()),
        other => other,
    }
}

fn null() -> Rcvar {
    Rcvar::new(Variable::Null)
}

/// Errors raised while evaluating: our functions report theirs as `ErrorReason::Parse` (the
/// only free-text reason jmespath.rs has; real parse errors cannot happen after compilation).
fn runtime_error(error: &JmespathError) -> Error {
    match &error.reason {
        ErrorReason::Parse(message) => Error::Function(message.clone()),
        ErrorReason::Runtime(RuntimeError::UnknownFunction(name)) => Error::Evaluation(format!("unknown function: {name}")),
        ErrorReason::Runtime(RuntimeError::InvalidType { expected, position, .. }) => {
            let function = function_at(&error.expression, error.offset);
            Error::Function(format!("JMESPath function '{function}': argument #{} is not of type {}", position + 1, kyverno_type_name(expected)))
        }
        ErrorReason::Runtime(reason) => Error::Evaluation(reason.to_string()),
    }
}

/// The name of the function whose `(` is at byte `offset` in `expression`.
fn function_at(expression: &str, offset: usize) -> &str {
    let before = expression.get(..offset).unwrap_or("");
    let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |index| index + 1);
    &before[start..]
}

/// Argument types named as Kyverno's functions name them in their own checks.
fn kyverno_type_name(expected: &str) -> &str {
    match expected {
        "number" => "float64",
        "string|number" => "String or Real",
        "object" => "Object",
        "array" => "Array",
        "object|array" => "Object or Array",
        other => other,
    }
}

fn describe(error: &JmespathError) -> String {
    match &error.reason {
        ErrorReason::Parse(message) => format!("SyntaxError: {message} (column {})", error.column),
        ErrorReason::Runtime(reason) => reason.to_string(),
    }
}

/// A JSON value as a JMESPath variable.
pub fn to_variable(value: &Value) -> Rcvar {
    Rcvar::new(match value {
        Value::Null => Variable::Null,
        Value::Bool(flag) => Variable::Bool(*flag),
        Value::Number(number) => Variable::Number(number.clone()),
        Value::String(text) => Variable::String(text.clone()),
        Value::Array(items) => Variable::Array(items.iter().map(to_variable).collect()),
        Value::Object(map) => Variable::Object(map.iter().map(|(key, item)| (key.clone(), to_variable(item))).collect()),
    })
}

/// A JMESPath result as JSON. Kyverno's numbers are float64; whole ones come back as integers so
/// that `2` reads as `2`, not `2.0`.
pub(crate) fn from_variable(variable: &Variable) -> Value {
    match variable {
        Variable::Null | Variable::Expref(_) => Value::Null,
        Variable::Bool(flag) => Value::Bool(*flag),
        Variable::Number(number) => number_value(number.as_f64().unwrap_or(0.0)),
        Variable::String(text) => Value::String(text.clone()),
        Variable::Array(items) => Value::Array(items.iter().map(|item| from_variable(item)).collect()),
        Variable::Object(map) => Value::Object(map.iter().map(|(key, item)| (key.clone(), from_variable(item))).collect()),
    }
}

/// A float64 as JSON: whole values within the exact integer range as integers.
pub(crate) fn number_value(number: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if number.fract() == 0.0 && number.abs() <= EXACT {
        Value::from(number as i64)
    } else {
        serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_known_conversion_serves_queries_on_that_value_only_while_it_is_given() {
        let context = json!({"request": {"name": "web"}});
        let other = json!({"request": {"name": "web"}});
        // A stand-in conversion that differs from the value shows which one a query read.
        let marked = to_variable(&json!({"request": {"name": "converted once"}}));
        with_converted(&context, &marked, || {
            assert_eq!(search("request.name", &context).unwrap(), json!("converted once"));
            assert_eq!(search("request.name", &other).unwrap(), json!("web"), "another value, even an equal one, is converted");
            let inner = json!({"request": {"name": "inner"}});
            with_converted(&inner, &to_variable(&inner), || assert_eq!(search("request.name", &inner).unwrap(), json!("inner")));
            assert_eq!(search("request.name", &context).unwrap(), json!("converted once"), "the outer conversion is back");
        });
        assert_eq!(search("request.name", &context).unwrap(), json!("web"));
    }
}

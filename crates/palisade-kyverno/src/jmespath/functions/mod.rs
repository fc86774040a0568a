//! Kyverno's JMESPath functions (pkg/engine/jmespath), registered on the jmespath.rs runtime
//! with the argument types Kyverno declares, so type and arity errors arise where Kyverno's arise.

mod arithmetic;
mod collections;
mod encoding;
mod references;
mod strings;
mod time;
mod unsupported;

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime};
use serde_json::Value;

use super::{from_variable, to_variable};

/// A function body: its arguments, already checked against the signature, as JSON.
type Body = fn(&[Value]) -> Result<Value, String>;

/// Argument types as Kyverno declares them.
#[derive(Clone, Copy)]
enum Arg {
    Any,
    String,
    Number,
    Object,
    Array,
    StringOrNumber,
    ObjectOrArray,
}

impl Arg {
    fn argument_type(self) -> ArgumentType {
        match self {
            Arg::Any => ArgumentType::Any,
            Arg::String => ArgumentType::String,
            Arg::Number => ArgumentType::Number,
            Arg::Object => ArgumentType::Object,
            Arg::Array => ArgumentType::Array,
            Arg::StringOrNumber => ArgumentType::Union(vec![ArgumentType::String, ArgumentType::Number]),
            Arg::ObjectOrArray => ArgumentType::Union(vec![ArgumentType::Object, ArgumentType::Array]),
        }
    }
}

fn define(runtime: &mut Runtime, name: &'static str, arguments: &[Arg], body: Body) {
    let signature = Signature::new(arguments.iter().map(|arg| arg.argument_type()).collect(), None);
    let call = move |args: &[Rcvar], context: &mut Context<'_>| -> Result<Rcvar, JmespathError> {
        let values: Vec<Value> = args.iter().map(|arg| from_variable(arg)).collect();
        match body(&values) {
            Ok(result) => Ok(to_variable(&result)),
            Err(message) => Err(JmespathError::from_ctx(context, ErrorReason::Parse(message))),
        }
    };
    runtime.register_function(name, Box::new(CustomFunction::new(signature, Box::new(call))));
}

pub(super) fn register(runtime: &mut Runtime) {
    strings::register(runtime);
    encoding::register(runtime);
    arithmetic::register(runtime);
    collections::register(runtime);
    time::register(runtime);
    references::register(runtime);
    unsupported::register(runtime);
}

/// Kyverno's message for a function's own failure.
fn failure(function: &str, message: impl std::fmt::Display) -> String {
    format!("JMESPath function '{function}': {message}")
}

/// Kyverno's message for an argument of the wrong type (1-based position).
fn wrong_type(function: &str, position: usize, expected: &str) -> String {
    failure(function, format!("argument #{position} is not of type {expected}"))
}

fn string_arg<'a>(function: &str, args: &'a [Value], index: usize) -> Result<&'a str, String> {
    args.get(index).and_then(Value::as_str).ok_or_else(|| wrong_type(function, index + 1, "string"))
}

fn number_arg(function: &str, args: &[Value], index: usize) -> Result<f64, String> {
    args.get(index).and_then(Value::as_f64).ok_or_else(|| wrong_type(function, index + 1, "float64"))
}

/// Kyverno's `ifaceToString` for string-or-number arguments: numbers as float32 shortest digits.
fn string_or_number_arg(function: &str, args: &[Value], index: usize) -> Result<String, String> {
    match args.get(index) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(crate::go::format_float32(number.as_f64().unwrap_or(0.0))),
        Some(Value::Bool(flag)) => Ok(flag.to_string()),
        _ => Err(wrong_type(function, index + 1, "String or Real")),
    }
}

/// Kyverno's `intNumber`: a float64 that is a whole number within range.
fn integer(number: f64) -> Result<i64, String> {
    if !number.is_finite() || number.trunc() != number {
        return Err(format!("expected an integer number but got: {}", crate::go::sprint_float(number)));
    }
    if number < i64::MIN as f64 || number >= i64::MAX as f64 {
        return Err(format!("number is outside the range of integer numbers: {}", crate::go::sprint_float(number)));
    }
    Ok(number as i64)
}

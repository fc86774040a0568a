//! Arithmetic on numbers, Kubernetes quantities (`'12Ki'`) and durations (`'1h30m'`), with the
//! combinations Kyverno allows: like with like for `+`, `-` and `%`, any with a number for `*`
//! and `/`, and a quantity or duration divided by its own kind giving a number.

use jmespath::Runtime;
use serde_json::Value;

use super::{Arg, define, failure, integer, number_arg};
use crate::duration::{self, Duration};
use crate::quantity::{self, Quantity};
use crate::go;
use crate::jmespath::number_value;

#[derive(Clone, Copy, Debug)]
enum Operand {
    Scalar(f64),
    Quantity(Quantity),
    Duration(Duration),
}

use Operand::{Duration as D, Quantity as Q, Scalar as S};

/// A number is a scalar; a string is a quantity if it parses as one, else a duration.
fn operand(function: &str, value: &Value) -> Result<Operand, String> {
    match value {
        Value::Number(number) => Ok(S(number.as_f64().unwrap_or(0.0))),
        Value::String(text) => quantity::parse(text)
            .map(Q)
            .or_else(|_| duration::parse(text).map(D))
            .map_err(|_| failure(function, "invalid operand")),
        _ => Err(failure(function, "invalid operand")),
    }
}

fn operands(function: &str, args: &[Value]) -> Result<(Operand, Operand), String> {
    let missing = || failure(function, "invalid operand");
    Ok((operand(function, args.first().ok_or_else(missing)?)?, operand(function, args.get(1).ok_or_else(missing)?)?))
}

fn mismatch(function: &str) -> String {
    failure(function, "Types mismatch")
}

fn zero_divisor(function: &str) -> String {
    failure(function, "Zero divisor passed")
}

fn non_integer_modulo() -> String {
    failure("modulo", "Non-integer argument(s) passed for modulo")
}

/// A scalar as the quantity Kyverno makes of it: `ParseQuantity(fmt.Sprint(x))`.
fn scalar_quantity(x: f64) -> Result<Quantity, String> {
    quantity::parse(&go::sprint_float(x))
}

fn text(value: impl ToString) -> Value {
    Value::String(value.to_string())
}

/// `left + right`, or `left - right` when `subtract`; `function` names the caller in errors.
fn add(function: &str, left: Operand, right: Operand, subtract: bool) -> Result<Value, String> {
    match (left, right) {
        (Q(a), Q(b)) => Ok(text(a.add(&if subtract { b.negated() } else { b })?)),
        (D(a), D(b)) => Ok(text(Duration(if subtract { a.0.wrapping_sub(b.0) } else { a.0.wrapping_add(b.0) }))),
        (S(a), S(b)) => Ok(number_value(if subtract { a - b } else { a + b })),
        _ => Err(mismatch(function)),
    }
}

fn multiply(left: Operand, right: Operand) -> Result<Value, String> {
    match (left, right) {
        (S(a), S(b)) => Ok(number_value(a * b)),
        (Q(q), S(s)) | (S(s), Q(q)) => Ok(text(q.multiply(&scalar_quantity(s)?)?)),
        (D(d), S(s)) | (S(s), D(d)) => Ok(text(Duration::from_seconds(d.seconds() * s))),
        _ => Err(mismatch("multiply")),
    }
}

fn divide(left: Operand, right: Operand) -> Result<Value, String> {
    match (left, right) {
        (Q(a), Q(b)) => {
            if b.as_f64() == 0.0 {
                return Err(zero_divisor("divide"));
            }
            Ok(number_value(a.as_f64() / b.as_f64()))
        }
        (Q(a), S(s)) => {
            if s == 0.0 {
                return Err(zero_divisor("divide"));
            }
            Ok(text(a.divide_rounding_down(&scalar_quantity(s)?)?))
        }
        (D(a), D(b)) => {
            if b.seconds() == 0.0 {
                return Err(zero_divisor("divide"));
            }
            Ok(number_value(a.seconds() / b.seconds()))
        }
        (D(d), S(s)) => {
            if s == 0.0 {
                return Err(zero_divisor("divide"));
            }
            Ok(text(Duration::from_seconds(d.seconds() / s)))
        }
        (S(a), S(b)) => {
            if b == 0.0 {
                return Err(zero_divisor("divide"));
            }
            Ok(number_value(a / b))
        }
        _ => Err(mismatch("divide")),
    }
}

/// A float64 Kyverno accepts as a modulo operand: one that survives `int64()` unchanged.
fn whole(x: f64) -> Result<i64, String> {
    let truncated = x as i64;
    if truncated as f64 == x { Ok(truncated) } else { Err(non_integer_modulo()) }
}

fn modulo(left: Operand, right: Operand) -> Result<Value, String> {
    match (left, right) {
        (Q(a), Q(b)) => {
            let (dividend, divisor) = (whole(a.as_f64())?, whole(b.as_f64())?);
            if divisor == 0 {
                return Err(zero_divisor("modulo"));
            }
            Ok(text(Quantity::from_integer(i128::from(dividend.wrapping_rem(divisor)), a.format)))
        }
        (D(a), D(b)) => {
            if b.0 == 0 {
                return Err(zero_divisor("modulo"));
            }
            Ok(text(Duration(a.0.wrapping_rem(b.0))))
        }
        (S(a), S(b)) => {
            let (dividend, divisor) = (whole(a)?, whole(b)?);
            if divisor == 0 {
                return Err(zero_divisor("modulo"));
            }
            Ok(number_value(dividend.wrapping_rem(divisor) as f64))
        }
        _ => Err(mismatch("modulo")),
    }
}

pub(super) fn register(runtime: &mut Runtime) {
    use Arg::{Any, Array, Number};
    define(runtime, "add", &[Any, Any], |args| {
        let (left, right) = operands("add", args)?;
        add("add", left, right, false)
    });
    define(runtime, "subtract", &[Any, Any], |args| {
        let (left, right) = operands("subtract", args)?;
        add("subtract", left, right, true)
    });
    define(runtime, "sum", &[Array], |args| {
        let Some(Value::Array(items)) = args.first() else {
            return Err(mismatch("sum"));
        };
        let Some((first, rest)) = items.split_first() else {
            return Err(failure("sum", "at least one element in the array is required"));
        };
        // Kyverno folds pairwise, so a single element comes back as given.
        rest.iter().try_fold(first.clone(), |total, item| {
            add("sum", operand("sum", &total)?, operand("sum", item)?, false)
        })
    });
    define(runtime, "multiply", &[Any, Any], |args| {
        let (left, right) = operands("multiply", args)?;
        multiply(left, right)
    });
    define(runtime, "divide", &[Any, Any], |args| {
        let (left, right) = operands("divide", args)?;
        divide(left, right)
    });
    define(runtime, "modulo", &[Any, Any], |args| {
        let (left, right) = operands("modulo", args)?;
        modulo(left, right)
    });
    define(runtime, "round", &[Number, Number], |args| {
        let value = number_arg("round", args, 0)?;
        let places = integer(number_arg("round", args, 1)?).map_err(|_| failure("round", "Non-integer argument(s) passed for round off"))?;
        if places < 0 {
            // Kyverno's format string lacks its arguments; this is what Go prints.
            return Err(failure("round", "%!d(MISSING) argument is out of bounds (%!d(MISSING))"));
        }
        let shift = 10f64.powi(places.min(i64::from(i32::MAX)) as i32);
        Ok(number_value((value * shift).round() / shift))
    });
}

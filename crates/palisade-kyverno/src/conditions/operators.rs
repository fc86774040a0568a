//! Condition operators (pkg/engine/variables/operator): equality with durations, quantities
//! and wildcards; ordering of numbers, durations, quantities and semantic versions; and the
//! deprecated `Duration*` operators. Kyverno's numbers are float64, as they are here.

use std::cmp::Ordering;

use serde_json::Value;

use super::Error;
use super::membership::{self, Membership};
use crate::duration::{self, Duration};
use crate::go;
use crate::jmespath::semver;
use crate::quantity;
use crate::wildcard;

/// An ordering test, shared by the numeric and duration operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Comparison {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Comparison {
    /// Whether `ordering` (key against value) satisfies the test; unordered values (NaN) never do.
    pub(super) fn holds(self, ordering: Option<Ordering>) -> bool {
        match (self, ordering) {
            (_, None) => false,
            (Comparison::Greater, Some(order)) => order == Ordering::Greater,
            (Comparison::GreaterOrEqual, Some(order)) => order != Ordering::Less,
            (Comparison::Less, Some(order)) => order == Ordering::Less,
            (Comparison::LessOrEqual, Some(order)) => order != Ordering::Greater,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operator {
    Equals,
    NotEquals,
    Membership(Membership),
    Numeric(Comparison),
    Duration(Comparison),
}

impl Operator {
    /// Kyverno matches operator names without regard to case.
    pub(super) fn parse(name: &str) -> Option<Operator> {
        use Comparison::*;
        Some(match name.to_ascii_lowercase().as_str() {
            "equal" | "equals" => Operator::Equals,
            "notequal" | "notequals" => Operator::NotEquals,
            "in" => Operator::Membership(Membership::In),
            "notin" => Operator::Membership(Membership::NotIn),
            "anyin" => Operator::Membership(Membership::AnyIn),
            "allin" => Operator::Membership(Membership::AllIn),
            "anynotin" => Operator::Membership(Membership::AnyNotIn),
            "allnotin" => Operator::Membership(Membership::AllNotIn),
            "greaterthan" => Operator::Numeric(Greater),
            "greaterthanorequals" => Operator::Numeric(GreaterOrEqual),
            "lessthan" => Operator::Numeric(Less),
            "lessthanorequals" => Operator::Numeric(LessOrEqual),
            "durationgreaterthan" => Operator::Duration(Greater),
            "durationgreaterthanorequals" => Operator::Duration(GreaterOrEqual),
            "durationlessthan" => Operator::Duration(Less),
            "durationlessthanorequals" => Operator::Duration(LessOrEqual),
            _ => return None,
        })
    }

    pub(super) fn evaluate(self, key: &Value, value: &Value) -> Result<bool, Error> {
        Ok(match self {
            Operator::Equals => equals(key, value),
            // Kyverno's NotEquals is the negation of Equals except for a key of a type it does not
            // handle (null), where both are false.
            Operator::NotEquals => !key.is_null() && !equals(key, value),
            Operator::Membership(membership) => membership::evaluate(membership, key, value)?,
            Operator::Numeric(comparison) => numeric(comparison, key, value),
            Operator::Duration(comparison) => durations(comparison, key, value),
        })
    }
}

/// Go's `strconv.ParseFloat`.
pub(super) fn parse_float(text: &str) -> Option<f64> {
    text.parse().ok()
}

/// `time.Duration(x) * time.Second`: the number truncated to whole seconds.
fn seconds(x: f64) -> Duration {
    Duration((x as i64).wrapping_mul(1_000_000_000))
}

/// Kyverno's `parseDuration`: both sides as durations when at least one is a duration string
/// (other than `"0"`) and the other is a duration string or a number of seconds.
fn duration_pair(key: &Value, value: &Value) -> Option<(Duration, Duration)> {
    let as_duration = |side: &Value| match side {
        Value::String(text) if text != "0" => duration::parse(text).ok(),
        _ => None,
    };
    let (key_duration, value_duration) = (as_duration(key), as_duration(value));
    if key_duration.is_none() && value_duration.is_none() {
        return None;
    }
    let or_seconds = |parsed: Option<Duration>, side: &Value| parsed.or_else(|| side.as_f64().map(seconds));
    Some((or_seconds(key_duration, key)?, or_seconds(value_duration, value)?))
}

fn equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(flag) => value.as_bool() == Some(*flag),
        Value::Number(number) => {
            let key = number.as_f64().unwrap_or(f64::NAN);
            match value {
                Value::Number(other) => other.as_f64() == Some(key),
                Value::String(text) => parse_float(text) == Some(key),
                _ => false,
            }
        }
        Value::String(text) => string_equals(text, value),
        Value::Object(_) | Value::Array(_) => same_type(key, value) && go::deep_equal(key, value),
        Value::Null => false,
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Durations first (the one comparison across types), then quantities, then a wildcard
/// pattern in the value.
fn string_equals(key: &str, value: &Value) -> bool {
    if let Some((a, b)) = duration_pair(&Value::String(key.to_owned()), value) {
        return a.seconds() == b.seconds();
    }
    if let (Ok(key_quantity), Value::String(text)) = (quantity::parse(key), value) {
        return quantity::parse(text).is_ok_and(|value_quantity| key_quantity.compare(&value_quantity) == Ordering::Equal);
    }
    value.as_str().is_some_and(|pattern| wildcard::matches(pattern, key))
}

/// GreaterThan and friends: a number against a number, a numeric string or a duration; a
/// string key as a duration, a quantity, a number or a semantic version, in that order.
fn numeric(comparison: Comparison, key: &Value, value: &Value) -> bool {
    match key {
        Value::Number(number) => number_against(comparison, number.as_f64().unwrap_or(f64::NAN), key, value),
        Value::String(text) => {
            if let Some((a, b)) = duration_pair(key, value) {
                return comparison.holds(a.seconds().partial_cmp(&b.seconds()));
            }
            if let (Ok(a), Some(Ok(b))) = (quantity::parse(text), value.as_str().map(quantity::parse)) {
                return comparison.holds(Some(a.compare(&b)));
            }
            if let Some(number) = parse_float(text) {
                return number_against(comparison, number, key, value);
            }
            match (semver::parse(text), value.as_str().map(semver::parse)) {
                (Ok(a), Some(Ok(b))) => comparison.holds(Some(semver::compare(&a, &b))),
                _ => false,
            }
        }
        _ => false,
    }
}

fn number_against(comparison: Comparison, number: f64, key: &Value, value: &Value) -> bool {
    match value {
        Value::Number(other) => comparison.holds(number.partial_cmp(&other.as_f64().unwrap_or(f64::NAN))),
        Value::String(text) => {
            // The key's number stands in for `key` when it came from a numeric string.
            let key = if key.is_number() { key.clone() } else { serde_json::json!(number) };
            if let Some((a, b)) = duration_pair(&key, value) {
                return comparison.holds(a.seconds().partial_cmp(&b.seconds()));
            }
            parse_float(text).is_some_and(|other| comparison.holds(number.partial_cmp(&other)))
        }
        _ => false,
    }
}

/// The deprecated `Duration*` operators: numbers are whole seconds, strings durations.
fn durations(comparison: Comparison, key: &Value, value: &Value) -> bool {
    let as_duration = |side: &Value| match side {
        Value::Number(number) => Some(seconds(number.as_f64().unwrap_or(0.0))),
        Value::String(text) => duration::parse(text).ok(),
        _ => None,
    };
    match (as_duration(key), as_duration(value)) {
        (Some(a), Some(b)) => comparison.holds(Some(a.cmp(&b))),
        _ => false,
    }
}

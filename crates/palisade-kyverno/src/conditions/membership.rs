//! The membership operators: `AnyIn`, `AllIn`, `AnyNotIn`, `AllNotIn`, and the deprecated `In`
//! and `NotIn`. Keys and values are compared as Go prints them (`fmt.Sprint`), with wildcards
//! on either side; a string value may be a JSON list of strings or a range (`1-10`).

use std::cmp::Ordering;

use serde_json::Value;

use super::Error;
use crate::duration;
use crate::go;
use crate::quantity;
use crate::wildcard;
use crate::variables::string_operator::{self, IN_RANGE_OPERATOR};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Membership {
    In,
    NotIn,
    AnyIn,
    AllIn,
    AnyNotIn,
    AllNotIn,
}

impl Membership {
    fn negated(self) -> bool {
        matches!(self, Membership::NotIn | Membership::AnyNotIn | Membership::AllNotIn)
    }

    fn deprecated(self) -> bool {
        matches!(self, Membership::In | Membership::NotIn)
    }
}

/// What a value offers keys to be found in: `Invalid` when Kyverno refuses its type (every
/// membership operator is then false).
enum Candidates {
    Invalid,
    Found(bool),
}

pub(super) fn evaluate(membership: Membership, key: &Value, value: &Value) -> Result<bool, Error> {
    let outcome = match key {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            let key = go::sprint(key);
            match single(membership, &key, value) {
                Candidates::Found(found) => found != membership.negated(),
                Candidates::Invalid => false,
            }
        }
        Value::Array(items) => {
            let keys = if membership.deprecated() {
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| Error::Unsupported(format!("{membership:?}: a key list must hold only strings (Kyverno panics here)")))?
            } else {
                items.iter().map(go::sprint).collect()
            };
            match set(membership, &keys, value) {
                Candidates::Found(outcome) => outcome,
                Candidates::Invalid => false,
            }
        }
        _ => false,
    };
    Ok(outcome)
}

fn either_matches(a: &str, b: &str) -> bool {
    wildcard::matches(a, b) || wildcard::matches(b, a)
}

/// A JSON list of strings in a string value (Go's `json.Unmarshal` into `[]string`, where
/// `null` is an empty list).
fn string_list(text: &str) -> Option<Vec<String>> {
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.into_iter().map(|item| item.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

/// The strings a string value stands for beyond itself: a JSON list when it is JSON, else
/// itself (the deprecated operators require the JSON list).
fn listed(membership: Membership, text: &str) -> Option<Vec<String>> {
    if membership.deprecated() || serde_json::from_str::<Value>(text).is_ok() {
        string_list(text)
    } else {
        Some(vec![text.to_owned()])
    }
}

/// Whether one key is among the value's candidates.
fn single(membership: Membership, key: &str, value: &Value) -> Candidates {
    match value {
        Value::Array(items) => Candidates::Found(items.iter().any(|item| either_matches(&go::sprint(item), key))),
        Value::String(text) => {
            if wildcard::matches(text, key) {
                return Candidates::Found(true);
            }
            if !membership.deprecated() && string_operator::operator_of(text) == IN_RANGE_OPERATOR {
                return Candidates::Found(in_range(key, text, false));
            }
            match listed(membership, text) {
                Some(list) => Candidates::Found(list.iter().any(|item| item == key)),
                None => Candidates::Invalid,
            }
        }
        _ => Candidates::Invalid,
    }
}

/// The operator's outcome for a list of keys.
fn set(membership: Membership, keys: &[String], value: &Value) -> Candidates {
    let candidates: Vec<String> = match value {
        Value::Array(items) if membership.deprecated() => match items.iter().map(|item| item.as_str().map(str::to_owned)).collect() {
            Some(strings) => strings,
            None => return Candidates::Invalid,
        },
        Value::Array(items) => items.iter().map(go::sprint).collect(),
        Value::Number(_) | Value::Bool(_) if matches!(membership, Membership::AnyIn | Membership::AnyNotIn) => vec![go::sprint(value)],
        Value::String(text) => {
            if keys.len() == 1 && keys[0] == *text {
                // Kyverno reports "found" here even for NotIn, but not for AnyNotIn/AllNotIn.
                return Candidates::Found(membership == Membership::NotIn || !membership.negated());
            }
            if !membership.deprecated() && string_operator::operator_of(text) == IN_RANGE_OPERATOR {
                return Candidates::Found(set_in_range(membership, keys, text));
            }
            match listed(membership, text) {
                Some(list) => list,
                None => return Candidates::Invalid,
            }
        }
        _ => return Candidates::Invalid,
    };
    let contains = |key: &String| {
        if membership.deprecated() { candidates.contains(key) } else { candidates.iter().any(|candidate| either_matches(key, candidate)) }
    };
    Candidates::Found(match membership {
        Membership::In | Membership::AllIn => keys.iter().all(contains),
        Membership::NotIn | Membership::AnyNotIn => !keys.iter().all(contains),
        Membership::AnyIn => keys.iter().any(contains),
        Membership::AllNotIn => !keys.iter().any(contains),
    })
}

fn set_in_range(membership: Membership, keys: &[String], range: &str) -> bool {
    match membership {
        // Kyverno turns `a-b` into `a!-b` for AnyNotIn.
        Membership::AnyNotIn => keys.iter().any(|key| in_range(key, &range.replacen('-', "!-", 1), true)),
        Membership::AllNotIn => !keys.iter().any(|key| in_range(key, range, false)),
        Membership::AnyIn => keys.iter().any(|key| in_range(key, range, false)),
        _ => keys.iter().all(|key| in_range(key, range, false)),
    }
}

/// Kyverno's pattern check of a key against `low-high` (or outside `low!-high` when
/// `negated`): bounds compare as durations, else as quantities; anything else is out.
fn in_range(key: &str, range: &str, negated: bool) -> bool {
    if key == range {
        return true;
    }
    let Some((low, high)) = string_operator::range_bounds(range, negated) else {
        return false;
    };
    let order = |bound: &str| -> Option<Ordering> {
        if let (Ok(bound), Ok(key)) = (duration::parse(bound), duration::parse(key)) {
            return Some(key.cmp(&bound));
        }
        match (quantity::parse(bound), quantity::parse(key)) {
            (Ok(bound), Ok(key)) => Some(key.compare(&bound)),
            _ => None,
        }
    };
    if negated {
        order(low) == Some(Ordering::Less) || order(high) == Some(Ordering::Greater)
    } else {
        order(low).is_some_and(|o| o != Ordering::Less) && order(high).is_some_and(|o| o != Ordering::Greater)
    }
}

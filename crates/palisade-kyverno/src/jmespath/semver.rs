//! Semantic versions and ranges as github.com/blang/semver/v4 reads them (Kyverno's
//! `semver_compare` and version comparisons in conditions): `>=1.2.3 <2.0.0 || 3.x.x`.

use std::cmp::Ordering;

pub(crate) use ::semver::Version;

/// A strict `MAJOR.MINOR.PATCH[-pre][+build]` version.
pub(crate) fn parse(text: &str) -> Result<Version, String> {
    Version::parse(text).map_err(|error| format!("Could not parse version {text:?}: {error}"))
}

pub(crate) fn zero() -> Version {
    Version::new(0, 0, 0)
}

/// blang's order: build metadata does not count.
pub(crate) fn compare(a: &Version, b: &Version) -> Ordering {
    a.cmp_precedence(b)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Operator {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// Alternatives (`||`) of conjunctions (space-separated comparators).
#[derive(Debug)]
pub(crate) struct Range(Vec<Vec<(Operator, Version)>>);

impl Range {
    pub(crate) fn contains(&self, version: &Version) -> bool {
        self.0.iter().any(|all| {
            all.iter().all(|(operator, bound)| {
                let order = compare(version, bound);
                match operator {
                    Operator::Equal => order == Ordering::Equal,
                    Operator::NotEqual => order != Ordering::Equal,
                    Operator::Greater => order == Ordering::Greater,
                    Operator::GreaterOrEqual => order != Ordering::Less,
                    Operator::Less => order == Ordering::Less,
                    Operator::LessOrEqual => order != Ordering::Greater,
                }
            })
        })
    }
}

/// blang's `ParseRange`, wildcards (`1.2.x`, `1.x.x`) expanded as blang expands them.
pub(crate) fn parse_range(text: &str) -> Result<Range, String> {
    let invalid = || format!("Could not parse Range {text:?}");
    let mut alternatives = Vec::new();
    for alternative in text.split("||") {
        let mut comparators = Vec::new();
        for token in merged_tokens(alternative) {
            let split = token.find(|c: char| c.is_ascii_digit()).ok_or_else(invalid)?;
            let (operator_text, version_text) = token.split_at(split);
            let operator = match operator_text {
                "" | "=" | "==" => Operator::Equal,
                "!" | "!=" => Operator::NotEqual,
                ">" => Operator::Greater,
                ">=" => Operator::GreaterOrEqual,
                "<" => Operator::Less,
                "<=" => Operator::LessOrEqual,
                _ => return Err(invalid()),
            };
            if version_text.contains('x') {
                comparators.extend(expand_wildcard(operator, version_text).ok_or_else(invalid)?);
            } else {
                comparators.push((operator, parse(version_text)?));
            }
        }
        if comparators.is_empty() {
            return Err(invalid());
        }
        alternatives.push(comparators);
    }
    Ok(Range(alternatives))
}

/// Space-separated tokens, an operator written apart from its version joined to it.
fn merged_tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut pending = String::new();
    for token in text.split_whitespace() {
        if token.chars().all(|c| "<>=!".contains(c)) {
            pending.push_str(token);
        } else {
            tokens.push(format!("{pending}{token}"));
            pending.clear();
        }
    }
    tokens
}

/// `1.2.x` and `1.x.x` (or `1.x`) become bounds: `=1.2.x` is `>=1.2.0 <1.3.0`; `!1.x` is
/// `<1.0.0` together with `>=2.0.0` (blang ANDs them, so it never matches).
fn expand_wildcard(operator: Operator, text: &str) -> Option<Vec<(Operator, Version)>> {
    let parts: Vec<&str> = text.split('.').collect();
    let number = |part: &str| part.parse::<u64>().ok();
    let (floor, ceiling) = match parts.as_slice() {
        [major, "x", "x"] | [major, "x"] => {
            let major = number(major)?;
            (Version::new(major, 0, 0), Version::new(major.checked_add(1)?, 0, 0))
        }
        [major, minor, "x"] => {
            let (major, minor) = (number(major)?, number(minor)?);
            (Version::new(major, minor, 0), Version::new(major, minor.checked_add(1)?, 0))
        }
        _ => return None,
    };
    Some(match operator {
        Operator::Greater => vec![(Operator::GreaterOrEqual, ceiling)],
        Operator::GreaterOrEqual => vec![(Operator::GreaterOrEqual, floor)],
        Operator::Less => vec![(Operator::Less, floor)],
        Operator::LessOrEqual => vec![(Operator::Less, ceiling)],
        Operator::Equal => vec![(Operator::GreaterOrEqual, floor), (Operator::Less, ceiling)],
        Operator::NotEqual => vec![(Operator::Less, floor), (Operator::GreaterOrEqual, ceiling)],
    })
}

//! String functions: Go's `strings` package semantics as Kyverno calls them.

use jmespath::Runtime;
use regex::{NoExpand, Regex};
use serde_json::Value;

use super::{Arg, define, failure, number_arg, string_arg, string_or_number_arg};
use crate::go;
use crate::jmespath::{go_regex, semver};
use crate::wildcard;

pub(super) fn register(runtime: &mut Runtime) {
    use Arg::{Number, String, StringOrNumber};
    define(runtime, "compare", &[String, String], |args| {
        let (a, b) = (string_arg("compare", args, 0)?, string_arg("compare", args, 1)?);
        Ok(Value::from(a.cmp(b) as i64))
    });
    define(runtime, "equal_fold", &[String, String], |args| {
        let (a, b) = (string_arg("equal_fold", args, 0)?, string_arg("equal_fold", args, 1)?);
        Ok(Value::Bool(equal_fold(a, b)))
    });
    define(runtime, "replace", &[String, String, String, Number], |args| {
        let text = string_arg("replace", args, 0)?;
        let (old, new) = (string_arg("replace", args, 1)?, string_arg("replace", args, 2)?);
        // Go converts the count with int(), truncating; a negative count replaces every match.
        let count = number_arg("replace", args, 3)?.trunc();
        Ok(Value::String(if count < 0.0 { text.replace(old, new) } else { text.replacen(old, new, count as usize) }))
    });
    define(runtime, "replace_all", &[String, String, String], |args| {
        let text = string_arg("replace_all", args, 0)?;
        Ok(Value::String(text.replace(string_arg("replace_all", args, 1)?, string_arg("replace_all", args, 2)?)))
    });
    define(runtime, "to_upper", &[String], |args| Ok(Value::String(map_runes(string_arg("to_upper", args, 0)?, char::to_uppercase))));
    define(runtime, "to_lower", &[String], |args| Ok(Value::String(map_runes(string_arg("to_lower", args, 0)?, char::to_lowercase))));
    define(runtime, "trim", &[String, String], |args| {
        let cutset = string_arg("trim", args, 1)?;
        Ok(Value::String(string_arg("trim", args, 0)?.trim_matches(|c| cutset.contains(c)).to_owned()))
    });
    define(runtime, "trim_prefix", &[String, String], |args| {
        let text = string_arg("trim_prefix", args, 0)?;
        Ok(Value::String(text.strip_prefix(string_arg("trim_prefix", args, 1)?).unwrap_or(text).to_owned()))
    });
    define(runtime, "split", &[String, String], |args| {
        let (text, separator) = (string_arg("split", args, 0)?, string_arg("split", args, 1)?);
        // Go splits on every character for an empty separator, with no empty ends.
        let parts: Vec<Value> = if separator.is_empty() {
            text.chars().map(|c| Value::String(c.to_string())).collect()
        } else {
            text.split(separator).map(|part| Value::String(part.to_owned())).collect()
        };
        Ok(Value::Array(parts))
    });
    define(runtime, "regex_replace_all", &[String, StringOrNumber, StringOrNumber], |args| {
        regex_replace("regex_replace_all", args, |regex, source, replacement| regex.replace_all(source, replacement).into_owned())
    });
    define(runtime, "regex_replace_all_literal", &[String, StringOrNumber, StringOrNumber], |args| {
        regex_replace("regex_replace_all_literal", args, |regex, source, replacement| {
            regex.replace_all(source, NoExpand(replacement)).into_owned()
        })
    });
    define(runtime, "regex_match", &[String, StringOrNumber], |args| {
        let pattern = string_arg("regex_match", args, 0)?;
        let source = string_or_number_arg("regex_match", args, 1)?;
        let regex = go_regex::compile(pattern).map_err(|error| go_regex_error(pattern, &error))?;
        Ok(Value::Bool(regex.is_match(&source)))
    });
    define(runtime, "pattern_match", &[String, StringOrNumber], |args| {
        let pattern = string_arg("pattern_match", args, 0)?;
        Ok(Value::Bool(wildcard::matches(pattern, &string_or_number_arg("pattern_match", args, 1)?)))
    });
    define(runtime, "to_boolean", &[String], |args| {
        let text = string_arg("to_boolean", args, 0)?;
        match text.to_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(failure("to_boolean", format!("lowercase argument must be 'true' or 'false' (provided: '{text}')"))),
        }
    });
    define(runtime, "truncate", &[String, Number], |args| {
        let text = string_arg("truncate", args, 0)?;
        let length = number_arg("truncate", args, 1)?.max(0.0) as usize;
        Ok(Value::String(text.chars().take(length).collect()))
    });
    define(runtime, "path_canonicalize", &[String], |args| {
        // `filepath.Join` of one path: cleaned, except that the empty path stays empty.
        let path = string_arg("path_canonicalize", args, 0)?;
        Ok(Value::String(if path.is_empty() { Default::default() } else { go::clean_path(path) }))
    });
    // go-jmespath writes non-strings as Go's json.Marshal does (sorted keys, float64 numbers).
    define(runtime, "to_string", &[Arg::Any], |args| {
        Ok(Value::String(match args.first() {
            Some(Value::String(text)) => text.clone(),
            Some(other) => go::to_json(other),
            None => Default::default(),
        }))
    });
    define(runtime, "semver_compare", &[String, String], |args| {
        // Kyverno ignores a version that does not parse, comparing 0.0.0 instead.
        let version = semver::parse(string_arg("semver_compare", args, 0)?).unwrap_or_else(|_| semver::zero());
        let range = semver::parse_range(string_arg("semver_compare", args, 1)?)?;
        Ok(Value::Bool(range.contains(&version)))
    });
}

fn regex_replace(function: &str, args: &[Value], replace: fn(&Regex, &str, &str) -> String) -> Result<Value, String> {
    let pattern = string_arg(function, args, 0)?;
    let source = string_or_number_arg(function, args, 1).map_err(|_| super::wrong_type(function, 2, "String or Real"))?;
    let replacement = string_or_number_arg(function, args, 2).map_err(|_| super::wrong_type(function, 3, "String or Real"))?;
    let regex = go_regex::compile(pattern).map_err(|error| failure(function, go_regex_error(pattern, &error)))?;
    Ok(Value::String(replace(&regex, &source, &replacement)))
}

/// Go's `regexp` error text starts `error parsing regexp:`; the detail differs between engines.
fn go_regex_error(pattern: &str, error: &regex::Error) -> String {
    let detail = error.to_string();
    let reason = detail.lines().last().unwrap_or(&detail).trim().trim_start_matches("error: ");
    format!("error parsing regexp: {reason}: `{pattern}`")
}

/// Go's `strings.EqualFold`: equal under simple case folding, which relates runes through
/// either case (`ſ` and `s` meet in `S`, `K` (Kelvin) and `k` in `k`).
fn equal_fold(a: &str, b: &str) -> bool {
    let same = |x: char, y: char| {
        x == y
            || map_rune(x, char::to_lowercase) == map_rune(y, char::to_lowercase)
            || map_rune(x, char::to_uppercase) == map_rune(y, char::to_uppercase)
    };
    a.chars().count() == b.chars().count() && a.chars().zip(b.chars()).all(|(x, y)| same(x, y))
}

/// Go maps case rune by rune and keeps a rune whose mapping is not a single rune (`ß` stays `ß`
/// in `strings.ToUpper`); Rust would expand it.
fn map_runes<I: Iterator<Item = char>>(text: &str, mapping: fn(char) -> I) -> String {
    text.chars().map(|c| map_rune(c, mapping)).collect()
}

fn map_rune<I: Iterator<Item = char>>(c: char, mapping: fn(char) -> I) -> char {
    let mut mapped = mapping(c);
    match (mapped.next(), mapped.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_maps_rune_by_rune() {
        assert_eq!(map_runes("straße", char::to_uppercase), "STRAßE");
        assert!(equal_fold("Go", "GO"));
        assert!(equal_fold("\u{17f}", "s"));
        assert!(equal_fold("\u{212a}", "k"));
        assert!(!equal_fold("Go", "Goo"));
    }
}

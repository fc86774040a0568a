//! kube-bench's `compareOp`: a found value against `compare.value`, with the sentence the report
//! shows as `expected_result`.

use super::goregex;

/// The outcome of one comparison: kube-bench's expected-result sentence and whether it held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Compared {
    pub expected: String,
    pub passed: bool,
}

/// Compares `value` (what the audit showed for `name`) with `wanted` under `op`. An unknown op
/// yields an empty sentence and a failure, as in kube-bench. The error is a `regex` whose
/// pattern Go cannot compile: kube-bench panics there.
pub(super) fn compare(op: &str, value: &str, wanted: &str, name: &str) -> Result<Compared, String> {
    let (expected, passed) = match op {
        "eq" => (
            format!("'{name}' is equal to '{wanted}'"),
            equal(value, wanted),
        ),
        "noteq" => (
            format!("'{name}' is not equal to '{wanted}'"),
            !equal(value, wanted),
        ),
        "gt" | "gte" | "lt" | "lte" => {
            let (Ok(found), Ok(limit)) =
                (value.trim().parse::<i64>(), wanted.trim().parse::<i64>())
            else {
                let expected =
                    format!("Invalid Number(s) used for comparison: '{value}' '{wanted}'");
                return Ok(Compared {
                    expected,
                    passed: false,
                });
            };
            match op {
                "gt" => (format!("'{name}' is greater than {wanted}"), found > limit),
                "gte" => (
                    format!("'{name}' is greater or equal to {wanted}"),
                    found >= limit,
                ),
                "lt" => (format!("'{name}' is lower than {wanted}"), found < limit),
                _ => (
                    format!("'{name}' is lower or equal to {wanted}"),
                    found <= limit,
                ),
            }
        }
        "has" => (format!("'{name}' has '{wanted}'"), value.contains(wanted)),
        "nothave" => (
            format!("'{name}' does not have '{wanted}'"),
            !value.contains(wanted),
        ),
        "regex" => {
            let pattern = goregex::compile(wanted)?;
            (
                format!("'{name}' matched by regex expression '{wanted}'"),
                pattern.is_match(value),
            )
        }
        "valid_elements" => (
            format!("'{name}' contains valid elements from '{wanted}'"),
            all_elements_valid(&split_list(value), &split_list(wanted)),
        ),
        "bitmask" => {
            // Go's strconv.ParseInt(x, 8, 64): an optional sign and octal digits only.
            let (Ok(mode), Ok(limit)) = (
                i64::from_str_radix(value, 8),
                i64::from_str_radix(wanted, 8),
            ) else {
                let bad = if i64::from_str_radix(value, 8).is_err() {
                    value
                } else {
                    wanted
                };
                return Ok(Compared {
                    expected: format!("Not numeric value - flag: {bad}"),
                    passed: false,
                });
            };
            (
                format!("{name} has permissions {value}, expected {wanted} or more restrictive"),
                limit & mode == mode,
            )
        }
        _ => (String::new(), false),
    };
    Ok(Compared { expected, passed })
}

/// `eq`: exact, except that a value reading `true` or `false` in any case is lowered first (the
/// expected value is not).
fn equal(value: &str, wanted: &str) -> bool {
    let lowered = value.to_lowercase();
    if lowered == "true" || lowered == "false" {
        lowered == wanted
    } else {
        value == wanted
    }
}

/// A comma-separated list: trimmed, trailing commas dropped, each element trimmed; nothing for
/// an empty text.
fn split_list(text: &str) -> Vec<&str> {
    let cleaned = text.trim().trim_end_matches(',');
    if cleaned.is_empty() {
        return Vec::new();
    }
    cleaned.split(',').map(str::trim).collect()
}

/// Every element of `found` is in `allowed`; both empty passes, one empty fails.
fn all_elements_valid(found: &[&str], allowed: &[&str]) -> bool {
    if found.is_empty() || allowed.is_empty() {
        return found.is_empty() && allowed.is_empty();
    }
    found.iter().all(|element| allowed.contains(element))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(op: &str, value: &str, wanted: &str, name: &str) -> (String, bool) {
        let compared = compare(op, value, wanted, name).unwrap();
        (compared.expected, compared.passed)
    }

    fn sentence(op: &str, value: &str, wanted: &str) -> String {
        check(op, value, wanted, "x").0
    }

    fn passes(op: &str, value: &str, wanted: &str) -> bool {
        check(op, value, wanted, "x").1
    }

    #[test]
    fn unknown_and_empty_ops_fail_without_a_sentence() {
        assert_eq!(check("", "", "", ""), (String::new(), false));
        assert_eq!(check("blah", "foo", "bar", "x"), (String::new(), false));
    }

    #[test]
    fn eq_lowers_booleans_of_the_value_only() {
        assert_eq!(
            check("eq", "", "", ""),
            ("'' is equal to ''".to_owned(), true)
        );
        assert_eq!(
            check("eq", "true", "true", "--flag"),
            ("'--flag' is equal to 'true'".to_owned(), true)
        );
        assert!(passes("eq", "false", "false"));
        assert!(!passes("eq", "false", "true"));
        assert!(passes("eq", "True", "true"));
        assert!(passes("eq", "FALSE", "false"));
        assert!(!passes("eq", "true", "True"));
        assert!(passes("eq", "KubeletConfiguration", "KubeletConfiguration"));
        assert!(!passes(
            "eq",
            "kubeletconfiguration",
            "KubeletConfiguration"
        ));
        assert!(!passes("eq", "", "KubeletConfiguration"));
        assert!(!passes("eq", "KubeletConfiguration", ""));
    }

    #[test]
    fn noteq_negates_eq() {
        assert_eq!(sentence("noteq", "a", "b"), "'x' is not equal to 'b'");
        assert!(!passes("noteq", "", ""));
        assert!(!passes("noteq", "true", "true"));
        assert!(!passes("noteq", "TRUE", "true"));
        assert!(passes("noteq", "false", "true"));
        assert!(passes("noteq", "", "KubeletConfiguration"));
        assert!(passes("noteq", "KubeletConfiguration", ""));
        assert!(passes("noteq", "0s", "0"));
    }

    #[test]
    fn ordering_ops_compare_trimmed_integers() {
        assert_eq!(
            check("gt", "5", "4", "--n"),
            ("'--n' is greater than 4".to_owned(), true)
        );
        assert!(!passes("gt", "0", "0"));
        assert!(!passes("gt", "4", "5"));
        assert!(!passes("gt", "5", "5"));
        assert_eq!(
            check("gte", "5", "5", "--n"),
            ("'--n' is greater or equal to 5".to_owned(), true)
        );
        assert!(passes("gte", "0", "0"));
        assert!(!passes("gte", "4", "5"));
        assert_eq!(
            check("lt", "4", "5", "--n"),
            ("'--n' is lower than 5".to_owned(), true)
        );
        assert!(!passes("lt", "0", "0"));
        assert!(!passes("lt", "5", "5"));
        assert_eq!(
            check("lte", "5", "5", "--n"),
            ("'--n' is lower or equal to 5".to_owned(), true)
        );
        assert!(!passes("lte", "5", "4"));
        assert!(passes("gte", " 30 ", "30"));
        assert!(passes("gt", "+5", "-5"));
        // The sentence keeps the untrimmed limit.
        assert_eq!(
            sentence("gte", "40", " 30"),
            "'x' is greater or equal to  30"
        );
    }

    #[test]
    fn ordering_ops_refuse_non_integers_naming_both_values() {
        for op in ["gt", "gte", "lt", "lte"] {
            assert_eq!(
                check(op, "", "", "x"),
                (
                    "Invalid Number(s) used for comparison: '' ''".to_owned(),
                    false
                )
            );
            assert_eq!(
                sentence(op, "Pikachu", "5"),
                "Invalid Number(s) used for comparison: 'Pikachu' '5'"
            );
            assert_eq!(
                sentence(op, "5", "Bulbasaur"),
                "Invalid Number(s) used for comparison: '5' 'Bulbasaur'"
            );
        }
        assert!(!passes("gte", "1.5", "1"));
        assert!(!passes("gte", "1e3", "1"));
        assert!(!passes("gte", "99999999999999999999", "1"));
    }

    #[test]
    fn has_and_nothave_are_substring_tests() {
        assert_eq!(check("has", "", "", "x"), ("'x' has ''".to_owned(), true));
        assert!(!passes("has", "", "blah"));
        assert!(passes("has", "blah", ""));
        assert!(passes("has", "blah", "la"));
        assert!(!passes("has", "blah", "LA"));
        assert!(!passes("has", "blah", "lo"));
        assert!(passes("has", "NodeRestriction", "Node"));
        assert_eq!(
            check("nothave", "", "", "x"),
            ("'x' does not have ''".to_owned(), false)
        );
        assert!(passes("nothave", "", "blah"));
        assert!(!passes("nothave", "blah", ""));
        assert!(!passes("nothave", "blah", "la"));
        assert!(passes("nothave", "blah", "LA"));
    }

    #[test]
    fn regex_matches_anywhere_unless_anchored() {
        assert_eq!(
            check("regex", "", "", "x"),
            ("'x' matched by regex expression ''".to_owned(), true)
        );
        assert!(!passes("regex", "", "blah"));
        assert!(passes("regex", "1.12.7", r"^1\.12.*$"));
        assert!(!passes("regex", "1.11", r"^1\.12.*$"));
        assert!(passes("regex", "v1.12", r"1\.12"));
        assert!(!passes("regex", "٣", r"^\d$"));
        assert!(compare("regex", "x", "a(", "x").is_err());
    }

    #[test]
    fn valid_elements_needs_every_element_allowed() {
        assert_eq!(
            check("valid_elements", "", "", "f"),
            ("'f' contains valid elements from ''".to_owned(), true)
        );
        assert!(!passes("valid_elements", "", "a,b"));
        assert!(!passes("valid_elements", "a,b", ""));
        assert!(passes("valid_elements", "a,b,c", "a,b,c"));
        assert!(passes("valid_elements", "a,c", "a,b,c"));
        assert!(!passes("valid_elements", "a,b,c", "a,c"));
        assert!(passes("valid_elements", " a, c,", "a,b,c"));
        assert!(passes("valid_elements", "a,c,, ", "a,b,c"));
        assert!(!passes("valid_elements", "a,,c", "a,b,c"));
    }

    #[test]
    fn split_list_trims_and_drops_trailing_separators() {
        assert_eq!(split_list("A,B,"), ["A", "B"]);
        assert_eq!(split_list("A, B,"), ["A", "B"]);
        assert_eq!(split_list("A,B, "), ["A", "B"]);
        assert_eq!(split_list(" A,B,"), ["A", "B"]);
        assert_eq!(split_list(" , "), Vec::<&str>::new());
        assert_eq!(split_list(""), Vec::<&str>::new());
    }

    #[test]
    fn bitmask_allows_no_bit_outside_the_limit() {
        assert_eq!(
            check("bitmask", "640", "644", "etc/file"),
            (
                "etc/file has permissions 640, expected 644 or more restrictive".to_owned(),
                true
            )
        );
        assert!(!passes("bitmask", "777", "644"));
        assert!(passes("bitmask", "444", "644"));
        assert!(!passes("bitmask", "211", "644"));
        assert!(passes("bitmask", "600", "600"));
        assert!(passes("bitmask", "0", "600"));
        assert!(!passes("bitmask", "700", "600"));
        assert!(passes("bitmask", "0600", "644"));
    }

    #[test]
    fn bitmask_names_the_first_non_octal_value() {
        assert_eq!(
            check("bitmask", "Harry", "644", "f"),
            ("Not numeric value - flag: Harry".to_owned(), false)
        );
        assert_eq!(
            check("bitmask", "211", "Potter", "f"),
            ("Not numeric value - flag: Potter".to_owned(), false)
        );
        assert_eq!(
            sentence("bitmask", "648", "644"),
            "Not numeric value - flag: 648"
        );
        assert_eq!(
            sentence("bitmask", " 644", "644"),
            "Not numeric value - flag:  644"
        );
        assert_eq!(sentence("bitmask", "", "644"), "Not numeric value - flag: ");
    }
}

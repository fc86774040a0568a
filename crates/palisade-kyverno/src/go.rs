//! Values written as Kyverno's Go code writes them: `fmt.Sprint`, `strconv.FormatFloat` and
//! `encoding/json`. Kyverno compares and embeds these strings, so their exact form is semantics.

use serde_json::Value;

/// The shortest decimal digits of `x` (no sign, no leading zeros) and the position of the decimal
/// point relative to them: `x = 0.DIGITS × 10^point`.
fn shortest_digits(scientific: &str) -> (bool, String, i32) {
    let (negative, unsigned) = match scientific.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, scientific),
    };
    let (mantissa, exponent) = unsigned.split_once('e').unwrap_or((unsigned, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (negative, digits, exponent + 1)
}

fn fixed(negative: bool, digits: &str, point: i32) -> String {
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let length = digits.len() as i32;
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(digits);
    } else if point >= length {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (point - length) as usize));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
    out
}

fn exponential(negative: bool, digits: &str, point: i32, marker: char, min_exponent_digits: usize) -> String {
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    match digits.split_at_checked(1) {
        Some((first, rest)) if !rest.is_empty() => {
            out.push_str(first);
            out.push('.');
            out.push_str(rest);
        }
        _ => out.push_str(digits),
    }
    let exponent = point - 1;
    out.push(marker);
    out.push(if exponent < 0 { '-' } else { '+' });
    out.push_str(&format!("{:0width$}", exponent.unsigned_abs(), width = min_exponent_digits));
    out
}

/// `fmt.Sprint(float64)`: `%g` with the shortest digits, so exponent form below 1e-4 and from 1e6.
pub(crate) fn sprint_float(x: f64) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if !x.is_finite() {
        return if x.is_nan() { "NaN".into() } else if x > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let (negative, digits, point) = shortest_digits(&format!("{x:e}"));
    let exponent = point - 1;
    if !(-4..6).contains(&exponent) {
        exponential(negative, &digits, point, 'e', 2)
    } else {
        fixed(negative, &digits, point)
    }
}

/// `strconv.FormatFloat(x, 'E', -1, 64)`: `8E+01`, `1.5E-07`, `0E+00`.
pub(crate) fn exponent_form(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() { "NaN".into() } else if x > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let (negative, digits, point) = shortest_digits(&format!("{x:e}"));
    exponential(negative, &digits, point, 'E', 2)
}

/// `fmt.Sprintf("%f", x)`: six decimals, exact and rounded half to even, like Rust's.
pub(crate) fn fixed6(x: f64) -> String {
    format!("{x:.6}")
}

/// `strconv.FormatFloat(x, 'f', -1, 32)`: the shortest digits that identify `x` as a float32,
/// never in exponent form. Kyverno's string-or-number arguments go through this.
pub(crate) fn format_float32(x: f64) -> String {
    let narrowed = x as f32;
    if narrowed == 0.0 {
        return "0".into();
    }
    let (negative, digits, point) = shortest_digits(&format!("{narrowed:e}"));
    fixed(negative, &digits, point)
}

/// `fmt.Sprint` of a decoded JSON value, numbers as the float64 Kyverno's JSON decoding makes.
pub(crate) fn sprint(value: &Value) -> String {
    sprint_with(value, &|number| sprint_float(number.as_f64().unwrap_or(0.0)))
}

/// `fmt.Sprint` of a decoded JSON value, numbers as `number` prints them: decoders differ in the
/// Go type they give a number, and `%v` prints an int64 and a float64 differently.
pub(crate) fn sprint_with(value: &Value, number: &dyn Fn(&serde_json::Number) -> String) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(n) => number(n),
        Value::String(text) => text.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(|item| sprint_with(item, number)).collect::<Vec<_>>().join(" ")),
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let body: Vec<String> = entries.iter().map(|(key, value)| format!("{key}:{}", sprint_with(value, number))).collect();
            format!("map[{}]", body.join(" "))
        }
    }
}

/// `json.Marshal` of a decoded JSON value: keys sorted, HTML characters escaped, numbers as Go
/// writes a float64.
pub(crate) fn to_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&json_float(number.as_f64().unwrap_or(0.0))),
        Value::String(text) => write_json_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn json_float(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let (negative, digits, point) = shortest_digits(&format!("{x:e}"));
    let magnitude = x.abs();
    if !(1e-6..1e21).contains(&magnitude) {
        exponential(negative, &digits, point, 'e', 1)
    } else {
        fixed(negative, &digits, point)
    }
}

fn write_json_string(text: &str, out: &mut String) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", character as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `reflect.DeepEqual` on decoded JSON: numbers are float64 on both sides, so `1` equals `1.0`.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(key, item)| y.get(key).is_some_and(|other| deep_equal(item, other)))
        }
        _ => a == b,
    }
}

/// `path.Clean`: the shortest equivalent slash-separated path (`.` for an empty one).
pub(crate) fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_print_as_go_prints_them() {
        assert_eq!(sprint_float(2.0), "2");
        assert_eq!(sprint_float(2.5), "2.5");
        assert_eq!(sprint_float(123456789.0), "1.23456789e+08");
        assert_eq!(format_float32(1.1), "1.1");
        assert_eq!(format_float32(100.0), "100");
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(0.0000001), "1e-7");
    }

    // Expectations printed by Go 1.19's fmt and strconv for the same values.
    #[test]
    fn floats_print_like_go() {
        let cases: &[(f64, &str, &str, &str)] = &[
            (0.0, "0", "0E+00", "0.000000"),
            (0.5, "0.5", "5E-01", "0.500000"),
            (1.0, "1", "1E+00", "1.000000"),
            (7.9914, "7.9914", "7.9914E+00", "7.991400"),
            (80.0, "80", "8E+01", "80.000000"),
            (100000.0, "100000", "1E+05", "100000.000000"),
            (123456.0, "123456", "1.23456E+05", "123456.000000"),
            (1234567.0, "1.234567e+06", "1.234567E+06", "1234567.000000"),
            (1e21, "1e+21", "1E+21", "1000000000000000000000.000000"),
            (1e-5, "1e-05", "1E-05", "0.000010"),
            (0.0001, "0.0001", "1E-04", "0.000100"),
            (0.00012345, "0.00012345", "1.2345E-04", "0.000123"),
            (0.0078125, "0.0078125", "7.8125E-03", "0.007812"),
            (2.5e-7, "2.5e-07", "2.5E-07", "0.000000"),
            (1.0000005, "1.0000005", "1.0000005E+00", "1.000001"),
            (2.0000025, "2.0000025", "2.0000025E+00", "2.000002"),
            (123456789012345678.0, "1.2345678901234568e+17", "1.2345678901234568E+17", "123456789012345680.000000"),
            (-3.1, "-3.1", "-3.1E+00", "-3.100000"),
            (1e23, "1e+23", "1E+23", "99999999999999991611392.000000"),
            (5e-324, "5e-324", "5E-324", "0.000000"),
        ];
        for &(float, general_form, exponent, fixed) in cases {
            assert_eq!(sprint_float(float), general_form, "%v of {float}");
            assert_eq!(exponent_form(float), exponent, "'E' of {float}");
            assert_eq!(fixed6(float), fixed, "%f of {float}");
        }
    }

    #[test]
    fn paths_clean_as_go_cleans_them() {
        assert_eq!(clean_path("a/../.."), "..");
        assert_eq!(clean_path("./"), ".");
        assert_eq!(clean_path(""), ".");
        assert_eq!(clean_path("a//b/./c/"), "a/b/c");
        assert_eq!(clean_path("/../x"), "/x");
    }

    #[test]
    fn json_is_written_as_go_writes_it() {
        let value = json!({"b": [1, 2.5, "<x>"], "a": null});
        assert_eq!(to_json(&value), r#"{"a":null,"b":[1,2.5,"\u003cx\u003e"]}"#);
        assert_eq!(sprint(&json!({"b": 1, "a": [true, "x"]})), "map[a:[true x] b:1]");
    }
}

//! Kyverno's time function tests, ported: the expressions, arguments and expected values of
//! pkg/engine/jmespath/time_test.go from kyverno/kyverno at commit
//! 111e07bbecc66abfde36ab99969af22d7a961003 (Apache-2.0). Cases calling a Go handler directly
//! call the function with the same arguments as literals.

use palisade_kyverno::jmespath::search;
use serde_json::{Value, json};

fn eval(expression: &str) -> Value {
    search(expression, &json!("")).unwrap_or_else(|error| panic!("{expression}: {error}"))
}

fn call(name: &str, args: &[Value]) -> Result<Value, palisade_kyverno::jmespath::Error> {
    let literals: Vec<String> = args.iter().map(|arg| format!("`{arg}`")).collect();
    search(&format!("{name}({})", literals.join(", ")), &Value::Null)
}

#[test]
fn time_since() {
    let cases = [
        ("time_since('', '2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')", "180h10m0s"),
        ("time_since('Mon Jan _2 15:04:05 MST 2006', 'Mon Jan 02 15:04:05 MST 2021', 'Mon Jan 10 03:14:16 MST 2021')", "180h10m11s"),
    ];
    for (expression, expected) in cases {
        assert_eq!(eval(expression), json!(expected), "{expression}");
    }
}

#[test]
fn time_to_cron() {
    assert_eq!(eval("time_to_cron('2023-02-02T15:04:05Z')"), json!("4 15 2 2 4"));
    assert_eq!(eval("time_to_cron(time_utc('2023-02-02T15:04:05-07:00'))"), json!("4 22 2 2 4"));
}

#[test]
fn time_add() {
    assert_eq!(eval("time_add('2021-01-02T15:04:05-07:00', '3h')"), json!("2021-01-02T18:04:05-07:00"));
    assert_eq!(
        eval("time_add(time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021'), '5h30m40s')"),
        json!("2021-01-02T20:34:45-07:00")
    );
}

#[test]
fn time_parse() {
    let cases = [
        ("time_parse('2006-01-02T15:04:05Z07:00', '2021-01-02T15:04:05-07:00')", "2021-01-02T15:04:05-07:00"),
        ("time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021')", "2021-01-02T15:04:05-07:00"),
        ("time_parse('1702691171', '1702691171')", "2023-12-16T01:46:11Z"),
    ];
    for (expression, expected) in cases {
        assert_eq!(eval(expression), json!(expected), "{expression}");
    }
}

#[test]
fn time_utc_and_time_diff() {
    assert_eq!(eval("time_utc('2023-02-02T15:04:05Z')"), json!("2023-02-02T15:04:05Z"));
    assert_eq!(eval("time_utc('2023-02-02T15:04:05-07:00')"), json!("2023-02-02T22:04:05Z"));
    assert_eq!(eval("time_diff('2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')"), json!("180h10m0s"));
}

#[test]
fn time_and_duration_arguments() {
    // Test_getTimeArg: a valid time; a missing argument; a number; an empty string.
    assert_eq!(call("time_utc", &[json!("2021-01-02T15:04:05-07:00")]).unwrap(), json!("2021-01-02T22:04:05Z"));
    assert!(search("time_utc()", &Value::Null).is_err());
    assert!(call("time_utc", &[json!(1)]).is_err());
    assert!(call("time_utc", &[json!("")]).is_err());
    // Test_getDurationArg, through time_add's duration argument.
    let time = json!("2021-01-02T15:04:05-07:00");
    assert_eq!(call("time_add", &[time.clone(), json!("20s")]).unwrap(), json!("2021-01-02T15:04:25-07:00"));
    assert!(call("time_add", std::slice::from_ref(&time)).is_err());
    assert!(call("time_add", &[time.clone(), json!(1)]).is_err());
    assert!(call("time_add", &[time, json!("")]).is_err());
}

#[test]
fn time_before_after_between() {
    let (t15, t16, t17, t18) =
        ("2021-01-02T15:04:05-07:00", "2021-01-02T16:04:05-07:00", "2021-01-02T17:04:05-07:00", "2021-01-02T18:04:05-07:00");
    let cases = [
        ("time_before", vec![json!(t15), json!(t16)], Some(true)),
        ("time_before", vec![json!(t15), json!(t15)], Some(false)),
        ("time_before", vec![json!(t16), json!(t15)], Some(false)),
        ("time_before", vec![json!(1), json!(t15)], None),
        ("time_before", vec![json!(t15), json!(1)], None),
        ("time_after", vec![json!(t15), json!(t16)], Some(false)),
        ("time_after", vec![json!(t15), json!(t15)], Some(false)),
        ("time_after", vec![json!(t16), json!(t15)], Some(true)),
        ("time_after", vec![json!(1), json!(t15)], None),
        ("time_after", vec![json!(t15), json!(1)], None),
        ("time_between", vec![json!(t17), json!(t15), json!(t18)], Some(true)),
        ("time_between", vec![json!(t15), json!(t15), json!(t18)], Some(false)),
        ("time_between", vec![json!(t18), json!(t15), json!(t18)], Some(false)),
        ("time_between", vec![json!(1), json!(t15), json!(t18)], None),
        ("time_between", vec![json!(t15), json!(1), json!(t18)], None),
        ("time_between", vec![json!(t15), json!(t18), json!(1)], None),
    ];
    for (function, args, expected) in cases {
        assert_eq!(call(function, &args).ok(), expected.map(Value::Bool), "{function}{args:?}");
    }
}

#[test]
fn time_truncate_rounds_down_from_gos_zero_time() {
    // Not from Kyverno's tests: Go truncates the absolute time (UTC days), whatever the offset.
    assert_eq!(eval("time_truncate('2023-02-02T15:04:05Z', '1h')"), json!("2023-02-02T15:00:00Z"));
    assert_eq!(eval("time_truncate('2023-02-02T15:04:05-07:00', '24h')"), json!("2023-02-01T17:00:00-07:00"));
}

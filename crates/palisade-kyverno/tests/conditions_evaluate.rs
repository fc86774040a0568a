//! Kyverno's condition evaluation tests, ported: the conditions and expected outcomes of
//! pkg/engine/variables/evaluate_test.go from kyverno/kyverno at commit
//! 111e07bbecc66abfde36ab99969af22d7a961003 (Apache-2.0).

use palisade_kyverno::conditions::{Evaluation, evaluate};
use serde_json::{Value, json};

fn request(object: Value) -> Value {
    json!({"request": {"object": object}})
}

fn condition(key: &str, operator: &str, value: &str, message: &str) -> Value {
    json!({"key": key, "operator": operator, "value": value, "message": message})
}

#[test]
fn test_evaluate() {
    let cases: Vec<(&str, Value, Value, bool)> = vec![
        ("Equals", json!("string"), json!("string"), true),
        ("Equals", json!(1), json!(1), true),
        ("Equals", json!(1), json!(1), true),
        ("Equals", json!(1), json!(1), true),
        ("Equals", json!(1.0), json!(1.0), true),
        ("Equals", json!(true), json!(true), true),
        ("Equals", json!(false), json!(false), true),
        ("Equals", json!("1024"), json!("1Ki"), true),
        ("Equals", json!("1Ki"), json!("1024"), true),
        ("Equals", json!("1Gi"), json!("1Gi"), true),
        ("Equals", json!("1Gi"), json!("1024Mi"), true),
        ("Equals", json!("1h"), json!("1h"), true),
        ("Equals", json!("1h"), json!("60m"), true),
        ("Equals", json!({"foo": "bar"}), json!({"foo": "bar"}), true),
        ("Equals", json!(["foo", "bar"]), json!(["foo", "bar"]), true),
        ("Equals", json!([{"foo": "bar"}]), json!([{"foo": "bar"}]), true),
        ("Equals", json!("string"), json!("not string"), false),
        ("Equals", json!(1), json!(2), false),
        ("Equals", json!(1), json!(2), false),
        ("Equals", json!(1), json!(2), false),
        ("Equals", json!(1.0), json!(2.0), false),
        ("Equals", json!(true), json!(false), false),
        ("Equals", json!(false), json!(true), false),
        ("Equals", json!("1Gi"), json!("10Gi"), false),
        ("Equals", json!("10Gi"), json!("1024Mi"), false),
        ("Equals", json!("1h"), json!("5h"), false),
        ("Equals", json!("1h"), json!("30m"), false),
        ("Equals", json!("string"), json!(1), false),
        ("Equals", json!(1), json!("2"), false),
        ("Equals", json!(1.0), json!("2.0"), false),
        ("Equals", json!(true), json!("false"), false),
        ("Equals", json!(false), json!("true"), false),
        ("Equals", json!({"foo": "bar"}), json!({"bar": "foo"}), false),
        ("Equals", json!(["foo", "bar"]), json!(["bar", "foo"]), false),
        ("Equals", json!([{"foo": "bar"}]), json!([{"bar": "foo"}]), false),
        ("Equals", json!("1h"), json!(3600), true),
        ("Equals", json!("2h"), json!(3600), false),
        ("Equals", json!("1.5.2"), json!("1.5.2"), true),
        ("Equals", json!("1.5.2"), json!("1.5.*"), true),
        ("Equals", json!("1.5.0"), json!("1.5.5"), false),
        ("NotEquals", json!("string"), json!("string"), false),
        ("NotEquals", json!(1), json!(1), false),
        ("NotEquals", json!(1), json!(1), false),
        ("NotEquals", json!(1), json!(1), false),
        ("NotEquals", json!(1.0), json!(1.0), false),
        ("NotEquals", json!(true), json!(false), true),
        ("NotEquals", json!(false), json!(false), false),
        ("NotEquals", json!("1024"), json!("1Ki"), false),
        ("NotEquals", json!("1Ki"), json!("1024"), false),
        ("NotEquals", json!("1023"), json!("1Ki"), true),
        ("NotEquals", json!("1Ki"), json!("1023"), true),
        ("NotEquals", json!("1Gi"), json!("1Gi"), false),
        ("NotEquals", json!("10Gi"), json!("1024Mi"), true),
        ("NotEquals", json!("1h"), json!("1h"), false),
        ("NotEquals", json!("1h"), json!("60m"), false),
        ("NotEquals", json!({"foo": "bar"}), json!({"foo": "bar"}), false),
        ("NotEquals", json!(["foo", "bar"]), json!(["foo", "bar"]), false),
        ("NotEquals", json!([{"foo": "bar"}]), json!([{"foo": "bar"}]), false),
        ("NotEquals", json!("string"), json!("not string"), true),
        ("NotEquals", json!(1), json!(2), true),
        ("NotEquals", json!(1), json!(2), true),
        ("NotEquals", json!(1), json!(2), true),
        ("NotEquals", json!(1.0), json!(2.0), true),
        ("NotEquals", json!(true), json!(true), false),
        ("NotEquals", json!(false), json!(true), true),
        ("NotEquals", json!("1Gi"), json!("10Gi"), true),
        ("NotEquals", json!("1Gi"), json!("1024Mi"), false),
        ("NotEquals", json!("1h"), json!("5h"), true),
        ("NotEquals", json!("1h"), json!("30m"), true),
        ("NotEquals", json!("string"), json!(1), true),
        ("NotEquals", json!(1), json!("2"), true),
        ("NotEquals", json!(1.0), json!("2.0"), true),
        ("NotEquals", json!(true), json!("false"), true),
        ("NotEquals", json!(false), json!("true"), true),
        ("NotEquals", json!({"foo": "bar"}), json!({"bar": "foo"}), true),
        ("NotEquals", json!(["foo", "bar"]), json!(["bar", "foo"]), true),
        ("NotEquals", json!([{"foo": "bar"}]), json!([{"bar": "foo"}]), true),
        ("NotEquals", json!("1h"), json!(3600), false),
        ("NotEquals", json!("2h"), json!(3600), true),
        ("NotEquals", json!("1.5.2"), json!("1.5.5"), true),
        ("NotEquals", json!("1.5.2"), json!("1.5.*"), false),
        ("NotEquals", json!("1.5.0"), json!("1.5.0"), false),
        ("GreaterThan", json!(10), json!(1), true),
        ("GreaterThan", json!(1.5), json!(1.0), true),
        ("GreaterThan", json!(1.5), json!(1), true),
        ("GreaterThan", json!(1), json!(10), false),
        ("GreaterThan", json!(1.0), json!(1.5), false),
        ("GreaterThan", json!(1), json!(1.5), false),
        ("GreaterThan", json!(1), json!(1), false),
        ("GreaterThan", json!(1.0), json!(1.0), false),
        ("GreaterThan", json!("1025"), json!("1Ki"), true),
        ("GreaterThan", json!("1Ki"), json!("1023"), true),
        ("GreaterThan", json!("10Gi"), json!("1Gi"), true),
        ("GreaterThan", json!("1Gi"), json!("1Mi"), true),
        ("GreaterThan", json!("1Gi"), json!("10Gi"), false),
        ("GreaterThan", json!("10Mi"), json!("10Mi"), false),
        ("GreaterThan", json!("10h"), json!("1h"), true),
        ("GreaterThan", json!("1h"), json!("30m"), true),
        ("GreaterThan", json!("1h"), json!("1h"), false),
        ("GreaterThan", json!("1Gi"), json!("1Gi"), false),
        ("GreaterThan", json!("10"), json!(1), true),
        ("GreaterThan", json!(100), json!("10"), true),
        ("GreaterThan", json!("100"), json!("10"), true),
        ("GreaterThan", json!("10"), json!("10"), false),
        ("GreaterThan", json!("1"), json!("10"), false),
        ("GreaterThan", json!("1"), json!(10), false),
        ("GreaterThan", json!(1), json!("10"), false),
        ("GreaterThan", json!("1h"), json!(3600), false),
        ("GreaterThan", json!("2h"), json!(3600), true),
        ("GreaterThan", json!(3600), json!("1h"), false),
        ("GreaterThan", json!(3600), json!("30m"), true),
        ("GreaterThan", json!(1), json!(1), false),
        ("GreaterThan", json!(10), json!(1), true),
        ("GreaterThan", json!(1), json!(10), false),
        ("GreaterThan", json!(1), json!(1), false),
        ("GreaterThan", json!(10), json!(1), true),
        ("GreaterThan", json!(1), json!(10), false),
        ("GreaterThan", json!(1), json!(1), false),
        ("GreaterThan", json!(10), json!(1), true),
        ("GreaterThan", json!(1), json!(10), false),
        ("GreaterThan", json!(-5), json!(1), false),
        ("GreaterThan", json!(-5), json!(-10), true),
        ("GreaterThan", json!(1), json!(-10), true),
        ("GreaterThan", json!("1.5.5"), json!("1.5.0"), true),
        ("GreaterThan", json!("1.5.0"), json!("1.5.5"), false),
        ("LessThan", json!(10), json!(1), false),
        ("LessThan", json!(1.5), json!(1.0), false),
        ("LessThan", json!(1.5), json!(1), false),
        ("LessThan", json!(1), json!(10), true),
        ("LessThan", json!(1.0), json!(1.5), true),
        ("LessThan", json!(1), json!(1.5), true),
        ("LessThan", json!(1), json!(1), false),
        ("LessThan", json!(1.0), json!(1.0), false),
        ("LessThan", json!("1023"), json!("1Ki"), true),
        ("LessThan", json!("1Ki"), json!("1025"), true),
        ("LessThan", json!("10Gi"), json!("1Gi"), false),
        ("LessThan", json!("1Gi"), json!("10Gi"), true),
        ("LessThan", json!("1Gi"), json!("1Mi"), false),
        ("LessThan", json!("1Mi"), json!("1Gi"), true),
        ("LessThan", json!("10h"), json!("1h"), false),
        ("LessThan", json!("1h"), json!("30m"), false),
        ("LessThan", json!("1h"), json!("1h"), false),
        ("LessThan", json!("1Gi"), json!("1Gi"), false),
        ("LessThan", json!("10"), json!(1), false),
        ("LessThan", json!(100), json!("10"), false),
        ("LessThan", json!("100"), json!("10"), false),
        ("LessThan", json!("10"), json!("10"), false),
        ("LessThan", json!("1"), json!("10"), true),
        ("LessThan", json!("1"), json!(10), true),
        ("LessThan", json!(1), json!("10"), true),
        ("LessThan", json!("1h"), json!(3600), false),
        ("LessThan", json!("30m"), json!(3600), true),
        ("LessThan", json!(3600), json!("1h"), false),
        ("LessThan", json!(3600), json!("30m"), false),
        ("LessThan", json!(1), json!(1), false),
        ("LessThan", json!(10), json!(1), false),
        ("LessThan", json!(1), json!(10), true),
        ("LessThan", json!(1), json!(1), false),
        ("LessThan", json!(10), json!(1), false),
        ("LessThan", json!(1), json!(10), true),
        ("LessThan", json!(1), json!(1), false),
        ("LessThan", json!(10), json!(1), false),
        ("LessThan", json!(1), json!(10), true),
        ("LessThan", json!(-5), json!(1), true),
        ("LessThan", json!(-5), json!(-10), false),
        ("LessThan", json!(1), json!(-10), false),
        ("LessThan", json!("1.5.5"), json!("1.5.0"), false),
        ("LessThan", json!("1.5.0"), json!("1.5.5"), true),
        ("GreaterThanOrEquals", json!(10), json!(1), true),
        ("GreaterThanOrEquals", json!(1.5), json!(1.0), true),
        ("GreaterThanOrEquals", json!(1.5), json!(1), true),
        ("GreaterThanOrEquals", json!(1), json!(10), false),
        ("GreaterThanOrEquals", json!(1.0), json!(1.5), false),
        ("GreaterThanOrEquals", json!(1), json!(1.5), false),
        ("GreaterThanOrEquals", json!(1), json!(1), true),
        ("GreaterThanOrEquals", json!(1.0), json!(1.0), true),
        ("GreaterThanOrEquals", json!(1.0), json!(1), true),
        ("GreaterThanOrEquals", json!("1025"), json!("1Ki"), true),
        ("GreaterThanOrEquals", json!("1024"), json!("1Ki"), true),
        ("GreaterThanOrEquals", json!("1Ki"), json!("1023"), true),
        ("GreaterThanOrEquals", json!("1Ki"), json!("1024"), true),
        ("GreaterThanOrEquals", json!("10Gi"), json!("1Gi"), true),
        ("GreaterThanOrEquals", json!("1Gi"), json!("1Mi"), true),
        ("GreaterThanOrEquals", json!("1Gi"), json!("10Gi"), false),
        ("GreaterThanOrEquals", json!("10h"), json!("1h"), true),
        ("GreaterThanOrEquals", json!("1h"), json!("30m"), true),
        ("GreaterThanOrEquals", json!("1h"), json!("1h"), true),
        ("GreaterThanOrEquals", json!("1Gi"), json!("1Gi"), true),
        ("GreaterThanOrEquals", json!("10"), json!(1), true),
        ("GreaterThanOrEquals", json!(100), json!("10"), true),
        ("GreaterThanOrEquals", json!("100"), json!("10"), true),
        ("GreaterThanOrEquals", json!("10"), json!("10"), true),
        ("GreaterThanOrEquals", json!("1"), json!("10"), false),
        ("GreaterThanOrEquals", json!("1"), json!(10), false),
        ("GreaterThanOrEquals", json!(1), json!("10"), false),
        ("GreaterThanOrEquals", json!("1h"), json!(3600), true),
        ("GreaterThanOrEquals", json!("2h"), json!(3600), true),
        ("GreaterThanOrEquals", json!(1), json!(1), true),
        ("GreaterThanOrEquals", json!(10), json!(1), true),
        ("GreaterThanOrEquals", json!(1), json!(10), false),
        ("GreaterThanOrEquals", json!(1), json!(1), true),
        ("GreaterThanOrEquals", json!(10), json!(1), true),
        ("GreaterThanOrEquals", json!(1), json!(10), false),
        ("GreaterThanOrEquals", json!(1), json!(1), true),
        ("GreaterThanOrEquals", json!(10), json!(1), true),
        ("GreaterThanOrEquals", json!(1), json!(10), false),
        ("GreaterThanOrEquals", json!("1.5.5"), json!("1.5.5"), true),
        ("GreaterThanOrEquals", json!("1.5.5"), json!("1.5.0"), true),
        ("GreaterThanOrEquals", json!("1.5.0"), json!("1.5.5"), false),
        ("LessThanOrEquals", json!(10), json!(1), false),
        ("LessThanOrEquals", json!(1.5), json!(1.0), false),
        ("LessThanOrEquals", json!(1.5), json!(1), false),
        ("LessThanOrEquals", json!(1), json!(10), true),
        ("LessThanOrEquals", json!(1.0), json!(1.5), true),
        ("LessThanOrEquals", json!(1), json!(1.5), true),
        ("LessThanOrEquals", json!(1), json!(1), true),
        ("LessThanOrEquals", json!(1.0), json!(1.0), true),
        ("LessThanOrEquals", json!("1Ki"), json!("1024"), true),
        ("LessThanOrEquals", json!("1024"), json!("1Ki"), true),
        ("LessThanOrEquals", json!("1Ki"), json!("1025"), true),
        ("LessThanOrEquals", json!("1023"), json!("1Ki"), true),
        ("LessThanOrEquals", json!("10Gi"), json!("1Gi"), false),
        ("LessThanOrEquals", json!("1Gi"), json!("10Gi"), true),
        ("LessThanOrEquals", json!("1Gi"), json!("1Mi"), false),
        ("LessThanOrEquals", json!("1Mi"), json!("1Gi"), true),
        ("LessThanOrEquals", json!("10h"), json!("1h"), false),
        ("LessThanOrEquals", json!("1h"), json!("30m"), false),
        ("LessThanOrEquals", json!("1h"), json!("1h"), true),
        ("LessThanOrEquals", json!("1Gi"), json!("1Gi"), true),
        ("LessThanOrEquals", json!("10"), json!(1), false),
        ("LessThanOrEquals", json!(100), json!("10"), false),
        ("LessThanOrEquals", json!("100"), json!("10"), false),
        ("LessThanOrEquals", json!("10"), json!("10"), true),
        ("LessThanOrEquals", json!("1"), json!("10"), true),
        ("LessThanOrEquals", json!("1"), json!(10), true),
        ("LessThanOrEquals", json!(1), json!("10"), true),
        ("LessThanOrEquals", json!("1h"), json!(3600), true),
        ("LessThanOrEquals", json!("2h"), json!(3600), false),
        ("LessThanOrEquals", json!(1), json!(1), true),
        ("LessThanOrEquals", json!(10), json!(1), false),
        ("LessThanOrEquals", json!(1), json!(10), true),
        ("LessThanOrEquals", json!(1), json!(1), true),
        ("LessThanOrEquals", json!(10), json!(1), false),
        ("LessThanOrEquals", json!(1), json!(10), true),
        ("LessThanOrEquals", json!(1), json!(1), true),
        ("LessThanOrEquals", json!(10), json!(1), false),
        ("LessThanOrEquals", json!(1), json!(10), true),
        ("LessThanOrEquals", json!("1.5.5"), json!("1.5.5"), true),
        ("LessThanOrEquals", json!("1.5.0"), json!("1.5.5"), true),
        ("LessThanOrEquals", json!("1.5.5"), json!("1.5.0"), false),
        ("In", json!(1), json!([1, 2, 3]), true),
        ("In", json!(1.5), json!([1, 1.5, 2, 3]), true),
        ("In", json!("1"), json!(["1", "2", "3"]), true),
        ("In", json!(["1.1.1.1", "2.2.2.2"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("In", json!(5), json!([1, 2, 3]), false),
        ("In", json!(5.5), json!([1, 1.5, 2, 3]), false),
        ("In", json!("5"), json!(["1", "2", "3"]), false),
        ("In", json!("1.1.1.1"), json!(["1*"]), true),
        ("In", json!(["1.1.1.1", "4.4.4.4"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("NotIn", json!(1), json!([1, 2, 3]), false),
        ("NotIn", json!(1.5), json!([1, 1.5, 2, 3]), false),
        ("NotIn", json!("1"), json!(["1", "2", "3"]), false),
        ("NotIn", json!(["1.1.1.1", "2.2.2.2"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("NotIn", json!(5), json!([1, 2, 3]), true),
        ("NotIn", json!(5.5), json!([1, 1.5, 2, 3]), true),
        ("NotIn", json!("5"), json!(["1", "2", "3"]), true),
        ("NotIn", json!(["1.1.1.1", "4.4.4.4"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AnyIn", json!(["1.1.1.1", "5.5.5.5"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AnyIn", json!(["1.1.1.1", "5.5.5.5"]), json!("1.1.1.1"), true),
        ("AnyIn", json!(["4.4.4.4", "5.5.5.5"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AnyIn", json!(["1.1.1.1", "5.5.5.5"]), json!(["1.1.1.1"]), true),
        ("AnyIn", json!([1, 2]), json!([1, 2, 3, 4]), true),
        ("AnyIn", json!([1, 5]), json!([1, 2, 3, 4]), true),
        ("AnyIn", json!([5]), json!([1, 2, 3, 4]), false),
        ("AnyIn", json!(["1*"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AnyIn", json!(["5*"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AnyIn", json!(["1.1.1.1", "2.2.2.2", "5.5.5.5"]), json!(["2*"]), true),
        ("AnyIn", json!(["1.1.1.1", "2.2.2.2", "5.5.5.5"]), json!(["4*"]), false),
        ("AnyIn", json!(["5"]), json!("1-3"), false),
        ("AnyIn", json!("1.1.1.1"), json!(["1*"]), true),
        ("AnyIn", json!("5"), json!("1-10"), true),
        ("AnyIn", json!(5), json!("1-10"), true),
        ("AnyIn", json!([1, 5]), json!("7-10"), false),
        ("AnyIn", json!([1, 5]), json!("0-10"), true),
        ("AnyIn", json!([1.002, 1.222]), json!("1.001-10"), true),
        ("AllIn", json!(["1.1.1.1", "2.2.2.2"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AllIn", json!(["1.1.1.1", "5.5.5.5"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AllIn", json!(["4.4.4.4", "5.5.5.5"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AllIn", json!(["1.1.1.1", "5.5.5.5"]), json!(["1.1.1.1"]), false),
        ("AllIn", json!([1, 2]), json!([1, 2, 3, 4]), true),
        ("AllIn", json!([1, 5]), json!([1, 2, 3, 4]), false),
        ("AllIn", json!([5]), json!([1, 2, 3, 4]), false),
        ("AllIn", json!(["1*"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AllIn", json!(["5*"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AllIn", json!(["2.1.1.1", "2.2.2.2", "2.5.5.5"]), json!(["2*"]), true),
        ("AllIn", json!(["1.1.1.1", "2.2.2.2", "5.5.5.5"]), json!(["4*"]), false),
        ("AllIn", json!(["1.1.1.1", "5.5.5.5"]), json!("5.5.5.5"), false),
        ("AllIn", json!(5), json!("1-10"), true),
        ("AllIn", json!([3, 2]), json!("1-10"), true),
        ("AllIn", json!([3, 2]), json!("5-10"), false),
        ("AllNotIn", json!(1), json!([1, 2, 3]), false),
        ("AllNotIn", json!(1.5), json!([1, 1.5, 2, 3]), false),
        ("AllNotIn", json!("1"), json!(["1", "2", "3"]), false),
        ("AllNotIn", json!(["1.1.1.1", "2.2.2.2"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AllNotIn", json!(5), json!([1, 2, 3]), true),
        ("AllNotIn", json!(5.5), json!([1, 1.5, 2, 3]), true),
        ("AllNotIn", json!("5"), json!(["1", "2", "3"]), true),
        ("AllNotIn", json!(["1.1.1.1", "4.4.4.4"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AllNotIn", json!(["1.1.1.1", "4.4.4.4"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3", "1.1.1.1"]), false),
        ("AllNotIn", json!(["1.1.1.1", "4.4.4.4", "1.1.1.1"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3", "1.1.1.1", "4.4.4.4"]), false),
        ("AllNotIn", json!(["5.5.5.5", "4.4.4.4"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AllNotIn", json!(["7*", "6*", "5*"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AllNotIn", json!(["1*", "2*"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AllNotIn", json!(["1.1.1.1", "3.3.3.3", "5.5.5.5"]), json!(["2*"]), true),
        ("AllNotIn", json!(["4.1.1.1", "4.2.2.2", "4.5.5.5"]), json!(["4*"]), false),
        ("AllNotIn", json!(["1.1.1.1", "4.4.4.4"]), json!("2.2.2.2"), true),
        ("AllNotIn", json!(5.5), json!("6-10"), true),
        ("AllNotIn", json!("5"), json!("1-6"), false),
        ("AllNotIn", json!([3, 2]), json!("5-10"), true),
        ("AllNotIn", json!([2, 6]), json!("5-10"), false),
        ("AnyNotIn", json!(1), json!([1, 2, 3]), false),
        ("AnyNotIn", json!(1.5), json!([1, 1.5, 2, 3]), false),
        ("AnyNotIn", json!("1"), json!(["1", "2", "3"]), false),
        ("AnyNotIn", json!(["1.1.1.1", "2.2.2.2"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), false),
        ("AnyNotIn", json!(5), json!([1, 2, 3]), true),
        ("AnyNotIn", json!(5.5), json!([1, 1.5, 2, 3]), true),
        ("AnyNotIn", json!("5"), json!(["1", "2", "3"]), true),
        ("AnyNotIn", json!(["1.1.1.1", "4.4.4.4"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AnyNotIn", json!(["5.5.5.5", "4.4.4.4"]), json!("4.4.4.4"), true),
        ("AnyNotIn", json!(["5.5.5.5", "4.4.4.4"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AnyNotIn", json!(["1*", "3*", "5*"]), json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]), true),
        ("AnyNotIn", json!(["1.1.1.1", "2.2.2.2", "5.5.5.5"]), json!(["2*"]), true),
        ("AnyNotIn", json!(["2.2*"]), json!(["2.2.2.2"]), false),
        ("AnyNotIn", json!("5"), json!("1-3"), true),
        ("AnyNotIn", json!([1, 5, 11]), json!("0-10"), true),
        ("AnyNotIn", json!([1, 5, 7]), json!("0-10"), false),
    ];
    let mut failures = Vec::new();
    for (operator, key, value, expected) in &cases {
        let conditions = json!([{"key": key, "operator": operator, "value": value}]);
        match evaluate(&conditions, &json!({})) {
            Ok(Evaluation { passed, .. }) if passed == *expected => {}
            other => failures.push(format!("{key} {operator} {value}: expected {expected}, got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn equal_with_a_variable() {
    let context = request(json!({"metadata": {"name": "temp", "namespace": "n1"}, "spec": {"namespace": "n1", "name": "temp1"}}));
    let passes = |value: &str| {
        evaluate(&json!([{"key": "{{request.object.metadata.name}}", "operator": "Equal", "value": value}]), &context).unwrap().passed
    };
    assert!(passes("temp"));
    assert!(!passes("temp1"));
}

#[test]
fn condition_messages() {
    let context = request(json!({"metadata": {"name": "temp", "namespace": "n1"}, "spec": {"foo": "bar", "foo2": "bar2"}}));
    let name = |value| condition("{{request.object.metadata.name}}", "Equal", value, "invalid name");
    let foo = |value| condition("{{request.object.spec.foo}}", "Equal", value, "invalid foo");

    let result = evaluate(&json!([{"any": [name("temp2"), foo("bar2")]}]), &context).unwrap();
    assert!(!result.passed);
    assert!(result.message.unwrap().contains("invalid name; invalid foo"));

    let result = evaluate(&json!([{"any": [name("temp"), foo("bar")]}]), &context).unwrap();
    assert_eq!(result, Evaluation { passed: true, message: Some("invalid name".into()) });

    let result = evaluate(&json!([{"any": [name("temp"), foo("bar")], "all": [name("temp"), foo("bar2")]}]), &context).unwrap();
    assert!(!result.passed);
    assert!(result.message.unwrap().contains("invalid foo"));

    let foo2 = condition("{{request.object.spec.foo}}", "Equal", "bar2", "invalid foo2");
    let result = evaluate(&json!([{"any": [name("temp1"), foo("bar2")], "all": [name("temp"), foo2]}]), &context).unwrap();
    assert!(!result.passed);
    assert!(result.message.unwrap().contains("invalid name; invalid foo; invalid foo2"));
}

#[test]
fn any_and_all_blocks() {
    let context = request(json!({
        "metadata": {"name": "test-pod", "namespace": "test-namespace"},
        "spec": {"containers": [{"name": "test-container", "image": "nginx:latest"}]}
    }));
    let name = |value| condition("{{request.object.metadata.name}}", "Equals", value, "");
    let namespace = |value| condition("{{request.object.metadata.namespace}}", "Equals", value, "");
    let passes = |conditions: Value| evaluate(&conditions, &context).unwrap().passed;

    assert!(!passes(json!({"any": [name("wrong-name"), namespace("wrong-namespace")]})));
    assert!(passes(json!({"any": [name("test-pod"), namespace("wrong-namespace")]})));
    assert!(!passes(json!({"all": [name("test-pod"), namespace("wrong-namespace")]})));
    assert!(passes(json!({"all": [name("test-pod"), namespace("test-namespace")]})));
    assert!(passes(json!([{"any": [name("test-pod")]}, {"all": [namespace("test-namespace")]}])));
    assert!(!passes(json!([{"any": [name("test-pod")]}, {"all": [namespace("wrong-namespace")]}])));

    let test = request(json!({"metadata": {"name": "test"}}));
    let block = json!({"any": [condition("{{request.object.metadata.name}}", "Equals", "test", "")]});
    assert!(evaluate(&json!([block.clone(), block]), &test).unwrap().passed);
}

#[test]
fn substitution_failures_name_the_side() {
    // validation_test.go's expected message for a deny condition on a missing field.
    let context = request(json!({"spec": {"sourceRef": {}}}));
    let conditions = json!({"any": [{"key": "{{request.object.spec.sourceRef.namespace}}", "operator": "NotEquals", "value": "x"}]});
    assert_eq!(
        evaluate(&conditions, &context).unwrap_err().to_string(),
        "failed to substitute variables in condition key: failed to resolve request.object.spec.sourceRef.namespace at path : JMESPath query failed: Unknown key \"namespace\" in path"
    );
}

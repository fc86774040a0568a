//! Kyverno's arithmetic tests, ported: the expressions and expected values of
//! pkg/engine/jmespath/arithmetic_test.go from kyverno/kyverno at commit
//! 111e07bbecc66abfde36ab99969af22d7a961003 (Apache-2.0). Numbers compare as Go's float64s.

use palisade_kyverno::jmespath::search;
use serde_json::{Value, json};

type Case = (&'static str, Result<Value, ()>);

fn check(cases: &[Case]) {
    for (expression, expected) in cases {
        let result = search(expression, &json!(""));
        match (expected, result) {
            (Err(()), Err(_)) => {}
            (Ok(Value::Number(want)), Ok(Value::Number(got))) => assert_eq!(got.as_f64(), want.as_f64(), "{expression}"),
            (Ok(want), Ok(got)) => assert_eq!(&got, want, "{expression}"),
            (want, got) => panic!("{expression}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn add() {
    check(&[
        ("add(`12`, `13`)", Ok(json!(25.0))),
        ("add('12', '13s')", Err(())),
        ("add(`12`, '13Ki')", Err(())),
        ("add(`12`, '13')", Err(())),
        ("add('12Ki', '13Ki')", Ok(json!("25Ki"))),
        ("add('12Ki', '13')", Ok(json!("12301"))),
        ("add('12Ki', '13s')", Err(())),
        ("add('12Ki', `13`)", Err(())),
        ("add('12s', '13s')", Ok(json!("25s"))),
        ("add('12s', `13`)", Err(())),
        ("add('12s', '13Ki')", Err(())),
        ("add('12s', '13')", Err(())),
    ]);
}

#[test]
fn sum() {
    check(&[
        ("sum([])", Err(())),
        ("sum([`12`])", Ok(json!(12.0))),
        ("sum([`12`, `13`, `1`, `4`])", Ok(json!(30.0))),
        ("sum([`12`, `13`])", Ok(json!(25.0))),
        ("sum(['12', '13s'])", Err(())),
        ("sum([`12`, '13Ki'])", Err(())),
        ("sum([`12`, '13'])", Err(())),
        ("sum([])", Err(())),
        ("sum(['12Ki'])", Ok(json!("12Ki"))),
        ("sum(['12Ki', '13Ki', '1Ki', '4Ki'])", Ok(json!("30Ki"))),
        ("sum(['12Ki', '13Ki'])", Ok(json!("25Ki"))),
        ("sum(['12Ki', '13'])", Ok(json!("12301"))),
        ("sum(['12Ki', '13s'])", Err(())),
        ("sum(['12Ki', `13`])", Err(())),
        ("sum([])", Err(())),
        ("sum(['12s'])", Ok(json!("12s"))),
        ("sum(['12s', '13s', '1s', '4s'])", Ok(json!("30s"))),
        ("sum(['12s', '13s'])", Ok(json!("25s"))),
        ("sum(['12s', `13`])", Err(())),
        ("sum(['12s', '13Ki'])", Err(())),
        ("sum(['12s', '13'])", Err(())),
    ]);
}

#[test]
fn subtract() {
    check(&[
        ("subtract(`12`, `13`)", Ok(json!(-1.0))),
        ("subtract('12', '13s')", Err(())),
        ("subtract(`12`, '13Ki')", Err(())),
        ("subtract(`12`, '13')", Err(())),
        ("subtract('12Ki', '13Ki')", Ok(json!("-1Ki"))),
        ("subtract('12Ki', '13')", Ok(json!("12275"))),
        ("subtract('12Ki', '13s')", Err(())),
        ("subtract('12Ki', `13`)", Err(())),
        ("subtract('12s', '13s')", Ok(json!("-1s"))),
        ("subtract('12s', `13`)", Err(())),
        ("subtract('12s', '13Ki')", Err(())),
        ("subtract('12s', '13')", Err(())),
    ]);
}

#[test]
fn multiply() {
    check(&[
        ("multiply('12Ki', `2`)", Ok(json!("24Ki"))),
        ("multiply('12Ki', '12Ki')", Err(())),
        ("multiply('12Ki', '12')", Err(())),
        ("multiply('12Ki', '12s')", Err(())),
        ("multiply('12s', `2`)", Ok(json!("24s"))),
        ("multiply('12s', '12Ki')", Err(())),
        ("multiply('12s', '12')", Err(())),
        ("multiply('12s', '12s')", Err(())),
        ("multiply(`2.5`, `2.5`)", Ok(json!(2.5 * 2.5))),
        ("multiply(`2.5`, '12Ki')", Ok(json!("30Ki"))),
        ("multiply(`2.5`, '12')", Ok(json!("30"))),
        ("multiply(`2.5`, '40s')", Ok(json!("1m40s"))),
    ]);
}

#[test]
fn divide() {
    check(&[
        ("divide('256M', '256M')", Ok(json!(1.0))),
        ("divide('512M', '256M')", Ok(json!(2.0))),
        ("divide('8', '3')", Ok(json!(8.0 / 3.0))),
        ("divide('128M', '256M')", Ok(json!(0.5))),
        ("divide('12Ki', `3`)", Ok(json!("4Ki"))),
        ("divide('12Ki', '2Ki')", Ok(json!(6.0))),
        ("divide('12Ki', '200')", Ok(json!(61.44))),
        ("divide('12Ki', '2s')", Err(())),
        ("divide('12s', `3`)", Ok(json!("4s"))),
        ("divide('12s', '5s')", Ok(json!(2.4))),
        ("divide('12s', '4Ki')", Err(())),
        ("divide('12s', '4')", Err(())),
        ("divide(`14`, `3`)", Ok(json!(4.666666666666667))),
        ("divide(`14`, '5s')", Err(())),
        ("divide(`14`, '5Ki')", Err(())),
        ("divide(`14`, '5')", Err(())),
        ("divide(`14`, `0`)", Err(())),
        ("divide('4Ki', `0`)", Err(())),
        ("divide('4Ki', '0Ki')", Err(())),
        ("divide('4', `0`)", Err(())),
        ("divide('4', '0')", Err(())),
        ("divide('4s', `0`)", Err(())),
        ("divide('4s', '0s')", Err(())),
    ]);
}

#[test]
fn modulo() {
    check(&[
        ("modulo('12', '13s')", Err(())),
        ("modulo('12Ki', '13s')", Err(())),
        ("modulo('12Ki', `13`)", Err(())),
        ("modulo('12Ki', '5Ki')", Ok(json!("2Ki"))),
        ("modulo('13s', '12')", Err(())),
        ("modulo('13s', '12Ki')", Err(())),
        ("modulo('13s', '2s')", Ok(json!("1s"))),
        ("modulo('13s', `2`)", Err(())),
        ("modulo(`13`, '12')", Err(())),
        ("modulo(`13`, '12Ki')", Err(())),
        ("modulo(`13`, '5s')", Err(())),
        ("modulo(`13`, `5`)", Ok(json!(3.0))),
        ("modulo(`14`, `0`)", Err(())),
        ("modulo('4Ki', `0`)", Err(())),
        ("modulo('4Ki', '0Ki')", Err(())),
        ("modulo('4', `0`)", Err(())),
        ("modulo('4', '0')", Err(())),
        ("modulo('4s', `0`)", Err(())),
        ("modulo('4s', '0s')", Err(())),
        ("modulo('4', '1.5')", Err(())),
        ("modulo('4.5', '1')", Err(())),
        ("modulo(`14`, `1.5`)", Err(())),
        ("modulo(`14.5`, `2`)", Err(())),
    ]);
}

#[test]
fn round() {
    check(&[
        ("round(`23`, '12Ki')", Err(())),
        ("round(`21`, '5s')", Err(())),
        ("round(`9.414675`, `2`)", Ok(json!(9.41))),
        ("round(`14.123`, `6`)", Ok(json!(14.123))),
        ("round(`14`, `1.5`)", Err(())),
        ("round(`14`, `-2`)", Err(())),
    ]);
}

#[test]
fn operands_of_other_types_are_refused() {
    // TestScalar_Multiply and TestParseArithemticOperands: a boolean is no operand.
    check(&[("multiply(`123`, `true`)", Err(())), ("add(`true`, `1`)", Err(())), ("add(`1`, `true`)", Err(()))]);
}

#[test]
fn errors_carry_kyvernos_messages() {
    // error_test.go's formats, as the functions produce them.
    let message = |expression: &str| search(expression, &json!("")).unwrap_err().to_string();
    assert_eq!(message("add('12s', `13`)"), "JMESPath function 'add': Types mismatch");
    assert_eq!(message("divide(`14`, `0`)"), "JMESPath function 'divide': Zero divisor passed");
    assert_eq!(message("modulo(`14`, `1.5`)"), "JMESPath function 'modulo': Non-integer argument(s) passed for modulo");
    assert_eq!(message("round(`14`, `1.5`)"), "JMESPath function 'round': Non-integer argument(s) passed for round off");
    assert_eq!(message("add('x', `1`)"), "JMESPath function 'add': invalid operand");
}

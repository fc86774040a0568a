//! Kyverno's JMESPath function tests, ported: the inputs and expected values of
//! pkg/engine/jmespath/functions_test.go and utils_test.go from kyverno/kyverno at commit
//! 111e07bbecc66abfde36ab99969af22d7a961003 (Apache-2.0). Cases that call a Go handler directly
//! call the function through an expression with the same arguments as literals.

use palisade_kyverno::jmespath::search;
use serde_json::{Value, json};

/// `name(args...)` with each argument written as a JSON literal.
fn call(name: &str, args: &[Value]) -> Result<Value, palisade_kyverno::jmespath::Error> {
    let literals: Vec<String> = args.iter().map(|arg| format!("`{}`", arg.to_string().replace('`', "\\`"))).collect();
    search(&format!("{name}({})", literals.join(", ")), &Value::Null)
}

fn eval(expression: &str) -> Value {
    search(expression, &json!("")).unwrap_or_else(|error| panic!("{expression}: {error}"))
}

fn fails(expression: &str) -> String {
    match search(expression, &json!("")) {
        Ok(value) => panic!("{expression} gave {value} instead of failing"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn compare() {
    for (expression, expected) in [("compare('a', 'a')", 0), ("compare('a', 'b')", -1), ("compare('b', 'a')", 1)] {
        assert_eq!(eval(expression), json!(expected), "{expression}");
    }
    for (args, expected) in [(json!(["a", "b"]), Some(-1)), (json!(["b", "a"]), Some(1)), (json!(["b", "b"]), Some(0)), (json!([1, "b"]), None), (json!(["a", 1]), None)] {
        let result = call("compare", args.as_array().unwrap());
        assert_eq!(result.ok(), expected.map(|n| json!(n)), "compare{args}");
    }
}

#[test]
fn parse_json_round_trips_through_to_string() {
    for text in [r#"{"a":"b"}"#, "true", r#"[1,2,3,{"a":"b"}]"#, "null", "[]", "{}", "0", "1.2", r#"[1.2,true,{"a":{"a":"b"}}]"#] {
        assert_eq!(eval(&format!("to_string(parse_json('{text}'))")), json!(text), "{text}");
    }
}

#[test]
fn parse_json_then_query() {
    assert_eq!(eval(r#"parse_json('{"a": "b"}').a"#), json!("b"));
    assert!(numbers_equal(&eval(r#"parse_json('{"a": [1, 2, 3, 4]}').a[0]"#), &json!(1.0)));
    assert!(numbers_equal(&eval(r#"parse_json('[1, 2, {"a": {"b": {"c": [1, 2]}}}]')[2].a.b.c[1]"#), &json!(2.0)));
}

#[test]
fn parse_yaml() {
    let cases = [
        ("a: b", json!({"a": "b"})),
        ("\n- 1\n- 2\n- 3\n- a: b", json!([1.0, 2.0, 3.0, {"a": "b"}])),
        ("\nspec:\n  test: 1\n  test2:\n    - 2\n    - 3\n", json!({"spec": {"test": 1.0, "test2": [2.0, 3.0]}})),
        // divergence: Kyverno gives "...see?" without the final line break: go-yaml reads the
        // string as it is, while Palisade's YAML reader ends the text with a line break (as
        // kubectl's line reader does), which a clipped block scalar at the very end keeps.
        (
            "\nbar: >\n  this is not a normal string it\n  spans more than\n  one line\n  see?",
            json!({"bar": "this is not a normal string it spans more than one line see?\n"}),
        ),
        ("\n---\nfoo: ~\nbar: null\n", json!({"bar": null, "foo": null})),
    ];
    for (text, expected) in cases {
        let result = eval(&format!("parse_yaml('{text}')"));
        assert!(numbers_equal(&result, &expected), "{text}: {result} != {expected}");
    }
}

/// Go compares float64s; 1 and 1.0 are the same number there.
fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| numbers_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| numbers_equal(v, w))),
        _ => a == b,
    }
}

#[test]
fn equal_fold() {
    for (expression, expected) in [("equal_fold('Go', 'go')", true), ("equal_fold('a', 'b')", false), ("equal_fold('1', 'b')", false)] {
        assert_eq!(eval(expression), json!(expected), "{expression}");
    }
    for (args, expected) in [(json!(["Go", "go"]), Some(true)), (json!(["a", "b"]), Some(false)), (json!([1, "b"]), None), (json!(["a", 1]), None)] {
        assert_eq!(call("equal_fold", args.as_array().unwrap()).ok(), expected.map(Value::Bool), "equal_fold{args}");
    }
}

#[test]
fn replace() {
    let cases = [
        ("replace('Lorem ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)", "Lorem muspi dolor sit amet"),
        ("replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)", "Lorem muspi muspi muspi dolor sit amet"),
        ("replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `1`)", "Lorem muspi ipsum ipsum dolor sit amet"),
    ];
    for (expression, expected) in cases {
        assert_eq!(eval(expression), json!(expected), "{expression}");
    }
    let handler_cases = [
        (json!(["Lorem ipsum dolor sit amet", "ipsum", "muspi", -1.0]), Some("Lorem muspi dolor sit amet")),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", "ipsum", "muspi", -1.0]), Some("Lorem muspi muspi muspi dolor sit amet")),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", "ipsum", "muspi", 1.0]), Some("Lorem muspi ipsum ipsum dolor sit amet")),
        (json!([1.0, "ipsum", "muspi", 1.0]), None),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", 1.0, "muspi", 1.0]), None),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", "ipsum", false, 1.0]), None),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", "ipsum", "muspi", true]), None),
    ];
    for (args, expected) in handler_cases {
        assert_eq!(call("replace", args.as_array().unwrap()).ok(), expected.map(|text| json!(text)), "replace{args}");
    }
}

#[test]
fn replace_all() {
    assert_eq!(eval("replace_all('Lorem ipsum dolor sit amet', 'ipsum', 'muspi')"), json!("Lorem muspi dolor sit amet"));
    let handler_cases = [
        (json!(["Lorem ipsum dolor sit amet", "ipsum", "muspi"]), Some("Lorem muspi dolor sit amet")),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", "ipsum", "muspi"]), Some("Lorem muspi muspi muspi dolor sit amet")),
        (json!([1.0, "ipsum", "muspi"]), None),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", 1.0, "muspi"]), None),
        (json!(["Lorem ipsum ipsum ipsum dolor sit amet", "ipsum", false]), None),
    ];
    for (args, expected) in handler_cases {
        assert_eq!(call("replace_all", args.as_array().unwrap()).ok(), expected.map(|text| json!(text)), "replace_all{args}");
    }
}

#[test]
fn to_upper_and_to_lower() {
    for (input, upper, lower) in [("abc", "ABC", "abc"), ("123", "123", "123"), ("a#%&123Bc", "A#%&123BC", "a#%&123bc")] {
        assert_eq!(eval(&format!("to_upper('{input}')")), json!(upper));
        assert_eq!(eval(&format!("to_lower('{input}')")), json!(lower));
    }
    for (input, upper) in [("abc", "ABC"), ("123", "123"), ("a#%&123Bc", "A#%&123BC")] {
        assert_eq!(call("to_upper", &[json!(input)]).unwrap(), json!(upper));
    }
    for (input, lower) in [("ABC", "abc"), ("123", "123"), ("A#%&123BC", "a#%&123bc")] {
        assert_eq!(call("to_lower", &[json!(input)]).unwrap(), json!(lower));
    }
    assert!(call("to_upper", &[json!(32.0)]).is_err());
    assert!(call("to_lower", &[json!(32.0)]).is_err());
}

#[test]
fn trim_and_trim_prefix() {
    assert_eq!(eval("trim('¡¡¡Hello, Gophers!!!', '!¡')"), json!("Hello, Gophers"));
    let cases = [
        (json!(["¡¡¡Hello, Gophers!!!", "¡¡¡Hello, "]), Some("Gophers!!!")),
        (json!(["¡¡¡Hello, Gophers!!!", "¡¡¡Hola, "]), Some("¡¡¡Hello, Gophers!!!")),
        (json!([1, "¡¡¡Hello, "]), None),
        (json!(["¡¡¡Hello, Gophers!!!", 1]), None),
    ];
    for (args, expected) in cases {
        assert_eq!(call("trim_prefix", args.as_array().unwrap()).ok(), expected.map(|text| json!(text)), "trim_prefix{args}");
    }
}

#[test]
fn split_and_builtin_prefix_suffix() {
    assert_eq!(eval("split('Hello, Gophers', ', ')"), json!(["Hello", "Gophers"]));
    assert_eq!(eval("starts_with('Gophers', 'Go')"), json!(true));
    assert_eq!(eval("ends_with('Amigo', 'go')"), json!(true));
}

#[test]
fn regex_and_pattern_match() {
    assert_eq!(search("regex_match('12.*', foo)", &json!({"foo": "hgf'b1a2r'b12g"})).unwrap(), json!(true));
    assert_eq!(search("regex_match('12.*', abs(foo))", &json!({"foo": -12.0})).unwrap(), json!(true));
    assert_eq!(search("pattern_match('prefix-*', foo)", &json!({"foo": "prefix-foo"})).unwrap(), json!(true));
    assert_eq!(search("pattern_match('12*', abs(foo))", &json!({"foo": -12.0})).unwrap(), json!(true));
}

#[test]
fn regex_replace_all() {
    let resource = json!({
        "metadata": {"name": "temp", "namespace": "ns_first"},
        "spec": {"namespace": "ns_first", "name": "temp_other", "field": "Hello world, helworldlo"}
    });
    assert_eq!(search("regex_replace_all('([Hh]e|G)l', spec.field, '${2}G')", &resource).unwrap(), json!("Glo world, Gworldlo"));
    assert_eq!(search("regex_replace_all_literal('[Hh]el?', spec.field, 'G')", &resource).unwrap(), json!("Glo world, Gworldlo"));
}

#[test]
fn label_match() {
    let resource = json!({"metadata": {"labels": {"app": "test-app", "controller-name": "test-controller"}}});
    let nested = json!({"metadata": {"labels": {"app": "test-app", "annotations": {"test": "test"}, "ownerReferences": [{"name": "test"}]}}});
    let cases = [
        (&resource, r#"{ "app": "test-app" }"#, true),
        (&resource, r#"{ "app": "test-app", "controller-name": "test-controller" }"#, true),
        (&resource, r#"{ "app": "test-app2" }"#, false),
        (&resource, r#"{ "app.kubernetes.io/name": "test-app" }"#, false),
        (&nested, r#"{ "app": "test-app", "annotations": { "test": "test" } }"#, true),
    ];
    for (resource, selector, expected) in cases {
        assert_eq!(search(&format!("label_match(`{selector}`, metadata.labels)"), resource).unwrap(), json!(expected), "{selector}");
    }
}

#[test]
fn to_boolean() {
    let cases = [
        (json!("true"), Some(true)),
        (json!("TRue"), Some(true)),
        (json!("FaLse"), Some(false)),
        (json!("FaLsee"), None),
        (json!("false"), Some(false)),
        (json!("foo"), None),
        (json!(1), None),
        (json!(null), None),
    ];
    for (input, expected) in cases {
        assert_eq!(call("to_boolean", std::slice::from_ref(&input)).ok(), expected.map(Value::Bool), "to_boolean({input})");
    }
}

#[test]
fn base64() {
    assert_eq!(eval("base64_decode('SGVsbG8sIHdvcmxkIQ==')"), json!("Hello, world!"));
    assert_eq!(eval("base64_encode('Hello, world!')"), json!("SGVsbG8sIHdvcmxkIQ=="));
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "example", "namespace": "default"},
        "type": "Opaque", "data": {"example1": "SGVsbG8sIHdvcmxkIQ==", "example2": "Rm9vQmFy"}
    });
    assert_eq!(search("base64_decode(data.example1)", &secret).unwrap(), json!("Hello, world!"));
}

#[test]
fn path_canonicalize() {
    let cases = [
        ("///", "/"),
        ("///var/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock"),
        ("/var/run///containerd/containerd.sock", "/var/run/containerd/containerd.sock"),
        ("/var/run///containerd////", "/var/run/containerd"),
        ("/run///", "/run"),
        ("/run/../etc", "/etc"),
        ("///etc*", "/etc*"),
        ("/../../", "/"),
    ];
    for (path, expected) in cases {
        assert_eq!(eval(&format!("path_canonicalize('{path}')")), json!(expected), "{path}");
    }
}

#[test]
fn truncate() {
    let cases = [
        ("truncate('Lorem ipsum dolor sit amet', `5`)", "Lorem"),
        ("truncate('Lorem ipsum ipsum ipsum dolor sit amet', `11`)", "Lorem ipsum"),
        ("truncate('Lorem ipsum ipsum ipsum dolor sit amet', `40`)", "Lorem ipsum ipsum ipsum dolor sit amet"),
        ("truncate('Lorem ipsum', `2.6`)", "Lo"),
        ("truncate('Lorem ipsum', `0`)", ""),
        ("truncate('Lorem ipsum', `-1`)", ""),
    ];
    for (expression, expected) in cases {
        assert_eq!(eval(expression), json!(expected), "{expression}");
    }
}

#[test]
fn semver_compare() {
    let cases = [
        ("semver_compare('4.1.3','>=4.1.x')", true),
        ("semver_compare('4.1.3','!4.x.x')", false),
        ("semver_compare('1.8.6','>1.0.0 <2.0.0')", true),
        ("semver_compare('2.1.5','<2.0.0 || >=3.0.0')", false),
    ];
    for (expression, expected) in cases {
        assert_eq!(eval(expression), json!(expected), "{expression}");
    }
}

#[test]
fn lookup() {
    let cases = [
        ("{}", r#""key1""#, "null"),
        (r#"{"key1": "value1"}"#, r#""key2""#, "null"),
        (r#"{"key1": "value1"}"#, r#""key1""#, r#""value1""#),
        (r#"{"": "value1"}"#, r#""""#, r#""value1""#),
        (r#"{"k": 123}"#, r#""k""#, "123"),
        (r#"{"k": 12.34}"#, r#""k""#, "12.34"),
        (r#"{"k": true}"#, r#""k""#, "true"),
        (r#"{"k": false}"#, r#""k""#, "false"),
        (r#"{"k": null}"#, r#""k""#, "null"),
        (r#"{"k":  [7, "x", true] }"#, r#""k""#, r#"[7, "x", true]"#),
        (r#"{"k": {"key1":true}}"#, r#""k""#, r#"{"key1":true}"#),
        ("[]", "0", "null"),
        (r#"["item0"]"#, "-1", "null"),
        (r#"["item0"]"#, "1", "null"),
        (r#"["item0"]"#, "0", r#""item0""#),
        (r#"["item0", "item1", "item2", "item3"]"#, "2", r#""item2""#),
        (r#"["item0", "item1"]"#, "0.99999999999999999999999999999999999999999999", r#""item1""#),
        ("[123]", "0", "123"),
        ("[12.34]", "0", "12.34"),
        ("[true]", "0", "true"),
        ("[false]", "0", "false"),
        ("[null]", "0", "null"),
        (r#"[ [7, "x", true] ]"#, "0", r#"[7, "x", true]"#),
        (r#"[{"key1":true}]"#, "0", r#"{"key1":true}"#),
    ];
    for (collection, key, expected) in cases {
        let result = eval(&format!("lookup(`{collection}`,`{key}`)"));
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert!(numbers_equal(&result, &expected), "lookup({collection}, {key}) = {result}, not {expected}");
    }
}

#[test]
fn lookup_invalid_arguments() {
    let cases = [
        ("{}", "123", "argument #2 is not of type String"),
        ("[]", r#""abc""#, "argument #2 is not of type Number"),
        ("[]", "1.5", "JMESPath function 'lookup': argument #2: expected an integer number but got: 1.5"),
    ];
    for (collection, key, message) in cases {
        let error = fails(&format!("lookup(`{collection}`,`{key}`)"));
        assert!(error.contains(message), "{error} lacks {message}");
    }
}

#[test]
fn items() {
    let cases = [
        (r#"{ "key1": "value1" }"#, r#""key""#, r#""value""#, r#"[{ "key": "key1", "value": "value1" }]"#),
        (
            r#"{ "key1": "value1", "key2": "value2" }"#,
            r#""key""#,
            r#""value""#,
            r#"[{ "key": "key1", "value": "value1" }, { "key": "key2", "value": "value2" }]"#,
        ),
        (
            r#"{ "key1": "value1", "key2": "value2" }"#,
            r#""myKey""#,
            r#""myValue""#,
            r#"[{ "myKey": "key1", "myValue": "value1" }, { "myKey": "key2", "myValue": "value2" }]"#,
        ),
        (
            r#"["A", "B", "C"]"#,
            r#""myKey""#,
            r#""myValue""#,
            r#"[{ "myKey": 0, "myValue": "A" }, { "myKey": 1, "myValue": "B" }, { "myKey": 2, "myValue": "C" }]"#,
        ),
    ];
    for (object, key_name, value_name, expected) in cases {
        let result = eval(&format!("items(`{object}`,`{key_name}`,`{value_name}`)"));
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert!(numbers_equal(&result, &expected), "{result} != {expected}");
    }
}

#[test]
fn object_from_lists() {
    let cases = [
        (r#"["key1", "key2"]"#, r#"["1", "2"]"#, json!({"key1": "1", "key2": "2"})),
        (r#"["key1", "key2"]"#, r#"[1, "2"]"#, json!({"key1": 1.0, "key2": "2"})),
        (r#"["key1", "key2"]"#, "[1]", json!({"key1": 1.0, "key2": null})),
    ];
    for (keys, values, expected) in cases {
        let result = eval(&format!("object_from_lists(`{keys}`,`{values}`)"));
        assert!(numbers_equal(&result, &expected), "{result} != {expected}");
    }
}

#[test]
fn x509_decode_is_refused_by_name() {
    // divergence: Kyverno returns Go's x509.Certificate structure field for field (Test_x509Decode's
    // three expected objects); Palisade does not reproduce that layout and fails naming the function.
    let error = fails("x509_decode('-----BEGIN CERTIFICATE-----')");
    assert!(error.contains("x509_decode"), "{error}");
}

#[test]
fn image_normalize() {
    let cases = [
        ("nginx", "docker.io/nginx:latest"),
        ("docker.io/nginx", "docker.io/nginx:latest"),
        ("docker.io/library/nginx", "docker.io/library/nginx:latest"),
        ("ghcr.io/library/nginx", "ghcr.io/library/nginx:latest"),
        ("ghcr.io/nginx", "ghcr.io/nginx:latest"),
        ("ghcr.io/nginx:latest", "ghcr.io/nginx:latest"),
        ("ghcr.io/nginx:1.2", "ghcr.io/nginx:1.2"),
    ];
    for (image, expected) in cases {
        assert_eq!(eval(&format!("image_normalize('{image}')")), json!(expected), "{image}");
    }
    assert_eq!(
        fails("image_normalize('')"),
        "JMESPath function 'image_normalize': bad image: docker.io/, defaultRegistry: docker.io, enableDefaultRegistryMutation: true: invalid reference format"
    );
}

#[test]
fn is_external_url() {
    let cases = [
        ("http://localhost", false),
        ("http://127.0.0.1", false),
        ("http://172.16.1.1", false),
        ("http://10.1.1.1", false),
        ("http://192.168.0.1", false),
        ("http://8.8.8.8", true),
        ("http://245.48.83.160", true),
        ("http://[fd12:3456:789a:1::1]", false),
        ("http://[fdb7:d8fd:c4e4:5561::1]", false),
        ("http://[::1]", false),
        ("http://[2001:db8::ff00:42:8329]", true),
        ("http://www.google.com@192.168.1.3", false),
    ];
    for (url, expected) in cases {
        assert_eq!(eval(&format!("is_external_url('{url}')")), json!(expected), "{url}");
    }
    // divergence: Kyverno resolves other host names through DNS (http://google.com -> true);
    // Palisade does not ask the network and fails naming the function.
    assert!(fails("is_external_url('http://google.com')").contains("is_external_url"));
}

#[test]
fn digests() {
    assert_eq!(
        eval("sha256('alertmanager-kube-prometheus-stack-alertmanager')"),
        json!("75c07bb807f2d80a85d34880b8af0c5f29f7c27577076ed5d0e4b427dee7dbcc")
    );
    assert_eq!(eval("sha1('Alice & Bob')"), json!("e3ec484930685a61b0f824cd684a68699d2b98c1"));
    assert_eq!(eval("md5('Alice & Bob')"), json!("def42e1abd2462df1f9f0a4b3d488221"));
}

#[test]
fn argument_type_errors_use_kyvernos_wording() {
    let cases = [
        ("is_external_url", vec![json!(123)], "JMESPath function 'is_external_url': argument #1 is not of type string"),
        ("pattern_match", vec![json!(123), json!("foo")], "JMESPath function 'pattern_match': argument #1 is not of type string"),
        ("pattern_match", vec![json!("foo"), json!([])], "JMESPath function 'pattern_match': argument #2 is not of type String or Real"),
        ("base64_decode", vec![json!(123)], "JMESPath function 'base64_decode': argument #1 is not of type string"),
        ("base64_encode", vec![json!(123)], "JMESPath function 'base64_encode': argument #1 is not of type string"),
        ("sha256", vec![json!(123)], "JMESPath function 'sha256': argument #1 is not of type string"),
        ("sha1", vec![json!(123)], "JMESPath function 'sha1': argument #1 is not of type string"),
        ("md5", vec![json!(123)], "JMESPath function 'md5': argument #1 is not of type string"),
    ];
    for (function, args, message) in cases {
        let error = call(function, &args).unwrap_err().to_string();
        assert!(error.contains(message), "{error} lacks {message}");
    }
}

#[test]
fn integer_arguments() {
    // utils_test.go's intNumber cases, through round's places argument.
    for places in [0.0, 1.0, f64::from(i32::MAX)] {
        assert!(call("round", &[json!(1.5), json!(places)]).is_ok(), "{places}");
    }
    let error = call("lookup", &[json!([]), json!(1.5)]).unwrap_err().to_string();
    assert!(error.contains("expected an integer number but got: 1.5"), "{error}");
    let error = call("lookup", &[json!([]), json!(f64::MAX)]).unwrap_err().to_string();
    assert!(error.contains("number is outside the range of integer numbers: 1.7976931348623157e+308"), "{error}");
}

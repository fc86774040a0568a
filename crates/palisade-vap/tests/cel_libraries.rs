//! The Kubernetes CEL libraries' documented examples, evaluated through kube-cel (the engine
//! palisade-vap runs policies with), each asserted against its documented result.
//!
//! Sources of the examples and their documented results:
//! - https://kubernetes.io/docs/reference/using-api/cel/ (list, regex, URL and quantity
//!   tables), © The Kubernetes Authors, CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
//!   Where the table states a purpose rather than a result, the example runs on data bound here
//!   and the result that purpose implies is asserted.
//! - The godoc of k8s.io/apiserver/pkg/cel/library (lists.go, regex.go, urls.go, ip.go,
//!   cidr.go, semverlib.go, quantity.go, format.go, jsonpatch.go), © The Kubernetes Authors,
//!   Apache-2.0: the `// returns ...` comments.
//! - cel-go's ext/README.md (sets, strings, math, encoders), © Google LLC, Apache-2.0.
//!
//! Examples whose documented result kube-cel does not give are in [`DIVERGENCES`], with what
//! kube-cel gives (asserted, so a change in either direction is noticed) and why.

use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::{Context, Program, Value};
use serde_json::json;

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Equal to this CEL expression's value (a literal, or a constructor like `quantity('70k')`).
    Value(&'static str),
    /// Evaluates without error (the documentation says only "returns a URL", "returns a Quantity").
    Evaluates,
    Error,
}

use Expect::{Error, Evaluates, Value as Is};

fn context() -> Context<'static> {
    let mut context = Context::default().with_all();
    let bind = |context: &mut Context<'static>, name: &str, value: serde_json::Value| {
        context.add_variable(name, value).expect("test data converts");
    };
    bind(&mut context, "names", json!(["alpha", "beta", "gamma"]));
    bind(&mut context, "unsortedNames", json!(["beta", "alpha"]));
    bind(&mut context, "firstSecond", json!(["first", "should-be-first"]));
    bind(&mut context, "items", json!([{"weight": 0.25}, {"weight": 0.75}]));
    bind(&mut context, "lowPriorities", json!([{"priority": 1}, {"priority": 3}]));
    bind(&mut context, "highPriorities", json!([{"priority": 5}, {"priority": 8}]));
    context.add_variable_from_value("emptyIntList", Value::List(Arc::new(Vec::new())));
    context.add_variable_from_value("emptyDoubleList", Value::List(Arc::new(Vec::new())));
    context.add_variable_from_value("emptyList", Value::List(Arc::new(Vec::new())));
    context
}

fn run(context: &Context<'_>, expression: &str) -> Result<Value, String> {
    let program = Program::compile(expression).map_err(|error| format!("compile: {error}"))?;
    program.execute(context).map_err(|error| error.to_string())
}

/// Checks one example; `None` when it meets its documented result.
fn check(context: &Context<'_>, expression: &str, expect: Expect) -> Option<String> {
    let actual = run(context, expression);
    let met = match (expect, &actual) {
        (Is(expected), Ok(value)) => run(context, expected).is_ok_and(|expected| expected == *value),
        (Evaluates, Ok(_)) | (Error, Err(_)) => true,
        _ => false,
    };
    (!met).then(|| format!("{expression}: expected {expect:?}, kube-cel gives {actual:?}"))
}

const LISTS: &[(&str, Expect)] = &[
    // kubernetes.io table, on the data bound in `context`.
    ("names.isSorted()", Is("true")),
    ("unsortedNames.isSorted()", Is("false")),
    ("items.map(x, x.weight).sum() == 1.0", Is("true")),
    ("lowPriorities.map(x, x.priority).max() < highPriorities.map(x, x.priority).min()", Is("true")),
    ("firstSecond.indexOf('should-be-first') == 1", Is("true")),
    // lists.go
    ("[1, 2, 3].isSorted()", Is("true")),
    ("['a', 'b', 'b', 'c'].isSorted()", Is("true")),
    ("[2.0, 1.0].isSorted()", Is("false")),
    ("[1].isSorted()", Is("true")),
    ("[].isSorted()", Is("true")),
    ("[1, 3].sum()", Is("4")),
    ("[1.0, 3.0].sum()", Is("4.0")),
    ("emptyIntList.sum()", Is("0")),
    ("[].sum()", Is("0")),
    ("[1, 3].min()", Is("1")),
    ("[1, 3].max()", Is("3")),
    ("[].min()", Error),
    ("[1].min()", Is("1")),
    ("([0] + emptyList).min()", Is("0")),
    ("[1, 2, 2, 3].indexOf(2)", Is("1")),
    ("['a', 'b', 'b', 'c'].lastIndexOf('b')", Is("2")),
    ("[1.0].indexOf(1.1)", Is("-1")),
    ("[].indexOf('string')", Is("-1")),
    // cel-go ext: lists
    ("[1,2,3,4].slice(1, 3)", Is("[2, 3]")),
    ("[1,2,3,4].slice(2, 4)", Is("[3, 4]")),
];

const REGEX: &[(&str, Expect)] = &[
    ("\"abc 123\".find('xyz')", Is("''")),
    ("\"123 abc 456\".findAll('[0-9]*', 1)", Is("['123']")),
    ("\"123 abc 456\".findAll('xyz')", Is("[]")),
];

const URLS: &[(&str, Expect)] = &[
    ("url('https://user:pass@example.com:80/path?query=val#fragment')", Evaluates),
    ("url('/absolute-path')", Evaluates),
    ("url('https://a:b:c/')", Error),
    ("url('../relative-path')", Error),
    ("isURL('https://user:pass@example.com:80/path?query=val#fragment')", Is("true")),
    ("isURL('/absolute-path')", Is("true")),
    ("isURL('https://a:b:c/')", Is("false")),
    ("isURL('../relative-path')", Is("false")),
    ("url('/path').getScheme()", Is("''")),
    ("url('https://example.com/').getScheme()", Is("'https'")),
    ("url('https://example.com:80/').getHost()", Is("'example.com:80'")),
    ("url('https://example.com/').getHost()", Is("'example.com'")),
    ("url('https://[::1]:80/').getHost()", Is("'[::1]:80'")),
    ("url('https://[::1]/').getHost()", Is("'[::1]'")),
    ("url('https://example.com:80/').getHostname()", Is("'example.com'")),
    ("url('https://127.0.0.1:80/').getHostname()", Is("'127.0.0.1'")),
    ("url('https://[::1]:80/').getHostname()", Is("'::1'")),
    ("url('https://example.com:80/').getPort()", Is("'80'")),
    ("url('https://example.com/').getPort()", Is("''")),
    ("url('/path').getPort()", Is("''")),
    ("url('https://example.com/path').getEscapedPath()", Is("'/path'")),
    ("url('https://example.com/path with spaces/').getEscapedPath()", Is("'/path%20with%20spaces/'")),
    ("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery()", Is("{'k1': ['a'], 'k2': ['b', 'c']}")),
    ("url('https://example.com/path?key with spaces=value with spaces').getQuery()", Is("{'key with spaces': ['value with spaces']}")),
    ("url('https://example.com/path?').getQuery()", Is("{}")),
    ("url('https://example.com/path').getQuery()", Is("{}")),
];

const IPS: &[(&str, Expect)] = &[
    ("ip('127.0.0.1')", Evaluates),
    ("ip('::1')", Evaluates),
    ("ip('127.0.0.256')", Error),
    ("ip(':::1')", Error),
    ("isIP('127.0.0.1')", Is("true")),
    ("isIP('::1')", Is("true")),
    ("isIP('127.0.0.256')", Is("false")),
    ("isIP(':::1')", Is("false")),
    ("ip.isCanonical('127.0.0.1')", Is("true")),
    ("ip.isCanonical('2001:db8::abcd')", Is("true")),
    ("ip.isCanonical('2001:DB8::ABCD')", Is("false")),
    ("ip.isCanonical('2001:db8::0:0:0:abcd')", Is("false")),
    ("ip('127.0.0.1').family()", Is("4")),
    ("ip('::1').family()", Is("6")),
    ("ip('127.0.0.1').family() == 4", Is("true")),
    ("ip('::1').family() == 6", Is("true")),
    ("ip('0.0.0.0').isUnspecified()", Is("true")),
    ("ip('127.0.0.1').isUnspecified()", Is("false")),
    ("ip('::').isUnspecified()", Is("true")),
    ("ip('::1').isUnspecified()", Is("false")),
    ("ip('127.0.0.1').isLoopback()", Is("true")),
    ("ip('192.168.0.1').isLoopback()", Is("false")),
    ("ip('::1').isLoopback()", Is("true")),
    ("ip('2001:db8::abcd').isLoopback()", Is("false")),
    ("ip('224.0.0.1').isLinkLocalMulticast()", Is("true")),
    ("ip('224.0.1.1').isLinkLocalMulticast()", Is("false")),
    ("ip('ff02::1').isLinkLocalMulticast()", Is("true")),
    ("ip('fd00::1').isLinkLocalMulticast()", Is("false")),
    ("ip('169.254.169.254').isLinkLocalUnicast()", Is("true")),
    ("ip('192.168.0.1').isLinkLocalUnicast()", Is("false")),
    ("ip('fe80::1').isLinkLocalUnicast()", Is("true")),
    ("ip('fd80::1').isLinkLocalUnicast()", Is("false")),
    ("ip('192.168.0.1').isGlobalUnicast()", Is("true")),
    ("ip('255.255.255.255').isGlobalUnicast()", Is("false")),
    ("ip('2001:db8::abcd').isGlobalUnicast()", Is("true")),
    ("ip('ff00::1').isGlobalUnicast()", Is("false")),
];

const CIDRS: &[(&str, Expect)] = &[
    ("cidr('192.168.0.0/16')", Evaluates),
    ("cidr('::1/128')", Evaluates),
    ("cidr('192.168.0.0/33')", Error),
    ("cidr('::1/129')", Error),
    ("isCIDR('192.168.0.0/16')", Is("true")),
    ("isCIDR('::1/128')", Is("true")),
    ("isCIDR('192.168.0.0/33')", Is("false")),
    ("isCIDR('::1/129')", Is("false")),
    ("cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))", Is("true")),
    ("cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))", Is("false")),
    ("cidr('192.168.0.0/24').containsIP('192.168.0.1')", Is("true")),
    ("cidr('192.168.0.0/24').containsIP('192.168.1.1')", Is("false")),
    ("cidr('192.168.0.0/16').containsCIDR(cidr('192.168.10.0/24'))", Is("true")),
    ("cidr('192.168.1.0/24').containsCIDR(cidr('192.168.2.0/24'))", Is("false")),
    ("cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')", Is("true")),
    ("cidr('192.168.1.0/24').containsCIDR('192.168.2.0/24')", Is("false")),
    ("cidr('192.168.0.1/24').ip()", Is("ip('192.168.0.1')")),
    ("cidr('192.168.0.1/24').ip().family()", Is("4")),
    ("cidr('::1/128').ip()", Is("ip('::1')")),
    ("cidr('::1/128').ip().family()", Is("6")),
    ("cidr('192.168.0.0/24').masked()", Is("cidr('192.168.0.0/24')")),
    ("cidr('192.168.0.1/24').masked()", Is("cidr('192.168.0.0/24')")),
    ("cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()", Is("true")),
    ("cidr('192.168.0.1/24') == cidr('192.168.0.1/24').masked()", Is("false")),
    ("cidr('192.168.0.0/16').prefixLength()", Is("16")),
    ("cidr('::1/128').prefixLength()", Is("128")),
];

const SEMVER: &[(&str, Expect)] = &[
    ("semver('1.0.0')", Evaluates),
    ("semver('0.1.0-alpha.1')", Evaluates),
    ("semver('200K')", Error),
    ("semver('Three')", Error),
    ("semver('Mi')", Error),
    ("semver('v1.0.0', true)", Is("semver('1.0.0')")),
    ("semver('1.0', true)", Is("semver('1.0.0')")),
    ("semver('01.01.01', true)", Is("semver('1.1.1')")),
    ("isSemver('1.0.0')", Is("true")),
    ("isSemver('hello')", Is("false")),
    ("isSemver('v1.0')", Is("false")),
    ("isSemver('v1.0', true)", Is("true")),
    ("semver(\"1.2.3\").major()", Is("1")),
    ("semver(\"1.2.3\").compareTo(semver(\"1.2.3\"))", Is("0")),
    ("semver(\"1.2.3\").compareTo(semver(\"2.0.0\"))", Is("-1")),
    ("semver(\"1.2.3\").compareTo(semver(\"0.1.2\"))", Is("1")),
];

const QUANTITIES: &[(&str, Expect)] = &[
    ("quantity('1.5G')", Evaluates),
    ("quantity('200k')", Evaluates),
    ("quantity('200K')", Error),
    ("quantity('Three')", Error),
    ("quantity('Mi')", Error),
    ("isQuantity('1.3G')", Is("true")),
    ("isQuantity('1.3Gi')", Is("true")),
    ("isQuantity('1,3G')", Is("false")),
    ("isQuantity('10000k')", Is("true")),
    ("isQuantity('200K')", Is("false")),
    ("isQuantity('Three')", Is("false")),
    ("isQuantity('Mi')", Is("false")),
    ("quantity(\"50000000G\").isInteger()", Is("true")),
    ("quantity(\"50k\").isInteger()", Is("true")),
    ("quantity(\"9999999999999999999999999999999999999G\").asInteger()", Error),
    ("quantity(\"50k\").asInteger() == 50000", Is("true")),
    ("quantity(\"50k\").sub(20000).asApproximateFloat() == 30000.0", Is("true")),
    ("quantity(\"50k\").add(20) == quantity(\"50020\")", Is("true")),
    ("quantity(\"50k\").sub(20000) == quantity(\"30k\")", Is("true")),
    ("quantity(\"50k\").add(20).sub(quantity(\"100k\")).sub(-50000) == quantity(\"20\")", Is("true")),
    ("quantity(\"200M\").compareTo(quantity(\"0.2G\"))", Is("0")),
    ("quantity(\"50M\").compareTo(quantity(\"50Mi\"))", Is("-1")),
    ("quantity(\"50Mi\").compareTo(quantity(\"50M\"))", Is("1")),
    ("quantity(\"150Mi\").isGreaterThan(quantity(\"100Mi\"))", Is("true")),
    ("quantity(\"50Mi\").isGreaterThan(quantity(\"100Mi\"))", Is("false")),
    ("quantity(\"50M\").isLessThan(quantity(\"100M\"))", Is("true")),
    ("quantity(\"100M\").isLessThan(quantity(\"50M\"))", Is("false")),
    // kubernetes.io table
    ("quantity(\"500000G\").isInteger()", Is("true")),
    ("quantity(\"50k\").asInteger()", Is("50000")),
    ("quantity(\"9999999999999999999999999999999999999G\").asApproximateFloat() > 1.0e45", Is("true")),
    ("quantity(\"50k\").sub(20000) == quantity(\"30k\")", Is("true")),
];

const SETS: &[(&str, Expect)] = &[
    ("sets.contains([], [])", Is("true")),
    ("sets.contains([], [1])", Is("false")),
    ("sets.contains([1, 2, 3, 4], [2, 3])", Is("true")),
    ("sets.equivalent([], [])", Is("true")),
    ("sets.equivalent([1], [1, 1])", Is("true")),
    ("sets.intersects([1], [])", Is("false")),
    ("sets.intersects([1], [1, 2])", Is("true")),
    ("sets.contains([1, 2.0, 3u], [1.0, 2u, 3])", Is("true")),
    ("sets.equivalent([1], [1u, 1.0])", Is("true")),
    ("sets.equivalent([1, 2, 3], [3u, 2.0, 1])", Is("true")),
    ("sets.intersects([[1], [2, 3]], [[1, 2], [2, 3.0]])", Is("true")),
];

const STRINGS: &[(&str, Expect)] = &[
    ("'hello'.charAt(4)", Is("'o'")),
    ("'hello'.charAt(5)", Is("''")),
    ("'hello'.charAt(-1)", Error),
    ("'hello mellow'.indexOf('')", Is("0")),
    ("'hello mellow'.indexOf('ello')", Is("1")),
    ("'hello mellow'.indexOf('jello')", Is("-1")),
    ("'hello mellow'.indexOf('', 2)", Is("2")),
    ("'hello mellow'.indexOf('ello', 2)", Is("7")),
    ("['hello', 'mellow'].join()", Is("'hellomellow'")),
    ("['hello', 'mellow'].join(' ')", Is("'hello mellow'")),
    ("[].join()", Is("''")),
    ("[].join('/')", Is("''")),
    ("'hello mellow'.lastIndexOf('')", Is("12")),
    ("'hello mellow'.lastIndexOf('ello')", Is("7")),
    ("'hello mellow'.lastIndexOf('jello')", Is("-1")),
    ("'hello mellow'.lastIndexOf('ello', 6)", Is("1")),
    ("'TacoCat'.lowerAscii()", Is("'tacocat'")),
    ("'TacoCÆt Xii'.lowerAscii()", Is("'tacocÆt xii'")),
    ("'hello hello'.replace('he', 'we')", Is("'wello wello'")),
    ("'hello hello'.replace('he', 'we', 1)", Is("'wello hello'")),
    ("'hello hello'.replace('he', 'we', 0)", Is("'hello hello'")),
    ("'hello hello hello'.split(' ')", Is("['hello', 'hello', 'hello']")),
    ("'hello hello hello'.split(' ', 0)", Is("[]")),
    ("'hello hello hello'.split(' ', 1)", Is("['hello hello hello']")),
    ("'hello hello hello'.split(' ', 2)", Is("['hello', 'hello hello']")),
    ("'hello hello hello'.split(' ', -1)", Is("['hello', 'hello', 'hello']")),
    ("'tacocat'.substring(4)", Is("'cat'")),
    ("'tacocat'.substring(0, 4)", Is("'taco'")),
    ("'tacocat'.substring(-1)", Error),
    ("'tacocat'.substring(2, 1)", Error),
    ("'  \\ttrim\\n    '.trim()", Is("'trim'")),
    ("'TacoCat'.upperAscii()", Is("'TACOCAT'")),
    ("'TacoCÆt Xii'.upperAscii()", Is("'TACOCÆT XII'")),
    ("strings.quote('single-quote with \"double quote\"')", Is("'\"single-quote with \\\\\"double quote\\\\\"\"'")),
];

const MATH_AND_ENCODERS: &[(&str, Expect)] = &[
    ("math.greatest(1)", Is("1")),
    ("math.greatest(-42.0, -21.5, -100.0)", Is("-21.5")),
    ("math.greatest([-42.0, -21.5, -100.0])", Is("-21.5")),
    ("math.least(1)", Is("1")),
    ("math.least(-42.0, -21.5, -100.0)", Is("-100.0")),
    ("math.least([-42.0, -21.5, -100.0])", Is("-100.0")),
    ("base64.decode('aGVsbG8=')", Is("b'hello'")),
    ("base64.encode(b'hello')", Is("'aGVsbG8='")),
];

/// format.go: a named format's `validate` returns optional.none for a valid string and a list
/// of errors otherwise; `format.named` returns optional.none for an unknown name.
/// jsonpatch.go: `escapeKey`.
const FORMAT_AND_JSONPATCH: &[(&str, Expect)] = &[
    ("format.dns1123Label().validate('my-label-name').hasValue()", Is("false")),
    ("format.dns1123Label().validate('My_Label').hasValue()", Is("true")),
    ("format.dns1123Subdomain().validate('apiextensions.k8s.io').hasValue()", Is("false")),
    ("format.dns1035Label().validate('my-label-name').hasValue()", Is("false")),
    ("format.qualifiedName().validate('apiextensions.k8s.io/v1beta1').hasValue()", Is("false")),
    ("format.dns1123LabelPrefix().validate('my-label-prefix-').hasValue()", Is("false")),
    ("format.dns1035LabelPrefix().validate('my-label-prefix-').hasValue()", Is("false")),
    ("format.uri().validate('http://example.com').hasValue()", Is("false")),
    ("\"/metadata/labels/\" + jsonpatch.escapeKey('k8s.io/my~label')", Is("'/metadata/labels/k8s.io~1my~0label'")),
];

/// Documented results kube-cel does not give: (example, documented, what kube-cel gives, why).
/// The third column is asserted.
const DIVERGENCES: &[(&str, Expect, Expect, &str)] = &[
    // The documentation is wrong; kube-cel agrees with the API server.
    (
        "\"abc 123\".find('[0-9]*')",
        Is("'123'"),
        Is("''"),
        "docs: `[0-9]*` matches the empty string at offset 0, and Go's regexp (RE2, leftmost-first), which the API server uses, returns '' as kube-cel does",
    ),
    (
        "\"123 abc 456\".findAll('[0-9]*')",
        Is("['123', '456']"),
        Is("['123', '', '', '', '', '456']"),
        "docs: Go's FindAllString drops only empty matches that abut a previous match, so the empty matches at ' abc ' are returned by the API server too",
    ),
    (
        "\"1, 2, 3, 4\".findAll('[0-9]*').map(x, int(x)).sum() < 100",
        Is("true"),
        Error,
        "docs (kubernetes.io: 'Verify that the numbers in a string sum to less than 100'): follows from the empty matches above, int('') is an error in cel-go as in kube-cel",
    ),
    (
        "quantity(\"50k\").add(\"20k\") == quantity(\"70k\")",
        Is("true"),
        Error,
        "docs: the API server's quantity library declares add(Quantity) and add(int), no add(string), so it rejects this expression; kube-cel errors",
    ),
    (
        "quantity(\"50k\").sub(\"20k\") == quantity(\"30k\")",
        Is("true"),
        Error,
        "docs: no sub(string) overload either",
    ),
    // kube-cel differs from the API server: a policy using these can decide differently.
    (
        "[duration('1m'), duration('1s')].sum() == duration('1m1s')",
        Is("true"),
        Error,
        "kube-cel: sum() does not accept durations (lists.go documents ['1m', '1s'].sum() as '1m1s' for a list of durations)",
    ),
    (
        "quantity(\"9999999999999999999999999999999999999G\").isInteger()",
        Is("false"),
        Is("true"),
        "kube-cel: isInteger is true although asInteger fails (10^46 does not fit an int64)",
    ),
    (
        "'hello mellow'.indexOf('ello', 20)",
        Error,
        Is("-1"),
        "kube-cel: an out-of-range start is not an error",
    ),
    (
        "'hello mellow'.lastIndexOf('ello', -1)",
        Error,
        Is("-1"),
        "kube-cel: a negative position is not an error",
    ),
    (
        "'hello hello'.replace('he', 'we', -1)",
        Is("'wello wello'"),
        Is("'hello hello'"),
        "kube-cel: a negative limit replaces nothing instead of everything",
    ),
    (
        "url('/path').getHost()",
        Is("''"),
        Is("'localhost'"),
        "kube-cel: a URL without a host reports 'localhost'",
    ),
    (
        "url('/path').getHostname()",
        Is("''"),
        Is("'localhost'"),
        "kube-cel: as above",
    ),
    (
        "url('https://example.com').getEscapedPath()",
        Is("''"),
        Is("'/'"),
        "kube-cel: an empty path reads as '/'",
    ),
    (
        "format.named('dns1123Label').hasValue()",
        Is("true"),
        Error,
        "kube-cel: format.named returns the format itself (null when unknown), not an optional",
    ),
    (
        "format.named('no-such-format').hasValue()",
        Is("false"),
        Error,
        "kube-cel: as above",
    ),
    (
        "base64.decode('aGVsbG8')",
        Error,
        Is("b'hello'"),
        "kube-cel decodes unpadded base64; cel-go's README documents an error (its StdEncoding decoding, in the source read)",
    ),
    (
        "1 == 1.0",
        Is("true"),
        Is("false"),
        "the cel crate: no heterogeneous numeric equality (cel-go has it, on in Kubernetes), so an int field compared with a double literal can decide differently; kube-cel's sets functions do compare across numeric types",
    ),
];

fn check_all(examples: &[(&str, Expect)]) {
    let context = context();
    let failures: Vec<String> = examples.iter().filter_map(|(expression, expect)| check(&context, expression, *expect)).collect();
    assert!(failures.is_empty(), "{} of {} examples differ:\n{}", failures.len(), examples.len(), failures.join("\n"));
}

#[test]
fn list_library() {
    check_all(LISTS);
}

#[test]
fn regex_library() {
    check_all(REGEX);
}

#[test]
fn url_library() {
    check_all(URLS);
}

#[test]
fn ip_library() {
    check_all(IPS);
}

#[test]
fn cidr_library() {
    check_all(CIDRS);
}

#[test]
fn semver_library() {
    check_all(SEMVER);
}

#[test]
fn quantity_library() {
    check_all(QUANTITIES);
}

#[test]
fn sets_library() {
    check_all(SETS);
}

#[test]
fn strings_library() {
    check_all(STRINGS);
}

#[test]
fn math_and_encoders_libraries() {
    check_all(MATH_AND_ENCODERS);
}

#[test]
fn format_and_jsonpatch_libraries() {
    check_all(FORMAT_AND_JSONPATCH);
}

#[test]
fn recorded_divergences_still_hold() {
    let context = context();
    for (expression, documented, kube_cel, reason) in DIVERGENCES {
        assert!(check(&context, expression, *documented).is_some(), "{expression} now gives the documented {documented:?}; remove it from DIVERGENCES ({reason})");
        assert_eq!(check(&context, expression, *kube_cel), None, "{expression}: kube-cel's result changed");
    }
}

//! CEL expressions of a policy: compiled once, analysed for what they use, and evaluated with
//! the admission variables and the policy's lazily evaluated `variables`.
//!
//! The API server type-checks expressions when a policy is written; kube-cel's engine has no
//! checker, so what it can detect statically is checked here: syntax, identifiers that are not
//! declared (`params` without a `paramKind`, typos), and `variables.<name>` that names no
//! earlier variable.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use kube_cel::KubeCelExt;
use kube_cel::cel::common::ast::{EntryExpr, Expr, IdedExpr};
use kube_cel::cel::parser::Expression as Parsed;
use kube_cel::cel::objects::{Key, Map, Opaque};
use kube_cel::cel::{Context, ExecutionError, Program, ResolveResult, Value};

/// Variables every admission expression may use, besides `params` (declared only when the
/// policy has a `paramKind`), and CEL's type names, which are identifiers too.
const DECLARED: &[&str] = &[
    "object", "oldObject", "request", "namespaceObject", "variables", "authorizer",
    "bool", "bytes", "double", "int", "list", "map", "null_type", "string", "type", "uint",
];

/// What an expression reads, itself or through the variables it uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Uses {
    /// `authorizer` needs the API server's authorizer, which is not available here.
    pub authorizer: bool,
    pub namespace_object: bool,
    /// `request.userInfo`: a manifest scan has no requesting user.
    pub user_info: bool,
    /// Indices of the policy's variables, transitively, in declaration order.
    pub variables: BTreeSet<usize>,
}

/// A compiled expression and what it uses.
#[derive(Debug)]
pub(crate) struct Expression {
    pub source: String,
    /// The parsed expression with CEL's optional syntax rewritten (see [`crate::optional`]).
    parsed: Parsed,
    pub uses: Uses,
    /// Functions it calls that kube-cel does not provide; running into one is reported not
    /// evaluated (see [`Failure::UnknownFunction`]), and loading says so up front.
    pub unknown_functions: Vec<String>,
}

/// The environment an expression is compiled in.
pub(crate) struct Declarations<'v> {
    pub has_params: bool,
    /// Names of the variables declared so far with what each uses, in order.
    pub variables: &'v [(String, Uses)],
}

impl Expression {
    /// Compiles `source`; the error is the API server's kind of compile error text.
    pub fn compile(source: &str, declarations: &Declarations<'_>) -> Result<Expression, String> {
        let parsed = crate::optional::parse(source).map_err(|error| format!("compilation failed: {error}"))?;
        let mut analysis =
            Analysis { declarations, uses: Uses::default(), bound: Vec::new(), calls: Vec::new(), error: None };
        analysis.walk(&parsed, false);
        if let Some(error) = analysis.error {
            return Err(error);
        }
        // The authorizer's functions are not looked for: what uses it is never evaluated here.
        let calls = if analysis.uses.authorizer { &[][..] } else { &analysis.calls[..] };
        let mut unknown_functions: Vec<String> =
            calls.iter().filter(|(qualifier, name)| !is_provided(qualifier.as_deref(), name)).map(|(_, name)| name.clone()).collect();
        unknown_functions.dedup();
        Ok(Expression { source: source.to_owned(), parsed, uses: analysis.uses, unknown_functions })
    }

    /// Runs the expression in `scope`. A panic inside the engine (kube-cel 0.8 has some, e.g.
    /// on a huge `format` precision or an integer `sum()` that overflows) is a failure of this
    /// expression, not of the caller: policies are input.
    pub fn run(&self, scope: &Context<'_>) -> Result<Value, Failure> {
        let executed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Value::resolve(&self.parsed, scope)));
        let Ok(result) = executed else { return Err(Failure::EngineFault) };
        result.map_err(|error| match error {
            // Every variable is declared, so an undeclared name is a function the engine lacks.
            ExecutionError::UndeclaredReference(name) if self.parsed.references().has_function(name.as_str()) => {
                Failure::UnknownFunction(name.to_string())
            }
            ExecutionError::NoSuchKey(key) => Failure::NoSuchKey(key.to_string()),
            ExecutionError::FunctionError { function, message } if function == crate::optional::UNSUPPORTED => {
                Failure::Unsupported(message)
            }
            other => Failure::Error(other.to_string()),
        })
    }
}

/// Why running an expression gave no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// An evaluation error, as the engine words it.
    Error(String),
    /// A map has no such key: kept apart because the key may be a variable that failed.
    NoSuchKey(String),
    /// A function the engine does not provide: either one cel-go has (`cel.bind`) or a name the
    /// API server's type checker would have rejected when the policy was written. Either way the
    /// result is not the API server's, so it is not a verdict.
    UnknownFunction(String),
    /// The engine panicked.
    EngineFault,
    /// A case this crate does not model faithfully, found only at run time (see
    /// [`crate::optional`]); the text says what.
    Unsupported(String),
}

struct Analysis<'d, 'v> {
    declarations: &'d Declarations<'v>,
    uses: Uses,
    /// Comprehension variables in scope.
    bound: Vec<String>,
    /// Named function calls: the identifier they are called on (a namespace such as `sets`, or
    /// a variable), and the name.
    calls: Vec<(Option<String>, String)>,
    error: Option<String>,
}

impl Analysis<'_, '_> {
    fn walk(&mut self, node: &IdedExpr, call_target: bool) {
        match &node.expr {
            Expr::Ident(name) => self.identifier(name, call_target),
            Expr::Select(select) => {
                if let Expr::Ident(root) = &select.operand.expr {
                    if root == "variables" && !self.is_bound(root) {
                        self.variable(&select.field);
                        return;
                    }
                    if root == "request" && select.field == "userInfo" && !self.is_bound(root) {
                        self.uses.user_info = true;
                    }
                }
                self.walk(&select.operand, false);
            }
            Expr::Call(call) => {
                if let Some((IdedExpr { expr: Expr::Ident(root), .. }, Some("userInfo"))) = crate::optional::optional_step(call) {
                    if root == "request" && !self.is_bound(root) {
                        self.uses.user_info = true;
                    }
                }
                // Operators (`_+_`, `!_`, `@in`, ...) are the interpreter's own.
                if call.func_name.starts_with(|first: char| first.is_ascii_alphabetic()) {
                    let qualifier = call.target.as_ref().and_then(|target| match &target.expr {
                        Expr::Ident(name) => Some(name.clone()),
                        _ => None,
                    });
                    self.calls.push((qualifier, call.func_name.clone()));
                }
                if let Some(target) = &call.target {
                    self.walk(target, true);
                }
                // `cel.bind(name, init, result)` declares `name` for `result` (a cel-go macro the
                // engine lacks: it is still analysed right, so that it is reported for what it is).
                let is_bind = call.func_name == "bind"
                    && matches!(call.target.as_deref(), Some(IdedExpr { expr: Expr::Ident(namespace), .. }) if namespace == "cel");
                if let (true, [IdedExpr { expr: Expr::Ident(name), .. }, init, result]) = (is_bind, call.args.as_slice()) {
                    self.walk(init, false);
                    self.bound.push(name.clone());
                    self.walk(result, false);
                    self.bound.pop();
                    return;
                }
                for argument in &call.args {
                    self.walk(argument, false);
                }
            }
            Expr::Comprehension(comprehension) => {
                self.walk(&comprehension.iter_range, false);
                self.walk(&comprehension.accu_init, false);
                let scope = self.bound.len();
                self.bound.push(comprehension.iter_var.clone());
                self.bound.extend(comprehension.iter_var2.clone());
                self.bound.push(comprehension.accu_var.clone());
                for part in [&comprehension.loop_cond, &comprehension.loop_step, &comprehension.result] {
                    self.walk(part, false);
                }
                self.bound.truncate(scope);
            }
            Expr::List(list) => list.elements.iter().for_each(|element| self.walk(element, false)),
            Expr::Map(map) => self.entries(&map.entries),
            Expr::Struct(structure) => self.entries(&structure.entries),
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn entries(&mut self, entries: &[kube_cel::cel::common::ast::IdedEntryExpr]) {
        for entry in entries {
            match &entry.expr {
                EntryExpr::MapEntry(pair) => {
                    self.walk(&pair.key, false);
                    self.walk(&pair.value, false);
                }
                EntryExpr::StructField(field) => self.walk(&field.value, false),
            }
        }
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bound.iter().any(|bound| bound == name)
    }

    fn identifier(&mut self, name: &str, call_target: bool) {
        if self.is_bound(name) || name.starts_with('@') {
            return;
        }
        match name {
            "authorizer" => self.uses.authorizer = true,
            "namespaceObject" => self.uses.namespace_object = true,
            "params" if self.declarations.has_params => {}
            // `sets.contains(...)`, `math.greatest(...)`: a namespace of functions, not a variable.
            _ if call_target => {}
            _ if DECLARED.contains(&name) => {}
            _ => self.fail(format!("undeclared reference to '{name}'")),
        }
    }

    fn variable(&mut self, name: &str) {
        let declared = self.declarations.variables.iter().position(|(declared, _)| declared == name);
        match declared {
            Some(index) => {
                let used = &self.declarations.variables[index].1;
                self.uses.authorizer |= used.authorizer;
                self.uses.namespace_object |= used.namespace_object;
                self.uses.user_info |= used.user_info;
                self.uses.variables.extend(used.variables.iter().copied());
                self.uses.variables.insert(index);
            }
            None => self.fail(format!("undefined field '{name}' of variables")),
        }
    }

    fn fail(&mut self, message: String) {
        self.error.get_or_insert(message);
    }
}

impl Failure {
    /// The error's text, for failures that are errors.
    pub fn message(&self) -> Option<String> {
        match self {
            Failure::Error(message) => Some(message.clone()),
            // cel-go's wording, which the API server's messages carry.
            Failure::NoSuchKey(key) => Some(format!("no such key: {key}")),
            Failure::UnknownFunction(_) | Failure::EngineFault | Failure::Unsupported(_) => None,
        }
    }
}

/// Whether the engine has a function, found by calling it without arguments: a missing one is
/// an undeclared reference to its own name, a present one fails otherwise (or succeeds).
/// Answers are remembered, so each name is probed once per process.
fn is_provided(qualifier: Option<&str>, name: &str) -> bool {
    static KNOWN: OnceLock<std::sync::Mutex<HashMap<String, bool>>> = OnceLock::new();
    let probe = match qualifier {
        Some(qualifier) => format!("{qualifier}.{name}()"),
        None => format!("{name}()"),
    };
    let known = KNOWN.get_or_init(Default::default);
    if let Some(answer) = known.lock().ok().and_then(|known| known.get(&probe).copied()) {
        return answer;
    }
    let Ok(program) = Program::compile(&probe) else { return true };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(functions())));
    let provided = !matches!(outcome, Ok(Err(ExecutionError::UndeclaredReference(missing))) if missing.as_str() == name);
    if let Ok(mut known) = known.lock() {
        known.insert(probe, provided);
    }
    provided
}

/// The functions of CEL and the Kubernetes libraries, registered once: each evaluation's
/// variables live in a child scope of this context.
pub(crate) fn functions() -> &'static Context<'static> {
    static FUNCTIONS: OnceLock<Context<'static>> = OnceLock::new();
    FUNCTIONS.get_or_init(|| {
        let mut context = Context::default().with_all();
        add_type_functions(&mut context);
        crate::optional::register(&mut context);
        context
    })
}

/// A CEL type as `type(x)` returns it; equal to the type identifiers (`string`, `int`, ...).
#[derive(Debug, PartialEq, Eq)]
struct CelType(String);

impl Opaque for CelType {
    fn runtime_type_name(&self) -> &str {
        "type"
    }
}

fn cel_type(name: &str) -> Value {
    Value::Opaque(Arc::new(CelType(name.to_owned())))
}

/// `type()` and `dyn()`, which cel-go has and the cel crate lacks, and the type identifiers
/// they compare with, so that the common `type(x) == string` (int-or-string fields) decides.
fn add_type_functions(context: &mut Context<'static>) {
    fn type_of(value: Value) -> ResolveResult {
        Ok(match &value {
            Value::Opaque(opaque) => cel_type(opaque.runtime_type_name()),
            other => cel_type(type_name(other)),
        })
    }
    fn dynamic(value: Value) -> ResolveResult {
        Ok(value)
    }
    context.add_function("type", type_of);
    context.add_function("dyn", dynamic);
    for name in ["bool", "bytes", "double", "int", "list", "map", "null_type", "string", "uint", "type"] {
        context.add_variable_from_value(name, cel_type(name));
    }
}

/// A JSON value as the API server hands unstructured data to CEL: integers that fit are `int`,
/// other numbers `double`, objects maps with string keys.
///
/// An integral number written as a float (`1.0` in a manifest) is an `int` too: kubectl sends
/// YAML and JSON manifests re-encoded from Go's float64, which writes `1.0` as `1`, and the API
/// server's own JSON does the same, so it never sees `1.0` (past 2^63 it is a `double` there
/// as here).
pub(crate) fn to_cel(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(flag) => Value::Bool(*flag),
        serde_json::Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => Value::Int(integer),
            // `i64::MAX as f64` is 2^63, the first float past the range.
            (None, Some(float)) if float.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(&float) => {
                Value::Int(float as i64)
            }
            (None, float) => Value::Float(float.unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(text) => Value::String(Arc::new(text.clone())),
        serde_json::Value::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        serde_json::Value::Object(entries) => {
            let map: HashMap<Key, Value> =
                entries.iter().map(|(key, value)| (Key::String(Arc::new(key.clone())), to_cel(value))).collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// The name of a CEL value's type as cel-go writes it in messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Function(..) => "function",
        Value::Int(_) => "int",
        Value::UInt(_) => "uint",
        Value::Float(_) => "double",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Bool(_) => "bool",
        Value::Duration(_) => "google.protobuf.Duration",
        Value::Timestamp(_) => "google.protobuf.Timestamp",
        Value::Opaque(_) => "opaque",
        Value::Null => "null_type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(has_params: bool) -> Declarations<'static> {
        Declarations { has_params, variables: &[] }
    }

    #[test]
    fn comprehension_variables_and_function_namespaces_are_not_free_identifiers() {
        let expression = Expression::compile(
            "object.spec.containers.all(c, sets.contains(['a'], [c.name])) && type(object) == map",
            &declared(false),
        )
        .unwrap();
        assert_eq!(expression.uses, Uses::default());
    }

    #[test]
    fn undeclared_identifiers_and_params_without_a_param_kind_do_not_compile() {
        let error = Expression::compile("params.max > 1", &declared(false)).unwrap_err();
        assert_eq!(error, "undeclared reference to 'params'");
        assert!(Expression::compile("params.max > 1", &declared(true)).is_ok());
        assert!(Expression::compile("objet.spec", &declared(true)).unwrap_err().contains("'objet'"));
        assert!(Expression::compile("object.spec ==", &declared(true)).unwrap_err().starts_with("compilation failed"));
    }

    #[test]
    fn uses_follow_variables_transitively() {
        let first = Expression::compile("authorizer.path('/').check('get').allowed()", &declared(false)).unwrap();
        let variables = vec![("allowed".to_owned(), first.uses.clone())];
        let declarations = Declarations { has_params: false, variables: &variables };
        let second = Expression::compile("variables.allowed || namespaceObject.metadata.name == 'a'", &declarations).unwrap();
        assert!(second.uses.authorizer && second.uses.namespace_object && !second.uses.user_info);
        assert!(Expression::compile("'x' in request.userInfo.groups", &declarations).unwrap().uses.user_info);
        assert!(Expression::compile("request.?userInfo.?username.hasValue()", &declarations).unwrap().uses.user_info);
        assert!(Expression::compile("request[?'userInfo'].hasValue()", &declarations).unwrap().uses.user_info);
        assert!(!Expression::compile("request.?kind.hasValue()", &declarations).unwrap().uses.user_info);
        assert_eq!(second.uses.variables, BTreeSet::from([0]));
        assert!(Expression::compile("variables.later", &declarations).unwrap_err().contains("later"));
    }

    #[test]
    fn functions_kube_cel_lacks_are_named() {
        let expression = Expression::compile(
            "type(object) == map && object.metadata.name.startWith('a') && sets.contains([1], [1]) && object.spec.containers.all(c, c.name.size() > 0 && c.image.matches('x')) && quantity('1').isInteger() && cel.bind(x, 1, x == 1)",
            &declared(false),
        )
        .unwrap();
        assert_eq!(expression.unknown_functions, ["startWith", "bind"]);
    }

    #[test]
    fn type_and_dyn_work_as_in_cel_go() {
        let run = |source: &str| Program::compile(source).unwrap().execute(functions()).unwrap();
        assert_eq!(run("type(1) == int && type('a') == string && type({}) == map && type([]) == list"), Value::Bool(true));
        assert_eq!(run("type(1.5) == double && type(null) == null_type && type(true) == bool && type(int) == type"), Value::Bool(true));
        assert_eq!(run("type(1) == string || type('a') == 'string'"), Value::Bool(false));
        assert_eq!(run("type(quantity('1')) == type(quantity('2')) && dyn(3) == 3"), Value::Bool(true));
    }

    #[test]
    fn json_numbers_become_int_or_double() {
        assert_eq!(to_cel(&serde_json::json!(3)), Value::Int(3));
        assert_eq!(to_cel(&serde_json::json!(1.5)), Value::Float(1.5));
        assert_eq!(to_cel(&serde_json::json!(u64::MAX)), Value::Float(u64::MAX as f64));
        assert_eq!(to_cel(&serde_json::json!(2.0)), Value::Int(2), "as kubectl and the API server write it");
        assert_eq!(to_cel(&serde_json::json!(-1e18)), Value::Int(-1_000_000_000_000_000_000));
        assert_eq!(to_cel(&serde_json::json!(1e19)), Value::Float(1e19));
    }
}

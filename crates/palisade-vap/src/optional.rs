//! CEL's optional values (`x.?f`, `x[?k]`, `optional.of`, `.orValue()`, ...) evaluated as cel-go
//! evaluates them.
//!
//! The cel crate 0.13 parses the optional syntax (when asked to) but evaluates it unlike cel-go:
//! `m.?missing` is a `no such key` error instead of `optional.none()`, `m.?a.?missing` is an
//! optional holding an optional, a plain `.b` on an optional is `false`, and two equal optionals
//! compare unequal. So the parsed expression is rewritten before it is run: every optional
//! selection or index, and every plain one whose operand may be an optional, becomes a call to a
//! function registered here that follows cel-go's `interpreter/attributes.go`:
//!
//! - `applyQualifiers`: once an operand is an optional, every further qualifier of the chain
//!   (`.?f`, `.f`, `[?k]`, `[k]`) is applied "if present": `optional.none()` stays none, a
//!   missing field or key makes it none, a present one `optional.of(value)`;
//! - `refQualify` with a presence test: a map without the key, or a list without the index, is
//!   not present; a value that is neither map nor list (a string, `null`) has no fields, so not
//!   present either; a key or index of the wrong type is an error.
//!
//! A plain selection or index whose operand is not an optional is handed back to the engine
//! unchanged (the operand bound to a scope variable), so it keeps the engine's own results and
//! errors. Selections rooted in the admission variables (`object.spec.x`) hold JSON data, never
//! optionals, and are not rewritten at all.
//!
//! What is not modelled is never guessed. Optional list elements and map entries (`[?x]`,
//! `{?'k': v}`), `has()` over an optional chain and `variables.?x` do not compile. Cases found
//! only at run time (`has()` on an optional, `orValue()`/`or()` on a value that is not an
//! optional, an optional index by a double or by a non-string key a map lacks) are
//! [`Failure::Unsupported`](crate::expression::Failure::Unsupported): not evaluated.

use std::sync::Arc;

use kube_cel::cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr, LiteralValue, SelectExpr};
use kube_cel::cel::objects::{Key, Opaque};
use kube_cel::cel::parser::Parser;
use kube_cel::cel::{Context, ExecutionError, FunctionContext, ResolveResult, Value};

/// Identifiers whose values are the request's JSON data (or namespaces of it): never optionals.
const DATA: &[&str] = &["object", "oldObject", "request", "params", "namespaceObject", "variables", "authorizer"];

/// The scope variables the engine's own selection and index run on.
const OPERAND: &str = "@operand";
const KEY: &str = "@key";

const OPTIONAL_SELECT: &str = "@optional_select";
const OPTIONAL_INDEX: &str = "@optional_index";
const SELECT: &str = "@select";
const INDEX: &str = "@index";
const PRESENCE: &str = "@has";

/// The function name of errors that stand for a case not modelled here (see
/// [`crate::expression::Failure::Unsupported`]): the policy is then not evaluated.
pub(crate) const UNSUPPORTED: &str = "@unsupported";

fn unsupported(what: &str) -> ExecutionError {
    ExecutionError::function_error(UNSUPPORTED, what)
}

/// The cel crate's names of the optional operators (`common::ast::operators`).
const OPT_SELECT_OPERATOR: &str = "_?._";
const OPT_INDEX_OPERATOR: &str = "_[?_]";
const INDEX_OPERATOR: &str = "_[_]";

/// Parses `source` with the optional syntax and rewrites it to the functions of this module.
pub(crate) fn parse(source: &str) -> Result<IdedExpr, String> {
    let parsed = Parser::default().enable_optional_syntax(true).parse(source).map_err(|error| error.to_string())?;
    Rewrite { bound: Vec::new() }.expression(parsed)
}

/// An optional value as cel-go has it: equal when both are none or both hold equal values.
#[derive(Debug, PartialEq, Eq)]
struct Optional(Option<Value>);

impl Opaque for Optional {
    fn runtime_type_name(&self) -> &str {
        "optional_type"
    }
}

fn optional(value: Option<Value>) -> Value {
    Value::Opaque(Arc::new(Optional(value)))
}

fn as_optional(value: &Value) -> Option<&Optional> {
    match value {
        Value::Opaque(opaque) => opaque.downcast_ref::<Optional>(),
        _ => None,
    }
}

struct Rewrite {
    /// Comprehension variables in scope: they may hold optionals, and may shadow `object`.
    bound: Vec<String>,
}

impl Rewrite {
    fn expression(&mut self, node: IdedExpr) -> Result<IdedExpr, String> {
        let id = node.id;
        let expr = match node.expr {
            Expr::Select(select) if select.test => {
                if yields_optional(&select.operand) {
                    return Err("has() over an optional value is not supported".to_owned());
                }
                if self.is_data(&select.operand) {
                    Expr::Select(select)
                } else {
                    let operand = self.expression(*select.operand)?;
                    let delegate = select_on(OPERAND, &select.field, true, id);
                    call(PRESENCE, vec![operand, delegate])
                }
            }
            Expr::Select(select) => {
                if self.is_data(&select.operand) {
                    Expr::Select(select)
                } else {
                    let operand = self.expression(*select.operand)?;
                    let delegate = select_on(OPERAND, &select.field, false, id);
                    call(SELECT, vec![operand, delegate])
                }
            }
            Expr::Call(call_expr) => self.call(call_expr, id)?,
            Expr::Comprehension(mut comprehension) => {
                comprehension.iter_range = self.expression(comprehension.iter_range)?;
                comprehension.accu_init = self.expression(comprehension.accu_init)?;
                let scope = self.bound.len();
                self.bound.push(comprehension.iter_var.clone());
                self.bound.extend(comprehension.iter_var2.clone());
                self.bound.push(comprehension.accu_var.clone());
                comprehension.loop_cond = self.expression(comprehension.loop_cond)?;
                comprehension.loop_step = self.expression(comprehension.loop_step)?;
                comprehension.result = self.expression(comprehension.result)?;
                self.bound.truncate(scope);
                Expr::Comprehension(comprehension)
            }
            Expr::List(mut list) => {
                if !list.optional_indices.is_empty() {
                    return Err("optional list elements ('[?x]') are not supported".to_owned());
                }
                list.elements = list.elements.into_iter().map(|element| self.expression(element)).collect::<Result<_, _>>()?;
                Expr::List(list)
            }
            Expr::Map(mut map) => {
                map.entries = map.entries.into_iter().map(|entry| self.entry(entry)).collect::<Result<_, _>>()?;
                Expr::Map(map)
            }
            Expr::Struct(mut structure) => {
                structure.entries = structure.entries.into_iter().map(|entry| self.entry(entry)).collect::<Result<_, _>>()?;
                Expr::Struct(structure)
            }
            other @ (Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified) => other,
        };
        Ok(IdedExpr { id, expr })
    }

    fn call(&mut self, mut call_expr: CallExpr, id: u64) -> Result<Expr, String> {
        let optional_operator = match call_expr.func_name.as_str() {
            OPT_SELECT_OPERATOR => Some(OPTIONAL_SELECT),
            OPT_INDEX_OPERATOR => Some(OPTIONAL_INDEX),
            _ => None,
        };
        if let Some(function) = optional_operator {
            // `variables` holds only the variables that evaluated, so `.?` could not tell a
            // failed variable (cel-go's error) from an absent one.
            let on_variables = matches!(call_expr.args.first(), Some(IdedExpr { expr: Expr::Ident(root), .. })
                if root == "variables" && !self.bound.iter().any(|bound| bound == root));
            if on_variables {
                return Err("optional selection of a variable ('variables.?x') is not supported".to_owned());
            }
            let args = call_expr.args.into_iter().map(|argument| self.expression(argument)).collect::<Result<_, _>>()?;
            return Ok(call(function, args));
        }
        let is_index = call_expr.func_name == INDEX_OPERATOR && call_expr.target.is_none();
        if let (true, [operand, _]) = (is_index, call_expr.args.as_slice()) {
            if !self.is_data(operand) {
                let mut args = call_expr.args.into_iter().map(|argument| self.expression(argument)).collect::<Result<Vec<_>, _>>()?;
                let delegate = IdedExpr {
                    id,
                    expr: Expr::Call(CallExpr {
                        func_name: INDEX_OPERATOR.to_owned(),
                        target: None,
                        args: vec![identifier(OPERAND, id), identifier(KEY, id)],
                    }),
                };
                args.push(delegate);
                return Ok(call(INDEX, args));
            }
        }
        call_expr.target = call_expr.target.map(|target| self.expression(*target).map(Box::new)).transpose()?;
        call_expr.args = call_expr.args.into_iter().map(|argument| self.expression(argument)).collect::<Result<_, _>>()?;
        Ok(Expr::Call(call_expr))
    }

    fn entry(&mut self, mut entry: kube_cel::cel::common::ast::IdedEntryExpr) -> Result<kube_cel::cel::common::ast::IdedEntryExpr, String> {
        entry.expr = match entry.expr {
            EntryExpr::MapEntry(pair) if pair.optional => return Err("optional map entries ('{?k: v}') are not supported".to_owned()),
            EntryExpr::StructField(field) if field.optional => return Err("optional fields ('{?f: v}') are not supported".to_owned()),
            EntryExpr::MapEntry(mut pair) => {
                pair.key = self.expression(pair.key)?;
                pair.value = self.expression(pair.value)?;
                EntryExpr::MapEntry(pair)
            }
            EntryExpr::StructField(mut field) => {
                field.value = self.expression(field.value)?;
                EntryExpr::StructField(field)
            }
        };
        Ok(entry)
    }

    /// Whether `node` is JSON data of the request: an admission variable, or a plain selection
    /// or index of one, or a literal. Such an operand is never an optional.
    fn is_data(&self, node: &IdedExpr) -> bool {
        match &node.expr {
            Expr::Ident(name) => DATA.contains(&name.as_str()) && !self.bound.iter().any(|bound| bound == name),
            // `variables.x` is whatever the variable's expression gave, an optional perhaps.
            Expr::Select(select) if !select.test => {
                !matches!(&select.operand.expr, Expr::Ident(root) if root == "variables") && self.is_data(&select.operand)
            }
            Expr::Call(call_expr) if call_expr.func_name == INDEX_OPERATOR && call_expr.target.is_none() => {
                call_expr.args.first().is_some_and(|operand| self.is_data(operand))
                    && call_expr.args.get(1).is_some_and(|key| !yields_optional(key))
            }
            Expr::Literal(_) => true,
            _ => false,
        }
    }
}

/// Whether `node` is an optional whatever it is evaluated on: a selection or index chain with an
/// optional step (`x.?a.b`), or a call of `optional.of`/`none`/`ofNonZeroValue` or `.or()`.
fn yields_optional(node: &IdedExpr) -> bool {
    match &node.expr {
        Expr::Select(select) => !select.test && yields_optional(&select.operand),
        Expr::Call(call_expr) => match call_expr.func_name.as_str() {
            OPT_SELECT_OPERATOR | OPT_INDEX_OPERATOR => true,
            INDEX_OPERATOR => call_expr.args.first().is_some_and(yields_optional),
            "or" => call_expr.target.is_some(),
            "of" | "none" | "ofNonZeroValue" => {
                matches!(call_expr.target.as_deref(), Some(IdedExpr { expr: Expr::Ident(namespace), .. }) if namespace == "optional")
            }
            name => name.starts_with("optional."),
        },
        _ => false,
    }
}

/// The operand and the field or key of an optional step (`x.?f`, `x[?'k']`) of a rewritten
/// expression, the key when it is a string literal.
pub(crate) fn optional_step(call_expr: &CallExpr) -> Option<(&IdedExpr, Option<&str>)> {
    if call_expr.func_name != OPTIONAL_SELECT && call_expr.func_name != OPTIONAL_INDEX {
        return None;
    }
    let [operand, key] = call_expr.args.as_slice() else { return None };
    let key = match &key.expr {
        Expr::Literal(LiteralValue::String(text)) => Some(text.inner()),
        _ => None,
    };
    Some((operand, key))
}

fn call(function: &str, args: Vec<IdedExpr>) -> Expr {
    Expr::Call(CallExpr { func_name: function.to_owned(), target: None, args })
}

fn identifier(name: &str, id: u64) -> IdedExpr {
    IdedExpr { id, expr: Expr::Ident(name.to_owned()) }
}

fn select_on(variable: &str, field: &str, test: bool, id: u64) -> IdedExpr {
    IdedExpr {
        id,
        expr: Expr::Select(SelectExpr { operand: Box::new(identifier(variable, id)), field: field.to_owned(), test }),
    }
}

/// Registers the rewrite's functions and cel-go's optional library (replacing the cel crate's,
/// whose optional value this module's does not mix with).
pub(crate) fn register(context: &mut Context<'static>) {
    context.add_function(OPTIONAL_SELECT, optional_select);
    context.add_function(OPTIONAL_INDEX, optional_index);
    context.add_function(SELECT, select);
    context.add_function(INDEX, index);
    context.add_function(PRESENCE, presence);
    context.add_function("optional.of", of);
    context.add_function("optional.none", none);
    context.add_function("optional.ofNonZeroValue", of_non_zero_value);
    context.add_function("hasValue", has_value);
    context.add_function("value", value);
    context.add_function("orValue", or_value);
    context.add_function("or", or);
}

fn of(value: Value) -> ResolveResult {
    Ok(optional(Some(value)))
}

fn none() -> ResolveResult {
    Ok(optional(None))
}

/// none for the zero value of its type (`0`, `''`, `[]`, `{}`, `false`, `null`), as cel-go's.
fn of_non_zero_value(value: Value) -> ResolveResult {
    Ok(optional((!value.is_zero()).then_some(value)))
}

fn argument(ftx: &FunctionContext, position: usize) -> ResolveResult {
    let expression = ftx.args.get(position).ok_or_else(|| ExecutionError::invalid_argument_count(position + 1, ftx.args.len()))?;
    Value::resolve(expression, ftx.ptx)
}

/// The optional's content, or `None` for optional.none(); `Err` when `this` is no optional.
fn this_optional(ftx: &FunctionContext) -> Result<Option<Value>, ExecutionError> {
    let this = ftx.this.clone().ok_or_else(ExecutionError::missing_argument_or_target)?;
    match as_optional(&this) {
        Some(Optional(content)) => Ok(content.clone()),
        None => Err(ftx.error(format!("no such overload: {} on {}", ftx.name, crate::expression::type_name(&this)))),
    }
}

fn has_value(ftx: &FunctionContext) -> ResolveResult {
    Ok(Value::Bool(this_optional(ftx)?.is_some()))
}

fn value(ftx: &FunctionContext) -> ResolveResult {
    // cel-go's text for `optional.none().value()`.
    this_optional(ftx)?.ok_or_else(|| ftx.error("optional.none() dereference"))
}

/// The receiver of `or`/`orValue` as an optional. cel-go's `evalOptionalOr(Value)`
/// (`cel/library.go`) returns a receiver that is not an optional (a `dyn` the checker let
/// through) unchanged, and newer cel-go versions report no such overload: which one the API
/// server does depends on its version, so that case is not evaluated.
fn or_receiver(ftx: &FunctionContext) -> Result<Option<Value>, ExecutionError> {
    let this = ftx.this.clone().ok_or_else(ExecutionError::missing_argument_or_target)?;
    match as_optional(&this) {
        Some(Optional(content)) => Ok(content.clone()),
        None => Err(unsupported(&format!("`{}` on a {}, which cel-go versions evaluate differently", ftx.name, crate::expression::type_name(&this)))),
    }
}

fn or_value(ftx: &FunctionContext) -> ResolveResult {
    // cel-go's `evalOptionalOrValue` evaluates the default only when the receiver is none.
    match or_receiver(ftx)? {
        Some(content) => Ok(content),
        None => argument(ftx, 0),
    }
}

fn or(ftx: &FunctionContext) -> ResolveResult {
    // cel-go's `evalOptionalOr` evaluates the alternative only when the receiver is none.
    if let Some(content) = or_receiver(ftx)? {
        return Ok(optional(Some(content)));
    }
    let other = argument(ftx, 0)?;
    match as_optional(&other) {
        Some(_) => Ok(other),
        None => Err(ftx.error(format!("no such overload: or on optional_type and {}", crate::expression::type_name(&other)))),
    }
}

/// `x.?f`: the field if present, as an optional.
fn optional_select(ftx: &FunctionContext) -> ResolveResult {
    let operand = argument(ftx, 0)?;
    let field = argument(ftx, 1)?;
    qualify_if_present(&operand, &field)
}

/// `x[?k]`: the entry or element if present, as an optional.
fn optional_index(ftx: &FunctionContext) -> ResolveResult {
    let operand = argument(ftx, 0)?;
    let key = argument(ftx, 1)?;
    qualify_if_present(&operand, &key)
}

/// `x.f`: on an optional, as `x.?f` (cel-go's `applyQualifiers`); otherwise the engine's own
/// selection (argument 1, on `@operand`).
fn select(ftx: &FunctionContext) -> ResolveResult {
    let operand = argument(ftx, 0)?;
    if as_optional(&operand).is_some() {
        let Some(IdedExpr { expr: Expr::Select(delegate), .. }) = ftx.args.get(1) else {
            return Err(ftx.error("malformed selection"));
        };
        return qualify_if_present(&operand, &Value::String(Arc::new(delegate.field.clone())));
    }
    let mut scope = ftx.ptx.new_inner_scope();
    scope.add_variable_from_value(OPERAND, operand);
    let delegate = ftx.args.get(1).ok_or_else(|| ExecutionError::invalid_argument_count(2, ftx.args.len()))?;
    Value::resolve(delegate, &scope)
}

/// `x[k]`: on an optional, as `x[?k]`; otherwise the engine's own index (argument 2, on
/// `@operand` and `@key`).
fn index(ftx: &FunctionContext) -> ResolveResult {
    let operand = argument(ftx, 0)?;
    let key = argument(ftx, 1)?;
    if as_optional(&operand).is_some() {
        return qualify_if_present(&operand, &key);
    }
    let mut scope = ftx.ptx.new_inner_scope();
    scope.add_variable_from_value(OPERAND, operand);
    scope.add_variable_from_value(KEY, key);
    let delegate = ftx.args.get(2).ok_or_else(|| ExecutionError::invalid_argument_count(3, ftx.args.len()))?;
    Value::resolve(delegate, &scope)
}

/// `has(x.f)` on an operand that is not the request's data: the engine's own test, unless the
/// operand turns out to be an optional, whose presence test is not modelled here.
fn presence(ftx: &FunctionContext) -> ResolveResult {
    let operand = argument(ftx, 0)?;
    if as_optional(&operand).is_some() {
        return Err(unsupported("has() on an optional value"));
    }
    let mut scope = ftx.ptx.new_inner_scope();
    scope.add_variable_from_value(OPERAND, operand);
    let delegate = ftx.args.get(1).ok_or_else(|| ExecutionError::invalid_argument_count(2, ftx.args.len()))?;
    Value::resolve(delegate, &scope)
}

/// cel-go's `refQualify` with a presence test, on an optional or a plain operand: the result is
/// `optional.of(value)` when the field, key or index is there, `optional.none()` when it is not
/// (or the operand is none already, or is neither a map nor a list), an error when the key or
/// index has a type the operand cannot be indexed by.
fn qualify_if_present(operand: &Value, key: &Value) -> ResolveResult {
    let operand = match as_optional(operand) {
        Some(Optional(Some(content))) => content,
        Some(Optional(None)) => return Ok(optional(None)),
        None => operand,
    };
    let found = match operand {
        Value::Map(map) => {
            let key = match key {
                Value::String(text) => Key::String(text.clone()),
                Value::Int(integer) => Key::Int(*integer),
                Value::UInt(integer) => Key::Uint(*integer),
                Value::Bool(flag) => Key::Bool(*flag),
                // cel-go looks a double up as the equal integer, which this engine's maps do not.
                Value::Float(_) => return Err(unsupported("an optional map index by a double")),
                other => return Err(ExecutionError::UnsupportedKeyType(other.clone())),
            };
            match map.map.get(&key) {
                Some(found) => Some(found.clone()),
                // What cel-go does with another key type depends on how the map reached it
                // (not found in some of its map types, an error in others).
                None if !matches!(key, Key::String(_)) => return Err(unsupported("an optional map index by a key that is not a string")),
                None => None,
            }
        }
        Value::List(items) => {
            let position = match key {
                Value::Int(integer) => usize::try_from(*integer).ok(),
                Value::UInt(integer) => usize::try_from(*integer).ok(),
                // cel-go's `IndexOrError` takes an integral double as an index.
                Value::Float(_) => return Err(unsupported("an optional list index by a double")),
                other => return Err(ExecutionError::UnsupportedListIndex(other.clone())),
            };
            position.and_then(|position| items.get(position).cloned())
        }
        _ => None,
    };
    Ok(optional(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `source` with `m` = `{"a": {"b": 1}, "l": [1, 2], "s": "str", "n": null}`.
    fn run(source: &str) -> ResolveResult {
        let mut scope = crate::expression::functions().new_inner_scope();
        let data = serde_json::json!({"a": {"b": 1}, "l": [1, 2], "s": "str", "n": null});
        scope.add_variable_from_value("m", crate::expression::to_cel(&data));
        Value::resolve(&parse(source).expect("parses"), &scope)
    }

    fn truth(source: &str) -> bool {
        run(source) == Ok(Value::Bool(true))
    }

    // Expected results: cel-go's `interpreter/attributes.go` (`applyQualifiers`, `refQualify`
    // with a presence test) and the optional library of `cel/library.go`, as in the cel-spec
    // optional proposal: `x.?f` is `optional.of(x.f)` when `x` has `f`, else `optional.none()`.

    #[test]
    fn selection_is_of_when_present_and_none_when_absent() {
        assert!(truth("m.?a == optional.of({'b': 1})"));
        assert!(truth("m.?missing == optional.none()"));
        assert!(truth("m.?a.?b == optional.of(1)"));
        assert!(truth("m.?a.?missing == optional.none()"), "not an optional holding none");
        assert!(truth("m.?missing.?b == optional.none()"), "none stays none along the chain");
        assert!(truth("m.?n == optional.of(null)"), "a present null is present");
        assert!(truth("m.?n.?x == optional.none() && m.?s.?x == optional.none()"), "a value without fields has none");
        assert!(truth("{'a': 1}.?a.value() == 1"));
    }

    #[test]
    fn plain_steps_after_an_optional_one_stay_optional() {
        assert!(truth("m.?a.b == optional.of(1)"));
        assert!(truth("m.?a.missing == optional.none()"));
        assert!(truth("m.?missing.b.c == optional.none()"));
        assert!(truth("m.?l[1] == optional.of(2) && m.?l[5] == optional.none()"));
        assert!(truth("optional.of(m).a.b == optional.of(1)"));
    }

    #[test]
    fn index_is_of_when_present_and_none_when_absent() {
        assert!(truth("m[?'a'].?b.value() == 1"));
        assert!(truth("m[?'missing'] == optional.none()"));
        assert!(truth("m.l[?1] == optional.of(2) && m.l[?2] == optional.none() && m.l[?-1] == optional.none()"));
        assert!(truth("m.?a[?'b'] == optional.of(1) && m.?missing[?'b'] == optional.none()"));
        assert!(run("m.l[?'x']").is_err(), "a list indexed by a string is an error, not none");
        assert!(run("m.l.?x").is_err());
        assert_eq!(run("m.l[?1.0]"), Err(unsupported("an optional list index by a double")));
        assert_eq!(run("m[?1.0]"), Err(unsupported("an optional map index by a double")));
        assert_eq!(run("m[?1]"), Err(unsupported("an optional map index by a key that is not a string")));
        assert!(truth("{1: 'a'}[?1] == optional.of('a')"));
    }

    #[test]
    fn library_functions() {
        assert!(truth("m.?a.?b.orValue(9) == 1 && m.?a.?c.orValue(9) == 9"));
        assert!(truth("m.?a.hasValue() && !m.?c.hasValue()"));
        assert!(truth("m.?a.?b.value() + 1 == 2"));
        assert_eq!(
            run("m.?c.value()"),
            Err(ExecutionError::function_error("value", "optional.none() dereference"))
        );
        assert!(truth("optional.none().or(optional.of(3)).value() == 3 && optional.of(1).or(optional.of(3)) == optional.of(1)"));
        assert!(run("optional.none().or(3)").is_err());
        assert_eq!(run("m.a.orValue(1)"), Err(unsupported("`orValue` on a map, which cel-go versions evaluate differently")));
        assert!(run("m.a.or(optional.none())").is_err());
        assert!(run("m.a.hasValue()").is_err() && run("m.a.value()").is_err());
        assert_eq!(run("[m.?a].all(x, has(x.b))"), Err(unsupported("has() on an optional value")));
        assert!(truth("optional.ofNonZeroValue('') == optional.none() && optional.ofNonZeroValue(0) == optional.none()"));
        assert!(truth("optional.ofNonZeroValue([]) == optional.none() && optional.ofNonZeroValue('x') == optional.of('x')"));
        assert!(truth("optional.none() == optional.none() && optional.of(1) != optional.of(2)"));
        assert!(truth("m.?a.?b.orValue(m.missing) == 1"), "the default is evaluated only when needed");
        assert!(run("m.?c.orValue(m.missing)").is_err());
    }

    #[test]
    fn macros_and_plain_selections_keep_their_meaning() {
        assert!(truth("m.l.all(x, m.?a.?b.orValue(0) + x > 1)"));
        assert!(truth("m.?l.orValue([]).exists(x, x == 2) && !m.?k.orValue([]).exists(x, x == 2)"));
        assert!(truth("[m.a, m.?a.value()].all(x, x.b == 1 && has(x.b) && !has(x.c))"));
        assert!(truth("m.l.map(x, m.?z.orValue(x)) == [1, 2]"));
        assert!(truth("[{'b': 1}].filter(x, x.?b.hasValue()).size() == 1"));
        assert_eq!(run("[{'b': 1}].all(x, x.c == 1)"), Err(ExecutionError::NoSuchKey(Arc::new("c".to_owned()))));
        assert_eq!(run("[[1]].all(x, x[3] == 1)"), Value::resolve(&parse("[1][3]").unwrap(), crate::expression::functions()));
    }

    #[test]
    fn string_literals_are_not_syntax() {
        assert!(truth("'m.?a' == 'm' + '.?a' && \"x[?'k']\".size() == 7"));
        assert!(truth("m.?a.?b.orValue('.?') == 1 && m.?z.orValue('.?') == '.?'"));
    }

    #[test]
    fn what_is_not_modelled_does_not_compile() {
        assert!(parse("[?m.?a]").is_err());
        assert!(parse("{?'k': m.?a}").is_err());
        assert!(parse("has(m.?a.b)").is_err());
        assert!(parse("m.?").is_err());
        assert!(parse("variables.?x").is_err() && parse("variables[?'x']").is_err());
        assert!(parse("[1].all(variables, variables.?x.hasValue())").is_ok(), "a comprehension variable of that name");
    }
}

//! `{{ expression }}` variables and `$(path)` references, substituted as Kyverno substitutes
//! them (pkg/engine/variables/vars.go): references first, against the document itself, then
//! variables, against the context. A string that is exactly one variable takes the variable's
//! value, of any JSON type; a variable inside a longer string is written into it (strings as
//! they are, other values as Go's `json.Marshal` writes them). Map keys are substituted too.

mod references;
pub(crate) mod string_operator;
mod traversal;

use std::cell::OnceCell;
use std::sync::LazyLock;

use jmespath::Rcvar;
use regex::Regex;
use serde_json::Value;

use crate::go;
use crate::jmespath as jp;

/// Why a document could not be substituted, in Kyverno's words.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A variable's expression failed: does not parse, or fails (e.g. `Unknown key "x" in path`).
    Variable { variable: String, path: String, cause: Cause },
    /// A `$(...)` reference could not be resolved.
    Reference { reference: String, path: String, message: String },
    /// A `$(...)` reference resolved to a value that is not a string.
    UnresolvedReference { reference: String, path: String },
    /// A `$(...)` reference points at nothing.
    NilReference { reference: String, path: String },
    /// A map key's variable gave something other than a string.
    KeyNotString { key: String },
    /// A `{{- ...}}` (shallow) variable gave something other than a string.
    ShallowNotString { variable: String, path: String },
    /// Variables whose values keep producing variables (Kyverno loops forever on these).
    Endless { path: String },
}

/// What went wrong with a variable's expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// `{{ }}`: nothing to evaluate.
    EmptyQuery,
    /// The expression failed to parse or to evaluate.
    Query(jp::Error),
}

impl Error {
    /// Whether the failure is a missing key on a path, which Kyverno treats as "field absent"
    /// in some places (e.g. `foreach` lists).
    pub fn is_unknown_key(&self) -> bool {
        matches!(self, Error::Variable { cause: Cause::Query(jp::Error::UnknownKey(_)), .. })
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Variable { variable, path, cause } => {
                write!(f, "failed to resolve {variable} at path {path}: ")?;
                match cause {
                    Cause::EmptyQuery => f.write_str("invalid query (nil)"),
                    Cause::Query(error @ jp::Error::Syntax(_)) => write!(f, "incorrect query {variable}: {error}"),
                    Cause::Query(error) => write!(f, "JMESPath query failed: {error}"),
                }
            }
            Error::Reference { reference, path, message } => write!(f, "failed to resolve {reference} at path {path}: {message}"),
            Error::UnresolvedReference { reference, path } => {
                write!(f, "NotResolvedReferenceErr,reference {reference} not resolved at path {path}")
            }
            Error::NilReference { reference, path } => write!(f, "got nil resolved variable {reference} at path {path}: <nil>"),
            Error::KeyNotString { key } => write!(f, "expected string after substituting variables in key \"{key}\""),
            Error::ShallowNotString { variable, path } => {
                write!(f, "failed to resolve {variable} at path {path}: a shallow variable must give a string")
            }
            Error::Endless { path } => {
                write!(f, "failed to resolve variables at path {path}: their values keep producing variables")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Rounds of nested substitution in one string before giving up: real policies nest a few
/// levels; a value that reproduces its own variable would otherwise never end.
const MAX_ROUNDS: usize = 64;

/// `{{...}}` at the start of a string or after a character other than `\`; one level of
/// braces may nest inside (`{{ {a: b} }}`).
static VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})").unwrap_or_else(|_| unreachable!("valid regex")));

/// Substitutes every reference and variable in `document`. `context` is the JSON root the
/// variables are evaluated against (`request`, `element`, `images`, named context entries...).
pub fn substitute_all(document: &Value, context: &Value) -> Result<Value, Error> {
    if !mentions_variables(document) {
        return Ok(document.clone());
    }
    Substitution::new(context).all(document)
}

/// Whether any string or key of `document` holds a variable (`{{`) or a reference (`$(`): most
/// patterns hold neither, and substitution would leave them as they are.
fn mentions_variables(document: &Value) -> bool {
    let mentions = |text: &str| text.contains("{{") || text.contains("$(");
    match document {
        Value::String(text) => mentions(text),
        Value::Array(items) => items.iter().any(mentions_variables),
        Value::Object(map) => map.iter().any(|(key, item)| mentions(key) || mentions_variables(item)),
        _ => false,
    }
}

/// Substitutes the variables of one string (a message); non-string results are written as
/// Kyverno writes them into a string.
pub fn substitute_str(text: &str, context: &Value) -> Result<String, Error> {
    let substitution = Substitution::new(context);
    Ok(match substitution.string(text, "")? {
        Value::String(text) => text,
        other => go::to_json(&other),
    })
}

/// A context prepared once for many substitutions (the conditions of a rule).
pub(crate) struct Substitution<'a> {
    context: &'a Value,
    /// `context` as JMESPath reads it, converted on the first variable: most strings have none.
    variable: OnceCell<Rcvar>,
    /// DELETE requests have no `request.object`; Kyverno reads `request.oldObject` instead.
    is_delete: bool,
    /// Where `{{@}}` points: `target` when the context has one, else `request.object`.
    current_root: &'static str,
}

impl<'a> Substitution<'a> {
    pub(crate) fn new(context: &'a Value) -> Substitution<'a> {
        let is_delete = context.pointer("/request/operation").and_then(Value::as_str) == Some("DELETE");
        let current_root = if context.get("target").is_some() { "target" } else { "request.object" };
        Substitution { context, variable: OnceCell::new(), is_delete, current_root }
    }

    /// [`substitute_all`] against this context.
    pub(crate) fn all(&self, document: &Value) -> Result<Value, Error> {
        let document = references::substitute(document)?;
        traversal::traverse(&document, &mut |text, path| self.string(text, path))
    }

    /// Kyverno's `substituteVariablesIfAny` for one string at `path`.
    fn string(&self, text: &str, path: &str) -> Result<Value, Error> {
        if !text.contains("{{") {
            return Ok(Value::String(text.to_owned()));
        }
        let mut value = text.to_owned();
        let mut matches = variables_in(&value);
        let mut rounds = 0;
        while !matches.is_empty() {
            rounds += 1;
            if rounds > MAX_ROUNDS {
                return Err(Error::Endless { path: path.to_owned() });
            }
            let original = value.clone();
            let mut shallow = false;
            for (prefix, variable_text) in matches {
                let (expression, is_shallow) = expression_of(&variable_text);
                shallow = is_shallow;
                let expression = self.rewrite(&expression, path);
                let result = self.query(&expression, path)?;
                if original == variable_text {
                    return Ok(result);
                }
                let written = match (&result, shallow) {
                    (Value::String(text), true) => text.replace("{{", "\\{{"),
                    (Value::Null, true) => "null".to_owned(),
                    (_, true) => return Err(Error::ShallowNotString { variable: expression, path: path.to_owned() }),
                    (Value::String(text), false) => text.clone(),
                    (other, false) => go::to_json(other),
                };
                let needle = format!("{prefix}{variable_text}");
                value = value.replacen(&needle, &format!("{prefix}{written}"), 1);
            }
            // A shallow variable's value is not searched for further variables.
            matches = if shallow { Vec::new() } else { variables_in(&value) };
        }
        Ok(Value::String(value.replace("\\{{", "{{")))
    }

    /// `{{@}}` becomes the path of the value being substituted; on DELETE, `request.object`
    /// becomes `request.oldObject`.
    fn rewrite(&self, expression: &str, path: &str) -> String {
        let mut expression = if expression == "@" { self.current_path(path) } else { expression.to_owned() };
        if self.is_delete {
            expression = expression.replace("request.object", "request.oldObject");
        }
        expression
    }

    /// The JMESPath of `path` under the current root: the rule's first two levels
    /// (`validate.pattern`, or those after `foreach`) skipped, as Kyverno skips them.
    fn current_path(&self, path: &str) -> String {
        let components = pointer_components(path);
        let after_foreach = match components.iter().position(|component| component == "foreach") {
            Some(index) => &components[index + 1..],
            None => &components[..],
        };
        let mut jmespath = self.current_root.to_owned();
        for component in after_foreach.iter().skip(2) {
            if component.parse::<u64>().is_ok() {
                jmespath.push_str(&format!("[{component}]"));
            } else if is_identifier(component) {
                jmespath.push('.');
                jmespath.push_str(component);
            } else {
                jmespath.push_str(&format!(".{}", serde_json::Value::String(component.clone())));
            }
        }
        jmespath
    }

    fn query(&self, expression: &str, path: &str) -> Result<Value, Error> {
        let failed = |cause| Error::Variable { variable: expression.to_owned(), path: path.to_owned(), cause };
        let trimmed = expression.trim();
        if trimmed.is_empty() {
            return Err(failed(Cause::EmptyQuery));
        }
        let context = self.variable.get_or_init(|| jp::converted(self.context));
        jp::search_variable(trimmed, context).map_err(|error| failed(Cause::Query(error)))
    }
}

/// The variables of `text`: each with the character before it (empty at the start).
pub(crate) fn variables_in(text: &str) -> Vec<(String, String)> {
    VARIABLE
        .captures_iter(text)
        .map(|captures| {
            let prefix = captures.get(1).map_or("", |m| m.as_str()).to_owned();
            let variable = captures.get(2).map_or("", |m| m.as_str()).to_owned();
            (prefix, variable)
        })
        .collect()
}

/// The expression inside `{{ }}`, and whether it is shallow (`{{- expr }}`: its value is not
/// searched for further variables).
pub(crate) fn expression_of(variable: &str) -> (String, bool) {
    let inner = variable.replace("{{", "").replace("}}", "");
    let inner = inner.trim();
    match inner.strip_prefix('-') {
        Some(rest) => (rest.trim().to_owned(), true),
        None => (inner.to_owned(), false),
    }
}

/// The components of a traversal path (`/a/b\/c/0`), `\/` being a `/` inside a key.
fn pointer_components(path: &str) -> Vec<String> {
    let mut components = Vec::new();
    let mut current = String::new();
    let mut characters = path.chars().peekable();
    while let Some(c) = characters.next() {
        match c {
            '\\' if characters.peek() == Some(&'/') => {
                current.push('/');
                characters.next();
            }
            '/' => {
                if !current.is_empty() {
                    components.push(std::mem::take(&mut current));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        components.push(current);
    }
    components
}

/// Whether Kyverno writes a path component unquoted; like Kyverno it lets anchor parentheses
/// (`(name)`) through, which makes an expression JMESPath then refuses.
fn is_identifier(text: &str) -> bool {
    let mut characters = text.chars();
    characters.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '(')
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ')')
}

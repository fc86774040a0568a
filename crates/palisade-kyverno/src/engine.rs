//! Evaluating a policy's validate rules on one request, as Kyverno's engine does: per rule,
//! match/exclude, `context`, `preconditions`, then `deny`, `pattern`/`anyPattern` or `foreach`,
//! with Kyverno's statuses and messages.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::OnceLock;

use jmespath::Rcvar;
use serde_json::{Map, Value, json};

use crate::conditions;
use crate::exception::{self, Exception};
use crate::matching::{self, Target};
use crate::pattern::{self, Outcome};
use crate::policy::{FailureAction, Policy, Rule};
use crate::request::Request;
use crate::variables;

/// A rule's result, as Kyverno's `RuleStatus`, plus what we cannot evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Skip,
    Error,
    /// Mutate, generate and image-verification rules, and validations Palisade does not run
    /// (`manifests`, `cel` without a CEL engine): no verdict.
    NotEvaluated,
}

impl Status {
    /// The result as Kyverno's reports and test files spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
            Status::NotEvaluated => "not evaluated",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleResponse {
    /// As Kyverno reports it: `autogen-...` for rules derived for pod controllers.
    pub rule: String,
    pub status: Status,
    pub message: String,
    /// Where a pattern failed, as Kyverno reports it (`/spec/containers/0/image/`).
    pub path: Option<String>,
    pub failure_action: FailureAction,
}

/// Where `context` entries get ConfigMaps and API data from: the scanned objects, the cluster, or
/// a test's values.
pub trait ContextSource {
    /// The ConfigMap object `namespace/name`, if known.
    fn config_map(&self, namespace: &str, name: &str) -> Option<Value>;
    /// The answer to a GET on the API server's `url_path`.
    fn api_get(&self, url_path: &str) -> Result<Value, String>;
}

/// A source that knows nothing: every lookup fails (as `kyverno apply` without a cluster).
pub struct NoContext;

impl ContextSource for NoContext {
    fn config_map(&self, _namespace: &str, _name: &str) -> Option<Value> {
        None
    }

    fn api_get(&self, url_path: &str) -> Result<Value, String> {
        Err(format!("no API server to answer {url_path}"))
    }
}

/// Evaluates every rule of `policy` that applies to the request; rules that do not apply give no
/// response, as in Kyverno. `values` are variables a test supplies per rule name (`None` in scans).
pub fn validate(policy: &Policy, request: &Request, source: &dyn ContextSource, values: &dyn Fn(&str) -> Option<Map<String, Value>>, exceptions: &[Exception]) -> Vec<RuleResponse> {
    let mut responses = Vec::new();
    for rule in policy.rules_for(&request.kind) {
        let Some(response) = validate_rule(policy, rule, request, source, values, exceptions) else { continue };
        let applied = matches!(response.status, Status::Pass | Status::Fail);
        responses.push(response);
        if policy.apply_one && applied {
            break;
        }
    }
    responses
}

/// Evaluates one rule of `policy` (one of [`Policy::rules_for`] the request's kind); `None` when
/// it does not apply.
pub fn validate_rule(policy: &Policy, rule: &Rule, request: &Request, source: &dyn ContextSource, values: &dyn Fn(&str) -> Option<Map<String, Value>>, exceptions: &[Exception]) -> Option<RuleResponse> {
    validate_rule_in(policy, rule, request, &request.context(), source, values, exceptions)
}

/// A request with its JSON context, built once for every rule that judges it (the rules of one
/// scanned object, of one admission review).
pub struct Prepared {
    pub request: Request,
    context: OnceLock<Value>,
    /// `context` as JMESPath reads it.
    variable: OnceLock<Rcvar>,
}

impl Prepared {
    pub fn new(request: Request) -> Self {
        Prepared { request, context: OnceLock::new(), variable: OnceLock::new() }
    }

    pub fn context(&self) -> &Value {
        self.context.get_or_init(|| self.request.context())
    }

    fn variable(&self) -> &Rcvar {
        self.variable.get_or_init(|| crate::jmespath::to_variable(self.context()))
    }
}

/// [`validate_rule`] on a prepared request, without test values: the request's context is
/// shared by every rule, and a rule copies it only to add to it (`context` entries).
pub fn validate_prepared(policy: &Policy, rule: &Rule, prepared: &Prepared, source: &dyn ContextSource, exceptions: &[Exception]) -> Option<RuleResponse> {
    let context = prepared.context();
    crate::jmespath::with_converted(context, prepared.variable(), || validate_rule_in(policy, rule, &prepared.request, context, source, &|_| None, exceptions))
}

fn validate_rule_in(
    policy: &Policy,
    rule: &Rule,
    request: &Request,
    context: &Value,
    source: &dyn ContextSource,
    values: &dyn Fn(&str) -> Option<Map<String, Value>>,
    exceptions: &[Exception],
) -> Option<RuleResponse> {
    let resource = request.resource()?;
    if policy.namespace.as_deref().is_some_and(|namespace| namespace != request.namespace()) {
        return None;
    }
    let target = Target {
        object: resource,
        group: &request.group,
        version: &request.version,
        kind: &request.kind,
        subresource: "",
        operation: &request.operation,
        namespace_labels: request.namespace_labels.as_ref(),
        user: request.user.as_ref(),
    };
    matching::applies(&rule.matching, rule.exclude.as_ref(), &target).ok()?;
    let mut context = Cow::Borrowed(context);
    if let Some(values) = values(&rule.name) {
        for (key, value) in values {
            set_dotted(context.to_mut(), &key, value);
        }
    }
    let policy_key = match &policy.namespace {
        Some(namespace) => format!("{namespace}/{}", policy.name),
        None => policy.name.clone(),
    };
    let exempt = |context: &Value| exception::applying(exceptions, &policy_key, &rule.name, &target, context).iter().map(|exception| exception.key()).collect::<Vec<_>>();
    let excepted = exceptions.iter().any(|exception| exception.covers(&policy_key, &rule.name));
    match rule.memo.as_deref().filter(|_| !excepted) {
        Some(memo) => {
            let key = memo.key(&context, resource);
            memo.judge(key, || evaluate_rule(rule, &mut context, resource, source, &exempt))
        }
        None => evaluate_rule(rule, &mut context, resource, source, &exempt),
    }
}

fn evaluate_rule(rule: &Rule, context: &mut Cow<'_, Value>, resource: &Value, source: &dyn ContextSource, exempt: &dyn Fn(&Value) -> Vec<String>) -> Option<RuleResponse> {
    let respond = |status: Status, message: String, path: Option<String>| RuleResponse { rule: rule.name.clone(), status, message, path, failure_action: rule.failure_action };
    let Some(validate) = rule.json.get("validate") else {
        let kind = ["mutate", "generate", "verifyImages"].into_iter().find(|kind| rule.json.get(*kind).is_some()).unwrap_or("unknown");
        return Some(respond(Status::NotEvaluated, format!("{kind} rules are not evaluated"), None));
    };
    let evaluator = Evaluator { rule, validate, source, exempt, failure_path: RefCell::new(None) };
    let (status, message) = evaluator.run(rule.json.get("context"), rule.json.get("preconditions"), Body::of(validate), context, resource, 0)?;
    let path = if status == Status::Fail { evaluator.failure_path.into_inner() } else { None };
    Some(respond(status, message, path))
}

/// What a validation (or one `foreach` entry) checks.
enum Body<'a> {
    Deny(&'a Value),
    Pattern(&'a Value),
    AnyPattern(&'a Value),
    ForEach(&'a [Value]),
    Cel,
    PodSecurity,
    Unsupported(&'static str),
}

impl<'a> Body<'a> {
    fn of(validation: &'a Value) -> Body<'a> {
        if let Some(deny) = validation.get("deny") {
            Body::Deny(deny)
        } else if let Some(pattern) = validation.get("pattern") {
            Body::Pattern(pattern)
        } else if let Some(patterns) = validation.get("anyPattern") {
            Body::AnyPattern(patterns)
        } else if let Some(each) = validation.get("foreach").and_then(Value::as_array) {
            Body::ForEach(each)
        } else if validation.get("podSecurity").is_some() {
            Body::PodSecurity
        } else if validation.get("cel").is_some() {
            Body::Cel
        } else if validation.get("manifests").is_some() {
            Body::Unsupported("manifests")
        } else {
            Body::Unsupported("empty")
        }
    }
}

struct Evaluator<'a> {
    rule: &'a Rule,
    validate: &'a Value,
    source: &'a dyn ContextSource,
    /// The keys of the PolicyExceptions that skip this rule, given the loaded context.
    exempt: &'a dyn Fn(&Value) -> Vec<String>,
    /// The path of the first pattern failure, for locating the finding.
    failure_path: RefCell<Option<String>>,
}

type Verdict = (Status, String);

impl Evaluator<'_> {
    /// Context, preconditions, then the body; `None` when a `foreach` applied to no element.
    /// `resource` is what patterns check: the object, or the element of an element-scoped foreach.
    fn run(&self, entries: Option<&Value>, preconditions: Option<&Value>, body: Body<'_>, context: &mut Cow<'_, Value>, resource: &Value, nesting: usize) -> Option<Verdict> {
        let name = &self.rule.name;
        if let Some(entries) = entries.and_then(Value::as_array).filter(|entries| !entries.is_empty()) {
            if let Err(error) = load_context(entries, context.to_mut(), self.source) {
                return Some((Status::Error, format!("failed to load context: {error}")));
            }
        }
        let context: &Value = context;
        if let Some(preconditions) = preconditions {
            match conditions::evaluate(preconditions, context) {
                Err(error) => return Some((Status::Error, format!("failed to evaluate preconditions: {error}"))),
                Ok(evaluation) if !evaluation.passed => {
                    let message = ["preconditions not met", evaluation.message.as_deref().unwrap_or_default()].iter().filter(|part| !part.is_empty()).copied().collect::<Vec<_>>().join("; ");
                    return Some((Status::Skip, message));
                }
                Ok(_) => {}
            }
        }
        if nesting == 0 {
            let keys = (self.exempt)(context);
            if !keys.is_empty() {
                return Some((Status::Skip, format!("rule is skipped due to policy exceptions{}", keys.join(", "))));
            }
        }
        Some(match body {
            Body::Deny(deny) => self.deny(deny, context),
            Body::Pattern(pattern) => self.patterns(std::slice::from_ref(pattern), false, context, resource),
            Body::AnyPattern(patterns) => match patterns.as_array() {
                Some(patterns) => self.patterns(patterns, true, context, resource),
                None => (Status::Error, "failed to deserialize anyPattern, expected type array".to_owned()),
            },
            Body::ForEach(each) => return self.for_each(each, context, resource, nesting),
            Body::Cel => crate::cel::evaluate(self.rule.cel(), name, context),
            Body::PodSecurity => crate::pod_security::evaluate(name, self.validate, resource),
            Body::Unsupported(what) => (Status::NotEvaluated, format!("validate.{what} rules are not evaluated (rule {name})")),
        })
    }

    fn deny(&self, deny: &Value, context: &Value) -> Verdict {
        let name = &self.rule.name;
        let conditions = deny.get("conditions").unwrap_or(&Value::Null);
        match conditions::evaluate(conditions, context) {
            Err(error) => (Status::Error, format!("failed to check deny conditions: {error}")),
            Ok(evaluation) if evaluation.passed => {
                let message = self.message();
                let condition_message = evaluation.message.unwrap_or_default();
                if message.is_empty() && condition_message.is_empty() {
                    return (Status::Fail, format!("validation error: rule {name} failed"));
                }
                let joined = [message.as_str(), condition_message.as_str()].iter().filter(|part| !part.is_empty()).copied().collect::<Vec<_>>().join("; ");
                (Status::Fail, variables::substitute_str(&joined, context).unwrap_or(condition_message))
            }
            Ok(_) => (Status::Pass, format!("validation rule '{name}' passed.")),
        }
    }

    fn message(&self) -> String {
        self.validate.get("message").and_then(Value::as_str).unwrap_or_default().to_owned()
    }

    fn patterns(&self, patterns: &[Value], any: bool, context: &Value, resource: &Value) -> Verdict {
        let name = &self.rule.name;
        let subject = resource;
        let mut failures = Vec::new();
        let mut skips = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            let pattern = match variables::substitute_all(pattern, context) {
                Ok(pattern) => pattern,
                Err(error) => return (Status::Error, format!("variable substitution failed: {error}")),
            };
            match pattern::match_pattern(subject, &pattern) {
                Outcome::Pass if any => return (Status::Pass, format!("validation rule '{name}' anyPattern[{index}] passed.")),
                Outcome::Pass => return (Status::Pass, format!("validation rule '{name}' passed.")),
                Outcome::Skip(reason) if any => skips.push(format!("rule {name}[{index}] skipped: {reason}")),
                Outcome::Skip(reason) => return (Status::Skip, reason),
                Outcome::Fail(failure) if any => failures.push(match failure.path.as_str() {
                    "" => format!("rule {name}[{index}] failed: {}", failure.message),
                    path => format!("rule {name}[{index}] failed at path {path}"),
                }),
                Outcome::Fail(failure) => return self.pattern_failure(&failure.path, &failure.message, context),
            }
        }
        if !failures.is_empty() {
            let errors = failures.join(" ");
            let message = self.message();
            if message.is_empty() {
                return (Status::Fail, format!("validation error: {errors}"));
            }
            return match variables::substitute_str(&message, context) {
                Ok(message) if message.ends_with('.') => (Status::Fail, format!("validation error: {message} {errors}")),
                Ok(message) => (Status::Fail, format!("validation error: {message}. {errors}")),
                Err(_) => (Status::Fail, format!("validation error: variables substitution error in rule {name} execution error: {errors}")),
            };
        }
        if !skips.is_empty() {
            return (Status::Skip, skips.join(" "));
        }
        (Status::Pass, self.message())
    }

    /// Kyverno's `buildErrorMessage`.
    fn pattern_failure(&self, path: &str, error: &str, context: &Value) -> Verdict {
        let name = &self.rule.name;
        if !path.is_empty() {
            self.failure_path.borrow_mut().get_or_insert_with(|| path.to_owned());
        }
        let status = if path.is_empty() { Status::Error } else { Status::Fail };
        let message = self.message();
        if message.is_empty() {
            return match path {
                "" => (status, format!("validation error: rule {name} execution error: {error}")),
                path => (status, format!("validation error: rule {name} failed at path {path}")),
            };
        }
        match variables::substitute_str(&message, context) {
            Ok(mut message) => {
                if !message.ends_with('.') {
                    message.push('.');
                }
                match path {
                    "" => (status, format!("validation error: {message} rule {name} execution error: {error}")),
                    path => (status, format!("validation error: {message} rule {name} failed at path {path}")),
                }
            }
            Err(_) => (status, format!("validation error: variables substitution error in rule {name} execution error: {error}")),
        }
    }

    /// Kyverno's `validateForEach`: each entry's list, each element in its own context; the
    /// first element that does not pass decides; `None` when no element was checked.
    fn for_each(&self, entries: &[Value], context: &Value, resource: &Value, nesting: usize) -> Option<Verdict> {
        let name = &self.rule.name;
        let context_variable = crate::jmespath::converted(context);
        let mut applied = 0;
        let mut list_error = None;
        for entry in entries {
            let list = entry.get("list").and_then(Value::as_str).unwrap_or_default();
            let elements = match crate::jmespath::search(list, context) {
                Ok(Value::Array(items)) => items,
                Ok(Value::Object(map)) => map.into_iter().map(|(_, value)| value).collect(),
                Ok(Value::Null) => Vec::new(),
                Ok(other) => vec![other],
                Err(error) if error.to_string().contains("Unknown key") => continue,
                Err(error) => {
                    list_error = Some(error.to_string());
                    continue;
                }
            };
            let scoped = entry.get("elementScope").and_then(Value::as_bool);
            for (index, element) in elements.into_iter().enumerate() {
                if element.is_null() {
                    continue;
                }
                if scoped == Some(true) && !element.is_object() {
                    return Some((Status::Error, "failed to process foreach: cannot use elementScope=true foreach rules for elements that are not maps".to_owned()));
                }
                let additions = [
                    ("element".to_owned(), element.clone()),
                    (format!("element{nesting}"), element.clone()),
                    ("elementIndex".to_owned(), json!(index)),
                    (format!("elementIndex{nesting}"), json!(index)),
                ];
                let mut element_context = context.clone();
                if let Some(map) = element_context.as_object_mut() {
                    map.extend(additions.iter().cloned());
                }
                let element_variable = with_additions(&context_variable, &additions).unwrap_or_else(|| crate::jmespath::to_variable(&element_context));
                // Patterns in an element-scoped entry check the element, else the resource.
                let subject = if scoped.unwrap_or(element.is_object()) { &element } else { resource };
                let nested = entry.get("foreach").and_then(Value::as_array);
                let body = match nested {
                    Some(nested) => Body::ForEach(nested),
                    None => Body::of(entry),
                };
                // Queries on the element's context read its conversion, made from the rule's
                // rather than again; context entries work on a copy, which is converted anew.
                let verdict = crate::jmespath::with_converted(&element_context, &element_variable, || {
                    self.run(entry.get("context"), entry.get("preconditions"), body, &mut Cow::Borrowed(&element_context), subject, nesting + 1)
                });
                let Some((status, message)) = verdict else { continue };
                match status {
                    Status::Pass => applied += 1,
                    Status::Skip => {}
                    Status::Error if message.starts_with("failed to evaluate preconditions") => {}
                    _ => return Some((status, format!("validation failure: {message}"))),
                }
            }
        }
        if applied == 0 {
            return list_error.map(|error| (Status::Error, format!("failed to evaluate list: {error}")));
        }
        Some((Status::Pass, format!("rule {name} passed")))
    }
}

/// `context` with `additions` set on it, sharing everything else; `None` when it is not an
/// object.
fn with_additions(context: &Rcvar, additions: &[(String, Value)]) -> Option<Rcvar> {
    let jmespath::Variable::Object(map) = &**context else { return None };
    let mut map = map.clone();
    map.extend(additions.iter().map(|(key, value)| (key.clone(), crate::jmespath::to_variable(value))));
    Some(Rcvar::new(jmespath::Variable::Object(map)))
}

/// Loads `context` entries in order: `variable`, `configMap`, `apiCall`; entries a test's values
/// already supply are kept as given.
fn load_context(entries: &[Value], context: &mut Value, source: &dyn ContextSource) -> Result<(), String> {
    for entry in entries {
        let name = entry.get("name").and_then(Value::as_str).ok_or("a context entry needs a name")?;
        if context.get(name).is_some() {
            continue;
        }
        let value = if let Some(variable) = entry.get("variable") {
            load_variable(name, variable, context)?
        } else if let Some(config_map) = entry.get("configMap") {
            let reference = variables::substitute_all(config_map, context).map_err(|error| error.to_string())?;
            let text = |key: &str| reference.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            let namespace = match text("namespace") {
                namespace if namespace.is_empty() => "default".to_owned(),
                namespace => namespace,
            };
            source.config_map(&namespace, &text("name")).ok_or_else(|| format!("failed to retrieve config map for context entry {name}: configmap {namespace}/{} not found", text("name")))?
        } else if let Some(call) = entry.get("apiCall") {
            let call = variables::substitute_all(call, context).map_err(|error| error.to_string())?;
            let path = call.get("urlPath").and_then(Value::as_str).ok_or_else(|| format!("context entry {name}: only apiCall.urlPath GETs are supported"))?;
            let data = source.api_get(path)?;
            match call.get("jmesPath").and_then(Value::as_str).filter(|path| !path.is_empty()) {
                Some(path) => crate::jmespath::search(path, &data).map_err(|error| format!("failed to apply JMESPath {path} for context entry {name}: {error}"))?,
                None => data,
            }
        } else {
            let kind = entry.as_object().and_then(|entry| entry.keys().find(|key| *key != "name").cloned()).unwrap_or_default();
            return Err(format!("context entry {name}: `{kind}` entries are not supported"));
        };
        set_dotted(context, name, value);
    }
    Ok(())
}

fn load_variable(name: &str, variable: &Value, context: &Value) -> Result<Value, String> {
    let path = match variable.get("jmesPath") {
        Some(path) => Some(variables::substitute_all(path, context).map_err(|error| format!("failed to substitute variables in context entry {name}: {error}"))?),
        None => None,
    };
    let path = path.as_ref().and_then(Value::as_str).filter(|path| !path.is_empty());
    let default = match variable.get("default") {
        Some(default) => Some(variables::substitute_all(default, context).map_err(|error| format!("failed to substitute variables in context entry {name}: {error}"))?),
        None => None,
    };
    let output = match (variable.get("value"), path) {
        (Some(value), path) => {
            let value = variables::substitute_all(value, context).map_err(|error| format!("failed to substitute variables in context entry {name}: {error}"))?;
            match path {
                None => Some(value),
                Some(path) => match crate::jmespath::search(path, &value) {
                    Ok(found) => Some(found),
                    Err(_) if default.is_some() => default,
                    Err(error) => return Err(format!("failed to apply jmespath {path} to variable: {error}")),
                },
            }
        }
        (None, Some(path)) => match crate::jmespath::search(path, context) {
            Ok(Value::Null) => default,
            Ok(found) => Some(found),
            Err(_) if default.is_some() => default,
            Err(error) => return Err(format!("failed to apply jmespath {path} to variable: {error}")),
        },
        (None, None) => default,
    };
    output.filter(|value| !value.is_null()).ok_or_else(|| format!("failed to add context entry for variable {name} since it evaluated to nil"))
}

/// Sets `a.b.c` in the context, creating the objects on the way, as Kyverno's `AddVariable`.
pub(crate) fn set_dotted(context: &mut Value, dotted: &str, value: Value) {
    let mut at = context;
    let mut keys = dotted.split('.').peekable();
    while let Some(key) = keys.next() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Some(map) = at.as_object_mut() else { return };
        if keys.peek().is_none() {
            map.insert(key.to_owned(), value);
            return;
        }
        at = map.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
    }
}

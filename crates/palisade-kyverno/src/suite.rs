//! `kyverno-test.yaml` files (`cli.kyverno.io/v1alpha1` `Test`), run as `kyverno test` runs
//! them: every resource is judged by every policy as a CREATE (or the operation the values give),
//! with the test's values, namespace labels and user; then each expected result
//! (`policy`, `rule`, `resources`, `result`) is compared with the rule responses, the rule name
//! also matching its `autogen-` and `autogen-cronjob-` forms. As in Kyverno, a resource a policy
//! does not apply to passes whatever the expected result.
//!
//! Cases Palisade cannot judge are reported as not evaluated, never as passed: mutate and
//! generate results (`patchedResources`, `generatedResource`), Kyverno's CEL policy kinds and
//! rules whose validation is not evaluated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_core::Labels;
use palisade_core::suite::{CaseReport, Outcome, SuiteReport, TestReport};
use serde_json::{Map, Value};

use crate::engine::{self, ContextSource, RuleResponse, Status};
use crate::exception::{self, Exception};
use crate::matching::RequestUser;
use crate::policy::{self, Policy};
use crate::request::Request;

pub const FILE_NAME: &str = "kyverno-test.yaml";

/// The `kyverno-test.yaml` files under `path` (a file, or a directory walked recursively in name
/// order, hidden `.kyverno-test` directories included; `.git` and symlinked directories are not
/// followed).
pub fn find(path: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(path, &mut found);
    found
}

fn walk(path: &Path, found: &mut Vec<PathBuf>) {
    if path.is_file() {
        if path.file_name().is_some_and(|name| name == FILE_NAME) {
            found.push(path.to_owned());
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    entries.sort();
    for entry in entries {
        let is_link = entry.symlink_metadata().is_ok_and(|meta| meta.file_type().is_symlink());
        if entry.file_name().is_some_and(|name| name == ".git") || (is_link && entry.is_dir()) {
            continue;
        }
        walk(&entry, found);
    }
}

/// Runs one test file; an error is for a file that cannot be read at all.
pub fn run(path: &Path) -> Result<SuiteReport, String> {
    let test = read_documents(path)?.into_iter().next().ok_or_else(|| format!("{}: empty test file", path.display()))?;
    let directory = path.parent().unwrap_or(Path::new("."));
    let name = test.get("name").or_else(|| test.pointer("/metadata/name")).and_then(Value::as_str).unwrap_or_default().to_owned();
    let report = match Fixture::load(directory, &test) {
        Ok(fixture) => fixture.judge(&test),
        Err(error) => TestReport { name: name.clone(), error: Some(error), skipped: false, cases: Vec::new() },
    };
    Ok(SuiteReport { path: path.to_owned(), name, skipped: false, tests: vec![report] })
}

/// Every YAML or JSON document of a file, as JSON.
fn read_documents(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let loaded = palisade_load::load_str(&text, &path.display().to_string());
    if let Some(error) = loaded.errors.first() {
        return Err(error.to_string());
    }
    Ok(loaded.objects.iter().map(|object| object.root.to_json()).collect())
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(one)) if !one.is_empty() => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// What a test brings: policies, resources, values, user and exceptions.
struct Fixture {
    policies: Vec<Policy>,
    /// Policy kinds Palisade does not evaluate, by name (ValidatingPolicy, ...).
    unsupported: BTreeMap<String, String>,
    resources: Vec<Value>,
    values: Values,
    user: Option<RequestUser>,
    exceptions: Vec<Exception>,
}

impl Fixture {
    fn load(directory: &Path, test: &Value) -> Result<Fixture, String> {
        let mut policies = Vec::new();
        let mut unsupported = BTreeMap::new();
        for file in strings(test.get("policies")) {
            for document in read_relative(directory, &file)? {
                let api_version = document.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
                let kind = document.get("kind").and_then(Value::as_str).unwrap_or_default();
                if policy::is_policy(api_version, kind) {
                    policies.push(Policy::parse(&document).map_err(|error| format!("{file}: {error}"))?);
                } else if let Some(name) = document.pointer("/metadata/name").and_then(Value::as_str) {
                    unsupported.insert(name.to_owned(), format!("{kind} ({api_version}) policies are not evaluated"));
                }
            }
        }
        let mut resources = Vec::new();
        for file in strings(test.get("resources")) {
            resources.extend(read_relative(directory, &file)?);
        }
        let values = match test.get("variables").and_then(Value::as_str).filter(|file| !file.is_empty()) {
            Some(file) => Values::parse(read_relative(directory, file)?.first().unwrap_or(&Value::Null)),
            None => Values::default(),
        };
        let user = match test.get("userinfo").and_then(Value::as_str).filter(|file| !file.is_empty()) {
            Some(file) => read_relative(directory, file)?.first().map(RequestUser::from_json),
            None => None,
        };
        let mut exceptions = Vec::new();
        for file in strings(test.get("exceptions")) {
            for document in read_relative(directory, &file)? {
                let text = |key: &str| document.get(key).and_then(Value::as_str).unwrap_or_default();
                if !exception::is_exception(text("apiVersion"), text("kind")) {
                    return Err(format!("{file}: expected a Kyverno PolicyException, found {} {}", text("apiVersion"), text("kind")));
                }
                exceptions.push(Exception::parse(&document).map_err(|error| format!("{file}: {error}"))?);
            }
        }
        Ok(Fixture { policies, unsupported, resources, values, user, exceptions })
    }

    fn judge(&self, test: &Value) -> TestReport {
        let name = test.get("name").or_else(|| test.pointer("/metadata/name")).and_then(Value::as_str).unwrap_or_default().to_owned();
        let responses = self.responses();
        let mut cases = Vec::new();
        for expected in test.get("results").and_then(Value::as_array).into_iter().flatten() {
            cases.extend(self.check(expected, &responses));
        }
        TestReport { name, error: None, skipped: false, cases }
    }

    /// Rule responses per resource key (`apiVersion,kind,namespace,name`) and policy name.
    fn responses(&self) -> BTreeMap<String, Vec<(String, Vec<RuleResponse>)>> {
        let mut all: BTreeMap<String, Vec<(String, Vec<RuleResponse>)>> = BTreeMap::new();
        for resource in &self.resources {
            let name = resource.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
            for policy in &self.policies {
                let request = self.request(resource, &policy.name, &name);
                let key = resource_key(request.resource().unwrap_or(resource));
                let rule_values = |rule: &str| self.values.rule(&policy.name, rule);
                let responses = engine::validate(policy, &request, &self.values, &rule_values, &self.exceptions);
                all.entry(key).or_default().push((policy.name.clone(), responses));
            }
        }
        all
    }

    fn request(&self, resource: &Value, policy: &str, resource_name: &str) -> Request {
        let namespace = resource.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
        // Without values for its namespace, a resource's namespace has no labels, as in the CLI.
        let labels = self.values.namespace_labels.get(namespace).cloned().unwrap_or_default();
        let mut request = Request::create(resource.clone(), Some(labels));
        request.user = self.user.clone();
        let variables = self.values.resource(policy, resource_name);
        match variables.get("request.operation").and_then(Value::as_str) {
            Some("UPDATE") => {
                request.operation = "UPDATE".to_owned();
                request.old_object = request.object.clone();
            }
            Some("DELETE") => {
                request.operation = "DELETE".to_owned();
                request.old_object = request.object.take();
            }
            _ => {}
        }
        request.variables = variables.into_iter().filter(|(key, _)| key != "request.operation").collect();
        request
    }

    fn check(&self, expected: &Value, responses: &BTreeMap<String, Vec<(String, Vec<RuleResponse>)>>) -> Vec<CaseReport> {
        let text = |key: &str| expected.get(key).and_then(Value::as_str).unwrap_or_default();
        let policy_name = text("policy").rsplit('/').next().unwrap_or_default();
        let rule = text("rule");
        let want = text("result").trim();
        let case_name = |resource: &str| format!("{policy_name}/{rule} {resource}: {want}");
        let wanted = strings(expected.get("resources"));
        let keys: Vec<&String> = {
            let named: Vec<&String> = responses.keys().filter(|key| wanted.iter().any(|resource| key_names(key, resource))).collect();
            if named.is_empty() { responses.keys().collect() } else { named }
        };
        if let Some(reason) = self.unsupported.get(policy_name) {
            return keys.iter().map(|key| CaseReport { name: case_name(&display_key(key)), outcome: Outcome::NotEvaluated(reason.clone()) }).collect();
        }
        if ["patchedResources", "patchedResource", "generatedResource", "generatedResources", "cloneSourceResource"].iter().any(|key| expected.get(*key).is_some()) {
            return keys.iter().map(|key| CaseReport { name: case_name(&display_key(key)), outcome: Outcome::NotEvaluated("mutate and generate results are not evaluated".to_owned()) }).collect();
        }
        let mut cases = Vec::new();
        for key in keys {
            let rules: Vec<&RuleResponse> = responses[key]
                .iter()
                .filter(|(policy, _)| policy == policy_name)
                .flat_map(|(_, rules)| rules)
                .filter(|response| rule.is_empty() || response.rule == rule || response.rule == format!("autogen-{rule}") || response.rule == format!("autogen-cronjob-{rule}"))
                .collect();
            if rules.is_empty() {
                // Kyverno: no rule response means the resource was excluded, which passes.
                cases.push(CaseReport { name: case_name(&display_key(key)), outcome: Outcome::Pass });
            }
            for response in rules {
                let outcome = match response.status {
                    Status::NotEvaluated => Outcome::NotEvaluated(response.message.clone()),
                    status if status.as_str() == want => Outcome::Pass,
                    status => Outcome::Fail(format!("want {want}, got {}: {}", status.as_str(), response.message)),
                };
                cases.push(CaseReport { name: format!("{policy_name}/{} {}: {want}", response.rule, display_key(key)), outcome });
            }
        }
        cases
    }
}

fn read_relative(directory: &Path, file: &str) -> Result<Vec<Value>, String> {
    if file.starts_with("http://") || file.starts_with("https://") {
        return Err(format!("{file}: remote files are not fetched"));
    }
    read_documents(&directory.join(file))
}

fn resource_key(resource: &Value) -> String {
    let text = |pointer: &str| resource.pointer(pointer).and_then(Value::as_str).unwrap_or_default();
    format!("{},{},{},{}", text("/apiVersion"), text("/kind"), text("/metadata/namespace"), text("/metadata/name"))
}

/// Whether a `resources` entry (`name` or `namespace/name`) names the resource of `key`.
fn key_names(key: &str, resource: &str) -> bool {
    let parts: Vec<&str> = key.split(',').collect();
    let (namespace, name) = (parts[parts.len() - 2], parts[parts.len() - 1]);
    match resource.split_once('/') {
        Some((wanted_namespace, wanted_name)) => wanted_namespace == namespace && wanted_name == name,
        None => resource == name,
    }
}

fn display_key(key: &str) -> String {
    key.replace(',', "/")
}

/// A test's values file: global values, per-policy resource and rule values, namespace labels.
#[derive(Default)]
struct Values {
    global: Map<String, Value>,
    policies: Vec<Value>,
    namespace_labels: BTreeMap<String, Labels>,
}

impl Values {
    fn parse(json: &Value) -> Values {
        let global = json.get("globalValues").and_then(Value::as_object).cloned().unwrap_or_default();
        let policies = json.get("policies").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut namespace_labels = BTreeMap::new();
        for selector in json.get("namespaceSelector").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = selector.get("name").and_then(Value::as_str) {
                namespace_labels.insert(name.to_owned(), labels(selector.get("labels")));
            }
        }
        for namespace in json.get("namespaces").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = namespace.pointer("/metadata/name").and_then(Value::as_str) {
                namespace_labels.insert(name.to_owned(), labels(namespace.pointer("/metadata/labels")));
            }
        }
        Values { global, policies, namespace_labels }
    }

    fn policy(&self, name: &str) -> Option<&Value> {
        self.policies.iter().find(|policy| policy.get("name").and_then(Value::as_str) == Some(name))
    }

    /// Global values, then the policy's values for this resource.
    fn resource(&self, policy: &str, resource: &str) -> Map<String, Value> {
        let mut values = self.global.clone();
        let specific = self.policy(policy).and_then(|policy| policy.get("resources")).and_then(Value::as_array).and_then(|resources| resources.iter().find(|entry| entry.get("name").and_then(Value::as_str) == Some(resource)));
        if let Some(map) = specific.and_then(|entry| entry.get("values")).and_then(Value::as_object) {
            values.extend(map.clone());
        }
        values
    }

    fn rule(&self, policy: &str, rule: &str) -> Option<Map<String, Value>> {
        let rules = self.policy(policy)?.get("rules")?.as_array()?;
        let rule = rules.iter().find(|entry| entry.get("name").and_then(Value::as_str).is_some_and(|name| name == rule || rule.strip_prefix("autogen-").is_some_and(|base| base == name) || rule.strip_prefix("autogen-cronjob-").is_some_and(|base| base == name)))?;
        rule.get("values").and_then(Value::as_object).cloned()
    }
}

fn labels(json: Option<&Value>) -> Labels {
    json.and_then(Value::as_object).map(|map| map.iter().map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned())).collect()).unwrap_or_default()
}

/// A test has no cluster: context ConfigMaps and API calls come only from its values.
impl ContextSource for Values {
    fn config_map(&self, _namespace: &str, _name: &str) -> Option<Value> {
        None
    }

    fn api_get(&self, url_path: &str) -> Result<Value, String> {
        Err(format!("no cluster to answer {url_path}; give the entry's value in the test's values file"))
    }
}

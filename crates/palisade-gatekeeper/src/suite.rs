//! gator's test suites (`kind: Suite`, `test.gatekeeper.sh/v1alpha1`), run as `gator verify`
//! runs them (`pkg/gator/verify`, re-implemented): each test loads a template and a constraint,
//! each case reviews one object (a manifest, or an AdmissionReview's request) with its
//! inventory, and each assertion counts the violations whose message matches its regular
//! expression: `violations` is a count, `yes` (at least one, the default) or `no`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::{Labels, Node, Object, api_group};

use crate::constraint::Constraint;
use crate::expansion::{self, ExpansionTemplate};
use crate::matching::Target;
use crate::review;
use crate::template::Template;

pub use palisade_core::suite::{CaseReport, Outcome, SuiteReport, TestReport};

pub const API_VERSION: &str = "test.gatekeeper.sh/v1alpha1";

/// The suite files under `path` (a file or a directory, walked recursively in name order):
/// YAML files whose first object is a `Suite` of gator's API.
pub fn find(path: &Path) -> Vec<PathBuf> {
    let mut files = palisade_load::manifest_files(path);
    files.retain(|file| {
        std::fs::read_to_string(file).is_ok_and(|text| {
            palisade_load::load_str(&text, &file.display().to_string()).objects.first().is_some_and(|object| object.kind() == "Suite" && object.api_version() == API_VERSION)
        })
    });
    files
}

/// Runs one suite file. Errors are for a suite that cannot be read at all.
pub fn run(path: &Path) -> Result<SuiteReport, String> {
    let suite = read_objects(path)?.into_iter().next().ok_or_else(|| format!("{}: no Suite in the file", path.display()))?;
    let directory = path.parent().unwrap_or(Path::new("."));
    let skipped = suite.root.get("skip").and_then(Node::as_bool).unwrap_or(false);
    let mut tests = Vec::new();
    for test in suite.root.get("tests").map(Node::as_seq).unwrap_or_default() {
        tests.push(run_test(directory, test, skipped));
    }
    Ok(SuiteReport { path: path.to_owned(), name: suite.name().to_owned(), skipped, tests })
}

fn text<'a>(node: &'a Node, key: &str) -> &'a str {
    node.get(key).and_then(Node::as_str).unwrap_or("")
}

fn run_test(directory: &Path, test: &Node, suite_skipped: bool) -> TestReport {
    let name = text(test, "name").to_owned();
    let skipped = suite_skipped || test.get("skip").and_then(Node::as_bool).unwrap_or(false);
    let cases = test.get("cases").map(Node::as_seq).unwrap_or_default();
    if skipped {
        let cases = cases.iter().map(|case| CaseReport { name: text(case, "name").to_owned(), outcome: Outcome::Skip }).collect();
        return TestReport { name, error: None, skipped, cases };
    }
    let constraint = load_constraint(directory, text(test, "template"), text(test, "constraint"));
    let invalid = test.get("invalid").and_then(Node::as_bool).unwrap_or(false);
    let constraint = match (constraint, invalid) {
        (Ok(_), true) => return TestReport { name, error: Some("the constraint loaded, but the test says it is invalid".into()), skipped, cases: Vec::new() },
        (Err(_), true) => return TestReport { name, error: None, skipped, cases: Vec::new() },
        (Err(error), false) => return TestReport { name, error: Some(error), skipped, cases: Vec::new() },
        (Ok(constraint), false) => constraint,
    };
    // A `scoped` constraint without an action for gator does nothing in gator's suites.
    if constraint.action_at(crate::constraint::enforcement_point::GATOR).is_none() {
        let cases = cases.iter().map(|case| CaseReport { name: text(case, "name").to_owned(), outcome: run_without_violations(case) }).collect();
        return TestReport { name, error: None, skipped, cases };
    }
    let expansions = match load_expansions(directory, text(test, "expansion")) {
        Ok(expansions) => expansions,
        Err(error) => return TestReport { name, error: Some(error), skipped, cases: Vec::new() },
    };
    let cases = cases
        .iter()
        .map(|case| {
            let outcome = if case.get("skip").and_then(Node::as_bool).unwrap_or(false) { Outcome::Skip } else { run_case(directory, &constraint, &expansions, case) };
            CaseReport { name: text(case, "name").to_owned(), outcome }
        })
        .collect();
    TestReport { name, error: None, skipped, cases }
}

fn load_constraint(directory: &Path, template: &str, constraint: &str) -> Result<Constraint, String> {
    if template.is_empty() {
        return Err("the test names no template".into());
    }
    if constraint.is_empty() {
        return Err("the test names no constraint".into());
    }
    let template_path = directory.join(template);
    let template_object = single_object(&template_path)?;
    let template = Arc::new(Template::parse(&template_object).map_err(|error| format!("{}: {error}", template_path.display()))?);
    let constraint_path = directory.join(constraint);
    let constraint_object = single_object(&constraint_path)?;
    if constraint_object.kind() != template.kind {
        return Err(format!("{}: the constraint is a {}, but the template defines {}", constraint_path.display(), constraint_object.kind(), template.kind));
    }
    Constraint::parse(&constraint_object, template).map_err(|error| format!("{}: {error}", constraint_path.display()))
}

/// The ExpansionTemplates of the test's `expansion` file (none when it names none).
fn load_expansions(directory: &Path, expansion: &str) -> Result<Vec<ExpansionTemplate>, String> {
    if expansion.is_empty() {
        return Ok(Vec::new());
    }
    let path = directory.join(expansion);
    read_objects(&path)?
        .iter()
        .map(|object| {
            if !expansion::is_expansion_template(object) {
                return Err(format!("{}: expected an ExpansionTemplate, found {} {}", path.display(), object.api_version(), object.kind()));
            }
            ExpansionTemplate::parse(object).map_err(|error| format!("{}: {error}", path.display()))
        })
        .collect()
}

fn read_objects(path: &Path) -> Result<Vec<Object>, String> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| format!("{display}: cannot read: {error}"))?;
    let loaded = palisade_load::load_str(&text, &display);
    if let Some(error) = loaded.errors.into_iter().next() {
        return Err(error.to_string());
    }
    Ok(loaded.objects)
}

fn single_object(path: &Path) -> Result<Object, String> {
    let mut objects = read_objects(path)?;
    if objects.len() != 1 {
        return Err(format!("{}: defines {} objects, where one is expected", path.display(), objects.len()));
    }
    Ok(objects.remove(0))
}

/// A case judged as if the constraint found nothing.
fn run_without_violations(case: &Node) -> Outcome {
    if case.get("skip").and_then(Node::as_bool).unwrap_or(false) {
        return Outcome::Skip;
    }
    check_assertions(case, &[]).map_or(Outcome::Pass, Outcome::Fail)
}

fn run_case(directory: &Path, constraint: &Constraint, expansions: &[ExpansionTemplate], case: &Node) -> Outcome {
    match review_case(directory, constraint, expansions, case) {
        Ok(messages) => check_assertions(case, &messages).map_or(Outcome::Pass, Outcome::Fail),
        Err(error) => Outcome::Fail(error),
    }
}

/// The messages of the constraint's violations on the case's object, and on the resources the
/// test's ExpansionTemplates generate from it.
fn review_case(directory: &Path, constraint: &Constraint, expansions: &[ExpansionTemplate], case: &Node) -> Result<Vec<String>, String> {
    let object_path = directory.join(text(case, "object"));
    if text(case, "object").is_empty() {
        return Err("the case names no object".into());
    }
    let object = single_object(&object_path)?.root.to_json();
    let mut inventory_objects = Vec::new();
    for file in case.get("inventory").map(Node::as_seq).unwrap_or_default() {
        let path = directory.join(file.as_str().unwrap_or(""));
        inventory_objects.extend(read_objects(&path)?.into_iter().map(|object| object.root.to_json()));
    }
    let (request, subject) = if is_admission_review(&object) { review::of_admission_review(&object)? } else { (review::of_object(&object), object.clone()) };
    let evaluator = if !inventory_objects.is_empty() || constraint.template.uses_inventory() {
        Some(constraint.template.evaluator(Some(&review::inventory(&inventory_objects))).map_err(|error| format!("not evaluated: {error}"))?)
    } else {
        None
    };
    let mut messages = judge_subject(constraint, &request, &subject, evaluator.as_ref())?;
    for resultant in expansion::expand(expansions, &subject).map_err(|error| format!("expanding resource {}: {error}", subject.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or("")))? {
        let generated = judge_subject(constraint, &review::of_object(&resultant.object), &resultant.object, evaluator.as_ref())?;
        messages.extend(generated.iter().map(|message| resultant.message(message)));
    }
    Ok(messages)
}

/// The messages of the constraint's violations on one reviewed object.
fn judge_subject(constraint: &Constraint, request: &serde_json::Value, subject: &serde_json::Value, evaluator: Option<&crate::Evaluator>) -> Result<Vec<String>, String> {
    let labels: Labels = subject
        .pointer("/metadata/labels")
        .and_then(serde_json::Value::as_object)
        .map(|labels| labels.iter().map(|(key, value)| (key.clone(), value.as_str().unwrap_or("").to_owned())).collect())
        .unwrap_or_default();
    let field = |pointer: &str| subject.pointer(pointer).and_then(serde_json::Value::as_str).unwrap_or("");
    let target = Target {
        group: api_group(field("/apiVersion")),
        kind: field("/kind"),
        name: field("/metadata/name"),
        generate_name: field("/metadata/generateName"),
        namespace: Some(field("/metadata/namespace")).filter(|namespace| !namespace.is_empty()),
        labels: &labels,
    };
    // gator reviews without the Namespace object, so a namespace selector on an object in a
    // namespace cannot be decided: Gatekeeper's matcher refuses it.
    if constraint.matcher.matches_namespace_of(&target) == Some(false) {
        return Ok(Vec::new());
    }
    if constraint.matcher.matches_namespace_of(&target).is_none() && constraint.matcher.matches(&target) {
        return Err("namespace selector for a namespaced object, but the Namespace is not available to gator".into());
    }
    let violations = constraint.judge(&review::Review::new(request), &target, evaluator).map_err(|error| format!("not evaluated: {error}"))?;
    Ok(violations.into_iter().map(|violation| violation.message).collect())
}

fn is_admission_review(object: &serde_json::Value) -> bool {
    object.get("kind").and_then(serde_json::Value::as_str) == Some("AdmissionReview")
        && object.get("apiVersion").and_then(serde_json::Value::as_str).is_some_and(|version| api_group(version) == "admission.k8s.io")
}

/// `None` when every assertion holds, else what failed.
fn check_assertions(case: &Node, messages: &[String]) -> Option<String> {
    let assertions = case.get("assertions").map(Node::as_seq).unwrap_or_default();
    if assertions.is_empty() {
        return Some("the case has no assertions".into());
    }
    for assertion in assertions {
        let pattern = assertion.get("message").and_then(Node::as_str);
        let matching = match pattern {
            None => messages.len(),
            Some(pattern) => match regex::Regex::new(pattern) {
                Ok(regex) => messages.iter().filter(|message| regex.is_match(message)).count(),
                Err(error) => return Some(format!("assertion message `{pattern}` is not a regular expression: {error}")),
            },
        };
        let containing = pattern.map(|pattern| format!(" containing {pattern:?}")).unwrap_or_default();
        let wanted = assertion.get("violations");
        let failure = match wanted.map(|node| &node.value) {
            None => (matching == 0).then(|| "at least 1".to_owned()),
            // A YAML 1.1 reader takes a bare yes/no for a boolean.
            Some(palisade_core::Value::Str(word)) if &**word == "yes" => (matching == 0).then(|| "at least 1".to_owned()),
            Some(palisade_core::Value::Bool(true)) => (matching == 0).then(|| "at least 1".to_owned()),
            Some(palisade_core::Value::Str(word)) if &**word == "no" => (matching > 0).then(|| "none".to_owned()),
            Some(palisade_core::Value::Bool(false)) => (matching > 0).then(|| "none".to_owned()),
            Some(palisade_core::Value::Int(count)) if *count >= 0 => (matching as i64 != *count).then(|| format!("exactly {count}")),
            Some(_) => return Some("assertion `violations` must be a non-negative integer, `yes` or `no`".into()),
        };
        if let Some(wanted) = failure {
            return Some(format!("got {matching} violations{containing} but want {wanted}; messages: {messages:?}"));
        }
    }
    None
}

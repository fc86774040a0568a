//! Verdicts remembered per constraint. Without an inventory, a template's `violation` is a
//! function of the parts of `input` its Rego reads, and a constraint's parameters never change:
//! reviews that agree on every part of the review the Rego reads get the same violations. Pods
//! of one ReplicaSet differ only in fields most templates never read (names, node, status), so a
//! fleet's pods are judged once per distinct spec instead of once each.
//!
//! The parts read are found in the Rego's syntax tree (template and libs): every reference
//! rooted at `input` gives the path of its leading names (`input.review.object.spec.containers[_]`
//! reads `review.object.spec.containers`), and `object.get(input, KEY, default)` with a constant
//! key reads that key. Any other use of `input` as a whole, a `with` modifier, or a built-in
//! whose result is not a function of its arguments (time, randomness, HTTP, external data)
//! means no memo: every review is evaluated. So does reading the whole review or the whole
//! object (`is_update(input.review)`, `obj := input.review.object`), which sets every review
//! apart.

use std::collections::BTreeMap;
use std::sync::Mutex;

use regorus::unstable::{Expr, Module, Ref};

use crate::join::{Event, walk_rule};
use crate::template::{NotEvaluated, Violation};

/// Built-ins whose results depend on more than their arguments.
const IMPURE: [&str; 8] = ["http.send", "time.now_ns", "rand.intn", "uuid.rfc4122", "opa.runtime", "net.lookup_ip_addr", "external_data", "trace"];

/// Distinct reviews remembered per constraint before the memo starts over, bounding memory.
const CAPACITY: usize = 4096;

/// The paths under `input.review` that the Rego of `modules` reads, or `None` when its verdicts
/// may depend on more (see the module's documentation).
pub(crate) fn review_reads(modules: &[Ref<Module>]) -> Option<Vec<Vec<String>>> {
    let mut reads: Vec<Vec<String>> = Vec::new();
    // The `input` arguments of `object.get` calls with constant keys, which read only that key.
    let mut keyed_inputs: Vec<*const Expr> = Vec::new();
    for module in modules {
        for rule in &module.policy {
            walk_rule(rule, &mut |event| match event {
                Event::With => false,
                Event::DataRef(..) => true,
                Event::InputRef(path) => {
                    reads.push(path);
                    true
                }
                Event::Expr(expr) => match expr {
                    // `input` as a whole: only as an `object.get` with a constant key.
                    Expr::Var { span, .. } if span.text() == "input" => keyed_inputs.contains(&std::ptr::from_ref(expr)),
                    Expr::Call { fcn, params, .. } => {
                        let name = fcn.span().text();
                        if IMPURE.contains(&name) {
                            return false;
                        }
                        if let (true, [object, key, _]) = (name == "object.get", params.as_slice())
                            && matches!(object.as_ref(), Expr::Var { span, .. } if span.text() == "input")
                            && let Some(path) = constant_path(key)
                        {
                            keyed_inputs.push(std::ptr::from_ref(object.as_ref()));
                            reads.push(path);
                        }
                        true
                    }
                    _ => true,
                },
            })?;
        }
    }
    // Only the review changes from one evaluation to the next; a path inside another read path
    // adds nothing.
    let mut review: Vec<Vec<String>> = reads.into_iter().filter_map(|path| (path.first().map(String::as_str) == Some("review")).then(|| path[1..].to_vec())).collect();
    review.sort();
    review.dedup();
    let covered = |path: &Vec<String>, all: &[Vec<String>]| all.iter().any(|other| other.len() < path.len() && path.starts_with(other));
    let outermost: Vec<Vec<String>> = review.iter().filter(|path| !covered(path, &review)).cloned().collect();
    // The whole review, or the whole object, tells one review from the next: nothing to share.
    let whole = |path: &Vec<String>| path.is_empty() || *path == ["object"];
    (!outermost.iter().any(whole)).then_some(outermost)
}

/// A constant `object.get` key: a string, or an array of strings (a path).
fn constant_path(expr: &Expr) -> Option<Vec<String>> {
    let text = |expr: &Expr| match expr {
        Expr::String { value, .. } | Expr::RawString { value, .. } => value.as_string().ok().map(|text| text.to_string()),
        _ => None,
    };
    match expr {
        Expr::Array { items, .. } => items.iter().map(|item| text(item)).collect(),
        other => text(other).map(|key| vec![key]),
    }
}

/// A constraint's remembered verdicts, by the parts of the review its template reads.
pub(crate) struct Memo {
    reads: Vec<Vec<String>>,
    verdicts: Mutex<BTreeMap<regorus::Value, Vec<Violation>>>,
}

impl Memo {
    pub(crate) fn new(reads: Vec<Vec<String>>) -> Memo {
        Memo { reads, verdicts: Mutex::new(BTreeMap::new()) }
    }

    /// The violations of `review` (the `input.review` value): remembered, or from `evaluate`.
    pub(crate) fn judge(&self, review: &regorus::Value, evaluate: impl FnOnce() -> Result<Vec<Violation>, NotEvaluated>) -> Result<Vec<Violation>, NotEvaluated> {
        let key = regorus::Value::from(self.reads.iter().map(|path| read(review, path)).collect::<Vec<_>>());
        if let Some(found) = self.verdicts.lock().unwrap_or_else(|poison| poison.into_inner()).get(&key) {
            return Ok(found.clone());
        }
        let violations = evaluate()?;
        let mut verdicts = self.verdicts.lock().unwrap_or_else(|poison| poison.into_inner());
        if verdicts.len() >= CAPACITY {
            verdicts.clear();
        }
        verdicts.insert(key, violations.clone());
        Ok(violations)
    }
}

/// The value at `path` under `value` as Rego reads it (through objects by key), as
/// `[true, value]`, or `[false]` when it is undefined.
fn read(value: &regorus::Value, path: &[String]) -> regorus::Value {
    let mut node = value;
    for key in path {
        let regorus::Value::Object(fields) = node else { return regorus::Value::from(vec![regorus::Value::from(false)]) };
        match fields.get(&regorus::Value::from(key.as_str())) {
            Some(child) => node = child,
            None => return regorus::Value::from(vec![regorus::Value::from(false)]),
        }
    }
    regorus::Value::from(vec![regorus::Value::from(true), node.clone()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(rego: &str) -> Option<Vec<Vec<String>>> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.add_policy("t.rego".to_owned(), rego.to_owned()).unwrap();
        review_reads(engine.get_modules())
    }

    fn paths(list: &[&str]) -> Option<Vec<Vec<String>>> {
        Some(list.iter().map(|path| path.split('.').map(str::to_owned).collect()).collect())
    }

    #[test]
    fn references_read_their_leading_names_and_the_outermost_paths_are_kept() {
        let rego = r#"package t
violation[{"msg": msg}] {
  c := input.review.object.spec.containers[_]
  c.image == input.parameters.image
  input.review.object["spec"].hostNetwork
  not input.review.object.metadata.labels[input.parameters.key]
  msg := sprintf("%v in %v", [c.name, object.get(input, ["review", "object", "metadata", "namespace"], "")])
}"#;
        assert_eq!(reads(rego), paths(&["object.metadata.labels", "object.metadata.namespace", "object.spec.containers", "object.spec.hostNetwork"]));
        let wider = rego.replace("  c := input", "  is_object(input.review.object.metadata)\n  c := input");
        assert_eq!(reads(&wider), paths(&["object.metadata", "object.spec.containers", "object.spec.hostNetwork"]));
    }

    #[test]
    fn parameters_through_object_get_read_no_part_of_the_review() {
        let rego = r#"package t
violation[{"msg": "x"}] {
  exempt := object.get(object.get(input, "parameters", {}), "exemptImages", [])
  count(exempt) == 0
  input.review.operation == "CREATE"
}"#;
        assert_eq!(reads(rego), paths(&["operation"]));
    }

    #[test]
    fn input_as_a_whole_a_with_or_an_impure_built_in_remembers_nothing() {
        for body in [
            "allowed(input)",
            "x := input\n  x.review.object.kind == \"Pod\"",
            "object.get(input, input.parameters.key, 1) == 1",
            "allowed(1) with input as {}",
            "time.now_ns() > 0",
            "http.send({\"method\": \"get\", \"url\": \"http://x\"}).status_code == 200",
            "allowed(input.review)",
            "obj := input.review.object\n  obj.kind == \"Pod\"",
        ] {
            let rego = format!("package t\nallowed(x) {{ true }}\nviolation[{{\"msg\": \"x\"}}] {{\n  {body}\n}}");
            assert_eq!(reads(&rego), None, "{body}");
        }
    }
}

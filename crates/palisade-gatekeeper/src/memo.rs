//! Verdicts remembered per constraint. Without an inventory, a template's `violation` is a
//! function of the parts of `input` its Rego reads, and a constraint's parameters never change:
//! reviews that agree on every part of the review the Rego reads get the same violations. Pods
//! of one ReplicaSet differ only in fields most templates never read (names, node, status), so a
//! fleet's pods are judged once per distinct spec instead of once each.
//!
//! The parts read are found in the Rego's syntax tree (template and libs): every reference
//! rooted at `input` gives the path of its leading names (`input.review.object.spec.containers[_]`
//! reads `review.object.spec.containers`), and `object.get(X, KEY, default)` with a constant key,
//! where X is `input`, a reference into it or a variable standing for one, reads that key of X
//! (and whether X is defined). A variable assigned such a reference with constant keys
//! (`obj := input.review.object`), or a function parameter given one (`is_update(input.review)`),
//! stands for that path: its uses read the path followed by their own keys. Any other use of
//! `input` as a whole, a `with` modifier, or a built-in whose result is not a function of its
//! arguments (time, randomness, HTTP, external data) means no memo: every review is evaluated.
//! So does reading the whole review or the whole object, which sets every review apart.
//!
//! A template that reads `data.inventory` is also a function of the inventory, which stays the
//! same for an evaluator (one scan's objects): its verdicts are remembered per evaluator. With a
//! join, a review's part of the inventory follows from the join key rule, whose reads count too.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use regorus::unstable::{AssignOp, BUILTINS, Expr, Module, Ref, Rule, RuleHead};

use crate::join::{Event, Segment, chain, walk_rule};
use crate::template::{NotEvaluated, Violation};

/// Distinct reviews remembered per constraint before the memo starts over. A key holds the
/// parts of a review its template reads (a Pod's containers: a few KiB at most), so 50
/// constraints stay within about 100 MiB even when every review differs (the admission
/// webhook's limit is 640 MiB); replicas arrive together, in a scan as at admission.
const CAPACITY: usize = 512;

/// Rounds of alias propagation through function calls before the analysis gives up.
const ROUNDS: usize = 16;

/// Input paths a variable stands for.
type Paths = BTreeSet<Vec<String>>;

/// The paths under `input.review` that the Rego of `modules` reads, or `None` when its verdicts
/// may depend on more (see the module's documentation).
pub(crate) fn review_reads(modules: &[Ref<Module>]) -> Option<Vec<Read>> {
    let rules: Vec<&Rule> = modules.iter().flat_map(|module| module.policy.iter().map(|rule| rule.as_ref())).collect();
    let aliases = Aliases::of(&rules)?;
    let mut reads: Vec<Read> = Vec::new();
    // The first arguments of `object.get` calls with constant keys (`input`, a reference into it,
    // or a variable standing for one), which read only that key of them.
    let mut keyed: HashSet<*const Expr> = HashSet::new();
    for (index, rule) in rules.iter().enumerate() {
        let local = &aliases.by_rule[index];
        walk_rule(rule, &mut |event| match event {
            Event::With => false,
            Event::DataRef(..) => true,
            // A reference whose value a variable carries still decides, by being defined or not,
            // whether the assignment or call succeeds.
            Event::InputRef(expr, path) => {
                let carried = aliases.forwarded.contains(&std::ptr::from_ref(expr)) || keyed.contains(&std::ptr::from_ref(expr));
                reads.push(Read { value: !carried, path });
                true
            }
            Event::VarRef(expr, name, path) => {
                if let Some(paths) = local.get(name) {
                    let value = !aliases.forwarded.contains(&std::ptr::from_ref(expr)) && !keyed.contains(&std::ptr::from_ref(expr));
                    reads.extend(paths.iter().map(|prefix| Read { path: [prefix.as_slice(), &path].concat(), value }));
                }
                true
            }
            Event::Expr(expr) => match expr {
                // `input` as a whole: only as an `object.get` with a constant key, or given to a
                // variable whose uses are read instead.
                Expr::Var { span, .. } if span.text() == "input" => keyed.contains(&std::ptr::from_ref(expr)) || aliases.forwarded.contains(&std::ptr::from_ref(expr)),
                // A variable standing for part of the input, used as a whole.
                Expr::Var { span, .. } => {
                    if let Some(paths) = local.get(span.text())
                        && !aliases.forwarded.contains(&std::ptr::from_ref(expr))
                        && !keyed.contains(&std::ptr::from_ref(expr))
                    {
                        reads.extend(paths.iter().map(|path| Read { path: path.clone(), value: true }));
                    }
                    true
                }
                Expr::Call { fcn, params, .. } => {
                    let name = fcn.span().text();
                    if crate::join::nondeterministic(name) {
                        return false;
                    }
                    if let (true, [object, key, _]) = (name == "object.get", params.as_slice())
                        && let Some(path) = constant_path(key)
                    {
                        let bases = match object.as_ref() {
                            Expr::Var { span, .. } if span.text() == "input" => Some(BTreeSet::from([Vec::new()])),
                            other => source(other, local),
                        };
                        if let Some(bases) = bases {
                            keyed.insert(std::ptr::from_ref(object.as_ref()));
                            reads.extend(bases.into_iter().map(|base| Read { path: [base.as_slice(), &path].concat(), value: true }));
                        }
                    }
                    true
                }
                _ => true,
            },
        })?;
    }
    // Only the review changes from one evaluation to the next. A value read inside another
    // value read adds nothing, nor does whether a path is defined when a value read holds it.
    // A variable standing for the whole input, used as a whole, reads everything.
    if reads.iter().any(|read| read.value && read.path.is_empty()) {
        return None;
    }
    let mut review: Vec<Read> = reads
        .into_iter()
        .filter(|read| read.path.first().map(String::as_str) == Some("review"))
        .map(|read| Read { path: read.path[1..].to_vec(), value: read.value })
        .collect();
    review.sort();
    review.dedup();
    let covered = |read: &Read| review.iter().any(|other| other.value && other != read && read.path.starts_with(&other.path));
    let outermost: Vec<Read> = review.iter().filter(|read| !covered(read)).cloned().collect();
    // The value of the whole review, or of the whole object, tells one review from the next:
    // nothing to share.
    let whole = |read: &Read| read.value && (read.path.is_empty() || read.path == ["object"]);
    (!outermost.iter().any(whole)).then_some(outermost)
}

/// A path under `input.review` whose value, or only whether it is defined, decides verdicts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Read {
    pub(crate) path: Vec<String>,
    pub(crate) value: bool,
}

/// Variables that stand for a part of the input: assigned a reference to it with only constant
/// keys (`obj := input.review.object`), or a function's parameter given one
/// (`is_update(input.review)`), through other such variables. Their uses are read as uses of
/// those paths, and the assignments and arguments themselves are not reads.
struct Aliases {
    /// Per rule: each variable's paths.
    by_rule: Vec<HashMap<String, Paths>>,
    /// The right-hand sides, arguments and parameters whose reading the variables carry.
    forwarded: HashSet<*const Expr>,
}

impl Aliases {
    fn of(rules: &[&Rule]) -> Option<Aliases> {
        // Each function's definitions: rule index and parameter names (`None` for a pattern).
        let mut functions: HashMap<&str, Vec<(usize, Vec<Option<&str>>)>> = HashMap::new();
        let mut forwarded = HashSet::new();
        for (index, rule) in rules.iter().enumerate() {
            if let Rule::Spec { head: RuleHead::Func { refr, args, .. }, .. } = rule {
                let name = refr.span().text().rsplit('.').next().unwrap_or_default();
                let params = args.iter().map(|arg| if let Expr::Var { span, .. } = arg.as_ref() { Some(span.text()) } else { None }).collect();
                functions.entry(name).or_default().push((index, params));
                // A parameter that is a plain variable binds, and reads nothing by itself; a
                // pattern compares, which is a read.
                forwarded.extend(args.iter().filter(|arg| matches!(arg.as_ref(), Expr::Var { .. })).map(|arg| std::ptr::from_ref(arg.as_ref())));
            }
        }
        let mut by_rule: Vec<HashMap<String, Paths>> = vec![HashMap::new(); rules.len()];
        for _ in 0..ROUNDS {
            let mut updates: Vec<(usize, String, Paths)> = Vec::new();
            for (index, rule) in rules.iter().enumerate() {
                let local = &by_rule[index];
                walk_rule(rule, &mut |event| {
                    match event {
                        // `:=` declares: `=` may compare a bound variable, which is a read.
                        Event::Expr(Expr::AssignExpr { op: AssignOp::ColEq, lhs, rhs, .. }) => {
                            if let (Expr::Var { span, .. }, Some(paths)) = (lhs.as_ref(), source(rhs, local)) {
                                updates.push((index, span.text().to_owned(), paths));
                                forwarded.insert(std::ptr::from_ref(lhs.as_ref()));
                                forwarded.insert(std::ptr::from_ref(rhs.as_ref()));
                            }
                        }
                        Event::Expr(Expr::Call { fcn, params, .. }) => {
                            // A built-in reads its arguments' values: only user functions forward.
                            let full = fcn.span().text();
                            let name = full.rsplit('.').next().unwrap_or_default();
                            let definitions = if BUILTINS.contains_key(full) { &[][..] } else { functions.get(name).map(Vec::as_slice).unwrap_or_default() };
                            let callable: Vec<&(usize, Vec<Option<&str>>)> = definitions.iter().filter(|(_, names)| names.len() == params.len()).collect();
                            for (position, argument) in params.iter().enumerate() {
                                let Some(paths) = source(argument, local) else { continue };
                                // Forwarded only when every definition takes it as a plain parameter.
                                if callable.is_empty() || callable.iter().any(|(_, names)| names[position].is_none()) {
                                    continue;
                                }
                                // `_` binds nothing: each of its uses is a variable of its own.
                                for (definition, names) in callable.iter().filter(|(_, names)| names[position] != Some("_")) {
                                    updates.push((*definition, names[position].unwrap_or_default().to_owned(), paths.clone()));
                                }
                                forwarded.insert(std::ptr::from_ref(argument.as_ref()));
                            }
                        }
                        _ => {}
                    }
                    true
                })?;
            }
            let mut changed = false;
            for (index, name, paths) in updates {
                let known = by_rule[index].entry(name).or_default();
                for path in paths {
                    changed |= known.insert(path);
                }
            }
            if !changed {
                return Some(Aliases { by_rule, forwarded });
            }
        }
        None
    }
}

/// The input paths an expression stands for when it is `input`, or an alias, followed by
/// constant keys only.
fn source(expr: &Expr, aliases: &HashMap<String, Paths>) -> Option<Paths> {
    let (root, segments) = chain(expr);
    let names: Vec<String> = segments.iter().map(Segment::name).collect::<Option<_>>()?;
    let Expr::Var { span, .. } = root else { return None };
    if span.text() == "input" {
        return Some(BTreeSet::from([names]));
    }
    let prefixes = aliases.get(span.text())?;
    Some(prefixes.iter().map(|prefix| [prefix.as_slice(), &names].concat()).collect())
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
    reads: Vec<Read>,
    verdicts: Mutex<BTreeMap<regorus::Value, Vec<Violation>>>,
}

impl Memo {
    pub(crate) fn new(reads: Vec<Read>) -> Memo {
        Memo { reads, verdicts: Mutex::new(BTreeMap::new()) }
    }

    /// The violations of `review` (the `input.review` value): remembered, or from `evaluate`.
    /// `inventory` names the evaluator (and so the inventory) a review is judged with, if any.
    pub(crate) fn judge(&self, inventory: Option<u64>, review: &regorus::Value, evaluate: impl FnOnce() -> Result<Vec<Violation>, NotEvaluated>) -> Result<Vec<Violation>, NotEvaluated> {
        let scope = inventory.map_or(regorus::Value::Null, regorus::Value::from);
        let key = regorus::Value::from(std::iter::once(scope).chain(self.reads.iter().map(|read| read_value(review, read))).collect::<Vec<_>>());
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

/// What `read` reads of the review as Rego reads it (through objects by key): `[true, value]`
/// (or `[true]` when only definedness counts), or `[false]` when it is undefined.
fn read_value(review: &regorus::Value, read: &Read) -> regorus::Value {
    let undefined = || regorus::Value::from(vec![regorus::Value::from(false)]);
    let mut node = review;
    for key in &read.path {
        let regorus::Value::Object(fields) = node else { return undefined() };
        match fields.get(&regorus::Value::from(key.as_str())) {
            Some(child) => node = child,
            None => return undefined(),
        }
    }
    let mut found = vec![regorus::Value::from(true)];
    if read.value {
        found.push(node.clone());
    }
    regorus::Value::from(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(rego: &str) -> Option<Vec<Read>> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine.add_policy("t.rego".to_owned(), rego.to_owned()).unwrap();
        review_reads(engine.get_modules())
    }

    /// `PATH` for a value read, `?PATH` for a definedness read; `` is the whole review.
    fn paths(list: &[&str]) -> Option<Vec<Read>> {
        let read = |text: &str| {
            let (value, path) = match text.strip_prefix('?') {
                Some(path) => (false, path),
                None => (true, text),
            };
            Read { path: path.split('.').filter(|key| !key.is_empty()).map(str::to_owned).collect(), value }
        };
        Some(list.iter().map(|text| read(text)).collect())
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
    fn variables_and_parameters_given_a_part_of_the_input_read_what_they_are_used_for() {
        let rego = r#"package t
is_update(review) { review.operation == "UPDATE" }
violation[{"msg": msg}] {
  not is_update(input.review)
  obj := input.review.object
  host := input.review.object.spec.hostNetwork
  name := obj.spec.containers[_].name
  a := input.review.object.spec.a
  a = input.review.object.spec.b
  msg := sprintf("%v", [name])
}"#;
        // The review and object only need to be defined; hostNetwork too, as nothing uses it;
        // `=` compares `a` and `b`.
        assert_eq!(reads(rego), paths(&["?", "?object", "object.spec.a", "object.spec.b", "object.spec.containers", "?object.spec.hostNetwork", "operation"]));
    }

    #[test]
    fn object_get_with_a_constant_key_reads_that_key_of_a_reference_or_variable() {
        let rego = r#"package t
profile(pod) := object.get(pod, ["metadata", "annotations"], {})
violation[{"msg": "x"}] {
  object.get(input.review.object, ["spec", "hostNetwork"], false)
  count(profile(input.review.object)) > 0
}"#;
        assert_eq!(reads(rego), paths(&["?object", "object.metadata.annotations", "object.spec.hostNetwork"]));
    }

    #[test]
    fn input_given_to_a_function_or_variable_reads_what_their_uses_read() {
        let rego = r#"package t
allowed_of(arg) = out { not arg.parameters; out = [] }
allowed_of(arg) = out { out = arg.parameters.allowed }
host(_) { input.review.object.spec.hostNetwork }
violation[{"msg": msg}] {
  x := input
  x.review.object.kind == "Pod"
  allowed := allowed_of(input)
  host(input.review.object)
  msg := sprintf("%v", [allowed])
}"#;
        // `_` binds nothing: of the object given to `host`, only whether it is defined counts.
        assert_eq!(reads(rego), paths(&["?object", "object.kind", "object.spec.hostNetwork"]));
    }

    #[test]
    fn input_as_a_whole_a_with_or_an_impure_built_in_remembers_nothing() {
        for body in [
            "whole(input)",
            "x := input\n  count(x) > 0",
            "object.get(input, input.parameters.key, 1) == 1",
            "allowed(1) with input as {}",
            "time.now_ns() > 0",
            "http.send({\"method\": \"get\", \"url\": \"http://x\"}).status_code == 200",
            "obj := input.review.object\n  count(obj) > 0",
            // A built-in that shares its last name with a user function reads its argument.
            "strings.any_prefix_match(input.review.object, \"x\")",
            // A function that compares its argument with the whole object.
            "pattern_of(1)",
        ] {
            let helpers = "allowed(x) { true }\nany_prefix_match(x, y) { true }\nwhole(x) { x == {} }";
            let helpers = if body.starts_with("pattern_of") { format!("{helpers}\npattern_of(x) {{ x == input.review.object }}") } else { helpers.to_owned() };
            let rego = format!("package t\n{helpers}\nviolation[{{\"msg\": \"x\"}}] {{\n  {body}\n}}");
            assert_eq!(reads(&rego), None, "{body}");
        }
        // The helpers alone remember.
        assert!(reads("package t\nallowed(x) { true }\nany_prefix_match(x, y) { true }\nwhole(x) { x == {} }\nviolation[{\"msg\": \"x\"}] { allowed(1) }").is_some());
    }
}

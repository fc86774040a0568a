//! ConstraintTemplates: the constraint kind they define and their Rego, compiled once as
//! Gatekeeper runs it (Rego v0 syntax, the target's `libs` beside it), evaluated per review.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use palisade_core::{Node, Object};
use rayon::prelude::*;
use regorus::Engine;

use crate::join;

/// The only target Gatekeeper's admission and audit evaluate.
pub const TARGET: &str = "admission.k8s.gatekeeper.sh";

pub const API_VERSIONS: [&str; 3] = ["templates.gatekeeper.sh/v1", "templates.gatekeeper.sh/v1beta1", "templates.gatekeeper.sh/v1alpha1"];

/// A loaded ConstraintTemplate.
pub struct Template {
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    /// `metadata.gatekeeper.sh/title`, else the description annotation's first line.
    pub title: Option<String>,
    program: Program,
}

enum Program {
    Rego {
        prototype: Box<Mutex<Engine>>,
        /// For reviews without an inventory.
        plain: Box<Evaluator>,
        violation: String,
        uses_inventory: bool,
        join: Option<Box<Join>>,
        /// The paths under `input.review` the Rego reads, when its verdicts depend on nothing
        /// else (see [`crate::memo`]).
        review_reads: Option<Vec<crate::memo::Read>>,
    },
    /// The template has no Rego for the admission target (a CEL-only template): its
    /// constraints are reported as not evaluated.
    Unsupported(String),
}

/// The inventory join the template's Rego makes (see [`join`]): where the joined objects are,
/// and an engine whose `key` rule gives a review's keys.
struct Join {
    path: Vec<Option<String>>,
    keys: Mutex<Engine>,
    key: String,
    query: String,
}

/// One result of a template's `violation` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    pub message: String,
    pub details: Option<serde_json::Value>,
}

/// Why a review could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotEvaluated(pub String);

impl std::fmt::Display for NotEvaluated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Template {
    /// Reads and compiles a ConstraintTemplate. Errors name the problem; the caller adds the
    /// file and line.
    pub fn parse(object: &Object) -> Result<Template, String> {
        if object.kind() != "ConstraintTemplate" || !API_VERSIONS.contains(&object.api_version()) {
            return Err(format!("expected a ConstraintTemplate ({}), found {} {}", API_VERSIONS.join(", "), object.api_version(), object.kind()));
        }
        let name = object.name().to_owned();
        let kind = object
            .root
            .path(&["spec", "crd", "spec", "names", "kind"])
            .and_then(Node::as_str)
            .ok_or_else(|| format!("ConstraintTemplate {name}: `spec.crd.spec.names.kind` is missing"))?
            .to_owned();
        if kind.to_lowercase() != name {
            return Err(format!("ConstraintTemplate {name}: its name must be the lowercase of its kind `{kind}`, as Gatekeeper requires"));
        }
        let title = object
            .annotation("metadata.gatekeeper.sh/title")
            .or_else(|| object.annotation("description").and_then(|description| description.lines().next()))
            .map(|title| title.trim().to_owned())
            .filter(|title| !title.is_empty());
        let targets = object.root.path(&["spec", "targets"]).map(Node::as_seq).unwrap_or_default();
        let target = match targets {
            [target] if target.get("target").and_then(Node::as_str) == Some(TARGET) => target,
            [target] => return Err(format!("ConstraintTemplate {name}: the target must be `{TARGET}`, not `{}`", target.get("target").and_then(Node::as_str).unwrap_or(""))),
            _ => return Err(format!("ConstraintTemplate {name}: `spec.targets` must hold exactly one target, `{TARGET}`")),
        };
        // Rego that Gatekeeper accepts but regorus cannot compile leaves the template loaded and
        // its constraints not evaluated, never an error that stops the scan.
        let program = match rego_of(target) {
            Some((rego, libs)) => compile(&name, &rego, &libs).unwrap_or_else(Program::Unsupported),
            None => Program::Unsupported("the template has no Rego (only CEL code, which is not evaluated yet)".into()),
        };
        Ok(Template { name, kind, title, program })
    }

    /// Why the template's constraints cannot be evaluated, if they cannot.
    pub fn unsupported(&self) -> Option<&str> {
        match &self.program {
            Program::Unsupported(reason) => Some(reason),
            Program::Rego { .. } => None,
        }
    }

    /// The paths under `input.review` that decide the template's verdicts, when nothing else
    /// does (see [`crate::memo`]).
    pub(crate) fn review_reads(&self) -> Option<&[crate::memo::Read]> {
        match &self.program {
            Program::Rego { review_reads, .. } => review_reads.as_deref(),
            Program::Unsupported(_) => None,
        }
    }

    /// Whether its constraints remember verdicts (see [`crate::memo`]).
    pub fn remembers_verdicts(&self) -> bool {
        self.review_reads().is_some()
    }

    /// Whether the Rego reads `data.inventory`, so reviews need the other objects.
    pub fn uses_inventory(&self) -> bool {
        matches!(self.program, Program::Rego { uses_inventory: true, .. })
    }

    /// The template's `violation` results for `input` (`{"review": ..., "parameters": ...}`)
    /// without an inventory.
    pub fn evaluate(&self, input: &serde_json::Value) -> Result<Vec<Violation>, NotEvaluated> {
        self.evaluate_input(regorus::Value::from(input.clone()))
    }

    pub(crate) fn evaluate_input(&self, input: regorus::Value) -> Result<Vec<Violation>, NotEvaluated> {
        match &self.program {
            Program::Rego { plain, .. } => plain.evaluate_input(input),
            Program::Unsupported(reason) => Err(NotEvaluated(reason.clone())),
        }
    }

    /// An evaluator with `inventory` as `data.inventory`, for many reviews against the same
    /// inventory: the inventory is converted (and indexed, for a template that joins the review
    /// with it on a key) and the engine prepared once.
    pub fn evaluator(&self, inventory: Option<&serde_json::Value>) -> Result<Evaluator, NotEvaluated> {
        self.evaluator_with(inventory, true)
    }

    /// An evaluator that gives every review the whole inventory, even where the template's join
    /// allows an index: what [`Template::evaluator`]'s verdicts are checked against.
    pub fn evaluator_without_index(&self, inventory: Option<&serde_json::Value>) -> Result<Evaluator, NotEvaluated> {
        self.evaluator_with(inventory, false)
    }

    /// Whether reviews against an inventory see only the objects that share the template's
    /// join key with them.
    pub fn indexes_inventory(&self) -> bool {
        matches!(&self.program, Program::Rego { join: Some(_), .. })
    }

    fn evaluator_with(&self, inventory: Option<&serde_json::Value>, index: bool) -> Result<Evaluator, NotEvaluated> {
        let (prototype, violation, join) = match &self.program {
            Program::Rego { prototype, violation, join, .. } => (prototype, violation, join),
            Program::Unsupported(reason) => return Err(NotEvaluated(reason.clone())),
        };
        let mut engine = prototype.lock().unwrap_or_else(|poison| poison.into_inner()).clone();
        let Some(inventory) = inventory else { return Ok(Evaluator::new(engine, violation, None)) };
        if let (Some(join), true) = (join, index) {
            let index = InventoryIndex::build(join, inventory);
            return Ok(Evaluator::new(engine, violation, Some(index)));
        }
        engine.add_data(regorus::Value::from(serde_json::json!({ "inventory": inventory }))).map_err(|error| NotEvaluated(error.to_string()))?;
        prepare(&mut engine, violation);
        Ok(Evaluator::new(engine, violation, None))
    }
}

/// Most engines a thread keeps for reuse (one per evaluator it ran).
const ENGINES_PER_THREAD: usize = 256;

thread_local! {
    /// Each evaluator's engine on this thread, by evaluator id: evaluating on the same engine
    /// again spares the copy of its rules and state that a clone per review costs.
    static ENGINES: std::cell::RefCell<HashMap<u64, Engine>> = std::cell::RefCell::new(HashMap::new());
}

/// A prepared engine for one template (and inventory); reviews run on per-thread copies of it.
pub struct Evaluator {
    engine: PerThread,
    violation: String,
    /// For a template with a join: the inventory by key (`engine` has no inventory then).
    index: Option<InventoryIndex>,
}

/// The joined objects of an inventory, by the template's join key.
struct InventoryIndex {
    keys: PerThread,
    key: String,
    /// `violation` with the review's part of the inventory as `data.inventory`.
    query: String,
    /// Each joined object, with its path under `data.inventory`.
    objects: Vec<(Vec<String>, regorus::Value)>,
    by_key: BTreeMap<regorus::Value, Vec<usize>>,
    /// The objects whose keys could not be computed: given to every review.
    unkeyed: Vec<usize>,
}

impl InventoryIndex {
    fn build(join: &Join, inventory: &serde_json::Value) -> InventoryIndex {
        let keys = PerThread::new(join.keys.lock().unwrap_or_else(|poison| poison.into_inner()).clone());
        let mut found = Vec::new();
        collect(inventory, &join.path, &mut Vec::new(), &mut found);
        let objects: Vec<(Vec<String>, regorus::Value)> = found.into_par_iter().map(|(path, object)| (path, regorus::Value::from(object.clone()))).collect();
        let object_keys: Vec<Option<Vec<regorus::Value>>> = objects
            .par_iter()
            .map(|(_, object)| {
                let mut review = BTreeMap::new();
                review.insert(regorus::Value::from("object"), object.clone());
                let mut input = BTreeMap::new();
                input.insert(regorus::Value::from("review"), regorus::Value::from(review));
                keys_of(&keys, &join.key, regorus::Value::from(input))
            })
            .collect();
        let mut by_key: BTreeMap<regorus::Value, Vec<usize>> = BTreeMap::new();
        let mut unkeyed = Vec::new();
        for (position, object_keys) in object_keys.into_iter().enumerate() {
            match object_keys {
                Some(object_keys) => object_keys.into_iter().for_each(|key| by_key.entry(key).or_default().push(position)),
                None => unkeyed.push(position),
            }
        }
        InventoryIndex { keys, key: join.key.clone(), query: join.query.clone(), objects, by_key, unkeyed }
    }

    /// `input` with the review's part of the inventory: the joined objects that share a key with
    /// it (all of them when its keys could not be computed).
    fn with_inventory(&self, input: regorus::Value) -> regorus::Value {
        let mut chosen: Vec<usize> = match keys_of(&self.keys, &self.key, input.clone()) {
            Some(keys) => keys.iter().filter_map(|key| self.by_key.get(key)).flatten().chain(&self.unkeyed).copied().collect(),
            None => (0..self.objects.len()).collect(),
        };
        chosen.sort_unstable();
        chosen.dedup();
        let mut inventory = regorus::Value::new_object();
        for position in chosen {
            let (path, object) = &self.objects[position];
            insert_at(&mut inventory, path, object.clone());
        }
        let mut input = input;
        if let Ok(fields) = input.as_object_mut() {
            fields.insert(regorus::Value::from(join::INVENTORY_INPUT), inventory);
        }
        input
    }
}

fn insert_at(node: &mut regorus::Value, path: &[String], value: regorus::Value) {
    let (Some((first, rest)), Ok(map)) = (path.split_first(), node.as_object_mut()) else { return };
    let key = regorus::Value::from(first.as_str());
    if rest.is_empty() {
        map.insert(key, value);
    } else {
        insert_at(map.get_or_insert_with(key, regorus::Value::new_object), rest, value);
    }
}

/// The values under `inventory` at `path` (a name, or any key for `None`), with their paths.
fn collect<'a>(node: &'a serde_json::Value, path: &[Option<String>], at: &mut Vec<String>, found: &mut Vec<(Vec<String>, &'a serde_json::Value)>) {
    let Some((segment, rest)) = path.split_first() else {
        found.push((at.clone(), node));
        return;
    };
    let serde_json::Value::Object(map) = node else { return };
    let mut descend = |key: &String, child| {
        at.push(key.clone());
        collect(child, rest, at, found);
        at.pop();
    };
    match segment {
        Some(name) => {
            if let Some(child) = map.get(name) {
                descend(name, child);
            }
        }
        None => map.iter().for_each(|(key, child)| descend(key, child)),
    }
}

/// The values of the join's key rule for `input`; `None` when it fails.
fn keys_of(keys: &PerThread, rule: &str, input: regorus::Value) -> Option<Vec<regorus::Value>> {
    let found = keys.with(|engine| {
        engine.set_input(input);
        engine.eval_rule(rule.to_owned())
    });
    match found.ok()? {
        regorus::Value::Undefined => Some(Vec::new()),
        regorus::Value::Set(set) => Some(set.iter().cloned().collect()),
        _ => None,
    }
}

/// An engine that each thread runs on its own copy of, kept between calls: a clone copies the
/// engine's rules and state, which costs more than most evaluations.
struct PerThread {
    /// Unique for the process, so that a thread's copy of the engine is never another's.
    id: u64,
    engine: Engine,
}

impl PerThread {
    fn new(engine: Engine) -> PerThread {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        PerThread { id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed), engine }
    }

    /// Runs `evaluate` on this thread's copy of the engine.
    fn with<R>(&self, evaluate: impl FnOnce(&mut Engine) -> R) -> R {
        ENGINES.with(|engines| {
            let mut engines = engines.borrow_mut();
            if engines.len() >= ENGINES_PER_THREAD && !engines.contains_key(&self.id) {
                engines.clear();
            }
            evaluate(engines.entry(self.id).or_insert_with(|| self.engine.clone()))
        })
    }
}

impl Evaluator {
    fn new(engine: Engine, violation: &str, index: Option<InventoryIndex>) -> Evaluator {
        Evaluator { engine: PerThread::new(engine), violation: violation.to_owned(), index }
    }

    /// Unique for the process: verdicts remembered with one inventory are not another's.
    pub(crate) fn id(&self) -> u64 {
        self.engine.id
    }

    /// The `violation` results for `input` (`{"review": ..., "parameters": ...}`).
    pub fn evaluate(&self, input: &serde_json::Value) -> Result<Vec<Violation>, NotEvaluated> {
        self.evaluate_input(regorus::Value::from(input.clone()))
    }

    pub(crate) fn evaluate_input(&self, input: regorus::Value) -> Result<Vec<Violation>, NotEvaluated> {
        let results = match &self.index {
            Some(index) => {
                let input = index.with_inventory(input);
                self.engine.with(|engine| {
                    engine.set_input(input);
                    let results = engine.eval_query(index.query.clone(), false)?;
                    Ok(results.result.into_iter().next().and_then(|result| result.expressions.into_iter().next()).map_or(regorus::Value::Undefined, |expression| expression.value))
                })
            }
            None => self.engine.with(|engine| {
                engine.set_input(input);
                engine.eval_rule(self.violation.clone())
            }),
        };
        let results = results.map_err(|error| NotEvaluated(error.to_string().trim().to_owned()))?;
        if results == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let results = serde_json::to_value(&results).map_err(|error| NotEvaluated(error.to_string()))?;
        let serde_json::Value::Array(results) = results else {
            return Err(NotEvaluated("`violation` is not a set".into()));
        };
        Ok(results
            .into_iter()
            .map(|result| Violation {
                message: match result.get("msg") {
                    Some(serde_json::Value::String(message)) => message.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                details: result.get("details").cloned(),
            })
            .collect())
    }
}

/// One evaluation prepares an engine (rule indexes, schedules); clones of a prepared engine
/// share that work, where clones of an unprepared one would each redo it.
fn prepare(engine: &mut Engine, violation: &str) {
    engine.set_input(regorus::Value::from(serde_json::json!({})));
    let _ = engine.eval_rule(violation.to_owned());
}

/// Rego's `regex.match`, in place of regorus's: its pattern cache hands out clones of
/// `regex::Regex`, and a clone starts without matching caches, so every call built its automaton
/// again (a quarter of a library scan's time). Here one compiled expression serves every call.
/// Same builder and size limit; as the built-in does without strict errors, a pattern that does
/// not compile or an argument that is not a string makes the call undefined, and a pattern
/// over the size limit fails the evaluation.
fn regex_match(args: Vec<regorus::Value>) -> anyhow::Result<regorus::Value> {
    const SIZE_LIMIT: usize = 100 * 1024;
    const CAPACITY: usize = 1024;
    static COMPILED: LazyLock<RwLock<HashMap<String, Arc<regex::Regex>>>> = LazyLock::new(Default::default);
    let (Ok(pattern), Ok(text)) = (args[0].as_string(), args[1].as_string()) else { return Ok(regorus::Value::Undefined) };
    let known = COMPILED.read().ok().and_then(|compiled| compiled.get(pattern.as_ref()).cloned());
    let compiled = match known {
        Some(compiled) => compiled,
        None => match regex::RegexBuilder::new(pattern).size_limit(SIZE_LIMIT).build() {
            Ok(compiled) => {
                let compiled = Arc::new(compiled);
                if let Ok(mut cache) = COMPILED.write() {
                    if cache.len() >= CAPACITY {
                        cache.clear();
                    }
                    cache.insert(pattern.to_string(), compiled.clone());
                }
                compiled
            }
            Err(regex::Error::CompiledTooBig(_)) => anyhow::bail!("regex.match: the pattern exceeds the size limit of {SIZE_LIMIT} bytes"),
            Err(_) => return Ok(regorus::Value::Undefined),
        },
    };
    Ok(regorus::Value::Bool(compiled.is_match(text)))
}

/// The target's Rego and libs: `rego`/`libs`, or a `code` entry with `engine: Rego`.
fn rego_of(target: &Node) -> Option<(String, Vec<String>)> {
    let strings = |node: Option<&Node>| node.map(|libs| libs.as_seq().iter().filter_map(Node::as_str).map(str::to_owned).collect()).unwrap_or_default();
    if let Some(rego) = target.get("rego").and_then(Node::as_str).filter(|rego| !rego.trim().is_empty()) {
        return Some((rego.to_owned(), strings(target.get("libs"))));
    }
    target.get("code").map(Node::as_seq).unwrap_or_default().iter().find_map(|code| {
        if code.get("engine").and_then(Node::as_str) != Some("Rego") {
            return None;
        }
        let source = code.get("source")?;
        Some((source.get("rego")?.as_str()?.to_owned(), strings(source.get("libs"))))
    })
}

fn compile(name: &str, rego: &str, libs: &[String]) -> Result<Program, String> {
    let mut engine = Engine::new();
    engine.set_rego_v0(true);
    // As OPA runs by default (and so Gatekeeper): a built-in's error makes the expression
    // undefined instead of failing the whole evaluation.
    engine.set_strict_builtin_errors(false);
    engine.add_extension("regex.match".to_owned(), 2, Box::new(regex_match)).map_err(|error| format!("ConstraintTemplate {name}: {error}"))?;
    let package = engine.add_policy(format!("{name}.rego"), rego.to_owned()).map_err(|error| format!("ConstraintTemplate {name}: the Rego does not compile: {error}"))?;
    for (index, lib) in libs.iter().enumerate() {
        let lib_package = engine.add_policy(format!("{name}.lib{index}.rego"), lib.clone()).map_err(|error| format!("ConstraintTemplate {name}: lib {index} does not compile: {error}"))?;
        if !lib_package.starts_with("data.lib.") && lib_package != "data.lib" {
            return Err(format!("ConstraintTemplate {name}: lib {index} is `{lib_package}`, but Gatekeeper requires libs under `package lib`"));
        }
    }
    let violation = format!("{package}.violation");
    if !engine.has_declared_rule_rooted_at(&format!("{name}.rego"), "violation").unwrap_or(true) {
        return Err(format!("ConstraintTemplate {name}: the Rego declares no `violation` rule"));
    }
    let uses_inventory = std::iter::once(rego).chain(libs.iter().map(String::as_str)).any(|source| source.contains("data.inventory") || source.contains("data[\"inventory\"]"));
    let join = if uses_inventory { join_of(&mut engine, name, &package) } else { None };
    // With a join, a review's part of the inventory follows from the key rule's reads too.
    let review_reads = match &join {
        Some(join) => crate::memo::review_reads(join.keys.lock().unwrap_or_else(|poison| poison.into_inner()).get_modules()),
        None => crate::memo::review_reads(engine.get_modules()),
    };
    prepare(&mut engine, &violation);
    let plain = Box::new(Evaluator::new(engine.clone(), &violation, None));
    Ok(Program::Rego { prototype: Box::new(Mutex::new(engine)), plain, violation, uses_inventory, join, review_reads })
}

/// The template's inventory join, with an engine that computes its key.
fn join_of(engine: &mut Engine, name: &str, package: &str) -> Option<Box<Join>> {
    let short = package.strip_prefix("data.")?;
    let found = join::find(engine.get_modules(), short)?;
    let mut keys = engine.clone();
    keys.add_policy(format!("{name}.join.rego"), format!("package {short}\n{}\n", found.key_rule)).ok()?;
    let key = format!("{package}.{}", join::KEY_RULE);
    prepare(&mut keys, &key);
    let query = format!("{package}.violation with data.inventory as input.{}", join::INVENTORY_INPUT);
    Some(Box::new(Join { path: found.path, keys: Mutex::new(keys), key, query }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8srequiredlabels}
spec:
  crd: {spec: {names: {kind: K8sRequiredLabels}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8srequiredlabels
      violation[{"msg": msg, "details": {"missing": missing}}] {
        provided := {label | input.review.object.metadata.labels[label]}
        required := {label | label := input.parameters.labels[_]}
        missing := required - provided
        count(missing) > 0
        msg := sprintf("you must provide labels: %v", [missing])
      }
"#;

    fn template(text: &str) -> Template {
        let loaded = palisade_load::load_str(text, "template.yaml");
        Template::parse(&loaded.objects[0]).unwrap()
    }

    fn input(labels: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"review": {"object": {"metadata": {"labels": labels}}}, "parameters": {"labels": ["team", "tier"]}})
    }

    #[test]
    fn regex_match_matches_is_undefined_for_a_bad_pattern_and_fails_over_the_size_limit() {
        let template = template(r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: names}
spec:
  crd: {spec: {names: {kind: Names}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package names
      violation[{"msg": "matches"}] { regex.match(input.parameters.pattern, input.review.object.metadata.name) }
      violation[{"msg": "does not match"}] { not regex.match(input.parameters.pattern, input.review.object.metadata.name) }
"#);
        let judge = |pattern: &str, name: &str| {
            let input = serde_json::json!({"review": {"object": {"metadata": {"name": name}}}, "parameters": {"pattern": pattern}});
            template.evaluate(&input).map(|violations| violations.into_iter().map(|violation| violation.message).collect::<Vec<_>>())
        };
        assert_eq!(judge("^web-[0-9]+$", "web-12").unwrap(), ["matches"]);
        assert_eq!(judge("^web-[0-9]+$", "web-12").unwrap(), ["matches"], "the compiled pattern is reused");
        assert_eq!(judge("^web-[0-9]+$", "api-1").unwrap(), ["does not match"]);
        // As OPA without strict errors: the call is undefined, so `not` holds.
        assert_eq!(judge("(", "web").unwrap(), ["does not match"]);
        assert!(judge(&format!("a{{{}}}", 100_000), "a").unwrap_err().0.contains("size limit"));
    }

    #[test]
    fn one_template_judges_each_input_on_its_own() {
        let template = template(TEMPLATE);
        let missing = template.evaluate(&input(serde_json::json!({"team": "a"}))).unwrap();
        assert_eq!(missing, vec![Violation { message: "you must provide labels: {\"tier\"}".into(), details: Some(serde_json::json!({"missing": ["tier"]})) }]);
        assert_eq!(template.evaluate(&input(serde_json::json!({"team": "a", "tier": "b"}))).unwrap(), vec![]);
        assert_eq!(template.evaluate(&input(serde_json::json!({}))).unwrap().len(), 1);
    }

    #[test]
    fn rego_regorus_cannot_compile_leaves_the_template_not_evaluated() {
        let broken = TEMPLATE.replace("count(missing) > 0", "count(missing) >");
        let template = template(&broken);
        assert!(template.unsupported().is_some_and(|reason| reason.contains("does not compile")), "{:?}", template.unsupported());
        assert!(template.evaluate(&input(serde_json::json!({}))).is_err());
    }

    #[test]
    fn structural_mistakes_are_errors() {
        let loaded = palisade_load::load_str(&TEMPLATE.replace("name: k8srequiredlabels", "name: other"), "t.yaml");
        assert!(Template::parse(&loaded.objects[0]).err().unwrap().contains("must be the lowercase of its kind"));
        let loaded = palisade_load::load_str(&TEMPLATE.replace("target: admission.k8s.gatekeeper.sh", "target: audit.example"), "t.yaml");
        assert!(Template::parse(&loaded.objects[0]).err().unwrap().contains("the target must be"));
    }
}

//! Falco rules files: `list`, `macro` and `rule` items, `append`, `override`, `exceptions`,
//! `required_engine_version` and `required_plugin_versions`, loaded with Falco's semantics.
//!
//! Loading happens in two phases, as in Falco: every file is first *collected* (items defined,
//! appended to or overridden, in file order), then the result is *compiled*: lists are pasted
//! into conditions as text (Falco substitutes list names textually before parsing, so a list
//! name works wherever a bare value does), macros are parsed and expanded into each rule's tree,
//! and exceptions become `and not (...)` clauses on the rule's condition.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use palisade_core::{Node, Value};

use crate::compile::{Fields, Node as Cond};
use crate::engine::{OutputFormat, Priority, Rule};
use crate::parser::{self, Expr, Op};

/// The engine version this implementation answers to `required_engine_version` with. Falco's
/// rule files ask for a minimum; the k8s audit rules need 0.15 (numeric `15`) or 0.31 (GKE).
pub const ENGINE_VERSION: (u64, u64, u64) = (0, 50, 0);

/// The plugins whose fields are built in, with the version whose field set they match.
/// k8saudit's cloud variants (EKS, AKS, GKE, OVH) read the same audit events with the same
/// `ka.*` fields; only their event sources differ.
pub const PLUGINS: [(&str, &str); 6] = [
    ("k8saudit", "0.18.0"),
    ("k8saudit-eks", "0.12.0"),
    ("k8saudit-aks", "0.6.0"),
    ("k8saudit-gke", "0.9.0"),
    ("k8saudit-ovh", "0.6.0"),
    ("json", "0.7.0"),
];

/// The only event source this engine evaluates.
pub const SOURCE: &str = "k8s_audit";

/// A problem while loading rules: the file, the position and the item it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadMessage {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    /// `rule 'Name'`, `macro 'name'`, `list 'name'`, or empty for file-level problems; items of
    /// a FalcoAuditRules object are prefixed with it (`FalcoAuditRules name: rule 'Name'`).
    pub item: String,
    pub message: String,
}

impl fmt::Display for LoadMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.item.is_empty() {
            write!(f, ": {}", self.item)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error found while loading (loading goes on past the first one so all are reported).
#[derive(Debug)]
pub struct LoadErrors(pub Vec<LoadMessage>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// A loaded, compiled rule set.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub fields: Fields,
    pub warnings: Vec<LoadMessage>,
}

#[derive(Clone, Debug)]
struct Loc {
    file: Arc<str>,
    /// The cluster object the item came from (`FalcoAuditRules <name>`), if any.
    object: Option<Arc<str>>,
    line: u32,
    column: u32,
}

impl Loc {
    fn at(file: &Arc<str>, node: &Node) -> Self {
        Self { file: file.clone(), object: None, line: node.mark.line, column: node.mark.column }
    }

    /// `node`'s position in the same file and object.
    fn within(&self, node: &Node) -> Self {
        Self { line: node.mark.line, column: node.mark.column, ..self.clone() }
    }

    fn message(&self, item: &str, message: impl Into<String>) -> LoadMessage {
        let item = match (&self.object, item) {
            (Some(object), "") => object.to_string(),
            (Some(object), item) => format!("{object}: {item}"),
            (None, item) => item.to_string(),
        };
        LoadMessage { file: self.file.clone(), line: self.line, column: self.column, item, message: message.into() }
    }
}

#[derive(Debug)]
struct ListInfo {
    name: String,
    items: Vec<String>,
}

#[derive(Debug)]
struct MacroInfo {
    name: String,
    cond: String,
    loc: Loc,
    /// Macros with a lower index are visible to this one.
    visibility: usize,
}

#[derive(Clone, Debug)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone, Debug)]
enum ExValue {
    Item(String),
    List(Vec<String>),
}

#[derive(Clone, Debug)]
struct ExceptionInfo {
    name: String,
    fields: Option<OneOrMany>,
    comps: Option<OneOrMany>,
    /// One entry per exception tuple: a plain value (single-field form) or one value per field.
    values: Vec<Vec<ExValue>>,
    single_values: Vec<String>,
    loc: Loc,
}

#[derive(Debug)]
struct RuleInfo {
    name: String,
    cond: String,
    output: String,
    desc: String,
    priority: Priority,
    source: String,
    tags: BTreeSet<String>,
    enabled: bool,
    skip_if_unknown_filter: bool,
    exceptions: Vec<ExceptionInfo>,
    loc: Loc,
    cond_loc: Loc,
}

/// An ordered, name-indexed collection (Falco's `indexed_vector`): redefining a name replaces
/// the item in place.
#[derive(Debug)]
struct Indexed<T> {
    items: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T> Default for Indexed<T> {
    fn default() -> Self {
        Self { items: Vec::new(), index: HashMap::new() }
    }
}

impl<T> Indexed<T> {
    fn insert(&mut self, name: &str, item: T) -> usize {
        match self.index.get(name) {
            Some(&i) => {
                self.items[i] = item;
                i
            }
            None => {
                self.items.push(item);
                self.index.insert(name.to_string(), self.items.len() - 1);
                self.items.len() - 1
            }
        }
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.index.get(name).map(|&i| &mut self.items[i])
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

#[derive(Default)]
struct Collector {
    lists: Indexed<ListInfo>,
    macros: Indexed<MacroInfo>,
    rules: Indexed<RuleInfo>,
    errors: Vec<LoadMessage>,
    warnings: Vec<LoadMessage>,
}

/// Loads rules files in order (later files append to and override earlier ones).
pub fn load<S: AsRef<str>>(files: &[(S, S)]) -> Result<RuleSet, LoadErrors> {
    load_with_objects(files, "", &[])
}

/// Loads rules files, then FalcoAuditRules objects read from `source` (a cluster), in order;
/// messages about the objects name `source` where a file name would be.
pub fn load_with_objects<S: AsRef<str>>(files: &[(S, S)], source: &str, objects: &[Node]) -> Result<RuleSet, LoadErrors> {
    let mut collector = Collector::default();
    for (name, text) in files {
        collector.collect_file(Arc::from(name.as_ref()), text.as_ref());
    }
    let source = Arc::from(source);
    for object in objects {
        collector.collect_document(&source, object);
    }
    collector.compile()
}

fn scalar(node: &Node) -> Option<String> {
    Some(match &node.value {
        Value::Str(s) => s.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

fn strings(node: &Node) -> Option<Vec<String>> {
    match &node.value {
        Value::Seq(items) => items.iter().map(scalar).collect(),
        _ => None,
    }
}

fn one_or_many(node: &Node) -> Option<OneOrMany> {
    match &node.value {
        Value::Seq(_) => strings(node).map(OneOrMany::Many),
        _ => scalar(node).map(OneOrMany::One),
    }
}

fn parse_version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u64>().ok());
    let v = (parts.next()??, parts.next().unwrap_or(Some(0))?, parts.next().unwrap_or(Some(0))?);
    parts.next().is_none().then_some(v)
}

const RULE_APPEND_KEYS: [&str; 5] = ["condition", "output", "desc", "tags", "exceptions"];
const RULE_REPLACE_KEYS: [&str; 9] =
    ["condition", "output", "desc", "priority", "tags", "exceptions", "enabled", "warn_evttypes", "skip-if-unknown-filter"];
const RULE_KEYS: [&str; 15] = [
    "rule", "condition", "output", "desc", "priority", "source", "tags", "enabled", "exceptions", "append", "override",
    "warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration",
];
const LIST_KEYS: [&str; 4] = ["list", "items", "append", "override"];
const MACRO_KEYS: [&str; 4] = ["macro", "condition", "append", "override"];

impl Collector {
    fn collect_file(&mut self, file: Arc<str>, text: &str) {
        let limits = palisade_load::yaml::Limits::default();
        for document in palisade_load::yaml::parse_documents(text, &limits) {
            match document.result {
                Err(e) => self.errors.push(LoadMessage {
                    file: file.clone(),
                    line: e.line,
                    column: e.column,
                    item: String::new(),
                    message: format!("invalid YAML: {}", e.message),
                }),
                Ok(root) => self.collect_document(&file, &root),
            }
        }
    }

    /// One YAML document: FalcoAuditRules objects, or a sequence of Falco items.
    fn collect_document(&mut self, file: &Arc<str>, root: &Node) {
        if crate::falco_audit_rules::is_object(root) {
            for object in crate::falco_audit_rules::objects(root) {
                self.collect_falco_audit_rules(file, object);
            }
            return;
        }
        match &root.value {
            Value::Seq(items) => {
                for item in items {
                    self.collect_item(file, item);
                }
            }
            Value::Null => {}
            _ => self.errors.push(Loc::at(file, root).message("", "rules content is not a sequence of items (lists, macros, rules)")),
        }
    }

    fn collect_falco_audit_rules(&mut self, file: &Arc<str>, object: &Node) {
        let loc = Loc::at(file, object);
        match crate::falco_audit_rules::to_falco(object) {
            Ok(converted) => {
                let loc = Loc { object: Some(Arc::from(format!("FalcoAuditRules {}", converted.name))), ..loc };
                for pruned in &converted.pruned {
                    let message = format!("field '{}' ignored: the FalcoAuditRules schema has no such field, so the API server prunes it", pruned.field);
                    self.warnings.push(loc.within(pruned.node).message(&pruned.item, message));
                }
                for item in &converted.items {
                    self.collect_item_at(&loc.within(item), item);
                }
            }
            Err(message) => self.errors.push(loc.message("", message)),
        }
    }

    fn collect_item(&mut self, file: &Arc<str>, item: &Node) {
        self.collect_item_at(&Loc::at(file, item), item);
    }

    fn collect_item_at(&mut self, loc: &Loc, item: &Node) {
        let loc = loc.clone();
        let Some(map) = item.as_map() else {
            self.errors.push(loc.message("", "unexpected element type: each item must be a mapping"));
            return;
        };
        // Unknown keys are reported but do not stop loading, so rule files written for a newer
        // Falco still load.
        let known: &[&str] = if map.get("rule").is_some() {
            &RULE_KEYS
        } else if map.get("macro").is_some() {
            &MACRO_KEYS
        } else if map.get("list").is_some() {
            &LIST_KEYS
        } else {
            &[]
        };
        for (key, _) in map.iter().filter(|(k, _)| !known.is_empty() && !known.contains(k)) {
            self.warnings.push(loc.message("", format!("unexpected key '{key}' ignored")));
        }
        let result = if let Some(v) = map.get("required_engine_version") {
            self.engine_version(v).map_err(|m| (String::new(), m))
        } else if let Some(v) = map.get("required_plugin_versions") {
            self.plugin_versions(v).map_err(|m| (String::new(), m))
        } else if let Some(name) = map.get("list") {
            let name = scalar(name).unwrap_or_default();
            self.collect_list(&name, item).map_err(|m| (format!("list '{name}'"), m))
        } else if let Some(name) = map.get("macro") {
            let name = scalar(name).unwrap_or_default();
            self.collect_macro(&name, item, &loc).map_err(|m| (format!("macro '{name}'"), m))
        } else if let Some(name) = map.get("rule") {
            let name = scalar(name).unwrap_or_default();
            self.collect_rule(&name, item, &loc).map_err(|m| (format!("rule '{name}'"), m))
        } else {
            self.warnings.push(loc.message("", "unknown top level item: ignored"));
            Ok(())
        };
        if let Err((what, message)) = result {
            self.errors.push(loc.message(&what, message));
        }
    }

    fn engine_version(&self, node: &Node) -> Result<(), String> {
        let text = scalar(node).ok_or("required_engine_version must be a number or a version string")?;
        let required = match node.value {
            // The old numeric form counts minor versions of the 0.x engine.
            Value::Int(n) if n >= 0 => (0, n as u64, 0),
            _ => parse_version(&text).ok_or_else(|| format!("invalid required_engine_version '{text}'"))?,
        };
        if required > ENGINE_VERSION {
            let (a, b, c) = ENGINE_VERSION;
            return Err(format!("rules require engine version {text}, but this engine is {a}.{b}.{c}"));
        }
        Ok(())
    }

    fn plugin_versions(&self, node: &Node) -> Result<(), String> {
        let Value::Seq(items) = &node.value else { return Err("required_plugin_versions must be a sequence".into()) };
        for item in items {
            let mut candidates = vec![item];
            candidates.extend(item.get("alternatives").map(Node::as_seq).unwrap_or(&[]));
            let mut wanted = Vec::new();
            let satisfied = candidates.iter().any(|c| {
                let name = c.get("name").and_then(scalar).unwrap_or_default();
                let version = c.get("version").and_then(scalar).unwrap_or_default();
                wanted.push(format!("{name} {version}"));
                let required = parse_version(&version);
                PLUGINS.iter().any(|(p, v)| {
                    let provided = parse_version(v);
                    *p == name && matches!((provided, required), (Some(have), Some(need)) if have.0 == need.0 && have >= need)
                })
            });
            if !satisfied {
                return Err(format!(
                    "plugin requirement not satisfied: {} (built in: {})",
                    wanted.join(" or "),
                    PLUGINS.iter().map(|(p, v)| format!("{p} {v}")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Ok(())
    }

    /// `append: true` or `override: {key: append|replace}`, validated against the keys present.
    fn modifiers(
        item: &Node,
        append_keys: &[&str],
        replace_keys: &[&str],
    ) -> Result<(bool, HashMap<String, bool>), String> {
        let map = item.as_map().expect("checked by caller");
        let append = match map.get("append") {
            None => false,
            Some(Node { value: Value::Bool(b), .. }) => *b,
            Some(_) => return Err("'append' must be true or false".into()),
        };
        let mut overrides = HashMap::new();
        if let Some(node) = map.get("override") {
            if append {
                return Err("keys 'override' and 'append: true' cannot be used together".into());
            }
            let Some(entries) = node.as_map() else { return Err("'override' must be a mapping".into()) };
            for (key, how) in entries.iter() {
                let how = scalar(how).unwrap_or_default();
                let is_append = match how.as_str() {
                    "append" => true,
                    "replace" => false,
                    other => return Err(format!("override of '{key}' must be 'append' or 'replace', not '{other}'")),
                };
                let allowed = if is_append { append_keys } else { replace_keys };
                if !allowed.contains(&key) {
                    return Err(format!("key '{key}' cannot be overridden with '{how}'"));
                }
                if map.get(key).is_none() {
                    return Err(format!("key '{key}' must be defined when it is overridden"));
                }
                overrides.insert(key.to_string(), is_append);
            }
            for (key, _) in map.iter() {
                let name_key = ["rule", "macro", "list"].contains(&key);
                if !name_key && key != "override" && !overrides.contains_key(key) {
                    return Err(format!("key '{key}' is not listed in 'override'"));
                }
            }
        }
        Ok((append, overrides))
    }

    fn collect_list(&mut self, name: &str, item: &Node) -> Result<(), String> {
        if name.is_empty() {
            return Err("list name is empty".into());
        }
        let (append, overrides) =
            Self::modifiers(item, &["items"], &["items"])?;
        let items = item.get("items").map(|n| strings(n).ok_or("'items' must be a sequence of strings")).transpose()?;
        let items = items.ok_or("Item has no mapping for key 'items'")?;
        let appending = append || overrides.get("items") == Some(&true);
        if append || !overrides.is_empty() {
            let Some(prev) = self.lists.get_mut(name) else {
                return Err(format!("list has '{}' key but no list by that name already exists", kind(append)));
            };
            if appending {
                prev.items.extend(items);
            } else {
                prev.items = items;
            }
            return Ok(());
        }
        self.lists.insert(name, ListInfo { name: name.to_string(), items });
        Ok(())
    }

    fn collect_macro(&mut self, name: &str, item: &Node, loc: &Loc) -> Result<(), String> {
        if name.is_empty() {
            return Err("macro name is empty".into());
        }
        let (append, overrides) =
            Self::modifiers(item, &["condition"], &["condition"])?;
        let cond_node = item.get("condition").ok_or("Item has no mapping for key 'condition'")?;
        let cond = scalar(cond_node).ok_or("'condition' must be a string")?;
        let cond_loc = loc.within(cond_node);
        let visibility = self.macros.items.len();
        if append || !overrides.is_empty() {
            let Some(prev) = self.macros.get_mut(name) else {
                return Err(format!("macro has '{}' key but no macro by that name already exists", kind(append)));
            };
            if append || overrides.get("condition") == Some(&true) {
                prev.cond = format!("{} {cond}", prev.cond);
            } else {
                prev.cond = cond;
                prev.loc = cond_loc;
            }
            prev.visibility = visibility;
            return Ok(());
        }
        self.macros.insert(name, MacroInfo { name: name.to_string(), cond, loc: cond_loc, visibility });
        Ok(())
    }

    fn collect_rule(&mut self, name: &str, item: &Node, loc: &Loc) -> Result<(), String> {
        if name.is_empty() {
            return Err("rule name is empty".into());
        }
        let (append, overrides) = Self::modifiers(item, &RULE_APPEND_KEYS, &RULE_REPLACE_KEYS)?;
        let map = item.as_map().expect("checked by caller");
        let text = |key: &str| -> Result<Option<String>, String> {
            map.get(key).map(|n| scalar(n).ok_or_else(|| format!("'{key}' must be a string"))).transpose()
        };
        let flag = |key: &str| -> Result<Option<bool>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(Node { value: Value::Bool(b), .. }) => Ok(Some(*b)),
                Some(_) => Err(format!("'{key}' must be true or false")),
            }
        };
        let tags = map
            .get("tags")
            .map(|n| strings(n).ok_or("'tags' must be a sequence of strings"))
            .transpose()?;
        let exceptions = map.get("exceptions").map(|n| parse_exceptions(loc, n)).transpose()?;
        let priority =
            text("priority")?.map(|p| Priority::parse(&p).ok_or_else(|| format!("invalid priority '{p}'"))).transpose()?;
        let cond_loc = map.get("condition").map_or_else(|| loc.clone(), |n| loc.within(n));

        // `- rule: X` with only `enabled`: switch an existing rule on or off.
        let only_enabled = map.len() == 2 && map.get("enabled").is_some();
        if append || !overrides.is_empty() || only_enabled {
            let Some(prev) = self.rules.get_mut(name) else {
                let key = if only_enabled { "enabled" } else { kind(append) };
                return Err(format!("rule has '{key}' key but no rule by that name already exists"));
            };
            let mode = |key: &str| -> Option<bool> {
                if append { Some(true) } else if only_enabled { Some(false) } else { overrides.get(key).copied() }
            };
            if append && ["condition", "output", "desc", "tags", "exceptions"].iter().all(|k| map.get(k).is_none()) {
                return Err("appended rule must have exceptions or condition property".into());
            }
            if let (Some(cond), Some(how)) = (text("condition")?, mode("condition")) {
                prev.cond = if how { format!("{} {cond}", prev.cond) } else { cond };
                prev.cond_loc = cond_loc;
            }
            if let (Some(output), Some(how)) = (text("output")?, mode("output")) {
                prev.output = if how { format!("{} {output}", prev.output) } else { output };
            }
            if let (Some(desc), Some(how)) = (text("desc")?, mode("desc")) {
                prev.desc = if how { format!("{} {desc}", prev.desc) } else { desc };
            }
            if let (Some(tags), Some(how)) = (tags, mode("tags")) {
                if !how {
                    prev.tags.clear();
                }
                prev.tags.extend(tags);
            }
            // Priority and switches can only be replaced, never appended to.
            if !append {
                if let Some(p) = priority {
                    prev.priority = p;
                }
                if let Some(enabled) = flag("enabled")? {
                    prev.enabled = enabled;
                }
                if let Some(skip) = flag("skip-if-unknown-filter")? {
                    prev.skip_if_unknown_filter = skip;
                }
            }
            if let (Some(exceptions), Some(how)) = (exceptions, mode("exceptions")) {
                if how {
                    append_exceptions(&mut prev.exceptions, exceptions)?;
                } else {
                    prev.exceptions = exceptions;
                }
            }
            return Ok(());
        }

        let required = |key: &str| -> Result<String, String> {
            text(key)?.ok_or_else(|| format!("Item has no mapping for key '{key}'"))
        };
        let rule = RuleInfo {
            name: name.to_string(),
            cond: required("condition")?,
            output: required("output")?,
            desc: required("desc")?,
            priority: priority.ok_or("Item has no mapping for key 'priority'")?,
            source: text("source")?.unwrap_or_else(|| "syscall".to_string()),
            tags: tags.unwrap_or_default().into_iter().collect(),
            enabled: flag("enabled")?.unwrap_or(true),
            skip_if_unknown_filter: flag("skip-if-unknown-filter")?.unwrap_or(false),
            exceptions: exceptions.unwrap_or_default(),
            loc: loc.clone(),
            cond_loc,
        };
        for ex in &rule.exceptions {
            if ex.fields.is_none() {
                return Err(format!("exception '{}': Item has no mapping for key 'fields'", ex.name));
            }
        }
        if self.rules.get_mut(name).is_some_and(|prev| prev.source != rule.source) {
            return Err("rule has been re-defined with a different source".into());
        }
        self.rules.insert(name, rule);
        Ok(())
    }

    fn compile(self) -> Result<RuleSet, LoadErrors> {
        let Collector { lists, macros, rules, mut errors, mut warnings } = self;
        // Lists: items naming an earlier list are replaced by that list's items.
        let mut expanded: Vec<(String, Vec<String>)> = Vec::with_capacity(lists.items.len());
        for (i, list) in lists.items.iter().enumerate() {
            let mut items = Vec::new();
            for item in &list.items {
                match lists.position(item).filter(|&j| j < i) {
                    Some(j) => items.extend(expanded[j].1.iter().cloned()),
                    None => items.push(item.clone()),
                }
            }
            expanded.push((list.name.clone(), items));
        }

        // Macros: parsed once each, after pasting lists.
        let mut parsed: Vec<Option<Expr>> = Vec::with_capacity(macros.items.len());
        for m in &macros.items {
            let text = paste_lists(&m.cond, &expanded);
            match parser::parse(&text) {
                Ok(expr) => parsed.push(Some(expr)),
                Err(e) => {
                    errors.push(condition_error(&m.loc, &format!("macro '{}'", m.name), &text, e.offset, &e.message));
                    parsed.push(None);
                }
            }
        }
        let expander = Expander { macros: &macros, parsed: &parsed };

        let mut fields = Fields::default();
        let mut compiled = Vec::new();
        let mut skipped_sources = BTreeSet::new();
        for r in &rules.items {
            let what = format!("rule '{}'", r.name);
            if r.source != SOURCE {
                skipped_sources.insert(r.source.clone());
                continue;
            }
            let mut cond = r.cond.clone();
            if let Err(message) = add_exceptions(&mut cond, &r.exceptions) {
                errors.push(r.loc.message(&what, message));
                continue;
            }
            let text = paste_lists(&cond, &expanded);
            let expr = match parser::parse(&text) {
                Ok(expr) => expr,
                Err(e) => {
                    errors.push(condition_error(&r.cond_loc, &what, &text, e.offset, &e.message));
                    continue;
                }
            };
            let expr = match expander.expand(expr, macros.items.len(), 0) {
                Ok(expr) => expr,
                Err(message) => {
                    errors.push(r.cond_loc.message(&what, message));
                    continue;
                }
            };
            let condition: Cond = match fields.compile(&expr) {
                Ok(node) => node,
                Err(e) if r.skip_if_unknown_filter && e.message.contains("nonexistent field") => {
                    warnings.push(r.cond_loc.message(&what, format!("{}; rule skipped", e.message)));
                    continue;
                }
                Err(e) => {
                    errors.push(r.cond_loc.message(&what, e.message));
                    continue;
                }
            };
            let output = match OutputFormat::parse(&r.output, &mut fields) {
                Ok(output) => output,
                Err(message) => {
                    errors.push(r.loc.message(&what, format!("invalid output format '{}': {message}", r.output)));
                    continue;
                }
            };
            compiled.push(Rule {
                name: r.name.clone(),
                desc: r.desc.clone(),
                priority: r.priority,
                source: r.source.clone(),
                tags: r.tags.iter().cloned().collect(),
                enabled: r.enabled,
                output,
                condition,
            });
        }
        for source in skipped_sources {
            warnings.push(LoadMessage {
                file: Arc::from("rules"),
                line: 0,
                column: 0,
                item: String::new(),
                message: format!("rules for source '{source}' skipped: only '{SOURCE}' events are evaluated"),
            });
        }
        if errors.is_empty() { Ok(RuleSet { rules: compiled, fields, warnings }) } else { Err(LoadErrors(errors)) }
    }
}

fn kind(append: bool) -> &'static str {
    if append { "append" } else { "override" }
}

fn parse_exceptions(loc: &Loc, node: &Node) -> Result<Vec<ExceptionInfo>, String> {
    let Value::Seq(items) = &node.value else { return Err("'exceptions' must be a sequence".into()) };
    let mut out = Vec::new();
    for item in items {
        let name = item.get("name").and_then(scalar).ok_or("exception has no 'name'")?;
        let err = |m: &str| format!("exception '{name}': {m}");
        let fields = item.get("fields").map(|n| one_or_many(n).ok_or_else(|| err("'fields' must be a string or a sequence"))).transpose()?;
        let comps = item.get("comps").map(|n| one_or_many(n).ok_or_else(|| err("'comps' must be a string or a sequence"))).transpose()?;
        let mut values = Vec::new();
        let mut single_values = Vec::new();
        if let Some(v) = item.get("values") {
            let Value::Seq(tuples) = &v.value else { return Err(err("'values' must be a sequence")) };
            for tuple in tuples {
                match &tuple.value {
                    Value::Seq(parts) => values.push(
                        parts
                            .iter()
                            .map(|p| match &p.value {
                                Value::Seq(_) => strings(p).map(ExValue::List),
                                _ => scalar(p).map(ExValue::Item),
                            })
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| err("values must be strings or lists of strings"))?,
                    ),
                    _ => single_values.push(scalar(tuple).ok_or_else(|| err("values must be strings"))?),
                }
            }
        }
        out.push(ExceptionInfo { name, fields, comps, values, single_values, loc: loc.within(item) });
    }
    Ok(out)
}

/// Falco's rules for appending exceptions: an existing exception (by name) takes more values
/// only; a new one needs its fields and values.
fn append_exceptions(existing: &mut Vec<ExceptionInfo>, new: Vec<ExceptionInfo>) -> Result<(), String> {
    for ex in new {
        match existing.iter_mut().find(|e| e.name == ex.name) {
            Some(_) if ex.fields.is_some() || ex.comps.is_some() => {
                return Err(format!(
                    "exception '{}': can not append exception fields or comps to an existing exception, only values",
                    ex.name
                ));
            }
            Some(prev) => {
                prev.values.extend(ex.values);
                prev.single_values.extend(ex.single_values);
            }
            None if ex.fields.is_none() => {
                return Err(format!("exception '{}': rule exception must have fields property with a list of fields", ex.name));
            }
            None if ex.values.is_empty() && ex.single_values.is_empty() => {
                return Err(format!("exception '{}': rule exception must have values property with a list of values", ex.name));
            }
            None => existing.push(ex),
        }
    }
    Ok(())
}

/// Falco's quoting of list and exception items: quoted only when they hold a space.
fn quote(item: &str) -> String {
    if item.contains(' ') && !item.starts_with('"') && !item.starts_with('\'') {
        format!("\"{item}\"")
    } else {
        item.to_string()
    }
}

/// Builds `(cond) and not (...)` clauses from exceptions, as Falco's rule compiler does.
fn add_exceptions(cond: &mut String, exceptions: &[ExceptionInfo]) -> Result<(), String> {
    if exceptions.is_empty() {
        return Ok(());
    }
    *cond = format!("({cond})");
    for ex in exceptions {
        let err = |m: String| format!("exception '{}' ({}:{}): {m}", ex.name, ex.loc.line, ex.loc.column);
        let clause = match &ex.fields {
            None => return Err(err("Item has no mapping for key 'fields'".into())),
            Some(OneOrMany::One(field)) => {
                let comp = match &ex.comps {
                    None => "in".to_string(),
                    Some(OneOrMany::One(c)) => c.clone(),
                    Some(OneOrMany::Many(_)) => return Err(err("fields and comps must both be strings".into())),
                };
                if !["in", "pmatch", "intersects"].contains(&comp.as_str()) {
                    return Err(err("when fields is a single value, comps must be one of (in, pmatch, intersects)".into()));
                }
                if !ex.values.is_empty() {
                    return Err(err("expected values array to contain a list of strings".into()));
                }
                if ex.single_values.is_empty() {
                    String::new()
                } else {
                    let items: Vec<String> = ex.single_values.iter().map(|v| quote(v)).collect();
                    format!("({field} {comp} ({}))", items.join(", "))
                }
            }
            Some(OneOrMany::Many(fields)) => {
                let comps = match &ex.comps {
                    None => vec!["=".to_string(); fields.len()],
                    Some(OneOrMany::Many(c)) => c.clone(),
                    Some(OneOrMany::One(_)) => return Err(err("fields and comps must both be lists".into())),
                };
                if comps.len() != fields.len() {
                    return Err(err("fields and comps lists must have equal length".into()));
                }
                if let Some(c) = comps.iter().find(|c| Op::from_name(c).is_none() && c.as_str() != "exists") {
                    return Err(err(format!("'{c}' is not a supported comparison operator")));
                }
                if !ex.single_values.is_empty() {
                    return Err(err("values must be lists, one value per field".into()));
                }
                let mut tuples = Vec::new();
                for tuple in &ex.values {
                    if tuple.len() != fields.len() {
                        return Err(err("fields and values lists must have equal length".into()));
                    }
                    let parts: Vec<String> = fields
                        .iter()
                        .zip(&comps)
                        .zip(tuple)
                        .map(|((field, comp), value)| {
                            let value = match value {
                                ExValue::List(items) => {
                                    format!("({})", items.iter().map(|i| quote(i)).collect::<Vec<_>>().join(", "))
                                }
                                ExValue::Item(v) if Op::from_name(comp).is_some_and(Op::takes_list) => {
                                    if v.starts_with('(') { v.clone() } else { format!("({v})") }
                                }
                                ExValue::Item(v) => quote(v),
                            };
                            format!(" {field} {comp} {value}")
                        })
                        .collect();
                    tuples.push(format!("({})", parts.join(" and")));
                }
                if tuples.is_empty() { String::new() } else { format!("({})", tuples.join(" or ")) }
            }
        };
        if !clause.is_empty() {
            cond.push_str(" and not ");
            cond.push_str(&clause);
        }
    }
    Ok(())
}

/// Falco's textual list substitution: a list name bounded by blanks, parentheses, commas, `=`
/// or the ends of the condition is replaced by its items, separated by ", ".
fn paste_lists(cond: &str, lists: &[(String, Vec<String>)]) -> String {
    const BLANKS: &[u8] = b" \t\n\r";
    const DELIMS: &[u8] = b" \t\n\r(),=";
    let mut cnd = cond.to_string();
    for (name, items) in lists {
        if name.is_empty() {
            continue;
        }
        let mut search_from = 0;
        while let Some(found) = cnd[search_from..].find(name.as_str()) {
            let mut start = search_from + found;
            let mut end = start + name.len();
            let bytes = cnd.as_bytes();
            let bounded = (start == 0 || DELIMS.contains(&bytes[start - 1]))
                && (end >= bytes.len() || DELIMS.contains(&bytes[end]));
            if !bounded {
                search_from = start + 1;
                continue;
            }
            while start > 0 && BLANKS.contains(&bytes[start - 1]) {
                start -= 1;
            }
            while end < bytes.len() && BLANKS.contains(&bytes[end]) {
                end += 1;
            }
            let sub = items.iter().map(|i| quote(i)).collect::<Vec<_>>().join(", ");
            if sub.is_empty() {
                // An empty list also takes a neighbouring comma with it.
                if start > 0 && bytes[start - 1] == b',' {
                    start -= 1;
                } else if end < bytes.len() && bytes[end] == b',' {
                    end += 1;
                }
            }
            let mut next = String::with_capacity(cnd.len() + sub.len());
            if start > 0 {
                next.push_str(&cnd[..start]);
                next.push(' ');
            }
            next.push_str(&sub);
            next.push(' ');
            next.push_str(&cnd[end..]);
            search_from = (if start > 0 { start + 1 } else { 0 }) + sub.len() + 1;
            cnd = next;
            if search_from > cnd.len() {
                break;
            }
        }
    }
    cnd
}

fn condition_error(loc: &Loc, what: &str, text: &str, offset: usize, message: &str) -> LoadMessage {
    let (line, column) = parser::line_col(text, offset);
    let offset = offset.min(text.len());
    let mut start = offset.saturating_sub(30);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (offset + 30).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let snippet = format!("{}<here>{}", &text[start..offset], &text[offset..end]);
    loc.message(what, format!("condition: {message} (at line {line}, column {column} of the condition: \"{snippet}\")"))
}

/// Expands macro references into the rule's tree, honouring macro visibility.
struct Expander<'a> {
    macros: &'a Indexed<MacroInfo>,
    parsed: &'a [Option<Expr>],
}

impl Expander<'_> {
    fn expand(&self, expr: Expr, visible: usize, depth: usize) -> Result<Expr, String> {
        if depth > 64 {
            return Err("macros nest more than 64 levels deep (a macro may refer to itself)".into());
        }
        Ok(match expr {
            Expr::And(children) => {
                Expr::And(children.into_iter().map(|c| self.expand(c, visible, depth)).collect::<Result<_, _>>()?)
            }
            Expr::Or(children) => {
                Expr::Or(children.into_iter().map(|c| self.expand(c, visible, depth)).collect::<Result<_, _>>()?)
            }
            Expr::Not(child) => Expr::Not(Box::new(self.expand(*child, visible, depth)?)),
            Expr::Ident { name, .. } => {
                let Some(i) = self.macros.position(&name).filter(|&i| i < visible) else {
                    return Err(format!("Undefined macro '{name}' used in filter."));
                };
                let Some(body) = &self.parsed[i] else {
                    return Err(format!("macro '{name}' has an invalid condition"));
                };
                self.expand(body.clone(), self.macros.items[i].visibility, depth + 1)?
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pasting_follows_falco() {
        let lists = vec![("l".to_string(), vec!["a b".to_string(), "c".to_string()]), ("e".to_string(), vec![])];
        assert_eq!(paste_lists("x in (l)", &lists), "x in ( \"a b\", c )");
        assert_eq!(paste_lists("x in (l, e)", &lists), "x in ( \"a b\", c   )");
        assert_eq!(paste_lists("x in (e, d)", &lists), "x in (   d)");
        assert_eq!(paste_lists("x in (ll, l_x)", &lists), "x in (ll, l_x)");
    }

    #[test]
    fn exceptions_become_clauses() {
        let loc = Loc { file: Arc::from("f"), object: None, line: 1, column: 1 };
        let ex = |fields, comps, values, single_values| ExceptionInfo {
            name: "e".into(),
            fields: Some(fields),
            comps,
            values,
            single_values,
            loc: loc.clone(),
        };
        let mut cond = "a".to_string();
        add_exceptions(
            &mut cond,
            &[
                ex(OneOrMany::One("ka.verb".into()), None, vec![], vec!["get".into(), "a b".into()]),
                ex(
                    OneOrMany::Many(vec!["ka.user.name".into(), "ka.verb".into()]),
                    Some(OneOrMany::Many(vec!["endswith".into(), "in".into()])),
                    vec![vec![ExValue::Item("@x".into()), ExValue::List(vec!["get".into()])]],
                    vec![],
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            cond,
            "(a) and not (ka.verb in (get, \"a b\")) and not (( ka.user.name endswith @x and ka.verb in (get)))"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("0.31.0"), Some((0, 31, 0)));
        assert_eq!(parse_version("1.2"), Some((1, 2, 0)));
        assert_eq!(parse_version("x"), None);
    }
}

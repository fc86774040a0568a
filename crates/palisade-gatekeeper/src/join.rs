//! Inventory joins. A template that compares the review with every object of a kind in
//! `data.inventory` on an equal key (the library's uniqueness templates: Ingress hosts, Service
//! selectors) walks the whole inventory for each review, so judging the n objects of a scan
//! takes n² steps. When the Rego has exactly that shape and nothing else can read the inventory,
//! the objects are indexed by their key and each review is evaluated against the objects that
//! share a key with it: only those can satisfy the equality, so the verdicts are the ones the
//! whole inventory gives (the tests compare both on the library's suites and on random objects).
//!
//! The shape, found in the Rego's syntax tree (any doubt means no join, and the whole inventory):
//! in a body of `violation`, `other := data.inventory...` is the template's only reference to
//! `data.inventory` (no import of it, no `with` on `data`, no dynamic `data[...]`), and another
//! expression of that body is `a == b`, where `a` is a key of `other` and `b` the same key of
//! `input.review.object`: paths with `[_]`, literal indexes and calls of deterministic functions,
//! through variables assigned once in the body.

use std::collections::HashMap;

use regorus::unstable::{AssignOp, BoolOp, Expr, Literal, LiteralStmt, Module, Query, Ref, Rule, RuleHead, BUILTINS};

/// The name of the rule added to the template's package to compute a review's keys.
pub(crate) const KEY_RULE: &str = "palisade_inventory_join_key";

/// The field of `input` that carries a review's part of the inventory, given to the template
/// as `data.inventory` by a `with`: the template reads only `input.review` and
/// `input.parameters`, so it cannot see the field.
pub(crate) const INVENTORY_INPUT: &str = "palisade_join_inventory";

/// A join the inventory can be indexed for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Join {
    /// The segments under `data.inventory` to the joined objects: a name, or `None` where the
    /// Rego iterates or looks up by a variable.
    pub path: Vec<Option<String>>,
    /// A rule (in the template's package) whose values are the keys of `input.review.object`.
    pub key_rule: String,
}

/// The join of the template whose package is `package` (`data.` omitted), among `modules` (its
/// Rego and libs).
pub(crate) fn find(modules: &[Ref<Module>], package: &str) -> Option<Join> {
    let mut references = Vec::new();
    for module in modules {
        if module.imports.iter().any(|import| reads_inventory(import.refr.span().text())) {
            return None;
        }
        for rule in &module.policy {
            walk_rule(rule, &mut |event| match event {
                Event::DataRef(expr, Some(first)) if first == "inventory" => {
                    references.push(expr as *const Expr);
                    true
                }
                Event::DataRef(_, Some(_)) => true,
                Event::DataRef(_, None) | Event::With => false,
                Event::InputRef(_, prefix) => matches!(prefix.first().map(String::as_str), Some("review" | "parameters")),
                Event::Expr(Expr::Var { span, .. }) => !matches!(span.text(), "data" | "input"),
                Event::Expr(_) | Event::VarRef(..) => true,
            })?;
        }
    }
    let [reference] = references[..] else { return None };
    let module = modules.iter().find(|module| module.package.refr.span().text() == package)?;
    let functions = Functions::of(module);
    if functions.0.contains_key(KEY_RULE) {
        return None;
    }
    for rule in &module.policy {
        let Rule::Spec { head: RuleHead::Set { refr, .. } | RuleHead::Compr { refr, .. }, bodies, .. } = rule.as_ref() else { continue };
        if refr.span().text() != "violation" {
            continue;
        }
        for body in bodies {
            if let Some(join) = join_in(&body.query, reference, &functions) {
                return Some(join);
            }
        }
    }
    None
}

fn reads_inventory(path: &str) -> bool {
    let path = path.trim();
    path == "data" || path.starts_with("data[") || path.starts_with("data.inventory")
}

fn join_in(query: &Query, reference: *const Expr, functions: &Functions<'_>) -> Option<Join> {
    let assignments = assignments(query);
    let (other, path) = query.stmts.iter().find_map(|stmt| {
        let (variable, value) = assignment(stmt)?;
        (std::ptr::eq(value, reference) && variable != "_").then(|| (variable, inventory_path(value)))
    })?;
    let path = path.filter(|path| !path.is_empty())?;
    let keys = Keys { other, assignments: &assignments, functions };
    for stmt in &query.stmts {
        let Literal::Expr { expr, .. } = &stmt.literal else { continue };
        let Expr::BoolExpr { op: BoolOp::Eq, lhs, rhs, .. } = expr.as_ref() else { continue };
        if !stmt.with_mods.is_empty() {
            continue;
        }
        let (Some(left), Some(right)) = (keys.of(lhs, 0), keys.of(rhs, 0)) else { continue };
        let review = match (left.side(), right.side()) {
            (Some(Side::Other), Some(Side::Review)) if left.mirrored() == right => right,
            (Some(Side::Review), Some(Side::Other)) if right.mirrored() == left => left,
            _ => continue,
        };
        return Some(Join { path, key_rule: format!("{KEY_RULE}[key] {{ key := {} }}", review.rego()) });
    }
    None
}

/// `variable := value` (or `=`), outside any `with`.
fn assignment(stmt: &LiteralStmt) -> Option<(&str, &Expr)> {
    let Literal::Expr { expr, .. } = &stmt.literal else { return None };
    let Expr::AssignExpr { op: AssignOp::ColEq | AssignOp::Eq, lhs, rhs, .. } = expr.as_ref() else { return None };
    let Expr::Var { span, .. } = lhs.as_ref() else { return None };
    stmt.with_mods.is_empty().then(|| (span.text(), rhs.as_ref()))
}

/// The variables assigned exactly once in the body, with their values. A variable assigned (or
/// unified) more than once is left out: its values are not one expression's.
fn assignments(query: &Query) -> HashMap<&str, &Expr> {
    let mut counts: HashMap<&str, (usize, &Expr)> = HashMap::new();
    for (variable, value) in query.stmts.iter().filter_map(assignment) {
        counts.entry(variable).or_insert((0, value)).0 += 1;
    }
    counts.into_iter().filter(|(_, (count, _))| *count == 1).map(|(variable, (_, value))| (variable, value)).collect()
}

/// The segments of `data.inventory.<segments>`.
fn inventory_path(expr: &Expr) -> Option<Vec<Option<String>>> {
    let (root, segments) = chain(expr);
    let Expr::Var { span, .. } = root else { return None };
    if span.text() != "data" {
        return None;
    }
    let mut names = segments.into_iter().map(|segment| match segment {
        Segment::Name(name) => Some(name),
        Segment::Index(_) => None,
    });
    (names.next()? == Some("inventory".to_owned())).then(|| names.collect())
}

pub(crate) enum Segment<'a> {
    Name(String),
    Index(&'a Expr),
}

impl Segment<'_> {
    /// The key of a constant segment.
    pub(crate) fn name(&self) -> Option<String> {
        match self {
            Segment::Name(name) => Some(name.clone()),
            Segment::Index(_) => None,
        }
    }
}

/// A reference's root and its segments, innermost first.
pub(crate) fn chain(expr: &Expr) -> (&Expr, Vec<Segment<'_>>) {
    let mut segments = Vec::new();
    let mut node = expr;
    loop {
        match node {
            Expr::RefDot { refr, field, .. } => {
                segments.push(Segment::Name(field.0.text().to_owned()));
                node = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                segments.push(match index.as_ref() {
                    Expr::String { value, .. } | Expr::RawString { value, .. } => match value.as_string() {
                        Ok(name) => Segment::Name(name.to_string()),
                        Err(_) => Segment::Index(index),
                    },
                    _ => Segment::Index(index),
                });
                node = refr;
            }
            _ => break,
        }
    }
    segments.reverse();
    (node, segments)
}

/// Which object a key is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Other,
    Review,
}

/// A key: a path from one object, with `[_]`, literal indexes and deterministic calls.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Root(Side),
    Field(Box<Key>, String),
    Each(Box<Key>),
    Index(Box<Key>, String),
    Call(String, Vec<Key>),
    Constant(String),
}

impl Key {
    /// The one side every root of the key is on.
    fn side(&self) -> Option<Side> {
        let mut sides = Vec::new();
        self.collect_sides(&mut sides);
        sides.dedup();
        match sides[..] {
            [side] => Some(side),
            _ => None,
        }
    }

    fn collect_sides(&self, sides: &mut Vec<Side>) {
        match self {
            Key::Root(side) => sides.push(*side),
            Key::Field(inner, _) | Key::Each(inner) | Key::Index(inner, _) => inner.collect_sides(sides),
            Key::Call(_, arguments) => arguments.iter().for_each(|argument| argument.collect_sides(sides)),
            Key::Constant(_) => {}
        }
        sides.sort_by_key(|side| *side as u8);
    }

    /// The same key of the other object.
    fn mirrored(&self) -> Key {
        match self {
            Key::Root(Side::Other) => Key::Root(Side::Review),
            Key::Root(Side::Review) => Key::Root(Side::Other),
            Key::Field(inner, name) => Key::Field(Box::new(inner.mirrored()), name.clone()),
            Key::Each(inner) => Key::Each(Box::new(inner.mirrored())),
            Key::Index(inner, index) => Key::Index(Box::new(inner.mirrored()), index.clone()),
            Key::Call(function, arguments) => Key::Call(function.clone(), arguments.iter().map(Key::mirrored).collect()),
            Key::Constant(text) => Key::Constant(text.clone()),
        }
    }

    /// The key as Rego, its object being `input.review.object`.
    fn rego(&self) -> String {
        match self {
            Key::Root(_) => "input.review.object".to_owned(),
            Key::Field(inner, name) => format!("{}[{}]", inner.rego(), serde_json::Value::from(name.as_str())),
            Key::Each(inner) => format!("{}[_]", inner.rego()),
            Key::Index(inner, index) => format!("{}[{index}]", inner.rego()),
            Key::Call(function, arguments) => format!("{function}({})", arguments.iter().map(Key::rego).collect::<Vec<_>>().join(", ")),
            Key::Constant(text) => text.clone(),
        }
    }
}

/// Deepest chain of assignments or function calls followed.
const DEPTH: usize = 8;

struct Keys<'a> {
    other: &'a str,
    assignments: &'a HashMap<&'a str, &'a Expr>,
    functions: &'a Functions<'a>,
}

impl Keys<'_> {
    fn of(&self, expr: &Expr, depth: usize) -> Option<Key> {
        if depth > DEPTH {
            return None;
        }
        match expr {
            Expr::Var { span, .. } => match span.text() {
                name if name == self.other => Some(Key::Root(Side::Other)),
                name => self.of(self.assignments.get(name)?, depth + 1),
            },
            Expr::String { span, .. } | Expr::RawString { span, .. } | Expr::Number { span, .. } | Expr::Bool { span, .. } | Expr::Null { span, .. } => {
                Some(Key::Constant(span.text().to_owned()))
            }
            Expr::RefDot { .. } | Expr::RefBrack { .. } => {
                let (root, segments) = chain(expr);
                let mut segments = segments.into_iter().peekable();
                let mut key = match root {
                    Expr::Var { span, .. } if span.text() == "input" => {
                        for expected in ["review", "object"] {
                            match segments.next() {
                                Some(Segment::Name(name)) if name == expected => {}
                                _ => return None,
                            }
                        }
                        Key::Root(Side::Review)
                    }
                    _ => self.of(root, depth + 1)?,
                };
                for segment in segments {
                    key = match segment {
                        Segment::Name(name) => Key::Field(Box::new(key), name),
                        Segment::Index(Expr::Var { span, .. }) if span.text() == "_" => Key::Each(Box::new(key)),
                        Segment::Index(Expr::Number { span, .. } | Expr::Bool { span, .. } | Expr::Null { span, .. }) => Key::Index(Box::new(key), span.text().to_owned()),
                        Segment::Index(_) => return None,
                    };
                }
                Some(key)
            }
            Expr::Call { fcn, params, .. } => {
                let function = fcn.span().text().to_owned();
                if !self.functions.deterministic(&function, 0) {
                    return None;
                }
                let arguments = params.iter().map(|param| self.of(param, depth + 1)).collect::<Option<Vec<_>>>()?;
                Some(Key::Call(function, arguments))
            }
            _ => None,
        }
    }
}

/// The functions the template's package defines, by name.
struct Functions<'a>(HashMap<&'a str, Vec<&'a Rule>>);

/// Built-ins whose result is not a function of their arguments.
const NONDETERMINISTIC: [&str; 10] = ["http.", "time.now", "rand.", "uuid.", "opa.", "net.", "trace", "print", "io.jwt.encode", "external_data"];

/// Whether a call of `name` may give another result for the same arguments.
pub(crate) fn nondeterministic(name: &str) -> bool {
    NONDETERMINISTIC.iter().any(|prefix| name.starts_with(prefix))
}

impl<'a> Functions<'a> {
    fn of(module: &'a Module) -> Self {
        let mut functions: HashMap<&str, Vec<&Rule>> = HashMap::new();
        for rule in &module.policy {
            let name = match rule.as_ref() {
                Rule::Spec { head: RuleHead::Func { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Compr { refr, .. }, .. } => refr.span().text(),
                Rule::Default { refr, .. } => refr.span().text(),
            };
            functions.entry(name).or_default().push(rule.as_ref());
        }
        Functions(functions)
    }

    /// Whether `name` is a built-in or a function of the package whose result depends on its
    /// arguments only: no `input`, no `data`, no `with`, no nondeterministic built-in.
    fn deterministic(&self, name: &str, depth: usize) -> bool {
        if depth > DEPTH {
            return false;
        }
        let Some(rules) = self.0.get(name) else {
            return BUILTINS.contains_key(name) && !nondeterministic(name);
        };
        rules.iter().all(|rule| {
            walk_rule(rule, &mut |event| match event {
                Event::Expr(Expr::Var { span, .. }) => !matches!(span.text(), "input" | "data"),
                Event::Expr(Expr::Call { fcn, .. }) => self.deterministic(fcn.span().text(), depth + 1),
                Event::Expr(_) | Event::VarRef(..) => true,
                Event::DataRef(..) | Event::InputRef(..) | Event::With => false,
            })
            .is_some()
        })
    }
}

/// What a walk over the syntax tree meets.
pub(crate) enum Event<'a> {
    /// A reference rooted at `data`, with its first segment's name (`None` when dynamic).
    DataRef(&'a Expr, Option<String>),
    /// A reference rooted at `input`, with the names of its segments up to the first dynamic
    /// one (`input.review.object.spec.containers[_].name`: review, object, spec, containers).
    InputRef(&'a Expr, Vec<String>),
    /// A reference rooted at another variable, with the variable and the names of its segments
    /// up to the first dynamic one.
    VarRef(&'a Expr, &'a str, Vec<String>),
    /// A `with` modifier.
    With,
    /// Any other expression.
    Expr(&'a Expr),
}

/// Visits every expression of a rule; `None` as soon as `visit` refuses one.
pub(crate) fn walk_rule<'a>(rule: &'a Rule, visit: &mut impl FnMut(Event<'a>) -> bool) -> Option<()> {
    match rule {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    walk_expr(refr, visit)?;
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit)?;
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    walk_expr(refr, visit)?;
                    if let Some(key) = key {
                        walk_expr(key, visit)?;
                    }
                }
                RuleHead::Func { refr, args, assign, .. } => {
                    walk_expr(refr, visit)?;
                    for arg in args {
                        walk_expr(arg, visit)?;
                    }
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit)?;
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    walk_expr(&assign.value, visit)?;
                }
                walk_query(&body.query, visit)?;
            }
        }
        Rule::Default { refr, args, value, .. } => {
            walk_expr(refr, visit)?;
            for arg in args {
                walk_expr(arg, visit)?;
            }
            walk_expr(value, visit)?;
        }
    }
    Some(())
}

fn walk_query<'a>(query: &'a Query, visit: &mut impl FnMut(Event<'a>) -> bool) -> Option<()> {
    for stmt in &query.stmts {
        if !stmt.with_mods.is_empty() && !visit(Event::With) {
            return None;
        }
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn { key, value, collection, .. } => {
                if let Some(key) = key {
                    walk_expr(key, visit)?;
                }
                walk_expr(value, visit)?;
                walk_expr(collection, visit)?;
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => walk_expr(expr, visit)?,
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, visit)?;
                walk_query(query, visit)?;
            }
        }
    }
    Some(())
}

fn walk_expr<'a>(expr: &'a Expr, visit: &mut impl FnMut(Event<'a>) -> bool) -> Option<()> {
    match expr {
        Expr::RefDot { .. } | Expr::RefBrack { .. } => {
            let (root, segments) = chain(expr);
            let names: Vec<String> = segments.iter().map_while(Segment::name).collect();
            let event = match root {
                Expr::Var { span, .. } if span.text() == "data" => Some(Event::DataRef(expr, names.into_iter().next())),
                Expr::Var { span, .. } if span.text() == "input" => Some(Event::InputRef(expr, names)),
                Expr::Var { span, .. } => Some(Event::VarRef(expr, span.text(), names)),
                _ => None,
            };
            match event {
                Some(event) => {
                    if !visit(event) {
                        return None;
                    }
                }
                None => walk_expr(root, visit)?,
            }
            for segment in segments {
                if let Segment::Index(index) = segment {
                    walk_expr(index, visit)?;
                }
            }
            Some(())
        }
        _ => {
            if !visit(Event::Expr(expr)) {
                return None;
            }
            match expr {
                Expr::String { .. } | Expr::RawString { .. } | Expr::Number { .. } | Expr::Bool { .. } | Expr::Null { .. } | Expr::Var { .. } => Some(()),
                Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().try_for_each(|item| walk_expr(item, visit)),
                Expr::Object { fields, .. } => fields.iter().try_for_each(|(_, key, value)| {
                    walk_expr(key, visit)?;
                    walk_expr(value, visit)
                }),
                Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                    walk_expr(term, visit)?;
                    walk_query(query, visit)
                }
                Expr::ObjectCompr { key, value, query, .. } => {
                    walk_expr(key, visit)?;
                    walk_expr(value, visit)?;
                    walk_query(query, visit)
                }
                Expr::Call { fcn, params, .. } => {
                    walk_expr(fcn, visit)?;
                    params.iter().try_for_each(|param| walk_expr(param, visit))
                }
                Expr::UnaryExpr { expr, .. } => walk_expr(expr, visit),
                Expr::BinExpr { lhs, rhs, .. } | Expr::BoolExpr { lhs, rhs, .. } | Expr::ArithExpr { lhs, rhs, .. } | Expr::AssignExpr { lhs, rhs, .. } => {
                    walk_expr(lhs, visit)?;
                    walk_expr(rhs, visit)
                }
                Expr::Membership { key, value, collection, .. } => {
                    if let Some(key) = key {
                        walk_expr(key, visit)?;
                    }
                    walk_expr(value, visit)?;
                    walk_expr(collection, visit)
                }
                Expr::RefDot { .. } | Expr::RefBrack { .. } => unreachable!("references are walked above"),
            }
        }
    }
}

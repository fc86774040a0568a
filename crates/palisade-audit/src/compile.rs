//! Conditions compiled for evaluation, with Falco's comparison semantics.
//!
//! Fields are interned in one table shared by every rule, so that a field read by many rules
//! (`ka.target.resource`, the stage in `kevt`) is extracted once per event and cached, as
//! libsinsp's extraction cache does.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use crate::fields::{Event, FieldSpec, Values};
use crate::parser::{Expr, FieldRef, Op, Operand};

/// A compile error: the byte offset in the (expanded) condition and the message.
#[derive(Debug)]
pub struct CompileError {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug)]
pub enum Node {
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    Exists(usize),
    Compare(Box<Compare>),
}

#[derive(Debug)]
pub struct Compare {
    field: usize,
    op: Op,
    rhs: Rhs,
    /// The field's shape, resolved once at compile time.
    list: bool,
    numeric: bool,
}

#[derive(Debug)]
enum Rhs {
    Str(Box<str>),
    /// Lower-cased, for `icontains`.
    Lower(Box<str>),
    Num(f64),
    Bytes(Vec<u8>),
    Set(StrSet),
    NumSet(Vec<f64>),
    Regex(Regex),
    Glob(Box<str>),
    Paths(Vec<Box<str>>),
    Field(usize),
}

/// Small sets are scanned (faster than hashing for a handful of short strings); large ones hash.
#[derive(Debug)]
enum StrSet {
    Small(Vec<Box<str>>),
    Hashed(HashSet<Box<str>>),
}

impl StrSet {
    fn new(values: &[String]) -> Self {
        if values.len() <= 8 {
            StrSet::Small(values.iter().map(|v| v.as_str().into()).collect())
        } else {
            StrSet::Hashed(values.iter().map(|v| v.as_str().into()).collect())
        }
    }

    fn contains(&self, value: &str) -> bool {
        match self {
            StrSet::Small(items) => items.iter().any(|i| &**i == value),
            StrSet::Hashed(items) => items.contains(value),
        }
    }
}

/// The shared field table and the compiler that fills it.
#[derive(Debug, Default)]
pub struct Fields {
    pub specs: Vec<FieldSpec>,
    index: HashMap<FieldSpec, usize>,
}

impl Fields {
    pub fn intern(&mut self, spec: FieldSpec) -> usize {
        if let Some(&i) = self.index.get(&spec) {
            return i;
        }
        self.specs.push(spec.clone());
        self.index.insert(spec, self.specs.len() - 1);
        self.specs.len() - 1
    }

    fn field(&mut self, field: &FieldRef) -> Result<usize, CompileError> {
        let spec = FieldSpec::new(&field.name, field.arg.as_deref(), &field.transformers)
            .map_err(|message| CompileError { offset: field.offset, message })?;
        Ok(self.intern(spec))
    }

    pub fn compile(&mut self, expr: &Expr) -> Result<Node, CompileError> {
        Ok(match expr {
            Expr::And(children) => Node::And(children.iter().map(|c| self.compile(c)).collect::<Result<_, _>>()?),
            Expr::Or(children) => Node::Or(children.iter().map(|c| self.compile(c)).collect::<Result<_, _>>()?),
            Expr::Not(child) => Node::Not(Box::new(self.compile(child)?)),
            Expr::Ident { name, offset } => {
                return Err(CompileError { offset: *offset, message: format!("Undefined macro '{name}' used in filter.") });
            }
            Expr::Exists { field, .. } => Node::Exists(self.field(field)?),
            Expr::Compare { field, op, operand, offset } => {
                let id = self.field(field)?;
                let spec = &self.specs[id];
                let err = |message: String| CompileError { offset: *offset, message };
                if spec.is_list() && !matches!(op, Op::In | Op::Intersects) {
                    return Err(err(format!(
                        "list filter '{}' only supports operators 'exists', 'in' and 'intersects'",
                        spec.display_name()
                    )));
                }
                let numeric = spec.is_numeric();
                let lhs_list = spec.is_list();
                let rhs = match operand {
                    Operand::Field(rhs_field) => {
                        let rid = self.field(rhs_field)?;
                        let rspec = &self.specs[rid];
                        let same_kind = rspec.is_numeric() == numeric
                            && (rspec.is_list() == lhs_list || matches!(op, Op::In | Op::Intersects));
                        if !same_kind || matches!(op, Op::Regex | Op::Glob | Op::IGlob | Op::PMatch) {
                            return Err(err(format!(
                                "field '{}' can't be compared with '{}' using this operator",
                                self.specs[id].display_name(),
                                rspec.display_name()
                            )));
                        }
                        Rhs::Field(rid)
                    }
                    Operand::List(values) => list_rhs(*op, values, numeric).map_err(err)?,
                    Operand::Value(value) if op.takes_list() => {
                        list_rhs(*op, std::slice::from_ref(value), numeric).map_err(err)?
                    }
                    Operand::Value(value) => value_rhs(*op, value, numeric).map_err(err)?,
                };
                Node::Compare(Box::new(Compare { field: id, op: *op, rhs, list: lhs_list, numeric }))
            }
        })
    }
}

fn parse_number(text: &str) -> Option<f64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|n| n as f64),
        None => text.parse().ok(),
    }
}

fn list_rhs(op: Op, values: &[String], numeric: bool) -> Result<Rhs, String> {
    if numeric {
        let nums = values
            .iter()
            .map(|v| parse_number(v).ok_or_else(|| format!("'{v}' is not a number")))
            .collect::<Result<_, _>>()?;
        return Ok(Rhs::NumSet(nums));
    }
    Ok(match op {
        Op::PMatch => Rhs::Paths(values.iter().map(|v| v.trim_end_matches('/').into()).collect()),
        _ => Rhs::Set(StrSet::new(values)),
    })
}

fn value_rhs(op: Op, value: &str, numeric: bool) -> Result<Rhs, String> {
    if numeric {
        return match op {
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                parse_number(value).map(Rhs::Num).ok_or_else(|| format!("'{value}' is not a number"))
            }
            _ => Err(format!("operator '{op:?}' needs a string field")),
        };
    }
    Ok(match op {
        Op::IContains => Rhs::Lower(value.to_lowercase().into()),
        Op::BContains | Op::BStartsWith => Rhs::Bytes(decode_hex(value).ok_or_else(|| {
            format!("'{value}' is not a valid hex byte string")
        })?),
        Op::Regex => Rhs::Regex(Regex::new(&format!("^(?:{value})$")).map_err(|e| format!("invalid regex: {e}"))?),
        Op::Glob => Rhs::Glob(value.into()),
        Op::IGlob => Rhs::Glob(value.to_lowercase().into()),
        _ => Rhs::Str(value.into()),
    })
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Per-event extraction cache, one slot per interned field.
pub struct Cache<'e> {
    slots: Vec<Option<Values<'e>>>,
}

impl<'e> Cache<'e> {
    pub fn new(fields: &Fields) -> Self {
        Self { slots: (0..fields.specs.len()).map(|_| None).collect() }
    }

    pub fn get(&mut self, fields: &Fields, id: usize, event: &'e Event<'_>) -> &Values<'e> {
        self.slots[id].get_or_insert_with(|| fields.specs[id].extract(event))
    }

    /// A slot already filled by [`Cache::get`].
    fn peek(&self, id: usize) -> &Values<'e> {
        self.slots[id].as_ref().expect("extracted before use")
    }
}

impl Node {
    pub fn eval<'e>(&self, fields: &Fields, cache: &mut Cache<'e>, event: &'e Event<'_>) -> bool {
        match self {
            Node::And(children) => children.iter().all(|c| c.eval(fields, cache, event)),
            Node::Or(children) => children.iter().any(|c| c.eval(fields, cache, event)),
            Node::Not(child) => !child.eval(fields, cache, event),
            Node::Exists(id) => !matches!(cache.get(fields, *id, event), Values::Missing),
            Node::Compare(cmp) => cmp.eval(fields, cache, event),
        }
    }
}

impl Compare {
    fn eval<'e>(&self, fields: &Fields, cache: &mut Cache<'e>, event: &'e Event<'_>) -> bool {
        // Extract the right-hand field first so both can be borrowed from the cache.
        if let Rhs::Field(rid) = self.rhs {
            if matches!(cache.get(fields, rid, event), Values::Missing) {
                return false;
            }
        }
        if matches!(cache.get(fields, self.field, event), Values::Missing) {
            return false;
        }
        let (list, numeric) = (self.list, self.numeric);
        let values = cache.peek(self.field).as_slice();
        if let Rhs::Field(rid) = self.rhs {
            let rhs = cache.peek(rid).as_slice();
            return match self.op {
                Op::In => values.iter().all(|v| rhs.contains(v)),
                Op::Intersects => values.iter().any(|v| rhs.contains(v)),
                _ => match (values, rhs) {
                    ([l], [r]) if numeric => match (parse_number(l), parse_number(r)) {
                        (Some(l), Some(r)) => compare_num(self.op, l, r),
                        _ => false,
                    },
                    ([l], [r]) => compare_str(self.op, l, &Rhs::Str(r.as_ref().into())),
                    _ => false,
                },
            };
        }
        if list {
            let hit = |v: &str| match &self.rhs {
                Rhs::Set(set) => set.contains(v),
                Rhs::NumSet(nums) => parse_number(v).is_some_and(|n| nums.contains(&n)),
                _ => false,
            };
            return match self.op {
                Op::In => values.iter().all(|v| hit(v)),
                _ => values.iter().any(|v| hit(v)),
            };
        }
        let [value] = values else { return false };
        if numeric {
            let Some(n) = parse_number(value) else { return false };
            return match &self.rhs {
                Rhs::Num(r) => compare_num(self.op, n, *r),
                Rhs::NumSet(nums) => nums.contains(&n),
                _ => false,
            };
        }
        compare_str(self.op, value, &self.rhs)
    }
}

fn compare_num(op: Op, l: f64, r: f64) -> bool {
    match op {
        Op::Eq => l == r,
        Op::Ne => l != r,
        Op::Lt => l < r,
        Op::Le => l <= r,
        Op::Gt => l > r,
        Op::Ge => l >= r,
        _ => false,
    }
}

fn compare_str(op: Op, value: &str, rhs: &Rhs) -> bool {
    match (op, rhs) {
        (Op::Eq, Rhs::Str(r)) => value == &**r,
        (Op::Ne, Rhs::Str(r)) => value != &**r,
        (Op::Lt, Rhs::Str(r)) => value < &**r,
        (Op::Le, Rhs::Str(r)) => value <= &**r,
        (Op::Gt, Rhs::Str(r)) => value > &**r,
        (Op::Ge, Rhs::Str(r)) => value >= &**r,
        (Op::Contains, Rhs::Str(r)) => value.contains(&**r),
        (Op::IContains, Rhs::Lower(r)) => value.to_lowercase().contains(&**r),
        (Op::StartsWith, Rhs::Str(r)) => value.starts_with(&**r),
        (Op::EndsWith, Rhs::Str(r)) => value.ends_with(&**r),
        (Op::BContains, Rhs::Bytes(r)) => r.is_empty() || value.as_bytes().windows(r.len()).any(|w| w == &r[..]),
        (Op::BStartsWith, Rhs::Bytes(r)) => value.as_bytes().starts_with(r),
        (Op::Glob, Rhs::Glob(p)) => glob_match(p.as_bytes(), value.as_bytes()),
        (Op::IGlob, Rhs::Glob(p)) => glob_match(p.as_bytes(), value.to_lowercase().as_bytes()),
        (Op::Regex, Rhs::Regex(re)) => re.is_match(value),
        (Op::In | Op::Intersects, Rhs::Set(set)) => set.contains(value),
        (Op::PMatch, Rhs::Paths(paths)) => paths.iter().any(|p| {
            p.is_empty() && value.starts_with('/')
                || value.strip_prefix(&**p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        }),
        _ => false,
    }
}

/// fnmatch-style glob without path semantics: `*` (any run, `/` included), `?`, `[...]`
/// classes with ranges and `!`/`^` negation, `\` escapes.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        let advanced = match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => match_class(pattern, p, text[t]),
            Some(b'\\') if p + 1 < pattern.len() => (pattern[p + 1] == text[t]).then_some(p + 2),
            Some(&c) => (c == text[t]).then_some(p + 1),
            None => None,
        };
        match advanced {
            Some(next) => {
                p = next;
                t += 1;
            }
            None => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    t = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the class starting at `pattern[start] == '['`; the index after the
/// class on a match. An unterminated class is a literal `[`.
fn match_class(pattern: &[u8], start: usize, c: u8) -> Option<usize> {
    let mut i = start + 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &lo = pattern.get(i)?;
        if lo == b']' && !first {
            break;
        }
        first = false;
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&h| h != b']') {
            let hi = pattern[i + 2];
            matched |= lo <= c && c <= hi;
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
    (matched != negate).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn check(condition: &str, event: &str) -> bool {
        let mut fields = Fields::default();
        let node = fields.compile(&parse(condition).unwrap()).unwrap_or_else(|e| panic!("{}", e.message));
        let event = Event::new(serde_json::from_str(event).unwrap(), 0);
        let mut cache = Cache::new(&fields);
        node.eval(&fields, &mut cache, &event)
    }

    const EV: &str = r#"{"auditID":"x","verb":"create","user":{"username":"Alice","groups":["dev","ops"]},
        "requestURI":"/api/v1/namespaces/ns/pods?watch=1","objectRef":{"resource":"pods","name":"p"},
        "responseStatus":{"code":201}}"#;

    #[test]
    fn missing_fields_make_every_comparison_false() {
        assert!(!check("ka.target.namespace != kube-system", EV));
        assert!(check("not ka.target.namespace = kube-system", EV));
        assert!(!check("ka.target.namespace exists", EV));
        assert!(check("not ka.target.subresource exists", EV));
    }

    #[test]
    fn string_operators() {
        assert!(check("ka.user.name = Alice and ka.user.name != bob", EV));
        assert!(check("ka.user.name icontains ALI and ka.user.name startswith Al and ka.user.name endswith ce", EV));
        assert!(!check("ka.user.name contains ALI", EV));
        assert!(check("ka.response.code startswith 2 and ka.response.code < 300 and ka.response.code >= 201", EV));
        assert!(check("ka.uri glob '/api/*/pods?watch=[0-9]'", EV));
        assert!(check("ka.uri iglob '/API/*'", EV));
        assert!(check("ka.uri regex '/api/v[0-9]+/.*'", EV));
        assert!(!check("ka.uri regex 'v1'", EV));
        assert!(check("ka.uri pmatch (/api/v1/namespaces, /other)", EV));
        assert!(!check("ka.uri pmatch (/api/v)", EV));
        assert!(check("ka.verb in (create, update) and ka.verb intersects (create)", EV));
        assert!(check("ka.user.name bcontains 6c69", EV));
    }

    #[test]
    fn list_fields_use_set_semantics() {
        assert!(check("ka.user.groups in (dev, ops, qa)", EV));
        assert!(!check("ka.user.groups in (dev)", EV));
        assert!(check("ka.user.groups intersects (ops, x)", EV));
        let mut fields = Fields::default();
        let err = fields.compile(&parse("ka.user.groups = dev").unwrap()).unwrap_err();
        assert!(err.message.contains("only supports operators"), "{}", err.message);
    }

    #[test]
    fn transformers_and_field_operands() {
        assert!(check("tolower(ka.user.name) = alice", EV));
        assert!(check("len(ka.user.groups) = 2 and len(ka.verb) > 5", EV));
        assert!(check("ka.target.name != val(ka.verb)", EV));
        assert!(check("ka.verb = val(ka.verb)", EV));
        assert!(check("ka.verb in val(ka.verb)", EV));
        assert!(!check("ka.verb = val(ka.target.namespace)", EV));
    }

    #[test]
    fn compile_errors() {
        let mut fields = Fields::default();
        for (cond, needle) in [
            ("ka.nope = 1", "nonexistent field"),
            ("ka.uri regex '('", "invalid regex"),
            ("evt.num > abc", "number"),
            ("undefined_macro", "Undefined macro"),
            ("ka.user.name bcontains zz", "hex"),
        ] {
            let Ok(expr) = parse(cond) else { continue };
            let err = fields.compile(&expr).unwrap_err();
            assert!(err.message.contains(needle), "{cond}: {}", err.message);
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"a*c", b"abbbc"));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"a[!x]c", b"abc"));
        assert!(!glob_match(b"a[a-c]d", b"azd"));
        assert!(glob_match(b"a\\*", b"a*"));
        assert!(!glob_match(b"a?", b"a"));
    }
}

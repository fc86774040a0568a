//! kube-bench control files: the model and its loader.
//!
//! One YAML document per file (`master.yaml`, `node.yaml`, ...) with `groups` of `checks`. Scalars
//! are kept as their source text: `compare.value: no` is the string `no`, as kube-bench's
//! decoder reads it, never a boolean.
//!
//! kube-bench decodes a file with go-yaml v2 into its Go structs (`check.Controls`, `Group`,
//! `Check`, `tests`, `testItem`, `compare`). The loader restates that decoding: libyaml's grammar
//! (through libyaml-safer, as go-yaml is a port of libyaml) builds a small tree that keeps every
//! scalar's text, tag and position, and the tree is then decoded field by field with go-yaml's
//! rules. Keys are the Go field names lowercased unless a `yaml` tag names them
//! (`audit_env`, `use_multiple_values`, `disableenvtesting`); unknown keys are ignored; a string
//! field takes any scalar's text and null as `""`; a boolean field takes YAML 1.1 booleans
//! (`yes`, `on`, `True`, ...) and null as `false`; `set` defaults to `true` (kube-bench's
//! `testItem.UnmarshalYAML`); a key written twice decodes its value again over the first, so
//! mappings combine and lists and scalars are replaced; `<<` merge keys and aliases work.
//! Fields kube-bench decodes but then overwrites or never reads (`state`, `reason`, `testinfo`,
//! group counters, ...) are type-checked like kube-bench does and otherwise ignored.
//!
//! Where this loader refuses what kube-bench accepts, it is because kube-bench would go wrong
//! later: a file with a second YAML document (kube-bench silently ignores it), an empty list
//! item under `groups`, `checks` or `test_items` (kube-bench crashes on the null pointer), and
//! merge keys or aliases nested more than [`MAX_DECODE_DEPTH`] levels.

use std::collections::HashMap;
use std::sync::Arc;

use libyaml_safer::{EventData, MappingStyle, Parser, ScalarStyle, SequenceStyle};
use palisade_core::Value;

use crate::bundled::ConfigDir;

/// A benchmark folder (`cis-1.12`): its control files, sorted by section id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Benchmark {
    /// The folder name, e.g. `cis-1.12`.
    pub name: String,
    pub sections: Vec<Controls>,
}

/// One control file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Controls {
    /// The file as the user named it (or `cis-1.12/master.yaml` for a bundled one).
    pub file: Arc<str>,
    /// The file's text as read. kube-bench substitutes variables in the raw text, comments
    /// included, and which `$…bin` variables it replaced decides the generated env audit
    /// ([`crate::variables::prepare`]).
    pub source: Arc<str>,
    pub version: String,
    pub id: String,
    pub text: String,
    /// `type`: master, node, etcd, controlplane, policies, managedservices.
    pub node_type: String,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub text: String,
    /// `type`: empty or `skip`.
    pub kind: String,
    pub checks: Vec<Check>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    pub id: String,
    pub text: String,
    pub audit: String,
    pub audit_env: String,
    pub audit_config: String,
    /// `type`: empty, `manual` or `skip`.
    pub kind: String,
    /// `None` when the check has no `tests` key at all (a different state than no items).
    pub tests: Option<Tests>,
    pub remediation: String,
    pub scored: bool,
    pub use_multiple_values: bool,
    pub disable_env_testing: bool,
    /// 1-based line of the check in its file, for messages.
    pub line: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tests {
    pub bin_op: String,
    pub items: Vec<TestItem>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestItem {
    pub flag: String,
    pub path: String,
    pub env: String,
    pub set: bool,
    pub compare: Compare,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compare {
    pub op: String,
    /// The scalar's source text.
    pub value: String,
}

/// Why a control file (or a benchmark folder) could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    /// 1-based; 0 when the problem has no position (the file could not be read at all).
    pub line: u32,
    /// 1-based, in characters; 0 with `line`.
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for LoadError {}

/// A benchmark as far as it loaded: every good control file, and an error for each bad one
/// (or for the folder), so a caller can report them all and still run the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedBenchmark {
    pub benchmark: Benchmark,
    pub errors: Vec<LoadError>,
}

/// Loads every control file of benchmark `name` (its `.yaml` files other than `config.yaml`).
///
/// As kube-bench, each file is read as the node type its name says (`master.yaml` as `master`)
/// and refused when its `type` differs; the sections are sorted by their id read as an integer
/// (kube-bench's output order), ties kept in file-name order.
pub fn load_benchmark(dir: &ConfigDir, name: &str) -> LoadedBenchmark {
    let mut benchmark = Benchmark {
        name: name.to_owned(),
        sections: Vec::new(),
    };
    let mut errors = Vec::new();
    let folder_error = |message: String| LoadError {
        file: name.to_owned(),
        line: 0,
        column: 0,
        message,
    };
    match dir.control_files(name) {
        Err(error) => errors.push(folder_error(format!(
            "cannot list the benchmark's control files: {error}"
        ))),
        Ok(files) if files.is_empty() => {
            let known = dir
                .benchmarks()
                .map(|names| names.join(", "))
                .unwrap_or_default();
            errors.push(folder_error(format!(
                "no benchmark `{name}` with control files (known: {known})"
            )));
        }
        Ok(files) => {
            for path in files {
                match load_file(dir, &path) {
                    Ok(controls) => benchmark.sections.push(controls),
                    Err(error) => errors.push(error),
                }
            }
        }
    }
    benchmark
        .sections
        .sort_by_key(|controls| go_atoi(&controls.id));
    LoadedBenchmark { benchmark, errors }
}

fn load_file(dir: &ConfigDir, path: &str) -> Result<Controls, LoadError> {
    let (file, text) = dir.read(path).map_err(|error| LoadError {
        file: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read: {error}"),
    })?;
    let (controls, type_pos) = parse(&file, &text)?;
    // kube-bench's run: the node type is the file name up to its first dot.
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let expected = file_name.split('.').next().unwrap_or(file_name);
    if controls.node_type != expected {
        let pos = type_pos.unwrap_or(Pos { line: 1, column: 1 });
        return Err(Problem::new(
            pos,
            format!(
                "`type` is `{}`, but kube-bench reads {file_name} as node type `{expected}` and refuses a \
                 file of another type (\"non-{expected} controls file specified\")",
                controls.node_type
            ),
        )
        .at(&file));
    }
    Ok(controls)
}

/// Go's `strconv.Atoi` as kube-bench sorts sections with it: 0 when `id` is not an integer,
/// clamped when it does not fit.
fn go_atoi(id: &str) -> i64 {
    let digits = id.strip_prefix(['+', '-']).unwrap_or(id);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return 0;
    }
    let negative = id.starts_with('-');
    id.parse()
        .unwrap_or(if negative { i64::MIN } else { i64::MAX })
}

/// Reads one control file as kube-bench's decoder does. `file` names it in errors and in
/// [`Controls::file`].
pub fn parse_controls(file: &str, text: &str) -> Result<Controls, LoadError> {
    parse(file, text).map(|(controls, _)| controls)
}

/// The controls, and where their `type` was written.
fn parse(file: &str, text: &str) -> Result<(Controls, Option<Pos>), LoadError> {
    let tree = Tree::read(text).map_err(|problem| problem.at(file))?;
    let mut controls = Controls {
        file: Arc::from(file),
        source: Arc::from(text),
        ..Controls::default()
    };
    let mut decoder = Decoder::new(&tree);
    decoder
        .controls(tree.root, &mut controls)
        .map_err(|problem| problem.at(file))?;
    Ok((controls, decoder.type_pos))
}

/// A 1-based position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pos {
    line: u32,
    column: u32,
}

impl Pos {
    fn of(mark: libyaml_safer::Mark) -> Self {
        let to_u32 = |n: u64| u32::try_from(n + 1).unwrap_or(u32::MAX);
        Self {
            line: to_u32(mark.line),
            column: to_u32(mark.column),
        }
    }
}

/// An error before the file name is attached.
#[derive(Debug)]
struct Problem {
    pos: Pos,
    message: String,
}

impl Problem {
    fn new(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            pos,
            message: message.into(),
        }
    }

    fn at(self, file: &str) -> LoadError {
        LoadError {
            file: file.to_owned(),
            line: self.pos.line,
            column: self.pos.column,
            message: self.message,
        }
    }
}

type NodeId = usize;

/// go-yaml's node tree: what the parser events say, with aliases pointing at their anchors.
struct Tree {
    nodes: Vec<RawNode>,
    /// `None` for a file without a document (empty, or only comments).
    root: Option<NodeId>,
}

struct RawNode {
    pos: Pos,
    data: RawData,
}

enum RawData {
    /// `plain`: written without quotes or block indicator, so its type is resolved from its
    /// text (libyaml's `plain_implicit`).
    Scalar {
        value: String,
        tag: Option<String>,
        plain: bool,
    },
    Seq(Vec<NodeId>),
    /// Keys and values alternating.
    Map(Vec<NodeId>),
    Alias {
        anchor: String,
        target: NodeId,
    },
}

/// go-yaml's nesting limit (its scanner's `max_flow_level` and `max_indents`).
const MAX_NESTING: usize = 10_000;

const CORE_TAG: &str = "tag:yaml.org,2002:";

/// How many flow scalars ending in `:` one file may have re-quoted (each costs a parse).
const MAX_REQUOTED: usize = 16;

enum BuildError {
    /// libyaml refused the text; `after_document`: past the end of the first document, where
    /// kube-bench stops reading.
    Yaml {
        error: libyaml_safer::Error,
        after_document: bool,
    },
    /// The text parsed, but go-yaml would refuse it or it cannot be a control file.
    Refused(Problem),
}

fn refused(pos: Pos, message: impl Into<String>) -> BuildError {
    BuildError::Refused(Problem::new(pos, message))
}

impl Tree {
    fn read(text: &str) -> Result<Self, Problem> {
        if let Some(pos) = first_unprintable(text) {
            return Err(Problem::new(
                pos,
                "control characters are not allowed in YAML",
            ));
        }
        // libyaml-safer panics on a block scalar that ends the input without a line break, where
        // go-yaml reads the scalar without one: parse with a break added, then take it back off
        // such a scalar.
        let padded: std::borrow::Cow<'_, str> = if text.ends_with('\n') {
            text.into()
        } else {
            format!("{text}\n").into()
        };
        let unterminated_last_line = !text.ends_with('\n')
            && !text
                .rsplit('\n')
                .next()
                .unwrap_or("")
                .trim_matches([' ', '\t'])
                .is_empty();
        let mut text = padded;
        let mut requoted = 0;
        loop {
            let built = std::panic::catch_unwind(|| Self::build(&text, unterminated_last_line))
                .unwrap_or_else(|_| {
                    Err(BuildError::Refused(Problem::new(
                        Pos { line: 1, column: 1 },
                        "the YAML parser failed on this file (internal error; please report it)",
                    )))
                });
            match built {
                Ok(tree) => return Ok(tree),
                Err(BuildError::Refused(problem)) => return Err(problem),
                Err(BuildError::Yaml {
                    error,
                    after_document,
                }) => {
                    // go-yaml reads `[a, b:]` as the scalar `b:`, where libyaml refuses it.
                    let fixed = (requoted < MAX_REQUOTED)
                        .then(|| palisade_load::yaml::quote_refused_colon_scalar(&text, &error))
                        .flatten();
                    let Some(fixed) = fixed else {
                        let mut problem = parse_problem(&error);
                        if after_document {
                            problem.message.push_str(
                                ", after the end of the first YAML document (a control file holds \
                                 one; kube-bench would ignore the rest of the file)",
                            );
                        }
                        return Err(problem);
                    };
                    text = fixed.into();
                    requoted += 1;
                }
            }
        }
    }

    fn build(text: &str, unterminated_last_line: bool) -> Result<Self, BuildError> {
        let mut tree = Self {
            nodes: Vec::new(),
            root: None,
        };
        let mut anchors: HashMap<String, NodeId> = HashMap::new();
        // Open collections, and whether each is in flow style (or inside one).
        let mut open: Vec<(NodeId, bool)> = Vec::new();
        let (mut documents, mut documents_ended) = (0, 0);
        let mut input = text.as_bytes();
        let mut parser = Parser::new();
        parser.set_input_string(&mut input);
        loop {
            let event = parser.parse().map_err(|error| BuildError::Yaml {
                error,
                after_document: documents_ended > 0,
            })?;
            let pos = Pos::of(event.start_mark);
            // `flow`: whether the node opens a collection, and a flow one.
            let (data, anchor, flow) = match event.data {
                EventData::StreamEnd => return Ok(tree),
                EventData::StreamStart { .. } => continue,
                EventData::DocumentEnd { .. } => {
                    documents_ended += 1;
                    continue;
                }
                EventData::DocumentStart { .. } => {
                    documents += 1;
                    if documents > 1 {
                        return Err(refused(
                            pos,
                            "a second YAML document starts here; a control file holds one \
                             (kube-bench would silently ignore this one)",
                        ));
                    }
                    continue;
                }
                EventData::SequenceEnd | EventData::MappingEnd => {
                    open.pop();
                    continue;
                }
                EventData::Scalar {
                    anchor,
                    tag,
                    mut value,
                    plain_implicit,
                    style,
                    ..
                } => {
                    let source =
                        text.get(event.start_mark.index as usize..event.end_mark.index as usize);
                    let in_flow = open.last().is_some_and(|&(_, flow)| flow);
                    go_yaml_refuses(style, in_flow, &value, source.unwrap_or(""))
                        .map_err(|message| refused(pos, message))?;
                    if unterminated_last_line
                        && matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                        && event.end_mark.index as usize == text.len()
                        && value.ends_with('\n')
                    {
                        value.pop();
                    }
                    let plain = plain_implicit;
                    (RawData::Scalar { value, tag, plain }, anchor, None)
                }
                EventData::SequenceStart { anchor, style, .. } => {
                    let flow = style == SequenceStyle::Flow;
                    (RawData::Seq(Vec::new()), anchor, Some(flow))
                }
                EventData::MappingStart { anchor, style, .. } => {
                    let flow = style == MappingStyle::Flow;
                    (RawData::Map(Vec::new()), anchor, Some(flow))
                }
                EventData::Alias { anchor } => {
                    let Some(&target) = anchors.get(&anchor) else {
                        return Err(refused(
                            pos,
                            format!("unknown anchor `{anchor}` referenced"),
                        ));
                    };
                    (RawData::Alias { anchor, target }, None, None)
                }
            };
            let id = tree.nodes.len();
            tree.nodes.push(RawNode { pos, data });
            match open.last() {
                Some(&(parent, _)) => match &mut tree.nodes[parent].data {
                    RawData::Seq(children) | RawData::Map(children) => children.push(id),
                    RawData::Scalar { .. } | RawData::Alias { .. } => {
                        unreachable!("only collections are open")
                    }
                },
                None => tree.root = Some(id),
            }
            if let Some(anchor) = anchor {
                anchors.insert(anchor, id);
            }
            if let Some(flow) = flow {
                if open.len() >= MAX_NESTING {
                    return Err(refused(pos, format!("exceeded max depth of {MAX_NESTING}")));
                }
                open.push((id, flow || open.last().is_some_and(|&(_, outer)| outer)));
            }
        }
    }
}

/// Scalars libyaml reads and go-yaml (a port of an older libyaml) refuses: the escape `\/` in
/// a double-quoted scalar, and a `?` in a plain scalar inside a flow collection (go-yaml ends
/// the scalar there and then fails on the `?`).
fn go_yaml_refuses(
    style: ScalarStyle,
    in_flow: bool,
    value: &str,
    source: &str,
) -> Result<(), &'static str> {
    if style == ScalarStyle::DoubleQuoted
        && value.contains('/')
        && palisade_load::yaml::has_slash_escape(source)
    {
        return Err("found unknown escape character `\\/` (kube-bench's YAML decoder refuses it)");
    }
    if style == ScalarStyle::Plain && in_flow && value.contains('?') {
        return Err(
            "a `?` in an unquoted value inside [...] or {...} ends the value for kube-bench's YAML \
             decoder, which then fails; quote the value",
        );
    }
    Ok(())
}

fn parse_problem(error: &libyaml_safer::Error) -> Problem {
    let Some(mark) = error.problem_mark() else {
        return Problem::new(Pos { line: 1, column: 1 }, error.to_string());
    };
    let message = match error.context() {
        Some(context) if !context.is_empty() => format!("{} ({context})", error.problem()),
        _ => error.problem().to_owned(),
    };
    Problem::new(Pos::of(mark), message)
}

/// Where the text holds a character YAML does not allow (libyaml's reader refuses it without
/// saying where).
fn first_unprintable(text: &str) -> Option<Pos> {
    let printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    let (mut line, mut column) = (1u32, 1u32);
    for c in text.chars() {
        if !printable(c) {
            return Some(Pos { line, column });
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    None
}

/// How deep merge keys and aliases may nest while decoding. go-yaml has no such bound, but
/// real control files nest a few levels and the decoder must not exhaust the stack.
pub const MAX_DECODE_DEPTH: usize = 100;

/// Decodes a [`Tree`] into the model with go-yaml v2's rules (see the module documentation).
struct Decoder<'t> {
    tree: &'t Tree,
    /// Alias nodes being expanded, innermost last.
    expanding: Vec<NodeId>,
    depth: usize,
    /// go-yaml's alias-bomb guard: every decode, and those inside an alias.
    decodes: usize,
    aliased_decodes: usize,
    /// Where the top-level `type` was written.
    type_pos: Option<Pos>,
}

/// A node once aliases are followed, as a field decoder sees it.
enum Shape<'t> {
    Scalar { value: &'t str, resolved: Value },
    Seq(&'t [NodeId]),
    Map(&'t [NodeId]),
}

/// Sets one field of `T` from a key's value; keys it does not know are ignored.
type FieldSetter<'t, T> = fn(&mut Decoder<'t>, &str, NodeId, &mut T) -> Result<(), Problem>;

impl<'t> Decoder<'t> {
    fn new(tree: &'t Tree) -> Self {
        Self {
            tree,
            expanding: Vec::new(),
            depth: 0,
            decodes: 0,
            aliased_decodes: 0,
            type_pos: None,
        }
    }

    fn pos(&self, id: NodeId) -> Pos {
        self.tree.nodes[id].pos
    }

    /// Runs `decode` on the node `id` stands for, following aliases.
    fn visit<R>(
        &mut self,
        id: NodeId,
        decode: impl FnOnce(&mut Self, NodeId, Shape<'t>) -> Result<R, Problem>,
    ) -> Result<R, Problem> {
        self.count(id)?;
        let tree = self.tree;
        match &tree.nodes[id].data {
            RawData::Alias { anchor, target } => {
                if self.expanding.contains(&id) {
                    return Err(Problem::new(
                        self.pos(id),
                        format!("anchor `{anchor}` value contains itself"),
                    ));
                }
                self.expanding.push(id);
                let result = self.visit(*target, decode);
                self.expanding.pop();
                result
            }
            RawData::Scalar { value, tag, plain } => {
                let resolved = if tag.is_none() && !plain {
                    Value::Str(Box::default())
                } else {
                    palisade_load::yaml::resolve(tag.as_deref().unwrap_or(""), value)
                        .map_err(|message| Problem::new(self.pos(id), message))?
                };
                decode(self, id, Shape::Scalar { value, resolved })
            }
            RawData::Seq(items) => decode(self, id, Shape::Seq(items)),
            RawData::Map(entries) => decode(self, id, Shape::Map(entries)),
        }
    }

    fn count(&mut self, id: NodeId) -> Result<(), Problem> {
        self.decodes += 1;
        if !self.expanding.is_empty() {
            self.aliased_decodes += 1;
        }
        let ratio = self.aliased_decodes as f64 / self.decodes as f64;
        if self.aliased_decodes > 100
            && self.decodes > 1000
            && ratio > allowed_alias_ratio(self.decodes)
        {
            return Err(Problem::new(
                self.pos(id),
                "document contains excessive aliasing",
            ));
        }
        Ok(())
    }

    /// Runs `decode` one level deeper, refusing nesting beyond [`MAX_DECODE_DEPTH`].
    fn nested<R>(
        &mut self,
        id: NodeId,
        decode: impl FnOnce(&mut Self) -> Result<R, Problem>,
    ) -> Result<R, Problem> {
        if self.depth >= MAX_DECODE_DEPTH {
            return Err(Problem::new(
                self.pos(id),
                format!("merge keys and aliases nest deeper than {MAX_DECODE_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        let result = decode(self);
        self.depth -= 1;
        result
    }

    fn mismatch(&self, id: NodeId, field: &str, expected: &str, shape: &Shape<'_>) -> Problem {
        let found = match shape {
            Shape::Seq(_) => "a list".to_owned(),
            Shape::Map(_) => "a mapping".to_owned(),
            Shape::Scalar { value, resolved } => {
                let kind = match resolved {
                    Value::Null => {
                        return Problem::new(
                            self.pos(id),
                            format!("`{field}`: expected {expected}, found null"),
                        );
                    }
                    Value::Bool(_) => "the boolean",
                    Value::Int(_) | Value::Float(_) => "the number",
                    Value::Str(_) | Value::Seq(_) | Value::Map(_) => "the string",
                };
                let shown: String = value.chars().take(40).collect();
                let ellipsis = if shown.len() < value.len() { "..." } else { "" };
                format!("{kind} `{shown}{ellipsis}`")
            }
        };
        Problem::new(
            self.pos(id),
            format!("`{field}`: expected {expected}, found {found}"),
        )
    }

    /// A string field: any scalar's text (a `!!binary` one decoded), `""` for null.
    fn string(&mut self, id: NodeId, field: &str, out: &mut String) -> Result<(), Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar { resolved: Value::Null, .. } => {
                out.clear();
                Ok(())
            }
            Shape::Scalar { value, resolved } => {
                let binary = matches!(&decoder.tree.nodes[id].data,
                    RawData::Scalar { tag: Some(tag), .. } if tag.strip_prefix(CORE_TAG) == Some("binary"));
                match resolved {
                    Value::Str(decoded) if binary => *out = decoded.into(),
                    _ => value.clone_into(out),
                }
                Ok(())
            }
            shape => Err(decoder.mismatch(id, field, "a string", &shape)),
        })
    }

    /// A mapping key, read as go-yaml reads it into a Go string to find the field it names.
    fn key(&mut self, id: NodeId, field: &str) -> Result<String, Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null,
                ..
            } => Ok(String::new()),
            Shape::Scalar { value, .. } => Ok(value.to_owned()),
            shape => Err(decoder.mismatch(id, &format!("a key in `{field}`"), "a string", &shape)),
        })
    }

    /// A field kube-bench decodes but never reads: checked, then dropped.
    fn ignored_string(&mut self, id: NodeId, field: &str) -> Result<(), Problem> {
        self.string(id, field, &mut String::new())
    }

    /// A boolean field: YAML 1.1 booleans (`true`, `yes`, `On`, ...), `false` for null.
    fn boolean(&mut self, id: NodeId, field: &str, out: &mut bool) -> Result<(), Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null,
                ..
            } => {
                *out = false;
                Ok(())
            }
            Shape::Scalar {
                resolved: Value::Bool(flag),
                ..
            } => {
                *out = flag;
                Ok(())
            }
            shape => Err(decoder.mismatch(id, field, "a boolean (true or false)", &shape)),
        })
    }

    /// A Go `int` field kube-bench never reads (its counters): checked as go-yaml checks it.
    fn ignored_int(&mut self, id: NodeId, field: &str) -> Result<(), Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null | Value::Int(_),
                ..
            } => Ok(()),
            // go-yaml truncates a float that is at most MaxInt64.
            Shape::Scalar {
                resolved: Value::Float(number),
                ..
            } if number <= i64::MAX as f64 => Ok(()),
            shape => Err(decoder.mismatch(id, field, "an integer", &shape)),
        })
    }

    /// A `[]string` field kube-bench never reads from the file (`testinfo`): checked, dropped.
    fn ignored_strings(&mut self, id: NodeId, field: &str) -> Result<(), Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null,
                ..
            } => Ok(()),
            Shape::Seq(items) => items
                .iter()
                .try_for_each(|&item| decoder.ignored_string(item, field)),
            shape => Err(decoder.mismatch(id, field, "a list of strings", &shape)),
        })
    }

    /// A list of Go pointers to structs: null empties it, a list replaces it; `item` decodes one
    /// element (never null: kube-bench crashes on a nil element).
    fn list<T>(
        &mut self,
        id: NodeId,
        field: &str,
        out: &mut Vec<T>,
        item: fn(&mut Self, NodeId, &'t [NodeId]) -> Result<T, Problem>,
    ) -> Result<(), Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null,
                ..
            } => {
                out.clear();
                Ok(())
            }
            Shape::Seq(items) => {
                let mut decoded = Vec::with_capacity(items.len());
                for &element in items {
                    let value = decoder.visit(element, |decoder, _, shape| match shape {
                        Shape::Scalar {
                            resolved: Value::Null,
                            ..
                        } => Err(Problem::new(
                            decoder.pos(element),
                            format!("empty item in `{field}` (kube-bench crashes on it)"),
                        )),
                        Shape::Map(entries) => item(decoder, element, entries),
                        shape => Err(decoder.mismatch(
                            element,
                            &format!("an item of `{field}`"),
                            "a mapping",
                            &shape,
                        )),
                    })?;
                    decoded.push(value);
                }
                *out = decoded;
                Ok(())
            }
            shape => Err(decoder.mismatch(id, field, "a list", &shape)),
        })
    }

    /// A Go struct value: a mapping sets the fields it names, null resets them all.
    fn structure<T: Default>(
        &mut self,
        id: NodeId,
        field: &str,
        out: &mut T,
        set: FieldSetter<'t, T>,
    ) -> Result<(), Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null,
                ..
            } => {
                *out = T::default();
                Ok(())
            }
            Shape::Map(entries) => decoder.fields(entries, field, out, set),
            shape => Err(decoder.mismatch(id, field, "a mapping", &shape)),
        })
    }

    /// go-yaml's mappingStruct: each key, in order, decodes its value into its field over what
    /// is there; `<<` merges a mapping (or a list of them, earlier ones winning) in its place.
    fn fields<T>(
        &mut self,
        entries: &[NodeId],
        field: &str,
        out: &mut T,
        set: FieldSetter<'t, T>,
    ) -> Result<(), Problem> {
        for pair in entries.chunks_exact(2) {
            let (key, value) = (pair[0], pair[1]);
            if self.is_merge_key(key) {
                self.nested(key, |decoder| decoder.merge(value, field, out, set))?;
                continue;
            }
            let name = self.key(key, field)?;
            set(self, &name, value, out)?;
        }
        Ok(())
    }

    fn is_merge_key(&self, id: NodeId) -> bool {
        matches!(&self.tree.nodes[id].data, RawData::Scalar { value, tag, plain }
            if value == "<<" && (*plain || tag.as_deref().and_then(|tag| tag.strip_prefix(CORE_TAG)) == Some("merge")))
    }

    fn merge<T>(
        &mut self,
        id: NodeId,
        field: &str,
        out: &mut T,
        set: FieldSetter<'t, T>,
    ) -> Result<(), Problem> {
        let tree = self.tree;
        let is_mapping = |id: NodeId| match &tree.nodes[id].data {
            RawData::Map(_) => true,
            RawData::Alias { target, .. } => matches!(tree.nodes[*target].data, RawData::Map(_)),
            RawData::Scalar { .. } | RawData::Seq(_) => false,
        };
        let sources: Vec<NodeId> = match &tree.nodes[id].data {
            RawData::Seq(items) => items.iter().rev().copied().collect(),
            _ => vec![id],
        };
        for source in sources {
            if !is_mapping(source) {
                return Err(Problem::new(
                    self.pos(source),
                    "map merge requires map or sequence of maps as the value",
                ));
            }
            self.visit(source, |decoder, _, shape| match shape {
                Shape::Map(entries) => decoder.fields(entries, field, out, set),
                Shape::Scalar { .. } | Shape::Seq(_) => unreachable!("checked to be a mapping"),
            })?;
        }
        Ok(())
    }

    fn controls(&mut self, root: Option<NodeId>, controls: &mut Controls) -> Result<(), Problem> {
        const EMPTY: &str = "the file holds no controls: a control file is a mapping with `id`, `text`, `type` and `groups`";
        let Some(root) = root else {
            return Err(Problem::new(Pos { line: 1, column: 1 }, EMPTY));
        };
        self.visit(root, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null,
                ..
            } => Err(Problem::new(decoder.pos(id), EMPTY)),
            Shape::Map(entries) => {
                decoder.fields(entries, "controls", controls, Self::controls_field)
            }
            shape => {
                Err(decoder.mismatch(id, "controls", "a mapping at the top of the file", &shape))
            }
        })
    }

    fn controls_field(
        &mut self,
        key: &str,
        value: NodeId,
        controls: &mut Controls,
    ) -> Result<(), Problem> {
        match key {
            "id" => self.string(value, key, &mut controls.id),
            "version" => self.string(value, key, &mut controls.version),
            "text" => self.string(value, key, &mut controls.text),
            "type" => {
                self.type_pos = Some(self.pos(value));
                self.string(value, key, &mut controls.node_type)
            }
            "groups" => self.list(value, key, &mut controls.groups, Self::group),
            "detectedversion" => self.ignored_string(value, key),
            "summary" => self.structure(value, key, &mut (), Self::summary_field),
            _ => Ok(()),
        }
    }

    fn summary_field(&mut self, key: &str, value: NodeId, _: &mut ()) -> Result<(), Problem> {
        match key {
            "pass" | "fail" | "warn" | "info" => self.ignored_int(value, key),
            _ => Ok(()),
        }
    }

    fn group(&mut self, _: NodeId, entries: &[NodeId]) -> Result<Group, Problem> {
        let mut group = Group::default();
        self.fields(entries, "groups", &mut group, Self::group_field)?;
        Ok(group)
    }

    fn group_field(&mut self, key: &str, value: NodeId, group: &mut Group) -> Result<(), Problem> {
        match key {
            "id" => self.string(value, key, &mut group.id),
            "text" => self.string(value, key, &mut group.text),
            "type" => self.string(value, key, &mut group.kind),
            "checks" => self.list(value, key, &mut group.checks, Self::check),
            "pass" | "fail" | "warn" | "info" => self.ignored_int(value, key),
            _ => Ok(()),
        }
    }

    /// A check starts where it is listed (an alias's line, when it is one).
    fn check(&mut self, listed: NodeId, entries: &[NodeId]) -> Result<Check, Problem> {
        let mut check = Check {
            line: self.pos(listed).line,
            ..Check::default()
        };
        self.fields(entries, "checks", &mut check, Self::check_field)?;
        Ok(check)
    }

    fn check_field(&mut self, key: &str, value: NodeId, check: &mut Check) -> Result<(), Problem> {
        match key {
            "id" => self.string(value, key, &mut check.id),
            "text" => self.string(value, key, &mut check.text),
            "audit" => self.string(value, key, &mut check.audit),
            "audit_env" => self.string(value, key, &mut check.audit_env),
            "audit_config" => self.string(value, key, &mut check.audit_config),
            "type" => self.string(value, key, &mut check.kind),
            "tests" => self.tests(value, &mut check.tests),
            "remediation" => self.string(value, key, &mut check.remediation),
            "scored" => self.boolean(value, key, &mut check.scored),
            "use_multiple_values" => self.boolean(value, key, &mut check.use_multiple_values),
            "disableenvtesting" => self.boolean(value, key, &mut check.disable_env_testing),
            "set" => self.boolean(value, key, &mut false),
            "testinfo" => self.ignored_strings(value, key),
            "state" | "actualvalue" | "expectedresult" | "reason" | "auditoutput"
            | "auditenvoutput" | "auditconfigoutput" => self.ignored_string(value, key),
            _ => Ok(()),
        }
    }

    /// `tests` is a Go pointer: null leaves none, a mapping fills the one there (or a new one).
    fn tests(&mut self, id: NodeId, out: &mut Option<Tests>) -> Result<(), Problem> {
        self.visit(id, |decoder, id, shape| match shape {
            Shape::Scalar {
                resolved: Value::Null,
                ..
            } => {
                *out = None;
                Ok(())
            }
            Shape::Map(entries) => decoder.fields(
                entries,
                "tests",
                out.get_or_insert_default(),
                Self::tests_field,
            ),
            shape => Err(decoder.mismatch(id, "tests", "a mapping", &shape)),
        })
    }

    fn tests_field(&mut self, key: &str, value: NodeId, tests: &mut Tests) -> Result<(), Problem> {
        match key {
            "test_items" => self.list(value, key, &mut tests.items, Self::test_item),
            "bin_op" => self.string(value, key, &mut tests.bin_op),
            _ => Ok(()),
        }
    }

    /// kube-bench's `testItem.UnmarshalYAML` decodes every item afresh with `set: true`.
    fn test_item(&mut self, _: NodeId, entries: &[NodeId]) -> Result<TestItem, Problem> {
        let mut item = TestItem {
            set: true,
            ..TestItem::default()
        };
        self.fields(entries, "test_items", &mut item, Self::test_item_field)?;
        Ok(item)
    }

    fn test_item_field(
        &mut self,
        key: &str,
        value: NodeId,
        item: &mut TestItem,
    ) -> Result<(), Problem> {
        match key {
            "flag" => self.string(value, key, &mut item.flag),
            "path" => self.string(value, key, &mut item.path),
            "env" => self.string(value, key, &mut item.env),
            "set" => self.boolean(value, key, &mut item.set),
            "compare" => self.structure(value, key, &mut item.compare, Self::compare_field),
            "output" | "value" => self.ignored_string(value, key),
            _ => Ok(()),
        }
    }

    fn compare_field(
        &mut self,
        key: &str,
        value: NodeId,
        compare: &mut Compare,
    ) -> Result<(), Problem> {
        match key {
            "op" => self.string(value, key, &mut compare.op),
            "value" => self.string(value, key, &mut compare.value),
            _ => Ok(()),
        }
    }
}

/// go-yaml's `allowedAliasRatio`: how much of the decoding may come from alias expansion.
fn allowed_alias_ratio(decodes: usize) -> f64 {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    let decodes = decodes as f64;
    if decodes <= LOW {
        0.99
    } else if decodes >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decodes - LOW) / (HIGH - LOW))
    }
}

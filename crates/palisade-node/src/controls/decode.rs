//! The tree of a control file decoded into the model as go-yaml v2 decodes it into
//! kube-bench's Go structs (see the `controls` module documentation for the rules).

use palisade_core::Value;

use super::tree::{CORE_TAG, NodeId, Pos, Problem, RawData, Tree};
use super::{Check, Compare, Controls, Group, TestItem, Tests};

/// Decodes the tree into `controls`; gives where the top-level `type` was written.
pub(super) fn controls(tree: &Tree, controls: &mut Controls) -> Result<Option<Pos>, Problem> {
    let mut decoder = Decoder::new(tree);
    decoder.controls(tree.root, controls)?;
    Ok(decoder.type_pos)
}

/// How deep merge keys and aliases may nest while decoding. go-yaml has no such bound, but
/// real control files nest a few levels and the decoder must not exhaust the stack.
const MAX_DECODE_DEPTH: usize = 100;

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

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

#[cfg(test)]
mod tests {
    use crate::controls::{Check, Compare, LoadError, TestItem, parse_controls};

    const HEAD: &str = "controls:\nversion: cis-1.12\nid: 1\ntext: T\ntype: master\ngroups:\n  - id: 1.1\n    text: G\n    checks:\n";
    /// Lines of [`HEAD`]: a check written right after it starts on line 10.
    const HEAD_LINES: u32 = 9;

    /// The checks of a file whose one group lists `checks` (written at indentation 6).
    fn checks(checks: &str) -> Vec<Check> {
        let controls = parse_controls("t.yaml", &format!("{HEAD}{checks}"))
            .unwrap_or_else(|error| panic!("{error}"));
        controls.groups.into_iter().next().unwrap().checks
    }

    fn check(check: &str) -> Check {
        checks(check).remove(0)
    }

    /// The test items of a check whose `test_items` are `items` (written at indentation 12).
    fn items(items: &str) -> Vec<TestItem> {
        let check = check(&format!(
            "      - id: 1.1.1\n        tests:\n          test_items:\n{items}"
        ));
        check.tests.unwrap().items
    }

    fn error(checks: &str) -> LoadError {
        parse_controls("t.yaml", &format!("{HEAD}{checks}")).unwrap_err()
    }

    #[test]
    fn compare_values_keep_the_scalar_text() {
        let cases = [
            ("no", "no"),
            ("false", "false"),
            ("0600", "0600"),
            ("\"600\"", "600"),
            ("'644'", "644"),
            ("0x1F", "0x1F"),
            ("1.50", "1.50"),
            ("2001-12-14", "2001-12-14"),
            ("\"null\"", "null"),
            ("~", ""),
            ("null", ""),
            ("", ""),
            ("!!binary aGVsbG8=", "hello"),
            ("!custom text", "text"),
            (
                "|\n                  two\n                  lines",
                "two\nlines\n",
            ),
        ];
        for (written, read) in cases {
            let items = items(&format!(
                "            - flag: x\n              compare:\n                op: eq\n                value: {written}\n"
            ));
            assert_eq!(items[0].compare.value, read, "value: {written}");
        }
    }

    #[test]
    fn set_defaults_to_true_and_reads_yaml_1_1_booleans() {
        let cases = [
            ("", true),
            ("set: false\n", false),
            ("set: no\n", false),
            ("set: Off\n", false),
            ("set: ~\n", false),
            ("set:\n", false),
            ("set: yes\n", true),
            ("set: TRUE\n", true),
        ];
        for (written, set) in cases {
            let items = items(&format!("            - flag: x\n              {written}"));
            assert_eq!(items[0].set, set, "{written:?}");
        }
    }

    #[test]
    fn boolean_fields_refuse_strings_and_numbers() {
        let quoted = error("      - id: 1.1.1\n        scored: \"true\"\n");
        assert_eq!((quoted.line, quoted.column), (HEAD_LINES + 2, 17));
        assert_eq!(
            quoted.message,
            "`scored`: expected a boolean (true or false), found the string `true`"
        );
        let number = error("      - id: 1.1.1\n        use_multiple_values: 1\n");
        assert!(number.message.contains("found the number `1`"), "{number}");
        let tagged = error("      - id: 1.1.1\n        scored: !!bool maybe\n");
        assert_eq!(tagged.message, "cannot decode !!str `maybe` as a !!bool");
    }

    #[test]
    fn check_fields_use_kube_bench_keys() {
        let check = check(
            "      - id: 1.1.1\n        text: T\n        audit: a\n        audit_env: e\n        audit_config: c\n        type: manual\n        remediation: r\n        scored: y\n        use_multiple_values: On\n        disableenvtesting: true\n",
        );
        let expected = Check {
            id: "1.1.1".into(),
            text: "T".into(),
            audit: "a".into(),
            audit_env: "e".into(),
            audit_config: "c".into(),
            kind: "manual".into(),
            tests: None,
            remediation: "r".into(),
            scored: true,
            use_multiple_values: true,
            disable_env_testing: true,
            line: HEAD_LINES + 1,
        };
        assert_eq!(check, expected);
    }

    #[test]
    fn unknown_keys_are_ignored_and_keys_are_case_sensitive() {
        let check = check(
            "      - id: 1.1.1\n        Text: upper\n        disableEnvTesting: true\n        auditEnv: x\n        extra: {nested: [1, {a: b}]}\n",
        );
        assert_eq!(check.text, "");
        assert!(!check.disable_env_testing);
        assert_eq!(check.audit_env, "");
    }

    #[test]
    fn tests_absent_null_and_empty_differ() {
        assert_eq!(check("      - id: a\n").tests, None);
        assert_eq!(check("      - id: a\n        tests:\n").tests, None);
        assert_eq!(check("      - id: a\n        tests: ~\n").tests, None);
        let empty = check("      - id: a\n        tests: {}\n").tests.unwrap();
        assert!(empty.items.is_empty() && empty.bin_op.is_empty());
    }

    #[test]
    fn a_repeated_key_decodes_again_over_the_first() {
        // Scalars and lists are replaced; mappings combine; null resets.
        let combined = check(
            "      - id: a\n        text: first\n        text: second\n        tests:\n          bin_op: or\n          test_items: [{flag: x}]\n        tests:\n          test_items:\n            - flag: y\n              compare: {op: eq, value: v}\n              compare: {op: has}\n",
        );
        assert_eq!(combined.text, "second");
        let tests = combined.tests.unwrap();
        assert_eq!(tests.bin_op, "or");
        assert_eq!(tests.items.len(), 1);
        assert_eq!(tests.items[0].flag, "y");
        assert_eq!(
            tests.items[0].compare,
            Compare {
                op: "has".into(),
                value: "v".into()
            }
        );
        let reset = items("            - compare: {op: eq, value: v}\n              compare: ~\n");
        assert_eq!(reset[0].compare, Compare::default());
        let emptied = check(
            "      - id: a\n        tests:\n          test_items: [{flag: x}]\n          test_items: ~\n",
        );
        assert!(emptied.tests.unwrap().items.is_empty());
    }

    #[test]
    fn aliases_repeat_their_anchors() {
        let checks = checks(
            "      - id: a\n        tests: &t\n          test_items:\n            - &i {flag: f, compare: {op: eq, value: no}}\n      - id: b\n        tests: *t\n      - &c {id: c, tests: {test_items: [*i, *i]}}\n      - *c\n",
        );
        assert_eq!(checks.len(), 4);
        assert_eq!(checks[1].tests, checks[0].tests);
        let items = &checks[2].tests.as_ref().unwrap().items;
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].compare.value, "no");
        assert_eq!(checks[3].id, "c");
        assert_eq!(
            checks[3].line,
            HEAD_LINES + 8,
            "an alias check starts where it is listed"
        );
    }

    #[test]
    fn merge_keys_set_fields_in_place() {
        // Keys before `<<` are overwritten by the merged mapping, keys after it win; in a list
        // of mappings the earlier ones win.
        let items = items(
            "            - &base {flag: base, env: E, set: false}\n            - flag: before\n              <<: *base\n            - <<: *base\n              flag: after\n            - &other {flag: other, path: P}\n            - <<: [*other, *base]\n",
        );
        assert_eq!(
            (items[1].flag.as_str(), items[1].env.as_str(), items[1].set),
            ("base", "E", false)
        );
        assert_eq!((items[2].flag.as_str(), items[2].set), ("after", false));
        let merged = &items[4];
        assert_eq!(
            (
                merged.flag.as_str(),
                merged.path.as_str(),
                merged.env.as_str()
            ),
            ("other", "P", "E")
        );
        let quoted = check("      - id: a\n        \"<<\": {text: not merged}\n");
        assert_eq!(quoted.text, "");
        let tagged = check("      - id: a\n        !!merge <<: {text: merged}\n");
        assert_eq!(tagged.text, "merged");
    }

    #[test]
    fn a_merge_needs_mappings() {
        let scalar = error("      - id: a\n        <<: text\n");
        assert_eq!((scalar.line, scalar.column), (HEAD_LINES + 2, 13));
        assert_eq!(
            scalar.message,
            "map merge requires map or sequence of maps as the value"
        );
        let in_list = error("      - id: a\n        <<: [{text: x}, y]\n");
        assert_eq!(
            in_list.message,
            "map merge requires map or sequence of maps as the value"
        );
    }

    #[test]
    fn wrong_shapes_are_errors_at_the_value() {
        let cases = [
            (
                "        audit: {a: 1}\n",
                16,
                "`audit`: expected a string, found a mapping",
            ),
            (
                "        remediation: [x]\n",
                22,
                "`remediation`: expected a string, found a list",
            ),
            (
                "        tests: abc\n",
                16,
                "`tests`: expected a mapping, found the string `abc`",
            ),
            (
                "        tests: {test_items: {flag: x}}\n",
                29,
                "`test_items`: expected a list, found a mapping",
            ),
            (
                "        tests: {test_items: [abc]}\n",
                30,
                "`an item of `test_items``: expected a mapping, found the string `abc`",
            ),
            (
                "        tests: {test_items: [{compare: x}]}\n",
                40,
                "`compare`: expected a mapping, found the string `x`",
            ),
        ];
        for (written, column, message) in cases {
            let error = error(&format!("      - id: a\n{written}"));
            assert_eq!(
                (error.line, error.column, error.message.as_str()),
                (HEAD_LINES + 2, column, message),
                "{written}"
            );
        }
        let groups = parse_controls("t.yaml", "type: master\ngroups: abc\n").unwrap_err();
        assert_eq!(
            groups.to_string(),
            "t.yaml:2:9: `groups`: expected a list, found the string `abc`"
        );
    }

    #[test]
    fn fields_kube_bench_never_reads_are_still_type_checked() {
        let accepted = check(
            "      - id: a\n        set: yes\n        state: PASS\n        reason: r\n        testinfo: [x, y]\n        actualvalue: v\n",
        );
        assert_eq!(accepted.id, "a");
        assert!(
            error("      - id: a\n        reason: {a: 1}\n")
                .message
                .starts_with("`reason`")
        );
        assert!(
            error("      - id: a\n        testinfo: x\n")
                .message
                .starts_with("`testinfo`")
        );
        assert!(
            error("    pass: many\n")
                .message
                .contains("expected an integer")
        );
        // go-yaml truncates a float into an int field, but not NaN or +Inf.
        assert!(parse_controls("t.yaml", "summary: {pass: 1.5, fail: -.inf}\n").is_ok());
        assert!(parse_controls("t.yaml", "summary: {pass: .nan}\n").is_err());
    }

    #[test]
    fn empty_list_items_are_refused() {
        let check = error("      -\n");
        assert_eq!((check.line, check.column), (HEAD_LINES + 1, 8));
        assert_eq!(
            check.message,
            "empty item in `checks` (kube-bench crashes on it)"
        );
        let item = error("      - id: a\n        tests:\n          test_items:\n            - ~\n");
        assert_eq!(
            item.message,
            "empty item in `test_items` (kube-bench crashes on it)"
        );
        let group = parse_controls("t.yaml", "groups:\n  - ~\n").unwrap_err();
        assert_eq!(group.line, 2);
    }

    #[test]
    fn an_alias_inside_its_own_anchor_is_refused() {
        let error = error("      - &c {id: a, <<: *c}\n");
        assert_eq!(error.message, "anchor `c` value contains itself");
    }

    #[test]
    fn a_control_file_is_a_mapping() {
        let list = parse_controls("t.yaml", "- a\n").unwrap_err();
        assert_eq!(
            list.to_string(),
            "t.yaml:1:1: `controls`: expected a mapping at the top of the file, found a list"
        );
        // An empty document is an empty scalar where the document's content would start.
        for (empty, line) in [("", 1), ("# comment only\n", 1), ("~\n", 1), ("---\n", 2)] {
            let error = parse_controls("t.yaml", empty).unwrap_err();
            assert!(
                error.message.starts_with("the file holds no controls"),
                "{empty:?}: {error}"
            );
            assert_eq!(error.line, line, "{empty:?}");
        }
    }
}

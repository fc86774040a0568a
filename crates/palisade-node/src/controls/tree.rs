//! go-yaml's node tree of a control file, built from libyaml-safer's events: every scalar
//! keeps its text, tag and position, aliases point at their anchors, and what go-yaml's older
//! libyaml grammar refuses (or reads differently) is refused (or read) the same way.

use std::collections::HashMap;

use libyaml_safer::{EventData, MappingStyle, Parser, ScalarStyle, SequenceStyle};

use super::LoadError;

/// A 1-based position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pos {
    pub(super) line: u32,
    pub(super) column: u32,
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
pub(super) struct Problem {
    pub(super) pos: Pos,
    pub(super) message: String,
}

impl Problem {
    pub(super) fn new(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            pos,
            message: message.into(),
        }
    }

    pub(super) fn at(self, file: &str) -> LoadError {
        LoadError {
            file: file.to_owned(),
            line: self.pos.line,
            column: self.pos.column,
            message: self.message,
        }
    }
}

pub(super) type NodeId = usize;

/// go-yaml's node tree: what the parser events say, with aliases pointing at their anchors.
pub(super) struct Tree {
    pub(super) nodes: Vec<RawNode>,
    /// `None` for a file without a document (empty, or only comments).
    pub(super) root: Option<NodeId>,
}

pub(super) struct RawNode {
    pub(super) pos: Pos,
    pub(super) data: RawData,
}

pub(super) enum RawData {
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

pub(super) const CORE_TAG: &str = "tag:yaml.org,2002:";

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
    /// Parses `text`, which must hold at most one YAML document.
    pub(super) fn read(text: &str) -> Result<Self, Problem> {
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

#[cfg(test)]
mod tests {
    use crate::controls::{LoadError, parse_controls};

    fn error(text: &str) -> LoadError {
        parse_controls("bad.yaml", text).unwrap_err()
    }

    fn remediation(text: &str) -> String {
        let controls = parse_controls("t.yaml", text).unwrap_or_else(|error| panic!("{error}"));
        controls.groups[0].checks[0].remediation.clone()
    }

    #[test]
    fn malformed_files_are_reported_where_they_break() {
        let cases = [
            (
                "tab indentation",
                "controls:\nid: 1\ngroups:\n\t- id: 2\n",
                "bad.yaml:4:1: found character that cannot start any token (while scanning for the next token)",
            ),
            (
                "bad indentation",
                "id: 1\ntext: x\n type: master\n",
                "bad.yaml:3:6: mapping values are not allowed in this context",
            ),
            (
                "unterminated quote",
                "id: \"1\ntext: x\n",
                "bad.yaml:3:1: found unexpected end of stream (while scanning a quoted scalar)",
            ),
            (
                "unknown anchor",
                "id: 1\ntext: *nowhere\n",
                "bad.yaml:2:7: unknown anchor `nowhere` referenced",
            ),
            (
                "control character",
                "id: 1\ntext: \"a\u{1}b\"\n",
                "bad.yaml:2:9: control characters are not allowed in YAML",
            ),
            (
                "unclosed flow",
                "groups: [{id: 1}\ntype: master\n",
                "bad.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence)",
            ),
        ];
        for (what, text, message) in cases {
            assert_eq!(error(text).to_string(), message, "{what}");
        }
    }

    #[test]
    fn a_file_holds_one_document() {
        let second = error("id: 1\ntype: master\n---\nid: 2\n");
        assert_eq!((second.line, second.column), (3, 1));
        assert!(
            second
                .message
                .starts_with("a second YAML document starts here")
        );
        let after_end = error("id: 1\n...\n  - x\n");
        assert!(
            after_end.message.ends_with(
                "after the end of the first YAML document (a control file holds one; kube-bench would ignore the rest of the file)"
            ),
            "{after_end}"
        );
        assert!(parse_controls("t.yaml", "---\nid: 1\n...\n").is_ok());
    }

    const CHECK: &str = "groups:\n- checks:\n  - remediation: ";

    #[test]
    fn a_block_scalar_ending_the_file_without_a_line_break_has_none() {
        assert_eq!(remediation(&format!("{CHECK}|\n      fix it")), "fix it");
        assert_eq!(remediation(&format!("{CHECK}|+\n      fix it")), "fix it");
        assert_eq!(remediation(&format!("{CHECK}|-\n      fix it")), "fix it");
        assert_eq!(
            remediation(&format!("{CHECK}>\n      fix\n      it")),
            "fix it"
        );
        assert_eq!(
            remediation(&format!("{CHECK}|\n      fix it\n")),
            "fix it\n"
        );
        // The last line holds only indentation: the scalar's line break is in the file.
        assert_eq!(
            remediation(&format!("{CHECK}|\n      fix it\n      ")),
            "fix it\n"
        );
    }

    #[test]
    fn scalars_read_as_go_yaml_reads_them() {
        let slash = error(&format!("{CHECK}\"a\\/b\"\n"));
        assert_eq!((slash.line, slash.column), (3, 18));
        assert!(
            slash
                .message
                .starts_with("found unknown escape character `\\/`")
        );
        let question = error(&format!("{CHECK}[what?]\n"));
        assert!(
            question
                .message
                .starts_with("a `?` in an unquoted value inside"),
            "{question}"
        );
        assert_eq!(
            remediation(&format!("{CHECK}\"what? a\\tb\"\n")),
            "what? a\tb"
        );
        // libyaml refuses a flow scalar ending in `:` before a flow indicator; go-yaml reads it.
        let controls = parse_controls("t.yaml", "groups: [{id: 1.1:, text: x}]\n").unwrap();
        assert_eq!(controls.groups[0].id, "1.1:");
    }
}

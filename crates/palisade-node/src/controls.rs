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
//! Fields kube-bench decodes but never reads from the file, or overwrites when it runs
//! (`state`, `reason`, `actualvalue`, `testinfo`, the group counters, ...), are type-checked as
//! kube-bench checks them and otherwise ignored; kube-bench would carry a preset `reason`,
//! `actualvalue`, `expectedresult` or `testinfo` into its output, which no real file does.
//!
//! This loader refuses what kube-bench accepts only where kube-bench goes wrong: anything after
//! the end of the first YAML document (a second document, or text after `...`, which kube-bench
//! silently ignores), an empty file (which kube-bench reads as controls of no type), an empty
//! list item under `groups`, `checks` or `test_items` (kube-bench crashes on the null pointer),
//! and merge keys or aliases nested more than 100 levels.

mod decode;
mod tree;

use std::sync::Arc;

use crate::bundled::ConfigDir;
use tree::{Pos, Problem, Tree};

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
        let found = match controls.node_type.as_str() {
            "" => "no `type`".to_owned(),
            other => format!("`type: {other}`"),
        };
        return Err(Problem::new(
            pos,
            format!(
                "{found}, but kube-bench reads {file_name} as node type `{expected}` and refuses a \
                 file of another type (\"non-{expected} controls file specified\")"
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
    let type_pos = decode::controls(&tree, &mut controls).map_err(|problem| problem.at(file))?;
    Ok((controls, type_pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: &str, node_type: &str) -> String {
        format!("controls:\nid: {id}\ntext: Section {id}\ntype: {node_type}\ngroups: []\n")
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let positioned = LoadError {
            file: "cfg/cis-1.12/node.yaml".into(),
            line: 4,
            column: 7,
            message: "broken".into(),
        };
        assert_eq!(positioned.to_string(), "cfg/cis-1.12/node.yaml:4:7: broken");
        let unpositioned = LoadError {
            line: 0,
            column: 0,
            ..positioned
        };
        assert_eq!(unpositioned.to_string(), "cfg/cis-1.12/node.yaml: broken");
    }

    #[test]
    fn sections_are_sorted_by_their_id_read_as_an_integer() {
        let dir = tempfile::tempdir().unwrap();
        let bench = dir.path().join("bench");
        std::fs::create_dir(&bench).unwrap();
        for (file, id) in [
            ("etcd", "2"),
            ("master", "1"),
            ("node", "10"),
            ("policies", "x"),
        ] {
            std::fs::write(bench.join(format!("{file}.yaml")), section(id, file)).unwrap();
        }
        std::fs::write(bench.join("config.yaml"), "# not a control file\n").unwrap();
        std::fs::write(bench.join("notes.txt"), "not yaml").unwrap();
        let loaded = load_benchmark(&ConfigDir::Dir(dir.path().to_owned()), "bench");
        assert_eq!(loaded.errors, []);
        assert_eq!(loaded.benchmark.name, "bench");
        let order: Vec<&str> = loaded
            .benchmark
            .sections
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        // kube-bench's strconv.Atoi gives 0 for a non-numeric id.
        assert_eq!(order, ["x", "1", "2", "10"]);
        let master = &loaded.benchmark.sections[1];
        assert_eq!(
            &*master.file,
            bench.join("master.yaml").display().to_string()
        );
        assert_eq!(&*master.source, section("1", "master"));
    }

    #[test]
    fn every_bad_file_is_reported_and_the_good_ones_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let bench = dir.path().join("bench");
        std::fs::create_dir(&bench).unwrap();
        std::fs::write(bench.join("master.yaml"), section("1", "master")).unwrap();
        std::fs::write(bench.join("node.yaml"), section("4", "master")).unwrap();
        std::fs::write(bench.join("etcd.yaml"), "id: 2\ngroups:\n\t- x\n").unwrap();
        std::fs::write(bench.join("policies.yaml"), "id: 5\n").unwrap();
        let loaded = load_benchmark(&ConfigDir::Dir(dir.path().to_owned()), "bench");
        let ids: Vec<&str> = loaded
            .benchmark
            .sections
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["1"]);
        let messages: Vec<String> = loaded
            .errors
            .iter()
            .map(|error| error.to_string().replace(&bench.display().to_string(), "B"))
            .collect();
        assert_eq!(
            messages,
            [
                "B/etcd.yaml:3:1: found character that cannot start any token (while scanning for the next token)",
                "B/node.yaml:4:7: `type: master`, but kube-bench reads node.yaml as node type `node` and \
                 refuses a file of another type (\"non-node controls file specified\")",
                "B/policies.yaml:1:1: no `type`, but kube-bench reads policies.yaml as node type \
                 `policies` and refuses a file of another type (\"non-policies controls file specified\")",
            ]
        );
    }

    #[test]
    fn a_missing_benchmark_is_one_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = load_benchmark(&ConfigDir::Dir(dir.path().to_owned()), "cis-9.9");
        assert!(missing.benchmark.sections.is_empty());
        assert_eq!(missing.errors.len(), 1);
        assert_eq!(
            (missing.errors[0].file.as_str(), missing.errors[0].line),
            ("cis-9.9", 0)
        );
        let bundled = load_benchmark(&ConfigDir::Bundled, "cis-9.9");
        assert!(
            bundled.errors[0]
                .message
                .starts_with("no benchmark `cis-9.9` with control files (known: cis-1.10, "),
            "{}",
            bundled.errors[0]
        );
    }

    #[test]
    fn go_atoi_orders_like_strconv() {
        assert_eq!(go_atoi("10"), 10);
        assert_eq!(go_atoi("+3"), 3);
        assert_eq!(go_atoi("-3"), -3);
        for not_a_number in ["", "1.2", " 1", "x", "-", "1_0"] {
            assert_eq!(go_atoi(not_a_number), 0, "{not_a_number:?}");
        }
        assert_eq!(go_atoi("99999999999999999999"), i64::MAX);
        assert_eq!(go_atoi("-99999999999999999999"), i64::MIN);
    }
}

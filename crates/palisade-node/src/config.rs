//! kube-bench's `config.yaml`: per node type, the components whose binaries and files become
//! the `$<component><suffix>` variables, and the Kubernetes-version-to-benchmark and
//! benchmark-to-targets tables.
//!
//! kube-bench reads the top-level `cfg/config.yaml` with viper and merges the benchmark folder's
//! own `config.yaml` over it (cmd/common.go mergeConfig: mappings merge key by key, anything
//! else is replaced). Keys are matched without regard to case, as viper lower-cases them, and
//! values are read as viper's getters cast them: a list of strings, or one string split at
//! white space; a boolean from `true`/`false` or their string forms.
//!
//! The version and target tables are read from the top-level file alone, as kube-bench looks
//! them up before it knows the benchmark folder to merge.

use palisade_core::value::Entry;
use palisade_core::{Map, Node, Value};

use crate::bundled::ConfigDir;

/// A `config.yaml` problem, with the file and 1-based line where there is one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: u32,
        column: u32,
        message: String,
    },
    /// kube-bench's own message (cmd/common.go).
    #[error("config file is missing '{0}' section")]
    MissingSection(&'static str),
    /// kube-bench's own message (cmd/common.go mapToBenchmarkVersion).
    #[error("unable to find a matching Benchmark Version match for kubernetes version: {0}")]
    NoBenchmarkForVersion(String),
    /// kube-bench's own message (cmd/common.go validTargets).
    #[error("No targets configured for {0}")]
    NoTargets(String),
}

/// The kinds of file variable a component can have, with their `config.yaml` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `$<component>conf`: `confs`, `defaultconf`.
    Conf,
    /// `$<component>svc`: `svc`, `defaultsvc`.
    Svc,
    /// `$<component>kubeconfig`: `kubeconfig`, `defaultkubeconfig`.
    Kubeconfig,
    /// `$<component>cafile`: `cafile`, `defaultcafile`.
    Cafile,
    /// `$<component>datadir`: `datadirs`, `defaultdatadir`.
    Datadir,
}

impl FileKind {
    /// In kube-bench's substitution order.
    pub const ALL: [FileKind; 5] = [
        Self::Conf,
        Self::Svc,
        Self::Kubeconfig,
        Self::Cafile,
        Self::Datadir,
    ];

    /// The keys of the candidate list and of the default (cmd/util.go TypeMap).
    const fn keys(self) -> (&'static str, &'static str) {
        match self {
            Self::Conf => ("confs", "defaultconf"),
            Self::Svc => ("svc", "defaultsvc"),
            Self::Kubeconfig => ("kubeconfig", "defaultkubeconfig"),
            Self::Cafile => ("cafile", "defaultcafile"),
            Self::Datadir => ("datadirs", "defaultdatadir"),
        }
    }
}

/// One component of a node type (`apiserver` under `master`).
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// As written in the node type's `components` list; the variables are named after it.
    pub name: String,
    /// A component that need not run for its node type to be detected.
    pub optional: bool,
    /// Candidate command lines (`kube-apiserver`, `hyperkube apiserver`), in order.
    pub bins: Vec<String>,
    files: Map,
}

impl Component {
    /// The candidate paths of one file kind, in order.
    pub fn candidates(&self, kind: FileKind) -> Vec<String> {
        lookup(&self.files, kind.keys().0)
            .map(strings)
            .unwrap_or_default()
    }

    /// The `default…` path of one file kind, when the key is present (even if empty, as
    /// viper's IsSet).
    pub fn default_file(&self, kind: FileKind) -> Option<String> {
        lookup(&self.files, kind.keys().1).map(string)
    }
}

/// A `config.yaml` as kube-bench holds it after merging.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    root: Map,
}

impl Config {
    /// Reads the top-level `config.yaml` of `dir`.
    pub fn load(dir: &ConfigDir) -> Result<Config, ConfigError> {
        read_config(dir, "config.yaml")?
            .map(|root| Config { root })
            .ok_or_else(|| ConfigError::Read {
                file: "config.yaml".into(),
                message: "not found".into(),
            })
    }

    /// Parses a `config.yaml` text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        parse_root(file, text).map(|root| Config { root })
    }

    /// This configuration with `benchmark`'s own `config.yaml` merged over it, when the folder
    /// has one (kube-bench's mergeConfig).
    pub fn merged(&self, dir: &ConfigDir, benchmark: &str) -> Result<Config, ConfigError> {
        let own = read_config(dir, &format!("{benchmark}/config.yaml"))?;
        Ok(match own {
            Some(over) => Config {
                root: merge(&self.root, &over),
            },
            None => self.clone(),
        })
    }

    /// The components of `node_type` (`master`, `node`, ...), in the order of its
    /// `components` list; `None` when the node type has no settings at all, which kube-bench
    /// refuses to run ("No config settings for ..."). A listed component without a mapping of
    /// its own is left out, as kube-bench skips it.
    pub fn components(&self, node_type: &str) -> Option<Vec<Component>> {
        let settings = lookup(&self.root, node_type)?.as_map()?;
        let names = lookup(settings, "components")
            .map(strings)
            .unwrap_or_default();
        Some(
            names
                .into_iter()
                .filter_map(|name| {
                    let files = lookup(settings, &name)?.as_map()?.clone();
                    Some(Component {
                        optional: lookup(&files, "optional").is_some_and(boolean),
                        bins: lookup(&files, "bins").map(strings).unwrap_or_default(),
                        name,
                        files,
                    })
                })
                .collect(),
        )
    }

    /// The benchmark for a Kubernetes version (`1.35`), as kube-bench's mapToBenchmarkVersion:
    /// the `version_mapping` entry of the version, else of the next lower minor version, down
    /// to `1.2`; the search also stops at kube-bench's default version `1.18`.
    pub fn benchmark_for_version(&self, version: &str) -> Result<String, ConfigError> {
        let mapping = lookup(&self.root, "version_mapping")
            .and_then(Node::as_map)
            .filter(|mapping| !mapping.is_empty())
            .ok_or(ConfigError::MissingSection("version_mapping"))?;
        let mut candidate = version.to_owned();
        loop {
            if let Some(benchmark) = lookup(mapping, &candidate) {
                return Ok(string(benchmark));
            }
            if candidate == DEFAULT_KUBE_VERSION || candidate.trim().is_empty() {
                return Err(ConfigError::NoBenchmarkForVersion(version.to_owned()));
            }
            candidate = decrement_version(&candidate);
        }
    }

    /// The Kubernetes versions of `version_mapping` that are plain `major.minor` numbers,
    /// highest first, with their benchmarks.
    pub fn numeric_versions(&self) -> Vec<(String, String)> {
        let Some(mapping) = lookup(&self.root, "version_mapping").and_then(Node::as_map) else {
            return Vec::new();
        };
        let mut versions: Vec<((u64, u64), String, String)> = mapping
            .iter()
            .filter_map(|(version, benchmark)| {
                let (major, minor) = version.split_once('.')?;
                let key = (major.parse().ok()?, minor.parse().ok()?);
                Some((key, version.to_owned(), string(benchmark)))
            })
            .collect();
        versions.sort_by_key(|(key, _, _)| std::cmp::Reverse(*key));
        versions
            .into_iter()
            .map(|(_, version, benchmark)| (version, benchmark))
            .collect()
    }

    /// The targets `target_mapping` lists for `benchmark` (`master`, `node`, ...).
    pub fn targets(&self, benchmark: &str) -> Result<Vec<String>, ConfigError> {
        let mapping = lookup(&self.root, "target_mapping")
            .and_then(Node::as_map)
            .filter(|mapping| !mapping.is_empty())
            .ok_or(ConfigError::MissingSection("target_mapping"))?;
        lookup(mapping, benchmark)
            .map(strings)
            .ok_or_else(|| ConfigError::NoTargets(benchmark.to_owned()))
    }

    /// Whether every one of `targets` is configured for `benchmark` (kube-bench's
    /// validTargets: a target matches a listed one written in lower case).
    pub fn valid_targets(&self, benchmark: &str, targets: &[String]) -> Result<bool, ConfigError> {
        let configured = self.targets(benchmark)?;
        Ok(targets.iter().all(|target| {
            configured
                .iter()
                .any(|listed| *target == listed.to_lowercase())
        }))
    }
}

/// kube-bench's version when it cannot detect one (cmd/root.go defaultKubeVersion).
pub const DEFAULT_KUBE_VERSION: &str = "1.18";

/// kube-bench's decrementVersion: `1.35` to `1.34`; empty when the minor is not a number above
/// 1 or there is no minor.
fn decrement_version(version: &str) -> String {
    let mut parts: Vec<String> = version.split('.').map(str::to_owned).collect();
    let Some(minor) = parts.get(1).and_then(|minor| minor.parse::<i64>().ok()) else {
        return String::new();
    };
    if minor <= 1 {
        return String::new();
    }
    parts[1] = (minor - 1).to_string();
    parts.join(".")
}

/// The first document of `path` in `dir`, or `None` when the file does not exist.
fn read_config(dir: &ConfigDir, path: &str) -> Result<Option<Map>, ConfigError> {
    match dir.read(path) {
        Ok((file, text)) => parse_root(&file, &text).map(Some),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ConfigError::Read {
            file: path.to_owned(),
            message: error.to_string(),
        }),
    }
}

/// The top-level mapping of the first document; an empty file is an empty mapping.
fn parse_root(file: &str, text: &str) -> Result<Map, ConfigError> {
    let documents = palisade_load::yaml::parse_documents(text, &palisade_load::Limits::default());
    let Some(document) = documents.into_iter().next() else {
        return Ok(Map::new());
    };
    let node = document.result.map_err(|error| ConfigError::Syntax {
        file: file.to_owned(),
        line: error.line,
        column: error.column,
        message: error.message,
    })?;
    match node.value {
        Value::Map(map) => Ok(map),
        _ => Err(ConfigError::Syntax {
            file: file.to_owned(),
            line: node.mark.line,
            column: node.mark.column,
            message: "the configuration must be a mapping".into(),
        }),
    }
}

/// `over` merged into `base`: mappings key by key (keys compared without case), anything else
/// replaced.
fn merge(base: &Map, over: &Map) -> Map {
    let mut entries: Vec<Entry> = base.entries().to_vec();
    for entry in over.entries() {
        match entries
            .iter_mut()
            .find(|old| old.key.eq_ignore_ascii_case(&entry.key))
        {
            Some(old) => {
                old.value = match (&old.value.value, &entry.value.value) {
                    (Value::Map(old_map), Value::Map(new_map)) => {
                        Node::new(Value::Map(merge(old_map, new_map)), entry.value.mark)
                    }
                    _ => entry.value.clone(),
                };
            }
            None => entries.push(entry.clone()),
        }
    }
    Map::from_unique_entries(entries)
}

/// viper's case-insensitive key lookup.
fn lookup<'m>(map: &'m Map, key: &str) -> Option<&'m Node> {
    map.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(key))
        .map(|(_, node)| node)
}

/// spf13/cast's ToString for the scalars a config holds; collections read as empty.
fn string(node: &Node) -> String {
    match &node.value {
        Value::Str(text) => text.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Float(number) => number.to_string(),
        Value::Null | Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

/// viper's GetStringSlice: each item of a list, or one string split at white space.
fn strings(node: &Node) -> Vec<String> {
    match &node.value {
        Value::Seq(items) => items.iter().map(string).collect(),
        Value::Str(text) => text.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// viper's GetBool: a boolean, or a string strconv.ParseBool accepts, or a non-zero number.
fn boolean(node: &Node) -> bool {
    match &node.value {
        Value::Bool(flag) => *flag,
        Value::Str(text) => matches!(&**text, "1" | "t" | "T" | "TRUE" | "true" | "True"),
        Value::Int(number) => *number != 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Config {
        Config::load(&ConfigDir::Bundled).expect("bundled config.yaml loads")
    }

    #[test]
    fn versions_map_to_benchmarks_with_kube_benchs_decrement() {
        let config = bundled();
        assert_eq!(config.benchmark_for_version("1.32").unwrap(), "cis-1.12");
        assert_eq!(config.benchmark_for_version("1.35").unwrap(), "cis-1.12");
        assert_eq!(config.benchmark_for_version("1.99").unwrap(), "cis-1.12");
        assert_eq!(config.benchmark_for_version("1.29").unwrap(), "cis-1.11");
        assert_eq!(config.benchmark_for_version("1.21").unwrap(), "cis-1.20");
        assert_eq!(
            config.benchmark_for_version("eks-1.5.0").unwrap(),
            "eks-1.5.0"
        );
        for unknown in ["1.14", "1.9", "2", "x", ""] {
            assert_eq!(
                config
                    .benchmark_for_version(unknown)
                    .unwrap_err()
                    .to_string(),
                format!(
                    "unable to find a matching Benchmark Version match for kubernetes version: {unknown}"
                )
            );
        }
        let newest = config.numeric_versions();
        assert_eq!(newest[0], ("1.34".to_owned(), "cis-1.12".to_owned()));
        assert_eq!(newest.last().unwrap().0, "1.15");
    }

    #[test]
    fn the_search_stops_at_the_default_version() {
        let config = Config::parse("c.yaml", "version_mapping:\n  \"1.15\": cis-1.5\n").unwrap();
        assert_eq!(
            config
                .benchmark_for_version("1.19")
                .unwrap_err()
                .to_string(),
            "unable to find a matching Benchmark Version match for kubernetes version: 1.19"
        );
        assert_eq!(config.benchmark_for_version("1.17").unwrap(), "cis-1.5");
    }

    #[test]
    fn targets_are_validated_against_target_mapping() {
        let config = bundled();
        assert_eq!(
            config.targets("cis-1.12").unwrap(),
            ["master", "node", "controlplane", "etcd", "policies"]
        );
        assert!(
            config
                .valid_targets("cis-1.12", &["master".into(), "etcd".into()])
                .unwrap()
        );
        assert!(
            !config
                .valid_targets("cis-1.12", &["managedservices".into()])
                .unwrap()
        );
        assert!(
            !config
                .valid_targets("eks-stig-kubernetes-v1r6", &["etcd".into()])
                .unwrap()
        );
        assert_eq!(
            config.targets("cis-9").unwrap_err().to_string(),
            "No targets configured for cis-9"
        );
        let empty = Config::parse("c.yaml", "master: {}\n").unwrap();
        assert_eq!(
            empty.targets("cis-1.12").unwrap_err().to_string(),
            "config file is missing 'target_mapping' section"
        );
    }

    #[test]
    fn components_carry_bins_candidates_defaults_and_optional() {
        let config = bundled().merged(&ConfigDir::Bundled, "cis-1.12").unwrap();
        let master = config.components("master").unwrap();
        let names: Vec<&str> = master.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "apiserver",
                "scheduler",
                "controllermanager",
                "etcd",
                "flanneld",
                "kubernetes",
                "kubelet"
            ]
        );
        let apiserver = &master[0];
        assert!(!apiserver.optional);
        assert_eq!(apiserver.bins[1], "hyperkube apiserver");
        assert_eq!(
            apiserver.candidates(FileKind::Conf)[0],
            "/etc/kubernetes/manifests/kube-apiserver.yaml"
        );
        assert_eq!(
            apiserver.default_file(FileKind::Conf).as_deref(),
            Some("/etc/kubernetes/manifests/kube-apiserver.yaml")
        );
        assert_eq!(apiserver.default_file(FileKind::Kubeconfig), None);
        let etcd = &master[3];
        assert!(etcd.optional);
        assert_eq!(
            etcd.default_file(FileKind::Datadir).as_deref(),
            Some("/var/lib/etcd/default.etcd")
        );
        let kubernetes = &master[5];
        assert!(kubernetes.bins.is_empty());
        assert_eq!(config.components("policies").unwrap(), Vec::new());
        assert_eq!(config.components("nosuchtype"), None);
        let kubelet = &config.components("node").unwrap()[0];
        assert_eq!(
            kubelet.candidates(FileKind::Svc)[0],
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
        );
        assert_eq!(
            kubelet.default_file(FileKind::Cafile).as_deref(),
            Some("/etc/kubernetes/pki/ca.crt")
        );
    }

    #[test]
    fn a_benchmark_config_merges_over_the_top_level_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.yaml"),
            "node:\n  components: [kubelet]\n  kubelet:\n    bins: [kubelet]\n    defaultconf: /a\n    confs: [/x, /y]\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(
            dir.path().join("b/config.yaml"),
            "NODE:\n  Kubelet:\n    defaultconf: /b\n    optional: \"true\"\n",
        )
        .unwrap();
        let dir = ConfigDir::Dir(dir.path().to_owned());
        let config = Config::load(&dir).unwrap();
        let merged = config.merged(&dir, "b").unwrap();
        let kubelet = &merged.components("node").unwrap()[0];
        assert_eq!(kubelet.default_file(FileKind::Conf).as_deref(), Some("/b"));
        assert_eq!(kubelet.candidates(FileKind::Conf), ["/x", "/y"]);
        assert!(kubelet.optional);
        assert_eq!(config.merged(&dir, "no-such-folder").unwrap(), config);
    }

    #[test]
    fn a_string_list_may_be_one_string_split_at_white_space() {
        let config = Config::parse(
            "c.yaml",
            "node:\n  components: kubelet proxy\n  kubelet: {bins: kubelet}\n  proxy: {}\n",
        )
        .unwrap();
        let components = config.components("node").unwrap();
        assert_eq!(components.len(), 2);
        assert_eq!(components[0].bins, ["kubelet"]);
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let error =
            Config::parse("cfg/config.yaml", "master:\n  components: [a\nnode: {}\n").unwrap_err();
        assert!(error.to_string().starts_with("cfg/config.yaml:"), "{error}");
        let ConfigError::Syntax { line, .. } = error else {
            panic!("{error}")
        };
        assert!(line >= 2, "{line}");
        let error = Config::parse("c.yaml", "- a\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "c.yaml:1:1: the configuration must be a mapping"
        );
    }
}

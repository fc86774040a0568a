//! `.palisade.yaml`: which rules run, at what severity, with which parameters, which policy
//! files apply and which findings are accepted (see `docs/configuration.md`).

use std::path::{Path, PathBuf};

use palisade_checks::network::NetworkOptions;
use palisade_checks::workload::WorkloadOptions;
use palisade_core::{InputError, Map, Node, Severity};

use crate::exceptions::ConfigException;
use crate::fields::{Reader, read_document};
use crate::glob;

pub const FILE_NAME: &str = ".palisade.yaml";

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Where it was read, for messages; `None` for the built-in defaults.
    pub path: Option<PathBuf>,
    pub rules: RuleSwitches,
    pub severity: Vec<(String, Severity)>,
    pub workload: WorkloadOptions,
    pub network: NetworkOptions,
    /// OperationPolicy files, relative to the configuration file.
    pub policies: Vec<PathBuf>,
    pub exceptions: Vec<ConfigException>,
}

/// `rules.enable` and `rules.disable`: rule ids, families (`service`) or globs. The most
/// specific pattern that matches an id decides; a rule nobody mentions is enabled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSwitches {
    pub enable: Vec<String>,
    pub disable: Vec<String>,
}

impl RuleSwitches {
    pub fn is_enabled(&self, id: &str) -> bool {
        let best = |patterns: &[String]| {
            patterns.iter().filter(|pattern| pattern_matches(pattern, id)).map(|pattern| specificity(pattern)).max()
        };
        match (best(&self.enable), best(&self.disable)) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(enable), Some(disable)) => enable >= disable,
        }
    }
}

/// A family name matches its rules; otherwise the pattern is a glob over the id.
fn pattern_matches(pattern: &str, id: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    id.strip_prefix(pattern).is_some_and(|rest| rest.starts_with('/')) || glob::matches(pattern, id)
}

/// Exact ids beat globs, and longer literal text beats shorter.
fn specificity(pattern: &str) -> usize {
    let literal = pattern.chars().filter(|c| !matches!(c, '*' | '?')).count();
    literal * 2 + usize::from(!pattern.contains(['*', '?']))
}

impl Config {
    /// The severity a finding of rule `id` reports with.
    pub fn severity_of(&self, id: &str, default: Severity) -> Severity {
        severity_override(&self.severity, id, default)
    }

    pub fn load(path: &Path) -> Result<Self, InputError> {
        let (reader, root) = read_document(path)?;
        let mut config = Self::from_node(&reader, &root)?;
        let base = path.parent().unwrap_or(Path::new(""));
        for policy in &mut config.policies {
            *policy = base.join(&*policy);
        }
        config.path = Some(path.to_owned());
        Ok(config)
    }

    fn from_node(reader: &Reader, root: &Node) -> Result<Self, InputError> {
        let mut config = Self::default();
        let top = reader.map(root, "the configuration")?;
        // `admission` is read by palisade-admission (`palisade serve admission`).
        reader.known_keys(top, &["rules", "policies", "exceptions", "admission"], "the configuration")?;
        if let Some(rules) = top.get("rules") {
            let rules = reader.map(rules, "`rules`")?;
            reader.known_keys(rules, &["enable", "disable", "severity", "params"], "`rules`")?;
            if let Some(node) = rules.get("enable") {
                config.rules.enable = reader.strings(node, "`rules.enable`")?;
            }
            if let Some(node) = rules.get("disable") {
                config.rules.disable = reader.strings(node, "`rules.disable`")?;
            }
            if let Some(node) = rules.get("severity") {
                for (id, value) in reader.map(node, "`rules.severity`")?.iter() {
                    let severity = reader
                        .string(value, "a severity")?
                        .parse::<Severity>()
                        .map_err(|message| reader.error(value, message))?;
                    config.severity.push((id.to_owned(), severity));
                }
            }
            if let Some(node) = rules.get("params") {
                read_params(reader, reader.map(node, "`rules.params`")?, &mut config.workload, &mut config.network)?;
            }
        }
        if let Some(node) = top.get("policies") {
            config.policies = reader.strings(node, "`policies`")?.into_iter().map(PathBuf::from).collect();
        }
        if let Some(node) = top.get("exceptions") {
            for item in node.as_seq() {
                config.exceptions.push(ConfigException::parse(reader, item)?);
            }
        }
        Ok(config)
    }
}

/// The parameters of parameterised rules, keyed by rule id.
fn read_params(reader: &Reader, params: &Map, options: &mut WorkloadOptions, network: &mut NetworkOptions) -> Result<(), InputError> {
    const RULES: [&str; 8] = [
        "network/cross-environment",
        "workload/image-tag-latest",
        "workload/image-registry-not-allowed",
        "workload/image-pull-policy",
        "workload/resource-requests-missing",
        "workload/resource-limits-missing",
        "workload/revision-history-limit",
        "workload/priority-class",
    ];
    reader.known_keys(params, &RULES, "`rules.params`")?;
    for (id, node) in params.iter() {
        let fields = reader.map(node, &format!("`rules.params.{id}`"))?;
        let (key, what) = match id {
            "workload/image-tag-latest" => ("tags", "disallowed tags"),
            "workload/image-registry-not-allowed" | "workload/priority-class" => ("allowed", "allowed names"),
            "workload/image-pull-policy" => ("policy", "the required policy"),
            "workload/revision-history-limit" => ("max", "the maximum"),
            "network/cross-environment" => ("labels", "namespace labels naming an environment or tenant"),
            _ => ("resources", "resource names"),
        };
        reader.known_keys(fields, &[key], &format!("`rules.params.{id}`"))?;
        let Some(value) = fields.get(key) else { continue };
        let what = format!("`{id}.{key}` ({what})");
        match id {
            "workload/image-tag-latest" => options.disallowed_tags = reader.strings(value, &what)?,
            "workload/image-registry-not-allowed" => options.allowed_registries = reader.strings(value, &what)?,
            "workload/priority-class" => options.allowed_priority_classes = reader.strings(value, &what)?,
            "workload/image-pull-policy" => options.image_pull_policy = reader.string(value, &what)?,
            "workload/revision-history-limit" => options.max_revision_history = reader.int(value, &what)?,
            "workload/resource-requests-missing" => options.required_requests = reader.strings(value, &what)?,
            "network/cross-environment" => network.environment_labels = reader.strings(value, &what)?,
            _ => options.required_limits = reader.strings(value, &what)?,
        }
    }
    Ok(())
}

/// The configuration file for a scan of `start`: `.palisade.yaml` in `start` (or its directory
/// when it is a file) or the nearest ancestor that has one.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(start).ok()?;
    let first = if absolute.is_dir() { absolute.as_path() } else { absolute.parent()? };
    first.ancestors().map(|dir| dir.join(FILE_NAME)).find(|candidate| candidate.is_file())
}

/// The severity the most specific matching pattern of `overrides` gives rule `id`, else `default`.
pub(crate) fn severity_override(overrides: &[(String, Severity)], id: &str, default: Severity) -> Severity {
    overrides
        .iter()
        .filter(|(pattern, _)| pattern_matches(pattern, id))
        .max_by_key(|(pattern, _)| specificity(pattern))
        .map_or(default, |(_, severity)| *severity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, InputError> {
        let reader = Reader::new(".palisade.yaml");
        Config::from_node(&reader, &crate::fields::parse_single(&reader, text)?)
    }

    #[test]
    fn every_section_is_read() {
        let config = parse(
            "rules:\n  disable: [service, workload/priority-class]\n  enable: [service/external-ips]\n  severity:\n    workload/image-not-pinned-by-digest: high\n  params:\n    workload/revision-history-limit: {max: 3}\n    workload/image-registry-not-allowed: {allowed: [registry.example.com]}\n    workload/resource-limits-missing: {resources: memory}\npolicies: [ops.yaml]\nexceptions:\n- rules: [workload/image-tag-latest]\n  namespace: legacy-*\n  reason: migrating\n",
        )
        .unwrap();
        assert!(!config.rules.is_enabled("service/node-port"));
        assert!(config.rules.is_enabled("service/external-ips"));
        assert!(!config.rules.is_enabled("workload/priority-class"));
        assert!(config.rules.is_enabled("workload/image-tag-latest"));
        assert_eq!(config.severity_of("workload/image-not-pinned-by-digest", Severity::Low), Severity::High);
        assert_eq!(config.severity_of("workload/x", Severity::Low), Severity::Low);
        assert_eq!(config.workload.max_revision_history, 3);
        assert_eq!(config.workload.allowed_registries, ["registry.example.com"]);
        assert_eq!(config.workload.required_limits, ["memory"]);
        assert_eq!(config.workload.required_requests, ["cpu", "memory"]);
        assert_eq!(config.policies, [PathBuf::from("ops.yaml")]);
        assert_eq!(config.exceptions.len(), 1);
    }

    #[test]
    fn mistakes_name_the_line() {
        let error = parse("rules:\n  disabel: [pss]\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 3));
        assert!(error.message.contains("unknown key `disabel`"), "{}", error.message);
        let error = parse("rules:\n  severity:\n    pss/privileged: urgent\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.message.contains("urgent"));
        let error = parse("rules:\n  params:\n    workload/revision-history-limit: {max: many}\n").unwrap_err();
        assert!(error.message.contains("must be an integer"), "{}", error.message);
    }

    #[test]
    fn the_nearest_configuration_upward_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "{}").unwrap();
        std::fs::write(dir.path().join("a/b/app.yaml"), "").unwrap();
        let found = discover(&dir.path().join("a/b/app.yaml")).unwrap();
        assert_eq!(found, std::path::absolute(dir.path().join(FILE_NAME)).unwrap());
        std::fs::write(dir.path().join("a").join(FILE_NAME), "{}").unwrap();
        assert!(discover(&dir.path().join("a/b")).unwrap().starts_with(std::path::absolute(dir.path().join("a")).unwrap()));
    }
}

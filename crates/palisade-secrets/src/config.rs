//! gitleaks configurations, loaded unmodified and interpreted as gitleaks does (its `config`
//! package, v8.30): rules, global and per-rule allowlists, `[extend]`, validation.
//!
//! A file without `[extend]` replaces the built-in rules; `useDefault = true` starts from them
//! (gitleaks' default file, vendored under `rules/`), `path = "base.toml"` from another file,
//! resolved against the directory of the extending file. A rule with an inherited id overrides
//! the fields it sets and adds its tags, keywords and allowlists; after an extension rules are
//! sorted by id, as gitleaks orders them. Keys are matched case-insensitively (gitleaks reads
//! through viper); unknown keys are ignored with a warning.
//!
//! Where we differ from gitleaks on purpose: a rule id defined twice in one file is an error
//! (gitleaks keeps the last and runs it twice); `targetRules` and `[[rules.required]]` ids are
//! checked after the extension at every level (gitleaks drops targeted allowlists of extended
//! files and refuses required ids that only an extended file defines); an override's
//! `[[rules.required]]` and `skipReport` are kept (gitleaks drops them); an `[extend]` beyond
//! the depth limit is reported as a warning (gitleaks ignores it silently).

mod document;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::pattern::Pattern;

/// gitleaks' default configuration, the built-in rules (see `rules/SOURCE.md`).
pub const DEFAULT_TOML: &str = include_str!("../rules/gitleaks.toml");

/// The name the built-in file has in errors and rule origins.
pub const DEFAULT_NAME: &str = "gitleaks.toml (built in)";

/// How many `[extend]` levels are followed: gitleaks' `maxExtendDepth`.
pub const MAX_EXTEND_DEPTH: usize = 2;

/// Largest configuration file read (gitleaks' default is about 100 KiB).
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// A loaded configuration: rules in gitleaks' order and the allowlists that apply to all of them.
#[derive(Debug, Clone)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// The oldest gitleaks the file was written for (informational).
    pub min_version: String,
    pub rules: Vec<Rule>,
    /// Global allowlists without `targetRules`; targeted ones are in their rules' `allowlists`.
    pub allowlists: Vec<Allowlist>,
    /// Things ignored while loading (unknown keys, disabled rules that do not exist, …), with file and line.
    pub warnings: Vec<String>,
}

/// One `[[rules]]` entry, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    /// Run over the content; `None` for a path-only rule (the file itself is the finding).
    pub regex: Option<Pattern>,
    /// Run over the file path: with `regex` a filter, without it the finding.
    pub path: Option<Pattern>,
    /// Capture group holding the secret; 0 = the first non-empty group, or the whole match.
    pub secret_group: usize,
    /// Minimum Shannon entropy of the secret; a secret at or below it is dropped.
    pub entropy: Option<f64>,
    /// Lowercased; the rule only runs on text containing one of them (all text when empty).
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    /// The rule's own allowlists, then the global ones that target it.
    pub allowlists: Vec<Allowlist>,
    /// Composite rule: other rules that must match near this one.
    pub required: Vec<Required>,
    /// Only a condition of composite rules, never reported itself.
    pub skip_report: bool,
    /// Where the rule (or its last override) is written.
    pub origin: Origin,
}

/// A file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// `[[rules.required]]`: another rule that must also match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Required {
    pub id: String,
    /// At most this many lines away from the match; `None` = anywhere in the fragment.
    pub within_lines: Option<u64>,
    /// At most this many columns away; `None` = any column.
    pub within_columns: Option<u64>,
}

/// A global or per-rule allowlist: what suppresses a candidate finding.
#[derive(Debug, Clone)]
pub struct Allowlist {
    pub description: String,
    pub condition: Condition,
    /// Lowercased, trimmed, without repeats.
    pub commits: Vec<String>,
    pub paths: Vec<Pattern>,
    pub regexes: Vec<Pattern>,
    /// What `regexes` are tested against.
    pub regex_target: RegexTarget,
    /// Lowercased, without repeats; a secret containing one is allowed.
    pub stopwords: Vec<String>,
}

/// How an allowlist's criteria combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Any criterion suppresses (the default).
    Or,
    /// Every criterion present must hold.
    And,
}

/// The text an allowlist's `regexes` are tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    Secret,
    Match,
    Line,
}

/// A configuration that cannot be used: the file, line and rule it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub rule: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(rule) = &self.rule {
            write!(f, ": rule {rule}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// gitleaks' default rules (parsed once per process).
    pub fn default_rules() -> Config {
        static DEFAULT: OnceLock<Config> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                // tests/config.rs loads this file; failing here is a build defect, not input.
                assemble(DEFAULT_TOML, DEFAULT_NAME, None, MAX_EXTEND_DEPTH, true)
                    .and_then(validated)
                    .unwrap_or_else(|error| panic!("built-in gitleaks rules: {error}"))
            })
            .clone()
    }

    /// Loads a gitleaks TOML file and what it extends.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        load_file(path, 0).and_then(validated)
    }

    /// Parses configuration text named `name` in errors; an `[extend] path` is resolved against
    /// the directory of `name`.
    pub fn parse(text: &str, name: &str) -> Result<Config, ConfigError> {
        let dir = Path::new(name).parent().map(Path::to_path_buf);
        assemble(text, name, dir.as_deref(), 0, false).and_then(validated)
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

fn load_file(path: &Path, depth: usize) -> Result<Config, ConfigError> {
    let name = path.display().to_string();
    let failed = |message: String| ConfigError { file: name.clone(), line: None, rule: None, message };
    let metadata = std::fs::metadata(path).map_err(|error| failed(error.to_string()))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(failed(format!("{} bytes, more than the {MAX_FILE_BYTES}-byte limit for a configuration", metadata.len())));
    }
    let bytes = std::fs::read(path).map_err(|error| failed(error.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| failed("not UTF-8 text".into()))?;
    assemble(&text, &name, path.parent(), depth, false)
}

/// One file and what it extends, merged; targeted allowlists placed; not yet validated as a whole.
/// `built_in`: the text is [`DEFAULT_TOML`], whose patterns are compiled on first use.
fn assemble(text: &str, name: &str, dir: Option<&Path>, depth: usize, built_in: bool) -> Result<Config, ConfigError> {
    let file = document::read(text, name, built_in)?;
    // gitleaks keeps a file's own global allowlists before those of the file it extends, and
    // places targeted ones once the extended rules are known.
    let (targeted, global): (Vec<_>, Vec<_>) = file.allowlists.into_iter().partition(|allowlist| !allowlist.target_rules.is_empty());
    let mut config = Config {
        title: file.title,
        description: file.description,
        min_version: file.min_version,
        rules: file.rules,
        allowlists: global.into_iter().map(|global| global.allowlist).collect(),
        warnings: file.warnings,
    };
    if let Some(extend) = file.extend {
        let at = |message: String| ConfigError { file: name.to_owned(), line: Some(extend.line), rule: None, message };
        if depth >= MAX_EXTEND_DEPTH {
            config.warnings.push(format!("{name}:{}: [extend] ignored: gitleaks follows at most {MAX_EXTEND_DEPTH} levels of extension", extend.line));
        } else {
            let base = match (extend.use_default, &extend.path) {
                (true, Some(_)) => return Err(at("[extend] sets both useDefault and path; use one".into())),
                (true, None) => Some(Config::default_rules()),
                (false, Some(path)) => {
                    let path: PathBuf = dir.map_or_else(|| PathBuf::from(path), |dir| dir.join(path));
                    Some(load_file(&path, depth + 1)?)
                }
                (false, None) => None,
            };
            if let Some(base) = base {
                extend_with(&mut config, base, &extend.disabled_rules, name, extend.line);
            }
        }
    }
    for targeted in targeted {
        for (target, line) in &targeted.target_rules {
            let Some(rule) = config.rules.iter_mut().find(|rule| &rule.id == target) else {
                return Err(ConfigError {
                    file: name.to_owned(),
                    line: Some(*line),
                    rule: None,
                    message: format!("[[allowlists]] target rule id `{target}` does not exist"),
                });
            };
            rule.allowlists.push(targeted.allowlist.clone());
        }
    }
    Ok(config)
}

/// Merges an extended configuration (`base`) under `config`, as gitleaks' `Config.extend`.
fn extend_with(config: &mut Config, base: Config, disabled: &[String], name: &str, line: usize) {
    for id in disabled {
        if base.rule(id).is_none() {
            config.warnings.push(format!("{name}:{line}: disabled rule `{id}` is not in the extended configuration"));
        }
    }
    // Rules are sorted by id afterwards, so the order they are gathered in does not matter.
    let mut own = std::mem::take(&mut config.rules);
    for base_rule in base.rules {
        if disabled.contains(&base_rule.id) {
            continue;
        }
        match own.iter().position(|rule| rule.id == base_rule.id) {
            Some(index) => config.rules.push(overridden(base_rule, own.swap_remove(index))),
            None => config.rules.push(base_rule),
        }
    }
    config.rules.append(&mut own);
    config.rules.sort_by(|a, b| a.id.cmp(&b.id));
    config.allowlists.extend(base.allowlists);
    config.warnings.extend(base.warnings);
}

/// `base` with the fields `over` sets; lists are concatenated.
fn overridden(mut base: Rule, over: Rule) -> Rule {
    if !over.description.is_empty() {
        base.description = over.description;
    }
    if over.entropy.is_some() {
        base.entropy = over.entropy;
    }
    if over.secret_group != 0 {
        base.secret_group = over.secret_group;
    }
    if over.regex.is_some() {
        base.regex = over.regex;
    }
    if over.path.is_some() {
        base.path = over.path;
    }
    for keyword in over.keywords {
        if !base.keywords.contains(&keyword) {
            base.keywords.push(keyword);
        }
    }
    base.tags.extend(over.tags);
    base.allowlists.extend(over.allowlists);
    base.required.extend(over.required);
    base.skip_report |= over.skip_report;
    base.origin = over.origin;
    base
}

/// gitleaks' checks on the assembled rules (`Rule.Validate`, required ids).
fn validated(config: Config) -> Result<Config, ConfigError> {
    for rule in &config.rules {
        let error = |message: String| ConfigError {
            file: rule.origin.file.to_string(),
            line: Some(rule.origin.line),
            rule: Some(rule.id.clone()),
            message,
        };
        match &rule.regex {
            None if rule.path.is_none() => {
                return Err(error("both regex and path are empty, this rule would have no effect".into()));
            }
            Some(regex) if rule.secret_group > regex.captures_len() - 1 => {
                return Err(error(format!(
                    "secretGroup {} is larger than the regex's {} capture groups",
                    rule.secret_group,
                    regex.captures_len() - 1
                )));
            }
            _ => {}
        }
        for required in &rule.required {
            if config.rule(&required.id).is_none() {
                return Err(error(format!("[[rules.required]] rule id `{}` does not exist", required.id)));
            }
        }
    }
    Ok(config)
}

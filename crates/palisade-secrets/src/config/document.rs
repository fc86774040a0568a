//! One gitleaks TOML file read into rules and allowlists, with the line of every value, so an
//! error names file, line and rule. Keys are matched case-insensitively, as viper does.

use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::{Allowlist, Condition, ConfigError, Origin, RegexTarget, Required, Rule};
use crate::pattern::Pattern;

/// What one file says, before extension.
pub(super) struct File {
    pub title: String,
    pub description: String,
    pub min_version: String,
    pub extend: Option<Extend>,
    pub allowlists: Vec<GlobalAllowlist>,
    pub rules: Vec<Rule>,
    pub warnings: Vec<String>,
}

/// `[extend]`.
pub(super) struct Extend {
    pub line: usize,
    pub use_default: bool,
    pub path: Option<String>,
    pub disabled_rules: Vec<String>,
}

/// A global allowlist and the rules it is limited to (with their lines), none = all rules.
pub(super) struct GlobalAllowlist {
    pub allowlist: Allowlist,
    pub target_rules: Vec<(String, usize)>,
}

type Value<'i> = Spanned<DeValue<'i>>;

/// A table's entries under lowercased keys, remembering which ones were read.
struct Table<'t, 'i> {
    entries: Vec<(String, &'t Spanned<DeString<'i>>, &'t Value<'i>)>,
}

impl<'t, 'i> Table<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries.iter().find(|(name, _, _)| name == key).map(|(_, _, value)| *value)
    }
}

/// The file being read: its name, its line starts, and the warnings gathered.
struct Reader<'a> {
    name: &'a str,
    /// The built-in rules: their patterns, known to compile, are compiled on first use.
    built_in: bool,
    file: Arc<str>,
    line_starts: Vec<usize>,
    warnings: Vec<String>,
}

pub(super) fn read(text: &str, name: &str, built_in: bool) -> Result<File, ConfigError> {
    let mut reader = Reader {
        name,
        built_in,
        file: Arc::from(name),
        line_starts: std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect(),
        warnings: Vec::new(),
    };
    let root = DeTable::parse(text).map_err(|error| ConfigError {
        file: name.to_owned(),
        line: error.span().map(|span| reader.line(span.start)),
        rule: None,
        message: error.message().trim().to_owned(),
    })?;
    let root = reader.table_entries(root.get_ref(), &["title", "description", "minversion", "extend", "allowlist", "allowlists", "rules"], None);
    let mut file = File {
        title: reader.opt_string(&root, "title", None)?.unwrap_or_default(),
        description: reader.opt_string(&root, "description", None)?.unwrap_or_default(),
        min_version: reader.opt_string(&root, "minversion", None)?.unwrap_or_default(),
        extend: None,
        allowlists: Vec::new(),
        rules: Vec::new(),
        warnings: Vec::new(),
    };
    if let Some(value) = root.get("extend") {
        let table = reader.table(value, &["path", "url", "usedefault", "disabledrules"], None)?;
        if table.get("url").is_some() {
            let line = reader.line(value.span().start);
            reader.warnings.push(format!("{name}:{line}: [extend] url ignored: gitleaks does not implement it"));
        }
        file.extend = Some(Extend {
            line: reader.line(value.span().start),
            use_default: reader.opt_bool(&table, "usedefault", None)?.unwrap_or(false),
            path: reader.opt_string(&table, "path", None)?.filter(|path| !path.is_empty()),
            disabled_rules: reader.strings(&table, "disabledrules", None)?,
        });
    }
    let tables = reader.tables_in(&root, "allowlist", "allowlists", None)?;
    for value in tables {
        file.allowlists.push(reader.allowlist(value, None)?);
    }
    if let Some(rules) = root.get("rules") {
        for value in reader.array(rules, "rules", None)? {
            let rule = reader.rule(value)?;
            if let Some(first) = file.rules.iter().find(|other: &&Rule| other.id == rule.id) {
                return Err(reader.error(value, Some(&rule.id), format!("rule id also defined at line {}", first.origin.line)));
            }
            file.rules.push(rule);
        }
    }
    file.warnings = reader.warnings;
    Ok(file)
}

impl Reader<'_> {
    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn error(&self, value: &Value<'_>, rule: Option<&str>, message: String) -> ConfigError {
        ConfigError { file: self.name.to_owned(), line: Some(self.line(value.span().start)), rule: rule.map(str::to_owned), message }
    }

    fn table<'t, 'i>(&mut self, value: &'t Value<'i>, known: &[&str], rule: Option<&str>) -> Result<Table<'t, 'i>, ConfigError> {
        match value.get_ref() {
            DeValue::Table(table) => Ok(self.table_entries(table, known, rule)),
            _ => Err(self.error(value, rule, "expected a table".into())),
        }
    }

    /// The entries of a table; keys not in `known` are reported as ignored.
    fn table_entries<'t, 'i>(&mut self, table: &'t DeTable<'i>, known: &[&str], rule: Option<&str>) -> Table<'t, 'i> {
        let entries: Vec<_> = table.iter().map(|(key, value)| (key.get_ref().to_ascii_lowercase(), key, value)).collect();
        for (name, key, _) in &entries {
            if !known.contains(&name.as_str()) {
                let line = self.line(key.span().start);
                let within = rule.map(|id| format!(" in rule {id}")).unwrap_or_default();
                self.warnings.push(format!("{}:{line}: unknown key `{}`{within} ignored", self.name, key.get_ref()));
            }
        }
        Table { entries }
    }

    fn array<'t, 'i>(&self, value: &'t Value<'i>, key: &str, rule: Option<&str>) -> Result<&'t [Value<'i>], ConfigError> {
        match value.get_ref() {
            DeValue::Array(array) => Ok(array),
            _ => Err(self.error(value, rule, format!("`{key}` must be an array"))),
        }
    }

    /// The tables of the legacy single-table key (`allowlist`) or of the array key (`allowlists`);
    /// both in one place is an error, as in gitleaks.
    fn tables_in<'t, 'i>(&self, table: &Table<'t, 'i>, single: &str, many: &str, rule: Option<&str>) -> Result<Vec<&'t Value<'i>>, ConfigError> {
        let mut tables: Vec<&Value> = match table.get(many) {
            Some(value) => self.array(value, many, rule)?.iter().collect(),
            None => Vec::new(),
        };
        if let Some(value) = table.get(single) {
            if !tables.is_empty() {
                let prefix = if rule.is_some() { "rules." } else { "" };
                return Err(self.error(value, rule, format!("[{prefix}{single}] is deprecated, it cannot be used alongside [[{prefix}{many}]]")));
            }
            tables.push(value);
        }
        Ok(tables)
    }

    fn opt_string(&self, table: &Table<'_, '_>, key: &str, rule: Option<&str>) -> Result<Option<String>, ConfigError> {
        table.get(key).map(|value| self.string(value, key, rule)).transpose()
    }

    fn string(&self, value: &Value<'_>, key: &str, rule: Option<&str>) -> Result<String, ConfigError> {
        match value.get_ref() {
            DeValue::String(text) => Ok(text.to_string()),
            _ => Err(self.error(value, rule, format!("`{key}` must be a string"))),
        }
    }

    /// A list of strings; a single string counts as a list of one, as viper's weak decoding allows.
    fn strings(&self, table: &Table<'_, '_>, key: &str, rule: Option<&str>) -> Result<Vec<String>, ConfigError> {
        Ok(self.string_values(table, key, rule)?.into_iter().map(|(text, _)| text).collect())
    }

    /// Like [`Reader::strings`], with each string's value for its position.
    fn string_values<'t, 'i>(&self, table: &Table<'t, 'i>, key: &str, rule: Option<&str>) -> Result<Vec<(String, &'t Value<'i>)>, ConfigError> {
        let Some(value) = table.get(key) else { return Ok(Vec::new()) };
        match value.get_ref() {
            DeValue::String(text) => Ok(vec![(text.to_string(), value)]),
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::String(text) => Ok((text.to_string(), item)),
                    _ => Err(self.error(item, rule, format!("`{key}` must hold strings"))),
                })
                .collect(),
            _ => Err(self.error(value, rule, format!("`{key}` must be an array of strings"))),
        }
    }

    fn opt_bool(&self, table: &Table<'_, '_>, key: &str, rule: Option<&str>) -> Result<Option<bool>, ConfigError> {
        let Some(value) = table.get(key) else { return Ok(None) };
        match value.get_ref() {
            DeValue::Boolean(flag) => Ok(Some(*flag)),
            _ => Err(self.error(value, rule, format!("`{key}` must be true or false"))),
        }
    }

    /// A non-negative integer.
    fn opt_count(&self, table: &Table<'_, '_>, key: &str, rule: Option<&str>) -> Result<Option<u64>, ConfigError> {
        let Some(value) = table.get(key) else { return Ok(None) };
        let number = match value.get_ref() {
            DeValue::Integer(integer) => u64::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()).ok(),
            _ => None,
        };
        number.map(Some).ok_or_else(|| self.error(value, rule, format!("`{key}` must be a whole number, 0 or more")))
    }

    /// A finite number, integer or float.
    fn opt_number(&self, table: &Table<'_, '_>, key: &str, rule: Option<&str>) -> Result<Option<f64>, ConfigError> {
        let Some(value) = table.get(key) else { return Ok(None) };
        let number = match value.get_ref() {
            DeValue::Integer(integer) => i64::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()).ok().map(|n| n as f64),
            DeValue::Float(float) => float.as_str().replace('_', "").parse::<f64>().ok(),
            _ => None,
        };
        match number {
            Some(number) if number.is_finite() => Ok(Some(number)),
            _ => Err(self.error(value, rule, format!("`{key}` must be a number"))),
        }
    }

    /// A pattern with Go's meaning; errors name the key and the rule.
    fn pattern(&self, value: &Value<'_>, key: &str, rule: Option<&str>) -> Result<Pattern, ConfigError> {
        let text = self.string(value, key, rule)?;
        self.compiled(&text, value, key, rule)
    }

    fn patterns(&self, table: &Table<'_, '_>, key: &str, rule: Option<&str>) -> Result<Vec<Pattern>, ConfigError> {
        self.string_values(table, key, rule)?.into_iter().map(|(text, value)| self.compiled(&text, value, key, rule)).collect()
    }

    fn compiled(&self, text: &str, value: &Value<'_>, key: &str, rule: Option<&str>) -> Result<Pattern, ConfigError> {
        let pattern = if self.built_in { Pattern::compile_on_use(text) } else { Pattern::compile(text) };
        pattern.map_err(|error| self.error(value, rule, format!("`{key}`: {error}")))
    }

    fn rule(&mut self, value: &Value<'_>) -> Result<Rule, ConfigError> {
        const KNOWN: &[&str] = &[
            "id", "description", "regex", "path", "secretgroup", "entropy", "keywords", "tags", "allowlist", "allowlists", "required", "skipreport",
        ];
        let id = match value.get_ref() {
            DeValue::Table(table) => table.iter().find(|(key, _)| key.get_ref().eq_ignore_ascii_case("id")).map(|(_, id)| self.string(id, "id", None)).transpose()?,
            _ => None,
        };
        let id = id.map(|id| id.trim().to_owned()).unwrap_or_default();
        if id.is_empty() {
            return Err(self.error(value, None, "rule id is missing or empty".into()));
        }
        let rule = Some(id.as_str());
        let table = self.table(value, KNOWN, rule)?;
        let mut allowlists = Vec::new();
        for allowlist in self.tables_in(&table, "allowlist", "allowlists", rule)? {
            allowlists.push(self.allowlist(allowlist, rule)?.allowlist);
        }
        let mut required = Vec::new();
        if let Some(value) = table.get("required") {
            for item in self.array(value, "required", rule)? {
                let entry = self.table(item, &["id", "withinlines", "withincolumns"], rule)?;
                let required_id = self.opt_string(&entry, "id", rule)?.unwrap_or_default();
                if required_id.trim().is_empty() {
                    return Err(self.error(item, rule, "[[rules.required]] rule id is empty".into()));
                }
                required.push(Required {
                    id: required_id.trim().to_owned(),
                    within_lines: self.opt_count(&entry, "withinlines", rule)?,
                    within_columns: self.opt_count(&entry, "withincolumns", rule)?,
                });
            }
        }
        Ok(Rule {
            description: self.opt_string(&table, "description", rule)?.unwrap_or_default(),
            regex: table.get("regex").map(|value| self.pattern(value, "regex", rule)).transpose()?,
            path: table.get("path").map(|value| self.pattern(value, "path", rule)).transpose()?,
            secret_group: self.opt_count(&table, "secretgroup", rule)?.map_or(0, |group| usize::try_from(group).unwrap_or(usize::MAX)),
            entropy: self.opt_number(&table, "entropy", rule)?.filter(|entropy| *entropy != 0.0),
            keywords: unique(self.strings(&table, "keywords", rule)?.into_iter().map(|keyword| keyword.to_lowercase())),
            tags: self.strings(&table, "tags", rule)?,
            allowlists,
            required,
            skip_report: self.opt_bool(&table, "skipreport", rule)?.unwrap_or(false),
            origin: Origin { file: self.file.clone(), line: self.line(value.span().start) },
            id,
        })
    }

    /// A per-rule allowlist (`rule` is its id) or a global one (`rule` is `None`, `targetRules` allowed).
    fn allowlist(&mut self, value: &Value<'_>, rule: Option<&str>) -> Result<GlobalAllowlist, ConfigError> {
        const KNOWN: &[&str] = &["description", "condition", "commits", "paths", "regextarget", "regexes", "stopwords", "targetrules"];
        let known = if rule.is_some() { &KNOWN[..KNOWN.len() - 1] } else { KNOWN };
        let table = self.table(value, known, rule)?;
        let condition = match self.opt_string(&table, "condition", rule)?.unwrap_or_default().to_ascii_uppercase().as_str() {
            "AND" | "&&" => Condition::And,
            "" | "OR" | "||" => Condition::Or,
            other => return Err(self.error(value, rule, format!("unknown allowlist condition `{other}` (expected AND or OR)"))),
        };
        let regex_target = match self.opt_string(&table, "regextarget", rule)?.as_deref() {
            None | Some("") | Some("secret") => RegexTarget::Secret,
            Some("match") => RegexTarget::Match,
            Some("line") => RegexTarget::Line,
            Some(other) => return Err(self.error(value, rule, format!("unknown allowlist regexTarget `{other}` (expected secret, match or line)"))),
        };
        let allowlist = Allowlist {
            description: self.opt_string(&table, "description", rule)?.unwrap_or_default(),
            condition,
            commits: unique(self.strings(&table, "commits", rule)?.into_iter().map(|commit| commit.trim().to_lowercase())),
            paths: self.patterns(&table, "paths", rule)?,
            regexes: self.patterns(&table, "regexes", rule)?,
            regex_target,
            stopwords: unique(self.strings(&table, "stopwords", rule)?.into_iter().map(|word| word.to_lowercase())),
        };
        if allowlist.commits.is_empty() && allowlist.paths.is_empty() && allowlist.regexes.is_empty() && allowlist.stopwords.is_empty() {
            return Err(self.error(value, rule, "allowlist must contain at least one check for: commits, paths, regexes, or stopwords".into()));
        }
        let target_rules = if rule.is_none() {
            self.string_values(&table, "targetrules", None)?.into_iter().map(|(id, value)| (id, self.line(value.span().start))).collect()
        } else {
            Vec::new()
        };
        Ok(GlobalAllowlist { allowlist, target_rules })
    }
}

/// The items in their first order, without repeats.
fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

//! The one result type every door of Palisade produces and every report consumes.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use crate::object::{Object, ObjectRef};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Self::Critical, Self::High, Self::Medium, Self::Low, Self::Info];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|severity| severity.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown severity `{text}` (expected critical, high, medium, low or info)"))
    }
}

/// Compliance frameworks a rule can map onto.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// CIS Kubernetes Benchmark.
    Cis,
    /// NSA/CISA Kubernetes Hardening Guide.
    Nsa,
    /// Kubernetes Pod Security Standards.
    Pss,
    /// MITRE ATT&CK for containers.
    Mitre,
}

impl Framework {
    pub const ALL: [Framework; 4] = [Self::Cis, Self::Nsa, Self::Pss, Self::Mitre];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cis => "cis",
            Self::Nsa => "nsa",
            Self::Pss => "pss",
            Self::Mitre => "mitre",
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            Self::Cis => "CIS Kubernetes Benchmark",
            Self::Nsa => "NSA/CISA Kubernetes Hardening Guide",
            Self::Pss => "Kubernetes Pod Security Standards",
            Self::Mitre => "MITRE ATT&CK for Containers",
        }
    }
}

impl std::str::FromStr for Framework {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|framework| framework.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown framework `{text}` (expected cis, nsa, pss or mitre)"))
    }
}

/// One control of a framework, e.g. CIS `5.2.2` or MITRE `T1611`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Control {
    pub framework: Framework,
    pub id: Cow<'static, str>,
}

impl Control {
    pub const fn new(framework: Framework, id: &'static str) -> Self {
        Self { framework, id: Cow::Borrowed(id) }
    }
}

/// Where a finding points: the file as the user named it, the 1-based line and column of the
/// offending field (0 when the object has no source text, e.g. from a live cluster), and the
/// field's JSON pointer inside the object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    pub path: Text,
}

impl Ord for Location {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Findings of one file share its name: sorting hundreds of thousands of them should
        // not compare the same path text at every step.
        let file = if Arc::ptr_eq(&self.file, &other.file) {
            std::cmp::Ordering::Equal
        } else {
            self.file.cmp(&other.file)
        };
        file.then(self.line.cmp(&other.line))
            .then(self.column.cmp(&other.column))
            .then_with(|| self.path.cmp(&other.path))
    }
}

impl PartialOrd for Location {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Text of a finding (its message, its JSON pointer), cheap to clone and to share between
/// findings that say the same thing (see [`TextPool`]).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Arc<str>);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(text.into())
    }
}

impl From<Text> for Arc<str> {
    fn from(text: Text) -> Self {
        text.0
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(text.into())
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Stores each distinct finding text once for a scan: 100k objects give about 600k findings
/// but only some 50k distinct messages and a hundred pointers. Split in shards so that threads
/// reporting findings rarely wait for each other; dropped with the scan, so nothing outlives it
/// but the texts findings still use.
pub struct TextPool {
    /// Seeded per pool: texts come from the input, so their hashes must not be predictable.
    hasher: foldhash::fast::RandomState,
    shards: [Mutex<HashSet<Arc<str>, foldhash::fast::RandomState>>; 16],
}

impl Default for TextPool {
    fn default() -> Self {
        Self { hasher: foldhash::fast::RandomState::default(), shards: Default::default() }
    }
}

impl TextPool {
    /// Makes `finding` use the pool's copy of its message and pointer.
    pub fn share(&self, finding: &mut Finding) {
        finding.message = self.text(finding.message.clone());
        finding.location.path = self.text(finding.location.path.clone());
    }

    /// The pool's copy of `text`, made the first time it is asked for.
    pub fn text(&self, text: impl AsRef<str> + Into<Arc<str>>) -> Text {
        let shard = &self.shards[self.hasher.hash_one(text.as_ref()) as usize % self.shards.len()];
        let mut shard = shard.lock().unwrap_or_else(|poison| poison.into_inner());
        match shard.get(text.as_ref()) {
            Some(known) => Text(known.clone()),
            None => {
                let text: Arc<str> = text.into();
                shard.insert(text.clone());
                Text(text)
            }
        }
    }
}

/// A rule's verdict on one object. The rule's id, title, remediation and controls are the
/// catalog's static text, shared by every finding of the rule rather than copied into each.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub message: Text,
    pub object: Arc<ObjectRef>,
    pub location: Location,
    pub remediation: &'static str,
    pub controls: &'static [Control],
    /// Set on findings of known vulnerabilities (`vuln/<id>`): the advisory, the package that
    /// has it and what fixes it.
    pub vulnerability: Option<Arc<Vulnerability>>,
    /// Set on findings of leaked credentials (`secret/<gitleaks rule>`): where exactly, and
    /// what identifies the leak; never the secret itself.
    pub secret: Option<Arc<LeakedSecret>>,
}

/// A credential found in text, as reports show it. It holds no secret: only a redacted form
/// (a short prefix and the length).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeakedSecret {
    /// The gitleaks rule that found it (`aws-access-token`).
    pub rule: String,
    pub description: String,
    /// `AKIA… (20 bytes)`.
    pub redacted: String,
    /// The text the rule matched with the secret replaced by `REDACTED`, as gitleaks'
    /// `--redact` shows it (`aws_access_key_id = REDACTED`).
    pub redacted_match: String,
    /// gitleaks' fingerprint: `file:rule:line`, or `commit:file:rule:line` in git history;
    /// what `.gitleaksignore` and baselines name.
    pub fingerprint: String,
    /// gitleaks' line and column numbers of the match.
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// Shannon entropy of the secret, in thousandths of a bit per character.
    #[serde(with = "thousandths")]
    pub entropy: u32,
    /// The rule's tags, and `decoded:<encoding>`, `decode-depth:<n>` for a secret found in
    /// decoded text.
    pub tags: Vec<String>,
    /// The commit that added it, in git history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// The image layer whose file holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// In an image: the file was deleted or replaced by a later layer, yet anyone who pulls
    /// the image has it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden_by_later_layer: bool,
}

/// The commit a secret was added in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitInfo {
    pub id: String,
    pub author: String,
    pub email: String,
    /// RFC 3339, in the author's offset.
    pub date: String,
    pub message: String,
}

/// A number kept exactly in thousandths, written as a decimal (`3.684`).
mod thousandths {
    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(value: &u32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(f64::from(*value) / 1000.0)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        Ok((f64::deserialize(deserializer)? * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32)
    }
}

/// A known vulnerability in one installed package, as reports show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Vulnerability {
    /// The advisory the finding is named after (`GHSA-…`, `RUSTSEC-…`, `DSA-…`, `CVE-…`).
    pub id: String,
    /// The other ids of the same vulnerability, merged into this finding (sorted).
    pub aliases: Vec<String>,
    pub summary: String,
    pub package: VulnerablePackage,
    /// The versions that fix it, lowest first; empty when no fix is published.
    pub fixed_versions: Vec<String>,
    /// The CVSS score the severity was taken from, in tenths (98 = 9.8).
    #[serde(serialize_with = "tenths")]
    pub score: Option<u8>,
    /// The vector the score was computed from (`CVSS:3.1/AV:N/…`).
    pub vector: Option<String>,
    /// Where the severity came from: `cvss-v3`, `cvss-v4`, `ghsa`, `ubuntu`, …
    pub severity_source: Option<String>,
    /// The advisory's web page.
    pub url: Option<String>,
}

/// The package a vulnerability was found in, and the proof it is installed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VulnerablePackage {
    pub name: String,
    pub version: String,
    /// The OSV ecosystem it was matched in (`Debian:12`, `PyPI`, `Go`).
    pub ecosystem: String,
    pub purl: String,
    /// The source package the advisory names, when it differs from the binary package
    /// (`openssl` for `libssl3`).
    pub source: Option<String>,
    /// The file that proves the package is installed (a dpkg status file, a lockfile, a binary).
    pub path: String,
    /// The image layer that wrote that file.
    pub layer: Option<String>,
}

fn tenths<S: serde::Serializer>(score: &Option<u8>, serializer: S) -> Result<S::Ok, S::Error> {
    match score {
        Some(tenths) => serializer.serialize_f64(f64::from(*tenths) / 10.0),
        None => serializer.serialize_none(),
    }
}

impl Finding {
    /// A finding of a built-in rule on `object`, located at the field `pointer` names.
    pub fn new(meta: &'static RuleMeta, object: &Object, pointer: String, message: String) -> Self {
        Self::with_text(meta, object, pointer.into(), message.into())
    }

    /// Like [`Self::new`], with texts already made (shared from a [`TextPool`]).
    pub fn with_text(meta: &'static RuleMeta, object: &Object, pointer: Text, message: Text) -> Self {
        let mark = object.locate(&pointer);
        Self {
            rule: meta.id,
            severity: meta.severity,
            title: meta.title,
            message,
            object: object.reference(),
            location: Location {
                file: object.origin.file.clone(),
                line: mark.line,
                column: mark.column,
                path: pointer,
            },
            remediation: meta.remediation,
            controls: meta.controls,
            vulnerability: None,
            secret: None,
        }
    }

    /// The same verdict said of `object` at the field `pointer` names, with `message`: a
    /// finding about an image, repeated at each container that runs it.
    pub fn relocated(&self, object: &Object, pointer: Text, message: Text) -> Self {
        let mark = object.locate(&pointer);
        Self {
            message,
            object: object.reference(),
            location: Location { file: object.origin.file.clone(), line: mark.line, column: mark.column, path: pointer },
            ..self.clone()
        }
    }

    /// The order reports use: by file, position, rule, object, message, then severity, so
    /// output is byte-stable whatever order the parallel engine produced findings in.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (&self.location, self.rule, &self.object, &self.message, self.severity)
    }
}

/// What a rule is: the metadata that `palisade rules`, `palisade explain` and `docs/rules/`
/// are generated from, kept beside the rule's check.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable, lower-case, family-prefixed id (`pss/privileged`); never renamed once shipped.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// Markdown with the sections "What it does", "Why is this bad?", "How to fix" and
    /// "Example".
    pub doc: &'static str,
    /// One sentence telling what to change; shown with every finding.
    pub remediation: &'static str,
    pub controls: &'static [Control],
}

impl RuleMeta {
    /// The family: the id up to the first `/`.
    pub fn family(&self) -> &'static str {
        self.id.split_once('/').map_or(self.id, |(family, _)| family)
    }

    pub fn maps_to(&self, framework: Framework) -> bool {
        self.controls.iter().any(|control| control.framework == framework)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_from_info_to_critical_and_parse_case_insensitively() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("urgent".parse::<Severity>().unwrap_err().contains("urgent"));
        assert_eq!(serde_json::to_string(&Severity::Medium).unwrap(), "\"medium\"");
    }

    #[test]
    fn family_is_the_id_prefix() {
        static META: RuleMeta = RuleMeta {
            id: "pss/hostNamespaces",
            title: "t",
            severity: Severity::High,
            doc: "",
            remediation: "",
            controls: &[Control::new(Framework::Cis, "5.2.2")],
        };
        assert_eq!(META.family(), "pss");
        assert!(META.maps_to(Framework::Cis) && !META.maps_to(Framework::Mitre));
    }
}

/// Input that could not be read or parsed: names the file and the position of the problem.
/// The rest of the input is still scanned; an input error makes the exit code 2.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct InputError {
    pub file: Arc<str>,
    /// 1-based; 0 when the problem has no position (an unreadable file).
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
        }
    }
}

//! Detector results as Palisade findings, so leaked credentials go through the same
//! exceptions, baselines, reports and sinks as every other finding: rule `secret/<gitleaks
//! rule>`, the rule's description as its title, the file and position of the match as the
//! location, and the leak's facts (redacted) in `Finding::secret`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use palisade_core::{CommitInfo, Control, Finding, Framework, LeakedSecret, Location, ObjectRef, RuleMeta, Severity, Text};

use crate::detect::{Found, redacted, shannon_entropy};

/// The prefix of every secret rule id.
pub const RULE_PREFIX: &str = "secret/";

const REMEDIATION: &str = "Revoke the credential and issue a new one: it has been exposed to everyone who could read this file, repository or image. Then remove it (from git history too, or treat the history as public) and load credentials at run time from a Secret or a secret store.";

static CONTROLS: [Control; 1] = [Control::new(Framework::Mitre, "T1552")];

/// Said of a leak in a file that a later image layer deleted or replaced.
pub const HIDDEN_NOTE: &str = ", in a file a later layer deleted or replaced (still in the image)";

/// Where a fragment came from, beyond the file: what reports group findings under.
#[derive(Clone, Debug)]
pub struct Place {
    /// What was scanned: the directory, file, repository or image (or the Kubernetes object).
    pub object: Arc<ObjectRef>,
    /// The file as reports name it (`outer.zip!inner/file`).
    pub file: Arc<str>,
    /// The field of a Kubernetes object, as a JSON pointer; "" for files.
    pub pointer: Text,
    pub commit: Option<CommitInfo>,
    pub layer: Option<String>,
    pub hidden_by_later_layer: bool,
}

/// The finding of `found`, a match of the rule described as `description` in `fragment`
/// (whose first line is line `fragment_start_line` of the file).
pub fn finding(found: &Found, fragment: &[u8], description: &str, place: &Place) -> Finding {
    let meta = rule_meta(&found.rule_id, description);
    let secret = found.secret(fragment);
    let (line, column) = if found.whole_file { (0, 0) } else { position(fragment, found) };
    let mut message = match found.whole_file {
        true => format!("{} (gitleaks rule {}): the file itself", short(description), found.rule_id),
        false => format!("{} (gitleaks rule {}): {}", short(description), found.rule_id, redacted(secret)),
    };
    if let Some(decoded) = &found.decoded {
        let chain: Vec<&str> = decoded.chain.iter().map(|encoding| encoding.name()).collect();
        message.push_str(&format!(", after decoding {}", chain.join(" then ")));
    }
    if let Some(commit) = &place.commit {
        message.push_str(&format!(", added in commit {} by {} on {}", &commit.id[..commit.id.len().min(12)], commit.author, commit.date));
    }
    if place.hidden_by_later_layer {
        message.push_str(HIDDEN_NOTE);
    }
    Finding {
        rule: meta.id,
        severity: meta.severity,
        title: meta.title,
        message: message.into(),
        object: place.object.clone(),
        location: Location { file: place.file.clone(), line, column, path: place.pointer.clone() },
        remediation: meta.remediation,
        controls: meta.controls,
        vulnerability: None,
        secret: Some(Arc::new(LeakedSecret {
            rule: found.rule_id.clone(),
            description: description.to_owned(),
            redacted: if found.whole_file { String::new() } else { redacted(secret) },
            redacted_match: redacted_match(fragment, found),
            fingerprint: found.fingerprint.clone(),
            start_line: found.start_line,
            start_column: found.start_column,
            end_line: found.end_line,
            end_column: found.end_column,
            entropy: (shannon_entropy(secret) * 1000.0).round() as u32,
            tags: found.tags.clone(),
            commit: place.commit.clone(),
            layer: place.layer.clone(),
            hidden_by_later_layer: place.hidden_by_later_layer,
        })),
    }
}

/// The 1-based line and column (in characters) where the match starts, counted in the
/// fragment from `found.start_line`'s numbering.
fn position(fragment: &[u8], found: &Found) -> (u32, u32) {
    let start = found.match_span.start.min(fragment.len());
    let line_start = fragment[..start].iter().rposition(|&byte| byte == b'\n').map_or(0, |newline| newline + 1);
    let column = String::from_utf8_lossy(&fragment[line_start..start]).chars().count() + 1;
    (u32::try_from(found.start_line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

/// The match with the secret replaced, as gitleaks' `--redact` writes `Match`. A decoded
/// secret is not in the match's text: the whole encoded match is replaced.
pub(crate) fn redacted_match(fragment: &[u8], found: &Found) -> String {
    const MASK: &str = "REDACTED";
    if found.whole_file {
        return String::new();
    }
    let span = found.match_span.clone();
    let secret = found.secret_span.clone();
    if found.decoded.is_some() || secret.start < span.start || secret.end > span.end || span.end > fragment.len() {
        return MASK.to_owned();
    }
    let before = String::from_utf8_lossy(&fragment[span.start..secret.start]);
    let after = String::from_utf8_lossy(&fragment[secret.end..span.end]);
    format!("{before}{MASK}{after}")
}

/// The first sentence of a gitleaks description, shortened for one-line messages.
pub(crate) fn short(description: &str) -> &str {
    let sentence = description.split(", ").next().unwrap_or(description).trim_end_matches('.');
    if sentence.is_empty() { description } else { sentence }
}

/// The rule of a gitleaks rule id: made once per distinct (id, description) and kept for the
/// process, since findings hold their rule's text by `'static` reference.
pub fn rule_meta(rule_id: &str, description: &str) -> &'static RuleMeta {
    static RULES: LazyLock<Mutex<HashMap<(String, String), &'static RuleMeta>>> = LazyLock::new(Default::default);
    let mut rules = RULES.lock().unwrap_or_else(|poison| poison.into_inner());
    rules.entry((rule_id.to_owned(), description.to_owned())).or_insert_with(|| {
        let id: &'static str = Box::leak(format!("{RULE_PREFIX}{rule_id}").into_boxed_str());
        let title: &'static str = Box::leak(short(description).to_owned().into_boxed_str());
        let doc: &'static str = Box::leak(
            format!(
                "## What it does\nFinds credentials with gitleaks' rule `{rule_id}`: {description}\n\n## Why is this bad?\nA credential in a file, a commit or an image layer is readable by everyone who can read those, for as long as they exist: git history and image layers keep it after the file is changed.\n\n## How to fix\n{REMEDIATION}\n"
            )
            .into_boxed_str(),
        );
        Box::leak(Box::new(RuleMeta { id, title, severity: Severity::High, doc, remediation: REMEDIATION, controls: &CONTROLS }))
    })
}

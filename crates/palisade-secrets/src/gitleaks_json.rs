//! gitleaks' own JSON report (`--report-format json`), for the tools that consume it: an
//! array of leaks with gitleaks' field names and order, indented by one space, and HTML
//! characters escaped, as Go's encoder writes it. Secrets are redacted as gitleaks'
//! `--redact` does: `Secret` is `REDACTED`, and so is the secret inside `Match`.

use palisade_core::Finding;
use serde_json::{Value, json};

/// The report of the secret findings among `findings` (others are not leaks and are left
/// out), ending with a newline.
pub fn render(findings: &[Finding]) -> String {
    let leaks: Vec<Value> = findings
        .iter()
        .filter_map(|finding| {
            let secret = finding.secret.as_deref()?;
            let commit = secret.commit.as_ref();
            let field = |value: Option<&String>| value.cloned().unwrap_or_default();
            Some(json!({
                "RuleID": secret.rule,
                "Description": secret.description,
                "StartLine": secret.start_line,
                "EndLine": secret.end_line,
                "StartColumn": secret.start_column,
                "EndColumn": secret.end_column,
                "Match": secret.redacted_match,
                "Secret": "REDACTED",
                "File": &*finding.location.file,
                "SymlinkFile": "",
                "Commit": field(commit.map(|commit| &commit.id)),
                "Entropy": f64::from(secret.entropy) / 1000.0,
                "Author": field(commit.map(|commit| &commit.author)),
                "Email": field(commit.map(|commit| &commit.email)),
                "Date": field(commit.map(|commit| &commit.date)),
                "Message": field(commit.map(|commit| &commit.message)),
                "Tags": secret.tags,
                "Fingerprint": secret.fingerprint,
            }))
        })
        .collect();
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&leaks, &mut serializer).expect("serialising JSON values into memory cannot fail");
    let text = String::from_utf8(out).expect("serde_json writes UTF-8");
    // Go's encoder escapes these so a report can be embedded in HTML.
    let mut escaped = text.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
    escaped.push('\n');
    escaped
}

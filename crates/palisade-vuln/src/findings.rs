//! Matches as Palisade findings, so vulnerabilities go through the same exceptions, reports
//! and sinks as every other finding: rule `vuln/<preferred id>`, the advisory's summary as its
//! title, the severity from the rating, the package's proving file as the location, and the
//! vulnerability's facts in `Finding::vulnerability`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use palisade_core::{Finding, Location, ObjectRef, RuleMeta, Vulnerability};

use crate::matcher::{Match, MatchReport};

const REMEDIATION: &str = "Upgrade the package to a fixed version (or rebuild the image on a base that has it); where the vulnerable code is not reachable, record that in a VEX document or an exception.";

/// One finding per match, in the report's order, on `object`. A package without a proving
/// file is located at `file` (the scanned source as reports name it).
pub fn findings(report: &MatchReport, object: Arc<ObjectRef>, file: &str) -> Vec<Finding> {
    let fallback: Arc<str> = file.into();
    let mut files: HashMap<&str, Arc<str>> = HashMap::new();
    report
        .matches
        .iter()
        .map(|found| {
            let meta = rule_meta(found);
            let file = match found.package.path.as_str() {
                "" => fallback.clone(),
                path => files.entry(path).or_insert_with(|| path.into()).clone(),
            };
            Finding {
                rule: meta.id,
                severity: found.severity(),
                title: meta.title,
                message: message(found).into(),
                object: object.clone(),
                location: Location { file, line: 0, column: 0, path: "".into() },
                remediation: meta.remediation,
                controls: meta.controls,
                vulnerability: Some(Arc::new(vulnerability(found))),
                secret: None,
            }
        })
        .collect()
}

/// `libssl3 3.0.11-1~deb12u1 (source openssl) is affected by DSA-5532-1; fixed in 3.0.11-1~deb12u2`.
pub fn message(found: &Match) -> String {
    let package = &found.package;
    let source = package.source.as_ref().map(|source| format!(" (source {source})")).unwrap_or_default();
    let fix = match found.fixed.first() {
        Some(fixed) => format!("fixed in {fixed}"),
        None => "no fix published".to_owned(),
    };
    format!("{} {}{source} is affected by {}; {fix}", package.name, package.version, found.id)
}

fn vulnerability(found: &Match) -> Vulnerability {
    let assessment = &found.assessment;
    Vulnerability {
        id: found.id.clone(),
        aliases: found.aliases.clone(),
        summary: found.summary().to_owned(),
        package: found.package.clone(),
        fixed_versions: found.fixed.clone(),
        score: assessment.score.map(|score| (score * 10.0).round().clamp(0.0, 100.0) as u8),
        vector: assessment.vector.clone(),
        severity_source: assessment.source.clone(),
        url: advisory_url(found),
    }
}

/// The preferred record's `ADVISORY` reference, else its first reference.
fn advisory_url(found: &Match) -> Option<String> {
    let references = &found.advisories.first()?.references;
    references.iter().find(|reference| reference.kind == "ADVISORY").or_else(|| references.first()).map(|reference| reference.url.clone())
}

/// The rule of an advisory: made once per distinct (id, title) and kept for the process, since
/// findings hold their rule's text by `'static` reference.
fn rule_meta(found: &Match) -> &'static RuleMeta {
    static RULES: LazyLock<Mutex<HashMap<(String, String), &'static RuleMeta>>> = LazyLock::new(Default::default);
    let title = match found.summary() {
        "" => found.id.clone(),
        summary => summary.to_owned(),
    };
    let mut rules = RULES.lock().unwrap_or_else(|poison| poison.into_inner());
    rules.entry((found.id.clone(), title.clone())).or_insert_with(|| {
        Box::leak(Box::new(RuleMeta {
            id: Box::leak(format!("vuln/{}", found.id).into_boxed_str()),
            title: Box::leak(title.into_boxed_str()),
            severity: found.severity(),
            doc: "",
            remediation: REMEDIATION,
            controls: &[],
        }))
    })
}

//! How bad a vulnerability is: CVSS vectors scored with the `cvss` crate, and the severities
//! distributions and databases assign themselves.
//!
//! Choice, per advisory record:
//! - for operating-system packages, the distribution's own rating first when the record has one
//!   (Ubuntu's priority, a Debian urgency): it weighs how the distribution builds and uses the
//!   package, as Trivy prefers vendor severities for OS packages;
//! - else the CVSS vector of the highest version (4.0 over 3.1 over 3.0 over 2.0), from the
//!   record's `severity` or the matched package's `affected[].severity`;
//! - else a database rating (`database_specific.severity`, GitHub's LOW/MODERATE/HIGH/CRITICAL);
//! - else unknown. An unknown rating is reported as Palisade severity `medium`: Grype and Trivy
//!   keep a separate "unknown" below "low", which Palisade's severities do not have, and
//!   ranking an unassessed vulnerability lowest would let `--fail-on low` pass it.
//!
//! A vector the crate refuses is reported with the advisory id and skipped.

use std::str::FromStr;

use palisade_core::Severity;
use palisade_osv::{Advisory, SeverityScore};

/// A vulnerability's rating, as CVSS and the databases name them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Rating {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The finding severity (unknown → `medium`, see the module documentation).
    pub const fn severity(self) -> Severity {
        match self {
            Self::Unknown | Self::Medium => Severity::Medium,
            Self::Low => Severity::Low,
            Self::High => Severity::High,
            Self::Critical => Severity::Critical,
        }
    }
}

/// Where a rating came from and, for CVSS, its score and vector.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Assessment {
    pub rating: Rating,
    /// CVSS base score (0.0–10.0).
    pub score: Option<f64>,
    pub vector: Option<String>,
    /// `cvss-v2`, `cvss-v3.0`, `cvss-v3.1`, `cvss-v4`, `ubuntu`, `debian`, `ghsa`, `database`.
    pub source: Option<String>,
}

/// A CVSS vector scored.
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    /// `cvss-v2`, `cvss-v3.0`, `cvss-v3.1`, `cvss-v4`.
    pub method: &'static str,
    pub score: f64,
    pub rating: Rating,
    pub vector: String,
}

/// Scores one vector (`CVSS:3.1/AV:N/…`, `CVSS:4.0/…`, or a bare CVSS 2.0 vector).
pub fn score_vector(vector: &str) -> Result<Scored, String> {
    let parsed = cvss::Cvss::from_str(vector.trim()).map_err(|error| format!("CVSS vector `{vector}`: {error}"))?;
    let method = match &parsed {
        cvss::Cvss::CvssV20(_) => "cvss-v2",
        cvss::Cvss::CvssV30(_) => "cvss-v3.0",
        cvss::Cvss::CvssV31(_) => "cvss-v3.1",
        cvss::Cvss::CvssV40(_) => "cvss-v4",
        _ => return Err(format!("CVSS vector `{vector}`: an unsupported version")),
    };
    let rating = match parsed.severity() {
        cvss::Severity::None => Rating::Unknown,
        cvss::Severity::Low => Rating::Low,
        cvss::Severity::Medium => Rating::Medium,
        cvss::Severity::High => Rating::High,
        cvss::Severity::Critical => Rating::Critical,
    };
    Ok(Scored { method, score: parsed.score(), rating, vector: vector.trim().to_owned() })
}

/// The assessment of one record for the package `name` in `ecosystem`. Vectors that cannot be
/// scored are added to `problems`.
pub fn assess(advisory: &Advisory, ecosystem: &str, name: &str, os_package: bool, problems: &mut Vec<String>) -> Assessment {
    let entry_scores = advisory
        .affected
        .iter()
        .filter(|affected| affected.package.as_ref().is_some_and(|package| package.ecosystem == ecosystem && palisade_osv::normalize_name(ecosystem, &package.name) == palisade_osv::normalize_name(ecosystem, name)))
        .flat_map(|affected| &affected.severity);
    let scores: Vec<&SeverityScore> = advisory.severity.iter().chain(entry_scores).collect();
    let cvss = best_vector(advisory, &scores, problems);
    let (distro, database) = (distro_rating(advisory, &scores), database_rating(advisory));
    if os_package {
        distro.or(cvss).or(database).unwrap_or_default()
    } else {
        cvss.or(database).or(distro).unwrap_or_default()
    }
}

fn best_vector(advisory: &Advisory, scores: &[&SeverityScore], problems: &mut Vec<String>) -> Option<Assessment> {
    let mut best: Option<Scored> = None;
    for score in scores.iter().filter(|score| score.kind.starts_with("CVSS_")) {
        match score_vector(&score.score) {
            Ok(scored) => {
                if best.as_ref().is_none_or(|best| version_rank(scored.method) > version_rank(best.method)) {
                    best = Some(scored);
                }
            }
            Err(problem) => problems.push(format!("{}: {problem}", advisory.id)),
        }
    }
    best.map(|scored| Assessment { rating: scored.rating, score: Some(scored.score), vector: Some(scored.vector), source: Some(scored.method.to_owned()) })
}

fn version_rank(method: &str) -> u8 {
    match method {
        "cvss-v4" => 4,
        "cvss-v3.1" => 3,
        "cvss-v3.0" => 2,
        _ => 1,
    }
}

/// Ubuntu's priority (`severity` of type `Ubuntu`), or a Debian urgency in the record's or an
/// entry's `ecosystem_specific`/`database_specific`.
fn distro_rating(advisory: &Advisory, scores: &[&SeverityScore]) -> Option<Assessment> {
    if let Some(score) = scores.iter().find(|score| score.kind.eq_ignore_ascii_case("Ubuntu")) {
        let rating = match score.score.to_ascii_lowercase().as_str() {
            "negligible" | "low" => Rating::Low,
            "medium" => Rating::Medium,
            "high" => Rating::High,
            "critical" => Rating::Critical,
            _ => Rating::Unknown,
        };
        return Some(Assessment { rating, source: Some("ubuntu".into()), ..Assessment::default() });
    }
    let specifics = advisory.database_specific.iter().chain(advisory.affected.iter().flat_map(|affected| affected.ecosystem_specific.iter().chain(&affected.database_specific)));
    let urgency = specifics.filter_map(|value| value.get("urgency")?.as_str()).next()?;
    let rating = match urgency.trim_end_matches('*').to_ascii_lowercase().as_str() {
        "unimportant" | "low" => Rating::Low,
        "medium" => Rating::Medium,
        "high" => Rating::High,
        "critical" => Rating::Critical,
        _ => return None,
    };
    Some(Assessment { rating, source: Some("debian".into()), ..Assessment::default() })
}

/// `database_specific.severity`: GitHub's LOW/MODERATE/HIGH/CRITICAL, and the same words
/// other databases use.
fn database_rating(advisory: &Advisory) -> Option<Assessment> {
    let text = advisory.database_specific.as_ref()?.get("severity")?.as_str()?;
    let rating = match text.to_ascii_lowercase().as_str() {
        "low" => Rating::Low,
        "moderate" | "medium" => Rating::Medium,
        "high" | "important" => Rating::High,
        "critical" => Rating::Critical,
        _ => return None,
    };
    let source = if advisory.id.starts_with("GHSA-") { "ghsa" } else { "database" };
    Some(Assessment { rating, source: Some(source.into()), ..Assessment::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: serde_json::Value) -> Advisory {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn vectors_of_every_version_are_scored() {
        // Scores as NVD's calculators give them.
        let v31 = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!((v31.method, v31.score, v31.rating), ("cvss-v3.1", 9.8, Rating::Critical));
        let v30 = score_vector("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H").unwrap();
        assert_eq!((v30.method, v30.score, v30.rating), ("cvss-v3.0", 5.9, Rating::Medium));
        let v2 = score_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
        assert_eq!((v2.method, v2.score, v2.rating), ("cvss-v2", 7.5, Rating::High));
        let v4 = score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!((v4.method, v4.score, v4.rating), ("cvss-v4", 9.3, Rating::Critical));
        assert!(score_vector("CVSS:3.1/AV:X").unwrap_err().contains("CVSS:3.1/AV:X"));
    }

    #[test]
    fn the_highest_cvss_version_wins_and_bad_vectors_are_reported() {
        let advisory = record(serde_json::json!({
            "id": "GHSA-test",
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
                {"type": "CVSS_V4", "score": "CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"},
                {"type": "CVSS_V3", "score": "CVSS:3.1/nonsense"}
            ],
            "database_specific": {"severity": "CRITICAL"}
        }));
        let mut problems = Vec::new();
        let assessment = assess(&advisory, "npm", "x", false, &mut problems);
        assert_eq!((assessment.source.as_deref(), assessment.rating), (Some("cvss-v4"), Rating::Low));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("GHSA-test: CVSS vector `CVSS:3.1/nonsense`"), "{problems:?}");
    }

    #[test]
    fn distribution_ratings_come_first_for_os_packages() {
        let advisory = record(serde_json::json!({
            "id": "UBUNTU-CVE-2024-0001",
            "severity": [{"type": "Ubuntu", "score": "negligible"}, {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
        }));
        let mut problems = Vec::new();
        let os = assess(&advisory, "Ubuntu:22.04:LTS", "x", true, &mut problems);
        assert_eq!((os.source.as_deref(), os.rating), (Some("ubuntu"), Rating::Low));
        let language = assess(&advisory, "PyPI", "x", false, &mut problems);
        assert_eq!((language.source.as_deref(), language.rating, language.score), (Some("cvss-v3.1"), Rating::Critical, Some(9.8)));
    }

    #[test]
    fn database_severities_and_unknown() {
        let moderate = record(serde_json::json!({"id": "GHSA-x", "database_specific": {"severity": "MODERATE"}}));
        let assessment = assess(&moderate, "npm", "x", false, &mut Vec::new());
        assert_eq!((assessment.rating, assessment.source.as_deref()), (Rating::Medium, Some("ghsa")));
        let nothing = assess(&record(serde_json::json!({"id": "PYSEC-x"})), "PyPI", "x", false, &mut Vec::new());
        assert_eq!(nothing.rating, Rating::Unknown);
        assert_eq!(nothing.rating.severity(), Severity::Medium);
    }
}

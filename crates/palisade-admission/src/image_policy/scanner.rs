//! The boundary between the webhook and whatever scans images: the CLI implements
//! [`ImageScanner`] with the image reader and the vulnerability matcher, so this crate depends
//! on neither.

use std::time::Instant;

use palisade_core::{Finding, Severity};

/// Scans one image for known vulnerabilities. Called on the background scanner's threads,
/// never on the request path; a scan may take seconds (registry pulls, matching).
pub trait ImageScanner: Send + Sync + 'static {
    /// Scans `image`, the reference exactly as the pod writes it (`nginx:1.25`,
    /// `registry.example/app@sha256:…`). Should give up by `deadline`: a scan still running
    /// then is recorded as failed (its thread is waited for, so at most `concurrency` scans
    /// ever run). The error is shown to users as the reason the image was not evaluated.
    fn scan(&self, image: &str, deadline: Instant) -> Result<ImageVerdict, String>;
}

/// What a scan found in one image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageVerdict {
    /// The manifest digest the reference resolved to (`sha256:…`), when known: the verdict
    /// then also answers for other references that pin that digest.
    pub digest: Option<String>,
    /// Every vulnerability found, whatever its severity: the policy picks those that count.
    pub vulnerabilities: Vec<ImageVulnerability>,
}

/// One known vulnerability in one installed package of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVulnerability {
    /// The advisory id (`CVE-…`, `GHSA-…`, `DSA-…`).
    pub id: String,
    pub severity: Severity,
    pub package: String,
    pub installed: String,
    /// The lowest version that fixes it; `None` when no fix is published.
    pub fixed: Option<String>,
}

impl ImageVulnerability {
    /// The vulnerability a `vuln/<id>` finding reports, with the finding's severity (after the
    /// configuration's overrides); `None` for findings of other rules.
    pub fn from_finding(finding: &Finding) -> Option<Self> {
        let vulnerability = finding.vulnerability.as_deref()?;
        Some(Self {
            id: vulnerability.id.clone(),
            severity: finding.severity,
            package: vulnerability.package.name.clone(),
            installed: vulnerability.package.version.clone(),
            fixed: vulnerability.fixed_versions.first().cloned(),
        })
    }
}

impl ImageVerdict {
    /// The verdict of an image whose scan produced `findings` (those of other rules are left
    /// out).
    pub fn from_findings(digest: Option<String>, findings: &[Finding]) -> Self {
        Self { digest, vulnerabilities: findings.iter().filter_map(ImageVulnerability::from_finding).collect() }
    }
}

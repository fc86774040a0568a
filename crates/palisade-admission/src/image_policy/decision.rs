//! What one container's image gets, as a finding the webhook lists like a rule's: the rule ids
//! `image-policy/vulnerable` and `image-policy/unscanned`, located at the container's `image`.

use std::fmt::Write;

use palisade_core::{Finding, Object, RuleMeta, Severity};

use super::cache::Judgement;
use super::queue::Queued;

pub static VULNERABLE: RuleMeta = RuleMeta {
    id: "image-policy/vulnerable",
    title: "Image with known vulnerabilities",
    severity: Severity::High,
    doc: "The admission image policy: the image has known vulnerabilities at or above the configured severity (with a published fix, when `fixableOnly`). See docs/admission.md, \"Image policy\".",
    remediation: "Rebuild or update the image so that the listed packages are at their fixed versions, or exempt the image in `admission.imagePolicy.exemptImages`.",
    controls: &[],
};

pub static UNSCANNED: RuleMeta = RuleMeta {
    id: "image-policy/unscanned",
    title: "Image not evaluated by the image policy",
    severity: Severity::Medium,
    doc: "The admission image policy: the image has no verdict yet (it is being scanned in the background) or its scan failed; `admission.imagePolicy.unscanned` decides. See docs/admission.md, \"Image policy\".",
    remediation: "Retry once the background scan has finished, or exempt the image in `admission.imagePolicy.exemptImages`.",
    controls: &[],
};

/// The finding of an image with vulnerabilities that count, or `None` when none do.
pub fn vulnerable(object: &Object, pointer: String, image: &str, judgement: &Judgement, threshold: Severity, fixable_only: bool) -> Option<Finding> {
    let worst = judgement.worst.first()?;
    let counted = judgement.counted;
    let mut message = format!(
        "image \"{image}\" has {counted} vulnerabilit{} of {threshold} severity or above{}: ",
        if counted == 1 { "y" } else { "ies" },
        if fixable_only { " with a fix" } else { "" },
    );
    for (index, vulnerability) in judgement.worst.iter().enumerate() {
        if index > 0 {
            message.push_str("; ");
        }
        let _ = write!(message, "{} ({}) in {} {}", vulnerability.id, vulnerability.severity, vulnerability.package, vulnerability.installed);
        match &vulnerability.fixed {
            Some(fixed) => {
                let _ = write!(message, ", fixed in {fixed}");
            }
            None => message.push_str(", no fix published"),
        }
    }
    let rest = counted - judgement.worst.len();
    if rest > 0 {
        let _ = write!(message, "; and {rest} more");
    }
    let mut finding = Finding::new(&VULNERABLE, object, pointer, message);
    finding.severity = worst.severity;
    Some(finding)
}

/// Why an image has no verdict.
pub enum Unevaluated<'a> {
    /// Not in the cache (or its verdict is past the maximum age): what asking for a scan gave.
    NotScanned(Queued),
    ScanFailed(&'a str),
    /// The reference is longer than any valid one; it is neither scanned nor cached.
    Overlong,
}

pub fn unscanned(object: &Object, pointer: String, image: &str, why: Unevaluated<'_>) -> Finding {
    let message = match why {
        Unevaluated::NotScanned(Queued::Queued) => format!("image \"{image}\" is not scanned yet; it is queued for a background scan"),
        Unevaluated::NotScanned(Queued::Pending) => format!("image \"{image}\" is not scanned yet; its background scan is under way"),
        Unevaluated::NotScanned(Queued::Full) => {
            format!("image \"{image}\" is not scanned yet; the scan queue is full, so it is asked for again on its next admission")
        }
        Unevaluated::ScanFailed(reason) => format!("image \"{image}\" was not evaluated: its scan failed: {reason}"),
        Unevaluated::Overlong => format!("image reference of {} bytes is too long to be a valid reference; not evaluated", image.len()),
    };
    Finding::new(&UNSCANNED, object, pointer, message)
}

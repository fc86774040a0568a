//! The image policy: admission decided by the known vulnerabilities of each container's
//! image, answered from [`ImageVerdicts`] so a review never waits for a scan.
//!
//! For every container, init container and ephemeral container of any pod-bearing kind
//! (through [`PodView`]), the image reference as written is looked up:
//! - a verdict with vulnerabilities that count (severity at or above the threshold, with a fix
//!   when `fixableOnly`) gives an `image-policy/vulnerable` finding in the configured action's
//!   mode (deny, warn or audit) naming the worst of them; a verdict older than the TTL still
//!   decides and queues a rescan;
//! - no verdict (never scanned, evicted, past the maximum age, or the scan failed) gives an
//!   `image-policy/unscanned` finding in the `unscanned` mode (none when `allow`), and queues
//!   a background scan unless one is pending or a failure is recent;
//! - images matching an `exemptImages` glob are neither judged nor scanned.
//!
//! The findings join the rules' in the webhook's answer, log and metrics.

pub mod cache;
pub mod decision;
mod queue;
pub mod scanner;
pub mod settings;

use std::sync::Arc;
use std::time::Instant;

use palisade_core::{Finding, Node, Object, PodView};
use palisade_server::metrics::{Counter, Registry};

pub use cache::{ImageVerdicts, Judgement, Lookup};
pub use queue::Queued;
pub use scanner::{ImageScanner, ImageVerdict, ImageVulnerability};
pub use settings::{Action, ImagePolicySettings, Unscanned};

use crate::settings::Mode;
use decision::Unevaluated;
use queue::BackgroundScanner;

/// Longer than any valid reference (a 255-character name, a 128-character tag and a digest):
/// such an image is not evaluated, so it can neither fill the cache with huge keys nor reach
/// the scanner.
const MAX_REFERENCE_BYTES: usize = 1024;

pub struct ImagePolicy {
    settings: ImagePolicySettings,
    verdicts: Arc<ImageVerdicts>,
    scanner: BackgroundScanner,
    lookups: Arc<Counter>,
}

impl ImagePolicy {
    /// The policy of `settings` (whether `enabled` or not: the caller decides to attach it),
    /// with its background scanner running on `scanner`; metrics register in `registry`.
    pub fn start(settings: ImagePolicySettings, scanner: Arc<dyn ImageScanner>, registry: &Registry) -> Self {
        let verdicts = Arc::new(ImageVerdicts::new(&settings));
        let background =
            BackgroundScanner::start(scanner, verdicts.clone(), settings.concurrency, settings.queue, settings.scan_timeout, registry);
        let cached = Arc::downgrade(&verdicts);
        registry.observed_gauge(
            "palisade_admission_image_cache_entries",
            "Image verdicts cached (by reference and by digest).",
            Box::new(move || cached.upgrade().map_or(0, |verdicts| verdicts.len() as u64)),
        );
        let lookups = registry.counter(
            "palisade_admission_image_lookups_total",
            "Container images looked up at admission, by result (hit, stale, miss, failed, exempt, overlong).",
            &["result"],
        );
        Self { settings, verdicts, scanner: background, lookups }
    }

    pub fn settings(&self) -> &ImagePolicySettings {
        &self.settings
    }

    /// The cache, for a caller that records verdicts it already has (a scan at start-up).
    pub fn verdicts(&self) -> &ImageVerdicts {
        &self.verdicts
    }

    /// The findings of the images of `object`'s pod (none for objects without one), each with
    /// the mode it takes.
    pub fn judge(&self, object: &Object) -> Vec<(Finding, Mode)> {
        let Some(pod) = PodView::of(object) else { return Vec::new() };
        let now = Instant::now();
        let settings = &self.settings;
        let mut findings = Vec::new();
        for container in pod.containers() {
            let Some(image) = container.get("image").and_then(Node::as_str).filter(|image| !image.is_empty()) else { continue };
            if settings.exempt_images.iter().any(|pattern| palisade_policy::glob::matches(pattern, image)) {
                self.lookups.inc(&["exempt"]);
                continue;
            }
            let unevaluated = |why| settings.unscanned.mode().map(|mode| (decision::unscanned(object, container.field(&["image"]), image, why), mode));
            if image.len() > MAX_REFERENCE_BYTES {
                self.lookups.inc(&["overlong"]);
                findings.extend(unevaluated(Unevaluated::Overlong));
                continue;
            }
            match self.verdicts.lookup(image, now) {
                Lookup::Verdict { judgement, rescan } => {
                    self.lookups.inc(&[if rescan { "stale" } else { "hit" }]);
                    if rescan {
                        self.scanner.request(image);
                    }
                    let pointer = container.field(&["image"]);
                    if let Some(finding) = decision::vulnerable(object, pointer, image, &judgement, settings.severity, settings.fixable_only) {
                        findings.push((finding, settings.action.mode()));
                    }
                }
                Lookup::Failed { reason, retry } => {
                    self.lookups.inc(&["failed"]);
                    if retry {
                        self.scanner.request(image);
                    }
                    findings.extend(unevaluated(Unevaluated::ScanFailed(&reason)));
                }
                Lookup::Missing => {
                    self.lookups.inc(&["miss"]);
                    let queued = self.scanner.request(image);
                    findings.extend(unevaluated(Unevaluated::NotScanned(queued)));
                }
            }
        }
        findings
    }
}

//! The `admission.imagePolicy` section: whether images are judged by their known
//! vulnerabilities, which vulnerabilities count, what an image the cache does not know gets,
//! and the bounds of the cache and of the background scanner.

use std::time::Duration;

use palisade_core::{Node, Severity, Value};

use crate::settings::Mode;

/// What an image with vulnerabilities that count gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Deny,
    Warn,
    /// Admitted; recorded in the decision log and the audit annotations (for a roll-out).
    Audit,
}

/// What an image gets while it has no verdict: not scanned yet, or its scan failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unscanned {
    Allow,
    Warn,
    Deny,
}

impl Action {
    /// The webhook mode its findings take.
    pub const fn mode(self) -> Mode {
        match self {
            Self::Deny => Mode::Enforce,
            Self::Warn => Mode::Warn,
            Self::Audit => Mode::Audit,
        }
    }
}

impl Unscanned {
    /// The webhook mode its findings take; `None` when the image is admitted silently.
    pub const fn mode(self) -> Option<Mode> {
        match self {
            Self::Allow => None,
            Self::Warn => Some(Mode::Warn),
            Self::Deny => Some(Mode::Enforce),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImagePolicySettings {
    /// Off unless configured: the webhook then never looks at image contents.
    pub enabled: bool,
    pub action: Action,
    /// The lowest severity that counts.
    pub severity: Severity,
    /// Only vulnerabilities with a published fix count: the user can act on those.
    pub fixable_only: bool,
    pub unscanned: Unscanned,
    /// Images (as written in the pod) matching one of these globs are not judged nor scanned.
    pub exempt_images: Vec<String>,
    /// Images whose verdicts are kept; the least recently used goes first.
    pub cache_entries: usize,
    /// How long a verdict is fresh; an older one still decides, and queues a rescan.
    pub ttl: Duration,
    /// A verdict older than this no longer decides (the image counts as not scanned).
    pub max_age: Duration,
    /// How long a failed scan is remembered before the image is scanned again.
    pub failure_ttl: Duration,
    /// A scan still running after this is recorded as failed.
    pub scan_timeout: Duration,
    /// Scans running at once.
    pub concurrency: usize,
    /// Images waiting for a scanner; more are dropped (and counted) until room frees.
    pub queue: usize,
}

impl Default for ImagePolicySettings {
    fn default() -> Self {
        Self {
            enabled: false,
            action: Action::Deny,
            severity: Severity::High,
            fixable_only: true,
            unscanned: Unscanned::Allow,
            exempt_images: Vec::new(),
            cache_entries: 4096,
            ttl: Duration::from_secs(3600),
            max_age: Duration::from_secs(24 * 3600),
            failure_ttl: Duration::from_secs(300),
            scan_timeout: Duration::from_secs(300),
            concurrency: 2,
            queue: 256,
        }
    }
}

const KEYS: &[&str] = &[
    "enabled",
    "action",
    "severity",
    "fixableOnly",
    "unscanned",
    "exemptImages",
    "cacheEntries",
    "ttlSeconds",
    "maxAgeSeconds",
    "failureTtlSeconds",
    "scanTimeoutSeconds",
    "concurrency",
    "queue",
];

type Invalid<'n> = (&'n Node, String);

impl ImagePolicySettings {
    /// Reads the `admission.imagePolicy` mapping; unknown keys and wrong values are errors
    /// naming the node, as for the rest of the `admission` section.
    pub fn from_node(node: &Node) -> Result<Self, Invalid<'_>> {
        const WHAT: &str = "`admission.imagePolicy`";
        let fields = node.as_map().ok_or((node, format!("{WHAT} must be a mapping")))?;
        if let Some((key, _)) = fields.iter().find(|(key, _)| !KEYS.contains(key)) {
            return Err((node, format!("unknown key `{key}` in {WHAT} (expected one of: {})", KEYS.join(", "))));
        }
        let mut settings = Self::default();
        if let Some(value) = fields.get("enabled") {
            settings.enabled = boolean(value, "enabled")?;
        }
        if let Some(value) = fields.get("action") {
            settings.action = match text(value, "action")? {
                "deny" => Action::Deny,
                "warn" => Action::Warn,
                "audit" => Action::Audit,
                other => return Err((value, format!("unknown action `{other}` in {WHAT}.action (expected deny, warn or audit)"))),
            };
        }
        if let Some(value) = fields.get("severity") {
            settings.severity = text(value, "severity")?.parse().map_err(|message| (value, message))?;
        }
        if let Some(value) = fields.get("fixableOnly") {
            settings.fixable_only = boolean(value, "fixableOnly")?;
        }
        if let Some(value) = fields.get("unscanned") {
            settings.unscanned = match text(value, "unscanned")? {
                "allow" => Unscanned::Allow,
                "warn" => Unscanned::Warn,
                "deny" => Unscanned::Deny,
                other => return Err((value, format!("unknown value `{other}` in {WHAT}.unscanned (expected allow, warn or deny)"))),
            };
        }
        if let Some(value) = fields.get("exemptImages") {
            let Value::Seq(items) = &value.value else { return Err((value, format!("{WHAT}.exemptImages must be a list of strings"))) };
            settings.exempt_images = items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or((item, format!("{WHAT}.exemptImages must be a list of strings"))))
                .collect::<Result<_, _>>()?;
        }
        for (key, target) in [("cacheEntries", &mut settings.cache_entries), ("concurrency", &mut settings.concurrency), ("queue", &mut settings.queue)] {
            if let Some(value) = fields.get(key) {
                *target = positive(value, key)?;
            }
        }
        for (key, target) in [
            ("ttlSeconds", &mut settings.ttl),
            ("maxAgeSeconds", &mut settings.max_age),
            ("failureTtlSeconds", &mut settings.failure_ttl),
            ("scanTimeoutSeconds", &mut settings.scan_timeout),
        ] {
            if let Some(value) = fields.get(key) {
                *target = Duration::from_secs(positive(value, key)? as u64);
            }
        }
        if settings.max_age < settings.ttl {
            let node = fields.get("maxAgeSeconds").unwrap_or(node);
            return Err((node, format!("{WHAT}.maxAgeSeconds must be at least ttlSeconds")));
        }
        Ok(settings)
    }
}

fn boolean<'n>(value: &'n Node, key: &str) -> Result<bool, Invalid<'n>> {
    value.as_bool().ok_or((value, format!("`admission.imagePolicy.{key}` must be true or false")))
}

fn text<'n>(value: &'n Node, key: &str) -> Result<&'n str, Invalid<'n>> {
    value.as_str().ok_or((value, format!("`admission.imagePolicy.{key}` must be a string")))
}

fn positive<'n>(value: &'n Node, key: &str) -> Result<usize, Invalid<'n>> {
    value
        .as_i64()
        .filter(|number| *number > 0)
        .and_then(|number| usize::try_from(number).ok())
        .ok_or((value, format!("`admission.imagePolicy.{key}` must be a positive integer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ImagePolicySettings, (usize, String)> {
        let mut documents = palisade_load::yaml::parse_documents(text, &palisade_load::Limits::default());
        let root = documents.remove(0).result.unwrap();
        ImagePolicySettings::from_node(&root).map_err(|(node, message)| (node.mark.line as usize, message))
    }

    #[test]
    fn every_key_is_read() {
        let settings = parse(
            "enabled: true\naction: warn\nseverity: critical\nfixableOnly: false\nunscanned: deny\nexemptImages: [\"registry.k8s.io/*\"]\ncacheEntries: 10\nttlSeconds: 60\nmaxAgeSeconds: 120\nfailureTtlSeconds: 5\nscanTimeoutSeconds: 30\nconcurrency: 4\nqueue: 8\n",
        )
        .unwrap();
        let expected = ImagePolicySettings {
            enabled: true,
            action: Action::Warn,
            severity: Severity::Critical,
            fixable_only: false,
            unscanned: Unscanned::Deny,
            exempt_images: vec!["registry.k8s.io/*".into()],
            cache_entries: 10,
            ttl: Duration::from_secs(60),
            max_age: Duration::from_secs(120),
            failure_ttl: Duration::from_secs(5),
            scan_timeout: Duration::from_secs(30),
            concurrency: 4,
            queue: 8,
        };
        assert_eq!(settings, expected);
        assert_eq!(parse("enabled: true\n").unwrap(), ImagePolicySettings { enabled: true, ..ImagePolicySettings::default() });
    }

    #[test]
    fn mistakes_name_the_line_and_the_key() {
        for (text, expected, line) in [
            ("enabled: yes-please\n", "`admission.imagePolicy.enabled` must be true or false", 1),
            ("enabled: true\naction: block\n", "unknown action `block`", 2),
            ("severity: severe\n", "unknown severity `severe`", 1),
            ("unscanned: maybe\n", "unknown value `maybe`", 1),
            ("queue: 0\n", "`admission.imagePolicy.queue` must be a positive integer", 1),
            ("ttlSeconds: -5\n", "must be a positive integer", 1),
            ("exemptImages: nginx\n", "must be a list of strings", 1),
            ("ttlSeconds: 100\nmaxAgeSeconds: 10\n", "maxAgeSeconds must be at least ttlSeconds", 2),
            ("enable: true\n", "unknown key `enable`", 1),
        ] {
            let (error_line, message) = parse(text).unwrap_err();
            assert!(message.contains(expected), "{text}: {message}");
            assert_eq!(error_line, line, "{text}");
        }
    }
}

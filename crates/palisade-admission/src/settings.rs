//! What the webhook decides with: the Pod Security defaults, per-namespace levels for clusters
//! whose Namespace labels cannot be read, PodSecurityConfiguration-style exemptions, and the
//! mode (enforce, warn, audit) of each rule. Read from the `admission` section of the
//! configuration file (see `docs/admission.md`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use palisade_checks::pss::{ENFORCE_LABEL, ENFORCE_VERSION_LABEL, PssLevel, PssSetting, PssVersion};
use palisade_core::{InputError, Map, Node, Value};

use crate::image_policy::ImagePolicySettings;

/// What happens to a request with a finding of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Recorded in the decision log and the audit annotations only.
    Audit,
    /// Allowed, with a warning the client (kubectl) shows.
    Warn,
    /// Denied, with a message naming each violation and field.
    Enforce,
}

impl Mode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Audit => "audit",
            Self::Warn => "warn",
            Self::Enforce => "enforce",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Enforce, Self::Warn, Self::Audit]
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| format!("unknown mode `{text}` (expected enforce, warn or audit)"))
    }
}

/// Requests the webhook admits without evaluating, as PodSecurityConfiguration's exemptions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exemptions {
    pub namespaces: HashSet<String>,
    pub usernames: HashSet<String>,
    pub runtime_classes: HashSet<String>,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// The level and version for namespaces whose labels (or configured entry) do not say.
    pub defaults: PssSetting,
    /// Namespace labels as configured, used when the namespace is not known from the API.
    /// Holds the `pod-security.kubernetes.io/enforce` and `enforce-version` labels.
    pub namespaces: HashMap<String, BTreeMap<String, String>>,
    pub exemptions: Exemptions,
    /// Rule id, family (`pss`) or `*` to mode; the longest matching pattern decides.
    pub modes: Vec<(String, Mode)>,
    /// Images judged by their known vulnerabilities (off by default).
    pub image_policy: ImagePolicySettings,
}

impl Default for Settings {
    /// Restricted at the latest version; Pod Security findings are enforced (as Pod Security
    /// Admission would), every other rule warns until configured otherwise.
    fn default() -> Self {
        Self {
            defaults: PssSetting::new(PssLevel::Restricted, PssVersion::Latest),
            namespaces: HashMap::new(),
            exemptions: Exemptions::default(),
            modes: vec![("*".into(), Mode::Warn), ("pss".into(), Mode::Enforce)],
            image_policy: ImagePolicySettings::default(),
        }
    }
}

impl Settings {
    /// The mode of rule `id`: the longest pattern that is `*`, the id, or its family.
    /// Sets the mode a rule's own definition asks for (a Gatekeeper constraint's
    /// `enforcementAction`), unless the configuration names the rule or a family holding it.
    pub fn default_mode(&mut self, id: &str, mode: Mode) {
        let configured = self.modes.iter().any(|(pattern, _)| {
            pattern != "*" && (pattern == id || id.strip_prefix(pattern.trim_end_matches('/')).is_some_and(|rest| rest.starts_with('/')))
        });
        if !configured {
            self.modes.push((id.to_owned(), mode));
        }
    }

    pub fn mode_of(&self, id: &str) -> Mode {
        self.modes
            .iter()
            .filter(|(pattern, _)| {
                pattern == "*"
                    || pattern == id
                    || id.strip_prefix(pattern.trim_end_matches('/')).is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|(pattern, _)| if pattern == "*" { 0 } else { pattern.len() + 1 })
            .map_or(Mode::Enforce, |(_, mode)| *mode)
    }

    /// Reads the `admission` mapping of a configuration file whose text is `text`; a file
    /// without that section gives the defaults.
    pub fn parse(text: &str, file: &Path) -> Result<Self, InputError> {
        let file_name = file.display().to_string();
        let error = |node: Option<&Node>, message: String| InputError {
            file: file_name.as_str().into(),
            line: node.map_or(0, |node| node.mark.line),
            column: node.map_or(0, |node| node.mark.column),
            message,
        };
        let mut documents = palisade_load::yaml::parse_documents(text, &palisade_load::Limits::default());
        if documents.len() > 1 {
            return Err(error(None, "expected one YAML document".into()));
        }
        let Some(document) = documents.pop() else { return Ok(Self::default()) };
        let root = document.result.map_err(|e| InputError {
            file: file_name.as_str().into(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
        let Some(section) = root.get("admission") else { return Ok(Self::default()) };
        Self::from_node(section).map_err(|(node, message)| error(Some(node), message))
    }

    fn from_node(section: &Node) -> Result<Self, (&Node, String)> {
        let mut settings = Self::default();
        let top = map(section, "`admission`")?;
        known_keys(section, top, &["defaults", "namespaces", "exemptions", "modes", "imagePolicy"], "`admission`")?;
        if let Some(node) = top.get("defaults") {
            let labels = pss_labels(node, "`admission.defaults`")?;
            settings.defaults = PssSetting::from_labels(&labels, settings.defaults);
            check_labels(node, &labels)?;
        }
        if let Some(node) = top.get("namespaces") {
            for (name, value) in map(node, "`admission.namespaces`")?.iter() {
                let labels = pss_labels(value, &format!("`admission.namespaces.{name}`"))?;
                check_labels(value, &labels)?;
                settings.namespaces.insert(name.to_owned(), labels);
            }
        }
        if let Some(node) = top.get("exemptions") {
            let fields = map(node, "`admission.exemptions`")?;
            known_keys(node, fields, &["namespaces", "usernames", "runtimeClasses"], "`admission.exemptions`")?;
            let exemptions = &mut settings.exemptions;
            for (key, set) in [
                ("namespaces", &mut exemptions.namespaces),
                ("usernames", &mut exemptions.usernames),
                ("runtimeClasses", &mut exemptions.runtime_classes),
            ] {
                if let Some(list) = fields.get(key) {
                    *set = strings(list, &format!("`admission.exemptions.{key}`"))?.into_iter().collect();
                }
            }
        }
        if let Some(node) = top.get("modes") {
            for (pattern, value) in map(node, "`admission.modes`")?.iter() {
                let text = value.as_str().ok_or((value, format!("`admission.modes.{pattern}` must be a string")))?;
                let mode = text.parse::<Mode>().map_err(|message| (value, message))?;
                settings.modes.retain(|(known, _)| known != pattern);
                settings.modes.push((pattern.to_owned(), mode));
            }
        }
        if let Some(node) = top.get("imagePolicy") {
            settings.image_policy = ImagePolicySettings::from_node(node)?;
        }
        Ok(settings)
    }
}

fn map<'n>(node: &'n Node, what: &str) -> Result<&'n Map, (&'n Node, String)> {
    node.as_map().ok_or((node, format!("{what} must be a mapping")))
}

/// Unknown keys are errors, so a typo cannot silently drop an exemption.
fn known_keys<'n>(node: &'n Node, map: &Map, known: &[&str], what: &str) -> Result<(), (&'n Node, String)> {
    match map.iter().find(|(key, _)| !known.contains(key)) {
        None => Ok(()),
        Some((key, _)) => Err((node, format!("unknown key `{key}` in {what} (expected one of: {})", known.join(", ")))),
    }
}

fn strings<'n>(node: &'n Node, what: &str) -> Result<Vec<String>, (&'n Node, String)> {
    let Value::Seq(items) = &node.value else { return Err((node, format!("{what} must be a list of strings"))) };
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or((item, format!("{what} must be a list of strings"))))
        .collect()
}

/// `{enforce: LEVEL, enforce-version: VERSION}` as the namespace labels they stand for.
fn pss_labels<'n>(node: &'n Node, what: &str) -> Result<BTreeMap<String, String>, (&'n Node, String)> {
    let fields = map(node, what)?;
    known_keys(node, fields, &["enforce", "enforce-version"], what)?;
    let mut labels = BTreeMap::new();
    for (key, label) in [("enforce", ENFORCE_LABEL), ("enforce-version", ENFORCE_VERSION_LABEL)] {
        if let Some(value) = fields.get(key) {
            let text = value.as_str().ok_or((value, format!("{what}.{key} must be a string")))?;
            labels.insert(label.to_owned(), text.to_owned());
        }
    }
    Ok(labels)
}

/// Configured values must parse: unlike a label someone else set, a typo here is ours to report.
fn check_labels<'n>(node: &'n Node, labels: &BTreeMap<String, String>) -> Result<(), (&'n Node, String)> {
    if let Some(level) = labels.get(ENFORCE_LABEL) {
        level.parse::<PssLevel>().map_err(|message| (node, message))?;
    }
    if let Some(version) = labels.get(ENFORCE_VERSION_LABEL) {
        version.parse::<PssVersion>().map_err(|message| (node, message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "rules: {disable: [x]}\nadmission:\n  defaults: {enforce: baseline, enforce-version: v1.29}\n  namespaces:\n    legacy: {enforce: privileged}\n  exemptions:\n    namespaces: [kube-system]\n    usernames: [ops]\n    runtimeClasses: [kata]\n  modes:\n    workload: enforce\n    workload/default-namespace: audit\n    pss: warn\n  imagePolicy:\n    enabled: true\n    unscanned: warn\n";

    #[test]
    fn the_admission_section_is_read_and_other_sections_are_left_alone() {
        let settings = Settings::parse(CONFIG, Path::new(".palisade.yaml")).unwrap();
        assert_eq!(settings.defaults, PssSetting::new(PssLevel::Baseline, PssVersion::V(29)));
        assert_eq!(settings.namespaces["legacy"][ENFORCE_LABEL], "privileged");
        assert!(settings.exemptions.namespaces.contains("kube-system"));
        assert!(settings.exemptions.usernames.contains("ops"));
        assert!(settings.exemptions.runtime_classes.contains("kata"));
        assert_eq!(settings.mode_of("pss/privileged"), Mode::Warn);
        assert_eq!(settings.mode_of("workload/image-tag-latest"), Mode::Enforce);
        assert_eq!(settings.mode_of("workload/default-namespace"), Mode::Audit);
        assert_eq!(settings.mode_of("rbac/anything"), Mode::Warn);
        // A family is not a prefix of a longer family name.
        assert_eq!(settings.mode_of("workloadx/y"), Mode::Warn);
        assert!(settings.image_policy.enabled);
        assert_eq!(settings.image_policy.unscanned, crate::image_policy::Unscanned::Warn);
    }

    #[test]
    fn defaults_enforce_pss_and_warn_for_the_rest() {
        let settings = Settings::parse("rules: {}\n", Path::new("c.yaml")).unwrap();
        assert_eq!(settings.mode_of("pss/privileged"), Mode::Enforce);
        assert_eq!(settings.mode_of("workload/image-tag-latest"), Mode::Warn);
    }

    #[test]
    fn mistakes_name_the_file_line_and_field() {
        for (text, expected, line) in [
            ("admission:\n  exemption: {}\n", "unknown key `exemption`", 2),
            ("admission:\n  defaults: {enforce: strict}\n", "unknown Pod Security level `strict`", 2),
            ("admission:\n  modes: {pss: deny}\n", "unknown mode `deny`", 2),
            ("admission:\n  exemptions: {namespaces: kube-system}\n", "must be a list", 2),
            ("admission:\n  imagePolicy:\n    severity: urgent\n", "unknown severity `urgent`", 3),
        ] {
            let error = Settings::parse(text, Path::new("c.yaml")).unwrap_err();
            assert!(error.message.contains(expected), "{text}: {error}");
            assert_eq!((&*error.file, error.line), ("c.yaml", line), "{text}");
        }
    }
}

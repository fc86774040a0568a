//! Pod Security Standards, evaluated exactly as upstream Pod Security Admission evaluates them.
//!
//! Every upstream check id is one rule (`pss/<check id>`) in its own module. A check has one
//! implementation per policy version at which its behaviour changed; for a requested version
//! the newest implementation whose minimum version is not after it applies. Restricted
//! includes every baseline check except those a selected restricted check overrides.
//!
//! Which level and version apply is decided per namespace, and only once the whole input is
//! read (a Namespace may follow its pods). A rule therefore runs every implementation of its
//! check and reports each distinct violation with a gate that holds exactly for the settings
//! that select one of the implementations that found it.
//!
//! Namespace decisions, as PSA takes them: a namespace's `pod-security.kubernetes.io/enforce`
//! and `enforce-version` labels select the setting, each missing label falling back to the
//! default the rules were built with; a namespace not in the input and an object without a
//! namespace use that default; `privileged` selects no check; an invalid level enforces
//! `restricted` and an invalid version `latest` (PSA's enforce mode fails closed); `latest` and
//! versions newer than v1.37 evaluate as v1.37.
//!
//! Where PSA aggregates one message per check, each offending field is one finding here, with
//! PSA's reason and a detail naming that one field's setter.

mod setting;
mod visit;

mod allow_privilege_escalation;
mod app_armor_profile;
mod capabilities_baseline;
mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
mod host_probes_and_host_lifecycle;
mod privileged;
mod proc_mount;
mod proc_mount_restricted;
mod restricted_volumes;
mod run_as_non_root;
mod run_as_user;
mod se_linux_options;
mod seccomp_profile_baseline;
mod seccomp_profile_restricted;
mod sysctls;
mod windows_host_process;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use palisade_core::{FindingSink, Gate, NamespaceFacts, Object, PodView, Rule, RuleMeta};

pub use setting::{
    ENFORCE_LABEL, ENFORCE_VERSION_LABEL, NEWEST_MINOR, PssLevel, PssSetting, PssVersion,
};
pub use visit::Violation;

/// One upstream check: its id, level, the minor versions at which its implementations start,
/// and the baseline checks it replaces under restricted.
pub(crate) struct Check {
    pub meta: &'static RuleMeta,
    pub level: PssLevel,
    /// Minimum minor version of each implementation, strictly increasing.
    pub since: &'static [u32],
    /// Baseline check ids skipped under restricted whenever this check applies (upstream sets
    /// the same overrides on every implementation of a check).
    pub overrides: &'static [&'static str],
    /// Pods the implementations from some version on do not judge at all.
    pub exemption: Option<Exemption>,
    /// Runs the implementation that starts at `since` on a pod that is not exempt.
    pub run: fn(&PodView<'_>, u32, &mut Vec<Violation>),
}

/// From policy version `from` on, pods for which `applies` holds pass the check whatever they
/// set.
#[derive(Clone, Copy)]
pub(crate) struct Exemption {
    pub from: u32,
    pub applies: fn(&PodView<'_>) -> bool,
}

/// Windows pods cannot set Linux-only fields (the API rejects them), so from v1.25 the
/// restricted checks on such fields admit pods with `spec.os.name: windows`.
pub(crate) const WINDOWS_FROM_V1_25: Exemption = Exemption {
    from: 25,
    applies: visit::is_windows,
};

/// From v1.35, checks whose risk a user namespace neutralises admit pods with
/// `spec.hostUsers: false`.
pub(crate) const USER_NAMESPACE_FROM_V1_35: Exemption = Exemption {
    from: 35,
    applies: visit::in_user_namespace,
};

impl Check {
    /// A check of `level` whose implementations start at the minor versions `since`.
    pub const fn new(
        meta: &'static RuleMeta,
        level: PssLevel,
        since: &'static [u32],
        run: fn(&PodView<'_>, u32, &mut Vec<Violation>),
    ) -> Self {
        Self {
            meta,
            level,
            since,
            exemption: None,
            overrides: &[],
            run,
        }
    }

    /// The same check, replacing the baseline checks `overrides` under restricted.
    pub const fn overriding(self, overrides: &'static [&'static str]) -> Self {
        Self { overrides, ..self }
    }

    /// The same check, admitting the pods `exemption` describes.
    pub const fn exempting(self, exemption: Exemption) -> Self {
        Self {
            exemption: Some(exemption),
            ..self
        }
    }

    /// The upstream check id: the rule id without its family.
    pub fn id(&self) -> &'static str {
        self.meta.id.trim_start_matches("pss/")
    }

    /// Runs the implementation that starts at `since`, honouring the check's exemption.
    pub fn evaluate(&self, pod: &PodView<'_>, since: u32, out: &mut Vec<Violation>) {
        let exempt = self
            .exemption
            .is_some_and(|exemption| since >= exemption.from && (exemption.applies)(pod));
        if !exempt {
            (self.run)(pod, since, out);
        }
    }
}

/// Every check, baseline first, each level in upstream's (sorted) order.
static CHECKS: [&Check; 19] = [
    &app_armor_profile::CHECK,
    &capabilities_baseline::CHECK,
    &host_namespaces::CHECK,
    &host_path_volumes::CHECK,
    &host_ports::CHECK,
    &host_probes_and_host_lifecycle::CHECK,
    &privileged::CHECK,
    &proc_mount::CHECK,
    &se_linux_options::CHECK,
    &seccomp_profile_baseline::CHECK,
    &sysctls::CHECK,
    &windows_host_process::CHECK,
    &allow_privilege_escalation::CHECK,
    &capabilities_restricted::CHECK,
    &proc_mount_restricted::CHECK,
    &restricted_volumes::CHECK,
    &run_as_non_root::CHECK,
    &run_as_user::CHECK,
    &seccomp_profile_restricted::CHECK,
];

/// The index of the implementation of `check` that `level` at `minor` evaluates, if any.
fn selected_implementation(check: &Check, level: PssLevel, minor: u32) -> Option<usize> {
    let minor = minor.min(NEWEST_MINOR);
    if level == PssLevel::Privileged || check.level > level {
        return None;
    }
    let implementation = check.since.iter().rposition(|&since| since <= minor)?;
    let overridden = level == PssLevel::Restricted
        && check.level == PssLevel::Baseline
        && CHECKS.iter().any(|other| {
            other.level == PssLevel::Restricted
                && other.overrides.contains(&check.id())
                && other.since[0] <= minor
        });
    (!overridden).then_some(implementation)
}

/// For each implementation of `check`, the minor versions (bit N = v1.N) at which baseline
/// (index 0) and restricted (index 1) select it.
fn selection_masks(check: &Check) -> Vec<[u64; 2]> {
    let mut masks = vec![[0u64; 2]; check.since.len()];
    for (row, level) in [PssLevel::Baseline, PssLevel::Restricted]
        .into_iter()
        .enumerate()
    {
        for minor in 0..=NEWEST_MINOR {
            if let Some(implementation) = selected_implementation(check, level, minor) {
                masks[implementation][row] |= 1 << minor;
            }
        }
    }
    masks
}

fn selects(masks: [u64; 2], setting: PssSetting) -> bool {
    let row = match setting.level {
        PssLevel::Privileged => return false,
        PssLevel::Baseline => 0,
        PssLevel::Restricted => 1,
    };
    masks[row] >> setting.version.effective_minor() & 1 == 1
}

/// The setting for the namespace `facts` describe: its labels when the input holds the
/// Namespace, else `default` (also for objects without a namespace).
fn namespace_setting(facts: &NamespaceFacts<'_>, default: PssSetting) -> PssSetting {
    facts
        .labels
        .map_or(default, |labels| PssSetting::from_labels(labels, default))
}

struct PssRule {
    check: &'static Check,
    /// The baseline checks this restricted check replaces: a field they would also flag keeps
    /// their (higher) severity, so a hostPath volume or an added SYS_ADMIN capability in a
    /// restricted namespace is not downgraded to a restricted-only hardening finding.
    replaced: Vec<&'static Check>,
    /// Indexed by a non-empty set of implementations (bit i = implementation i) minus one:
    /// holds where any implementation in the set is selected.
    gates: Vec<Gate>,
}

impl PssRule {
    fn new(check: &'static Check, default: PssSetting) -> Self {
        let masks = selection_masks(check);
        let gates = (1..1usize << masks.len())
            .map(|set| {
                let mut union = [0u64; 2];
                for (implementation, mask) in masks.iter().enumerate() {
                    if set >> implementation & 1 == 1 {
                        union = [union[0] | mask[0], union[1] | mask[1]];
                    }
                }
                Arc::new(move |facts: &NamespaceFacts<'_>| {
                    selects(union, namespace_setting(facts, default))
                }) as Gate
            })
            .collect();
        let replaced =
            CHECKS.iter().copied().filter(|other| check.overrides.contains(&other.id())).collect();
        Self { check, replaced, gates }
    }

    /// The fields the replaced baseline checks flag on `pod` (newest implementation), with the
    /// highest severity of the checks that flag them.
    fn replaced_findings(&self, pod: &PodView<'_>) -> HashMap<String, palisade_core::Severity> {
        let mut fields = HashMap::new();
        let mut found = Vec::new();
        for check in &self.replaced {
            let newest = *check.since.last().expect("every check has an implementation");
            check.evaluate(pod, newest, &mut found);
            for violation in found.drain(..) {
                let severity = fields.entry(violation.pointer).or_insert(check.meta.severity);
                *severity = (*severity).max(check.meta.severity);
            }
        }
        fields
    }
}

impl Rule for PssRule {
    fn meta(&self) -> &'static RuleMeta {
        self.check.meta
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else {
            return;
        };
        // Violations in the order first found, with the set of implementations that found each;
        // the index keeps the merge linear when a pod has thousands of containers.
        let mut found: Vec<(Violation, usize)> = Vec::new();
        let mut index: HashMap<Violation, usize> = HashMap::new();
        let mut fresh = Vec::new();
        for (implementation, &since) in self.check.since.iter().enumerate() {
            self.check.evaluate(&pod, since, &mut fresh);
            // Implementations usually agree; one candidate per distinct violation keeps the
            // finding count independent of how many versions a check has.
            for violation in fresh.drain(..) {
                match index.entry(violation) {
                    Entry::Occupied(known) => found[*known.get()].1 |= 1 << implementation,
                    Entry::Vacant(new) => {
                        found.push((new.key().clone(), 1 << implementation));
                        new.insert(found.len() - 1);
                    }
                }
            }
        }
        drop(index);
        let replaced = if found.is_empty() { HashMap::new() } else { self.replaced_findings(&pod) };
        for (violation, set) in found {
            let baseline_severity = replaced.get(&violation.pointer).copied();
            let severity = baseline_severity.map_or(self.check.meta.severity, |baseline| {
                baseline.max(self.check.meta.severity)
            });
            let gate = self.gates[set - 1].clone();
            sink.report_when_at(severity, violation.pointer, violation.message, gate);
        }
    }
}

/// One rule per upstream check. Findings stand where the namespace's
/// `pod-security.kubernetes.io/enforce` and `enforce-version` labels (or, for namespaces not in
/// the input and objects without a namespace, `default`) select the implementation that found
/// them; a `privileged` namespace selects none.
pub fn rules(default: PssSetting) -> Vec<Box<dyn Rule>> {
    CHECKS
        .iter()
        .map(|&check| Box::new(PssRule::new(check, default)) as Box<dyn Rule>)
        .collect()
}

/// A violation found by direct evaluation, with the rule that found it.
#[derive(Clone, Debug)]
pub struct PssViolation {
    pub rule: &'static RuleMeta,
    pub violation: Violation,
}

/// Evaluates `pod` at a known `setting`, as an admission webhook does: only the selected
/// implementations run.
pub fn evaluate(pod: &PodView<'_>, setting: PssSetting) -> Vec<PssViolation> {
    let minor = setting.version.effective_minor();
    let mut out = Vec::new();
    let mut found = Vec::new();
    for check in CHECKS {
        if let Some(implementation) = selected_implementation(check, setting.level, minor) {
            check.evaluate(pod, check.since[implementation], &mut found);
            out.extend(found.drain(..).map(|violation| PssViolation {
                rule: check.meta,
                violation,
            }));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;

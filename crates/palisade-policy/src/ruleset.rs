//! The one place that turns configuration into the rules a door runs: `palisade scan` (files
//! and live clusters) and `palisade serve admission` both call [`RuleSet::build`], so a rule
//! switch, a rule parameter, a policy file or a severity override means the same everywhere.

use std::collections::BTreeSet;
use std::path::PathBuf;

use palisade_checks::CatalogOptions;
use palisade_checks::pss::PssSetting;
use palisade_core::{Finding, Framework, InputError, InventoryRule, Rule, RuleMeta};
use palisade_gatekeeper::constraint::enforcement_point;

use crate::{Config, OperationPolicy};

/// What a door asks for beyond the configuration.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Run only rules whose id starts with one of these prefixes; empty runs every rule.
    pub prefixes: Vec<String>,
    /// Run only rules mapped to this framework.
    pub framework: Option<Framework>,
    /// OperationPolicy files named on the command line, besides those the configuration lists.
    pub policy_files: Vec<PathBuf>,
    /// Policies read from a live cluster (`scan --cluster`): Gatekeeper templates and
    /// constraints, Kyverno policies and exceptions, ValidatingAdmissionPolicies, their bindings
    /// and params. A policy file's policy of the same name replaces the installed one.
    pub installed_policies: Vec<palisade_core::Object>,
    /// Analyses over the whole input (RBAC, NetworkPolicy): meaningless for one admission object.
    pub inventory: bool,
    /// Analyses of running state that only a live cluster scan has.
    pub cluster: bool,
    /// The image door (`scan --images`): its rules are reported; the door itself needs the
    /// registry options and is added by the caller when [`RuleSet::runs_image_door`].
    pub images: bool,
    /// The vulnerability door (`scan --images --vulns`): one rule per advisory (`vuln/<id>`), so
    /// the family is selected as a whole.
    pub vulnerabilities: bool,
}

/// The family of the vulnerability door's rules.
pub const VULNERABILITY_FAMILY: &str = "vuln/";

/// The rules one door runs, and what reports need to know about them.
pub struct RuleSet {
    pub rules: Vec<Box<dyn Rule>>,
    pub inventory_rules: Vec<Box<dyn InventoryRule>>,
    pub evaluated: Evaluated,
    /// Problems in the policy files that did not stop them from loading.
    pub warnings: Vec<String>,
    /// Rules whose definition says what admission does with them: each Gatekeeper
    /// constraint's id and `enforcementAction` (`deny`, `warn` or `dryrun`).
    pub enforcement_actions: Vec<(&'static str, String)>,
}

/// The rules that run, as exceptions, reports and the compliance summary see them.
#[derive(Clone, Debug)]
pub struct Evaluated {
    /// The metadata of every rule that runs, sorted by id, each once.
    pub metas: Vec<&'static RuleMeta>,
    /// Families whose rules are made as findings arrive (`vuln/`): every rule of them runs.
    pub families: Vec<&'static str>,
    severity: Vec<(String, palisade_core::Severity)>,
}

impl RuleSet {
    /// The built-in catalog with the configuration's parameters, plus the OperationPolicy rules
    /// of the configured and selected policy files, less what the configuration disables or the
    /// selection leaves out. `pss` is the level and version for namespaces whose labels do not
    /// say.
    pub fn build(config: &Config, pss: PssSetting, selection: &Selection) -> Result<Self, InputError> {
        let selected = |meta: &RuleMeta| {
            (selection.prefixes.is_empty() || selection.prefixes.iter().any(|prefix| meta.id.starts_with(prefix.as_str())))
                && config.rules.is_enabled(meta.id)
                && selection.framework.is_none_or(|framework| meta.maps_to(framework))
        };
        let mut policy_files = config.policies.clone();
        policy_files.extend(selection.policy_files.iter().cloned());
        let policies = crate::policies::load_policies_with_installed(&policy_files, &selection.installed_policies)?;
        let mut warnings = policies.warnings;
        // Gatekeeper's enforcement point for this door: admission (no inventory), an audit of a
        // live cluster, or gator's (manifests).
        let point = match (selection.inventory, selection.cluster) {
            (false, _) => enforcement_point::VALIDATION,
            (true, true) => enforcement_point::AUDIT,
            (true, false) => enforcement_point::GATOR,
        };
        let mut enforcement_actions = crate::gatekeeper::enforcement_actions(&policies.constraints, point);
        enforcement_actions.extend(crate::kyverno::enforcement_actions(&policies.kyverno));
        enforcement_actions.extend(crate::vap::enforcement_actions(&policies.admission_policies));
        let (constraint_rules, constraint_inventory_rules) = crate::gatekeeper::rules(policies.constraints, policies.expansions, point);

        let options = CatalogOptions { pss, workload: config.workload.clone(), network: config.network.clone() };
        let mut rules = palisade_checks::builtin_rules(&options);
        rules.extend(policies.operation.into_iter().flat_map(OperationPolicy::into_rules));
        rules.extend(constraint_rules);
        let (kyverno_rules, kyverno_inventory_rules) = crate::kyverno::rules(policies.kyverno, policies.kyverno_exceptions, selection.inventory);
        rules.extend(kyverno_rules);
        rules.extend(crate::vap::rules(policies.admission_policies));
        rules.retain(|rule| selected(rule.meta()));

        let mut inventory_rules = Vec::new();
        if selection.inventory {
            inventory_rules.extend(palisade_checks::inventory_rules(&options));
        }
        if selection.cluster {
            inventory_rules.extend(palisade_checks::cluster_rules());
        }
        inventory_rules.extend(kyverno_inventory_rules);
        if selection.inventory {
            inventory_rules.extend(constraint_inventory_rules);
        } else {
            warnings.extend(constraint_inventory_rules.iter().flat_map(|rule| rule.metas()).map(|meta| {
                format!("{}: its template reads data.inventory, which only a whole scan has; not evaluated here", meta.id)
            }));
        }
        inventory_rules.retain(|rule| rule.metas().iter().any(|meta| selected(meta)));

        let mut metas: Vec<&'static RuleMeta> = rules.iter().map(|rule| rule.meta()).collect();
        metas.extend(inventory_rules.iter().flat_map(|rule| rule.metas()).filter(|meta| selected(meta)));
        if selection.images {
            metas.extend(palisade_checks::images::metas().into_iter().filter(|meta| selected(meta)));
        }
        metas.sort_by_key(|meta| meta.id);
        metas.dedup_by_key(|meta| meta.id);
        let family_selected = |family: &str| {
            (selection.prefixes.is_empty()
                || selection.prefixes.iter().any(|prefix| family.starts_with(prefix.as_str()) || prefix.starts_with(family)))
                && config.rules.is_enabled(family.trim_end_matches('/'))
                && selection.framework.is_none()
        };
        let families = [(selection.vulnerabilities, VULNERABILITY_FAMILY)]
            .into_iter()
            .filter(|(asked, family)| *asked && family_selected(family))
            .map(|(_, family)| family)
            .collect();
        let evaluated = Evaluated { metas, families, severity: config.severity.clone() };
        Ok(Self { rules, inventory_rules, evaluated, warnings, enforcement_actions })
    }
}

impl RuleSet {
    /// Whether any rule of the image door is selected, so images are worth reading.
    pub fn runs_image_door(&self) -> bool {
        palisade_checks::images::metas().iter().any(|image| self.evaluated.metas.iter().any(|meta| meta.id == image.id))
            || self.runs_vulnerability_door()
    }

    /// Whether the vulnerability family is selected, so images' packages are worth matching.
    pub fn runs_vulnerability_door(&self) -> bool {
        self.evaluated.families.contains(&VULNERABILITY_FAMILY)
    }
}

impl Evaluated {
    /// The ids of the rules that run: exceptions for other rules are not "unused", and the
    /// compliance summary counts only these.
    pub fn ids(&self) -> BTreeSet<&'static str> {
        let families = self.families.iter().map(|family| match *family {
            VULNERABILITY_FAMILY => "vuln/*",
            other => other,
        });
        self.metas.iter().map(|meta| meta.id).chain(families).collect()
    }

    /// Findings as the configuration wants them reported: an inventory analysis reports every
    /// rule it knows, so those not selected are dropped, and severity overrides apply.
    pub fn adjust(&self, findings: &mut Vec<Finding>) {
        // `metas` is sorted by id (see `RuleSet::build`): nothing to build per call, which
        // matters to the admission webhook that calls this for every review.
        findings.retain(|finding| {
            self.metas.binary_search_by_key(&finding.rule, |meta| meta.id).is_ok()
                || self.families.iter().any(|family| finding.rule.starts_with(family))
        });
        for finding in findings {
            finding.severity = crate::config::severity_override(&self.severity, finding.rule, finding.severity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::Severity;

    fn config(text: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".palisade.yaml");
        std::fs::write(&path, text).unwrap();
        Config::load(&path).unwrap()
    }

    fn default_pss() -> PssSetting {
        CatalogOptions::default().pss
    }

    fn ids(set: &RuleSet) -> Vec<&'static str> {
        set.evaluated.metas.iter().map(|meta| meta.id).collect()
    }

    #[test]
    fn configuration_and_selection_decide_together() {
        let config = config("rules:\n  disable: [workload]\n");
        let everything = RuleSet::build(&config, default_pss(), &Selection { inventory: true, ..Selection::default() }).unwrap();
        let ids_all = ids(&everything);
        assert!(ids_all.contains(&"pss/privileged") && ids_all.contains(&"rbac/cluster-admin-binding"));
        assert!(!ids_all.iter().any(|id| id.starts_with("workload/")));
        assert!(!ids_all.iter().any(|id| id.starts_with("cluster/")), "cluster rules only on request");

        let admission = RuleSet::build(&config, default_pss(), &Selection::default()).unwrap();
        assert!(admission.inventory_rules.is_empty() && !ids(&admission).contains(&"rbac/cluster-admin-binding"));

        let selection = Selection { prefixes: vec!["pss/".into()], framework: Some(Framework::Cis), ..Selection::default() };
        let narrow = RuleSet::build(&config, default_pss(), &selection).unwrap();
        assert!(!ids(&narrow).is_empty());
        assert!(narrow.evaluated.metas.iter().all(|meta| meta.id.starts_with("pss/") && meta.maps_to(Framework::Cis)));
        assert_eq!(narrow.rules.len(), narrow.evaluated.metas.len());
    }

    #[test]
    fn missing_policy_files_are_errors_naming_the_file() {
        let selection = Selection { policy_files: vec!["/nonexistent/policy.yaml".into()], ..Selection::default() };
        let error = RuleSet::build(&Config::default(), default_pss(), &selection).err().unwrap();
        assert!(error.to_string().contains("/nonexistent/policy.yaml"), "{error}");
    }

    #[test]
    fn the_image_door_runs_only_when_asked_for_and_selected() {
        let config = Config::default();
        let build = |images: bool, prefixes: &[&str]| {
            let selection = Selection { images, prefixes: prefixes.iter().map(|p| p.to_string()).collect(), ..Selection::default() };
            RuleSet::build(&config, default_pss(), &selection).unwrap()
        };
        assert!(!build(false, &[]).runs_image_door());
        assert!(build(true, &[]).runs_image_door());
        assert!(build(true, &["image/"]).runs_image_door());
        assert!(!build(true, &["pss/"]).runs_image_door());
        assert!(build(true, &[]).evaluated.ids().contains("image/not-evaluated"));
    }

    #[test]
    fn the_vulnerability_family_runs_whole_when_asked_and_selected() {
        let object = palisade_load::load_str("{apiVersion: v1, kind: Pod, metadata: {name: p}}", "p.yaml").objects.remove(0);
        static ADVISORY: RuleMeta = RuleMeta { id: "vuln/GHSA-rv95-896h-c2vc", title: "t", severity: Severity::Medium, doc: "", remediation: "r", controls: &[] };
        let kept = |config: &Config, selection: Selection| {
            let set = RuleSet::build(config, default_pss(), &selection).unwrap();
            let mut findings = vec![Finding::new(&ADVISORY, &object, String::new(), "m".into())];
            set.evaluated.adjust(&mut findings);
            (set.runs_image_door(), findings.len(), set.evaluated.ids().contains("vuln/*"))
        };
        let asked = || Selection { images: true, vulnerabilities: true, ..Selection::default() };
        assert_eq!(kept(&Config::default(), asked()), (true, 1, true));
        assert_eq!(kept(&Config::default(), Selection { prefixes: vec!["vuln/".into()], ..asked() }), (true, 1, true));
        assert_eq!(kept(&Config::default(), Selection { prefixes: vec!["image/".into()], ..asked() }), (true, 0, false));
        assert_eq!(kept(&Config::default(), Selection { images: true, ..Selection::default() }), (true, 0, false));
        assert_eq!(kept(&config("rules:\n  disable: [vuln]\n"), asked()), (true, 0, false));
    }

    #[test]
    fn adjust_drops_unselected_rules_and_applies_severity_overrides() {
        let config = config("rules:\n  severity:\n    pss/privileged: low\n");
        let set = RuleSet::build(&config, default_pss(), &Selection { prefixes: vec!["pss/".into()], ..Selection::default() }).unwrap();
        let object = palisade_load::load_str("{apiVersion: v1, kind: Pod, metadata: {name: p}}", "p.yaml").objects.remove(0);
        let finding = |meta: &'static RuleMeta| Finding::new(meta, &object, String::new(), "m".into());
        let privileged = palisade_checks::all_metas().into_iter().find(|meta| meta.id == "pss/privileged").unwrap();
        let tag = palisade_checks::all_metas().into_iter().find(|meta| meta.id == "workload/image-tag-latest").unwrap();
        let mut findings = vec![finding(privileged), finding(tag)];
        set.evaluated.adjust(&mut findings);
        assert_eq!(findings.len(), 1);
        assert_eq!((findings[0].rule, findings[0].severity), ("pss/privileged", Severity::Low));
    }
}

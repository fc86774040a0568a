//! Registry-level behaviour: which implementation a setting selects, overrides, gates decided
//! from namespace labels, and the rule metadata every check must carry.

use std::collections::{BTreeMap, BTreeSet};

use palisade_core::{Candidate, FindingSink, Framework, NamespaceFacts, Object};

use super::testing::pod;
use super::*;

fn setting(level: PssLevel, minor: u32) -> PssSetting {
    PssSetting::new(level, PssVersion::V(minor))
}

fn check(id: &str) -> &'static Check {
    CHECKS
        .iter()
        .copied()
        .find(|check| check.id() == id)
        .unwrap()
}

fn candidates(object: &Object, default: PssSetting) -> Vec<Candidate> {
    let mut out = Vec::new();
    for rule in rules(default) {
        let mut sink = FindingSink::new(rule.meta(), object, &mut out);
        rule.check(object, &mut sink);
    }
    out
}

/// The rule ids of the candidates that stand for a namespace with `labels`.
fn standing(
    candidates: &[Candidate],
    labels: Option<&BTreeMap<String, String>>,
) -> BTreeSet<String> {
    let facts = NamespaceFacts {
        name: Some("ns"),
        labels,
    };
    candidates
        .iter()
        .filter(|c| c.stands(&facts))
        .map(|c| c.finding.rule.to_string())
        .collect()
}

fn labels(level: &str, version: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (ENFORCE_LABEL.to_owned(), level.to_owned()),
        (ENFORCE_VERSION_LABEL.to_owned(), version.to_owned()),
    ])
}

#[test]
fn the_newest_implementation_not_after_the_version_applies() {
    let sysctls = check("sysctls");
    let picks: Vec<_> = [0, 26, 27, 28, 31, 32, 36, 37, 99]
        .into_iter()
        .map(|minor| selected_implementation(sysctls, PssLevel::Baseline, minor))
        .collect();
    assert_eq!(
        picks,
        [
            Some(0),
            Some(0),
            Some(1),
            Some(1),
            Some(2),
            Some(3),
            Some(3),
            Some(4),
            Some(4)
        ]
    );
    assert_eq!(
        selected_implementation(check("hostProbesAndHostLifecycle"), PssLevel::Baseline, 33),
        None
    );
}

#[test]
fn restricted_checks_apply_only_to_restricted_and_privileged_selects_nothing() {
    assert_eq!(
        selected_implementation(check("runAsNonRoot"), PssLevel::Baseline, 30),
        None
    );
    assert_eq!(
        selected_implementation(check("runAsNonRoot"), PssLevel::Restricted, 30),
        Some(0)
    );
    assert_eq!(
        selected_implementation(check("privileged"), PssLevel::Restricted, 0),
        Some(0)
    );
    assert!(
        CHECKS
            .iter()
            .all(|c| selected_implementation(c, PssLevel::Privileged, 37).is_none())
    );
}

#[test]
fn restricted_checks_override_their_baseline_twins_from_their_first_version() {
    let cases = [
        ("capabilities_baseline", 21, 22),
        ("seccompProfile_baseline", 18, 19),
        ("procMount", 34, 35),
    ];
    for (baseline, last_kept, first_overridden) in cases {
        let baseline = check(baseline);
        assert!(selected_implementation(baseline, PssLevel::Restricted, last_kept).is_some());
        assert_eq!(
            selected_implementation(baseline, PssLevel::Restricted, first_overridden),
            None
        );
        assert!(selected_implementation(baseline, PssLevel::Baseline, first_overridden).is_some());
    }
    assert_eq!(
        selected_implementation(check("hostPathVolumes"), PssLevel::Restricted, 0),
        None
    );
}

#[test]
fn every_check_is_registered_once_with_increasing_versions_and_valid_overrides() {
    let ids: BTreeSet<_> = CHECKS.iter().map(|c| c.id()).collect();
    assert_eq!(ids.len(), CHECKS.len());
    for check in CHECKS {
        assert!(
            check.since.windows(2).all(|pair| pair[0] < pair[1]),
            "{}",
            check.id()
        );
        assert!(
            check.since.len() < 6,
            "gates are built for every subset of implementations"
        );
        for overridden in check.overrides {
            assert_eq!(check.level, PssLevel::Restricted);
            assert_eq!(self::check(overridden).level, PssLevel::Baseline);
        }
    }
    let newest = CHECKS.iter().flat_map(|c| c.since.iter()).max();
    assert_eq!(newest, Some(&NEWEST_MINOR));
}

#[test]
fn every_rule_documents_itself() {
    for check in CHECKS {
        let meta = check.meta;
        assert!(meta.id.starts_with("pss/"));
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## How to fix",
            "## Example",
        ] {
            assert!(meta.doc.contains(section), "{} lacks {section}", meta.id);
        }
        assert!(
            meta.remediation.ends_with('.') && !meta.remediation.contains('\n'),
            "{}",
            meta.id
        );
        assert!(meta.maps_to(Framework::Pss), "{}", meta.id);
    }
}

const ROOTISH_POD: &str = r#"{"hostNetwork": true, "containers": [{"name": "app", "image": "i",
    "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}"#;

#[test]
fn gates_follow_the_namespace_labels_decided_late() {
    let object = pod("", ROOTISH_POD);
    let found = candidates(&object, setting(PssLevel::Baseline, 37));
    let ids = |list: &[&str]| {
        list.iter()
            .map(|id| format!("pss/{id}"))
            .collect::<BTreeSet<_>>()
    };

    assert_eq!(
        standing(&found, None),
        ids(&["capabilities_baseline", "hostNamespaces"])
    );
    assert_eq!(
        standing(&found, Some(&labels("privileged", "latest"))),
        ids(&[])
    );
    assert_eq!(
        standing(&found, Some(&labels("restricted", "v1.21"))),
        ids(&[
            "allowPrivilegeEscalation",
            "capabilities_baseline",
            "hostNamespaces",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ])
    );
    assert_eq!(
        standing(&found, Some(&labels("restricted", "latest"))),
        ids(&[
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "hostNamespaces",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ])
    );
    // A Namespace without Pod Security labels keeps the default.
    assert_eq!(
        standing(&found, Some(&BTreeMap::new())),
        standing(&found, None)
    );
}

#[test]
fn identical_violations_of_several_implementations_become_one_candidate() {
    let object = pod("", r#"{"containers": [{"name": "app", "image": "i"}]}"#);
    let found = candidates(&object, setting(PssLevel::Restricted, 37));
    let escalation: Vec<_> = found
        .iter()
        .filter(|c| c.finding.rule == "pss/allowPrivilegeEscalation")
        .collect();
    assert_eq!(escalation.len(), 1);
    for minor in [7, 8, 24, 25, 37] {
        let facts_labels = labels("restricted", &format!("v1.{minor}"));
        let facts = NamespaceFacts {
            name: Some("ns"),
            labels: Some(&facts_labels),
        };
        assert_eq!(escalation[0].stands(&facts), minor >= 8, "v1.{minor}");
    }
}

#[test]
fn objects_without_a_namespace_use_the_default_setting() {
    let object = pod("", ROOTISH_POD);
    let found = candidates(&object, setting(PssLevel::Privileged, 37));
    let facts = NamespaceFacts {
        name: None,
        labels: None,
    };
    assert!(found.iter().all(|c| !c.stands(&facts)));
    assert!(
        !found.is_empty(),
        "candidates exist, the default setting rejects them"
    );
}

#[test]
fn workload_templates_are_checked_at_their_template_pointers() {
    let text = r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"hostPID": true, "containers": [{"name": "c", "image": "i"}]}}}}"#;
    let object = palisade_load::load_str(text, "d.yaml").objects.remove(0);
    let found = candidates(&object, setting(PssLevel::Baseline, 37));
    let host = found
        .iter()
        .find(|c| c.finding.rule == "pss/hostNamespaces")
        .unwrap();
    assert_eq!(host.finding.location.path, "/spec/template/spec/hostPID");
    assert_eq!(host.finding.message, "host namespaces (hostPID=true)");
}

#[test]
fn direct_evaluation_runs_only_the_selected_implementations() {
    let object = pod("", ROOTISH_POD);
    let pod_view = PodView::of(&object).unwrap();
    let rules_of = |setting| -> Vec<&str> {
        evaluate(&pod_view, setting)
            .iter()
            .map(|found| found.rule.id)
            .collect()
    };
    assert_eq!(
        rules_of(setting(PssLevel::Baseline, 10)),
        ["pss/capabilities_baseline", "pss/hostNamespaces"]
    );
    assert_eq!(
        rules_of(setting(PssLevel::Privileged, 10)),
        Vec::<&str>::new()
    );
    let restricted = rules_of(PssSetting::new(PssLevel::Restricted, PssVersion::Latest));
    assert!(
        restricted.contains(&"pss/capabilities_restricted")
            && !restricted.contains(&"pss/capabilities_baseline")
    );
}

#[test]
fn replacing_checks_keep_the_baseline_severity_for_what_baseline_also_forbids() {
    let object = pod(
        "",
        r#"{"volumes": [{"name": "h", "hostPath": {"path": "/"}}, {"name": "n", "nfs": {"server": "s", "path": "/"}}],
            "containers": [{"name": "c", "image": "i", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "CHOWN"], "drop": ["ALL"]}}}]}"#,
    );
    let default = PssSetting::new(PssLevel::Restricted, PssVersion::Latest);
    let severity_of = |needle: &str| {
        let candidates = candidates(&object, default);
        let found: Vec<_> = candidates
            .iter()
            .filter(|c| c.stands(&NamespaceFacts { name: Some("ns"), labels: None }))
            .filter(|c| c.finding.message.contains(needle))
            .map(|c| (c.finding.rule.to_string(), c.finding.severity))
            .collect();
        assert_eq!(found.len(), 1, "{needle}: {found:?}");
        found[0].clone()
    };
    let baseline = |id: &str| check(id).meta.severity;
    // hostPath and SYS_ADMIN are baseline violations too: reported by the replacing restricted
    // check, at the baseline check's severity.
    assert_eq!(severity_of("\"hostPath\""), ("pss/restrictedVolumes".into(), baseline("hostPathVolumes")));
    assert_eq!(severity_of("SYS_ADMIN"), ("pss/capabilities_restricted".into(), baseline("capabilities_baseline")));
    // nfs and CHOWN are only restricted violations: the restricted rule's own severity.
    assert_eq!(severity_of("\"nfs\""), ("pss/restrictedVolumes".into(), check("restrictedVolumes").meta.severity));
    assert_eq!(severity_of("CHOWN"), ("pss/capabilities_restricted".into(), check("capabilities_restricted").meta.severity));
    assert!(baseline("hostPathVolumes") > check("restrictedVolumes").meta.severity);
}

//! Conformance with upstream Pod Security Admission: every fixture upstream generates for
//! `<level>/<version>/{pass,fail}/<check><n>.yaml` is scanned through the rules the scanner
//! runs, with the level and version coming from Namespace labels as in a real scan.
//!
//! Fixtures live outside the repository, in `$PALISADE_UPSTREAM/pss-fixtures` (default
//! `../shared/upstream` next to the workspace).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_checks::pss::{
    self, ENFORCE_LABEL, ENFORCE_VERSION_LABEL, PssLevel, PssSetting, PssVersion,
};
use palisade_core::{FindingSink, NamespaceFacts, Object, PodView, Rule};

fn fixtures_dir() -> PathBuf {
    let upstream = std::env::var_os("PALISADE_UPSTREAM").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"),
        PathBuf::from,
    );
    upstream.join("pss-fixtures")
}

/// Under restricted, upstream replaces these baseline checks by a restricted one from the
/// given minor version on, so their restricted fail fixtures are refused by the replacement.
const OVERRIDDEN: [(&str, &str, u32); 4] = [
    ("hostpathvolumes", "restrictedvolumes", 0),
    ("seccompprofile_baseline", "seccompprofile_restricted", 19),
    ("capabilities_baseline", "capabilities_restricted", 22),
    ("procmount", "procmount_restricted", 35),
];

/// The lower-cased check id whose finding a fail fixture must produce.
fn expected_check(stem: &str, level: PssLevel, minor: u32) -> String {
    let check = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    OVERRIDDEN
        .iter()
        .find(|(baseline, _, from)| {
            level == PssLevel::Restricted && *baseline == check && minor >= *from
        })
        .map_or(check, |(_, replacement, _)| replacement)
        .to_owned()
}

fn sorted_unique(mut checks: Vec<String>) -> Vec<String> {
    checks.sort();
    checks.dedup();
    checks
}

/// Lower-cased check ids of the findings that stand in a namespace labelled with `setting`,
/// scanned through the rule path with a `privileged` default so that only the labels can
/// select checks.
fn standing_checks(rules: &[Box<dyn Rule>], object: &Object, setting: PssSetting) -> Vec<String> {
    let labels = BTreeMap::from([
        (ENFORCE_LABEL.to_owned(), setting.level.to_string()),
        (
            ENFORCE_VERSION_LABEL.to_owned(),
            setting.version.to_string(),
        ),
    ]);
    let facts = NamespaceFacts {
        name: Some("fixtures"),
        labels: Some(&labels),
    };
    let mut candidates = Vec::new();
    for rule in rules {
        let mut sink = FindingSink::new(rule.meta(), object, &mut candidates);
        rule.check(object, &mut sink);
    }
    sorted_unique(
        candidates
            .iter()
            .filter(|candidate| candidate.stands(&facts))
            .map(|candidate| {
                candidate
                    .finding
                    .rule
                    .trim_start_matches("pss/")
                    .to_lowercase()
            })
            .collect(),
    )
}

/// The same judgement through direct evaluation, which must agree with the rule path.
fn evaluated_checks(object: &Object, setting: PssSetting) -> Vec<String> {
    let pod = PodView::of(object).expect("fixtures are pods");
    sorted_unique(
        pss::evaluate(&pod, setting)
            .iter()
            .map(|found| found.rule.id.trim_start_matches("pss/").to_lowercase())
            .collect(),
    )
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn upstream_pod_security_fixtures_agree() {
    let root = fixtures_dir();
    if !root.is_dir() {
        let message = format!(
            "SKIPPED: pss conformance, no fixtures at {}",
            root.display()
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{message} (required when CI=true)"
        );
        eprintln!("{message}");
        return;
    }
    let rules = pss::rules(PssSetting::new(PssLevel::Privileged, PssVersion::Latest));
    let mut total = 0;
    let mut disagreements = Vec::new();
    for level in [PssLevel::Baseline, PssLevel::Restricted] {
        for version_dir in sorted_entries(&root.join(level.as_str())) {
            let version_name = version_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let version: PssVersion = version_name.parse().expect("fixture version directory");
            let setting = PssSetting::new(level, version);
            for outcome in ["pass", "fail"] {
                for file in sorted_entries(&version_dir.join(outcome)) {
                    if file.extension().is_none_or(|extension| extension != "yaml") {
                        continue;
                    }
                    total += 1;
                    let text = std::fs::read_to_string(&file).expect("readable fixture");
                    let mut loaded = palisade_load::load_str(&text, &file.to_string_lossy());
                    assert!(
                        loaded.errors.is_empty() && loaded.objects.len() == 1,
                        "{}",
                        file.display()
                    );
                    let object = loaded.objects.remove(0);
                    let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
                    let found = standing_checks(&rules, &object, setting);
                    let direct = evaluated_checks(&object, setting);
                    let agrees = found == direct
                        && if outcome == "pass" {
                            found.is_empty()
                        } else {
                            found.contains(&expected_check(&stem, level, version.effective_minor()))
                        };
                    if !agrees {
                        disagreements.push(format!(
                            "{level}/{version_name}/{outcome}/{stem}: rules {found:?}, evaluate {direct:?}"
                        ));
                    }
                }
            }
        }
    }
    println!(
        "pss conformance: {total} fixtures, {} agree",
        total - disagreements.len()
    );
    assert!(total > 0, "no fixtures under {}", root.display());
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn overridden_fixtures_expect_the_replacing_check() {
    assert_eq!(
        expected_check("capabilities_baseline3", PssLevel::Restricted, 22),
        "capabilities_restricted"
    );
    assert_eq!(
        expected_check("capabilities_baseline3", PssLevel::Restricted, 21),
        "capabilities_baseline"
    );
    assert_eq!(
        expected_check("procmount0", PssLevel::Baseline, 37),
        "procmount"
    );
    assert_eq!(
        expected_check("hostpathvolumes1", PssLevel::Restricted, 0),
        "restrictedvolumes"
    );
}

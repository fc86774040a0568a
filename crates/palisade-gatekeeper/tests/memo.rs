//! Constraints remember verdicts by the parts of the review their template reads: on every
//! library template and sample, and on variants of the samples that change read and unread
//! fields alike, a remembered verdict must be the one a fresh evaluation gives; inventory
//! templates judge with all their samples and variants as the inventory.

#[path = "../../palisade-policy/tests/support/object_variants.rs"]
mod object_variants;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::{Labels, api_group};
use palisade_gatekeeper::{Constraint, Review, Target, Template, review};
use serde_json::Value;

fn library() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gatekeeper-library/library")
}

fn objects_of(path: &Path) -> Vec<palisade_core::Object> {
    palisade_load::load_str(&std::fs::read_to_string(path).unwrap(), &path.display().to_string()).objects
}

/// Every template directory with samples: the template and, per sample, its constraint and
/// example objects.
fn samples() -> Vec<(PathBuf, Vec<(PathBuf, Vec<PathBuf>)>)> {
    let mut found = Vec::new();
    for family in ["general", "pod-security-policy"] {
        let mut directories: Vec<PathBuf> = std::fs::read_dir(library().join(family)).unwrap().map(|entry| entry.unwrap().path()).collect();
        directories.sort();
        for directory in directories {
            let Ok(entries) = std::fs::read_dir(directory.join("samples")) else { continue };
            let mut cases: Vec<(PathBuf, Vec<PathBuf>)> = entries
                .map(|entry| entry.unwrap().path())
                .filter(|sample| sample.join("constraint.yaml").is_file())
                .map(|sample| {
                    let mut examples: Vec<PathBuf> = std::fs::read_dir(&sample).unwrap().map(|entry| entry.unwrap().path()).filter(|path| path.file_name().unwrap().to_string_lossy().starts_with("example")).collect();
                    examples.sort();
                    (sample.join("constraint.yaml"), examples)
                })
                .collect();
            cases.sort();
            found.push((directory.join("template.yaml"), cases));
        }
    }
    found
}

#[test]
fn remembered_verdicts_are_the_verdicts_of_a_fresh_evaluation() {
    let (mut remembered_templates, mut remembered_with_inventory) = (0, 0);
    let mut checked = 0;
    for (template_path, cases) in samples() {
        let Ok(template) = Template::parse(&objects_of(&template_path)[0]) else { continue };
        let template = Arc::new(template);
        if template.unsupported().is_some() {
            continue;
        }
        let subjects_of = |examples: &[PathBuf]| -> Vec<Value> { examples.iter().flat_map(|path| objects_of(path)).map(|object| object.root.to_json()).filter(|object| object["kind"] != "AdmissionReview").flat_map(|object| object_variants::variants(&object)).collect() };
        // An inventory template judges every sample against all of its samples and variants.
        let evaluator = template.uses_inventory().then(|| {
            let everything: Vec<Value> = cases.iter().flat_map(|(_, examples)| subjects_of(examples)).collect();
            template.evaluator(Some(&review::inventory(&everything))).unwrap()
        });
        for (constraint_path, examples) in cases {
            let constraint = Constraint::parse(&objects_of(&constraint_path)[0], template.clone()).unwrap();
            let subjects = subjects_of(&examples);
            // Twice over, so the second pass is answered from memory.
            for subject in subjects.iter().chain(&subjects) {
                let request = review::of_object(subject);
                let labels: Labels = Labels::new();
                let field = |pointer: &str| subject.pointer(pointer).and_then(Value::as_str).unwrap_or("");
                let target = Target { group: api_group(field("/apiVersion")), kind: field("/kind"), name: field("/metadata/name"), generate_name: "", namespace: None, labels: &labels };
                if !constraint.matcher.matches(&target) {
                    continue;
                }
                let input = review::input(&request, constraint.parameters.as_ref());
                let fresh = match &evaluator {
                    Some(evaluator) => evaluator.evaluate(&input),
                    None => template.evaluate(&input),
                };
                let judged = constraint.judge(&Review::new(&request), &target, evaluator.as_ref());
                assert_eq!(judged, fresh, "{} {} on {subject}", template.name, constraint.name);
                checked += 1;
            }
        }
        remembered_templates += usize::from(template.remembers_verdicts());
        remembered_with_inventory += usize::from(template.remembers_verdicts() && template.uses_inventory());
    }
    assert!(checked > 2000, "{checked} judgements checked");
    assert!(remembered_templates >= 20, "{remembered_templates} templates remember verdicts");
    eprintln!("{checked} judgements checked; {remembered_templates} templates remember verdicts, {remembered_with_inventory} of them with an inventory");
    assert!(remembered_with_inventory >= 1, "no inventory template remembers verdicts");
}

#[test]
fn verdicts_remembered_with_one_inventory_are_not_given_with_another() {
    let directory = library().join("general/uniqueingresshost");
    let template = Arc::new(Template::parse(&objects_of(&directory.join("template.yaml"))[0]).unwrap());
    assert!(template.remembers_verdicts());
    let samples = directory.join("samples/unique-ingress-host");
    let constraint = Constraint::parse(&objects_of(&samples.join("constraint.yaml"))[0], template.clone()).unwrap();
    let subject = objects_of(&samples.join("example_disallowed.yaml"))[0].root.to_json();
    let clashing: Vec<Value> = objects_of(&samples.join("example_inventory_disallowed.yaml")).iter().map(|object| object.root.to_json()).collect();
    let request = review::of_object(&subject);
    let labels = Labels::new();
    let field = |pointer: &str| subject.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let target = Target { group: api_group(field("/apiVersion")), kind: field("/kind"), name: field("/metadata/name"), generate_name: "", namespace: None, labels: &labels };
    let with_clash = template.evaluator(Some(&review::inventory(&clashing))).unwrap();
    let alone = template.evaluator(Some(&review::inventory(std::slice::from_ref(&subject)))).unwrap();
    let judge = |evaluator| constraint.judge(&Review::new(&request), &target, Some(evaluator)).unwrap().len();
    assert_eq!((judge(&with_clash), judge(&alone), judge(&with_clash)), (1, 0, 1));
}

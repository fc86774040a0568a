//! Comparing Palisade's `--json` document with kube-bench's: check by check, then the rest of
//! the document, then byte for byte.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What comparing one pair of documents found.
pub struct Comparison {
    /// Checks in kube-bench's document.
    pub checks: usize,
    /// One line per difference: `<fixture> <check id> <field>: palisade=… kube-bench=…`.
    pub disagreements: Vec<String>,
}

/// Every check of a `--json` document, by section and check id, with its fields.
fn checks(document: &Value) -> BTreeMap<(String, String), &serde_json::Map<String, Value>> {
    let mut checks = BTreeMap::new();
    for section in sections(document) {
        let section_id = section["id"].as_str().unwrap_or_default().to_owned();
        for group in section["tests"].as_array().into_iter().flatten() {
            for check in group["results"].as_array().into_iter().flatten() {
                let id = check["test_number"].as_str().unwrap_or_default().to_owned();
                let fields = check.as_object().expect("a check is an object");
                let previous = checks.insert((section_id.clone(), id.clone()), fields);
                assert!(
                    previous.is_none(),
                    "check {id} twice in section {section_id}"
                );
            }
        }
    }
    checks
}

/// The sections of a document with totals (`{"Controls":[…]}`) or without (`[…]`).
pub fn sections(document: &Value) -> impl Iterator<Item = &Value> {
    document
        .get("Controls")
        .unwrap_or(document)
        .as_array()
        .into_iter()
        .flatten()
}

/// The document with each check replaced by its id: sections, groups, counts and totals.
fn frame(document: &Value) -> Value {
    let mut frame = document.clone();
    let sections = match frame.get_mut("Controls") {
        Some(controls) => controls,
        None => &mut frame,
    };
    for section in sections.as_array_mut().into_iter().flatten() {
        for group in section["tests"].as_array_mut().into_iter().flatten() {
            let ids = group["results"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|check| check["test_number"].clone())
                .collect();
            group["results"] = Value::Array(ids);
        }
    }
    frame
}

/// Compares Palisade's document (`ours`) with kube-bench's (`theirs`): every field of every
/// check, then everything around the checks.
pub fn compare(name: &str, ours: &str, theirs: &str) -> Comparison {
    let ours: Value = serde_json::from_str(ours).expect("Palisade's JSON parses");
    let theirs: Value = serde_json::from_str(theirs).expect("kube-bench's JSON parses");
    let (our_checks, their_checks) = (checks(&ours), checks(&theirs));
    let mut found = Vec::new();
    for (key, theirs) in &their_checks {
        let Some(ours) = our_checks.get(key) else {
            found.push(format!("{name} {}: missing in Palisade's output", key.1));
            continue;
        };
        let fields: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
        for field in fields {
            if ours.get(field) != theirs.get(field) {
                found.push(format!(
                    "{name} {} {field}: palisade={} kube-bench={}",
                    key.1,
                    shown(ours.get(field)),
                    shown(theirs.get(field))
                ));
            }
        }
    }
    for key in our_checks
        .keys()
        .filter(|key| !their_checks.contains_key(key))
    {
        found.push(format!("{name} {}: only in Palisade's output", key.1));
    }
    differences(name, &frame(&ours), &frame(&theirs), &mut found);
    Comparison {
        checks: their_checks.len(),
        disagreements: found,
    }
}

/// Leaf differences between two JSON values, each with its path.
fn differences(path: &str, ours: &Value, theirs: &Value, found: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let (a, b) = (a.get(key), b.get(key));
                match (a, b) {
                    (Some(a), Some(b)) => differences(&format!("{path}.{key}"), a, b, found),
                    _ => found.push(format!(
                        "{path}.{key}: palisade={} kube-bench={}",
                        shown(a),
                        shown(b)
                    )),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                found.push(format!(
                    "{path}: {} items in Palisade's, {} in kube-bench's",
                    a.len(),
                    b.len()
                ));
            }
            for (index, (a, b)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{index}]"), a, b, found);
            }
        }
        _ if ours != theirs => found.push(format!(
            "{path}: palisade={} kube-bench={}",
            shown(Some(ours)),
            shown(Some(theirs))
        )),
        _ => {}
    }
}

fn shown(value: Option<&Value>) -> String {
    let text = value.map_or("(absent)".to_owned(), Value::to_string);
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    }
}

/// Where two documents first differ, with the bytes around it on each side.
pub fn first_byte_difference(ours: &str, theirs: &str) -> Option<String> {
    let at = ours
        .bytes()
        .zip(theirs.bytes())
        .position(|(a, b)| a != b)
        .or_else(|| (ours.len() != theirs.len()).then(|| ours.len().min(theirs.len())))?;
    let context = |text: &str| {
        let bytes =
            &text.as_bytes()[at.saturating_sub(60).min(text.len())..(at + 60).min(text.len())];
        format!("{:?}", String::from_utf8_lossy(bytes))
    };
    Some(format!(
        "first difference at byte {at}:\n  palisade:   {}\n  kube-bench: {}",
        context(ours),
        context(theirs)
    ))
}

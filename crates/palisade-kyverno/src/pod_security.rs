//! `validate.podSecurity` rules on Palisade's Pod Security Standards engine (the exact checks of
//! pod-security-admission, per version), with Kyverno's exclusions (`pkg/pss/evaluate.go`) over
//! the field errors of Kyverno's pod-security-admission fork, rebuilt from the violations'
//! pointers (`spec.containers[2].securityContext.privileged`, one capabilities error per container):
//! - the pod is read as Kyverno decodes it into a `corev1.Pod`: null fields are unset;
//! - without `images`, an exclusion is judged on a copy of the pod whose only container is a bare
//!   one; each of its errors for the control removes one error of the pod with the same field,
//!   indexes as `*` (so a bare container's missing `runAsNonRoot` exempts one container only);
//! - with `images`, it is judged on a pod holding only the containers whose image matches; each
//!   error removes one error of the same field in a container of the same name;
//! - `restrictedField` narrows an exclusion to one field, `values` to errors whose bad values
//!   (the field's value, a hostPath volume's path, a list's items) all match a pattern.
//!
//! Kyverno's own table (`tests/pod_security_kyverno.rs`) agrees except where listed there.

use palisade_checks::pss::{self, PssLevel, PssSetting, PssVersion};
use palisade_core::{Node, Object, Origin, PodView};
use serde_json::{Value, json};

use crate::engine::Status;
use crate::wildcard;

/// Kyverno's control names and the pod-security-admission checks each covers.
const CONTROLS: &[(&str, &[&str])] = &[
    ("Capabilities", &["capabilities_baseline", "capabilities_restricted"]),
    ("Seccomp", &["seccompProfile_baseline", "seccompProfile_restricted"]),
    ("Privileged Containers", &["privileged"]),
    ("Host Ports", &["hostPorts"]),
    // Kyverno's PSA fork has no procMount_restricted: its procMount check is the one that reports
    // under restricted too, where Palisade's engine reports procMount_restricted from v1.35 on.
    ("/proc Mount Type", &["procMount", "procMount_restricted"]),
    ("HostProcess", &["windowsHostProcess"]),
    ("SELinux", &["seLinuxOptions"]),
    ("Host Namespaces", &["hostNamespaces"]),
    ("HostPath Volumes", &["hostPathVolumes"]),
    ("Sysctls", &["sysctls"]),
    ("AppArmor", &["appArmorProfile"]),
    ("Privilege Escalation", &["allowPrivilegeEscalation"]),
    ("Running as Non-root", &["runAsNonRoot"]),
    ("Running as Non-root user", &["runAsUser"]),
    ("Volume Types", &["restrictedVolumes"]),
    ("Host Probes / Lifecycle Hooks", &["hostProbesAndHostLifecycle"]),
];

/// A violation: the check that found it, where (JSON pointer) and why.
struct Found {
    check: String,
    /// The field as the fork writes it, indexes included.
    field: String,
    /// The bad values Kyverno matches `values` against.
    values: Vec<String>,
    message: String,
}

pub fn evaluate(rule_name: &str, validate: &Value, resource: &Value) -> (Status, String) {
    let settings = validate.get("podSecurity").unwrap_or(&Value::Null);
    let level = settings.get("level").and_then(Value::as_str).unwrap_or("baseline");
    let version = settings.get("version").and_then(Value::as_str).unwrap_or("latest");
    let setting = match (level.parse::<PssLevel>(), version.parse::<PssVersion>()) {
        (Ok(level), Ok(version)) => PssSetting::new(level, version),
        (Err(error), _) | (_, Err(error)) => return (Status::Error, format!("invalid podSecurity: {error}")),
    };
    let excludes = settings.get("exclude").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    // Kyverno decodes the pod into corev1.Pod: a JSON null is an unset field.
    let resource = &without_nulls(resource);
    let Some(spec_pointer) = spec_pointer(resource) else { return (Status::Pass, format!("Validation rule '{rule_name}' passed.")) };
    let Some(mut found) = violations(resource, setting, &spec_pointer) else { return (Status::Pass, format!("Validation rule '{rule_name}' passed.")) };
    for exclude in excludes {
        exempt(&mut found, exclude, resource, &spec_pointer, setting);
    }
    if found.is_empty() {
        return (Status::Pass, format!("Validation rule '{rule_name}' passed."));
    }
    let reasons: Vec<String> = found.iter().map(|violation| format!("{} ({})", violation.message, violation.check)).collect();
    (Status::Fail, format!("Validation rule '{rule_name}' failed. It violates PodSecurity \"{level}:{version}\": {}", reasons.join("; ")))
}

/// A copy of `value` without the object members that are null.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(members.iter().filter(|(_, member)| !member.is_null()).map(|(key, member)| (key.clone(), without_nulls(member))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The violations of the pod (or pod template) in `resource` as the field errors of Kyverno's
/// pod-security-admission fork; `None` when it holds no pod.
fn violations(resource: &Value, setting: PssSetting, spec_pointer: &str) -> Option<Vec<Found>> {
    let object = as_object(resource);
    let pod = PodView::of(&object)?;
    let mut errors: Vec<Found> = Vec::new();
    for found in pss::evaluate(&pod, setting) {
        let check = found.rule.id.trim_start_matches("pss/").to_owned();
        let (field, grouped) = psa_field(&found.violation.pointer, spec_pointer);
        let values = match check.as_str() {
            // The fork lists a hostPath volume's path, and no value for a restricted volume type.
            "hostPathVolumes" => bad_values(resource.pointer(&format!("{}/path", found.violation.pointer))),
            "restrictedVolumes" => Vec::new(),
            // A container with a securityContext that leaves allowPrivilegeEscalation unset: "nil".
            "allowPrivilegeEscalation" if resource.pointer(&found.violation.pointer).is_none() && found.violation.pointer.rsplit_once('/').is_some_and(|(context, _)| resource.pointer(context).is_some()) => vec!["nil".to_owned()],
            _ => bad_values(resource.pointer(&found.violation.pointer)),
        };
        // The fork reports one error per container for capabilities, listing every forbidden one.
        if grouped && let Some(previous) = errors.iter_mut().find(|error| error.check == check && error.field == field) {
            previous.values.extend(values);
            continue;
        }
        errors.push(Found { check, field, values, message: found.violation.message });
    }
    implicit_errors(&mut errors, resource.pointer(spec_pointer).unwrap_or(&Value::Null));
    Some(errors)
}

/// The fork lists the containers that leave `runAsNonRoot` or `seccompProfile` unset without an
/// accepted pod-level value even when others set a forbidden one, where PSA's (and Palisade's)
/// judgement reports them only when none does: those errors are added here, for a check that
/// found the pod in violation.
fn implicit_errors(errors: &mut Vec<Found>, spec: &Value) {
    let pod_context = spec.get("securityContext");
    let seccomp_valid = |profile: Option<&Value>| profile.and_then(|profile| profile.get("type")).and_then(Value::as_str).is_some_and(|kind| kind == "RuntimeDefault" || kind == "Localhost");
    let fields: [(&str, &[&str], bool); 2] = [
        ("runAsNonRoot", &["runAsNonRoot"], pod_context.and_then(|context| context.get("runAsNonRoot")).and_then(Value::as_bool) == Some(true)),
        ("seccompProfile_restricted", &["seccompProfile", "type"], seccomp_valid(pod_context.and_then(|context| context.get("seccompProfile")))),
    ];
    for (check, path, pod_accepts) in fields {
        if pod_accepts || !errors.iter().any(|error| error.check == check) {
            continue;
        }
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for (index, container) in spec.get(list).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
                if container.get("securityContext").and_then(|context| context.get(path[0])).is_some() {
                    continue;
                }
                let field = format!("spec.{list}[{index}].securityContext.{}", path.join("."));
                if !errors.iter().any(|error| error.check == check && error.field == field) {
                    let message = format!("{check}: container {:?} leaves securityContext.{} unset", container.get("name").and_then(Value::as_str).unwrap_or_default(), path.join("."));
                    errors.push(Found { check: check.to_owned(), field, values: Vec::new(), message });
                }
            }
        }
    }
}

/// The bad values Kyverno's `extractBadValues` reads from a field: a scalar, or the strings of a
/// list (an empty string is none).
fn bad_values(value: Option<&Value>) -> Vec<String> {
    let scalar = |value: &Value| match value {
        Value::String(text) if text.is_empty() => None,
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
        Some(value) => scalar(value).into_iter().collect(),
        None => Vec::new(),
    }
}

fn exempt(found: &mut Vec<Found>, exclude: &Value, resource: &Value, spec_pointer: &str, setting: PssSetting) {
    let control = exclude.get("controlName").and_then(Value::as_str).unwrap_or_default();
    let Some((_, checks)) = CONTROLS.iter().find(|(name, _)| *name == control) else { return };
    let restricted_field = exclude.get("restrictedField").and_then(Value::as_str).unwrap_or_default();
    let patterns = |key: &str| -> Vec<&str> { exclude.get(key).and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default() };
    let images = patterns("images");
    let values = patterns("values");
    let container_level = !images.is_empty();
    let (document, document_spec) = if container_level {
        // As GetPodWithMatchingContainers: a pod of the name and namespace with only the matching containers.
        let Some(spec) = resource.pointer(spec_pointer) else { return };
        let mut matching = serde_json::Map::new();
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            let kept: Vec<Value> = spec.get(list).and_then(Value::as_array).map(|containers| containers.iter().filter(|container| images.iter().any(|pattern| wildcard::matches(pattern, container.get("image").and_then(Value::as_str).unwrap_or_default()))).cloned().collect()).unwrap_or_default();
            if !kept.is_empty() {
                matching.insert(list.to_owned(), Value::Array(kept));
            }
        }
        let metadata = resource.get("metadata").cloned().unwrap_or_default();
        let meta = json!({"name": metadata.get("name"), "namespace": metadata.get("namespace")});
        (without_nulls(&json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": matching})), "/spec".to_owned())
    } else {
        let mut bare = resource.clone();
        if let Some(spec) = bare.pointer_mut(spec_pointer).and_then(Value::as_object_mut) {
            spec.insert("containers".to_owned(), json!([{"name": "fake"}]));
            spec.remove("initContainers");
            spec.remove("ephemeralContainers");
        }
        (bare, spec_pointer.to_owned())
    };
    let Some(excluded) = violations(&document, setting, &document_spec) else { return };
    for error in excluded.iter().filter(|error| checks.contains(&error.check.as_str())) {
        let (field, container) = kyverno_field(&error.field, container_level, &document, &document_spec);
        if !(restricted_field.is_empty() || field == restricted_field) {
            continue;
        }
        if !values.is_empty() && !error.values.iter().all(|value| values.iter().any(|pattern| wildcard::matches(pattern, value))) {
            continue;
        }
        // Kyverno removes one default error per excluded one: the first of the same check and
        // field (and, for a container field under `images`, of a container of the same name).
        let position = found.iter().position(|default| {
            if default.check != error.check {
                return false;
            }
            let (default_field, default_container) = kyverno_field(&default.field, container_level, resource, spec_pointer);
            match default_container {
                Some(name) => default_field == field && container.clone().unwrap_or_default() == name,
                None => default_field == field,
            }
        });
        if let Some(position) = position {
            found.remove(position);
        }
    }
}

/// A field error's field as Kyverno compares it: indexes (every run of digits) as `*`; under
/// `images`, with the name of the container it is in when it is in one (`parseField`).
fn kyverno_field(field: &str, container_level: bool, document: &Value, spec_pointer: &str) -> (String, Option<String>) {
    let starred = digits().replace_all(field, "*").into_owned();
    if !container_level {
        return (starred, None);
    }
    let words: Vec<&str> = field.split(|c: char| !c.is_ascii_alphabetic()).filter(|word| !word.is_empty()).collect();
    let list = words.get(1).copied().unwrap_or_default();
    if !matches!(list, "containers" | "initContainers" | "ephemeralContainers") {
        return (starred, None);
    }
    let index = digits().find(field).map(|found| found.as_str().to_owned()).unwrap_or_default();
    let name = document.pointer(&format!("{spec_pointer}/{list}/{index}/name")).and_then(Value::as_str).unwrap_or_default();
    (starred, Some(name.to_owned()))
}

fn digits() -> &'static regex::Regex {
    static DIGITS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    DIGITS.get_or_init(|| regex::Regex::new(r"\d+").expect("valid regex"))
}

fn as_object(resource: &Value) -> Object {
    Object::new(Node::from_json(resource), Origin { file: "kyverno-request".into(), document: 0, item: None })
}

/// Where the pod spec sits in the object: `/spec` for a Pod, under the template for controllers.
fn spec_pointer(resource: &Value) -> Option<String> {
    let object = as_object(resource);
    PodView::of(&object).map(|pod| pod.spec_pointer.to_owned())
}

/// A violation's pointer as the fork's field path (`spec.containers[2].securityContext.privileged`,
/// `metadata.annotations[key]`), and whether the fork folds it into one error per container
/// (capabilities, whose list index it drops).
fn psa_field(pointer: &str, spec_pointer: &str) -> (String, bool) {
    let (mut field, relative) = match pointer.strip_prefix(spec_pointer) {
        Some(relative) => (String::from("spec"), relative.to_owned()),
        None => {
            let metadata = format!("{}/metadata", spec_pointer.strip_suffix("/spec").unwrap_or_default());
            (String::from("metadata"), pointer.strip_prefix(&metadata).unwrap_or(pointer).to_owned())
        }
    };
    let parts: Vec<String> = relative.split('/').filter(|part| !part.is_empty()).map(|part| part.replace("~1", "/").replace("~0", "~")).collect();
    let grouped = parts.len() >= 2 && parts[parts.len() - 2] == "add" || parts.len() >= 2 && parts[parts.len() - 2] == "drop";
    let kept = if grouped { &parts[..parts.len() - 1] } else { &parts[..] };
    for (index, part) in kept.iter().enumerate() {
        let key_of_map = index > 0 && kept[index - 1] == "annotations";
        if key_of_map || part.parse::<usize>().is_ok() {
            field.push_str(&format!("[{part}]"));
        } else {
            field.push('.');
            field.push_str(part);
        }
    }
    (field, grouped)
}

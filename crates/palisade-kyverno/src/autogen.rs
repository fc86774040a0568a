//! Autogen: the rules Kyverno derives from a Pod rule for the controllers that create pods,
//! named `autogen-<rule>` (Deployment, DaemonSet, Job, StatefulSet, ReplicaSet,
//! ReplicationController: the pattern moves under `spec.template`) and `autogen-cronjob-<rule>`
//! (under `spec.jobTemplate.spec.template`), and the JMESPath paths in them shifted the same way.
//! The policy annotation `pod-policies.kyverno.io/autogen-controllers` narrows the controllers or
//! turns autogen off (`none`).

use serde_json::{Map, Value, json};

use crate::matching::kind_of_selector;

pub const CONTROLLERS_ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

/// The pod controllers autogen covers, besides CronJob.
const CONTROLLERS: [&str; 6] = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"];

/// Which controllers get rules: `None` when autogen does not apply to the policy.
pub fn controllers(rules: &[Value], annotation: Option<&str>) -> Option<Vec<String>> {
    if !can_autogen(rules) {
        return None;
    }
    match annotation {
        None => Some(CONTROLLERS.iter().copied().chain(["CronJob"]).map(str::to_owned).collect()),
        Some(list) => {
            let chosen: Vec<String> = list.split(',').map(str::trim).filter(|kind| !kind.is_empty() && *kind != "none").map(str::to_owned).collect();
            (!chosen.is_empty()).then_some(chosen)
        }
    }
}

/// Kyverno's `CanAutoGen`: no generate rule or JSON6902 mutation, no resource filter naming
/// objects, selecting them or mixing Pod with other kinds, and some filter on Pod or a controller.
fn can_autogen(rules: &[Value]) -> bool {
    let mut needed = false;
    for rule in rules {
        if rule.get("generate").is_some() || rule.pointer("/mutate/patchesJson6902").is_some() {
            return false;
        }
        if rule.pointer("/mutate/foreach").and_then(Value::as_array).is_some_and(|each| each.iter().any(|entry| entry.get("patchesJson6902").is_some())) {
            return false;
        }
        for block in ["match", "exclude"].iter().filter_map(|key| rule.get(*key)) {
            for description in resource_descriptions(block) {
                let kinds: Vec<&str> = description.get("kinds").and_then(Value::as_array).map(|kinds| kinds.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                let names_objects = ["name", "names", "selector", "annotations"].iter().any(|key| description.get(*key).is_some_and(|value| !is_empty(value)));
                let has_pod = kinds.iter().any(|kind| kind_of_selector(kind) == "Pod");
                if names_objects || (kinds.len() > 1 && has_pod) {
                    return false;
                }
                needed |= kinds.iter().any(|kind| {
                    let kind = kind_of_selector(kind);
                    kind == "Pod" || kind == "CronJob" || CONTROLLERS.contains(&kind)
                });
            }
        }
    }
    needed
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// The `resources` blocks of a match/exclude: the single one and those under `any`/`all`.
fn resource_descriptions(block: &Value) -> Vec<&Value> {
    let mut found: Vec<&Value> = block.get("resources").into_iter().collect();
    for key in ["any", "all"] {
        for filter in block.get(key).and_then(Value::as_array).into_iter().flatten() {
            found.extend(filter.get("resources"));
        }
    }
    found
}

/// The rules Kyverno generates from `rule` for `controllers`, in its order: the controllers rule,
/// then the CronJob rule.
pub fn generate(rule: &Value, controllers: &[String]) -> Vec<Value> {
    let others: Vec<String> = {
        let mut others: Vec<String> = controllers.iter().filter(|kind| CONTROLLERS.contains(&kind.as_str())).cloned().collect();
        others.sort();
        others
    };
    let mut generated = Vec::new();
    let for_controllers = (!others.is_empty()).then(|| for_kinds(rule, "autogen", "template", &others, KindRewrite::PodFilters)).flatten();
    if let Some(derived) = &for_controllers {
        generated.push(shift_paths(derived, PathShift::Template));
    }
    if controllers.iter().any(|kind| kind == "CronJob") {
        // Kyverno derives the CronJob rule from the controllers rule for all controllers.
        let all: Vec<String> = CONTROLLERS.iter().map(|kind| (*kind).to_owned()).collect();
        if let Some(base) = for_kinds(rule, "autogen", "template", &all, KindRewrite::PodFilters) {
            let name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some(mut cron) = for_kinds(&base, "", "jobTemplate", &["CronJob".to_owned()], KindRewrite::AllFilters) {
                cron["name"] = Value::from(rule_name("autogen-cronjob", name));
                generated.push(shift_paths(&cron, PathShift::CronJob));
            }
        }
    }
    generated
}

#[derive(Clone, Copy)]
enum KindRewrite {
    /// Only the filters that name Pod get the controller kinds.
    PodFilters,
    /// Every filter gets the kinds.
    AllFilters,
}

/// Kyverno truncates generated names to 63 characters.
fn rule_name(prefix: &str, name: &str) -> String {
    let mut full = format!("{prefix}-{name}");
    if full.len() > 63 {
        let mut end = 63;
        while !full.is_char_boundary(end) {
            end -= 1;
        }
        full.truncate(end);
    }
    full
}

fn for_kinds(rule: &Value, prefix: &str, template_key: &str, kinds: &[String], rewrite: KindRewrite) -> Option<Value> {
    let name = rule.get("name").and_then(Value::as_str).unwrap_or_default();
    if matches!(rewrite, KindRewrite::PodFilters) {
        if name.starts_with("autogen-") {
            return None;
        }
        let kinds_in = |key: &str| rule.get(key).map(|block| resource_descriptions(block).into_iter().flat_map(|description| description.get("kinds").and_then(Value::as_array).cloned().unwrap_or_default()).filter_map(|kind| kind.as_str().map(|kind| kind_of_selector(kind).to_owned())).collect::<Vec<_>>()).unwrap_or_default();
        let match_kinds = kinds_in("match");
        let exclude_kinds = kinds_in("exclude");
        if !match_kinds.iter().any(|kind| kind == "Pod") || (!exclude_kinds.is_empty() && !exclude_kinds.iter().any(|kind| kind == "Pod")) {
            return None;
        }
    }
    let mut derived = rule.clone();
    if !prefix.is_empty() {
        derived["name"] = Value::from(rule_name(prefix, name));
    }
    let qualified: Vec<Value> = kinds.iter().map(|kind| Value::from(qualified_kind(kind))).collect();
    if let Some(block) = derived.get_mut("match") {
        rewrite_kinds(block, &qualified, rewrite, true);
    }
    if let Some(block) = derived.get_mut("exclude") {
        rewrite_kinds(block, &qualified, rewrite, false);
    }
    let validate = derived.get("validate")?.as_object()?.clone();
    derived["validate"] = Value::Object(wrap_validation(&validate, template_key)?);
    Some(derived)
}

fn rewrite_kinds(block: &mut Value, kinds: &[Value], rewrite: KindRewrite, is_match: bool) {
    for key in ["any", "all"] {
        if let Some(filters) = block.get_mut(key).and_then(Value::as_array_mut).filter(|filters| !filters.is_empty()) {
            for filter in filters {
                let names_pod = filter.pointer("/resources/kinds").and_then(Value::as_array).is_some_and(|existing| existing.iter().filter_map(Value::as_str).any(|kind| kind_of_selector(kind) == "Pod"));
                if matches!(rewrite, KindRewrite::AllFilters) || names_pod {
                    if let Some(resources) = filter.get_mut("resources").and_then(Value::as_object_mut) {
                        resources.insert("kinds".to_owned(), Value::Array(kinds.to_vec()));
                    }
                }
            }
            return;
        }
    }
    let has_kinds = block.pointer("/resources/kinds").and_then(Value::as_array).is_some_and(|existing| !existing.is_empty());
    if is_match || has_kinds {
        if let Some(object) = block.as_object_mut() {
            let resources = object.entry("resources").or_insert_with(|| json!({}));
            if let Some(resources) = resources.as_object_mut() {
                resources.insert("kinds".to_owned(), Value::Array(kinds.to_vec()));
            }
        }
    }
}

/// `Deployment` → `apps/v1/Deployment`, as Kyverno's `ConvertKindsToGVK`.
fn qualified_kind(kind: &str) -> String {
    match kind {
        "DaemonSet" | "Deployment" | "StatefulSet" | "ReplicaSet" => format!("apps/v1/{kind}"),
        "Job" | "CronJob" => format!("batch/v1/{kind}"),
        "ReplicationController" | "Pod" => format!("v1/{kind}"),
        other => other.to_owned(),
    }
}

/// The validation of a generated rule: the pattern(s) moved under `spec.<template_key>`, and only
/// the fields Kyverno carries over. `None` when the rule has no validation autogen handles.
fn wrap_validation(validate: &Map<String, Value>, template_key: &str) -> Option<Map<String, Value>> {
    let wrap = |pattern: &Value| json!({"spec": {template_key: pattern}});
    let mut derived = Map::new();
    for key in ["message", "failureAction", "failureActionOverrides", "allowExistingViolations"] {
        if let Some(value) = validate.get(key) {
            derived.insert(key.to_owned(), value.clone());
        }
    }
    if let Some(pattern) = validate.get("pattern") {
        derived.insert("pattern".to_owned(), wrap(pattern));
    } else if let Some(deny) = validate.get("deny") {
        derived.insert("deny".to_owned(), deny.clone());
    } else if let Some(pod_security) = validate.get("podSecurity") {
        derived.insert("podSecurity".to_owned(), pod_security.clone());
    } else if let Some(patterns) = validate.get("anyPattern").and_then(Value::as_array) {
        derived.insert("anyPattern".to_owned(), Value::Array(patterns.iter().map(wrap).collect()));
    } else if let Some(each) = validate.get("foreach") {
        derived.insert("foreach".to_owned(), each.clone());
    } else if validate.get("cel").is_some() {
        return Some(validate.clone());
    } else {
        return None;
    }
    Some(derived)
}

#[derive(Clone, Copy)]
enum PathShift {
    Template,
    CronJob,
}

/// Kyverno rewrites the generated rule's JSON text: `request.object.spec` becomes
/// `request.object.spec.template.spec` and so on (for CEL rules, `object.spec`).
fn shift_paths(rule: &Value, shift: PathShift) -> Value {
    let cel = rule.pointer("/validate/cel").is_some();
    let inner = match shift {
        PathShift::Template => "spec.template",
        PathShift::CronJob => "spec.jobTemplate.spec.template",
    };
    let roots: &[&str] = if cel { &["object", "oldObject"] } else { &["request.object", "request.oldObject"] };
    let mut text = rule.to_string();
    for field in ["spec", "metadata"] {
        for root in roots {
            text = text.replace(&format!("{root}.{field}"), &format!("{root}.{inner}.{field}"));
        }
    }
    serde_json::from_str(&text).unwrap_or_else(|_| rule.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_rule() -> Value {
        json!({
            "name": "require-requests",
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"message": "CPU requests for {{request.object.metadata.name}}", "failureAction": "Enforce",
                "pattern": {"spec": {"containers": [{"resources": {"requests": {"cpu": "?*"}}}]}}}
        })
    }

    #[test]
    fn controllers_and_cronjob_rules() {
        let rules = [pod_rule()];
        let controllers = controllers(&rules, None).expect("autogen applies");
        let generated = generate(&rules[0], &controllers);
        assert_eq!(generated.len(), 2);
        let (workloads, cron) = (&generated[0], &generated[1]);
        assert_eq!(workloads["name"], "autogen-require-requests");
        assert_eq!(workloads["match"]["any"][0]["resources"]["kinds"], json!(["apps/v1/DaemonSet", "apps/v1/Deployment", "batch/v1/Job", "apps/v1/ReplicaSet", "v1/ReplicationController", "apps/v1/StatefulSet"]));
        assert_eq!(workloads["validate"]["pattern"], json!({"spec": {"template": {"spec": {"containers": [{"resources": {"requests": {"cpu": "?*"}}}]}}}}));
        assert_eq!(workloads["validate"]["message"], "CPU requests for {{request.object.spec.template.metadata.name}}");
        assert_eq!(workloads["validate"]["failureAction"], "Enforce");
        assert_eq!(cron["name"], "autogen-cronjob-require-requests");
        assert_eq!(cron["match"]["any"][0]["resources"]["kinds"], json!(["batch/v1/CronJob"]));
        assert_eq!(cron["validate"]["pattern"], json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"resources": {"requests": {"cpu": "?*"}}}]}}}}}}));
        assert_eq!(cron["validate"]["message"], "CPU requests for {{request.object.spec.jobTemplate.spec.template.metadata.name}}");
    }

    #[test]
    fn when_autogen_does_not_apply() {
        let mut named = pod_rule();
        named["match"]["any"][0]["resources"]["names"] = json!(["web"]);
        assert_eq!(controllers(&[named], None), None);
        let mut mixed = pod_rule();
        mixed["match"]["any"][0]["resources"]["kinds"] = json!(["Pod", "Service"]);
        assert_eq!(controllers(&[mixed], None), None);
        let services = json!({"name": "s", "match": {"resources": {"kinds": ["Service"]}}, "validate": {"pattern": {}}});
        assert_eq!(controllers(&[services], None), None);
        assert_eq!(controllers(&[pod_rule()], Some("none")), None);
        assert_eq!(controllers(&[pod_rule()], Some("Deployment,StatefulSet")), Some(vec!["Deployment".to_owned(), "StatefulSet".to_owned()]));
        assert_eq!(generate(&pod_rule(), &["Deployment".to_owned()]).len(), 1);
    }

    #[test]
    fn long_names_are_cut_at_63() {
        let name = "x".repeat(70);
        assert_eq!(rule_name("autogen-cronjob", &name).len(), 63);
    }
}

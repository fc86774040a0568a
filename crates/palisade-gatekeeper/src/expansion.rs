//! ExpansionTemplates (`expansion.gatekeeper.sh`): a workload such as a Deployment is expanded
//! into the resource it generates (a Pod from `spec.template`), the constraints judge that
//! resource too, and its violations are the workload's, their messages prefixed
//! `[Implied by <template>]`, as Gatekeeper and gator do (`pkg/expansion`). So a Pod constraint
//! catches a Deployment in a manifest scan, before the Pods exist.

use palisade_core::{Node, Object};
use serde_json::{Map, Value};

pub const GROUP: &str = "expansion.gatekeeper.sh";

/// Gatekeeper stops expanding the resources of resources at this depth, with an error.
const MAX_DEPTH: usize = 30;

/// Whether `object` is an ExpansionTemplate.
pub fn is_expansion_template(object: &Object) -> bool {
    object.group() == GROUP && object.kind() == "ExpansionTemplate"
}

/// A loaded ExpansionTemplate.
#[derive(Clone, Debug)]
pub struct ExpansionTemplate {
    pub name: String,
    apply_to: Vec<ApplyTo>,
    /// `spec.templateSource`, split at dots.
    source: Vec<String>,
    /// The generated resource's group, version and kind.
    generated: Gvk,
    /// `spec.enforcementAction`: replaces the constraints' own for the generated resource.
    pub enforcement_action: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Gvk {
    group: String,
    version: String,
    kind: String,
}

/// One `applyTo` entry: exact groups, versions and kinds (no wildcards, as Gatekeeper).
#[derive(Clone, Debug)]
struct ApplyTo {
    groups: Vec<String>,
    versions: Vec<String>,
    kinds: Vec<String>,
}

impl ApplyTo {
    fn matches(&self, gvk: &Gvk) -> bool {
        self.groups.contains(&gvk.group) && self.versions.contains(&gvk.version) && self.kinds.contains(&gvk.kind)
    }
}

/// A resource an expansion generated, with the template that generated it.
#[derive(Clone, Debug)]
pub struct Resultant {
    pub template: String,
    pub enforcement_action: Option<String>,
    pub object: Value,
    /// Where in the expanded object the resource comes from (a JSON pointer such as
    /// `/spec/jobTemplate/spec/template`), so findings point at it.
    pub pointer: String,
}

impl Resultant {
    /// A violation message as the workload reports it.
    pub fn message(&self, message: &str) -> String {
        format!("[Implied by {}] {message}", self.template)
    }
}

impl ExpansionTemplate {
    /// Reads an ExpansionTemplate, with the checks Gatekeeper makes before accepting one.
    /// Errors name the problem; the caller adds the file and line.
    pub fn parse(object: &Object) -> Result<ExpansionTemplate, String> {
        let name = object.name().to_owned();
        if name.is_empty() {
            return Err("ExpansionTemplate has no name".into());
        }
        if name.len() >= 64 {
            return Err(format!("ExpansionTemplate {name}: the name must be shorter than 64 characters"));
        }
        let spec = object.root.get("spec");
        let field = |key: &str| spec.and_then(|spec| spec.get(key));
        let strings = |node: Option<&Node>| node.map(Node::as_seq).unwrap_or_default().iter().filter_map(Node::as_str).map(str::to_owned).collect::<Vec<_>>();
        let source = field("templateSource").and_then(Node::as_str).unwrap_or("");
        if source.is_empty() {
            return Err(format!("ExpansionTemplate {name}: `spec.templateSource` is empty"));
        }
        let generated = field("generatedGVK");
        let text = |key: &str| generated.and_then(|gvk| gvk.get(key)).and_then(Node::as_str).unwrap_or("").to_owned();
        let generated = Gvk { group: text("group"), version: text("version"), kind: text("kind") };
        if generated.group.is_empty() && generated.version.is_empty() && generated.kind.is_empty() {
            return Err(format!("ExpansionTemplate {name}: `spec.generatedGVK` is empty"));
        }
        let apply_to: Vec<ApplyTo> = field("applyTo")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .map(|entry| ApplyTo { groups: strings(entry.get("groups")), versions: strings(entry.get("versions")), kinds: strings(entry.get("kinds")) })
            .collect();
        if apply_to.is_empty() {
            return Err(format!("ExpansionTemplate {name}: `spec.applyTo` is empty"));
        }
        if apply_to.iter().any(|entry| entry.matches(&generated)) {
            return Err(format!("ExpansionTemplate {name}: it generates {} but also applies to it", generated.kind));
        }
        let enforcement_action = field("enforcementAction").and_then(Node::as_str).filter(|action| !action.is_empty()).map(str::to_owned);
        Ok(ExpansionTemplate { name, apply_to, source: source.split('.').map(str::to_owned).collect(), generated, enforcement_action })
    }

    fn applies_to(&self, gvk: &Gvk) -> bool {
        self.apply_to.iter().any(|entry| entry.matches(gvk))
    }

    /// The resource this template generates from `object` (which it applies to).
    fn expand(&self, object: &Value) -> Result<Value, String> {
        let parent_name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let mut source = object;
        for key in &self.source {
            source = source.get(key).ok_or_else(|| format!("could not find source field \"{}\" in resource {parent_name}", self.source.join(".")))?;
        }
        let Value::Object(fields) = source else {
            return Err(format!("the source field \"{}\" of resource {parent_name} is not an object", self.source.join(".")));
        };
        let mut resource = fields.clone();
        let api_version = if self.generated.group.is_empty() { self.generated.version.clone() } else { format!("{}/{}", self.generated.group, self.generated.version) };
        resource.insert("apiVersion".into(), Value::from(api_version));
        resource.insert("kind".into(), Value::from(self.generated.kind.clone()));
        let metadata = resource.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        let Value::Object(metadata) = metadata else { unreachable!("made an object above") };
        match object.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(namespace) => metadata.insert("namespace".into(), Value::from(namespace)),
            None => metadata.remove("namespace"),
        };
        let mock_name = if self.generated.kind.is_empty() { parent_name.to_owned() } else { format!("{parent_name}-{}", self.generated.kind) };
        metadata.insert("name".into(), Value::from(mock_name.to_lowercase()));
        let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
        let owner = serde_json::json!({"apiVersion": text("apiVersion"), "kind": text("kind"), "name": parent_name});
        if !text("apiVersion").is_empty() && !text("kind").is_empty() && !parent_name.is_empty() {
            let references = metadata.entry("ownerReferences").or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(references) = references
                && !references.iter().any(|reference| ["apiVersion", "kind", "name"].iter().all(|key| reference.get(key) == owner.get(key)))
            {
                references.push(owner);
            }
        }
        Ok(Value::Object(resource))
    }
}

fn gvk_of(object: &Value) -> Gvk {
    let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
    let (group, version) = text("apiVersion").split_once('/').unwrap_or(("", text("apiVersion")));
    Gvk { group: group.to_owned(), version: version.to_owned(), kind: text("kind").to_owned() }
}

/// Every resource `templates` generate from `object`, and from what they generate, in
/// Gatekeeper's order (a resource's own resultants before it).
pub fn expand(templates: &[ExpansionTemplate], object: &Value) -> Result<Vec<Resultant>, String> {
    let mut resultants = Vec::new();
    expand_into(templates, object, "", 0, &mut resultants)?;
    Ok(resultants)
}

fn expand_into(templates: &[ExpansionTemplate], object: &Value, pointer: &str, depth: usize, resultants: &mut Vec<Resultant>) -> Result<(), String> {
    if depth >= MAX_DEPTH {
        return Err(format!("maximum recursion depth of {MAX_DEPTH} reached"));
    }
    let gvk = gvk_of(object);
    let generated = templates
        .iter()
        .filter(|template| template.applies_to(&gvk))
        .map(|template| {
            let pointer = template.source.iter().fold(pointer.to_owned(), |pointer, key| format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")));
            Ok(Resultant { template: template.name.clone(), enforcement_action: template.enforcement_action.clone(), object: template.expand(object)?, pointer })
        })
        .collect::<Result<Vec<_>, String>>()?;
    for resultant in &generated {
        expand_into(templates, &resultant.object, &resultant.pointer, depth + 1, resultants)?;
    }
    resultants.extend(generated);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> Result<ExpansionTemplate, String> {
        ExpansionTemplate::parse(&palisade_load::load_str(text, "expansion.yaml").objects[0])
    }

    const DEPLOYMENTS: &str = "apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: {name: expand-deployments}
spec:
  applyTo:
  - {groups: [apps], kinds: [Deployment, StatefulSet], versions: [v1]}
  templateSource: spec.template
  generatedGVK: {kind: Pod, group: '', version: v1}
";

    #[test]
    fn a_deployment_generates_its_pod_named_owned_and_namespaced_as_gatekeeper_makes_it() {
        let deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Web", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
        let resultants = expand(&[template(DEPLOYMENTS).unwrap()], &deployment).unwrap();
        assert_eq!(resultants.len(), 1);
        assert_eq!(resultants[0].template, "expand-deployments");
        assert_eq!(
            resultants[0].object,
            serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"labels": {"app": "web"}, "name": "web-pod", "namespace": "shop", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "Web"}]},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        );
        assert_eq!(resultants[0].message("privileged"), "[Implied by expand-deployments] privileged");
        // Other kinds and versions are not expanded.
        let other = serde_json::json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": {"template": {}}});
        assert!(expand(&[template(DEPLOYMENTS).unwrap()], &other).unwrap().is_empty());
    }

    #[test]
    fn expansion_recurses_from_cronjobs_to_jobs_to_pods() {
        let cronjobs = "apiVersion: expansion.gatekeeper.sh/v1alpha1
kind: ExpansionTemplate
metadata: {name: expand-cronjobs}
spec:
  applyTo: [{groups: [batch], kinds: [CronJob], versions: [v1]}]
  templateSource: spec.jobTemplate
  generatedGVK: {kind: Job, group: batch, version: v1}
  enforcementAction: warn
";
        let jobs = "apiVersion: expansion.gatekeeper.sh/v1alpha1
kind: ExpansionTemplate
metadata: {name: expand-jobs}
spec:
  applyTo: [{groups: [batch], kinds: [Job], versions: [v1]}]
  templateSource: spec.template
  generatedGVK: {kind: Pod, group: '', version: v1}
";
        let templates = [template(cronjobs).unwrap(), template(jobs).unwrap()];
        let cronjob = serde_json::json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}});
        let resultants = expand(&templates, &cronjob).unwrap();
        let names: Vec<_> = resultants.iter().map(|resultant| (resultant.template.as_str(), resultant.object["metadata"]["name"].as_str().unwrap())).collect();
        assert_eq!(names, [("expand-jobs", "nightly-job-pod"), ("expand-cronjobs", "nightly-job")]);
        let pointers: Vec<_> = resultants.iter().map(|resultant| resultant.pointer.as_str()).collect();
        assert_eq!(pointers, ["/spec/jobTemplate/spec/template", "/spec/jobTemplate"]);
        assert_eq!(resultants[1].enforcement_action.as_deref(), Some("warn"));
        assert_eq!(resultants[0].object["metadata"].get("namespace"), None);
    }

    #[test]
    fn a_missing_source_is_an_error_and_templates_gatekeeper_refuses_do_not_load() {
        let deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": {}});
        let error = expand(&[template(DEPLOYMENTS).unwrap()], &deployment).unwrap_err();
        assert!(error.contains("could not find source field \"spec.template\" in resource w"), "{error}");
        assert!(template(&DEPLOYMENTS.replace("templateSource: spec.template", "templateSource: ''")).unwrap_err().contains("templateSource"));
        assert!(template(&DEPLOYMENTS.replace("kinds: [Deployment, StatefulSet]", "kinds: [Pod]").replace("groups: [apps]", "groups: ['']")).unwrap_err().contains("also applies to it"));
        assert!(template(&DEPLOYMENTS.replace("  applyTo:\n  - {groups: [apps], kinds: [Deployment, StatefulSet], versions: [v1]}\n", "")).unwrap_err().contains("applyTo"));
    }
}

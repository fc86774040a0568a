//! `cluster/pod-template-drift`: running pods whose containers or security settings differ from
//! the template of the controller that created them.

use std::collections::{BTreeMap, HashMap};

use palisade_core::{
    Candidate, Control, Finding, Framework, InventoryRule, Node, Object, PodView, RuleMeta, Severity, pod_kinds, project,
};
use serde_json::Value;

use super::{controller_of, uid};

pub static META: RuleMeta = RuleMeta {
    id: "cluster/pod-template-drift",
    title: "Live pods differ from their workload's template",
    severity: Severity::Medium,
    doc: r#"## What it does
In a live cluster scan, compares each pod managed by a controller (ReplicaSet, StatefulSet,
DaemonSet, Job, ReplicationController) with that controller's pod template: the set of
containers and init containers, their images and `securityContext`, and the pod's
`securityContext`, `hostNetwork`, `hostPID` and `hostIPC`. Differences are reported on the
workload the user manages (the Deployment above a ReplicaSet, the CronJob above a Job).

## Why is this bad?
What was reviewed is the template; what runs is the pod. A mutating admission webhook that
injects a sidecar, swaps an image or relaxes a security context, or a pod edited in place,
runs code and privileges no manifest scan saw.

## How to fix
Find the mutating webhook or the actor that changed the pods (audit log), make the change in
the template if it is wanted, otherwise remove its source and roll the workload.

## Example
```yaml
# template: containers [app]
# live pod:  containers [app, injected] -> flagged: container `injected` added
```
"#,
    remediation: "Make the change in the workload's template or remove what mutates its pods, then roll the workload.",
    controls: &[Control::new(Framework::Mitre, "T1525")],
};

pub struct PodTemplateDrift;

/// Where a pod's spec is: in the pod, or in a controller's template.
const SPECS: [&[&str]; 3] = [&["spec"], &["spec", "template", "spec"], &["spec", "jobTemplate", "spec", "template", "spec"]];

/// What [`settings`] compares, under a spec: all that is kept of each pod and controller, so a
/// cluster's pods are not held whole until the end of the scan.
const COMPARED: [&[&str]; 13] = [
    &["securityContext"],
    &["hostNetwork"],
    &["hostPID"],
    &["hostIPC"],
    &["containers", "*", "name"],
    &["containers", "*", "image"],
    &["containers", "*", "securityContext"],
    &["initContainers", "*", "name"],
    &["initContainers", "*", "image"],
    &["initContainers", "*", "securityContext"],
    &["ephemeralContainers", "*", "name"],
    &["ephemeralContainers", "*", "image"],
    &["ephemeralContainers", "*", "securityContext"],
];

/// The identity of every retained object, its uid, and its controller's (all that
/// `controller_of` reads of an owner reference).
const IDENTITY: [&[&str]; 7] = [
    &["apiVersion"],
    &["kind"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "uid"],
    &["metadata", "ownerReferences", "*", "uid"],
    &["metadata", "ownerReferences", "*", "controller"],
];

/// `object` with its identity and, under each place a pod spec can be, what is compared.
fn slim(object: &Object) -> Object {
    static PATHS: std::sync::LazyLock<Vec<Vec<&'static str>>> = std::sync::LazyLock::new(|| {
        let compared = SPECS.iter().flat_map(|spec| COMPARED.iter().map(move |field| [*spec, *field].concat()));
        IDENTITY.iter().map(|path| path.to_vec()).chain(compared).collect()
    });
    let paths: Vec<&[&str]> = PATHS.iter().map(Vec::as_slice).collect();
    project(object, &paths)
}

impl InventoryRule for PodTemplateDrift {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        vec![&META]
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        if object.is(&[""], "Pod") {
            return controller_of(object).map(|_| slim(object));
        }
        let controller = pod_kinds().any(|kind| kind == object.kind()) && uid(object).is_some();
        controller.then(|| slim(object))
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        let by_uid: HashMap<&str, usize> =
            retained.iter().enumerate().filter_map(|(index, object)| Some((uid(object)?, index))).collect();
        let owner = |object: &Object| {
            let reference = controller_of(object)?;
            by_uid.get(reference.get("uid")?.as_str()?).copied()
        };
        // Per reported workload: (drifting pods, the first pod's differences).
        let mut drift: BTreeMap<usize, (usize, String, Vec<String>)> = BTreeMap::new();
        for pod in retained.iter().filter(|object| object.is(&[""], "Pod")) {
            let Some(controller) = owner(pod) else { continue };
            let (Some(template), Some(live)) = (PodView::of(&retained[controller]), PodView::of(pod)) else { continue };
            let differences = compare(&settings(&template), &settings(&live));
            if differences.is_empty() {
                continue;
            }
            let index = owner(&retained[controller]).unwrap_or(controller);
            let entry = drift.entry(index).or_insert_with(|| (0, pod.name().to_owned(), differences));
            entry.0 += 1;
        }
        for (index, (pods, first, differences)) in drift {
            let workload = &retained[index];
            let pointer = PodView::of(workload).map_or_else(|| "/spec".to_owned(), |view| view.spec_pointer_to(&[]));
            let more = if pods > 1 { format!(" and {} more", pods - 1) } else { String::new() };
            let message = format!(
                "live pod {first}{more} differs from the template of {} {}: {}",
                workload.kind(),
                workload.name(),
                differences.join("; ")
            );
            out.push(Candidate { finding: Finding::new(&META, workload, pointer, message), gate: None });
        }
    }
}

/// What is compared, by a readable key. Values the API server writes for an unset field
/// (`{}`, `false`, null) count as unset, so defaulting is not drift.
fn settings(view: &PodView<'_>) -> BTreeMap<String, Value> {
    let mut settings = BTreeMap::new();
    let mut put = |key: String, node: Option<&Node>| {
        let value = node.map(Node::to_json).unwrap_or(Value::Null);
        let unset = matches!(&value, Value::Null | Value::Bool(false)) || value.as_object().is_some_and(|m| m.is_empty());
        if !unset {
            settings.insert(key, value);
        }
    };
    for field in ["securityContext", "hostNetwork", "hostPID", "hostIPC"] {
        put(format!("pod {field}"), view.spec_field(field));
    }
    for container in view.containers() {
        let name = format!("container `{}`", container.name());
        // Present even with no image or securityContext, so an added bare container shows.
        put(name.clone(), Some(&Node::new(palisade_core::Value::Bool(true), Default::default())));
        put(format!("{name} image"), container.get("image"));
        put(format!("{name} securityContext"), container.get("securityContext"));
    }
    settings
}

/// At most five differences, in key order, as `X added`, `X removed`, `X changed`.
fn compare(template: &BTreeMap<String, Value>, live: &BTreeMap<String, Value>) -> Vec<String> {
    let mut keys: Vec<&String> = template.keys().chain(live.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| match (template.get(key), live.get(key)) {
            (None, Some(_)) => Some(format!("{key} added")),
            (Some(_), None) => Some(format!("{key} removed")),
            (Some(a), Some(b)) if a != b => Some(format!("{key} changed")),
            _ => None,
        })
        // A whole container added or removed says it all; skip its fields.
        .fold(Vec::new(), |mut out: Vec<String>, difference| {
            let covered = out.iter().any(|done| {
                done.strip_suffix(" added").or_else(|| done.strip_suffix(" removed")).is_some_and(|c| difference.starts_with(&format!("{c} ")))
            });
            if !covered {
                out.push(difference);
            }
            out
        })
        .into_iter()
        .take(5)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::testing::run;
    use crate::workload::testing::assert_documented;

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a, uid: d1}\nspec:\n  template:\n    spec:\n      securityContext: {}\n      containers: [{name: app, image: 'app:1', securityContext: {runAsNonRoot: true}}]\n";
    const REPLICA_SET: &str = "---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: a\n  uid: r1\n  ownerReferences: [{kind: Deployment, name: web, uid: d1, controller: true}]\nspec:\n  template:\n    spec:\n      containers: [{name: app, image: 'app:1', securityContext: {runAsNonRoot: true}}]\n";

    fn pod(name: &str, containers: &str) -> String {
        format!("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: a\n  ownerReferences: [{{kind: ReplicaSet, name: web-1, uid: r1, controller: true}}]\nspec:\n  securityContext: {{}}\n  hostNetwork: false\n  containers: {containers}\n")
    }

    #[test]
    fn injected_and_changed_containers_are_reported_on_the_top_workload() {
        let same = "[{name: app, image: 'app:1', securityContext: {runAsNonRoot: true}}]";
        let injected = "[{name: app, image: 'app:2', securityContext: {runAsNonRoot: true}}, {name: proxy, image: 'p:1', securityContext: {privileged: true}}]";
        let text = format!("{DEPLOYMENT}{REPLICA_SET}{}{}{}", pod("web-1-a", same), pod("web-1-b", injected), pod("web-1-c", injected));
        let found = run(&PodTemplateDrift, &text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].object.to_string(), "Deployment/a/web");
        assert_eq!(found[0].location.path, "/spec/template/spec");
        assert_eq!(
            found[0].message,
            "live pod web-1-b and 1 more differs from the template of Deployment web: container `app` image changed; container `proxy` added"
        );
        assert_documented(&META);
    }

    #[test]
    fn only_what_is_compared_is_kept_of_pods_and_controllers() {
        let text = pod("web-1-a", "[{name: app, image: 'app:1', env: [{name: A, value: b}], resources: {limits: {cpu: 1}}}]");
        let objects = palisade_load::load_str(&text, "p.yaml").objects;
        let kept = PodTemplateDrift.retain(&objects[0]).unwrap().root.to_json();
        assert_eq!(kept["spec"], serde_json::json!({"securityContext": {}, "hostNetwork": false, "containers": [{"name": "app", "image": "app:1"}]}));
        assert_eq!(kept["metadata"]["ownerReferences"][0]["uid"], "r1");
        let deployment = palisade_load::load_str(DEPLOYMENT, "d.yaml").objects;
        let kept = PodTemplateDrift.retain(&deployment[0]).unwrap().root.to_json();
        assert_eq!(kept["spec"]["template"]["spec"]["containers"][0], serde_json::json!({"name": "app", "image": "app:1", "securityContext": {"runAsNonRoot": true}}));
        assert_eq!(kept["metadata"]["uid"], "d1");
    }

    #[test]
    fn matching_pods_and_pods_of_unlisted_owners_are_not_reported() {
        let same = "[{name: app, image: 'app:1', securityContext: {runAsNonRoot: true}}]";
        assert!(run(&PodTemplateDrift, &format!("{DEPLOYMENT}{REPLICA_SET}{}", pod("p", same))).is_empty());
        let changed = "[{name: app, image: 'evil'}]";
        assert!(run(&PodTemplateDrift, &pod("orphan", changed)).is_empty());
    }
}

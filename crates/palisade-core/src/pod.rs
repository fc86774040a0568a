//! One view of "the pod" for every kind that creates pods, so a pod rule is written once and
//! applies to Pods, every workload controller's template, CronJobs and PodTemplates alike.

use crate::object::Object;
use crate::value::{Node, pointer_under};

/// A pod's metadata and spec inside some object, with the JSON pointers that lead to them.
#[derive(Clone, Copy, Debug)]
pub struct PodView<'a> {
    pub object: &'a Object,
    /// The pod's metadata (annotations carry AppArmor profiles on older clusters).
    pub metadata: Option<&'a Node>,
    pub spec: &'a Node,
    pub metadata_pointer: &'static str,
    pub spec_pointer: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    /// The field of the pod spec that lists containers of this kind.
    pub const fn field(self) -> &'static str {
        match self {
            Self::Init => "initContainers",
            Self::Regular => "containers",
            Self::Ephemeral => "ephemeralContainers",
        }
    }

    pub const ALL: [ContainerKind; 3] = [Self::Init, Self::Regular, Self::Ephemeral];
}

#[derive(Clone, Copy, Debug)]
pub struct ContainerView<'a> {
    pub node: &'a Node,
    pub kind: ContainerKind,
    pub index: usize,
    spec_pointer: &'static str,
}

impl<'a> ContainerView<'a> {
    pub fn name(&self) -> &'a str {
        self.node.get("name").and_then(Node::as_str).unwrap_or("")
    }

    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }

    /// The container's `securityContext`, if present.
    pub fn security_context(&self) -> Option<&'a Node> {
        self.node.get("securityContext")
    }

    /// The pointer to this container, e.g. `/spec/template/spec/initContainers/0`.
    pub fn pointer(&self) -> String {
        format!("{}/{}/{}", self.spec_pointer, self.kind.field(), self.index)
    }

    /// The pointer to a field under this container: `field(&["securityContext", "privileged"])`.
    pub fn field(&self, path: &[&str]) -> String {
        pointer_under(&self.pointer(), path)
    }
}

/// Where one pod-creating kind keeps its pod template.
struct TemplateLocation {
    groups: &'static [&'static str],
    kind: &'static str,
    metadata_pointer: &'static str,
    spec_pointer: &'static str,
    /// The same paths as mapping keys, for lookups without parsing pointers.
    metadata_keys: &'static [&'static str],
    spec_keys: &'static [&'static str],
}

const fn location(
    groups: &'static [&'static str],
    kind: &'static str,
    (metadata_pointer, metadata_keys): (&'static str, &'static [&'static str]),
    (spec_pointer, spec_keys): (&'static str, &'static [&'static str]),
) -> TemplateLocation {
    TemplateLocation { groups, kind, metadata_pointer, spec_pointer, metadata_keys, spec_keys }
}

const TEMPLATE: (&str, &[&str]) = ("/spec/template/metadata", &["spec", "template", "metadata"]);
const TEMPLATE_SPEC: (&str, &[&str]) = ("/spec/template/spec", &["spec", "template", "spec"]);

const TEMPLATE_LOCATIONS: &[TemplateLocation] = &[
    location(&[""], "Pod", ("/metadata", &["metadata"]), ("/spec", &["spec"])),
    location(&["apps", "extensions"], "Deployment", TEMPLATE, TEMPLATE_SPEC),
    location(&["apps", "extensions"], "ReplicaSet", TEMPLATE, TEMPLATE_SPEC),
    location(&["apps", "extensions"], "DaemonSet", TEMPLATE, TEMPLATE_SPEC),
    location(&["apps"], "StatefulSet", TEMPLATE, TEMPLATE_SPEC),
    location(&["batch"], "Job", TEMPLATE, TEMPLATE_SPEC),
    location(
        &["batch"],
        "CronJob",
        ("/spec/jobTemplate/spec/template/metadata", &["spec", "jobTemplate", "spec", "template", "metadata"]),
        ("/spec/jobTemplate/spec/template/spec", &["spec", "jobTemplate", "spec", "template", "spec"]),
    ),
    location(&[""], "ReplicationController", TEMPLATE, TEMPLATE_SPEC),
    location(&[""], "PodTemplate", ("/template/metadata", &["template", "metadata"]), ("/template/spec", &["template", "spec"])),
];

/// The index in [`TEMPLATE_LOCATIONS`] of `object`'s kind, if it creates pods.
pub(crate) fn template_location_index(object: &Object) -> Option<usize> {
    TEMPLATE_LOCATIONS.iter().position(|location| object.is(location.groups, location.kind))
}

/// The kinds whose objects carry a pod template, for documentation and rule coverage lists.
pub fn pod_kinds() -> impl Iterator<Item = &'static str> {
    TEMPLATE_LOCATIONS.iter().map(|location| location.kind)
}

impl<'a> PodView<'a> {
    /// The pod inside `object`, or `None` when the object does not create pods (or its
    /// template has no spec mapping).
    pub fn of(object: &'a Object) -> Option<Self> {
        // Every pod rule asks for the view of every object: the kind is matched once per object.
        let location = &TEMPLATE_LOCATIONS[object.template_location()?];
        let spec = object.root.path(location.spec_keys).filter(|spec| spec.as_map().is_some())?;
        Some(Self {
            object,
            metadata: object.root.path(location.metadata_keys),
            spec,
            metadata_pointer: location.metadata_pointer,
            spec_pointer: location.spec_pointer,
        })
    }

    /// Every container of the pod: init containers, regular containers, ephemeral containers.
    pub fn containers(&self) -> impl Iterator<Item = ContainerView<'a>> + 'a {
        let spec = self.spec;
        let spec_pointer = self.spec_pointer;
        ContainerKind::ALL.into_iter().flat_map(move |kind| {
            spec.get(kind.field())
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(move |(index, node)| ContainerView { node, kind, index, spec_pointer })
        })
    }

    pub fn spec_field(&self, key: &str) -> Option<&'a Node> {
        self.spec.get(key)
    }

    /// The pod-level `securityContext`, if present.
    pub fn security_context(&self) -> Option<&'a Node> {
        self.spec.get("securityContext")
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata?.get("annotations")?.get(key)?.as_str()
    }

    /// The pointer to a field under the pod spec: `spec_pointer_to(&["securityContext"])`.
    pub fn spec_pointer_to(&self, path: &[&str]) -> String {
        pointer_under(self.spec_pointer, path)
    }

    /// The pointer to a field under the pod metadata.
    pub fn metadata_pointer_to(&self, path: &[&str]) -> String {
        pointer_under(self.metadata_pointer, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Origin;
    use crate::value::{Map, Mark, Value};

    fn node(value: Value) -> Node {
        Node::new(value, Mark::default())
    }

    fn map(entries: Vec<(&str, Node)>) -> Node {
        let mut map = Map::new();
        for (key, value) in entries {
            map.insert(key.into(), Mark::default(), value);
        }
        node(Value::Map(map))
    }

    fn text(value: &str) -> Node {
        node(Value::Str(value.into()))
    }

    fn container(name: &str) -> Node {
        map(vec![("name", text(name))])
    }

    fn object(api_version: &str, kind: &str, spec: Node) -> Object {
        let root = map(vec![("apiVersion", text(api_version)), ("kind", text(kind)), ("spec", spec)]);
        Object::new(root, Origin { file: "x.yaml".into(), document: 0, item: None })
    }

    fn pod_spec() -> Node {
        map(vec![
            ("containers", node(Value::Seq(vec![container("app"), container("sidecar")]))),
            ("initContainers", node(Value::Seq(vec![container("setup")]))),
            ("ephemeralContainers", node(Value::Seq(vec![container("debug")]))),
        ])
    }

    #[test]
    fn every_container_kind_is_visited_with_its_pointer() {
        let pod = object("v1", "Pod", pod_spec());
        let view = PodView::of(&pod).unwrap();
        let seen: Vec<_> = view.containers().map(|c| (c.name(), c.pointer())).collect();
        assert_eq!(
            seen,
            vec![
                ("setup", "/spec/initContainers/0".to_owned()),
                ("app", "/spec/containers/0".to_owned()),
                ("sidecar", "/spec/containers/1".to_owned()),
                ("debug", "/spec/ephemeralContainers/0".to_owned()),
            ]
        );
    }

    #[test]
    fn cronjob_template_is_found_under_job_template() {
        let spec = map(vec![(
            "jobTemplate",
            map(vec![("spec", map(vec![("template", map(vec![("spec", pod_spec())]))]))]),
        )]);
        let cron = object("batch/v1", "CronJob", spec);
        let view = PodView::of(&cron).unwrap();
        let first = view.containers().next().unwrap();
        assert_eq!(first.field(&["securityContext"]), "/spec/jobTemplate/spec/template/spec/initContainers/0/securityContext");
    }

    #[test]
    fn every_template_location_has_matching_pointers_and_key_paths() {
        for location in TEMPLATE_LOCATIONS {
            assert_eq!(location.spec_pointer, format!("/{}", location.spec_keys.join("/")), "{}", location.kind);
            assert_eq!(location.metadata_pointer, format!("/{}", location.metadata_keys.join("/")), "{}", location.kind);
        }
    }

    #[test]
    fn kinds_outside_their_group_are_not_pods() {
        let spec = map(vec![("template", map(vec![("spec", pod_spec())]))]);
        assert!(PodView::of(&object("apps/v1", "Deployment", spec.clone())).is_some());
        assert!(PodView::of(&object("example.com/v1", "Deployment", spec)).is_none());
        assert!(PodView::of(&object("v1", "ConfigMap", pod_spec())).is_none());
    }
}

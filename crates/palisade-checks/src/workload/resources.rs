//! The check shared by `workload/resource-requests-missing` and
//! `workload/resource-limits-missing`: every regular and init container must set the listed
//! resources under `resources.requests` or `resources.limits`.

use palisade_core::{ContainerKind, FindingSink, Node, Object, PodView, Rule, RuleMeta};

/// Which half of `resources` a rule checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceField {
    Requests,
    Limits,
}

impl ResourceField {
    const fn key(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Limits => "limits",
        }
    }

    const fn noun(self) -> &'static str {
        match self {
            Self::Requests => "request",
            Self::Limits => "limit",
        }
    }
}

pub struct ResourcesMissing {
    pub field: ResourceField,
    /// Resource names (`cpu`, `memory`, `ephemeral-storage`).
    pub resources: Vec<String>,
}

impl ResourcesMissing {
    pub fn requests(resources: Vec<String>) -> Self {
        Self { field: ResourceField::Requests, resources }
    }

    pub fn limits(resources: Vec<String>) -> Self {
        Self { field: ResourceField::Limits, resources }
    }
}

impl Rule for ResourcesMissing {
    fn meta(&self) -> &'static RuleMeta {
        match self.field {
            ResourceField::Requests => &super::resource_requests_missing::META,
            ResourceField::Limits => &super::resource_limits_missing::META,
        }
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        // Ephemeral containers cannot have resources; the API server rejects them.
        for container in pod.containers().filter(|c| c.kind != ContainerKind::Ephemeral) {
            let set = container.node.path(&["resources", self.field.key()]);
            for resource in &self.resources {
                if set.and_then(|set| set.get(resource)).is_none_or(Node::is_null) {
                    sink.report(
                        container.field(&["resources", self.field.key(), resource]),
                        format!("container {:?} has no {resource} {}", container.name(), self.field.noun()),
                    );
                }
            }
        }
    }
}

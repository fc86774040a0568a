//! The check shared by `workload/liveness-probe-missing` and
//! `workload/readiness-probe-missing`: long-running pods' regular containers must define the
//! probe. Init and ephemeral containers cannot have these probes; Jobs and CronJobs run to
//! completion and are exempt.

use palisade_core::{ContainerKind, FindingSink, Node, Object, PodView, Rule, RuleMeta};

use super::runs_to_completion;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Liveness,
    Readiness,
}

impl Probe {
    /// The container field, which is also the OperationPolicy `requiredProbes` item.
    pub const fn field(self) -> &'static str {
        match self {
            Self::Liveness => "livenessProbe",
            Self::Readiness => "readinessProbe",
        }
    }

    pub fn from_field(field: &str) -> Option<Self> {
        [Self::Liveness, Self::Readiness].into_iter().find(|probe| probe.field() == field)
    }
}

pub struct ProbeMissing {
    pub probe: Probe,
}

impl ProbeMissing {
    pub const fn new(probe: Probe) -> Self {
        Self { probe }
    }
}

impl Rule for ProbeMissing {
    fn meta(&self) -> &'static RuleMeta {
        match self.probe {
            Probe::Liveness => &super::liveness_probe_missing::META,
            Probe::Readiness => &super::readiness_probe_missing::META,
        }
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if runs_to_completion(object) {
            return;
        }
        let Some(pod) = PodView::of(object) else { return };
        for container in pod.containers().filter(|c| c.kind == ContainerKind::Regular) {
            if container.get(self.probe.field()).is_none_or(Node::is_null) {
                sink.report(
                    container.field(&[self.probe.field()]),
                    format!("container {:?} has no {}", container.name(), self.probe.field()),
                );
            }
        }
    }
}

//! Constraints: objects of the kinds templates define (`constraints.gatekeeper.sh`), with their
//! `match`, `parameters` and `enforcementAction`.

use std::sync::Arc;

use palisade_core::{Node, Object, api_group};

use crate::matching::{Match, Target};
use crate::memo::Memo;
use crate::review::Review;
use crate::template::{Evaluator, NotEvaluated, Template, Violation};

pub const GROUP: &str = "constraints.gatekeeper.sh";

/// Gatekeeper's enforcement points: where a `scoped` constraint's actions apply.
pub mod enforcement_point {
    /// The admission webhook.
    pub const VALIDATION: &str = "validation.gatekeeper.sh";
    /// The audit of a cluster's objects.
    pub const AUDIT: &str = "audit.gatekeeper.sh";
    /// `gator`: manifests and test suites.
    pub const GATOR: &str = "gator.gatekeeper.sh";
}

/// Whether `object` is a Constraint (of any kind: the kinds are the templates').
pub fn is_constraint(object: &Object) -> bool {
    api_group(object.api_version()) == GROUP
}

/// A Constraint bound to the template of its kind.
pub struct Constraint {
    pub kind: String,
    pub name: String,
    pub matcher: Match,
    /// `spec.parameters`.
    pub parameters: Option<serde_json::Value>,
    /// The same, as the Rego engine's values.
    parameters_input: Option<regorus::Value>,
    /// `deny` (the default), `dryrun`, `warn` or `scoped`.
    pub enforcement_action: String,
    /// For `scoped`: each of `spec.scopedEnforcementActions`, with its enforcement points.
    scoped_actions: Vec<(String, Vec<String>)>,
    pub template: Arc<Template>,
    /// Verdicts remembered by the parts of the review the template reads, where it reads
    /// nothing else (see [`crate::memo`]).
    memo: Option<Memo>,
}

impl Constraint {
    /// Reads a Constraint of `template`'s kind.
    pub fn parse(object: &Object, template: Arc<Template>) -> Result<Constraint, String> {
        let name = object.name().to_owned();
        let spec = object.root.get("spec");
        let matcher = Match::parse(spec.and_then(|spec| spec.get("match"))).map_err(|error| format!("{} {name}: {error}", object.kind()))?;
        let parameters = spec.and_then(|spec| spec.get("parameters")).map(Node::to_json);
        let enforcement_action = spec.and_then(|spec| spec.get("enforcementAction")).and_then(Node::as_str).unwrap_or("deny").to_owned();
        let scoped_actions = spec
            .and_then(|spec| spec.get("scopedEnforcementActions"))
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .map(|scoped| {
                let action = scoped.get("action").and_then(Node::as_str).unwrap_or("").to_owned();
                let points = scoped.get("enforcementPoints").map(Node::as_seq).unwrap_or_default().iter().filter_map(|point| point.get("name").and_then(Node::as_str)).map(str::to_owned).collect();
                (action, points)
            })
            .collect();
        let parameters_input = parameters.clone().map(regorus::Value::from);
        let memo = template.review_reads().map(|reads| Memo::new(reads.to_vec()));
        Ok(Constraint { kind: object.kind().to_owned(), name, matcher, parameters, parameters_input, enforcement_action, scoped_actions, template, memo })
    }

    /// What the constraint does at an enforcement point: its `enforcementAction`, or for
    /// `scoped` the most severe of the scoped actions naming the point (or `*`); `None` when
    /// it does nothing there.
    pub fn action_at(&self, point: &str) -> Option<&str> {
        if self.enforcement_action != "scoped" {
            return Some(&self.enforcement_action);
        }
        const SEVERITY: [&str; 3] = ["dryrun", "warn", "deny"];
        self.scoped_actions
            .iter()
            .filter(|(_, points)| points.iter().any(|name| name == point || name == "*"))
            .map(|(action, _)| action.as_str())
            .max_by_key(|action| SEVERITY.iter().position(|known| known == action))
    }

    /// The rule id of its findings.
    pub fn rule_id(&self) -> String {
        format!("gatekeeper/{}/{}", self.kind, self.name)
    }

    /// The violations of a review whose object `target` describes, when the constraint matches
    /// it (the namespace selector is the caller's: see [`Match::matches_namespace_of`]), with
    /// `evaluator` when the template needs an inventory (see [`Template::evaluator`]).
    pub fn judge(&self, review: &Review, target: &Target<'_>, evaluator: Option<&Evaluator>) -> Result<Vec<Violation>, NotEvaluated> {
        if !self.matcher.matches(target) {
            return Ok(Vec::new());
        }
        let input = review.input(self.parameters_input.as_ref());
        match (evaluator, &self.memo) {
            (Some(evaluator), Some(memo)) => memo.judge(Some(evaluator.id()), review.value(), || evaluator.evaluate_input(input)),
            (Some(evaluator), None) => evaluator.evaluate_input(input),
            (None, Some(memo)) => memo.judge(None, review.value(), || self.template.evaluate_input(input)),
            (None, None) => self.template.evaluate_input(input),
        }
    }
}

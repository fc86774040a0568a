//! Constraints: objects of the kinds templates define (`constraints.gatekeeper.sh`), with their
//! `match`, `parameters` and `enforcementAction`.

use std::sync::Arc;

use palisade_core::{Node, Object, api_group};

use crate::matching::{Match, Target};
use crate::review::Review;
use crate::template::{Evaluator, NotEvaluated, Template, Violation};

pub const GROUP: &str = "constraints.gatekeeper.sh";

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
    /// `deny` (the default), `dryrun` or `warn`.
    pub enforcement_action: String,
    pub template: Arc<Template>,
}

impl Constraint {
    /// Reads a Constraint of `template`'s kind.
    pub fn parse(object: &Object, template: Arc<Template>) -> Result<Constraint, String> {
        let name = object.name().to_owned();
        let spec = object.root.get("spec");
        let matcher = Match::parse(spec.and_then(|spec| spec.get("match"))).map_err(|error| format!("{} {name}: {error}", object.kind()))?;
        let parameters = spec.and_then(|spec| spec.get("parameters")).map(Node::to_json);
        let enforcement_action = spec.and_then(|spec| spec.get("enforcementAction")).and_then(Node::as_str).unwrap_or("deny").to_owned();
        let parameters_input = parameters.clone().map(regorus::Value::from);
        Ok(Constraint { kind: object.kind().to_owned(), name, matcher, parameters, parameters_input, enforcement_action, template })
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
        match evaluator {
            Some(evaluator) => evaluator.evaluate_input(input),
            None => self.template.evaluate_input(input),
        }
    }
}

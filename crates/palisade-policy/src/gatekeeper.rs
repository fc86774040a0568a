//! Gatekeeper Constraints as Palisade rules: each Constraint reports under
//! `gatekeeper/<constraint kind>/<constraint name>` with its template's messages, on every door
//! that runs rules (manifest and cluster scans, the admission webhook).
//!
//! A manifest is reviewed as gator reviews it (see `palisade_gatekeeper::review`). A
//! `namespaceSelector` is decided against the labels of the object's Namespace once the whole
//! input is read, as for OperationPolicies: where the Namespace is not part of the input, the
//! constraint does not apply. Templates that read `data.inventory` run once the whole input is
//! read, with every object of the scan as the inventory; the admission webhook has no inventory
//! and leaves them out with a warning.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use palisade_core::{Candidate, Finding, FindingSink, Gate, InventoryRule, LabelSelector, Labels, Object, Rule, RuleMeta, Severity, labels_of};
use palisade_gatekeeper::{Constraint, Evaluator, NotEvaluated, Review, Target};
use rayon::prelude::*;

use crate::per_object::LastObject;

const REMEDIATION: &str = "Change the object so that the constraint's template admits it, or narrow the constraint's `match`.";

/// The rule of a constraint: made once per (id, title, severity) and kept for the process,
/// since findings hold their rule's text by `'static` reference.
fn rule_meta(constraint: &Constraint) -> &'static RuleMeta {
    static RULES: LazyLock<Mutex<HashMap<(String, String, Severity), &'static RuleMeta>>> = LazyLock::new(Default::default);
    let title = constraint.template.title.clone().unwrap_or_else(|| format!("{} constraint violated", constraint.kind));
    // Gatekeeper has no severities: what the constraint does at admission stands in for one.
    let severity = match constraint.enforcement_action.as_str() {
        "deny" => Severity::High,
        "warn" => Severity::Medium,
        _ => Severity::Low,
    };
    let mut rules = RULES.lock().unwrap_or_else(|poison| poison.into_inner());
    rules.entry((constraint.rule_id(), title.clone(), severity)).or_insert_with(|| {
        Box::leak(Box::new(RuleMeta {
            id: Box::leak(constraint.rule_id().into_boxed_str()),
            title: Box::leak(title.into_boxed_str()),
            severity,
            doc: "",
            remediation: REMEDIATION,
            controls: &[],
        }))
    })
}

/// Each constraint's rule id and `enforcementAction`.
pub fn enforcement_actions(constraints: &[Constraint]) -> Vec<(&'static str, String)> {
    constraints.iter().map(|constraint| (rule_meta(constraint).id, constraint.enforcement_action.clone())).collect()
}

/// The rules of `constraints`: per-object rules, and one inventory rule for the constraints whose
/// templates read `data.inventory` (empty when there are none).
pub fn rules(constraints: Vec<Constraint>) -> (Vec<Box<dyn Rule>>, Vec<Box<dyn InventoryRule>>) {
    let (with_inventory, plain): (Vec<Constraint>, Vec<Constraint>) = constraints.into_iter().partition(|constraint| constraint.template.uses_inventory());
    let rules = plain.into_iter().map(|constraint| Box::new(ConstraintRule { meta: rule_meta(&constraint), constraint }) as Box<dyn Rule>).collect();
    let inventory = if with_inventory.is_empty() {
        Vec::new()
    } else {
        let constraints = with_inventory.into_iter().map(|constraint| ConstraintRule { meta: rule_meta(&constraint), constraint }).collect();
        vec![Box::new(InventoryConstraints { constraints }) as Box<dyn InventoryRule>]
    };
    (rules, inventory)
}

thread_local! {
    /// The review of the last object this thread judged: its constraints share one.
    static LAST_REVIEW: LastObject<Review> = const { LastObject::new() };
}

struct ConstraintRule {
    meta: &'static RuleMeta,
    constraint: Constraint,
}

/// What one review decided: violations (with the gate of the namespace selector), or why the
/// template could not be evaluated.
struct Judged {
    messages: Vec<String>,
    severity: Severity,
    gate: Option<Gate>,
}

impl ConstraintRule {
    fn judge(&self, object: &Object, evaluator: Option<&Result<Evaluator, NotEvaluated>>) -> Option<Judged> {
        let labels = labels_of(object.metadata().and_then(|metadata| metadata.get("labels")));
        let target = Target {
            group: object.group(),
            kind: object.kind(),
            name: object.name(),
            generate_name: object.metadata().and_then(|metadata| metadata.get("generateName")).and_then(|name| name.as_str()).unwrap_or(""),
            namespace: object.namespace(),
            labels: &labels,
        };
        if !self.constraint.matcher.matches(&target) || self.constraint.matcher.matches_namespace_of(&target) == Some(false) {
            return None;
        }
        let gate = match (self.constraint.matcher.matches_namespace_of(&target), self.constraint.matcher.namespace_selector()) {
            (None, Some(selector)) => Some(namespace_gate(selector.clone())),
            _ => None,
        };
        let review = LAST_REVIEW.with(|last| last.get_or(object, || Review::new(&palisade_gatekeeper::review::of_object(object.json()))));
        let judged = match evaluator {
            Some(Err(reason)) => Err(reason.clone()),
            Some(Ok(evaluator)) => self.constraint.judge(&review, &target, Some(evaluator)),
            None => self.constraint.judge(&review, &target, None),
        };
        match judged {
            Ok(violations) if violations.is_empty() => None,
            Ok(violations) => Some(Judged {
                messages: violations.into_iter().map(|violation| violation.message).collect(),
                severity: self.meta.severity,
                gate,
            }),
            // Never a pass: the object was not judged, and the finding says why.
            Err(reason) => Some(Judged { messages: vec![format!("not evaluated: {reason}")], severity: Severity::Info, gate }),
        }
    }
}

/// Holds where the object's Namespace is part of the input and its labels match.
fn namespace_gate(selector: LabelSelector) -> Gate {
    Arc::new(move |facts| facts.labels.is_some_and(|labels: &Labels| selector.matches(labels)))
}

impl Rule for ConstraintRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(judged) = self.judge(object, None) else { return };
        for message in judged.messages {
            match &judged.gate {
                Some(gate) => sink.report_when_at(judged.severity, String::new(), message, gate.clone()),
                None => sink.report_at(judged.severity, String::new(), message),
            }
        }
    }
}

/// The constraints whose templates read `data.inventory`: judged once the whole input is read,
/// with every object as the inventory.
struct InventoryConstraints {
    constraints: Vec<ConstraintRule>,
}

impl InventoryRule for InventoryConstraints {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        self.constraints.iter().map(|rule| rule.meta).collect()
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        Some(object.clone())
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        let objects: Vec<serde_json::Value> = retained.iter().map(|object| object.root.to_json()).collect();
        let inventory = palisade_gatekeeper::review::inventory(&objects);
        for rule in &self.constraints {
            let evaluator = rule.constraint.template.evaluator(Some(&inventory));
            // Each object's review reads the whole inventory, so these are the costly ones: on
            // every core, in scan order.
            let judged: Vec<_> = retained.par_iter().map(|object| rule.judge(object, Some(&evaluator))).collect();
            for (object, judged) in retained.iter().zip(judged) {
                let Some(judged) = judged else { continue };
                for message in judged.messages {
                    let mut finding = Finding::new(rule.meta, object, String::new(), message);
                    finding.severity = judged.severity;
                    out.push(Candidate { finding, gate: judged.gate.clone() });
                }
            }
        }
    }
}

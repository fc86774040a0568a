//! Gatekeeper Constraints as Palisade rules: each Constraint reports under
//! `gatekeeper/<constraint kind>/<constraint name>` with its template's messages, on every door
//! that runs rules (manifest and cluster scans, the admission webhook).
//!
//! A manifest is reviewed as gator reviews it (see `palisade_gatekeeper::review`). A
//! `namespaceSelector` is decided against the labels of the object's Namespace once the whole
//! input is read, as for OperationPolicies: where the Namespace is not part of the input, the
//! constraint does not apply. Templates that read `data.inventory` run once the whole input is
//! read, with every object of the scan as the inventory; the admission webhook has no inventory
//! and leaves them out with a warning. ExpansionTemplates make workloads answer for the resources
//! they generate (a Deployment for its Pod), as Gatekeeper's webhook and gator do.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use palisade_core::{Candidate, Finding, FindingSink, Gate, InventoryRule, LabelSelector, Labels, Object, Rule, RuleMeta, Severity};
use palisade_gatekeeper::{Constraint, Evaluator, ExpansionTemplate, NotEvaluated, Resultant, Review, Target};
use rayon::prelude::*;

use crate::per_object::LastObject;

const REMEDIATION: &str = "Change the object so that the constraint's template admits it, or narrow the constraint's `match`.";

/// Gatekeeper has no severities: what the constraint does where Palisade runs it stands in for
/// one.
fn severity_of(action: &str) -> Severity {
    match action {
        "deny" => Severity::High,
        "warn" => Severity::Medium,
        _ => Severity::Low,
    }
}

/// The rule of a constraint: made once per (id, title, severity) and kept for the process,
/// since findings hold their rule's text by `'static` reference.
fn rule_meta(constraint: &Constraint, action: &str) -> &'static RuleMeta {
    static RULES: LazyLock<Mutex<HashMap<(String, String, Severity), &'static RuleMeta>>> = LazyLock::new(Default::default);
    let title = constraint.template.title.clone().unwrap_or_else(|| format!("{} constraint violated", constraint.kind));
    let severity = severity_of(action);
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

/// Each constraint's rule id and what it does at `point` (constraints that do nothing there
/// are left out).
pub fn enforcement_actions(constraints: &[Constraint], point: &str) -> Vec<(&'static str, String)> {
    constraints.iter().filter_map(|constraint| constraint.action_at(point).map(|action| (rule_meta(constraint, action).id, action.to_owned()))).collect()
}

/// The rules of `constraints` at an enforcement point (see
/// [`palisade_gatekeeper::constraint::enforcement_point`]), with `expansions` generating the
/// resources workloads create: per-object rules, and one inventory rule for the constraints
/// whose templates read `data.inventory` (empty when there are none). A `scoped` constraint
/// with no action at the point has no rule.
pub fn rules(constraints: Vec<Constraint>, expansions: Vec<ExpansionTemplate>, point: &str) -> (Vec<Box<dyn Rule>>, Vec<Box<dyn InventoryRule>>) {
    let expansions: Arc<[ExpansionTemplate]> = expansions.into();
    let (with_inventory, plain): (Vec<ConstraintRule>, Vec<ConstraintRule>) = constraints
        .into_iter()
        .filter_map(|constraint| {
            let action = constraint.action_at(point)?.to_owned();
            Some(ConstraintRule { meta: rule_meta(&constraint, &action), constraint, expansions: expansions.clone() })
        })
        .partition(|rule| rule.constraint.template.uses_inventory());
    let rules = plain.into_iter().map(|rule| Box::new(rule) as Box<dyn Rule>).collect();
    let inventory = if with_inventory.is_empty() { Vec::new() } else { vec![Box::new(InventoryConstraints { constraints: with_inventory }) as Box<dyn InventoryRule>] };
    (rules, inventory)
}

thread_local! {
    /// The last object this thread judged, reviewed and expanded: its constraints share them.
    static LAST_SUBJECTS: LastObject<Arc<Subjects>> = const { LastObject::new() };
}

/// What the constraints judge of one object: the object itself and the resources the
/// ExpansionTemplates generate from it (or why they could not).
struct Subjects {
    object: Subject,
    generated: Result<Vec<(Resultant, Subject)>, String>,
}

/// One reviewed object, with what Gatekeeper's `match` reads of it; its review is built when a
/// constraint matches it, as most objects match none.
struct Subject {
    review: OnceLock<Review>,
    group: String,
    kind: String,
    name: String,
    generate_name: String,
    namespace: Option<String>,
    labels: Labels,
}

impl Subject {
    fn of(json: &serde_json::Value) -> Subject {
        let text = |pointer: &str| json.pointer(pointer).and_then(serde_json::Value::as_str).unwrap_or("").to_owned();
        let labels = json
            .pointer("/metadata/labels")
            .and_then(serde_json::Value::as_object)
            .map(|labels| labels.iter().filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        Subject {
            review: OnceLock::new(),
            group: palisade_core::api_group(&text("/apiVersion")).to_owned(),
            kind: text("/kind"),
            name: text("/metadata/name"),
            generate_name: text("/metadata/generateName"),
            namespace: Some(text("/metadata/namespace")).filter(|namespace| !namespace.is_empty()),
            labels,
        }
    }

    /// The review of `json`, the object this subject was made of.
    fn review(&self, json: &serde_json::Value) -> &Review {
        self.review.get_or_init(|| Review::new(&palisade_gatekeeper::review::of_object(json)))
    }

    fn target(&self) -> Target<'_> {
        Target {
            group: &self.group,
            kind: &self.kind,
            name: &self.name,
            generate_name: &self.generate_name,
            namespace: self.namespace.as_deref(),
            labels: &self.labels,
        }
    }
}

fn subjects(object: &Object, expansions: &[ExpansionTemplate]) -> Arc<Subjects> {
    LAST_SUBJECTS.with(|last| {
        last.get_or(object, || {
            let generated = palisade_gatekeeper::expansion::expand(expansions, object.json())
                .map(|resultants| resultants.into_iter().map(|resultant| {
                    let subject = Subject::of(&resultant.object);
                    (resultant, subject)
                }).collect())
                .map_err(|error| format!("expanding resource {}: {error}", object.name()));
            Arc::new(Subjects { object: Subject::of(object.json()), generated })
        })
    })
}

struct ConstraintRule {
    meta: &'static RuleMeta,
    constraint: Constraint,
    expansions: Arc<[ExpansionTemplate]>,
}

/// What one review decided: violations (with the gate of the namespace selector), or why the
/// template could not be evaluated, and where in the object (a generated resource's source).
struct Judged {
    messages: Vec<String>,
    severity: Severity,
    gate: Option<Gate>,
    pointer: String,
}

impl ConstraintRule {
    /// The violations on the object and on the resources its expansions generate (theirs
    /// prefixed `[Implied by <template>]`, with the expansion's enforcement action if it sets
    /// one), grouped by severity and gate.
    fn judge(&self, object: &Object, evaluator: Option<&Result<Evaluator, NotEvaluated>>) -> Vec<Judged> {
        let subjects = subjects(object, &self.expansions);
        let mut judged: Vec<Judged> = self.judge_subject(&subjects.object, object.json(), evaluator, self.meta.severity).into_iter().collect();
        match &subjects.generated {
            Ok(generated) => {
                for (resultant, subject) in generated {
                    let severity = resultant.enforcement_action.as_deref().map_or(self.meta.severity, severity_of);
                    if let Some(mut found) = self.judge_subject(subject, &resultant.object, evaluator, severity) {
                        if found.severity != Severity::Info {
                            found.messages = found.messages.iter().map(|message| resultant.message(message)).collect();
                        }
                        found.pointer = resultant.pointer.clone();
                        judged.push(found);
                    }
                }
            }
            Err(error) => judged.push(Judged { messages: vec![format!("not evaluated: {error}")], severity: Severity::Info, gate: None, pointer: String::new() }),
        }
        judged
    }

    fn judge_subject(&self, subject: &Subject, json: &serde_json::Value, evaluator: Option<&Result<Evaluator, NotEvaluated>>, severity: Severity) -> Option<Judged> {
        let target = subject.target();
        if !self.constraint.matcher.matches(&target) || self.constraint.matcher.matches_namespace_of(&target) == Some(false) {
            return None;
        }
        let gate = match (self.constraint.matcher.matches_namespace_of(&target), self.constraint.matcher.namespace_selector()) {
            (None, Some(selector)) => Some(namespace_gate(selector.clone())),
            _ => None,
        };
        let judged = match evaluator {
            Some(Err(reason)) => Err(reason.clone()),
            Some(Ok(evaluator)) => self.constraint.judge(subject.review(json), &target, Some(evaluator)),
            None => self.constraint.judge(subject.review(json), &target, None),
        };
        match judged {
            Ok(violations) if violations.is_empty() => None,
            Ok(violations) => Some(Judged { messages: violations.into_iter().map(|violation| violation.message).collect(), severity, gate, pointer: String::new() }),
            // Never a pass: the object was not judged, and the finding says why.
            Err(reason) => Some(Judged { messages: vec![format!("not evaluated: {reason}")], severity: Severity::Info, gate, pointer: String::new() }),
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
        for judged in self.judge(object, None) {
            for message in judged.messages {
                match &judged.gate {
                    Some(gate) => sink.report_when_at(judged.severity, judged.pointer.clone(), message, gate.clone()),
                    None => sink.report_at(judged.severity, judged.pointer.clone(), message),
                }
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
        let evaluators: Vec<_> = self.constraints.iter().map(|rule| rule.constraint.template.evaluator(Some(&inventory))).collect();
        // Each object's review reads the whole inventory, so these are the costly ones: on
        // every core, each object judged by every constraint in turn so that they share its
        // review and expansions, findings in scan order.
        let judged: Vec<Vec<Vec<Judged>>> = retained
            .par_iter()
            .map(|object| self.constraints.iter().zip(&evaluators).map(|(rule, evaluator)| rule.judge(object, Some(evaluator))).collect())
            .collect();
        for (position, rule) in self.constraints.iter().enumerate() {
            for (object, judged) in retained.iter().zip(&judged) {
                for judged in &judged[position] {
                    for message in &judged.messages {
                        let mut finding = Finding::new(rule.meta, object, judged.pointer.clone(), message.clone());
                        finding.severity = judged.severity;
                        out.push(Candidate { finding, gate: judged.gate.clone() });
                    }
                }
            }
        }
    }
}

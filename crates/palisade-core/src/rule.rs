//! The rule interface: a rule looks at one object and reports findings through a sink.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::finding::{Finding, RuleMeta, Severity, TextPool};
use crate::object::Object;

/// What is known about the namespace an object lands in when findings are finally decided.
#[derive(Clone, Copy, Debug)]
pub struct NamespaceFacts<'a> {
    /// The object's namespace as written, `None` when it has none (it lands wherever it is
    /// applied).
    pub name: Option<&'a str>,
    /// The labels of that Namespace when the input (or the cluster) contains it.
    pub labels: Option<&'a BTreeMap<String, String>>,
}

/// A condition on the object's namespace that decides whether a finding stands. Manifest scans
/// stream objects before every Namespace has been read, so findings that depend on namespace
/// labels (Pod Security levels, policy namespace selectors) are decided once the input is read.
pub type Gate = Arc<dyn Fn(&NamespaceFacts<'_>) -> bool + Send + Sync>;

/// A finding as a rule reports it, before namespace-dependent gates are decided.
#[derive(Clone)]
pub struct Candidate {
    pub finding: Finding,
    pub gate: Option<Gate>,
}

impl Candidate {
    pub fn stands(&self, facts: &NamespaceFacts<'_>) -> bool {
        self.gate.as_ref().is_none_or(|gate| gate(facts))
    }
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("finding", &self.finding)
            .field("gated", &self.gate.is_some())
            .finish()
    }
}

/// Collects one rule's findings on one object.
pub struct FindingSink<'a> {
    meta: &'static RuleMeta,
    object: &'a Object,
    out: &'a mut Vec<Candidate>,
    texts: Option<&'a TextPool>,
}

impl<'a> FindingSink<'a> {
    pub fn new(meta: &'static RuleMeta, object: &'a Object, out: &'a mut Vec<Candidate>) -> Self {
        Self { meta, object, out, texts: None }
    }

    /// A sink whose findings take their texts from `texts`, so a message said of many
    /// objects is stored once.
    pub fn pooled(meta: &'static RuleMeta, object: &'a Object, out: &'a mut Vec<Candidate>, texts: &'a TextPool) -> Self {
        Self { meta, object, out, texts: Some(texts) }
    }

    pub fn object(&self) -> &'a Object {
        self.object
    }

    /// Reports a finding at the field `pointer` names.
    pub fn report(&mut self, pointer: String, message: String) {
        self.push(pointer, message, None, self.meta.severity);
    }

    /// Reports a finding at another severity than the rule's.
    pub fn report_at(&mut self, severity: Severity, pointer: String, message: String) {
        self.push(pointer, message, None, severity);
    }

    /// Reports a finding that stands only if `gate` holds for the object's namespace.
    pub fn report_when(&mut self, pointer: String, message: String, gate: Gate) {
        self.push(pointer, message, Some(gate), self.meta.severity);
    }

    /// Like [`Self::report_when`], at a severity other than the rule's default, for a case that
    /// is worse than the one the rule is rated for.
    pub fn report_when_at(&mut self, severity: Severity, pointer: String, message: String, gate: Gate) {
        self.push(pointer, message, Some(gate), severity);
    }

    fn push(&mut self, pointer: String, message: String, gate: Option<Gate>, severity: Severity) {
        let mut finding = match self.texts {
            Some(texts) => Finding::with_text(self.meta, self.object, texts.text(pointer), texts.text(message)),
            None => Finding::new(self.meta, self.object, pointer, message),
        };
        finding.severity = severity;
        self.out.push(Candidate { finding, gate });
    }
}

/// A built-in check over single objects. Parameters live in the rule value itself, set when
/// the registry is built from configuration.
pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>);
}

/// An analysis over several objects at once (RBAC bindings, NetworkPolicy coverage). The engine
/// streams every object through `retain` in parallel and keeps only what it returns, so an
/// analysis should keep the fields it needs (with their positions) rather than whole objects;
/// `check` runs once the whole input has been read.
pub trait InventoryRule: Send + Sync {
    /// The metadata of every rule id this analysis reports.
    fn metas(&self) -> Vec<&'static RuleMeta>;

    /// The part of `object` this analysis needs, or `None` when it needs nothing of it.
    fn retain(&self, object: &Object) -> Option<Object>;

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>);
}

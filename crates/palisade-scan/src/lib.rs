//! The scan engine. Inputs are read and parsed in parallel and every object goes through the
//! single-object rules as soon as it is parsed, so only findings (and what inventory analyses
//! choose to retain) outlive a file. Findings that depend on namespace labels are decided once
//! every input has been read, because a Namespace may come after the objects in it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;

use palisade_core::{
    Candidate, Finding, FindingSink, InputError, TextPool, InventoryRule, NamespaceFacts, Object, Rule, labels_of,
};
use palisade_load::{Input, Limits};
use rayon::prelude::*;

/// The rules a scan runs.
pub struct Engine {
    pub rules: Vec<Box<dyn Rule>>,
    pub inventory_rules: Vec<Box<dyn InventoryRule>>,
    pub limits: Limits,
}

/// What a scan found, before exceptions and reporting.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub files: usize,
    pub objects: usize,
    pub skipped_documents: usize,
}

/// Everything gathered while streaming, merged across threads.
#[derive(Default)]
struct Harvest {
    /// Candidates in the batches they were reported in (one per object): merging harvests
    /// moves batches, never the candidates, which dominate memory on large inputs.
    batches: Vec<Vec<Candidate>>,
    namespaces: HashMap<String, BTreeMap<String, String>>,
    retained: Vec<Vec<Object>>,
    objects: usize,
}

impl Harvest {
    fn merge(&mut self, mut other: Harvest) {
        self.batches.append(&mut other.batches);
        self.namespaces.extend(other.namespaces);
        self.objects += other.objects;
        if self.retained.len() < other.retained.len() {
            self.retained.resize_with(other.retained.len(), Vec::new);
        }
        for (mine, theirs) in self.retained.iter_mut().zip(other.retained) {
            mine.extend(theirs);
        }
    }

    fn add(&mut self, observed: Observed) {
        self.objects += 1;
        if !observed.candidates.is_empty() {
            self.batches.push(observed.candidates);
        }
        for (rule, object) in observed.retained {
            if self.retained.len() <= rule {
                self.retained.resize_with(rule + 1, Vec::new);
            }
            self.retained[rule].push(object);
        }
        if let Some((name, labels)) = observed.namespace {
            self.namespaces.insert(name, labels);
        }
    }
}

/// A scan fed objects a batch at a time (see [`Engine::stream`]): each batch goes through the
/// single-object rules on every core, and only findings and what the inventory analyses retain
/// outlive it, as in a file scan.
pub struct Stream<'a> {
    engine: &'a Engine,
    texts: TextPool,
    harvest: Harvest,
}

impl Stream<'_> {
    pub fn add(&mut self, objects: &[Object]) {
        self.add_with(objects, &self.engine.rules);
    }

    /// Objects that repeat another's findings (a live cluster's pods created by a listed
    /// ReplicaSet): only the inventory analyses see them, the single-object rules do not.
    pub fn add_for_inventory(&mut self, objects: &[Object]) {
        self.add_with(objects, &[]);
    }

    fn add_with(&mut self, objects: &[Object], rules: &[Box<dyn Rule>]) {
        let (engine, texts) = (self.engine, &self.texts);
        let part = objects
            .par_iter()
            .fold(Harvest::default, |mut harvest, object| {
                harvest.add(engine.observe_with(object, texts, rules));
                harvest
            })
            .reduce(Harvest::default, |mut left, right| {
                left.merge(right);
                left
            });
        self.harvest.merge(part);
    }

    /// Runs the inventory analyses and decides the namespace gates (batches may arrive in any
    /// order: the analyses sort what they retained).
    pub fn finish(self) -> Outcome {
        self.engine.finish(self.harvest, &self.texts)
    }
}

/// What the rules made of one object, gathered before it joins a shared [`Harvest`].
struct Observed {
    candidates: Vec<Candidate>,
    /// What each inventory rule (by index) keeps of the object.
    retained: Vec<(usize, Object)>,
    /// A Namespace's name and labels.
    namespace: Option<(String, BTreeMap<String, String>)>,
}

thread_local! {
    /// Where one object's candidates are gathered: reused from object to object so that each
    /// object's batch is allocated once, at its final size.
    static SCRATCH: std::cell::RefCell<Vec<Candidate>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Engine {
    pub fn new(rules: Vec<Box<dyn Rule>>, inventory_rules: Vec<Box<dyn InventoryRule>>) -> Self {
        Self { rules, inventory_rules, limits: Limits::default() }
    }

    /// Scans files, directories and `-` (standard input).
    pub fn scan_paths(&self, paths: &[PathBuf]) -> Outcome {
        let texts = TextPool::default();
        let (inputs, mut errors) = palisade_load::discover(paths);
        let files = inputs.len();
        let per_input: Vec<(Harvest, Vec<InputError>, usize)> =
            inputs.par_iter().map(|input| self.scan_input(input, &texts)).collect();
        let mut harvest = Harvest::default();
        let objects: Vec<usize> = per_input.iter().map(|(part, ..)| part.objects).collect();
        errors.extend(palisade_load::unread_directories(paths, &inputs, &objects));
        let mut skipped_documents = 0;
        for (part, mut part_errors, skipped) in per_input {
            harvest.merge(part);
            errors.append(&mut part_errors);
            skipped_documents += skipped;
        }
        let mut outcome = self.finish(harvest, &texts);
        outcome.errors.append(&mut errors);
        outcome.errors.sort();
        outcome.files = files;
        outcome.skipped_documents = skipped_documents;
        outcome
    }

    /// A scan fed objects a batch at a time, as they arrive (a live cluster's pages).
    pub fn stream(&self) -> Stream<'_> {
        Stream { engine: self, texts: TextPool::default(), harvest: Harvest::default() }
    }

    /// Checks one object whose namespace is already known (an admission request): the
    /// single-object rules run on every core, so that a review with many policies waits for
    /// the slowest share rather than the sum, and their namespace gates are decided against
    /// `facts` at once. Inventory analyses need the whole inventory and do not run.
    pub fn check_object(&self, object: &Object, facts: &NamespaceFacts<'_>) -> Vec<Finding> {
        let candidates: Vec<Candidate> = self
            .rules
            .par_iter()
            .flat_map_iter(|rule| {
                let mut candidates = Vec::new();
                let mut sink = FindingSink::new(rule.meta(), object, &mut candidates);
                rule.check(object, &mut sink);
                candidates
            })
            .collect();
        let mut findings: Vec<Finding> = candidates
            .into_iter()
            .filter(|candidate| candidate.stands(facts))
            .map(|candidate| candidate.finding)
            .collect();
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        findings.dedup();
        findings
    }

    fn scan_input(&self, input: &Input, texts: &TextPool) -> (Harvest, Vec<InputError>, usize) {
        let text = match palisade_load::read_input(input, &self.limits) {
            Ok(text) => text,
            Err(error) => return (Harvest::default(), vec![error], 0),
        };
        let harvest = Mutex::new(Harvest::default());
        let (errors, skipped) =
            palisade_load::visit_objects(&text, &input.display(), &self.limits, |object| {
                let observed = self.observe(&object, texts);
                harvest.lock().unwrap_or_else(|poison| poison.into_inner()).add(observed);
            });
        let harvest = harvest.into_inner().unwrap_or_else(|poison| poison.into_inner());
        (harvest, errors, skipped)
    }

    fn observe(&self, object: &Object, texts: &TextPool) -> Observed {
        self.observe_with(object, texts, &self.rules)
    }

    /// What `rules` (all single-object rules, or none) and the inventory analyses make of one
    /// object.
    fn observe_with(&self, object: &Object, texts: &TextPool, rules: &[Box<dyn Rule>]) -> Observed {
        let check = |scratch: &mut Vec<Candidate>| {
            for rule in rules {
                let mut sink = FindingSink::pooled(rule.meta(), object, scratch, texts);
                rule.check(object, &mut sink);
            }
            scratch.drain(..).collect()
        };
        // A thread that waits inside a rule may pick up another object's work: that one gets
        // a scratch of its own.
        let candidates = SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => check(&mut scratch),
            Err(_) => check(&mut Vec::new()),
        });
        let retained = self
            .inventory_rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| Some((index, rule.retain(object)?)))
            .collect();
        let namespace = object
            .is(&[""], "Namespace")
            .then(|| (object.name().to_owned(), labels_of(object.metadata().and_then(|meta| meta.get("labels")))));
        Observed { candidates, retained, namespace }
    }

    fn finish(&self, mut harvest: Harvest, texts: &TextPool) -> Outcome {
        let namespaces = &harvest.namespaces;
        let stands = |candidate: &Candidate| {
            let name = candidate.finding.object.namespace.as_deref();
            candidate.stands(&NamespaceFacts { name, labels: name.and_then(|name| namespaces.get(name)) })
        };
        let retained = std::mem::take(&mut harvest.retained);
        let mut batches = std::mem::take(&mut harvest.batches);
        // The inventory analyses and the namespace gates of the per-object findings need
        // nothing of each other: decided side by side, they give the exact count of findings,
        // so the one copy below goes into a buffer of the final size and never grows.
        let (mut inventory, ()) = rayon::join(
            || self.check_inventory(retained, texts),
            || batches.par_iter_mut().for_each(|batch| batch.retain(stands)),
        );
        inventory.retain(stands);
        let mut findings = Vec::with_capacity(batches.iter().map(Vec::len).sum::<usize>() + inventory.len());
        // Each batch is freed as soon as it has been moved.
        for batch in batches.into_iter().chain([inventory]) {
            findings.extend(batch.into_iter().map(|candidate| candidate.finding));
        }
        sort_findings(&mut findings);
        findings.dedup();
        Outcome { findings, objects: harvest.objects, ..Outcome::default() }
    }

    /// Runs every inventory analysis on what it retained, all at once.
    fn check_inventory(&self, mut retained: Vec<Vec<Object>>, texts: &TextPool) -> Vec<Candidate> {
        retained.resize_with(self.inventory_rules.len(), Vec::new);
        self.inventory_rules
            .par_iter()
            .zip(retained)
            .flat_map_iter(|(rule, mut retained)| {
                // Stable input to the analysis whatever order threads (or a live cluster's
                // pages) delivered objects in; a cluster's lists per namespace share a file.
                retained.par_sort_unstable_by(|a, b| {
                    (&a.origin.file, a.origin.document, a.origin.item, a.namespace(), a.name())
                        .cmp(&(&b.origin.file, b.origin.document, b.origin.item, b.namespace(), b.name()))
                });
                let mut candidates = Vec::new();
                rule.check(&retained, &mut candidates);
                // Freeing tens of thousands of small trees takes a while and nothing waits
                // for it: it runs on whichever core the rest of the scan leaves idle.
                rayon::spawn(move || drop(retained));
                for candidate in &mut candidates {
                    texts.share(&mut candidate.finding);
                }
                candidates
            })
            .collect()
    }
}

/// Sorts findings into report order ([`Finding::sort_key`]) on every core, in place.
fn sort_findings(findings: &mut [Finding]) {
    findings.par_sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Control, Framework, Node, RuleMeta, Severity};
    use std::sync::Arc;

    static HOST_PID: RuleMeta = RuleMeta {
        id: "test/host-pid",
        title: "hostPID",
        severity: Severity::High,
        doc: "",
        remediation: "unset hostPID",
        controls: &[Control::new(Framework::Cis, "5.2.3")],
    };

    /// Reports hostPID pods, but only in namespaces labelled `strict=true`, the way PSS levels
    /// are decided per namespace.
    struct HostPid;

    impl Rule for HostPid {
        fn meta(&self) -> &'static RuleMeta {
            &HOST_PID
        }

        fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
            if object.root.pointer("/spec/hostPID").and_then(Node::as_bool) == Some(true) {
                sink.report_when(
                    "/spec/hostPID".into(),
                    "hostPID is set".into(),
                    Arc::new(|facts: &NamespaceFacts<'_>| {
                        facts.labels.and_then(|l| l.get("strict")).map(String::as_str) == Some("true")
                    }),
                );
            }
        }
    }

    #[test]
    fn namespace_gates_are_decided_after_every_input_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let pod = |ns: &str| {
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: {ns}\nspec:\n  hostPID: true\n")
        };
        // The Namespace comes in a later file than the pod it governs.
        std::fs::write(dir.path().join("a-pods.yaml"), format!("{}---\n{}", pod("strict"), pod("lax"))).unwrap();
        std::fs::write(
            dir.path().join("b-ns.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: strict\n  labels: {strict: 'true'}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: lax}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("c-bad.yaml"), "kind: [\n").unwrap();
        let engine = Engine::new(vec![Box::new(HostPid)], Vec::new());
        let outcome = engine.scan_paths(&[dir.path().to_path_buf()]);
        assert_eq!((outcome.files, outcome.objects), (3, 4));
        assert_eq!(outcome.findings.len(), 1, "{:?}", outcome.findings);
        let finding = &outcome.findings[0];
        assert_eq!(finding.object.namespace.as_deref(), Some("strict"));
        assert_eq!((finding.location.line, finding.location.column), (7, 12));
        assert!(finding.location.file.ends_with("a-pods.yaml"));
        assert_eq!(outcome.errors.len(), 1);
        assert!(outcome.errors[0].file.ends_with("c-bad.yaml"));
    }

    #[test]
    fn one_object_is_checked_against_known_namespace_facts() {
        let engine = Engine::new(vec![Box::new(HostPid)], Vec::new());
        let loaded = palisade_load::load_str(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {hostPID: true}\n",
            "request",
        );
        let pod = &loaded.objects[0];
        let strict: BTreeMap<String, String> = [("strict".to_owned(), "true".to_owned())].into();
        let facts = NamespaceFacts { name: Some("a"), labels: Some(&strict) };
        let findings = engine.check_object(pod, &facts);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].location.path, "/spec/hostPID");
        let lax = NamespaceFacts { name: Some("a"), labels: None };
        assert!(engine.check_object(pod, &lax).is_empty());
    }
}

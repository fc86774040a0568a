//! Kyverno policies as Palisade rules: each rule of a ClusterPolicy or Policy (and each rule
//! autogen derives for pod controllers) reports under `kyverno/<policy>/<rule>` with Kyverno's
//! message, on every door that runs rules (manifest and cluster scans, the admission webhook).
//!
//! A manifest is judged as `kyverno apply` judges it (a CREATE; a namespaced object without a
//! namespace is in `default`); Audit and `background: false` policies run too. A rule whose
//! `match` or `exclude` selects namespaces by label is decided once the labels of the object's
//! Namespace are known (the end of a scan, or the admission request): without that Namespace,
//! the namespace has no labels, as for `kyverno apply`. Failures are findings at the severity the
//! failure action implies (Enforce high, Audit medium). Policies whose `context` reads ConfigMaps
//! or the API server are judged once the whole scan is read, against the scanned objects; in the
//! admission webhook (no inventory) they report an error finding. Rules Kyverno would answer with an error,
//! and rules Palisade does not evaluate (mutate, generate, verifyImages, some validations), are
//! info findings that say so, never a silent pass. PolicyExceptions among the policies exempt
//! what they name, as in Kyverno.

use std::collections::HashMap;
use std::cell::OnceCell;
use std::sync::{Arc, LazyLock, Mutex};

use palisade_core::{Candidate, Finding, FindingSink, InventoryRule, Labels, Object, Rule, RuleMeta, Severity};
use palisade_kyverno::engine::{self, ContextSource, NoContext, Prepared, Status};
use palisade_kyverno::exception::Exception;
use palisade_kyverno::policy::{FailureAction, Policy};
use palisade_kyverno::request::Request;

use crate::per_object::LastObject;

const REMEDIATION: &str = "Change the object so that the Kyverno rule admits it, or narrow the rule's `match`/`exclude`.";

/// The rule of a Kyverno rule: made once per (id, severity) and kept for the process, since
/// findings hold their rule's text by `'static` reference.
fn rule_meta(policy: &Policy, rule: &str, action: FailureAction) -> &'static RuleMeta {
    static RULES: LazyLock<Mutex<HashMap<(String, Severity), &'static RuleMeta>>> = LazyLock::new(Default::default);
    let severity = match action {
        FailureAction::Enforce => Severity::High,
        FailureAction::Audit => Severity::Medium,
    };
    let id = policy.rule_id(rule);
    let mut rules = RULES.lock().unwrap_or_else(|poison| poison.into_inner());
    rules.entry((id.clone(), severity)).or_insert_with(|| {
        let title = format!("Kyverno policy {} rule {rule} failed", policy.name);
        Box::leak(Box::new(RuleMeta {
            id: Box::leak(id.into_boxed_str()),
            title: Box::leak(title.into_boxed_str()),
            severity,
            doc: "",
            remediation: REMEDIATION,
            controls: &[],
        }))
    })
}

/// Each rule's id and what it does at admission: `deny` for Enforce; Audit admits and records.
pub fn enforcement_actions(policies: &[Policy]) -> Vec<(&'static str, String)> {
    policies
        .iter()
        .flat_map(|policy| policy.all_rules().map(move |rule| (rule_meta(policy, &rule.name, rule.failure_action).id, action_name(rule.failure_action).to_owned())))
        .collect()
}

fn action_name(action: FailureAction) -> &'static str {
    match action {
        FailureAction::Enforce => "deny",
        FailureAction::Audit => "audit",
    }
}

/// One Palisade rule per Kyverno rule, written or generated; with `inventory` (a whole scan), the
/// rules of policies whose `context` reads ConfigMaps or the API server run once every object is
/// read, served from the scanned objects (one inventory rule; empty when there are none).
pub fn rules(policies: Vec<Policy>, exceptions: Vec<Exception>, inventory: bool) -> (Vec<Box<dyn Rule>>, Vec<Box<dyn InventoryRule>>) {
    let exceptions = Arc::new(exceptions);
    let mut rules: Vec<Box<dyn Rule>> = Vec::new();
    let mut context_rules = Vec::new();
    for policy in policies.into_iter().map(Arc::new) {
        let reads_cluster = inventory && policy.reads_cluster();
        for rule in policy.all_rules() {
            let kyverno_rule = KyvernoRule {
                meta: rule_meta(&policy, &rule.name, rule.failure_action),
                policy: policy.clone(),
                rule: rule.name.clone(),
                exceptions: exceptions.clone(),
            };
            if reads_cluster {
                context_rules.push(kyverno_rule);
            } else {
                rules.push(Box::new(kyverno_rule));
            }
        }
    }
    let inventory_rules: Vec<Box<dyn InventoryRule>> = if context_rules.is_empty() { Vec::new() } else { vec![Box::new(ClusterContextRules { rules: context_rules })] };
    (rules, inventory_rules)
}

struct KyvernoRule {
    meta: &'static RuleMeta,
    policy: Arc<Policy>,
    rule: String,
    /// Every PolicyException loaded; each names the policies and rules it exempts.
    exceptions: Arc<Vec<Exception>>,
}

impl KyvernoRule {
    /// The rule's verdict on `object` with the namespace's labels (`None`: not known yet).
    fn judge(&self, object: &serde_json::Value, labels: Option<Labels>, source: &dyn ContextSource) -> Option<engine::RuleResponse> {
        self.judge_request(&Prepared::new(Request::create(object.clone(), labels)), source)
    }

    fn judge_request(&self, prepared: &Prepared, source: &dyn ContextSource) -> Option<engine::RuleResponse> {
        let rule = self.policy.rules_for(&prepared.request.kind).find(|rule| rule.name == self.rule)?;
        engine::validate_prepared(&self.policy, rule, prepared, source, &self.exceptions)
    }

    fn waits_for_labels(&self) -> bool {
        self.policy.all_rules().filter(|rule| rule.name == self.rule).any(|rule| rule.matching.uses_namespace_selector() || rule.exclude.as_ref().is_some_and(|exclude| exclude.uses_namespace_selector()))
    }

    /// Whether the rule is evaluated for this kind (written, or generated for it) and its `match`
    /// kinds can select it, so other objects cost no request.
    fn applies_to(&self, object: &Object) -> bool {
        let api_version = object.api_version();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.policy.rules_for(object.kind()).any(|rule| rule.name == self.rule && rule.matching.may_match_kind(group, version, object.kind()))
    }

    /// A finding's severity, message and pointer for a response that is not a pass or skip.
    fn finding(&self, object: &Object, response: engine::RuleResponse) -> Option<(Severity, String, String)> {
        let (severity, message) = match response.status {
            Status::Pass | Status::Skip => return None,
            Status::Fail => (self.meta.severity, response.message),
            Status::Error => (Severity::Info, format!("error: {}", response.message)),
            Status::NotEvaluated => (Severity::Info, format!("not evaluated: {}", response.message)),
        };
        let pointer = response.path.map(|path| deepest_present(object, &path)).unwrap_or_default();
        Some((severity, message, pointer))
    }
}

impl Rule for KyvernoRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if !self.applies_to(object) {
            return;
        }
        let Some(response) = self.judge_request(&prepared(object), &NoContext) else { return };
        let status = response.status;
        let Some((severity, message, pointer)) = self.finding(object, response) else { return };
        if !self.waits_for_labels() {
            sink.report_at(severity, pointer, message);
            return;
        }
        // Decided once the Namespace's labels are known: the same rule, judged again with them.
        let this = KyvernoRule { meta: self.meta, policy: self.policy.clone(), rule: self.rule.clone(), exceptions: self.exceptions.clone() };
        let json = object.json().clone();
        let gate = Arc::new(move |facts: &palisade_core::NamespaceFacts<'_>| {
            let labels = facts.labels.cloned().unwrap_or_default();
            this.judge(&json, Some(labels), &NoContext).is_some_and(|again| again.status == status)
        });
        sink.report_when_at(severity, pointer, message, gate);
    }
}

thread_local! {
    /// The request of the last object this thread judged: its Kyverno rules share one.
    static LAST_PREPARED: LastObject<Arc<Prepared>> = const { LastObject::new() };
}

/// The CREATE request of `object` with the namespace's labels not known yet, prepared once for
/// all the Kyverno rules that judge it.
fn prepared(object: &Object) -> Arc<Prepared> {
    LAST_PREPARED.with(|last| last.get_or(object, || Arc::new(Prepared::new(Request::create(object.json().clone(), None)))))
}

/// The rules of policies whose `context` reads ConfigMaps or the API server, judged once the
/// whole input is read: ConfigMaps, Namespaces (and their labels) and API lists come from the
/// scanned objects, as a cluster would serve them.
struct ClusterContextRules {
    rules: Vec<KyvernoRule>,
}

impl InventoryRule for ClusterContextRules {
    fn metas(&self) -> Vec<&'static RuleMeta> {
        self.rules.iter().map(|rule| rule.meta).collect()
    }

    fn retain(&self, object: &Object) -> Option<Object> {
        Some(object.clone())
    }

    fn check(&self, retained: &[Object], out: &mut Vec<Candidate>) {
        let objects: Vec<serde_json::Value> = retained.iter().map(|object| object.root.to_json()).collect();
        let cluster = ScannedCluster::new(&objects);
        for (object, json) in retained.iter().zip(&objects) {
            let labels = object.namespace().and_then(|namespace| cluster.namespace_labels(namespace)).unwrap_or_default();
            let prepared = OnceCell::new();
            for rule in self.rules.iter().filter(|rule| rule.applies_to(object)) {
                let prepared = prepared.get_or_init(|| Prepared::new(Request::create(json.clone(), Some(labels.clone()))));
                let Some(response) = rule.judge_request(prepared, &cluster) else { continue };
                let Some((severity, message, pointer)) = rule.finding(object, response) else { continue };
                let mut finding = Finding::new(rule.meta, object, pointer, message);
                finding.severity = severity;
                out.push(Candidate { finding, gate: None });
            }
        }
    }
}

/// The scanned objects answering as an API server would: ConfigMaps by name, and GETs of
/// `/api/v1/namespaces[/<name>]` and of the lists and objects of core and `apis/<group>/<version>`
/// resources (plural as the kind's lowercase plus `s`).
struct ScannedCluster<'a> {
    /// The objects by API version and resource (the kind's lowercase plus `s`), in scan order:
    /// each lookup reads one bucket, so judging every object stays linear in the scan.
    by_resource: HashMap<(String, String), Vec<&'a serde_json::Value>>,
    namespace_labels: HashMap<&'a str, Labels>,
}

impl<'a> ScannedCluster<'a> {
    fn new(objects: &'a [serde_json::Value]) -> Self {
        let mut by_resource: HashMap<(String, String), Vec<&serde_json::Value>> = HashMap::new();
        let mut namespace_labels = HashMap::new();
        for object in objects {
            let kind = Self::field(object, "/kind");
            by_resource.entry((Self::field(object, "/apiVersion").to_owned(), format!("{}s", kind.to_lowercase()))).or_default().push(object);
            if kind == "Namespace" {
                let labels = object.pointer("/metadata/labels").and_then(serde_json::Value::as_object).map(|labels| labels.iter().map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_owned())).collect()).unwrap_or_default();
                namespace_labels.entry(Self::field(object, "/metadata/name")).or_insert(labels);
            }
        }
        ScannedCluster { by_resource, namespace_labels }
    }

    fn field<'v>(object: &'v serde_json::Value, pointer: &str) -> &'v str {
        object.pointer(pointer).and_then(serde_json::Value::as_str).unwrap_or_default()
    }

    fn namespace_labels(&self, namespace: &str) -> Option<Labels> {
        self.namespace_labels.get(namespace).cloned()
    }

    fn resources(&self, api_version: &str, resource: &str) -> &[&'a serde_json::Value] {
        self.by_resource.get(&(api_version.to_owned(), resource.to_owned())).map(Vec::as_slice).unwrap_or_default()
    }
}

impl ContextSource for ScannedCluster<'_> {
    fn config_map(&self, namespace: &str, name: &str) -> Option<serde_json::Value> {
        self.resources("v1", "configmaps")
            .iter()
            .find(|object| Self::field(object, "/metadata/namespace") == namespace && Self::field(object, "/metadata/name") == name)
            .map(|object| (*object).clone())
    }

    fn api_get(&self, url_path: &str) -> Result<serde_json::Value, String> {
        let path = url_path.split('?').next().unwrap_or_default().trim_end_matches('/');
        let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
        let (group_version, rest) = match parts.as_slice() {
            ["api", version, rest @ ..] => ((*version).to_owned(), rest),
            ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
            _ => return Err(format!("{url_path}: not an API path the scanned objects can answer")),
        };
        let (namespace, resource, name) = match rest {
            ["namespaces"] => (None, "namespaces", None),
            ["namespaces", name] => (None, "namespaces", Some(*name)),
            ["namespaces", namespace, resource] => (Some(*namespace), *resource, None),
            ["namespaces", namespace, resource, name] => (Some(*namespace), *resource, Some(*name)),
            [resource] => (None, *resource, None),
            [resource, name] => (None, *resource, Some(*name)),
            _ => return Err(format!("{url_path}: not an API path the scanned objects can answer")),
        };
        let selected: Vec<serde_json::Value> = self
            .resources(&group_version, resource)
            .iter()
            .filter(|object| namespace.is_none_or(|namespace| Self::field(object, "/metadata/namespace") == namespace))
            .filter(|object| name.is_none_or(|name| Self::field(object, "/metadata/name") == name))
            .map(|object| (*object).clone())
            .collect();
        match name {
            Some(_) => selected.into_iter().next().ok_or_else(|| format!("{url_path}: not found among the scanned objects")),
            None => Ok(serde_json::json!({"apiVersion": "v1", "kind": "List", "items": selected})),
        }
    }
}

/// The longest prefix of Kyverno's failure path (`/spec/containers/0/image/`) that is present in
/// the object, as a JSON pointer: the failing field, or the nearest parent when the field is
/// missing. Kyverno does not escape `/` inside keys, so a label key with one ends early.
fn deepest_present(object: &Object, path: &str) -> String {
    let mut pointer = path.trim_end_matches('/');
    while !pointer.is_empty() && object.root.pointer(pointer).is_none() {
        pointer = pointer.rfind('/').map_or("", |slash| &pointer[..slash]);
    }
    pointer.to_owned()
}

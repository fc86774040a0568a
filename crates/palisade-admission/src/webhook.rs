//! One AdmissionReview in, one decision out: decoding with clear errors, exemptions, the same
//! rules and namespace gates as `palisade scan`, UPDATE handling, modes, the decision log and
//! metrics.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use palisade_core::{Finding, Map, Mark, NamespaceFacts, Node, Object, Origin, PodView, Value, pointer_tokens};
use palisade_scan::Engine;
use palisade_server::metrics::{Counter, Histogram, LATENCY_BUCKETS, Registry};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::image_policy::ImagePolicy;
use crate::namespaces::NamespaceStore;
use crate::review::{API_VERSION, AdmissionRequest, AdmissionResponse, AdmissionReview, KIND, ReviewResponse, Status};
use crate::settings::{Mode, Settings};

/// Where decision log lines go (standard output in the binary).
pub type DecisionLog = Box<dyn Fn(&str) + Send + Sync>;

/// Applied to each request's findings before modes are: the CLI uses it for the configuration's
/// exceptions.
pub type FindingFilter = Box<dyn Fn(Vec<Finding>) -> Vec<Finding> + Send + Sync>;

/// A request that is not a usable AdmissionReview: answered 400 with this message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

/// Warnings longer than this are cut: the API server may truncate longer ones anyway.
const MAX_WARNING_CHARS: usize = 256;
/// Violations listed in a denial message, in the warnings and in the audit annotation; the
/// others are counted in a last line ("and 12 more violations").
const MAX_LISTED: usize = 20;
/// Violations listed in a decision log line; `violationsNotListed` counts the others.
const MAX_LOGGED_VIOLATIONS: usize = 100;
/// A listed line, a logged field or message is cut at this length: finding messages quote
/// names and values from the object.
const MAX_LINE_CHARS: usize = 512;

pub struct Webhook {
    engine: Engine,
    settings: Settings,
    namespaces: Arc<NamespaceStore>,
    log: DecisionLog,
    filter: Option<FindingFilter>,
    image_policy: Option<ImagePolicy>,
    slots: Arc<Semaphore>,
    origin: Arc<str>,
    requests: Arc<Counter>,
    decisions: Arc<Counter>,
    latency: Arc<Histogram>,
}

/// How a request was disposed of, for the log and the request counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disposition {
    Allowed,
    Denied,
    Exempt,
    /// DELETE, CONNECT and subresources other than `ephemeralcontainers`: nothing to judge.
    Skipped,
}

/// What [`Webhook::decide`] settled: the answer, how the request was disposed of, and each
/// finding with the mode it took.
struct Decision {
    response: AdmissionResponse,
    disposition: Disposition,
    findings: Vec<(Finding, Mode)>,
}

impl Disposition {
    fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Exempt => "exempt",
            Self::Skipped => "skipped",
        }
    }
}

impl Webhook {
    /// `engine` holds the same single-object rules `palisade scan` runs (built with
    /// `settings.defaults` as the Pod Security default); metrics register in `registry`.
    pub fn new(
        engine: Engine,
        settings: Settings,
        namespaces: Arc<NamespaceStore>,
        registry: &Registry,
        log: DecisionLog,
    ) -> Self {
        Self {
            engine,
            settings,
            namespaces,
            log,
            filter: None,
            image_policy: None,
            slots: Arc::new(Semaphore::new(crate::capacity::DEFAULT_REVIEW_SLOTS)),
            origin: Arc::from("admission-request"),
            requests: registry.counter(
                "palisade_admission_requests_total",
                "AdmissionReview requests, by operation and result (allowed, denied, exempt, skipped, error).",
                &["operation", "result"],
            ),
            decisions: registry.counter(
                "palisade_admission_decisions_total",
                "Rule violations found at admission, by rule and result (denied, warned, audited).",
                &["rule", "result"],
            ),
            latency: registry.histogram(
                "palisade_admission_review_duration_seconds",
                "Time to decode, evaluate and answer one AdmissionReview.",
                &[],
                LATENCY_BUCKETS,
            ),
        }
    }

    /// The same webhook, passing each request's findings through `filter` first.
    pub fn with_filter(mut self, filter: FindingFilter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The same webhook, also judging each container's image by `policy` (its findings do not
    /// pass through the [`FindingFilter`]: the policy has its own exemptions).
    pub fn with_image_policy(mut self, policy: ImagePolicy) -> Self {
        self.image_policy = Some(policy);
        self
    }

    /// The same webhook, evaluating at most `slots` reviews at once (see [`crate::capacity`]).
    pub fn with_review_slots(mut self, slots: usize) -> Self {
        self.slots = Arc::new(Semaphore::new(slots.max(1)));
        self
    }

    /// `POST /validate`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().route("/validate", post(validate)).with_state(self)
    }

    /// Decides one AdmissionReview body.
    pub fn review(&self, body: &[u8]) -> Result<ReviewResponse, BadRequest> {
        let started = Instant::now();
        let review: AdmissionReview = serde_json::from_slice(body)
            .map_err(|error| BadRequest(format!("malformed AdmissionReview JSON: {error}")))?;
        if review.api_version != API_VERSION || review.kind != KIND {
            return Err(BadRequest(format!(
                "expected apiVersion {API_VERSION} and kind {KIND}, got apiVersion {:?} and kind {:?}",
                review.api_version, review.kind
            )));
        }
        let mut request = review.request.ok_or_else(|| BadRequest("AdmissionReview without a request".into()))?;
        let name = object_name(&request);
        let Decision { response, disposition, findings } = self.decide(&mut request)?;
        // The operation is client-supplied text: only known values become label values, so a
        // caller cannot grow the metric without bound.
        let operation = match request.operation.as_str() {
            known @ ("CREATE" | "UPDATE" | "DELETE" | "CONNECT") => known,
            _ => "other",
        };
        self.requests.inc(&[operation, disposition.as_str()]);
        self.latency.observe(&[], started.elapsed().as_secs_f64());
        self.log_decision(&request, &name, &response, disposition, &findings, started);
        Ok(ReviewResponse::new(response))
    }

    /// Takes the request's object: it is moved into the tree the rules read, never copied.
    fn decide(&self, request: &mut AdmissionRequest) -> Result<Decision, BadRequest> {
        let allow = |disposition| {
            let response = AdmissionResponse {
                uid: request.uid.clone(),
                allowed: true,
                status: None,
                warnings: Vec::new(),
                audit_annotations: BTreeMap::new(),
            };
            Ok(Decision { response, disposition, findings: Vec::new() })
        };
        let evaluated = matches!(request.operation.as_str(), "CREATE" | "UPDATE")
            && (request.sub_resource.is_empty() || request.sub_resource == "ephemeralcontainers");
        if !evaluated {
            return allow(Disposition::Skipped);
        }
        let exemptions = &self.settings.exemptions;
        if exemptions.namespaces.contains(&request.namespace) || exemptions.usernames.contains(&request.user_info.username) {
            return allow(Disposition::Exempt);
        }
        let json = request
            .object
            .take()
            .ok_or_else(|| BadRequest(format!("{} request without an object", request.operation)))?;
        let object = self.object(json, &request.namespace)?;
        let runtime_class = PodView::of(&object).and_then(|pod| pod.spec_field("runtimeClassName")).and_then(Node::as_str);
        if runtime_class.is_some_and(|class| exemptions.runtime_classes.contains(class)) {
            return allow(Disposition::Exempt);
        }

        let live = self.namespaces.get(&request.namespace);
        let labels = live.as_deref().or_else(|| self.settings.namespaces.get(&request.namespace));
        let name = (!request.namespace.is_empty()).then_some(request.namespace.as_str());
        let facts = NamespaceFacts { name, labels };
        let mut findings = self.engine.check_object(&object, &facts);
        let mut image_findings = self.image_policy.as_ref().map(|policy| policy.judge(&object)).unwrap_or_default();
        // A pod's spec is immutable but for a few fields (images, tolerations, ...), so a
        // violation on a field a Pod update leaves as it was cannot be fixed by the user and
        // was judged when the pod was created: only changed fields count.
        let old_pod = request.old_object.as_ref().filter(|_| request.operation == "UPDATE" && object.is(&[""], "Pod"));
        if let Some(old) = old_pod {
            let changed = |finding: &Finding| old.pointer(&finding.location.path) != object.root.pointer(&finding.location.path);
            findings.retain(changed);
            image_findings.retain(|(finding, _)| changed(finding));
        }
        if let Some(filter) = &self.filter {
            findings = filter(findings);
        }

        let mut denials = Listing::default();
        let mut warnings = Listing::default();
        let mut audited = Listing::default();
        let classified: Vec<(Finding, Mode)> = findings
            .into_iter()
            .map(|finding| {
                let mode = self.settings.mode_of(finding.rule);
                (finding, mode)
            })
            .chain(image_findings)
            .map(|(finding, mode)| {
                // A finding on the object as a whole (a Gatekeeper violation) has no field to name.
                let line = || match field_path(&finding.location.path) {
                    path if path.is_empty() => format!("{} ({}): {}", finding.rule, finding.severity, finding.message),
                    path => format!("{} ({}) at {path}: {}", finding.rule, finding.severity, finding.message),
                };
                match mode {
                    Mode::Enforce => denials.add(|| truncate(line(), MAX_LINE_CHARS)),
                    Mode::Warn => warnings.add(|| truncate(line(), MAX_WARNING_CHARS)),
                    Mode::Audit => audited.add(|| truncate(line(), MAX_LINE_CHARS)),
                }
                (finding, mode)
            })
            .collect();
        for (finding, mode) in &classified {
            let result = match mode {
                Mode::Enforce => "denied",
                Mode::Warn => "warned",
                Mode::Audit => "audited",
            };
            self.decisions.inc(&[finding.rule, result]);
        }
        let denied = denials.total;
        let status = (denied > 0).then(|| Status {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "palisade: {} violates {denied} rule{}:\n- {}",
                object.reference(),
                if denied == 1 { "" } else { "s" },
                denials.lines_and_rest("violations").join("\n- ")
            ),
        });
        let mut audit_annotations = BTreeMap::new();
        if audited.total > 0 {
            audit_annotations.insert("audit-violations".to_owned(), audited.lines_and_rest("violations").join("; "));
        }
        let warnings = warnings.lines_and_rest("warnings");
        let disposition = if status.is_some() { Disposition::Denied } else { Disposition::Allowed };
        let response = AdmissionResponse {
            uid: request.uid.clone(),
            allowed: status.is_none(),
            status,
            warnings,
            audit_annotations,
        };
        Ok(Decision { response, disposition, findings: classified })
    }

    /// The request's object as the rules see it, with the request's namespace filled in where
    /// the object leaves it out (the API server defaults it from the URL).
    fn object(&self, mut root: Node, namespace: &str) -> Result<Object, BadRequest> {
        if root.as_map().is_none() {
            return Err(BadRequest("request.object must be a JSON object".into()));
        }
        if !namespace.is_empty() {
            set_namespace(&mut root, namespace);
        }
        Ok(Object::new(root, Origin { file: self.origin.clone(), document: 0, item: None }))
    }

    fn log_decision(
        &self,
        request: &AdmissionRequest,
        name: &str,
        response: &AdmissionResponse,
        disposition: Disposition,
        findings: &[(Finding, Mode)],
        started: Instant,
    ) {
        let violations: Vec<_> = findings
            .iter()
            .take(MAX_LOGGED_VIOLATIONS)
            .map(|(finding, mode)| {
                json!({
                    "rule": finding.rule,
                    "severity": finding.severity,
                    "mode": mode.as_str(),
                    "field": truncate(field_path(&finding.location.path), MAX_LINE_CHARS),
                    "message": truncate(finding.message.to_string(), MAX_LINE_CHARS),
                })
            })
            .collect();
        let kind = &request.kind;
        let line = palisade_server::log::line(
            "info",
            "admission decision",
            json!({
                "uid": request.uid,
                "operation": request.operation,
                "kind": format!("{}/{}/{}", kind.group, kind.version, kind.kind),
                "subResource": request.sub_resource,
                "namespace": request.namespace,
                "name": name,
                "user": request.user_info.username,
                "dryRun": request.dry_run.unwrap_or(false),
                "result": disposition.as_str(),
                "allowed": response.allowed,
                "violations": violations,
                "violationsNotListed": findings.len().saturating_sub(MAX_LOGGED_VIOLATIONS),
                "durationMicros": started.elapsed().as_micros() as u64,
            }),
        );
        (self.log)(&line);
    }

    fn count_error(&self) {
        self.requests.inc(&["unknown", "error"]);
    }
}

async fn validate(State(webhook): State<Arc<Webhook>>, headers: HeaderMap, body: Bytes) -> Response {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(';').next().is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json")));
    if !json_body {
        webhook.count_error();
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected Content-Type: application/json".into());
    }
    // A review is CPU work: it runs on the rayon pool, at most `review_slots` at once, so
    // the async workers keep answering probes and accepting connections, and the server's
    // request deadline answers 503 while a review (or the wait for a slot) runs late. A review
    // past its deadline finishes in the background holding its slot, so memory stays bounded.
    let Ok(slot) = webhook.slots.clone().acquire_owned().await else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down".into());
    };
    let worker = webhook.clone();
    let (answer, outcome) = tokio::sync::oneshot::channel();
    // On the pool the rules already spread over, so a review wakes one thread, not a blocking
    // thread that then wakes the pool.
    rayon::spawn(move || {
        let _slot = slot;
        // A rule that panics must cost one request, not the server: the API server then
        // applies the webhook's failurePolicy.
        let _ = answer.send(std::panic::catch_unwind(AssertUnwindSafe(|| worker.review(&body).map(|review| serde_json::to_vec(&review)))));
    });
    match outcome.await {
        Ok(Ok(Ok(Ok(bytes)))) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Ok(Ok(Ok(Err(failure)))) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode the response: {failure}")),
        Ok(Ok(Err(BadRequest(message)))) => {
            webhook.count_error();
            error(StatusCode::BAD_REQUEST, message)
        }
        Ok(Err(_)) | Err(_) => {
            webhook.count_error();
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error while evaluating the request".into())
        }
    }
}

/// The name the decision log shows: on CREATE the request carries no name when the object
/// uses generateName, so the object's own is taken.
fn object_name(request: &AdmissionRequest) -> String {
    let name = if request.name.is_empty() {
        request.object.as_ref().and_then(|object| object.pointer("/metadata/name")).and_then(Node::as_str).unwrap_or("")
    } else {
        &request.name
    };
    truncate(name.to_owned(), MAX_LINE_CHARS)
}

/// The first [`MAX_LISTED`] lines of a kind, and how many there were: a denial message,
/// the warnings and the audit annotation stay small whatever the object holds.
#[derive(Default)]
struct Listing {
    lines: Vec<String>,
    total: usize,
}

impl Listing {
    /// Counts one more line, building it only when it is listed.
    fn add(&mut self, line: impl FnOnce() -> String) {
        self.total += 1;
        if self.lines.len() < MAX_LISTED {
            self.lines.push(line());
        }
    }

    /// The listed lines and, when some were left out, a last line saying how many.
    fn lines_and_rest(mut self, what: &str) -> Vec<String> {
        let rest = self.total - self.lines.len();
        if rest > 0 {
            self.lines.push(format!("and {rest} more {what}"));
        }
        self.lines
    }
}

/// Sets `metadata.namespace` when the object leaves it empty.
fn set_namespace(root: &mut Node, namespace: &str) {
    let Value::Map(fields) = &mut root.value else { return };
    let mut metadata = fields.take("metadata").unwrap_or_else(|| Node::new(Value::Map(Map::new()), Mark::default()));
    if let Value::Map(meta) = &mut metadata.value {
        if meta.get("namespace").and_then(Node::as_str).is_none_or(str::is_empty) {
            meta.insert("namespace".into(), Mark::default(), Node::new(Value::Str(namespace.into()), Mark::default()));
        }
    }
    fields.insert("metadata".into(), Mark::default(), metadata);
}

fn error(status: StatusCode, message: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], json!({"error": message}).to_string()).into_response()
}

/// `/spec/containers/0/securityContext` as `spec.containers[0].securityContext`, the way
/// kubectl and the API server name fields.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for token in pointer_tokens(pointer) {
        if !token.is_empty() && token.bytes().all(|byte| byte.is_ascii_digit()) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

pub(crate) fn truncate(mut text: String, max_chars: usize) -> String {
    if let Some((index, _)) = text.char_indices().nth(max_chars) {
        text.truncate(index - text[..index].chars().next_back().map_or(0, char::len_utf8));
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_kubectl_field_paths() {
        assert_eq!(field_path("/spec/containers/0/securityContext/privileged"), "spec.containers[0].securityContext.privileged");
        assert_eq!(field_path("/metadata/annotations/a~1b"), "metadata.annotations.a/b");
        assert_eq!(field_path(""), "");
    }

    #[test]
    fn listings_keep_the_first_lines_build_no_others_and_count_the_rest() {
        let mut listing = Listing::default();
        let mut built = 0;
        for index in 0..MAX_LISTED + 7 {
            listing.add(|| {
                built += 1;
                format!("v{index}")
            });
        }
        assert_eq!(built, MAX_LISTED);
        let lines = listing.lines_and_rest("violations");
        assert_eq!(lines.len(), MAX_LISTED + 1);
        assert_eq!((lines[0].as_str(), lines[MAX_LISTED].as_str()), ("v0", "and 7 more violations"));
        let mut few = Listing::default();
        few.add(|| "only".into());
        assert_eq!(few.lines_and_rest("warnings"), ["only"]);
    }

    #[test]
    fn long_warnings_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("short".into(), 10), "short");
        let cut = truncate("é".repeat(300), 256);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with('…'));
    }
}

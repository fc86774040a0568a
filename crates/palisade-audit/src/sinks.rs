//! Where alerts go: standard output or a file (Falco's JSON lines), a generic JSON webhook,
//! Slack and PagerDuty Events v2.
//!
//! A sink renders an alert into its payload (one JSON line) and makes one attempt to deliver
//! it; retries, back-off, the circuit breaker and the spool are [`crate::delivery`]'s, so every
//! sink gets them the same way.

use std::io::Write;
use std::time::Duration;

use crate::engine::{Alert, Priority};

/// Why one delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// The receiver refused this payload for good (a 4xx other than 429): retrying or
    /// spooling it cannot help.
    pub permanent: bool,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self { message: message.into(), permanent: false }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One destination: how alerts are rendered for it, and the transport that carries them.
/// Rendering happens where alerts are raised; only the transport runs on the sink's own
/// delivery thread.
pub struct Sink {
    /// Unique among the configured sinks (metrics label, spool directory name).
    pub name: String,
    pub format: Format,
    pub transport: Box<dyn Transport>,
}

/// Makes one attempt to deliver one rendered payload.
pub trait Transport: Send {
    fn deliver(&mut self, payload: &str) -> Result<(), SendError>;
}

/// What a payload looks like; every format is a single line of JSON.
#[derive(Clone, Debug)]
pub enum Format {
    /// The alert itself, as Falco's JSON.
    Falco,
    /// A Slack incoming-webhook message.
    Slack,
    /// A PagerDuty Events API v2 `trigger`.
    PagerDuty { routing_key: String },
}

impl Format {
    pub fn render(&self, alert: &Alert) -> String {
        match self {
            Format::Falco => alert.to_json(),
            Format::Slack => {
                let color = match Priority::parse(alert.priority) {
                    Some(p) if p <= Priority::Error => "#e01e5a",
                    Some(Priority::Warning) => "#ecb22e",
                    _ => "#2eb67d",
                };
                let mut fields = vec![
                    serde_json::json!({"title": "rule", "value": alert.rule, "short": true}),
                    serde_json::json!({"title": "priority", "value": alert.priority, "short": true}),
                    serde_json::json!({"title": "source", "value": alert.source, "short": true}),
                    serde_json::json!({"title": "time", "value": alert.time, "short": true}),
                ];
                for (k, v) in &alert.output_fields {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    fields.push(serde_json::json!({"title": k, "value": value, "short": value.len() < 40}));
                }
                serde_json::json!({
                    "text": alert.output,
                    "attachments": [{"color": color, "fallback": alert.output, "fields": fields, "footer": format!("palisade on {}", alert.hostname)}]
                })
                .to_string()
            }
            Format::PagerDuty { routing_key } => {
                let severity = match Priority::parse(alert.priority) {
                    Some(p) if p <= Priority::Critical => "critical",
                    Some(Priority::Error) => "error",
                    Some(Priority::Warning) => "warning",
                    _ => "info",
                };
                // PagerDuty caps the summary at 1024 characters.
                let summary: String = alert.output.chars().take(1024).collect();
                // The same alert sent again (a batch `--follow` reads again after a crash) is the
                // same PagerDuty alert, not a new one.
                let identity = format!("{}\n{}\n{}", alert.rule, alert.time, alert.output);
                serde_json::json!({
                    "routing_key": routing_key,
                    "event_action": "trigger",
                    "dedup_key": format!("palisade-{:016x}", crate::follow::fnv1a(identity.as_bytes())),
                    "payload": {
                        "summary": summary,
                        "source": alert.hostname,
                        "severity": severity,
                        "timestamp": alert.time,
                        "component": "kubernetes-audit",
                        "group": alert.source,
                        "class": alert.rule,
                        "custom_details": {"output_fields": alert.output_fields, "tags": alert.tags, "rule": alert.rule}
                    }
                })
                .to_string()
            }
        }
    }
}

/// JSON lines to any writer (standard output, a file opened for appending).
pub struct Lines<W: Write + Send>(pub W);

impl<W: Write + Send> Transport for Lines<W> {
    /// Written and flushed: a payload counted delivered has left this process.
    fn deliver(&mut self, payload: &str) -> Result<(), SendError> {
        let mut line = Vec::with_capacity(payload.len() + 1);
        line.extend_from_slice(payload.as_bytes());
        line.push(b'\n');
        self.0.write_all(&line).and_then(|()| self.0.flush()).map_err(|e| SendError::transient(e.to_string()))
    }
}

/// PagerDuty's Events API v2 endpoint.
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// HTTP POST of each payload, with a 10 s deadline per attempt.
pub struct HttpPost {
    url: String,
    agent: ureq::Agent,
}

impl HttpPost {
    pub fn new(url: String) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { url, agent }
    }
}

impl Transport for HttpPost {
    fn deliver(&mut self, payload: &str) -> Result<(), SendError> {
        match self.agent.post(&self.url).content_type("application/json").send(payload) {
            Ok(response) if response.status().is_success() => Ok(()),
            // Client errors other than rate limiting will not improve with a retry.
            Ok(response) => Err(SendError {
                message: format!("{} answered {}", self.url, response.status()),
                permanent: response.status().is_client_error() && response.status().as_u16() != 429,
            }),
            Err(e) => Err(SendError::transient(format!("{}: {e}", self.url))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;

    fn alert() -> Alert {
        Alert {
            hostname: "h".into(),
            output: "10:00:00.000000000: Warning x".into(),
            output_fields: BTreeMap::from([("ka.user.name".to_string(), serde_json::json!("bob"))]),
            priority: "Warning",
            rule: "R \"q\"".into(),
            source: "k8s_audit".into(),
            tags: vec!["k8s".into()],
            time: "2026-01-01T00:00:00.000000000Z".into(),
        }
    }

    /// A one-shot HTTP server on 127.0.0.1 that answers each request with the next status and
    /// hands back the bodies it received.
    fn server(statuses: Vec<u16>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for status in statuses {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                bodies.push(String::from_utf8(body).unwrap());
                let mut stream = reader.into_inner();
                write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
            }
            bodies
        });
        (url, handle)
    }

    #[test]
    fn webhook_delivers_and_classifies_refusals() {
        let (url, handle) = server(vec![200, 503, 429, 400]);
        let mut sink = HttpPost::new(url);
        let payload = Format::Falco.render(&alert());
        sink.deliver(&payload).unwrap();
        assert!(!sink.deliver(&payload).unwrap_err().permanent);
        assert!(!sink.deliver(&payload).unwrap_err().permanent);
        assert!(sink.deliver(&payload).unwrap_err().permanent);
        let bodies = handle.join().unwrap();
        assert_eq!(bodies[0], alert().to_json());
        assert_eq!(bodies.len(), 4);
    }

    #[test]
    fn slack_and_pagerduty_payloads() {
        let (url, handle) = server(vec![200, 202]);
        HttpPost::new(url.clone()).deliver(&Format::Slack.render(&alert())).unwrap();
        let pagerduty = Format::PagerDuty { routing_key: "KEY".into() };
        HttpPost::new(url).deliver(&pagerduty.render(&alert())).unwrap();
        let bodies = handle.join().unwrap();
        let slack: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(slack["text"], "10:00:00.000000000: Warning x");
        let pd: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap();
        assert_eq!(pd["routing_key"], "KEY");
        let key = |alert: &Alert| serde_json::from_str::<serde_json::Value>(&pagerduty.render(alert)).unwrap()["dedup_key"].clone();
        let mut other = alert();
        other.output.push_str(" (another)");
        assert_eq!(pd["dedup_key"], key(&alert()), "an alert sent again is the same PagerDuty alert");
        assert_ne!(pd["dedup_key"], key(&other));
        assert_eq!(pd["event_action"], "trigger");
        assert_eq!(pd["payload"]["severity"], "warning");
        assert_eq!(pd["payload"]["custom_details"]["output_fields"]["ka.user.name"], "bob");
    }
}

//! Where alerts go: standard output or a file (Falco's JSON lines), a generic JSON webhook,
//! Slack, PagerDuty Events v2, and Prometheus counters.
//!
//! Every alert reaches every sink. A sink that fails is retried with backoff; an alert that
//! still cannot be delivered is counted (`palisade_audit_sink_failures_total{sink}`) and
//! reported on standard error, never dropped silently.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{Alert, Priority};

pub trait Sink: Send {
    fn name(&self) -> &str;
    fn send(&mut self, alert: &Alert) -> Result<(), String>;
    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// JSON lines to any writer (standard output, a file opened for appending).
pub struct LineSink<W: Write + Send> {
    name: String,
    writer: W,
}

impl<W: Write + Send> LineSink<W> {
    pub fn new(name: impl Into<String>, writer: W) -> Self {
        Self { name: name.into(), writer }
    }
}

impl<W: Write + Send> Sink for LineSink<W> {
    fn name(&self) -> &str {
        &self.name
    }
    fn send(&mut self, alert: &Alert) -> Result<(), String> {
        writeln!(self.writer, "{}", alert.to_json()).map_err(|e| e.to_string())
    }
    fn flush(&mut self) -> Result<(), String> {
        self.writer.flush().map_err(|e| e.to_string())
    }
}

#[derive(Clone, Debug)]
pub enum HttpKind {
    /// The alert itself, as Falco's JSON.
    Webhook,
    /// A Slack incoming-webhook message.
    Slack,
    /// A PagerDuty Events API v2 `trigger`.
    PagerDuty { routing_key: String },
}

/// An HTTP POST sink.
pub struct HttpSink {
    name: String,
    url: String,
    kind: HttpKind,
    agent: ureq::Agent,
    attempts: u32,
}

/// PagerDuty's Events API v2 endpoint.
pub const PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

impl HttpSink {
    pub fn new(kind: HttpKind, url: String) -> Self {
        let name = match kind {
            HttpKind::Webhook => "webhook",
            HttpKind::Slack => "slack",
            HttpKind::PagerDuty { .. } => "pagerduty",
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { name: name.to_string(), url, kind, agent, attempts: 3 }
    }

    fn body(&self, alert: &Alert) -> String {
        match &self.kind {
            HttpKind::Webhook => alert.to_json(),
            HttpKind::Slack => {
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
            HttpKind::PagerDuty { routing_key } => {
                let severity = match Priority::parse(alert.priority) {
                    Some(p) if p <= Priority::Critical => "critical",
                    Some(Priority::Error) => "error",
                    Some(Priority::Warning) => "warning",
                    _ => "info",
                };
                // PagerDuty caps the summary at 1024 characters.
                let summary: String = alert.output.chars().take(1024).collect();
                serde_json::json!({
                    "routing_key": routing_key,
                    "event_action": "trigger",
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

impl Sink for HttpSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&mut self, alert: &Alert) -> Result<(), String> {
        let body = self.body(alert);
        let mut last = String::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 << attempt));
            }
            match self.agent.post(&self.url).content_type("application/json").send(&body) {
                Ok(response) if response.status().is_success() => return Ok(()),
                // Client errors other than rate limiting will not improve with a retry.
                Ok(response) if response.status().is_client_error() && response.status().as_u16() != 429 => {
                    return Err(format!("{} answered {}", self.url, response.status()));
                }
                Ok(response) => last = format!("{} answered {}", self.url, response.status()),
                Err(e) => last = format!("{}: {e}", self.url),
            }
        }
        Err(last)
    }
}

/// Where delivery is counted: the server exports these as `palisade_audit_alerts_total{rule,priority}`
/// and `palisade_audit_sink_failures_total{sink}`; the one-shot CLI counts nothing (`()`).
pub trait Counters: Send + Sync {
    fn alert(&self, alert: &Alert);
    fn sink_failure(&self, sink: &str);
}

impl Counters for () {
    fn alert(&self, _: &Alert) {}
    fn sink_failure(&self, _: &str) {}
}

/// Sends each alert to every sink and counts what could not be delivered.
pub struct Dispatcher {
    sinks: Vec<Box<dyn Sink>>,
    counters: Arc<dyn Counters>,
}

impl Dispatcher {
    pub fn new(sinks: Vec<Box<dyn Sink>>, counters: Arc<dyn Counters>) -> Self {
        Self { sinks, counters }
    }

    /// Delivers one alert; returns how many sinks failed.
    pub fn dispatch(&mut self, alert: &Alert) -> usize {
        self.counters.alert(alert);
        let mut failed = 0;
        for sink in &mut self.sinks {
            if let Err(e) = sink.send(alert) {
                failed += 1;
                self.counters.sink_failure(sink.name());
                eprintln!("palisade: alert for rule '{}' not delivered to {}: {e}", alert.rule, sink.name());
            }
        }
        failed
    }

    pub fn flush(&mut self) -> Result<(), String> {
        for sink in &mut self.sinks {
            sink.flush().map_err(|e| format!("{}: {e}", sink.name()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorded(Mutex<Vec<String>>);

    impl Counters for Recorded {
        fn alert(&self, alert: &Alert) {
            self.0.lock().unwrap().push(format!("alert {} {}", alert.rule, alert.priority));
        }
        fn sink_failure(&self, sink: &str) {
            self.0.lock().unwrap().push(format!("failure {sink}"));
        }
    }

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
    fn webhook_retries_then_delivers() {
        let (url, handle) = server(vec![503, 200]);
        let mut sink = HttpSink::new(HttpKind::Webhook, url);
        sink.send(&alert()).unwrap();
        let bodies = handle.join().unwrap();
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[1], alert().to_json());
    }

    #[test]
    fn slack_and_pagerduty_payloads() {
        let (url, handle) = server(vec![200, 202]);
        HttpSink::new(HttpKind::Slack, url.clone()).send(&alert()).unwrap();
        HttpSink::new(HttpKind::PagerDuty { routing_key: "KEY".into() }, url).send(&alert()).unwrap();
        let bodies = handle.join().unwrap();
        let slack: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(slack["text"], "10:00:00.000000000: Warning x");
        let pd: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap();
        assert_eq!(pd["routing_key"], "KEY");
        assert_eq!(pd["event_action"], "trigger");
        assert_eq!(pd["payload"]["severity"], "warning");
        assert_eq!(pd["payload"]["custom_details"]["output_fields"]["ka.user.name"], "bob");
    }

    #[test]
    fn failures_are_counted_not_silent() {
        let (url, handle) = server(vec![400]);
        let counters = Arc::new(Recorded::default());
        let mut dispatcher = Dispatcher::new(vec![Box::new(HttpSink::new(HttpKind::Webhook, url))], counters.clone());
        assert_eq!(dispatcher.dispatch(&alert()), 1);
        handle.join().unwrap();
        assert_eq!(*counters.0.lock().unwrap(), ["alert R \"q\" Warning", "failure webhook"]);
    }
}

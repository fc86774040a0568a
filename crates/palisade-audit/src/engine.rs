//! Matching events against compiled rules and rendering alerts in Falco's JSON alert format.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::compile::{Cache, Fields, Node};
use crate::fields::{Event, FIELDS, FieldSpec};
use crate::rules::RuleSet;
use crate::time;

/// Falco's priorities, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    /// Case-insensitive, as in rule files (`WARNING`, `info`, `INFORMATIONAL`).
    pub fn parse(text: &str) -> Option<Priority> {
        Some(match text.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" | "warn" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The spelling in Falco's alerts.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

#[derive(Debug)]
enum Segment {
    Text(String),
    Field(usize),
}

/// A parsed output format: text and `%field` references.
#[derive(Debug)]
pub struct OutputFormat {
    segments: Vec<Segment>,
}

impl OutputFormat {
    /// Parses `%field` and `%field[arg]` references. Like Falco's formatter, a reference is the
    /// longest known field name at that point, so `%ka.target.name/%ka.target.resource` reads two
    /// fields. An unknown name is an error, as in Falco.
    pub fn parse(format: &str, fields: &mut Fields) -> Result<OutputFormat, String> {
        let mut segments = Vec::new();
        let mut text = String::new();
        let mut rest = format.trim_end();
        // A leading '*' asks Falco to print every field; it has no meaning for plugin events.
        rest = rest.strip_prefix('*').unwrap_or(rest);
        while let Some(at) = rest.find('%') {
            text.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let run = after.bytes().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_')).count();
            let candidate = &after[..run];
            let known = FIELDS
                .iter()
                .filter(|f| {
                    candidate.starts_with(f.name.as_str())
                        && candidate.as_bytes().get(f.name.len()).is_none_or(|&c| c == b'.')
                })
                .max_by_key(|f| f.name.len());
            let Some(info) = known else {
                if run == 0 {
                    text.push('%');
                    rest = after;
                    continue;
                }
                return Err(format!("invalid formatting token %{candidate}"));
            };
            let mut consumed = info.name.len();
            let mut arg = None;
            if after[consumed..].starts_with('[') && info.arg != crate::fields::ArgKind::None {
                let close = after[consumed..].find(']').ok_or_else(|| format!("unterminated argument in %{}", info.name))?;
                arg = Some(&after[consumed + 1..consumed + close]);
                consumed += close + 1;
            }
            let spec = FieldSpec::new(&info.name, arg, &[])?;
            if !text.is_empty() {
                segments.push(Segment::Text(std::mem::take(&mut text)));
            }
            segments.push(Segment::Field(fields.intern(spec)));
            rest = &after[consumed..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            segments.push(Segment::Text(text));
        }
        Ok(OutputFormat { segments })
    }

    fn render<'e>(
        &self,
        fields: &Fields,
        cache: &mut Cache<'e>,
        event: &'e Event<'_>,
        output_fields: &mut BTreeMap<String, serde_json::Value>,
    ) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Field(id) => {
                    let spec = &fields.specs[*id];
                    let rendered = cache.get(fields, *id, event).render(spec.is_list());
                    out.push_str(&rendered);
                    output_fields.insert(spec.display_name(), serde_json::Value::String(rendered));
                }
            }
        }
        out
    }
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub desc: String,
    pub priority: Priority,
    pub source: String,
    /// Sorted, as Falco keeps tags in a set.
    pub tags: Vec<String>,
    pub enabled: bool,
    pub(crate) output: OutputFormat,
    pub(crate) condition: Node,
}

/// Whether an event stops at its first matching rule (Falco's default) or fires every match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Matching {
    #[default]
    First,
    All,
}

/// The engine events are matched with, replaced while they are matched when the rules change
/// (FalcoAuditRules reloaded from the cluster): each batch is matched with one engine.
pub struct CurrentEngine(std::sync::RwLock<std::sync::Arc<Engine>>);

impl CurrentEngine {
    pub fn new(engine: Engine) -> Self {
        Self(std::sync::RwLock::new(std::sync::Arc::new(engine)))
    }

    pub fn get(&self) -> std::sync::Arc<Engine> {
        self.0.read().unwrap_or_else(|poison| poison.into_inner()).clone()
    }

    pub fn replace(&self, engine: Engine) {
        *self.0.write().unwrap_or_else(|poison| poison.into_inner()) = std::sync::Arc::new(engine);
    }
}

/// One alert, serialised exactly as Falco's JSON output (keys in Falco's order).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Alert {
    pub hostname: String,
    pub output: String,
    pub output_fields: BTreeMap<String, serde_json::Value>,
    pub priority: &'static str,
    pub rule: String,
    pub source: String,
    pub tags: Vec<String>,
    pub time: String,
}

impl Alert {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("alerts serialise")
    }
}

/// Rules ready to match events.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    matching: Matching,
    hostname: String,
    min_priority: Priority,
}

impl Engine {
    pub fn new(rules: RuleSet, matching: Matching, hostname: String) -> Self {
        Self { rules, matching, hostname, min_priority: Priority::Debug }
    }

    /// Whether a condition or an output reads `evt.num`, the event's position in the input:
    /// events must then be numbered in order before they are matched.
    pub fn numbers_events(&self) -> bool {
        self.rules.fields.specs.iter().any(|spec| spec.name == "evt.num")
    }

    /// Rules below `priority` are not evaluated (Falco's `priority` setting).
    pub fn with_min_priority(mut self, priority: Priority) -> Self {
        self.min_priority = priority;
        self
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules.rules
    }

    /// Matches one event; alerts are appended to `alerts`.
    pub fn process(&self, event: &Event<'_>, alerts: &mut Vec<Alert>) {
        let fields = &self.rules.fields;
        let mut cache = Cache::new(fields);
        for rule in &self.rules.rules {
            if !rule.enabled || rule.priority > self.min_priority {
                continue;
            }
            if rule.condition.eval(fields, &mut cache, event) {
                alerts.push(self.alert(rule, fields, &mut cache, event));
                if self.matching == Matching::First {
                    return;
                }
            }
        }
    }

    /// Names of the rules an event matches (with every rule evaluated), for tests and `--explain`.
    pub fn matching_rules(&self, event: &Event<'_>) -> Vec<&str> {
        let fields = &self.rules.fields;
        let mut cache = Cache::new(fields);
        self.rules
            .rules
            .iter()
            .filter(|r| r.enabled && r.condition.eval(fields, &mut cache, event))
            .map(|r| r.name.as_str())
            .collect()
    }

    fn alert<'e>(&self, rule: &Rule, fields: &Fields, cache: &mut Cache<'e>, event: &'e Event<'_>) -> Alert {
        let mut output_fields = BTreeMap::new();
        let body = rule.output.render(fields, cache, event, &mut output_fields);
        output_fields.insert("evt.time".to_string(), serde_json::Value::from(event.time_ns));
        let mut output = String::with_capacity(body.len() + 40);
        let _ = write!(output, "{}: {} {}", time::format_time(event.time_ns), rule.priority.as_str(), body);
        Alert {
            hostname: self.hostname.clone(),
            output,
            output_fields,
            priority: rule.priority.as_str(),
            rule: rule.name.clone(),
            source: rule.source.clone(),
            tags: rule.tags.clone(),
            time: time::format_iso8601(event.time_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(rules: &str, matching: Matching) -> Engine {
        let set = crate::rules::load(&[("test.yaml", rules)]).unwrap_or_else(|e| panic!("{e}"));
        Engine::new(set, matching, "host".into())
    }

    const RULES: &str = r#"
- list: verbs
  items: [create, "up date"]
- macro: is_create
  condition: ka.verb in (verbs)
- rule: First
  desc: d
  condition: is_create
  output: "made %ka.target.name/%ka.target.resource by %ka.user.name groups=%ka.user.groups code=%ka.response.code."
  priority: warning
  source: k8s_audit
  tags: [z, a]
- rule: Second
  desc: d
  condition: ka.verb = create
  output: second
  priority: INFO
  source: k8s_audit
"#;

    const EVENT: &str = r#"{"auditID":"1","verb":"create","user":{"username":"bob","groups":["g1","g2"]},
        "objectRef":{"resource":"pods","name":"p"},"stageTimestamp":"2024-05-06T07:08:09.5Z"}"#;

    #[test]
    fn first_match_and_falco_alert_shape() {
        let engine = engine(RULES, Matching::First);
        let event = Event::new(serde_json::from_str(EVENT).unwrap(), 1);
        let mut alerts = Vec::new();
        engine.process(&event, &mut alerts);
        assert_eq!(alerts.len(), 1);
        let json = alerts[0].to_json();
        assert_eq!(
            json,
            concat!(
                r#"{"hostname":"host","output":"07:08:09.500000000: Warning made p/pods by bob groups=(g1,g2) code=<NA>.","#,
                r#""output_fields":{"evt.time":1714979289500000000,"ka.response.code":"<NA>","ka.target.name":"p","#,
                r#""ka.target.resource":"pods","ka.user.groups":"(g1,g2)","ka.user.name":"bob"},"priority":"Warning","#,
                r#""rule":"First","source":"k8s_audit","tags":["a","z"],"time":"2024-05-06T07:08:09.500000000Z"}"#
            )
        );
    }

    #[test]
    fn all_matching_fires_every_rule() {
        let engine = engine(RULES, Matching::All);
        let event = Event::new(serde_json::from_str(EVENT).unwrap(), 1);
        let mut alerts = Vec::new();
        engine.process(&event, &mut alerts);
        assert_eq!(alerts.iter().map(|a| a.rule.as_str()).collect::<Vec<_>>(), ["First", "Second"]);
        let engine = engine.with_min_priority(Priority::Warning);
        alerts.clear();
        engine.process(&event, &mut alerts);
        assert_eq!(alerts.len(), 1);
    }

    #[test]
    fn unknown_output_field_is_a_load_error() {
        let err = crate::rules::load(&[(
            "r.yaml",
            "- rule: R\n  desc: d\n  condition: ka.verb=get\n  output: x %ka.nope\n  priority: INFO\n  source: k8s_audit\n",
        )])
        .unwrap_err();
        assert!(err.to_string().contains("r.yaml:1:3: rule 'R': invalid output format"), "{err}");
    }
}

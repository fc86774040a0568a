//! The OSV record, read tolerantly: unknown ecosystems, range types, severity types and extra
//! fields never make a record fail; only what matching needs is typed.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// One advisory (`GHSA-…`, `RUSTSEC-…`, `GO-…`, `DSA-…`, `CVE-…`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    /// RFC 3339 time of the last change.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "String::is_empty")]
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the advisory was retracted: it matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// Same vulnerability in another source's advisory (OSV 1.7 `upstream`).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "String::is_empty")]
    pub details: String,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// `{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/…"}`; `type` is kept as written (`CVSS_V2`,
/// `CVSS_V3`, `CVSS_V4`, `Ubuntu`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub score: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<AffectedPackage>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicit affected versions, matched by equality in the ecosystem's ordering.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// As OSV writes it, suffix included: `Debian:12`, `Alpine:v3.19`, `PyPI`, `Go`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub ecosystem: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub kind: RangeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Events with a key OSV does not define are left out (they cannot be matched).
    #[serde(default, deserialize_with = "known_events")]
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    #[serde(rename = "ECOSYSTEM")]
    #[default]
    Ecosystem,
    #[serde(rename = "SEMVER")]
    Semver,
    #[serde(rename = "GIT")]
    Git,
    #[serde(untagged)]
    Other(String),
}

/// One event of a range; OSV writes each as an object with exactly one of these keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
}

/// `null` where OSV expects a list or a string reads as absent (some exporters write it).
fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(deserializer: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A range's events, each an object whose first known key (`introduced`, `fixed`,
/// `last_affected`, `limit`) is the event; objects with none of them are skipped, so a future
/// event kind does not make the whole record unreadable.
fn known_events<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Event>, D::Error> {
    let entries = Option::<Vec<EventEntry>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(entries.into_iter().filter_map(|entry| entry.0).collect())
}

struct EventEntry(Option<Event>);

impl<'de> Deserialize<'de> for EventEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = EventEntry;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an event object such as {\"introduced\": \"1.0\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventEntry, A::Error> {
        let mut event = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let make: Option<fn(String) -> Event> = match key.as_ref() {
                "introduced" => Some(Event::Introduced),
                "fixed" => Some(Event::Fixed),
                "last_affected" => Some(Event::LastAffected),
                "limit" => Some(Event::Limit),
                _ => None,
            };
            match make {
                Some(make) if event.is_none() => event = map.next_value::<VersionText>()?.0.map(make),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(EventEntry(event))
    }
}

/// A version as text; a bare number (`"introduced": 0` from a hand-written record) is read as
/// its text, `null` as no event.
struct VersionText(Option<String>);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => Ok(VersionText(Some(text))),
            serde_json::Value::Number(number) => Ok(VersionText(Some(number.to_string()))),
            serde_json::Value::Null => Ok(VersionText(None)),
            other => Err(serde::de::Error::custom(format!("an event's version must be text, not {other}"))),
        }
    }
}

//! Values in Kubernetes objects that can hold credentials, scanned with the detector.
//!
//! One entry point, [`scan_fields`] (or [`scan_object`] for every field), serves both doors:
//! `palisade scan`'s credential rules and `palisade secrets` on manifests, so the two always
//! agree on the fields they both look at.
//!
//! The fields: Secret `data` (base64-decoded as the API server decodes it; a value that is not
//! valid base64 is scanned as written) and `stringData`; ConfigMap `data` and `binaryData`
//! (decoded); the literal `value` of every `env` entry of every container (init, regular and
//! ephemeral) of every kind that creates pods; the object's annotations and its pod template's.
//! kubectl's `last-applied-configuration` annotation is a JSON copy of the object: its fields
//! are scanned like the object's own and what they hold is reported at the annotation.
//!
//! **Secrets are scanned too.** In a cluster a Secret is where a credential belongs, but a
//! Secret manifest committed to a repository or baked into a chart publishes its credential to
//! everyone who can read them (base64 hides nothing), so [`scan_object`] reports it like any
//! other leak. `palisade scan`'s rules ask only for the fields their ids name (ConfigMaps and
//! env values); `palisade secrets` asks for all of them.
//!
//! **Context as in the YAML file.** Many of gitleaks' rules need the key beside the value
//! (`generic-api-key` wants a name such as `password` before `:`), so every field is written
//! as `KEY: VALUE` (the variable's name is the key of an env value) with a multi-line value
//! keeping its lines, and all the fields of an object go into one fragment, one after another,
//! as they sit in the file. One fragment per object also keeps the detector's fixed cost per
//! object rather than per field. A finding belongs to the field its secret starts in.
//!
//! Nothing here holds a secret after the scan: a [`FieldSecret`] has a redacted form only.

use std::ops::Range;
use std::sync::LazyLock;

use palisade_core::{Node, Object, PodView, pointer_under};

use crate::config::Config;
use crate::detect::{Detector, Found, Fragment, redacted};
use crate::finding::{redacted_match, short};

/// The annotation in which `kubectl apply` keeps a JSON copy of the object it applied.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The kinds of value field scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKind {
    /// A Secret's `data` value, base64-decoded.
    SecretData,
    SecretStringData,
    ConfigMapData,
    /// A ConfigMap's `binaryData` value, base64-decoded.
    ConfigMapBinaryData,
    /// The literal `value` of a container's `env` entry.
    ContainerEnv,
    /// An annotation of the object or of its pod template (including what the
    /// `last-applied-configuration` copy of the object holds).
    Annotation,
}

impl FieldKind {
    pub const ALL: [FieldKind; 6] = [
        FieldKind::SecretData,
        FieldKind::SecretStringData,
        FieldKind::ConfigMapData,
        FieldKind::ConfigMapBinaryData,
        FieldKind::ContainerEnv,
        FieldKind::Annotation,
    ];
}

/// A credential found in a field of an object. Holds no secret.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSecret {
    pub kind: FieldKind,
    /// The field as a JSON pointer, as `FindingSink::report` takes it.
    pub pointer: String,
    /// The field as people name it: `data["db.password"]`, `container "app" env "API_TOKEN"`.
    pub field: String,
    /// The gitleaks rule that found it (its description is in the detector's [`Config`]).
    pub rule_id: String,
    /// [`redacted`]: a short prefix and the length.
    pub redacted: String,
    /// The rule's match with the secret replaced by `REDACTED` (gitleaks' `--redact`).
    pub redacted_match: String,
    /// Shannon entropy of the secret, bits per character.
    pub entropy: f64,
    /// The rule's tags, and `decoded:<encoding>`, `decode-depth:<n>` when the detector found it
    /// in an encoded segment of the value.
    pub tags: Vec<String>,
    /// The 0-based line of the value on which the match starts, when the value was scanned as
    /// written (`None` for values decoded from base64 and for the last-applied copy).
    pub line_in_value: Option<usize>,
}

impl FieldSecret {
    /// One line for reports, given the rule's description: `data["aws"] holds a secret:
    /// Identified a pattern that may indicate AWS credentials (gitleaks rule
    /// aws-access-token): AKIA… (20 bytes)`.
    pub fn message(&self, description: &str) -> String {
        let mut message = format!("{} holds a secret: {} (gitleaks rule {}): {}", self.field, short(description), self.rule_id, self.redacted);
        let decodings: Vec<&str> = self.tags.iter().filter_map(|tag| tag.strip_prefix("decoded:")).collect();
        if !decodings.is_empty() {
            message.push_str(&format!(", after decoding {}", decodings.join(" and ")));
        }
        message
    }
}

/// gitleaks' built-in rules, loaded once per process: what [`default_detector`] runs, and the
/// descriptions of its rules.
pub fn default_config() -> &'static Config {
    static CONFIG: LazyLock<Config> = LazyLock::new(Config::default_rules);
    &CONFIG
}

/// The detector with gitleaks' built-in rules, built once per process.
pub fn default_detector() -> &'static Detector {
    static DETECTOR: LazyLock<Detector> = LazyLock::new(|| Detector::new(default_config()));
    &DETECTOR
}

/// Every credential in every value field of `object`.
pub fn scan_object(detector: &Detector, object: &Object) -> Vec<FieldSecret> {
    scan_fields(detector, object, &FieldKind::ALL)
}

/// The credentials in the fields of `object` of the given kinds, field by field: Secret `data`
/// and `stringData`, ConfigMap `data` and `binaryData`, env values, then annotations.
pub fn scan_fields(detector: &Detector, object: &Object, kinds: &[FieldKind]) -> Vec<FieldSecret> {
    let mut fragment = FragmentBuilder::default();
    collect(object, kinds, &mut fragment, None);
    if fragment.fields.is_empty() {
        return Vec::new();
    }
    let text = &fragment.text;
    let found = detector.detect(&Fragment::file(text, &object.origin.file));
    let mut secrets: Vec<(usize, FieldSecret)> = found
        .iter()
        .filter(|found| !found.whole_file)
        .map(|found| {
            let index = fragment.fields.partition_point(|field| field.value.end < found.secret_span.start).min(fragment.fields.len() - 1);
            let field = &fragment.fields[index];
            (index, field_secret(found, text, field))
        })
        .collect();
    secrets.sort_by_key(|(index, _)| *index);
    secrets.into_iter().map(|(_, secret)| secret).collect()
}

fn field_secret(found: &Found, text: &[u8], field: &ScannedField) -> FieldSecret {
    let line_in_value = field.as_written.then(|| text[field.value.start..found.secret_span.start.max(field.value.start)].iter().filter(|&&b| b == b'\n').count());
    FieldSecret {
        kind: field.kind,
        pointer: field.pointer.clone(),
        field: field.name.clone(),
        rule_id: found.rule_id.clone(),
        redacted: redacted(found.secret(text)),
        redacted_match: redacted_match(text, found),
        entropy: found.entropy,
        tags: found.tags.clone(),
        line_in_value,
    }
}

/// One field written into the fragment.
struct ScannedField {
    kind: FieldKind,
    pointer: String,
    name: String,
    /// The value's bytes in the fragment (after `KEY: `).
    value: Range<usize>,
    /// The value is in the fragment as the manifest has it (not decoded, not a copy).
    as_written: bool,
}

/// The text of an object's fields, `KEY: VALUE` one after another, and where each value is.
#[derive(Default)]
struct FragmentBuilder {
    text: Vec<u8>,
    fields: Vec<ScannedField>,
}

/// Where fields of the `last-applied-configuration` copy are reported: the annotation.
struct CopyOf<'a> {
    pointer: &'a str,
    name: &'a str,
}

impl FragmentBuilder {
    fn push(&mut self, kind: FieldKind, key: &str, value: &[u8], (pointer, name): (String, String), as_written: bool, copy: Option<&CopyOf<'_>>) {
        if value.is_empty() {
            return;
        }
        // A key with a line break would let a value's first line pass for another key's.
        self.text.extend(key.bytes().map(|b| if b == b'\n' || b == b'\r' { b' ' } else { b }));
        self.text.extend_from_slice(b": ");
        let start = self.text.len();
        self.text.extend_from_slice(value);
        let value = start..self.text.len();
        self.text.push(b'\n');
        let (pointer, name, as_written) = match copy {
            Some(copy) => (copy.pointer.to_owned(), format!("{} (its copy of {name})", copy.name), false),
            None => (pointer, name, as_written),
        };
        self.fields.push(ScannedField { kind, pointer, name, value, as_written });
    }
}

fn collect(object: &Object, kinds: &[FieldKind], out: &mut FragmentBuilder, copy: Option<&CopyOf<'_>>) {
    let wants = |kind| kinds.contains(&kind);
    let kind_of = |kind| match copy {
        Some(_) => FieldKind::Annotation,
        None => kind,
    };
    let map_entries = |key: &str| object.root.get(key).and_then(Node::as_map).into_iter().flat_map(|map| map.iter());
    if object.is(&[""], "Secret") {
        if wants(FieldKind::SecretData) {
            for (key, value) in map_entries("data") {
                let Some(text) = value.as_str() else { continue };
                let place = (pointer_under("/data", &[key]), format!("data[{key:?}]"));
                match decode_base64(text) {
                    Some(decoded) => out.push(kind_of(FieldKind::SecretData), key, &decoded, place, false, copy),
                    None => out.push(kind_of(FieldKind::SecretData), key, text.as_bytes(), place, true, copy),
                }
            }
        }
        if wants(FieldKind::SecretStringData) {
            for (key, value) in map_entries("stringData") {
                let Some(text) = value.as_str() else { continue };
                let place = (pointer_under("/stringData", &[key]), format!("stringData[{key:?}]"));
                out.push(kind_of(FieldKind::SecretStringData), key, text.as_bytes(), place, true, copy);
            }
        }
    }
    if object.is(&[""], "ConfigMap") {
        if wants(FieldKind::ConfigMapData) {
            for (key, value) in map_entries("data") {
                let Some(text) = value.as_str() else { continue };
                let place = (pointer_under("/data", &[key]), format!("data[{key:?}]"));
                out.push(kind_of(FieldKind::ConfigMapData), key, text.as_bytes(), place, true, copy);
            }
        }
        if wants(FieldKind::ConfigMapBinaryData) {
            for (key, value) in map_entries("binaryData") {
                let Some(text) = value.as_str() else { continue };
                let place = (pointer_under("/binaryData", &[key]), format!("binaryData[{key:?}]"));
                match decode_base64(text) {
                    Some(decoded) => out.push(kind_of(FieldKind::ConfigMapBinaryData), key, &decoded, place, false, copy),
                    None => out.push(kind_of(FieldKind::ConfigMapBinaryData), key, text.as_bytes(), place, true, copy),
                }
            }
        }
    }
    let pod = PodView::of(object);
    if wants(FieldKind::ContainerEnv) {
        for container in pod.iter().flat_map(PodView::containers) {
            for (index, entry) in container.get("env").map_or(&[][..], Node::as_seq).iter().enumerate() {
                let (Some(name), Some(value)) = (entry.get("name").and_then(Node::as_str), entry.get("value").and_then(Node::as_str)) else { continue };
                let place = (container.field(&["env", &index.to_string(), "value"]), format!("container {:?} env {name:?}", container.name()));
                out.push(kind_of(FieldKind::ContainerEnv), name, value.as_bytes(), place, true, copy);
            }
        }
    }
    if wants(FieldKind::Annotation) {
        let own = object.metadata().map(|metadata| ("/metadata", metadata, "annotation"));
        // A Pod's template is the object itself.
        let template = pod.filter(|pod| pod.metadata_pointer != "/metadata").and_then(|pod| Some((pod.metadata_pointer, pod.metadata?, "pod template annotation")));
        for (base, metadata, what) in own.into_iter().chain(template) {
            let annotations = metadata.get("annotations").and_then(Node::as_map).into_iter().flat_map(|map| map.iter());
            for (key, value) in annotations {
                let Some(text) = value.as_str() else { continue };
                let pointer = pointer_under(base, &["annotations", key]);
                let name = format!("{what} {key:?}");
                let applied = (copy.is_none() && key == LAST_APPLIED).then(|| serde_json::from_str::<Node>(text).ok()).flatten();
                match applied.filter(|root| root.as_map().is_some()) {
                    Some(root) => {
                        // Its fields, not its JSON text: an env value's name and value are
                        // apart in JSON, and Secret data in it is base64.
                        let applied = Object::new(root, object.origin.clone());
                        collect(&applied, &FieldKind::ALL, out, Some(&CopyOf { pointer: &pointer, name: &name }));
                    }
                    None => out.push(FieldKind::Annotation, key, text.as_bytes(), (pointer, name), true, copy),
                }
            }
        }
    }
}

/// Base64 as the API server decodes `[]byte` fields (Go's `StdEncoding`: padded, line breaks
/// ignored, trailing bits not checked); `None` when the text is not that.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let symbols: Vec<u8> = text.bytes().filter(|&b| b != b'\n' && b != b'\r').collect();
    if symbols.len() % 4 != 0 {
        return None;
    }
    let padding = symbols.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return None;
    }
    let mut decoded = Vec::with_capacity(symbols.len() / 4 * 3);
    let (mut bits, mut count) = (0u32, 0u32);
    for &symbol in &symbols[..symbols.len() - padding] {
        let value = match symbol {
            b'A'..=b'Z' => symbol - b'A',
            b'a'..=b'z' => symbol - b'a' + 26,
            b'0'..=b'9' => symbol - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            decoded.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_decoded_as_go_decodes_it() {
        assert_eq!(decode_base64("aHVudGVyMg==").as_deref(), Some(&b"hunter2"[..]));
        assert_eq!(decode_base64("aHVu\ndGVy").as_deref(), Some(&b"hunter"[..]));
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        // Unpadded, URL-safe, stray characters and too much padding are not StdEncoding.
        for text in ["aHVudGVyMg", "a-_b", "aHVu dGVy", "aH===", "a==="] {
            assert_eq!(decode_base64(text), None, "{text}");
        }
    }
}

//! Identifiers derived from content, so the same inventory and timestamp always give the same
//! bytes: short hashes for element references, name-based UUIDs for documents.

use std::collections::HashSet;

use palisade_pkg::{Inventory, Package};
use uuid::Uuid;

use crate::SbomOptions;

/// The namespace of Palisade's name-based UUIDs (itself the v5 UUID of its URL).
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://palisade.dev/sbom")
}

/// Hashes `parts` unambiguously (each is length-prefixed).
fn digest(parts: &[&str]) -> Uuid {
    let mut bytes = Vec::with_capacity(parts.iter().map(|part| part.len() + 8).sum());
    for part in parts {
        bytes.extend_from_slice(part.len().to_string().as_bytes());
        bytes.push(b':');
        bytes.extend_from_slice(part.as_bytes());
    }
    Uuid::new_v5(&namespace(), &bytes)
}

/// 16 hexadecimal digits identifying `parts` (the first 64 bits of their v5 UUID).
pub(crate) fn short_hash(parts: &[&str]) -> String {
    digest(parts).simple().to_string()[..16].to_owned()
}

/// The document's UUID: version 5 (SHA-1, RFC 9562 §5.5) over the format's name, the tool, the
/// timestamp and the inventory as Palisade's JSON writes it. Another inventory, tool version or
/// time gives another UUID; the same ones give the same UUID, so output stays byte-stable.
pub(crate) fn document_uuid(format: &str, inventory: &Inventory, options: &SbomOptions) -> Uuid {
    // Serialising the inventory's own derived `Serialize` cannot fail (string keys only).
    let content = serde_json::to_string(inventory).unwrap_or_default();
    digest(&[
        format,
        &options.tool_name,
        &options.tool_version,
        &crate::rfc3339(options.timestamp),
        &content,
    ])
}

/// The parts that tell one package from another, evidence included.
pub(crate) fn package_hash(package: &Package) -> String {
    let mut parts = vec![
        package.kind.as_str(),
        &package.name,
        &package.version,
        &package.purl,
    ];
    for location in &package.locations {
        parts.push(&location.path);
        parts.push(location.layer.as_deref().unwrap_or(""));
    }
    short_hash(&parts)
}

/// Hands out identifiers that are unique within one document: a repeat gets `-2`, `-3`, ….
#[derive(Default)]
pub(crate) struct UniqueIds {
    used: HashSet<String>,
}

impl UniqueIds {
    pub(crate) fn claim(&mut self, wanted: String) -> String {
        if self.used.insert(wanted.clone()) {
            return wanted;
        }
        let taken = (2..)
            .map(|n| format!("{wanted}-{n}"))
            .find(|candidate| !self.used.contains(candidate));
        let unique = taken.unwrap_or(wanted);
        self.used.insert(unique.clone());
        unique
    }
}

/// `text` reduced to the characters `allowed` accepts, each run of others replaced by one `-`,
/// at most `max` characters read, `-` and `.` trimmed from the ends; `fallback` when nothing
/// is left.
pub(crate) fn restricted(
    text: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    fallback: &str,
) -> String {
    let mut kept = String::with_capacity(text.len().min(max));
    for c in text.chars().take(max) {
        if allowed(c) {
            kept.push(c);
        } else if !kept.ends_with('-') {
            kept.push('-');
        }
    }
    let trimmed = kept.trim_matches(['-', '.']);
    if trimmed.is_empty() {
        fallback.to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_unambiguous() {
        assert_eq!(short_hash(&["a", "b"]), short_hash(&["a", "b"]));
        assert_ne!(short_hash(&["ab", ""]), short_hash(&["a", "b"]));
        assert_eq!(short_hash(&["x"]).len(), 16);
    }

    #[test]
    fn repeated_identifiers_get_suffixes() {
        let mut ids = UniqueIds::default();
        assert_eq!(ids.claim("a".into()), "a");
        assert_eq!(ids.claim("a".into()), "a-2");
        assert_eq!(ids.claim("a-2".into()), "a-2-2");
        assert_eq!(ids.claim("a".into()), "a-3");
    }

    #[test]
    fn restricted_text_keeps_allowed_characters() {
        let alnum = |c: char| c.is_ascii_alphanumeric();
        assert_eq!(restricted("@scope/x y", 64, alnum, "z"), "scope-x-y");
        assert_eq!(restricted("ü ünï, code", 64, alnum, "z"), "n-code");
        assert_eq!(restricted(".", 64, |c| c == '.', "z"), "z");
        assert_eq!(restricted("ñé", 64, alnum, "z"), "z");
        assert_eq!(restricted("abcdef", 3, alnum, "z"), "abc");
    }
}

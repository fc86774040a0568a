//! SPDX 2.x, tag-value encoding (<https://spdx.github.io/spdx-spec/v2.3/> annex: `Tag: value`
//! lines, multi-line values between `<text>` and `</text>`, `#` comments). A package runs from
//! its `PackageName:` to the next package, file, snippet or licence section.

use std::collections::HashSet;

use super::spdx_json::check_version;
use super::{Document, Entry, Problem};

/// One SPDX package as both encodings state it.
pub(crate) struct Subject {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) purl: Option<String>,
    pub(crate) license_declared: Option<String>,
    pub(crate) purpose: Option<String>,
    /// The document DESCRIBES it.
    pub(crate) described: bool,
}

impl Subject {
    /// An operating system goes to the distribution; the document's subject without a purl is
    /// no package (the scanned directory or image); anything else is a package candidate.
    pub(crate) fn add_to(self, document: &mut Document) {
        let purpose = self.purpose.as_deref().map(|purpose| purpose.replace('-', "_"));
        if self.purl.is_none() && purpose.as_deref() == Some("OPERATING_SYSTEM") {
            document.operating_systems.push((self.name, Some(self.version).filter(|version| !version.is_empty())));
            return;
        }
        if self.purl.is_none() && self.described {
            return;
        }
        let licenses = self.license_declared.filter(|license| !matches!(license.as_str(), "" | "NOASSERTION" | "NONE")).into_iter().collect();
        document.entries.push(Entry { name: self.name, version: self.version, purl: self.purl, licenses });
    }
}

/// The SPDX ids the document describes: `DOCUMENT DESCRIBES x` and `x DESCRIBED_BY DOCUMENT`.
pub(crate) fn described_subjects<'a>(relationships: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> HashSet<String> {
    const DOCUMENT: &str = "SPDXRef-DOCUMENT";
    relationships
        .filter_map(|(from, kind, to)| match kind {
            "DESCRIBES" if from == DOCUMENT => Some(to.to_owned()),
            "DESCRIBED_BY" if to == DOCUMENT => Some(from.to_owned()),
            _ => None,
        })
        .collect()
}

/// A package while its tags are read.
struct Open {
    id: String,
    subject: Subject,
}

pub(crate) fn read(text: &str) -> Result<Document, Problem> {
    let mut document = Document::default();
    let mut version = None;
    let mut packages: Vec<Open> = Vec::new();
    let mut in_package = false;
    let mut relationships: Vec<(String, String, String)> = Vec::new();
    for (line, tag, value) in tags(text)? {
        match tag {
            "SPDXVersion" => version = Some(value.clone()),
            "PackageName" => {
                packages.push(Open {
                    id: String::new(),
                    subject: Subject { name: value, version: String::new(), purl: None, license_declared: None, purpose: None, described: false },
                });
                in_package = true;
            }
            "FileName" | "SnippetSPDXID" | "LicenseID" => in_package = false,
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let [from, kind, to, ..] = parts.as_slice() else {
                    return Err(Problem::at(line, None, "Relationship needs `element TYPE element`"));
                };
                relationships.push((from.to_string(), kind.to_string(), to.to_string()));
            }
            _ if in_package => {
                let Some(open) = packages.last_mut() else { continue };
                match tag {
                    "SPDXID" => open.id = value,
                    "PackageVersion" => open.subject.version = value,
                    "PackageLicenseDeclared" => open.subject.license_declared = Some(value),
                    "PrimaryPackagePurpose" => open.subject.purpose = Some(value),
                    "ExternalRef" => {
                        let parts: Vec<&str> = value.split_whitespace().collect();
                        let [_category, kind, locator] = parts.as_slice() else {
                            return Err(Problem::at(line, None, "ExternalRef needs `CATEGORY TYPE LOCATOR`"));
                        };
                        if kind.eq_ignore_ascii_case("purl") && open.subject.purl.is_none() {
                            open.subject.purl = Some(locator.to_string());
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let Some(version) = version else {
        return Err(Problem::new("no SPDXVersion tag"));
    };
    check_version(&version)?;
    document.format = version;
    let subjects = described_subjects(relationships.iter().map(|(from, kind, to)| (from.as_str(), kind.as_str(), to.as_str())));
    for mut open in packages {
        open.subject.described = subjects.contains(&open.id);
        open.subject.add_to(&mut document);
    }
    Ok(document)
}

/// Every `Tag: value` with its line; `<text>` values may span lines.
fn tags(text: &str) -> Result<Vec<(usize, &str, String)>, Problem> {
    let mut found = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((tag, value)) = trimmed.split_once(':') else {
            return Err(Problem::at(number, None, "expected `Tag: value`"));
        };
        let value = value.trim();
        let Some(opened) = value.strip_prefix("<text>") else {
            found.push((number, tag.trim(), value.to_owned()));
            continue;
        };
        let mut collected = String::new();
        let mut rest = opened.to_owned();
        loop {
            if let Some((inside, _)) = rest.split_once("</text>") {
                collected.push_str(inside);
                break;
            }
            collected.push_str(&rest);
            collected.push('\n');
            let Some((_, next)) = lines.next() else {
                return Err(Problem::at(number, None, format!("the <text> value of {} is not closed with </text>", tag.trim())));
            };
            rest = next.to_owned();
        }
        found.push((number, tag.trim(), collected));
    }
    Ok(found)
}

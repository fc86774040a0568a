//! Inventories from SBOM documents: CycloneDX JSON (1.2 and later) and XML, SPDX 2.x JSON and
//! tag-value, the format told from the content.
//!
//! Every component or package with a package URL of a type Palisade has a package type for
//! becomes a [`Package`] built from its purl ([`purl::package`]), located in the SBOM file.
//! Nested CycloneDX components are read; the document's subject (CycloneDX
//! `metadata.component`, the package an SPDX document DESCRIBES when it has no purl) is not a
//! package. Components without a purl, with a purl that does not parse, or of another type
//! (`pkg:github`, `pkg:oci`, ...) are counted and named in the inventory's issues, never
//! silently dropped. The distribution is the `distro` qualifier of the OS packages' purls
//! (`debian-12`) when they agree, else the document's operating-system component.

mod cyclonedx_json;
mod cyclonedx_xml;
mod purl;
mod spdx_json;
mod spdx_tag_value;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use palisade_pkg::{Distro, Inventory, InventoryIssue, Location, Package, SourceDescription};

/// The cataloger name packages read from an SBOM carry (Syft's name for its SBOM cataloger).
pub const FOUND_BY: &str = "sbom-cataloger";

/// A document that could not be read: the file, the position when there is one, the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomReadError {
    pub path: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub problem: String,
}

impl SbomReadError {
    /// `line 3, column 7: problem`, or only the problem: the message without the file.
    pub fn message(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("line {line}, column {column}: {}", self.problem),
            (Some(line), None) => format!("line {line}: {}", self.problem),
            _ => self.problem.clone(),
        }
    }
}

impl std::fmt::Display for SbomReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message())
    }
}

impl std::error::Error for SbomReadError {}

/// A problem at a position, before the file is known.
pub(crate) struct Problem {
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
    pub(crate) text: String,
}

impl Problem {
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Self { line: None, column: None, text: text.into() }
    }

    pub(crate) fn at(line: usize, column: Option<usize>, text: impl Into<String>) -> Self {
        Self { line: Some(line), column, text: text.into() }
    }

    pub(crate) fn json(error: &serde_json::Error) -> Self {
        let message = error.to_string();
        // serde_json ends its messages with " at line L column C", which the position states.
        let text = message.rsplit_once(" at line ").map_or(message.as_str(), |(text, _)| text).to_owned();
        if error.line() == 0 {
            return Self::new(text);
        }
        Self::at(error.line(), Some(error.column()), text)
    }
}

/// One component or package as the document states it.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) purl: Option<String>,
    pub(crate) licenses: Vec<String>,
}

/// What a reader takes from a document.
#[derive(Debug, Default)]
pub(crate) struct Document {
    /// `CycloneDX 1.6`, `SPDX-2.3`: named in issues.
    pub(crate) format: String,
    pub(crate) entries: Vec<Entry>,
    /// Operating-system components (CycloneDX `operating-system`, SPDX purpose
    /// `OPERATING_SYSTEM`): name and version.
    pub(crate) operating_systems: Vec<(String, Option<String>)>,
}

/// Whether a file's name is one of the SBOM names osv-scanner (osv-scalibr's `sbom/cdx` and
/// `sbom/spdx` extractors, case-insensitive) or Trivy (its `sbom` analyser) reads: `*.cdx.json`,
/// `*.cdx.xml`, `*.cdx`, `bom.json`, `bom.xml`, `*.spdx.json`, `*.spdx`, `*.spdx.yml`,
/// `*.spdx.rdf`, `*.spdx.rdf.xml`. SPDX YAML and RDF are recognised so that such a file is
/// reported as not read rather than passed over.
pub fn looks_like_sbom(file_name: &str) -> bool {
    const SUFFIXES: [&str; 8] = [".cdx.json", ".cdx.xml", ".cdx", ".spdx.json", ".spdx", ".spdx.yml", ".spdx.rdf", ".spdx.rdf.xml"];
    let name = file_name.to_ascii_lowercase();
    name == "bom.json" || name == "bom.xml" || SUFFIXES.iter().any(|suffix| name.len() > suffix.len() && name.ends_with(suffix))
}

/// The inventory an SBOM document states. `path` names the file in packages' locations, issues
/// and errors; `bytes` is its content.
pub fn read_sbom(path: &Path, bytes: &[u8]) -> Result<Inventory, SbomReadError> {
    let error = |problem: Problem| SbomReadError { path: path.to_owned(), line: problem.line, column: problem.column, problem: problem.text };
    let text = utf8(bytes).map_err(error)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document = match detect(text) {
        Format::Json => read_json(text),
        Format::Xml => cyclonedx_xml::read(text),
        Format::TagValue => spdx_tag_value::read(text),
        Format::Unsupported(problem) => Err(Problem::new(problem)),
    }
    .map_err(error)?;
    Ok(inventory(path, document))
}

enum Format {
    Json,
    Xml,
    TagValue,
    Unsupported(&'static str),
}

fn detect(text: &str) -> Format {
    let start = text.trim_start();
    if start.starts_with('{') {
        return Format::Json;
    }
    if start.starts_with('<') {
        return Format::Xml;
    }
    let tags = || start.lines().map(str::trim_start).filter(|line| !line.is_empty() && !line.starts_with('#'));
    if tags().any(|line| line.starts_with("SPDXVersion:")) {
        return Format::TagValue;
    }
    if tags().any(|line| line.starts_with("spdxVersion:")) {
        return Format::Unsupported("SPDX YAML is not read (SPDX JSON and tag-value are)");
    }
    Format::Unsupported("not a CycloneDX (JSON or XML) or SPDX (JSON or tag-value) document")
}

/// A JSON document: CycloneDX when it says `"bomFormat": "CycloneDX"`, SPDX 2 when it has an
/// `spdxVersion`.
fn read_json(text: &str) -> Result<Document, Problem> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "bomFormat")]
        bom_format: Option<String>,
        #[serde(rename = "spdxVersion")]
        spdx_version: Option<String>,
        #[serde(rename = "@context")]
        context: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = serde_json::from_str(text).map_err(|error| Problem::json(&error))?;
    match probe {
        Probe { bom_format: Some(format), .. } if format == "CycloneDX" => cyclonedx_json::read(text),
        Probe { spdx_version: Some(_), .. } => spdx_json::read(text),
        Probe { context: Some(_), .. } => Err(Problem::new("SPDX 3 (JSON-LD) is not read (SPDX 2.2 and 2.3 are)")),
        Probe { bom_format: Some(format), .. } => Err(Problem::new(format!("bomFormat `{format}` is not CycloneDX"))),
        _ => Err(Problem::new("a JSON document with neither `bomFormat` (CycloneDX) nor `spdxVersion` (SPDX)")),
    }
}

/// The text, or the line of the first byte that is not UTF-8.
fn utf8(bytes: &[u8]) -> Result<&str, Problem> {
    std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes[..error.valid_up_to()].iter().filter(|&&byte| byte == b'\n').count() + 1;
        Problem::at(line, None, "the file is not UTF-8 text")
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |last| last.chars().count()) + 1;
    (line, column)
}

/// Components that did not become packages, by reason, with their names.
#[derive(Default)]
struct Passed {
    without_purl: Vec<String>,
    bad_purl: Vec<String>,
    other_types: BTreeMap<String, Vec<String>>,
}

fn inventory(path: &Path, document: Document) -> Inventory {
    let location = Location::new(path.display().to_string());
    let mut packages: Vec<Package> = Vec::new();
    let mut seen = HashSet::new();
    let mut distros = BTreeSet::new();
    let mut passed = Passed::default();
    for entry in document.entries {
        let Some(purl_text) = entry.purl.as_deref().filter(|purl| !purl.trim().is_empty()) else {
            passed.without_purl.push(entry.name);
            continue;
        };
        let parsed = match purl::parse(purl_text) {
            Ok(parsed) => parsed,
            Err(problem) => {
                passed.bad_purl.push(format!("{purl_text} ({problem})"));
                continue;
            }
        };
        let described = purl::Described { purl_text, version: &entry.version, licenses: entry.licenses, location: &location, found_by: FOUND_BY };
        let Some(package) = purl::package(&parsed, described) else {
            passed.other_types.entry(parsed.kind).or_default().push(purl_text.to_owned());
            continue;
        };
        if package.kind.is_os() {
            distros.extend(parsed.qualifier("distro").map(str::to_owned));
        }
        if seen.insert((package.kind, package.name.clone(), package.version.clone(), package.purl.clone())) {
            packages.push(package);
        }
    }
    let mut issues = passed.issues(&document.format, &location);
    let distro = match distros.len() {
        0 => operating_system(document.operating_systems),
        1 => distros.first().map(|qualifier| purl::distro(qualifier)),
        _ => {
            let named: Vec<&str> = distros.iter().map(String::as_str).collect();
            issues.push(InventoryIssue {
                location: location.clone(),
                message: format!("OS packages name {} distributions ({}): none is taken as the source's", named.len(), named.join(", ")),
            });
            None
        }
    };
    let mut inventory = Inventory {
        source: SourceDescription::File { path: location.path.clone() },
        distro: distro.map(|distro| Distro { location: Some(location.clone()), ..distro }),
        packages,
        issues,
    };
    inventory.sort();
    inventory
}

/// The one operating-system component, when there is exactly one.
fn operating_system(mut found: Vec<(String, Option<String>)>) -> Option<Distro> {
    found.dedup();
    match found.as_slice() {
        [(id, version_id)] if !id.is_empty() => Some(Distro { id: id.to_lowercase(), version_id: version_id.clone(), ..Distro::default() }),
        _ => None,
    }
}

impl Passed {
    fn issues(self, format: &str, location: &Location) -> Vec<InventoryIssue> {
        /// How many names an issue lists before `…`.
        const NAMED: usize = 5;
        let list = |names: &[String]| {
            let mut shown: Vec<String> = names.iter().take(NAMED).map(|name| if name.is_empty() { "(no name)".to_owned() } else { format!("`{name}`") }).collect();
            if names.len() > NAMED {
                shown.push("…".to_owned());
            }
            shown.join(", ")
        };
        let mut messages = Vec::new();
        if !self.without_purl.is_empty() {
            messages.push(format!("{format}: {} components without a package URL were not read: {}", self.without_purl.len(), list(&self.without_purl)));
        }
        if !self.bad_purl.is_empty() {
            messages.push(format!("{format}: {} package URLs that do not parse were not read: {}", self.bad_purl.len(), list(&self.bad_purl)));
        }
        for (kind, purls) in self.other_types {
            messages.push(format!("{format}: {} components of purl type `{kind}`, which Palisade has no package type for, were not read: {}", purls.len(), list(&purls)));
        }
        messages.into_iter().map(|message| InventoryIssue { location: location.clone(), message }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbom_file_names_are_those_osv_scanner_and_trivy_read() {
        for name in ["app.cdx.json", "APP.CDX.JSON", "app.cdx.xml", "app.cdx", "bom.json", "BOM.XML", "app.spdx.json", "app.spdx", ".spdx-postgresql.spdx", "app.spdx.yml", "app.spdx.rdf", "app.spdx.rdf.xml"] {
            assert!(looks_like_sbom(name), "{name}");
        }
        for name in ["sbom.json", "app.bom.json", "package.json", "cdx.json", ".spdx", "bom.json.bak", "my-bom.json"] {
            assert!(!looks_like_sbom(name), "{name}");
        }
    }

    fn error(bytes: &[u8]) -> String {
        read_sbom(Path::new("x.cdx.json"), bytes).unwrap_err().to_string()
    }

    #[test]
    fn unreadable_documents_name_the_file_position_and_problem() {
        assert_eq!(error(b"{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": 1.6\n}"), "x.cdx.json: line 3, column 20: invalid type: floating point `1.6`, expected a string");
        assert_eq!(error(b"{\n  \"bomFormat\": \"CycloneDX\",\n"), "x.cdx.json: line 3, column 0: EOF while parsing a value");
        assert_eq!(error(b"{\"bomFormat\": \"SWID\"}"), "x.cdx.json: bomFormat `SWID` is not CycloneDX");
        assert_eq!(error(b"{\"name\": \"x\"}"), "x.cdx.json: a JSON document with neither `bomFormat` (CycloneDX) nor `spdxVersion` (SPDX)");
        assert_eq!(error(b"{\"@context\": \"https://spdx.org/rdf/3.0.1/spdx-context.jsonld\"}"), "x.cdx.json: SPDX 3 (JSON-LD) is not read (SPDX 2.2 and 2.3 are)");
        assert_eq!(error(b"spdxVersion: SPDX-2.3\n"), "x.cdx.json: SPDX YAML is not read (SPDX JSON and tag-value are)");
        assert_eq!(error(b"hello\n"), "x.cdx.json: not a CycloneDX (JSON or XML) or SPDX (JSON or tag-value) document");
        assert_eq!(error(b"{}\n\n\xff"), "x.cdx.json: line 3: the file is not UTF-8 text");
    }

    #[test]
    fn positions_count_characters() {
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("é\né", 5), (2, 2));
        assert_eq!(line_and_column("é\né", 4), (2, 1));
        assert_eq!(line_and_column("é", 1), (1, 1));
    }
}

//! CycloneDX, XML encoding (1.0 and later, namespace `http://cyclonedx.org/schema/bom/1.x`):
//! `<bom><components><component>` and the components nested in them; components elsewhere
//! (`metadata`, tools) are not packages.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::cyclonedx_json::{add, check_spec_version};
use super::{line_and_column, Document, Entry, Problem};

/// The deepest element nesting read; BOMs nest components a few levels.
const MAX_DEPTH: usize = 256;

const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/";

/// A component being read: its `type` and what its child elements said so far.
struct Open {
    kind: String,
    entry: Entry,
}

pub(crate) fn read(text: &str) -> Result<Document, Problem> {
    let mut reader = Reader::from_str(text);
    let at = |offset: u64, problem: String| {
        let (line, column) = line_and_column(text, usize::try_from(offset).unwrap_or(usize::MAX));
        Problem::at(line, Some(column), problem)
    };
    let mut document = Document::default();
    let mut path: Vec<String> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut value = String::new();
    loop {
        // Where the event starts, for problems with an element as a whole.
        let start_offset = reader.buffer_position();
        let event = reader.read_event().map_err(|error| at(reader.error_position(), error.to_string()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    let namespace = start
                        .attributes()
                        .flatten()
                        .find(|attribute| attribute.key.as_ref() == b"xmlns")
                        .map(|attribute| String::from_utf8_lossy(&attribute.value).into_owned())
                        .unwrap_or_default();
                    let version = namespace.strip_prefix(NAMESPACE).filter(|_| name == "bom");
                    let Some(version) = version else {
                        return Err(at(start_offset, format!("the root element is <{name}> in namespace `{namespace}`, not a CycloneDX <bom>")));
                    };
                    check_spec_version(version)?;
                    document.format = format!("CycloneDX {version} XML");
                }
                if path.len() >= MAX_DEPTH {
                    return Err(at(start_offset, format!("elements nested deeper than {MAX_DEPTH} levels")));
                }
                path.push(name);
                if is_component(&path) {
                    let kind = start
                        .attributes()
                        .flatten()
                        .find(|attribute| attribute.key.as_ref() == b"type")
                        .map(|attribute| String::from_utf8_lossy(&attribute.value).into_owned())
                        .unwrap_or_default();
                    open.push(Open { kind, entry: Entry::default() });
                }
                value.clear();
                // An empty element has no end event: it ends here, with no text.
                if matches!(event, Event::Empty(_)) {
                    element_ended(&path, "", &mut open, &mut document);
                    path.pop();
                }
            }
            Event::Text(text) => value.push_str(&text.xml10_content().map_err(|error| at(reader.buffer_position(), error.to_string()))?),
            Event::CData(data) => value.push_str(&String::from_utf8_lossy(&data)),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => Some(character.to_string()),
                    _ => reference.decode().ok().and_then(|name| quick_xml::escape::resolve_predefined_entity(&name)).map(str::to_owned),
                };
                value.push_str(resolved.as_deref().unwrap_or_default());
            }
            Event::End(_) => {
                element_ended(&path, value.trim(), &mut open, &mut document);
                path.pop();
                value.clear();
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if document.format.is_empty() {
        return Err(Problem::new("no root element: not a CycloneDX XML document"));
    }
    Ok(document)
}

/// `bom/components/component`, `bom/components/component/components/component`, ….
fn is_component(path: &[String]) -> bool {
    let Some((root, rest)) = path.split_first() else { return false };
    root == "bom" && !rest.is_empty() && rest.len() % 2 == 0 && rest.chunks(2).all(|pair| pair[0] == "components" && pair[1] == "component")
}

fn element_ended(path: &[String], value: &str, open: &mut Vec<Open>, document: &mut Document) {
    if is_component(path) {
        if let Some(Open { kind, entry }) = open.pop() {
            add(document, &kind, entry);
        }
        return;
    }
    // The element's position below the innermost open component.
    let Some(component_depth) = (1..path.len()).rev().find(|&depth| is_component(&path[..depth])) else { return };
    let Some(current) = open.last_mut() else { return };
    let below: Vec<&str> = path[component_depth..].iter().map(String::as_str).collect();
    let entry = &mut current.entry;
    match below.as_slice() {
        ["name"] => entry.name = value.to_owned(),
        ["version"] => entry.version = value.to_owned(),
        ["purl"] => entry.purl = Some(value.to_owned()),
        ["licenses", "expression"] | ["licenses", "license", "id" | "name"] if !value.is_empty() => entry.licenses.push(value.to_owned()),
        _ => {}
    }
}

//! `cargo-auditable-binary-cataloger`: the crates compiled into a Rust program built with
//! `cargo auditable`, which embeds its dependency tree as zlib-compressed JSON in a `.dep-v0`
//! section (`.rust-deps-v0`, `rust-deps-v0` and `rdep-v0` for rust-audit 0.1's ELF, Mach-O and
//! PE binaries). As in Syft, only crates of kind `runtime` (the default) are packages: build
//! dependencies run at compile time and are not in the program.

use std::io::Read;

use palisade_pkg::{purl, PackageType};
use serde_json::Value;

use super::{binary, json_error, json_fields, wants_executable, Found, INSTALLED};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads Rust programs built with `cargo auditable`.
pub(crate) struct CargoAuditableBinary;

const NAME: &str = "cargo-auditable-binary-cataloger";

/// The largest dependency tree decompressed; real ones are a few KiB to a few hundred KiB, so a
/// larger one is a decompression bomb.
const MAX_JSON: u64 = 16 << 20;

impl Cataloger for CargoAuditableBinary {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        INSTALLED
    }

    fn wants(&self, path: &str, meta: &FileMeta) -> Option<Want> {
        wants_executable(path, meta)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let Some(executables) = binary::executables(content) else {
            return Ok(Vec::new());
        };
        let mut found = Found::new(path, NAME);
        for executable in &executables {
            let Some(section) = [".dep-v0", ".rust-deps-v0", "rust-deps-v0", "rdep-v0"].into_iter().find_map(|name| executable.section(name)) else {
                // Syft stops at the first image without a dependency tree.
                return Ok(Vec::new());
            };
            for (name, version) in runtime_crates(section)? {
                let purl = purl::build("cargo", None, &name, Some(&version), &[]);
                found.add(PackageType::RustCrate, &name, &version, purl, Vec::new());
            }
        }
        Ok(found.into_facts())
    }
}

/// The name and version of every runtime crate of a compressed dependency tree.
fn runtime_crates(section: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(section)
        .take(MAX_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|error| format!("the .dep-v0 section is not zlib data: {error}"))?;
    if json.len() as u64 > MAX_JSON {
        return Err(format!("the .dep-v0 section inflates past {MAX_JSON} bytes: a decompression bomb"));
    }
    let tree: Value = serde_json::from_slice(&json).map_err(|error| format!("the .dep-v0 section's JSON: {}", json_error(&error)))?;
    let packages = tree.as_object().and_then(|tree| json_fields::field(tree, "packages")).and_then(Value::as_array);
    Ok(packages
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        // A missing or null kind is `runtime`, as go-rustaudit defaults it.
        .filter(|package| json_fields::field(package, "kind").and_then(Value::as_str).is_none_or(|kind| kind == "runtime"))
        .map(|package| (json_fields::text(package, "name").to_owned(), json_fields::text(package, "version").to_owned()))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn compressed(json: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(json).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn runtime_crates_only() {
        let tree = br#"{"packages":[{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build","dependencies":[3]},{"name":"hello","version":"0.1.0","source":"local","dependencies":[0,2],"root":true},{"name":"itoa","version":"1.0.19","source":"crates.io","kind":"runtime"}],"format":1}"#;
        assert_eq!(runtime_crates(&compressed(tree)), Ok(vec![("hello".into(), "0.1.0".into()), ("itoa".into(), "1.0.19".into())]));
    }

    #[test]
    fn damaged_sections_are_named() {
        assert!(runtime_crates(b"not zlib").unwrap_err().starts_with("the .dep-v0 section is not zlib data"));
        assert_eq!(runtime_crates(&compressed(b"{\"packages\": [")), Err("the .dep-v0 section's JSON: line 1, column 14: EOF while parsing a list".into()));
        assert_eq!(runtime_crates(&compressed(br#"{"packages":[{"name":"a","dependencies":[-1]}, 3]}"#)), Ok(vec![("a".into(), String::new())]));
        let bomb = compressed(&vec![b' '; (MAX_JSON + 10) as usize]);
        assert!(runtime_crates(&bomb).unwrap_err().ends_with("a decompression bomb"));
    }
}

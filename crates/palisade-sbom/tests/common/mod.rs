//! What the integration tests share: the official schemas (read from `$PALISADE_UPSTREAM`,
//! never fetched), writing an inventory in a format, and skipping loudly when something
//! outside the repository is missing (never under `CI=true`).

#![allow(dead_code)] // Each test binary uses its own part.

use std::io::Write;
use std::path::{Path, PathBuf};

use jsonschema::{Registry, Validator};
use palisade_pkg::Inventory;
use palisade_sbom::{Format, SbomOptions};
use serde_json::Value;

/// `$PALISADE_UPSTREAM`, by default `../shared/upstream` beside the workspace.
pub fn upstream_dir() -> PathBuf {
    match std::env::var_os("PALISADE_UPSTREAM") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream"),
    }
}

/// Says why a test does not run, past the harness's capture; fails instead under `CI=true`.
pub fn skip(test: &str, why: &str) {
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "{test} cannot run in CI: {why}"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The schemas' folder, or `None` after a loud skip.
pub fn schemas_dir(test: &str) -> Option<PathBuf> {
    let dir = upstream_dir().join("sbom-schemas");
    if dir.join("cyclonedx/bom-1.6.schema.json").is_file()
        && dir.join("spdx/spdx-schema-2.3.json").is_file()
    {
        return Some(dir);
    }
    skip(
        test,
        &format!(
            "{} is missing: set PALISADE_UPSTREAM to the folder holding sbom-schemas/",
            dir.display()
        ),
    );
    None
}

/// CycloneDX 1.6 with the SPDX licence-id and JSF schemas it refers to registered under their
/// `$id`s (nothing is fetched), formats checked.
pub fn cyclonedx_validator(schemas: &Path) -> Validator {
    let dir = schemas.join("cyclonedx");
    let registry = Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            read_json(&dir.join("spdx.schema.json")),
        )
        .and_then(|registry| {
            registry.add(
                "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                read_json(&dir.join("jsf-0.82.schema.json")),
            )
        })
        .and_then(|registry| registry.prepare())
        .expect("the CycloneDX companion schemas register");
    jsonschema::options()
        .offline()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&read_json(&dir.join("bom-1.6.schema.json")))
        .expect("the CycloneDX 1.6 schema compiles")
}

/// SPDX 2.3 (self-contained), formats checked.
pub fn spdx_validator(schemas: &Path) -> Validator {
    jsonschema::options()
        .offline()
        .should_validate_formats(true)
        .build(&read_json(&schemas.join("spdx/spdx-schema-2.3.json")))
        .expect("the SPDX 2.3 schema compiles")
}

/// Every schema violation of `document`, one per line with where it is.
pub fn violations(validator: &Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect()
}

/// The options every test writes with: a fixed time, so output is comparable.
pub fn options(seconds: i64) -> SbomOptions {
    SbomOptions::new(
        "palisade",
        "0.1.0",
        time::OffsetDateTime::from_unix_timestamp(seconds).expect("a valid time"),
    )
}

pub fn render(inventory: &Inventory, format: Format, options: &SbomOptions) -> Vec<u8> {
    let mut out = Vec::new();
    palisade_sbom::write(inventory, format, options, &mut out).expect("writing to memory succeeds");
    out
}

pub fn render_json(inventory: &Inventory, format: Format) -> Value {
    serde_json::from_slice(&render(inventory, format, &options(1_700_000_000)))
        .expect("the output is JSON")
}

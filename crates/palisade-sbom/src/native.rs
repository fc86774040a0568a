//! `json`: the inventory as Palisade's model serialises it, under a `schemaVersion` (see
//! `docs/formats/sbom.md`). Nothing in it depends on the time of the run.

use std::io;

use palisade_pkg::Inventory;
use serde::Serialize;

/// Raised when a field is removed or changes meaning; new optional fields keep the version.
const SCHEMA_VERSION: &str = "1";

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: &'static str,
    #[serde(flatten)]
    inventory: &'a Inventory,
}

pub(crate) fn write(inventory: &Inventory, out: &mut dyn io::Write) -> io::Result<()> {
    crate::write_json(
        &Document {
            schema_version: SCHEMA_VERSION,
            inventory,
        },
        out,
    )
}

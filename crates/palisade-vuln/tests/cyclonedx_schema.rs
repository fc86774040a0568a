//! The CycloneDX 1.6 document with `vulnerabilities` (matches and a VEX-suppressed one) is
//! valid against the official schema, read from `$PALISADE_UPSTREAM/sbom-schemas` with the
//! validator palisade-sbom's tests use.

#[path = "../../palisade-sbom/tests/common/mod.rs"]
mod sbom_common;

use std::path::Path;

use palisade_osv::Database;
use palisade_pkg::{Inventory, Location, Package, PackageType, SourceDescription};
use palisade_vuln::{match_inventory, MatchOptions};

fn package(kind: PackageType, name: &str, version: &str, purl: &str) -> Package {
    Package { locations: vec![Location::new(format!("/proof/{name}"))], ..Package::new(kind, name, version, purl) }
}

#[test]
fn vulnerabilities_and_their_analysis_are_valid_cyclonedx_1_6() {
    let Some(schemas) = sbom_common::schemas_dir("vulnerabilities_and_their_analysis_are_valid_cyclonedx_1_6") else { return };
    let database = Database::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/osv")).unwrap();
    let scanned = Inventory {
        source: SourceDescription::Directory { path: "/app".into() },
        distro: None,
        packages: vec![
            package(PackageType::Python, "Jinja2", "2.10", "pkg:pypi/jinja2@2.10"),
            package(PackageType::RustCrate, "smallvec", "1.6.0", "pkg:cargo/smallvec@1.6.0"),
            package(PackageType::JavaArchive, "log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
        ],
        issues: vec![],
    };
    let vex = palisade_vuln::read_vex(
        "app.openvex.json",
        br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-2019-10906"}, "products": [{"@id": "pkg:pypi/jinja2"}], "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let mut scanned = scanned;
    scanned.packages[2].namespace = Some("org.apache.logging.log4j".into());
    let report = match_inventory(&scanned, &database, &MatchOptions { vex, ..MatchOptions::default() });
    assert_eq!(report.matches.len(), 2, "{:?}", report.matches.iter().map(|found| &found.id).collect::<Vec<_>>());
    assert_eq!(report.suppressed.len(), 1);
    let mut bom = sbom_common::render_json(&scanned, palisade_sbom::Format::CycloneDxJson);
    palisade_vuln::cyclonedx::add_vulnerabilities(&mut bom, &scanned, &report).unwrap();
    assert_eq!(bom["vulnerabilities"].as_array().unwrap().len(), 3);
    let validator = sbom_common::cyclonedx_validator(&schemas);
    let problems = sbom_common::violations(&validator, &bom);
    assert!(problems.is_empty(), "not valid CycloneDX 1.6:\n{}", problems.join("\n"));
    // The schema really checks the vulnerabilities: an unknown analysis state is refused.
    let analysed = bom["vulnerabilities"].as_array_mut().unwrap().iter_mut().find(|entry| entry.get("analysis").is_some()).expect("the VEX-suppressed entry");
    analysed["analysis"]["state"] = "maybe".into();
    assert!(!validator.is_valid(&bom));
}

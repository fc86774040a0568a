//! SBOM documents as evidence: Palisade's own CycloneDX and SPDX documents of real catalogued
//! inventories (the Debian root filesystem and the lockfile projects of `tests/fixtures`) read
//! back to the same packages, as SBOM files in a project directory and as single-file sources;
//! and single lockfiles as sources.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use palisade_catalog::source::{read, ReadOptions};
use palisade_pkg::Inventory;
use palisade_sbom::{Format, SbomOptions};

type Identity = (String, String, String, String);

fn identities(inventory: &Inventory) -> BTreeSet<Identity> {
    inventory.packages.iter().map(|package| (package.kind.as_str().to_owned(), package.name.clone(), package.version.clone(), package.purl.clone())).collect()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn inventory(source: &str) -> Inventory {
    read(source, &ReadOptions::default(), &|_| {}).unwrap_or_else(|error| panic!("{source}: {error}"))
}

fn write(inventory: &Inventory, format: Format, path: &Path) {
    let options = SbomOptions::new("palisade", "0.1.0", time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap());
    let mut out = Vec::new();
    palisade_sbom::write(inventory, format, &options, &mut out).unwrap();
    std::fs::write(path, out).unwrap();
}

fn distro(inventory: &Inventory) -> Option<(String, Option<String>)> {
    inventory.distro.as_ref().map(|distro| (distro.id.clone(), distro.version_id.clone()))
}

#[test]
fn palisades_own_documents_read_back_to_the_same_packages() {
    let work = tempfile::tempdir().unwrap();
    let sources = [format!("dir:{}", fixtures().join("dpkg/bookworm").display()), fixtures().join("lockfiles").display().to_string()];
    let mut compared = 0;
    for source in &sources {
        let original = inventory(source);
        assert!(original.packages.iter().all(|package| !package.purl.is_empty()), "{source}: every package has a purl");
        for (format, name) in [(Format::CycloneDxJson, "palisade.cdx.json"), (Format::SpdxJson, "palisade.spdx.json")] {
            let path = work.path().join(name);
            write(&original, format, &path);
            let read_back = inventory(&path.display().to_string());
            assert_eq!(identities(&read_back), identities(&original), "{source} as {name}");
            assert_eq!(distro(&read_back), distro(&original), "{source} as {name}");
            assert!(read_back.issues.is_empty(), "{source} as {name}: {:?}", read_back.issues);
            assert_eq!(read_back.source, palisade_pkg::SourceDescription::File { path: path.display().to_string() });
            compared += read_back.packages.len();
        }
    }
    // The lockfile projects hold Go's standard library from go.mod: it survives the round trip.
    let projects = inventory(&sources[1]);
    let stdlib = projects.packages.iter().find(|package| package.name == "stdlib").expect("stdlib from go/go.mod");
    assert_eq!((stdlib.version.as_str(), stdlib.purl.as_str()), ("go1.21.5", "pkg:golang/stdlib@1.21.5"));
    eprintln!("{compared} packages read back from Palisade's CycloneDX and SPDX JSON");
}

#[test]
fn sbom_files_in_a_project_are_part_of_its_inventory() {
    let bookworm = inventory(&format!("dir:{}", fixtures().join("dpkg/bookworm").display()));
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(project.path().join("deploy")).unwrap();
    write(&bookworm, Format::SpdxJson, &project.path().join("deploy/base-image.spdx.json"));
    std::fs::write(project.path().join("go.mod"), "module example.com/app\n\ngo 1.22.5\n\nrequire golang.org/x/net v0.23.0\n").unwrap();
    std::fs::write(project.path().join("broken.cdx.json"), "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": 1.6\n}\n").unwrap();
    std::fs::write(
        project.path().join("bom.xml"),
        "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"><components><component type=\"library\"><name>checkout</name><purl>pkg:github/actions/checkout@v4</purl></component></components></bom>",
    )
    .unwrap();
    let found = inventory(&project.path().display().to_string());

    let from_sbom: BTreeSet<Identity> = found.packages.iter().filter(|package| package.locations[0].path == "/deploy/base-image.spdx.json").map(|package| (package.kind.as_str().to_owned(), package.name.clone(), package.version.clone(), package.purl.clone())).collect();
    assert_eq!(from_sbom, identities(&bookworm));
    assert!(found.packages.iter().filter(|package| package.locations[0].path == "/deploy/base-image.spdx.json").all(|package| package.found_by == "sbom-cataloger"));
    let go: Vec<(&str, &str)> = found.packages.iter().filter(|package| package.locations[0].path == "/go.mod").map(|package| (package.name.as_str(), package.version.as_str())).collect();
    assert_eq!(go, [("golang.org/x/net", "v0.23.0"), ("stdlib", "go1.22.5")]);
    // No release file in the project: the distribution is the one the SBOM's packages name.
    assert_eq!(distro(&found), Some(("debian".to_owned(), Some("12".to_owned()))));
    let issues: Vec<(&str, &str)> = found.issues.iter().map(|issue| (issue.location.path.as_str(), issue.message.as_str())).collect();
    assert_eq!(
        issues,
        [
            ("/bom.xml", "sbom-cataloger: CycloneDX 1.5 XML: 1 components of purl type `github`, which Palisade has no package type for, were not read: `pkg:github/actions/checkout@v4`"),
            ("/broken.cdx.json", "sbom-cataloger: line 3, column 20: invalid type: floating point `1.6`, expected a string"),
        ]
    );
}

#[test]
fn a_single_lockfile_or_sbom_is_a_source() {
    let go_mod = fixtures().join("lockfiles/go/go.mod");
    let single = inventory(&go_mod.display().to_string());
    let project = inventory(&fixtures().join("lockfiles/go").display().to_string());
    assert_eq!(identities(&single), identities(&project));
    assert_eq!(single.source, palisade_pkg::SourceDescription::File { path: go_mod.display().to_string() });
    assert!(single.packages.iter().all(|package| package.locations[0].path == go_mod.display().to_string()));

    // An SBOM under a name no reader claims is told by its content.
    let work = tempfile::tempdir().unwrap();
    let sbom = work.path().join("sbom.json");
    write(&project, Format::CycloneDxJson, &sbom);
    assert_eq!(identities(&inventory(&sbom.display().to_string())), identities(&project));

    let notes = work.path().join("notes.txt");
    std::fs::write(&notes, "hello\n").unwrap();
    let error = read(&notes.display().to_string(), &ReadOptions::default(), &|_| {}).unwrap_err().to_string();
    assert_eq!(error, format!("{}: not a lockfile or package manifest Palisade reads, nor an SBOM it reads: not a CycloneDX (JSON or XML) or SPDX (JSON or tag-value) document", notes.display()));
}

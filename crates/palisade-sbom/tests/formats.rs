//! Every format written from inventories that cover what scans produce: an image with a
//! distribution, OS and language packages and licences of every kind (SPDX id, expression,
//! Debian short name, free text, a whole licence text, none); a directory; a single file; an
//! empty inventory; names with spaces, Unicode and scopes. CycloneDX and SPDX output is checked
//! against the official schemas, and every format for byte stability.

mod common;

use std::collections::{BTreeSet, HashSet};

use common::{
    cyclonedx_validator, options, render, render_json, schemas_dir, spdx_validator, violations,
};
use palisade_pkg::{
    Distro, ImageDescription, Inventory, InventoryIssue, LayerDescription, Location, Package,
    PackageType, SourceDescription, SourcePackage, purl,
};
use palisade_sbom::Format;
use serde_json::Value;

fn digest(seed: char) -> String {
    format!("sha256:{}", seed.to_string().repeat(64))
}

fn located(path: &str, layer: Option<char>) -> Location {
    Location {
        path: path.to_owned(),
        layer: layer.map(digest),
    }
}

fn package(
    kind: PackageType,
    name: &str,
    version: &str,
    licenses: &[&str],
    locations: Vec<Location>,
    found_by: &str,
) -> Package {
    Package {
        name: name.to_owned(),
        version: version.to_owned(),
        kind,
        purl: String::new(),
        licenses: licenses.iter().map(|text| text.to_string()).collect(),
        locations,
        found_by: found_by.to_owned(),
        arch: None,
        epoch: None,
        source: None,
        namespace: None,
    }
}

fn language(kind: &str, namespace: Option<&str>, mut package: Package) -> Package {
    package.purl = purl::build(kind, namespace, &package.name, Some(&package.version), &[]);
    package
}

const MIT_TEXT: &str = "Permission is hereby granted, free of charge, to any person obtaining a copy\nof this software and associated documentation files (the \"Software\"), to deal\nin the Software without restriction.";

fn debian() -> Distro {
    Distro {
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: Some("bookworm".into()),
        pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        id_like: Vec::new(),
        location: Some(located("/etc/os-release", Some('a'))),
    }
}

fn image_inventory() -> Inventory {
    let distro = debian();
    let status = || {
        vec![
            located("/var/lib/dpkg/status", Some('c')),
            located("/usr/share/doc/x/copyright", Some('a')),
        ]
    };
    let mut bash = package(
        PackageType::Deb,
        "bash",
        "5.2.15-2+b2",
        &["GPL-3+", "BSD-4-clause-UC", "GFDL-NIV-1.3", "Latex2e"],
        status(),
        "dpkg-db-cataloger",
    );
    bash.arch = Some("amd64".into());
    bash.source = Some(SourcePackage {
        name: "bash".into(),
        version: Some("5.2.15-2".into()),
    });
    let mut libc = package(
        PackageType::Deb,
        "libc6",
        "2.36-9+deb12u4",
        &["GPL-2", "LGPL-2.1+", "public-domain", "GPL-2"],
        status(),
        "dpkg-db-cataloger",
    );
    libc.arch = Some("amd64".into());
    libc.source = Some(SourcePackage {
        name: "glibc".into(),
        version: None,
    });
    let mut openssl = package(
        PackageType::Rpm,
        "openssl-libs",
        "3.0.7-24.el9",
        &["ASL 2.0"],
        vec![located("/var/lib/rpm/rpmdb.sqlite", Some('b'))],
        "rpm-db-cataloger",
    );
    openssl.epoch = Some(1);
    openssl.arch = Some("x86_64".into());
    openssl.source = Some(SourcePackage {
        name: "openssl-3.0.7-24.el9.src.rpm".into(),
        version: None,
    });
    let mut musl = package(
        PackageType::Apk,
        "musl",
        "1.2.4-r2",
        &["MIT"],
        vec![located("/lib/apk/db/installed", Some('b'))],
        "apk-db-cataloger",
    );
    musl.arch = Some("x86_64".into());
    let mut os_packages = vec![bash, libc, openssl, musl];
    for package in &mut os_packages {
        package.purl = purl::os_package(package, Some(&distro));
    }
    let site = "/usr/local/lib/python3.11/site-packages";
    let mut packages = os_packages;
    packages.extend([
        language(
            "pypi",
            None,
            package(
                PackageType::Python,
                "requests",
                "2.31.0",
                &["Apache License, Version 2.0"],
                vec![located(
                    &format!("{site}/requests-2.31.0.dist-info/METADATA"),
                    Some('b'),
                )],
                "python-installed-package-cataloger",
            ),
        ),
        language(
            "pypi",
            None,
            package(
                PackageType::Python,
                "six",
                "1.16.0",
                &[MIT_TEXT],
                vec![located(
                    &format!("{site}/six-1.16.0.dist-info/METADATA"),
                    Some('b'),
                )],
                "python-installed-package-cataloger",
            ),
        ),
        language(
            "npm",
            None,
            package(
                PackageType::Npm,
                "@scope/x",
                "1.0.0",
                &["(mit OR Apache-2.0) AND BSD-3-Clause"],
                vec![located(
                    "/srv/app/node_modules/@scope/x/package.json",
                    Some('b'),
                )],
                "javascript-package-cataloger",
            ),
        ),
        language(
            "npm",
            None,
            package(
                PackageType::Npm,
                "ünï code",
                "0.0.1-β",
                &[],
                vec![located(
                    "/srv/app/node_modules/ünï code/package.json",
                    Some('b'),
                )],
                "javascript-package-cataloger",
            ),
        ),
        // The same package twice, evidence and all: each still gets its own identifier.
        language(
            "npm",
            None,
            package(
                PackageType::Npm,
                "left-pad",
                "1.3.0",
                &["WTFPL"],
                vec![located(
                    "/srv/app/node_modules/left-pad/package.json",
                    Some('b'),
                )],
                "javascript-package-cataloger",
            ),
        ),
        language(
            "npm",
            None,
            package(
                PackageType::Npm,
                "left-pad",
                "1.3.0",
                &["WTFPL"],
                vec![located(
                    "/srv/app/node_modules/left-pad/package.json",
                    Some('b'),
                )],
                "javascript-package-cataloger",
            ),
        ),
        language(
            "maven",
            Some("org.apache.commons"),
            Package {
                namespace: Some("org.apache.commons".into()),
                ..package(
                    PackageType::JavaArchive,
                    "commons-lang3",
                    "3.12.0",
                    &["Apache-2.0"],
                    vec![located(
                        "/opt/service/lib/commons-lang3-3.12.0.jar",
                        Some('b'),
                    )],
                    "java-archive-cataloger",
                )
            },
        ),
        language(
            "golang",
            None,
            package(
                PackageType::GoModule,
                "github.com/spf13/cobra",
                "v1.8.0",
                &[],
                vec![located("/usr/local/bin/app", Some('b'))],
                "go-module-binary-cataloger",
            ),
        ),
    ]);
    let layers = [('a', '1'), ('b', '2'), ('c', '3')]
        .into_iter()
        .enumerate()
        .map(|(index, (seed, diff_seed))| LayerDescription {
            digest: digest(seed),
            diff_id: digest(diff_seed),
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
            size: 1000 * (index as u64 + 1),
        })
        .collect();
    let mut inventory = Inventory {
        source: SourceDescription::Image(ImageDescription {
            reference: "example.test/shop:1.4".into(),
            tags: vec!["example.test/shop:1.4".into()],
            manifest_digest: digest('d'),
            config_digest: digest('e'),
            repo_digests: vec![format!("example.test/shop@{}", digest('d'))],
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            layers,
        }),
        distro: Some(distro),
        packages,
        issues: vec![InventoryIssue {
            location: located("/var/lib/dpkg/status.d/broken", Some('c')),
            message: "line 3: field without a name".into(),
        }],
    };
    inventory.sort();
    inventory
}

fn directory_inventory() -> Inventory {
    let mut inventory = Inventory {
        source: SourceDescription::Directory {
            path: "/home/me/my project".into(),
        },
        distro: None,
        packages: vec![
            language(
                "cargo",
                None,
                package(
                    PackageType::RustCrate,
                    "serde",
                    "1.0.200",
                    &["MIT OR Apache-2.0"],
                    vec![located("/home/me/my project/Cargo.lock", None)],
                    "rust-cargo-lock-cataloger",
                ),
            ),
            language(
                "npm",
                None,
                package(
                    PackageType::Npm,
                    "express",
                    "4.18.2",
                    &["MIT"],
                    vec![located("/home/me/my project/package-lock.json", None)],
                    "javascript-lock-cataloger",
                ),
            ),
        ],
        issues: Vec::new(),
    };
    inventory.sort();
    inventory
}

fn file_inventory() -> Inventory {
    Inventory {
        source: SourceDescription::File {
            path: "requirements.txt".into(),
        },
        distro: None,
        packages: vec![language(
            "pypi",
            None,
            package(
                PackageType::Python,
                "flask",
                "3.0.0",
                &[],
                vec![located("/requirements.txt", None)],
                "python-package-cataloger",
            ),
        )],
        issues: Vec::new(),
    }
}

fn empty_inventory() -> Inventory {
    Inventory {
        source: SourceDescription::Directory { path: ".".into() },
        distro: None,
        packages: Vec::new(),
        issues: Vec::new(),
    }
}

fn all_inventories() -> [(&'static str, Inventory); 4] {
    [
        ("image", image_inventory()),
        ("directory", directory_inventory()),
        ("file", file_inventory()),
        ("empty", empty_inventory()),
    ]
}

#[test]
fn cyclonedx_is_valid_against_the_official_schema() {
    let Some(schemas) = schemas_dir("cyclonedx_is_valid_against_the_official_schema") else {
        return;
    };
    let validator = cyclonedx_validator(&schemas);
    for (name, inventory) in all_inventories() {
        let bom = render_json(&inventory, Format::CycloneDxJson);
        let problems = violations(&validator, &bom);
        assert!(
            problems.is_empty(),
            "{name}: not valid CycloneDX 1.6:\n{}",
            problems.join("\n")
        );
    }
    // The validator checks down through the registered licence-id schema and the formats.
    let mut broken = render_json(&image_inventory(), Format::CycloneDxJson);
    broken["components"][1]["licenses"] = serde_json::json!([{"license": {"id": "GPL-2+"}}]);
    assert!(!validator.is_valid(&broken));
    let mut broken = render_json(&image_inventory(), Format::CycloneDxJson);
    broken["metadata"]["timestamp"] = Value::from("yesterday");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn spdx_is_valid_against_the_official_schema() {
    let Some(schemas) = schemas_dir("spdx_is_valid_against_the_official_schema") else {
        return;
    };
    let validator = spdx_validator(&schemas);
    for (name, inventory) in all_inventories() {
        let document = render_json(&inventory, Format::SpdxJson);
        let problems = violations(&validator, &document);
        assert!(
            problems.is_empty(),
            "{name}: not valid SPDX 2.3:\n{}",
            problems.join("\n")
        );
    }
    let mut broken = render_json(&image_inventory(), Format::SpdxJson);
    broken["packages"][1]["primaryPackagePurpose"] = Value::from("OPERATING-SYSTEM");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn output_is_byte_stable_and_only_the_time_varies() {
    for (name, inventory) in all_inventories() {
        for format in Format::ALL {
            let first = render(&inventory, format, &options(1_700_000_000));
            assert_eq!(
                first,
                render(&inventory.clone(), format, &options(1_700_000_000)),
                "{name} {format}"
            );
            let later =
                String::from_utf8(render(&inventory, format, &options(1_800_000_000))).unwrap();
            let first = String::from_utf8(first).unwrap();
            let changed: Vec<&str> = first
                .lines()
                .zip(later.lines())
                .filter(|(a, b)| a != b)
                .map(|(a, _)| a.trim().split(':').next().unwrap_or_default())
                .collect();
            let expected: &[&str] = match format {
                Format::CycloneDxJson => &["\"serialNumber\"", "\"timestamp\""],
                Format::SpdxJson => &["\"documentNamespace\"", "\"created\""],
                Format::Table | Format::Json => &[],
            };
            assert_eq!(changed, expected, "{name} {format}");
            assert_eq!(first.lines().count(), later.lines().count());
        }
    }
    // Another inventory is another document.
    let mut other = image_inventory();
    other.packages.pop();
    for format in [Format::CycloneDxJson, Format::SpdxJson] {
        let id = |value: Value| {
            value
                .get("serialNumber")
                .or_else(|| value.get("documentNamespace"))
                .cloned()
        };
        assert_ne!(
            id(render_json(&other, format)),
            id(render_json(&image_inventory(), format))
        );
    }
}

fn property<'a>(component: &'a Value, name: &str) -> Vec<&'a str> {
    component["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == name)
        .filter_map(|p| p["value"].as_str())
        .collect()
}

fn component<'a>(bom: &'a Value, name: &str) -> &'a Value {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

#[test]
fn cyclonedx_describes_the_image_its_packages_and_their_evidence() {
    let bom = render_json(&image_inventory(), Format::CycloneDxJson);
    assert_eq!(bom["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(
        bom["metadata"]["tools"]["components"][0],
        serde_json::json!({"type": "application", "name": "palisade", "version": "0.1.0"})
    );
    let root = &bom["metadata"]["component"];
    assert_eq!(root["type"], "container");
    assert_eq!(root["name"], "example.test/shop:1.4");
    assert_eq!(root["version"], digest('d'));
    assert_eq!(
        root["hashes"][0],
        serde_json::json!({"alg": "SHA-256", "content": "d".repeat(64)})
    );
    assert_eq!(
        root["purl"].as_str().unwrap(),
        format!(
            "pkg:oci/shop@{}?arch=amd64&repository_url=example.test%2Fshop&tag=1.4",
            digest('d')
        )
    );
    assert_eq!(property(root, "palisade:image:configDigest"), [digest('e')]);
    assert_eq!(
        property(root, "palisade:image:layer:2:digest"),
        [digest('c')]
    );
    assert_eq!(property(root, "palisade:image:layer:2:size"), ["3000"]);
    assert_eq!(
        property(&bom["metadata"], "palisade:inventory:issue")[0],
        format!(
            "/var/lib/dpkg/status.d/broken (layer {}): line 3: field without a name",
            digest('c')
        )
    );

    let os = &bom["components"][0];
    assert_eq!(
        (
            os["type"].as_str(),
            os["name"].as_str(),
            os["version"].as_str()
        ),
        (Some("operating-system"), Some("debian"), Some("12"))
    );
    assert_eq!(os["bom-ref"], "os:debian@12");
    assert_eq!(os["description"], "Debian GNU/Linux 12 (bookworm)");

    let bash = component(&bom, "bash");
    assert_eq!(bash["type"], "library");
    assert_eq!(
        bash["purl"],
        "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"
    );
    assert!(bash["bom-ref"].as_str().unwrap().starts_with("pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2&package-id="));
    assert_eq!(
        bash["licenses"],
        serde_json::json!([{"license": {"id": "GPL-3.0-or-later"}}, {"license": {"id": "BSD-4-Clause-UC"}}, {"license": {"name": "GFDL-NIV-1.3"}}, {"license": {"id": "Latex2e"}}])
    );
    assert_eq!(property(bash, "palisade:package:type"), ["deb"]);
    assert_eq!(
        property(bash, "palisade:package:foundBy"),
        ["dpkg-db-cataloger"]
    );
    assert_eq!(
        property(bash, "palisade:package:sourceVersion"),
        ["5.2.15-2"]
    );
    assert_eq!(property(bash, "palisade:location:0:layer"), [digest('c')]);
    assert_eq!(
        bash["evidence"]["occurrences"][0],
        serde_json::json!({"location": "/var/lib/dpkg/status", "additionalContext": format!("layer {}", digest('c'))})
    );
    // Repeated licences are stated once.
    assert_eq!(
        component(&bom, "libc6")["licenses"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        property(component(&bom, "openssl-libs"), "palisade:package:epoch"),
        ["1"]
    );
    assert_eq!(
        component(&bom, "openssl-libs")["licenses"],
        serde_json::json!([{"license": {"name": "ASL 2.0"}}])
    );
    assert_eq!(
        component(&bom, "@scope/x")["licenses"],
        serde_json::json!([{"expression": "(MIT OR Apache-2.0) AND BSD-3-Clause"}])
    );
    assert_eq!(
        component(&bom, "six")["licenses"][0]["license"]["text"]["content"],
        MIT_TEXT
    );
    assert_eq!(
        component(&bom, "commons-lang3")["group"],
        "org.apache.commons"
    );
    assert!(
        component(&bom, "github.com/spf13/cobra")
            .get("licenses")
            .is_none()
    );
    assert_eq!(
        component(&bom, "ünï code")["purl"],
        "pkg:npm/%C3%BCn%C3%AF%20code@0.0.1-%CE%B2"
    );

    let refs: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let unique: HashSet<&str> = refs
        .iter()
        .copied()
        .chain([root["bom-ref"].as_str().unwrap()])
        .collect();
    assert_eq!(unique.len(), refs.len() + 1, "bom-refs repeat: {refs:?}");
    // The source depends on everything in it, and nothing else is claimed.
    assert_eq!(
        bom["dependencies"],
        serde_json::json!([{"ref": root["bom-ref"], "dependsOn": refs}])
    );
}

#[test]
fn cyclonedx_describes_directories_and_empty_inventories() {
    let bom = render_json(&directory_inventory(), Format::CycloneDxJson);
    assert_eq!(bom["metadata"]["component"]["type"], "file");
    assert_eq!(bom["metadata"]["component"]["name"], "/home/me/my project");
    assert_eq!(
        component(&bom, "serde")["licenses"],
        serde_json::json!([{"expression": "MIT OR Apache-2.0"}])
    );
    let empty = render_json(&empty_inventory(), Format::CycloneDxJson);
    assert_eq!(empty["components"], serde_json::json!([]));
    assert_eq!(empty["dependencies"][0]["dependsOn"], serde_json::json!([]));
}

#[test]
fn spdx_describes_the_image_its_packages_and_their_licences() {
    let document = render_json(&image_inventory(), Format::SpdxJson);
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    assert_eq!(document["name"], "example.test/shop:1.4");
    let namespace = document["documentNamespace"].as_str().unwrap();
    assert!(
        namespace.starts_with("https://palisade.dev/spdxdocs/example.test-shop-1.4-"),
        "{namespace}"
    );
    assert_eq!(
        document["creationInfo"]["creators"],
        serde_json::json!(["Tool: palisade-0.1.0"])
    );
    assert_eq!(document["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    assert!(
        document["creationInfo"]["comment"]
            .as_str()
            .unwrap()
            .contains("/var/lib/dpkg/status.d/broken")
    );

    let packages = document["packages"].as_array().unwrap();
    let root = &packages[0];
    assert_eq!(root["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(root["versionInfo"], digest('d'));
    assert_eq!(
        root["checksums"][0],
        serde_json::json!({"algorithm": "SHA256", "checksumValue": "d".repeat(64)})
    );
    assert_eq!(root["externalRefs"][0]["referenceType"], "purl");
    assert!(
        root["comment"]
            .as_str()
            .unwrap()
            .contains(&format!("layer 1: {}", digest('b')))
    );
    let os = &packages[1];
    assert_eq!(
        (
            os["name"].as_str(),
            os["versionInfo"].as_str(),
            os["primaryPackagePurpose"].as_str()
        ),
        (Some("debian"), Some("12"), Some("OPERATING_SYSTEM"))
    );

    let by_name = |name: &str| {
        packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no package {name}"))
    };
    let bash = by_name("bash");
    assert_eq!(
        bash["licenseDeclared"],
        "GPL-3.0-or-later AND BSD-4-Clause-UC AND LicenseRef-GFDL-NIV-1.3 AND Latex2e"
    );
    assert_eq!(bash["licenseConcluded"], "NOASSERTION");
    assert_eq!(bash["downloadLocation"], "NOASSERTION");
    assert_eq!(bash["filesAnalyzed"], false);
    assert_eq!(
        bash["sourceInfo"],
        format!(
            "found by dpkg-db-cataloger in /var/lib/dpkg/status (layer {}), /usr/share/doc/x/copyright (layer {})",
            digest('c'),
            digest('a')
        )
    );
    assert_eq!(
        bash["externalRefs"],
        serde_json::json!([{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": bash_purl()}])
    );
    assert_eq!(
        by_name("@scope/x")["licenseDeclared"],
        "(MIT OR Apache-2.0) AND BSD-3-Clause"
    );
    assert_eq!(
        by_name("github.com/spf13/cobra")["licenseDeclared"],
        "NOASSERTION"
    );

    // Every LicenseRef used is extracted, once, with the text it stands for.
    let extracted = document["hasExtractedLicensingInfos"].as_array().unwrap();
    let declared: BTreeSet<&str> = extracted
        .iter()
        .map(|info| info["licenseId"].as_str().unwrap())
        .collect();
    assert_eq!(declared.len(), extracted.len());
    let mut used = BTreeSet::new();
    for package in packages {
        let expression = package["licenseDeclared"].as_str().unwrap();
        if expression != "NOASSERTION" {
            spdx::Expression::parse(expression)
                .unwrap_or_else(|error| panic!("{expression}: {error}"));
            used.extend(
                expression
                    .split([' ', '(', ')'])
                    .filter(|term| term.starts_with("LicenseRef-")),
            );
        }
    }
    assert_eq!(used, declared);
    let six_text = extracted
        .iter()
        .find(|info| info["extractedText"] == MIT_TEXT)
        .expect("the whole licence text is extracted");
    assert!(by_name("six")["licenseDeclared"] == six_text["licenseId"]);

    // Identifiers are unique and well formed; relationships name existing elements only.
    let ids: Vec<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "{ids:?}"
    );
    for id in &ids {
        let rest = id
            .strip_prefix("SPDXRef-")
            .unwrap_or_else(|| panic!("{id}"));
        assert!(
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    assert!(
        ids.iter()
            .any(|id| id.starts_with("SPDXRef-Package-npm-scope-x-")),
        "{ids:?}"
    );
    let relationships = document["relationships"].as_array().unwrap();
    assert_eq!(
        relationships[0],
        serde_json::json!({"spdxElementId": "SPDXRef-DOCUMENT", "relatedSpdxElement": ids[0], "relationshipType": "DESCRIBES"})
    );
    let contained: Vec<&str> = relationships[1..]
        .iter()
        .inspect(|relationship| {
            assert_eq!(
                (
                    relationship["spdxElementId"].as_str(),
                    relationship["relationshipType"].as_str()
                ),
                (Some(ids[0]), Some("CONTAINS"))
            )
        })
        .map(|relationship| relationship["relatedSpdxElement"].as_str().unwrap())
        .collect();
    assert_eq!(contained, ids[1..]);
}

fn bash_purl() -> String {
    "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"
        .to_owned()
}

#[test]
fn spdx_describes_directories_files_and_empty_inventories() {
    let document = render_json(&directory_inventory(), Format::SpdxJson);
    assert_eq!(
        document["packages"][0]["SPDXID"],
        "SPDXRef-DocumentRoot-Directory-home-me-my-project"
    );
    assert_eq!(document["packages"][0]["primaryPackagePurpose"], "FILE");
    assert!(document.get("hasExtractedLicensingInfos").is_none());
    let file = render_json(&file_inventory(), Format::SpdxJson);
    assert_eq!(
        file["packages"][0]["SPDXID"],
        "SPDXRef-DocumentRoot-File-requirements.txt"
    );
    let empty = render_json(&empty_inventory(), Format::SpdxJson);
    assert_eq!(empty["packages"].as_array().unwrap().len(), 1);
    assert_eq!(empty["relationships"].as_array().unwrap().len(), 1);
    assert!(
        empty["documentNamespace"]
            .as_str()
            .unwrap()
            .starts_with("https://palisade.dev/spdxdocs/source-")
    );
}

#[test]
fn palisade_json_is_the_inventory_with_a_schema_version() {
    for (name, inventory) in all_inventories() {
        let document = render_json(&inventory, Format::Json);
        assert_eq!(document["schemaVersion"], "1", "{name}");
        let back: Inventory = serde_json::from_value(document).unwrap();
        assert_eq!(back, inventory, "{name}");
    }
    let text = String::from_utf8(render(&image_inventory(), Format::Json, &options(0))).unwrap();
    assert!(
        text.starts_with(
            "{\n  \"schemaVersion\": \"1\",\n  \"source\": {\n    \"kind\": \"image\","
        ),
        "{text}"
    );
}

#[test]
fn the_table_lists_distinct_packages_by_name() {
    let text = String::from_utf8(render(&image_inventory(), Format::Table, &options(0))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "NAME                    VERSION         TYPE");
    assert_eq!(lines[1], "@scope/x                1.0.0           npm");
    assert!(
        lines.contains(&"left-pad                1.3.0           npm (+1 duplicate)"),
        "{text}"
    );
    assert_eq!(
        lines.last(),
        Some(&"ünï code                0.0.1-β         npm")
    );
    assert_eq!(lines.len(), 1 + image_inventory().packages.len() - 1);
}

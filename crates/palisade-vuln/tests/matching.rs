//! Real advisories (tests/data/osv, see SOURCE.md) against hand-made inventories; every
//! expectation is written by hand from the records' ranges, negative cases included.

use std::path::Path;
use std::sync::Arc;

use palisade_core::{ObjectRef, Severity};
use palisade_osv::Database;
use palisade_pkg::{Distro, Inventory, Location, Package, PackageType, SourceDescription, SourcePackage};
use palisade_vuln::{match_inventory, MatchOptions, MatchReport, Rating};

fn database() -> Database {
    Database::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/osv")).expect("the fixture records open")
}

fn package(kind: PackageType, name: &str, version: &str) -> Package {
    Package { locations: vec![Location::new(format!("/proof/{name}"))], ..Package::new(kind, name, version, "") }
}

fn with_source(mut package: Package, name: &str, version: Option<&str>) -> Package {
    package.source = Some(SourcePackage { name: name.into(), version: version.map(Into::into) });
    package
}

fn inventory(distro: Option<(&str, &str)>, packages: Vec<Package>) -> Inventory {
    Inventory {
        source: SourceDescription::Directory { path: "/scanned".into() },
        distro: distro.map(|(id, version)| Distro { id: id.into(), version_id: Some(version.into()), ..Distro::default() }),
        packages,
        issues: vec![],
    }
}

/// (package name, package version, id, fixed versions) of every match.
fn summary(report: &MatchReport) -> Vec<(String, String, String, Vec<String>)> {
    report.matches.iter().map(|found| (found.package.name.clone(), found.package.version.clone(), found.id.clone(), found.fixed.clone())).collect()
}

fn row(name: &str, version: &str, id: &str, fixed: &[&str]) -> (String, String, String, Vec<String>) {
    (name.into(), version.into(), id.into(), fixed.iter().map(|fixed| fixed.to_string()).collect())
}

#[test]
fn debian_binaries_match_through_their_source_package() {
    let report = match_inventory(
        &inventory(
            Some(("debian", "11")),
            vec![
                // Below the fix, matched by its source package; the finding names both.
                with_source(package(PackageType::Deb, "libssl1.1", "1.1.1n-0+deb11u4"), "openssl", None),
                // Exactly the fixed version.
                package(PackageType::Deb, "openssl", "1.1.1n-0+deb11u5"),
                // A binNMU of the fixed version: `+b1` sorts above it.
                with_source(package(PackageType::Deb, "libssl-dev", "1.1.1n-0+deb11u5+b1"), "openssl", None),
                // The binary's version is the binNMU; the source version decides.
                with_source(package(PackageType::Deb, "openssl-provider", "1.1.1n-0+deb11u4+b1"), "openssl", Some("1.1.1n-0+deb11u4")),
                // `~` sorts before the empty string: a backport before u5 is below the fix.
                with_source(package(PackageType::Deb, "libcrypto-backport", "1.1.1n-0+deb11u5~bpo10"), "openssl", None),
                // An epoch outranks any version without one.
                with_source(package(PackageType::Deb, "libssl-epoch", "1:1.1.1n-0+deb11u4"), "openssl", None),
            ],
        ),
        &database(),
        &MatchOptions::default(),
    );
    assert_eq!(
        summary(&report),
        [
            row("libssl1.1", "1.1.1n-0+deb11u4", "DSA-5417-1", &["1.1.1n-0+deb11u5"]),
            row("openssl-provider", "1.1.1n-0+deb11u4+b1", "DSA-5417-1", &["1.1.1n-0+deb11u5"]),
            row("libcrypto-backport", "1.1.1n-0+deb11u5~bpo10", "DSA-5417-1", &["1.1.1n-0+deb11u5"]),
        ]
    );
    let first = &report.matches[0];
    assert_eq!((first.package.ecosystem.as_str(), first.package.source.as_deref(), first.package.path.as_str()), ("Debian:11", Some("openssl"), "/proof/libssl1.1"));
    assert_eq!(first.aliases, ["CVE-2023-0464", "CVE-2023-0465", "CVE-2023-0466", "CVE-2023-2650"]);
    assert_eq!(report.ecosystems["Debian:11"], palisade_vuln::EcosystemCounts { packages: 6, affected: 3 });
}

#[test]
fn distributions_take_their_release_ecosystem_only() {
    let openssl = || package(PackageType::Deb, "openssl", "1.1.1n-0+deb11u4");
    // Debian 12 is another ecosystem than the record's Debian:11.
    assert!(match_inventory(&inventory(Some(("debian", "12")), vec![openssl()]), &database(), &MatchOptions::default()).matches.is_empty());
    // Without a distribution the package cannot be asked at all, and is counted.
    let unknown = match_inventory(&inventory(None, vec![openssl()]), &database(), &MatchOptions::default());
    assert!(unknown.matches.is_empty());
    assert_eq!(unknown.not_matched.get("deb: no distribution known"), Some(&1));

    // Ubuntu 14.04 is asked in every 14.04 stream the database holds: the Pro one here.
    let ubuntu = match_inventory(
        &inventory(Some(("ubuntu", "14.04")), vec![package(PackageType::Deb, "openssl", "1.0.1f-1ubuntu2.27"), package(PackageType::Deb, "libssl-fixed", "1.0.1f-1ubuntu2.27+esm7")]),
        &database(),
        &MatchOptions::default(),
    );
    assert_eq!(summary(&ubuntu), [row("openssl", "1.0.1f-1ubuntu2.27", "UBUNTU-CVE-2023-0464", &["1.0.1f-1ubuntu2.27+esm7"])]);
    let found = &ubuntu.matches[0];
    assert_eq!(found.package.ecosystem, "Ubuntu:Pro:14.04:LTS");
    // Ubuntu's own priority rates an OS package.
    assert_eq!((found.assessment.rating, found.assessment.source.as_deref()), (Rating::Low, Some("ubuntu")));
    assert_eq!(found.aliases, ["CVE-2023-0464"]);

    // Alpine 3.17.3 → Alpine:v3.17; the subpackage is asked by its origin.
    let alpine = match_inventory(
        &inventory(Some(("alpine", "3.17.3")), vec![with_source(package(PackageType::Apk, "libcrypto3", "3.0.8-r0"), "openssl", None), with_source(package(PackageType::Apk, "libssl3", "3.0.8-r1"), "openssl", None)]),
        &database(),
        &MatchOptions::default(),
    );
    assert_eq!(summary(&alpine), [row("libcrypto3", "3.0.8-r0", "ALPINE-CVE-2023-0464", &["3.0.8-r1"])]);
}

#[test]
fn crates_match_semver_ranges_and_withdrawn_records_match_nothing() {
    let crate_ = |version: &str| package(PackageType::RustCrate, "smallvec", version);
    let report = match_inventory(
        &inventory(
            None,
            vec![
                crate_("1.6.0"),
                // In RUSTSEC-2019-0009 (0.6.5..0.6.10) and RUSTSEC-2021-0003 (0.6.3..0.6.14).
                crate_("0.6.9"),
                crate_("0.6.14"),
                // `introduced: 0.4.0-0` takes the 0.4.0 pre-releases in.
                crate_("0.4.0-beta"),
                // A pre-release of 1.0.0 is below `introduced: 1.0.0` and above the 0.6 fix.
                crate_("1.0.0-beta"),
                crate_("1.6.1"),
                // RUSTSEC-2020-0053 (dirs, every version) is withdrawn.
                package(PackageType::RustCrate, "dirs", "1.0.0"),
                // Same name, wrong ecosystem.
                package(PackageType::Npm, "smallvec", "1.6.0"),
            ],
        ),
        &database(),
        &MatchOptions::default(),
    );
    assert_eq!(
        summary(&report),
        [
            row("smallvec", "1.6.0", "RUSTSEC-2021-0003", &["1.6.1"]),
            row("smallvec", "0.6.9", "RUSTSEC-2019-0009", &["0.6.10"]),
            row("smallvec", "0.6.9", "RUSTSEC-2021-0003", &["0.6.14", "1.6.1"]),
            row("smallvec", "0.4.0-beta", "RUSTSEC-2018-0003", &["0.4.5", "0.5.1", "0.6.3"]),
        ]
    );
    let found = &report.matches[0];
    assert_eq!(found.aliases, ["CVE-2021-25900", "GHSA-43w2-9j62-hq99"]);
    assert_eq!((found.assessment.rating, found.assessment.score, found.assessment.source.as_deref()), (Rating::Critical, Some(9.8), Some("cvss-v3.1")));
    assert_eq!(report.ecosystems["crates.io"], palisade_vuln::EcosystemCounts { packages: 7, affected: 3 });
    assert_eq!(report.ecosystems["npm"], palisade_vuln::EcosystemCounts { packages: 1, affected: 0 });
}

#[test]
fn pypi_names_are_normalised_and_aliases_merge_into_one_match() {
    let report = match_inventory(
        &inventory(None, vec![package(PackageType::Python, "Jinja2", "2.10"), package(PackageType::Python, "jinja2", "2.10.1"), package(PackageType::Python, "Jinja_2", "2.10"), package(PackageType::Npm, "jinja2", "2.10.0")]),
        &database(),
        &MatchOptions::default(),
    );
    // PYSEC-2019-217 (aliases CVE-2019-10906, GHSA-462w-v97r-4m45) and GHSA-462w-v97r-4m45
    // (alias CVE-2019-10906) are one vulnerability, named by the ecosystem's own id.
    assert_eq!(summary(&report), [row("Jinja2", "2.10", "PYSEC-2019-217", &["2.10.1"])]);
    let found = &report.matches[0];
    assert_eq!(found.aliases, ["CVE-2019-10906", "GHSA-462w-v97r-4m45"]);
    assert_eq!(found.advisories.iter().map(|advisory| advisory.id.as_str()).collect::<Vec<_>>(), ["PYSEC-2019-217", "GHSA-462w-v97r-4m45"]);
    // PYSEC has no severity: GitHub's CVSS 3.0 vector rates it (8.6).
    assert_eq!((found.assessment.rating, found.assessment.score), (Rating::High, Some(8.6)));
    assert_eq!(found.summary(), "Jinja2 sandbox escape via string formatting");
}

#[test]
fn go_standard_library_from_a_binary() {
    let stdlib = |version: &str| package(PackageType::GoModule, "stdlib", version);
    let report = match_inventory(&inventory(None, vec![stdlib("go1.20.5"), stdlib("go1.20.6"), stdlib("go1.19.10"), stdlib("go1.21.0"), package(PackageType::Python, "stdlib", "1.20.5")]), &database(), &MatchOptions::default());
    assert_eq!(summary(&report), [row("stdlib", "go1.20.5", "GO-2023-1878", &["1.20.6"]), row("stdlib", "go1.19.10", "GO-2023-1878", &["1.19.11", "1.20.6"])]);
    assert_eq!(report.matches[0].compared_version, "1.20.5");
}

#[test]
fn maven_packages_are_asked_as_group_and_artifact() {
    let log4j = |version: &str, group: &str| {
        let mut package = package(PackageType::JavaArchive, "log4j-core", version);
        package.namespace = Some(group.into());
        package
    };
    let apache = "org.apache.logging.log4j";
    let report = match_inventory(
        &inventory(None, vec![log4j("2.14.1", apache), log4j("2.12.1", apache), log4j("2.0-beta9", apache), log4j("2.15.0", apache), log4j("2.3.1", apache), log4j("2.12.2", apache), log4j("2.14.1", "com.example")]),
        &database(),
        &MatchOptions::default(),
    );
    assert_eq!(
        summary(&report),
        [
            row("log4j-core", "2.14.1", "GHSA-jfh8-c2jp-5v3q", &["2.15.0"]),
            row("log4j-core", "2.12.1", "GHSA-jfh8-c2jp-5v3q", &["2.12.2"]),
            row("log4j-core", "2.0-beta9", "GHSA-jfh8-c2jp-5v3q", &["2.3.1"]),
        ]
    );
    assert_eq!(report.matches[0].severity(), Severity::Critical);
}

#[test]
fn options_filter_and_vex_suppresses() {
    let packages = vec![package(PackageType::Python, "Jinja2", "2.10"), package(PackageType::RustCrate, "smallvec", "1.6.0")];
    let mut packages_with_purls = packages.clone();
    packages_with_purls[0].purl = "pkg:pypi/jinja2@2.10".into();
    packages_with_purls[1].purl = "pkg:cargo/smallvec@1.6.0".into();
    let scanned = inventory(None, packages_with_purls);

    let critical_only = match_inventory(&scanned, &database(), &MatchOptions { min_severity: Some(Severity::Critical), ..MatchOptions::default() });
    assert_eq!(summary(&critical_only), [row("smallvec", "1.6.0", "RUSTSEC-2021-0003", &["1.6.1"])]);
    assert_eq!(critical_only.filtered, 1);

    let openvex = br#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
        {"vulnerability": {"name": "CVE-2019-10906"}, "products": [{"@id": "pkg:oci/app", "subcomponents": [{"@id": "pkg:pypi/jinja2"}]}], "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path", "impact_statement": "no sandbox in use"},
        {"vulnerability": {"name": "RUSTSEC-2021-0003"}, "products": [{"@id": "pkg:cargo/smallvec@1.5.0"}], "status": "not_affected", "justification": "component_not_present"},
        {"vulnerability": {"name": "CVE-2021-25900"}, "products": [{"@id": "pkg:cargo/smallvec"}], "status": "under_investigation"}
    ]}"#;
    let statements = palisade_vuln::read_vex("app.openvex.json", openvex).unwrap();
    let report = match_inventory(&scanned, &database(), &MatchOptions { vex: statements, ..MatchOptions::default() });
    // The alias names the match; another version's statement and an investigation do not suppress.
    assert_eq!(summary(&report), [row("smallvec", "1.6.0", "RUSTSEC-2021-0003", &["1.6.1"])]);
    assert_eq!(report.suppressed.len(), 1);
    let suppressed = &report.suppressed[0];
    assert_eq!((suppressed.matched.id.as_str(), suppressed.statement.justification.as_deref(), suppressed.statement.detail.as_deref()), ("PYSEC-2019-217", Some("vulnerable_code_not_in_execute_path"), Some("no sandbox in use")));

    let cyclonedx_vex = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"bom-ref": "smallvec-ref", "name": "smallvec", "purl": "pkg:cargo/smallvec@1.6.0"}],
        "vulnerabilities": [{"id": "GHSA-43w2-9j62-hq99", "analysis": {"state": "false_positive", "detail": "not built"}, "affects": [{"ref": "smallvec-ref"}]}]}"#;
    let statements = palisade_vuln::read_vex("app.cdx.json", cyclonedx_vex).unwrap();
    let report = match_inventory(&scanned, &database(), &MatchOptions { vex: statements, ..MatchOptions::default() });
    assert_eq!(summary(&report), [row("Jinja2", "2.10", "PYSEC-2019-217", &["2.10.1"])]);
    assert_eq!(report.suppressed[0].statement.status, "false_positive");
}

#[test]
fn matches_become_findings() {
    let scanned = inventory(Some(("debian", "11")), vec![with_source(package(PackageType::Deb, "libssl1.1", "1.1.1n-0+deb11u4"), "openssl", None), with_source(package(PackageType::Deb, "libssl-dev", "1.1.1n-0+deb11u4"), "openssl", None)]);
    let report = match_inventory(&scanned, &database(), &MatchOptions::default());
    let object = Arc::new(ObjectRef { api_version: "v1".into(), kind: "Image".into(), namespace: None, name: "app:1".into() });
    let findings = palisade_vuln::findings(&report, object, "app:1");
    assert_eq!(findings.len(), 2);
    let finding = &findings[0];
    assert_eq!(finding.rule, "vuln/DSA-5417-1");
    assert_eq!(finding.title, "openssl - security update");
    assert_eq!(finding.message.as_str(), "libssl1.1 1.1.1n-0+deb11u4 (source openssl) is affected by DSA-5417-1; fixed in 1.1.1n-0+deb11u5");
    assert_eq!(&*finding.location.file, "/proof/libssl1.1");
    // No rating in the record: unknown, reported as medium.
    assert_eq!(finding.severity, Severity::Medium);
    // One rule per advisory, shared by its findings.
    assert!(std::ptr::eq(finding.rule, findings[1].rule));
    let vulnerability = finding.vulnerability.as_ref().unwrap();
    assert_eq!((vulnerability.fixed_versions.as_slice(), vulnerability.url.as_deref()), (&["1.1.1n-0+deb11u5".to_owned()][..], Some("https://www.debian.org/security/2023/dsa-5417")));
}

#[test]
fn cyclonedx_vulnerabilities_refer_to_the_sbom_components() {
    let mut jinja = package(PackageType::Python, "Jinja2", "2.10");
    jinja.purl = "pkg:pypi/jinja2@2.10".into();
    let scanned = inventory(None, vec![jinja]);
    let report = match_inventory(&scanned, &database(), &MatchOptions::default());
    let mut written = Vec::new();
    let options = palisade_sbom::SbomOptions::new("palisade", "0", time::OffsetDateTime::UNIX_EPOCH);
    palisade_sbom::write(&scanned, palisade_sbom::Format::CycloneDxJson, &options, &mut written).unwrap();
    let mut bom: serde_json::Value = serde_json::from_slice(&written).unwrap();
    palisade_vuln::cyclonedx::add_vulnerabilities(&mut bom, &scanned, &report).unwrap();
    let component_ref = bom["components"][0]["bom-ref"].as_str().unwrap().to_owned();
    let vulnerability = &bom["vulnerabilities"][0];
    assert_eq!(vulnerability["id"], "PYSEC-2019-217");
    assert_eq!(vulnerability["affects"][0]["ref"], component_ref.as_str());
    assert_eq!(vulnerability["ratings"][0], serde_json::json!({"score": 8.6, "severity": "high", "method": "CVSSv3", "vector": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N"}));
    assert_eq!(vulnerability["cwes"], serde_json::json!([693]));
    assert_eq!(vulnerability["references"][1]["id"], "GHSA-462w-v97r-4m45");
}

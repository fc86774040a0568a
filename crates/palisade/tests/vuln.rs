//! `palisade db` and `palisade vuln` on projects, lockfiles and SBOMs, with no network: real
//! advisories (RustSec, Go vulndb, PyPA, GitHub; `tests/data/osv` here and in palisade-vuln, each
//! with its SOURCE.md) imported into an index, and the expected matches written by hand from the
//! advisories' ranges, negatives included. The image door's tests are in `images.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(cwd)
        .env("PALISADE_CACHE_DIR", cwd.join("cache"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn advisories() -> [PathBuf; 2] {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest.join("tests/data/osv"), manifest.join("../palisade-vuln/tests/data/osv").canonicalize().unwrap()]
}

/// A temporary directory holding an index of the test advisories at `db`.
fn imported() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let [ours, matcher] = advisories();
    let output = palisade(&["db", "import", ours.to_str().unwrap(), matcher.to_str().unwrap(), "--db", "db"], dir.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    dir
}

/// A project with one lockfile per ecosystem; versions chosen against the advisories' ranges.
fn project(root: &Path) -> PathBuf {
    let project = root.join("shop");
    std::fs::create_dir_all(&project).unwrap();
    let write = |name: &str, text: &str| std::fs::write(project.join(name), text).unwrap();
    // Jinja2 2.10 < 2.10.1 (PYSEC-2019-217 = GHSA-462w-v97r-4m45, one vulnerability); urllib3
    // 2.0.6 in [2.0.0, 2.0.7) (PYSEC-2023-212); requests 2.31.0 is PYSEC-2023-74's fix.
    write("requirements.txt", "Jinja2==2.10\nurllib3==2.0.6\nrequests==2.31.0\n");
    // smallvec 1.6.0 in [1.0.0, 1.6.1) (RUSTSEC-2021-0003); 0.6.14 is that advisory's fix for
    // the 0.6 line and past RUSTSEC-2019-0009's (0.6.10) and RUSTSEC-2018-0003's (0.6.3).
    write(
        "Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.14\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"shop\"\nversion = \"0.1.0\"\n",
    );
    // go 1.20.4 < 1.20.5 (GO-2023-1878, net/http in stdlib).
    write("go.mod", "module example.com/shop\n\ngo 1.20.4\n");
    // express 4.18.2 < 4.19.2 (GHSA-rv95-896h-c2vc).
    write(
        "package-lock.json",
        r#"{"name": "shop", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "shop", "version": "1.0.0", "dependencies": {"express": "4.18.2"}}, "node_modules/express": {"version": "4.18.2"}}}"#,
    );
    // log4j-core 2.14.1 < 2.15.0 (GHSA-jfh8-c2jp-5v3q); log4j-api is not named by it.
    write(
        "pom.xml",
        "<project><modelVersion>4.0.0</modelVersion><groupId>shop</groupId><artifactId>shop</artifactId><version>1</version><dependencies>\
         <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.14.1</version></dependency>\
         <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>2.14.1</version></dependency>\
         </dependencies></project>",
    );
    project
}

/// (rule, package, version, file) of every finding of a JSON report.
fn matches(report: &serde_json::Value) -> BTreeSet<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            let package = &finding["vulnerability"]["package"];
            let text = |value: &serde_json::Value| value.as_str().unwrap().to_owned();
            (text(&finding["rule"]), text(&package["name"]), text(&package["version"]), text(&finding["location"]["file"]))
        })
        .collect()
}

fn expected(rows: &[(&str, &str, &str, &str)]) -> BTreeSet<(String, String, String, String)> {
    rows.iter().map(|(rule, name, version, file)| (rule.to_string(), name.to_string(), version.to_string(), file.to_string())).collect()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stderr)))
}

#[test]
fn a_project_gives_exactly_the_matches_its_lockfiles_have() {
    let dir = imported();
    let project = project(dir.path());
    let output = palisade(&["vuln", project.to_str().unwrap(), "--db", "db", "-f", "json", "--fail-on", "never"], dir.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = json(&output);
    let file = |name: &str| project.join(name).display().to_string();
    assert_eq!(
        matches(&report),
        expected(&[
            ("vuln/PYSEC-2019-217", "jinja2", "2.10", &file("requirements.txt")),
            ("vuln/PYSEC-2023-212", "urllib3", "2.0.6", &file("requirements.txt")),
            ("vuln/RUSTSEC-2021-0003", "smallvec", "1.6.0", &file("Cargo.lock")),
            ("vuln/GO-2023-1878", "stdlib", "go1.20.4", &file("go.mod")),
            ("vuln/GHSA-rv95-896h-c2vc", "express", "4.18.2", &file("package-lock.json")),
            ("vuln/GHSA-jfh8-c2jp-5v3q", "log4j-core", "2.14.1", &file("pom.xml")),
        ])
    );
    let jinja = report["findings"].as_array().unwrap().iter().find(|finding| finding["rule"] == "vuln/PYSEC-2019-217").unwrap();
    let aliases: Vec<&str> = jinja["vulnerability"]["aliases"].as_array().unwrap().iter().map(|alias| alias.as_str().unwrap()).collect();
    assert!(aliases.contains(&"GHSA-462w-v97r-4m45") && aliases.contains(&"CVE-2019-10906"), "{aliases:?}");
    assert_eq!(jinja["vulnerability"]["fixed_versions"][0], "2.10.1");
    let log4j = report["findings"].as_array().unwrap().iter().find(|finding| finding["rule"] == "vuln/GHSA-jfh8-c2jp-5v3q").unwrap();
    assert_eq!(log4j["severity"], "critical");
    assert_eq!(log4j["vulnerability"]["score"], 10.0);

    // The records opened on the fly give the same matches as the index.
    let [ours, _] = advisories();
    let on_the_fly = palisade(&["vuln", file("requirements.txt").as_str(), "--db", ours.to_str().unwrap(), "-f", "json", "--fail-on", "never"], dir.path());
    assert_eq!(
        matches(&json(&on_the_fly)),
        expected(&[("vuln/PYSEC-2023-212", "urllib3", "2.0.6", &file("requirements.txt"))]),
        "a single lockfile, against only the records of this crate: {}",
        String::from_utf8_lossy(&on_the_fly.stderr)
    );
}

#[test]
fn severity_gates_fixes_exceptions_and_vex_decide_what_remains() {
    let dir = imported();
    let project = project(dir.path());
    let source = project.to_str().unwrap();
    let rules = |output: &Output| -> BTreeSet<String> { matches(&json(output)).into_iter().map(|(rule, ..)| rule).collect() };

    // log4j (CVSS 10.0) and smallvec (9.8) are critical: the default --fail-on high fails the run.
    let default = palisade(&["vuln", source, "--db", "db", "-f", "json"], dir.path());
    assert_eq!(default.status.code(), Some(1));
    let critical = palisade(&["vuln", source, "--db", "db", "-f", "json", "--severity", "critical"], dir.path());
    assert_eq!(rules(&critical), BTreeSet::from(["vuln/GHSA-jfh8-c2jp-5v3q".to_owned(), "vuln/RUSTSEC-2021-0003".to_owned()]));

    // Exceptions name the vulnerabilities by an alias (their CVEs), with a reason.
    std::fs::write(
        dir.path().join("exceptions.yaml"),
        "exceptions:\n- rules: [vuln/CVE-2021-44228, vuln/CVE-2021-25900]\n  reason: JNDI lookups disabled; insert_many unused\n  expires: 2999-01-01\n",
    )
    .unwrap();
    let excepted = palisade(&["vuln", source, "--db", "db", "-f", "json", "--config", "exceptions.yaml", "--fail-on", "critical"], dir.path());
    assert_eq!(excepted.status.code(), Some(0), "{}", String::from_utf8_lossy(&excepted.stderr));
    assert!(!rules(&excepted).contains("vuln/GHSA-jfh8-c2jp-5v3q") && !rules(&excepted).contains("vuln/RUSTSEC-2021-0003"));
    assert_eq!(rules(&excepted).len(), 4);
    // Without a fix nothing is left out here: every matched advisory names one.
    let fixable = palisade(&["vuln", source, "--db", "db", "-f", "json", "--fail-on", "never", "--ignore-unfixed"], dir.path());
    assert_eq!(rules(&fixable).len(), 6);

    // An OpenVEX statement marks express as not affected (by the GHSA's CVE alias).
    std::fs::write(
        dir.path().join("shop.openvex.json"),
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://shop.example/vex-1", "author": "shop", "timestamp": "2026-12-01T00:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "CVE-2024-29041"}, "products": [{"@id": "pkg:npm/express"}], "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let vex = palisade(&["vuln", source, "--db", "db", "-f", "json", "--fail-on", "never", "--vex", "shop.openvex.json"], dir.path());
    assert!(!rules(&vex).contains("vuln/GHSA-rv95-896h-c2vc"), "{}", String::from_utf8_lossy(&vex.stdout));
    assert!(String::from_utf8_lossy(&vex.stderr).contains("1 not affected by VEX"));
}

#[test]
fn sboms_are_sources_and_cyclonedx_output_lists_the_vulnerabilities() {
    let dir = imported();
    let sbom = dir.path().join("app.spdx.json");
    std::fs::write(
        &sbom,
        r#"{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "app", "documentNamespace": "https://shop.example/app",
            "creationInfo": {"created": "2026-12-01T00:00:00Z", "creators": ["Tool: hand"]},
            "packages": [
              {"name": "smallvec", "SPDXID": "SPDXRef-a", "versionInfo": "1.6.0", "downloadLocation": "NOASSERTION",
               "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:cargo/smallvec@1.6.0"}]},
              {"name": "stdlib", "SPDXID": "SPDXRef-b", "versionInfo": "go1.20.6", "downloadLocation": "NOASSERTION",
               "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:golang/stdlib@1.20.6"}]}
            ]}"#,
    )
    .unwrap();
    let output = palisade(&["vuln", sbom.to_str().unwrap(), "--db", "db", "-f", "cyclonedx-json", "--fail-on", "never"], dir.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let bom = json(&output);
    assert_eq!(bom["specVersion"], "1.6");
    // go1.20.6 is past GO-2023-1878's fix (1.20.5): only smallvec is affected.
    let vulnerabilities = bom["vulnerabilities"].as_array().expect("vulnerabilities");
    let ids: Vec<&str> = vulnerabilities.iter().map(|vulnerability| vulnerability["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["RUSTSEC-2021-0003"]);
    let affected = vulnerabilities[0]["affects"][0]["ref"].as_str().unwrap();
    let component = bom["components"].as_array().unwrap().iter().find(|component| component["bom-ref"] == affected).expect("the affected component");
    assert_eq!(component["purl"], "pkg:cargo/smallvec@1.6.0");
}

#[test]
fn the_database_reports_its_contents_and_what_it_could_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    std::fs::create_dir_all(&records).unwrap();
    let [ours, _] = advisories();
    std::fs::copy(ours.join("ghsa/GHSA-rv95-896h-c2vc.json"), records.join("GHSA-rv95-896h-c2vc.json")).unwrap();
    std::fs::write(records.join("broken.json"), "{\"id\": \"GHSA-broken\",\n  \"affected\": [ oops ]\n}\n").unwrap();
    let import = palisade(&["db", "import", "records", "--db", "db"], dir.path());
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let stderr = String::from_utf8_lossy(&import.stderr);
    assert!(stderr.contains("broken.json") && stderr.contains(":2"), "the malformed record is named with its line: {stderr}");

    let status = palisade(&["db", "status", "--db", "db", "-f", "json"], dir.path());
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let status = json(&status);
    assert_eq!(status["records"], 1);
    assert_eq!(status["issues"], 1);
    assert_eq!(status["ecosystems"]["npm"], 1);
    // Dated by its newest record (2024): stale, and said so.
    let text = palisade(&["db", "status", "--db", "db"], dir.path());
    assert!(String::from_utf8_lossy(&text.stderr).contains("run `palisade db update`"));

    let missing = palisade(&["vuln", ".", "-f", "json"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no vulnerability database"), "{}", String::from_utf8_lossy(&missing.stderr));
}

#[test]
fn explain_describes_an_advisory_rule() {
    let dir = tempfile::tempdir().unwrap();
    let output = palisade(&["explain", "vuln/GHSA-rv95-896h-c2vc"], dir.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("https://osv.dev/vulnerability/GHSA-rv95-896h-c2vc"));
    let unknown = palisade(&["explain", "nothing/such"], dir.path());
    assert_eq!(unknown.status.code(), Some(2));
}

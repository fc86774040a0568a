//! Shared by the OS catalogers' tests: catalogue a fixture root directory as an image's root
//! filesystem would be (every regular file, symbolic links not followed: an image layer holds a
//! link, not what it points to), and compare the inventory with Syft's, recorded next to the
//! fixture (trimmed to what is compared) and, when Syft is installed, live: for
//! [`Scope::Directory`] `syft dir:ROOT` (`syft-NAME.json`), for [`Scope::Image`] Syft on an OCI
//! image of the root made with umoci (`syft-image-NAME.json`).
//!
//! `PALISADE_REGEN_SYFT=1` rewrites the recorded files from the live run
//! (`tests/fixtures/regen-syft.sh`).

#![allow(dead_code)] // each test binary uses its own part

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_catalog::{Catalog, FileFacts, FileMeta, Scope, SeenFile, Want, assemble};
use palisade_pkg::{Inventory, SourceDescription};
use serde_json::{Value, json};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The inventory of a root filesystem directory, every file offered to the catalog as the
/// image reader offers it.
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
            use std::os::unix::fs::PermissionsExt;
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
    assemble(
        SourceDescription::Directory { path: root.display().to_string() },
        files.iter().map(|(path, facts)| SeenFile { path, layer: None, facts }),
    )
}

/// An inventory as compared with Syft's: the distribution's id and version, and per package its
/// type, name, version, purl, licences and the paths of its locations.
pub fn trimmed_inventory(inventory: &Inventory) -> Value {
    let distro = inventory.distro.as_ref().map(|distro| json!({ "id": distro.id, "versionID": distro.version_id.clone().unwrap_or_default() }));
    let mut packages: Vec<Value> = inventory
        .packages
        .iter()
        .map(|package| {
            let licenses: BTreeSet<&str> = package.licenses.iter().map(String::as_str).collect();
            let locations: BTreeSet<&str> = package.locations.iter().map(|location| location.path.as_str()).collect();
            json!({ "type": package.kind.as_str(), "name": package.name, "version": package.version, "purl": package.purl, "licenses": licenses, "locations": locations })
        })
        .collect();
    packages.sort_by_key(package_key);
    json!({ "distro": distro, "packages": packages })
}

/// Syft's JSON output trimmed the same way (licence values, location real paths).
pub fn trimmed_syft(syft: &Value) -> Value {
    let distro = syft.get("distro").filter(|distro| distro.get("id").is_some()).map(|distro| json!({ "id": distro["id"], "versionID": distro.get("versionID").cloned().unwrap_or(json!("")) }));
    let strings = |values: &Value, field: &str| -> BTreeSet<String> {
        values.as_array().into_iter().flatten().filter_map(|value| value.get(field).and_then(Value::as_str).map(str::to_owned)).collect()
    };
    let mut packages: Vec<Value> = syft["artifacts"]
        .as_array()
        .expect("syft artifacts")
        .iter()
        .map(|artifact| {
            json!({
                "type": artifact["type"], "name": artifact["name"], "version": artifact["version"], "purl": artifact.get("purl").cloned().unwrap_or(json!("")),
                "licenses": strings(&artifact["licenses"], "value"), "locations": strings(&artifact["locations"], "path"),
            })
        })
        .collect();
    packages.sort_by_key(package_key);
    json!({ "distro": distro, "packages": packages })
}

fn package_key(package: &Value) -> (String, String, String, String) {
    let field = |name: &str| package[name].as_str().unwrap_or_default().to_owned();
    (field("type"), field("name"), field("version"), field("purl"))
}

/// Every difference between two trimmed inventories, one line each:
/// `bash: licenses: ours [..] syft [..]`, `only syft: deb foo 1.0`.
pub fn differences(ours: &Value, syft: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if ours["distro"] != syft["distro"] {
        found.push(format!("distro: ours {} syft {}", ours["distro"], syft["distro"]));
    }
    let by_name = |inventory: &Value| -> BTreeMap<(String, String), Value> {
        inventory["packages"].as_array().into_iter().flatten().map(|package| ((package_key(package).0, package_key(package).1), package.clone())).collect()
    };
    let (ours, syft) = (by_name(ours), by_name(syft));
    for (key, package) in &ours {
        let Some(theirs) = syft.get(key) else {
            found.push(format!("only ours: {} {} {}", key.0, key.1, package["version"]));
            continue;
        };
        for field in ["version", "purl", "licenses", "locations"] {
            if package[field] != theirs[field] {
                found.push(format!("{}: {field}: ours {} syft {}", key.1, package[field], theirs[field]));
            }
        }
    }
    for (key, package) in &syft {
        if !ours.contains_key(key) {
            found.push(format!("only syft: {} {} {}", key.0, key.1, package["version"]));
        }
    }
    found
}

/// Whether an external tool can be run; when it cannot, says so, and fails under `CI=true`
/// (the CI installs every tool these tests use).
pub fn tool_available(tool: &str, probe: &[&str]) -> bool {
    let available = Command::new(tool).args(probe).output().is_ok_and(|output| output.status.success());
    if !available {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{tool} is required when CI=true");
        eprintln!("skipping: {tool} is not installed");
    }
    available
}

/// Syft's trimmed inventory of a root directory, run now.
pub fn run_syft(root: &Path) -> Value {
    run_syft_on(&format!("dir:{}", root.display()))
}

fn run_syft_on(source: &str) -> Value {
    let output = Command::new("syft").arg(source).args(["-o", "json", "-q"]).output().expect("syft runs");
    assert!(output.status.success(), "syft failed on {source}: {}", String::from_utf8_lossy(&output.stderr));
    trimmed_syft(&serde_json::from_slice(&output.stdout).expect("syft writes JSON"))
}

/// Syft's trimmed inventory of a one-layer OCI image of a root directory, made with umoci.
pub fn run_syft_on_image(root: &Path) -> Value {
    let work = tempfile::tempdir().expect("tempdir");
    let layout = work.path().join("layout");
    let image = format!("{}:fixture", layout.display());
    let umoci = |arguments: &[&str]| {
        let output = Command::new("umoci").args(arguments).output().expect("umoci runs");
        assert!(output.status.success(), "umoci {arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    umoci(&["init", "--layout", &layout.display().to_string()]);
    umoci(&["new", "--image", &image]);
    umoci(&["insert", "--image", &image, &root.display().to_string(), "/"]);
    run_syft_on(&format!("oci-dir:{}", layout.display()))
}

/// Compares Palisade's inventory of `tests/fixtures/KIND/NAME` in `scope` with Syft's recorded
/// one (`tests/fixtures/KIND/syft-NAME.json` for directories, `syft-image-NAME.json` for
/// images) and, when the tools are installed, with a live run (which must also equal the
/// recording, unless `PALISADE_REGEN_SYFT=1` asks to rewrite it). Returns the differences, for
/// the caller to assert equal to the documented ones.
pub fn compare_with_syft(kind: &str, name: &str, scope: Scope) -> Vec<String> {
    let root = fixtures().join(kind).join(name);
    let recording = match scope {
        Scope::Directory => format!("syft-{name}.json"),
        Scope::Image => format!("syft-image-{name}.json"),
    };
    compare_root_with_syft(&root, &fixtures().join(kind).join(recording), scope)
}

/// As [`compare_with_syft`], for any root directory and recording path.
pub fn compare_root_with_syft(root: &Path, recorded_path: &Path, scope: Scope) -> Vec<String> {
    let ours = trimmed_inventory(&inventory_of(root, scope));
    let live = match scope {
        Scope::Directory => tool_available("syft", &["version"]).then(|| run_syft(root)),
        Scope::Image => (tool_available("syft", &["version"]) && tool_available("umoci", &["--version"])).then(|| run_syft_on_image(root)),
    };
    if let Some(live) = live {
        if std::env::var("PALISADE_REGEN_SYFT").as_deref() == Ok("1") {
            let mut text = serde_json::to_string_pretty(&live).expect("JSON");
            text.push('\n');
            std::fs::write(recorded_path, text).expect("recording written");
        }
        let recorded = read_recorded(recorded_path);
        assert_eq!(live, recorded, "syft's live output differs from {}: run tests/fixtures/regen-syft.sh", recorded_path.display());
    }
    differences(&ours, &read_recorded(recorded_path))
}

fn read_recorded(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error} (run tests/fixtures/regen-syft.sh)", path.display()));
    serde_json::from_str(&text).expect("recorded syft JSON")
}

/// Asserts that the only differences are the documented ones, printing all of them otherwise.
pub fn assert_differences(found: &[String], documented: &[&str]) {
    let found: BTreeSet<&str> = found.iter().map(String::as_str).collect();
    let documented: BTreeSet<&str> = documented.iter().copied().collect();
    assert!(found == documented, "differences from syft\n  unexpected: {:#?}\n  documented but not seen: {:#?}", found.difference(&documented).collect::<Vec<_>>(), documented.difference(&found).collect::<Vec<_>>());
}

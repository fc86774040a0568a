//! Helpers shared by the integration tests: external tools (rpm, syft), fixtures and one-line
//! package summaries in the shape of `rpm -qa --qf`, so the three sources compare as text.

#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_rpmdb::RpmPackage;

/// `rpm -qa --qf` format printing what [`summary`] prints for our packages.
pub const RPM_QUERY_FORMAT: &str = "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{LICENSE}|%{VENDOR}|%{SIZE}|%{MODULARITYLABEL}\\n";
/// `rpm -qa --qf` format listing every file as `name:path`.
pub const RPM_FILES_FORMAT: &str = "[%{=NAME}:%{FILENAMES}\\n]";

/// Whether every tool is on PATH. A missing tool skips the test visibly, except under `CI=true`
/// where the CI image must provide it.
pub fn tools_available(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|tool| Command::new(tool).arg("--version").output().is_err()).collect();
    if missing.is_empty() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {missing:?} not installed");
    eprintln!("skipping: {missing:?} not installed");
    false
}

pub fn fixture_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(relative)
}

pub fn fixture(relative: &str) -> Vec<u8> {
    std::fs::read(fixture_path(relative)).unwrap_or_else(|error| panic!("fixture {relative}: {error}"))
}

/// Lines of an expected-list file, without `#` comments and blank lines.
pub fn expected_lines(relative: &str) -> Vec<String> {
    String::from_utf8(fixture(relative)).expect("UTF-8 expected list").lines().filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_owned).collect()
}

fn or_none(value: Option<&str>) -> &str {
    value.filter(|value| !value.is_empty()).unwrap_or("(none)")
}

/// `name|epoch|version|release|arch|sourcerpm|license|vendor|size|modularitylabel`, `(none)` for absent values.
pub fn summary(package: &RpmPackage) -> String {
    let epoch = package.epoch.map(|epoch| epoch.to_string());
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
        package.name,
        or_none(epoch.as_deref()),
        package.version,
        package.release,
        or_none(package.arch.as_deref()),
        or_none(package.source_rpm.as_deref()),
        or_none(package.license.as_deref()),
        or_none(package.vendor.as_deref()),
        package.size,
        or_none(package.modularity_label.as_deref()),
    )
}

/// `name:path` for every file of every package.
pub fn file_lines(packages: &[RpmPackage]) -> Vec<String> {
    packages.iter().flat_map(|package| package.files.iter().map(move |file| format!("{}:{file}", package.name))).collect()
}

/// Runs a command that must succeed and returns its standard output.
pub fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|error| panic!("{command:?}: {error}"));
    assert!(output.status.success(), "{command:?} failed: {}\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Lines of `rpm -qa --qf FORMAT` on a database directory (`--dbpath`, absolute), in rpm's order.
pub fn rpm_query(db_dir: &Path, extra: &[&str], format: &str) -> Vec<String> {
    let mut command = Command::new("rpm");
    command.arg("--dbpath").arg(db_dir).args(extra).args(["-qa", "--qf", format]);
    run(&mut command).lines().filter(|line| !line.ends_with(":(contains no files)")).map(str::to_owned).collect()
}

/// The RPM packages syft finds under `root`, as [`summary`] lines, sorted.
pub fn syft_summaries(root: &Path) -> Vec<String> {
    let json = run(Command::new("syft").arg(format!("dir:{}", root.display())).args(["-o", "json", "-q"]));
    let document: serde_json::Value = serde_json::from_str(&json).expect("syft JSON");
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) if !text.is_empty() => text.clone(),
        serde_json::Value::Number(number) => number.to_string(),
        _ => "(none)".to_owned(),
    };
    let mut lines: Vec<String> = document["artifacts"]
        .as_array()
        .expect("artifacts")
        .iter()
        .filter(|artifact| artifact["type"] == "rpm")
        .map(|artifact| {
            let metadata = &artifact["metadata"];
            let licenses: Vec<String> = artifact["licenses"].as_array().into_iter().flatten().map(|license| text(&license["value"])).collect();
            let license = if licenses.is_empty() { "(none)".to_owned() } else { licenses.join(" AND ") };
            let fields = ["name", "epoch", "version", "release", "architecture", "sourceRpm"].map(|field| text(&metadata[field]));
            format!("{}|{license}|{}|{}|{}", fields.join("|"), text(&metadata["vendor"]), text(&metadata["size"]), text(&metadata["modularityLabel"]))
        })
        .collect();
    lines.sort();
    lines
}

pub fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// Writes `/etc/os-release` under `root` (syft only catalogs RPM databases of a known distro layout).
pub fn write_os_release(root: &Path, content: &str) {
    std::fs::create_dir_all(root.join("etc")).expect("mkdir etc");
    std::fs::write(root.join("etc/os-release"), content).expect("write os-release");
}

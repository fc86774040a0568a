//! Helpers shared by the integration tests: external tools (rpm, syft), fixtures and one-line
//! package summaries in the shape of `rpm -qa --qf`, so the three sources compare as text.

#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use palisade_rpmdb::{DbFormat, ReadResult, RpmDbError, RpmPackage, read};

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

/// Writes `/etc/os-release` under `root` (syft takes the purl's distro from it).
pub fn write_os_release(root: &Path, content: &str) {
    std::fs::create_dir_all(root.join("etc")).expect("mkdir etc");
    std::fs::write(root.join("etc/os-release"), content).expect("write os-release");
}

/// A small deterministic pseudo-random sequence (xorshift64), so failures reproduce.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Longest a read of a damaged fixture may take (debug build, shared machine): a hang or a
/// quadratic walk shows up as seconds.
const MAX_READ_TIME: Duration = Duration::from_secs(3);

fn timed_read(format: DbFormat, bytes: &[u8], what: &str) -> Result<ReadResult, RpmDbError> {
    let start = Instant::now();
    let result = read(format, bytes);
    assert!(start.elapsed() < MAX_READ_TIME, "{what}: read took {:?}", start.elapsed());
    result
}

/// Reads `bytes` truncated at many lengths and with `mutations` bits flipped or words
/// overwritten (one at a time): no read may panic or take long, and a truncated file never
/// yields fewer packages without saying so (an error or an issue).
pub fn assert_damage_is_reported(format: DbFormat, bytes: &[u8], label: &str, mutations: usize) {
    let intact = read(format, bytes).unwrap_or_else(|error| panic!("{label}: {error}")).packages.len();
    let mut lengths: BTreeSet<usize> = (0..bytes.len().min(128)).collect();
    lengths.extend((0..bytes.len()).step_by((bytes.len() / 150).max(1)));
    let page_boundaries: Vec<usize> = (4096..bytes.len()).step_by(4096).collect();
    for boundary in page_boundaries.iter().step_by((page_boundaries.len() / 50).max(1)) {
        lengths.extend([boundary - 1, *boundary, boundary + 1]);
    }
    for len in lengths.into_iter().filter(|len| *len < bytes.len()) {
        let what = format!("{label} truncated to {len} bytes");
        if let Ok(result) = timed_read(format, &bytes[..len], &what) {
            assert!(!result.issues.is_empty() || result.packages.len() == intact, "{what}: {} of {intact} packages and no issue", result.packages.len());
        }
    }
    let mut random = Xorshift(0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64);
    let mut damaged = bytes.to_vec();
    for n in 0..mutations {
        // Half the mutations land in the first 8 KiB, where file headers, metadata, slot and
        // root pages live; the rest anywhere.
        let span = if n % 2 == 0 { bytes.len().min(8192) } else { bytes.len() };
        let at = random.below(span);
        let saved = damaged[at..(at + 4).min(bytes.len())].to_vec();
        match n % 3 {
            0 | 1 => damaged[at] ^= 1 << random.below(8),
            _ => {
                let word = [0u32, 1, 0x7fff_ffff, u32::MAX, random.below(1 << 16) as u32][random.below(5)].to_be_bytes();
                let end = (at + 4).min(bytes.len());
                damaged[at..end].copy_from_slice(&word[..end - at]);
            }
        }
        let _ = timed_read(format, &damaged, &format!("{label} mutation {n} at offset {at}"));
        damaged[at..at + saved.len()].copy_from_slice(&saved);
    }
}

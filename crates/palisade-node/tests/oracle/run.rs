//! The kube-bench oracle (scripts/kube-bench-oracle): found or built, and run on a snapshot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::fixtures::{Controls, Flags, manifest_dir};

/// The oracle binary: `KUBE_BENCH_ORACLE`, else built once per test run from
/// `KUBE_BENCH_SRC` and `CLIENT_GO_SRC`; `None` when neither is given.
pub fn oracle() -> Option<&'static Path> {
    static ORACLE: OnceLock<Option<PathBuf>> = OnceLock::new();
    ORACLE
        .get_or_init(|| {
            if let Some(binary) = std::env::var_os("KUBE_BENCH_ORACLE") {
                return Some(PathBuf::from(binary));
            }
            std::env::var_os("KUBE_BENCH_SRC")?;
            std::env::var_os("CLIENT_GO_SRC")?;
            let binary = std::env::temp_dir()
                .join(format!("palisade-kube-bench-oracle-{}", std::process::id()));
            let status = Command::new(manifest_dir().join("../../scripts/kube-bench-oracle/build"))
                .arg("-o")
                .arg(&binary)
                .status()
                .expect("scripts/kube-bench-oracle/build runs");
            assert!(status.success(), "building the oracle failed");
            Some(binary)
        })
        .as_deref()
}

/// kube-bench's `--json` document for a snapshot file.
pub fn run_oracle(oracle: &Path, controls: Controls, snapshot: &Path, flags: &Flags) -> String {
    oracle_output(oracle, controls, snapshot, &flags.oracle_args())
}

/// kube-bench's text output for a snapshot file.
pub fn run_oracle_text(
    oracle: &Path,
    controls: Controls,
    snapshot: &Path,
    flags: &Flags,
) -> String {
    oracle_output(oracle, controls, snapshot, &flags.oracle_text_args())
}

fn oracle_output(oracle: &Path, controls: Controls, snapshot: &Path, args: &[String]) -> String {
    let output = Command::new(oracle)
        .arg("-config-dir")
        .arg(controls.dir())
        .arg("-snapshot")
        .arg(snapshot)
        .args(args)
        .output()
        .expect("the oracle runs");
    assert!(
        output.status.success(),
        "oracle on {}: {}",
        snapshot.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the oracle prints UTF-8")
}

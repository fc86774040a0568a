//! Where control files come from: the kube-bench files built into the binary (so a binary
//! copied to a node works alone), or a directory laid out like kube-bench's `cfg/`
//! (`--config-dir`).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest control file or `config.yaml` read (kube-bench's largest is under 64 KiB).
pub const CONTROL_FILE_LIMIT: u64 = 16 << 20;

/// kube-bench's `cfg/` at the commit in `cfg/SOURCE.md`, by path relative to `cfg/`.
static BUNDLED: &[(&str, &str)] = &[
    (
        "cis-1.10/config.yaml",
        include_str!("../cfg/cis-1.10/config.yaml"),
    ),
    (
        "cis-1.10/controlplane.yaml",
        include_str!("../cfg/cis-1.10/controlplane.yaml"),
    ),
    (
        "cis-1.10/etcd.yaml",
        include_str!("../cfg/cis-1.10/etcd.yaml"),
    ),
    (
        "cis-1.10/master.yaml",
        include_str!("../cfg/cis-1.10/master.yaml"),
    ),
    (
        "cis-1.10/node.yaml",
        include_str!("../cfg/cis-1.10/node.yaml"),
    ),
    (
        "cis-1.10/policies.yaml",
        include_str!("../cfg/cis-1.10/policies.yaml"),
    ),
    (
        "cis-1.11/config.yaml",
        include_str!("../cfg/cis-1.11/config.yaml"),
    ),
    (
        "cis-1.11/controlplane.yaml",
        include_str!("../cfg/cis-1.11/controlplane.yaml"),
    ),
    (
        "cis-1.11/etcd.yaml",
        include_str!("../cfg/cis-1.11/etcd.yaml"),
    ),
    (
        "cis-1.11/master.yaml",
        include_str!("../cfg/cis-1.11/master.yaml"),
    ),
    (
        "cis-1.11/node.yaml",
        include_str!("../cfg/cis-1.11/node.yaml"),
    ),
    (
        "cis-1.11/policies.yaml",
        include_str!("../cfg/cis-1.11/policies.yaml"),
    ),
    (
        "cis-1.12/config.yaml",
        include_str!("../cfg/cis-1.12/config.yaml"),
    ),
    (
        "cis-1.12/controlplane.yaml",
        include_str!("../cfg/cis-1.12/controlplane.yaml"),
    ),
    (
        "cis-1.12/etcd.yaml",
        include_str!("../cfg/cis-1.12/etcd.yaml"),
    ),
    (
        "cis-1.12/master.yaml",
        include_str!("../cfg/cis-1.12/master.yaml"),
    ),
    (
        "cis-1.12/node.yaml",
        include_str!("../cfg/cis-1.12/node.yaml"),
    ),
    (
        "cis-1.12/policies.yaml",
        include_str!("../cfg/cis-1.12/policies.yaml"),
    ),
    (
        "cis-1.20/config.yaml",
        include_str!("../cfg/cis-1.20/config.yaml"),
    ),
    (
        "cis-1.20/controlplane.yaml",
        include_str!("../cfg/cis-1.20/controlplane.yaml"),
    ),
    (
        "cis-1.20/etcd.yaml",
        include_str!("../cfg/cis-1.20/etcd.yaml"),
    ),
    (
        "cis-1.20/master.yaml",
        include_str!("../cfg/cis-1.20/master.yaml"),
    ),
    (
        "cis-1.20/node.yaml",
        include_str!("../cfg/cis-1.20/node.yaml"),
    ),
    (
        "cis-1.20/policies.yaml",
        include_str!("../cfg/cis-1.20/policies.yaml"),
    ),
    ("config.yaml", include_str!("../cfg/config.yaml")),
    (
        "eks-stig-kubernetes-v1r6/config.yaml",
        include_str!("../cfg/eks-stig-kubernetes-v1r6/config.yaml"),
    ),
    (
        "eks-stig-kubernetes-v1r6/controlplane.yaml",
        include_str!("../cfg/eks-stig-kubernetes-v1r6/controlplane.yaml"),
    ),
    (
        "eks-stig-kubernetes-v1r6/managedservices.yaml",
        include_str!("../cfg/eks-stig-kubernetes-v1r6/managedservices.yaml"),
    ),
    (
        "eks-stig-kubernetes-v1r6/master.yaml",
        include_str!("../cfg/eks-stig-kubernetes-v1r6/master.yaml"),
    ),
    (
        "eks-stig-kubernetes-v1r6/node.yaml",
        include_str!("../cfg/eks-stig-kubernetes-v1r6/node.yaml"),
    ),
    (
        "eks-stig-kubernetes-v1r6/policies.yaml",
        include_str!("../cfg/eks-stig-kubernetes-v1r6/policies.yaml"),
    ),
];

/// A kube-bench `cfg/` tree: `config.yaml` plus one folder of control files per benchmark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigDir {
    Bundled,
    Dir(PathBuf),
}

impl ConfigDir {
    /// The file at `path` relative to the tree (`config.yaml`, `cis-1.12/master.yaml`), with
    /// the name messages should use for it.
    pub fn read(&self, path: &str) -> std::io::Result<(String, String)> {
        match self {
            Self::Bundled => BUNDLED
                .iter()
                .find(|(name, _)| *name == path)
                .map(|(name, text)| (format!("(built-in) {name}"), (*text).to_owned()))
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no built-in file {path}"),
                    )
                }),
            Self::Dir(dir) => {
                let file = dir.join(path);
                read_bounded(&file, CONTROL_FILE_LIMIT).map(|text| (file.display().to_string(), text))
            }
        }
    }

    /// The benchmark folders present, sorted.
    pub fn benchmarks(&self) -> std::io::Result<Vec<String>> {
        let mut names: Vec<String> = match self {
            Self::Bundled => BUNDLED
                .iter()
                .filter_map(|(name, _)| name.split_once('/').map(|(dir, _)| dir.to_owned()))
                .collect(),
            Self::Dir(dir) => std::fs::read_dir(dir)?
                .filter_map(Result::ok)
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .filter_map(|entry| entry.file_name().into_string().ok())
                .collect(),
        };
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The `.yaml` files of one benchmark folder other than its `config.yaml`, sorted by name.
    pub fn control_files(&self, benchmark: &str) -> std::io::Result<Vec<String>> {
        let mut names: Vec<String> = match self {
            Self::Bundled => BUNDLED
                .iter()
                .filter_map(|(name, _)| {
                    name.strip_prefix(benchmark)?
                        .strip_prefix('/')
                        .map(str::to_owned)
                })
                .collect(),
            Self::Dir(dir) => std::fs::read_dir(dir.join(benchmark))?
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().into_string().ok())
                .collect(),
        };
        names.retain(|name| name.ends_with(".yaml") && name != "config.yaml");
        names.sort();
        Ok(names
            .into_iter()
            .map(|name| format!("{benchmark}/{name}"))
            .collect())
    }
}

/// Reads a UTF-8 file of at most `limit` bytes; a larger one is an error that says so, read no
/// further than the limit, so a hostile file cannot exhaust memory.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("larger than {limit} bytes")));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_refused_without_reading_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        std::fs::write(&path, "x".repeat(1025)).unwrap();
        assert_eq!(read_bounded(&path, 1025).unwrap().len(), 1025);
        assert_eq!(read_bounded(&path, 1024).unwrap_err().to_string(), "larger than 1024 bytes");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert_eq!(read_bounded(&path, 1024).unwrap_err().kind(), std::io::ErrorKind::InvalidData);
    }
}

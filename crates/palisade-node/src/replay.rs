//! Evaluating snapshot files taken elsewhere (`palisade node check --snapshot`, `palisade scan
//! --node-snapshot`): each with the benchmark it was collected for (or one named), each
//! benchmark loaded once however many nodes use it.

use std::path::{Path, PathBuf};

use crate::bundled::ConfigDir;
use crate::controls::{Benchmark, LoadError, load_benchmark};
use crate::evaluate::{Filter, NodeReport, evaluate};
use crate::findings::{NodeFindings, findings};
use crate::snapshot::{Snapshot, SnapshotError};

/// The largest snapshot read: far above what a collection writes (each audit's output is cut at
/// 1 MiB, and a benchmark runs about fifty distinct scripts).
pub const SNAPSHOT_LIMIT: u64 = 256 << 20;

/// One node's results and the name reports give their source (the snapshot's path).
#[derive(Clone, Debug)]
pub struct Evaluated {
    pub report: NodeReport,
    pub source: String,
}

/// Why a snapshot was not evaluated.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("{path}: no control file of {benchmark} could be loaded")]
    Benchmark { path: PathBuf, benchmark: String },
}

/// Evaluates snapshot files in order, loading benchmarks from `dir` as they are needed.
pub struct Replay<'d> {
    dir: &'d ConfigDir,
    benchmark: Option<&'d str>,
    benchmarks: Vec<Benchmark>,
    /// Control files that could not be loaded, each once.
    pub load_errors: Vec<LoadError>,
}

impl<'d> Replay<'d> {
    /// `benchmark`: evaluate every snapshot with this one instead of its own.
    pub fn new(dir: &'d ConfigDir, benchmark: Option<&'d str>) -> Self {
        Self {
            dir,
            benchmark,
            benchmarks: Vec::new(),
            load_errors: Vec::new(),
        }
    }

    pub fn evaluate_file(
        &mut self,
        path: &Path,
        filter: &Filter,
    ) -> Result<Evaluated, ReplayError> {
        let text = crate::bundled::read_bounded(path, SNAPSHOT_LIMIT).map_err(|error| ReplayError::Read {
            path: path.to_owned(),
            error,
        })?;
        let snapshot = Snapshot::from_json(&path.display().to_string(), &text)?;
        let name = self
            .benchmark
            .map_or_else(|| snapshot.benchmark.clone(), str::to_owned);
        let index = match self.benchmarks.iter().position(|known| known.name == name) {
            Some(index) => index,
            None => {
                let loaded = load_benchmark(self.dir, &name);
                self.load_errors.extend(loaded.errors);
                if loaded.benchmark.sections.is_empty() {
                    return Err(ReplayError::Benchmark {
                        path: path.to_owned(),
                        benchmark: name,
                    });
                }
                self.benchmarks.push(loaded.benchmark);
                self.benchmarks.len() - 1
            }
        };
        let report = evaluate(&self.benchmarks[index], &snapshot, filter);
        Ok(Evaluated {
            report,
            source: path.display().to_string(),
        })
    }
}

/// The findings of every node, with their rules listed once, sorted by id.
pub fn all_findings(nodes: &[Evaluated]) -> NodeFindings {
    let mut all = NodeFindings::default();
    for node in nodes {
        let found = findings(&node.report, &node.source);
        all.metas.extend(found.metas);
        all.evaluated.extend(found.evaluated);
        all.findings.extend(found.findings);
    }
    all.metas.sort_by_key(|meta| meta.id);
    all.metas.dedup_by_key(|meta| meta.id);
    all
}

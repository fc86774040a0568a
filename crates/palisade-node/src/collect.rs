//! `palisade node collect`: what kube-bench does on the node (cmd/root.go, cmd/run.go,
//! cmd/common.go runChecks, cmd/util.go), restated, with every audit's output recorded in a
//! [`Snapshot`] instead of evaluated on the spot.
//!
//! 1. The benchmark: `--benchmark`, else the one `version_mapping` gives for `--version` or
//!    for the detected Kubernetes version ([`choose_benchmark`]).
//! 2. The control files (targets): `--targets`, validated against `target_mapping`, else
//!    kube-bench's detection: `master` and `controlplane` when every required master component
//!    runs, `etcd` when etcd runs, `node` always, `policies` and `managedservices` when the
//!    benchmark has them.
//! 3. Per target, the `$<component><suffix>` variables ([`resolve`]) and the control file
//!    prepared with them ([`crate::variables::prepare`]).
//! 4. Every audit kube-bench would run (the non-empty `audit`, `audit_env` and `audit_config` of
//!    each check not skipped, not manual and with test items), trimmed, once each, run
//!    ([`crate::runner`]) and redacted ([`crate::redact`]).

mod processes;
mod resolve;
mod version;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::bundled::ConfigDir;
use crate::config::{Config, ConfigError};
use crate::controls::{Benchmark, Check, Controls, Group};
use crate::runner::{Runner, RunnerOptions};
use crate::snapshot::{self, Snapshot, Target};

pub use processes::{Process, ProcessTable};
pub use resolve::{Resolved, resolve};

/// What `palisade node collect` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectOptions {
    /// Where `config.yaml` and the control files come from.
    pub config_dir: ConfigDir,
    /// `--root`: the node's file system as seen from here (`None`: this machine's `/`).
    pub root: Option<PathBuf>,
    /// `--node-name`; else `NODE_NAME`, else the host name.
    pub node_name: Option<String>,
    /// `--targets` (`master`, `node`, ...); empty: detected.
    pub targets: Vec<String>,
    /// The Kubernetes version to record (see [`BenchmarkChoice::kubernetes_version`]).
    pub kubernetes_version: Option<String>,
    /// How it was detected (see [`BenchmarkChoice::detected_by`]); `None` when given.
    pub version_detected_by: Option<String>,
    /// Notes from choosing the benchmark ([`BenchmarkChoice::note`]), recorded on every
    /// target.
    pub notes: Vec<String>,
    /// `--timeout`: per audit script.
    pub timeout: Duration,
    /// Bytes of output kept per audit script.
    pub output_limit: usize,
    /// Audit scripts run at the same time.
    pub jobs: usize,
}

impl Default for CollectOptions {
    fn default() -> Self {
        let runner = RunnerOptions::default();
        Self {
            config_dir: ConfigDir::Bundled,
            root: None,
            node_name: None,
            targets: Vec::new(),
            kubernetes_version: None,
            version_detected_by: None,
            notes: Vec::new(),
            timeout: runner.timeout,
            output_limit: runner.output_limit,
            jobs: runner.jobs,
        }
    }
}

impl CollectOptions {
    fn runner(&self) -> Result<Runner, CollectError> {
        Runner::new(RunnerOptions {
            timeout: self.timeout,
            output_limit: self.output_limit,
            root: self.root.clone(),
            jobs: self.jobs,
        })
        .map_err(|error| CollectError::Setup(error.to_string()))
    }
}

/// Why nothing could be collected. The messages of kube-bench's own refusals are kube-bench's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("It is an error to specify both --version and --benchmark flags")]
    VersionAndBenchmark,
    #[error(
        "The specified --targets \"{targets}\" are not configured for the CIS Benchmark {benchmark}\n Valid targets [{valid}]"
    )]
    InvalidTargets {
        targets: String,
        benchmark: String,
        valid: String,
    },
    #[error("file {file} not found for version {benchmark}")]
    MissingTarget { file: String, benchmark: String },
    #[error("No config settings for {0}")]
    NoConfigSettings(String),
    #[error("error looking for file {path}: {message}")]
    Stat { path: String, message: String },
    #[error(
        "no Kubernetes version was given or detected and config.yaml maps no version to a benchmark of the configuration directory"
    )]
    NoBenchmark,
    #[error("{0}")]
    Setup(String),
}

/// The benchmark to collect for, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchmarkChoice {
    /// The benchmark folder (`cis-1.12`).
    pub benchmark: String,
    /// `--version`, or the version detected; `None` with `--benchmark` or when nothing was
    /// detected.
    pub kubernetes_version: Option<String>,
    /// The command the version was detected with; `None` when it was given.
    pub detected_by: Option<String>,
    /// Set when the choice is a fallback the user should hear about.
    pub note: Option<String>,
}

/// Chooses the benchmark as kube-bench's getBenchmarkVersion does: `benchmark` as given,
/// else `version_mapping` for `version`, else for the version detected on this node (the
/// running kubelet's `--version`, else `kubectl version`). When no version is detected,
/// kube-bench assumes 1.18 (cis-1.6); here the newest benchmark the configuration maps a
/// version to and has control files for is chosen, with a note.
pub fn choose_benchmark(
    options: &CollectOptions,
    version: Option<&str>,
    benchmark: Option<&str>,
) -> Result<BenchmarkChoice, CollectError> {
    let given = |value: Option<&str>| {
        value
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let (version, benchmark) = (given(version), given(benchmark));
    if version.is_some() && benchmark.is_some() {
        return Err(CollectError::VersionAndBenchmark);
    }
    if let Some(benchmark) = benchmark {
        return Ok(BenchmarkChoice {
            benchmark,
            kubernetes_version: None,
            detected_by: None,
            note: None,
        });
    }
    let config = Config::load(&options.config_dir)?;
    if let Some(version) = version {
        let benchmark = config.benchmark_for_version(&version)?;
        return Ok(BenchmarkChoice {
            benchmark,
            kubernetes_version: Some(version),
            detected_by: None,
            note: None,
        });
    }
    let kubelet_bins = config
        .components("node")
        .and_then(|components| {
            components
                .into_iter()
                .find(|component| component.name == "kubelet")
        })
        .map(|kubelet| kubelet.bins)
        .unwrap_or_else(|| vec!["kubelet".to_owned()]);
    let runner = options.runner()?;
    if let Some(detected) =
        version::detect(&ProcessTable::read(), &kubelet_bins, runner.root(), &runner)
    {
        let benchmark = config.benchmark_for_version(&detected.version)?;
        return Ok(BenchmarkChoice {
            benchmark,
            kubernetes_version: Some(detected.version),
            detected_by: Some(detected.source),
            note: None,
        });
    }
    let available = options.config_dir.benchmarks().unwrap_or_default();
    let (version, benchmark) = config
        .numeric_versions()
        .into_iter()
        .find(|(_, benchmark)| available.contains(benchmark))
        .ok_or(CollectError::NoBenchmark)?;
    Ok(BenchmarkChoice {
        note: Some(format!(
            "the Kubernetes version was not detected (no kubelet running, no kubectl answering): \
             using {benchmark}, the newest benchmark available (Kubernetes {version}); give --version or --benchmark to choose"
        )),
        benchmark,
        kubernetes_version: None,
        detected_by: None,
    })
}

/// Collects every audit of `benchmark` on this node.
pub fn collect(options: &CollectOptions, benchmark: &Benchmark) -> Result<Snapshot, CollectError> {
    let collected_at = now();
    let runner = options.runner()?;
    let root = runner.root();
    let config = Config::load(&options.config_dir)?;
    let merged = config.merged(&options.config_dir, &benchmark.name)?;
    let processes = ProcessTable::read();
    let selected = select_targets(options, &config, &merged, benchmark, &processes, root)?;
    let mut targets = Vec::new();
    let mut scripts = BTreeSet::new();
    for controls in selected {
        let components = merged
            .components(&controls.node_type)
            .ok_or_else(|| CollectError::NoConfigSettings(controls.node_type.clone()))?;
        let resolved = resolve(&components, &processes, root)?;
        let prepared = crate::variables::prepare(controls, &resolved.variables);
        scripts.extend(scripts_to_run(&prepared));
        targets.push(Target {
            node_type: controls.node_type.clone(),
            variables: resolved.variables,
            notes: options
                .notes
                .iter()
                .cloned()
                .chain(resolved.notes)
                .collect(),
        });
    }
    let scripts: Vec<String> = scripts.into_iter().collect();
    let audits = runner.run_all(&scripts);
    let mut snapshot = Snapshot {
        api_version: snapshot::API_VERSION.to_owned(),
        kind: snapshot::KIND.to_owned(),
        node: node_name(options),
        collected_at,
        palisade_version: env!("CARGO_PKG_VERSION").to_owned(),
        kubernetes_version: options.kubernetes_version.clone(),
        version_detected_by: options.version_detected_by.clone(),
        benchmark: benchmark.name.clone(),
        root: root.map(|root| root.to_string_lossy().into_owned()),
        targets,
        audits,
    };
    crate::redact::redact(&mut snapshot, &crate::redact::env_names(benchmark));
    Ok(snapshot)
}

/// The control files to collect, in section order.
fn select_targets<'b>(
    options: &CollectOptions,
    config: &Config,
    merged: &Config,
    benchmark: &'b Benchmark,
    processes: &ProcessTable,
    root: Option<&std::path::Path>,
) -> Result<Vec<&'b Controls>, CollectError> {
    let name = &benchmark.name;
    let wanted: Vec<String> = if options.targets.is_empty() {
        let valid = |target: &str| config.valid_targets(name, &[target.to_owned()]);
        let runs = |node_type: &str| -> Result<bool, CollectError> {
            let Some(components) = merged.components(node_type) else {
                return Ok(false);
            };
            let resolved = resolve(&components, processes, root)?;
            Ok(resolved.running && !resolved.variables.bin.is_empty())
        };
        let mut wanted = Vec::new();
        if runs("master")? {
            wanted.push("master");
            if valid("controlplane")? {
                wanted.push("controlplane");
            }
        }
        if valid("etcd")? && runs("etcd")? {
            wanted.push("etcd");
        }
        wanted.push("node");
        for target in ["policies", "managedservices"] {
            if valid(target)? {
                wanted.push(target);
            }
        }
        wanted.into_iter().map(str::to_owned).collect()
    } else {
        if !config.valid_targets(name, &options.targets)? {
            return Err(CollectError::InvalidTargets {
                targets: options.targets.join(","),
                benchmark: name.clone(),
                valid: config.targets(name)?.join(" "),
            });
        }
        // kube-bench's translate: `worker` names the node file.
        options
            .targets
            .iter()
            .map(|target| target.to_lowercase().replace("worker", "node"))
            .collect()
    };
    for target in &wanted {
        if !benchmark
            .sections
            .iter()
            .any(|controls| &controls.node_type == target)
        {
            return Err(CollectError::MissingTarget {
                file: format!("{target}.yaml"),
                benchmark: name.clone(),
            });
        }
    }
    Ok(benchmark
        .sections
        .iter()
        .filter(|controls| wanted.contains(&controls.node_type))
        .collect())
}

/// The scripts kube-bench runs for `controls` (check/check.go run and runAuditCommands):
/// nothing for a check of a skipped group, a `skip` or `manual` check, or one without test
/// items; else its non-empty `audit_env`, `audit` and `audit_config`, trimmed.
fn scripts_to_run(controls: &Controls) -> impl Iterator<Item = String> + '_ {
    let runs = |group: &Group, check: &Check| {
        group.kind != "skip"
            && check.kind != "skip"
            && check.kind != "manual"
            && check
                .tests
                .as_ref()
                .is_some_and(|tests| !tests.items.is_empty())
    };
    controls
        .groups
        .iter()
        .flat_map(move |group| group.checks.iter().filter(move |check| runs(group, check)))
        .flat_map(|check| [&check.audit_env, &check.audit, &check.audit_config])
        .map(|script| script.trim())
        .filter(|script| !script.is_empty())
        .map(str::to_owned)
}

/// `--node-name`, else `NODE_NAME`, else the host name.
fn node_name(options: &CollectOptions) -> String {
    let given = |name: Option<String>| {
        name.map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
    };
    given(options.node_name.clone())
        .or_else(|| given(std::env::var("NODE_NAME").ok()))
        .or_else(|| given(std::fs::read_to_string("/proc/sys/kernel/hostname").ok()))
        .unwrap_or_default()
}

/// Now, in RFC 3339 UTC to the second.
fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::load_benchmark;

    fn bundled(name: &str) -> Benchmark {
        let loaded = load_benchmark(&ConfigDir::Bundled, name);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.benchmark
    }

    #[test]
    fn only_the_audits_kube_bench_runs_are_gathered() {
        let benchmark = bundled("cis-1.12");
        let master = benchmark
            .sections
            .iter()
            .find(|c| c.node_type == "master")
            .unwrap();
        let scripts: BTreeSet<String> = scripts_to_run(master).collect();
        assert!(scripts.contains("/bin/ps -ef | grep $apiserverbin | grep -v grep"));
        assert!(
            scripts
                .iter()
                .all(|script| script.trim() == script && !script.is_empty())
        );
        let controlplane = benchmark
            .sections
            .iter()
            .find(|c| c.node_type == "controlplane")
            .unwrap();
        // 3.1.x and 3.2.2 are manual: only 3.2.1's audit runs.
        assert_eq!(
            scripts_to_run(controlplane).collect::<Vec<_>>(),
            ["/bin/ps -ef | grep $apiserverbin | grep -v grep"]
        );
        let mut skipped = master.clone();
        skipped.groups[0].kind = "skip".into();
        let without: BTreeSet<String> = scripts_to_run(&skipped).collect();
        assert!(without.len() < scripts.len());
        assert!(
            !without
                .iter()
                .any(|script| script.contains("permissions=%a $apiserverconf"))
        );
    }

    #[test]
    fn versions_and_benchmarks_are_chosen_as_kube_bench_chooses_them() {
        let options = CollectOptions::default();
        assert_eq!(
            choose_benchmark(&options, Some("1.32"), Some("cis-1.12"))
                .unwrap_err()
                .to_string(),
            "It is an error to specify both --version and --benchmark flags"
        );
        let choice = choose_benchmark(&options, None, Some("cis-1.20")).unwrap();
        assert_eq!(
            (choice.benchmark.as_str(), choice.kubernetes_version),
            ("cis-1.20", None)
        );
        let choice = choose_benchmark(&options, Some("1.35"), None).unwrap();
        assert_eq!(choice.benchmark, "cis-1.12");
        assert_eq!(choice.kubernetes_version.as_deref(), Some("1.35"));
        assert_eq!(
            choose_benchmark(&options, Some("1.13"), None)
                .unwrap_err()
                .to_string(),
            "unable to find a matching Benchmark Version match for kubernetes version: 1.13"
        );
    }

    #[test]
    fn targets_are_validated_and_translated() {
        let benchmark = bundled("cis-1.12");
        let config = Config::load(&ConfigDir::Bundled).unwrap();
        let processes = ProcessTable::default();
        let select = |targets: &[&str]| {
            let options = CollectOptions {
                targets: targets.iter().map(|t| (*t).to_owned()).collect(),
                ..CollectOptions::default()
            };
            select_targets(&options, &config, &config, &benchmark, &processes, None).map(
                |selected| {
                    selected
                        .iter()
                        .map(|c| c.node_type.clone())
                        .collect::<Vec<_>>()
                },
            )
        };
        assert_eq!(select(&["node", "master"]).unwrap(), ["master", "node"]);
        assert_eq!(
            select(&["master", "worker"]).unwrap_err().to_string(),
            "The specified --targets \"master,worker\" are not configured for the CIS Benchmark cis-1.12\n Valid targets [master node controlplane etcd policies]"
        );
        // Nothing runs here: no master, no etcd.
        assert_eq!(select(&[]).unwrap(), ["node", "policies"]);
    }

    #[test]
    fn node_names_come_from_the_option_first() {
        let options = CollectOptions {
            node_name: Some(" cp-1 ".into()),
            ..CollectOptions::default()
        };
        assert_eq!(node_name(&options), "cp-1");
        assert!(!node_name(&CollectOptions::default()).is_empty());
        let now = now();
        assert!(now.ends_with('Z') && now.len() == 20, "{now}");
    }
}

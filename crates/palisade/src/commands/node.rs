//! `palisade node`: the CIS Kubernetes Benchmark on a node from kube-bench's control files
//! (see docs/node.md). The work lives in `palisade-node`; this module reads flags and files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use palisade_node::bundled::ConfigDir;
use palisade_node::collect::{self, CollectOptions};
use palisade_node::controls::{Benchmark, load_benchmark};
use palisade_node::evaluate::{Filter, NodeReport, evaluate};
use palisade_node::replay::{Evaluated, Replay, ReplayError};
use palisade_node::snapshot::Snapshot;
use palisade_policy::exceptions::Baseline;
use palisade_report::{Format, ScanReport, Scope, WriteOptions};

use super::scan::FailOn;

#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    #[command(subcommand)]
    pub command: NodeCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum NodeCommand {
    /// Run the benchmark's audits on this node and record their results in a snapshot
    /// (docs/formats/node-snapshot.md).
    #[command(disable_version_flag = true)]
    Collect(CollectArgs),
    /// Evaluate the benchmark: on this node (collect, then evaluate), or from --snapshot files
    /// taken elsewhere.
    #[command(disable_version_flag = true)]
    Check(CheckArgs),
}

/// How to collect, shared by `collect` and `check` without `--snapshot`.
#[derive(clap::Args, Debug)]
pub struct SourceArgs {
    /// A kube-bench configuration directory (config.yaml and one folder of control files per
    /// benchmark) instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// The benchmark to run (cis-1.12, cis-1.11, cis-1.10, cis-1.20, ...).
    #[arg(long, value_name = "NAME", conflicts_with = "kubernetes_version")]
    pub benchmark: Option<String>,

    /// The Kubernetes version (1.32) whose benchmark to run, by config.yaml's version_mapping
    /// (default: detected from the kubelet or kubectl).
    #[arg(long = "version", value_name = "VERSION")]
    pub kubernetes_version: Option<String>,

    /// Control files to run: master, controlplane, etcd, node, policies (default: detected as
    /// kube-bench does: master and controlplane where the control plane runs, etcd where etcd
    /// runs, node and policies always).
    #[arg(long, value_delimiter = ',', value_name = "TARGET,...")]
    pub targets: Vec<String>,

    /// Read the node's files under DIR (the host's / mounted there) instead of /.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// The node's name in reports (default: NODE_NAME, else the host name).
    #[arg(long, value_name = "NAME")]
    pub node_name: Option<String>,

    /// Seconds one audit script may run before it is killed and reported as an audit error.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(clap::Args, Debug)]
pub struct CollectArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// Write the snapshot to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Evaluate these snapshots (from `palisade node collect`) instead of this node; repeatable.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Vec<PathBuf>,

    #[command(flatten)]
    pub source: SourceArgs,

    /// Output format: kube-bench (kube-bench's text layout), kube-bench-json (`kube-bench
    /// --json`), or one of Palisade's: text, json, sarif, junit, policyreport, policyreport-json.
    #[arg(long, short = 'f', default_value = "kube-bench", value_parser = parse_format)]
    pub format: NodeFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the snapshot collected on this node to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot")]
    pub write_snapshot: Option<PathBuf>,

    /// Run only these checks (1.2.1,1.2.2).
    #[arg(long, default_value = "", value_name = "ID,...", hide_default_value = true)]
    pub check: String,

    /// Run only the checks of these groups (1.2,4.2).
    #[arg(long, default_value = "", value_name = "ID,...", hide_default_value = true)]
    pub group: String,

    /// Report these checks or groups as INFO without running them.
    #[arg(long, default_value = "", value_name = "ID,...", hide_default_value = true)]
    pub skip: String,

    /// Run only scored (Automated) checks.
    #[arg(long, conflicts_with = "unscored")]
    pub scored: bool,

    /// Run only unscored (Manual) checks.
    #[arg(long)]
    pub unscored: bool,

    /// kube-bench text layout: print the audit output of each failed check.
    #[arg(long)]
    pub include_test_output: bool,

    /// Exit with status 1 when a finding at or above this severity remains (FAIL is high, a
    /// failed unscored check medium, a check not evaluated info).
    #[arg(long, default_value = "medium", value_name = "SEVERITY", value_parser = super::scan::parse_fail_on)]
    pub fail_on: FailOn,

    /// Read exceptions from FILE instead of the `.palisade.yaml` found upward from here.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Suppress the findings accepted in FILE (written by `palisade scan --write-baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write each node's results to the cluster as its ClusterPolicyReport
    /// (`palisade-node-<node>`, wgpolicyk8s.io/v1alpha2, replaced on each run).
    #[arg(long)]
    pub apply_reports: bool,

    /// The kubeconfig file for --apply-reports (default: KUBECONFIG, ~/.kube/config, then
    /// in-cluster).
    #[arg(long, value_name = "FILE", requires = "apply_reports")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context for --apply-reports.
    #[arg(long, value_name = "NAME", requires = "apply_reports")]
    pub context: Option<String>,
}

/// `node check --format`: kube-bench's layouts, or a Palisade format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeFormat {
    KubeBench,
    KubeBenchJson,
    Palisade(Format),
}

fn parse_format(text: &str) -> Result<NodeFormat, String> {
    match text {
        "kube-bench" => Ok(NodeFormat::KubeBench),
        "kube-bench-json" => Ok(NodeFormat::KubeBenchJson),
        other => other
            .parse()
            .map(NodeFormat::Palisade)
            .map_err(|e: String| format!("{e}, kube-bench or kube-bench-json")),
    }
}

pub fn run(args: NodeArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        NodeCommand::Collect(args) => {
            let (snapshot, _) = collect_here(&args.source)?;
            super::output::write_to(args.output.as_deref(), |out, _| out.write_all(snapshot.to_json().as_bytes()))?;
            Ok(ExitCode::SUCCESS)
        }
        NodeCommand::Check(args) => check(args),
    }
}

fn config_dir(source: &SourceArgs) -> ConfigDir {
    source.config_dir.clone().map_or(ConfigDir::Bundled, ConfigDir::Dir)
}

/// Collects on this node: the benchmark chosen as kube-bench chooses it, its control files
/// loaded (a broken one is reported and left out), every audit run once.
fn collect_here(source: &SourceArgs) -> anyhow::Result<(Snapshot, Benchmark)> {
    let mut options = CollectOptions {
        config_dir: config_dir(source),
        root: source.root.clone(),
        node_name: source.node_name.clone(),
        targets: source.targets.clone(),
        timeout: Duration::from_secs(source.timeout.max(1)),
        ..CollectOptions::default()
    };
    let choice =
        collect::choose_benchmark(&options, source.kubernetes_version.as_deref(), source.benchmark.as_deref())?;
    options.notes.extend(choice.note.clone());
    options.kubernetes_version = choice.kubernetes_version.clone();
    options.version_detected_by = choice.detected_by.clone();
    let benchmark = load(&options.config_dir, &choice.benchmark)?;
    let snapshot = collect::collect(&options, &benchmark)?;
    for note in snapshot.targets.iter().flat_map(|target| &target.notes) {
        eprintln!("note: {note}");
    }
    Ok((snapshot, benchmark))
}

/// A benchmark's control files; each broken file is reported with its position and left out.
fn load(dir: &ConfigDir, name: &str) -> anyhow::Result<Benchmark> {
    let loaded = load_benchmark(dir, name);
    for error in &loaded.errors {
        eprintln!("error: {error}");
    }
    anyhow::ensure!(!loaded.benchmark.sections.is_empty(), "no control file of {name} could be loaded");
    Ok(loaded.benchmark)
}

/// Evaluates snapshot files, each with its own benchmark (or `benchmark`). A snapshot or
/// control file that cannot be read is reported; the others are still evaluated.
pub fn evaluate_snapshots(
    paths: &[PathBuf],
    dir: &ConfigDir,
    benchmark: Option<&str>,
    filter: &Filter,
) -> (Vec<Evaluated>, Vec<(PathBuf, ReplayError)>) {
    let mut replay = Replay::new(dir, benchmark);
    let (mut nodes, mut errors) = (Vec::new(), Vec::new());
    for path in paths {
        match replay.evaluate_file(path, filter) {
            Ok(node) => nodes.push(node),
            Err(error) => {
                eprintln!("error: {error}");
                errors.push((path.clone(), error));
            }
        }
    }
    for error in &replay.load_errors {
        eprintln!("error: {error}");
    }
    (nodes, errors)
}

/// Unreadable snapshots as input errors, as Palisade's formats report unreadable manifests.
pub fn input_errors(errors: &[(PathBuf, ReplayError)]) -> Vec<palisade_core::InputError> {
    errors
        .iter()
        .map(|(path, error)| palisade_core::InputError {
            file: path.display().to_string().into(),
            line: 0,
            column: 0,
            message: error.to_string(),
        })
        .collect()
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let filter = Filter::from_flags(&args.check, &args.group, &args.skip, !args.unscored, !args.scored)?;
    let mut nodes = Vec::new();
    let mut errors = Vec::new();
    if args.snapshot.is_empty() {
        let (snapshot, benchmark) = collect_here(&args.source)?;
        if let Some(path) = &args.write_snapshot {
            std::fs::write(path, snapshot.to_json()).with_context(|| format!("cannot write {}", path.display()))?;
        }
        let report = evaluate(&benchmark, &snapshot, &filter);
        nodes.push(Evaluated { source: format!("node/{}", snapshot.node), report });
    } else {
        (nodes, errors) = evaluate_snapshots(&args.snapshot, &config_dir(&args.source), args.source.benchmark.as_deref(), &filter);
    }

    let reports: Vec<&NodeReport> = nodes.iter().map(|node| &node.report).collect();
    let node_findings = palisade_node::replay::all_findings(&nodes);
    let report = palisade_report_of(&args, node_findings.findings, input_errors(&errors), &node_findings.evaluated, nodes.len())?;

    super::output::write_to(args.output.as_deref(), |out, color| match args.format {
        NodeFormat::KubeBench => {
            let options = palisade_node::kube_bench::TextOptions {
                color,
                include_test_output: args.include_test_output,
                ..Default::default()
            };
            reports.iter().try_for_each(|node| palisade_node::kube_bench::write_text(node, out, &options))
        }
        NodeFormat::KubeBenchJson => reports.iter().try_for_each(|node| palisade_node::kube_bench::write_json(node, out)),
        NodeFormat::Palisade(format) => {
            let options = WriteOptions { color, source: None, show_suppressed: false };
            palisade_report::write(&report, format, &node_findings.metas, out, &options)
        }
    })?;

    if args.apply_reports {
        apply_reports(&args, &nodes, &report)?;
    }
    Ok(super::output::exit_code(!errors.is_empty(), report.summary().threshold_exceeded))
}

/// The node findings through the exceptions every door shares (configuration entries and a
/// baseline; a node has no annotations), as a report for Palisade's formats and `--fail-on`.
fn palisade_report_of(
    args: &CheckArgs,
    findings: Vec<palisade_core::Finding>,
    unread: Vec<palisade_core::InputError>,
    evaluated: &std::collections::BTreeSet<&'static str>,
    nodes: usize,
) -> anyhow::Result<ScanReport> {
    let config = super::scan::config_or_discovered(args.config.as_deref(), Path::new("."))?;
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
    let scope = Scope { files_read: nodes, objects_scanned: nodes, rules_evaluated: evaluated.len(), ..Scope::default() };
    let evaluated = evaluated.iter().copied().collect();
    Ok(palisade_policy::report_of(findings, unread, scope, args.fail_on.0, &config.exceptions, baseline.as_ref(), &evaluated))
}

/// `--apply-reports`: each node's ClusterPolicyReport, from the findings that remain after
/// exceptions.
fn apply_reports(args: &CheckArgs, nodes: &[Evaluated], report: &ScanReport) -> anyhow::Result<()> {
    let cluster = palisade_cluster::Cluster::connect(&palisade_cluster::ConnectOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
    })?;
    let mut objects = Vec::new();
    for node in nodes {
        let mine: Vec<palisade_core::Finding> =
            report.findings().iter().filter(|finding| finding.object.name == node.report.node).cloned().collect();
        let own = ScanReport::new(mine, Vec::new(), report.summary().scope, None);
        let passed = node.report.totals.pass;
        objects.push(palisade_report::node_policy_report(&own, &node.report.node, passed, Default::default()));
    }
    let errors = cluster.apply_reports(&objects);
    for error in &errors {
        eprintln!("error: cannot write the report {error}");
    }
    anyhow::ensure!(errors.is_empty(), "{} of {} reports could not be written", errors.len(), objects.len());
    Ok(())
}

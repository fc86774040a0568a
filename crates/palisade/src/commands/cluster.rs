//! `palisade scan --cluster`: the live cluster as the scan's input (see `docs/cluster.md`).
//! Flags live here and are flattened into `ScanArgs`; the scan itself is the manifest scan's.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use palisade_cluster::{Cluster, ConnectOptions, ListOptions, NotEvaluated, Ownership, Progress};
use palisade_core::{InputError, Object};
use palisade_report::ScanReport;
use palisade_scan::{Engine, Outcome};

#[derive(clap::Args, Debug)]
pub struct ClusterArgs {
    /// Scan the live cluster through the Kubernetes API instead of files (kubeconfig, or the
    /// in-cluster service account).
    #[arg(long)]
    pub cluster: bool,

    /// The kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,

    /// The kubeconfig file (default: KUBECONFIG, ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,

    /// Read namespaced kinds from this namespace only; repeatable (default: all namespaces).
    #[arg(long = "namespace", short = 'n', value_name = "NS", requires = "cluster")]
    pub namespaces: Vec<String>,

    /// Exit on the findings alone (0 or 1) even when some lists could not be read; they are
    /// still reported as not evaluated.
    #[arg(long, requires = "cluster")]
    pub allow_partial: bool,

    /// Write the results to the cluster as PolicyReports and a ClusterPolicyReport
    /// (wgpolicyk8s.io/v1alpha2, named `palisade`, replaced on each run).
    #[arg(long, requires = "cluster")]
    pub apply_reports: bool,

    /// Deadline for reading one kind (all of its pages), in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", requires = "cluster")]
    pub list_timeout: u64,

    /// Do not judge the cluster with the policies installed in it (Gatekeeper constraints,
    /// Kyverno policies and exceptions, ValidatingAdmissionPolicies); `--policy` files still apply.
    #[arg(long, requires = "cluster")]
    pub ignore_installed_policies: bool,
}

/// A connected cluster, once scanned.
pub struct ClusterScan {
    cluster: Cluster,
    /// Lists that could not be read.
    not_evaluated: usize,
    /// No list or no object could be read: whatever the flags, not a pass.
    read_nothing: bool,
    /// Those named with `-n`, else every Namespace listed.
    namespaces: Vec<String>,
}

/// A connected cluster and the policies installed in it, before its objects are listed: the
/// policies join the rule set the objects are judged with.
pub struct Connected {
    cluster: Cluster,
    options: ListOptions,
    /// Policies, PolicyExceptions and param objects (empty with `--ignore-installed-policies`).
    pub installed_policies: Vec<Object>,
    not_evaluated: Vec<InputError>,
    lists: usize,
}

/// Connects and reads the installed policies (unless told not to).
pub fn connect(args: &ClusterArgs) -> anyhow::Result<Connected> {
    // A cluster scan's peak memory is what its CronJob's limit must cover: at 100k objects,
    // 478-480 MiB with freed pages returned at once, 501-514 MiB after mimalloc's delay.
    super::release_freed_memory_at_once();
    let cluster = Cluster::connect(&ConnectOptions { kubeconfig: args.kubeconfig.clone(), context: args.context.clone() })?;
    let options = ListOptions {
        namespaces: args.namespaces.clone(),
        list_timeout: Duration::from_secs(args.list_timeout.max(1)),
        ..ListOptions::default()
    };
    let mut connected = Connected { cluster, options, installed_policies: Vec::new(), not_evaluated: Vec::new(), lists: 0 };
    if !args.ignore_installed_policies {
        let snapshot = connected.cluster.installed_policies(&connected.options);
        connected.not_evaluated = input_errors(connected.cluster.context(), &snapshot.not_evaluated);
        connected.lists = snapshot.lists;
        connected.installed_policies = snapshot.objects;
    }
    Ok(connected)
}

/// A list that could not be read is an input error named after the list, so every format shows
/// it and the exit code says the coverage is incomplete.
fn input_errors(context: &str, not_evaluated: &[NotEvaluated]) -> Vec<InputError> {
    not_evaluated
        .iter()
        .map(|gap| InputError {
            file: format!("cluster://{context}/{}", gap.resource).into(),
            line: 0,
            column: 0,
            message: gap.to_string(),
        })
        .collect()
}

impl Connected {
    /// Lists every kind the rules read and runs `engine` over each page as it arrives (with a
    /// progress bar when stderr is a terminal), so memory holds findings and what the
    /// cross-object rules keep, not the cluster. Findings of the catalog's rules on objects a
    /// listed controller created are dropped (they repeat the controller's); the cluster-only
    /// rules' findings are kept. A list that could not be read, or a cluster of which nothing
    /// could be read, is an input error.
    pub fn scan(self, args: &ClusterArgs, engine: &Engine) -> (Outcome, ClusterScan) {
        let Connected { cluster, options, mut not_evaluated, lists, .. } = self;
        let mut stream = engine.stream();
        let mut ownership = Ownership::default();
        let mut listed_namespaces = Vec::new();
        // Controllers are listed before what they create: an object a listed controller
        // created repeats its findings, so only the inventory analyses see it.
        let mut consume = |objects: Vec<Object>| {
            let (mut own, mut created) = (Vec::with_capacity(objects.len()), Vec::new());
            for object in objects {
                ownership.observe(&object);
                if object.is(&[""], "Namespace") {
                    listed_namespaces.push(object.name().to_owned());
                }
                if ownership.created_by_listed(&object) { created.push(object) } else { own.push(object) }
            }
            stream.add(&own);
            stream.add_for_inventory(&created);
        };
        let listed = if std::io::stderr().is_terminal() {
            cluster.stream(&options, &Bar(indicatif::ProgressBar::hidden()), &mut consume)
        } else {
            cluster.stream(&options, &palisade_cluster::Quiet, &mut consume)
        };
        let mut outcome = stream.finish();
        let derived = ownership.derived();
        outcome.findings.retain(|finding| finding.rule.starts_with("cluster/") || !derived.contains(&finding.object));
        not_evaluated.extend(input_errors(cluster.context(), &listed.not_evaluated));
        let read_nothing = listed.lists == 0 || listed.objects == 0;
        if read_nothing {
            not_evaluated.push(InputError {
                file: format!("cluster://{}", cluster.context()).into(),
                line: 0,
                column: 0,
                message: format!(
                    "nothing was read from the cluster ({} lists read, {} objects, {} lists not evaluated): the scan covers nothing",
                    listed.lists,
                    listed.objects,
                    listed.not_evaluated.len()
                ),
            });
        }
        outcome.errors.extend(not_evaluated.iter().cloned());
        outcome.files = lists + listed.lists;
        let namespaces = if args.namespaces.is_empty() {
            listed_namespaces.sort();
            listed_namespaces
        } else {
            args.namespaces.clone()
        };
        (outcome, ClusterScan { cluster, not_evaluated: not_evaluated.len(), read_nothing, namespaces })
    }
}

impl ClusterScan {
    /// The input errors `--allow-partial` tolerates: the lists that were not read, unless
    /// nothing was.
    pub fn tolerated_errors(&self, args: &ClusterArgs) -> usize {
        if args.allow_partial && !self.read_nothing { self.not_evaluated } else { 0 }
    }

    /// `--apply-reports`: writes one PolicyReport per namespace scanned (an empty one replaces
    /// the last run's where nothing is found) and the ClusterPolicyReport.
    pub fn finish(&self, args: &ClusterArgs, report: &ScanReport) -> anyhow::Result<()> {
        if !args.apply_reports {
            return Ok(());
        }
        let reports = palisade_report::policy_reports(report, &self.namespaces, palisade_report::ReportLimits::default());
        let errors = self.cluster.apply_reports(&reports);
        for error in &errors {
            eprintln!("error: cannot write the report {error}");
        }
        anyhow::ensure!(errors.is_empty(), "{} of {} reports could not be written", errors.len(), reports.len());
        Ok(())
    }
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, lists: usize) {
        self.0.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.0.set_length(lists as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} lists  {msg}") {
            self.0.set_style(style);
        }
    }

    fn finished(&self, list: &str, objects: usize) {
        self.0.set_message(format!("{list}: {objects}"));
        self.0.inc(1);
        if self.0.position() >= self.0.length().unwrap_or(0) {
            self.0.finish_and_clear();
        }
    }
}

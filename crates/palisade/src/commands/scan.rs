//! `palisade scan`: manifests (files, directories, stdin) through every rule, into a report.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use palisade_checks::pss::{PssLevel, PssSetting, PssVersion};
use palisade_core::{Framework, Severity};
use palisade_policy::exceptions::{Baseline, InlineExceptions};
use palisade_policy::{Config, RuleSet};
use palisade_report::{Format, Inputs, ScanReport, Scope, SourceLines, WriteOptions};
use palisade_scan::Engine;

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Files or directories to scan (`*.yaml`, `*.yml`, `*.json`, recursively); `-` reads
    /// standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', default_value = "text", value_parser = parse_format)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Run only rules whose id starts with one of these prefixes (`pss/`, `pss/hostPorts`).
    #[arg(long, value_delimiter = ',', value_name = "PREFIX,...")]
    pub select: Vec<String>,

    /// Exit with status 1 when a finding at or above this severity remains.
    #[arg(long, default_value = "medium", value_name = "SEVERITY", value_parser = parse_fail_on)]
    pub fail_on: FailOn,

    /// Pod Security Standards level for namespaces without a `pod-security.kubernetes.io/enforce`
    /// label.
    #[arg(long, default_value = "restricted", value_name = "LEVEL")]
    pub pss_level: PssLevel,

    /// Pod Security Standards version (`v1.N` or `latest`) for namespaces without an
    /// `enforce-version` label.
    #[arg(long, default_value = "latest", value_name = "VERSION")]
    pub pss_version: PssVersion,

    /// Apply the policies in FILE or DIR to matching objects: OperationPolicy objects
    /// (`deckhouse.io/v1alpha1` or `palisade.dev/v1alpha1`), Gatekeeper ConstraintTemplates and
    /// their Constraints; repeatable.
    #[arg(long, value_name = "FILE|DIR")]
    pub policy: Vec<PathBuf>,

    /// Read the configuration from FILE instead of the `.palisade.yaml` found upward from the
    /// first scanned path.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Suppress the findings accepted in FILE (written by --write-baseline), so that only new
    /// findings are reported.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write every finding that remains after exceptions to FILE as a baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Run only rules mapped to this framework (cis, nsa, pss, mitre) and add a per-control
    /// summary (passed, failed, not evaluated) to the report.
    #[arg(long, value_name = "NAME")]
    pub framework: Option<Framework>,

    /// Evaluate these node snapshots (`palisade node collect`) too; repeatable. Their CIS
    /// results (sections 1-4; section 5 comes from the rules) join the findings, and with
    /// `--framework cis` every control of the benchmark gets a verdict.
    #[arg(long, value_name = "FILE")]
    pub node_snapshot: Vec<PathBuf>,

    /// List the findings exceptions suppressed in the text report (JSON always lists them).
    #[arg(long)]
    pub show_suppressed: bool,

    /// Inventory the images that pod templates run: each distinct image once, in parallel,
    /// linked to every container that runs it (`image/inventory`, or `image/not-evaluated`).
    #[arg(long)]
    pub images: bool,

    /// With --images, write each image's CycloneDX SBOM into DIR.
    #[arg(long, value_name = "DIR", requires = "images")]
    pub sbom_dir: Option<PathBuf>,

    /// With --images, match each image's packages against the vulnerability database and
    /// report every vulnerability at each container that runs the image (`vuln/<id>`).
    #[arg(long, requires = "images")]
    pub vulns: bool,

    /// With --vulns, leave out vulnerabilities without a published fix.
    #[arg(long, requires = "vulns")]
    pub ignore_unfixed: bool,

    #[command(flatten)]
    pub db: super::db::DbLocation,

    #[command(flatten)]
    pub image: super::sbom::ImageArgs,

    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
}

/// `--fail-on`: a severity, or `never`.
#[derive(Clone, Copy, Debug)]
pub struct FailOn(pub Option<Severity>);

pub fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    if text.eq_ignore_ascii_case("never") {
        return Ok(FailOn(None));
    }
    text.parse::<Severity>().map(|severity| FailOn(Some(severity))).map_err(|e| format!("{e}, or never"))
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args)?;
    let mut connected = args.cluster.cluster.then(|| super::cluster::connect(&args.cluster)).transpose()?;
    let selection = palisade_policy::Selection {
        prefixes: args.select.clone(),
        framework: args.framework,
        policy_files: args.policy.clone(),
        installed_policies: connected.as_mut().map(|connected| std::mem::take(&mut connected.installed_policies)).unwrap_or_default(),
        inventory: true,
        cluster: args.cluster.cluster,
        images: args.images,
        vulnerabilities: args.vulns,
    };
    let pss = PssSetting { level: args.pss_level, version: args.pss_version };
    let rule_set = RuleSet::build(&config, pss, &selection).map_err(|e| anyhow::anyhow!("{e}"))?;
    for warning in &rule_set.warnings {
        eprintln!("warning: {warning}");
    }
    let vulnerabilities = rule_set.runs_vulnerability_door();
    let images = rule_set.runs_image_door().then(|| workload_images(&args, vulnerabilities)).transpose()?;
    let RuleSet { rules, mut inventory_rules, evaluated, .. } = rule_set;
    let inline = InlineExceptions::default();
    inventory_rules.push(Box::new(inline.clone()));
    if let Some((rule, _)) = &images {
        inventory_rules.push(Box::new(rule.clone()));
    }
    let engine = Engine::new(rules, inventory_rules);
    let (mut outcome, cluster) = match connected {
        Some(connected) => {
            let (outcome, cluster) = connected.scan(&args.cluster, &engine);
            (outcome, Some(cluster))
        }
        None => (engine.scan_paths(&args.paths), None),
    };
    evaluated.adjust(&mut outcome.findings);
    let mut evaluated_ids = evaluated.ids();
    let nodes = NodeResults::read(&args.node_snapshot);
    outcome.findings.extend(nodes.findings.findings.iter().cloned());
    outcome.errors.extend(nodes.errors.iter().cloned());
    evaluated_ids.extend(nodes.findings.evaluated.iter().copied());

    if let (Some((_, outcomes)), Some(dir)) = (&images, &args.sbom_dir) {
        write_sboms(outcomes, dir)?;
    }

    let baseline = args.baseline.as_deref().map(Baseline::load).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
    let inline = inline.take();
    let uses_exceptions = !config.exceptions.is_empty() || !inline.is_empty() || baseline.is_some();
    let today = palisade_policy::exceptions::today();
    let resolution =
        palisade_policy::apply(outcome.findings, &config.exceptions, &inline, baseline.as_ref(), today, &evaluated_ids);
    if let Some(path) = &args.write_baseline {
        let document = Baseline::document(&resolution.kept);
        std::fs::write(path, serde_json::to_string_pretty(&document)? + "\n")
            .with_context(|| format!("cannot write the baseline {}", path.display()))?;
    }
    let redacted: HashSet<(String, u32)> = resolution
        .kept
        .iter()
        .chain(resolution.exceptions.suppressed.iter().map(|suppressed| &suppressed.finding))
        .filter(|finding| palisade_checks::secrets::REDACTED_RULES.contains(&finding.rule))
        .map(|finding| (finding.location.file.to_string(), finding.location.line))
        .collect();
    let compliance = args.framework.map(|framework| {
        let mut catalog = palisade_policy::catalog_metas();
        catalog.extend(nodes.findings.metas.iter().copied());
        let listed = if framework == Framework::Cis { nodes.cis_controls() } else { Vec::new() };
        // A node check that could not be evaluated is a finding for the reader, not a failed
        // control.
        let verdicts: Vec<_> = resolution.kept.iter().filter(|f| !nodes.is_not_evaluated(f)).cloned().collect();
        palisade_policy::compliance::summarize(framework, &catalog, &evaluated_ids, &verdicts, &listed)
    });

    let inputs = if cluster.is_some() { Inputs::Lists } else { Inputs::Files };
    let scope = Scope { files_read: outcome.files, objects_scanned: outcome.objects, rules_evaluated: evaluated.metas.len(), inputs };
    let mut report = ScanReport::new(resolution.kept, outcome.errors, scope, args.fail_on.0);
    if uses_exceptions {
        report = report.with_exceptions(resolution.exceptions);
    }
    if let Some(compliance) = compliance {
        report = report.with_compliance(compliance);
    }
    let source = FileLines { redacted, ..FileLines::default() };
    super::output::write_to(args.output.as_deref(), |out, color| {
        let options = WriteOptions { color, source: Some(&source), show_suppressed: args.show_suppressed };
        palisade_report::write(&report, args.format, &evaluated.metas, out, &options)
    })?;
    if let Some(cluster) = &cluster {
        cluster.finish(&args.cluster, &report)?;
    }
    let summary = report.summary();
    let tolerated = cluster.as_ref().map_or(0, |cluster| cluster.tolerated_errors(&args.cluster));
    let code = super::output::exit_code(summary.input_errors > tolerated, summary.threshold_exceeded);
    // The process exits next: freeing hundreds of thousands of findings one at a time would
    // only delay that (by a tenth of a second on the 100k-object benchmark).
    std::mem::forget(report);
    Ok(code)
}

/// The image door: the inventory rule, and where its outcomes can be read after the scan.
fn workload_images(
    args: &ScanArgs,
    vulnerabilities: bool,
) -> anyhow::Result<(palisade_catalog::workloads::WorkloadImages, std::sync::Arc<Mutex<Vec<palisade_catalog::workloads::ImageOutcome>>>)> {
    let options = args.image.read_options()?;
    let bar = super::sbom::image_bar();
    let progress_bar = bar.clone();
    // A reference in a pod spec always names a registry image, even if a directory of that name
    // happens to exist here.
    let inventorier = std::sync::Arc::new(move |reference: &str| {
        palisade_catalog::source::read(&format!("registry:{reference}"), &options, &|_| {}).map_err(|error| error.to_string())
    });
    let progress = std::sync::Arc::new(move |done: usize, total: usize, reference: &str| {
        progress_bar.set_length(total as u64);
        progress_bar.set_position(done as u64);
        progress_bar.set_message(reference.to_owned());
        if done == total {
            progress_bar.finish_and_clear();
        }
    });
    let mut rule = palisade_catalog::workloads::WorkloadImages::new(inventorier, progress);
    if vulnerabilities {
        let options = palisade_vuln::MatchOptions { ignore_unfixed: args.ignore_unfixed, ..Default::default() };
        let matcher = super::vuln::ImageMatcher::open(&args.db, options)?;
        super::db::warn_if_stale(&matcher.status(), super::db::MAX_AGE);
        rule = rule.with_image_findings(std::sync::Arc::new(move |reference: &str, inventory: &palisade_pkg::Inventory| {
            matcher.findings(reference, inventory)
        }));
    }
    let outcomes = rule.outcomes();
    Ok((rule, outcomes))
}

/// `--sbom-dir`: one CycloneDX file per inventoried image, named after its reference.
fn write_sboms(outcomes: &Mutex<Vec<palisade_catalog::workloads::ImageOutcome>>, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let options = super::sbom::sbom_options()?;
    let outcomes = outcomes.lock().map_err(|_| anyhow::anyhow!("the image inventory failed"))?;
    for outcome in outcomes.iter() {
        let Ok(inventory) = &outcome.result else { continue };
        let name: String = outcome.reference.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        let path = dir.join(format!("{name}.cdx.json"));
        let mut out = Vec::new();
        palisade_sbom::write(inventory, palisade_sbom::Format::CycloneDxJson, &options, &mut out)?;
        std::fs::write(&path, out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `--node-snapshot`: the nodes' findings, their rules, and the benchmark whose controls a CIS
/// summary lists.
struct NodeResults {
    findings: palisade_node::findings::NodeFindings,
    errors: Vec<palisade_core::InputError>,
    benchmark: String,
}

impl NodeResults {
    fn read(paths: &[PathBuf]) -> Self {
        let dir = palisade_node::bundled::ConfigDir::Bundled;
        let filter = palisade_node::evaluate::Filter::default();
        let (mut nodes, failed) = super::node::evaluate_snapshots(paths, &dir, None, &filter);
        for node in &mut nodes {
            node.report.sections.retain(|section| section.node_type != "policies");
        }
        let benchmark = nodes.first().map_or_else(|| "cis-1.12".to_owned(), |node| node.report.benchmark.clone());
        let errors = super::node::input_errors(&failed);
        Self { findings: palisade_node::replay::all_findings(&nodes), errors, benchmark }
    }

    /// Every check id of the benchmark, sections 1 to 5.
    fn cis_controls(&self) -> Vec<String> {
        let loaded = palisade_node::controls::load_benchmark(&palisade_node::bundled::ConfigDir::Bundled, &self.benchmark);
        loaded
            .benchmark
            .sections
            .iter()
            .flat_map(|section| &section.groups)
            .flat_map(|group| &group.checks)
            .map(|check| check.id.clone())
            .collect()
    }

    fn is_not_evaluated(&self, finding: &palisade_core::Finding) -> bool {
        finding.severity == Severity::Info && self.findings.metas.iter().any(|meta| meta.id == finding.rule)
    }
}

/// `--config`, else `.palisade.yaml` discovered upward from the first path, else defaults.
fn load_config(args: &ScanArgs) -> anyhow::Result<Config> {
    let start = args.paths.iter().find(|path| path.as_os_str() != "-").cloned().unwrap_or_else(|| PathBuf::from("."));
    config_or_discovered(args.config.as_deref(), &start)
}

/// The configuration at `explicit`, else `.palisade.yaml` discovered upward from `start`, else
/// defaults.
pub fn config_or_discovered(explicit: Option<&Path>, start: &Path) -> anyhow::Result<Config> {
    match explicit.map(Path::to_path_buf).or_else(|| palisade_policy::config::discover(start)) {
        Some(path) => Config::load(&path).map_err(|error| anyhow::anyhow!("invalid configuration: {error}")),
        None => Ok(Config::default()),
    }
}

/// Source lines for the text report's snippets, read again only for files that have findings.
#[derive(Default)]
struct FileLines {
    files: Mutex<HashMap<String, Option<Vec<String>>>>,
    /// Lines that hold a detected credential: never printed.
    redacted: HashSet<(String, u32)>,
}

impl SourceLines for FileLines {
    fn line(&self, file: &str, line: u32) -> Option<String> {
        if file == "-" || line == 0 || self.redacted.contains(&(file.to_owned(), line)) {
            return None;
        }
        let mut files = self.files.lock().ok()?;
        let lines = files.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read_to_string(file).ok().map(|text| text.lines().map(str::to_owned).collect())
        });
        lines.as_ref()?.get(line as usize - 1).cloned()
    }
}

//! `palisade vuln SOURCE...`: known vulnerabilities in images, root filesystems, projects,
//! lockfiles and SBOMs, matched against OSV advisories (see docs/vulnerabilities.md). Reading
//! lives in `palisade-catalog`, matching in `palisade-vuln`; this module wires them to the
//! exceptions and reports every door shares.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use palisade_core::{Finding, InputError, ObjectRef, Severity};
use palisade_pkg::{Inventory, SourceDescription};
use palisade_policy::exceptions::Baseline;
use palisade_report::{Format as ReportFormat, Scope, WriteOptions};
use palisade_vuln::{MatchOptions, MatchReport, VexStatement};

use super::db::DbLocation;
use super::sbom::ImageArgs;
use super::scan::FailOn;

#[derive(clap::Args, Debug)]
pub struct VulnArgs {
    /// What to check: an image (`nginx:1.27`, `oci:DIR[:TAG]`, `docker-archive:FILE.tar`), a
    /// root filesystem (`dir:ROOTFS`), a project directory (its lockfiles and SBOM files), a
    /// lockfile, or an SBOM (CycloneDX JSON or XML, SPDX JSON or tag-value).
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    #[command(flatten)]
    pub db: DbLocation,

    /// Output format: text, json, sarif, junit, or cyclonedx-json (the SBOM of one source with
    /// its `vulnerabilities`).
    #[arg(long, short = 'f', default_value = "text", value_parser = parse_format)]
    pub format: VulnFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Leave out vulnerabilities without a published fix.
    #[arg(long)]
    pub ignore_unfixed: bool,

    /// Report only these severities (critical,high,medium,low,info); default all.
    #[arg(long, value_delimiter = ',', value_name = "SEVERITY,...")]
    pub severity: Vec<Severity>,

    /// Exit with status 1 when a vulnerability at or above this severity remains (or `never`).
    #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = super::scan::parse_fail_on)]
    pub fail_on: FailOn,

    /// OpenVEX or CycloneDX VEX documents: vulnerabilities they state as not affecting a
    /// product are not reported; repeatable.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,

    /// Read exceptions from FILE instead of the `.palisade.yaml` found upward from here.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Suppress the findings accepted in FILE (written by `--write-baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Warn when the database is older than this many days.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub max_db_age: u64,

    #[command(flatten)]
    pub image: ImageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VulnFormat {
    Report(ReportFormat),
    CycloneDxJson,
}

fn parse_format(text: &str) -> Result<VulnFormat, String> {
    if text.eq_ignore_ascii_case("cyclonedx-json") {
        return Ok(VulnFormat::CycloneDxJson);
    }
    match text.parse::<ReportFormat>()? {
        format @ (ReportFormat::Text | ReportFormat::Json | ReportFormat::Sarif | ReportFormat::Junit) => Ok(VulnFormat::Report(format)),
        _ => Err(format!("`{text}` is not a vulnerability report format (text, json, sarif, junit, cyclonedx-json)")),
    }
}

/// One source read and matched.
pub struct Checked {
    pub inventory: Inventory,
    pub matched: MatchReport,
}

pub fn run(args: VulnArgs) -> anyhow::Result<ExitCode> {
    if args.format == VulnFormat::CycloneDxJson && args.sources.len() != 1 {
        anyhow::bail!("cyclonedx-json describes one source; give one SOURCE (or use json, sarif or junit)");
    }
    let database = args.db.open()?;
    let status = database.status();
    super::db::warn_if_stale(&status, Duration::from_secs(args.max_db_age * 86_400));
    if !database.issues().is_empty() {
        eprintln!("warning: {} malformed advisory records were skipped (`palisade db status`)", status.issues);
    }
    let options = MatchOptions { ignore_unfixed: args.ignore_unfixed, min_severity: None, vex: read_vex(&args.vex)? };
    let read_options = args.image.read_options()?;

    let mut findings = Vec::new();
    let mut unread = Vec::new();
    let mut checked = Vec::new();
    for source in &args.sources {
        let bar = super::sbom::layer_bar();
        let inventory = palisade_catalog::source::read(source, &read_options, &|progress| super::sbom::show(&bar, &progress));
        bar.finish_and_clear();
        let inventory = match inventory {
            Ok(inventory) => inventory,
            Err(error) => {
                let message = error.to_string();
                // The error names the source itself; the report names it once, as the file.
                let message = message.strip_prefix(&format!("{source}: ")).map_or(message.clone(), str::to_owned);
                unread.push(InputError { file: source.as_str().into(), line: 0, column: 0, message });
                continue;
            }
        };
        for issue in &inventory.issues {
            match issue.location.path.as_str() {
                "" => eprintln!("warning: {source}: {}", issue.message),
                path => eprintln!("warning: {source}: {path}: {}", issue.message),
            }
        }
        let matched = palisade_vuln::match_inventory(&inventory, &database, &options);
        for issue in &matched.issues {
            eprintln!("warning: {source}: {issue}");
        }
        summarize(source, &inventory, &matched);
        let mut found = palisade_vuln::findings(&matched, object_of(source, &inventory), source);
        root_paths(&mut found, &inventory);
        findings.extend(found);
        checked.push(Checked { inventory, matched });
    }
    if !args.severity.is_empty() {
        findings.retain(|finding: &Finding| args.severity.contains(&finding.severity));
    }

    let config = super::scan::config_or_discovered(args.config.as_deref(), std::path::Path::new("."))?;
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose().map_err(|error| anyhow::anyhow!("{error}"))?;
    let packages = checked.iter().map(|one| one.inventory.packages.len()).sum();
    let scope = Scope { files_read: args.sources.len(), objects_scanned: packages, rules_evaluated: 0, ..Scope::default() };
    let evaluated: BTreeSet<&str> = BTreeSet::from(["vuln/*"]);
    let report = palisade_policy::report_of(findings, unread, scope, args.fail_on.0, &config.exceptions, baseline.as_ref(), &evaluated);

    match args.format {
        VulnFormat::Report(format) => super::output::write_to(args.output.as_deref(), |out, color| {
            palisade_report::write(&report, format, &[], out, &WriteOptions { color, ..WriteOptions::default() })
        })?,
        VulnFormat::CycloneDxJson => {
            // The document has no place for them: said on standard error, and in the exit status.
            for error in report.errors() {
                eprintln!("error: {}: {}", error.file, error.message);
            }
            if let Some(one) = checked.first() {
                let bom = cyclonedx_with_vulnerabilities(one, &report)?;
                super::output::write_to(args.output.as_deref(), |out, _| {
                    serde_json::to_writer_pretty(&mut *out, &bom).map_err(std::io::Error::other)?;
                    writeln!(out)
                })?;
            }
        }
    }
    Ok(super::output::exit_status(&report))
}

fn read_vex(paths: &[PathBuf]) -> anyhow::Result<Vec<VexStatement>> {
    let mut statements = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        statements.extend(palisade_vuln::read_vex(&name, &bytes).map_err(|problem| anyhow::anyhow!("{name}: {problem}"))?);
    }
    Ok(statements)
}

/// An image's vulnerabilities as findings on the image: what `scan --images --vulns` repeats at
/// each container and what the admission webhook's image policy judges. A long-running user
/// (the webhook) reads a newer index as soon as `db update` or `db import` has written it.
pub struct ImageMatcher {
    location: DbLocation,
    database: std::sync::RwLock<Arc<palisade_osv::Database>>,
    options: MatchOptions,
}

impl ImageMatcher {
    pub fn open(location: &DbLocation, options: MatchOptions) -> anyhow::Result<Self> {
        let database = std::sync::RwLock::new(Arc::new(location.open()?));
        Ok(Self { location: location.clone(), database, options })
    }

    pub fn status(&self) -> palisade_osv::Status {
        self.database().status()
    }

    pub fn findings(&self, reference: &str, inventory: &Inventory) -> Vec<Finding> {
        let matched = palisade_vuln::match_inventory(inventory, &*self.database(), &self.options);
        palisade_vuln::findings(&matched, object_of(reference, inventory), reference)
    }

    /// The database, opened anew when its index was rewritten; the one in use stays when the
    /// new one cannot be opened.
    fn database(&self) -> Arc<palisade_osv::Database> {
        let current = self.database.read().unwrap_or_else(|poison| poison.into_inner()).clone();
        if !current.rewritten() {
            return current;
        }
        match self.location.open() {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.database.write().unwrap_or_else(|poison| poison.into_inner()) = fresh.clone();
                fresh
            }
            Err(_) => current,
        }
    }
}

/// The object findings of a source are reported on: the image, the directory or the file.
pub fn object_of(source: &str, inventory: &Inventory) -> Arc<ObjectRef> {
    let (kind, name) = match &inventory.source {
        SourceDescription::Image(image) => ("Image", image.reference.clone()),
        SourceDescription::Directory { path } => ("Directory", path.clone()),
        SourceDescription::File { path } => ("File", path.clone()),
    };
    Arc::new(ObjectRef { api_version: String::new(), kind: kind.into(), namespace: None, name: if name.is_empty() { source.to_owned() } else { name } })
}

/// The files that prove packages of a directory are named inside it (`/go.mod`): reports name
/// them as the user can open them (`shop/go.mod`). Paths inside images stay as they are.
fn root_paths(findings: &mut [Finding], inventory: &Inventory) {
    let SourceDescription::Directory { path: root } = &inventory.source else { return };
    let root = root.trim_end_matches('/');
    for finding in findings {
        if finding.location.file.starts_with('/') {
            finding.location.file = format!("{root}{}", finding.location.file).into();
        }
    }
}

/// One line per source on standard error: what was matched and what could not be.
fn summarize(source: &str, inventory: &Inventory, matched: &MatchReport) {
    let affected: BTreeSet<usize> = matched.matches.iter().map(|found| found.package_index).collect();
    let mut line = format!(
        "{source}: {} packages, {} vulnerable, {} vulnerabilities",
        inventory.packages.len(),
        affected.len(),
        matched.matches.len()
    );
    if !matched.suppressed.is_empty() {
        line.push_str(&format!(", {} not affected by VEX", matched.suppressed.len()));
    }
    if matched.filtered > 0 {
        line.push_str(&format!(", {} without a fix left out", matched.filtered));
    }
    let unmatched: usize = matched.not_matched.values().sum();
    if unmatched > 0 {
        let reasons: Vec<String> = matched.not_matched.iter().map(|(reason, count)| format!("{count} {reason}")).collect();
        line.push_str(&format!("; not matched: {}", reasons.join(", ")));
    }
    eprintln!("{line}");
}

/// The source's CycloneDX SBOM with the vulnerabilities that remain after exceptions.
fn cyclonedx_with_vulnerabilities(checked: &Checked, report: &palisade_report::ScanReport) -> anyhow::Result<serde_json::Value> {
    let mut written = Vec::new();
    palisade_sbom::write(&checked.inventory, palisade_sbom::Format::CycloneDxJson, &super::sbom::sbom_options()?, &mut written)?;
    let mut bom: serde_json::Value = serde_json::from_slice(&written)?;
    let kept: BTreeSet<(&str, &str)> = report
        .findings()
        .iter()
        .filter_map(|finding| finding.vulnerability.as_deref())
        .map(|vulnerability| (vulnerability.id.as_str(), vulnerability.package.purl.as_str()))
        .collect();
    let mut remaining = checked.matched.clone();
    remaining.matches.retain(|found| kept.contains(&(found.id.as_str(), found.package.purl.as_str())));
    palisade_vuln::cyclonedx::add_vulnerabilities(&mut bom, &checked.inventory, &remaining).map_err(|problem| anyhow::anyhow!(problem))?;
    Ok(bom)
}

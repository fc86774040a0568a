//! `palisade db`: the vulnerability database (OSV advisories) that `vuln` and `scan --vulns`
//! match against: download OSV's exports, import records for air-gapped sites, show what is
//! there. The work lives in `palisade-osv`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use palisade_osv::{Database, Progress, Status, UpdateOptions, UpdateOutcome};

#[derive(clap::Args, Debug)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum DbCommand {
    /// Download OSV's per-ecosystem exports (`<Ecosystem>/all.zip`) and index them; only
    /// exports that changed since the last update are downloaded again.
    Update(UpdateArgs),
    /// Index OSV records from directories, zips or git checkouts (JSON or YAML), for sites
    /// without access to OSV.
    Import(ImportArgs),
    /// Show the database's sources, ecosystems, record counts and age.
    Status(StatusArgs),
}

/// Where the database is, shared by every command that reads or writes it.
#[derive(clap::Args, Debug, Clone)]
pub struct DbLocation {
    /// The database: an index directory made by `palisade db update` or `db import` (default:
    /// `db` in Palisade's cache directory), or a directory or zip of OSV records read on the fly.
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

impl DbLocation {
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.db {
            Some(path) => Ok(path.clone()),
            None => palisade_image::cache_root()
                .map(|root| root.join("db"))
                .context("no cache directory: set PALISADE_CACHE_DIR or give --db"),
        }
    }

    /// Opens the database, with a bar while records are read; says how to make one when
    /// there is none.
    pub fn open(&self) -> anyhow::Result<Database> {
        let path = self.path()?;
        if self.db.is_none() && !path.exists() {
            anyhow::bail!(
                "no vulnerability database at {}: run `palisade db update` (or `palisade db import PATH` without network), or give --db",
                path.display()
            );
        }
        let bar = super::sbom::bar("records");
        let database = Database::open_with_progress(&path, &mut |progress| show(&bar, progress))
            .with_context(|| format!("cannot open the vulnerability database {}", path.display()))?;
        bar.finish_and_clear();
        Ok(database)
    }
}

#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub location: DbLocation,

    /// Download only these ecosystems, as OSV names them (`Debian`, `PyPI`, `crates.io`);
    /// repeatable. Default: every ecosystem OSV lists.
    #[arg(long = "ecosystem", value_name = "NAME")]
    pub ecosystems: Vec<String>,

    /// Where the exports are: OSV's bucket, or a mirror of it.
    #[arg(long, default_value = palisade_osv::DEFAULT_BASE_URL, value_name = "URL")]
    pub base_url: String,

    /// Trust the CA certificates in this PEM file besides the system's (a mirror); repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca: Vec<PathBuf>,

    /// Seconds to wait to connect, and for the next bytes of a download.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Directories, zips or git checkouts of OSV records (`*.json`, `*.yaml`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub location: DbLocation,
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub location: DbLocation,

    /// text, or json (the `Status` document, docs/vulnerabilities.md).
    #[arg(long, short = 'f', default_value = "text", value_parser = ["text", "json"])]
    pub format: String,

    /// Call the data stale when it is older than this many days.
    #[arg(long, default_value_t = 7, value_name = "DAYS")]
    pub max_age: u64,
}

pub fn run(args: DbArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DbCommand::Update(args) => update(args),
        DbCommand::Import(args) => import(args),
        DbCommand::Status(args) => status(args),
    }
}

fn update(args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let directory = args.location.path()?;
    let ca_certificates = args
        .ca
        .iter()
        .map(|path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<_>>()?;
    let options = UpdateOptions {
        base_url: args.base_url,
        ecosystems: (!args.ecosystems.is_empty()).then_some(args.ecosystems),
        timeout: Duration::from_secs(args.timeout),
        ca_certificates,
    };
    let bar = super::sbom::bar("bytes");
    let report = palisade_osv::update(&directory, &options, &mut |progress| show(&bar, progress))?;
    bar.finish_and_clear();
    let mut failed = 0;
    for ecosystem in &report.ecosystems {
        match &ecosystem.outcome {
            UpdateOutcome::Updated { records, issues, downloaded_bytes } => eprintln!(
                "{}: updated, {records} records ({issues} malformed, skipped), {} downloaded",
                ecosystem.ecosystem,
                megabytes(*downloaded_bytes)
            ),
            UpdateOutcome::NotModified => eprintln!("{}: unchanged", ecosystem.ecosystem),
            UpdateOutcome::Failed { reason } => {
                failed += 1;
                eprintln!("{}: not updated: {reason}", ecosystem.ecosystem);
            }
        }
    }
    eprintln!(
        "database {}: {} on disk, {:.1} s",
        directory.display(),
        megabytes(report.index_bytes),
        report.elapsed.as_secs_f64()
    );
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let directory = args.location.path()?;
    let bar = super::sbom::bar("records");
    let report = palisade_osv::import(&args.paths, &directory, &mut |progress| show(&bar, progress))?;
    bar.finish_and_clear();
    for source in &report.sources {
        eprintln!("{}: {} records in {} ecosystems", source.location, source.records, source.ecosystems.len());
    }
    for issue in report.issues.iter().take(20) {
        eprintln!("warning: {issue}");
    }
    if report.issues.len() > 20 {
        eprintln!("warning: {} more malformed records skipped", report.issues.len() - 20);
    }
    eprintln!(
        "database {}: {} on disk, {:.1} s",
        directory.display(),
        megabytes(report.index_bytes),
        report.elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let database = args.location.open()?;
    let status = database.status();
    let max_age = Duration::from_secs(args.max_age * 86_400);
    super::output::write_to(None, |out, _| {
        if args.format == "json" {
            serde_json::to_writer_pretty(&mut *out, &status).map_err(std::io::Error::other)?;
            writeln!(out)
        } else {
            write_status(&status, max_age, out)
        }
    })?;
    warn_if_stale(&status, max_age);
    Ok(ExitCode::SUCCESS)
}

fn write_status(status: &Status, max_age: Duration, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "database: {}", status.location.display())?;
    match status.format {
        Some(format) => writeln!(out, "index format: {format}")?,
        None => writeln!(out, "records read into memory (not an index)")?,
    }
    writeln!(out, "records: {} ({} malformed, skipped)", status.records, status.issues)?;
    match (&status.as_of, status.age) {
        (Some(as_of), Some(age)) => writeln!(
            out,
            "current as of: {as_of} ({}{})",
            human_age(age),
            if status.stale(max_age) { ", stale" } else { "" }
        )?,
        _ => writeln!(out, "current as of: unknown")?,
    }
    writeln!(out, "\nsources:")?;
    for source in &status.sources {
        let kind = source.kind.map(|kind| format!("{kind:?}").to_lowercase()).unwrap_or_default();
        writeln!(
            out,
            "  {:<24} {:<8} {:>8} records  {:>9}  {}",
            source.name,
            kind,
            source.records,
            megabytes(source.index_bytes),
            source.as_of().unwrap_or("undated")
        )?;
    }
    writeln!(out, "\necosystems:")?;
    for (ecosystem, records) in &status.ecosystems {
        writeln!(out, "  {ecosystem:<40} {records:>8}")?;
    }
    Ok(())
}

/// How old the data may be before scans warn (OSV's exports change every day).
pub const MAX_AGE: Duration = Duration::from_secs(7 * 86_400);

/// A warning on standard error when the data is older than `max_age` (or undated).
pub fn warn_if_stale(status: &Status, max_age: Duration) {
    if let Some(message) = stale(status, max_age) {
        eprintln!("warning: {message}");
    }
}

/// What to say when the data is older than `max_age` (or undated).
pub fn stale(status: &Status, max_age: Duration) -> Option<String> {
    status.stale(max_age).then(|| {
        let age = status.age.map_or_else(|| "of unknown age".to_owned(), |age| format!("{} old", human_age(age)));
        format!(
            "the vulnerability database {} is {age}: run `palisade db update` (advisories published since are not matched)",
            status.location.display()
        )
    })
}

fn human_age(age: Duration) -> String {
    let hours = age.as_secs() / 3600;
    if hours < 48 { format!("{hours} h") } else { format!("{} days", hours / 24) }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn show(bar: &indicatif::ProgressBar, progress: Progress<'_>) {
    match progress {
        Progress::Records { source, done, total } => {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(short(source));
        }
        Progress::Download { ecosystem, received, total } => {
            bar.set_length(total.unwrap_or(received));
            bar.set_position(received);
            bar.set_message(ecosystem.to_owned());
        }
    }
}

fn short(source: &str) -> String {
    Path::new(source).file_name().map_or_else(|| source.to_owned(), |name| name.to_string_lossy().into_owned())
}

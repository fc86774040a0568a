//! `palisade secrets SOURCE...`: leaked credentials in files and directories, git history,
//! images and root filesystems, with gitleaks' rules (see docs/secrets.md). Detection lives in
//! `palisade-secrets`, the sources in `palisade-secrets-scan`; this module wires them to the
//! exceptions and reports every door shares.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;


use anyhow::Context;
use palisade_catalog::source::ReadOptions;
use palisade_image::{LayerCache, SourceRef};
use palisade_policy::exceptions::Baseline;
use palisade_report::{Format as ReportFormat, Scope, WriteOptions};
use palisade_secrets::archive::ArchiveLimits;
use palisade_secrets::config::Config;
use palisade_secrets::decode::DecodeLimits;
use palisade_secrets::ignore::Ignore;
use palisade_secrets_scan::{Engine, GitOptions, Options, Progress, Scan};

use super::sbom::ImageArgs;
use super::scan::FailOn;

#[derive(clap::Args, Debug)]
pub struct SecretsArgs {
    /// Where to look: files and directories (default `.`), root filesystems (`dir:ROOTFS`),
    /// images (`oci:DIR[:TAG]`, `docker-archive:FILE`, `registry:REF` or a registry reference
    /// such as `nginx:1.27`); with `--git`, repositories.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Scan the git history of each SOURCE (a repository or a directory inside one): what
    /// every commit on every branch added, as `gitleaks git` does.
    #[arg(long)]
    pub git: bool,

    /// With --git, only the history of HEAD instead of every branch and tag.
    #[arg(long, requires = "git")]
    pub head_only: bool,

    /// A gitleaks TOML configuration. Without `[extend]` it replaces the built-in rules (gitleaks'
    /// default configuration); with `[extend] useDefault = true` it adds to them.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Print the rules (id and description) of the configuration and exit.
    #[arg(long)]
    pub list_rules: bool,

    /// Output format: text, json, sarif, junit, or gitleaks-json (gitleaks' own report, redacted).
    #[arg(long, short = 'f', default_value = "text", value_parser = parse_format)]
    pub format: SecretsFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with status 1 when a finding at or above this severity remains (or `never`).
    /// Every leak is `high`.
    #[arg(long, default_value = "high", value_name = "SEVERITY", value_parser = super::scan::parse_fail_on)]
    pub fail_on: FailOn,

    /// Suppress the findings of an earlier report: a JSON report of Palisade (`-f json`), a
    /// gitleaks JSON report, or a baseline written by `scan --write-baseline`.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Read fingerprints to ignore from FILE, besides the `.gitleaksignore` at the root of each
    /// scanned directory or repository and in the current directory; repeatable.
    #[arg(long, value_name = "FILE")]
    pub gitleaks_ignore_path: Vec<PathBuf>,

    /// Read exceptions from FILE instead of the `.palisade.yaml` found upward from here.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Decode base64, hex and percent-encoded text up to this many times (0: never).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub max_decode_depth: usize,

    /// Open zip, jar, tar and gzip archives, and archives inside them, to this depth (0: never).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_archive_depth: usize,

    /// Skip files larger than this many megabytes, and say so.
    #[arg(long, default_value_t = 100, value_name = "MB")]
    pub max_target_megabytes: u64,

    /// Follow symbolic links to files and directories while walking directories.
    #[arg(long)]
    pub follow_symlinks: bool,

    #[command(flatten)]
    pub image: ImageArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretsFormat {
    Report(ReportFormat),
    GitleaksJson,
}

fn parse_format(text: &str) -> Result<SecretsFormat, String> {
    if text.eq_ignore_ascii_case("gitleaks-json") {
        return Ok(SecretsFormat::GitleaksJson);
    }
    match text.parse::<ReportFormat>()? {
        format @ (ReportFormat::Text | ReportFormat::Json | ReportFormat::Sarif | ReportFormat::Junit) => Ok(SecretsFormat::Report(format)),
        _ => Err(format!("`{text}` is not a secrets report format (text, json, sarif, junit, gitleaks-json)")),
    }
}

pub fn run(args: SecretsArgs) -> anyhow::Result<ExitCode> {
    let sources = if args.sources.is_empty() { vec![".".to_owned()] } else { args.sources.clone() };
    let (config, identity) = match &args.rules {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let config = Config::parse(&text, &path.display().to_string()).map_err(|error| anyhow::anyhow!("{error}"))?;
            (config, text)
        }
        None => (Config::default_rules(), "built-in gitleaks rules".to_owned()),
    };
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    if args.list_rules {
        for rule in &config.rules {
            println!("{:<44} {}", rule.id, rule.description);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let decode = DecodeLimits { max_depth: args.max_decode_depth, ..DecodeLimits::default() };
    let engine = Engine::new(config, decode, identity).with_ignore(ignore_files(&args, &sources)?);
    let options = Options {
        max_file_bytes: args.max_target_megabytes.saturating_mul(1 << 20),
        archive: ArchiveLimits { max_depth: args.max_archive_depth, ..ArchiveLimits::default() },
        follow_symlinks: args.follow_symlinks,
    };

    let mut scan = Scan::default();
    let read_options = args.image.read_options()?;
    for source in &sources {
        scan.merge(scan_source(&engine, &options, &args, &read_options, source));
    }
    for problem in &scan.problems {
        eprintln!("warning: {}: {}", problem.file, problem.message);
    }
    let stats = &scan.stats;
    if stats.ignored > 0 {
        eprintln!("{} finding(s) ignored by .gitleaksignore", stats.ignored);
    }

    let config = super::scan::config_or_discovered(args.config.as_deref(), Path::new("."))?;
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose().map_err(|error| anyhow::anyhow!("{error}"))?;
    let scope = Scope { files_read: usize::try_from(stats.scanned).unwrap_or(usize::MAX), objects_scanned: sources.len(), rules_evaluated: engine.config().rules.len(), ..Scope::default() };
    let evaluated: BTreeSet<&str> = BTreeSet::from(["secret/*"]);
    let report = palisade_policy::report_of(scan.findings, scan.unread, scope, args.fail_on.0, &config.exceptions, baseline.as_ref(), &evaluated);

    match args.format {
        SecretsFormat::Report(format) => super::output::write_to(args.output.as_deref(), |out, color| {
            palisade_report::write(&report, format, &[], out, &WriteOptions { color, ..WriteOptions::default() })
        })?,
        SecretsFormat::GitleaksJson => {
            for error in report.errors() {
                eprintln!("error: {}: {}", error.file, error.message);
            }
            let text = palisade_secrets::gitleaks_json::render(report.findings());
            super::output::write_to(args.output.as_deref(), |out, _| out.write_all(text.as_bytes()))?;
        }
    }
    Ok(super::output::exit_status(&report))
}

/// One source, by what it names: a repository (`--git`), a file or directory, a root
/// filesystem, or an image.
fn scan_source(engine: &Engine, options: &Options, args: &SecretsArgs, read_options: &ReadOptions, source: &str) -> Scan {
    if args.git {
        let bar = super::sbom::bar("commits");
        let git_options = GitOptions { all_refs: !args.head_only, ..GitOptions::default() };
        let scan = palisade_secrets_scan::scan_git(engine, Path::new(source), &git_options, &|commits| bar.inc(commits));
        bar.finish_and_clear();
        return scan;
    }
    let path = Path::new(source);
    if path.exists() {
        return scan_files(engine, options, path);
    }
    let unread = |message: String| Scan { unread: vec![palisade_core::InputError { file: source.into(), line: 0, column: 0, message }], ..Scan::default() };
    let image = match SourceRef::parse(source) {
        Err(error) => return unread(error.to_string()),
        Ok(SourceRef::Project(path) | SourceRef::RootFs(path)) => return scan_files(engine, options, &path),
        Ok(image) => palisade_catalog::source::open_image(&image, source, read_options),
    };
    let image = match image {
        Ok(image) => image,
        Err(error) => return unread(error.to_string()),
    };
    let cache = if read_options.cache { LayerCache::from_environment() } else { None };
    let bar = super::sbom::layer_bar();
    let scan = palisade_secrets_scan::scan_image(engine, image.as_ref(), source, options, cache.as_ref(), &|progress| super::sbom::show(&bar, &progress));
    bar.finish_and_clear();
    scan
}

fn scan_files(engine: &Engine, options: &Options, path: &Path) -> Scan {
    let bar = super::sbom::bytes_bar();
    let scan = palisade_secrets_scan::scan_paths(engine, &[path.to_path_buf()], options, &|progress| match progress {
        Progress::Total(bytes) => bar.set_length(bytes),
        Progress::Done(bytes) => bar.inc(bytes),
    });
    bar.finish_and_clear();
    scan
}

/// `.gitleaksignore` in the current directory and at the root of each scanned directory or
/// repository, and the files named with `--gitleaks-ignore-path`.
fn ignore_files(args: &SecretsArgs, sources: &[String]) -> anyhow::Result<Ignore> {
    let mut ignore = Ignore::default();
    let mut files: Vec<PathBuf> = args.gitleaks_ignore_path.clone();
    let mut roots = vec![PathBuf::from(".")];
    roots.extend(sources.iter().map(PathBuf::from).filter(|path| path.is_dir()));
    for root in roots {
        if let Some(file) = palisade_secrets_scan::ignore_file_in(&root) {
            if !files.iter().any(|known| same_file(known, &file)) {
                files.push(file);
            }
        }
    }
    for file in files {
        let warnings = ignore.add_file(&file).with_context(|| format!("cannot read {}", file.display()))?;
        for warning in warnings {
            eprintln!("warning: {}:{}: {}", warning.file, warning.line, warning.message);
        }
    }
    Ok(ignore)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

//! `palisade scan`: manifests (files, directories, stdin) through every rule, into a report.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use palisade_checks::CatalogOptions;
use palisade_checks::pss::{PssLevel, PssSetting, PssVersion};
use palisade_core::{RuleMeta, Severity};
use palisade_report::{Format, ScanReport, Scope, SourceLines, WriteOptions};
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
}

/// `--fail-on`: a severity, or `never`.
#[derive(Clone, Copy, Debug)]
pub struct FailOn(pub Option<Severity>);

fn parse_fail_on(text: &str) -> Result<FailOn, String> {
    if text.eq_ignore_ascii_case("never") {
        return Ok(FailOn(None));
    }
    text.parse::<Severity>().map(|severity| FailOn(Some(severity))).map_err(|e| format!("{e}, or never"))
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let options = CatalogOptions {
        pss: PssSetting { level: args.pss_level, version: args.pss_version },
        ..CatalogOptions::default()
    };
    let selected = |id: &str| args.select.is_empty() || args.select.iter().any(|p| id.starts_with(p.as_str()));
    let rules: Vec<_> =
        palisade_checks::builtin_rules(&options).into_iter().filter(|rule| selected(rule.meta().id)).collect();
    let inventory_rules: Vec<_> = palisade_checks::inventory_rules()
        .into_iter()
        .filter(|rule| rule.metas().iter().any(|meta| selected(meta.id)))
        .collect();
    let mut metas: Vec<&'static RuleMeta> = rules.iter().map(|rule| rule.meta()).collect();
    metas.extend(inventory_rules.iter().flat_map(|rule| rule.metas()));
    let engine = Engine::new(rules, inventory_rules);
    let mut outcome = engine.scan_paths(&args.paths);
    // An inventory analysis reports every rule it knows; keep only the selected ones.
    outcome.findings.retain(|finding| selected(&finding.rule));

    let scope = Scope { files_read: outcome.files, objects_scanned: outcome.objects, rules_evaluated: metas.len() };
    let report = ScanReport::new(outcome.findings, outcome.errors, scope, args.fail_on.0);
    let source = FileLines::default();
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let write_options = WriteOptions {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        source: Some(&source),
    };
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            palisade_report::write(&report, args.format, &metas, &mut out, &write_options)?;
            out.flush()?;
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            palisade_report::write(&report, args.format, &metas, &mut out, &write_options)?;
            out.flush()?;
        }
    }
    let summary = report.summary();
    Ok(if summary.input_errors > 0 {
        ExitCode::from(2)
    } else if summary.threshold_exceeded {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Source lines for the text report's snippets, read again only for files that have findings.
#[derive(Default)]
struct FileLines {
    files: Mutex<HashMap<String, Option<Vec<String>>>>,
}

impl SourceLines for FileLines {
    fn line(&self, file: &str, line: u32) -> Option<String> {
        if file == "-" || line == 0 {
            return None;
        }
        let mut files = self.files.lock().ok()?;
        let lines = files.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read_to_string(file).ok().map(|text| text.lines().map(str::to_owned).collect())
        });
        lines.as_ref()?.get(line as usize - 1).cloned()
    }
}

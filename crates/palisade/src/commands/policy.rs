//! `palisade policy test PATH...`: the policy test suites teams already write, run by Palisade's
//! engines: gator suites (`kind: Suite`, `test.gatekeeper.sh/v1alpha1`) and Kyverno's
//! `kyverno-test.yaml` files.

use std::path::PathBuf;
use std::process::ExitCode;

use palisade_core::suite::{Outcome, SuiteReport};
use palisade_gatekeeper::suite as gator;
use palisade_kyverno::suite as kyverno;

#[derive(clap::Args, Debug)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// Run the gator test suites and kyverno-test.yaml files in files or directories (searched
    /// recursively) and report pass/fail per case; exit 1 when a case fails, 2 when a suite cannot
    /// be read or none is found.
    Test(TestArgs),
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Suite files, or directories holding them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Print every case, not only failures.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PolicyCommand::Test(args) => test(args),
    }
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    type Runner = fn(&std::path::Path) -> Result<SuiteReport, String>;
    let mut suites: Vec<(PathBuf, Runner)> = Vec::new();
    for path in &args.paths {
        suites.extend(gator::find(path).into_iter().map(|file| (file, gator::run as Runner)));
        suites.extend(kyverno::find(path).into_iter().map(|file| (file, kyverno::run as Runner)));
    }
    if suites.is_empty() {
        anyhow::bail!(
            "no gator suite (kind: Suite, apiVersion: {}) and no {} under {}",
            gator::API_VERSION,
            kyverno::FILE_NAME,
            args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let (mut passed, mut failed, mut skipped, mut unreadable) = (0, 0, 0, 0);
    for (path, run) in &suites {
        let report = match run(path) {
            Ok(report) => report,
            Err(error) => {
                eprintln!("error: {error}");
                unreadable += 1;
                continue;
            }
        };
        let (suite_passed, suite_failed, suite_skipped) = report.counts();
        passed += suite_passed;
        failed += suite_failed;
        skipped += suite_skipped;
        let verdict = if suite_failed > 0 { "FAIL" } else { "ok" };
        println!("{verdict:4} {} ({}): {suite_passed} passed, {suite_failed} failed, {suite_skipped} skipped or not evaluated", path.display(), report.name);
        for test in &report.tests {
            if let Some(error) = &test.error {
                println!("  FAIL {}: {error}", test.name);
            }
            for case in &test.cases {
                match &case.outcome {
                    Outcome::Fail(reason) => println!("  FAIL {} / {}: {reason}", test.name, case.name),
                    Outcome::NotEvaluated(reason) if args.verbose => println!("  n/e  {} / {}: {reason}", test.name, case.name),
                    Outcome::Pass if args.verbose => println!("  ok   {} / {}", test.name, case.name),
                    Outcome::Skip if args.verbose => println!("  skip {} / {}", test.name, case.name),
                    _ => {}
                }
            }
        }
    }
    println!("{} suites: {passed} cases passed, {failed} failed, {skipped} skipped or not evaluated", suites.len());
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

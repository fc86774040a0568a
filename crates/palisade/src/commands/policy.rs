//! `palisade policy test PATH...`: the policy test suites teams already write, run by Palisade's
//! engines. Today: gator suites (`kind: Suite`, `test.gatekeeper.sh/v1alpha1`).

use std::path::PathBuf;
use std::process::ExitCode;

use palisade_gatekeeper::suite::{self, Outcome};

#[derive(clap::Args, Debug)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// Run the gator test suites in files or directories (searched recursively) and report
    /// pass/fail per case; exit 1 when a case fails, 2 when a suite cannot be read or none is found.
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
    let suites: Vec<PathBuf> = args.paths.iter().flat_map(|path| suite::find(path)).collect();
    if suites.is_empty() {
        anyhow::bail!("no gator suite (kind: Suite, apiVersion: {}) under {}", suite::API_VERSION, args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    let (mut passed, mut failed, mut skipped, mut unreadable) = (0, 0, 0, 0);
    for path in &suites {
        let report = match suite::run(path) {
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
        println!("{verdict:4} {} ({}): {suite_passed} passed, {suite_failed} failed, {suite_skipped} skipped", path.display(), report.name);
        for test in &report.tests {
            if let Some(error) = &test.error {
                println!("  FAIL {}: {error}", test.name);
            }
            for case in &test.cases {
                match &case.outcome {
                    Outcome::Fail(reason) => println!("  FAIL {} / {}: {reason}", test.name, case.name),
                    Outcome::Pass if args.verbose => println!("  ok   {} / {}", test.name, case.name),
                    Outcome::Skip if args.verbose => println!("  skip {} / {}", test.name, case.name),
                    _ => {}
                }
            }
        }
    }
    println!("{} suites: {passed} cases passed, {failed} failed, {skipped} skipped", suites.len());
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

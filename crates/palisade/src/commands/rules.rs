//! `palisade rules`: the catalog of built-in rules.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct RulesArgs {}

pub fn run(_args: RulesArgs) -> anyhow::Result<ExitCode> {
    for rule in palisade_checks::builtin_rules() {
        let meta = rule.meta();
        println!("{:<40} {:<9} {}", meta.id, meta.severity, meta.title);
    }
    Ok(ExitCode::SUCCESS)
}

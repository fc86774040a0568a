//! `palisade rules`: the catalog of built-in rules, optionally narrowed to one framework.

use std::process::ExitCode;

use palisade_core::{Framework, RuleMeta};

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    /// Show only rules mapped to this framework (cis, nsa, pss, mitre), with their controls.
    #[arg(long)]
    pub framework: Option<Framework>,

    /// Print the catalog as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let metas: Vec<&'static RuleMeta> = palisade_policy::catalog_metas()
        .into_iter()
        .filter(|meta| args.framework.is_none_or(|framework| meta.maps_to(framework)))
        .collect();
    if args.json {
        let rules: Vec<_> = metas
            .iter()
            .map(|meta| {
                serde_json::json!({
                    "id": meta.id,
                    "title": meta.title,
                    "severity": meta.severity,
                    "family": meta.family(),
                    "controls": meta.controls,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rules)?);
        return Ok(ExitCode::SUCCESS);
    }
    for meta in &metas {
        let controls: Vec<_> = meta
            .controls
            .iter()
            .filter(|control| args.framework.is_none_or(|framework| control.framework == framework))
            .map(|control| format!("{}:{}", control.framework.as_str(), control.id))
            .collect();
        println!("{:<44} {:<9} {:<52} {}", meta.id, meta.severity.as_str(), meta.title, controls.join(" "));
    }
    if let Some(framework) = args.framework {
        let controls: std::collections::BTreeSet<_> = metas
            .iter()
            .flat_map(|meta| meta.controls.iter())
            .filter(|control| control.framework == framework)
            .map(|control| &control.id)
            .collect();
        println!("\n{} rules cover {} controls of the {}", metas.len(), controls.len(), framework.title());
    }
    Ok(ExitCode::SUCCESS)
}

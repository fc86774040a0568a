//! `palisade explain RULE`: a rule's documentation, the same page as `docs/rules/`.

use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The rule id, e.g. `pss/hostNamespaces`.
    pub rule: String,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let metas = palisade_policy::catalog_metas();
    match metas.iter().find(|meta| meta.id.eq_ignore_ascii_case(&args.rule)) {
        Some(meta) => {
            print!("{}", palisade_report::render_rule_doc(meta));
            Ok(ExitCode::SUCCESS)
        }
        None if args.rule.starts_with(palisade_policy::VULNERABILITY_FAMILY) => {
            let id = &args.rule[palisade_policy::VULNERABILITY_FAMILY.len()..];
            print!(
                "# {rule}\n\nA known vulnerability: the OSV advisory `{id}` (<https://osv.dev/vulnerability/{id}>) applies to an installed\n\
                 package. `palisade vuln` and `palisade scan --images --vulns` report one rule per advisory, named after the\n\
                 advisory the vulnerability is best known by; the finding names the package, its version, the file that proves it\n\
                 and the versions that fix it. See docs/vulnerabilities.md.\n",
                rule = args.rule
            );
            Ok(ExitCode::SUCCESS)
        }
        None if args.rule.starts_with(palisade_secrets::finding::RULE_PREFIX) => {
            let id = &args.rule[palisade_secrets::finding::RULE_PREFIX.len()..];
            let config = palisade_secrets::config::Config::default_rules();
            let rule = config.rule(id).ok_or_else(|| anyhow::anyhow!("no built-in gitleaks rule `{id}` (`palisade secrets --list-rules` lists them)"))?;
            let meta = palisade_secrets::finding::rule_meta(&rule.id, &rule.description);
            print!("{}", palisade_report::render_rule_doc(meta));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let suggestions: Vec<_> = metas
                .iter()
                .filter(|meta| meta.id.to_lowercase().contains(&args.rule.to_lowercase()))
                .map(|meta| meta.id)
                .collect();
            let hint = if suggestions.is_empty() {
                "`palisade rules` lists every rule".to_owned()
            } else {
                format!("did you mean {}?", suggestions.join(", "))
            };
            anyhow::bail!("no rule `{}`; {hint}", args.rule)
        }
    }
}

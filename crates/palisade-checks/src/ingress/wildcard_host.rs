//! `ingress/wildcard-host`: Ingress rules should name their hosts exactly.

use palisade_core::{FindingSink, Object, Rule, RuleMeta, Severity};

use super::ingress_rules;
use crate::workload::text;

pub static META: RuleMeta = RuleMeta {
    id: "ingress/wildcard-host",
    title: "Ingress rule with a wildcard or missing host",
    severity: Severity::Low,
    doc: r#"## What it does
Flags Ingress rules whose `host` is a wildcard (`*.example.com`) or missing (which matches
every host, including the bare IP address of the load balancer).

## Why is this bad?
A catch-all rule routes requests for names you never meant to serve to the backend: dangling
DNS records, host-header attacks and scanners reach it, and on shared ingress controllers it
can capture traffic meant for another team's Ingress.

## How to fix
List the exact host names the application serves.

## Example
```yaml
rules:
- host: "*.example.com"   # flagged
- http: {...}             # flagged: no host
```
"#,
    remediation: "Set an exact host name on every Ingress rule.",
    controls: &[],
};

pub struct WildcardHost;

impl Rule for WildcardHost {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(rules) = ingress_rules(object) else { return };
        for (index, rule) in rules.iter().enumerate() {
            match text(rule, "host").filter(|host| !host.is_empty()) {
                None => sink.report(
                    format!("/spec/rules/{index}/host"),
                    "Ingress rule has no host, so it matches every host name".into(),
                ),
                Some(host) if host.starts_with('*') => sink.report(
                    format!("/spec/rules/{index}/host"),
                    format!("Ingress rule host {host:?} is a wildcard"),
                ),
                Some(_) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingress::ingress;
    use crate::workload::testing::{assert_documented, findings};

    #[test]
    fn wildcards_and_missing_hosts_are_flagged() {
        let spec = r#"{"rules": [{"host": "*.example.com"}, {"http": {}}, {"host": "shop.example.com"}]}"#;
        assert_eq!(
            findings(&WildcardHost, &ingress(spec)),
            [
                ("/spec/rules/0/host".into(), r#"Ingress rule host "*.example.com" is a wildcard"#.into()),
                ("/spec/rules/1/host".into(), "Ingress rule has no host, so it matches every host name".into()),
            ]
        );
        assert_documented(&META);
    }
}

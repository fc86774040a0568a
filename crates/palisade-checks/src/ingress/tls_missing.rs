//! `ingress/tls-missing`: every host an Ingress serves must be covered by TLS.

use std::collections::HashSet;

use palisade_core::{Control, Framework, FindingSink, Node, Object, Rule, RuleMeta, Severity};

use super::ingress_rules;
use crate::workload::text;

pub static META: RuleMeta = RuleMeta {
    id: "ingress/tls-missing",
    title: "Ingress without TLS",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags Ingresses without a `spec.tls` section, and, when there is one, each rule host that no
`tls[].hosts` entry covers (a wildcard TLS host such as `*.example.com` covers one label).

## Why is this bad?
Traffic to a host without TLS travels in clear text: credentials, session cookies and data can
be read and modified by anyone on the path.

## How to fix
Add a `tls` entry listing every host with a certificate Secret (cert-manager can issue it).

## Example
```yaml
spec:
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls
  rules:
  - host: shop.example.com
```
"#,
    remediation: "Add a spec.tls entry with a certificate for every host of the Ingress.",
    controls: &[
        Control::new(Framework::Nsa, "network-separation/tls"),
        Control::new(Framework::Mitre, "T1040"),
    ],
};

pub struct TlsMissing;

/// The hosts the tls entries name, exact and wildcard (`*.example.com` covers
/// `a.example.com`), as sets: each rule's host is looked up, not compared with every entry.
struct TlsHosts<'a> {
    exact: HashSet<&'a str>,
    wildcard_suffixes: HashSet<&'a str>,
}

impl<'a> TlsHosts<'a> {
    fn of(tls: &'a [Node]) -> Self {
        let mut hosts = Self { exact: HashSet::new(), wildcard_suffixes: HashSet::new() };
        for pattern in tls.iter().flat_map(|entry| entry.get("hosts").map_or(&[][..], Node::as_seq)).filter_map(Node::as_str) {
            hosts.exact.insert(pattern);
            if let Some(suffix) = pattern.strip_prefix("*.") {
                hosts.wildcard_suffixes.insert(suffix);
            }
        }
        hosts
    }

    fn cover(&self, host: &str) -> bool {
        self.exact.contains(host) || host.split_once('.').is_some_and(|(_, rest)| self.wildcard_suffixes.contains(rest))
    }
}

impl Rule for TlsMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(rules) = ingress_rules(object) else { return };
        let tls = object.root.pointer("/spec/tls").map_or(&[][..], Node::as_seq);
        if tls.is_empty() {
            sink.report("/spec/tls".into(), "Ingress serves its hosts without TLS".into());
            return;
        }
        let tls_hosts = TlsHosts::of(tls);
        for (index, rule) in rules.iter().enumerate() {
            let Some(host) = text(rule, "host") else { continue };
            if !tls_hosts.cover(host) {
                sink.report(
                    format!("/spec/rules/{index}/host"),
                    format!("Ingress host {host:?} is not covered by any tls entry"),
                );
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
    fn ingresses_without_tls_are_flagged_once() {
        let found = findings(&TlsMissing, &ingress(r#"{"rules": [{"host": "a.example.com"}, {"host": "b.example.com"}]}"#));
        assert_eq!(found, [("/spec/tls".into(), "Ingress serves its hosts without TLS".into())]);
    }

    #[test]
    fn hosts_outside_the_tls_entries_are_flagged() {
        let spec = r#"{"tls": [{"hosts": ["*.example.com", "shop.io"], "secretName": "t"}],
            "rules": [{"host": "a.example.com"}, {"host": "a.b.example.com"}, {"host": "shop.io"}, {"host": "other.io"}]}"#;
        assert_eq!(
            findings(&TlsMissing, &ingress(spec)),
            [
                ("/spec/rules/1/host".into(), r#"Ingress host "a.b.example.com" is not covered by any tls entry"#.into()),
                ("/spec/rules/3/host".into(), r#"Ingress host "other.io" is not covered by any tls entry"#.into()),
            ]
        );
        assert_documented(&META);
    }
}

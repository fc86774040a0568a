//! `service/external-ips`: Services must not set `externalIPs` (CVE-2020-8554).

use palisade_core::{Control, Framework, FindingSink, Node, Object, Rule, RuleMeta, Severity};

use super::service_type;

pub static META: RuleMeta = RuleMeta {
    id: "service/external-ips",
    title: "Service with externalIPs",
    severity: Severity::High,
    doc: r#"## What it does
Flags Services that list `spec.externalIPs`.

## Why is this bad?
kube-proxy routes traffic for any address listed in `externalIPs` to the Service, from every
pod and node, without checking who owns the address: whoever can create a Service can
intercept traffic to any IP (CVE-2020-8554, a design flaw that is not patched; the
DenyServiceExternalIPs admission plugin exists to block it).

## How to fix
Remove `externalIPs`; use a LoadBalancer Service or an Ingress. Enable the
DenyServiceExternalIPs admission plugin.

## Example
```yaml
kind: Service
spec:
  externalIPs: [198.51.100.7]   # flagged
```
"#,
    remediation: "Remove spec.externalIPs and expose the Service through a LoadBalancer or Ingress.",
    controls: &[
        Control::new(Framework::Nsa, "network-separation/service-exposure"),
        Control::new(Framework::Mitre, "T1557"),
    ],
};

pub struct ExternalIps;

impl Rule for ExternalIps {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if service_type(object).is_none() {
            return;
        }
        let addresses = object.root.pointer("/spec/externalIPs").map_or(&[][..], Node::as_seq);
        if !addresses.is_empty() {
            sink.report(
                "/spec/externalIPs".into(),
                format!("Service claims {} external IP address(es); kube-proxy will capture their traffic", addresses.len()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::service;
    use crate::workload::testing::{assert_documented, findings};

    #[test]
    fn any_external_ip_is_flagged() {
        assert_eq!(
            findings(&ExternalIps, &service(r#"{"externalIPs": ["198.51.100.7", "8.8.8.8"]}"#)),
            [("/spec/externalIPs".into(), "Service claims 2 external IP address(es); kube-proxy will capture their traffic".into())]
        );
        assert!(findings(&ExternalIps, &service(r#"{"externalIPs": []}"#)).is_empty());
        assert_documented(&META);
    }
}

//! `workload/host-network-dns-policy`: pods on the host network must use
//! `dnsPolicy: ClusterFirstWithHostNet` to resolve cluster names.

use palisade_core::{FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

use super::text;

pub static META: RuleMeta = RuleMeta {
    id: "workload/host-network-dns-policy",
    title: "hostNetwork pod without dnsPolicy ClusterFirstWithHostNet",
    severity: Severity::Low,
    doc: r#"## What it does
Flags pod templates with `hostNetwork: true` whose `dnsPolicy` is not
`ClusterFirstWithHostNet` (OperationPolicy `checkHostNetworkDNSPolicy`). Host networking
itself is judged by `pss/hostNamespaces`.

## Why is this bad?
With host networking the default policy `ClusterFirst` silently behaves like `Default`: the
pod uses the node's resolver and cannot resolve Services, so it fails in ways that only show in
production (or leaks in-cluster names to the upstream resolver).

## How to fix
Set `dnsPolicy: ClusterFirstWithHostNet` (or `None` with an explicit `dnsConfig`), or drop
`hostNetwork`.

## Example
```yaml
spec:
  hostNetwork: true
  dnsPolicy: ClusterFirst   # flagged
```
"#,
    remediation: "Set dnsPolicy: ClusterFirstWithHostNet on pods that use hostNetwork.",
    controls: &[],
};

/// Policies that resolve cluster names on the host network, or delegate DNS entirely.
const HOST_NETWORK_POLICIES: [&str; 2] = ["ClusterFirstWithHostNet", "None"];

pub struct HostNetworkDnsPolicy;

impl Rule for HostNetworkDnsPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        if pod.spec_field("hostNetwork").and_then(Node::as_bool) != Some(true) {
            return;
        }
        let policy = text(pod.spec, "dnsPolicy");
        if policy.is_some_and(|policy| HOST_NETWORK_POLICIES.contains(&policy)) {
            return;
        }
        let policy = policy.unwrap_or("ClusterFirst (the default)");
        sink.report(
            pod.spec_pointer_to(&["dnsPolicy"]),
            format!("pod uses hostNetwork with dnsPolicy {policy}, so it cannot resolve cluster Services"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod, workload};

    #[test]
    fn host_network_needs_the_host_net_policy() {
        let found = findings(&HostNetworkDnsPolicy, &pod(r#"{"hostNetwork": true}"#));
        assert_eq!(
            found,
            [("/spec/dnsPolicy".into(), "pod uses hostNetwork with dnsPolicy ClusterFirst (the default), so it cannot resolve cluster Services".into())]
        );
        let explicit = workload("apps/v1", "DaemonSet", r#"{"hostNetwork": true, "dnsPolicy": "Default"}"#);
        assert_eq!(findings(&HostNetworkDnsPolicy, &explicit)[0].0, "/spec/template/spec/dnsPolicy");
    }

    #[test]
    fn accepted_policies_and_pod_networking_pass() {
        for spec in [
            r#"{"hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"}"#,
            r#"{"hostNetwork": true, "dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"]}}"#,
            r#"{"hostNetwork": false, "dnsPolicy": "Default"}"#,
            r#"{"dnsPolicy": "ClusterFirst"}"#,
        ] {
            assert!(findings(&HostNetworkDnsPolicy, &pod(spec)).is_empty(), "{spec}");
        }
        assert_documented(&META);
    }
}

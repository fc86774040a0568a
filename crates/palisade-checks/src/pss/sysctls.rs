//! `pss/sysctls` (baseline): only namespaced, isolated ("safe") sysctls; the list grows with
//! the policy version.

use palisade_core::{Control, Framework, Node, PodView, RuleMeta, Severity};

use super::visit::{Violation, field, text_or_empty};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/sysctls",
    title: "Unsafe sysctl",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every entry of `spec.securityContext.sysctls` outside the safe set of the policy version
(Pod Security Standards, baseline): `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
`net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range`, `net.ipv4.ip_unprivileged_port_start`;
from v1.27 `net.ipv4.ip_local_reserved_ports`; from v1.29 `net.ipv4.tcp_keepalive_time`,
`net.ipv4.tcp_fin_timeout`, `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes`;
from v1.32 `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem`; from v1.37
`net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat`.

## Why is this bad?
Other sysctls are not isolated per pod: they change kernel behaviour for the whole node and
every workload on it, or disable security mechanisms.

## How to fix
Remove the sysctl, or configure it on dedicated nodes (kubelet `--allowed-unsafe-sysctls`) for
a workload in a namespace with a looser policy.

## Example
```yaml
spec:
  securityContext:
    sysctls:
    - name: kernel.msgmax   # forbidden
      value: "65536"
```
"#,
    remediation: "Remove sysctls outside the Pod Security Standards safe set from spec.securityContext.sysctls.",
    controls: &[
        Control::new(Framework::Pss, "Baseline: Sysctls"),
        Control::new(Framework::Nsa, "pod-security/kernel-hardening"),
    ],
};

pub(super) static CHECK: Check = Check::new(&META, PssLevel::Baseline, &[0, 27, 29, 32, 37], run);

/// Each safe sysctl with the policy version that first allows it.
const SAFE_SYSCTLS: [(&str, u32); 14] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

fn run(pod: &PodView<'_>, since: u32, out: &mut Vec<Violation>) {
    let sysctls = field(pod.security_context(), &["sysctls"])
        .map(Node::as_seq)
        .unwrap_or_default();
    for (index, sysctl) in sysctls.iter().enumerate() {
        let name = text_or_empty(Some(sysctl), &["name"]);
        if !SAFE_SYSCTLS
            .iter()
            .any(|&(safe, from)| safe == name && from <= since)
        {
            out.push(Violation::new(
                pod.spec_pointer_to(&["securityContext", "sysctls", &index.to_string(), "name"]),
                format!("forbidden sysctls ({name})"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    fn spec(names: &[&str]) -> String {
        let entries: Vec<String> = names
            .iter()
            .map(|name| format!(r#"{{"name": "{name}", "value": "1"}}"#))
            .collect();
        format!(
            r#"{{"securityContext": {{"sysctls": [{}]}}, "containers": []}}"#,
            entries.join(", ")
        )
    }

    #[test]
    fn unsafe_sysctls_are_reported_at_their_name() {
        let found = run(
            &CHECK,
            0,
            &spec(&["kernel.shm_rmid_forced", "kernel.msgmax"]),
        );
        assert_eq!(messages(&found), ["forbidden sysctls (kernel.msgmax)"]);
        assert_eq!(pointers(&found), ["/spec/securityContext/sysctls/1/name"]);
    }

    #[test]
    fn the_safe_set_grows_with_the_version() {
        let newer = spec(&[
            "net.ipv4.ip_local_reserved_ports",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_wmem",
            "net.ipv4.tcp_notsent_lowat",
        ]);
        let counts: Vec<usize> = CHECK
            .since
            .iter()
            .map(|&since| run(&CHECK, since, &newer).len())
            .collect();
        assert_eq!(counts, [4, 3, 2, 1, 0]);
    }
}

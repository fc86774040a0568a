//! Mutated snapshots for the live comparison: flags flipped, added and removed, numbers,
//! modes and owners changed, configuration files edited or broken, lines dropped and doubled,
//! audits failing or killed, and random filters, all from a seeded generator so that a failing
//! case can be replayed.

use palisade_node::snapshot::{Audit, Snapshot};

use super::fixtures::Flags;

/// xorshift64*: small, seeded, good enough to pick edits.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Text swapped for other text where it occurs.
const SWAPS: &[(&str, &str)] = &[
    ("true", "false"),
    ("false", "true"),
    ("=true", "=TRUE"),
    ("Node,RBAC", "AlwaysAllow"),
    ("Node,RBAC", "RBAC"),
    ("NodeRestriction", "NodeRestriction,AlwaysAdmit"),
    (
        "NodeRestriction",
        "AlwaysPullImages,DenyServiceExternalIPs,EventRateLimit",
    ),
    ("root:root", "root:etcd"),
    ("root:root", "etcd:etcd"),
    ("permissions=600", "permissions=644"),
    ("permissions=644", "permissions=600"),
    ("permissions=700", "permissions=755"),
    ("permissions=6", "permissions=0"),
    ("127.0.0.1", "0.0.0.0"),
    ("Webhook", "AlwaysAllow"),
    ("0s", "0"),
    ("enabled: false", "enabled: true"),
    (": ", ":"),
    ("=", " "),
    ("--", "-"),
    (" --", "\t--"),
    ("\n", "\r\n"),
    ("=", "=\u{2028}"),
    ("a", "\u{e9}"),
    ("29", "29.0"),
    ("1000000", "1e6"),
    (": 0", ": -0"),
    (": 0", ": 1.0E2"),
    (": true", ": \"true\""),
    ("{", "{\"readOnlyPort\": 10255, "),
    ("{", "{\"eventRecordQPS\": 1.5e-7, "),
    ("\"", "'"),
    ("false", "no"),
    ("true", "on"),
];

/// Flags put into a command line.
const FLAGS: &[&str] = &[
    "--profiling=false",
    "--profiling",
    "--anonymous-auth=false",
    "--anonymous-auth",
    "--authorization-mode=AlwaysAllow,Node",
    "--audit-log-path=/var/log/audit.log",
    "--audit-log-maxage=30",
    "--audit-log-maxbackup=9",
    "--audit-log-maxsize=100MB",
    "--read-only-port=0",
    "--read-only-port=10255",
    "--streaming-connection-idle-timeout=0",
    "--tls-cipher-suites=TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA,",
    "--feature-gates=RotateKubeletServerCertificate=false",
    "--client-cert-auth=TRUE",
    "--auto-tls=true",
    "--peer-auto-tls=false",
    "--encryption-provider-config=/etc/kubernetes/enc/enc.yaml",
    "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
    "--rotate-certificates=false",
    "--event-qps=-1",
    "--event-qps=5",
    "--cni-conf-dir /etc/cni/net.d",
    "--bind-address=0.0.0.0",
    "--token-auth-file=/etc/tokens.csv",
    "--hostname-override=node-1",
    "--make-iptables-util-chains=false",
    "--disable-admission-plugins=ServiceAccount",
    "--service-account-lookup=false",
    "--metrics-bind-address=127.0.0.1:10249",
    "--pod-max-pids=4096",
    "--seccomp-default",
    "--terminated-pod-gc-threshold=10",
    "--use-service-account-credentials=false",
];

/// Lines put into configuration files and other outputs.
const LINES: &[&str] = &[
    "readOnlyPort: 10255",
    "readOnlyPort: 0",
    "protectKernelDefaults: true",
    "makeIPTablesUtilChains: false",
    "eventRecordQPS: 5.5",
    "podPidsLimit: 4096",
    "seccompDefault: true",
    "rotateCertificates: false",
    "streamingConnectionIdleTimeout: 4h0m0s",
    "tlsCipherSuites: [TLS_RSA_WITH_RC4_128_SHA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]",
    "featureGates: {RotateKubeletServerCertificate: false}",
    "authentication: {anonymous: {enabled: true}}",
    "authorization:\n  mode: AlwaysAllow",
    "metricsBindAddress: 0.0.0.0:10249",
    "tlsCertFile: /var/lib/kubelet/pki/kubelet.crt",
    "ETCD_CLIENT_CERT_AUTH=false",
    "ETCD_AUTO_TLS=true",
    "ETCD_PEER_CLIENT_CERT_AUTH=true",
    "ETCD_TRUSTED_CA_FILE=/etc/etcd/ca.crt",
    "permissions=777",
    "root:root",
    "File not found",
    "provider=identity",
    "",
    "readOnlyPort: 010",
    "readOnlyPort: 0x0",
    "makeIPTablesUtilChains: yes",
    "protectKernelDefaults: On",
    "eventRecordQPS: 1e3",
    "eventRecordQPS: .inf",
    "podPidsLimit: 1_000",
    "streamingConnectionIdleTimeout: 2001-01-01",
    "rotateCertificates: ~",
    "tlsCertFile: !!str 123",
    "authentication: &auth {anonymous: {enabled: Yes}}",
    "base: &base {readOnlyPort: 0}\nmerged: {<<: *base}",
    "featureGates: {RotateKubeletServerCertificate: Off}",
    "clusterDNS: [10.96.0.10, {a: b}, [1, 2]]",
    "1: numeric key",
    "? complex\n: key",
    "---",
    "ETCD_CLIENT_CERT_AUTH=False",
    "ETCD_PEER_CERT_FILE=/etc/etcd/peer.crt=x",
    "XETCD_KEY_FILE=/etc/etcd/peer.key",
];

/// Replacements for a run of digits.
const NUMBERS: &[&str] = &[
    "0", "1", "9", "10", "29", "30", "99", "100", "400", "600", "640", "644", "700", "755",
    "1000000", "5s", "-1", "",
];

/// A copy of `snapshot` with one to six of its audits changed.
pub fn mutate(snapshot: &Snapshot, rng: &mut Rng) -> Snapshot {
    let mut mutant = snapshot.clone();
    if mutant.audits.is_empty() {
        return mutant;
    }
    for _ in 0..1 + rng.below(6) {
        let index = rng.below(mutant.audits.len());
        mutate_audit(&mut mutant.audits[index], rng);
    }
    mutant
}

fn mutate_audit(audit: &mut Audit, rng: &mut Rng) {
    match rng.below(12) {
        0 => {
            // Failing audits: a status, the one of a missing command, or a signal.
            match rng.below(4) {
                0 => audit.exit_status = Some(1),
                1 => audit.exit_status = Some(127),
                2 => {
                    audit.exit_status = Some(2);
                    audit
                        .output
                        .push_str("cat: /etc/x: No such file or directory\n");
                }
                _ => {
                    audit.exit_status = None;
                    audit.error = Some("signal: killed".into());
                }
            }
        }
        1 => audit.output.clear(),
        2 => audit
            .output
            .push_str(rng.pick::<&str>(&["\n\n", " \n", "\n \n"])),
        _ => {
            for _ in 0..1 + rng.below(3) {
                edit(&mut audit.output, rng);
            }
        }
    }
}

fn edit(text: &mut String, rng: &mut Rng) {
    match rng.below(7) {
        0 | 1 => {
            let (from, to) = rng.pick(SWAPS);
            let found: Vec<usize> = text.match_indices(from).map(|(at, _)| at).collect();
            if !found.is_empty() {
                let at = *rng.pick(&found);
                text.replace_range(at..at + from.len(), to);
            }
        }
        2 => {
            let runs = digit_runs(text);
            if !runs.is_empty() {
                let (start, end) = *rng.pick(&runs);
                text.replace_range(start..end, rng.pick::<&str>(NUMBERS));
            }
        }
        3 => {
            let spaces: Vec<usize> = text.match_indices(' ').map(|(at, _)| at).collect();
            let at = if spaces.is_empty() {
                text.len()
            } else {
                *rng.pick(&spaces)
            };
            text.insert_str(at, &format!(" {}", rng.pick(FLAGS)));
        }
        4 => {
            let line = rng.pick(LINES);
            let starts = line_starts(text);
            let at = *rng.pick(&starts);
            text.insert_str(at, &format!("{line}\n"));
        }
        5 => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let index = rng.below(lines.len());
                if rng.chance(2) {
                    lines.remove(index);
                } else {
                    lines.insert(index, lines[index]);
                }
            }
            *text = lines.concat();
        }
        _ => {
            // Cut the text short: broken YAML or JSON, a half line.
            let boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
            if !boundaries.is_empty() {
                text.truncate(*rng.pick(&boundaries));
            }
        }
    }
}

fn digit_runs(text: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (at, ch) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (ch.is_ascii_digit(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                runs.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .filter(|&at| at <= text.len())
        .collect()
}

/// Random kube-bench flags over the ids of a benchmark's checks and groups (filters usually
/// none), and random text output flags.
pub fn flags(rng: &mut Rng, check_ids: &[String], group_ids: &[String]) -> Flags {
    let mut flags = Flags::default();
    if rng.chance(2) {
        flags.text.include_test_output = rng.chance(2);
        return flags;
    }
    let some = |rng: &mut Rng, ids: &[String]| -> String {
        (0..1 + rng.below(4))
            .map(|_| rng.pick(ids).clone())
            .collect::<Vec<_>>()
            .join(",")
    };
    match rng.below(4) {
        0 => flags.check = some(rng, check_ids),
        1 => flags.group = some(rng, group_ids),
        _ => {}
    }
    if rng.chance(2) {
        flags.skip = format!("{}, {}", some(rng, check_ids), some(rng, group_ids));
    }
    match rng.below(5) {
        0 => flags.scored = false,
        1 => flags.unscored = false,
        _ => {}
    }
    flags.no_totals = rng.chance(6);
    flags.text.include_test_output = rng.chance(2);
    flags.text.no_results = rng.chance(8);
    flags.text.no_remediations = rng.chance(4);
    flags.text.no_summary = rng.chance(4);
    flags.text.color = rng.chance(4);
    flags
}

//! Keeps credentials out of snapshots. Audit scripts print whatever they read: 4.3.1 `cat`s
//! kube-proxy's kubeconfig (client keys, tokens) and the generated env audit prints every
//! variable of the etcd process. Values are replaced before a snapshot is stored or printed, in
//! ways that leave every verdict of the control files unchanged: the keys tests look up stay,
//! only the credential text goes.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::controls::Benchmark;
use crate::snapshot::Snapshot;

pub const REDACTED: &str = "<redacted>";

/// `key: value` / `"key": "value"` whose key names a credential in a kubeconfig, an encryption
/// configuration or a kubelet configuration.
static CREDENTIAL_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?im)((?:^|[{,])\s*-?\s*"?(?:client-key-data|token|id-token|refresh-token|access-token|password|secret)"?\s*:\s*)("?)[^"\s,}]+("?)"#)
        .expect("valid pattern")
});

static PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)(-----BEGIN [A-Z ]*PRIVATE KEY-----).*?(-----END [A-Z ]*PRIVATE KEY-----)")
        .expect("valid pattern")
});

/// Redacts every audit output of `snapshot`. `env_names` are the environment variables the
/// benchmark's tests read (see [`env_names`]); every other variable of an environment listing
/// (`NAME=value` lines of a `/proc/<pid>/environ` audit) loses its value.
pub fn redact(snapshot: &mut Snapshot, env_names: &BTreeSet<String>) {
    for audit in &mut snapshot.audits {
        let environ = audit.command.contains("/environ");
        audit.output = redact_output(&audit.output, environ, env_names);
    }
}

/// The `env` names of every test item of `benchmark`.
pub fn env_names(benchmark: &Benchmark) -> BTreeSet<String> {
    benchmark
        .sections
        .iter()
        .flat_map(|section| &section.groups)
        .flat_map(|group| &group.checks)
        .filter_map(|check| check.tests.as_ref())
        .flat_map(|tests| &tests.items)
        .filter(|item| !item.env.is_empty())
        .map(|item| item.env.clone())
        .collect()
}

fn redact_output(output: &str, environ: bool, env_names: &BTreeSet<String>) -> String {
    let mut text = CREDENTIAL_FIELD
        .replace_all(output, format!("${{1}}${{2}}{REDACTED}${{3}}"))
        .into_owned();
    text = PRIVATE_KEY
        .replace_all(&text, format!("${{1}}{REDACTED}${{2}}"))
        .into_owned();
    if environ {
        text = text
            .split_inclusive('\n')
            .map(|line| match line.split_once('=') {
                // Tests find a variable by the unanchored pattern `NAME=` anywhere in the
                // listing, so a line that holds a tested `NAME=` keeps everything.
                Some((name, _)) if !env_names.iter().any(|tested| line.contains(&format!("{tested}="))) => {
                    let newline = if line.ends_with('\n') { "\n" } else { "" };
                    format!("{name}={REDACTED}{newline}")
                }
                _ => line.to_owned(),
            })
            .collect();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn kubeconfig_credentials_lose_their_values_and_keep_their_keys() {
        let kubeconfig = "users:\n- name: kube-proxy\n  user:\n    client-key-data: LS0tLS1CRUdJTg==\n    token: abc.def\nmetricsBindAddress: 127.0.0.1:10249\n";
        let redacted = redact_output(kubeconfig, false, &BTreeSet::new());
        assert!(
            !redacted.contains("LS0tLS1CRUdJTg==") && !redacted.contains("abc.def"),
            "{redacted}"
        );
        assert!(
            redacted.contains("client-key-data: <redacted>\n")
                && redacted.contains("token: <redacted>\n")
        );
        assert!(redacted.contains("metricsBindAddress: 127.0.0.1:10249"));
        let json = r#"{"users":[{"user":{"token":"abc.def","password":"hunter2"}}]}"#;
        assert_eq!(
            redact_output(&json.replace(",\"", ",\n\""), false, &BTreeSet::new()),
            "{\"users\":[{\"user\":{\"token\":\"<redacted>\",\n\"password\":\"<redacted>\"}}]}"
        );
    }

    #[test]
    fn private_key_blocks_are_emptied() {
        let pem = "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\ny";
        assert_eq!(
            redact_output(pem, false, &BTreeSet::new()),
            "x\n-----BEGIN RSA PRIVATE KEY-----<redacted>-----END RSA PRIVATE KEY-----\ny"
        );
    }

    #[test]
    fn only_tested_environment_variables_keep_their_values() {
        let environ = "ETCD_CERT_FILE=/etc/etcd/server.crt\nAWS_SECRET_ACCESS_KEY=abc\nPATH=/bin\n";
        let tested = names(&["ETCD_CERT_FILE"]);
        assert_eq!(
            redact_output(environ, true, &tested),
            "ETCD_CERT_FILE=/etc/etcd/server.crt\nAWS_SECRET_ACCESS_KEY=<redacted>\nPATH=<redacted>\n"
        );
        // A tested name inside another variable's value is what kube-bench's pattern finds.
        assert_eq!(redact_output("OTHER=x ETCD_CERT_FILE=/a\n", true, &tested), "OTHER=x ETCD_CERT_FILE=/a\n");
        // Outside an environment listing, `NAME=value` text is left alone (flags, stat output).
        assert_eq!(
            redact_output("permissions=600\n", false, &tested),
            "permissions=600\n"
        );
    }
}

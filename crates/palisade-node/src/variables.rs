//! The `$<component><suffix>` variables of control files and their substitution.
//!
//! kube-bench (`cmd/common.go` runChecks, `cmd/util.go` makeSubstitutions and multiWordReplace)
//! replaces, in the raw text of a control file before parsing it, every `$<component><suffix>`
//! with the value resolved for that component, suffix by suffix in the order `bin`, `conf`,
//! `svc`, `kubeconfig`, `cafile`, `datadir`. Within a suffix Go walks a map in random order;
//! here components go in sorted order. An empty value is skipped; a value of more than one
//! word is wrapped in single quotes (`'hyperkube apiserver'`); the replacement is plain text,
//! so `$etcdconf` also rewrites the front of `$etcdconfdir`.
//!
//! Palisade parses a benchmark once and substitutes into every string field of the parsed
//! controls instead ([`prepare`]), so one parse serves many snapshots. That gives kube-bench's
//! result wherever kube-bench's own parse of the substituted text succeeds the way the file
//! reads; it differs only where substituting into the raw text changes the YAML itself, which
//! kube-bench then misreads or refuses: a quoted multi-word value inside a single-quoted YAML
//! scalar (`'… $apiserverbin …'` becomes `'… 'hyperkube apiserver' …'`, a YAML error for
//! kube-bench, the intended text here), a value holding `"` or `\` inside a double-quoted scalar,
//! or `: ` or ` #` inside a plain one, and a variable written where a boolean is expected
//! (`scored: $x`, refused here when the file is loaded).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::controls::{Check, Controls};

/// Resolved values per suffix, each keyed by component name (`apiserver`, `kubelet`, ...):
/// `bin` gives `$apiserverbin`, `conf` `$apiserverconf`, and so on.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Variables {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bin: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conf: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub svc: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kubeconfig: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cafile: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub datadir: BTreeMap<String, String>,
}

/// One `$<component><suffix>` and what replaces it.
struct Substitution {
    variable: String,
    replacement: String,
}

impl Variables {
    /// `text` with every variable replaced as kube-bench replaces them in a control file.
    pub fn substitute(&self, text: &str) -> String {
        substitute_all(&self.substitutions(), text).into_owned()
    }

    /// kube-bench's `binSubs` for a file of this text: the `bin` values (unquoted) whose
    /// substitution changed it, in substitution order. Comments count: kube-bench substitutes
    /// the raw text.
    pub fn changed_binaries(&self, text: &str) -> Vec<&str> {
        let mut text = Cow::Borrowed(text);
        let mut changed = Vec::new();
        for (component, value) in &self.bin {
            let Some(substitution) = substitution(component, "bin", value) else {
                continue;
            };
            if substitution.replacement != substitution.variable
                && text.contains(&substitution.variable)
            {
                changed.push(value.as_str());
                // Later variables are looked for in the text as this replacement leaves it.
                text = Cow::Owned(text.replace(&substitution.variable, &substitution.replacement));
            }
        }
        changed
    }

    /// Every substitution, in kube-bench's order.
    fn substitutions(&self) -> Vec<Substitution> {
        [
            ("bin", &self.bin),
            ("conf", &self.conf),
            ("svc", &self.svc),
            ("kubeconfig", &self.kubeconfig),
            ("cafile", &self.cafile),
            ("datadir", &self.datadir),
        ]
        .into_iter()
        .flat_map(|(suffix, values)| {
            values
                .iter()
                .filter_map(move |(component, value)| substitution(component, suffix, value))
        })
        .collect()
    }
}

/// kube-bench's multiWordReplace for one variable; `None` for an empty value, which kube-bench
/// leaves unsubstituted.
fn substitution(component: &str, suffix: &str, value: &str) -> Option<Substitution> {
    if value.is_empty() {
        return None;
    }
    let replacement = if value.split_whitespace().nth(1).is_some() {
        format!("'{value}'")
    } else {
        value.to_owned()
    };
    Some(Substitution {
        variable: format!("${component}{suffix}"),
        replacement,
    })
}

fn substitute_all<'a>(substitutions: &[Substitution], text: &'a str) -> Cow<'a, str> {
    let mut text = Cow::Borrowed(text);
    if !text.contains('$') {
        return text;
    }
    for substitution in substitutions {
        if text.contains(&substitution.variable) {
            text = Cow::Owned(text.replace(&substitution.variable, &substitution.replacement));
        }
    }
    text
}

/// The controls of one file as kube-bench runs them with these variables: every string field
/// substituted, then the default env audit generated (cmd/common.go generateDefaultEnvAudit).
///
/// A check with an `env` test item, no `audit_env` and no `disableEnvTesting` gets the audit
/// that prints the environment of the process named by the one `bin` value that changed the
/// file, or of nothing (`ps -C` with an empty name, which fails) when that is not exactly one.
/// [`Controls::source`] is left as read.
pub fn prepare(controls: &Controls, variables: &Variables) -> Controls {
    let substitutions = variables.substitutions();
    let substitute = |field: &mut String| {
        if let Cow::Owned(substituted) = substitute_all(&substitutions, field) {
            *field = substituted;
        }
    };
    let mut prepared = controls.clone();
    for field in [
        &mut prepared.version,
        &mut prepared.id,
        &mut prepared.text,
        &mut prepared.node_type,
    ] {
        substitute(field);
    }
    for group in &mut prepared.groups {
        for field in [&mut group.id, &mut group.text, &mut group.kind] {
            substitute(field);
        }
        for check in &mut group.checks {
            substitute_check(check, &substitute);
        }
    }
    let binaries = variables.changed_binaries(&controls.source);
    let binary = match binaries.as_slice() {
        [binary] => *binary,
        _ => "",
    };
    for check in prepared
        .groups
        .iter_mut()
        .flat_map(|group| &mut group.checks)
    {
        let tests_env = check
            .tests
            .as_ref()
            .is_some_and(|tests| tests.items.iter().any(|item| !item.env.is_empty()));
        if tests_env && !check.disable_env_testing && check.audit_env.is_empty() {
            check.audit_env = default_env_audit(binary);
        }
    }
    prepared
}

fn substitute_check(check: &mut Check, substitute: &impl Fn(&mut String)) {
    for field in [
        &mut check.id,
        &mut check.text,
        &mut check.audit,
        &mut check.audit_env,
        &mut check.audit_config,
        &mut check.kind,
        &mut check.remediation,
    ] {
        substitute(field);
    }
    if let Some(tests) = &mut check.tests {
        substitute(&mut tests.bin_op);
        for item in &mut tests.items {
            for field in [
                &mut item.flag,
                &mut item.path,
                &mut item.env,
                &mut item.compare.op,
                &mut item.compare.value,
            ] {
                substitute(field);
            }
        }
    }
}

/// kube-bench's generated env audit, byte for byte (snapshots are keyed by audit text).
fn default_env_audit(binary: &str) -> String {
    format!("cat \"/proc/$(/bin/ps -C {binary} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundled::ConfigDir;
    use crate::controls::{load_benchmark, parse_controls};

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(component, value)| ((*component).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn multi_word_values_are_single_quoted_and_empty_ones_skipped() {
        let variables = Variables {
            bin: values(&[("apiserver", "hyperkube apiserver"), ("scheduler", "")]),
            conf: values(&[("apiserver", "/etc/kubernetes/manifests/kube-apiserver.yaml")]),
            ..Variables::default()
        };
        assert_eq!(
            variables.substitute(
                "ps -ef | grep $apiserverbin; cat $apiserverconf; $schedulerbin $adminconf"
            ),
            "ps -ef | grep 'hyperkube apiserver'; cat /etc/kubernetes/manifests/kube-apiserver.yaml; \
             $schedulerbin $adminconf"
        );
        let tabbed = Variables {
            svc: values(&[("kubelet", "a\tb")]),
            ..Variables::default()
        };
        assert_eq!(tabbed.substitute("$kubeletsvc"), "'a\tb'");
    }

    #[test]
    fn substitution_is_plain_text_in_kube_bench_order() {
        let variables = Variables {
            bin: values(&[("etcd", "etcd --config $etcdconf")]),
            conf: values(&[("etcd", "/etc/etcd.conf")]),
            ..Variables::default()
        };
        // `bin` first, so a `conf` variable a binary value brings in is replaced after it; and
        // `$etcdconf` is replaced inside the longer `$etcdconfdir` too.
        assert_eq!(
            variables.substitute("$etcdbin | $etcdconfdir"),
            "'etcd --config /etc/etcd.conf' | /etc/etcd.confdir"
        );
    }

    #[test]
    fn changed_binaries_are_kube_bench_bin_subs() {
        let variables = Variables {
            bin: values(&[
                ("apiserver", "hyperkube apiserver"),
                ("etcd", "etcd"),
                ("kubelet", ""),
            ]),
            ..Variables::default()
        };
        assert_eq!(variables.changed_binaries("grep $etcdbin"), ["etcd"]);
        // Unquoted, in component order, and comments count: kube-bench substitutes raw text.
        assert_eq!(
            variables.changed_binaries("# $etcdbin\naudit: $apiserverbin $kubeletbin"),
            ["hyperkube apiserver", "etcd"]
        );
        assert!(variables.changed_binaries("no variables").is_empty());
        let unchanged = Variables {
            bin: values(&[("x", "$xbin")]),
            ..Variables::default()
        };
        assert!(unchanged.changed_binaries("$xbin").is_empty());
    }

    #[test]
    fn prepare_substitutes_every_string_field() {
        let text = "controls:\nversion: $vbin\nid: $vbin\ntext: $vbin\ntype: $vbin\ngroups:\n- id: $vbin\n  text: $vbin\n  type: $vbin\n  checks:\n  - id: $vbin\n    text: $vbin\n    audit: $vbin\n    audit_env: $vbin\n    audit_config: $vbin\n    type: $vbin\n    remediation: $vbin\n    tests:\n      bin_op: $vbin\n      test_items:\n      - {flag: $vbin, path: $vbin, env: $vbin, compare: {op: $vbin, value: $vbin}}\n";
        let controls = parse_controls("t.yaml", text).unwrap();
        let variables = Variables {
            bin: values(&[("v", "V")]),
            ..Variables::default()
        };
        let prepared = prepare(&controls, &variables);
        let expected = parse_controls("t.yaml", &text.replace("$vbin", "V")).unwrap();
        assert_eq!(
            prepared,
            Controls {
                source: controls.source.clone(),
                ..expected
            },
            "every field as raw-text substitution gives it; the source stays as read"
        );
    }

    #[test]
    fn the_env_audit_of_cis_1_12_etcd_names_the_etcd_binary() {
        let benchmark = load_benchmark(&ConfigDir::Bundled, "cis-1.12").benchmark;
        let etcd = benchmark
            .sections
            .iter()
            .find(|section| section.node_type == "etcd")
            .unwrap();
        let variables = Variables {
            bin: values(&[("etcd", "etcd")]),
            conf: values(&[("etcd", "/etc/kubernetes/manifests/etcd.yaml")]),
            datadir: values(&[("etcd", "/var/lib/etcd")]),
            ..Variables::default()
        };
        let prepared = prepare(etcd, &variables);
        let checks: Vec<&Check> = prepared
            .groups
            .iter()
            .flat_map(|group| &group.checks)
            .collect();
        assert_eq!(checks.len(), 7);
        for check in checks {
            assert_eq!(
                check.audit_env,
                r#"cat "/proc/$(/bin/ps -C etcd -o pid= | tr -d ' ')/environ" | tr '\0' '\n'"#,
                "{}",
                check.id
            );
            assert_eq!(
                check.audit, "/bin/ps -ef | /bin/grep etcd | /bin/grep -v grep",
                "{}",
                check.id
            );
        }
        assert!(
            prepared.groups[0].checks[1]
                .remediation
                .contains("/etc/kubernetes/manifests/etcd.yaml")
        );
    }

    #[test]
    fn the_env_audit_names_a_binary_only_when_exactly_one_changed_the_file() {
        let text = "groups:\n- checks:\n  - audit: $abin $bbin\n    tests: {test_items: [{flag: --x, env: X}]}\n  - audit_env: own\n    tests: {test_items: [{env: X}]}\n  - disableenvtesting: true\n    tests: {test_items: [{env: X}]}\n  - tests: {test_items: [{flag: --x}]}\n";
        let controls = parse_controls("t.yaml", text).unwrap();
        let audits = |bin: &[(&str, &str)]| -> Vec<String> {
            let variables = Variables {
                bin: values(bin),
                ..Variables::default()
            };
            let prepared = prepare(&controls, &variables);
            prepared.groups[0]
                .checks
                .iter()
                .map(|check| check.audit_env.clone())
                .collect()
        };
        let env_audit = |binary: &str| {
            format!(
                "cat \"/proc/$(/bin/ps -C {binary} -o pid= | tr -d ' ')/environ\" | tr '\\0' '\\n'"
            )
        };
        assert_eq!(
            audits(&[("a", "hyperkube a")]),
            [
                env_audit("hyperkube a"),
                "own".into(),
                String::new(),
                String::new()
            ]
        );
        assert_eq!(audits(&[("a", "a"), ("b", "b")])[0], env_audit(""));
        assert_eq!(audits(&[])[0], env_audit(""));
    }
}

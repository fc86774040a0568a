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

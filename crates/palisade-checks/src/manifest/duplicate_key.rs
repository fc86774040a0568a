//! `manifest/duplicate-key`: a mapping key written twice. kubectl keeps the last value without a
//! word; the loader reads the object the same way and records both places (see
//! `palisade_core::DuplicateKey`), which this rule reports.

use palisade_core::{FindingSink, Object, Rule, RuleMeta, Severity, pointer_tokens};

pub static META: RuleMeta = RuleMeta {
    id: "manifest/duplicate-key",
    title: "Duplicate key in a mapping",
    severity: Severity::High,
    doc: r#"## What it does
Flags every mapping key that a manifest writes twice in the same mapping, naming the line of
both occurrences. The object is scanned with the value kubectl applies: the last one.

## Why is this bad?
kubectl (sigs.k8s.io/yaml over go-yaml v2) silently keeps the last value and drops the first.
A reviewer, or a scanner that keeps the first value, reads something else than what reaches
the cluster: a second `securityContext` further down can turn a container privileged while
the one a reviewer sees says otherwise. Duplicates are also how a merge conflict or a bad
template leaves a manifest half-edited.

## How to fix
Delete one of the two keys, keeping the value that is meant, and run a YAML linter that refuses
duplicate keys (yamllint `key-duplicates`) in CI.

## Example
```yaml
containers:
- name: app
  image: registry.example.com/app:1.4
  securityContext:
    privileged: false
  securityContext:   # flagged: this one is applied
    privileged: true
```
"#,
    remediation: "Remove one of the two keys so that the mapping says one thing.",
    controls: &[],
};

pub struct DuplicateKey;

impl Rule for DuplicateKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        for duplicate in &object.duplicate_keys {
            let key = pointer_tokens(&duplicate.pointer).last().unwrap_or_default();
            sink.report(
                duplicate.pointer.to_string(),
                format!(
                    "key {key:?} is written twice in this mapping (lines {} and {}); kubectl applies \
                     the value at line {} and drops the one at line {}",
                    duplicate.first.line, duplicate.second.line, duplicate.second.line, duplicate.first.line
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings};

    fn load(text: &str) -> Vec<Object> {
        let loaded = palisade_load::load_str(text, "dup.yaml");
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.objects
    }

    #[test]
    fn each_repeated_key_is_reported_with_both_lines_and_the_last_value_is_scanned() {
        let objects = load(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext:\n      privileged: false\n    securityContext:\n      privileged: true\n",
        );
        let pod = &objects[0];
        assert_eq!(pod.root.pointer("/spec/containers/0/securityContext/privileged").unwrap().as_bool(), Some(true));
        assert_eq!(
            findings(&DuplicateKey, pod),
            [(
                "/spec/containers/0/securityContext".to_owned(),
                "key \"securityContext\" is written twice in this mapping (lines 9 and 11); kubectl applies the value at line 11 and drops the one at line 9".to_owned()
            )]
        );
        assert_documented(&META);
    }

    #[test]
    fn list_items_carry_their_own_duplicates_and_clean_objects_have_none() {
        let objects = load(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b, name: c}\n",
        );
        assert!(findings(&DuplicateKey, &objects[0]).is_empty());
        let second = findings(&DuplicateKey, &objects[1]);
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].0, "/metadata/name");
        assert_eq!(objects[1].name(), "c");
    }
}

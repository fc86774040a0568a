//! `workload/duplicate-env-vars`: a container must not define an environment variable twice.

use std::collections::HashMap;

use palisade_core::{FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

use super::text;

pub static META: RuleMeta = RuleMeta {
    id: "workload/duplicate-env-vars",
    title: "Duplicate environment variable names",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every `env` entry of a container whose name an earlier entry of the same container
already defines (OperationPolicy `checkContainerDuplicates`).

## Why is this bad?
The API server accepts duplicates and the last one wins, silently: the value reviewers read in
the first entry is not the one the process gets. Server-side apply and strategic merge patches
key `env` by name, so a duplicate also makes later patches apply to the wrong entry.

## How to fix
Remove the duplicate entry, keeping the value you mean.

## Example
```yaml
env:
- name: LOG_LEVEL
  value: info
- name: LOG_LEVEL   # flagged: the process sees "debug"
  value: debug
```
"#,
    remediation: "Remove the repeated env entry so each variable is defined once.",
    controls: &[],
};

pub struct DuplicateEnvVars;

impl Rule for DuplicateEnvVars {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        for container in pod.containers() {
            let env = container.get("env").map_or(&[][..], Node::as_seq);
            // Keyed by name: one pass, however many entries an admission request carries.
            let mut first_use = HashMap::new();
            for (index, entry) in env.iter().enumerate() {
                let Some(name) = text(entry, "name") else { continue };
                let first = *first_use.entry(name).or_insert(index);
                if first != index {
                    sink.report(
                        container.field(&["env", &index.to_string(), "name"]),
                        format!("container {:?} defines env {name:?} again (first at env[{first}]); the last one wins", container.name()),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, deployment};

    #[test]
    fn repeated_names_in_one_container_are_flagged_not_across_containers() {
        let spec = r#"{"containers": [
            {"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y"}, {"name": "X", "value": "2"}]},
            {"name": "b", "env": [{"name": "X", "value": "3"}]}]}"#;
        assert_eq!(
            findings(&DuplicateEnvVars, &deployment(spec)),
            [(
                "/spec/template/spec/containers/0/env/2/name".into(),
                r#"container "a" defines env "X" again (first at env[0]); the last one wins"#.into()
            )]
        );
        assert_documented(&META);
    }
}

//! `workload/image-registry-not-allowed`: images must come from the allowed registries.

use palisade_core::{Control, Framework, FindingSink, Object, PodView, Rule, RuleMeta, Severity};

use super::images;
use crate::image::{ImageRef, is_allowed};

pub static META: RuleMeta = RuleMeta {
    id: "workload/image-registry-not-allowed",
    title: "Image from a registry that is not allowed",
    severity: Severity::High,
    doc: r#"## What it does
When allowed registries are configured (`rules.params.workload/image-registry-not-allowed.allowed`,
OperationPolicy `allowedRepos`), flags containers whose image comes from elsewhere. An entry is
a registry (`registry.example.com`) or a path in one (`registry.example.com/team`); it matches
whole path components only, so `registry.example.com` does not admit
`registry.example.com.evil.io/x`. Images without a registry are Docker Hub images
(`docker.io/library/nginx`). Without configuration the rule reports nothing.

## Why is this bad?
Images from unreviewed registries bypass your scanning, signing and provenance controls; a
typo-squatted or look-alike registry is a classic supply-chain attack.

## How to fix
Mirror the image into an allowed registry and reference it there.

## Example
```yaml
# allowed: [registry.example.com]
containers:
- name: app
  image: registry.example.com.evil.io/app:1.0   # flagged
```
"#,
    remediation: "Pull the image from one of the allowed registries.",
    controls: &[Control::new(Framework::Cis, "5.5.1"), Control::new(Framework::Mitre, "T1525")],
};

pub struct ImageRegistryNotAllowed {
    pub allowed: Vec<String>,
}

impl Rule for ImageRegistryNotAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        if self.allowed.is_empty() {
            return;
        }
        let Some(pod) = PodView::of(object) else { return };
        for (container, image) in images(&pod) {
            if !is_allowed(&ImageRef::parse(image), &self.allowed) {
                sink.report(
                    container.field(&["image"]),
                    format!(
                        "container {:?} image {image:?} is not from an allowed registry ({})",
                        container.name(),
                        self.allowed.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod};

    #[test]
    fn look_alike_registries_are_refused() {
        let rule = ImageRegistryNotAllowed { allowed: vec!["myregistry.example.com".into()] };
        let spec = r#"{"containers": [
            {"name": "ok", "image": "myregistry.example.com/x:1"},
            {"name": "evil", "image": "myregistry.example.com.evil.io/x:1"},
            {"name": "hub", "image": "nginx"}]}"#;
        let found = findings(&rule, &pod(spec));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "/spec/containers/1/image");
        assert_eq!(
            found[0].1,
            r#"container "evil" image "myregistry.example.com.evil.io/x:1" is not from an allowed registry (myregistry.example.com)"#
        );
        assert_eq!(found[1].0, "/spec/containers/2/image");
    }

    #[test]
    fn without_configuration_every_registry_is_allowed() {
        let spec = r#"{"containers": [{"name": "a", "image": "evil.io/x"}]}"#;
        assert!(findings(&ImageRegistryNotAllowed { allowed: vec![] }, &pod(spec)).is_empty());
        assert_documented(&META);
    }
}

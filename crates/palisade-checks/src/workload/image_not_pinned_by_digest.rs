//! `workload/image-not-pinned-by-digest`: images should be pinned by digest.

use palisade_core::{Control, Framework, FindingSink, Object, PodView, Rule, RuleMeta, Severity};

use super::images;
use crate::image::ImageRef;

pub static META: RuleMeta = RuleMeta {
    id: "workload/image-not-pinned-by-digest",
    title: "Image not pinned by digest",
    severity: Severity::Low,
    doc: r#"## What it does
Flags containers whose image reference has no `@sha256:...` digest.

## Why is this bad?
Every tag is mutable in most registries: whoever can push to the repository (or compromise it)
can change what a tag points to, and nodes pull the new content on the next restart. A digest
names exactly one image.

## How to fix
Append the digest of the tested image (`image: nginx:1.27@sha256:...`); tools such as Renovate
keep digests current.

## Example
```yaml
containers:
- name: app
  image: nginx:1.27   # flagged
```
"#,
    remediation: "Reference the image by digest (name@sha256:...).",
    controls: &[Control::new(Framework::Cis, "5.5.1"), Control::new(Framework::Mitre, "T1525")],
};

pub struct ImageNotPinnedByDigest;

impl Rule for ImageNotPinnedByDigest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        for (container, image) in images(&pod) {
            if ImageRef::parse(image).digest.is_none() {
                sink.report(
                    container.field(&["image"]),
                    format!("container {:?} image {image:?} is not pinned by digest", container.name()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, pointers, deployment};

    #[test]
    fn only_references_without_a_digest_are_flagged() {
        let spec = r#"{"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "nginx:1@sha256:ab"}],
            "ephemeralContainers": [{"name": "e", "image": "busybox"}]}"#;
        assert_eq!(
            pointers(&ImageNotPinnedByDigest, &deployment(spec)),
            ["/spec/template/spec/containers/0/image", "/spec/template/spec/ephemeralContainers/0/image"]
        );
        assert_documented(&META);
    }
}

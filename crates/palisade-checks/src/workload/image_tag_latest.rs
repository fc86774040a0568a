//! `workload/image-tag-latest`: images must not use `latest` (or another disallowed tag), nor
//! omit the tag, which means `latest`.

use palisade_core::{Control, Framework, FindingSink, Object, PodView, Rule, RuleMeta, Severity};

use super::images;
use crate::image::ImageRef;

pub static META: RuleMeta = RuleMeta {
    id: "workload/image-tag-latest",
    title: "Image uses the latest tag or no tag",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags containers whose image has no tag or a disallowed tag (by default `latest`). Images
pinned by digest only are accepted. The disallowed tags are a parameter
(`rules.params.workload/image-tag-latest.tags`, OperationPolicy `disallowedImageTags`).

## Why is this bad?
`latest` moves: two pods of one Deployment can run different code, a rollback does not roll
back, and whoever can push the tag can change what runs in the cluster.

## How to fix
Use an immutable version tag, or better a digest.

## Example
```yaml
containers:
- name: app
  image: nginx:latest        # flagged
- name: sidecar
  image: envoyproxy/envoy    # flagged: no tag means latest
```
"#,
    remediation: "Pin the image to a version tag or a digest instead of latest.",
    controls: &[Control::new(Framework::Mitre, "T1525")],
};

pub struct ImageTagDisallowed {
    pub tags: Vec<String>,
}

impl Rule for ImageTagDisallowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        for (container, image) in images(&pod) {
            let parsed = ImageRef::parse(image);
            let Some(tag) = parsed.effective_tag() else { continue };
            if !self.tags.iter().any(|disallowed| disallowed == tag) {
                continue;
            }
            let how = if parsed.tag.is_none() { "has no tag, which means" } else { "uses the tag" };
            sink.report(
                container.field(&["image"]),
                format!("container {:?} image {image:?} {how} {tag:?}", container.name()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod, workload};

    fn rule() -> ImageTagDisallowed {
        ImageTagDisallowed { tags: vec!["latest".into()] }
    }

    #[test]
    fn latest_and_missing_tags_are_flagged_digests_and_versions_are_not() {
        let spec = r#"{"containers": [
            {"name": "a", "image": "nginx:latest"},
            {"name": "b", "image": "registry:5000/app"},
            {"name": "c", "image": "nginx:1.27"},
            {"name": "d", "image": "nginx@sha256:0123"}]}"#;
        assert_eq!(
            findings(&rule(), &pod(spec)),
            [
                ("/spec/containers/0/image".into(), r#"container "a" image "nginx:latest" uses the tag "latest""#.into()),
                ("/spec/containers/1/image".into(), r#"container "b" image "registry:5000/app" has no tag, which means "latest""#.into()),
            ]
        );
    }

    #[test]
    fn custom_tags_apply_to_every_template_including_init_containers() {
        let rule = ImageTagDisallowed { tags: vec!["dev".into()] };
        let spec = r#"{"initContainers": [{"name": "i", "image": "x:dev"}], "containers": [{"name": "a", "image": "x:latest"}]}"#;
        let found = findings(&rule, &workload("batch/v1", "CronJob", spec));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "/spec/jobTemplate/spec/template/spec/initContainers/0/image");
        assert_documented(&META);
    }
}

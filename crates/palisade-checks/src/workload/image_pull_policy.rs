//! `workload/image-pull-policy`: containers must end up with the required `imagePullPolicy`
//! (by default `Always`).

use palisade_core::{Control, Framework, FindingSink, Object, PodView, Rule, RuleMeta, Severity};

use super::{images, text};
use crate::image::ImageRef;

pub static META: RuleMeta = RuleMeta {
    id: "workload/image-pull-policy",
    title: "imagePullPolicy is not Always",
    severity: Severity::Low,
    doc: r#"## What it does
Flags containers whose effective `imagePullPolicy` is not the required one (by default
`Always`; parameter `rules.params.workload/image-pull-policy.policy`, OperationPolicy
`imagePullPolicy`). When the field is unset the API server defaults it to `Always` for `latest`
or untagged images and to `IfNotPresent` otherwise; the rule judges that default.

## Why is this bad?
With `IfNotPresent`, a pod can start from an image cached on the node without the registry
checking its pull secret: any pod on the node can run a private image it has no credentials for
(the AlwaysPullImages admission plugin exists for this reason, CIS 1.2.11).

## How to fix
Set `imagePullPolicy: Always`; with a registry mirror nearby the cost is a manifest request.

## Example
```yaml
containers:
- name: app
  image: registry.example.com/app:1.4
  imagePullPolicy: IfNotPresent   # flagged
```
"#,
    remediation: "Set imagePullPolicy: Always on the container.",
    controls: &[Control::new(Framework::Mitre, "T1525")],
};

pub struct ImagePullPolicy {
    pub required: String,
}

impl Rule for ImagePullPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        for (container, image) in images(&pod) {
            let written = text(container.node, "imagePullPolicy");
            let effective = written.unwrap_or_else(|| {
                match ImageRef::parse(image).effective_tag() {
                    Some("latest") => "Always",
                    _ => "IfNotPresent",
                }
            });
            if effective == self.required {
                continue;
            }
            let message = match written {
                Some(policy) => format!("container {:?} has imagePullPolicy {policy:?}, not {:?}", container.name(), self.required),
                None => format!(
                    "container {:?} has no imagePullPolicy, which defaults to {effective:?} for image {image:?}, not {:?}",
                    container.name(),
                    self.required
                ),
            };
            sink.report(container.field(&["imagePullPolicy"]), message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::testing::{assert_documented, findings, pod};

    #[test]
    fn explicit_and_defaulted_policies_are_judged() {
        let rule = ImagePullPolicy { required: "Always".into() };
        let spec = r#"{"containers": [
            {"name": "a", "image": "x:1", "imagePullPolicy": "IfNotPresent"},
            {"name": "b", "image": "x:1"},
            {"name": "c", "image": "x"},
            {"name": "d", "image": "x:1", "imagePullPolicy": "Always"}]}"#;
        let found = findings(&rule, &pod(spec));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "/spec/containers/0/imagePullPolicy");
        assert_eq!(
            found[1].1,
            r#"container "b" has no imagePullPolicy, which defaults to "IfNotPresent" for image "x:1", not "Always""#
        );
        assert_documented(&META);
    }
}

//! `pss/restrictedVolumes` (restricted): only volume types that cannot reach node or network
//! storage directly.

use palisade_core::{Control, Framework, PodView, RuleMeta, Severity};

use super::visit::{Quoted, Violation, field, volume_pointer, volumes};
use super::{Check, PssLevel};

pub(super) static META: RuleMeta = RuleMeta {
    id: "pss/restrictedVolumes",
    title: "Restricted volume type",
    severity: Severity::Medium,
    doc: r#"## What it does
Flags every volume that is not a `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`,
`image`, `persistentVolumeClaim`, `projected` or `secret` volume (Pod Security Standards,
restricted, all versions; like upstream, `image` is allowed at every version). Under restricted
it replaces `pss/hostPathVolumes`, so hostPath volumes are reported here.

## Why is this bad?
Other inline volume sources (`hostPath`, `nfs`, `iscsi`, `rbd`, `gitRepo`...) let a pod author
reach node files or storage servers directly, bypassing the PersistentVolume layer where
cluster administrators control access; `gitRepo` has also carried code-execution bugs.

## How to fix
Use a PersistentVolumeClaim bound to a PersistentVolume (or a CSI driver) for storage, and
ConfigMaps, Secrets or projected volumes for configuration.

## Example
```yaml
volumes:
- name: share
  nfs:                 # forbidden
    server: nfs.example.com
    path: /export
```
"#,
    remediation: "Replace the volume with a persistentVolumeClaim, csi, ephemeral or configuration volume.",
    controls: &[
        Control::new(Framework::Pss, "Restricted: Volume Types"),
        Control::new(Framework::Cis, "5.2.11"),
        Control::new(Framework::Nsa, "pod-security/host-paths"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

pub(super) static CHECK: Check =
    Check::new(&META, PssLevel::Restricted, &[0], run).overriding(&["hostPathVolumes"]);

const ALLOWED: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every other source the API knows, in the order upstream names the first one present.
const RESTRICTED: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn run(pod: &PodView<'_>, _since: u32, out: &mut Vec<Violation>) {
    for (index, name, volume) in volumes(pod) {
        if ALLOWED
            .iter()
            .any(|source| field(Some(volume), &[source]).is_some())
        {
            continue;
        }
        // A volume without any source the API knows is defaulted to an emptyDir before
        // admission sees it, so only a known restricted source can violate.
        let Some(source) = RESTRICTED
            .iter()
            .find(|source| field(Some(volume), &[source]).is_some())
        else {
            continue;
        };
        out.push(Violation::new(
            volume_pointer(pod, index, Some(source)),
            format!(
                "restricted volume types (volume {} uses restricted volume type {})",
                Quoted(name),
                Quoted(source)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::testing::{messages, pointers, run};

    #[test]
    fn restricted_sources_are_reported_at_the_source() {
        let spec = r#"{"containers": [], "volumes": [
            {"name": "ok", "image": {"reference": "r"}},
            {"name": "share", "nfs": {"server": "s", "path": "/"}},
            {"name": "both", "configMap": {"name": "c"}, "gitRepo": {"repository": "r"}}]}"#;
        let found = run(&CHECK, 0, spec);
        assert_eq!(
            messages(&found),
            [r#"restricted volume types (volume "share" uses restricted volume type "nfs")"#]
        );
        assert_eq!(pointers(&found), ["/spec/volumes/1/nfs"]);
    }

    #[test]
    fn volumes_without_a_known_source_default_to_empty_dir() {
        let spec = r#"{"containers": [], "volumes": [{"name": "bare"}, {"name": "odd", "somethingNew": {}}]}"#;
        assert!(run(&CHECK, 0, spec).is_empty());
    }
}

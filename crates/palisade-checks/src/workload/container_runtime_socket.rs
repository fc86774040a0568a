//! `workload/container-runtime-socket`: pods must not mount the container runtime's socket.

use palisade_core::{Control, Framework, FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

use super::text;

pub static META: RuleMeta = RuleMeta {
    id: "workload/container-runtime-socket",
    title: "Container runtime socket mounted",
    severity: Severity::Critical,
    doc: r#"## What it does
Flags `hostPath` volumes that expose a container runtime socket or its directory: Docker,
containerd, CRI-O, Podman (`/var/run/docker.sock`, `/run/containerd/containerd.sock`, ...).
General host paths are judged by `pss/hostPathVolumes`; this rule names the one that hands
over the node.

## Why is this bad?
Whoever talks to the runtime socket can start a privileged container with the host's root
filesystem mounted: it is root on the node, outside every admission control.

## How to fix
Remove the volume. Image builds belong in rootless builders (BuildKit rootless, kaniko);
monitoring agents should use the kubelet or CRI APIs through a dedicated, audited DaemonSet.

## Example
```yaml
volumes:
- name: docker
  hostPath: {path: /var/run/docker.sock}   # flagged
```
"#,
    remediation: "Remove the hostPath volume that mounts the container runtime socket.",
    controls: &[
        Control::new(Framework::Cis, "5.2.12"),
        Control::new(Framework::Nsa, "pod-security/host-paths"),
        Control::new(Framework::Mitre, "T1610"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

/// Runtime sockets and the directories that hold them.
const RUNTIME_PATHS: [&str; 8] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/var/run/podman",
    "/run/podman",
];

/// Whether mounting `path` exposes a runtime socket: the socket itself, a directory holding
/// it, or `/` and `/var/run` themselves.
fn exposes_runtime(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    if matches!(path, "" | "/run" | "/var/run" | "/var") {
        return true;
    }
    RUNTIME_PATHS.iter().any(|runtime| {
        runtime.strip_prefix(path).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            || path.strip_prefix(runtime).is_some_and(|rest| rest.starts_with('/'))
    })
}

pub struct ContainerRuntimeSocket;

impl Rule for ContainerRuntimeSocket {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, object: &Object, sink: &mut FindingSink<'_>) {
        let Some(pod) = PodView::of(object) else { return };
        let volumes = pod.spec_field("volumes").map_or(&[][..], Node::as_seq);
        for (index, volume) in volumes.iter().enumerate() {
            let Some(path) = volume.get("hostPath").and_then(|host| text(host, "path")) else { continue };
            if exposes_runtime(path) {
                sink.report(
                    pod.spec_pointer_to(&["volumes", &index.to_string(), "hostPath", "path"]),
                    format!(
                        "volume {:?} mounts host path {path:?}, which exposes the container runtime socket",
                        text(volume, "name").unwrap_or("")
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
    fn sockets_their_directories_and_parents_are_flagged() {
        for path in ["/var/run/docker.sock", "/run/containerd/containerd.sock", "/var/run/", "/", "/run/crio", "/var/run/containerd/"] {
            assert!(exposes_runtime(path), "{path}");
        }
        for path in ["/var/log", "/var/run/secrets", "/run/containerd-notes", "/var/run/docker.sock.bak", "/data"] {
            assert!(!exposes_runtime(path), "{path}");
        }
    }

    #[test]
    fn findings_point_at_the_host_path() {
        let spec = r#"{"volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}, {"name": "d", "hostPath": {"path": "/var/run/docker.sock"}}, {"name": "e", "emptyDir": {}}]}"#;
        assert_eq!(
            findings(&ContainerRuntimeSocket, &pod(spec)),
            [("/spec/volumes/1/hostPath/path".into(), r#"volume "d" mounts host path "/var/run/docker.sock", which exposes the container runtime socket"#.into())]
        );
        assert_documented(&META);
    }
}

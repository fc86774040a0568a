//! `workload/container-runtime-socket`: pods must not mount the container runtime's socket.

use palisade_core::{Control, Framework, FindingSink, Node, Object, PodView, Rule, RuleMeta, Severity};

use super::text;

pub static META: RuleMeta = RuleMeta {
    id: "workload/container-runtime-socket",
    title: "Container runtime socket mounted",
    severity: Severity::Critical,
    doc: r#"## What it does
Flags `hostPath` volumes that expose a container runtime socket or its directory: Docker
(rootful and rootless), containerd (also as packaged by k3s, RKE2 and MicroK8s), CRI-O,
cri-dockerd, the old dockershim and Podman (`/var/run/docker.sock`,
`/run/containerd/containerd.sock`, `/var/run/cri-dockerd.sock`, ...), and every directory above
them up to `/`. Paths are compared as the kubelet resolves them: `//`, `.` and `..` are folded
and `/var/run` is the same directory as `/run`.
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
        Control::new(Framework::Cis, "5.2.11"),
        Control::new(Framework::Nsa, "pod-security/host-paths"),
        Control::new(Framework::Mitre, "T1610"),
        Control::new(Framework::Mitre, "T1611"),
    ],
};

/// The documented socket paths of every container runtime a kubelet can sit on, and the
/// directories that hold them, written under `/run` (`/var/run` is a link to it on every current
/// distribution, and paths are folded onto `/run` before matching). `*` stands for one path
/// component (the user id of a rootless daemon's `$XDG_RUNTIME_DIR`).
const RUNTIME_PATHS: [&str; 14] = [
    // Docker Engine, its embedded containerd, and the rootless daemon.
    "/run/docker.sock",
    "/run/docker",
    "/run/user/*/docker.sock",
    // containerd, and its k3s/RKE2 and MicroK8s packagings.
    "/run/containerd",
    "/run/k3s/containerd",
    "/var/snap/microk8s/common/run",
    // CRI-O.
    "/run/crio",
    // cri-dockerd (Docker Engine behind the CRI since Kubernetes 1.24) and the dockershim it replaced.
    "/run/cri-dockerd.sock",
    "/run/dockershim.sock",
    // Podman, rootful and rootless.
    "/run/podman",
    "/run/user/*/podman",
    // Rootless containerd (nerdctl) and rootless Docker's own containerd.
    "/run/user/*/containerd",
    "/run/user/*/containerd-rootless",
    "/run/user/*/docker",
];

/// The path as the kubelet resolves it, lexically: repeated separators, `.` and `..` folded
/// (as Kyverno's `path_canonicalize` does), and `/var/run` written as `/run`.
fn canonical_components(path: &str) -> Vec<&str> {
    let mut components: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            _ => components.push(component),
        }
    }
    if components.starts_with(&["var", "run"]) {
        components.remove(0);
    }
    components
}

/// Whether mounting `path` exposes a runtime socket: the socket itself, a directory holding
/// it (up to `/`), or anything inside a runtime's socket directory.
fn exposes_runtime(path: &str) -> bool {
    let path = canonical_components(path);
    if path.is_empty() || path == ["var"] {
        return true;
    }
    RUNTIME_PATHS.iter().any(|runtime| {
        let runtime = canonical_components(runtime);
        path.iter().zip(&runtime).all(|(component, pattern)| *pattern == "*" || component == pattern)
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
        for path in [
            "/var/run/docker.sock",
            "/run/containerd/containerd.sock",
            "/var/run/",
            "/",
            "/run/crio",
            "/var/run/containerd/",
            "/var/run/cri-dockerd.sock",
            "/run/cri-dockerd.sock",
            "/var/run/dockershim.sock",
            "/run/k3s/containerd/containerd.sock",
            "/var/snap/microk8s/common/run/containerd.sock",
            "/run/user/1000/docker.sock",
            "/run/user/1000",
            "/run/user/0/podman/podman.sock",
            "/var/run/docker/containerd/containerd.sock",
            "/var",
        ] {
            assert!(exposes_runtime(path), "{path}");
        }
        for path in ["/var/log", "/var/run/secrets", "/run/containerd-notes", "/var/run/docker.sock.bak", "/data", "/run/user/1000/bus", "/var/lib/kubelet"] {
            assert!(!exposes_runtime(path), "{path}");
        }
    }

    #[test]
    fn paths_are_compared_as_the_kubelet_resolves_them() {
        for path in ["//var/run//docker.sock", "/var/run/./crio/crio.sock", "/tmp/../var/run/docker.sock", "/run/../run/cri-dockerd.sock/"] {
            assert!(exposes_runtime(path), "{path}");
        }
        assert!(!exposes_runtime("/run/containerd/../notes"));
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

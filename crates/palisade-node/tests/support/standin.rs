//! Stand-in Kubernetes nodes for live collection tests: a temporary root holding a node's
//! files with real modes (and owners, when the tests run as root), and stand-in processes
//! whose kernel name and command line are those of the components, so `ps -C kube-apiserver`
//! and `ps -ef | grep kube-apiserver` see them as on a node.
//!
//! A stand-in process is perl renamed: it sets its command line (`$0`) to the component's and
//! writes the component's name to `/proc/self/comm`, then sleeps; it carries the environment
//! given (etcd's `ETCD_*`), readable in `/proc/<pid>/environ` as a component's. Processes are killed when the [`StandInNode`] drops, panics
//! included. Stand-ins are processes of this machine that every collection sees, so one node
//! runs at a time per test binary ([`NodeSpec::start`] holds a lock).
//!
//! Presets: [`NodeSpec::kubeadm_control_plane`] (kubeadm 1.32 defaults),
//! [`NodeSpec::kind_control_plane`] and [`NodeSpec::eks_worker`]; adjust them with
//! [`NodeSpec::flag`], [`NodeSpec::file`] and friends before [`NodeSpec::start`].

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A file or directory of the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// The node's path (`/etc/kubernetes/admin.conf`).
    pub path: String,
    pub mode: u32,
    /// uid and gid, applied when the tests run as root.
    pub owner: (u32, u32),
    /// `None` for a directory.
    pub content: Option<String>,
}

/// A component process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The command as the node starts it (`kube-apiserver`, `/usr/bin/kubelet`); its base
    /// name, cut to 15 bytes by the kernel, is the process name.
    pub command: String,
    /// Arguments, flags mostly (`--anonymous-auth=false`).
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl ProcessSpec {
    pub fn new(command: &str, args: &[&str]) -> ProcessSpec {
        ProcessSpec {
            command: command.into(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            env: Vec::new(),
        }
    }

    /// The command's base name (`kube-controller-manager`); specs name processes by it.
    pub fn name(&self) -> &str {
        self.command.rsplit('/').next().unwrap_or_default()
    }

    /// The process name `ps -C` selects by: the base name cut to the kernel's 15 bytes.
    pub fn comm(&self) -> String {
        self.name().chars().take(15).collect()
    }

    /// The command line as `ps` shows it.
    pub fn command_line(&self) -> String {
        std::iter::once(self.command.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A node to stand up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSpec {
    pub files: Vec<FileSpec>,
    pub processes: Vec<ProcessSpec>,
}

const ROOT: (u32, u32) = (0, 0);

impl NodeSpec {
    /// Adds (or replaces) a file.
    pub fn file(mut self, path: &str, mode: u32, content: &str) -> NodeSpec {
        self.put(FileSpec {
            path: path.into(),
            mode,
            owner: ROOT,
            content: Some(content.into()),
        });
        self
    }

    /// Adds (or replaces) a directory.
    pub fn dir(mut self, path: &str, mode: u32) -> NodeSpec {
        self.put(FileSpec {
            path: path.into(),
            mode,
            owner: ROOT,
            content: None,
        });
        self
    }

    /// Changes the mode of a file or directory already in the spec.
    pub fn mode(mut self, path: &str, mode: u32) -> NodeSpec {
        self.file_mut(path).mode = mode;
        self
    }

    /// Changes the owner of a file or directory already in the spec.
    pub fn owner(mut self, path: &str, uid: u32, gid: u32) -> NodeSpec {
        self.file_mut(path).owner = (uid, gid);
        self
    }

    /// Removes a file or directory (and everything below it) from the spec.
    pub fn without(mut self, path: &str) -> NodeSpec {
        let below = format!("{}/", path.trim_end_matches('/'));
        self.files
            .retain(|file| file.path != path && !file.path.starts_with(&below));
        self
    }

    /// Adds (or replaces) a process, by name.
    pub fn process(mut self, process: ProcessSpec) -> NodeSpec {
        self.processes.retain(|old| old.name() != process.name());
        self.processes.push(process);
        self
    }

    /// Removes the process named `name`.
    pub fn without_process(mut self, name: &str) -> NodeSpec {
        self.processes.retain(|process| process.name() != name);
        self
    }

    /// Sets `flag` (`--profiling`) of process `name` to `value` (`Some("false")` gives
    /// `--profiling=false`, `None` a bare `--profiling`), replacing the flag if present.
    pub fn flag(mut self, name: &str, flag: &str, value: Option<&str>) -> NodeSpec {
        let process = self.process_mut(name);
        process
            .args
            .retain(|arg| arg != flag && !arg.starts_with(&format!("{flag}=")));
        process.args.push(match value {
            Some(value) => format!("{flag}={value}"),
            None => flag.to_owned(),
        });
        self
    }

    /// Removes `flag` from process `name`.
    pub fn without_flag(mut self, name: &str, flag: &str) -> NodeSpec {
        self.process_mut(name)
            .args
            .retain(|arg| arg != flag && !arg.starts_with(&format!("{flag}=")));
        self
    }

    /// Sets an environment variable of process `name`.
    pub fn env(mut self, name: &str, variable: &str, value: &str) -> NodeSpec {
        let process = self.process_mut(name);
        process.env.retain(|(old, _)| old != variable);
        process.env.push((variable.into(), value.into()));
        self
    }

    fn put(&mut self, file: FileSpec) {
        self.files.retain(|old| old.path != file.path);
        self.files.push(file);
    }

    fn file_mut(&mut self, path: &str) -> &mut FileSpec {
        self.files
            .iter_mut()
            .find(|file| file.path == path)
            .unwrap_or_else(|| panic!("no file {path} in the spec"))
    }

    fn process_mut(&mut self, name: &str) -> &mut ProcessSpec {
        self.processes
            .iter_mut()
            .find(|process| process.name() == name)
            .unwrap_or_else(|| panic!("no process {name} in the spec"))
    }

    /// Writes the files into a new temporary root and starts the processes.
    pub fn start(&self) -> StandInNode {
        let lock = NODE_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let root = tempfile::Builder::new()
            .prefix("palisade-standin-")
            .tempdir()
            .expect("temporary root");
        let as_root = std::fs::metadata(root.path()).expect("root metadata").uid() == 0;
        let mut files = self.files.clone();
        // Parents before children, so a directory's own mode is set after its files exist.
        files.sort_by(|a, b| a.path.cmp(&b.path));
        for file in &files {
            let path = root.path().join(file.path.trim_start_matches('/'));
            match &file.content {
                Some(content) => {
                    std::fs::create_dir_all(path.parent().expect("parent"))
                        .expect("parent directory");
                    std::fs::write(&path, content).expect("file");
                }
                None => std::fs::create_dir_all(&path).expect("directory"),
            }
        }
        for file in files.iter().rev() {
            let path = root.path().join(file.path.trim_start_matches('/'));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(file.mode))
                .expect("mode");
            if as_root {
                std::os::unix::fs::chown(&path, Some(file.owner.0), Some(file.owner.1))
                    .expect("owner");
            }
        }
        let mut node = StandInNode {
            root,
            as_root,
            processes: Vec::new(),
            _lock: lock,
        };
        for process in &self.processes {
            node.processes.push(spawn(process));
        }
        node
    }

    /// kubeadm 1.32's control plane node: static pod manifests (600), kubeconfigs (600),
    /// PKI (certificates 644, keys 600), the kubelet's config (644) and systemd drop-in (644),
    /// etcd's data directory (700), CNI files, and the five components with kubeadm's flags.
    pub fn kubeadm_control_plane() -> NodeSpec {
        let apiserver = ProcessSpec::new(
            "kube-apiserver",
            &[
                "--advertise-address=172.18.0.2",
                "--allow-privileged=true",
                "--authorization-mode=Node,RBAC",
                "--client-ca-file=/etc/kubernetes/pki/ca.crt",
                "--enable-admission-plugins=NodeRestriction",
                "--enable-bootstrap-token-auth=true",
                "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
                "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
                "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
                "--etcd-servers=https://127.0.0.1:2379",
                "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
                "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
                "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
                "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-username-headers=X-Remote-User",
                "--secure-port=6443",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
                "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
                "--service-cluster-ip-range=10.96.0.0/12",
                "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
                "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
            ],
        );
        let controller_manager = ProcessSpec::new(
            "kube-controller-manager",
            &[
                "--allocate-node-cidrs=true",
                "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
                "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
                "--bind-address=127.0.0.1",
                "--client-ca-file=/etc/kubernetes/pki/ca.crt",
                "--cluster-cidr=10.244.0.0/16",
                "--cluster-name=kubernetes",
                "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
                "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
                "--controllers=*,bootstrapsigner,tokencleaner",
                "--kubeconfig=/etc/kubernetes/controller-manager.conf",
                "--leader-elect=true",
                "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
                "--root-ca-file=/etc/kubernetes/pki/ca.crt",
                "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
                "--service-cluster-ip-range=10.96.0.0/12",
                "--use-service-account-credentials=true",
            ],
        );
        let scheduler = ProcessSpec::new(
            "kube-scheduler",
            &[
                "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
                "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
                "--bind-address=127.0.0.1",
                "--kubeconfig=/etc/kubernetes/scheduler.conf",
                "--leader-elect=true",
            ],
        );
        let etcd = ProcessSpec::new(
            "etcd",
            &[
                "--advertise-client-urls=https://172.18.0.2:2379",
                "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
                "--client-cert-auth=true",
                "--data-dir=/var/lib/etcd",
                "--experimental-initial-corrupt-check=true",
                "--experimental-watch-progress-notify-interval=5s",
                "--initial-advertise-peer-urls=https://172.18.0.2:2380",
                "--initial-cluster=cp-1=https://172.18.0.2:2380",
                "--key-file=/etc/kubernetes/pki/etcd/server.key",
                "--listen-client-urls=https://127.0.0.1:2379,https://172.18.0.2:2379",
                "--listen-metrics-urls=http://127.0.0.1:2381",
                "--listen-peer-urls=https://172.18.0.2:2380",
                "--name=cp-1",
                "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
                "--peer-client-cert-auth=true",
                "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
                "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
                "--snapshot-count=10000",
                "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
            ],
        );
        let kubelet = ProcessSpec::new(
            "/usr/bin/kubelet",
            &[
                "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                "--kubeconfig=/etc/kubernetes/kubelet.conf",
                "--config=/var/lib/kubelet/config.yaml",
                "--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock",
                "--pod-infra-container-image=registry.k8s.io/pause:3.10",
            ],
        );
        let proxy = ProcessSpec::new(
            "/usr/local/bin/kube-proxy",
            &[
                "--config=/var/lib/kube-proxy/config.conf",
                "--hostname-override=cp-1",
            ],
        );
        let mut spec = NodeSpec::default()
            .dir("/etc/kubernetes", 0o755)
            .dir("/etc/kubernetes/manifests", 0o755)
            .dir("/etc/kubernetes/pki", 0o755)
            .dir("/etc/kubernetes/pki/etcd", 0o755)
            .dir("/var/lib/etcd", 0o700)
            .dir("/var/lib/etcd/default.etcd", 0o700)
            .dir("/var/lib/etcd/member", 0o700)
            .dir("/var/lib/kubelet", 0o755)
            .file(
                "/var/lib/kubelet/config.yaml",
                0o644,
                KUBEADM_KUBELET_CONFIG,
            )
            .file(
                "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
                0o644,
                KUBEADM_DROP_IN,
            )
            .file(
                "/usr/lib/systemd/system/kubelet.service",
                0o644,
                "[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n",
            )
            .file("/usr/bin/kubelet", 0o755, &version_script("v1.32.2"))
            .file("/etc/cni/net.d/10-kindnet.conflist", 0o644, CNI_CONFLIST)
            .file(
                "/var/lib/cni/networks/kindnet/last_reserved_ip.0",
                0o600,
                "10.244.0.4\n",
            )
            .file("/var/lib/cni/networks/kindnet/lock", 0o600, "");
        for (name, process) in [
            ("kube-apiserver", &apiserver),
            ("kube-controller-manager", &controller_manager),
            ("kube-scheduler", &scheduler),
            ("etcd", &etcd),
        ] {
            spec = spec.file(
                &format!("/etc/kubernetes/manifests/{name}.yaml"),
                0o600,
                &static_pod(name, process),
            );
        }
        for (file, user) in [
            ("admin.conf", "kubernetes-admin"),
            ("super-admin.conf", "kubernetes-super-admin"),
            ("controller-manager.conf", "system:kube-controller-manager"),
            ("scheduler.conf", "system:kube-scheduler"),
            ("kubelet.conf", "system:node:cp-1"),
        ] {
            spec = spec.file(&format!("/etc/kubernetes/{file}"), 0o600, &kubeconfig(user));
        }
        for pair in [
            "ca",
            "apiserver",
            "apiserver-kubelet-client",
            "apiserver-etcd-client",
            "front-proxy-ca",
            "front-proxy-client",
            "etcd/ca",
            "etcd/server",
            "etcd/peer",
            "etcd/healthcheck-client",
        ] {
            spec = spec
                .file(
                    &format!("/etc/kubernetes/pki/{pair}.crt"),
                    0o644,
                    &pem("CERTIFICATE", pair),
                )
                .file(
                    &format!("/etc/kubernetes/pki/{pair}.key"),
                    0o600,
                    &pem("RSA PRIVATE KEY", pair),
                );
        }
        spec = spec
            .file(
                "/etc/kubernetes/pki/sa.key",
                0o600,
                &pem("RSA PRIVATE KEY", "sa"),
            )
            .file(
                "/etc/kubernetes/pki/sa.pub",
                0o644,
                &pem("PUBLIC KEY", "sa"),
            );
        for process in [
            apiserver,
            controller_manager,
            scheduler,
            etcd,
            kubelet,
            proxy,
        ] {
            spec = spec.process(process);
        }
        spec
    }

    /// kind's control plane node (kubeadm inside a container): kubeadm's files and flags, the
    /// kubelet started by kind's flags, containerd's socket under /run.
    pub fn kind_control_plane() -> NodeSpec {
        NodeSpec::kubeadm_control_plane()
            .flag(
                "kubelet",
                "--container-runtime-endpoint",
                Some("unix:///run/containerd/containerd.sock"),
            )
            .flag("kubelet", "--node-ip", Some("172.18.0.2"))
            .flag("kubelet", "--node-labels", Some(""))
            .flag(
                "kubelet",
                "--provider-id",
                Some("kind://docker/kind/kind-control-plane"),
            )
            .flag(
                "kubelet",
                "--runtime-cgroups",
                Some("/system.slice/containerd.service"),
            )
            .flag(
                "kube-proxy",
                "--hostname-override",
                Some("kind-control-plane"),
            )
    }

    /// An EKS managed node group worker (Amazon Linux 2): the kubelet's JSON config under
    /// /etc/kubernetes/kubelet, its kubeconfig under /var/lib/kubelet, a systemd unit, and
    /// kube-proxy; no control plane.
    pub fn eks_worker() -> NodeSpec {
        NodeSpec::default()
            .dir("/etc/kubernetes", 0o755)
            .dir("/etc/kubernetes/pki", 0o755)
            .file("/etc/kubernetes/pki/ca.crt", 0o644, &pem("CERTIFICATE", "eks-ca"))
            .file("/etc/kubernetes/kubelet/kubelet-config.json", 0o644, EKS_KUBELET_CONFIG)
            .file("/var/lib/kubelet/kubeconfig", 0o644, &kubeconfig("kubelet"))
            .file("/etc/systemd/system/kubelet.service", 0o644, "[Service]\nExecStart=/usr/bin/kubelet $KUBELET_ARGS\n")
            .file("/etc/systemd/system/kubelet.service.d/10-kubelet-args.conf", 0o644, "[Service]\nEnvironment='KUBELET_ARGS=--node-ip=192.168.1.10'\n")
            .file("/var/lib/kube-proxy/kubeconfig", 0o644, &kubeconfig("kube-proxy"))
            .file("/usr/bin/kubelet", 0o755, &version_script("v1.31.4-eks-aeac579"))
            .file("/etc/cni/net.d/10-aws.conflist", 0o644, "{\"cniVersion\": \"0.4.0\", \"name\": \"aws-cni\", \"plugins\": [{\"type\": \"aws-cni\"}]}\n")
            .process(ProcessSpec::new("/usr/bin/kubelet", &[
                "--config", "/etc/kubernetes/kubelet/kubelet-config.json",
                "--kubeconfig", "/var/lib/kubelet/kubeconfig",
                "--container-runtime-endpoint", "unix:///run/containerd/containerd.sock",
                "--image-credential-provider-config", "/etc/eks/image-credential-provider/config.json",
                "--image-credential-provider-bin-dir", "/etc/eks/image-credential-provider",
                "--node-ip=192.168.1.10",
                "--pod-infra-container-image=602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/pause:3.5",
                "--v=2",
                "--cloud-provider=external",
                "--hostname-override=ip-192-168-1-10.ec2.internal",
            ]))
            .process(ProcessSpec::new("kube-proxy", &[
                "--v=2",
                "--config=/var/lib/kube-proxy-config/config",
                "--hostname-override=ip-192-168-1-10.ec2.internal",
            ]))
    }
}

/// One stand-in node: its root and its processes, killed on drop.
pub struct StandInNode {
    root: tempfile::TempDir,
    as_root: bool,
    processes: Vec<StandIn>,
    _lock: MutexGuard<'static, ()>,
}

impl StandInNode {
    /// The directory holding the node's files (`--root`).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Whether files carry the owners of their spec (the tests run as root).
    pub fn owners_applied(&self) -> bool {
        self.as_root
    }

    /// The process id of the stand-in named `name` (`kube-controller-manager`).
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.processes
            .iter()
            .find(|process| process.name == name)
            .map(|process| process.child.id())
    }
}

/// One stand-in process, killed on drop.
struct StandIn {
    name: String,
    child: Child,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static NODE_LOCK: Mutex<()> = Mutex::new(());

/// perl renames itself as the component and sleeps. Setting `$0` writes the new command line
/// over the original arguments (longer than it, so it fits) and blanks the environment strings
/// that follow them in memory, which `/proc/<pid>/environ` shows; the environment read at
/// start is written back through `/proc/self/mem` (field 50 of `/proc/self/stat` is where it
/// starts). `$0` also sets the kernel name to its first 15 bytes, hence `/proc/self/comm` last.
const STAND_IN: &str = r#"
my $name = shift @ARGV;
my $environ = do { local $/; open(my $e, "<", "/proc/self/environ") or die "environ: $!"; <$e> };
$0 = join(" ", @ARGV);
my $stat = do { local $/; open(my $s, "<", "/proc/self/stat") or die "stat: $!"; <$s> };
my @fields = split / /, substr($stat, rindex($stat, ")") + 2);
open(my $mem, "+<", "/proc/self/mem") or die "mem: $!";
sysseek($mem, $fields[47], 0) or die "seek: $!";
syswrite($mem, $environ) == length($environ) or die "environment: $!";
close $mem;
open(my $comm, ">", "/proc/self/comm") or die "comm: $!";
print $comm $name;
close $comm;
sleep;
"#;

fn spawn(process: &ProcessSpec) -> StandIn {
    let comm = process.comm();
    let mut command = Command::new("perl");
    command
        .args(["-e", STAND_IN, "--", &comm, &process.command])
        .args(&process.args)
        // A component's environment is its container's, not the test's (which snapshots of
        // the generated env audit would otherwise record).
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .envs(process.env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = command.spawn().expect("perl runs the stand-in processes");
    let stand_in = StandIn {
        name: process.name().to_owned(),
        child,
    };
    let comm_file = format!("/proc/{}/comm", stand_in.child.id());
    let started = Instant::now();
    while std::fs::read_to_string(&comm_file)
        .map(|text| text.trim_end().to_owned())
        .ok()
        .as_deref()
        != Some(comm.as_str())
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stand-in {} did not rename itself",
            stand_in.name
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    stand_in
}

fn version_script(version: &str) -> String {
    format!(
        "#!/bin/sh\n# stand-in kubelet binary: answers --version\necho \"Kubernetes {version}\"\n"
    )
}

fn static_pod(name: &str, process: &ProcessSpec) -> String {
    let mut text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    component: {name}\n    tier: control-plane\n  name: {name}\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n    - {}\n",
        process.command
    );
    for arg in &process.args {
        text.push_str(&format!("    - {arg}\n"));
    }
    text.push_str(&format!("    image: registry.k8s.io/{name}:v1.32.2\n    name: {name}\n  hostNetwork: true\n  priorityClassName: system-node-critical\n"));
    text
}

fn kubeconfig(user: &str) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n    server: https://172.18.0.2:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: {user}\n  name: {user}@kubernetes\ncurrent-context: {user}@kubernetes\nkind: Config\nusers:\n- name: {user}\n  user:\n    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==\n"
    )
}

fn pem(kind: &str, name: &str) -> String {
    format!("-----BEGIN {kind}-----\nstand-in {name}\n-----END {kind}-----\n")
}

/// kubeadm 1.32's kubelet configuration, as `kubeadm init` writes it.
pub const KUBEADM_KUBELET_CONFIG: &str = "\
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: \"\"
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: \"0\"
    text:
      infoBufferSize: \"0\"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
resolvConf: /run/systemd/resolve/resolv.conf
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
";

/// kubeadm's systemd drop-in for the kubelet.
pub const KUBEADM_DROP_IN: &str = "\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"
Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
";

const CNI_CONFLIST: &str = "\
{
\t\"cniVersion\": \"0.3.1\",
\t\"name\": \"kindnet\",
\t\"plugins\": [
\t{
\t\t\"type\": \"ptp\",
\t\t\"ipMasq\": false,
\t\t\"ipam\": {
\t\t\t\"type\": \"host-local\",
\t\t\t\"dataDir\": \"/run/cni-ipam-state\",
\t\t\t\"routes\": [{ \"dst\": \"0.0.0.0/0\" }],
\t\t\t\"ranges\": [[{ \"subnet\": \"10.244.0.0/24\" }]]
\t\t},
\t\t\"mtu\": 1500
\t},
\t{
\t\t\"type\": \"portmap\",
\t\t\"capabilities\": { \"portMappings\": true }
\t}
\t]
}
";

/// The kubelet configuration of an EKS Amazon Linux 2 worker.
pub const EKS_KUBELET_CONFIG: &str = r#"{
  "kind": "KubeletConfiguration",
  "apiVersion": "kubelet.config.k8s.io/v1beta1",
  "address": "0.0.0.0",
  "authentication": {
    "anonymous": { "enabled": false },
    "webhook": { "cacheTTL": "2m0s", "enabled": true },
    "x509": { "clientCAFile": "/etc/kubernetes/pki/ca.crt" }
  },
  "authorization": {
    "mode": "Webhook",
    "webhook": { "cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s" }
  },
  "clusterDomain": "cluster.local",
  "hairpinMode": "hairpin-veth",
  "readOnlyPort": 0,
  "cgroupDriver": "systemd",
  "cgroupRoot": "/",
  "featureGates": { "RotateKubeletServerCertificate": true },
  "protectKernelDefaults": true,
  "serializeImagePulls": false,
  "serverTLSBootstrap": true,
  "tlsCipherSuites": [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256"
  ],
  "clusterDNS": ["10.100.0.10"],
  "evictionHard": { "memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%" },
  "kubeReserved": { "cpu": "70m", "ephemeral-storage": "1Gi", "memory": "442Mi" },
  "maxPods": 29
}
"#;

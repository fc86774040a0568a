//! The Kubernetes version of the node, found without an API server. kube-bench asks the API
//! server, then `kubectl version -o json`, then `kubelet --version` (cmd/util.go getKubeVersion);
//! a node audit asks the node first: the running kubelet's own binary, then kubectl.

use std::path::{Path, PathBuf};

use super::processes::{Process, ProcessTable};
use super::resolve::under_root;
use crate::runner::Runner;

/// How the version was found, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    /// `major.minor`, as kube-bench's BaseVersion.
    pub version: String,
    /// The command that told it.
    pub source: String,
}

/// Asks the running kubelet (any of `kubelet_bins`), else kubectl (on `PATH`, or in the
/// root's `/usr/bin` or `/usr/local/bin`).
///
/// The kubelet is run as its command line names it (`/usr/bin/kubelet`, read under `root`),
/// else through `/proc/<pid>/exe`.
pub fn detect(
    processes: &ProcessTable,
    kubelet_bins: &[String],
    root: Option<&Path>,
    runner: &Runner,
) -> Option<Detected> {
    let from_kubelet = processes
        .first_running(kubelet_bins)
        .and_then(|(candidate, process)| {
            // `hyperkube kubelet` runs as `hyperkube`; its first word is the executable.
            let mut words: Vec<String> = vec![quote(&executable(process, root).to_string_lossy())];
            words.extend(candidate.split_whitespace().skip(1).map(quote));
            words.push("--version".into());
            let command = words.join(" ");
            let output = runner.run(&command).output;
            kubelet_version(&output).map(|version| Detected {
                version,
                source: as_on_the_node(&command, root),
            })
        });
    from_kubelet.or_else(|| {
        let kubectl = find_kubectl(root)?;
        let command = format!("{} version -o json", quote(&kubectl.to_string_lossy()));
        let output = runner.run(&command).output;
        kubectl_version(&output).map(|version| Detected {
            version,
            source: as_on_the_node(&command, root),
        })
    })
}

/// The command as the node would name it: without the `--root` prefix of the executable.
fn as_on_the_node(command: &str, root: Option<&Path>) -> String {
    match root.and_then(Path::to_str).filter(|root| !root.is_empty() && *root != "/") {
        Some(root) => command.replace(root.trim_end_matches('/'), ""),
        None => command.to_owned(),
    }
}

/// kube-bench's getVersionFromKubeletOutput: `Kubernetes v1.32.2` gives `1.32`.
fn kubelet_version(output: &str) -> Option<String> {
    let pattern = regex::Regex::new(r"Kubernetes v(\d+.\d+)").expect("valid pattern");
    Some(pattern.captures(output)?[1].to_owned())
}

/// kube-bench's getVersionFromKubectlOutput: `serverVersion` major and minor, the minor
/// without a `+` (`"minor": "32+"`). Output that is not the JSON document gives nothing.
fn kubectl_version(output: &str) -> Option<String> {
    let document: serde_json::Value = serde_json::from_str(output).ok()?;
    let server = document
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("serverVersion"))?
        .1;
    let field = |name: &str| {
        server
            .as_object()?
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))?
            .1
            .as_str()
            .map(str::to_owned)
    };
    let (major, minor) = (field("major")?, field("minor")?.replace('+', ""));
    (!major.is_empty() && !minor.is_empty()).then(|| format!("{major}.{minor}"))
}

fn executable(process: &Process, root: Option<&Path>) -> PathBuf {
    let named = process.command_line.split(' ').next().unwrap_or_default();
    let path = under_root(named, root);
    if named.starts_with('/') && path.is_file() {
        path
    } else {
        PathBuf::from(format!("/proc/{}/exe", process.pid))
    }
}

fn find_kubectl(root: Option<&Path>) -> Option<PathBuf> {
    let mut places: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Some(root) = root {
        places.extend(["usr/bin", "usr/local/bin"].map(|dir| root.join(dir)));
    }
    places
        .into_iter()
        .map(|dir| dir.join("kubectl"))
        .find(|path| path.is_file())
}

fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_and_kubectl_outputs_read_as_kube_bench_reads_them() {
        assert_eq!(
            kubelet_version("Kubernetes v1.32.2\n").as_deref(),
            Some("1.32")
        );
        assert_eq!(
            kubelet_version("Kubernetes v1.30.4-eks-a737599\n").as_deref(),
            Some("1.30")
        );
        assert_eq!(kubelet_version("kubelet: unknown flag\n"), None);
        let kubectl = r#"{"clientVersion": {"major": "1", "minor": "33"}, "serverVersion": {"major": "1", "minor": "31+", "gitVersion": "v1.31.2-eks-7f9249a"}}"#;
        assert_eq!(kubectl_version(kubectl).as_deref(), Some("1.31"));
        assert_eq!(
            kubectl_version(r#"{"clientVersion": {"major": "1", "minor": "33"}}"#),
            None
        );
        assert_eq!(
            kubectl_version("The connection to the server localhost:8080 was refused"),
            None
        );
    }

    #[test]
    fn a_running_kubelet_is_asked_for_its_version() {
        // A stand-in "kubelet": a shell script named kubelet that prints a version.
        let dir = tempfile::tempdir().unwrap();
        let kubelet = dir.path().join("kubelet");
        std::fs::write(&kubelet, "#!/bin/sh\ncase $1 in --version) echo 'Kubernetes v1.33.1' ;; *) exec sleep 30 ;; esac\n").unwrap();
        std::fs::set_permissions(
            &kubelet,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let mut child = std::process::Command::new(&kubelet)
            .arg("--config=/x")
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let processes = ProcessTable::from_processes(vec![Process {
            pid: child.id(),
            comm: "kubelet".into(),
            command_line: format!("{} --config=/x", kubelet.display()),
        }]);
        let runner = Runner::new(crate::runner::RunnerOptions::default()).unwrap();
        let detected = detect(
            &processes,
            &["hyperkube kubelet".into(), "kubelet".into()],
            None,
            &runner,
        );
        let _ = child.kill();
        let _ = child.wait();
        let detected = detected.expect("version");
        assert_eq!(detected.version, "1.33");
        assert_eq!(
            detected.source,
            format!("'{}' --version", kubelet.display())
        );
        // A command line without a path to run: the process's executable, here /bin/sh's.
        let process = Process {
            pid: 1234,
            comm: "kubelet".into(),
            command_line: "kubelet --v=2".into(),
        };
        assert_eq!(executable(&process, None), Path::new("/proc/1234/exe"));
    }

    #[test]
    fn a_detection_command_is_recorded_as_the_node_names_it() {
        let root = Path::new("/host/");
        assert_eq!(as_on_the_node("'/host/usr/bin/kubelet' --version", Some(root)), "'/usr/bin/kubelet' --version");
        assert_eq!(as_on_the_node("'/usr/bin/kubelet' --version", None), "'/usr/bin/kubelet' --version");
        assert_eq!(as_on_the_node("kubectl version -o json", Some(Path::new("/"))), "kubectl version -o json");
    }
}

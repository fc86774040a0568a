//! The variables of one node type, resolved as kube-bench's runChecks resolves them
//! (cmd/util.go getBinaries, getFiles and findConfigFile).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::CollectError;
use super::processes::ProcessTable;
use crate::config::{Component, FileKind};
use crate::variables::Variables;

/// What resolution found for one node type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub variables: Variables,
    pub notes: Vec<String>,
    /// Every component with binaries to look for is running, or optional (kube-bench's
    /// getBinaries succeeds).
    pub running: bool,
}

/// Resolves the variables of `components`. Files are looked for under `root` (when given);
/// the values are the node's paths.
///
/// Binaries: the first candidate that runs, else the component's name when it is optional. A
/// required component that does not run leaves the whole file without binary variables, as
/// kube-bench's getBinaries then returns nothing; a note says so. Files: the first candidate
/// that exists, else the `default…` value, else the component's name.
pub fn resolve(
    components: &[Component],
    processes: &ProcessTable,
    root: Option<&Path>,
) -> Result<Resolved, CollectError> {
    let mut resolved = Resolved {
        running: true,
        ..Resolved::default()
    };
    for component in components
        .iter()
        .filter(|component| !component.bins.is_empty())
    {
        match processes.first_running(&component.bins) {
            Some((candidate, _)) => {
                resolved
                    .variables
                    .bin
                    .insert(component.name.clone(), candidate.to_owned());
            }
            None if component.optional => {
                resolved
                    .variables
                    .bin
                    .insert(component.name.clone(), component.name.clone());
            }
            None => {
                resolved.running = false;
                resolved.notes.push(format!(
                    "unable to detect running programs for component {:?} (looked for: {}); \
                     as in kube-bench, no binary variable is substituted in this file",
                    component.name,
                    component.bins.join(", ")
                ));
            }
        }
    }
    if !resolved.running {
        resolved.variables.bin.clear();
    }
    for kind in FileKind::ALL {
        for component in components {
            let file = match first_existing(&component.candidates(kind), root)? {
                Some(found) => found,
                None => component
                    .default_file(kind)
                    .unwrap_or_else(|| component.name.clone()),
            };
            let values = match kind {
                FileKind::Conf => &mut resolved.variables.conf,
                FileKind::Svc => &mut resolved.variables.svc,
                FileKind::Kubeconfig => &mut resolved.variables.kubeconfig,
                FileKind::Cafile => &mut resolved.variables.cafile,
                FileKind::Datadir => &mut resolved.variables.datadir,
            };
            values.insert(component.name.clone(), file);
        }
    }
    Ok(resolved)
}

/// The first candidate that exists (following symlinks, as Go's os.Stat), read under `root`.
/// A failure other than "does not exist" or "not a directory" stops the collection, as it
/// stops kube-bench.
fn first_existing(
    candidates: &[String],
    root: Option<&Path>,
) -> Result<Option<String>, CollectError> {
    for candidate in candidates {
        match std::fs::metadata(under_root(candidate, root)) {
            Ok(_) => return Ok(Some(candidate.clone())),
            Err(error)
                if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {}
            Err(error) => {
                return Err(CollectError::Stat {
                    path: candidate.clone(),
                    message: error.to_string(),
                });
            }
        }
    }
    Ok(None)
}

/// Where the node's `path` is seen from here.
pub fn under_root(path: &str, root: Option<&Path>) -> PathBuf {
    match root {
        Some(root) if path.starts_with('/') => root.join(path.trim_start_matches('/')),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::processes::Process;
    use crate::config::Config;

    fn components(text: &str) -> Vec<Component> {
        Config::parse("c.yaml", text)
            .unwrap()
            .components("master")
            .unwrap()
    }

    const MASTER: &str = "master:\n  components: [apiserver, etcd, kubernetes]\n  \
        apiserver:\n    bins: [kube-apiserver, apiserver]\n    confs: [/etc/a.yaml, /etc/b.yaml]\n    defaultconf: /etc/default.yaml\n  \
        etcd:\n    optional: true\n    bins: [etcd]\n    datadirs: [/var/lib/etcd/x, /var/lib/etcd/y]\n  \
        kubernetes:\n    defaultconf: /etc/kubernetes/config\n";

    fn running(names: &[&str]) -> ProcessTable {
        ProcessTable::from_processes(
            names
                .iter()
                .map(|name| Process {
                    pid: 1,
                    comm: (*name).into(),
                    command_line: format!("/usr/bin/{name} --v=2"),
                })
                .collect(),
        )
    }

    #[test]
    fn running_binaries_and_existing_files_are_chosen() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/b.yaml"), "").unwrap();
        std::fs::create_dir_all(root.path().join("var/lib/etcd/y")).unwrap();
        let resolved = resolve(
            &components(MASTER),
            &running(&["kube-apiserver"]),
            Some(root.path()),
        )
        .unwrap();
        assert!(resolved.running);
        assert!(resolved.notes.is_empty());
        let v = &resolved.variables;
        assert_eq!(v.bin["apiserver"], "kube-apiserver");
        assert_eq!(v.bin["etcd"], "etcd");
        assert!(!v.bin.contains_key("kubernetes"));
        assert_eq!(v.conf["apiserver"], "/etc/b.yaml");
        assert_eq!(v.conf["etcd"], "etcd");
        assert_eq!(v.conf["kubernetes"], "/etc/kubernetes/config");
        assert_eq!(v.datadir["etcd"], "/var/lib/etcd/y");
        assert_eq!(v.svc["apiserver"], "apiserver");
        // Without the root, nothing exists.
        let resolved = resolve(
            &components(MASTER),
            &running(&["kube-apiserver"]),
            Some(Path::new("/nonexistent")),
        )
        .unwrap();
        assert_eq!(resolved.variables.conf["apiserver"], "/etc/default.yaml");
    }

    #[test]
    fn a_required_component_not_running_leaves_no_binary_variables() {
        let resolved = resolve(&components(MASTER), &running(&["etcd"]), None).unwrap();
        assert!(!resolved.running);
        assert!(resolved.variables.bin.is_empty());
        assert_eq!(resolved.notes.len(), 1);
        assert!(
            resolved.notes[0]
                .starts_with("unable to detect running programs for component \"apiserver\""),
            "{:?}",
            resolved.notes
        );
        assert_eq!(resolved.variables.conf["apiserver"], "/etc/default.yaml");
    }

    #[test]
    fn a_file_that_cannot_be_looked_at_stops_resolution() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink("a.yaml", root.path().join("etc/a.yaml")).unwrap();
        let error = resolve(&components(MASTER), &running(&[]), Some(root.path())).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("error looking for file /etc/a.yaml: "),
            "{error}"
        );
        // A path through a file is "not a directory": looked past, as kube-bench does.
        std::fs::remove_file(root.path().join("etc/a.yaml")).unwrap();
        std::fs::write(root.path().join("etc/a.yaml"), "").unwrap();
        let components =
            components(&MASTER.replace("/etc/a.yaml, /etc/b.yaml", "/etc/a.yaml/x, /etc/a.yaml"));
        let resolved = resolve(&components, &running(&[]), Some(root.path())).unwrap();
        assert_eq!(resolved.variables.conf["apiserver"], "/etc/a.yaml");
    }
}

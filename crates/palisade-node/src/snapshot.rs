//! What `palisade node collect` records on a node and `palisade node check --snapshot`
//! evaluates anywhere. Documented in docs/formats/node-snapshot.md.

use crate::variables::Variables;

pub const API_VERSION: &str = "palisade.dev/v1alpha1";
pub const KIND: &str = "NodeSnapshot";

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub api_version: String,
    pub kind: String,
    /// The node's name (`--node-name`, else `NODE_NAME`, else the host name).
    pub node: String,
    /// RFC 3339, UTC.
    pub collected_at: String,
    pub palisade_version: String,
    /// The Kubernetes minor version detected or given (`1.32`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// How `kubernetes_version` was detected (`kubelet --version`); absent when it was given,
    /// which kube-bench reports as the detected version `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_detected_by: Option<String>,
    /// The benchmark the audits were collected for (`cis-1.12`).
    pub benchmark: String,
    /// `--root`: where the node's filesystem was read from, when not `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// The control files collected, in section order.
    pub targets: Vec<Target>,
    /// Every audit script run, once each, sorted by command.
    pub audits: Vec<Audit>,
}

/// One control file's node type and the variables substituted into it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// `master`, `node`, `etcd`, `controlplane`, `policies`, ...
    pub node_type: String,
    pub variables: Variables,
    /// What detection noticed, e.g. a non-optional component not running.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One audit script, after substitution and trimming, as run by `/bin/sh`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    pub command: String,
    /// Standard output and standard error, interleaved as written.
    pub output: String,
    /// The exit status; absent when the shell did not exit normally (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_status: Option<i32>,
    /// Why the script did not exit normally: `signal: killed`, `timed out after 10s`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Snapshot {
    /// The recorded run of `command` (already substituted and trimmed).
    pub fn audit(&self, command: &str) -> Option<&Audit> {
        self.audits
            .binary_search_by(|audit| audit.command.as_str().cmp(command))
            .ok()
            .map(|index| &self.audits[index])
    }
}

/// A snapshot file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct SnapshotError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Snapshot {
    /// Reads a snapshot written by [`Snapshot::to_json`]; refuses other documents by their
    /// `apiVersion` and `kind` rather than guessing.
    pub fn from_json(file: &str, text: &str) -> Result<Snapshot, SnapshotError> {
        let error = |line, column, message: String| SnapshotError {
            file: file.to_owned(),
            line,
            column,
            message,
        };
        let mut snapshot: Snapshot = serde_json::from_str(text)
            .map_err(|e| error(e.line(), e.column(), format!("not a node snapshot: {e}")))?;
        if snapshot.api_version != API_VERSION || snapshot.kind != KIND {
            return Err(error(
                1,
                1,
                format!(
                    "not a node snapshot: apiVersion {:?} and kind {:?}, expected {API_VERSION:?} and {KIND:?}",
                    snapshot.api_version, snapshot.kind
                ),
            ));
        }
        // Lookups binary-search the commands; a file edited by hand may list them in any order.
        snapshot.audits.sort_by(|a, b| a.command.cmp(&b.command));
        snapshot.audits.dedup_by(|a, b| a.command == b.command);
        Ok(snapshot)
    }

    /// The documented file layout: two-space indentation and a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a snapshot serializes");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            node: "cp-1".into(),
            collected_at: "2026-12-03T22:00:00Z".into(),
            palisade_version: "0.1.0".into(),
            kubernetes_version: Some("1.32".into()),
            version_detected_by: Some("kubelet --version".into()),
            benchmark: "cis-1.12".into(),
            root: None,
            targets: vec![Target {
                node_type: "master".into(),
                variables: Variables::default(),
                notes: vec![],
            }],
            audits: vec![
                Audit {
                    command: "b".into(),
                    output: "x\n".into(),
                    exit_status: Some(0),
                    error: None,
                },
                Audit {
                    command: "a".into(),
                    output: String::new(),
                    exit_status: None,
                    error: Some("timed out after 10s".into()),
                },
            ],
        }
    }

    #[test]
    fn a_snapshot_round_trips_and_is_looked_up_by_command() {
        let written = sample().to_json();
        let read = Snapshot::from_json("node.json", &written).unwrap();
        assert_eq!(
            read.audits
                .iter()
                .map(|a| a.command.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(read.audit("b").unwrap().output, "x\n");
        assert!(read.audit("c").is_none());
        assert_eq!(
            Snapshot::from_json("node.json", &read.to_json())
                .unwrap()
                .to_json(),
            read.to_json()
        );
        assert!(
            written.ends_with("}\n")
                && written.contains("\n  \"apiVersion\": \"palisade.dev/v1alpha1\"")
        );
    }

    #[test]
    fn other_documents_are_refused_with_their_position() {
        let error = Snapshot::from_json("x.json", "{\"apiVersion\": 1}").unwrap_err();
        assert_eq!((error.file.as_str(), error.line), ("x.json", 1));
        assert!(error.message.starts_with("not a node snapshot"), "{error}");
        let other = sample().to_json().replace("NodeSnapshot", "Pod");
        assert!(
            Snapshot::from_json("x.json", &other)
                .unwrap_err()
                .to_string()
                .contains("kind \"Pod\"")
        );
        let broken = Snapshot::from_json("x.json", "{\n  \"node\": ").unwrap_err();
        assert_eq!(broken.line, 2);
    }
}

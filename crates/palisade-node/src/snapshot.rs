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

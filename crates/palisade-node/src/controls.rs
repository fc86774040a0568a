//! kube-bench control files: the model and its loader.
//!
//! One YAML document per file (`master.yaml`, `node.yaml`, ...) with `groups` of `checks`. Scalars
//! are kept as their source text: `compare.value: no` is the string `no`, as kube-bench's
//! decoder reads it, never a boolean.

use std::sync::Arc;

/// A benchmark folder (`cis-1.12`): its control files, sorted by section id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Benchmark {
    /// The folder name, e.g. `cis-1.12`.
    pub name: String,
    pub sections: Vec<Controls>,
}

/// One control file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controls {
    /// The file as the user named it (or `cis-1.12/master.yaml` for a bundled one).
    pub file: Arc<str>,
    pub version: String,
    pub id: String,
    pub text: String,
    /// `type`: master, node, etcd, controlplane, policies, managedservices.
    pub node_type: String,
    pub groups: Vec<Group>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub text: String,
    /// `type`: empty or `skip`.
    pub kind: String,
    pub checks: Vec<Check>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub id: String,
    pub text: String,
    pub audit: String,
    pub audit_env: String,
    pub audit_config: String,
    /// `type`: empty, `manual` or `skip`.
    pub kind: String,
    /// `None` when the check has no `tests` key at all (a different state than no items).
    pub tests: Option<Tests>,
    pub remediation: String,
    pub scored: bool,
    pub use_multiple_values: bool,
    pub disable_env_testing: bool,
    /// 1-based line of the check in its file, for messages.
    pub line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tests {
    pub bin_op: String,
    pub items: Vec<TestItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestItem {
    pub flag: String,
    pub path: String,
    pub env: String,
    pub set: bool,
    pub compare: Compare,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compare {
    pub op: String,
    /// The scalar's source text.
    pub value: String,
}

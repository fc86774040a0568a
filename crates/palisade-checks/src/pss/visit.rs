//! Walking a pod the way PSA does: the pod-level security context, then init, regular and
//! ephemeral containers, with the JSON pointers findings need. Nothing here allocates unless a
//! violation is reported.

use std::fmt;

use palisade_core::{ContainerView, Node, PodView, pointer_under};

/// One violation a check implementation found: where, and PSA's reason with its detail.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

impl Violation {
    pub fn new(pointer: String, message: String) -> Self {
        Self { pointer, message }
    }
}

/// Who set a security context value: the pod or one of its containers.
pub enum Setter<'a> {
    Pod,
    Container(ContainerView<'a>),
}

impl Setter<'_> {
    /// The pointer to `path` under this setter's `securityContext`.
    pub fn pointer(&self, pod: &PodView<'_>, path: &[&str]) -> String {
        let security_context = match self {
            Setter::Pod => pod.spec_pointer_to(&["securityContext"]),
            Setter::Container(container) => container.field(&["securityContext"]),
        };
        pointer_under(&security_context, path)
    }
}

/// Reads like PSA's subjects: `pod` or `container "app"`.
impl fmt::Display for Setter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setter::Pod => f.write_str("pod"),
            Setter::Container(container) => write!(f, "container {}", Quoted(container.name())),
        }
    }
}

/// A string in double quotes with escapes, as Go's `%q` prints it.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Whether a check looks at the pod-level security context as well as the containers'.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    PodAndContainers,
    Containers,
}

/// A value at `path` under `node`; JSON null counts as unset, as it decodes to a nil pointer.
pub fn field<'a>(node: Option<&'a Node>, path: &[&str]) -> Option<&'a Node> {
    path.iter()
        .try_fold(node?, |node, key| node.get(key))
        .filter(|value| !value.is_null())
}

/// A string field as Go decodes it: unset reads as the empty string.
pub fn text_or_empty<'a>(node: Option<&'a Node>, path: &[&str]) -> &'a str {
    field(node, path).and_then(Node::as_str).unwrap_or("")
}

/// The string items of a list field with their indexes.
pub fn strings_at<'a>(
    node: Option<&'a Node>,
    path: &[&str],
) -> impl Iterator<Item = (usize, &'a str)> {
    field(node, path)
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(index, item)| item.as_str().map(|text| (index, text)))
}

/// Calls `judge` with the `securityContext` of the pod (for `Scope::PodAndContainers`) and of
/// every container; each `Some((path, message))` it returns becomes a violation at `path`
/// under that security context.
pub fn report_setters<'a>(
    pod: &PodView<'a>,
    scope: Scope,
    out: &mut Vec<Violation>,
    mut judge: impl FnMut(&Setter<'a>, Option<&'a Node>) -> Option<(&'static [&'static str], String)>,
) {
    let mut visit = |setter: Setter<'a>, context: Option<&'a Node>| {
        if let Some((path, message)) = judge(&setter, context) {
            out.push(Violation::new(setter.pointer(pod, path), message));
        }
    };
    if scope == Scope::PodAndContainers {
        visit(Setter::Pod, pod.security_context());
    }
    for container in pod.containers() {
        visit(Setter::Container(container), container.security_context());
    }
}

/// A field that the pod may set for all containers or each container may set for itself
/// (runAsNonRoot, seccompProfile).
pub struct PodOrContainerField {
    /// The field under `securityContext`.
    pub field: &'static str,
    /// Where a violation points, under `securityContext`.
    pub pointer: &'static [&'static str],
    /// Whether a set value satisfies the requirement.
    pub accepts: fn(&Node) -> bool,
    /// The message for a setter whose value is not accepted.
    pub forbidden: fn(&Setter<'_>, &Node) -> String,
    /// The message for a container that leaves the field unset while the pod does not satisfy
    /// the requirement either.
    pub unset: fn(&Setter<'_>) -> String,
}

impl PodOrContainerField {
    /// Reports every pod or container that sets a value this field does not accept.
    pub fn report_forbidden(&self, pod: &PodView<'_>, out: &mut Vec<Violation>) {
        report_setters(pod, Scope::PodAndContainers, out, |setter, context| {
            let value = field(context, &[self.field])?;
            (!(self.accepts)(value)).then(|| (self.pointer, (self.forbidden)(setter, value)))
        });
    }

    /// PSA's two-step judgement: forbidden values first; only when there are none, the
    /// containers left unset without an accepted pod-level value.
    pub fn report(&self, pod: &PodView<'_>, out: &mut Vec<Violation>) {
        let before = out.len();
        self.report_forbidden(pod, out);
        if out.len() > before || field(pod.security_context(), &[self.field]).is_some() {
            return;
        }
        report_setters(pod, Scope::Containers, out, |setter, context| {
            field(context, &[self.field])
                .is_none()
                .then(|| (self.pointer, (self.unset)(setter)))
        });
    }
}

/// `spec.os.name: windows`: checks that Windows cannot honour exempt such pods from v1.25.
pub fn is_windows(pod: &PodView<'_>) -> bool {
    text_or_empty(Some(pod.spec), &["os", "name"]) == "windows"
}

/// `spec.hostUsers: false`: the pod runs in its own user namespace.
pub fn in_user_namespace(pod: &PodView<'_>) -> bool {
    pod.spec_field("hostUsers").and_then(Node::as_bool) == Some(false)
}

/// Each pod volume with its index, name and definition.
pub fn volumes<'a>(pod: &PodView<'a>) -> impl Iterator<Item = (usize, &'a str, &'a Node)> {
    pod.spec_field("volumes")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, volume)| (index, text_or_empty(Some(volume), &["name"]), volume))
}

/// The pointer to a field of the volume at `index`.
pub fn volume_pointer(pod: &PodView<'_>, index: usize, key: Option<&str>) -> String {
    let index = index.to_string();
    match key {
        Some(key) => pod.spec_pointer_to(&["volumes", &index, key]),
        None => pod.spec_pointer_to(&["volumes", &index]),
    }
}

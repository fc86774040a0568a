//! Roles, bindings and subjects read from objects, and the resolver that turns them into
//! effective permissions: aggregation, roleRef resolution, subject matching.

use std::fmt;

use palisade_core::{Node, Object};
use palisade_core::{LabelSelector, Labels, labels_of, project};

use crate::rule::{PolicyRule, Request};

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// The label the API server puts on the RBAC objects it creates at bootstrap.
pub const BOOTSTRAP_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

#[derive(Clone, Debug)]
pub struct Role<'a> {
    /// `None` for the built-in `cluster-admin` Palisade assumes when the input lacks it.
    pub object: Option<&'a Object>,
    pub kind: RoleKind,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Labels,
    /// The rules written in the object.
    pub rules: Vec<PolicyRule>,
    /// `Some` for an aggregated ClusterRole: its effective rules are those of the ClusterRoles
    /// these selectors pick, and the rules written in it are replaced by the controller.
    pub aggregation: Option<Vec<LabelSelector>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

#[derive(Clone, Debug)]
pub struct Binding<'a> {
    pub object: &'a Object,
    pub kind: BindingKind,
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: RoleKind,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    /// The role `roleRef` names, when the input (or the built-ins) has it.
    pub role: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    /// For a ServiceAccount, its namespace: as written, else the RoleBinding's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Index in the binding's `subjects`, for pointers.
    #[serde(skip)]
    pub index: usize,
}

/// Where a grant applies.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Cluster,
    Namespace(String),
}

/// A rule as a role holds it after aggregation: which role wrote it, and which rule it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleRef {
    pub role: usize,
    pub rule: usize,
}

/// Something the resolver could not use, with the field that says why (the same shape as the
/// network model's).
pub use palisade_core::Problem;

#[derive(Clone, Debug, Default)]
pub struct Rbac<'a> {
    pub roles: Vec<Role<'a>>,
    pub bindings: Vec<Binding<'a>>,
    /// Per role (same index), its effective rules after aggregation.
    effective: Vec<Vec<RuleRef>>,
    pub problems: Vec<Problem<'a>>,
}

/// One subject of one binding that a request or an identity matches.
#[derive(Clone, Copy, Debug)]
pub struct Grant<'r, 'a> {
    pub binding: &'r Binding<'a>,
    pub subject: &'r Subject,
    pub role: &'r Role<'a>,
    /// The first effective rule that allows the request.
    pub rule: &'r PolicyRule,
    /// The role that wrote `rule`: `role` itself, or an aggregated one.
    pub rule_role: &'r Role<'a>,
}

/// Who a request is made as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `None` for a bare group (`group:NAME`), which matches only bindings to that group.
    pub user: Option<String>,
    pub groups: Vec<String>,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(namespace)) => write!(f, "ServiceAccount {namespace}/{}", self.name),
            (kind, _) => write!(f, "{kind:?} {}", self.name),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Cluster => f.write_str("cluster-wide"),
            Scope::Namespace(namespace) => write!(f, "in namespace {namespace}"),
        }
    }
}

impl fmt::Display for Role<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{:?} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{:?} {}", self.kind, self.name),
        }
    }
}

impl fmt::Display for Binding<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{:?} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{:?} {}", self.kind, self.name),
        }
    }
}

impl Binding<'_> {
    pub fn scope(&self) -> Scope {
        match (self.kind, &self.namespace) {
            (BindingKind::RoleBinding, Some(namespace)) => Scope::Namespace(namespace.clone()),
            _ => Scope::Cluster,
        }
    }

    /// Whether the API server created this binding at bootstrap.
    pub fn is_bootstrap(&self) -> bool {
        is_bootstrap(self.object)
    }

    /// `roleRef` as written: `ClusterRole admin`.
    pub fn role_ref(&self) -> String {
        format!("{:?} {}", self.role_kind, self.role_name)
    }
}

impl Role<'_> {
    pub fn is_bootstrap(&self) -> bool {
        self.object.is_none_or(is_bootstrap)
    }
}

fn is_bootstrap(object: &Object) -> bool {
    object.label(BOOTSTRAP_LABEL.0) == Some(BOOTSTRAP_LABEL.1)
}

impl Identity {
    /// Parses `serviceaccount:NS:NAME` (or the username `system:serviceaccount:NS:NAME`),
    /// `user:NAME` or `group:NAME`. Users get the groups the API server adds: every
    /// authenticated user is in `system:authenticated`, a ServiceAccount also in
    /// `system:serviceaccounts` and `system:serviceaccounts:NS`, and `system:anonymous` in
    /// `system:unauthenticated` only.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, rest) = text.split_once(':').ok_or_else(|| format!("`{text}`: expected serviceaccount:NS:NAME, user:NAME or group:NAME"))?;
        match kind.to_ascii_lowercase().as_str() {
            "serviceaccount" | "sa" => match rest.split_once(':') {
                Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() => Ok(Self::service_account(namespace, name)),
                _ => Err(format!("`{text}`: a ServiceAccount is serviceaccount:NAMESPACE:NAME")),
            },
            "system" => match rest.strip_prefix("serviceaccount:").and_then(|sa| sa.split_once(':')) {
                Some((namespace, name)) => Ok(Self::service_account(namespace, name)),
                None => Ok(Self::user(text)),
            },
            "user" if !rest.is_empty() => Ok(Self::user(rest)),
            "group" if !rest.is_empty() => Ok(Self { user: None, groups: vec![rest.to_owned()] }),
            _ => Err(format!("`{text}`: expected serviceaccount:NS:NAME, user:NAME or group:NAME")),
        }
    }

    pub fn user(name: &str) -> Self {
        if let Some((namespace, sa)) = name.strip_prefix("system:serviceaccount:").and_then(|sa| sa.split_once(':')) {
            return Self::service_account(namespace, sa);
        }
        let group = if name == "system:anonymous" { "system:unauthenticated" } else { "system:authenticated" };
        Self { user: Some(name.to_owned()), groups: vec![group.to_owned()] }
    }

    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self {
            user: Some(format!("system:serviceaccount:{namespace}:{name}")),
            groups: vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_owned(),
            ],
        }
    }

    /// Whether `subject` of a binding names this identity (`appliesToUser`).
    pub fn matches(&self, subject: &Subject) -> bool {
        match subject.kind {
            SubjectKind::User => self.user.as_deref() == Some(subject.name.as_str()),
            SubjectKind::Group => self.groups.contains(&subject.name),
            SubjectKind::ServiceAccount => subject.namespace.as_ref().is_some_and(|namespace| {
                self.user.as_deref() == Some(format!("system:serviceaccount:{namespace}:{}", subject.name).as_str())
            }),
        }
    }
}

/// The part of an object the RBAC model reads, positions kept, or `None` for non-RBAC objects.
pub fn retain(object: &Object) -> Option<Object> {
    let kinds = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];
    if object.group() != RBAC_GROUP || !kinds.contains(&object.kind()) {
        return None;
    }
    Some(project(
        object,
        &[
            &["apiVersion"],
            &["kind"],
            &["metadata", "name"],
            &["metadata", "namespace"],
            &["metadata", "labels"],
            &["rules"],
            &["aggregationRule"],
            &["roleRef"],
            &["subjects"],
        ],
    ))
}

impl<'a> Rbac<'a> {
    pub fn from_objects(objects: impl IntoIterator<Item = &'a Object>) -> Self {
        let mut rbac = Rbac::default();
        let mut bindings = Vec::new();
        for object in objects {
            if object.group() != RBAC_GROUP {
                continue;
            }
            match object.kind() {
                "Role" => rbac.add_role(object, RoleKind::Role),
                "ClusterRole" => rbac.add_role(object, RoleKind::ClusterRole),
                "RoleBinding" => bindings.push((object, BindingKind::RoleBinding)),
                "ClusterRoleBinding" => bindings.push((object, BindingKind::ClusterRoleBinding)),
                _ => {}
            }
        }
        if !rbac.roles.iter().any(|role| role.kind == RoleKind::ClusterRole && role.name == "cluster-admin") {
            rbac.roles.push(builtin_cluster_admin());
        }
        for (object, kind) in bindings {
            rbac.add_binding(object, kind);
        }
        rbac.aggregate();
        rbac
    }

    /// The effective rules of a role, each with the role that wrote it.
    pub fn rules_of(&self, role: usize) -> impl Iterator<Item = (&Role<'a>, &PolicyRule)> {
        self.effective[role].iter().map(|r| (&self.roles[r.role], &self.roles[r.role].rules[r.rule]))
    }

    /// The role a binding resolves to.
    pub fn role_of(&self, binding: &Binding<'a>) -> Option<&Role<'a>> {
        binding.role.map(|index| &self.roles[index])
    }

    /// Every (binding, subject) that may make `request`. With a namespace, the request is
    /// made in it: ClusterRoleBindings and that namespace's RoleBindings count. Without one,
    /// every binding counts, each in its own scope.
    pub fn who_can(&self, request: &Request, namespace: Option<&str>) -> Vec<Grant<'_, 'a>> {
        let mut grants = Vec::new();
        for binding in &self.bindings {
            if let (Some(wanted), Scope::Namespace(scope)) = (namespace, binding.scope()) {
                if wanted != scope {
                    continue;
                }
            }
            let Some(role_index) = binding.role else { continue };
            let Some((rule_role, rule)) = self.rules_of(role_index).find(|(_, rule)| rule.allows(request)) else { continue };
            for subject in &binding.subjects {
                grants.push(Grant { binding, subject, role: &self.roles[role_index], rule, rule_role });
            }
        }
        grants
    }

    /// The bindings whose subjects include `identity`, with the matching subject.
    pub fn bindings_for<'r>(&'r self, identity: &'r Identity) -> impl Iterator<Item = (&'r Binding<'a>, &'r Subject)> {
        self.bindings.iter().filter_map(move |binding| {
            binding.subjects.iter().find(|subject| identity.matches(subject)).map(|subject| (binding, subject))
        })
    }

    fn add_role(&mut self, object: &'a Object, kind: RoleKind) {
        let rules = object
            .root
            .get("rules")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(index, rule)| PolicyRule::parse(rule, format!("/rules/{index}")))
            .collect();
        let aggregation = match (kind, object.root.get("aggregationRule")) {
            (RoleKind::ClusterRole, Some(rule)) => {
                let selectors = rule.get("clusterRoleSelectors").map(Node::as_seq).unwrap_or_default();
                let mut parsed = Vec::new();
                for (index, selector) in selectors.iter().enumerate() {
                    match LabelSelector::parse(selector) {
                        Ok(selector) => parsed.push(selector),
                        Err(error) => self.problem(object, format!("/aggregationRule/clusterRoleSelectors/{index}{}", error.pointer), error.message),
                    }
                }
                Some(parsed)
            }
            _ => None,
        };
        self.roles.push(Role {
            object: Some(object),
            kind,
            namespace: object.namespace().map(str::to_owned),
            name: object.name().to_owned(),
            labels: labels_of(object.metadata().and_then(|meta| meta.get("labels"))),
            rules,
            aggregation,
        });
    }

    fn add_binding(&mut self, object: &'a Object, kind: BindingKind) {
        let namespace = match kind {
            BindingKind::RoleBinding => object.namespace().map(str::to_owned),
            BindingKind::ClusterRoleBinding => None,
        };
        let role_ref = object.root.get("roleRef");
        let field = |key: &str| role_ref.and_then(|node| node.get(key)).and_then(Node::as_str).unwrap_or_default().to_owned();
        let role_kind = match (field("kind").as_str(), kind) {
            ("Role", BindingKind::RoleBinding) => Some(RoleKind::Role),
            ("ClusterRole", _) => Some(RoleKind::ClusterRole),
            _ => None,
        };
        let role_name = field("name");
        let subjects = self.subjects(object, namespace.as_deref());
        let Some(role_kind) = role_kind else {
            let message = match kind {
                BindingKind::RoleBinding => "roleRef.kind must be Role or ClusterRole",
                BindingKind::ClusterRoleBinding => "a ClusterRoleBinding can only reference a ClusterRole",
            };
            self.problem(object, "/roleRef/kind".to_owned(), message.to_owned());
            return;
        };
        // A RoleBinding's Role lives in the binding's namespace; a ClusterRole is cluster-wide
        // and a RoleBinding to it grants its rules in the binding's namespace only.
        let role = self.roles.iter().position(|role| {
            role.kind == role_kind
                && role.name == role_name
                && (role_kind == RoleKind::ClusterRole || role.namespace == namespace)
        });
        if role.is_none() {
            let message = format!("roleRef names {role_kind:?} `{role_name}`, which is not in the input; its permissions are unknown");
            self.problem(object, "/roleRef/name".to_owned(), message);
        }
        self.bindings.push(Binding { object, kind, namespace, name: object.name().to_owned(), role_kind, role_name, subjects, role });
    }

    fn subjects(&mut self, object: &'a Object, binding_namespace: Option<&str>) -> Vec<Subject> {
        let mut subjects = Vec::new();
        for (index, node) in object.root.get("subjects").map(Node::as_seq).unwrap_or_default().iter().enumerate() {
            let text = |key: &str| node.get(key).and_then(Node::as_str).filter(|text| !text.is_empty());
            let name = text("name").unwrap_or_default().to_owned();
            let kind = match text("kind") {
                Some("User") => SubjectKind::User,
                Some("Group") => SubjectKind::Group,
                Some("ServiceAccount") => SubjectKind::ServiceAccount,
                other => {
                    self.problem(object, format!("/subjects/{index}/kind"), format!("unknown subject kind `{}`", other.unwrap_or_default()));
                    continue;
                }
            };
            let namespace = match kind {
                SubjectKind::ServiceAccount => {
                    let namespace = text("namespace").or(binding_namespace).map(str::to_owned);
                    if namespace.is_none() {
                        self.problem(object, format!("/subjects/{index}"), "a ServiceAccount subject of a ClusterRoleBinding needs a namespace; it matches nothing".to_owned());
                    }
                    namespace
                }
                _ => None,
            };
            subjects.push(Subject { kind, name, namespace, index });
        }
        subjects
    }

    /// Computes every role's effective rules. An aggregated ClusterRole gets the rules of every
    /// other ClusterRole its selectors pick (by name order, duplicates dropped), as the
    /// aggregation controller writes them; chains of aggregated roles settle by iterating to a
    /// fixed point, as the controller's repeated reconciles would.
    fn aggregate(&mut self) {
        self.effective = self
            .roles
            .iter()
            .enumerate()
            .map(|(index, role)| match role.aggregation {
                Some(_) => Vec::new(),
                None => (0..role.rules.len()).map(|rule| RuleRef { role: index, rule }).collect(),
            })
            .collect();
        let mut by_name: Vec<usize> = (0..self.roles.len()).filter(|&i| self.roles[i].kind == RoleKind::ClusterRole).collect();
        by_name.sort_by(|&a, &b| self.roles[a].name.cmp(&self.roles[b].name));
        for _ in 0..=self.roles.len() {
            let mut changed = false;
            for (index, role) in self.roles.iter().enumerate() {
                let Some(selectors) = &role.aggregation else { continue };
                let mut rules: Vec<RuleRef> = Vec::new();
                for selector in selectors {
                    for &source in &by_name {
                        if source == index || !selector.matches(&self.roles[source].labels) {
                            continue;
                        }
                        for candidate in &self.effective[source] {
                            let text = &self.roles[candidate.role].rules[candidate.rule];
                            if !rules.iter().any(|r| self.roles[r.role].rules[r.rule].same_grant(text)) {
                                rules.push(*candidate);
                            }
                        }
                    }
                }
                if rules != self.effective[index] {
                    self.effective[index] = rules;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    fn problem(&mut self, object: &'a Object, pointer: String, message: String) {
        self.problems.push(Problem { object, pointer, message });
    }
}

/// `cluster-admin` as the API server bootstraps it, for inputs that bind to it without
/// containing it (application manifests usually do).
fn builtin_cluster_admin() -> Role<'static> {
    Role {
        object: None,
        kind: RoleKind::ClusterRole,
        namespace: None,
        name: "cluster-admin".to_owned(),
        labels: Labels::from([(BOOTSTRAP_LABEL.0.to_owned(), BOOTSTRAP_LABEL.1.to_owned())]),
        rules: vec![
            PolicyRule::new(&["*"], &["*"], &["*"], &[], "/rules/0"),
            PolicyRule::new(&["*"], &[], &[], &["*"], "/rules/1"),
        ],
        aggregation: None,
    }
}

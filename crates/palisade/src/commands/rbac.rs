//! `palisade rbac`: who can do what, from RBAC manifests or a cluster dump.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use palisade_core::Object;
use palisade_rbac::{Binding, Grant, Identity, PolicyRule, Rbac, Request, Role};
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct RbacArgs {
    #[command(subcommand)]
    pub command: RbacCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum RbacCommand {
    /// List the subjects that may make a request, with the bindings and roles that grant it.
    WhoCan {
        /// The verb: get, list, watch, create, update, patch, delete, escalate, bind, ...
        verb: String,
        /// `RESOURCE[.GROUP][/SUBRESOURCE]` (`pods/exec`, `deployments.apps`), or a
        /// non-resource URL starting with `/`.
        resource: String,
        /// Ask about a request in this namespace (ClusterRoleBindings and its RoleBindings);
        /// without it, every binding counts, each in its own scope.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// The object's name, for rules restricted by resourceNames.
        #[arg(long)]
        name: Option<String>,
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Files or directories with the RBAC objects; `-` reads standard input.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
    /// Show every binding that applies to a subject and the rules it grants.
    Access {
        /// `serviceaccount:NAMESPACE:NAME`, `user:NAME` or `group:NAME`.
        subject: String,
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: RbacArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        RbacCommand::WhoCan { verb, resource, namespace, name, format, paths } => {
            let (objects, input_errors) = load(&paths, palisade_rbac::retain);
            let rbac = Rbac::from_objects(&objects);
            let request = Request::parse(&verb, &resource, name.as_deref());
            let grants = rbac.who_can(&request, namespace.as_deref());
            let out = match format {
                Format::Text => who_can_text(&rbac, &request, namespace.as_deref(), &grants),
                Format::Json => pretty(&who_can_json(&rbac, &request, namespace.as_deref(), &grants)),
            };
            print!("{out}");
            Ok(exit_code(input_errors))
        }
        RbacCommand::Access { subject, format, paths } => {
            let identity = Identity::parse(&subject).map_err(anyhow::Error::msg)?;
            let (objects, input_errors) = load(&paths, palisade_rbac::retain);
            let rbac = Rbac::from_objects(&objects);
            let out = match format {
                Format::Text => access_text(&rbac, &subject, &identity),
                Format::Json => pretty(&access_json(&rbac, &subject, &identity)),
            };
            print!("{out}");
            Ok(exit_code(input_errors))
        }
    }
}

/// Reads every object under `paths` and keeps what `retain` keeps; input errors go to
/// standard error and are counted.
pub(crate) fn load(paths: &[PathBuf], retain: fn(&Object) -> Option<Object>) -> (Vec<Object>, usize) {
    let loaded = palisade_load::load_paths(paths);
    for error in &loaded.errors {
        eprintln!("error: {error}");
    }
    (loaded.objects.iter().filter_map(retain).collect(), loaded.errors.len())
}

/// 2 when some input could not be read (the answer may be incomplete), else 0.
pub(crate) fn exit_code(input_errors: usize) -> ExitCode {
    if input_errors > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS }
}

pub(crate) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

fn who_can_text(rbac: &Rbac<'_>, request: &Request, namespace: Option<&str>, grants: &[Grant<'_, '_>]) -> String {
    let mut out = String::new();
    let scope = namespace.map_or_else(|| "anywhere".to_owned(), |ns| format!("in namespace {ns}"));
    let _ = writeln!(out, "Who can {request} {scope}:");
    if grants.is_empty() {
        out.push_str("  nobody, through the bindings in the input\n");
    }
    for (subject, grants) in by_subject(grants) {
        let _ = writeln!(out, "  {subject}");
        for grant in grants {
            let _ = writeln!(
                out,
                "    {} via {} → {} (rule {} of {}) [{}]",
                grant.binding.scope(),
                grant.binding,
                grant.role,
                grant.rule.pointer,
                grant.rule_role,
                grant.binding.object.file_line()
            );
        }
    }
    out.push_str(&problems_text(rbac));
    out
}

fn by_subject<'g, 'r, 'a>(grants: &'g [Grant<'r, 'a>]) -> BTreeMap<String, Vec<&'g Grant<'r, 'a>>> {
    let mut map: BTreeMap<String, Vec<&Grant<'_, '_>>> = BTreeMap::new();
    for grant in grants {
        map.entry(grant.subject.to_string()).or_default().push(grant);
    }
    map
}

fn who_can_json(rbac: &Rbac<'_>, request: &Request, namespace: Option<&str>, grants: &[Grant<'_, '_>]) -> Value {
    let subjects: Vec<Value> = by_subject(grants)
        .into_values()
        .map(|grants| {
            let granted: Vec<Value> = grants
                .iter()
                .map(|grant| {
                    json!({
                        "scope": grant.binding.scope().to_string(),
                        "binding": binding_json(grant.binding),
                        "role": role_json(grant.role),
                        "rule": rule_json(grant.rule_role, grant.rule),
                    })
                })
                .collect();
            json!({"subject": grants[0].subject, "grants": granted})
        })
        .collect();
    json!({
        "request": request.to_string(),
        "namespace": namespace,
        "subjects": subjects,
        "problems": problems_json(rbac),
    })
}

fn access_text(rbac: &Rbac<'_>, subject: &str, identity: &Identity) -> String {
    let mut out = String::new();
    let user = identity.user.as_deref().unwrap_or("(any member)");
    let _ = writeln!(out, "{subject}: user {user}, groups {}", identity.groups.join(", "));
    let mut any = false;
    for (binding, matched) in rbac.bindings_for(identity) {
        any = true;
        let _ = writeln!(out, "  {} via {} (as {matched}) → {} [{}]", binding.scope(), binding, binding.role_ref(), binding.object.file_line());
        match binding.role {
            None => out.push_str("    role not in the input: permissions unknown\n"),
            Some(role) => {
                for (_, rule) in rbac.rules_of(role) {
                    let _ = writeln!(out, "    {}", rule_text(rule));
                }
            }
        }
    }
    if !any {
        out.push_str("  no binding in the input applies\n");
    }
    out.push_str(&problems_text(rbac));
    out
}

fn access_json(rbac: &Rbac<'_>, subject: &str, identity: &Identity) -> Value {
    let bindings: Vec<Value> = rbac
        .bindings_for(identity)
        .map(|(binding, matched)| {
            let rules: Option<Vec<Value>> =
                binding.role.map(|role| rbac.rules_of(role).map(|(source, rule)| rule_json(source, rule)).collect());
            json!({
                "scope": binding.scope().to_string(),
                "binding": binding_json(binding),
                "matchedSubject": matched,
                "role": rbac.role_of(binding).map(role_json),
                "rules": rules,
            })
        })
        .collect();
    json!({
        "subject": subject,
        "user": identity.user,
        "groups": identity.groups,
        "bindings": bindings,
        "problems": problems_json(rbac),
    })
}

/// `get, list  secrets, configmaps  (core)` or `get  /healthz`.
fn rule_text(rule: &PolicyRule) -> String {
    let verbs = rule.verbs.join(", ");
    if rule.resources.is_empty() {
        return format!("{verbs}  {}", rule.non_resource_urls.join(", "));
    }
    let groups: Vec<&str> = rule.api_groups.iter().map(|g| if g.is_empty() { "core" } else { g.as_str() }).collect();
    let mut text = format!("{verbs}  {}  ({})", rule.resources.join(", "), groups.join(", "));
    if !rule.resource_names.is_empty() {
        let _ = write!(text, "  named {}", rule.resource_names.join(", "));
    }
    text
}

fn binding_json(binding: &Binding<'_>) -> Value {
    json!({"kind": binding.kind, "namespace": binding.namespace, "name": binding.name, "source": binding.object.source_json()})
}

fn role_json(role: &Role<'_>) -> Value {
    json!({"kind": role.kind, "namespace": role.namespace, "name": role.name,
           "source": role.object.map_or(json!("built-in"), Object::source_json)})
}

fn rule_json(source_role: &Role<'_>, rule: &PolicyRule) -> Value {
    let mut value = serde_json::to_value(rule).unwrap_or_default();
    value["definedIn"] = json!({"kind": source_role.kind, "namespace": source_role.namespace,
                                "name": source_role.name, "pointer": rule.pointer});
    value
}

fn problems_text(rbac: &Rbac<'_>) -> String {
    let mut out = String::new();
    for problem in &rbac.problems {
        let _ = writeln!(out, "note: {} {} {}: {}", problem.object.file_line(), problem.object.reference(), problem.pointer, problem.message);
    }
    out
}

fn problems_json(rbac: &Rbac<'_>) -> Vec<Value> {
    rbac.problems
        .iter()
        .map(|p| json!({"object": p.object.reference(), "pointer": p.pointer, "message": p.message, "source": p.object.source_json()}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = "
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: app}]
";

    #[test]
    fn who_can_json_lists_subjects_with_binding_role_and_rule() {
        let loaded = palisade_load::load_str(INPUT, "rbac.yaml");
        let rbac = Rbac::from_objects(&loaded.objects);
        let request = Request::parse("create", "pods/exec", None);
        let grants = rbac.who_can(&request, Some("shop"));
        let json = who_can_json(&rbac, &request, Some("shop"), &grants);
        assert_eq!(json["subjects"][0]["subject"], json!({"kind": "ServiceAccount", "name": "app", "namespace": "shop"}));
        let grant = &json["subjects"][0]["grants"][0];
        assert_eq!(grant["binding"]["source"], json!({"file": "rbac.yaml", "line": 2}));
        assert_eq!(grant["role"]["source"], json!("built-in"));
        assert_eq!(grant["rule"]["definedIn"]["pointer"], json!("/rules/0"));
        assert!(who_can_text(&rbac, &request, Some("bank"), &rbac.who_can(&request, Some("bank"))).contains("nobody"));
    }
}

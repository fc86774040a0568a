//! Policy files: OperationPolicies, Gatekeeper ConstraintTemplates and Constraints, Kyverno
//! ClusterPolicies, Policies and PolicyExceptions, ValidatingAdmissionPolicies with their bindings
//! and params, read from files and directories (every `.yaml`, `.yml` and `.json` below a directory, in name order).
//! A Constraint is bound to the template of its kind once every file is read, so templates and
//! constraints may sit in any file and any order.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use palisade_core::{InputError, Object};
use palisade_gatekeeper::{Constraint, ExpansionTemplate, Template, is_constraint, is_expansion_template};

use crate::OperationPolicy;
use crate::fields::Reader;

/// Everything the policy files hold.
#[derive(Default)]
pub struct Policies {
    pub operation: Vec<OperationPolicy>,
    pub constraints: Vec<Constraint>,
    /// Gatekeeper ExpansionTemplates: the resources workloads generate, judged as theirs.
    pub expansions: Vec<ExpansionTemplate>,
    pub kyverno: Vec<palisade_kyverno::policy::Policy>,
    /// Kyverno PolicyExceptions: they exempt objects from the rules they name.
    pub kyverno_exceptions: Vec<palisade_kyverno::exception::Exception>,
    /// ValidatingAdmissionPolicies, their bindings and the param objects they name.
    pub admission_policies: palisade_vap::PolicySet,
    /// Problems that did not stop a policy from loading.
    pub warnings: Vec<String>,
}

/// Reads every policy in `paths`; a document of another kind is an error naming its file and
/// line.
pub fn load_policies(paths: &[impl AsRef<Path>]) -> Result<Policies, InputError> {
    load_policies_with_installed(paths, &[])
}

/// Reads every policy in `paths`, plus `installed`: the policies, PolicyExceptions and param
/// objects a live cluster holds (`scan --cluster`). A file's policy replaces the installed one of
/// the same kind, namespace and name, so a change can be tried against the cluster before it is
/// applied. The API server accepted every installed object, so one Palisade cannot read is a
/// warning and is left out, never an error that stops the scan.
pub fn load_policies_with_installed(paths: &[impl AsRef<Path>], installed: &[Object]) -> Result<Policies, InputError> {
    let mut documents: Vec<(Reader, Object, Source)> = Vec::new();
    for path in paths.iter().flat_map(|path| palisade_load::manifest_files(path.as_ref())) {
        let display = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|error| InputError {
            file: display.as_str().into(),
            line: 0,
            column: 0,
            message: format!("cannot read the policy file: {error}"),
        })?;
        let loaded = palisade_load::load_str(&text, &display);
        if let Some(error) = loaded.errors.into_iter().next() {
            return Err(error);
        }
        let reader = Reader::new(&display);
        documents.extend(loaded.objects.into_iter().map(|object| (reader.clone(), object, Source::File)));
    }
    let given: HashSet<(String, String, String, String)> = documents.iter().map(|(_, object, _)| identity(object)).collect();
    documents.extend(
        installed
            .iter()
            .filter(|object| !given.contains(&identity(object)))
            .map(|object| (Reader::new(&object.origin.file), object.clone(), Source::Installed)),
    );
    assemble(documents)
}

/// Where a policy document comes from, which decides what a document Palisade cannot read does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Named by the user: an error stops the run.
    File,
    /// Read from the cluster: a warning, and the document is left out.
    Installed,
}

/// Group, kind, namespace and name: what names one object in a cluster.
fn identity(object: &Object) -> (String, String, String, String) {
    (object.group().to_owned(), object.kind().to_owned(), object.namespace().unwrap_or_default().to_owned(), object.name().to_owned())
}

/// Collects the problems of installed documents as warnings and returns those of files.
struct Problems<'a> {
    warnings: &'a mut Vec<String>,
}

impl Problems<'_> {
    fn raise(&mut self, source: Source, object: &Object, error: InputError) -> Result<(), InputError> {
        match source {
            Source::File => Err(error),
            Source::Installed => {
                self.warnings.push(format!("{}: {} {}: not evaluated: {}", error.file, object.kind(), qualified_name(object), error.message));
                Ok(())
            }
        }
    }
}

fn qualified_name(object: &Object) -> String {
    match object.namespace() {
        Some(namespace) => format!("{namespace}/{}", object.name()),
        None => object.name().to_owned(),
    }
}

fn assemble(documents: Vec<(Reader, Object, Source)>) -> Result<Policies, InputError> {
    let mut policies = Policies::default();
    let mut warnings = Vec::new();
    let mut problems = Problems { warnings: &mut warnings };
    let mut templates: Vec<Arc<Template>> = Vec::new();
    let mut constraints: Vec<(Reader, Object, Source)> = Vec::new();
    let mut admission_policies: Vec<serde_json::Value> = Vec::new();
    // Objects of other kinds: param objects of some ValidatingAdmissionPolicy, or errors.
    let mut others: Vec<(Reader, Object, Source)> = Vec::new();
    for (reader, object, source) in documents {
        if object.kind() == "OperationPolicy" {
            match crate::operation::parse(&reader, &object, &mut policies.warnings) {
                Ok(policy) => policies.operation.push(policy),
                Err(error) => problems.raise(source, &object, error)?,
            }
        } else if object.kind() == "ConstraintTemplate" {
            let template = match Template::parse(&object) {
                Ok(template) => template,
                Err(message) => {
                    problems.raise(source, &object, reader.error(&object.root, message))?;
                    continue;
                }
            };
            if let Some(reason) = template.unsupported() {
                policies.warnings.push(format!("{}:{}: ConstraintTemplate {}: not evaluated: {reason}", reader.file, object.root.mark.line, template.name));
            }
            if templates.iter().any(|known| known.kind == template.kind) {
                problems.raise(source, &object, reader.error(&object.root, format!("a second ConstraintTemplate defines {}", template.kind)))?;
                continue;
            }
            templates.push(Arc::new(template));
        } else if is_expansion_template(&object) {
            match ExpansionTemplate::parse(&object) {
                Ok(expansion) if policies.expansions.iter().any(|known| known.name == expansion.name) => {
                    problems.raise(source, &object, reader.error(&object.root, format!("a second ExpansionTemplate is named {}", expansion.name)))?;
                }
                Ok(expansion) => policies.expansions.push(expansion),
                Err(message) => problems.raise(source, &object, reader.error(&object.root, message))?,
            }
        } else if palisade_kyverno::policy::is_policy(object.api_version(), object.kind()) {
            match palisade_kyverno::policy::Policy::parse(object.json()) {
                Ok(policy) => policies.kyverno.push(policy),
                Err(message) => problems.raise(source, &object, reader.error(&object.root, message))?,
            }
        } else if palisade_kyverno::exception::is_exception(object.api_version(), object.kind()) {
            match palisade_kyverno::exception::Exception::parse(object.json()) {
                Ok(exception) => policies.kyverno_exceptions.push(exception),
                Err(message) => problems.raise(source, &object, reader.error(&object.root, message))?,
            }
        } else if is_constraint(&object) {
            constraints.push((reader, object, source));
        } else if object.group() == "admissionregistration.k8s.io" && matches!(object.kind(), "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding") {
            admission_policies.push(object.json().clone());
        } else {
            others.push((reader, object, source));
        }
    }
    let param_kinds: Vec<(String, String)> = admission_policies
        .iter()
        .filter_map(|policy| policy.pointer("/spec/paramKind"))
        .map(|kind| {
            let text = |key: &str| kind.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            (text("apiVersion"), text("kind"))
        })
        .collect();
    for (reader, object, source) in others {
        if param_kinds.iter().any(|(api_version, kind)| api_version == object.api_version() && kind == object.kind()) {
            admission_policies.push(object.json().clone());
        } else {
            let message = format!(
                "expected an OperationPolicy ({}), a Gatekeeper ConstraintTemplate, Constraint or ExpansionTemplate, a Kyverno ClusterPolicy, Policy or PolicyException, a ValidatingAdmissionPolicy, its binding or a param object it names, found {} {}",
                crate::operation::API_VERSIONS.join(" or "),
                object.api_version(),
                object.kind()
            );
            problems.raise(source, &object, reader.error(&object.root, message))?;
        }
    }
    let (set, vap_warnings) = palisade_vap::PolicySet::from_objects(admission_policies);
    policies.warnings.extend(vap_warnings.into_iter().map(|warning| format!("{}: {}", warning.object, warning.message)));
    policies.admission_policies = set;
    for (reader, object, source) in constraints {
        let Some(template) = templates.iter().find(|template| template.kind == object.kind()) else {
            let message = format!("Constraint {} {}: no ConstraintTemplate among the policies defines the kind {}", object.kind(), object.name(), object.kind());
            problems.raise(source, &object, reader.error(&object.root, message))?;
            continue;
        };
        match Constraint::parse(&object, template.clone()) {
            Ok(constraint) => policies.constraints.push(constraint),
            Err(message) => problems.raise(source, &object, reader.error(&object.root, message))?,
        }
    }
    policies.warnings.extend(warnings);
    Ok(policies)
}

//! Policy files: OperationPolicies, Gatekeeper ConstraintTemplates and Constraints, read from
//! files and directories (every `.yaml`, `.yml` and `.json` below a directory, in name order).
//! A Constraint is bound to the template of its kind once every file is read, so templates and
//! constraints may sit in any file and any order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::{InputError, Object};
use palisade_gatekeeper::{Constraint, Template, is_constraint};

use crate::OperationPolicy;
use crate::fields::Reader;

/// Everything the policy files hold.
#[derive(Default)]
pub struct Policies {
    pub operation: Vec<OperationPolicy>,
    pub constraints: Vec<Constraint>,
    /// Problems that did not stop a policy from loading.
    pub warnings: Vec<String>,
}

/// Reads every policy in `paths`; a document of another kind is an error naming its file and
/// line.
pub fn load_policies(paths: &[impl AsRef<Path>]) -> Result<Policies, InputError> {
    let mut policies = Policies::default();
    let mut templates: Vec<Arc<Template>> = Vec::new();
    let mut constraints: Vec<(Reader, Object)> = Vec::new();
    for path in paths.iter().flat_map(|path| files(path.as_ref())) {
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
        for object in loaded.objects {
            if object.kind() == "OperationPolicy" {
                policies.operation.push(crate::operation::parse(&reader, &object, &mut policies.warnings)?);
            } else if object.kind() == "ConstraintTemplate" {
                let template = Template::parse(&object).map_err(|message| reader.error(&object.root, message))?;
                if let Some(reason) = template.unsupported() {
                    policies.warnings.push(format!("{display}:{}: ConstraintTemplate {}: not evaluated: {reason}", object.root.mark.line, template.name));
                }
                if templates.iter().any(|known| known.kind == template.kind) {
                    return Err(reader.error(&object.root, format!("a second ConstraintTemplate defines {}", template.kind)));
                }
                templates.push(Arc::new(template));
            } else if is_constraint(&object) {
                constraints.push((reader.clone(), object));
            } else {
                return Err(reader.error(
                    &object.root,
                    format!(
                        "expected an OperationPolicy ({}), a Gatekeeper ConstraintTemplate or a Constraint, found {} {}",
                        crate::operation::API_VERSIONS.join(" or "),
                        object.api_version(),
                        object.kind()
                    ),
                ));
            }
        }
    }
    for (reader, object) in constraints {
        let Some(template) = templates.iter().find(|template| template.kind == object.kind()) else {
            return Err(reader.error(&object.root, format!("Constraint {} {}: no ConstraintTemplate among the policies defines the kind {}", object.kind(), object.name(), object.kind())));
        };
        policies.constraints.push(Constraint::parse(&object, template.clone()).map_err(|message| reader.error(&object.root, message))?);
    }
    Ok(policies)
}

/// A file as it is; a directory's policy files, recursively, in name order.
fn files(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_owned()];
    }
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(path) else { return vec![path.to_owned()] };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            found.extend(files(&entry));
        } else if entry.extension().is_some_and(|extension| ["yaml", "yml", "json"].iter().any(|known| extension == *known)) {
            found.push(entry);
        }
    }
    found
}

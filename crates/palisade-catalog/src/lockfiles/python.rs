//! `python-package-cataloger`: `requirements.txt` files, `poetry.lock`, `Pipfile.lock` and
//! `uv.lock`.
//!
//! Syft 1.18.1 has no `uv.lock` reader (its python-package-cataloger gained one in 1.29.0, which
//! lists every `[[package]]` by its normalised name); this one reads it as that later Syft does.

use palisade_pkg::{purl, PackageType};

use super::{file_name, pipfile, requirements, toml_packages, Found, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads Python requirements and lockfiles.
pub(crate) struct PythonPackage;

const NAME: &str = "python-package-cataloger";

impl Cataloger for PythonPackage {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        let name = file_name(path);
        // Syft's glob `**/*requirements*.txt`: requirements.txt, dev-requirements.txt, requirements-test.txt, …
        let requirements = name.ends_with(".txt") && name.contains("requirements");
        (requirements || matches!(name, "poetry.lock" | "Pipfile.lock" | "uv.lock")).then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut found = Found::new(path, NAME, PackageType::Python);
        match file_name(path) {
            "poetry.lock" | "uv.lock" => {
                for (name, version) in toml_packages::read(content)? {
                    found.add_python(&name, &version);
                }
            }
            "Pipfile.lock" => pipfile::parse(content, &mut found)?,
            _ => requirements::parse(content, &mut found)?,
        }
        Ok(found.into_facts())
    }
}

/// A project name as PEP 503 normalises it: lower case, runs of `-`, `_` and `.` as one `-`.
pub(super) fn normalize(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !normalized.ends_with('-') {
                normalized.push('-');
            }
        } else {
            normalized.extend(character.to_lowercase());
        }
    }
    normalized
}

impl Found<'_> {
    /// Adds a Python package under its normalised name.
    pub(super) fn add_python(&mut self, name: &str, version: &str) {
        let name = normalize(name);
        let purl = purl::build("pypi", None, &name, Some(version), &[]);
        self.add(&name, version, purl, Vec::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_as_pep_503_says() {
        assert_eq!(normalize("Django"), "django");
        assert_eq!(normalize("ruamel.yaml"), "ruamel-yaml");
        assert_eq!(normalize("typing__extensions"), "typing-extensions");
        assert_eq!(normalize("a-_.b"), "a-b");
    }

    #[test]
    fn files_are_chosen_as_syfts_globs_choose_them() {
        let meta = FileMeta { size: 10, mode: 0o644 };
        for path in ["/p/requirements.txt", "/p/dev-requirements.txt", "/p/requirements-test.txt", "/p/poetry.lock", "/p/Pipfile.lock", "/p/uv.lock"] {
            assert_eq!(PythonPackage.wants(path, &meta), Some(WANT), "{path}");
        }
        for path in ["/p/requirements.in", "/p/requirements/base.txt", "/p/Pipfile", "/p/pyproject.toml"] {
            assert_eq!(PythonPackage.wants(path, &meta), None, "{path}");
        }
    }
}

//! `javascript-lock-cataloger`: npm's `package-lock.json`, Yarn's `yarn.lock` (classic and
//! Berry) and pnpm's `pnpm-lock.yaml`.

use palisade_pkg::{purl, PackageType};

use super::{file_name, in_node_modules, npm, pnpm, yarn, Found, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads the lockfiles of npm, Yarn and pnpm.
pub(crate) struct JavascriptLock;

const NAME: &str = "javascript-lock-cataloger";

impl Cataloger for JavascriptLock {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        match file_name(path) {
            // A lockfile inside node_modules came with an installed dependency; it says nothing
            // of the project (Syft skips these too; it reads pnpm's wherever it is).
            "package-lock.json" | "yarn.lock" if in_node_modules(path) => None,
            "package-lock.json" | "yarn.lock" | "pnpm-lock.yaml" => Some(WANT),
            _ => None,
        }
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let mut found = Found::new(path, NAME, PackageType::Npm);
        match file_name(path) {
            "package-lock.json" => npm::parse(content, &mut found)?,
            "yarn.lock" => yarn::parse(content, &mut found)?,
            _ => pnpm::parse(content, &mut found)?,
        }
        Ok(found.into_facts())
    }
}

impl Found<'_> {
    /// Adds an npm package: `@scope/name` puts the scope in the purl's namespace.
    pub(super) fn add_npm(&mut self, name: &str, version: &str, licenses: Vec<String>) {
        self.add(name, version, purl::npm(name, version), licenses);
    }
}

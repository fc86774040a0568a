//! The `[[package]]` tables shared by `Cargo.lock`, `poetry.lock` and `uv.lock`: each has a
//! `name` and (but for uv's virtual projects) a `version`.

use serde::Deserialize;

use super::{line_and_column, text};

#[derive(Deserialize)]
struct Lockfile {
    #[serde(default)]
    package: Vec<TomlPackage>,
}

#[derive(Deserialize)]
struct TomlPackage {
    name: String,
    #[serde(default)]
    version: String,
}

/// The name and version of every `[[package]]`, in file order.
pub(super) fn read(content: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = text(content)?;
    let lockfile: Lockfile = toml::from_str(text).map_err(|error| {
        let message = error.message().trim_end();
        match error.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                format!("line {line}, column {column}: {message}")
            }
            None => message.to_owned(),
        }
    })?;
    Ok(lockfile.package.into_iter().map(|package| (package.name, package.version)).collect())
}

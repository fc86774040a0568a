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

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn packages_in_order_and_versions_that_may_be_missing() {
        let lock = "version = 1\n[[package]]\nname = \"b\"\nversion = \"2\"\n[[package]]\nname = \"a\"\nsource = { virtual = \".\" }\n";
        assert_eq!(read(lock.as_bytes()).unwrap(), [("b".into(), "2".into()), ("a".into(), String::new())]);
        assert_eq!(read(b"version = 3\n").unwrap(), []);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        assert_eq!(read(b"[[package]]\nname = \"a\"\nversion = 1.0.0\n").unwrap_err().split(':').next(), Some("line 3, column 14"));
        assert_eq!(read(b"[[package]]\nversion = \"1\"\n").unwrap_err(), "line 1, column 1: missing field `name`");
        let deep = format!("a = {}{}", "[".repeat(5_000), "]".repeat(5_000));
        assert!(read(deep.as_bytes()).unwrap_err().starts_with("line 1"));
    }
}

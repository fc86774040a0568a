//! `.gitleaksignore`: findings accepted by fingerprint, one per line, as gitleaks reads the
//! file: `file:rule:line` accepts a finding wherever it was found (a file, or any commit of a
//! history), `commit:file:rule:line` only in that commit; blank lines and `#` comments are
//! skipped, and backslashes in paths are read as slashes.

use std::collections::HashSet;
use std::path::Path;

/// The fingerprints of one or more `.gitleaksignore` files.
#[derive(Clone, Debug, Default)]
pub struct Ignore {
    fingerprints: HashSet<String>,
}

/// A line that is not a fingerprint: kept (gitleaks keeps it too), and worth a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreWarning {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Ignore {
    /// Adds the fingerprints of the file at `path`.
    pub fn add_file(&mut self, path: &Path) -> std::io::Result<Vec<IgnoreWarning>> {
        let text = std::fs::read_to_string(path)?;
        Ok(self.add_text(&text, &path.display().to_string()))
    }

    /// Adds the fingerprints of `text`, read from `file`.
    pub fn add_text(&mut self, text: &str, file: &str) -> Vec<IgnoreWarning> {
        let mut warnings = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts: Vec<String> = line.split(':').map(str::to_owned).collect();
            match parts.len() {
                3 => parts[0] = parts[0].replace('\\', "/"),
                4 => parts[1] = parts[1].replace('\\', "/"),
                count => warnings.push(IgnoreWarning {
                    file: file.to_owned(),
                    line: index + 1,
                    message: format!("not a fingerprint (`file:rule:line` or `commit:file:rule:line`): {count} parts"),
                }),
            }
            self.fingerprints.insert(parts.join(":"));
        }
        warnings
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Whether the finding with gitleaks' `fingerprint` (with its `commit` in a git scan) is
    /// accepted: by its commit-free form, or by the whole fingerprint in a git scan.
    pub fn ignores(&self, fingerprint: &str, commit: Option<&str>) -> bool {
        match commit {
            None => self.fingerprints.contains(fingerprint),
            Some(commit) => {
                let global = fingerprint.strip_prefix(commit).and_then(|rest| rest.strip_prefix(':')).unwrap_or(fingerprint);
                self.fingerprints.contains(global) || self.fingerprints.contains(fingerprint)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_fingerprints_accept_everywhere_commit_fingerprints_only_their_commit() {
        let mut ignore = Ignore::default();
        let warnings = ignore.add_text(
            "# accepted after review\n\nconfig\\app.env:generic-api-key:3\nabc123:deploy/key.pem:private-key:1\nnot-a-fingerprint\n",
            ".gitleaksignore",
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, 5);
        assert!(ignore.ignores("config/app.env:generic-api-key:3", None));
        assert!(ignore.ignores("ffff00:config/app.env:generic-api-key:3", Some("ffff00")));
        assert!(!ignore.ignores("config/app.env:generic-api-key:4", None));
        assert!(ignore.ignores("abc123:deploy/key.pem:private-key:1", Some("abc123")));
        assert!(!ignore.ignores("def456:deploy/key.pem:private-key:1", Some("def456")));
        assert!(!ignore.ignores("deploy/key.pem:private-key:1", None));
    }
}

//! What a finding says about the commit it came from, as gitleaks reports it.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// A commit's identity, author and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hexadecimal object id.
    pub id: String,
    /// Author name (gitleaks' `Author`).
    pub author: String,
    /// Author email (gitleaks' `Email`).
    pub email: String,
    /// Author date in UTC, RFC 3339 (`2024-01-02T03:04:05Z`), as gitleaks' `Date`.
    pub date: String,
    /// Full commit message, surrounding whitespace trimmed.
    pub message: String,
}

impl CommitInfo {
    /// Reads the fields of `commit`; a malformed author line or date is reported as a problem
    /// string rather than failing the commit (git itself shows such commits).
    pub(crate) fn read(commit: &gix::Commit<'_>) -> Result<Self, String> {
        let id = commit.id.to_string();
        let author = commit.author().map_err(|e| format!("author line: {e}"))?;
        let seconds = author.time().map_err(|e| format!("author date {:?}: {e}", author.time))?.seconds;
        let date = OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .ok_or_else(|| format!("author date {seconds} is out of range"))?;
        Ok(CommitInfo {
            id,
            author: author.name.to_string().trim().to_owned(),
            email: author.email.to_string().trim().to_owned(),
            date,
            message: commit.message_raw_sloppy().to_string().trim().to_owned(),
        })
    }
}

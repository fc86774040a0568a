//! What a finding says about the commit it came from, as gitleaks reports it.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// A commit's identity, author and message, as findings carry it (gitleaks' `Commit`, `Author`,
/// `Email`, `Date` in UTC RFC 3339, `Message` trimmed).
pub use palisade_core::CommitInfo;

/// Reads the fields of `commit`; a malformed author line or date is reported as a problem
/// string rather than failing the commit (git itself shows such commits).
pub(crate) fn read(commit: &gix::Commit<'_>) -> Result<CommitInfo, String> {
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

//! A repository's history as the text each commit added, for the secrets door: every branch's
//! commits, each file's added lines with their line numbers, and the commit's id, author and
//! date, read with gix (pure Rust, no libgit2).
//!
//! It reproduces what gitleaks scans, `git log -p -U0 --full-history --all`: every commit
//! reachable from any reference (or from HEAD only), once; for each, the lines it added per file
//! against its first parent (a root commit adds every line), with git's rename detection (a
//! renamed file reports only its edited lines). Merge commits add nothing, as `git log -p` prints
//! no patch for them without `-m`/`--cc`. Binary blobs (a NUL in the first 8000 bytes) and blobs
//! over a size cap are skipped and counted; unreadable objects are reported as problems.

pub mod added;
pub mod commit;
pub mod error;
pub mod history;

pub use added::AddedHunk;
pub use commit::CommitInfo;
pub use error::{Error, Problem};
pub use history::{Change, History, Options, Stop, Summary};

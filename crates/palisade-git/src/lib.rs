//! A repository's history as the text each commit added, for the secrets door: every branch's
//! commits, each file's added lines with their line numbers, and the commit's id, author and
//! date, read with gix (pure Rust, no libgit2).

//! Leaked credentials, found with gitleaks' rules: its TOML configurations loaded unmodified,
//! its Go RE2 patterns compiled with the same meaning, and the text it scans (files, decoded
//! segments, archive members, git changes) handed to one detector. Secrets never leave this
//! crate unredacted.

pub mod config;
pub mod pattern;
pub mod archive;
pub mod decode;
pub mod detect;
pub mod manifest;
pub mod finding;
pub mod ignore;
pub mod gitleaks_json;
mod keywords;
mod window;

//! Shell-style globs for exception and rule patterns: `*` matches any run of characters
//! (including `/`), `?` one character; everything else matches itself.

pub use palisade_core::wildcard::matches;

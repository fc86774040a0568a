//! pip's requirements files (`requirements.txt`, `requirements-dev.txt`, …).
//!
//! Only requirements pinned to one version (`name==1.2.3`, with or without extras, markers and
//! `--hash` options) are packages: a range (`>=1.0`, `~=1.2`, `==1.*`, `==1.0,!=1.0.1`) does not
//! say which version is installed, and a URL requirement (`name @ https://…`) says no version.
//! Option lines (`-r other.txt`, `-c`, `-e`, `--index-url`) are skipped; included files are not
//! followed. Lines continue after a trailing `\`; comments start at a `#` at the start of a line
//! or after whitespace (pip's rule), so a `#` inside a URL is not a comment.
//!
//! Syft reads the version with a pattern that stops at characters outside `[0-9A-Za-z.*]`, so a
//! PEP 440 local version loses its label (`torch==2.1.0+cpu` becomes `2.1.0`) and an epoch
//! (`==1!2.0`) makes the requirement unpinned; arbitrary equality (`===1.0`) becomes `=1.0`.
//! Here the version is what the requirement pins, whole (PEP 440 "Version specifiers": local
//! labels and epochs are part of the version; `===` compares the string as written).

use super::{text, Found};

pub(super) fn parse(content: &[u8], found: &mut Found) -> Result<(), String> {
    let text = text(content)?;
    let mut logical = String::new();
    for line in text.lines() {
        let line = strip_comment(line.strip_suffix('\r').unwrap_or(line)).trim();
        if let Some(continued) = line.strip_suffix('\\') {
            logical.push_str(continued);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        if let Some((name, version)) = pinned(logical.trim()) {
            found.add_python(name, version);
        }
        logical.clear();
    }
    if let Some((name, version)) = pinned(logical.trim()) {
        found.add_python(name, version);
    }
    Ok(())
}

/// The line without a comment: `#` at its start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (index, character) in line.char_indices() {
        if character == '#' && previous_is_space {
            return &line[..index];
        }
        previous_is_space = character.is_whitespace();
    }
    line
}

/// Name and version of a requirement pinned to one version.
fn pinned(requirement: &str) -> Option<(&str, &str)> {
    if requirement.starts_with('-') {
        return None;
    }
    // Per-requirement options (`--hash=…`, `--config-settings …`) and markers (`; python_version < "3.9"`) say nothing of the version.
    let requirement = requirement.find(" --").map_or(requirement, |at| &requirement[..at]);
    let requirement = requirement.split_once(';').map_or(requirement, |(before, _)| before).trim();
    let name_end = requirement.find(|character: char| !(character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'))).unwrap_or(requirement.len());
    let name = &requirement[..name_end];
    if !name.starts_with(|character: char| character.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = requirement[name_end..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        rest = extras.split_once(']')?.1.trim_start();
    }
    // PEP 508 also allows the specifiers in parentheses: `name (==1.0)`.
    let rest = rest.strip_prefix('(').and_then(|inner| inner.strip_suffix(')')).unwrap_or(rest).trim();
    if rest.contains(',') {
        return None;
    }
    let version = rest.strip_prefix("===").or_else(|| rest.strip_prefix("=="))?.trim();
    let valid = !version.is_empty() && version.chars().all(|character| character.is_ascii_alphanumeric() || matches!(character, '.' | '+' | '!' | '-' | '_'));
    valid.then_some((name, version))
}

//! Ruby gem specifications: `ruby-installed-gemspec-cataloger` reads the `*.gemspec` files
//! RubyGems writes under `specifications/` when it installs a gem (images); in directories Syft
//! runs `ruby-gemspec-cataloger` over every `*.gemspec` instead, with the same reading.
//!
//! A gemspec is Ruby code; like Syft, it is read line by line, not run: `.freeze` is dropped,
//! `\uXXXX` escapes are decoded, and `x.name = "..."`, `x.version = "..."` and
//! `x.licenses = [...]` assignments are picked out with Syft's patterns (a later assignment wins).
//! Syft's quirks are kept so both tools name the same gems: the value runs to the last quote on
//! the line, and a gemspec that assigns no version (`spec.version = App::VERSION`) still makes a
//! package, without a version. One is not: list items are split on commas and lose their quotes,
//! single as well as double (Syft keeps single quotes: `['MIT']` is its licence `'MIT'`).

use std::sync::LazyLock;

use palisade_pkg::{purl, PackageType};
use regex::Regex;

use super::{file_name, Found, DIRECTORY, IMAGE, METADATA_LIMIT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads the gemspecs RubyGems installed (`specifications/**/*.gemspec`), in images.
pub(crate) struct GemspecInstalled;

/// Reads every `*.gemspec`, in directories.
pub(crate) struct GemspecDeclared;

/// Go's `bufio.Scanner`, which Syft reads gemspecs with, stops at the first line this long.
const MAX_LINE: usize = 64 * 1024;

// Syft's patterns; `\s` is spelled out because Go's is ASCII-only.
static NAME_PATTERN: LazyLock<Regex> = LazyLock::new(|| assignment(r#"name[\t\n\f\r ]*=[\t\n\f\r ]*["']{1}(?P<value>.*)["']{1} *"#));
static VERSION_PATTERN: LazyLock<Regex> = LazyLock::new(|| assignment(r#"version[\t\n\f\r ]*=[\t\n\f\r ]*["']{1}(?P<value>.*)["']{1} *"#));
static LICENSES_PATTERN: LazyLock<Regex> = LazyLock::new(|| assignment(r"licenses[\t\n\f\r ]*=[\t\n\f\r ]*\[(?P<value>.*)] *"));
static UNICODE_ESCAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\\u(?P<code>[0-9A-F]{4})").expect("a constant pattern"));

/// A pattern for an assignment to an attribute of the specification (`s.name = ...`).
fn assignment(rest: &str) -> Regex {
    Regex::new(&format!(r".*\.{rest}")).expect("a constant pattern")
}

impl Cataloger for GemspecInstalled {
    fn name(&self) -> &'static str {
        "ruby-installed-gemspec-cataloger"
    }

    fn scopes(&self) -> &'static [Scope] {
        IMAGE
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        let installed = file_name(path).ends_with(".gemspec") && path.split('/').rev().skip(1).any(|segment| segment == "specifications");
        installed.then_some(Want::Content { limit: METADATA_LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        Ok(gemspec(path, self.name(), content))
    }
}

impl Cataloger for GemspecDeclared {
    fn name(&self) -> &'static str {
        "ruby-gemspec-cataloger"
    }

    fn scopes(&self) -> &'static [Scope] {
        DIRECTORY
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        file_name(path).ends_with(".gemspec").then_some(Want::Content { limit: METADATA_LIMIT })
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        Ok(gemspec(path, self.name(), content))
    }
}

/// The gem a gemspec describes; a gemspec is never an error, at worst it names nothing.
fn gemspec(path: &str, found_by: &'static str, content: &[u8]) -> Vec<Fact> {
    let mut name = String::new();
    let mut version = String::new();
    let mut licenses = Vec::new();
    for line in content.split(|&byte| byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() >= MAX_LINE {
            break;
        }
        let line = String::from_utf8_lossy(line);
        let line = decode_unicode_escapes(&line.trim().replace(".freeze", ""));
        if line.is_empty() {
            continue;
        }
        // Syft tries its patterns in no fixed order and stops at the first that matches; the
        // three read here never match the same line of a real gemspec.
        if let Some(value) = first_value(&NAME_PATTERN, &line) {
            name = value.to_owned();
        } else if let Some(value) = first_value(&VERSION_PATTERN, &line) {
            version = value.to_owned();
        } else if let Some(value) = first_value(&LICENSES_PATTERN, &line) {
            licenses = value.split(',').map(|item| item.trim_matches(|character| matches!(character, '"' | '\'' | ' ')).to_owned()).collect();
        }
    }
    let mut found = Found::new(path, found_by);
    let purl = purl::build("gem", None, &name, Some(&version), &[]);
    found.add(PackageType::Gem, &name, &version, purl, licenses);
    found.into_facts()
}

/// The first non-empty value the pattern captures on the line.
fn first_value<'a>(pattern: &Regex, line: &'a str) -> Option<&'a str> {
    pattern.captures_iter(line).filter_map(|captures| captures.name("value")).map(|value| value.as_str()).find(|value| !value.is_empty())
}

/// `\u00e9` escapes (upper-case hex only, as Syft's pattern has it) as the characters they name.
fn decode_unicode_escapes(line: &str) -> String {
    UNICODE_ESCAPE
        .replace_all(line, |captures: &regex::Captures| {
            let code = captures.name("code").and_then(|code| u32::from_str_radix(code.as_str(), 16).ok()).unwrap_or(0xfffd);
            char::from_u32(code).unwrap_or('\u{fffd}').to_string()
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gem(content: &str) -> Option<(String, String, String, Vec<String>)> {
        let facts = GemspecInstalled.parse("/usr/lib/ruby/gems/3.1.0/specifications/x.gemspec", content.as_bytes()).unwrap();
        facts.into_iter().next().map(|fact| match fact {
            Fact::Package(package) => (package.name, package.version, package.purl, package.licenses),
            other => panic!("unexpected fact {other:?}"),
        })
    }

    // Expected values are Syft 1.18.1's for the same files (tests/fixtures/lang/ruby).
    #[test]
    fn rubygems_generated_specifications() {
        let spec = "# -*- encoding: utf-8 -*-\n# stub: rake 13.0.6 ruby lib\n\nGem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.authors = [\"Hiroshi SHIBATA\".freeze, \"Eric Hodel\".freeze]\n  s.licenses = [\"MIT\".freeze, \"Ruby\".freeze]\n  s.rubygems_version = \"3.3.5\".freeze\nend\n";
        assert_eq!(gem(spec), Some(("rake".into(), "13.0.6".into(), "pkg:gem/rake@13.0.6".into(), vec!["MIT".into(), "Ruby".into()])));
    }

    #[test]
    fn syft_s_quirks_are_kept_but_for_single_quoted_licences() {
        let spec = "spec.name = 'caf\\u00E9'\nspec.version = '1.0' # \"x\"\nspec.licenses = ['MIT', \"BSD\"]\n";
        let (name, version, _, licenses) = gem(spec).unwrap();
        assert_eq!((name.as_str(), version.as_str(), licenses), ("café", "1.0' # \"x", vec!["BSD".to_owned(), "MIT".to_owned()]));
        assert_eq!(gem("s.name = \"only-name\"\n"), Some(("only-name".into(), "".into(), "pkg:gem/only-name".into(), vec![])));
        assert_eq!(gem("s.version = \"1\"\n"), None);
        assert_eq!(gem("\u{0}\u{1}binary garbage"), None);
    }

    #[test]
    fn installed_specifications_only_in_images() {
        let meta = FileMeta { size: 100, mode: 0o644 };
        assert!(GemspecInstalled.wants("/usr/local/bundle/specifications/rake-13.0.6.gemspec", &meta).is_some());
        assert!(GemspecInstalled.wants("/usr/local/bundle/specifications/default/json-2.6.1.gemspec", &meta).is_some());
        assert!(GemspecInstalled.wants("/src/app/app.gemspec", &meta).is_none());
        assert!(GemspecDeclared.wants("/src/app/app.gemspec", &meta).is_some());
    }
}

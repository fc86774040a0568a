//! `go-module-file-cataloger`: the modules a `go.mod` requires, direct and `// indirect` alike,
//! after its `exclude` and `replace` directives (the main module itself is not listed).
//!
//! A `replace` with a module on the right puts that module and version in place of the required
//! one; one with a directory on the right (`=> ../lib`) leaves the directory as the name and no
//! version, as Syft writes it. Syft differs from the Go command in three cases, where this
//! reader follows Go (Go Modules Reference, "replace directive" and "exclude directive"):
//! - a `replace` of a module the file does not require adds the replacement as a package
//!   (Go: "replace directives ... have no effect" on modules that are not in the build list);
//! - a `replace` naming a version (`old v1.0.0 => new v1.1.0`) replaces the module whatever
//!   version is required (Go: "only that specific version is replaced");
//! - an `exclude` removes the module whatever version is required (Go: a requirement is ignored
//!   only when it names the excluded version).
//!
//! The Go standard library is a package too, as osv-scanner reads go.mod (osv-scalibr's
//! `go/gomod` extractor): `stdlib` at the `toolchain` line's version, cut at its first `-`
//! (`go1.23.6-xyz` is 1.23.6), else at the `go` line's (`go 1.21` is 1.21). Its version is written
//! as Go programs record theirs (`go1.21`, the Go binary cataloger's `go1.22.5`), its purl as
//! osv-scalibr and Syft write it (`pkg:golang/stdlib@1.21`). Syft 1.18.1 reads no stdlib from
//! go.mod. A `toolchain default` line names no version, so the `go` line's stands.

use std::collections::BTreeMap;

use palisade_pkg::{purl, PackageType};

use super::{file_name, text, Found, SCOPES, WANT};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads `go.mod`.
pub(crate) struct GoModFile;

const NAME: &str = "go-module-file-cataloger";

impl Cataloger for GoModFile {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        SCOPES
    }

    fn wants(&self, path: &str, _meta: &FileMeta) -> Option<Want> {
        (file_name(path) == "go.mod").then_some(WANT)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let directives = Directives::read(text(content)?)?;
        let mut found = Found::new(path, NAME, PackageType::GoModule);
        if let Some(version) = directives.stdlib_version() {
            found.add("stdlib", &format!("go{version}"), purl::golang("stdlib", &version), vec!["BSD-3-Clause".to_owned()]);
        }
        for (module, version) in directives.modules() {
            found.add(&module, &version, purl::golang(&module, &version), Vec::new());
        }
        Ok(found.into_facts())
    }
}

/// A module path with an optional version (`replace` may leave it out).
struct Module {
    path: String,
    version: Option<String>,
}

#[derive(Default)]
struct Directives {
    require: Vec<Module>,
    exclude: Vec<Module>,
    replace: Vec<(Module, Module)>,
    /// The `go` line's version: `1.21`, `1.22.5`.
    go: Option<String>,
    /// The `toolchain` line's name: `go1.21.5`, `go1.23.6-xyz`, `default`.
    toolchain: Option<String>,
}

impl Directives {
    fn read(text: &str) -> Result<Self, String> {
        let mut directives = Directives::default();
        let mut block: Option<String> = None;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let tokens = tokens(line).map_err(|problem| format!("line {number}: {problem}"))?;
            let Some(first) = tokens.first() else { continue };
            if let Some(verb) = &block {
                if first == ")" && tokens.len() == 1 {
                    block = None;
                } else {
                    directives.add(verb, &tokens).map_err(|problem| format!("line {number}: {problem}"))?;
                }
                continue;
            }
            match tokens.as_slice() {
                [verb, open] if open == "(" => block = Some(verb.clone()),
                [_, open, close] if open == "(" && close == ")" => {}
                [verb, arguments @ ..] => directives.add(verb, arguments).map_err(|problem| format!("line {number}: {problem}"))?,
                [] => {}
            }
        }
        match block {
            Some(verb) => Err(format!("the {verb} block is not closed with ')'")),
            None => Ok(directives),
        }
    }

    fn add(&mut self, verb: &str, arguments: &[String]) -> Result<(), String> {
        let module = |arguments: &[String]| match arguments {
            [path] => Some(Module { path: path.clone(), version: None }),
            [path, version] => Some(Module { path: path.clone(), version: Some(version.clone()) }),
            _ => None,
        };
        match verb {
            "require" | "exclude" => {
                let Some(module @ Module { version: Some(_), .. }) = module(arguments) else {
                    return Err(format!("{verb} needs a module path and a version"));
                };
                if verb == "require" { self.require.push(module) } else { self.exclude.push(module) }
            }
            "replace" => {
                let arrow = arguments.iter().position(|argument| argument == "=>");
                let replacement = arrow.and_then(|arrow| Some((module(&arguments[..arrow])?, module(&arguments[arrow + 1..])?)));
                let Some(replacement) = replacement else {
                    return Err("replace needs `module [version] => module version` or `module [version] => directory`".to_owned());
                };
                self.replace.push(replacement);
            }
            "go" | "toolchain" => {
                let [version] = arguments else {
                    return Err(format!("{verb} needs one version"));
                };
                if verb == "go" { self.go = Some(version.clone()) } else { self.toolchain = Some(version.clone()) }
            }
            // module, godebug, retract, tool, ignore and directives of later Go versions name
            // no dependency.
            _ => {}
        }
        Ok(())
    }

    /// The standard library's version without `go`, as osv-scalibr takes it: the toolchain's
    /// before any `-` suffix, else the go line's.
    fn stdlib_version(&self) -> Option<String> {
        let toolchain = self.toolchain.as_deref().map(|name| name.split('-').next().unwrap_or_default().trim_start_matches("go"));
        let version = toolchain.filter(|version| version.starts_with(|c: char| c.is_ascii_digit())).or(self.go.as_deref())?;
        Some(version.to_owned()).filter(|version| !version.is_empty())
    }

    /// The required modules after exclusions and replacements: path and version.
    fn modules(self) -> BTreeMap<String, String> {
        let mut modules: BTreeMap<String, String> = BTreeMap::new();
        for module in self.require {
            modules.insert(module.path, module.version.unwrap_or_default());
        }
        for excluded in &self.exclude {
            if modules.get(&excluded.path) == excluded.version.as_ref() {
                modules.remove(&excluded.path);
            }
        }
        for (old, new) in self.replace {
            let applies = modules.get(&old.path).is_some_and(|required| old.version.as_ref().is_none_or(|version| version == required));
            if applies {
                modules.remove(&old.path);
                modules.insert(new.path, new.version.unwrap_or_default());
            }
        }
        modules
    }
}

/// The tokens of one go.mod line: words, quoted strings (unquoted), `(`, `)` and `=>`; a `//`
/// comment ends the line.
fn tokens(line: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if rest.starts_with("//") {
            break;
        }
        let (token, after) = if let Some(quoted) = rest.strip_prefix('"') {
            unquote(quoted)?
        } else if let Some(raw) = rest.strip_prefix('`') {
            let end = raw.find('`').ok_or("a raw string is not closed")?;
            (raw[..end].to_owned(), &raw[end + 1..])
        } else if rest.starts_with(['(', ')']) {
            (rest[..1].to_owned(), &rest[1..])
        } else {
            let end = rest.find(|character: char| character.is_whitespace() || matches!(character, '(' | ')' | '"' | '`')).unwrap_or(rest.len());
            let end = if rest[..end].contains("//") { rest.find("//").unwrap_or(end) } else { end };
            (rest[..end].to_owned(), &rest[end..])
        };
        if !token.is_empty() {
            tokens.push(token);
        }
        rest = after.trim_start();
    }
    Ok(tokens)
}

/// A Go interpreted string after its opening quote: the text and what follows the closing quote.
fn unquote(quoted: &str) -> Result<(String, &str), String> {
    let mut text = String::new();
    let mut characters = quoted.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Ok((text, &quoted[index + 1..])),
            '\\' => match characters.next() {
                Some((_, escaped @ ('"' | '\\'))) => text.push(escaped),
                _ => return Err("only \\\" and \\\\ escapes are read in go.mod strings".to_owned()),
            },
            other => text.push(other),
        }
    }
    Err("a quoted string is not closed".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(go_mod: &str) -> Result<Vec<(String, String)>, String> {
        Ok(Directives::read(go_mod)?.modules().into_iter().collect())
    }

    fn module(path: &str, version: &str) -> (String, String) {
        (path.into(), version.into())
    }

    #[test]
    fn requires_after_go_commands_replacement_and_exclusion_rules() {
        let go_mod = "module example.com/app\n\nrequire (\n\ta v1.0.0\n\tb v1.1.0 // indirect\n\t\"c\" v1.2.0\n\td v1.3.0\n\te v1.4.0\n)\nrequire f v1.5.0\n\nreplace a => a2 v2.0.0\nreplace b v1.0.0 => b2 v2.0.0\nreplace c v1.2.0 => ../c\nreplace notrequired => x v1.0.0\nexclude d v1.3.0\nexclude e v1.0.0\nreplace (\n\tf => f2 v0.1.0 // fork\n)\n";
        assert_eq!(
            modules(go_mod).unwrap(),
            [module("../c", ""), module("a2", "v2.0.0"), module("b", "v1.1.0"), module("e", "v1.4.0"), module("f2", "v0.1.0")]
        );
    }

    fn stdlib(go_mod: &str) -> Option<(String, String, String)> {
        let facts = GoModFile.parse("/p/go.mod", go_mod.as_bytes()).unwrap();
        super::super::identities(facts).into_iter().find(|(name, _, _)| name == "stdlib")
    }

    // The cases are osv-scalibr's gomod tests (testdata/two-packages.mod: `go 1.17` gives stdlib
    // 1.17; toolchain-with-suffix.mod: `go 1.23.5` with `toolchain go1.23.6-xyz` gives 1.23.6),
    // with the version written as Go programs record it.
    #[test]
    fn the_standard_library_comes_from_the_toolchain_else_the_go_line() {
        let expected = |version: &str, purl: &str| Some(("stdlib".to_owned(), version.to_owned(), purl.to_owned()));
        assert_eq!(stdlib("module m\n\ngo 1.17\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.0.0\n)\n"), expected("go1.17", "pkg:golang/stdlib@1.17"));
        assert_eq!(stdlib("module my-library\n\ngo 1.23.5\n\ntoolchain go1.23.6-xyz\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.0.0\n)\n"), expected("go1.23.6", "pkg:golang/stdlib@1.23.6"));
        assert_eq!(stdlib("module m\ngo 1.21\ntoolchain go1.21.5\n"), expected("go1.21.5", "pkg:golang/stdlib@1.21.5"));
        assert_eq!(stdlib("module m\ngo 1.22.0\ntoolchain default\n"), expected("go1.22.0", "pkg:golang/stdlib@1.22.0"));
        assert_eq!(stdlib("module m\nrequire a v1.0.0\n"), None);
        assert_eq!(GoModFile.parse("/p/go.mod", b"module m\ngo\n").unwrap_err(), "line 2: go needs one version");
    }

    #[test]
    fn tokens_of_a_line() {
        assert_eq!(tokens("require \"a b\" `v1`// comment").unwrap(), ["require", "a b", "v1"]);
        assert_eq!(tokens("\tx v1.0.0// indirect").unwrap(), ["x", "v1.0.0"]);
        assert_eq!(tokens("require (").unwrap(), ["require", "("]);
        assert_eq!(tokens("\"unclosed").unwrap_err(), "a quoted string is not closed");
    }

    #[test]
    fn malformed_directives_name_their_line() {
        assert_eq!(modules("module m\nrequire a\n").unwrap_err(), "line 2: require needs a module path and a version");
        assert_eq!(modules("replace a v1 b v2\n").unwrap_err(), "line 1: replace needs `module [version] => module version` or `module [version] => directory`");
        assert_eq!(modules("require (\n\ta v1.0.0\n").unwrap_err(), "the require block is not closed with ')'");
        assert_eq!(modules("require a \"v1\n").unwrap_err(), "line 1: a quoted string is not closed");
    }

    #[test]
    fn purls_put_the_path_after_the_third_element_in_the_subpath() {
        assert_eq!(purl::golang("github.com/aws/aws-sdk-go-v2/service/s3", "v1.44.0"), "pkg:golang/github.com/aws/aws-sdk-go-v2@v1.44.0#service/s3");
        assert_eq!(purl::golang("golang.org/x/sys", "v0.14.0"), "pkg:golang/golang.org/x/sys@v0.14.0");
        assert_eq!(purl::golang("gopkg.in/yaml.v3", "v3.0.1"), "pkg:golang/gopkg.in/yaml.v3@v3.0.1");
        assert_eq!(purl::golang("../telemetry", ""), "pkg:golang/../telemetry");
        assert_eq!(purl::golang("example.com/a/b/c d", "v1"), "pkg:golang/example.com/a/b@v1#c%20d");
    }
}

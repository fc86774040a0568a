//! `go-module-binary-cataloger`: the modules compiled into a Go program, from the build
//! information the linker embeds (see [`buildinfo`]), as Syft reports them:
//! - the main module, unless the program was built outside a module; a `(devel)` version is
//!   replaced as [`version`] describes;
//! - every dependency, under its replacement's path and version when it was replaced (a local
//!   directory replacement is `../lib` at `(devel)`);
//! - `stdlib` at the toolchain's version (`go1.22.5`, purl `pkg:golang/stdlib@1.22.5`).
//!
//! Purls split the module path as Syft does: the first two segments are the namespace, the third
//! the name and the rest the subpath (`pkg:golang/github.com/x/y@v2.0.0#v2`). Every image of a
//! universal Mach-O file is read. Licences, which Syft finds in the local module cache or the
//! network, are not looked for.

mod buildinfo;
mod version;

use palisade_pkg::{purl, PackageType};

use self::buildinfo::{BuildInfo, Module};
use super::{binary, wants_executable, Found, INSTALLED};
use crate::{Cataloger, Fact, FileMeta, Scope, Want};

/// Reads Go programs.
pub(crate) struct GoModuleBinary;

const NAME: &str = "go-module-binary-cataloger";

/// The version Go records for a module built from a directory rather than a version.
const DEVEL: &str = "(devel)";

impl Cataloger for GoModuleBinary {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scopes(&self) -> &'static [Scope] {
        INSTALLED
    }

    fn wants(&self, path: &str, meta: &FileMeta) -> Option<Want> {
        wants_executable(path, meta)
    }

    fn parse(&self, path: &str, content: &[u8]) -> Result<Vec<Fact>, String> {
        let Some(executables) = binary::executables(content) else {
            return Ok(Vec::new());
        };
        let mut found = Found::new(path, NAME);
        let mut problem = None;
        for executable in &executables {
            match buildinfo::read(executable) {
                Ok(Some(info)) => add_packages(&mut found, info, content),
                Ok(None) => {}
                Err(error) => problem = Some(error),
            }
        }
        let facts = found.into_facts();
        match problem {
            Some(problem) if facts.is_empty() => Err(problem),
            _ => Ok(facts),
        }
    }
}

/// The packages of one program's build information.
fn add_packages(found: &mut Found, mut info: BuildInfo, content: &[u8]) {
    let empty = Module::default();
    let partial = Module { path: "command-line-arguments".into(), ..Module::default() };
    if (info.main == empty && !info.path.is_empty()) || info.main == partial {
        info.main = main_module_from_path(&mut info);
    }
    let go_version = info.go_version.split(' ').next().unwrap_or_default().to_owned();
    let mut any = false;
    for dep in &info.deps {
        let module = dep.replace.as_deref().unwrap_or(dep);
        found.add(PackageType::GoModule, &module.path, &module.version, purl::golang(&module.path, &module.version), Vec::new());
        any |= !module.path.is_empty();
    }
    if info.main != empty {
        let module = info.main.replace.as_deref().unwrap_or(&info.main);
        let mut version = module.version.clone();
        if version == DEVEL {
            if let Some(found_version) = version::main_module_version(&info, content) {
                version = if found_version.starts_with('v') { found_version } else { format!("v{found_version}") };
            }
        }
        found.add(PackageType::GoModule, &module.path, &version, purl::golang(&module.path, &version), Vec::new());
        any = true;
    }
    // Syft adds the toolchain's standard library for every program it found a module in, when
    // the version has a number in it (`devel go1.23-...` builds have none before the space).
    let stdlib_version = go_version.strip_prefix("go").unwrap_or(&go_version);
    if any && stdlib_version.bytes().any(|byte| byte.is_ascii_digit()) {
        found.add(PackageType::GoModule, "stdlib", &go_version, purl::golang("stdlib", stdlib_version), vec!["BSD-3-Clause".into()]);
    }
}

/// The main module of a program built from a file list (`go build main.go`) or without one:
/// the one `(devel)` dependency when there is exactly one, else the main package's path.
fn main_module_from_path(info: &mut BuildInfo) -> Module {
    let candidates: Vec<usize> = info.deps.iter().enumerate().filter(|(_, dep)| dep.version == DEVEL).map(|(index, _)| index).collect();
    if let [index] = candidates[..] {
        return info.deps.remove(index);
    }
    Module { path: info.path.clone(), version: DEVEL.into(), ..Module::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packages(info: BuildInfo, content: &[u8]) -> Vec<(String, String, String)> {
        let mut found = Found::new("/bin/app", NAME);
        add_packages(&mut found, info, content);
        found
            .into_facts()
            .into_iter()
            .map(|fact| match fact {
                Fact::Package(package) => (package.name, package.version, package.purl),
                other => panic!("unexpected fact {other:?}"),
            })
            .collect()
    }

    fn module(path: &str, version: &str) -> Module {
        Module { path: path.into(), version: version.into(), ..Module::default() }
    }

    #[test]
    fn purls_split_module_paths_as_syft_does() {
        assert_eq!(purl::golang("github.com/spf13/cobra", "v1.8.0"), "pkg:golang/github.com/spf13/cobra@v1.8.0");
        assert_eq!(purl::golang("github.com/x/y/v2", "v2.0.0"), "pkg:golang/github.com/x/y@v2.0.0#v2");
        assert_eq!(purl::golang("gopkg.in/yaml.v3", "v3.0.1"), "pkg:golang/gopkg.in/yaml.v3@v3.0.1");
        assert_eq!(purl::golang("../lib", "(devel)"), "pkg:golang/../lib@(devel)");
        assert_eq!(purl::golang("stdlib", "1.22.5"), "pkg:golang/stdlib@1.22.5");
        assert_eq!(purl::golang("k8s.io/client-go/tools/a b", "v1"), "pkg:golang/k8s.io/client-go/tools@v1#a%20b");
    }

    // Expected values are Syft 1.18.1's for binaries built the same way (tests/lang_golang.rs).
    #[test]
    fn replaced_dependencies_and_the_standard_library() {
        let info = BuildInfo {
            go_version: "go1.19.8".into(),
            path: "example.com/app".into(),
            main: module("example.com/app", "v1.0.0"),
            deps: vec![Module { replace: Some(Box::new(module("../lib", "(devel)"))), ..module("example.com/greet", "v1.2.3") }, module("", "v1")],
            settings: vec![],
        };
        assert_eq!(
            packages(info, b""),
            [
                ("../lib".into(), "(devel)".into(), "pkg:golang/../lib@(devel)".into()),
                ("example.com/app".into(), "v1.0.0".into(), "pkg:golang/example.com/app@v1.0.0".into()),
                ("stdlib".into(), "go1.19.8".into(), "pkg:golang/stdlib@1.19.8".into())
            ]
        );
    }

    #[test]
    fn devel_main_modules_get_a_version_from_ldflags_contents_or_vcs() {
        let devel = |settings: Vec<(&str, &str)>| BuildInfo {
            go_version: "go1.22.5 X:boringcrypto".into(),
            path: "example.com/app".into(),
            main: module("example.com/app", DEVEL),
            settings: settings.into_iter().map(|(key, value)| (key.into(), value.into())).collect(),
            ..BuildInfo::default()
        };
        let main_version = |info, content: &[u8]| packages(info, content)[0].1.clone();
        assert_eq!(main_version(devel(vec![("-ldflags", "-X main.version=3.4.5")]), b"\x009.9.9\x00"), "v3.4.5");
        assert_eq!(main_version(devel(vec![]), b"\x009.9.9\x00"), "v9.9.9");
        assert_eq!(main_version(devel(vec![("vcs.revision", "0123456789abcdef"), ("vcs.time", "2024-01-02T03:04:05Z")]), b""), "v0.0.0-20240102030405-0123456789ab");
        assert_eq!(main_version(devel(vec![("vcs.revision", "0123456789abcdef")]), b""), "(devel)");
        let stdlib = packages(devel(vec![]), b"").pop().unwrap();
        assert_eq!(stdlib, ("stdlib".into(), "go1.22.5".into(), "pkg:golang/stdlib@1.22.5".into()));
    }

    #[test]
    fn programs_built_from_files_or_outside_modules() {
        let from_files = BuildInfo {
            go_version: "go1.21.0".into(),
            path: "command-line-arguments".into(),
            main: module("command-line-arguments", ""),
            deps: vec![module("example.com/app", DEVEL), module("example.com/dep", "v1.0.0")],
            ..BuildInfo::default()
        };
        let names: Vec<String> = packages(from_files, b"").into_iter().map(|(name, ..)| name).collect();
        assert_eq!(names, ["example.com/dep", "example.com/app", "stdlib"]);
        let without_modules = BuildInfo { go_version: "go1.21.0".into(), ..BuildInfo::default() };
        assert_eq!(packages(without_modules, b""), []);
        let devel_toolchain = BuildInfo { go_version: "devel go1.23-abc".into(), path: "x".into(), main: module("x", "v1"), ..BuildInfo::default() };
        assert_eq!(packages(devel_toolchain, b"").len(), 1);
    }
}

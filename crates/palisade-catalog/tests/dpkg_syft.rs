//! The dpkg cataloger against Syft 1.18.1 on real Debian 12 data (see
//! `tests/fixtures/dpkg/SOURCE.md`): every package's type, name, version, purl, licences and
//! evidence paths must equal Syft's, apart from the differences listed here with their reason.

mod os_support;

use palisade_catalog::Scope;
use palisade_pkg::PackageType;
use os_support::{assert_differences, compare_with_syft, fixtures, inventory_of};

/// `/usr/share/doc/libgcc-s1` and `/usr/share/doc/libstdc++6` are symbolic links to
/// `gcc-12-base` in Debian 12. Syft follows them and gives both packages gcc-12-base's copyright
/// (licences and the location `/usr/share/doc/gcc-12-base/copyright`); the catalog sees each file
/// once, under its own path, so these packages have no copyright evidence until the image reader
/// offers files under linked directories too.
const SYMLINKED_DOC_DIRECTORIES: [&str; 4] = [
    r#"libgcc-s1: licenses: ours [] syft ["Artistic","GFDL-1.2","GPL","GPL-2","GPL-3","LGPL"]"#,
    r#"libgcc-s1: locations: ours ["/var/lib/dpkg/info/libgcc-s1:amd64.md5sums","/var/lib/dpkg/status"] syft ["/usr/share/doc/gcc-12-base/copyright","/var/lib/dpkg/info/libgcc-s1:amd64.md5sums","/var/lib/dpkg/status"]"#,
    r#"libstdc++6: licenses: ours [] syft ["Artistic","GFDL-1.2","GPL","GPL-2","GPL-3","LGPL"]"#,
    r#"libstdc++6: locations: ours ["/var/lib/dpkg/info/libstdc++6:amd64.md5sums","/var/lib/dpkg/status"] syft ["/usr/share/doc/gcc-12-base/copyright","/var/lib/dpkg/info/libstdc++6:amd64.md5sums","/var/lib/dpkg/status"]"#,
];

#[test]
fn debian_12_minbase_equals_syft() {
    for scope in [Scope::Image, Scope::Directory] {
        let differences = compare_with_syft("dpkg", "bookworm", scope);
        assert_differences(&differences, &SYMLINKED_DOC_DIRECTORIES);
    }
    let inventory = inventory_of(&fixtures().join("dpkg/bookworm"), Scope::Image);
    assert_eq!(inventory.packages.len(), 88);
    assert!(inventory.packages.iter().all(|package| package.kind == PackageType::Deb && package.found_by == "dpkg-db-cataloger"));
    assert!(inventory.issues.is_empty(), "{:?}", inventory.issues);
    let distro = inventory.distro.expect("distro");
    assert_eq!((distro.id.as_str(), distro.version_id.as_deref()), ("debian", Some("12")));
    // /etc/os-release is a link to ../usr/lib/os-release, which is read instead.
    assert_eq!(distro.location.map(|location| location.path).as_deref(), Some("/usr/lib/os-release"));
}

#[test]
fn distroless_status_d_equals_syft() {
    for scope in [Scope::Image, Scope::Directory] {
        assert_differences(&compare_with_syft("dpkg", "distroless", scope), &[]);
    }
}

/// Syft's default "compliance" step (syft/cataloging/compliance.go) stubs a missing version as
/// UNKNOWN after the purl is made; the catalog keeps it empty (the assembler or the SBOM writer
/// decides how to show it).
const MISSING_VERSION: &str = r#"no-version: version: ours "" syft "UNKNOWN""#;

/// In images Syft finds a package's dpkg files with the pattern `info/NAME.*`, which for
/// `python3` also matches every file of `python3.11`: Syft's mistake, not repeated here.
const PYTHON3_GETS_PYTHON3_11_FILES: &str = r#"python3: locations: ours ["/var/lib/dpkg/info/python3.list","/var/lib/dpkg/info/python3.md5sums","/var/lib/dpkg/info/python3.postinst","/var/lib/dpkg/status"] syft ["/var/lib/dpkg/info/python3.11.list","/var/lib/dpkg/info/python3.11.md5sums","/var/lib/dpkg/info/python3.11.prerm","/var/lib/dpkg/info/python3.list","/var/lib/dpkg/info/python3.md5sums","/var/lib/dpkg/info/python3.postinst","/var/lib/dpkg/status"]"#;

/// Syft drops the last line of a database file that does not end with a newline (its line
/// reader returns the line with end-of-file and the field is never stored): here the version.
const LAST_LINE_WITHOUT_NEWLINE: [&str; 2] = [
    r#"no-final-newline: version: ours "2" syft "UNKNOWN""#,
    r#"no-final-newline: purl: ours "pkg:deb/debian/no-final-newline@2?arch=all&distro=debian-12" syft "pkg:deb/debian/no-final-newline?arch=all&distro=debian-12""#,
];

/// Syft (and Palisade) list every stanza that names a package, whatever its `Status`; a stanza
/// without `Package` is skipped (Palisade names it as an issue of the file).
#[test]
fn statuses_and_odd_stanzas_as_syft_reads_them() {
    let [version, purl] = LAST_LINE_WITHOUT_NEWLINE;
    assert_differences(&compare_with_syft("dpkg", "edge", Scope::Directory), &[MISSING_VERSION, version, purl]);
    assert_differences(&compare_with_syft("dpkg", "edge", Scope::Image), &[MISSING_VERSION, PYTHON3_GETS_PYTHON3_11_FILES, version, purl]);
}

/// Any root filesystem named by `PALISADE_OS_ROOT` (a debootstrap tree, an unpacked image)
/// against live Syft runs, as a directory (`syft dir:`) and as a one-layer OCI image: the only
/// differences allowed are those of packages whose `/usr/share/doc/NAME` is a symbolic link
/// (see [`SYMLINKED_DOC_DIRECTORIES`]).
#[test]
fn root_from_the_environment_equals_syft() {
    let Some(root) = std::env::var_os("PALISADE_OS_ROOT").map(std::path::PathBuf::from) else {
        eprintln!("skipping: PALISADE_OS_ROOT is not set");
        return;
    };
    if !os_support::tool_available("syft", &["version"]) || !os_support::tool_available("umoci", &["--version"]) {
        return;
    }
    for (scope, syft) in [(Scope::Directory, os_support::run_syft(&root)), (Scope::Image, os_support::run_syft_on_image(&root))] {
        let ours = os_support::trimmed_inventory(&inventory_of(&root, scope));
        let differences = os_support::differences(&ours, &syft);
        let unexplained: Vec<&String> = differences
            .iter()
            .filter(|difference| {
                let package = difference.split(':').next().unwrap_or_default();
                !root.join("usr/share/doc").join(package).is_symlink()
            })
            .collect();
        eprintln!("{scope:?}: {} packages, {} differences: {differences:#?}", ours["packages"].as_array().map_or(0, Vec::len), differences.len());
        assert!(unexplained.is_empty(), "{scope:?}: {unexplained:#?}");
    }
}

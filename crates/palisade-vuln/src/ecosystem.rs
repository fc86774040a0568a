//! Which OSV ecosystem(s) a package belongs to, and the name and version to ask them with.
//!
//! Operating-system packages are matched in their distribution release's ecosystem
//! (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.19`, `AlmaLinux:9`, …), by the name the
//! distribution's advisories use: Debian, Ubuntu and Alpine advisories are keyed by the
//! *source* package (`openssl` for `libssl3`), RPM ecosystems by the binary or the source RPM
//! (the schema allows either), so both are asked. Language packages go to their registry's
//! ecosystem (`PyPI`, `npm`, `Go`, `Maven`, …). The mapping follows osv-scalibr's
//! (`extractor/filesystem/os/ecosystem`, `enricher/vulnmatch/internal/osvutil`), with these
//! choices where it leaves a gap:
//! - Ubuntu: every ecosystem of the release that the database holds (`Ubuntu:22.04:LTS`,
//!   `Ubuntu:Pro:22.04:LTS`, `Ubuntu:Pro:FIPS:22.04:LTS`, …), plus the canonical one (`:LTS`
//!   for the even-year `.04` releases) when the database holds none.
//! - Red Hat: os-release carries no CPE stream here, so every `Red Hat:enterprise_linux:<major>…`
//!   stream the database holds is asked (`::baseos`, `::appstream`, …).
//! - Rocky Linux with its major release as suffix, like AlmaLinux (the schema allows it; OSV
//!   publishes both).
//! - SUSE and openSUSE: `PRETTY_NAME` without its vendor word, as the schema describes
//!   (`openSUSE:Leap 15.5`, `SUSE:Linux Enterprise Server 15 SP5`).
//! - The epoch is part of the RPM version only in the Red Hat family (Red Hat, AlmaLinux,
//!   Rocky Linux), whose advisories write it; SUSE, openSUSE, Azure Linux, Photon OS, Mageia and
//!   openEuler advisories write `version-release` alone.

use palisade_pkg::{Distro, Package, PackageType};
use palisade_version::Scheme;

/// One question to the advisory database for one package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The exact OSV ecosystem string, suffix included.
    pub ecosystem: String,
    /// The name the ecosystem's advisories use (source package, `group:artifact`, `stdlib`).
    pub name: String,
    /// The installed version as the ecosystem's advisories write versions.
    pub version: String,
    pub scheme: Scheme,
}

/// Why a package cannot be matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unmatchable {
    /// An OS package without a distribution, or of a distribution OSV has no data for.
    UnknownDistro(String),
    /// Nothing to compare (`(devel)` Go modules, empty versions).
    NoVersion,
    /// A Maven archive without a groupId.
    NoGroup,
}

impl std::fmt::Display for Unmatchable {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownDistro(distro) if distro.is_empty() => formatter.write_str("no distribution known"),
            Self::UnknownDistro(distro) => write!(formatter, "no OSV ecosystem for distribution `{distro}`"),
            Self::NoVersion => formatter.write_str("no version"),
            Self::NoGroup => formatter.write_str("no Maven groupId"),
        }
    }
}

/// The queries for `package`. `available` is the database's ecosystem list (for the
/// distributions with several streams per release).
pub fn queries(package: &Package, distro: Option<&Distro>, available: &[String]) -> Result<Vec<Query>, Unmatchable> {
    if package.kind.is_os() {
        return os_queries(package, distro, available);
    }
    let (ecosystem, scheme) = match package.kind {
        PackageType::Python => ("PyPI", Scheme::Pep440),
        PackageType::Npm => ("npm", Scheme::Semver),
        PackageType::GoModule => ("Go", Scheme::Go),
        PackageType::JavaArchive => ("Maven", Scheme::Maven),
        PackageType::RustCrate => ("crates.io", Scheme::Semver),
        PackageType::Gem => ("RubyGems", Scheme::RubyGems),
        PackageType::PhpComposer => ("Packagist", Scheme::Packagist),
        PackageType::Dotnet => ("NuGet", Scheme::NuGet),
        PackageType::Deb | PackageType::Apk | PackageType::Rpm => unreachable!("handled above"),
    };
    let name = match package.kind {
        PackageType::JavaArchive => maven_name(package)?,
        _ => package.name.clone(),
    };
    let version = match package.kind {
        PackageType::GoModule => go_version(&package.name, &package.version).ok_or(Unmatchable::NoVersion)?,
        _ => package.version.clone(),
    };
    if version.is_empty() {
        return Err(Unmatchable::NoVersion);
    }
    Ok(vec![Query { ecosystem: ecosystem.to_owned(), name, version, scheme }])
}

/// `groupId:artifactId`: the group from the package's namespace, else from its purl.
fn maven_name(package: &Package) -> Result<String, Unmatchable> {
    if package.name.contains(':') {
        return Ok(package.name.clone());
    }
    let group = package.namespace.clone().filter(|group| !group.is_empty()).or_else(|| {
        let purl: packageurl::PackageUrl<'_> = package.purl.parse().ok()?;
        purl.namespace().map(str::to_owned)
    });
    group.map(|group| format!("{group}:{}", package.name)).ok_or(Unmatchable::NoGroup)
}

/// A Go version as OSV's Go ecosystem writes it: no `v`, and for the standard library and
/// toolchain (`go1.21rc2`, `go1.21`, `go1.20.5 X:boringcrypto`) the SemVer form OSV uses
/// (`1.21.0-rc.2`, `1.21.0`, `1.20.5`). `None` for `(devel)` and empty versions.
pub fn go_version(module: &str, version: &str) -> Option<String> {
    let version = version.split_whitespace().next().unwrap_or_default();
    if version.is_empty() || version == "(devel)" {
        return None;
    }
    if module != "stdlib" && module != "toolchain" {
        return Some(version.strip_prefix('v').unwrap_or(version).to_owned());
    }
    let bare = version.strip_prefix("go").or_else(|| version.strip_prefix('v')).unwrap_or(version);
    let split = bare.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(bare.len());
    let (release, pre) = bare.split_at(split);
    let mut parts: Vec<&str> = release.split('.').filter(|part| !part.is_empty()).collect();
    if parts.is_empty() {
        return None;
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut canonical = parts.join(".");
    if !pre.is_empty() {
        // `rc2` → `-rc.2`, `beta1` → `-beta.1`: Go's own release-candidate spelling in SemVer.
        let digits = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (label, number) = pre.split_at(digits);
        canonical.push('-');
        canonical.push_str(label.trim_start_matches('-'));
        if !number.is_empty() {
            canonical.push('.');
            canonical.push_str(number);
        }
    }
    Some(canonical)
}

fn os_queries(package: &Package, distro: Option<&Distro>, available: &[String]) -> Result<Vec<Query>, Unmatchable> {
    let distro = distro.ok_or_else(|| Unmatchable::UnknownDistro(String::new()))?;
    let unknown = || Unmatchable::UnknownDistro(match &distro.version_id {
        Some(version) => format!("{} {version}", distro.id),
        None => distro.id.clone(),
    });
    let ecosystems = distro_ecosystems(package.kind, distro, available).ok_or_else(unknown)?;
    let source = package.source.as_ref().filter(|source| !source.name.is_empty());
    let (scheme, names, version) = match package.kind {
        PackageType::Deb => {
            // Debian's and Ubuntu's advisories name the source package and its version (a
            // binNMU `+b1` is the binary's alone).
            let version = source.and_then(|source| source.version.clone()).unwrap_or_else(|| package.version.clone());
            (Scheme::Dpkg, vec![source.map_or(&package.name, |source| &source.name).clone()], version)
        }
        PackageType::Apk => (Scheme::Apk, vec![source.map_or(&package.name, |source| &source.name).clone()], package.version.clone()),
        _ => {
            let mut names = vec![package.name.clone()];
            if let Some(source) = source.filter(|source| source.name != package.name) {
                names.push(source.name.clone());
            }
            (Scheme::Rpm, names, package.version.clone())
        }
    };
    if version.is_empty() {
        return Err(Unmatchable::NoVersion);
    }
    let mut queries = Vec::new();
    for ecosystem in ecosystems {
        let version = match package.epoch {
            Some(epoch) if package.kind == PackageType::Rpm && rpm_ecosystem_writes_epoch(&ecosystem) && epoch > 0 => format!("{epoch}:{version}"),
            _ => version.clone(),
        };
        for name in &names {
            queries.push(Query { ecosystem: ecosystem.clone(), name: name.clone(), version: version.clone(), scheme });
        }
    }
    Ok(queries)
}

fn rpm_ecosystem_writes_epoch(ecosystem: &str) -> bool {
    matches!(ecosystem.split(':').next(), Some("Red Hat" | "AlmaLinux" | "Rocky Linux"))
}

/// The ecosystems of a distribution release; `None` when OSV has none for it.
fn distro_ecosystems(kind: PackageType, distro: &Distro, available: &[String]) -> Option<Vec<String>> {
    let version = distro.version_id.as_deref().filter(|version| !version.is_empty());
    let major = version.map(|version| version.split('.').next().unwrap_or(version));
    let one = |ecosystem: String| Some(vec![ecosystem]);
    match (kind, distro.id.as_str()) {
        (PackageType::Deb, "debian") => one(format!("Debian:{}", major?)),
        (PackageType::Deb, "ubuntu") => Some(ubuntu_ecosystems(version?, available)),
        (PackageType::Apk, "wolfi") => one("Wolfi".to_owned()),
        (PackageType::Apk, "chainguard") => one("Chainguard".to_owned()),
        (PackageType::Apk, "alpine") => {
            let mut parts = version?.split(['.', '_']);
            let (major, minor) = (parts.next()?, parts.next()?);
            one(format!("Alpine:v{major}.{minor}"))
        }
        (PackageType::Rpm, "almalinux") => one(format!("AlmaLinux:{}", major?)),
        (PackageType::Rpm, "rocky") => one(format!("Rocky Linux:{}", major?)),
        (PackageType::Rpm, "rhel") => Some(red_hat_ecosystems(major?, available)),
        (PackageType::Rpm, "opensuse-leap" | "opensuse-tumbleweed" | "opensuse") => one(format!("openSUSE:{}", without_vendor(distro, "openSUSE")?)),
        (PackageType::Rpm, "sles" | "sled" | "sles_sap") => one(format!("SUSE:{}", without_vendor(distro, "SUSE")?)),
        (PackageType::Rpm, "mariner" | "azurelinux") => one(format!("Azure Linux:{}", version?)),
        (PackageType::Rpm, "photon") => one(format!("Photon OS:{}", version?)),
        (PackageType::Rpm, "mageia") => one(format!("Mageia:{}", version?)),
        (PackageType::Rpm, "openEuler" | "openeuler") => one(format!("openEuler:{}", open_euler_release(distro, version?))),
        _ => None,
    }
}

/// Every `Ubuntu:…` ecosystem of the release the database holds; the canonical name when it
/// holds none.
fn ubuntu_ecosystems(version: &str, available: &[String]) -> Vec<String> {
    let mut found: Vec<String> = available
        .iter()
        .filter(|ecosystem| ecosystem.strip_prefix("Ubuntu:").is_some_and(|rest| rest.split(':').any(|part| part == version)))
        .cloned()
        .collect();
    if found.is_empty() {
        let lts = version.split_once('.').is_some_and(|(year, month)| month == "04" && year.parse::<u32>().is_ok_and(|year| year % 2 == 0));
        found.push(if lts { format!("Ubuntu:{version}:LTS") } else { format!("Ubuntu:{version}") });
    }
    found.sort();
    found
}

/// Every `Red Hat:enterprise_linux:<major>` stream the database holds; base and application
/// streams when it holds none.
fn red_hat_ecosystems(major: &str, available: &[String]) -> Vec<String> {
    let base = format!("Red Hat:enterprise_linux:{major}");
    let mut found: Vec<String> = available.iter().filter(|ecosystem| **ecosystem == base || ecosystem.starts_with(&format!("{base}::"))).cloned().collect();
    if found.is_empty() {
        found = vec![format!("{base}::appstream"), format!("{base}::baseos")];
    }
    found.sort();
    found
}

/// `PRETTY_NAME` without the leading vendor word (`openSUSE Leap 15.5` → `Leap 15.5`); from
/// `VERSION_ID` when there is no pretty name (`Leap 15.5` for openSUSE Leap).
fn without_vendor(distro: &Distro, vendor: &str) -> Option<String> {
    match distro.pretty_name.as_deref() {
        Some(pretty) => Some(pretty.strip_prefix(vendor).map_or(pretty, str::trim_start).to_owned()),
        None if distro.id == "opensuse-leap" => distro.version_id.as_ref().map(|version| format!("Leap {version}")),
        None if distro.id == "opensuse-tumbleweed" => Some("Tumbleweed".to_owned()),
        None => None,
    }
}

/// `24.03-LTS-SP1` from `PRETTY_NAME="openEuler 24.03 (LTS-SP1)"`, as osv-scalibr builds it.
fn open_euler_release(distro: &Distro, version: &str) -> String {
    let qualifier = distro
        .pretty_name
        .as_deref()
        .and_then(|pretty| pretty.split_once('('))
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inside, _)| inside.trim().replace(' ', "-"))
        .filter(|qualifier| !qualifier.is_empty());
    match qualifier {
        Some(qualifier) => format!("{version}-{qualifier}"),
        None => version.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_pkg::{Location, SourcePackage};

    fn package(kind: PackageType, name: &str, version: &str) -> Package {
        Package { locations: vec![Location::new("/x")], ..Package::new(kind, name, version, "") }
    }

    fn distro(id: &str, version: &str, pretty: Option<&str>) -> Distro {
        Distro { id: id.into(), version_id: Some(version.into()), pretty_name: pretty.map(Into::into), ..Distro::default() }
    }

    fn asked(package: &Package, distro: Option<&Distro>, available: &[&str]) -> Vec<(String, String, String)> {
        let available: Vec<String> = available.iter().map(|text| text.to_string()).collect();
        queries(package, distro, &available).unwrap().into_iter().map(|query| (query.ecosystem, query.name, query.version)).collect()
    }

    fn triple(ecosystem: &str, name: &str, version: &str) -> (String, String, String) {
        (ecosystem.into(), name.into(), version.into())
    }

    #[test]
    fn debian_binaries_are_asked_by_their_source_package_and_version() {
        let mut libssl = package(PackageType::Deb, "libssl3", "3.0.11-1~deb12u2+b1");
        libssl.source = Some(SourcePackage { name: "openssl".into(), version: Some("3.0.11-1~deb12u2".into()) });
        assert_eq!(asked(&libssl, Some(&distro("debian", "12", None)), &[]), [triple("Debian:12", "openssl", "3.0.11-1~deb12u2")]);
        let plain = package(PackageType::Deb, "bash", "5.2.15-2+b2");
        assert_eq!(asked(&plain, Some(&distro("debian", "12", None)), &[]), [triple("Debian:12", "bash", "5.2.15-2+b2")]);
    }

    #[test]
    fn ubuntu_releases_take_every_stream_the_database_has() {
        let bash = package(PackageType::Deb, "bash", "5.1-6ubuntu1");
        let available = ["Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS", "Ubuntu:Pro:FIPS:22.04:LTS", "Ubuntu:20.04:LTS", "Ubuntu:23.10", "Debian:12"];
        let ecosystems: Vec<String> = asked(&bash, Some(&distro("ubuntu", "22.04", None)), &available).into_iter().map(|query| query.0).collect();
        assert_eq!(ecosystems, ["Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS", "Ubuntu:Pro:FIPS:22.04:LTS"]);
        assert_eq!(asked(&bash, Some(&distro("ubuntu", "23.10", None)), &available)[0].0, "Ubuntu:23.10");
        assert_eq!(asked(&bash, Some(&distro("ubuntu", "24.04", None)), &[])[0].0, "Ubuntu:24.04:LTS");
        assert_eq!(asked(&bash, Some(&distro("ubuntu", "24.10", None)), &[])[0].0, "Ubuntu:24.10");
    }

    #[test]
    fn alpine_wolfi_and_rpm_distributions() {
        let mut busybox = package(PackageType::Apk, "ssl_client", "1.36.1-r15");
        busybox.source = Some(SourcePackage { name: "busybox".into(), version: None });
        assert_eq!(asked(&busybox, Some(&distro("alpine", "3.19.1", None)), &[]), [triple("Alpine:v3.19", "busybox", "1.36.1-r15")]);
        assert_eq!(asked(&busybox, Some(&distro("wolfi", "20230201", None)), &[])[0].0, "Wolfi");
        let mut openssl = package(PackageType::Rpm, "openssl-libs", "3.0.7-25.el9_3");
        openssl.epoch = Some(1);
        openssl.source = Some(SourcePackage { name: "openssl".into(), version: None });
        assert_eq!(
            asked(&openssl, Some(&distro("almalinux", "9.3", None)), &[]),
            [triple("AlmaLinux:9", "openssl-libs", "1:3.0.7-25.el9_3"), triple("AlmaLinux:9", "openssl", "1:3.0.7-25.el9_3")]
        );
        assert_eq!(asked(&openssl, Some(&distro("rocky", "9.3", None)), &[])[0].0, "Rocky Linux:9");
        let rhel: Vec<String> = asked(&openssl, Some(&distro("rhel", "9.3", None)), &["Red Hat:enterprise_linux:9::baseos", "Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:8::baseos"]).into_iter().map(|query| query.0).collect();
        assert_eq!(rhel, ["Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos", "Red Hat:enterprise_linux:9::baseos"]);
        // No epoch outside the Red Hat family.
        assert_eq!(asked(&openssl, Some(&distro("opensuse-leap", "15.5", Some("openSUSE Leap 15.5"))), &[])[0], triple("openSUSE:Leap 15.5", "openssl-libs", "3.0.7-25.el9_3"));
        assert_eq!(asked(&openssl, Some(&distro("sles", "15.5", Some("SUSE Linux Enterprise Server 15 SP5"))), &[])[0].0, "SUSE:Linux Enterprise Server 15 SP5");
        assert_eq!(asked(&openssl, Some(&distro("mariner", "2.0", None)), &[])[0].0, "Azure Linux:2.0");
        assert_eq!(asked(&openssl, Some(&distro("photon", "5.0", None)), &[])[0].0, "Photon OS:5.0");
        assert_eq!(asked(&openssl, Some(&distro("openEuler", "24.03", Some("openEuler 24.03 (LTS-SP1)"))), &[])[0].0, "openEuler:24.03-LTS-SP1");
    }

    #[test]
    fn os_packages_without_a_known_distribution_are_not_matched() {
        let bash = package(PackageType::Deb, "bash", "5.2");
        assert_eq!(queries(&bash, None, &[]), Err(Unmatchable::UnknownDistro(String::new())));
        assert_eq!(queries(&bash, Some(&distro("gentoo", "2.14", None)), &[]), Err(Unmatchable::UnknownDistro("gentoo 2.14".into())));
    }

    #[test]
    fn language_packages() {
        let mut log4j = package(PackageType::JavaArchive, "log4j-core", "2.14.1");
        log4j.namespace = Some("org.apache.logging.log4j".into());
        assert_eq!(asked(&log4j, None, &[]), [triple("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1")]);
        let mut no_group = package(PackageType::JavaArchive, "thing", "1.0");
        assert_eq!(queries(&no_group, None, &[]), Err(Unmatchable::NoGroup));
        no_group.purl = "pkg:maven/com.example/thing@1.0".into();
        assert_eq!(asked(&no_group, None, &[])[0].1, "com.example:thing");
        assert_eq!(asked(&package(PackageType::GoModule, "golang.org/x/net", "v0.17.0"), None, &[]), [triple("Go", "golang.org/x/net", "0.17.0")]);
        assert_eq!(queries(&package(PackageType::GoModule, "example.com/main", "(devel)"), None, &[]), Err(Unmatchable::NoVersion));
        assert_eq!(asked(&package(PackageType::Python, "Jinja2", "2.10"), None, &[]), [triple("PyPI", "Jinja2", "2.10")]);
        assert_eq!(asked(&package(PackageType::Dotnet, "Newtonsoft.Json", "12.0.1"), None, &[])[0].0, "NuGet");
    }

    #[test]
    fn go_toolchain_versions_take_osv_spelling() {
        assert_eq!(go_version("stdlib", "go1.20.5").as_deref(), Some("1.20.5"));
        assert_eq!(go_version("stdlib", "go1.21").as_deref(), Some("1.21.0"));
        assert_eq!(go_version("stdlib", "go1.21rc2").as_deref(), Some("1.21.0-rc.2"));
        assert_eq!(go_version("toolchain", "go1.22.5 X:boringcrypto").as_deref(), Some("1.22.5"));
        assert_eq!(go_version("github.com/a/b", "v1.2.3-0.20210101000000-abcdefabcdef").as_deref(), Some("1.2.3-0.20210101000000-abcdefabcdef"));
    }
}

//! Package URLs (<https://github.com/package-url/purl-spec>), encoded as Syft's purl library
//! encodes them (qualifiers sorted by key, `+` and `@` percent-encoded, `:` kept), so the same
//! package has the same purl in both tools.

use packageurl::PackageUrl;

use crate::{Distro, Package};

/// A package URL from its parts; qualifiers with empty values are left out.
pub fn build(
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
    qualifiers: &[(&str, &str)],
) -> String {
    // The crate applies the purl specification's per-type normalisation (npm names, Go and
    // Composer namespaces lower-cased); Syft keeps names as the ecosystem writes them, and a
    // case-sensitive registry (npm's `JSONStream`) needs that. A type without rules gets only the
    // encoding, and the real type is put back.
    let Ok(mut purl) = PackageUrl::new(UNNORMALISED_TYPE, name.to_owned()) else {
        return String::new();
    };
    if let Some(namespace) = namespace.filter(|namespace| !namespace.is_empty()) {
        purl.with_namespace(namespace.to_owned()).ok();
    }
    if let Some(version) = version.filter(|version| !version.is_empty()) {
        purl.with_version(version.to_owned()).ok();
    }
    let mut qualifiers: Vec<_> = qualifiers.iter().filter(|(_, value)| !value.is_empty()).collect();
    qualifiers.sort_by_key(|(key, _)| *key);
    for (key, value) in qualifiers {
        purl.add_qualifier(key.to_string(), value.to_string()).ok();
    }
    let text = purl.to_string();
    match text.strip_prefix(concat!("pkg:", "generic", "/")) {
        Some(rest) => format!("pkg:{kind}/{rest}"),
        None => text,
    }
}

const UNNORMALISED_TYPE: &str = "generic";

/// `pkg:npm/%40scope/name@version` for scoped names, `pkg:npm/name@version` otherwise.
pub fn npm(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((scope, bare)) => build("npm", Some(scope), bare, Some(version), &[]),
        None => build("npm", None, name, Some(version), &[]),
    }
}

/// `vendor/package` as namespace and name; deeper names join the rest with `-`, as Syft does.
pub fn composer(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((vendor, package)) => build("composer", Some(vendor), &package.replace('/', "-"), Some(version), &[]),
        None => build("composer", None, name, Some(version), &[]),
    }
}

/// A Maven purl as Syft writes it: the group is the namespace; without a group, the artifact
/// stands in for it.
pub fn maven(group: &str, artifact: &str, version: &str) -> String {
    let namespace = if group.is_empty() { artifact } else { group };
    build("maven", Some(namespace), artifact, Some(version), &[])
}

/// A Go module purl as Syft writes it: the first two path elements are the namespace, the third
/// the name, the rest the subpath (`pkg:golang/github.com/aws/aws-sdk-go-v2@v1.40.0#service/s3`).
pub fn golang(module: &str, version: &str) -> String {
    let elements: Vec<&str> = module.split('/').collect();
    match elements.as_slice() {
        [name] => build("golang", None, name, Some(version), &[]),
        [namespace, name] => build("golang", Some(namespace), name, Some(version), &[]),
        [host, owner, name, subpath @ ..] => {
            let mut purl = build("golang", Some(&format!("{host}/{owner}")), name, Some(version), &[]);
            let subpath: Vec<&str> = subpath.iter().copied().filter(|element| !matches!(*element, "" | "." | "..")).collect();
            if !subpath.is_empty() && !purl.is_empty() {
                purl.push('#');
                purl.push_str(&escape_fragment(&subpath.join("/")));
            }
            purl
        }
        [] => String::new(),
    }
}

/// A purl subpath as Go's `url.URL` (Syft's purl library) writes a fragment: unreserved and
/// sub-delimiter characters as they are, anything else percent-encoded.
fn escape_fragment(fragment: &str) -> String {
    let mut escaped = String::with_capacity(fragment.len());
    for byte in fragment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&byte) {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

/// The purl of an OS package, which names the distribution it was built for:
/// `pkg:deb/debian/bash@5.2.15-2+b8?arch=amd64&distro=debian-12&upstream=bash@5.2.15-2`
/// (shown unencoded). Without a known distribution, Debian and Alpine packages get none (as in
/// Syft) and RPM packages one without a namespace.
pub fn os_package(package: &Package, distro: Option<&Distro>) -> String {
    let distro_id = distro.map(|distro| distro.id.as_str()).filter(|id| !id.is_empty());
    let distro_qualifier = distro_id
        .map(|id| match distro.and_then(|distro| distro.version_id.as_deref()) {
            Some(version) => format!("{id}-{version}"),
            None => id.to_owned(),
        })
        .unwrap_or_default();
    let upstream = package
        .source
        .as_ref()
        .map(|source| match &source.version {
            Some(version) => format!("{}@{}", source.name, version),
            None => source.name.clone(),
        })
        .unwrap_or_default();
    let arch = package.arch.as_deref().unwrap_or_default();
    let epoch = package.epoch.map(|epoch| epoch.to_string()).unwrap_or_default();
    let qualifiers = [("arch", arch), ("epoch", epoch.as_str()), ("upstream", upstream.as_str()), ("distro", distro_qualifier.as_str())];
    match package.kind {
        // As Syft: Debian and Alpine packages without a known distribution get no purl, since
        // their namespace would be a guess.
        crate::PackageType::Deb | crate::PackageType::Apk => {
            let Some(id) = distro_id else { return String::new() };
            let kind = if package.kind == crate::PackageType::Deb { "deb" } else { "apk" };
            build(kind, Some(&id.to_lowercase()), &package.name, Some(&package.version), &qualifiers)
        }
        // RPM: Red Hat's vendor namespace is `redhat`; the version is `version-release`, with
        // the epoch as a qualifier (the package's version shows it as `EPOCH:`).
        _ => {
            let namespace = distro_id.map_or("", |id| if id == "rhel" { "redhat" } else { id });
            let version = match package.epoch {
                Some(epoch) => package.version.strip_prefix(&format!("{epoch}:")).unwrap_or(&package.version),
                None => &package.version,
            };
            build("rpm", Some(namespace), &package.name, Some(version), &qualifiers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, PackageType, SourcePackage};

    fn deb(name: &str, version: &str, arch: &str, source: Option<(&str, Option<&str>)>) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind: PackageType::Deb,
            purl: String::new(),
            licenses: vec![],
            locations: vec![Location::new("/var/lib/dpkg/status")],
            found_by: "dpkg-db-cataloger".into(),
            arch: Some(arch.into()),
            epoch: None,
            source: source.map(|(name, version)| SourcePackage { name: name.into(), version: version.map(Into::into) }),
            namespace: None,
        }
    }

    fn bookworm() -> Distro {
        Distro { id: "debian".into(), version_id: Some("12".into()), ..Distro::default() }
    }

    // Expected strings are Syft 1.18.1's output for the same packages of a Debian 12 status file.
    #[test]
    fn debian_purls_are_encoded_as_syft_encodes_them() {
        let cases = [
            (deb("base-files", "12.4+deb12u11", "amd64", None), "pkg:deb/debian/base-files@12.4%2Bdeb12u11?arch=amd64&distro=debian-12"),
            (
                deb("bash", "5.2.15-2+b8", "amd64", Some(("bash", Some("5.2.15-2")))),
                "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
            ),
            (
                deb("bsdutils", "1:2.38.1-5+deb12u3", "amd64", Some(("util-linux", Some("2.38.1-5+deb12u3")))),
                "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3",
            ),
            (
                deb("bsdextrautils", "2.38.1-5+deb12u3", "amd64", Some(("util-linux", None))),
                "pkg:deb/debian/bsdextrautils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux",
            ),
        ];
        for (package, expected) in cases {
            assert_eq!(os_package(&package, Some(&bookworm())), expected);
        }
    }

    #[test]
    fn without_a_distribution_debian_packages_have_no_purl() {
        let package = deb("bash", "5.2.15-2+b8", "amd64", None);
        assert_eq!(os_package(&package, None), "");
    }

    #[test]
    fn rpm_purls_use_the_vendor_namespace_and_the_epoch_qualifier() {
        let mut package = deb("hello", "2:1.0-3.el9", "x86_64", Some(("hello-1.0-3.el9.src.rpm", None)));
        package.kind = PackageType::Rpm;
        package.epoch = Some(2);
        let rhel = Distro { id: "rhel".into(), version_id: Some("9.3".into()), ..Distro::default() };
        assert_eq!(
            os_package(&package, Some(&rhel)),
            "pkg:rpm/redhat/hello@1.0-3.el9?arch=x86_64&distro=rhel-9.3&epoch=2&upstream=hello-1.0-3.el9.src.rpm"
        );
    }

    #[test]
    fn names_keep_their_case_as_in_syft() {
        assert_eq!(build("npm", None, "JSONStream", Some("1.3.5"), &[]), "pkg:npm/JSONStream@1.3.5");
        assert_eq!(build("golang", Some("github.com/BurntSushi"), "toml", Some("v1.3.2"), &[]), "pkg:golang/github.com/BurntSushi/toml@v1.3.2");
    }

    #[test]
    fn namespaced_language_purls() {
        assert_eq!(build("npm", Some("@babel"), "core", Some("7.24.0"), &[]), "pkg:npm/%40babel/core@7.24.0");
        assert_eq!(
            build("golang", Some("github.com/spf13"), "cobra", Some("v1.8.0"), &[]),
            "pkg:golang/github.com/spf13/cobra@v1.8.0"
        );
        assert_eq!(
            build("maven", Some("org.apache.logging.log4j"), "log4j-core", Some("2.14.1"), &[]),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
    }
}

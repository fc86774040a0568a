//! Package URLs read back into packages (<https://github.com/package-url/purl-spec>, "How to
//! parse a purl string"). Names keep their case, as Syft and Palisade write them; the
//! `packageurl` crate lower-cases some types' names on parsing, which would change the name a
//! package is matched under.

use palisade_pkg::{Distro, Location, Package, PackageType, SourcePackage};

/// The parts of a package URL, percent-decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Purl {
    /// Lower case, as the specification defines the type.
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) version: Option<String>,
    /// Keys lower case, empty values left out.
    pub(crate) qualifiers: Vec<(String, String)>,
    pub(crate) subpath: Option<String>,
}

impl Purl {
    pub(crate) fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str())
    }
}

/// Parses a package URL as the specification's parsing steps do.
pub(crate) fn parse(text: &str) -> Result<Purl, String> {
    let text = text.trim();
    let rest = text
        .get(..4)
        .filter(|scheme| scheme.eq_ignore_ascii_case("pkg:"))
        .map(|_| &text[4..])
        .ok_or("a package URL starts with `pkg:`")?;
    let rest = rest.trim_start_matches('/');
    let (rest, subpath) = match rest.rsplit_once('#') {
        Some((rest, subpath)) => {
            let segments: Result<Vec<String>, String> = subpath
                .split('/')
                .filter(|segment| !matches!(*segment, "" | "." | ".."))
                .map(decode)
                .collect();
            (rest, Some(segments?.join("/")).filter(|subpath| !subpath.is_empty()))
        }
        None => (rest, None),
    };
    let (rest, qualifiers) = match rest.rsplit_once('?') {
        Some((rest, query)) => {
            let mut qualifiers = Vec::new();
            for pair in query.split('&').filter(|pair| !pair.is_empty()) {
                let (key, value) = pair.split_once('=').ok_or_else(|| format!("qualifier `{pair}` has no `=`"))?;
                let value = decode(value)?;
                if !value.is_empty() {
                    qualifiers.push((key.to_ascii_lowercase(), value));
                }
            }
            (rest, qualifiers)
        }
        None => (rest, Vec::new()),
    };
    let (kind, rest) = rest.split_once('/').ok_or("a package URL needs a type and a name (`pkg:type/name`)")?;
    let kind_valid = kind.starts_with(|c: char| c.is_ascii_alphabetic())
        && kind.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'));
    if !kind_valid {
        return Err(format!("`{kind}` is not a package URL type"));
    }
    let rest = rest.trim_end_matches('/');
    let (rest, version) = match rest.rsplit_once('@') {
        Some((rest, version)) => (rest, Some(decode(version)?).filter(|version| !version.is_empty())),
        None => (rest, None),
    };
    let (namespace, name) = match rest.rsplit_once('/') {
        Some((namespace, name)) => {
            let segments: Result<Vec<String>, String> = namespace.split('/').filter(|segment| !segment.is_empty()).map(decode).collect();
            (Some(segments?.join("/")).filter(|namespace| !namespace.is_empty()), decode(name)?)
        }
        None => (None, decode(rest)?),
    };
    if name.is_empty() {
        return Err("a package URL needs a name".to_owned());
    }
    Ok(Purl { kind: kind.to_ascii_lowercase(), namespace, name, version, qualifiers, subpath })
}

/// Percent-decoding; the result must be UTF-8.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let byte = bytes
                .get(index + 1..index + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| format!("`{text}` has a `%` that is not followed by two hexadecimal digits"))?;
            decoded.push(byte);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).map_err(|_| format!("`{text}` does not decode to UTF-8 text"))
}

/// Palisade's package type for a purl type; `None` for types no cataloger produces.
pub(crate) fn package_type(purl_type: &str) -> Option<PackageType> {
    Some(match purl_type {
        "deb" => PackageType::Deb,
        "apk" => PackageType::Apk,
        "rpm" => PackageType::Rpm,
        "pypi" => PackageType::Python,
        "npm" => PackageType::Npm,
        "golang" => PackageType::GoModule,
        "maven" => PackageType::JavaArchive,
        "cargo" => PackageType::RustCrate,
        "gem" => PackageType::Gem,
        "composer" => PackageType::PhpComposer,
        "nuget" => PackageType::Dotnet,
        _ => return None,
    })
}

/// What a document says of one package besides its purl.
pub(crate) struct Described<'a> {
    pub(crate) purl_text: &'a str,
    /// The document's own version field, used when the purl has none.
    pub(crate) version: &'a str,
    pub(crate) licenses: Vec<String>,
    pub(crate) location: &'a Location,
    pub(crate) found_by: &'a str,
}

/// The package a purl names, in the form Palisade's catalogers give it: the name as the
/// ecosystem writes it (npm `@scope/name`, Go's module path with the purl's subpath, Composer
/// `vendor/name`, a Maven artifact with its group as namespace), the RPM version with its epoch
/// (`2:1.0-3.el9`, as the RPM cataloger writes it), and Go's standard library at `go1.21.3`, as Go
/// programs record it. `None` for a type Palisade has no package type for.
pub(crate) fn package(purl: &Purl, described: Described<'_>) -> Option<Package> {
    let kind = package_type(&purl.kind)?;
    let joined = |parts: &[Option<&str>]| parts.iter().flatten().copied().collect::<Vec<_>>().join("/");
    let name = match kind {
        PackageType::Npm | PackageType::PhpComposer => joined(&[purl.namespace.as_deref(), Some(&purl.name)]),
        PackageType::GoModule => joined(&[purl.namespace.as_deref(), Some(&purl.name), purl.subpath.as_deref()]),
        _ => purl.name.clone(),
    };
    let epoch = purl.qualifier("epoch").and_then(|epoch| epoch.parse::<u32>().ok());
    let mut version = purl.version.clone().unwrap_or_else(|| described.version.to_owned());
    match kind {
        PackageType::Rpm => {
            if let Some(epoch) = epoch.filter(|epoch| !version.is_empty() && !version.starts_with(&format!("{epoch}:"))) {
                version = format!("{epoch}:{version}");
            }
        }
        PackageType::GoModule if name == "stdlib" && version.starts_with(|c: char| c.is_ascii_digit()) => {
            version = format!("go{version}");
        }
        _ => {}
    }
    let source = purl.qualifier("upstream").map(|upstream| match upstream.split_once('@') {
        Some((name, version)) => SourcePackage { name: name.to_owned(), version: Some(version.to_owned()) },
        None => SourcePackage { name: upstream.to_owned(), version: None },
    });
    Some(Package {
        name,
        version,
        kind,
        purl: described.purl_text.trim().to_owned(),
        licenses: described.licenses,
        locations: vec![described.location.clone()],
        found_by: described.found_by.to_owned(),
        arch: purl.qualifier("arch").map(str::to_owned),
        epoch: if kind == PackageType::Rpm { epoch } else { None },
        source: source.filter(|_| kind.is_os()),
        namespace: if kind == PackageType::JavaArchive { purl.namespace.clone() } else { None },
    })
}

/// The distribution a `distro` qualifier names, as Syft and Trivy write it: `debian-12`,
/// `alpine-3.19.1`, `opensuse-leap-15.5` (the version is what follows the last `-`, when it
/// starts with a digit).
pub(crate) fn distro(qualifier: &str) -> Distro {
    match qualifier.rsplit_once('-') {
        Some((id, version)) if !id.is_empty() && version.starts_with(|c: char| c.is_ascii_digit()) => {
            Distro { id: id.to_owned(), version_id: Some(version.to_owned()), ..Distro::default() }
        }
        _ => Distro { id: qualifier.to_owned(), ..Distro::default() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Package {
        let location = Location::new("/sbom.json");
        let described = Described { purl_text: text, version: "", licenses: Vec::new(), location: &location, found_by: "t" };
        package(&parse(text).unwrap(), described).unwrap()
    }

    // The purls are those palisade-pkg's tests take from Syft 1.18.1's output.
    #[test]
    fn os_purls_give_the_package_its_source_arch_and_epoch() {
        let bsdutils = read("pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3");
        assert_eq!((bsdutils.name.as_str(), bsdutils.version.as_str(), bsdutils.arch.as_deref()), ("bsdutils", "1:2.38.1-5+deb12u3", Some("amd64")));
        assert_eq!(bsdutils.source, Some(SourcePackage { name: "util-linux".into(), version: Some("2.38.1-5+deb12u3".into()) }));
        let hello = read("pkg:rpm/redhat/hello@1.0-3.el9?arch=x86_64&distro=rhel-9.3&epoch=2&upstream=hello-1.0-3.el9.src.rpm");
        assert_eq!((hello.version.as_str(), hello.epoch), ("2:1.0-3.el9", Some(2)));
        assert_eq!(hello.source, Some(SourcePackage { name: "hello-1.0-3.el9.src.rpm".into(), version: None }));
    }

    #[test]
    fn language_purls_give_the_name_the_ecosystem_uses() {
        let cases = [
            ("pkg:npm/%40babel/core@7.24.0", PackageType::Npm, "@babel/core", "7.24.0"),
            ("pkg:npm/JSONStream@1.3.5", PackageType::Npm, "JSONStream", "1.3.5"),
            ("pkg:golang/github.com/aws/aws-sdk-go-v2@v1.44.0#service/s3", PackageType::GoModule, "github.com/aws/aws-sdk-go-v2/service/s3", "v1.44.0"),
            ("pkg:golang/stdlib@1.21.3", PackageType::GoModule, "stdlib", "go1.21.3"),
            ("pkg:golang/../telemetry", PackageType::GoModule, "../telemetry", ""),
            ("pkg:composer/symfony/console@v6.4.1", PackageType::PhpComposer, "symfony/console", "v6.4.1"),
            ("pkg:pypi/Flask_Cors@4.0.0", PackageType::Python, "Flask_Cors", "4.0.0"),
            ("pkg:cargo/serde@1.0.195", PackageType::RustCrate, "serde", "1.0.195"),
            ("pkg:gem/nokogiri@1.15.5?platform=x86_64-linux", PackageType::Gem, "nokogiri", "1.15.5"),
            ("pkg:nuget/Newtonsoft.Json@13.0.3", PackageType::Dotnet, "Newtonsoft.Json", "13.0.3"),
        ];
        for (text, kind, name, version) in cases {
            let package = read(text);
            assert_eq!((package.kind, package.name.as_str(), package.version.as_str(), package.purl.as_str()), (kind, name, version, text));
        }
        let log4j = read("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        assert_eq!((log4j.kind, log4j.name.as_str(), log4j.namespace.as_deref()), (PackageType::JavaArchive, "log4j-core", Some("org.apache.logging.log4j")));
    }

    #[test]
    fn the_documents_version_stands_in_for_a_missing_purl_version() {
        let location = Location::new("/x");
        let described = Described { purl_text: "pkg:npm/left-pad", version: "1.3.0", licenses: Vec::new(), location: &location, found_by: "t" };
        assert_eq!(package(&parse("pkg:npm/left-pad").unwrap(), described).unwrap().version, "1.3.0");
    }

    #[test]
    fn malformed_purls_say_what_is_wrong() {
        assert_eq!(parse("npm/x@1").unwrap_err(), "a package URL starts with `pkg:`");
        assert_eq!(parse("pkg:npm").unwrap_err(), "a package URL needs a type and a name (`pkg:type/name`)");
        assert_eq!(parse("pkg:1x/y").unwrap_err(), "`1x` is not a package URL type");
        assert_eq!(parse("pkg:npm/x@1%zz").unwrap_err(), "`1%zz` has a `%` that is not followed by two hexadecimal digits");
        assert_eq!(parse("pkg:npm/@1").unwrap_err(), "a package URL needs a name");
        assert_eq!(parse("pkg:npm/x?arch").unwrap_err(), "qualifier `arch` has no `=`");
        assert_eq!(package_type(&parse("pkg:github/a/b@1").unwrap().kind), None);
    }

    #[test]
    fn distro_qualifiers_split_at_the_version() {
        let cases = [("debian-12", "debian", Some("12")), ("alpine-3.19.1", "alpine", Some("3.19.1")), ("opensuse-leap-15.5", "opensuse-leap", Some("15.5")), ("wolfi", "wolfi", None)];
        for (qualifier, id, version) in cases {
            let found = distro(qualifier);
            assert_eq!((found.id.as_str(), found.version_id.as_deref()), (id, version));
        }
    }
}

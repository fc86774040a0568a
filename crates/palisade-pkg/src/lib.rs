//! The inventory model every image, directory and lockfile door produces and every SBOM writer
//! and vulnerability matcher consumes: what is installed, where the proof is, and on which
//! distribution.
//!
//! Package types use Syft's names (`deb`, `go-module`, `java-archive`, …) so that inventories
//! can be compared with Syft's side by side and read by people who know it.

pub mod purl;

use serde::{Deserialize, Serialize};

/// The kind of package, named as Syft names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PackageType {
    #[serde(rename = "deb")]
    Deb,
    #[serde(rename = "apk")]
    Apk,
    #[serde(rename = "rpm")]
    Rpm,
    #[serde(rename = "python")]
    Python,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "go-module")]
    GoModule,
    #[serde(rename = "java-archive")]
    JavaArchive,
    #[serde(rename = "rust-crate")]
    RustCrate,
    #[serde(rename = "gem")]
    Gem,
    #[serde(rename = "php-composer")]
    PhpComposer,
    #[serde(rename = "dotnet")]
    Dotnet,
}

impl PackageType {
    pub const ALL: [PackageType; 11] = [
        Self::Deb,
        Self::Apk,
        Self::Rpm,
        Self::Python,
        Self::Npm,
        Self::GoModule,
        Self::JavaArchive,
        Self::RustCrate,
        Self::Gem,
        Self::PhpComposer,
        Self::Dotnet,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Apk => "apk",
            Self::Rpm => "rpm",
            Self::Python => "python",
            Self::Npm => "npm",
            Self::GoModule => "go-module",
            Self::JavaArchive => "java-archive",
            Self::RustCrate => "rust-crate",
            Self::Gem => "gem",
            Self::PhpComposer => "php-composer",
            Self::Dotnet => "dotnet",
        }
    }

    /// Packages the operating system's package manager installed; their package URLs name the
    /// distribution.
    pub const fn is_os(self) -> bool {
        matches!(self, Self::Deb | Self::Apk | Self::Rpm)
    }
}

impl std::fmt::Display for PackageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file that proves a package is there: its path in the scanned filesystem (absolute, `/`
/// separated) and, for images, the digest of the layer that wrote it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

impl Location {
    pub fn new(path: impl Into<String>) -> Self {
        Self { path: path.into(), layer: None }
    }
}

/// The package a binary package was built from (Debian `Source:`, RPM source RPM, apk `o:`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourcePackage {
    pub name: String,
    /// Only when it differs from the binary package's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One installed or declared package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The name the ecosystem uses: `libc6`, `requests`, `@babel/core`, `github.com/x/y`,
    /// a Maven artifactId.
    pub name: String,
    /// The version as the ecosystem writes it; RPM: `version-release` (the epoch is separate),
    /// Go: `v1.2.3` or `(devel)`.
    pub version: String,
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Package URL; for OS packages it names the distribution, so it is completed once the
    /// distribution is known (see [`purl::os_package`]).
    pub purl: String,
    /// Licences as declared (SPDX expressions where the source gives them, else the text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The files that prove it, first the one it was read from.
    pub locations: Vec<Location>,
    /// Which cataloger found it, e.g. `dpkg-db-cataloger`.
    pub found_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// RPM epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// Maven groupId, npm scope-less namespace etc. when the purl needs one and the name does
    /// not carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Package {
    /// A package known by its name, version and purl; licences, evidence and the rest are
    /// filled in by whoever found it.
    pub fn new(kind: PackageType, name: impl Into<String>, version: impl Into<String>, purl: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            kind,
            purl: purl.into(),
            licenses: Vec::new(),
            locations: Vec::new(),
            found_by: String::new(),
            arch: None,
            epoch: None,
            source: None,
            namespace: None,
        }
    }

    /// The key two inventories are compared on: type, name, version, purl.
    pub fn identity(&self) -> (PackageType, &str, &str, &str) {
        (self.kind, &self.name, &self.version, &self.purl)
    }
}

/// The operating system, from `/etc/os-release` (or the older release files).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID`: `debian`, `alpine`, `rhel`, `ubuntu`.
    pub id: String,
    /// `VERSION_ID`: `12`, `3.19.1`, `9.3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_codename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// The file it was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// What was scanned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceDescription {
    Image(ImageDescription),
    /// A root filesystem directory (`dir:PATH`) or a project directory.
    Directory { path: String },
    /// A single file (a lockfile, an archive, a binary).
    File { path: String },
}

/// An image as scanned: the reference the user gave, what it resolved to, and its layers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageDescription {
    /// As the user wrote it: `oci:dir:tag`, `docker-archive:x.tar`, `nginx:1.27`.
    pub reference: String,
    /// Repository names and tags the image carries (`docker.io/library/nginx:1.27`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Digest of the manifest that was read (`sha256:…`).
    pub manifest_digest: String,
    /// Digest of the image configuration: the image ID.
    pub config_digest: String,
    /// Repository digests (`name@sha256:…`) when pulled from a registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub layers: Vec<LayerDescription>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerDescription {
    /// Digest of the blob as stored (compressed).
    pub digest: String,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: String,
    pub media_type: String,
    /// Size of the blob in bytes.
    pub size: u64,
}

/// Everything found in one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub source: SourceDescription,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    /// Sorted by type, name, version, purl, first location.
    pub packages: Vec<Package>,
    /// Files that could not be read or parsed; the rest of the inventory is still complete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<InventoryIssue>,
}

/// A named problem with one file: `var/lib/dpkg/status:12: field without a name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InventoryIssue {
    pub location: Location,
    pub message: String,
}

impl Inventory {
    /// Puts the packages in their documented, byte-stable order.
    pub fn sort(&mut self) {
        self.packages.sort_by(|a, b| {
            (a.kind, &a.name, &a.version, &a.purl, a.locations.first())
                .cmp(&(b.kind, &b.name, &b.version, &b.purl, b.locations.first()))
        });
        self.issues.sort();
    }
}

//! What an image is to the rest of the crate: a description and a way to read each layer's blob,
//! and the references users write to name one.

use std::io::Read;
use std::path::{Path, PathBuf};

use palisade_pkg::ImageDescription;

use crate::ImageError;

/// An image whose layers can be read one at a time, in any order and from several threads.
///
/// Implemented by the OCI layout and docker-archive readers of this crate and by the registry
/// source (`registry::open`). Everything the analysis needs besides the blobs is in
/// [`ImageSource::description`]: the layers' digests, diff ids, media types and sizes.
pub trait ImageSource: Send + Sync {
    /// The image as resolved: reference, digests, platform, and its layers in order (lowest
    /// first).
    fn description(&self) -> &ImageDescription;

    /// The blob of layer `index` (an index into `description().layers`) as stored: compressed
    /// as its media type says. The reader decompresses, verifies the digests and caps sizes, so
    /// an implementation only hands over the bytes.
    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError>;
}

/// An operating system and CPU, as an image index lists them (`linux/arm64/v8`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform picked from a multi-platform index when the user names none.
    pub fn linux_amd64() -> Self {
        Self { os: "linux".to_owned(), architecture: "amd64".to_owned(), variant: None }
    }

    /// Reads `os/arch` or `os/arch/variant` (`linux/amd64`, `linux/arm/v7`).
    pub fn parse(text: &str) -> Result<Self, ImageError> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        match parts.as_slice() {
            [os, architecture] if parts.iter().all(valid) => Ok(Self { os: (*os).to_owned(), architecture: (*architecture).to_owned(), variant: None }),
            [os, architecture, variant] if parts.iter().all(valid) => {
                Ok(Self { os: (*os).to_owned(), architecture: (*architecture).to_owned(), variant: Some((*variant).to_owned()) })
            }
            _ => Err(ImageError::Reference { reference: text.to_owned(), problem: "a platform is os/architecture[/variant], e.g. linux/amd64 or linux/arm/v7".to_owned() }),
        }
    }

    /// Whether an index entry for `other` serves this platform. A variant left out on either
    /// side matches any; `arm64` without a variant is `v8`, as container runtimes take it.
    pub fn matches(&self, other: &Platform) -> bool {
        if self.os != other.os || self.architecture != other.architecture {
            return false;
        }
        let normalised = |platform: &Platform| match (platform.architecture.as_str(), platform.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_owned()),
            (_, variant) => variant.map(str::to_owned),
        };
        match (&self.variant, &other.variant) {
            (Some(_), Some(_)) => normalised(self) == normalised(other),
            _ => true,
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// Which image of an OCI layout to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OciSelector {
    /// The manifest or index whose `org.opencontainers.image.ref.name` annotation is this.
    Tag(String),
    /// The manifest or index with this digest (`sha256:…`).
    Digest(String),
}

/// A source as the user names it on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceRef {
    /// `oci:DIR`, `oci:DIR:TAG`, `oci:DIR@sha256:…`: an OCI image layout directory.
    OciLayout { dir: PathBuf, selector: Option<OciSelector> },
    /// `docker-archive:FILE.tar[:NAME:TAG]`: what `docker save` or `skopeo copy …
    /// docker-archive:` write; the name picks one image of an archive holding several.
    DockerArchive { file: PathBuf, image: Option<String> },
    /// `dir:PATH`: a root filesystem, read for what is installed in it, as an image would be.
    RootFs(PathBuf),
    /// An existing directory named without a prefix: a project, read for installed packages
    /// and lockfiles.
    Project(PathBuf),
    /// Anything else (or `registry:REF`): an image in a registry, `nginx:1.27`,
    /// `ghcr.io/org/app@sha256:…`. Opened by `registry::open`, not by [`SourceRef::open_image`].
    Registry(String),
}

impl SourceRef {
    /// Reads a source reference. Local paths are checked against the filesystem so that a path
    /// holding a colon still parses: `oci:/tmp/a:b:tag` is the layout `/tmp/a:b`, tag `tag`,
    /// when `/tmp/a:b` is a directory.
    pub fn parse(text: &str) -> Result<Self, ImageError> {
        let invalid = |problem: &str| ImageError::Reference { reference: text.to_owned(), problem: problem.to_owned() };
        if let Some(rest) = text.strip_prefix("oci:").or_else(|| text.strip_prefix("oci-dir:")) {
            if rest.is_empty() {
                return Err(invalid("oci: needs a layout directory, e.g. oci:./layout:tag"));
            }
            return Ok(parse_oci(rest));
        }
        if let Some(rest) = text.strip_prefix("docker-archive:") {
            if rest.is_empty() {
                return Err(invalid("docker-archive: needs a file, e.g. docker-archive:image.tar"));
            }
            return Ok(parse_docker_archive(rest));
        }
        if let Some(rest) = text.strip_prefix("dir:") {
            if rest.is_empty() {
                return Err(invalid("dir: needs a directory, e.g. dir:/srv/rootfs"));
            }
            return Ok(Self::RootFs(PathBuf::from(rest)));
        }
        if let Some(rest) = text.strip_prefix("registry:") {
            if rest.is_empty() {
                return Err(invalid("registry: needs an image reference, e.g. registry:nginx:1.27"));
            }
            return Ok(Self::Registry(rest.to_owned()));
        }
        if text.is_empty() {
            return Err(invalid("empty source; give an image reference, oci:DIR, docker-archive:FILE, dir:PATH or a directory"));
        }
        if Path::new(text).is_dir() {
            return Ok(Self::Project(PathBuf::from(text)));
        }
        // No image reference starts so: a path that is not there.
        if text.starts_with(['/', '.']) {
            return Err(invalid("no such file or directory"));
        }
        Ok(Self::Registry(text.to_owned()))
    }

    /// Opens an image stored in local files (OCI layout, docker archive). Directories are not
    /// images (see `analyze_directory`), and registry images are opened by `registry::open`;
    /// for those this is an error that says so.
    pub fn open_image(&self, reference: &str, platform: Option<&Platform>) -> Result<Box<dyn ImageSource>, ImageError> {
        match self {
            Self::OciLayout { dir, selector } => Ok(Box::new(crate::oci::OciLayout::open(reference, dir, selector.as_ref(), platform)?)),
            Self::DockerArchive { file, image } => Ok(Box::new(crate::docker_archive::DockerArchive::open(reference, file, image.as_deref(), platform)?)),
            Self::RootFs(_) | Self::Project(_) | Self::Registry(_) => Err(ImageError::Reference {
                reference: reference.to_owned(),
                problem: "not an image stored in local files (directories are analysed with analyze_directory, registry images opened with registry::open)".to_owned(),
            }),
        }
    }
}

/// Splits `FILE[:NAME:TAG]` at the first colon after which the prefix is an existing file.
fn parse_docker_archive(rest: &str) -> SourceRef {
    if Path::new(rest).is_file() {
        return SourceRef::DockerArchive { file: PathBuf::from(rest), image: None };
    }
    let split = rest.match_indices(':').map(|(at, _)| at).find(|&at| Path::new(&rest[..at]).is_file());
    match split {
        Some(at) => SourceRef::DockerArchive { file: PathBuf::from(&rest[..at]), image: Some(rest[at + 1..].to_owned()).filter(|image| !image.is_empty()) },
        None => SourceRef::DockerArchive { file: PathBuf::from(rest), image: None },
    }
}

/// Splits `DIR[:tag|@digest]`, preferring the longest prefix that is an existing directory.
fn parse_oci(rest: &str) -> SourceRef {
    if Path::new(rest).is_dir() {
        return SourceRef::OciLayout { dir: PathBuf::from(rest), selector: None };
    }
    if let Some(at) = rest.rfind('@') {
        let (dir, digest) = (&rest[..at], &rest[at + 1..]);
        if digest.contains(':') && !digest.contains('/') {
            return SourceRef::OciLayout { dir: PathBuf::from(dir), selector: Some(OciSelector::Digest(digest.to_owned())) };
        }
    }
    let colons: Vec<usize> = rest.match_indices(':').map(|(at, _)| at).collect();
    let split = colons.iter().rev().copied().find(|&at| Path::new(&rest[..at]).is_dir()).or(colons.last().copied());
    match split {
        Some(at) if !rest[at + 1..].contains('/') => {
            SourceRef::OciLayout { dir: PathBuf::from(&rest[..at]), selector: Some(OciSelector::Tag(rest[at + 1..].to_owned())) }
        }
        _ => SourceRef::OciLayout { dir: PathBuf::from(rest), selector: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_to_their_kind() {
        let temp = tempfile::tempdir().unwrap();
        let layout = temp.path().join("a:b");
        std::fs::create_dir(&layout).unwrap();
        let layout_text = layout.to_str().unwrap();

        assert_eq!(SourceRef::parse("oci:/nowhere/layout").unwrap(), SourceRef::OciLayout { dir: "/nowhere/layout".into(), selector: None });
        assert_eq!(
            SourceRef::parse("oci:/nowhere/layout:v1").unwrap(),
            SourceRef::OciLayout { dir: "/nowhere/layout".into(), selector: Some(OciSelector::Tag("v1".into())) }
        );
        assert_eq!(
            SourceRef::parse(&format!("oci:{layout_text}:v1")).unwrap(),
            SourceRef::OciLayout { dir: layout.clone(), selector: Some(OciSelector::Tag("v1".into())) }
        );
        assert_eq!(SourceRef::parse(&format!("oci:{layout_text}")).unwrap(), SourceRef::OciLayout { dir: layout.clone(), selector: None });
        assert_eq!(
            SourceRef::parse("oci:l@sha256:0123").unwrap(),
            SourceRef::OciLayout { dir: "l".into(), selector: Some(OciSelector::Digest("sha256:0123".into())) }
        );
        assert_eq!(SourceRef::parse("docker-archive:x.tar").unwrap(), SourceRef::DockerArchive { file: "x.tar".into(), image: None });
        let archive = temp.path().join("image.tar");
        std::fs::write(&archive, b"").unwrap();
        assert_eq!(
            SourceRef::parse(&format!("docker-archive:{}:app:v1", archive.display())).unwrap(),
            SourceRef::DockerArchive { file: archive.clone(), image: Some("app:v1".into()) }
        );
        assert_eq!(SourceRef::parse("dir:/srv/root").unwrap(), SourceRef::RootFs("/srv/root".into()));
        assert_eq!(SourceRef::parse(temp.path().to_str().unwrap()).unwrap(), SourceRef::Project(temp.path().to_owned()));
        assert_eq!(SourceRef::parse("nginx:1.27").unwrap(), SourceRef::Registry("nginx:1.27".into()));
        assert_eq!(SourceRef::parse("registry:localhost:5000/a:b").unwrap(), SourceRef::Registry("localhost:5000/a:b".into()));
        for missing in ["/nowhere/requirements.txt", "./nowhere", "../nowhere"] {
            assert!(SourceRef::parse(missing).unwrap_err().to_string().contains("no such file or directory"), "{missing}");
        }
        for bad in ["", "oci:", "dir:", "docker-archive:", "registry:"] {
            let error = SourceRef::parse(bad).unwrap_err().to_string();
            assert!(error.contains("needs") || error.contains("empty"), "{bad}: {error}");
        }
    }

    #[test]
    fn platforms_parse_and_match() {
        let arm64 = Platform::parse("linux/arm64").unwrap();
        assert!(arm64.matches(&Platform::parse("linux/arm64/v8").unwrap()));
        assert!(Platform::parse("linux/arm64/v8").unwrap().matches(&arm64));
        assert!(!Platform::parse("linux/arm/v7").unwrap().matches(&Platform::parse("linux/arm/v6").unwrap()));
        assert!(!Platform::linux_amd64().matches(&arm64));
        assert_eq!(Platform::parse("linux/arm/v7").unwrap().to_string(), "linux/arm/v7");
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }
}

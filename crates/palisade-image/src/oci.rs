//! OCI image layouts (`oci:DIR[:tag|@digest]`): `index.json`, nested indexes, multi-platform
//! selection, manifests and configs read from `blobs/` with their digests checked.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use palisade_pkg::{ImageDescription, LayerDescription};
use serde::Deserialize;

use crate::digest::{Digest, sha256_of};
use crate::{ImageError, ImageSource, Limits, OciSelector, Platform};

pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Indexes pointing to indexes: real layouts have two levels at most.
const MAX_INDEX_DEPTH: usize = 8;
/// Docker refuses more than 127 layers; this leaves room without trusting any count.
pub(crate) const MAX_LAYERS: usize = 1024;
const BUFFER: usize = 64 * 1024;

/// A content descriptor: what a blob is, its digest and size.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub platform: Option<PlatformJson>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PlatformJson {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl PlatformJson {
    fn platform(&self) -> Platform {
        Platform { os: self.os.clone(), architecture: self.architecture.clone(), variant: self.variant.clone().filter(|variant| !variant.is_empty()) }
    }
}

/// An index or a manifest: which one is told by the media type, else by the fields present.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IndexOrManifest {
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

impl IndexOrManifest {
    pub fn is_index(&self, descriptor_media_type: &str) -> bool {
        [descriptor_media_type, self.media_type.as_str()].iter().any(|media_type| *media_type == OCI_INDEX || *media_type == DOCKER_MANIFEST_LIST)
            || (self.manifests.is_some() && self.config.is_none())
    }
}

/// The parts of an image config this crate needs.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ImageConfig {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub rootfs: RootFs,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

const IMAGE_CONFIG_TYPES: [&str; 3] = ["", "application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];

/// Parses JSON of an image file, naming the file when it is not what it must be.
pub(crate) fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8], file: &str) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|error| ImageError::Invalid { file: file.to_owned(), problem: format!("not valid JSON for this file: {error}") })
}

/// The platforms an index offers for running: attestations and `unknown/unknown` entries are
/// not images.
fn runnable(manifests: &[Descriptor]) -> Vec<&Descriptor> {
    manifests
        .iter()
        .filter(|descriptor| descriptor.annotations.get("vnd.docker.reference.type").is_none_or(|kind| kind != "attestation-manifest"))
        .filter(|descriptor| descriptor.platform.as_ref().is_none_or(|platform| platform.os != "unknown"))
        .collect()
}

/// Chooses an index entry by platform: the one asked for, else linux/amd64, else the only one.
pub(crate) fn choose_platform<'a>(reference: &str, manifests: &'a [Descriptor], requested: Option<&Platform>) -> Result<&'a Descriptor, ImageError> {
    let candidates = runnable(manifests);
    let wanted = requested.cloned().unwrap_or_else(Platform::linux_amd64);
    let matching: Vec<&&Descriptor> = candidates.iter().filter(|descriptor| descriptor.platform.as_ref().is_some_and(|platform| wanted.matches(&platform.platform()))).collect();
    // An exact variant match beats an entry that only matches because a variant is missing.
    let exact = matching.iter().find(|descriptor| descriptor.platform.as_ref().is_some_and(|platform| platform.platform() == wanted));
    if let Some(found) = exact.or(matching.first()) {
        return Ok(found);
    }
    // The only entry is taken when no platform was asked for, or when it names none (an index
    // inside an index; the platform is checked further down).
    if let [only] = candidates.as_slice() {
        if requested.is_none() || only.platform.is_none() {
            return Ok(only);
        }
    }
    let available = candidates.iter().map(|descriptor| descriptor.platform.as_ref().map_or_else(|| format!("{} (no platform)", descriptor.digest), |platform| platform.platform().to_string())).collect();
    let wanted = if requested.is_some() { wanted.to_string() } else { format!("{wanted} (the default; choose one with --platform)") };
    Err(ImageError::Platform { reference: reference.to_owned(), wanted, available })
}

/// An image config's platform and diff ids (each checked to be a digest).
pub(crate) fn describe_config(bytes: &[u8], file: &str) -> Result<(String, String, Option<String>, Vec<String>), ImageError> {
    let config: ImageConfig = parse_json(bytes, file)?;
    for (index, diff_id) in config.rootfs.diff_ids.iter().enumerate() {
        Digest::parse(diff_id).map_err(|problem| ImageError::Invalid { file: file.to_owned(), problem: format!("rootfs.diff_ids[{index}]: {problem}") })?;
    }
    Ok((config.os, config.architecture, config.variant.filter(|variant| !variant.is_empty()), config.rootfs.diff_ids))
}

/// Builds the description from a manifest and its config.
pub(crate) fn describe(reference: &str, manifest_file: &str, manifest: &IndexOrManifest, config_bytes: &[u8], config_file: &str) -> Result<ImageDescription, ImageError> {
    let invalid = |file: &str, problem: String| ImageError::Invalid { file: file.to_owned(), problem };
    let config_descriptor = manifest.config.as_ref().ok_or_else(|| invalid(manifest_file, "manifest without a config".to_owned()))?;
    if !IMAGE_CONFIG_TYPES.contains(&config_descriptor.media_type.as_str()) {
        return Err(invalid(manifest_file, format!("not a container image: its config is {}", config_descriptor.media_type)));
    }
    let (os, architecture, variant, diff_ids) = describe_config(config_bytes, config_file)?;
    if manifest.layers.len() > MAX_LAYERS {
        return Err(invalid(manifest_file, format!("{} layers (limit {MAX_LAYERS})", manifest.layers.len())));
    }
    if diff_ids.len() != manifest.layers.len() {
        return Err(invalid(config_file, format!("{} diff ids for the manifest's {} layers", diff_ids.len(), manifest.layers.len())));
    }
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (index, (layer, diff_id)) in manifest.layers.iter().zip(&diff_ids).enumerate() {
        Digest::parse(&layer.digest).map_err(|problem| invalid(manifest_file, format!("layers[{index}].digest: {problem}")))?;
        layers.push(LayerDescription { digest: layer.digest.clone(), diff_id: diff_id.clone(), media_type: layer.media_type.clone(), size: layer.size });
    }
    Ok(ImageDescription {
        reference: reference.to_owned(),
        tags: Vec::new(),
        manifest_digest: String::new(),
        config_digest: config_descriptor.digest.clone(),
        repo_digests: Vec::new(),
        os,
        architecture,
        variant,
        layers,
    })
}

/// An OCI image layout directory, resolved to one image.
pub struct OciLayout {
    dir: PathBuf,
    description: ImageDescription,
}

impl OciLayout {
    /// Resolves `selector` (or the only image, or the platform's image of the only index) in
    /// the layout at `dir`.
    pub fn open(reference: &str, dir: &Path, selector: Option<&OciSelector>, platform: Option<&Platform>) -> Result<Self, ImageError> {
        Self::open_with_limits(reference, dir, selector, platform, &Limits::default())
    }

    pub fn open_with_limits(reference: &str, dir: &Path, selector: Option<&OciSelector>, platform: Option<&Platform>, limits: &Limits) -> Result<Self, ImageError> {
        let layout = Layout { reference, dir, max_bytes: limits.max_metadata_bytes };
        layout.check_layout_file()?;
        let index_file = dir.join("index.json");
        let index_label = index_file.display().to_string();
        let index_bytes = read_capped(&index_file, layout.max_bytes)?;
        let index: IndexOrManifest = parse_json(&index_bytes, &index_label)?;
        let manifests = index.manifests.unwrap_or_default();
        let top = match selector {
            Some(OciSelector::Tag(tag)) => manifests
                .iter()
                .find(|descriptor| descriptor.annotations.get(REF_NAME).is_some_and(|name| name == tag))
                // Some tools write the whole reference (`docker.io/library/alpine:3.19`).
                .or_else(|| manifests.iter().find(|descriptor| descriptor.annotations.get(REF_NAME).is_some_and(|name| name.strip_suffix(tag.as_str()).is_some_and(|head| head.ends_with(':')))))
                .cloned()
                .ok_or_else(|| ImageError::NotFound {
                reference: reference.to_owned(),
                wanted: format!("tagged {tag}"),
                available: manifests.iter().filter_map(|descriptor| descriptor.annotations.get(REF_NAME).cloned()).collect(),
            })?,
            Some(OciSelector::Digest(digest)) => {
                Digest::parse(digest).map_err(|problem| ImageError::Reference { reference: reference.to_owned(), problem })?;
                manifests.iter().find(|descriptor| descriptor.digest == *digest).cloned().unwrap_or(Descriptor {
                    media_type: String::new(),
                    digest: digest.clone(),
                    size: 0,
                    annotations: BTreeMap::new(),
                    platform: None,
                })
            }
            None => match manifests.as_slice() {
                [] => return Err(ImageError::Invalid { file: index_label, problem: "lists no image".to_owned() }),
                [only] => only.clone(),
                several if several.iter().all(|descriptor| descriptor.platform.is_some()) => choose_platform(reference, several, platform)?.clone(),
                several => {
                    return Err(ImageError::NotFound {
                        reference: reference.to_owned(),
                        wanted: "named (the layout holds several; add :TAG)".to_owned(),
                        available: several.iter().map(|descriptor| descriptor.annotations.get(REF_NAME).cloned().unwrap_or_else(|| descriptor.digest.clone())).collect(),
                    });
                }
            },
        };
        let tags = top.annotations.get(REF_NAME).cloned().into_iter().collect();
        let (manifest_digest, manifest) = layout.resolve(&top, platform, 0)?;
        let manifest_label = layout.blob_label(&manifest_digest);
        let config = manifest.config.as_ref().ok_or_else(|| ImageError::Invalid { file: manifest_label.clone(), problem: "manifest without a config".to_owned() })?;
        let config_bytes = layout.read_blob(&config.digest)?;
        let mut description = describe(reference, &manifest_label, &manifest, &config_bytes, &layout.blob_label(&config.digest))?;
        description.tags = tags;
        description.manifest_digest = manifest_digest;
        if let Some(platform) = platform {
            let actual = Platform { os: description.os.clone(), architecture: description.architecture.clone(), variant: description.variant.clone() };
            if !platform.matches(&actual) {
                return Err(ImageError::Platform { reference: reference.to_owned(), wanted: platform.to_string(), available: vec![actual.to_string()] });
            }
        }
        Ok(Self { dir: dir.to_owned(), description })
    }
}

impl ImageSource for OciLayout {
    fn description(&self) -> &ImageDescription {
        &self.description
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let layer = self.description.layers.get(index).ok_or_else(|| ImageError::Invalid { file: self.description.reference.clone(), problem: format!("no layer {index}") })?;
        let path = blob_path(&self.dir, &layer.digest).map_err(|problem| ImageError::Invalid { file: self.description.reference.clone(), problem })?;
        let file = std::fs::File::open(&path).map_err(|source| ImageError::Io { path, source })?;
        Ok(Box::new(BufReader::with_capacity(BUFFER, file)))
    }
}

/// `DIR/blobs/ALGORITHM/ENCODED`, for a validated digest only.
fn blob_path(dir: &Path, digest: &str) -> Result<PathBuf, String> {
    let digest = Digest::parse(digest)?;
    Ok(dir.join("blobs").join(digest.algorithm).join(digest.encoded))
}

/// Reads a whole file of at most `max_bytes`.
fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ImageError> {
    let file = std::fs::File::open(path).map_err(|source| ImageError::Io { path: path.to_owned(), source })?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1).read_to_end(&mut bytes).map_err(|source| ImageError::Io { path: path.to_owned(), source })?;
    if bytes.len() as u64 > max_bytes {
        return Err(ImageError::Invalid { file: path.display().to_string(), problem: format!("more than {max_bytes} bytes (limit for image metadata)") });
    }
    Ok(bytes)
}

struct Layout<'a> {
    reference: &'a str,
    dir: &'a Path,
    max_bytes: u64,
}

impl Layout<'_> {
    fn check_layout_file(&self) -> Result<(), ImageError> {
        let path = self.dir.join("oci-layout");
        if !path.exists() {
            if self.dir.join("index.json").exists() {
                return Ok(());
            }
            return Err(ImageError::Invalid { file: self.dir.display().to_string(), problem: "not an OCI image layout (no oci-layout or index.json)".to_owned() });
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct LayoutFile {
            image_layout_version: String,
        }
        let layout: LayoutFile = parse_json(&read_capped(&path, self.max_bytes)?, &path.display().to_string())?;
        if !layout.image_layout_version.starts_with("1.") {
            return Err(ImageError::Invalid { file: path.display().to_string(), problem: format!("image layout version {} (this reader knows 1.x)", layout.image_layout_version) });
        }
        Ok(())
    }

    fn blob_label(&self, digest: &str) -> String {
        format!("{}/blobs/{}", self.dir.display(), digest.replacen(':', "/", 1))
    }

    /// A blob's bytes, checked against its digest.
    fn read_blob(&self, digest: &str) -> Result<Vec<u8>, ImageError> {
        let path = blob_path(self.dir, digest).map_err(|problem| ImageError::Invalid { file: format!("{}/index.json", self.dir.display()), problem })?;
        let bytes = read_capped(&path, self.max_bytes)?;
        if Digest::parse(digest).is_ok_and(|digest| digest.is_sha256()) {
            let actual = sha256_of(&bytes);
            if actual != digest {
                return Err(ImageError::Invalid { file: self.blob_label(digest), problem: format!("content hashes to {actual}, not to its name") });
            }
        }
        Ok(bytes)
    }

    /// Follows indexes down to one manifest.
    fn resolve(&self, descriptor: &Descriptor, platform: Option<&Platform>, depth: usize) -> Result<(String, IndexOrManifest), ImageError> {
        if depth > MAX_INDEX_DEPTH {
            return Err(ImageError::Invalid { file: self.blob_label(&descriptor.digest), problem: format!("indexes nested more than {MAX_INDEX_DEPTH} deep") });
        }
        let bytes = self.read_blob(&descriptor.digest)?;
        let label = self.blob_label(&descriptor.digest);
        let parsed: IndexOrManifest = parse_json(&bytes, &label)?;
        if parsed.is_index(&descriptor.media_type) {
            let manifests = parsed.manifests.unwrap_or_default();
            let chosen = choose_platform(self.reference, &manifests, platform)?.clone();
            return self.resolve(&chosen, platform, depth + 1);
        }
        Ok((descriptor.digest.clone(), parsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(platform: Option<(&str, &str, Option<&str>)>, attestation: bool) -> Descriptor {
        let mut annotations = BTreeMap::new();
        if attestation {
            annotations.insert("vnd.docker.reference.type".to_owned(), "attestation-manifest".to_owned());
        }
        Descriptor {
            media_type: String::new(),
            digest: format!("sha256:{}", "0".repeat(64)),
            size: 0,
            annotations,
            platform: platform.map(|(os, architecture, variant)| PlatformJson { os: os.into(), architecture: architecture.into(), variant: variant.map(str::to_owned) }),
        }
    }

    #[test]
    fn platform_choice() {
        let index = vec![
            descriptor(Some(("linux", "arm", Some("v7"))), false),
            descriptor(Some(("linux", "arm64", Some("v8"))), false),
            descriptor(Some(("unknown", "unknown", None)), true),
        ];
        let chosen = choose_platform("r", &index, Some(&Platform::parse("linux/arm64").unwrap())).unwrap();
        assert_eq!(chosen.platform.as_ref().unwrap().architecture, "arm64");
        let error = choose_platform("r", &index, None).unwrap_err().to_string();
        assert_eq!(error, "r: no image for platform linux/amd64 (the default; choose one with --platform); the index has available: linux/arm/v7, linux/arm64/v8");
        let single = vec![descriptor(Some(("linux", "s390x", None)), false), descriptor(Some(("unknown", "unknown", None)), true)];
        assert_eq!(choose_platform("r", &single, None).unwrap().platform.as_ref().unwrap().architecture, "s390x");
        assert!(choose_platform("r", &single, Some(&Platform::linux_amd64())).is_err());
    }
}

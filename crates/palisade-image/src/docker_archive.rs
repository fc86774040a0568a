//! `docker save` / `skopeo copy … docker-archive:` tarballs: `manifest.json`, the config and the
//! layer tars, legacy (`<id>/layer.tar`) or OCI-shaped (`blobs/sha256/…` beside an
//! `index.json`). The outer tar is indexed once (member offsets); layers are read by seeking to
//! their slice, never extracted.

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use palisade_pkg::{ImageDescription, LayerDescription};
use serde::Deserialize;

use crate::digest::{Digest, sha256_of};
use crate::layer::normalize;
use crate::oci::{IndexOrManifest, MAX_LAYERS, describe_config, parse_json};
use crate::tar_stream::{EntryType, SeekingFile, TarError, TarReader};
use crate::{ImageError, ImageSource, Limits, Platform};

/// `docker save` writes a few members per layer; this is far above any real archive.
const MAX_MEMBERS: u64 = 200_000;
const MAX_LINK_HOPS: usize = 16;
const BUFFER: usize = 64 * 1024;
/// Docker's own generic layer type: the reader sniffs the compression.
const GENERIC_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";

#[derive(Clone, Copy, Debug)]
struct Member {
    offset: u64,
    size: u64,
}

enum Node {
    File(Member),
    Link(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// An image in a docker-archive tarball.
pub struct DockerArchive {
    file: PathBuf,
    layers: Vec<Member>,
    description: ImageDescription,
}

/// The outer tar's members by normalised path (no leading `/`).
struct Members {
    label: String,
    nodes: HashMap<String, Node>,
}

impl Members {
    fn read(file: &Path, label: &str, limits: &Limits) -> Result<Self, ImageError> {
        let opened = std::fs::File::open(file).map_err(|source| ImageError::Io { path: file.to_owned(), source })?;
        let length = opened.metadata().map_err(|source| ImageError::Io { path: file.to_owned(), source })?.len();
        let seeking = SeekingFile { file: BufReader::with_capacity(BUFFER, opened), position: 0, length };
        let mut reader = TarReader::new(seeking, limits.max_path_bytes, limits.max_metadata_bytes);
        let mut nodes = HashMap::new();
        let mut count = 0;
        let tar_error = |error: TarError| ImageError::Invalid {
            file: label.to_owned(),
            problem: match error {
                TarError::Truncated { at } => format!("truncated tar at byte {at}"),
                TarError::Invalid { at, message } => format!("invalid tar at byte {at}: {message}"),
                TarError::Read { at, error } => format!("read failed at byte {at}: {error}"),
            },
        };
        while let Some(entry) = reader.next_entry().map_err(tar_error)? {
            count += 1;
            if count > MAX_MEMBERS {
                return Err(ImageError::Invalid { file: label.to_owned(), problem: format!("more than {MAX_MEMBERS} members (limit)") });
            }
            if entry.path_problem.is_some() {
                continue;
            }
            let Ok(Some((path, _))) = normalize(&String::from_utf8_lossy(&entry.path)) else { continue };
            let path = path[1..].to_owned();
            let node = match entry.kind {
                EntryType::File if entry.sparse.is_none() => {
                    if entry.data_offset.saturating_add(entry.stored_size) > length {
                        return Err(ImageError::Invalid { file: label.to_owned(), problem: format!("truncated tar: member {path} ends past the end of the file ({length} bytes)") });
                    }
                    Node::File(Member { offset: entry.data_offset, size: entry.stored_size })
                }
                EntryType::Symlink => {
                    let target = String::from_utf8_lossy(&entry.link);
                    let joined = if target.starts_with('/') { target.into_owned() } else { format!("{}/{target}", path.rsplit_once('/').map_or("", |(parent, _)| parent)) };
                    match normalize(&joined) {
                        Ok(Some((target, _))) => Node::Link(target[1..].to_owned()),
                        _ => continue,
                    }
                }
                EntryType::HardLink => match normalize(&String::from_utf8_lossy(&entry.link)) {
                    Ok(Some((target, _))) => Node::Link(target[1..].to_owned()),
                    _ => continue,
                },
                _ => continue,
            };
            nodes.insert(path, node);
        }
        Ok(Self { label: label.to_owned(), nodes })
    }

    fn find(&self, name: &str) -> Result<Member, ImageError> {
        let missing = |problem: String| ImageError::Invalid { file: self.label.clone(), problem };
        let mut current = match normalize(name) {
            Ok(Some((path, _))) => path[1..].to_owned(),
            _ => return Err(missing(format!("member name {name:?} leaves the archive"))),
        };
        for _ in 0..MAX_LINK_HOPS {
            match self.nodes.get(&current) {
                Some(Node::File(member)) => return Ok(*member),
                Some(Node::Link(target)) => current = target.clone(),
                None => return Err(missing(format!("no member {current}"))),
            }
        }
        Err(missing(format!("{name}: more than {MAX_LINK_HOPS} links")))
    }

    fn read_member(&self, file: &Path, name: &str, max_bytes: u64) -> Result<Vec<u8>, ImageError> {
        let member = self.find(name)?;
        if member.size > max_bytes {
            return Err(ImageError::Invalid { file: format!("{}:{name}", self.label), problem: format!("{} bytes (limit for image metadata {max_bytes})", member.size) });
        }
        let mut opened = std::fs::File::open(file).map_err(|source| ImageError::Io { path: file.to_owned(), source })?;
        opened.seek(SeekFrom::Start(member.offset)).map_err(|source| ImageError::Io { path: file.to_owned(), source })?;
        let mut bytes = Vec::new();
        opened.take(member.size).read_to_end(&mut bytes).map_err(|source| ImageError::Io { path: file.to_owned(), source })?;
        Ok(bytes)
    }
}

impl DockerArchive {
    /// Indexes the archive at `file` and reads the image named `image` (one of its repository
    /// tags), or its only image.
    pub fn open(reference: &str, file: &Path, image: Option<&str>, platform: Option<&Platform>) -> Result<Self, ImageError> {
        Self::open_with_limits(reference, file, image, platform, &Limits::default())
    }

    pub fn open_with_limits(reference: &str, file: &Path, image: Option<&str>, platform: Option<&Platform>, limits: &Limits) -> Result<Self, ImageError> {
        let label = file.display().to_string();
        let members = Members::read(file, &label, limits)?;
        let manifest_label = format!("{label}:manifest.json");
        let entries: Vec<ManifestEntry> = parse_json(&members.read_member(file, "manifest.json", limits.max_metadata_bytes)?, &manifest_label)?;
        let tags_of = |entry: &ManifestEntry| entry.repo_tags.clone().unwrap_or_default();
        let entry = match (image, entries.as_slice()) {
            (_, []) => return Err(ImageError::Invalid { file: manifest_label, problem: "lists no image".to_owned() }),
            (None, [only]) => only,
            (None, _) => {
                return Err(ImageError::NotFound {
                    reference: reference.to_owned(),
                    wanted: "named (the archive holds several; add :NAME:TAG)".to_owned(),
                    available: entries.iter().flat_map(tags_of).collect(),
                });
            }
            (Some(name), _) => entries.iter().find(|entry| tags_of(entry).iter().any(|tag| same_tag(tag, name))).ok_or_else(|| ImageError::NotFound {
                reference: reference.to_owned(),
                wanted: format!("tagged {name}"),
                available: entries.iter().flat_map(tags_of).collect(),
            })?,
        };
        if entry.layers.len() > MAX_LAYERS {
            return Err(ImageError::Invalid { file: manifest_label, problem: format!("{} layers (limit {MAX_LAYERS})", entry.layers.len()) });
        }
        let config_bytes = members.read_member(file, &entry.config, limits.max_metadata_bytes)?;
        let config_digest = sha256_of(&config_bytes);
        let config_label = format!("{label}:{}", entry.config);
        let (os, architecture, variant, diff_ids) = describe_config(&config_bytes, &config_label)?;
        if diff_ids.len() != entry.layers.len() {
            return Err(ImageError::Invalid { file: config_label, problem: format!("{} diff ids for the {} layers of manifest.json", diff_ids.len(), entry.layers.len()) });
        }
        let mut layers = Vec::with_capacity(entry.layers.len());
        let mut descriptions = Vec::with_capacity(entry.layers.len());
        for (name, diff_id) in entry.layers.iter().zip(&diff_ids) {
            let member = members.find(name)?;
            let digest = blob_digest(name).unwrap_or_else(|| diff_id.clone());
            layers.push(member);
            descriptions.push(LayerDescription { digest, diff_id: diff_id.clone(), media_type: GENERIC_LAYER.to_owned(), size: member.size });
        }
        let description = ImageDescription {
            reference: reference.to_owned(),
            tags: tags_of(entry),
            manifest_digest: oci_manifest_digest(&members, file, &config_digest, limits).unwrap_or_else(|| synthesized_manifest_digest(&config_digest, config_bytes.len(), &descriptions)),
            config_digest,
            repo_digests: Vec::new(),
            os,
            architecture,
            variant,
            layers: descriptions,
        };
        if let Some(platform) = platform {
            let actual = Platform { os: description.os.clone(), architecture: description.architecture.clone(), variant: description.variant.clone() };
            if !platform.matches(&actual) {
                return Err(ImageError::Platform { reference: reference.to_owned(), wanted: platform.to_string(), available: vec![actual.to_string()] });
            }
        }
        Ok(Self { file: file.to_owned(), layers, description })
    }
}

/// `nginx:1.27` names `docker.io/library/nginx:1.27` too.
fn same_tag(tag: &str, name: &str) -> bool {
    tag == name || tag.strip_prefix("docker.io/library/").is_some_and(|short| short == name) || tag.strip_prefix("docker.io/").is_some_and(|short| short == name)
}

/// The digest in an OCI-shaped member name (`blobs/sha256/HEX`).
fn blob_digest(name: &str) -> Option<String> {
    let rest = name.strip_prefix("blobs/")?;
    let (algorithm, encoded) = rest.split_once('/')?;
    let digest = format!("{algorithm}:{encoded}");
    Digest::parse(&digest).is_ok().then_some(digest)
}

/// Legacy archives hold no manifest; this is the digest of the one go-containerregistry (hence
/// syft) makes up for them: Docker schema 2, each layer as stored (for `docker save`, the
/// uncompressed tar under its diff id, still typed gzip), in Go's field order.
fn synthesized_manifest_digest(config_digest: &str, config_size: usize, layers: &[LayerDescription]) -> String {
    let layers: Vec<String> = layers
        .iter()
        .map(|layer| format!(r#"{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":{},"digest":"{}"}}"#, layer.size, layer.digest))
        .collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{config_size},"digest":"{config_digest}"}},"layers":[{}]}}"#,
        layers.join(",")
    );
    sha256_of(manifest.as_bytes())
}

/// In the OCI-shaped archives of Docker 25+, the digest of the manifest whose config is ours.
fn oci_manifest_digest(members: &Members, file: &Path, config_digest: &str, limits: &Limits) -> Option<String> {
    let index: IndexOrManifest = serde_json::from_slice(&members.read_member(file, "index.json", limits.max_metadata_bytes).ok()?).ok()?;
    let mut pending: Vec<(String, usize)> = index.manifests?.into_iter().map(|descriptor| (descriptor.digest, 0)).collect();
    let mut visited = 0;
    while let Some((digest, depth)) = pending.pop() {
        visited += 1;
        if visited > 64 || depth > 2 {
            return None;
        }
        let name = format!("blobs/{}", digest.replacen(':', "/", 1));
        Digest::parse(&digest).ok()?;
        let Ok(bytes) = members.read_member(file, &name, limits.max_metadata_bytes) else { continue };
        if sha256_of(&bytes) != digest {
            continue;
        }
        let Ok(parsed) = serde_json::from_slice::<IndexOrManifest>(&bytes) else { continue };
        if parsed.config.as_ref().is_some_and(|config| config.digest == config_digest) {
            return Some(digest);
        }
        pending.extend(parsed.manifests.unwrap_or_default().into_iter().map(|descriptor| (descriptor.digest, depth + 1)));
    }
    None
}

impl ImageSource for DockerArchive {
    fn description(&self) -> &ImageDescription {
        &self.description
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let member = *self.layers.get(index).ok_or_else(|| ImageError::Invalid { file: self.file.display().to_string(), problem: format!("no layer {index}") })?;
        let mut opened = std::fs::File::open(&self.file).map_err(|source| ImageError::Io { path: self.file.clone(), source })?;
        opened.seek(SeekFrom::Start(member.offset)).map_err(|source| ImageError::Io { path: self.file.clone(), source })?;
        Ok(Box::new(BufReader::with_capacity(BUFFER, opened.take(member.size))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert_eq!(blob_digest(&format!("blobs/sha256/{}", "a".repeat(64))), Some(format!("sha256:{}", "a".repeat(64))));
        assert_eq!(blob_digest("abc/layer.tar"), None);
        assert_eq!(blob_digest("blobs/sha256/../../x"), None);
        assert!(same_tag("docker.io/library/nginx:1.27", "nginx:1.27"));
        assert!(!same_tag("nginx:1.27", "nginx:1.26"));
    }
}

//! Images in registries, read over the OCI distribution API with `oci-client` (reqwest on rustls,
//! ring as the crypto provider).
//!
//! `open` resolves a reference (`nginx:1.27`, `docker.io/library/nginx@sha256:…`,
//! `127.0.0.1:5000/app:v1`) to one image manifest, choosing from a multi-platform index by
//! platform, and reads its config; layers are then streamed on demand, never written to disk.
//! The client is async; a small shared tokio runtime drives it and a bounded channel hands the
//! bytes to a blocking `Read`, so the rest of the crate stays synchronous.
//!
//! oci-client reads a manifest's body (and an error response's body) whole before handing it
//! over, so the manifest limit is checked on what it returns; configs and layers are streamed
//! and stopped at their descriptor's size.

mod credentials;
mod error;
mod stream;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::manifest::{OciDescriptor, OciImageIndex, OciImageManifest, OciManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use palisade_pkg::{ImageDescription, LayerDescription};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::Deserialize;

pub use error::{CredentialSource, RegistryProblem};

use crate::{ImageError, ImageSource, Platform};
use error::{ErrorContext, Fetching};

/// Manifests and indexes are a few kilobytes; containerd refuses those above 4 MiB too.
const MANIFEST_LIMIT: u64 = 4 << 20;
/// Image configs carry history and labels; tens of kilobytes in practice.
const CONFIG_LIMIT: u64 = 16 << 20;
/// Docker refuses images of more than 127 layers; this leaves room without trusting any count.
const LAYER_COUNT_LIMIT: usize = 1024;
/// Manifest media types asked for, in order of preference.
const MANIFEST_MEDIA_TYPES: &[&str] = &[
    oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE,
    oci_client::manifest::OCI_IMAGE_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    oci_client::manifest::IMAGE_MANIFEST_MEDIA_TYPE,
];
/// Config media types of container images (anything else is an artifact: a Helm chart, a
/// signature, a WASM module).
const IMAGE_CONFIG_MEDIA_TYPES: &[&str] = &[oci_client::manifest::IMAGE_CONFIG_MEDIA_TYPE, oci_client::manifest::IMAGE_DOCKER_CONFIG_MEDIA_TYPE];

/// How to reach registries and which image of an index to take.
#[derive(Clone)]
pub struct RegistryOptions {
    /// User for basic or token authentication (`--username`); needs `password`.
    pub username: Option<String>,
    /// Its password or access token (`--password-stdin`); never printed.
    pub password: Option<String>,
    /// Directory of the Docker `config.json` whose `auths` are used when no user is given;
    /// `None` means `$DOCKER_CONFIG`, else `~/.docker`.
    pub docker_config_dir: Option<PathBuf>,
    /// Registries (`host:port`, as the reference names them) spoken to over plain HTTP, such as
    /// a test registry on 127.0.0.1. Every other registry is HTTPS.
    pub insecure_http_hosts: Vec<String>,
    /// Extra trusted roots, each a PEM file's content (one or several certificates), added to
    /// the system's.
    pub ca_certificates: Vec<Vec<u8>>,
    /// The platform to take from a multi-platform index, and to require of a single image;
    /// `None` takes linux/amd64 from an index and accepts any single image.
    pub platform: Option<Platform>,
    /// Longest wait for a TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of an answer.
    pub read_timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            username: None,
            password: None,
            docker_config_dir: None,
            insecure_http_hosts: Vec::new(),
            ca_certificates: Vec::new(),
            platform: None,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
        }
    }
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("docker_config_dir", &self.docker_config_dir)
            .field("insecure_http_hosts", &self.insecure_http_hosts)
            .field("ca_certificates", &self.ca_certificates.len())
            .field("platform", &self.platform)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish()
    }
}

/// An image resolved in a registry: its description, and its layers readable as streams.
///
/// Its layer readers block on the network: read them from plain threads (rayon, `spawn_blocking`),
/// not from async tasks.
pub struct RegistryImage {
    client: Client,
    /// The repository, with the resolved manifest's digest.
    repository: Reference,
    description: ImageDescription,
    layers: Vec<OciDescriptor>,
    /// Names the registry, the credentials and the timeouts in errors.
    context: ErrorContext,
}

/// Resolves `reference` in its registry: authenticates, reads the manifest (choosing from an
/// index by platform) and the config.
///
/// Blocking: call it from a plain thread (or `spawn_blocking`), not from an async task.
pub fn open(reference: &str, options: &RegistryOptions) -> Result<RegistryImage, ImageError> {
    let parsed = Reference::try_from(reference).map_err(|error| ImageError::Reference { reference: reference.to_owned(), problem: format!("not an image reference: {error}") })?;
    let registry_error = |problem: RegistryProblem| ImageError::Registry { reference: reference.to_owned(), problem };
    let credentials =
        credentials::resolve(parsed.registry(), options.username.as_deref(), options.password.as_deref(), credentials::docker_config_dir(options.docker_config_dir.as_deref()).as_deref())
            .map_err(registry_error)?;
    let client = client(options).map_err(registry_error)?;
    let context = ErrorContext { registry: parsed.registry().to_owned(), credentials: credentials.source, connect_timeout: options.connect_timeout, read_timeout: options.read_timeout };
    let resolved = runtime().map_err(registry_error)?.block_on(resolve(&client, &parsed, &credentials.auth, options.platform.as_ref(), &context)).map_err(|failure| match failure {
        Failure::Registry(problem) => registry_error(problem),
        Failure::Platform { wanted, available } => ImageError::Platform { reference: reference.to_owned(), wanted, available },
    })?;
    let description = describe(reference, &parsed, &resolved).map_err(registry_error)?;
    Ok(RegistryImage {
        client,
        repository: parsed.clone_with_digest(resolved.manifest_digest.clone()),
        description,
        layers: resolved.manifest.layers,
        context,
    })
}

impl ImageSource for RegistryImage {
    fn description(&self) -> &ImageDescription {
        &self.description
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn std::io::Read + Send + '_>, ImageError> {
        let registry_error = |problem: RegistryProblem| ImageError::Registry { reference: self.description.reference.clone(), problem };
        let Some(layer) = self.layers.get(index) else {
            return Err(registry_error(RegistryProblem::Invalid { what: "layer index", detail: format!("the image has {} layers, no layer {index}", self.layers.len()) }));
        };
        let runtime = runtime().map_err(registry_error)?;
        let size = descriptor_size(layer, "layer").map_err(registry_error)?;
        let opened = runtime.block_on(self.client.pull_blob_stream(&self.repository, layer)).map_err(|error| registry_error(self.context.problem(error, Fetching::Blob { what: "layer" }, &layer.digest)))?;
        if let Some(announced) = opened.content_length.filter(|&announced| announced > size) {
            return Err(registry_error(RegistryProblem::TooLarge { what: "layer", size: announced, limit: size }));
        }
        Ok(Box::new(stream::BlobReader::spawn(runtime, opened.stream, size, self.context.clone())))
    }
}

/// One runtime for every registry image of the process: two workers drive all transfers, and
/// it is never dropped, so no task outlives it.
fn runtime() -> Result<&'static tokio::runtime::Runtime, RegistryProblem> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name("palisade-registry").enable_all().build().map_err(|error| error.to_string()))
        .as_ref()
        .map_err(|error| RegistryProblem::Setup { detail: format!("cannot start the I/O runtime: {error}") })
}

/// The HTTP client: rustls with ring (installed as the process default unless another provider
/// already is), the system's roots plus the extra ones, the timeouts.
fn client(options: &RegistryOptions) -> Result<Client, RegistryProblem> {
    // Fails only when a provider is already installed, which reqwest then uses: fine either way.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = Vec::new();
    for (position, pem) in options.ca_certificates.iter().enumerate() {
        let before = roots.len();
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate.map_err(|error| RegistryProblem::Setup { detail: format!("CA certificate file {}: {error}", position + 1) })?;
            roots.push(Certificate { encoding: CertificateEncoding::Der, data: certificate.to_vec() });
        }
        if roots.len() == before {
            return Err(RegistryProblem::Setup { detail: format!("CA certificate file {}: no PEM certificate in it", position + 1) });
        }
    }
    let config = ClientConfig {
        protocol: if options.insecure_http_hosts.is_empty() { ClientProtocol::Https } else { ClientProtocol::HttpsExcept(options.insecure_http_hosts.clone()) },
        extra_root_certificates: roots,
        // The index is resolved here, by the user's platform, from the raw manifest.
        platform_resolver: None,
        connect_timeout: Some(options.connect_timeout),
        read_timeout: Some(options.read_timeout),
        user_agent: concat!("palisade/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    };
    Client::try_from(config).map_err(|error| RegistryProblem::Setup { detail: error.to_string() })
}

/// Why resolving failed: a registry problem, or no image for the platform in the index.
enum Failure {
    Registry(RegistryProblem),
    Platform { wanted: String, available: Vec<String> },
}

impl From<RegistryProblem> for Failure {
    fn from(problem: RegistryProblem) -> Self {
        Self::Registry(problem)
    }
}

/// The image manifest chosen, its config, and the digest the reference resolved to.
struct Resolved {
    /// Digest of the manifest or index the reference named (what `repo_digests` records).
    top_digest: String,
    manifest_digest: String,
    manifest: OciImageManifest,
    config: ImageConfig,
}

/// The parts of an image config the description needs.
#[derive(Deserialize)]
struct ImageConfig {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
    rootfs: RootFs,
}

/// `rootfs` of an image config: the digests of the uncompressed layers.
#[derive(Deserialize)]
struct RootFs {
    diff_ids: Vec<String>,
}

async fn resolve(client: &Client, reference: &Reference, auth: &RegistryAuth, platform: Option<&Platform>, context: &ErrorContext) -> Result<Resolved, Failure> {
    client.auth(reference, auth, RegistryOperation::Pull).await.map_err(|error| context.problem(error, Fetching::Manifest, ""))?;
    let (top, top_digest) = fetch_manifest(client, reference, auth, context).await?;
    let (manifest, manifest_digest) = match top {
        OciManifest::Image(manifest) => (manifest, top_digest.clone()),
        OciManifest::ImageIndex(index) => {
            let wanted = platform.cloned().unwrap_or_else(Platform::linux_amd64);
            let digest = choose(&index, &wanted)?;
            match fetch_manifest(client, &reference.clone_with_digest(digest.clone()), auth, context).await? {
                (OciManifest::Image(manifest), _) => (manifest, digest),
                (OciManifest::ImageIndex(_), _) => return Err(RegistryProblem::Invalid { what: "index", detail: format!("entry {digest} for {wanted} is itself an index") }.into()),
            }
        }
    };
    if !IMAGE_CONFIG_MEDIA_TYPES.contains(&manifest.config.media_type.as_str()) {
        return Err(RegistryProblem::Invalid { what: "manifest", detail: format!("config media type {} is not a container image's (an artifact?)", manifest.config.media_type) }.into());
    }
    if manifest.layers.len() > LAYER_COUNT_LIMIT {
        return Err(RegistryProblem::Invalid { what: "manifest", detail: format!("{} layers, more than the limit of {LAYER_COUNT_LIMIT}", manifest.layers.len()) }.into());
    }
    let config = fetch_config(client, reference, &manifest.config, context).await?;
    if let Some(wanted) = platform {
        let found = Platform { os: config.os.clone(), architecture: config.architecture.clone(), variant: config.variant.clone() };
        if !wanted.matches(&found) {
            return Err(Failure::Platform { wanted: wanted.to_string(), available: vec![found.to_string()] });
        }
    }
    Ok(Resolved { top_digest, manifest_digest, manifest: strip_urls(manifest), config })
}

/// Fetches and parses a manifest or index, checking its size and (through oci-client) that it
/// hashes to the digest asked for.
async fn fetch_manifest(client: &Client, reference: &Reference, auth: &RegistryAuth, context: &ErrorContext) -> Result<(OciManifest, String), RegistryProblem> {
    let (body, digest) = client.pull_manifest_raw(reference, auth, MANIFEST_MEDIA_TYPES).await.map_err(|error| context.problem(error, Fetching::Manifest, ""))?;
    if body.len() as u64 > MANIFEST_LIMIT {
        return Err(RegistryProblem::TooLarge { what: "manifest", size: body.len() as u64, limit: MANIFEST_LIMIT });
    }
    let manifest = serde_json::from_slice(&body).map_err(|error| RegistryProblem::Invalid { what: "manifest", detail: format!("not an image manifest or index: {error}") })?;
    Ok((manifest, digest))
}

/// The digest of the index entry for `wanted`, skipping entries without a platform (attestations).
fn choose(index: &OciImageIndex, wanted: &Platform) -> Result<String, Failure> {
    let platforms: Vec<(Platform, &str)> = index
        .manifests
        .iter()
        .filter_map(|entry| {
            let platform = entry.platform.as_ref()?;
            Some((Platform { os: platform.os.to_string(), architecture: platform.architecture.to_string(), variant: platform.variant.clone() }, entry.digest.as_str()))
        })
        .collect();
    match platforms.iter().find(|(platform, _)| wanted.matches(platform)) {
        Some((_, digest)) => Ok((*digest).to_owned()),
        None => Err(Failure::Platform { wanted: wanted.to_string(), available: platforms.iter().map(|(platform, _)| platform.to_string()).collect() }),
    }
}

/// Streams the config blob (at most its descriptor's size, itself capped), verified by digest.
async fn fetch_config(client: &Client, reference: &Reference, descriptor: &OciDescriptor, context: &ErrorContext) -> Result<ImageConfig, RegistryProblem> {
    let size = descriptor_size(descriptor, "config")?;
    if size > CONFIG_LIMIT {
        return Err(RegistryProblem::TooLarge { what: "config", size, limit: CONFIG_LIMIT });
    }
    let fetching = Fetching::Blob { what: "config" };
    let mut stream = client.pull_blob_stream(reference, &strip_descriptor_urls(descriptor.clone())).await.map_err(|error| context.problem(error, fetching, &descriptor.digest))?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| context.io_problem(&error, "config"))?;
        if (body.len() + chunk.len()) as u64 > size {
            return Err(RegistryProblem::TooLarge { what: "config", size: (body.len() + chunk.len()) as u64, limit: size });
        }
        body.extend_from_slice(&chunk);
    }
    if (body.len() as u64) < size {
        return Err(RegistryProblem::Truncated { what: "config", received: body.len() as u64, expected: size });
    }
    serde_json::from_slice(&body).map_err(|error| RegistryProblem::Invalid { what: "config", detail: format!("not an image config: {error}") })
}

/// A descriptor's size, which must not be negative.
fn descriptor_size(descriptor: &OciDescriptor, what: &'static str) -> Result<u64, RegistryProblem> {
    u64::try_from(descriptor.size).map_err(|_| RegistryProblem::Invalid { what, detail: format!("{} has a negative size {}", descriptor.digest, descriptor.size) })
}

/// Foreign-layer URLs are dropped: blobs come from the registry named by the user and nowhere
/// else a manifest points to.
fn strip_urls(mut manifest: OciImageManifest) -> OciImageManifest {
    manifest.layers = manifest.layers.into_iter().map(strip_descriptor_urls).collect();
    manifest
}

fn strip_descriptor_urls(mut descriptor: OciDescriptor) -> OciDescriptor {
    descriptor.urls = None;
    descriptor
}

/// The description of the resolved image: fully qualified names, digests, platform, layers.
fn describe(reference: &str, parsed: &Reference, resolved: &Resolved) -> Result<ImageDescription, RegistryProblem> {
    let diff_ids = &resolved.config.rootfs.diff_ids;
    if diff_ids.len() != resolved.manifest.layers.len() {
        return Err(RegistryProblem::Invalid {
            what: "config",
            detail: format!("rootfs.diff_ids has {} entries for the manifest's {} layers", diff_ids.len(), resolved.manifest.layers.len()),
        });
    }
    let repository = format!("{}/{}", parsed.registry(), parsed.repository());
    let layers = resolved
        .manifest
        .layers
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| Ok(LayerDescription { digest: layer.digest.clone(), diff_id: diff_id.clone(), media_type: layer.media_type.clone(), size: descriptor_size(layer, "layer")? }))
        .collect::<Result<Vec<_>, RegistryProblem>>()?;
    Ok(ImageDescription {
        reference: reference.to_owned(),
        tags: parsed.tag().map(|tag| vec![format!("{repository}:{tag}")]).unwrap_or_default(),
        manifest_digest: resolved.manifest_digest.clone(),
        config_digest: resolved.manifest.config.digest.clone(),
        repo_digests: vec![format!("{repository}@{}", resolved.top_digest)],
        os: resolved.config.os.clone(),
        architecture: resolved.config.architecture.clone(),
        variant: resolved.config.variant.clone(),
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(layers: usize, diff_ids: usize) -> Resolved {
        let descriptor = |digest: String, size: i64| OciDescriptor { media_type: oci_client::manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE.to_owned(), digest, size, ..OciDescriptor::default() };
        Resolved {
            top_digest: "sha256:index".to_owned(),
            manifest_digest: "sha256:manifest".to_owned(),
            manifest: OciImageManifest {
                config: descriptor("sha256:config".to_owned(), 2),
                layers: (0..layers).map(|layer| descriptor(format!("sha256:layer{layer}"), 10 + layer as i64)).collect(),
                ..OciImageManifest::default()
            },
            config: ImageConfig {
                os: "linux".to_owned(),
                architecture: "arm".to_owned(),
                variant: Some("v7".to_owned()),
                rootfs: RootFs { diff_ids: (0..diff_ids).map(|layer| format!("sha256:diff{layer}")).collect() },
            },
        }
    }

    #[test]
    fn docker_hub_names_are_fully_qualified() {
        let parsed = Reference::try_from("nginx:1.27").unwrap();
        let description = describe("nginx:1.27", &parsed, &resolved(2, 2)).unwrap();
        assert_eq!(description.reference, "nginx:1.27");
        assert_eq!(description.tags, ["docker.io/library/nginx:1.27"]);
        assert_eq!(description.repo_digests, ["docker.io/library/nginx@sha256:index"]);
        assert_eq!((description.manifest_digest.as_str(), description.config_digest.as_str()), ("sha256:manifest", "sha256:config"));
        assert_eq!((description.os.as_str(), description.architecture.as_str(), description.variant.as_deref()), ("linux", "arm", Some("v7")));
        let second = &description.layers[1];
        assert_eq!((second.digest.as_str(), second.diff_id.as_str(), second.size), ("sha256:layer1", "sha256:diff1", 11));
        let pinned = Reference::try_from("docker.io/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef").unwrap();
        assert!(describe("x", &pinned, &resolved(1, 1)).unwrap().tags.is_empty());
    }

    #[test]
    fn configs_must_name_every_layer() {
        let parsed = Reference::try_from("127.0.0.1:5000/app:v1").unwrap();
        let error = describe("x", &parsed, &resolved(3, 2)).unwrap_err().to_string();
        assert_eq!(error, "config: rootfs.diff_ids has 2 entries for the manifest's 3 layers");
        let mut negative = resolved(1, 1);
        negative.manifest.layers[0].size = -1;
        assert!(describe("x", &parsed, &negative).unwrap_err().to_string().contains("negative size -1"));
    }
}

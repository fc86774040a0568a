//! From a source as the user names it to its inventory: the image, root filesystem or project
//! is read by `palisade-image`, every file goes through the catalogers of the right scope, and
//! the facts of the files that are there in the end are assembled. A single file (a lockfile,
//! a package manifest, an SBOM) goes through the project catalogers alone.

use std::io::Read;
use std::path::{Path, PathBuf};

use palisade_image::{FileAnalyzer, ImageError, LayerCache, LayerProgress, Platform, SourceRef, registry};
use palisade_pkg::{Inventory, InventoryIssue, Location, SourceDescription};

use crate::{Catalog, FileFacts, FileMeta, Scope, SeenFile, Want, assemble};

/// How sources are read.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The platform to pick from a multi-platform image (default linux/amd64).
    pub platform: Option<Platform>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// PEM files of extra CA certificates for registries.
    pub ca_certificates: Vec<PathBuf>,
    /// Registry hosts reached over plain HTTP.
    pub insecure_hosts: Vec<String>,
    /// Use the per-layer cache (`$PALISADE_CACHE_DIR`, else `$XDG_CACHE_HOME/palisade`).
    pub cache: bool,
}

impl FileAnalyzer for Catalog {
    type Facts = FileFacts;

    fn cache_key(&self) -> String {
        Catalog::cache_key(self)
    }

    fn wants(&self, path: &str, meta: &palisade_image::FileMeta) -> Option<palisade_image::Want> {
        Catalog::wants(self, path, &FileMeta { size: meta.size, mode: meta.mode }).map(|want| match want {
            Want::Presence => palisade_image::Want::Presence,
            Want::Content { limit } => palisade_image::Want::Content { limit },
        })
    }

    fn analyze(&self, path: &str, meta: &palisade_image::FileMeta, content: &[u8]) -> FileFacts {
        self.parse(path, &FileMeta { size: meta.size, mode: meta.mode }, content)
    }
}

/// The inventory of `source` (`oci:DIR[:TAG]`, `docker-archive:FILE`, `dir:ROOTFS`, a project
/// directory, a single lockfile, manifest or SBOM, or an image reference). A layer that cannot be
/// read is an issue of the inventory; only a source that cannot be read at all is an error.
pub fn read(source: &str, options: &ReadOptions, progress: &(dyn Fn(LayerProgress) + Sync)) -> Result<Inventory, ImageError> {
    let path = Path::new(source);
    if path.is_file() {
        return read_file(path);
    }
    let reference = SourceRef::parse(source)?;
    let directory = |path: &PathBuf, scope: Scope| -> Result<Inventory, ImageError> {
        let catalog = Catalog::new(scope);
        let analyzed = palisade_image::analyze_directory(path, &catalog)?;
        let files = analyzed.files.iter().map(|file| SeenFile { path: &file.path, layer: None, facts: &file.facts });
        Ok(inventory_of(SourceDescription::Directory { path: path.display().to_string() }, files, analyzed.issues))
    };
    let image = match &reference {
        SourceRef::RootFs(path) => return directory(path, Scope::Image),
        SourceRef::Project(path) => return directory(path, Scope::Directory),
        image => open_image(image, source, options)?,
    };
    let cache = if options.cache { LayerCache::from_environment() } else { None };
    let catalog = Catalog::new(Scope::Image);
    let analyzed = palisade_image::analyze_image(image.as_ref(), &catalog, cache.as_ref(), progress)?;
    let files = analyzed.files.iter().map(|file| SeenFile { path: &file.path, layer: file.layer_digest.as_deref(), facts: &file.facts });
    Ok(inventory_of(SourceDescription::Image(analyzed.description.clone()), files, analyzed.issues))
}

/// Opens the image `reference` names (as the user wrote it: `source`): in a registry, an OCI
/// layout or a docker archive.
pub fn open_image(reference: &SourceRef, source: &str, options: &ReadOptions) -> Result<Box<dyn palisade_image::ImageSource>, ImageError> {
    match reference {
        SourceRef::Registry(name) => Ok(Box::new(registry::open(name, &registry_options(options)?)?)),
        local => local.open_image(source, options.platform.as_ref()),
    }
}

/// The largest single file read as a source (SBOMs of large images run to tens of MiB).
const FILE_LIMIT: u64 = 1 << 30;

/// One file: read by the project catalogers that want its name (lockfiles, manifests, SBOMs
/// named as osv-scanner and Trivy name them), else as an SBOM told by its content (`sbom.json`).
fn read_file(path: &Path) -> Result<Inventory, ImageError> {
    let io_error = |source| ImageError::Io { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut content = Vec::new();
    file.take(FILE_LIMIT + 1).read_to_end(&mut content).map_err(io_error)?;
    let name = path.display().to_string();
    if content.len() as u64 > FILE_LIMIT {
        return Err(ImageError::Invalid { file: name, problem: format!("larger than {FILE_LIMIT} bytes (limit)") });
    }
    let catalog = Catalog::new(Scope::Directory);
    let meta = FileMeta { size: content.len() as u64, mode: 0o644 };
    if catalog.wants(&name, &meta).is_none() {
        return palisade_sbom::read::read_sbom(path, &content).map_err(|error| ImageError::Invalid {
            file: name,
            problem: format!("not a lockfile or package manifest Palisade reads, nor an SBOM it reads: {}", error.message()),
        });
    }
    let facts = catalog.parse(&name, &meta, &content);
    let files = [SeenFile { path: &name, layer: None, facts: &facts }];
    Ok(inventory_of(SourceDescription::File { path: name.clone() }, files, Vec::new()))
}

/// The assembled inventory, with the problems reading the source found among its issues.
fn inventory_of<'a>(source: SourceDescription, files: impl IntoIterator<Item = SeenFile<'a>>, issues: Vec<palisade_image::AnalysisIssue>) -> Inventory {
    let mut inventory = assemble(source, files);
    inventory.issues.extend(issues.into_iter().map(issue));
    inventory.sort();
    inventory
}

fn registry_options(options: &ReadOptions) -> Result<registry::RegistryOptions, ImageError> {
    let mut ca_certificates = Vec::new();
    for path in &options.ca_certificates {
        ca_certificates.push(std::fs::read(path).map_err(|source| ImageError::Io { path: path.clone(), source })?);
    }
    Ok(registry::RegistryOptions {
        username: options.username.clone(),
        password: options.password.clone(),
        insecure_http_hosts: options.insecure_hosts.clone(),
        ca_certificates,
        platform: options.platform.clone(),
        ..registry::RegistryOptions::default()
    })
}

fn issue(issue: palisade_image::AnalysisIssue) -> InventoryIssue {
    InventoryIssue { location: Location { path: issue.path.unwrap_or_default(), layer: issue.layer }, message: issue.message }
}

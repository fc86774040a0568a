//! Catalogers find packages in files; [`assemble`] turns what they found in the files that
//! survive in a filesystem into an [`Inventory`].
//!
//! The work is split in two so that image layers can be analysed once and cached:
//! 1. per file, independent of every other file: [`Cataloger::wants`] picks files by path and
//!    metadata, and [`Cataloger::parse`] turns one file's bytes into [`Fact`]s;
//! 2. per filesystem: [`assemble`] joins the facts of the files that are there in the end
//!    (after later layers deleted or replaced some), completes OS package URLs with the
//!    distribution, attaches licence and evidence files to their packages, and sorts.

mod assemble;
mod apk;
mod catalogers;
pub mod source;
pub mod workloads;
mod lockfiles;
mod dpkg;
mod lang;
mod os_release;
mod rpm;

pub use assemble::{assemble, SeenFile};
pub use catalogers::{catalogers, Cataloger};
use palisade_pkg::{Distro, Package, PackageType};
use serde::{Deserialize, Serialize};

/// What the filesystem says of a file before it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileMeta {
    pub size: u64,
    /// Unix permission bits (`0o755`).
    pub mode: u32,
}

impl FileMeta {
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// Which kind of source a cataloger reads. An image or root filesystem is read for what is
/// installed; a project directory also for what its lockfiles declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Image,
    Directory,
}

/// How much of a wanted file to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Only that the file is there (e.g. dpkg's `info/*.list`): `parse` gets no bytes.
    Presence,
    /// The whole file, up to this many bytes; a larger file is an issue, not read.
    Content { limit: u64 },
}

/// What one file says. Facts are small, serialisable and independent of other files, so a
/// layer's facts can be cached under its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "kebab-case")]
pub enum Fact {
    /// An installed or declared package. `locations[0]` is this file; OS package purls are
    /// completed in [`assemble`].
    Package(Package),
    /// The operating system, from a release file; of several, the lowest `rank` wins
    /// (`/etc/os-release` is 0).
    Distro { rank: u8, distro: Distro },
    /// A file that belongs to the named package (dpkg `info/NAME.list`, `usr/share/doc/NAME/
    /// copyright`, a Python `RECORD`): it is added to that package's locations, and its licences
    /// to the package's when the package declares none itself.
    Evidence {
        kind: PackageType,
        name: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        licenses: Vec<String>,
    },
    /// A problem with part of a file that was otherwise read (an SBOM's components that name
    /// no package): it becomes one of the inventory's issues, next to the file's packages.
    Issue { message: String },
}

/// The facts of one file, and what went wrong reading it: a file that is partly unreadable still
/// yields what could be read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<Fact>,
    /// `line 12: field without a name`; the path is added when reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<String>,
}

/// Every cataloger of a scope, as one file analyser.
pub struct Catalog {
    scope: Scope,
    catalogers: Vec<&'static dyn Cataloger>,
}

impl Catalog {
    pub fn new(scope: Scope) -> Self {
        Self { scope, catalogers: catalogers().into_iter().filter(|cataloger| cataloger.scopes().contains(&scope)).collect() }
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Names the catalogers and their version, so cached facts made by other code are not
    /// reused.
    pub fn cache_key(&self) -> String {
        let mut key = format!("catalog-v1-{:?}", self.scope).to_lowercase();
        for cataloger in &self.catalogers {
            key.push('-');
            key.push_str(cataloger.name());
        }
        key
    }

    /// The widest want of any cataloger for this file; `None` when nobody wants it.
    pub fn wants(&self, path: &str, meta: &FileMeta) -> Option<Want> {
        self.catalogers.iter().filter_map(|cataloger| cataloger.wants(path, meta)).max_by_key(|want| match want {
            Want::Presence => 0,
            Want::Content { limit } => limit.saturating_add(1),
        })
    }

    /// Runs every cataloger that wants this file over its bytes (empty for [`Want::Presence`]).
    pub fn parse(&self, path: &str, meta: &FileMeta, content: &[u8]) -> FileFacts {
        let mut facts = FileFacts::default();
        for cataloger in &self.catalogers {
            if cataloger.wants(path, meta).is_none() {
                continue;
            }
            match cataloger.parse(path, content) {
                Ok(found) => {
                    for fact in found {
                        match fact {
                            Fact::Issue { message } => facts.issues.push(format!("{}: {message}", cataloger.name())),
                            other => facts.facts.push(other),
                        }
                    }
                }
                Err(message) => facts.issues.push(format!("{}: {message}", cataloger.name())),
            }
        }
        facts
    }
}

/// The last segment of a normalised absolute path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A JSON syntax or shape error with its position first, as every cataloger error reads.
pub(crate) fn json_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    // serde_json ends its messages with " at line L column C"; the position goes first here.
    let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(message, _)| message);
    if error.line() == 0 {
        return message.to_owned();
    }
    format!("line {}, column {}: {message}", error.line(), error.column())
}

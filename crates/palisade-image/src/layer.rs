//! One layer analysed on its own: every entry it makes (needed to squash), its whiteouts, and
//! the facts of the files the analyser wants. The result depends only on the layer's content
//! and the analyser, so it is what the cache keeps.

use std::collections::HashMap;
use std::io::BufReader;

use palisade_pkg::LayerDescription;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::blob::LayerInput;
use crate::error::LayerProblem;
use crate::tar_stream::{EntryType, Skip, TarEntry, TarError, TarReader, read_sparse};
use crate::{FileAnalyzer, FileMeta, ImageError, ImageSource, Limits, Want};

/// Wanted files read but not yet analysed are handed to the thread pool in batches of this
/// many bytes, so memory stays bounded while big files (binaries) are analysed in parallel.
const BATCH_BYTES: usize = 32 << 20;
const BATCH_FILES: usize = 512;
/// Tar headers are 512 bytes; reading the stream in bigger pieces keeps calls down.
const READ_BUFFER: usize = 64 * 1024;

/// What an entry makes in the filesystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Kind {
    #[serde(rename = "f")]
    File,
    #[serde(rename = "d")]
    Directory,
    #[serde(rename = "l")]
    Symlink,
    #[serde(rename = "h")]
    HardLink,
    #[serde(rename = "o")]
    Other,
}

/// One path a layer writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "F: Serialize", deserialize = "F: Deserialize<'de>"))]
pub(crate) struct LayerEntry<F> {
    /// Absolute and normalised: `/usr/lib/os-release`.
    #[serde(rename = "p")]
    pub path: String,
    #[serde(rename = "k")]
    pub kind: Kind,
    /// Symlink target as written (may be relative); hard link target normalised.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(rename = "s", default, skip_serializing_if = "is_zero")]
    pub size: u64,
    #[serde(rename = "m", default)]
    pub mode: u32,
    /// What the analyser found in the file, when it wanted it.
    #[serde(rename = "f", default = "no_facts", skip_serializing_if = "Option::is_none", with = "present")]
    pub facts: Option<F>,
    /// Why a wanted file was not analysed (too big, unreadable); reported only if the file
    /// survives in the final view.
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
}

fn no_facts<F>() -> Option<F> {
    None
}

/// Facts are written as a one-element list, so that facts which serialise to `null` (a unit, an
/// empty option) still read back as present.
mod present {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, F: Serialize>(facts: &Option<F>, serializer: S) -> Result<S::Ok, S::Error> {
        facts.as_ref().map(std::slice::from_ref).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, F: Deserialize<'de>>(deserializer: D) -> Result<Option<F>, D::Error> {
        Ok(Option::<[F; 1]>::deserialize(deserializer)?.map(|[facts]| facts))
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl<F> LayerEntry<F> {
    pub fn meta(&self) -> FileMeta {
        FileMeta { size: self.size, mode: self.mode }
    }
}

/// A problem with one path of a layer, reported whatever later layers do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PathIssue {
    pub path: String,
    pub message: String,
}

/// Everything the squash and the final view need from one layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "F: Deserialize<'de>"))]
pub(crate) struct LayerAnalysis<F> {
    pub entries: Vec<LayerEntry<F>>,
    /// Paths deleted from the layers below (`.wh.NAME`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whiteouts: Vec<String>,
    /// Directories whose content in the layers below is hidden (`.wh..wh..opq`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opaques: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<PathIssue>,
    /// Uncompressed bytes of the layer.
    pub bytes: u64,
}

impl<F> Default for LayerAnalysis<F> {
    fn default() -> Self {
        Self { entries: Vec::new(), whiteouts: Vec::new(), opaques: Vec::new(), issues: Vec::new(), bytes: 0 }
    }
}

/// A layer's analysis and, when the layer could not be read to the end, why: the entries read
/// before the failure are kept (a truncated layer still says what it held up to there).
pub(crate) struct LayerOutcome<F> {
    pub analysis: LayerAnalysis<F>,
    pub error: Option<ImageError>,
}

/// Makes a path from an archive absolute and normalised. `Ok(None)` for the root itself;
/// `Err` when `..` climbs above the root. The flag says the path was absolute in the archive.
pub(crate) fn normalize(raw: &str) -> Result<Option<(String, bool)>, String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("path climbs above the root with '..': entry ignored".to_owned());
                }
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    let mut path = String::with_capacity(raw.len() + 1);
    for part in parts {
        path.push('/');
        path.push_str(part);
    }
    Ok(Some((path, raw.starts_with('/'))))
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(at) => &path[..at],
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" { format!("/{name}") } else { format!("{parent}/{name}") }
}

/// A wanted file read and waiting for the analyser.
struct Pending {
    entry: usize,
    path: String,
    meta: FileMeta,
    content: Vec<u8>,
}

/// A hard link whose path the analyser wants the content of: it is the target's content.
struct WantedLink {
    entry: usize,
    limit: u64,
}

/// A wanted hard link, by the target entry that holds its content.
struct LinkRequest {
    link_path: String,
    limit: u64,
}

/// Collects a layer's entries while its tar stream is read.
struct LayerBuilder<'x, A: FileAnalyzer> {
    analyzer: &'x A,
    limits: &'x Limits,
    entries: Vec<Option<LayerEntry<A::Facts>>>,
    /// path → (entry, where its data starts in the tar), the last entry of a path winning.
    by_path: HashMap<String, (usize, u64)>,
    whiteouts: Vec<String>,
    opaques: Vec<String>,
    issues: Vec<PathIssue>,
    batch: Vec<Pending>,
    batch_bytes: usize,
    links: Vec<WantedLink>,
    seen: u64,
    /// Entries written with absolute paths: reported once per layer, with the first of them.
    absolute: Option<(String, u64)>,
}

impl<'x, A: FileAnalyzer> LayerBuilder<'x, A> {
    fn new(analyzer: &'x A, limits: &'x Limits) -> Self {
        Self {
            analyzer,
            limits,
            entries: Vec::new(),
            by_path: HashMap::new(),
            whiteouts: Vec::new(),
            opaques: Vec::new(),
            issues: Vec::new(),
            batch: Vec::new(),
            batch_bytes: 0,
            links: Vec::new(),
            seen: 0,
            absolute: None,
        }
    }

    fn issue(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(PathIssue { path: path.into(), message: message.into() });
    }

    /// Takes one tar entry (and, when wanted, its content from `reader`).
    fn add<R: Skip>(&mut self, entry: TarEntry, reader: &mut TarReader<R>) -> Result<(), LayerProblem> {
        self.seen += 1;
        if self.seen > self.limits.max_entries_per_layer {
            return Err(LayerProblem::TooManyEntries { limit: self.limits.max_entries_per_layer });
        }
        let raw = String::from_utf8_lossy(&entry.path).into_owned();
        if let Some(problem) = entry.path_problem {
            self.issue(raw, format!("{problem}: entry ignored"));
            return Ok(());
        }
        let (path, absolute) = match normalize(&raw) {
            Ok(Some(normalised)) => normalised,
            Ok(None) => return Ok(()),
            Err(message) => {
                self.issue(raw, message);
                return Ok(());
            }
        };
        if absolute {
            self.absolute.get_or_insert((raw, 0)).1 += 1;
        }
        let name = &path[path.rfind('/').map_or(0, |at| at + 1)..];
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let parent = parent_of(&path).to_owned();
            if hidden == ".wh..opq" {
                self.opaques.push(parent);
            } else if hidden.starts_with(".wh.") {
                // aufs bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`): not part of the filesystem.
            } else if hidden.is_empty() {
                self.issue(path, "whiteout without a name: ignored");
            } else {
                self.whiteouts.push(join(&parent, hidden));
            }
            return Ok(());
        }
        let (kind, target) = match entry.kind {
            EntryType::File => (Kind::File, None),
            EntryType::Directory => (Kind::Directory, None),
            EntryType::Symlink => (Kind::Symlink, Some(String::from_utf8_lossy(&entry.link).into_owned())),
            EntryType::Other => (Kind::Other, None),
            EntryType::HardLink => match normalize(&String::from_utf8_lossy(&entry.link)) {
                Ok(Some((target, _))) => (Kind::HardLink, Some(target)),
                Ok(None) | Err(_) => {
                    self.issue(path, format!("hard link to {:?}, outside the image root: entry ignored", String::from_utf8_lossy(&entry.link)));
                    return Ok(());
                }
            },
        };
        let index = self.entries.len();
        if let Some((previous, _)) = self.by_path.insert(path.clone(), (index, entry.data_offset)) {
            self.entries[previous] = None;
            self.batch.retain(|pending| pending.entry != previous);
            self.links.retain(|link| link.entry != previous);
        }
        let mut record = LayerEntry { path, kind, target, size: entry.size, mode: entry.mode, facts: None, issue: None };
        match kind {
            Kind::File => self.want_file(&mut record, index, &entry, reader)?,
            Kind::HardLink => {
                let target = record.target.as_deref().and_then(|target| self.by_path.get(target)).and_then(|&(at, _)| self.entries[at].as_ref());
                if let Some(target) = target {
                    record.size = target.size;
                    record.mode = target.mode;
                }
                match self.analyzer.wants(&record.path, &record.meta()) {
                    None => {}
                    Some(Want::Presence) => record.facts = Some(self.analyzer.analyze(&record.path, &record.meta(), &[])),
                    Some(Want::Content { limit }) => self.links.push(WantedLink { entry: index, limit }),
                }
            }
            Kind::Directory | Kind::Symlink | Kind::Other => record.size = 0,
        }
        self.entries.push(Some(record));
        if self.batch_bytes >= BATCH_BYTES || self.batch.len() >= BATCH_FILES {
            self.flush();
        }
        Ok(())
    }

    fn want_file<R: Skip>(&mut self, record: &mut LayerEntry<A::Facts>, index: usize, entry: &TarEntry, reader: &mut TarReader<R>) -> Result<(), LayerProblem> {
        let meta = record.meta();
        let limit = match self.analyzer.wants(&record.path, &meta) {
            None => return Ok(()),
            Some(Want::Presence) => {
                record.facts = Some(self.analyzer.analyze(&record.path, &meta, &[]));
                return Ok(());
            }
            Some(Want::Content { limit }) => limit,
        };
        if let Some(problem) = &entry.content_problem {
            record.issue = Some(problem.clone());
            return Ok(());
        }
        if meta.size > limit {
            record.issue = Some(format!("{} bytes, more than the {limit} the analyser reads: not analysed", meta.size));
            return Ok(());
        }
        let content = match &entry.sparse {
            Some(chunks) => match read_sparse(reader, chunks, meta.size).map_err(tar_problem)? {
                Ok(content) => content,
                Err(message) => {
                    record.issue = Some(message);
                    return Ok(());
                }
            },
            None => reader.read_content(limit).map_err(tar_problem)?,
        };
        self.batch_bytes += content.len();
        self.batch.push(Pending { entry: index, path: record.path.clone(), meta, content });
        Ok(())
    }

    /// Analyses the files read so far, in parallel.
    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let analyzer = self.analyzer;
        let results: Vec<(usize, A::Facts)> = batch.into_par_iter().map(|pending| (pending.entry, analyzer.analyze(&pending.path, &pending.meta, &pending.content))).collect();
        for (index, facts) in results {
            if let Some(entry) = self.entries[index].as_mut() {
                entry.facts = Some(facts);
            }
        }
    }

    /// The file a hard link finally names, following links of links within the layer.
    fn link_target(&self, index: usize) -> Result<usize, String> {
        let mut current = index;
        for _ in 0..=self.limits.max_symlink_hops {
            let entry = self.entries[current].as_ref().ok_or("hard link target replaced")?;
            match (entry.kind, entry.target.as_deref()) {
                (Kind::File, _) => return Ok(current),
                (Kind::HardLink, Some(target)) => {
                    current = self.by_path.get(target).map(|&(at, _)| at).ok_or_else(|| format!("hard link target {target} is not in this layer"))?;
                }
                _ => return Err(format!("hard link target {} is not a regular file", entry.path)),
            }
        }
        Err(format!("hard link chain longer than {} links", self.limits.max_symlink_hops))
    }

    /// The analysis, and the wanted hard links by the tar offset of their target's data.
    fn finish(mut self, bytes: u64) -> (LayerAnalysis<A::Facts>, HashMap<u64, Vec<LinkRequest>>) {
        self.flush();
        let mut wanted: HashMap<u64, Vec<LinkRequest>> = HashMap::new();
        for link in std::mem::take(&mut self.links) {
            let target = self.link_target(link.entry).and_then(|target| {
                let path = self.entries[target].as_ref().map(|entry| entry.path.as_str()).ok_or("hard link target replaced")?;
                self.by_path.get(path).map(|&(_, offset)| offset).ok_or_else(|| "hard link target replaced".to_owned())
            });
            let Some(entry) = self.entries[link.entry].as_mut() else { continue };
            match target {
                Ok(offset) => wanted.entry(offset).or_default().push(LinkRequest { link_path: entry.path.clone(), limit: link.limit }),
                Err(message) => entry.issue = Some(message),
            }
        }
        (self.into_analysis(bytes), wanted)
    }

    fn into_analysis(mut self, bytes: u64) -> LayerAnalysis<A::Facts> {
        if let Some((first, count)) = self.absolute.take() {
            let message = if count == 1 { "absolute path in the archive: read relative to the image root".to_owned() } else { format!("{count} absolute paths in the archive (this is the first): read relative to the image root") };
            self.issue(first, message);
        }
        LayerAnalysis { entries: self.entries.into_iter().flatten().collect(), whiteouts: self.whiteouts, opaques: self.opaques, issues: self.issues, bytes }
    }
}

fn tar_problem(error: TarError) -> LayerProblem {
    match error {
        TarError::Truncated { at } => LayerProblem::TruncatedTar { at },
        TarError::Invalid { at, message } => LayerProblem::InvalidTar { at, message },
        TarError::Read { at, error } => LayerProblem::Read { at, message: error.to_string() },
    }
}

/// Reads and analyses layer `index` of `source`.
pub(crate) fn analyze_layer<A: FileAnalyzer>(source: &dyn ImageSource, index: usize, analyzer: &A, limits: &Limits) -> LayerOutcome<A::Facts> {
    let description = source.description();
    let layer = &description.layers[index];
    let layer_error = |problem: LayerProblem| ImageError::Layer { digest: layer.digest.clone(), position: index + 1, count: description.layers.len(), problem };
    let blob = match source.open_layer(index) {
        Ok(blob) => blob,
        Err(error) => return LayerOutcome { analysis: LayerAnalysis::default(), error: Some(error) },
    };
    let mut input = match LayerInput::new(blob, layer, limits) {
        Ok(input) => input,
        Err(problem) => return LayerOutcome { analysis: LayerAnalysis::default(), error: Some(layer_error(problem)) },
    };
    let mut builder = LayerBuilder::new(analyzer, limits);
    let mut reader = TarReader::new(BufReader::with_capacity(READ_BUFFER, &mut input), limits.max_path_bytes, limits.max_metadata_bytes);
    let mut problem = None;
    loop {
        match reader.next_entry() {
            Ok(None) => break,
            Ok(Some(entry)) => {
                if let Err(found) = builder.add(entry, &mut reader) {
                    problem = Some(found);
                    break;
                }
            }
            Err(error) => {
                problem = Some(tar_problem(error));
                break;
            }
        }
    }
    drop(reader);
    // A failure of the stream below the tar (compression, size caps) explains a tar error.
    let problem = problem.map(|problem| input.problem().cloned().unwrap_or(problem));
    let bytes = input.uncompressed_bytes();
    let problem = match problem {
        Some(problem) => Some(problem),
        None => input.finish(layer).err(),
    };
    let (mut analysis, links) = builder.finish(bytes);
    if problem.is_none() && !links.is_empty() {
        read_linked(source, index, layer, analyzer, limits, &mut analysis, links);
    }
    LayerOutcome { analysis, error: problem.map(layer_error) }
}

/// Analyses wanted hard links: their targets' content is read in a second pass over the layer
/// (rare: only links whose own path is wanted). The targets are found by where their data starts
/// in the tar, so a path written twice in the layer is read from the entry that counts.
fn read_linked<A: FileAnalyzer>(
    source: &dyn ImageSource,
    index: usize,
    layer: &LayerDescription,
    analyzer: &A,
    limits: &Limits,
    analysis: &mut LayerAnalysis<A::Facts>,
    wanted: HashMap<u64, Vec<LinkRequest>>,
) {
    let mut results: Vec<(String, Result<A::Facts, String>)> = Vec::new();
    let outcome = (|| -> Result<(), String> {
        let blob = source.open_layer(index).map_err(|error| error.to_string())?;
        let mut input = LayerInput::new(blob, layer, limits).map_err(|problem| problem.to_string())?;
        let mut reader = TarReader::new(BufReader::with_capacity(READ_BUFFER, &mut input), limits.max_path_bytes, limits.max_metadata_bytes);
        let mut left = wanted.len();
        while left > 0 {
            let Some(entry) = reader.next_entry().map_err(|error| tar_problem(error).to_string())? else { break };
            let Some(links) = wanted.get(&entry.data_offset) else { continue };
            left -= 1;
            let meta = FileMeta { size: entry.size, mode: entry.mode };
            let limit = links.iter().map(|link| link.limit).max().unwrap_or(0);
            let content = match (&entry.content_problem, &entry.sparse) {
                (Some(problem), _) => Err(problem.clone()),
                _ if meta.size > limit => Err(String::new()),
                (None, Some(chunks)) => read_sparse(&mut reader, chunks, meta.size).map_err(|error| tar_problem(error).to_string())?,
                (None, None) => Ok(reader.read_content(limit).map_err(|error| tar_problem(error).to_string())?),
            };
            for link in links {
                let result = match &content {
                    _ if meta.size > link.limit => Err(format!("{} bytes, more than the {} the analyser reads: not analysed", meta.size, link.limit)),
                    Ok(content) => Ok(analyzer.analyze(&link.link_path, &meta, content)),
                    Err(message) => Err(format!("hard link target: {message}")),
                };
                results.push((link.link_path.clone(), result));
            }
        }
        Ok(())
    })();
    if let Err(message) = outcome {
        analysis.issues.push(PathIssue { path: "/".to_owned(), message: format!("second read of the layer for hard links failed: {message}") });
    }
    let positions: HashMap<&str, usize> = analysis.entries.iter().enumerate().map(|(at, entry)| (entry.path.as_str(), at)).collect();
    let assignments: Vec<(usize, Result<A::Facts, String>)> = results.into_iter().filter_map(|(path, result)| Some((*positions.get(path.as_str())?, result))).collect();
    for (at, result) in assignments {
        let entry = &mut analysis.entries[at];
        match result {
            Ok(facts) => entry.facts = Some(facts),
            Err(message) => entry.issue = Some(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_escapes_refused() {
        assert_eq!(normalize("./usr/bin/x").unwrap(), Some(("/usr/bin/x".to_owned(), false)));
        assert_eq!(normalize("usr//lib/./a/../b").unwrap(), Some(("/usr/lib/b".to_owned(), false)));
        assert_eq!(normalize("/etc/passwd").unwrap(), Some(("/etc/passwd".to_owned(), true)));
        assert_eq!(normalize("./").unwrap(), None);
        assert!(normalize("../../etc/passwd").is_err());
        assert!(normalize("a/../../b").is_err());
        assert_eq!(parent_of("/a"), "/");
        assert_eq!(parent_of("/a/b"), "/a");
        assert_eq!(join("/", "x"), "/x");
    }
}

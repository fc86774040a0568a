//! Archive members as text to scan, walked as gitleaks walks them with `--max-archive-depth`
//! (gitleaks v8.30 `sources/file.go` with mholt/archives and h2non/filetype, re-implemented):
//!
//! - **Which files are archives**: decided by the file name, as gitleaks does (it identifies
//!   formats by name only): `.zip`, a name with a `tar` extension (`x.tar`, `x.tar.gz`), and
//!   `.gz`. We add `.jar`/`.war`/`.ear` (zip) and `.tgz`, which gitleaks does not open, and
//!   refuse a name whose first bytes contradict it (a zip must start `PK`, a gzip `1f 8b`), so
//!   a text file called `notes.zip` is scanned as text. Other formats (7z, rar, bz2, xz, zstd)
//!   are not opened.
//! - **Depth**: the top-level archive is depth 1; an archive is opened only when its depth is
//!   at most `max_depth` (gitleaks' default 0 opens none). `x.tar.gz` is one level, and a plain
//!   `.gz` is one level whose decompressed content is a member named like the `.gz` itself (as
//!   gitleaks reports it) and is not opened further.
//! - **Names**: `outer.zip!inner/file.txt`, nested `a.zip!b.tar.gz!c.txt`; the inner path is
//!   cleaned like Go's `filepath.Clean` (`./`, `//`, `..` resolved).
//! - **Binary members** are skipped as gitleaks skips them: when the first 100 kB are
//!   recognized by h2non/filetype as an `application/*` type (executables, archives,
//!   documents, fonts, databases; see [`is_binary`]). Text with odd bytes is still scanned,
//!   as in gitleaks. Empty members are skipped.
//! - **Streams and caps**: nothing is written to disk. tar and gzip are read as streams; a zip
//!   needs random access, so it is read into memory (as gitleaks copies it to a temporary
//!   file), within the member cap. Caps ([`ArchiveLimits`]): bytes of one member (declared
//!   or read), decompressed bytes over the whole walk (counted as they leave a decompressor,
//!   so a bomb stops there), entries over the whole walk, and a zip entry's declared
//!   compression ratio. Every problem is an [`ArchiveError`] naming the archive or member; the
//!   walk goes on with the next member when it can.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

/// Caps on one walk (a top-level archive and everything inside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// gitleaks `--max-archive-depth`: 0 opens nothing, 1 the archive but no archive inside it.
    pub max_depth: usize,
    /// Bytes of one member, declared or read (also the size of a zip read into memory).
    pub max_member_bytes: u64,
    /// Decompressed bytes over the whole walk.
    pub max_total_bytes: u64,
    /// Entries over the whole walk.
    pub max_entries: usize,
    /// Declared uncompressed ÷ compressed size of a zip entry.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits { max_depth: 0, max_member_bytes: 64 << 20, max_total_bytes: 512 << 20, max_entries: 100_000, max_ratio: 500 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    Tar,
    /// A tar inside gzip (`.tar.gz`, `.tgz`): one level.
    TarGz,
    /// A single gzip-compressed file.
    Gzip,
}

/// One member's content, handed to the visitor.
#[derive(Debug)]
pub struct Member<'a> {
    /// Full name, `outer.zip!inner/file.txt`.
    pub name: &'a str,
    /// Its path inside the innermost archive (for path allowlists).
    pub inner: &'a str,
    pub bytes: &'a [u8],
}

/// A member or archive that could not be read, or a cap that stopped it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveError {
    /// The archive or member, `outer.zip!inner.tar`.
    pub path: String,
    pub problem: String,
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

impl std::error::Error for ArchiveError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// An archive deeper than `max_depth`.
    Depth,
    /// A member gitleaks treats as binary.
    Binary,
}

/// What a walk did besides visiting members.
#[derive(Debug, Default)]
pub struct WalkReport {
    pub errors: Vec<ArchiveError>,
    pub skipped: Vec<(String, SkipReason)>,
    /// Members handed to the visitor.
    pub visited: usize,
    /// Bytes that left a decompressor.
    pub decompressed_bytes: u64,
}

/// The archive kind of a file, from its name (gitleaks' rule plus jar/war/ear/tgz), unless
/// its first bytes contradict the name.
pub fn looks_like_archive(name: &str, head: &[u8]) -> Option<ArchiveKind> {
    let base = name.rsplit(['/', '!']).next().unwrap_or(name).to_ascii_lowercase();
    let mut extensions = base.split('.').skip(1);
    let last = base.rsplit_once('.').map(|(_, ext)| ext)?;
    let kind = match last {
        "zip" | "jar" | "war" | "ear" => ArchiveKind::Zip,
        "tgz" => ArchiveKind::TarGz,
        "gz" if extensions.any(|e| e == "tar") => ArchiveKind::TarGz,
        "gz" => ArchiveKind::Gzip,
        _ if extensions.any(|e| e == "tar") => ArchiveKind::Tar,
        _ => return None,
    };
    let contradicts = match kind {
        ArchiveKind::Zip => head.len() >= 2 && !head.starts_with(b"PK"),
        ArchiveKind::TarGz | ArchiveKind::Gzip => head.len() >= 2 && !head.starts_with(&[0x1f, 0x8b]),
        ArchiveKind::Tar => false,
    };
    (!contradicts).then_some(kind)
}

/// gitleaks' binary test: h2non/filetype recognizes the first bytes as an `application/*`
/// type. Signatures of that set (archives, executables, documents, fonts, databases, …).
pub fn is_binary(head: &[u8]) -> bool {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    const PREFIXES: &[&[u8]] = &[
        b"\x1f\x8b\x08",                 // gzip
        b"BZh",                          // bzip2
        b"7z\xbc\xaf\x27\x1c",           // 7z
        b"\xfd7zXZ\x00",                 // xz
        b"\x28\xb5\x2f\xfd",             // zstd
        b"%PDF",                         // pdf
        b"MZ",                           // PE executable
        b"{\\rtf",                       // rtf
        b"%!",                           // postscript
        b"SQLi",                         // sqlite
        b"NES\x1a",                      // NES rom
        b"Cr24",                         // chrome extension
        b"MSCF",                         // cab
        b"ISc(",                         // cab (InstallShield)
        b"!<arch>",                      // ar, deb
        b"\x1f\xa0",                     // compress (.Z)
        b"\x1f\x9d",                     // compress (.Z)
        b"LZIP",                         // lzip
        b"\xd0\xcf\x11\xe0",             // OLE2: doc, xls, ppt
        b"wOFF\x00\x01\x00\x00",         // woff
        b"wOF2\x00\x01\x00\x00",         // woff2
        b"\x00asm\x01\x00\x00\x00",      // wasm
        b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce", b"\xbe\xba\xfe\xca", // Mach-O
        b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", // Mach-O (and fat)
    ];
    let zip = head.len() > 3 && head[0] == b'P' && head[1] == b'K' && matches!(head[2], 3 | 5 | 7) && matches!(head[3], 4 | 6 | 8);
    let rar = head.len() > 6 && at(0, b"Rar!\x1a\x07") && matches!(head[6], 0 | 1);
    let swf = head.len() > 2 && matches!(head[0], b'C' | b'F') && at(1, b"WS");
    let fonts = head.len() > 4 && (at(0, b"\x00\x01\x00\x00\x00") || at(0, b"OTTO\x00"));
    zip || rar
        || swf
        || fonts
        || PREFIXES.iter().any(|magic| at(0, magic))
        || (head.len() > 261 && at(257, b"ustar")) // tar
        || (head.len() > 52 && at(0, b"\x7fELF"))
        || (head.len() > 96 && at(0, b"\xed\xab\xee\xdb")) // rpm
        || (head.len() > 131 && at(128, b"DICM"))
        || (head.len() > 32773 && at(32769, b"CD001")) // iso
        || (head.len() > 36 && at(0, b"dex\n") && head[36] == 0x70)
}

/// How much of a member gitleaks looks at to tell binary from text.
const BINARY_SNIFF_BYTES: usize = 100_000;

/// Walks the archive `name` read from `reader`, calling `visit` with each text member. A name
/// that [`looks_like_archive`] does not recognize yields an error.
pub fn walk(name: &str, mut reader: impl Read, limits: &ArchiveLimits, mut visit: impl FnMut(Member<'_>)) -> WalkReport {
    let mut walker = Walker { limits, decompressed: Rc::new(Cell::new(0)), entries: 0, report: WalkReport::default(), visit: &mut visit };
    match looks_like_archive(name, &[]) {
        None => walker.error(name, "not an archive this walk can open (zip, jar, tar, gzip)".into()),
        Some(_) if limits.max_depth == 0 => walker.report.skipped.push((name.to_string(), SkipReason::Depth)),
        Some(kind) => walker.archive(name, kind, &mut reader, 1),
    }
    walker.report.decompressed_bytes = walker.decompressed.get();
    walker.report
}

struct Walker<'w> {
    limits: &'w ArchiveLimits,
    /// Shared with every [`Counted`] reader of the walk.
    decompressed: Rc<Cell<u64>>,
    entries: usize,
    report: WalkReport,
    visit: &'w mut dyn FnMut(Member<'_>),
}

/// Counts bytes leaving a decompressor against the walk's total; an error once it is spent.
struct Counted<R> {
    inner: R,
    used: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.limit.saturating_sub(self.used.get());
        if left == 0 && !buf.is_empty() {
            return Err(io::Error::other(format!("decompressed-bytes cap of {} reached", self.limit)));
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.used.set(self.used.get() + n as u64);
        Ok(n)
    }
}

/// Reads at most `limit` bytes; `Ok(None)` when there is more.
fn read_capped(reader: &mut dyn Read, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// Go's `filepath.Clean` for a relative slash path: no `.`, empty or resolvable `..` parts.
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() { ".".to_string() } else { parts.join("/") }
}

impl Walker<'_> {
    fn error(&mut self, path: &str, problem: String) {
        self.report.errors.push(ArchiveError { path: path.to_string(), problem });
    }

    fn counted<R: Read>(&self, inner: R) -> Counted<R> {
        Counted { inner, used: Rc::clone(&self.decompressed), limit: self.limits.max_total_bytes }
    }

    /// Counts an entry; `false` (after naming the archive) once the walk has seen too many.
    fn admit_entry(&mut self, archive: &str) -> bool {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            self.error(archive, format!("entry cap of {} reached, rest of the archive not read", self.limits.max_entries));
            return false;
        }
        true
    }

    fn archive(&mut self, path: &str, kind: ArchiveKind, reader: &mut dyn Read, depth: usize) {
        match kind {
            ArchiveKind::Zip => self.zip(path, reader, depth),
            ArchiveKind::Tar => self.tar(path, reader, depth),
            ArchiveKind::TarGz => {
                let mut decompressed = self.counted(flate2::read::GzDecoder::new(reader));
                self.tar(path, &mut decompressed, depth)
            }
            ArchiveKind::Gzip => {
                let limit = self.limits.max_member_bytes;
                let mut decompressed = self.counted(flate2::read::GzDecoder::new(reader));
                match read_capped(&mut decompressed, limit) {
                    Err(e) => self.error(path, format!("cannot decompress gzip: {e}")),
                    Ok(None) => self.error(path, format!("decompressed content exceeds the member cap of {limit} bytes")),
                    Ok(Some(content)) => self.text(path, path.rsplit('!').next().unwrap_or(path), &content),
                }
            }
        }
    }

    fn zip(&mut self, path: &str, reader: &mut dyn Read, depth: usize) {
        let limit = self.limits.max_member_bytes;
        let bytes = match read_capped(reader, limit) {
            Err(e) => return self.error(path, format!("cannot read zip: {e}")),
            Ok(None) => return self.error(path, format!("zip larger than the member cap of {limit} bytes, not opened")),
            Ok(Some(bytes)) => bytes,
        };
        let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(zip) => zip,
            Err(e) => return self.error(path, format!("not a readable zip: {e}")),
        };
        for index in 0..zip.len() {
            if !self.admit_entry(path) {
                return;
            }
            let mut entry = match zip.by_index(index) {
                Ok(entry) => entry,
                Err(e) => {
                    self.error(path, format!("entry {index}: {e}"));
                    continue;
                }
            };
            if entry.is_dir() {
                continue;
            }
            let inner = clean_path(&String::from_utf8_lossy(entry.name_raw()));
            let full = format!("{path}!{inner}");
            let (declared, compressed) = (entry.size(), entry.compressed_size());
            if declared > limit {
                self.error(&full, format!("declared size {declared} exceeds the member cap of {limit} bytes"));
                continue;
            }
            if declared > compressed.max(1).saturating_mul(self.limits.max_ratio) {
                self.error(&full, format!("compression ratio {declared}:{compressed} exceeds {}:1", self.limits.max_ratio));
                continue;
            }
            let mut decompressed = self.counted(&mut entry);
            // A zip entry that fails to inflate does not affect the next one.
            self.member(&full, &inner, &mut decompressed, None, depth);
        }
    }

    fn tar(&mut self, path: &str, reader: &mut dyn Read, depth: usize) {
        let mut archive = tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(e) => return self.error(path, format!("not a readable tar: {e}")),
        };
        for entry in entries {
            if !self.admit_entry(path) {
                return;
            }
            let mut entry = match entry {
                Ok(entry) => entry,
                // A tar stream cannot be resynchronized after a bad header or a short read.
                Err(e) => return self.error(path, format!("truncated or corrupt tar: {e}")),
            };
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let inner = clean_path(&String::from_utf8_lossy(&entry.path_bytes()));
            let full = format!("{path}!{inner}");
            let declared = entry.size();
            if declared > self.limits.max_member_bytes {
                self.error(&full, format!("declared size {declared} exceeds the member cap of {} bytes", self.limits.max_member_bytes));
                continue;
            }
            if !self.member(&full, &inner, &mut entry, Some(declared), depth) {
                // A tar stream cannot go on after a failed read.
                return;
            }
        }
    }

    /// A member of an archive at `depth`: a nested archive to open, or text to visit. `false`
    /// when reading it failed (it is named in the errors). `declared`: the size its header
    /// gives, when the reader does not check it itself (tar ends a short entry silently).
    fn member(&mut self, full: &str, inner: &str, reader: &mut dyn Read, declared: Option<u64>, depth: usize) -> bool {
        let limit = self.limits.max_member_bytes;
        let bytes = match read_capped(reader, limit) {
            Err(e) => {
                self.error(full, format!("cannot read member: {e}"));
                return false;
            }
            Ok(None) => {
                self.error(full, format!("member larger than the cap of {limit} bytes"));
                return true;
            }
            Ok(Some(bytes)) => bytes,
        };
        if let Some(declared) = declared.filter(|&d| d > bytes.len() as u64) {
            self.error(full, format!("truncated: {} of {declared} bytes", bytes.len()));
            return false;
        }
        match looks_like_archive(inner, &bytes) {
            Some(_) if depth + 1 > self.limits.max_depth => self.report.skipped.push((full.to_string(), SkipReason::Depth)),
            Some(kind) => self.archive(full, kind, &mut bytes.as_slice(), depth + 1),
            None => self.text(full, inner, &bytes),
        }
        true
    }

    fn text(&mut self, full: &str, inner: &str, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if is_binary(&bytes[..bytes.len().min(BINARY_SNIFF_BYTES)]) {
            self.report.skipped.push((full.to_string(), SkipReason::Binary));
            return;
        }
        self.report.visited += 1;
        (self.visit)(Member { name: full, inner, bytes });
    }
}

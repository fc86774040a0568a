//! RPM header blobs, as rpm stores them in its database.
//!
//! A stored header is `il` (u32, big-endian: number of index entries), `dl` (u32: length of the
//! data store), `il` index entries of 16 bytes (tag, type, offset into the data store, count),
//! then the data store. The first entry of a modern header is a *region tag* (for installed
//! packages `HEADERIMMUTABLE`, 63) whose data is a 16-byte trailer marking which entries came
//! from the package file; entries after the region were added at install time.
//!
//! The blob is verified as rpm verifies it before use: known types, aligned offsets inside the
//! data store, data that fits and does not overlap the previous entry's, a consistent region.
//! The non-overlap rule also bounds the work: every data byte is scanned at most once.

use crate::RpmPackage;
use crate::bytes::{Endian, slice};

/// A header blob that cannot be parsed: where in the blob and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("blob offset {offset}: {problem}")]
pub struct HeaderError {
    /// Byte offset from the start of the blob (the `il` field is offset 0).
    pub offset: usize,
    /// What is wrong.
    pub problem: String,
}

fn error(offset: usize, problem: impl Into<String>) -> HeaderError {
    HeaderError { offset, problem: problem.into() }
}

const TAG_HEADER_IMAGE: u32 = 61;
const TAG_HEADER_IMMUTABLE: u32 = 63;
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_SIZE: u32 = 1009;
const TAG_VENDOR: u32 = 1011;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_OLD_FILENAMES: u32 = 1027;
const TAG_SOURCE_RPM: u32 = 1044;
const TAG_DIR_INDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIR_NAMES: u32 = 1118;
const TAG_LONG_SIZE: u32 = 5009;
const TAG_MODULARITY_LABEL: u32 = 5096;

/// The tags an [`RpmPackage`] is built from; other entries are verified but not decoded.
const WANTED_TAGS: [u32; 15] = [
    TAG_NAME,
    TAG_VERSION,
    TAG_RELEASE,
    TAG_EPOCH,
    TAG_SIZE,
    TAG_VENDOR,
    TAG_LICENSE,
    TAG_ARCH,
    TAG_OLD_FILENAMES,
    TAG_SOURCE_RPM,
    TAG_DIR_INDEXES,
    TAG_BASENAMES,
    TAG_DIR_NAMES,
    TAG_LONG_SIZE,
    TAG_MODULARITY_LABEL,
];

const TYPE_NULL: u32 = 0;
const TYPE_CHAR: u32 = 1;
const TYPE_INT8: u32 = 2;
const TYPE_INT16: u32 = 3;
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_BIN: u32 = 7;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18N_STRING: u32 = 9;

/// rpm refuses headers with 65536 or more entries or a data store of 16 MiB or more.
const MAX_INDEX_ENTRIES: u32 = 0xffff;
const MAX_DATA_LEN: u32 = 0x00ff_ffff;
const INTRO_LEN: usize = 8;
const ENTRY_LEN: usize = 16;
/// A file list is built from shared directory names, so it can be longer than the header that
/// encodes it; real headers spend far more than 1/16 of a path's length on each file (digest,
/// mode, size, owner), so a list longer than this is hostile.
const MAX_FILE_LIST_BYTES_PER_BLOB_BYTE: usize = 16;

/// One verified index entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Index of the entry (for messages).
    position: usize,
    tag: u32,
    kind: u32,
    /// Offset into the data store; verified to lie inside it.
    offset: usize,
    count: usize,
}

/// A verified header: its data store and the wanted entries (the last one wins when a tag
/// appears twice, as rpm lets install-time entries replace region entries).
struct Header<'a> {
    data: &'a [u8],
    /// Byte offset of the data store in the blob (for messages).
    data_start: usize,
    wanted: Vec<Entry>,
}

/// A parsed header: the package, and what was wrong with its file list, if anything.
///
/// A damaged file list does not hide the package (rpm itself lists such packages), so the
/// package keeps an empty `files` and the problem is reported beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedHeader {
    /// The package; `files` is empty when `file_list_error` is set.
    pub package: RpmPackage,
    /// Why the file list (`BASENAMES`, `DIRNAMES`, `DIRINDEXES` or `OLDFILENAMES`) could not be built.
    pub file_list_error: Option<HeaderError>,
}

/// Parses a stored RPM header blob into the package it describes.
///
/// Errors name the blob offset and the problem: a truncated blob, an index entry whose data
/// lies outside the data store or overlaps another's, a bad region, a tag of the wrong type, or
/// a missing `NAME`, `VERSION` or `RELEASE`. A bad file list (directory indexes past
/// `DIRNAMES`, mismatched counts) is reported in [`ParsedHeader::file_list_error`] instead.
pub fn parse_header(blob: &[u8]) -> Result<ParsedHeader, HeaderError> {
    let header = Header::parse(blob)?;
    let (files, file_list_error) = match header.files(blob.len().saturating_mul(MAX_FILE_LIST_BYTES_PER_BLOB_BYTE)) {
        Ok(files) => (files, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    let package = RpmPackage {
        name: header.required_string(TAG_NAME, "NAME")?,
        epoch: header.first_u32(TAG_EPOCH)?,
        version: header.required_string(TAG_VERSION, "VERSION")?,
        release: header.required_string(TAG_RELEASE, "RELEASE")?,
        arch: header.string(TAG_ARCH)?,
        source_rpm: header.string(TAG_SOURCE_RPM)?,
        license: header.string(TAG_LICENSE)?,
        vendor: header.string(TAG_VENDOR)?,
        size: match header.first_u64(TAG_LONG_SIZE)? {
            Some(size) => size,
            None => header.first_u32(TAG_SIZE)?.map_or(0, u64::from),
        },
        files,
        modularity_label: header.string(TAG_MODULARITY_LABEL)?,
    };
    Ok(ParsedHeader { package, file_list_error })
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, HeaderError> {
        let (Some(index_count), Some(data_len)) = (Endian::Big.u32(blob, 0), Endian::Big.u32(blob, 4)) else {
            return Err(error(0, format!("blob of {} bytes is shorter than the 8-byte header intro", blob.len())));
        };
        if index_count == 0 || index_count > MAX_INDEX_ENTRIES {
            return Err(error(0, format!("{index_count} index entries (rpm allows 1 to {MAX_INDEX_ENTRIES})")));
        }
        if data_len > MAX_DATA_LEN {
            return Err(error(4, format!("data store of {data_len} bytes (rpm allows less than 16 MiB)")));
        }
        let (index_count, data_len) = (index_count as usize, data_len as usize);
        let data_start = INTRO_LEN + index_count * ENTRY_LEN;
        let expected_len = data_start + data_len;
        if blob.len() != expected_len {
            return Err(error(0, format!("blob is {} bytes but {index_count} index entries and a data store of {data_len} bytes make {expected_len}", blob.len())));
        }
        let index = &blob[INTRO_LEN..data_start];
        let data = &blob[data_start..];
        let raw_entry = |position: usize| {
            let at = position * ENTRY_LEN;
            let field = |n: usize| Endian::Big.u32(index, at + 4 * n).unwrap_or_default();
            (field(0), field(1), field(2), field(3))
        };

        let region = verify_region(raw_entry(0), index_count, data)?;
        let first_checked = usize::from(region.is_some());
        let mut wanted = Vec::new();
        let mut previous_end = 0usize;
        for position in first_checked..index_count {
            let (tag, kind, offset, count) = raw_entry(position);
            let entry_offset = INTRO_LEN + position * ENTRY_LEN;
            let entry_error = |problem: String| error(entry_offset, format!("index entry {position} (tag {tag}, type {kind}, offset {offset}, count {count}): {problem}"));
            let offset = offset as usize;
            if offset < previous_end {
                return Err(entry_error(format!("data overlaps the previous entry's, which ends at {previous_end}")));
            }
            if kind > TYPE_I18N_STRING {
                return Err(entry_error("unknown type".into()));
            }
            if count == 0 || count as usize > data_len {
                return Err(entry_error(format!("count outside 1..={data_len}")));
            }
            if offset >= data_len {
                return Err(entry_error(format!("offset outside the {data_len}-byte data store")));
            }
            if offset % alignment(kind) != 0 {
                return Err(entry_error(format!("offset not aligned to {} bytes", alignment(kind))));
            }
            let count = count as usize;
            let len = data_length(kind, &data[offset..], count).ok_or_else(|| entry_error("data runs past the end of the data store".into()))?;
            previous_end = offset + len;
            if let Some(region_data_end) = region
                && offset < region_data_end
                && previous_end > region_data_end - ENTRY_LEN
            {
                return Err(entry_error("data overlaps the region trailer".into()));
            }
            if WANTED_TAGS.contains(&tag) {
                wanted.retain(|entry: &Entry| entry.tag != tag);
                wanted.push(Entry { position, tag, kind, offset, count });
            }
        }
        Ok(Header { data, data_start, wanted })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.wanted.iter().find(|entry| entry.tag == tag)
    }

    fn type_error(&self, entry: &Entry, expected: &str) -> HeaderError {
        error(INTRO_LEN + entry.position * ENTRY_LEN, format!("index entry {} (tag {}) has type {}, expected {expected}", entry.position, entry.tag, entry.kind))
    }

    /// The first string of a STRING, STRING_ARRAY or I18NSTRING entry.
    fn string(&self, tag: u32) -> Result<Option<String>, HeaderError> {
        let Some(entry) = self.entry(tag) else { return Ok(None) };
        if !matches!(entry.kind, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18N_STRING) {
            return Err(self.type_error(entry, "a string"));
        }
        Ok(self.strings(entry).next())
    }

    fn required_string(&self, tag: u32, name: &str) -> Result<String, HeaderError> {
        self.string(tag)?.ok_or_else(|| error(0, format!("no {name} tag ({tag})")))
    }

    /// The `count` NUL-terminated strings of a verified string entry.
    fn strings(&self, entry: &Entry) -> impl Iterator<Item = String> + '_ {
        self.data[entry.offset..].split(|&byte| byte == 0).take(entry.count).map(|raw| String::from_utf8_lossy(raw).into_owned())
    }

    fn u32s(&self, entry: &Entry) -> Result<Vec<u32>, HeaderError> {
        if entry.kind != TYPE_INT32 {
            return Err(self.type_error(entry, "INT32"));
        }
        (0..entry.count)
            .map(|n| {
                let at = entry.offset + 4 * n;
                Endian::Big.u32(self.data, at).ok_or_else(|| error(self.data_start + at, "INT32 past the data store"))
            })
            .collect()
    }

    fn first_u32(&self, tag: u32) -> Result<Option<u32>, HeaderError> {
        let Some(entry) = self.entry(tag) else { return Ok(None) };
        if entry.kind != TYPE_INT32 {
            return Err(self.type_error(entry, "INT32"));
        }
        Ok(Endian::Big.u32(self.data, entry.offset))
    }

    fn first_u64(&self, tag: u32) -> Result<Option<u64>, HeaderError> {
        let Some(entry) = self.entry(tag) else { return Ok(None) };
        if entry.kind != TYPE_INT64 {
            return Err(self.type_error(entry, "INT64"));
        }
        Ok(slice(self.data, entry.offset, 8).and_then(|raw| raw.try_into().ok()).map(u64::from_be_bytes))
    }

    /// The package's file paths; their total length is capped at `max_bytes`.
    fn files(&self, max_bytes: usize) -> Result<Vec<String>, HeaderError> {
        let mut total = 0usize;
        let mut add = |files: &mut Vec<String>, path: String| {
            total = total.saturating_add(path.len());
            if total > max_bytes {
                return Err(error(0, format!("file list longer than {max_bytes} bytes")));
            }
            files.push(path);
            Ok(())
        };
        let mut files = Vec::new();
        let Some(basenames) = self.entry(TAG_BASENAMES) else {
            if let Some(old_names) = self.entry(TAG_OLD_FILENAMES) {
                if old_names.kind != TYPE_STRING_ARRAY {
                    return Err(self.type_error(old_names, "STRING_ARRAY"));
                }
                for path in self.strings(old_names) {
                    add(&mut files, path)?;
                }
            }
            return Ok(files);
        };
        let (Some(dir_names), Some(dir_indexes)) = (self.entry(TAG_DIR_NAMES), self.entry(TAG_DIR_INDEXES)) else {
            return Err(error(0, "BASENAMES without DIRNAMES and DIRINDEXES"));
        };
        for entry in [basenames, dir_names] {
            if entry.kind != TYPE_STRING_ARRAY {
                return Err(self.type_error(entry, "STRING_ARRAY"));
            }
        }
        let dir_names: Vec<String> = self.strings(dir_names).collect();
        let dir_indexes = self.u32s(dir_indexes)?;
        if dir_indexes.len() != basenames.count {
            return Err(error(0, format!("{} BASENAMES but {} DIRINDEXES", basenames.count, dir_indexes.len())));
        }
        for (n, (basename, dir_index)) in self.strings(basenames).zip(dir_indexes).enumerate() {
            let Some(dir_name) = dir_names.get(dir_index as usize) else {
                return Err(error(0, format!("DIRINDEXES[{n}] is {dir_index} but there are {} DIRNAMES", dir_names.len())));
            };
            add(&mut files, format!("{dir_name}{basename}"))?;
        }
        Ok(files)
    }
}

/// Verifies the region entry, if the header has one, and returns where the region's data ends
/// (just after its 16-byte trailer). Headers whose first tag is not a region tag predate regions.
fn verify_region((tag, kind, offset, count): (u32, u32, u32, u32), index_count: usize, data: &[u8]) -> Result<Option<usize>, HeaderError> {
    if !(TAG_HEADER_IMAGE..=TAG_HEADER_IMMUTABLE).contains(&tag) {
        return Ok(None);
    }
    let region_error = |problem: String| error(INTRO_LEN, format!("region tag {tag}: {problem}"));
    if kind != TYPE_BIN || count as usize != ENTRY_LEN {
        return Err(region_error(format!("type {kind} count {count}, expected BIN of {ENTRY_LEN} bytes")));
    }
    let trailer_start = offset as usize;
    let Some(trailer) = slice(data, trailer_start, ENTRY_LEN) else {
        return Err(region_error(format!("trailer at data offset {trailer_start} lies outside the {}-byte data store", data.len())));
    };
    let trailer_tag = Endian::Big.u32(trailer, 0).unwrap_or_default();
    let trailer_offset = Endian::Big.u32(trailer, 8).unwrap_or_default() as i32;
    if !(TAG_HEADER_IMAGE..=TAG_HEADER_IMMUTABLE).contains(&trailer_tag) {
        return Err(region_error(format!("trailer has tag {trailer_tag}")));
    }
    let region_entries = trailer_offset.checked_neg().filter(|len| *len > 0 && *len as usize % ENTRY_LEN == 0).map(|len| len as usize / ENTRY_LEN);
    match region_entries {
        Some(entries) if entries <= index_count => Ok(Some(trailer_start + ENTRY_LEN)),
        _ => Err(region_error(format!("trailer offset {trailer_offset} does not cover 1..={index_count} entries"))),
    }
}

fn alignment(kind: u32) -> usize {
    match kind {
        TYPE_INT16 => 2,
        TYPE_INT32 => 4,
        TYPE_INT64 => 8,
        _ => 1,
    }
}

/// Length of `count` values of type `kind` at the start of `data`, or `None` when they do not fit
/// (strings must end with a NUL inside `data`).
fn data_length(kind: u32, data: &[u8], count: usize) -> Option<usize> {
    let fixed = |width: usize| count.checked_mul(width).filter(|len| *len <= data.len());
    match kind {
        TYPE_NULL => Some(0),
        TYPE_CHAR | TYPE_INT8 | TYPE_BIN => fixed(1),
        TYPE_INT16 => fixed(2),
        TYPE_INT32 => fixed(4),
        TYPE_INT64 => fixed(8),
        TYPE_STRING if count != 1 => None,
        TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18N_STRING => {
            let mut len = 0usize;
            for _ in 0..count {
                let terminator = data.get(len..)?.iter().position(|&byte| byte == 0)?;
                len += terminator + 1;
            }
            Some(len)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds header blobs the way rpm lays them out: entries in order, each value aligned for
    /// its type, an optional region whose trailer follows the region's data.
    #[derive(Default)]
    struct Builder {
        entries: Vec<[u32; 4]>,
        data: Vec<u8>,
    }

    impl Builder {
        fn with_region() -> Self {
            Builder { entries: vec![[TAG_HEADER_IMMUTABLE, TYPE_BIN, 0, ENTRY_LEN as u32]], data: Vec::new() }
        }

        fn add(mut self, tag: u32, kind: u32, count: u32, value: &[u8]) -> Self {
            while self.data.len() % alignment(kind) != 0 {
                self.data.push(0);
            }
            self.entries.push([tag, kind, self.data.len() as u32, count]);
            self.data.extend_from_slice(value);
            self
        }

        fn string(self, tag: u32, value: &str) -> Self {
            self.add(tag, TYPE_STRING, 1, format!("{value}\0").as_bytes())
        }

        fn strings(self, tag: u32, values: &[&str]) -> Self {
            let joined: String = values.iter().map(|value| format!("{value}\0")).collect();
            self.add(tag, TYPE_STRING_ARRAY, values.len() as u32, joined.as_bytes())
        }

        fn u32s(self, tag: u32, values: &[u32]) -> Self {
            let bytes: Vec<u8> = values.iter().flat_map(|value| value.to_be_bytes()).collect();
            self.add(tag, TYPE_INT32, values.len() as u32, &bytes)
        }

        fn nevr(self, name: &str) -> Self {
            self.string(TAG_NAME, name).string(TAG_VERSION, "1.0").string(TAG_RELEASE, "1")
        }

        /// Ends the region: entries added later are install-time ("dribble") entries.
        fn seal_region(mut self) -> Self {
            let region_entries = self.entries.len() as i32;
            self.entries[0][2] = self.data.len() as u32;
            for field in [TAG_HEADER_IMMUTABLE, TYPE_BIN, (-region_entries * ENTRY_LEN as i32) as u32, ENTRY_LEN as u32] {
                self.data.extend_from_slice(&field.to_be_bytes());
            }
            self
        }

        fn finish(self) -> Vec<u8> {
            let mut blob = Vec::new();
            blob.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
            blob.extend_from_slice(&(self.data.len() as u32).to_be_bytes());
            for entry in &self.entries {
                for field in entry {
                    blob.extend_from_slice(&field.to_be_bytes());
                }
            }
            blob.extend_from_slice(&self.data);
            blob
        }
    }

    fn problem(blob: &[u8]) -> String {
        parse_header(blob).expect_err("header must be rejected").problem
    }

    #[test]
    fn minimal_header_without_region_has_only_nevr() {
        let parsed = parse_header(&Builder::default().nevr("tiny").finish()).expect("parses");
        assert_eq!(parsed.package, RpmPackage { name: "tiny".into(), version: "1.0".into(), release: "1".into(), ..RpmPackage::default() });
        assert_eq!(parsed.file_list_error, None);
    }

    #[test]
    fn install_time_entry_after_the_region_replaces_the_region_one() {
        let blob = Builder::with_region().nevr("pkg").string(TAG_ARCH, "x86_64").u32s(TAG_EPOCH, &[1]).seal_region().u32s(TAG_EPOCH, &[2]).finish();
        let package = parse_header(&blob).expect("parses").package;
        assert_eq!((package.epoch, package.arch.as_deref()), (Some(2), Some("x86_64")));
    }

    #[test]
    fn file_list_comes_from_compressed_names_or_old_file_names_and_size_prefers_long_size() {
        let compressed = Builder::default()
            .nevr("pkg")
            .u32s(TAG_SIZE, &[10])
            .add(TAG_LONG_SIZE, TYPE_INT64, 1, &5_000_000_000u64.to_be_bytes())
            .u32s(TAG_DIR_INDEXES, &[0, 1, 1])
            .strings(TAG_BASENAMES, &["etc", "a", "b"])
            .strings(TAG_DIR_NAMES, &["/", "/etc/"])
            .finish();
        let package = parse_header(&compressed).expect("parses").package;
        assert_eq!(package.files, ["/etc", "/etc/a", "/etc/b"]);
        assert_eq!(package.size, 5_000_000_000);
        let old = Builder::default().nevr("pkg").u32s(TAG_SIZE, &[10]).strings(TAG_OLD_FILENAMES, &["/bin/sh"]).finish();
        let package = parse_header(&old).expect("parses").package;
        assert_eq!((package.files.as_slice(), package.size), (["/bin/sh".to_owned()].as_slice(), 10));
    }

    #[test]
    fn file_list_that_would_balloon_is_refused_but_the_package_is_kept() {
        // One 60 000-byte directory shared by 20 000 one-letter files: 1.2 GB of paths from a 160 KB header.
        let long_dir = format!("/{}/", "d".repeat(59_998));
        let names = vec!["f"; 20_000];
        let blob = Builder::default().nevr("bomb").strings(TAG_DIR_NAMES, &[&long_dir]).u32s(TAG_DIR_INDEXES, &vec![0; names.len()]).strings(TAG_BASENAMES, &names).finish();
        let parsed = parse_header(&blob).expect("parses");
        assert!(parsed.package.files.is_empty());
        assert!(parsed.file_list_error.expect("refused").problem.starts_with("file list longer than"));
    }

    #[test]
    fn malformed_headers_are_refused_with_the_entry_and_problem() {
        assert_eq!(problem(&[0, 0, 0]), "blob of 3 bytes is shorter than the 8-byte header intro");
        assert_eq!(problem(&[0, 1, 0, 0, 0, 0, 0, 0]), "65536 index entries (rpm allows 1 to 65535)");
        assert_eq!(problem(&[0, 0, 0, 1, 1, 0, 0, 0]), "data store of 16777216 bytes (rpm allows less than 16 MiB)");
        let mut extra = Builder::default().nevr("x").finish();
        extra.push(0);
        assert_eq!(problem(&extra), "blob is 65 bytes but 3 index entries and a data store of 8 bytes make 64");
        assert_eq!(problem(&Builder::default().string(TAG_VERSION, "1").string(TAG_RELEASE, "1").finish()), "no NAME tag (1000)");
        assert_eq!(problem(&Builder::default().u32s(TAG_NAME, &[1]).finish()), "index entry 0 (tag 1000) has type 4, expected a string");
        assert_eq!(problem(&Builder::default().nevr("x").add(1004, 42, 1, b"?").finish()), "index entry 3 (tag 1004, type 42, offset 8, count 1): unknown type");
        assert_eq!(problem(&Builder::default().nevr("x").add(1004, TYPE_STRING, 2, b"a\0").finish()), "index entry 3 (tag 1004, type 6, offset 8, count 2): data runs past the end of the data store");
        assert_eq!(problem(&Builder::default().nevr("x").add(1004, TYPE_STRING, 1, b"unterminated").finish()), "index entry 3 (tag 1004, type 6, offset 8, count 1): data runs past the end of the data store");

        let mut overlapping = Builder::default().nevr("x");
        overlapping.entries[1][2] = 0; // VERSION now points at NAME's bytes
        assert_eq!(problem(&overlapping.finish()), "index entry 1 (tag 1001, type 6, offset 0, count 1): data overlaps the previous entry's, which ends at 2");
        let mut misaligned = Builder::default().nevr("x").u32s(TAG_EPOCH, &[1]);
        misaligned.entries[3][2] += 1; // from 8 to 9
        misaligned.data.push(0);
        assert_eq!(problem(&misaligned.finish()), "index entry 3 (tag 1003, type 4, offset 9, count 1): offset not aligned to 4 bytes");
        let mut bad_dir_index = Builder::default().nevr("x").u32s(TAG_DIR_INDEXES, &[3]).strings(TAG_BASENAMES, &["a"]).strings(TAG_DIR_NAMES, &["/"]).finish();
        let parsed = parse_header(&bad_dir_index).expect("package kept");
        assert_eq!(parsed.file_list_error.expect("file list refused").problem, "DIRINDEXES[0] is 3 but there are 1 DIRNAMES");
        bad_dir_index.truncate(8);
        assert!(parse_header(&bad_dir_index).is_err());
    }

    #[test]
    fn region_trailer_must_be_inside_the_data_and_cover_the_entries() {
        let mut past_end = Builder::with_region().nevr("x").seal_region();
        past_end.entries[0][2] = 1000;
        assert_eq!(problem(&past_end.finish()), "region tag 63: trailer at data offset 1000 lies outside the 24-byte data store");
        let mut too_many = Builder::with_region().nevr("x").seal_region();
        let trailer_at = too_many.data.len() - 8;
        too_many.data[trailer_at..trailer_at + 4].copy_from_slice(&(-(5 * ENTRY_LEN as i32)).to_be_bytes());
        assert_eq!(problem(&too_many.finish()), "region tag 63: trailer offset -80 does not cover 1..=4 entries");
        let mut overlapping_trailer = Builder::with_region().nevr("x").seal_region().string(1004, "summary");
        overlapping_trailer.entries[4][2] -= 4;
        assert_eq!(problem(&overlapping_trailer.finish()), "index entry 4 (tag 1004, type 6, offset 20, count 1): data overlaps the region trailer");
    }
}

//! One partition of the on-disk index: the records of one source (an imported directory or
//! zip, or one ecosystem's downloaded `all.zip`) in a file a scan opens without reading it.
//!
//! Layout (integers little-endian; offsets absolute):
//! ```text
//! header   "PALOSVIX", u32 format, u32 key count, u64 strings at, u64 postings at, u64 keys at, u64 file length
//! records  each advisory once, as compact JSON (`details` cut to DETAILS_BYTES), raw-deflated
//! strings  each key's ecosystem then normalized name, UTF-8
//! postings per key, its records: u64 offset, u32 length
//! keys     sorted by (ecosystem, name) bytes: u64 string at, u32 ecosystem length, u32 name length, u32 first posting, u32 postings
//! ```
//! Opening reads the header; the first lookup reads strings, postings and keys (a few bytes per
//! package name); each lookup then reads only its own records.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;

use crate::error::DbError;
use crate::model::Advisory;
use crate::source::read_at;

const MAGIC: &[u8; 8] = b"PALOSVIX";
/// Bumped whenever the layout or the record encoding changes: an index of another format is
/// refused with a request to rebuild it.
pub const FORMAT: u32 = 1;
const HEADER_BYTES: u64 = 48;
const KEY_BYTES: usize = 24;
const POSTING_BYTES: usize = 12;
/// `details` longer than this is cut (at a character boundary, marked with `…`): the summary,
/// ids and links are what a report shows; the full text is one click away.
pub const DETAILS_BYTES: usize = 1024;

/// The record as stored: compact JSON, `details` cut, deflated at the fastest level (JSON
/// shrinks about 3×; inflating one record on lookup takes microseconds).
pub(crate) fn encode(advisory: &mut Advisory) -> Vec<u8> {
    if advisory.details.len() > DETAILS_BYTES {
        let mut cut = DETAILS_BYTES;
        while !advisory.details.is_char_boundary(cut) {
            cut -= 1;
        }
        advisory.details.truncate(cut);
        advisory.details.push('…');
    }
    let json = serde_json::to_vec(advisory).expect("an advisory always serializes");
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(json.len() / 2), Compression::fast());
    encoder.write_all(&json).and_then(|()| encoder.finish()).expect("deflating into memory cannot fail")
}

fn decode(bytes: &[u8]) -> Result<Advisory, String> {
    let mut json = Vec::with_capacity(bytes.len() * 4);
    DeflateDecoder::new(bytes).take(crate::source::MAX_RECORD_BYTES).read_to_end(&mut json).map_err(|error| error.to_string())?;
    serde_json::from_slice(&json).map_err(|error| error.to_string())
}

/// Writes a partition to a temporary file, records first as they come, the key table at the end.
pub(crate) struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    position: u64,
    ecosystems: Vec<String>,
    /// (ecosystem index, normalized name, record offset, record length) per key of each record.
    postings: Vec<(u32, Box<str>, u64, u32)>,
}

impl Writer {
    pub(crate) fn create(path: &Path) -> Result<Writer, DbError> {
        let file = File::create(path).map_err(|error| DbError::io(path, error))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&[0; HEADER_BYTES as usize]).map_err(|error| DbError::io(path, error))?;
        Ok(Writer { path: path.to_owned(), out, position: HEADER_BYTES, ecosystems: Vec::new(), postings: Vec::new() })
    }

    /// Adds one encoded record under its keys (ecosystem, normalized name).
    pub(crate) fn add(&mut self, record: &[u8], keys: &[(String, String)]) -> Result<(), DbError> {
        let length = u32::try_from(record.len()).map_err(|_| DbError::io(&self.path, "a record larger than 4 GiB"))?;
        self.out.write_all(record).map_err(|error| DbError::io(&self.path, error))?;
        for (ecosystem, name) in keys {
            let index = match self.ecosystems.iter().position(|known| known == ecosystem) {
                Some(index) => index,
                None => {
                    self.ecosystems.push(ecosystem.clone());
                    self.ecosystems.len() - 1
                }
            };
            self.postings.push((index as u32, name.as_str().into(), self.position, length));
        }
        self.position += record.len() as u64;
        Ok(())
    }

    /// Writes the tables and the header; returns the file's size.
    pub(crate) fn finish(mut self) -> Result<u64, DbError> {
        let ecosystems = std::mem::take(&mut self.ecosystems);
        let mut postings = std::mem::take(&mut self.postings);
        postings.sort_unstable_by(|a, b| (ecosystems[a.0 as usize].as_bytes(), a.1.as_bytes(), a.2).cmp(&(ecosystems[b.0 as usize].as_bytes(), b.1.as_bytes(), b.2)));
        postings.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2);
        let mut strings = Vec::new();
        let mut posting_table = Vec::with_capacity(postings.len() * POSTING_BYTES);
        let mut keys = Vec::new();
        let strings_at = self.position;
        let mut start = 0;
        while start < postings.len() {
            let (ecosystem, name) = (&ecosystems[postings[start].0 as usize], &postings[start].1);
            let end = start + postings[start..].iter().take_while(|posting| &ecosystems[posting.0 as usize] == ecosystem && &posting.1 == name).count();
            keys.extend_from_slice(&(strings_at + strings.len() as u64).to_le_bytes());
            keys.extend_from_slice(&(ecosystem.len() as u32).to_le_bytes());
            keys.extend_from_slice(&(name.len() as u32).to_le_bytes());
            keys.extend_from_slice(&(start as u32).to_le_bytes());
            keys.extend_from_slice(&((end - start) as u32).to_le_bytes());
            strings.extend_from_slice(ecosystem.as_bytes());
            strings.extend_from_slice(name.as_bytes());
            for posting in &postings[start..end] {
                posting_table.extend_from_slice(&posting.2.to_le_bytes());
                posting_table.extend_from_slice(&posting.3.to_le_bytes());
            }
            start = end;
        }
        let postings_at = strings_at + strings.len() as u64;
        let keys_at = postings_at + posting_table.len() as u64;
        let length = keys_at + keys.len() as u64;
        let key_count = (keys.len() / KEY_BYTES) as u32;
        let path = self.path.clone();
        let io = |error: std::io::Error| DbError::io(&path, error);
        for part in [&strings, &posting_table, &keys] {
            self.out.write_all(part).map_err(io)?;
        }
        let mut header = Vec::with_capacity(HEADER_BYTES as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT.to_le_bytes());
        header.extend_from_slice(&key_count.to_le_bytes());
        for value in [strings_at, postings_at, keys_at, length] {
            header.extend_from_slice(&value.to_le_bytes());
        }
        let mut file = self.out.into_inner().map_err(|error| io(error.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&header).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(length)
    }
}

/// An opened partition.
pub(crate) struct Partition {
    path: PathBuf,
    file: File,
    key_count: usize,
    strings_at: u64,
    postings_at: u64,
    keys_at: u64,
    /// Strings, postings and keys, read on the first lookup.
    tables: OnceLock<Result<Vec<u8>, String>>,
    /// Records already decoded, by offset: a record under several names is decoded once.
    decoded: Mutex<HashMap<u64, Arc<Advisory>>>,
}

impl Partition {
    pub(crate) fn open(path: &Path) -> Result<Partition, DbError> {
        let file = File::open(path).map_err(|error| DbError::io(path, error))?;
        let size = file.metadata().map_err(|error| DbError::io(path, error))?.len();
        let mut header = [0; HEADER_BYTES as usize];
        read_exact_at(&file, &mut header, 0).map_err(|_| DbError::Foreign { path: path.to_owned(), reason: format!("{size} bytes, shorter than the header") })?;
        if &header[..8] != MAGIC {
            return Err(DbError::Foreign { path: path.to_owned(), reason: "no PALOSVIX header".to_owned() });
        }
        let word = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
        let long = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
        if word(8) != FORMAT {
            return Err(DbError::Stale { path: path.to_owned(), found: word(8), expected: FORMAT });
        }
        let (key_count, strings_at, postings_at, keys_at, length) = (word(12) as usize, long(16), long(24), long(32), long(40));
        let consistent = length == size && HEADER_BYTES <= strings_at && strings_at <= postings_at && postings_at <= keys_at && keys_at.checked_add((key_count * KEY_BYTES) as u64) == Some(length);
        if !consistent {
            return Err(DbError::corrupt(path, format!("the header's tables do not fit the file's {size} bytes (truncated or overwritten?)")));
        }
        Ok(Partition { path: path.to_owned(), file, key_count, strings_at, postings_at, keys_at, tables: OnceLock::new(), decoded: Mutex::new(HashMap::new()) })
    }

    fn tables(&self) -> Result<&[u8], DbError> {
        let tables = self.tables.get_or_init(|| {
            let mut bytes = vec![0; (self.keys_at + (self.key_count * KEY_BYTES) as u64 - self.strings_at) as usize];
            read_exact_at(&self.file, &mut bytes, self.strings_at).map_err(|error| error.to_string())?;
            Ok(bytes)
        });
        tables.as_deref().map_err(|error| DbError::io(&self.path, error))
    }

    /// The records under (ecosystem, normalized name).
    pub(crate) fn lookup(&self, ecosystem: &str, name: &str) -> Result<Vec<Arc<Advisory>>, DbError> {
        let tables = self.tables()?;
        let base = self.strings_at;
        let corrupt = |reason: &str| DbError::corrupt(&self.path, reason);
        let slice = |at: u64, length: u64| -> Result<&[u8], DbError> {
            let start = at.checked_sub(base).ok_or_else(|| corrupt("a table points before its area"))? as usize;
            tables.get(start..start + length as usize).ok_or_else(|| corrupt("a table points past the end of the file"))
        };
        let key = |index: usize| -> Result<(&[u8], &[u8], u32, u32), DbError> {
            let entry = slice(self.keys_at + (index * KEY_BYTES) as u64, KEY_BYTES as u64)?;
            let field = |at: usize| u32::from_le_bytes(entry[at..at + 4].try_into().expect("4 bytes"));
            let text_at = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
            let text = slice(text_at, u64::from(field(8)) + u64::from(field(12)))?;
            let (ecosystem, name) = text.split_at(field(8) as usize);
            Ok((ecosystem, name, field(16), field(20)))
        };
        let wanted = (ecosystem.as_bytes(), name.as_bytes());
        let (mut low, mut high) = (0, self.key_count);
        while low < high {
            let middle = (low + high) / 2;
            let (key_ecosystem, key_name, first, count) = key(middle)?;
            match (key_ecosystem, key_name).cmp(&wanted) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => {
                    let postings = slice(self.postings_at + u64::from(first) * POSTING_BYTES as u64, u64::from(count) * POSTING_BYTES as u64)?;
                    return postings
                        .chunks_exact(POSTING_BYTES)
                        .map(|posting| {
                            let offset = u64::from_le_bytes(posting[..8].try_into().expect("8 bytes"));
                            let length = u32::from_le_bytes(posting[8..].try_into().expect("4 bytes"));
                            self.record(offset, length)
                        })
                        .collect();
                }
            }
        }
        Ok(Vec::new())
    }

    fn record(&self, offset: u64, length: u32) -> Result<Arc<Advisory>, DbError> {
        if let Some(advisory) = self.decoded.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&offset) {
            return Ok(advisory.clone());
        }
        if offset < HEADER_BYTES || offset.checked_add(u64::from(length)).is_none_or(|end| end > self.strings_at) {
            return Err(DbError::corrupt(&self.path, format!("a record at {offset} (+{length}) lies outside the records area")));
        }
        let mut bytes = vec![0; length as usize];
        read_exact_at(&self.file, &mut bytes, offset).map_err(|error| DbError::io(&self.path, error))?;
        let advisory = decode(&bytes).map_err(|error| DbError::corrupt(&self.path, format!("the record at {offset} does not decode: {error}")))?;
        let advisory = Arc::new(advisory);
        self.decoded.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(offset, advisory.clone());
        Ok(advisory)
    }
}

fn read_exact_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buffer.is_empty() {
        match read_at(file, buffer, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            read => {
                buffer = &mut buffer[read..];
                offset += read as u64;
            }
        }
    }
    Ok(())
}

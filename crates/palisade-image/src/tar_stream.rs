//! A tar reader for untrusted streams: headers (ustar, GNU, PAX), long names, GNU sparse maps,
//! with every extension size capped and every error naming the byte offset.
//!
//! The `tar` crate reads GNU long names and PAX headers whole, whatever size the header claims,
//! and its raw mode ignores PAX sizes; layers come from anyone, so the headers are read here and
//! file data stays in the stream until someone asks for it.

use std::io::{self, Read};

const BLOCK: u64 = 512;
/// Sparse map entries kept for one file; real sparse files have a handful.
const MAX_SPARSE_CHUNKS: usize = 65_536;

/// What kind of filesystem object an entry makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryType {
    File,
    HardLink,
    Symlink,
    Directory,
    /// Devices, FIFOs and the rarer GNU types: they exist but hold no content.
    Other,
}

/// One entry's header, with long names and PAX records applied.
#[derive(Debug)]
pub(crate) struct TarEntry {
    pub path: Vec<u8>,
    pub link: Vec<u8>,
    pub kind: EntryType,
    /// Permission bits.
    pub mode: u32,
    /// Bytes of data stored in the archive after the header.
    pub stored_size: u64,
    /// The file's size: `stored_size`, except for sparse files.
    pub size: u64,
    /// GNU sparse map (offset, length) of the data chunks; the rest are holes.
    pub sparse: Option<Vec<(u64, u64)>>,
    /// Where the data starts in the (uncompressed) stream.
    pub data_offset: u64,
    /// Why the entry's name cannot be trusted (longer than the limit): the entry is passed over;
    /// the stream itself is still fine.
    pub path_problem: Option<String>,
    /// Why the entry's content cannot be read (an unsupported sparse format).
    pub content_problem: Option<String>,
}

/// The stream ended, or is not tar.
#[derive(Debug)]
pub(crate) enum TarError {
    Truncated { at: u64 },
    Invalid { at: u64, message: String },
    Read { at: u64, error: io::Error },
}

/// A stream that can pass over bytes; files seek, streams read and discard.
pub(crate) trait Skip: Read {
    /// Passes over up to `count` bytes and returns how many there were.
    fn skip(&mut self, count: u64) -> io::Result<u64> {
        io::copy(&mut self.take(count), &mut io::sink())
    }
}

/// A file read through a buffer whose skips seek.
pub(crate) struct SeekingFile {
    pub file: io::BufReader<std::fs::File>,
    pub position: u64,
    pub length: u64,
}

impl Read for SeekingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.file.read(buf)?;
        self.position += read as u64;
        Ok(read)
    }
}

impl Skip for SeekingFile {
    fn skip(&mut self, count: u64) -> io::Result<u64> {
        let count = count.min(self.length.saturating_sub(self.position));
        let offset = i64::try_from(count).map_err(io::Error::other)?;
        self.file.seek_relative(offset)?;
        self.position += count;
        Ok(count)
    }
}

impl<T: Skip + ?Sized> Skip for &mut T {
    fn skip(&mut self, count: u64) -> io::Result<u64> {
        (**self).skip(count)
    }
}

/// Reads entries one after the other; the data of an entry can be read (partly) before asking
/// for the next one, which passes over what is left.
pub(crate) struct TarReader<R> {
    inner: R,
    position: u64,
    data_left: u64,
    padding_left: u64,
    max_path: usize,
    max_extension: u64,
}

/// Fields gathered from extension headers for the next real entry.
#[derive(Default)]
struct Pending {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
    real_size: Option<u64>,
    pax_sparse: bool,
    path_problem: Option<String>,
}

impl<R: Skip> TarReader<R> {
    pub fn new(inner: R, max_path: usize, max_extension: u64) -> Self {
        Self { inner, position: 0, data_left: 0, padding_left: 0, max_path, max_extension }
    }

    /// The next entry, or `None` at the end-of-archive block or at a clean end of the stream.
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>, TarError> {
        let mut pending = Pending::default();
        loop {
            self.skip_rest()?;
            let header_offset = self.position;
            let mut header = [0u8; BLOCK as usize];
            if !self.fill(&mut header)? {
                return Ok(None);
            }
            if header.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            let invalid = |message: String| TarError::Invalid { at: header_offset, message };
            check_checksum(&header).map_err(invalid)?;
            let typeflag = header[156];
            let header_size = parse_number(&header[124..136]).map_err(|problem| invalid(format!("size field: {problem}")))?;
            match typeflag {
                b'L' | b'K' => {
                    let value = self.read_extension(header_size, self.max_path as u64 + 1)?;
                    let slot = if typeflag == b'L' { &mut pending.path } else { &mut pending.link };
                    match value {
                        Some(mut value) => {
                            while value.last() == Some(&0) {
                                value.pop();
                            }
                            *slot = Some(value);
                        }
                        None => pending.path_problem = Some(format!("GNU long {} of {header_size} bytes (limit {})", if typeflag == b'L' { "name" } else { "link" }, self.max_path)),
                    }
                    continue;
                }
                b'x' => {
                    let Some(records) = self.read_extension(header_size, self.max_extension)? else {
                        return Err(invalid(format!("PAX header of {header_size} bytes (limit {})", self.max_extension)));
                    };
                    apply_pax(&records, &mut pending, self.max_path).map_err(invalid)?;
                    continue;
                }
                b'g' => {
                    // Global PAX records set defaults (mostly a comment or mtime) that change
                    // nothing this reader keeps.
                    self.data_left = header_size;
                    self.padding_left = padding(header_size);
                    continue;
                }
                _ => {}
            }
            return self.finish_entry(&header, header_offset, header_size, pending).map(Some);
        }
    }

    fn finish_entry(&mut self, header: &[u8; 512], header_offset: u64, header_size: u64, pending: Pending) -> Result<TarEntry, TarError> {
        let invalid = |message: String| TarError::Invalid { at: header_offset, message };
        let typeflag = header[156];
        let ustar = &header[257..263] == b"ustar\0";
        let gnu = &header[257..265] == b"ustar  \0";
        let mut path = match pending.path {
            Some(path) => path,
            None => {
                let name = until_nul(&header[0..100]);
                let prefix = if ustar { until_nul(&header[345..500]) } else { &[] };
                let mut path = Vec::with_capacity(prefix.len() + 1 + name.len());
                if !prefix.is_empty() {
                    path.extend_from_slice(prefix);
                    path.push(b'/');
                }
                path.extend_from_slice(name);
                path
            }
        };
        let link = pending.link.unwrap_or_else(|| until_nul(&header[157..257]).to_vec());
        let mode = parse_number(&header[100..108]).map(|mode| (mode & 0o7777) as u32).unwrap_or(0o644);
        let stored_size = pending.size.unwrap_or(header_size);
        let mut kind = match typeflag {
            b'0' | b'7' | 0 | b'S' => EntryType::File,
            b'1' => EntryType::HardLink,
            b'2' => EntryType::Symlink,
            b'5' => EntryType::Directory,
            _ => EntryType::Other,
        };
        if typeflag == 0 && path.last() == Some(&b'/') {
            kind = EntryType::Directory;
        }
        let mut size = if matches!(kind, EntryType::File) { stored_size } else { 0 };
        let mut sparse = None;
        let mut path_problem = pending.path_problem;
        let mut content_problem = None;
        if typeflag == b'S' && gnu {
            let real = parse_number(&header[483..495]).map_err(|problem| invalid(format!("sparse real size: {problem}")))?;
            let mut chunks = Vec::new();
            push_sparse(&header[386..482], &mut chunks).map_err(invalid)?;
            let mut extended = header[482] != 0;
            while extended {
                let mut block = [0u8; BLOCK as usize];
                if !self.fill(&mut block)? {
                    return Err(TarError::Truncated { at: self.position });
                }
                push_sparse(&block[..504], &mut chunks).map_err(invalid)?;
                extended = block[504] != 0;
            }
            size = real;
            sparse = Some(chunks);
        } else if typeflag == b'S' {
            content_problem = Some("sparse entry without a GNU header: content not read".to_owned());
        }
        if pending.pax_sparse {
            size = pending.real_size.unwrap_or(stored_size);
            content_problem = Some("PAX sparse file (GNU.sparse records): content not read".to_owned());
        }
        if path.len() > self.max_path {
            path_problem.get_or_insert_with(|| format!("path of {} bytes (limit {})", path.len(), self.max_path));
            path.truncate(self.max_path);
        }
        self.data_left = stored_size;
        self.padding_left = padding(stored_size);
        Ok(TarEntry { path, link, kind, mode, stored_size, size, sparse, data_offset: self.position, path_problem, content_problem })
    }

    /// Reads from the current entry's data; 0 at its end.
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize, TarError> {
        if self.data_left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.data_left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..want]).map_err(|error| TarError::Read { at: self.position, error })?;
        if read == 0 {
            return Err(TarError::Truncated { at: self.position });
        }
        self.position += read as u64;
        self.data_left -= read as u64;
        Ok(read)
    }

    /// The current entry's data, at most `limit` bytes of it.
    pub fn read_content(&mut self, limit: u64) -> Result<Vec<u8>, TarError> {
        let length = self.data_left.min(limit);
        let mut content = vec![0u8; usize::try_from(length).map_err(|_| TarError::Invalid { at: self.position, message: "entry too large for memory".to_owned() })?];
        let mut filled = 0;
        while filled < content.len() {
            filled += self.read_data(&mut content[filled..])?;
        }
        Ok(content)
    }

    fn skip_rest(&mut self) -> Result<(), TarError> {
        let count = self.data_left + self.padding_left;
        if count > 0 {
            let skipped = self.inner.skip(count).map_err(|error| TarError::Read { at: self.position, error })?;
            self.position += skipped;
            if skipped < self.data_left {
                return Err(TarError::Truncated { at: self.position });
            }
            // A stream that ends in the padding of its last entry is still complete.
            self.data_left = 0;
            self.padding_left = 0;
        }
        Ok(())
    }

    /// Fills `block`; false at a clean end of the stream (no byte read).
    fn fill(&mut self, block: &mut [u8]) -> Result<bool, TarError> {
        let mut filled = 0;
        while filled < block.len() {
            let read = self.inner.read(&mut block[filled..]).map_err(|error| TarError::Read { at: self.position, error })?;
            if read == 0 {
                if filled == 0 {
                    return Ok(false);
                }
                return Err(TarError::Truncated { at: self.position });
            }
            filled += read;
            self.position += read as u64;
        }
        Ok(true)
    }

    /// An extension header's data when it is at most `limit` bytes; `None` (data passed over)
    /// when larger.
    fn read_extension(&mut self, size: u64, limit: u64) -> Result<Option<Vec<u8>>, TarError> {
        self.data_left = size;
        self.padding_left = padding(size);
        if size > limit {
            return Ok(None);
        }
        let content = self.read_content(size)?;
        Ok(Some(content))
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

fn until_nul(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

fn check_checksum(header: &[u8; 512]) -> Result<(), String> {
    let stored = parse_number(&header[148..156]).map_err(|problem| format!("checksum field: {problem}"))?;
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (at, &byte) in header.iter().enumerate() {
        let byte = if (148..156).contains(&at) { b' ' } else { byte };
        unsigned += u64::from(byte);
        signed += i64::from(byte as i8);
    }
    if stored == unsigned || i64::try_from(stored).is_ok_and(|stored| stored == signed) {
        Ok(())
    } else {
        Err(format!("header checksum mismatch (stored {stored}, computed {unsigned}): not a tar header"))
    }
}

/// Octal (space or NUL padded) or GNU base-256 numbers.
fn parse_number(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return Err("negative base-256 number".to_owned());
        }
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &byte in &field[1..] {
            value = value.checked_mul(256).and_then(|value| value.checked_add(u64::from(byte))).ok_or("base-256 number overflows 64 bits")?;
        }
        return Ok(value);
    }
    let text = field.iter().copied().skip_while(|&b| b == b' ' || b == 0).take_while(|&b| b != b' ' && b != 0);
    let mut value: u64 = 0;
    for byte in text {
        if !(b'0'..=b'7').contains(&byte) {
            return Err(format!("{:?} is not octal", String::from_utf8_lossy(until_nul(field))));
        }
        value = value.checked_mul(8).and_then(|value| value.checked_add(u64::from(byte - b'0'))).ok_or("octal number overflows 64 bits")?;
    }
    Ok(value)
}

fn push_sparse(entries: &[u8], chunks: &mut Vec<(u64, u64)>) -> Result<(), String> {
    for entry in entries.chunks_exact(24) {
        if entry[0] == 0 {
            break;
        }
        if chunks.len() >= MAX_SPARSE_CHUNKS {
            return Err(format!("more than {MAX_SPARSE_CHUNKS} sparse chunks"));
        }
        let offset = parse_number(&entry[..12]).map_err(|problem| format!("sparse offset: {problem}"))?;
        let length = parse_number(&entry[12..24]).map_err(|problem| format!("sparse length: {problem}"))?;
        chunks.push((offset, length));
    }
    Ok(())
}

/// PAX records: `LENGTH KEY=VALUE\n`, each LENGTH counting the whole record.
fn apply_pax(records: &[u8], pending: &mut Pending, max_path: usize) -> Result<(), String> {
    let mut rest = records;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ').ok_or("PAX record without a length")?;
        let length: usize = std::str::from_utf8(&rest[..space]).ok().and_then(|text| text.parse().ok()).ok_or("PAX record length is not a number")?;
        if length <= space + 1 || length > rest.len() || rest[length - 1] != b'\n' {
            return Err("PAX record length does not match its content".to_owned());
        }
        let record = &rest[space + 1..length - 1];
        rest = &rest[length..];
        let equals = record.iter().position(|&b| b == b'=').ok_or("PAX record without '='")?;
        let (key, value) = (&record[..equals], &record[equals + 1..]);
        match key {
            b"path" | b"linkpath" => {
                if value.len() > max_path {
                    pending.path_problem = Some(format!("PAX {} of {} bytes (limit {max_path})", String::from_utf8_lossy(key), value.len()));
                } else if key == b"path" {
                    pending.path = Some(value.to_vec());
                } else {
                    pending.link = Some(value.to_vec());
                }
            }
            b"size" => {
                let size = std::str::from_utf8(value).ok().and_then(|text| text.parse().ok()).ok_or("PAX size is not a number")?;
                pending.size = Some(size);
            }
            b"GNU.sparse.realsize" | b"GNU.sparse.size" => {
                pending.pax_sparse = true;
                pending.real_size = std::str::from_utf8(value).ok().and_then(|text| text.parse().ok());
            }
            b"GNU.sparse.major" | b"GNU.sparse.map" | b"GNU.sparse.numblocks" => pending.pax_sparse = true,
            _ => {}
        }
    }
    Ok(())
}

/// Reads, for sparse files, the chunks of data into their places; holes stay zero. `size` must
/// have been checked against the caller's limit.
pub(crate) fn read_sparse<R: Skip>(reader: &mut TarReader<R>, chunks: &[(u64, u64)], size: u64) -> Result<Result<Vec<u8>, String>, TarError> {
    let Ok(length) = usize::try_from(size) else { return Ok(Err("sparse file too large for memory".to_owned())) };
    let mut content = vec![0u8; length];
    for &(offset, chunk) in chunks {
        let end = match offset.checked_add(chunk) {
            Some(end) if end <= size => end,
            _ => return Ok(Err(format!("sparse chunk at {offset} of {chunk} bytes lies beyond the file's {size} bytes"))),
        };
        // Both bounds are at most `size`, which fits in usize.
        let (start, end) = (offset as usize, end as usize);
        let mut filled = start;
        while filled < end {
            let read = reader.read_data(&mut content[filled..end])?;
            if read == 0 {
                return Ok(Err("sparse map describes more data than the entry stores".to_owned()));
            }
            filled += read;
        }
    }
    Ok(Ok(content))
}

impl<R: Read> Skip for io::BufReader<R> {}
impl Skip for &[u8] {}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, typeflag: u8, size: u64) -> [u8; 512] {
        let mut block = [0u8; 512];
        block[..name.len()].copy_from_slice(name.as_bytes());
        block[100..107].copy_from_slice(b"0000644");
        if size < 1 << 33 {
            block[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        } else {
            block[124] = 0x80;
            block[128..136].copy_from_slice(&size.to_be_bytes());
        }
        block[156] = typeflag;
        block[257..263].copy_from_slice(b"ustar\0");
        block[263..265].copy_from_slice(b"00");
        seal(&mut block);
        block
    }

    fn seal(block: &mut [u8; 512]) {
        block[148..156].copy_from_slice(b"        ");
        let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
        block[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    }

    fn entry_bytes(name: &str, typeflag: u8, data: &[u8]) -> Vec<u8> {
        let mut bytes = header(name, typeflag, data.len() as u64).to_vec();
        bytes.extend_from_slice(data);
        bytes.resize(bytes.len() + padding(data.len() as u64) as usize, 0);
        bytes
    }

    #[test]
    fn reads_entries_long_names_and_pax_records() {
        let long = "d/".repeat(100) + "file";
        let mut archive = entry_bytes("././@LongLink", b'L', format!("{long}\0").as_bytes());
        archive.extend(entry_bytes("short", b'0', b"hello"));
        let record = "path=pax/named/file.txt\n";
        let pax = format!("{} {record}", record.len() + 3);
        archive.extend(entry_bytes("PaxHeaders/x", b'x', pax.as_bytes()));
        archive.extend(entry_bytes("ignored", b'0', b"world!"));
        archive.extend(entry_bytes("dir/", b'5', b""));
        archive.extend([0u8; 1024]);
        let mut reader = TarReader::new(archive.as_slice(), 4096, 1 << 20);
        let first = reader.next_entry().unwrap().unwrap();
        assert_eq!((first.path.as_slice(), first.kind, first.size), (long.as_bytes(), EntryType::File, 5));
        assert_eq!(reader.read_content(100).unwrap(), b"hello");
        let second = reader.next_entry().unwrap().unwrap();
        assert_eq!(second.path, b"pax/named/file.txt");
        let third = reader.next_entry().unwrap().unwrap();
        assert_eq!((third.path.as_slice(), third.kind), (&b"dir/"[..], EntryType::Directory));
        assert!(reader.next_entry().unwrap().is_none());
    }

    #[test]
    fn hostile_headers_are_named_errors() {
        // A long name bigger than the path limit is passed over, not held.
        let mut archive = header("././@LongLink", b'L', 1 << 40).to_vec();
        archive.extend([b'a'; 512]);
        let mut reader = TarReader::new(archive.as_slice(), 4096, 1 << 20);
        assert!(matches!(reader.next_entry(), Err(TarError::Truncated { .. })));

        let archive = header("PaxHeaders/x", b'x', 1 << 30);
        let mut reader = TarReader::new(archive.as_slice(), 4096, 1 << 20);
        let Err(TarError::Invalid { at: 0, message }) = reader.next_entry() else { panic!("PAX header over the limit accepted") };
        assert!(message.contains("PAX header of 1073741824 bytes"), "{message}");

        let mut broken = header("file", b'0', 3);
        broken[0] = b'g';
        let mut reader = TarReader::new(&broken[..], 4096, 1 << 20);
        let Err(TarError::Invalid { message, .. }) = reader.next_entry() else { panic!("bad checksum accepted") };
        assert!(message.contains("checksum"), "{message}");

        let archive = entry_bytes("file", b'0', b"0123456789");
        let mut reader = TarReader::new(&archive[..520], 4096, 1 << 20);
        reader.next_entry().unwrap().unwrap();
        assert!(matches!(reader.next_entry(), Err(TarError::Truncated { at: 520 })));

        let mut reader = TarReader::new(&archive[..100], 4096, 1 << 20);
        assert!(matches!(reader.next_entry(), Err(TarError::Truncated { at: 100 })));
    }

    #[test]
    fn numbers_in_octal_and_base_256() {
        assert_eq!(parse_number(b"0000644\0").unwrap(), 0o644);
        assert_eq!(parse_number(b"   17 \0").unwrap(), 0o17);
        assert_eq!(parse_number(&[0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]).unwrap(), 2 << 32);
        assert!(parse_number(b"12a4").is_err());
        assert!(parse_number(&[0xff; 12]).is_err());
        assert!(parse_number(&[0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}

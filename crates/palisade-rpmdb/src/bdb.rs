//! BerkeleyDB hash databases: rpm's `Packages` file before rpm 4.16.
//!
//! Layout (BerkeleyDB's on-disk page formats; integers in the writer's byte order, told by the
//! magic number): page 0 is the hash metadata page (generic header with magic 0x061561, version,
//! page size, encryption, page type 8, last page number). Hash pages (type 13, or 2 for
//! unsorted ones) have a 26-byte header (page number, previous and next page, entry count,
//! free-space offset, level, type) followed by an array of 16-bit item offsets; items alternate
//! key, data. An item starts with its type: 1 = bytes on the page (the item runs up to the
//! previous item's offset), 3 = off-page, naming the first overflow page and the total length.
//! Overflow pages (type 7) chain through their next-page field; their free-space field holds
//! the number of bytes used on the page.
//!
//! rpm keys each header by its 32-bit header number; key 0 holds rpm's own counter, not a header.
//! Every hash page of the file is read once and every overflow page belongs to at most one
//! chain, so the work is bounded by the file size.

use std::borrow::Cow;

use crate::bytes::{Endian, slice};
use crate::{DbFormat, HeaderBlob, HeaderBlobs, Position, RpmDbError};

const HASH_MAGIC: u32 = 0x0006_1561;
const META_MAGIC_OFFSET: usize = 12;
const PAGE_HEADER_LEN: usize = 26;
const PAGE_TYPE_HASH_UNSORTED: u8 = 2;
const PAGE_TYPE_OVERFLOW: u8 = 7;
const PAGE_TYPE_HASH_META: u8 = 8;
const PAGE_TYPE_HASH: u8 = 13;
const ITEM_KEY_DATA: u8 = 1;
const ITEM_DUPLICATE: u8 = 2;
const ITEM_OFF_PAGE: u8 = 3;
const ITEM_OFF_PAGE_DUPLICATE: u8 = 4;
const META_FLAG_CHECKSUM: u8 = 0x01;
const HEADER_NUMBER_LEN: usize = 4;

/// Whether `bytes` carry the BerkeleyDB hash magic at offset 12, in either byte order.
pub(crate) fn has_magic(bytes: &[u8]) -> bool {
    byte_order(bytes).is_some()
}

fn byte_order(bytes: &[u8]) -> Option<Endian> {
    [Endian::Little, Endian::Big].into_iter().find(|endian| endian.u32(bytes, META_MAGIC_OFFSET) == Some(HASH_MAGIC))
}

fn fatal(position: Position, problem: impl Into<String>) -> RpmDbError {
    RpmDbError::new(DbFormat::BerkeleyDb, position, problem)
}

struct Database<'a> {
    bytes: &'a [u8],
    endian: Endian,
    page_size: usize,
    /// Number of whole pages the file holds (capped by the metadata's last page number).
    page_count: usize,
    /// Overflow pages already read; a second read means a cycle or a shared page.
    visited: Vec<bool>,
    /// Problems with the file as a whole that still leave records readable.
    issues: Vec<String>,
}

/// The header blobs of every record, in header-number order.
pub(crate) fn header_blobs(bytes: &[u8]) -> Result<HeaderBlobs<'_>, RpmDbError> {
    let mut db = Database::open(bytes)?;
    let mut keyed_blobs = Vec::new();
    let mut issues = std::mem::take(&mut db.issues);
    for page in 1..db.page_count {
        if let Err(problem) = db.hash_page(page, &mut keyed_blobs) {
            issues.push(format!("{} page {page}: {problem}", DbFormat::BerkeleyDb));
        }
    }
    for (_, result) in keyed_blobs.iter_mut() {
        if let Err(problem) = result {
            issues.push(std::mem::take(problem));
        }
    }
    keyed_blobs.sort_by_key(|(header_number, _)| *header_number);
    let blobs = keyed_blobs.into_iter().filter_map(|(_, result)| result.ok()).collect();
    Ok(HeaderBlobs { blobs, issues })
}

/// A record's header number and its blob, or the problem reading it.
type KeyedBlob<'a> = (u32, Result<HeaderBlob<'a>, String>);

impl<'a> Database<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, RpmDbError> {
        let endian = byte_order(bytes).ok_or_else(|| fatal(Position::Offset(META_MAGIC_OFFSET as u64), "not a BerkeleyDB hash database (no magic 0x061561)"))?;
        let field = |offset: usize| endian.u32(bytes, offset).ok_or_else(|| fatal(Position::Offset(offset as u64), format!("file of {} bytes ends inside the metadata page", bytes.len())));
        let version = field(16)?;
        if !(8..=10).contains(&version) {
            return Err(fatal(Position::Offset(16), format!("hash version {version} (8 to 10 are known)")));
        }
        let page_size = field(20)? as usize;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(fatal(Position::Offset(20), format!("page size {page_size} is not a power of two from 512 to 65536")));
        }
        let [encryption, page_type, meta_flags] = [24, 25, 26].map(|offset| bytes.get(offset).copied().unwrap_or_default());
        if encryption != 0 {
            return Err(fatal(Position::Offset(24), format!("encrypted database (algorithm {encryption})")));
        }
        if page_type != PAGE_TYPE_HASH_META {
            return Err(fatal(Position::Offset(25), format!("metadata page type {page_type} is not a hash metadata page ({PAGE_TYPE_HASH_META})")));
        }
        if meta_flags & META_FLAG_CHECKSUM != 0 {
            return Err(fatal(Position::Offset(26), "checksummed pages are not supported (rpm does not write them)"));
        }
        let stated_pages = (field(32)? as usize).saturating_add(1);
        let file_pages = bytes.len() / page_size;
        if file_pages == 0 {
            return Err(fatal(Position::Page(0), format!("file of {} bytes holds no whole {page_size}-byte page", bytes.len())));
        }
        let mut issues = Vec::new();
        if stated_pages > file_pages {
            issues.push(format!("{} offset 32: the metadata says {stated_pages} pages but the file holds {file_pages} (truncated)", DbFormat::BerkeleyDb));
        }
        let page_count = file_pages.min(stated_pages);
        Ok(Database { bytes, endian, page_size, page_count, visited: vec![false; page_count], issues })
    }

    fn page(&self, page: usize) -> &'a [u8] {
        &self.bytes[page * self.page_size..(page + 1) * self.page_size]
    }

    /// Reads the key/data pairs of `page` when it is a hash page; other pages are skipped.
    fn hash_page(&mut self, page: usize, blobs: &mut Vec<KeyedBlob<'a>>) -> Result<(), String> {
        let bytes = self.page(page);
        if !matches!(bytes[25], PAGE_TYPE_HASH | PAGE_TYPE_HASH_UNSORTED) {
            return Ok(());
        }
        let endian = self.endian;
        let stored_number = endian.u32(bytes, 8).unwrap_or_default() as usize;
        if stored_number != page {
            return Err(format!("hash page says it is page {stored_number}"));
        }
        let entries = usize::from(endian.u16(bytes, 20).unwrap_or_default());
        if PAGE_HEADER_LEN + 2 * entries > self.page_size || entries % 2 != 0 {
            return Err(format!("{entries} items do not form key/data pairs on the page"));
        }
        // Items are packed from the end of the page downwards: each ends where the previous begins.
        let mut item_end = self.page_size;
        let mut items = Vec::with_capacity(entries);
        for n in 0..entries {
            let start = usize::from(endian.u16(bytes, PAGE_HEADER_LEN + 2 * n).unwrap_or_default());
            if start < PAGE_HEADER_LEN + 2 * entries || start >= item_end {
                return Err(format!("item {n} at page offset {start} lies outside the item area (before {item_end})"));
            }
            items.push(&bytes[start..item_end]);
            item_end = start;
        }
        for (pair, key_and_data) in items.chunks_exact(2).enumerate() {
            let [key, data] = key_and_data else { continue };
            let (ITEM_KEY_DATA, key) = (key[0], &key[1..]) else {
                blobs.push((u32::MAX, Err(format!("{} page {page} pair {pair}: key item of type {} (rpm keys are on-page)", DbFormat::BerkeleyDb, key[0]))));
                continue;
            };
            let Some(header_number) = (key.len() == HEADER_NUMBER_LEN).then(|| endian.u32(key, 0)).flatten() else {
                blobs.push((u32::MAX, Err(format!("{} page {page} pair {pair}: {}-byte key is not a header number", DbFormat::BerkeleyDb, key.len()))));
                continue;
            };
            if header_number == 0 {
                continue;
            }
            let location = format!("page {page} header number {header_number}");
            let blob = self.data_item(data).map(|bytes| HeaderBlob { location: location.clone(), bytes }).map_err(|problem| format!("{} {location}: {problem}", DbFormat::BerkeleyDb));
            blobs.push((header_number, blob));
        }
        Ok(())
    }

    /// The bytes of a data item: on the page, or gathered from its overflow chain.
    fn data_item(&mut self, item: &'a [u8]) -> Result<Cow<'a, [u8]>, String> {
        match item[0] {
            ITEM_KEY_DATA => Ok(Cow::Borrowed(&item[1..])),
            ITEM_OFF_PAGE => {
                let (Some(first), Some(total_len)) = (self.endian.u32(item, 4), self.endian.u32(item, 8)) else {
                    return Err(format!("off-page item of {} bytes is shorter than 12", item.len()));
                };
                self.overflow_chain(first as usize, total_len as usize).map(Cow::Owned)
            }
            ITEM_DUPLICATE | ITEM_OFF_PAGE_DUPLICATE => Err("duplicate-key items are not used by rpm".into()),
            other => Err(format!("unknown item type {other}")),
        }
    }

    fn overflow_chain(&mut self, first: usize, total_len: usize) -> Result<Vec<u8>, String> {
        let room = self.page_size - PAGE_HEADER_LEN;
        let max_len = (self.page_count - 1).saturating_mul(room);
        if total_len > max_len {
            return Err(format!("off-page item of {total_len} bytes is larger than the file's pages can hold"));
        }
        let mut data = Vec::with_capacity(total_len);
        let mut next = first;
        while data.len() < total_len {
            let (done, page_number) = (data.len(), next);
            let broken = |problem: String| format!("overflow chain after {done} of {total_len} bytes: page {page_number}: {problem}");
            if next == 0 || next >= self.page_count {
                return Err(broken(format!("outside the file's {} pages", self.page_count)));
            }
            if std::mem::replace(&mut self.visited[next], true) {
                return Err(broken("reached twice (a cycle)".into()));
            }
            let page = self.page(next);
            if page[25] != PAGE_TYPE_OVERFLOW {
                return Err(broken(format!("page type {} is not overflow ({PAGE_TYPE_OVERFLOW})", page[25])));
            }
            let used = usize::from(self.endian.u16(page, 22).unwrap_or_default());
            let chunk = slice(page, PAGE_HEADER_LEN, used).filter(|_| used <= room).ok_or_else(|| broken(format!("{used} bytes used do not fit in the page")))?;
            let chunk = &chunk[..chunk.len().min(total_len - data.len())];
            data.extend_from_slice(chunk);
            next = self.endian.u32(page, 16).unwrap_or_default() as usize;
            if chunk.is_empty() {
                return Err(broken("page holds no bytes".into()));
            }
        }
        Ok(data)
    }
}

//! rpm's NDB package file, `Packages.db` (SUSE 15 and later).
//!
//! Layout (rpm `lib/backend/ndb`; integers in the writer's byte order, told by the magic):
//! the file starts with slot pages of 4096 bytes. The first 32 bytes hold the file header
//! (magic `RpmP`, version 0, generation, number of slot pages, next package index); the rest of
//! the slot pages is an array of 16-byte slots (magic `Slot`, package index, block offset,
//! block count), a package index of 0 marking a free slot. Blobs are stored in 16-byte blocks
//! after the slot pages: a 16-byte head (magic `BlbS`, package index, generation, blob length),
//! the header blob, padding, and a 12-byte tail (Adler-32 of everything before it in the
//! blocks, blob length, magic `BlbE`).
//!
//! Blobs may not overlap, so reading them all touches each byte at most once.

use std::borrow::Cow;

use crate::bytes::{Endian, slice};
use crate::{DbFormat, HeaderBlob, HeaderBlobs, Position, RpmDbError};

const FILE_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const PAGE_SIZE: usize = 4096;
const FILE_HEADER_LEN: usize = 32;
const SLOT_LEN: usize = 16;
const BLOCK_LEN: usize = 16;
const BLOB_HEAD_LEN: usize = 16;
const BLOB_TAIL_LEN: usize = 12;

/// Whether `bytes` start with the NDB magic in either byte order.
pub(crate) fn has_magic(bytes: &[u8]) -> bool {
    magic_order(bytes, FILE_MAGIC, 0).is_some()
}

/// The byte order in which `magic` (written as a native `u32`) appears at `offset`.
fn magic_order(bytes: &[u8], magic: &[u8; 4], offset: usize) -> Option<Endian> {
    let found = slice(bytes, offset, 4)?;
    if found == magic {
        Some(Endian::Little)
    } else if found.iter().eq(magic.iter().rev()) {
        Some(Endian::Big)
    } else {
        None
    }
}

fn fatal(offset: usize, problem: impl Into<String>) -> RpmDbError {
    RpmDbError::new(DbFormat::Ndb, Position::Offset(offset as u64), problem)
}

/// A used slot: which package it holds and where its blob lies.
struct Slot {
    number: usize,
    package_index: u32,
    blob_start: usize,
    blob_len: usize,
}

/// The header blobs of every used slot, in package-index order.
pub(crate) fn header_blobs(bytes: &[u8]) -> Result<HeaderBlobs<'_>, RpmDbError> {
    let endian = magic_order(bytes, FILE_MAGIC, 0).ok_or_else(|| fatal(0, "not an NDB package file (no \"RpmP\" magic)"))?;
    let field = |offset: usize| endian.u32(bytes, offset).ok_or_else(|| fatal(offset, format!("file of {} bytes ends inside the {FILE_HEADER_LEN}-byte header", bytes.len())));
    let version = field(4)?;
    if version != 0 {
        return Err(fatal(4, format!("version {version} (only 0 exists)")));
    }
    let slot_pages = field(12)? as usize;
    let slot_area_len = slot_pages.checked_mul(PAGE_SIZE).filter(|len| *len > 0 && *len <= bytes.len()).ok_or_else(|| fatal(12, format!("{slot_pages} slot pages do not fit in the {}-byte file", bytes.len())))?;

    let mut issues = Vec::new();
    let mut slots = Vec::new();
    for number in 0..(slot_area_len - FILE_HEADER_LEN) / SLOT_LEN {
        let at = FILE_HEADER_LEN + number * SLOT_LEN;
        let word = |n: usize| endian.u32(bytes, at + 4 * n).unwrap_or_default() as usize;
        if magic_order(bytes, SLOT_MAGIC, at) != Some(endian) {
            return Err(fatal(at, format!("slot {number} has no \"Slot\" magic")));
        }
        let package_index = word(1) as u32;
        if package_index == 0 {
            continue;
        }
        let (block_offset, block_count) = (word(2), word(3));
        let blob_start = block_offset.saturating_mul(BLOCK_LEN);
        let blob_len = block_count.saturating_mul(BLOCK_LEN);
        if blob_start < slot_area_len || blob_start.saturating_add(blob_len) > bytes.len() || blob_len < BLOB_HEAD_LEN + BLOB_TAIL_LEN {
            issues.push(format!("{} offset {at}: slot {number} (package index {package_index}): blocks {block_offset}+{block_count} lie outside the blob area of the {}-byte file", DbFormat::Ndb, bytes.len()));
            continue;
        }
        slots.push(Slot { number, package_index, blob_start, blob_len });
    }

    slots.sort_by_key(|slot| slot.blob_start);
    let mut previous_end = 0;
    slots.retain(|slot| {
        let overlaps = slot.blob_start < previous_end;
        if overlaps {
            issues.push(format!("{} offset {}: slot {} (package index {}): blob overlaps the previous blob, which ends at {previous_end}", DbFormat::Ndb, slot.blob_start, slot.number, slot.package_index));
        } else {
            previous_end = slot.blob_start + slot.blob_len;
        }
        !overlaps
    });
    slots.sort_by_key(|slot| slot.package_index);

    let mut blobs = Vec::with_capacity(slots.len());
    for slot in slots {
        let location = format!("offset {} (slot {}, package index {})", slot.blob_start, slot.number, slot.package_index);
        match blob(bytes, endian, &slot) {
            Ok(blob) => blobs.push(HeaderBlob { location, bytes: Cow::Borrowed(blob) }),
            Err(problem) => issues.push(format!("{} {location}: {problem}", DbFormat::Ndb)),
        }
    }
    Ok(HeaderBlobs { blobs, issues })
}

/// The verified header blob a slot points at.
fn blob<'a>(bytes: &'a [u8], endian: Endian, slot: &Slot) -> Result<&'a [u8], String> {
    let blocks = &bytes[slot.blob_start..slot.blob_start + slot.blob_len];
    if magic_order(blocks, BLOB_HEAD_MAGIC, 0) != Some(endian) {
        return Err("no \"BlbS\" blob head magic".into());
    }
    let head_index = endian.u32(blocks, 4).unwrap_or_default();
    if head_index != slot.package_index {
        return Err(format!("blob head names package index {head_index}"));
    }
    let data_len = endian.u32(blocks, 12).unwrap_or_default() as usize;
    let tail_start = slot.blob_len - BLOB_TAIL_LEN;
    if data_len > tail_start - BLOB_HEAD_LEN {
        return Err(format!("blob length {data_len} exceeds its {} blocks", slot.blob_len / BLOCK_LEN));
    }
    if magic_order(blocks, BLOB_TAIL_MAGIC, tail_start + 8) != Some(endian) || endian.u32(blocks, tail_start + 4) != Some(data_len as u32) {
        return Err("blob tail is missing or disagrees with the head".into());
    }
    let stored_checksum = endian.u32(blocks, tail_start).unwrap_or_default();
    let checksum = adler32(&blocks[..tail_start]);
    if checksum != stored_checksum {
        return Err(format!("Adler-32 checksum is {checksum:08x} but the tail says {stored_checksum:08x}"));
    }
    Ok(&blocks[BLOB_HEAD_LEN..BLOB_HEAD_LEN + data_len])
}

/// Adler-32 (RFC 1950) of `bytes`.
fn adler32(bytes: &[u8]) -> u32 {
    const MODULUS: u32 = 65521;
    // The largest run of bytes whose sums cannot overflow a u32 before the modulus is applied.
    const CHUNK: usize = 5552;
    let (mut low, mut high) = (1u32, 0u32);
    for chunk in bytes.chunks(CHUNK) {
        for byte in chunk {
            low += u32::from(*byte);
            high += low;
        }
        low %= MODULUS;
        high %= MODULUS;
    }
    (high << 16) | low
}

#[cfg(test)]
mod tests {
    use super::adler32;

    #[test]
    fn adler32_matches_rfc_1950_examples() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        let long = vec![0xffu8; 100_000];
        let (mut low, mut high) = (1u64, 0u64);
        for byte in &long {
            low = (low + u64::from(*byte)) % 65521;
            high = (high + low) % 65521;
        }
        assert_eq!(u64::from(adler32(&long)), (high << 16) | low);
    }
}

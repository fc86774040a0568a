//! Damaged databases (every fixture truncated at many lengths and with bits flipped and words
//! overwritten at many places, plus hand-made cycles and overlaps) give errors or issues naming
//! the problem, never a panic, a hang or a silently shortened list. The SQLite database is
//! damaged in tests/sqlite.rs, where rpm generates it.

mod common;

use common::{assert_damage_is_reported, fixture};
use palisade_rpmdb::{DbFormat, read};

const PAGE: usize = 4096;

#[test]
fn damaged_berkeley_db_files_give_errors_not_panics_or_hangs() {
    assert_damage_is_reported(DbFormat::BerkeleyDb, &fixture("bdb-libuuid/Packages"), "bdb-libuuid", 3000);
    assert_damage_is_reported(DbFormat::BerkeleyDb, &fixture("bdb-epoch/Packages"), "bdb-epoch", 3000);
}

#[test]
fn damaged_ndb_files_give_errors_not_panics_or_hangs() {
    assert_damage_is_reported(DbFormat::Ndb, &fixture("ndb-sle15-bci/Packages.db"), "ndb-sle15-bci", 400);
}

#[test]
fn damaged_header_blobs_give_errors_not_panics() {
    let blob = fixture("header-blob.bin");
    for len in 0..blob.len() {
        assert!(palisade_rpmdb::parse_header(&blob[..len]).is_err(), "truncated to {len}");
    }
    let mut random = common::Xorshift(7);
    let mut damaged = blob.clone();
    for _ in 0..20_000 {
        let at = random.below(blob.len());
        damaged[at] ^= 1 << random.below(8);
        let _ = palisade_rpmdb::parse_header(&damaged);
        damaged[at] = blob[at];
    }
}

#[test]
fn berkeley_db_overflow_cycle_is_named_and_bounded() {
    // libuuid's header spans overflow pages 3 -> 4 -> ... -> 22; page 10 now leads back to page 3.
    let mut bytes = fixture("bdb-libuuid/Packages");
    bytes[10 * PAGE + 16..10 * PAGE + 20].copy_from_slice(&3u32.to_le_bytes());
    let result = read(DbFormat::BerkeleyDb, &bytes).expect("metadata intact");
    assert!(result.packages.is_empty());
    assert_eq!(result.issues, vec!["BerkeleyDB rpmdb page 2 header number 1: overflow chain after 32560 of 80880 bytes: page 3: reached twice (a cycle)".to_owned()]);
}

#[test]
fn truncated_berkeley_db_says_so() {
    let bytes = fixture("bdb-libuuid/Packages");
    let result = read(DbFormat::BerkeleyDb, &bytes[..20 * PAGE]).expect("metadata intact");
    assert!(result.packages.is_empty());
    assert_eq!(
        result.issues,
        vec![
            "BerkeleyDB rpmdb offset 32: the metadata says 23 pages but the file holds 20 (truncated)".to_owned(),
            "BerkeleyDB rpmdb page 2 header number 1: off-page item of 80880 bytes is larger than the file's pages can hold".to_owned(),
        ]
    );
    let error = read(DbFormat::BerkeleyDb, &bytes[..30]).expect_err("metadata cut");
    assert_eq!(error.to_string(), "BerkeleyDB rpmdb offset 32: file of 30 bytes ends inside the metadata page");
}

#[test]
fn ndb_checksum_mismatch_and_overlapping_blobs_lose_only_their_packages() {
    let intact = fixture("ndb-sle15-bci/Packages.db");
    // A flipped bit inside the first blob (slot 0 at block 256, package index 1).
    let mut flipped = intact.clone();
    flipped[PAGE + 100] ^= 0x10;
    let result = read(DbFormat::Ndb, &flipped).expect("slots intact");
    assert_eq!(result.packages.len(), 34);
    assert_eq!(result.issues, vec!["NDB rpmdb offset 4096 (slot 0, package index 1): Adler-32 checksum is 2d9a465a but the tail says 308b464a".to_owned()]);
    // Slot 1 (at 32 + 16) pointed at slot 0's blocks.
    let mut overlapping = intact.clone();
    overlapping[32 + 16 + 8..32 + 16 + 12].copy_from_slice(&256u32.to_le_bytes());
    let result = read(DbFormat::Ndb, &overlapping).expect("slots intact");
    assert_eq!(result.packages.len(), 34);
    assert_eq!(result.issues.len(), 1, "{:?}", result.issues);
    assert!(result.issues[0].contains("overlaps the previous blob"), "{:?}", result.issues);
    let error = read(DbFormat::Ndb, &intact[..PAGE - 1]).expect_err("slot page cut");
    assert_eq!(error.to_string(), "NDB rpmdb offset 12: 1 slot pages do not fit in the 4095-byte file");
}

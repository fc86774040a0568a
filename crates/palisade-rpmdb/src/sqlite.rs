//! A small reader of one SQLite table: rpm's `Packages (hnum INTEGER PRIMARY KEY, blob BLOB)`.
//!
//! Written from the SQLite file format description (<https://www.sqlite.org/fileformat2.html>):
//! a 100-byte file header on page 1, `sqlite_schema` as the table B-tree rooted at page 1 (it
//! names the root page and the `CREATE TABLE` text of `Packages`), table B-tree pages (interior
//! 0x05, leaf 0x0d), cells whose payload spills to a chain of overflow pages, and the record
//! format (a header of serial types, then the values).
//!
//! Every page is visited at most once (a visited set over all pages), so cycles in the tree or
//! in overflow chains end with an error and the work is bounded by the file size. Only the main
//! database file is read: changes still sitting in a `-wal` file are not seen (images ship
//! checkpointed databases).

use std::borrow::Cow;

use crate::bytes::{Endian, slice};
use crate::{DbFormat, HeaderBlob, HeaderBlobs, Position, RpmDbError};

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const FILE_HEADER_LEN: usize = 100;
const PAGE_INTERIOR_TABLE: u8 = 0x05;
const PAGE_LEAF_TABLE: u8 = 0x0d;
const TEXT_ENCODING_UTF8: u32 = 1;
const PACKAGES_TABLE: &str = "Packages";
const BLOB_COLUMN: &str = "blob";

/// Whether `bytes` start with the SQLite 3 file magic.
pub(crate) fn has_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn fatal(position: Position, problem: impl Into<String>) -> RpmDbError {
    RpmDbError::new(DbFormat::Sqlite, position, problem)
}

/// The header blobs of the `Packages` table, in rowid order.
pub(crate) fn header_blobs(bytes: &[u8]) -> Result<HeaderBlobs<'_>, RpmDbError> {
    let mut db = Database::open(bytes)?;
    let schema = db.table_rows(1).map_err(|issues| fatal(Position::Page(1), format!("sqlite_schema unreadable: {}", issues.join("; "))))?;
    let (root_page, blob_column) = packages_table(&mut db, &schema)?;
    let rows = db.table_rows(root_page).map_err(|issues| fatal(Position::Page(u64::from(root_page)), format!("{PACKAGES_TABLE} table unreadable: {}", issues.join("; "))))?;
    let mut blobs = HeaderBlobs { blobs: Vec::with_capacity(rows.len()), issues: Vec::new() };
    for row in rows {
        let location = format!("page {} rowid {}", row.page, row.rowid);
        let blob = db.payload(&row).and_then(|payload| match column(&payload, blob_column)? {
            Value::Blob(range) => Ok(match payload {
                Cow::Borrowed(borrowed) => Cow::Borrowed(&borrowed[range]),
                Cow::Owned(mut owned) => {
                    owned.truncate(range.end);
                    owned.drain(..range.start);
                    Cow::Owned(owned)
                }
            }),
            other => Err(format!("column {BLOB_COLUMN} holds {}, not a blob", other.kind())),
        });
        match blob {
            Ok(bytes) => blobs.blobs.push(HeaderBlob { location, bytes }),
            Err(problem) => blobs.issues.push(format!("{} {location}: {problem}", DbFormat::Sqlite)),
        }
    }
    blobs.issues.splice(0..0, db.issues);
    Ok(blobs)
}

/// The root page of `Packages` and the position of its `blob` column, from `sqlite_schema`
/// rows (type, name, tbl_name, rootpage, sql).
fn packages_table(db: &mut Database<'_>, schema: &[Cell]) -> Result<(u32, usize), RpmDbError> {
    for row in schema {
        let Ok(payload) = db.payload(row) else { continue };
        let text = |n| match column(&payload, n) {
            Ok(Value::Text(range)) => String::from_utf8_lossy(&payload[range]).into_owned(),
            _ => String::new(),
        };
        if text(0) != "table" || !text(1).eq_ignore_ascii_case(PACKAGES_TABLE) {
            continue;
        }
        let position = Position::Page(row.page.into());
        let root_page = match column(&payload, 3) {
            Ok(Value::Integer(page)) => u32::try_from(page).map_err(|_| fatal(position, format!("{PACKAGES_TABLE} root page {page} out of range")))?,
            _ => return Err(fatal(position, format!("{PACKAGES_TABLE} schema row has no root page"))),
        };
        let sql = text(4);
        let blob_column = column_position(&sql, BLOB_COLUMN).ok_or_else(|| fatal(position, format!("{PACKAGES_TABLE} has no {BLOB_COLUMN} column: {sql}")))?;
        return Ok((root_page, blob_column));
    }
    Err(fatal(Position::Page(1), format!("no {PACKAGES_TABLE} table in sqlite_schema")))
}

/// Position of `wanted` among the columns of a `CREATE TABLE name (col type, ..., constraints)`.
fn column_position(sql: &str, wanted: &str) -> Option<usize> {
    let body = sql.get(sql.find('(')? + 1..sql.rfind(')')?)?;
    let mut definitions = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (at, character) in body.char_indices() {
        match character {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                definitions.push(&body[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    definitions.push(&body[start..]);
    definitions
        .iter()
        .map(|definition| definition.split_whitespace().next().unwrap_or_default().trim_matches(|c| matches!(c, '"' | '`' | '[' | ']')))
        .take_while(|name| !["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"].iter().any(|keyword| name.eq_ignore_ascii_case(keyword)))
        .position(|name| name.eq_ignore_ascii_case(wanted))
}

/// A table leaf cell: its rowid and where its payload lies.
struct Cell {
    page: u32,
    rowid: i64,
    payload_len: usize,
    /// Byte range of the on-page part of the payload in the file.
    local: std::ops::Range<usize>,
    /// First overflow page, when the payload spills.
    overflow: Option<u32>,
}

struct Database<'a> {
    bytes: &'a [u8],
    page_size: usize,
    usable_size: usize,
    page_count: u32,
    /// Pages already visited by any walk; a second visit means a cycle or a shared page.
    visited: Vec<bool>,
    /// Subtrees or cells that could not be read; the walk went on without them.
    issues: Vec<String>,
}

impl<'a> Database<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, RpmDbError> {
        if !has_magic(bytes) {
            return Err(fatal(Position::Offset(0), "not an SQLite 3 database (no \"SQLite format 3\" magic)"));
        }
        if bytes.len() < FILE_HEADER_LEN {
            return Err(fatal(Position::Offset(0), format!("file of {} bytes is shorter than the 100-byte header", bytes.len())));
        }
        let page_size = match Endian::Big.u16(bytes, 16).unwrap_or_default() {
            1 => 65536,
            size if size >= 512 && size.is_power_of_two() => usize::from(size),
            size => return Err(fatal(Position::Offset(16), format!("page size {size} is not a power of two from 512 to 65536"))),
        };
        let reserved = usize::from(bytes[20]);
        let usable_size = page_size - reserved;
        if usable_size < 480 {
            return Err(fatal(Position::Offset(20), format!("{reserved} reserved bytes leave {usable_size} usable bytes per page (at least 480 needed)")));
        }
        let encoding = Endian::Big.u32(bytes, 56).unwrap_or_default();
        if encoding != TEXT_ENCODING_UTF8 && encoding != 0 {
            return Err(fatal(Position::Offset(56), format!("text encoding {encoding} is not UTF-8")));
        }
        let file_pages = u32::try_from(bytes.len() / page_size).unwrap_or(u32::MAX);
        if file_pages == 0 {
            return Err(fatal(Position::Offset(0), format!("file of {} bytes holds no whole {page_size}-byte page", bytes.len())));
        }
        // The header's page count is trustworthy only when written by the same change as the
        // "version valid for" counter (older writers did not maintain it).
        let [stated_pages, change_counter, valid_for] = [28, 24, 92].map(|offset| Endian::Big.u32(bytes, offset).unwrap_or_default());
        let mut issues = Vec::new();
        let page_count = if stated_pages != 0 && change_counter == valid_for {
            if stated_pages > file_pages {
                issues.push(format!("{} offset 28: the header says {stated_pages} pages but the file holds {file_pages} (truncated)", DbFormat::Sqlite));
            }
            stated_pages.min(file_pages)
        } else {
            file_pages
        };
        Ok(Database { bytes, page_size, usable_size, page_count, visited: vec![false; page_count as usize + 1], issues })
    }

    /// Marks `page` visited and returns its bytes, or says why it cannot be used.
    fn visit(&mut self, page: u32) -> Result<&'a [u8], String> {
        if page == 0 || page > self.page_count {
            return Err(format!("page {page} is outside the file's {} pages", self.page_count));
        }
        if std::mem::replace(&mut self.visited[page as usize], true) {
            return Err(format!("page {page} is reached twice (a cycle)"));
        }
        let start = (page as usize - 1) * self.page_size;
        Ok(&self.bytes[start..start + self.page_size])
    }

    /// All leaf cells of the table B-tree rooted at `root`, in rowid order. Damaged pages and
    /// cells are skipped and recorded in `self.issues`; `Err` carries the problems when the root
    /// itself is unreadable.
    fn table_rows(&mut self, root: u32) -> Result<Vec<Cell>, Vec<String>> {
        let mut rows = Vec::new();
        // (page, the interior page that points to it)
        let mut pending = vec![(root, None)];
        while let Some((page, parent)) = pending.pop() {
            if let Err(problem) = self.table_page(page, &mut rows, &mut pending) {
                let Some(parent) = parent else {
                    return Err(vec![format!("{} page {page}: {problem}", DbFormat::Sqlite)]);
                };
                self.issues.push(format!("{} page {parent}: child {problem}", DbFormat::Sqlite));
            }
        }
        Ok(rows)
    }

    /// Reads one table B-tree page: leaf cells go to `rows`, children to `pending` (pushed in
    /// reverse so they pop in key order). A bad cell is recorded and skipped.
    fn table_page(&mut self, page: u32, rows: &mut Vec<Cell>, pending: &mut Vec<(u32, Option<u32>)>) -> Result<(), String> {
        let bytes = self.visit(page)?;
        let header_start = if page == 1 { FILE_HEADER_LEN } else { 0 };
        let kind = bytes[header_start];
        let cell_count = usize::from(Endian::Big.u16(bytes, header_start + 3).unwrap_or_default());
        let header_len = match kind {
            PAGE_LEAF_TABLE => 8,
            PAGE_INTERIOR_TABLE => 12,
            other => return Err(format!("page {page}: type 0x{other:02x} is not a table B-tree page")),
        };
        let pointers_start = header_start + header_len;
        if pointers_start + 2 * cell_count > self.usable_size {
            return Err(format!("page {page}: {cell_count} cells do not fit in the page"));
        }
        let usable = &bytes[..self.usable_size];
        let page_start = (page as usize - 1) * self.page_size;
        let cell_offset = |n: usize| usize::from(Endian::Big.u16(bytes, pointers_start + 2 * n).unwrap_or_default());
        let cell_issue = |n: usize, problem: String| format!("{} page {page} cell {n} at page offset {}: {problem}", DbFormat::Sqlite, cell_offset(n));
        if kind == PAGE_INTERIOR_TABLE {
            pending.push((Endian::Big.u32(bytes, header_start + 8).unwrap_or_default(), Some(page)));
            for n in (0..cell_count).rev() {
                match Endian::Big.u32(usable, cell_offset(n)) {
                    Some(child) => pending.push((child, Some(page))),
                    None => self.issues.push(cell_issue(n, "child page number lies outside the page".into())),
                }
            }
            return Ok(());
        }
        for n in 0..cell_count {
            match self.leaf_cell(page, usable, cell_offset(n), page_start) {
                Ok(cell) => rows.push(cell),
                Err(problem) => self.issues.push(cell_issue(n, problem)),
            }
        }
        Ok(())
    }

    fn leaf_cell(&self, page: u32, bytes: &[u8], at: usize, page_start: usize) -> Result<Cell, String> {
        let (payload_len, len1) = varint(bytes, at).ok_or("payload length runs off the page")?;
        let (rowid, len2) = varint(bytes, at + len1).ok_or("rowid runs off the page")?;
        let payload_len = usize::try_from(payload_len).ok().filter(|len| *len <= self.bytes.len()).ok_or_else(|| format!("payload length {payload_len} exceeds the file"))?;
        let local_len = self.local_payload_len(payload_len);
        let local_start = at + len1 + len2;
        if slice(bytes, local_start, local_len).is_none() {
            return Err(format!("{local_len}-byte local payload runs off the page"));
        }
        let overflow = if local_len < payload_len {
            Some(Endian::Big.u32(bytes, local_start + local_len).ok_or("overflow page number runs off the page")?)
        } else {
            None
        };
        let local = page_start + local_start..page_start + local_start + local_len;
        Ok(Cell { page, rowid: rowid as i64, payload_len, local, overflow })
    }

    /// How much of a table leaf cell's payload is stored on the page itself (the rest spills).
    fn local_payload_len(&self, payload_len: usize) -> usize {
        let usable = self.usable_size;
        let max_local = usable - 35;
        if payload_len <= max_local {
            return payload_len;
        }
        let min_local = (usable - 12) * 32 / 255 - 23;
        let candidate = min_local + (payload_len - min_local) % (usable - 4);
        if candidate <= max_local { candidate } else { min_local }
    }

    /// The whole payload of a cell: borrowed when it is all on the page, else assembled from
    /// the overflow chain, whose pages are marked visited so no page serves two payloads.
    fn payload(&mut self, cell: &Cell) -> Result<Cow<'a, [u8]>, String> {
        let local = &self.bytes[cell.local.clone()];
        let Some(first) = cell.overflow else { return Ok(Cow::Borrowed(local)) };
        let mut payload = Vec::with_capacity(cell.payload_len);
        payload.extend_from_slice(local);
        let mut next = first;
        while payload.len() < cell.payload_len {
            let page = self.visit(next).map_err(|problem| format!("overflow chain after {} of {} payload bytes: {problem}", payload.len(), cell.payload_len))?;
            let take = (cell.payload_len - payload.len()).min(self.usable_size - 4);
            payload.extend_from_slice(&page[4..4 + take]);
            next = Endian::Big.u32(page, 0).unwrap_or_default();
        }
        Ok(Cow::Owned(payload))
    }
}

/// A decoded record value: integers by value, text and blobs as byte ranges of the payload.
enum Value {
    Null,
    Integer(i64),
    Real,
    Text(std::ops::Range<usize>),
    Blob(std::ops::Range<usize>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Integer(_) => "an integer",
            Value::Real => "a real",
            Value::Text(_) => "text",
            Value::Blob(_) => "a blob",
        }
    }
}

/// Column `wanted` of a record (missing trailing columns read as NULL, as in SQLite).
fn column(payload: &[u8], wanted: usize) -> Result<Value, String> {
    let (header_len, mut at) = varint(payload, 0).ok_or("record header length runs off the payload")?;
    let header_len = usize::try_from(header_len).ok().filter(|len| *len <= payload.len()).ok_or_else(|| format!("record header of {header_len} bytes exceeds the {}-byte payload", payload.len()))?;
    let mut body_at = header_len;
    let mut index = 0;
    while at < header_len {
        let (serial_type, len) = varint(&payload[..header_len], at).ok_or("serial type runs off the record header")?;
        at += len;
        let width = match serial_type {
            0 | 8 | 9 => 0,
            1..=4 => serial_type as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err(format!("reserved serial type {serial_type}")),
            _ => usize::try_from((serial_type - 12) / 2).unwrap_or(usize::MAX),
        };
        let range = body_at..body_at.checked_add(width).filter(|end| *end <= payload.len()).ok_or_else(|| format!("column {index} runs past the {}-byte payload", payload.len()))?;
        if index == wanted {
            let value = &payload[range.clone()];
            return Ok(match serial_type {
                0 => Value::Null,
                8 => Value::Integer(0),
                9 => Value::Integer(1),
                1..=6 => Value::Integer(value.iter().fold(if value[0] & 0x80 != 0 { -1i64 } else { 0 }, |acc, byte| (acc << 8) | i64::from(*byte))),
                7 => Value::Real,
                even if even % 2 == 0 => Value::Blob(range),
                _ => Value::Text(range),
            });
        }
        body_at = range.end;
        index += 1;
    }
    Ok(Value::Null)
}

/// A SQLite varint at `at`: its value and its length (1 to 9 bytes).
fn varint(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for n in 0..9 {
        let byte = *bytes.get(at + n)?;
        if n == 8 {
            return Some(((value << 8) | u64::from(byte), 9));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((value, n + 1));
        }
    }
    None
}

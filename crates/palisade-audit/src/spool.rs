//! A bounded, append-only spool of alert payloads a sink could not take, kept on disk so they
//! survive a restart and are redelivered later.
//!
//! One directory per sink holds numbered segment files of JSON lines (one rendered payload per
//! line) and a `cursor` file naming the segment and byte offset up to which payloads were
//! redelivered. Appends go to the newest segment, which rolls over at 1 MiB;
//! redelivery reads from the oldest. A segment read to its end is deleted. The directory never
//! holds more than its byte limit: an append that would pass it is refused and the caller counts
//! the loss. A crash between a redelivery and its cursor update repeats that one payload (at
//! least once, never lost).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A segment is closed for appends past this size, so delivered ones can be deleted early.
const SEGMENT_BYTES: u64 = 1 << 20;

pub struct Spool {
    dir: PathBuf,
    limit: u64,
    /// Segment numbers present, oldest first.
    segments: Vec<u64>,
    /// Bytes in all segments, delivered parts included (they are on disk until deleted).
    bytes: u64,
    /// Redelivery position in the oldest segment.
    cursor: u64,
    /// The open newest segment, for appends.
    appender: Option<(u64, File)>,
}

impl Spool {
    /// Opens (creating) the spool in `dir`, holding at most `limit` bytes.
    pub fn open(dir: &Path, limit: u64) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut segments = Vec::new();
        let mut bytes = 0;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if let Some(number) = name.to_str().and_then(|n| n.strip_suffix(".jsonl")).and_then(|n| n.parse::<u64>().ok()) {
                segments.push(number);
                bytes += entry.metadata()?.len();
            }
        }
        segments.sort_unstable();
        let cursor = match std::fs::read_to_string(dir.join("cursor")) {
            Ok(text) => match text.split_once(' ').map(|(s, o)| (s.trim().parse::<u64>(), o.trim().parse::<u64>())) {
                Some((Ok(segment), Ok(offset))) if segments.first() == Some(&segment) => offset,
                _ => 0,
            },
            Err(_) => 0,
        };
        Ok(Self { dir: dir.to_path_buf(), limit, segments, bytes, cursor, appender: None })
    }

    fn segment_path(&self, number: u64) -> PathBuf {
        self.dir.join(format!("{number:012}.jsonl"))
    }

    fn peek_position(&self) -> Option<(u64, u64)> {
        let &first = self.segments.first()?;
        let length = std::fs::metadata(self.segment_path(first)).map_or(0, |m| m.len());
        if self.cursor < length || self.segments.len() > 1 { Some((first, self.cursor)) } else { None }
    }

    /// Appends one payload (a single line). `Ok(false)` when the spool is full.
    pub fn append(&mut self, payload: &str) -> io::Result<bool> {
        debug_assert!(!payload.contains('\n'), "payloads are single JSON lines");
        let size = payload.len() as u64 + 1;
        if self.bytes + size > self.limit {
            return Ok(false);
        }
        let needs_new = match &self.appender {
            Some((number, file)) => Some(number) != self.segments.last() || file.metadata()?.len() >= SEGMENT_BYTES,
            None => true,
        };
        if needs_new {
            let number = match self.segments.last() {
                // Reopen the newest segment after a restart while it still has room.
                Some(&last) if self.appender.is_none() && std::fs::metadata(self.segment_path(last))?.len() < SEGMENT_BYTES => last,
                Some(&last) => last + 1,
                None => 0,
            };
            let file = OpenOptions::new().create(true).append(true).open(self.segment_path(number))?;
            if self.segments.last() != Some(&number) {
                self.segments.push(number);
            }
            self.appender = Some((number, file));
        }
        let (_, file) = self.appender.as_mut().expect("opened above");
        let mut line = Vec::with_capacity(payload.len() + 1);
        line.extend_from_slice(payload.as_bytes());
        line.push(b'\n');
        file.write_all(&line)?;
        self.bytes += size;
        Ok(true)
    }

    /// The oldest payload not yet redelivered, with the position to [`commit`](Self::commit)
    /// once it is delivered.
    pub fn peek(&mut self) -> io::Result<Option<(String, Position)>> {
        loop {
            let Some((segment, offset)) = self.peek_position() else { return Ok(None) };
            let mut reader = BufReader::new(File::open(self.segment_path(segment))?);
            reader.seek(SeekFrom::Start(offset))?;
            let mut line = String::new();
            let read = reader.read_line(&mut line)?;
            if read > 0 && line.ends_with('\n') {
                line.pop();
                return Ok(Some((line, Position { segment, next: offset + read as u64 })));
            }
            if self.segments.len() == 1 {
                // An incomplete last line (a crash mid-append) or nothing more yet.
                return Ok(None);
            }
            // This older segment is used up (or ends in a torn line): drop it.
            self.remove_oldest()?;
        }
    }

    /// Marks the payload at `position` delivered.
    pub fn commit(&mut self, position: Position) -> io::Result<()> {
        if self.segments.first() != Some(&position.segment) {
            return Ok(());
        }
        self.cursor = position.next;
        let length = std::fs::metadata(self.segment_path(position.segment))?.len();
        if self.cursor >= length {
            return self.remove_oldest();
        }
        let tmp = self.dir.join("cursor.tmp");
        std::fs::write(&tmp, format!("{} {}", position.segment, self.cursor))?;
        std::fs::rename(tmp, self.dir.join("cursor"))
    }

    fn remove_oldest(&mut self) -> io::Result<()> {
        let segment = self.segments.remove(0);
        let path = self.segment_path(segment);
        self.bytes = self.bytes.saturating_sub(std::fs::metadata(&path).map_or(0, |m| m.len()));
        if self.appender.as_ref().is_some_and(|(number, _)| *number == segment) {
            self.appender = None;
        }
        std::fs::remove_file(path)?;
        self.cursor = 0;
        match std::fs::remove_file(self.dir.join("cursor")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Where a peeked payload ends, to commit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    segment: u64,
    next: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(spool: &mut Spool) -> Vec<String> {
        let mut out = Vec::new();
        while let Some((payload, position)) = spool.peek().unwrap() {
            out.push(payload);
            spool.commit(position).unwrap();
        }
        out
    }

    #[test]
    fn payloads_survive_a_restart_in_order_and_delivered_ones_stay_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        for i in 0..5 {
            assert!(spool.append(&format!("{{\"n\":{i}}}")).unwrap());
        }
        let (first, position) = spool.peek().unwrap().unwrap();
        assert_eq!(first, "{\"n\":0}");
        spool.commit(position).unwrap();
        drop(spool);
        let mut spool = Spool::open(dir.path(), 1 << 20).unwrap();
        assert!(spool.append("{\"n\":5}").unwrap());
        assert_eq!(drain(&mut spool), ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}", "{\"n\":5}"]);
        assert!(spool.peek().unwrap().is_none());
        assert_eq!(spool.bytes, 0);
        drop(spool);
        assert!(Spool::open(dir.path(), 1 << 20).unwrap().peek().unwrap().is_none());
    }

    #[test]
    fn the_byte_limit_refuses_appends_and_segments_roll_over() {
        let dir = tempfile::tempdir().unwrap();
        let payload = "x".repeat(99_999);
        let mut spool = Spool::open(dir.path(), 3 * SEGMENT_BYTES).unwrap();
        let mut accepted = 0;
        while spool.append(&payload).unwrap() {
            accepted += 1;
            assert!(accepted < 1000, "the limit never refused");
        }
        assert_eq!(accepted, (3 * SEGMENT_BYTES / 100_000) as usize);
        assert!(spool.bytes <= 3 * SEGMENT_BYTES);
        assert!(spool.segments.len() >= 3, "{:?}", spool.segments);
        assert_eq!(drain(&mut spool).len(), accepted);
        assert_eq!(spool.bytes, 0);
        assert!(spool.append(&payload).unwrap());
    }
}

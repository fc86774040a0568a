//! Tailing an audit log (the API server's log backend writes JSON lines) with a checkpoint, so
//! that a restart resumes exactly after the last line whose alerts were delivered, even when
//! the log was rotated or truncated while the follower was stopped.
//!
//! The checkpoint records the file's inode, a fingerprint of its head (a hash of its first
//! [`HEAD_BYTES`] bytes, or of as many as it had) and the byte offset after the last complete
//! line whose batch the caller accepted; it is replaced atomically (write, then rename) after
//! each batch. On start:
//! - same inode, same head, offset within the file: resume at the offset;
//! - same inode but another head, or a file shorter than the offset: the log was truncated
//!   (and perhaps regrown): read it from the start;
//! - another inode: the log was rotated. The rotated file (`<log>.1`, or any file beside the log
//!   with the checkpoint's inode and head, which covers renames with timestamps) is drained from
//!   the checkpoint's offset first, then the new log is read from its start. When the rotated
//!   file is gone (deleted, compressed), the loss is reported on standard error.
//!
//! While running, a rotated log is drained to its end before the new file is opened, and a
//! truncated one (shorter, or with another head) is re-read from the start.
//!
//! Alert files ([`Output`]: the file sink, standard output when it is a file) are committed
//! with the checkpoint: it records their lengths once a batch's alerts were written, and on
//! start a file longer than that is cut back to it, because what follows are the alerts of a
//! batch the crash left unchecked, which is read and matched again. Each alert is then written
//! once. (Network sinks cannot be taken back: they get such a batch's alerts twice.)

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest line accepted; a longer one is skipped and reported (a hostile or corrupt log must
/// not exhaust memory).
const MAX_LINE: usize = 64 << 20;

/// The head fingerprint covers this many bytes (fewer while the file is shorter).
pub const HEAD_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Position {
    inode: u64,
    offset: u64,
    /// FNV-1a of the first `head_len` bytes.
    head: u64,
    head_len: u64,
    /// The length of each [`Output`] when the checkpoint was written, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    outputs: BTreeMap<String, u64>,
}

/// An alert file committed with the checkpoint (see the module's documentation).
pub struct Output {
    /// Unique among the outputs (`file`, `stdout`).
    pub name: String,
    /// The file, open for writing (it is measured and, on start, cut back).
    pub file: File,
}

/// Writes `position` with the outputs' lengths now.
fn commit(checkpoint: &Path, mut position: Position, outputs: &[Output]) -> Result<(), String> {
    for output in outputs {
        let length = output.file.metadata().map_err(|e| format!("{}: {e}", output.name))?.len();
        position.outputs.insert(output.name.clone(), length);
    }
    save_checkpoint(checkpoint, position).map_err(|e| format!("{}: {e}", checkpoint.display()))
}

/// Cuts each output back to the length `saved` recorded, when it grew after that checkpoint.
fn take_back(saved: &Position, outputs: &[Output]) -> Result<(), String> {
    for output in outputs {
        let Some(&committed) = saved.outputs.get(&output.name) else { continue };
        let length = output.file.metadata().map_err(|e| format!("{}: {e}", output.name))?.len();
        if length > committed {
            output.file.set_len(committed).map_err(|e| format!("{}: {e}", output.name))?;
            eprintln!("palisade: {}: {} bytes of alerts written after the last checkpoint removed; their events are read again", output.name, length - committed);
        }
    }
    Ok(())
}

fn load_checkpoint(path: &Path) -> Option<Position> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn save_checkpoint(path: &Path, position: Position) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&position).expect("serialisable"))?;
    std::fs::rename(&tmp, path)
}

/// FNV-1a, 64 bits: stable across builds (unlike std's hasher), enough to tell two log heads
/// apart.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The hash of the first `len` bytes of `file` (read without moving its position), or `None`
/// when it is shorter.
fn head_of(file: &File, len: u64) -> io::Result<Option<u64>> {
    let mut head = vec![0u8; len as usize];
    let mut filled = 0;
    while filled < head.len() {
        match file.read_at(&mut head[filled..], filled as u64)? {
            0 => return Ok(None),
            n => filled += n,
        }
    }
    Ok(Some(fnv1a(&head)))
}

/// One open file being read line by line.
struct Tail {
    path: PathBuf,
    file: File,
    inode: u64,
    offset: u64,
    head: u64,
    head_len: u64,
    pending: Vec<u8>,
    skipping_long_line: bool,
}

impl Tail {
    fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let inode = file.metadata()?.ino();
        let mut tail = Self { path: path.to_path_buf(), file, inode, offset: 0, head: fnv1a(&[]), head_len: 0, pending: Vec::new(), skipping_long_line: false };
        tail.refresh_head()?;
        Ok(tail)
    }

    /// Extends the fingerprint while the file is shorter than [`HEAD_BYTES`].
    fn refresh_head(&mut self) -> io::Result<()> {
        if self.head_len < HEAD_BYTES as u64 {
            let len = self.file.metadata()?.len().min(HEAD_BYTES as u64);
            if len > self.head_len
                && let Some(head) = head_of(&self.file, len)?
            {
                (self.head, self.head_len) = (head, len);
            }
        }
        Ok(())
    }

    /// Whether this file still starts as `position` says (same inode and head).
    fn matches(&self, position: &Position) -> io::Result<bool> {
        Ok(self.inode == position.inode && head_of(&self.file, position.head_len)? == Some(position.head))
    }

    fn seek(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.offset = offset;
        self.pending.clear();
        self.skipping_long_line = false;
        Ok(())
    }

    fn position(&self) -> Position {
        Position { inode: self.inode, offset: self.offset, head: self.head, head_len: self.head_len, outputs: BTreeMap::new() }
    }

    /// Reads to the end of the file, handing each batch of complete lines to `on_lines` and
    /// checkpointing after it; true when anything was read.
    fn read_available(
        &mut self,
        chunk: &mut [u8],
        checkpoint: Option<&Path>,
        outputs: &[Output],
        on_lines: &mut impl FnMut(&str, u64) -> Result<(), String>,
    ) -> Result<bool, String> {
        let path = self.path.clone();
        let context = |e: io::Error| format!("{}: {e}", path.display());
        let mut any = false;
        loop {
            let n = self.file.read(chunk).map_err(context)?;
            if n == 0 {
                return Ok(any);
            }
            any = true;
            self.pending.extend_from_slice(&chunk[..n]);
            let Some(last) = self.pending.iter().rposition(|&b| b == b'\n') else {
                if self.pending.len() > MAX_LINE {
                    eprintln!("palisade: {}: line longer than {MAX_LINE} bytes skipped", self.path.display());
                    self.offset += self.pending.len() as u64;
                    self.pending.clear();
                    self.skipping_long_line = true;
                }
                continue;
            };
            let mut batch = &self.pending[..=last];
            let mut batch_offset = self.offset;
            if self.skipping_long_line {
                // The rest of an over-long line ends at the first newline.
                let end = batch.iter().position(|&b| b == b'\n').unwrap_or(0);
                batch = &batch[end + 1..];
                batch_offset += (end + 1) as u64;
                self.skipping_long_line = false;
            }
            on_lines(&String::from_utf8_lossy(batch), batch_offset)?;
            self.offset += (last + 1) as u64;
            self.pending.drain(..=last);
            self.refresh_head().map_err(context)?;
            if let Some(cp) = checkpoint {
                commit(cp, self.position(), outputs)?;
            }
        }
    }
}

/// The rotated file the checkpoint was written for: `<log>.1` first, else any file in the
/// log's directory with that inode and head.
fn find_rotated(path: &Path, position: &Position) -> Option<Tail> {
    let numbered = PathBuf::from(format!("{}.1", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let siblings = std::fs::read_dir(dir).ok()?.filter_map(Result::ok).map(|entry| entry.path());
    std::iter::once(numbered).chain(siblings).find_map(|candidate| {
        let meta = std::fs::metadata(&candidate).ok()?;
        if meta.ino() != position.inode || !meta.is_file() {
            return None;
        }
        let tail = Tail::open(&candidate).ok()?;
        tail.matches(position).ok()?.then_some(tail)
    })
}

/// Follows `path` until `stop` is set and the end of the file is reached. `on_lines` receives
/// each batch of complete lines with the byte offset where it starts; the checkpoint moves past
/// a batch only once it returns `Ok`, so an error (an alert neither delivered nor spooled) stops
/// the follower without losing those lines.
pub fn follow(
    path: &Path,
    checkpoint: Option<&Path>,
    stop: &AtomicBool,
    poll: Duration,
    outputs: &[Output],
    mut on_lines: impl FnMut(&str, u64) -> Result<(), String>,
) -> Result<(), String> {
    let context = |e: io::Error| format!("{}: {e}", path.display());
    let mut chunk = vec![0u8; 1 << 20];
    let mut current = Tail::open(path).map_err(context)?;
    if let Some(saved) = checkpoint.and_then(load_checkpoint) {
        take_back(&saved, outputs)?;
        let length = current.file.metadata().map_err(context)?.len();
        if current.inode == saved.inode {
            if current.matches(&saved).map_err(context)? && saved.offset <= length {
                current.seek(saved.offset).map_err(context)?;
            }
            // Otherwise truncated (and perhaps regrown) while we were stopped: from the start.
        } else if let Some(mut rotated) = find_rotated(path, &saved) {
            rotated.seek(saved.offset).map_err(context)?;
            rotated.read_available(&mut chunk, checkpoint, outputs, &mut on_lines)?;
        } else {
            eprintln!(
                "palisade: {}: rotated while stopped and the rotated file is gone; lines after byte {} of it were not read",
                path.display(),
                saved.offset
            );
        }
    }
    loop {
        if current.read_available(&mut chunk, checkpoint, outputs, &mut on_lines)? {
            continue;
        }
        // At the end of the file: rotated, truncated, or just quiet?
        match std::fs::metadata(path) {
            Ok(meta) if meta.ino() != current.inode => {
                // Our handle still reads the rotated file, which is drained by now.
                current = Tail::open(path).map_err(context)?;
                if let Some(cp) = checkpoint {
                    commit(cp, current.position(), outputs)?;
                }
                continue;
            }
            Ok(meta) if meta.len() < current.offset || !current.matches(&current.position()).map_err(context)? => {
                // Truncated, or truncated and regrown past our offset (the head changed).
                current = Tail::open(path).map_err(context)?;
                continue;
            }
            _ => {}
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        std::thread::sleep(poll);
    }
}

/// The default checkpoint location for a followed file: beside it, hidden.
pub fn default_checkpoint(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "audit".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.palisade-checkpoint"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    fn run_until(path: &Path, cp: &Path, expected: usize, append: impl FnOnce()) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (seen, stop, path, cp) = (seen.clone(), stop.clone(), path.to_path_buf(), cp.to_path_buf());
            std::thread::spawn(move || {
                follow(&path, Some(&cp), &stop, Duration::from_millis(5), &[], |text, _| {
                    seen.lock().unwrap().extend(text.lines().map(str::to_string));
                    Ok(())
                })
            })
        };
        append();
        for _ in 0..400 {
            if seen.lock().unwrap().len() >= expected {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap().unwrap();
        Arc::try_unwrap(seen).unwrap().into_inner().unwrap()
    }

    fn append(log: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn restart_neither_loses_nor_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let cp = default_checkpoint(&log);
        std::fs::write(&log, "a\nb\npartial").unwrap();
        assert_eq!(run_until(&log, &cp, 3, || append(&log, "-line\n")), ["a", "b", "partial-line"]);
        // Down while two lines arrive; back up: exactly those two.
        append(&log, "c\nd\n");
        assert_eq!(run_until(&log, &cp, 3, || append(&log, "e\n")), ["c", "d", "e"]);
        assert_eq!(run_until(&log, &cp, 0, || {}), Vec::<String>::new());
    }

    #[test]
    fn rotation_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let cp = dir.path().join("cp");
        std::fs::write(&log, "a\n").unwrap();
        let rotate = || {
            std::thread::sleep(Duration::from_millis(30));
            std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
            std::fs::write(&log, "b\n").unwrap();
        };
        assert_eq!(run_until(&log, &cp, 2, rotate), ["a", "b"]);
    }

    #[test]
    fn rotation_while_stopped_drains_the_rotated_file_first() {
        for rotated_name in ["audit.log.1", "audit-2026-01-01T00-00-00.000.log"] {
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("audit.log");
            let cp = dir.path().join("cp");
            std::fs::write(&log, "a\n").unwrap();
            assert_eq!(run_until(&log, &cp, 1, || {}), ["a"]);
            // Stopped: more lines, a rotation, lines in the new file.
            append(&log, "b\nc\n");
            std::fs::rename(&log, dir.path().join(rotated_name)).unwrap();
            std::fs::write(&log, "d\n").unwrap();
            assert_eq!(run_until(&log, &cp, 3, || {}), ["b", "c", "d"], "{rotated_name}");
            assert_eq!(run_until(&log, &cp, 0, || append(&log, "e\n")), ["e"]);
        }
    }

    #[test]
    fn truncation_while_stopped_reads_from_the_start_even_when_regrown() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let cp = dir.path().join("cp");
        std::fs::write(&log, "first line\n").unwrap();
        assert_eq!(run_until(&log, &cp, 1, || {}), ["first line"]);
        // Truncated in place (same inode) and regrown past the old offset.
        std::fs::OpenOptions::new().write(true).truncate(true).open(&log).unwrap();
        append(&log, "x\ny\nlonger than before\n");
        assert_eq!(run_until(&log, &cp, 3, || {}), ["x", "y", "longer than before"]);
        // Truncated to less than the offset.
        std::fs::OpenOptions::new().write(true).truncate(true).open(&log).unwrap();
        append(&log, "z\n");
        assert_eq!(run_until(&log, &cp, 1, || {}), ["z"]);
    }

    #[test]
    fn a_refused_batch_keeps_the_checkpoint_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.log");
        let cp = dir.path().join("cp");
        std::fs::write(&log, "a\nb\n").unwrap();
        let stop = AtomicBool::new(true);
        let error = follow(&log, Some(&cp), &stop, Duration::from_millis(5), &[], |_, _| Err("sink down".into())).unwrap_err();
        assert_eq!(error, "sink down");
        assert_eq!(run_until(&log, &cp, 2, || {}), ["a", "b"]);
    }
}
